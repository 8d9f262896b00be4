r"""Current-based leaky integrate-and-fire neuron: the only copy of its math.

.. math::

    \tau_{mem}\,\dot v = (v_{leak} - v) + i + i_{ext}, \qquad \tau_{syn}\,\dot i = -i

A spike arriving in step ``t`` adds its weight ``x`` to ``i`` at the end of the step (with
``tau_syn = 0``, "delta synapses", it jumps ``v`` instead, before the threshold test). ``v`` and
``i`` carry the same unit; ``i_ext`` is a current held constant over the step. A neuron spikes when
``v > v_th`` (strict) and is then reset either to ``v_reset`` (``reset="to_value"``) or by
subtracting ``v_th - v_reset`` (``reset="subtract"``). After a spike at step ``k`` the membrane is
held for the next ``round(t_ref/dt) - 1`` steps, so the earliest next spike is at step
``k + round(t_ref/dt)``; ``i`` keeps integrating its input meanwhile.

``method="exact"`` integrates the linear system exactly over a step; ``method="euler"`` is
forward Euler. Both reduce to one affine update whose coefficients ``discretise`` derives once.

>>> import torch
>>> p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0)
>>> coef = discretise(p, dt=1e-3)
>>> s = init_state(p, (1,))
>>> z, s = step(torch.tensor([0.5]), s, coef)
>>> round(s.v.item(), 6), z.item()
(0.5, 0.0)
>>> z, s = step(torch.tensor([0.6]), s, coef)   # 0.5·e^{-0.1} + 0.6 > 1: spike, reset to 0
>>> z.item(), s.v.item()
(1.0, 0.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch

from .base import NeuronModel, blend, check, check_choice, check_finite, check_positive, decay
from .surrogate import spike

RESET_MODES = ("to_value", "subtract")
METHODS = ("exact", "euler")


@dataclass(frozen=True)
class LIFParams:
    """LIF parameters. Times in seconds; voltages and currents in one (arbitrary) unit."""

    tau_mem: float = 20e-3
    tau_syn: float = 5e-3  # 0: delta synapses (input jumps v)
    v_th: float = 1.0
    v_reset: float = 0.0
    v_leak: float = 0.0
    t_ref: float = 0.0
    reset: str = "to_value"
    method: str = "exact"
    detach_reset: bool = True  # no gradient through the reset (as snntorch; Zenke & Vogels 2021)

    def __post_init__(self):
        check_positive(self, "tau_mem")
        check_positive(self, "tau_syn", "t_ref", allow_zero=True)
        check_finite(self, "v_th", "v_reset", "v_leak")
        check_choice(self, "reset", RESET_MODES)
        check_choice(self, "method", METHODS)
        check(self.v_th > self.v_reset, "v_th", self.v_th, f"a threshold above v_reset={self.v_reset}")


class LIFState(NamedTuple):
    v: torch.Tensor    # membrane potential
    i: torch.Tensor    # synaptic current (stays 0 with delta synapses)
    ref: torch.Tensor  # remaining steps with the membrane held after a spike


class LIFCoef(NamedTuple):
    """One step of ``dt``: v' = c_v·v + c_i·i + c_e·i_ext + c_0;  i' = a_i·i (+ input)."""

    c_v: float
    c_i: float
    c_e: float
    c_0: float
    a_i: float
    delta: bool      # delta synapses: input goes to v
    n_ref: int       # refractory period in steps
    v_th: float
    v_reset: float
    subtract: bool
    detach_reset: bool


def discretise(p: LIFParams, dt: float) -> LIFCoef:
    """Per-step coefficients of the affine LIF update for step ``dt`` (seconds)."""
    check(isinstance(dt, (int, float)) and dt > 0, "dt", dt, "a time step > 0 s")
    delta = p.tau_syn == 0
    if p.method == "exact":
        a_m, a_s = decay(dt, p.tau_mem), decay(dt, p.tau_syn)
        if delta:
            c_i = 0.0
        elif math.isclose(p.tau_syn, p.tau_mem):  # degenerate case: i·(dt/τ)·e^{-dt/τ}
            c_i = dt / p.tau_mem * a_m
        else:
            c_i = p.tau_syn / (p.tau_syn - p.tau_mem) * (a_s - a_m)
        c_v, c_e = a_m, 1 - a_m
    else:
        g = dt / p.tau_mem
        c_v, c_i, c_e = 1 - g, (0.0 if delta else g), g
        a_s = 0.0 if delta else 1 - dt / p.tau_syn
    return LIFCoef(c_v=c_v, c_i=c_i, c_e=c_e, c_0=p.v_leak * c_e, a_i=a_s, delta=delta,
                   n_ref=int(round(p.t_ref / dt)), v_th=p.v_th, v_reset=p.v_reset,
                   subtract=p.reset == "subtract", detach_reset=p.detach_reset)


def init_state(p: LIFParams, shape, device=None, dtype=torch.float32) -> LIFState:
    """Resting state: v = v_leak, no current, not refractory."""
    return LIFState(v=torch.full(shape, float(p.v_leak), device=device, dtype=dtype),
                    i=torch.zeros(shape, device=device, dtype=dtype),
                    ref=torch.zeros(shape, device=device, dtype=dtype))


# Masks are float 0/1 tensors combined with arithmetic and base.blend (lerp, exact for weights 0 and 1):
# on CPUs, comparisons and torch.where are several times slower than float arithmetic.

def integrate(x, v, i, ref, c: LIFCoef, i_ext=None):
    """Sub-threshold part of a step, shared by LIF and ALIF: returns (v, i, held) before the spike test.

    ``held`` is 1.0 where the membrane is held after a spike (refractory), else 0.0 (None without refractoriness).
    """
    v_new = v * c.c_v
    if c.c_0:
        v_new = v_new + c.c_0
    if c.c_i:
        v_new = torch.add(v_new, i, alpha=c.c_i)
    if i_ext is not None:
        v_new = torch.add(v_new, i_ext, alpha=c.c_e)
    if c.delta:
        v_new, i_new = v_new + x, i
    else:
        i_new = torch.add(x, i, alpha=c.a_i)
    if c.n_ref > 1:
        held = ref.clamp(max=1.0)  # ref counts whole steps, so this is 0 or 1
        return blend(v_new, v, held), i_new, held
    return v_new, i_new, None


def fire_and_reset(v, held, ref, threshold, c: LIFCoef, surrogate=None):
    """Spike test ``v > threshold`` (never while held), reset, refractory bookkeeping: returns (z, v, ref)."""
    z = spike(v - threshold, surrogate)
    if held is not None and c.subtract:  # with to_value a held membrane sits at v_reset < v_th: no spike anyway
        z = z * (1.0 - held)
    zr = z.detach() if c.detach_reset else z
    if c.subtract:
        v = v - zr * (c.v_th - c.v_reset)
    else:
        v = blend(v, v.new_tensor(c.v_reset), zr)
    if c.n_ref > 1:
        ref = blend((ref - 1.0).clamp_(min=0.0), ref.new_tensor(float(c.n_ref - 1)), z.detach())
    return z, v, ref


def step(x, state: LIFState, coef: LIFCoef, i_ext=None, surrogate: str | None = None):
    """Advance one step. ``x``: input weights arriving this step (same shape as the state)."""
    v, i, held = integrate(x, state.v, state.i, state.ref, coef, i_ext)
    z, v, ref = fire_and_reset(v, held, state.ref, coef.v_th, coef, surrogate)
    return z, LIFState(v, i, ref)


class Equations(NamedTuple):
    """A neuron model's continuous-time definition as Brian2 code strings: the declarative twin of ``step``.

    Brian2 renders it as it stands (:mod:`neurokit_bdh.engine.brian2_engine`); a test integrates it for one
    neuron and compares with ``step``. Variables are dimensionless, time in seconds; ``isyn`` is our ``i``
    (Brian2 reserves ``i`` for the neuron index), ``iext`` the external current held over a step.
    """

    ode: str               # Brian2 equations, one per line
    threshold: str         # spike condition
    reset: str             # code run at a spike
    refractory: float      # seconds the membrane is held after a spike (0: none)
    method: str            # Brian2 integrator that reproduces our discretisation
    namespace: dict        # constant name -> float; names starting with "tau" are durations in seconds
    init: dict             # state variable -> initial value
    input: str             # where a synaptic spike of step t lands: "isyn@end" (isyn at the end of step t),
                           # "v@threshold" (v before step t's threshold test, not while held) or
                           # "isyn@update" (isyn before step t's update: a one-step current pulse)
    regular: tuple = ()    # (code, slot) operations every step besides the ODE, e.g. a decay outside it


def equations(p: LIFParams) -> Equations:
    """The LIF model of this module as Brian2 equations (``method`` exact -> Brian2 ``exact``, euler -> ``euler``).

    >>> e = equations(LIFParams(tau_syn=0.0, reset="subtract"))
    >>> print(e.ode.splitlines()[0]); print(e.reset, "|", e.input)
    dv/dt = (v_leak - v + iext)/tau_mem : 1 (unless refractory)
    v = v - (v_th - v_reset) | v@threshold
    """
    delta = p.tau_syn == 0
    # tau_syn == tau_mem: the same equation written with tau_mem, so the solver finds the t·e^{-t/τ} solution
    tau_i = "tau_mem" if p.method == "exact" and not delta and math.isclose(p.tau_syn, p.tau_mem) else "tau_syn"
    if delta:
        ode = "dv/dt = (v_leak - v + iext)/tau_mem : 1 (unless refractory)\nisyn : 1\n"
    else:
        ode = f"dv/dt = (v_leak - v + isyn + iext)/tau_mem : 1 (unless refractory)\ndisyn/dt = -isyn/{tau_i} : 1\n"
    ns = dict(tau_mem=p.tau_mem, v_th=float(p.v_th), v_reset=float(p.v_reset), v_leak=float(p.v_leak))
    if not delta:
        ns["tau_syn"] = p.tau_syn
    return Equations(ode=ode + "iext : 1\n", threshold="v > v_th",
                     reset="v = v_reset" if p.reset == "to_value" else "v = v - (v_th - v_reset)",
                     refractory=p.t_ref, method=p.method, namespace=ns, init={"v": float(p.v_leak)},
                     input="v@threshold" if delta else "isyn@end")


def shortest_tau(p: LIFParams) -> float:
    return min(t for t in (p.tau_mem, p.tau_syn) if t > 0)


LIF = NeuronModel(name="lif", params=LIFParams, state=LIFState, discretise=discretise,
                  init_state=init_state, step=step, shortest_tau=shortest_tau)
