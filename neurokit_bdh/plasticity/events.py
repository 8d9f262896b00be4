"""Spikes as plasticity rules consume them: a dense (B, N) 0/1 tensor plus the list of (trial, neuron) events."""
from __future__ import annotations

from typing import NamedTuple

import torch


class Spikes(NamedTuple):
    dense: torch.Tensor  # (B, N) float 0/1
    b: torch.Tensor      # (E,) trial of each spike
    n: torch.Tensor      # (E,) neuron of each spike

    @classmethod
    def from_dense(cls, z: torch.Tensor) -> "Spikes":
        b, n = torch.nonzero(z, as_tuple=True)
        return cls(z, b, n)

    @property
    def empty(self) -> bool:
        return self.n.numel() == 0
