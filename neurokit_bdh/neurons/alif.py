r"""Adaptive LIF (ALIF): the LIF neuron with a spike-triggered threshold that relaxes back.

.. math::

    \vartheta = v_{th} + b, \qquad \tau_{adapt}\,\dot b = -b, \qquad b \leftarrow b + \beta \text{ at each spike}

(Bellec et al. 2018's LSNN neuron). The membrane part is :mod:`neurokit_bdh.neurons.lif`'s, reused.

>>> import torch
>>> p = ALIFParams(tau_mem=10e-3, tau_syn=0.0, beta=0.5, tau_adapt=0.1)
>>> c = discretise(p, 1e-3); s = init_state(p, (1,))
>>> z, s = step(torch.tensor([1.5]), s, c)
>>> z.item(), s.b.item()
(1.0, 0.5)
>>> z, s = step(torch.tensor([1.4]), s, c)   # 1.4 < 1 + 0.5·e^{-0.01}: no spike while adapted
>>> z.item()
0.0
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from . import lif
from .base import NeuronModel, check_finite, check_positive, decay


@dataclass(frozen=True)
class ALIFParams(lif.LIFParams):
    tau_adapt: float = 200e-3  # seconds
    beta: float = 0.2          # threshold increase per spike (voltage unit)

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "tau_adapt")
        check_finite(self, "beta")


class ALIFState(NamedTuple):
    v: torch.Tensor
    i: torch.Tensor
    ref: torch.Tensor
    b: torch.Tensor  # threshold adaptation


class ALIFCoef(NamedTuple):
    lif: lif.LIFCoef
    a_b: float
    beta: float


def discretise(p: ALIFParams, dt: float) -> ALIFCoef:
    return ALIFCoef(lif=lif.discretise(p, dt), a_b=decay(dt, p.tau_adapt), beta=p.beta)


def init_state(p: ALIFParams, shape, device=None, dtype=torch.float32) -> ALIFState:
    s = lif.init_state(p, shape, device, dtype)
    return ALIFState(*s, b=torch.zeros(shape, device=device, dtype=dtype))


def step(x, state: ALIFState, coef: ALIFCoef, i_ext=None, surrogate: str | None = None):
    c = coef.lif
    v, i, held = lif.integrate(x, state.v, state.i, state.ref, c, i_ext)
    b = coef.a_b * state.b
    z, v, ref = lif.fire_and_reset(v, held, state.ref, c.v_th + b, c, surrogate)
    return z, ALIFState(v, i, ref, b + coef.beta * z)


def equations(p: ALIFParams) -> lif.Equations:
    """The LIF equations plus the adaptation: ``db/dt = -b/tau_adapt``, threshold ``v > v_th + b``, ``b += beta``.

    ``b`` decays in the state update, before the threshold test, and jumps after it, as in ``step``.
    """
    e = lif.equations(p)
    return e._replace(ode=e.ode + "db/dt = -b/tau_adapt : 1\n", threshold="v > v_th + b",
                      reset=e.reset + "\nb += beta",
                      namespace={**e.namespace, "tau_adapt": p.tau_adapt, "beta": float(p.beta)},
                      init={**e.init, "b": 0.0})


ALIF = NeuronModel(name="alif", params=ALIFParams, state=ALIFState, discretise=discretise,
                   init_state=init_state, step=step,
                   shortest_tau=lambda p: min(lif.shortest_tau(p), p.tau_adapt))
