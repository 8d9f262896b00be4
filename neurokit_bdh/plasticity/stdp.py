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

The step-by-step semantics every engine follows: in each step traces decay, then presynaptic events
(depression) are applied, then the presynaptic traces jump, then postsynaptic events (potentiation), then
the postsynaptic traces jump — so a pre and post spike in the same step count as Δt = 0 (potentiation).
Weights are clipped to [w_min, w_max] after every update. A transmitted spike carries the weight from
before its own step's update. A presynaptic spike counts for plasticity at its emission step, so
synaptic delays do not shift the STDP window (Brian2's ``on_pre`` acts at arrival). Rules receive a chunk of K steps at once (:mod:`.chunk`) and reproduce
these semantics exactly; ``w`` (B, S) is the engine's weight buffer, updated in place, touching only
synapses of neurons that spiked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..neurons.base import check, check_choice, check_finite, check_positive, decay
from .chunk import ChunkSpikes, ChunkTrace, apply_in_time_order
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
    per_step = False

    def __post_init__(self):
        check_positive(self, "tau_plus", "tau_minus")
        check_finite(self, "a_plus", "a_minus", "mu")
        check_choice(self, "kind", KINDS)
        _check_bounds(self)

    def shortest_tau(self) -> float:
        return min(self.tau_plus, self.tau_minus)

    def f_plus(self, w):
        if self.kind != "power_law":
            return 1.0
        return ((self.w_max - w) / (self.w_max - self.w_min)).clamp(min=0) ** self.mu

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

    def chunk(self, w, state, idx: SynapseIndex, pre: ChunkSpikes, post: ChunkSpikes, coef, tx, mask=None,
              modulator=None):
        """Apply a chunk of spikes; ``tx`` = (k, b, syn) of the transmitted spikes. Returns (state, w_tx)."""
        a_pre, a_post = coef
        (k_t, b_t, syn_t), (k_p, b_p, syn_p), sel = plastic_events(idx, tx, post, mask)
        h_pre, h_post = ChunkTrace(state.x_pre, pre, a_pre), ChunkTrace(state.x_post, post, a_post)
        single = pre.single and post.single
        dep = h_post.at(k_t, b_t, idx.post.index_select(0, syn_t), inclusive=False, with_step=single)
        pot = h_pre.at(k_p, b_p, idx.pre.index_select(0, syn_p), inclusive=True, with_step=single)
        first = None
        if single:  # each synapse has at most a depression and a potentiation event: order them by their steps
            (dep, ks_post), (pot, ks_pre) = dep, pot
            first = first_events(k_t, ks_post, k_p, ks_pre)

        def dw(wv, amount, is_pot):  # weight dependence: f+ for potentiation, f- for depression
            return amount * torch.where(is_pot, self.f_plus(wv), self.f_minus(wv))

        before = ordered_updates(w, idx, (k_t, b_t, syn_t, dep * -self.a_minus), (k_p, b_p, syn_p, pot * self.a_plus),
                                 None if self.kind == "additive" else dw, self, first)
        return self.State(h_pre.end, h_post.end), transmitted(w, idx, tx, sel, before)


def post_events(idx: SynapseIndex, post: ChunkSpikes):
    """(k, b, synapse) for every plastic synapse entering a neuron that spiked in the chunk."""
    owner, syn = idx.in_synapses(post.n)
    return post.k.index_select(0, owner), post.b.index_select(0, owner), syn


def plastic_events(idx: SynapseIndex, tx, post: ChunkSpikes, mask):
    """Depression events (the transmitted spikes ``tx``) and potentiation events (synapses into neurons that
    spiked), each (k, b, syn), kept only where ``mask`` lets the rule act; ``sel`` indexes the kept ``tx``."""
    pot = post_events(idx, post)  # the index lists only plastic incoming synapses
    if mask is None:
        return tx, pot, None
    sel = torch.nonzero(mask.index_select(0, tx[2])).squeeze(1)
    return tuple(x.index_select(0, sel) for x in tx), pot, sel


def transmitted(w, idx: SynapseIndex, tx, sel, before):
    """Weights the transmitted spikes carry: their synapse's weight before its own step's update."""
    if sel is None:
        return before
    k, b, syn = tx
    w_tx = w.view(-1).index_select(0, b * idx.n_syn + syn)  # synapses outside the mask never change
    return w_tx.index_copy_(0, sel, before)


def first_events(k_dep, ks_post, k_pot, ks_pre):
    """Whether each depression / potentiation event comes first on its synapse, when every neuron spiked at
    most once in the chunk: a depression at step k precedes a potentiation at the same step or later
    (``ks_post``/``ks_pre``: the other side's spike step in the chunk, K when it did not spike)."""
    return torch.cat([k_dep <= ks_post, k_pot < ks_pre])


def ordered_updates(w, idx, dep, pot, dw, bounds, first=None):
    """Apply depression (at transmitted spikes) and potentiation events in step order.

    ``dep``/``pot``: (k, b, syn, amount) per event, ``amount`` the signed change before any weight
    dependence; ``dw(wv, amount, is_pot)`` gives the change at weight ``wv`` (None: the amount itself).
    Depression of a step comes before its potentiation. ``first`` (see :func:`first_events`): skips
    sorting when every synapse has at most two events. Returns the weight each depression event saw.
    """
    S = idx.n_syn
    k_t, b_t, syn_t, a_t = dep
    k_p, b_p, syn_p, a_p = pot
    n_t = len(k_t)
    key = torch.cat([syn_t.add(b_t, alpha=S), syn_p.add(b_p, alpha=S)])
    amount = torch.cat([a_t, a_p])
    when = None if first is not None else torch.cat([2 * k_t, 2 * k_p + 1])
    if dw is None:
        def change(wv, e):
            return amount.index_select(0, e)
    else:
        def change(wv, e):
            return dw(wv, amount.index_select(0, e), e >= n_t)
    before = apply_in_time_order(w, key, when, change, bounds.w_min, bounds.w_max, first)
    return before[:n_t]


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
    per_step = False

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

    def chunk(self, w, state, idx, pre: ChunkSpikes, post: ChunkSpikes, coef, tx, mask=None, modulator=None):
        a_r1, a_r2, a_o1, a_o2 = coef
        (k_t, b_t, syn_t), (k_p, b_p, syn_p), sel = plastic_events(idx, tx, post, mask)
        r1, r2 = ChunkTrace(state.r1, pre, a_r1), ChunkTrace(state.r2, pre, a_r2)
        o1, o2 = ChunkTrace(state.o1, post, a_o1), ChunkTrace(state.o2, post, a_o2)
        q_t, p_t = idx.post.index_select(0, syn_t), idx.pre.index_select(0, syn_t)
        q_p, p_p = idx.post.index_select(0, syn_p), idx.pre.index_select(0, syn_p)
        single = pre.single and post.single
        o1_t, r1_p = o1.at(k_t, b_t, q_t, False, with_step=single), r1.at(k_p, b_p, p_p, True, with_step=single)
        first = None
        if single:
            (o1_t, ks_post), (r1_p, ks_pre) = o1_t, r1_p
            first = first_events(k_t, ks_post, k_p, ks_pre)
        dep = o1_t * (self.a2_minus + self.a3_minus * r2.at(k_t, b_t, p_t, False))
        pot = r1_p * (self.a2_plus + self.a3_plus * o2.at(k_p, b_p, q_p, False))
        before = ordered_updates(w, idx, (k_t, b_t, syn_t, -dep), (k_p, b_p, syn_p, pot), None, self, first)
        return self.State(r1.end, r2.end, o1.end, o2.end), transmitted(w, idx, tx, sel, before)
