r"""Rate-based Hebbian rules on sparse synapses, driven by low-pass spike traces (activities).

Activities are unit-jump traces :math:`x` with time constant τ (so a neuron firing at rate r has
⟨x⟩ = r·τ). Every step, for every (unmasked) synapse:

* ``hebbian``: :math:`\dot w = \eta\, x_{pre} x_{post} - \lambda w`  (outer product with decay)
* ``oja``:     :math:`\dot w = \eta\, x_{post} (x_{pre} - x_{post} w)`  (Oja 1982; bounded norm)

Both cost O(S) per step. Weights are clipped to [w_min, w_max].
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from ..neurons.base import check_choice, check_finite, check_positive, decay
from .chunk import ChunkSpikes
from .stdp import _check_bounds
from .synapses import SynapseIndex


@dataclass(frozen=True)
class Hebbian:
    eta: float = 1e-3       # 1/s
    decay: float = 0.0      # λ, 1/s
    tau_pre: float = 20e-3
    tau_post: float = 20e-3
    kind: str = "hebbian"   # or "oja"
    w_min: float = -1e9
    w_max: float = 1e9

    name = "hebbian"
    per_step = True  # every synapse changes every step: the engine runs chunks of one step

    def __post_init__(self):
        check_positive(self, "tau_pre", "tau_post")
        check_finite(self, "eta", "decay")
        check_choice(self, "kind", ("hebbian", "oja"))
        _check_bounds(self)

    def shortest_tau(self) -> float:
        return min(self.tau_pre, self.tau_post)

    class State(NamedTuple):
        x_pre: torch.Tensor
        x_post: torch.Tensor

    def init_state(self, idx: SynapseIndex, n_trials, device=None, dtype=torch.float32):
        return self.State(torch.zeros(n_trials, idx.n_pre, device=device, dtype=dtype),
                          torch.zeros(n_trials, idx.n_post, device=device, dtype=dtype))

    def discretise(self, dt):
        return decay(dt, self.tau_pre), decay(dt, self.tau_post), dt

    def chunk(self, w, state, idx: SynapseIndex, pre: ChunkSpikes, post: ChunkSpikes, coef, tx, mask=None,
              modulator=None):
        """One step (K = 1): transmitted spikes carry the weights from before this step's update."""
        a_pre, a_post, dt = coef
        k_t, b_t, syn_t = tx
        w_tx = w.view(-1)[b_t * idx.n_syn + syn_t]
        x_pre = state.x_pre * a_pre + pre.z[0]
        x_post = state.x_post * a_post + post.z[0]
        xp, xq = x_pre[:, idx.pre], x_post[:, idx.post]  # (B, S)
        if self.kind == "hebbian":
            dw = self.eta * xp * xq - self.decay * w
        else:
            dw = self.eta * xq * (xp - xq * w)
        if mask is not None:
            dw = dw * mask
        w.add_(dt * dw).clamp_(self.w_min, self.w_max)
        return self.State(x_pre, x_post), w_tx
