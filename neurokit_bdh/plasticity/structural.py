"""Structural plasticity: prune synapses that stay weak, grow new ones by preferential attachment.

Every ``interval`` seconds the engine asks this rule which synapses to keep and which to add:

* a synapse whose |w| has stayed below ``w_prune`` for at least ``t_prune`` seconds is removed;
* about ``growth_rate · interval`` new synapses are drawn (Poisson count): the presynaptic neuron uniformly
  among the allowed ones, the postsynaptic neuron with probability ∝ (in-degree + ``attach_offset``), so
  hubs keep attracting synapses and the in-degree distribution keeps its heavy tail (Barabási & Albert 1999).
  Self-loops and duplicates of existing synapses are dropped. New synapses start at ``w_new`` (sign by Dale's law).

Births and deaths are counted by the engine and recorded in the run file.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..neurons.base import check, check_finite, check_positive


@dataclass(frozen=True)
class StructuralPlasticity:
    w_prune: float = 0.01
    t_prune: float = 0.5
    growth_rate: float = 100.0  # new synapses per second (whole projection)
    w_new: float = 0.05
    interval: float = 0.1       # seconds between updates
    attach_offset: float = 1.0
    self_loops: bool = False

    def __post_init__(self):
        check_positive(self, "t_prune", "interval", "attach_offset")
        check_positive(self, "growth_rate", "w_prune", allow_zero=True)
        check_finite(self, "w_new")

    def interval_steps(self, dt: float) -> int:
        n = int(round(self.interval / dt))
        check(n >= 1, "interval", self.interval, f"an interval of at least one step dt={dt}")
        return n

    def age_weak(self, weak_time: torch.Tensor, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance the weak-time clock of each synapse by one interval; return (weak_time, keep mask).

        ``w``: (B, S); a synapse counts as weak only if it is weak in every trial.
        """
        weak = (w.abs() < self.w_prune).all(dim=0)
        weak_time = torch.where(weak, weak_time + self.interval, torch.zeros_like(weak_time))
        return weak_time, weak_time < self.t_prune - 1e-12

    def grow(self, pre: torch.Tensor, post: torch.Tensor, n_pre: int, n_post: int,
             allowed_pre: torch.Tensor, generator: torch.Generator, recurrent: bool):
        """Draw new (pre, post) pairs, given the surviving synapses ``pre``, ``post``."""
        device = pre.device
        lam = torch.tensor([self.growth_rate * self.interval], dtype=torch.float64)
        n_new = int(torch.poisson(lam, generator=generator).item())
        candidates = torch.nonzero(allowed_pre.cpu(), as_tuple=True)[0]
        if n_new == 0 or candidates.numel() == 0:
            empty = torch.zeros(0, dtype=torch.int64, device=device)
            return empty, empty
        pick = torch.randint(candidates.numel(), (n_new,), generator=generator)
        new_pre = candidates[pick]
        in_deg = torch.bincount(post.cpu(), minlength=n_post).double() + self.attach_offset
        new_post = torch.multinomial(in_deg, n_new, replacement=True, generator=generator)
        keys = new_pre * n_post + new_post
        ok = torch.ones(n_new, dtype=torch.bool)
        if recurrent and not self.self_loops:
            ok &= new_pre != new_post
        ok &= ~torch.isin(keys, (pre.cpu() * n_post + post.cpu()))
        keys = torch.unique(keys[ok])  # sorted, no duplicates among the new ones
        return (keys // n_post).to(device), (keys % n_post).to(device)
