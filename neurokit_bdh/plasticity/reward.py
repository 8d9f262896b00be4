r"""Reward-modulated STDP (three-factor rule): pair STDP writes an eligibility trace, a global
modulator M(t) (e.g. reward or dopamine, one value per trial) turns it into weight change.

.. math::

    \tau_e\,\dot e = -e + \text{STDP}(\text{pre}, \text{post}), \qquad \dot w = \eta\, M(t)\, e

(Izhikevich 2007; Frémaux & Gerstner 2016). The STDP pairing terms are those of
:class:`~neurokit_bdh.plasticity.stdp.PairSTDP` (additive), without bounds on ``e``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..neurons.base import check_finite, check_positive, decay
from .chunk import ChunkSpikes
from .stdp import _check_bounds, post_events
from .synapses import SynapseIndex


@dataclass(frozen=True)
class RewardSTDP:
    a_plus: float = 1.0
    a_minus: float = 1.05
    tau_plus: float = 20e-3
    tau_minus: float = 20e-3
    tau_e: float = 0.5     # eligibility time constant (s)
    eta: float = 1e-3      # 1/s per unit modulator
    w_min: float = 0.0
    w_max: float = 1.0

    name = "reward_stdp"
    per_step = True  # the modulator changes every synapse every step: chunks of one step

    def __post_init__(self):
        check_positive(self, "tau_plus", "tau_minus", "tau_e")
        check_finite(self, "a_plus", "a_minus", "eta")
        _check_bounds(self)

    def shortest_tau(self) -> float:
        return min(self.tau_plus, self.tau_minus, self.tau_e)

    class State(NamedTuple):
        x_pre: torch.Tensor
        x_post: torch.Tensor
        e: torch.Tensor  # (B, S) eligibility

    def init_state(self, idx: SynapseIndex, n_trials, device=None, dtype=torch.float32):
        return self.State(torch.zeros(n_trials, idx.n_pre, device=device, dtype=dtype),
                          torch.zeros(n_trials, idx.n_post, device=device, dtype=dtype),
                          torch.zeros(n_trials, idx.n_syn, device=device, dtype=dtype))

    def discretise(self, dt):
        return decay(dt, self.tau_plus), decay(dt, self.tau_minus), decay(dt, self.tau_e), dt

    def chunk(self, w, state, idx: SynapseIndex, pre: ChunkSpikes, post: ChunkSpikes, coef, tx, mask=None,
              modulator=None):
        """One step (K = 1): transmitted spikes carry the weights from before this step's update."""
        a_pre, a_post, a_e, dt = coef
        k_t, b_t, syn_t = tx
        S = idx.n_syn
        w_tx = w.view(-1)[b_t * S + syn_t]
        x_pre, x_post, e = state.x_pre * a_pre, state.x_post * a_post, state.e * a_e
        e.view(-1).index_add_(0, b_t * S + syn_t, -self.a_minus * x_post[b_t, idx.post[syn_t]])
        x_pre = x_pre + pre.z[0]
        _, b_p, syn_p = post_events(idx, post)
        e.view(-1).index_add_(0, b_p * S + syn_p, self.a_plus * x_pre[b_p, idx.pre[syn_p]])
        x_post = x_post + post.z[0]
        if mask is not None:
            e = e * mask
        if modulator is not None:
            w.add_(self.eta * dt * modulator.view(-1, 1) * e).clamp_(self.w_min, self.w_max)
        return self.State(x_pre, x_post, e), w_tx
