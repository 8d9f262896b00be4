r"""Spike-timing-dependent plasticity on sparse synapse sets, trace based (the only copy of these rules).

Pair STDP with unit traces :math:`x_{pre}` (τ+) and :math:`x_{post}` (τ−):

.. math::

    \text{pre spike: } w \leftarrow w - A_-\,f_-(w)\,x_{post}, \qquad
    \text{post spike: } w \leftarrow w + A_+\,f_+(w)\,x_{pre}

so one pre/post pair at Δt = t_post − t_pre changes w by A+·e^{−Δt/τ+} (Δt ≥ 0) or −A−·e^{Δt/τ−} (Δt < 0).
Weight dependence, with w̃ = (w − w_min)/(w_max − w_min):

* ``additive``: f+ = f− = 1, hard bounds (Song, Miller & Abbott 2000)
* ``multiplicative``: f+ = 1, f− = w̃ (van Rossum, Bi & Turrigiano 2000)
* ``power_law``: f+ = (1 − w̃)^μ, f− = w̃^μ (Gütig et al. 2003; μ = 0 additive, μ = 1 multiplicative)

Every step: traces decay, then presynaptic events (depression) are applied, then postsynaptic events
(potentiation), then traces jump — so a pre and post spike in the same step count as Δt = 0 (potentiation).
Weights are clipped to [w_min, w_max]. ``w`` (B, S) is the engine's weight buffer and is updated in place,
touching only synapses of neurons that spiked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..neurons.base import check, check_choice, check_finite, check_positive, decay
from .events import Spikes
from .synapses import SynapseIndex

KINDS = ("additive", "multiplicative", "power_law")


def _check_bounds(p) -> None:
    check_finite(p, "w_min", "w_max")
    check(p.w_max > p.w_min, "w_max", p.w_max, f"an upper bound above w_min={p.w_min}")


@dataclass(frozen=True)
class PairSTDP:
    a_plus: float = 0.01
    a_minus: float = 0.0105
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    w_min: float = 0.0
    w_max: float = 1.0
    kind: str = "additive"
    mu: float = 0.0  # power_law exponent

    name = "stdp"

    def __post_init__(self):
        check_positive(self, "tau_plus", "tau_minus")
        check_finite(self, "a_plus", "a_minus", "mu")
        check_choice(self, "kind", KINDS)
        _check_bounds(self)

    def shortest_tau(self) -> float:
        return min(self.tau_plus, self.tau_minus)

    def f_plus(self, w):
        if self.kind == "power_law":
            return ((self.w_max - w) / (self.w_max - self.w_min)).clamp(min=0) ** self.mu
        return 1.0

    def f_minus(self, w):
        if self.kind == "additive":
            return 1.0
        wn = ((w - self.w_min) / (self.w_max - self.w_min)).clamp(min=0)
        return wn if self.kind == "multiplicative" else wn ** self.mu

    class State(NamedTuple):
        x_pre: torch.Tensor   # (B, n_pre)
        x_post: torch.Tensor  # (B, n_post)

    def init_state(self, idx: SynapseIndex, n_trials: int, device=None, dtype=torch.float32):
        return self.State(torch.zeros(n_trials, idx.n_pre, device=device, dtype=dtype),
                          torch.zeros(n_trials, idx.n_post, device=device, dtype=dtype))

    def discretise(self, dt: float):
        return decay(dt, self.tau_plus), decay(dt, self.tau_minus)

    def step(self, w, state, idx: SynapseIndex, pre: Spikes, post: Spikes, coef, mask=None, modulator=None):
        a_pre, a_post = coef
        x_pre, x_post = state.x_pre * a_pre, state.x_post * a_post
        if not pre.empty:
            b, syn = gather_out(idx, pre)
            update(w, b, syn, lambda wv: -self.a_minus * self.f_minus(wv) * x_post[b, idx.post[syn]], mask, self)
            x_pre = x_pre + pre.dense
        if not post.empty:
            b, syn = gather_in(idx, post)
            update(w, b, syn, lambda wv: self.a_plus * self.f_plus(wv) * x_pre[b, idx.pre[syn]], mask, self)
            x_post = x_post + post.dense
        return self.State(x_pre, x_post)


def gather_out(idx: SynapseIndex, spikes: Spikes):
    owner, syn = idx.out_synapses(spikes.n)
    return spikes.b[owner], syn


def gather_in(idx: SynapseIndex, spikes: Spikes):
    owner, syn = idx.in_synapses(spikes.n)
    return spikes.b[owner], syn


def update(w, b, syn, dw_fn, mask, bounds) -> None:
    """w[b, syn] += dw_fn(w[b, syn]) (zero where ``mask`` is False), clipped to the bounds; in place."""
    if mask is not None:
        keep = mask[syn]
        b, syn = b[keep], syn[keep]
    if syn.numel() == 0:
        return
    flat = w.view(-1)
    k = b * w.shape[1] + syn
    wv = flat[k]
    flat[k] = (wv + dw_fn(wv)).clamp(bounds.w_min, bounds.w_max)


@dataclass(frozen=True)
class TripletSTDP:
    """Triplet STDP (Pfister & Gerstner 2006), all-to-all traces; defaults: visual cortex minimal model.

    pre spike:  w −= x_post1 · (A2− + A3− · x_pre2);   post spike: w += x_pre1 · (A2+ + A3+ · x_post2),
    with the second-order traces read just before their own spike's increment.
    """

    a2_plus: float = 5e-10
    a3_plus: float = 6.2e-3
    a2_minus: float = 7e-3
    a3_minus: float = 2.3e-4
    tau_plus: float = 16.8e-3
    tau_minus: float = 33.7e-3
    tau_x: float = 101e-3
    tau_y: float = 125e-3
    w_min: float = 0.0
    w_max: float = 1.0

    name = "triplet"

    def __post_init__(self):
        check_positive(self, "tau_plus", "tau_minus", "tau_x", "tau_y")
        check_finite(self, "a2_plus", "a3_plus", "a2_minus", "a3_minus")
        _check_bounds(self)

    def shortest_tau(self) -> float:
        return min(self.tau_plus, self.tau_minus, self.tau_x, self.tau_y)

    class State(NamedTuple):
        r1: torch.Tensor  # pre, τ+
        r2: torch.Tensor  # pre, τx
        o1: torch.Tensor  # post, τ−
        o2: torch.Tensor  # post, τy

    def init_state(self, idx, n_trials, device=None, dtype=torch.float32):
        zp = torch.zeros(n_trials, idx.n_pre, device=device, dtype=dtype)
        zq = torch.zeros(n_trials, idx.n_post, device=device, dtype=dtype)
        return self.State(zp, zp.clone(), zq, zq.clone())

    def discretise(self, dt):
        return tuple(decay(dt, t) for t in (self.tau_plus, self.tau_x, self.tau_minus, self.tau_y))

    def step(self, w, state, idx, pre: Spikes, post: Spikes, coef, mask=None, modulator=None):
        r1, r2, o1, o2 = (s * a for s, a in zip(state, coef))
        if not pre.empty:
            b, syn = gather_out(idx, pre)
            ps = idx.pre[syn]
            update(w, b, syn, lambda wv: -o1[b, idx.post[syn]] * (self.a2_minus + self.a3_minus * r2[b, ps]),
                   mask, self)
            r1, r2 = r1 + pre.dense, r2 + pre.dense
        if not post.empty:
            b, syn = gather_in(idx, post)
            qs = idx.post[syn]
            update(w, b, syn, lambda wv: r1[b, idx.pre[syn]] * (self.a2_plus + self.a3_plus * o2[b, qs]),
                   mask, self)
            o1, o2 = o1 + post.dense, o2 + post.dense
        return self.State(r1, r2, o1, o2)
