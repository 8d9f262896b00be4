"""Spikes of a chunk of K steps, and exact per-step trace values read at event times.

The engine advances neurons K steps at a time (K never exceeds the shortest synaptic delay, so no
spike of a chunk can arrive within it), then hands each rule the chunk's spikes at once. Rules
reproduce the step-by-step semantics exactly: traces are evaluated at each event's own step, and
weight updates of one synapse are applied in time order.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class ChunkSpikes(NamedTuple):
    z: torch.Tensor  # (K, B, N) float 0/1
    k: torch.Tensor  # (E,) step within the chunk of each spike
    b: torch.Tensor  # (E,) trial
    n: torch.Tensor  # (E,) neuron

    @classmethod
    def from_dense(cls, z: torch.Tensor) -> "ChunkSpikes":
        """Events of z (K, B, N): first the neurons that spiked at all, then their steps (spikes are sparse,
        so this scans K·N values once instead of running nonzero over all of them)."""
        K, B, N = z.shape
        if K == 1:
            k, b, n = torch.nonzero(z, as_tuple=True)
            return cls(z, k, b, n)
        b, n = torch.nonzero(z.amax(0), as_tuple=True)
        k, c = torch.nonzero(z.view(K, B * N).index_select(1, b * N + n), as_tuple=True)
        return cls(z, k, b.index_select(0, c), n.index_select(0, c))

    @property
    def empty(self) -> bool:
        return self.n.numel() == 0


class TraceHistory(NamedTuple):
    """A unit-jump trace over a chunk: ``decayed[k]`` is its value in step k after the decay, before the jump.

    Every step: x ← x·a, then x ← x + z. ``end`` is the value after the chunk. Reading values back with
    the same float operations as a step-by-step loop keeps the chunked engine bit-identical to it.
    """

    decayed: torch.Tensor  # (K, B, N)
    end: torch.Tensor      # (B, N)

    def at(self, z: torch.Tensor, k, b, n, inclusive: bool) -> torch.Tensor:
        """Trace of neuron (b, n) in chunk step k; with that step's own jump if ``inclusive``."""
        K, B, N = z.shape
        flat = (k * B + b) * N + n
        v = self.decayed.reshape(-1).index_select(0, flat)
        return v + z.reshape(-1).index_select(0, flat) if inclusive else v


def trace_history(x: torch.Tensor, z: torch.Tensor, a: float) -> TraceHistory:
    """Run the trace recurrence over a chunk of spikes ``z`` (K, B, N) from ``x`` (B, N)."""
    decayed = torch.empty_like(z)
    for k in range(z.shape[0]):
        x = x * a
        decayed[k] = x
        x = x + z[k]
    return TraceHistory(decayed, x)


def apply_in_time_order(w: torch.Tensor, key: torch.Tensor, when: torch.Tensor, dw_fn, w_min: float,
                        w_max: float, plastic: torch.Tensor | None = None) -> torch.Tensor:
    """Apply per-event weight updates w[key] ← clip(w[key] + dw_fn(w[key], e), w_min, w_max) in time order.

    ``key``: flat (trial·S + synapse) index per event; ``when``: its time order (< 256) within the chunk;
    ``plastic``: per event, whether the synapse may change at all (others are left untouched).
    Events of different synapses are independent; one synapse's events are applied one after another,
    so clipping and weight dependence act exactly as in a step-by-step simulation.
    Returns the weight each event saw before its own update (what a transmitted spike carries).
    """
    flat = w.view(-1)
    if key.numel() == 0:
        return torch.empty(0, device=w.device, dtype=w.dtype)
    before = torch.empty(key.shape, device=w.device, dtype=w.dtype)
    order = torch.argsort(key * 256 + when)
    while order.numel():  # round r applies the r-th event of every synapse that has one (usually 1-2 rounds)
        ks = key.index_select(0, order)
        first = torch.ones_like(ks, dtype=torch.bool)
        first[1:] = ks[1:] != ks[:-1]
        head = torch.nonzero(first).squeeze(1)
        _apply(flat, before, order.index_select(0, head), key, dw_fn, w_min, w_max, plastic)
        if head.numel() == order.numel():
            break
        first.logical_not_()
        order = order.index_select(0, torch.nonzero(first).squeeze(1))
    return before


def _apply(flat, before, e, key, dw_fn, w_min, w_max, plastic):
    k = key.index_select(0, e)
    wv = flat.index_select(0, k)
    before.index_copy_(0, e, wv)
    new = (wv + dw_fn(wv, e)).clamp_(w_min, w_max)
    if plastic is not None:
        new = torch.where(plastic.index_select(0, e), new, wv)
    flat.index_copy_(0, k, new)
