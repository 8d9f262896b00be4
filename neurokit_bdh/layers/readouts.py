"""Readouts: a time-major output (T, B, N) -> one value per neuron (B, N), used as class scores.

* ``spike_count``: number of spikes (rate code);
* ``max_membrane``: the largest membrane value over time of a non-spiking readout layer;
* ``mean_membrane``: its time average;
* ``first_spike``: the step of each neuron's first spike (T where it never fires); as scores, use its
  negative (earliest wins) — it has no gradient.

>>> import torch
>>> z = torch.tensor([[0., 1.], [1., 1.], [0., 0.]])[:, None]   # (T=3, B=1, N=2)
>>> spike_count(z).tolist(), first_spike(z).tolist()
([[1.0, 2.0]], [[1, 0]])
"""
from __future__ import annotations

import torch


def spike_count(z: torch.Tensor) -> torch.Tensor:
    return z.sum(0)


def max_membrane(v: torch.Tensor) -> torch.Tensor:
    return v.amax(0)


def mean_membrane(v: torch.Tensor) -> torch.Tensor:
    return v.mean(0)


def first_spike(z: torch.Tensor) -> torch.Tensor:
    """Index of the first step with ``z > 0`` per neuron (int64, (B, N)); ``T`` where there is none."""
    T = z.shape[0]
    steps = torch.arange(T, device=z.device).view(-1, *([1] * (z.dim() - 1)))
    return torch.where(z > 0, steps, torch.full_like(steps, T)).amin(0)


READOUTS = {"count": spike_count, "max_membrane": max_membrane, "mean_membrane": mean_membrane,
            "first_spike": lambda z: -first_spike(z).to(z.dtype)}
"""Name -> readout as class scores (higher = more likely)."""
