"""Spikes of a chunk of K steps, traces evaluated at event times, and time-ordered weight updates.

The engine advances neurons K steps at a time (K never exceeds the shortest synaptic delay, so no
spike of a chunk can arrive within it), then hands each rule the chunk's spikes at once. Rules
reproduce the step-by-step semantics: every trace is evaluated at each event's own step (in closed
form, equal to the step-by-step recurrence up to float rounding), and the weight updates of one
synapse are applied in time order.
"""
from __future__ import annotations

import torch


class ChunkSpikes:
    """Spikes of one population over a chunk: dense ``z`` (K, B, N) and the events (k, b, n)."""

    __slots__ = ("z", "k", "b", "n", "_slots")

    def __init__(self, z, k, b, n):
        self.z, self.k, self.b, self.n = z, k, b, n
        self._slots = None

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

    @property
    def flat(self) -> torch.Tensor:
        return self.b * self.z.shape[2] + self.n

    def slots(self) -> list[torch.Tensor]:
        """Spike steps per neuron: ``slots()[r][b·N + n]`` is the step of neuron (b, n)'s r-th spike in the
        chunk, or −1. One slot for neurons that spike at most once per chunk (the common case)."""
        if self._slots is None:
            K, B, N = self.z.shape
            flat = self.flat
            empty = torch.full((B * N,), -1, dtype=torch.int64, device=self.z.device)
            if flat.numel() == 0:
                self._slots = [empty]
                return self._slots
            counts = torch.bincount(flat, minlength=B * N)
            if int(counts.max()) <= 1:
                self._slots = [empty.index_copy_(0, flat, self.k)]
                return self._slots
            order = torch.argsort(flat * (K + 1) + self.k)  # by neuron, then step
            fs, ks = flat.index_select(0, order), self.k.index_select(0, order)
            start = torch.ones_like(fs, dtype=torch.bool)
            start[1:] = fs[1:] != fs[:-1]
            pos = torch.arange(len(fs), device=fs.device)
            rank = pos - torch.cummax(torch.where(start, pos, torch.zeros_like(pos)), 0).values
            self._slots = []
            for r in range(int(rank.max()) + 1):
                sel = torch.nonzero(rank == r).squeeze(1)
                self._slots.append(empty.clone().index_copy_(0, fs.index_select(0, sel), ks.index_select(0, sel)))
        return self._slots


def decay_powers(a: float, K: int, device, dtype) -> torch.Tensor:
    """a^j for j = 0..K."""
    return torch.tensor([a ** j for j in range(K + 1)], device=device, dtype=torch.float64).to(dtype)


class ChunkTrace:
    """A unit-jump trace (every step x ← a·x, then x ← x + z) over a chunk, from its value ``x0`` before it.

    In step k of the chunk: x = x0·a^(k+1) + Σ a^(k−k') over the neuron's own spikes at steps k' < k
    (k' <= k after the step's jump). Evaluated only where rules read it, and for every neuron at the end.
    """

    def __init__(self, x0: torch.Tensor, spikes: ChunkSpikes, a: float):
        K = spikes.z.shape[0]
        self.x0, self.spikes, self.K = x0, spikes, K
        self.p = decay_powers(a, K, x0.device, x0.dtype)

    def at(self, k, b, n, inclusive: bool) -> torch.Tensor:
        """Trace of neuron (b, n) in chunk step k; with that step's own jump if ``inclusive``."""
        flat = b * self.x0.shape[1] + n
        v = self.x0.reshape(-1).index_select(0, flat) * self.p.index_select(0, k + 1)
        if self.spikes.empty:
            return v
        for slot in self.spikes.slots():
            ks = slot.index_select(0, flat)
            lag = k - ks
            hit = (ks >= 0) & ((lag >= 0) if inclusive else (lag > 0))
            v = v + self.p.index_select(0, lag.clamp(0, self.K)) * hit
        return v

    @property
    def end(self) -> torch.Tensor:
        """The trace after the chunk, (B, N)."""
        x = self.x0 * self.p[self.K]
        if not self.spikes.empty:
            x.view(-1).index_add_(0, self.spikes.flat, self.p.index_select(0, self.K - 1 - self.spikes.k))
        return x


def apply_in_time_order(w: torch.Tensor, key: torch.Tensor, when: torch.Tensor, dw_fn, w_min: float,
                        w_max: float) -> torch.Tensor:
    """Apply per-event weight updates w[key] ← clip(w[key] + dw_fn(w[key], e), w_min, w_max) in time order.

    ``key``: flat (trial·S + synapse) index per event; ``when``: its time order (< 256) within the chunk.
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
        _apply(flat, before, order.index_select(0, head), key, dw_fn, w_min, w_max)
        if head.numel() == order.numel():
            break
        first.logical_not_()
        order = order.index_select(0, torch.nonzero(first).squeeze(1))
    return before


def _apply(flat, before, e, key, dw_fn, w_min, w_max):
    k = key.index_select(0, e)
    wv = flat.index_select(0, k)
    before.index_copy_(0, e, wv)
    flat.index_copy_(0, k, (wv + dw_fn(wv, e)).clamp_(w_min, w_max))
