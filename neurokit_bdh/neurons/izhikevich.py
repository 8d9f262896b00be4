r"""Izhikevich (2003) neuron: the only copy of its math.

.. math::

    \dot v = 0.04 v^2 + 5 v + 140 - u + I, \qquad \dot u = a (b v - u), \qquad
    v > v_{peak} \Rightarrow v \leftarrow c,\; u \leftarrow u + d

with ``v`` in mV and the model's own time unit of milliseconds (``dt`` is still given in seconds and
converted here). ``I = i + i_ext``; synaptic input jumps ``i``, which decays with ``tau_syn``
(``tau_syn = 0``: the input is a one-step current pulse). Integrated with forward Euler; keep
``dt <= 0.1 ms`` for accurate spike shapes. Presets: :meth:`IzhikevichParams.preset`.

>>> import torch
>>> p = IzhikevichParams.preset("RS"); c = discretise(p, 1e-4); s = init_state(p, (1,))
>>> n = 0
>>> for _ in range(2000):                          # 200 ms at I = 10
...     z, s = step(torch.zeros(1), s, c, i_ext=torch.tensor([10.0])); n += int(z.item())
>>> n
5
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import torch

from .base import NeuronModel, check, check_finite, check_positive, decay
from .surrogate import spike

# (a, b, c, d) from Izhikevich 2003, Fig. 2.
PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0),   # regular spiking (adapting)
    "FS": (0.1, 0.2, -65.0, 2.0),    # fast spiking
    "IB": (0.02, 0.2, -55.0, 4.0),   # intrinsically bursting
    "CH": (0.02, 0.2, -50.0, 2.0),   # chattering (fast rhythmic bursting)
    "LTS": (0.02, 0.25, -65.0, 2.0), # low-threshold spiking
}


@dataclass(frozen=True)
class IzhikevichParams:
    a: float = 0.02
    b: float = 0.2
    c: float = -65.0
    d: float = 8.0
    v_peak: float = 30.0
    tau_syn: float = 5e-3  # seconds; 0: one-step current pulses
    v_init: float = -65.0  # initial membrane potential (mV); u starts at b·v_init

    def __post_init__(self):
        check_finite(self, "a", "b", "c", "d", "v_peak", "v_init")
        check_positive(self, "tau_syn", allow_zero=True)
        check(self.v_peak > self.c, "v_peak", self.v_peak, f"a peak above the reset c={self.c}")

    @classmethod
    def preset(cls, name: str, **overrides) -> "IzhikevichParams":
        """Regular spiking ``RS``, fast spiking ``FS``, bursting ``IB``/``CH``, low-threshold ``LTS``."""
        check(name in PRESETS, "preset", name, f"one of {sorted(PRESETS)}")
        a, b, c, d = PRESETS[name]
        return replace(cls(a=a, b=b, c=c, d=d), **overrides)


class IzhikevichState(NamedTuple):
    v: torch.Tensor  # mV
    u: torch.Tensor  # recovery variable
    i: torch.Tensor  # synaptic current


class IzhikevichCoef(NamedTuple):
    h: float      # dt in ms
    a: float
    b: float
    c: float
    d: float
    v_peak: float
    a_i: float


def discretise(p: IzhikevichParams, dt: float) -> IzhikevichCoef:
    check(isinstance(dt, (int, float)) and dt > 0, "dt", dt, "a time step > 0 s")
    return IzhikevichCoef(h=dt * 1e3, a=p.a, b=p.b, c=p.c, d=p.d, v_peak=p.v_peak, a_i=decay(dt, p.tau_syn))


def init_state(p: IzhikevichParams, shape, device=None, dtype=torch.float32) -> IzhikevichState:
    v = torch.full(shape, float(p.v_init), device=device, dtype=dtype)
    return IzhikevichState(v=v, u=p.b * v, i=torch.zeros(shape, device=device, dtype=dtype))


def step(x, state: IzhikevichState, coef: IzhikevichCoef, i_ext=None, surrogate: str | None = None):
    v, u, i = state
    current = i + x if coef.a_i == 0 else i
    if i_ext is not None:
        current = current + i_ext
    v_new = v + coef.h * (0.04 * v * v + 5 * v + 140 - u + current)
    u_new = u + coef.h * coef.a * (coef.b * v - u)
    z = spike(v_new - coef.v_peak, surrogate)
    zr = z.detach()
    v_new = v_new + zr * (coef.c - v_new)
    u_new = u_new + zr * coef.d
    i_new = coef.a_i * i + x if coef.a_i else torch.zeros_like(i)
    return z, IzhikevichState(v_new, u_new, i_new)


def equations(p: IzhikevichParams):
    """The model as Brian2 equations, integrated with Brian2's forward ``euler`` as ``step`` does.

    The model's millisecond time unit is the constant ``tau_ms = 1e-3`` s. ``isyn`` decays outside the
    ODE (a per-step multiplication by e^{-dt/τ_syn} after the update, as ``step`` does, rather than Euler's
    1 − dt/τ_syn); with ``tau_syn = 0`` it is a one-step pulse: the input lands before the update and is
    cleared after it.
    """
    from .lif import Equations

    ode = ("dv/dt = (0.04*v**2 + 5*v + 140 - u + isyn + iext)/tau_ms : 1\n"
           "du/dt = a*(b*v - u)/tau_ms : 1\nisyn : 1\niext : 1\n")
    pulse = p.tau_syn == 0
    ns = dict(tau_ms=1e-3, a=float(p.a), b=float(p.b), c=float(p.c), d=float(p.d), v_peak=float(p.v_peak))
    if not pulse:
        ns["tau_syn"] = p.tau_syn
    return Equations(ode=ode, threshold="v > v_peak", reset="v = c\nu += d", refractory=0.0, method="euler",
                     namespace=ns, init={"v": float(p.v_init), "u": float(p.b * p.v_init)},
                     input="isyn@update" if pulse else "isyn@end",
                     regular=(("isyn = 0" if pulse else "isyn = isyn*exp(-dt/tau_syn)", "after_groups"),))


IZHIKEVICH = NeuronModel(name="izhikevich", params=IzhikevichParams, state=IzhikevichState,
                         discretise=discretise, init_state=init_state, step=step,
                         shortest_tau=lambda p: p.tau_syn if p.tau_syn > 0 else float("inf"))
