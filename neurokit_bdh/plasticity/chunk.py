"""Spikes of a chunk of K steps, traces evaluated at event times, and time-ordered weight updates.

The engine advances neurons K steps at a time (K never exceeds the shortest synaptic delay, so no
spike of a chunk can arrive within it), then hands each rule the chunk's spikes at once. Rules
reproduce the step-by-step semantics: every trace is evaluated at each event's own step (in closed
form, equal to the step-by-step recurrence up to float rounding), and the weight updates of one
synapse are applied in time order.
"""
from __future__ import annotations

import functools

import torch


class ChunkSpikes:
    """Spikes of one population over a chunk: dense ``z`` (K, B, N) and the events (k, b, n).

    ``single``: every neuron spiked at most once in the chunk (the common case: chunks are shorter than
    most inter-spike intervals), which lets rules skip sorting their updates in time.
    """

    __slots__ = ("z", "k", "b", "n", "single", "_slots", "_flat")

    def __init__(self, z, k, b, n, single: bool | None = None):
        self.z, self.k, self.b, self.n = z, k, b, n
        self.single = z.shape[0] == 1 if single is None else single
        self._slots = self._flat = None

    @classmethod
    def from_dense(cls, z: torch.Tensor, fired: torch.Tensor | None = None) -> "ChunkSpikes":
        """Events of z (K, B, N): first the neurons that spiked at all (``fired`` = z.amax(0), if already
        known), then their steps (spikes are sparse: this scans K·N values once, not nonzero over all)."""
        K, B, N = z.shape
        if K == 1:
            k, b, n = torch.nonzero(z, as_tuple=True)
            return cls(z, k, b, n, single=True)
        b, n = torch.nonzero(z.amax(0) if fired is None else fired, as_tuple=True)
        k, c = torch.nonzero(z.view(K, B * N).index_select(1, b * N + n), as_tuple=True)
        return cls(z, k, b.index_select(0, c), n.index_select(0, c), single=c.numel() == n.numel())

    @property
    def empty(self) -> bool:
        return self.n.numel() == 0

    @property
    def flat(self) -> torch.Tensor:
        """Flat (trial·N + neuron) index of each event."""
        if self._flat is None:
            self._flat = self.n.add(self.b, alpha=self.z.shape[2])
        return self._flat

    def slots(self) -> list[torch.Tensor]:
        """Spike steps per neuron: ``slots()[r][b·N + n]`` is the step of neuron (b, n)'s r-th spike in the
        chunk, or K (no such spike). One slot when every neuron spiked at most once (``single``)."""
        if self._slots is None:
            K, B, N = self.z.shape
            flat = self.flat
            none = torch.full((B * N,), K, dtype=torch.int64, device=self.z.device)
            if self.single:
                self._slots = [none.index_copy_(0, flat, self.k)]
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
                self._slots.append(none.clone().index_copy_(0, fs.index_select(0, sel), ks.index_select(0, sel)))
        return self._slots


@functools.lru_cache(maxsize=256)
def decay_powers(a: float, K: int, device, dtype) -> torch.Tensor:
    """a^j for j = 0..K (cached: every chunk of a run asks for the same few; never modify the result)."""
    return torch.tensor([a ** j for j in range(K + 1)], device=device, dtype=torch.float64).to(dtype)


@functools.lru_cache(maxsize=256)
def tail_powers(a: float, K: int, device, dtype) -> torch.Tensor:
    """a^(K−1−k) for k = 0..K−1: how much of a jump at chunk step k is left at the chunk's end."""
    return torch.tensor([a ** (K - 1 - k) for k in range(K)], device=device, dtype=torch.float64).to(dtype)


@functools.lru_cache(maxsize=256)
def lag_table(a: float, K: int, inclusive: bool, device, dtype) -> torch.Tensor:
    """A spike's contribution to its trace by lag: ``lag_table(...)[lag + K]`` is a^lag for lag > 0 (and for
    lag = 0 if ``inclusive``), else 0; lags run from −K (no spike: slot value K) to K − 1."""
    lags = range(-K, K)
    return torch.tensor([a ** j if j > 0 or (j == 0 and inclusive) else 0.0 for j in lags],
                        device=device, dtype=torch.float64).to(dtype)


class ChunkTrace:
    """A unit-jump trace (every step x ← a·x, then x ← x + z) over a chunk, from its value ``x0`` before it.

    In step k of the chunk: x = x0·a^(k+1) + Σ a^(k−k') over the neuron's own spikes at steps k' < k
    (k' <= k after the step's jump). Evaluated only where rules read it, and for every neuron at the end.
    """

    def __init__(self, x0: torch.Tensor, spikes: ChunkSpikes, a: float):
        K = spikes.z.shape[0]
        self.x0, self.spikes, self.K, self.a = x0, spikes, K, a
        self.p = decay_powers(a, K, x0.device, x0.dtype)

    def at(self, k, b, n, inclusive: bool, with_step: bool = False):
        """Trace of neuron (b, n) in chunk step k; with that step's own jump if ``inclusive``.
        ``with_step`` (needs ``spikes.single``): also return the neuron's spike step in the chunk (K: none)."""
        flat = n.add(b, alpha=self.x0.shape[1])
        v = self.x0.view(-1).index_select(0, flat) * self.p.index_select(0, k + 1)
        if self.spikes.empty:
            return (v, torch.full_like(k, self.K)) if with_step else v
        table = lag_table(self.a, self.K, inclusive, v.device, v.dtype)
        k_off = k + self.K
        for slot in self.spikes.slots():
            ks = slot.index_select(0, flat)
            v = v + table.index_select(0, k_off - ks)
        return (v, ks) if with_step else v

    @property
    def end(self) -> torch.Tensor:
        """The trace after the chunk, (B, N)."""
        x = self.x0 * (self.a ** self.K)
        if not self.spikes.empty:
            tail = tail_powers(self.a, self.K, x.device, x.dtype)
            x.view(-1).index_add_(0, self.spikes.flat, tail.index_select(0, self.spikes.k))
        return x


def apply_in_time_order(w: torch.Tensor, key: torch.Tensor, when: torch.Tensor, dw_fn, w_min: float,
                        w_max: float, first: torch.Tensor | None = None) -> torch.Tensor:
    """Apply per-event weight updates w[key] ← clip(w[key] + dw_fn(w[key], e), w_min, w_max) in time order.

    ``key``: flat (trial·S + synapse) index per event; ``when``: its time order (< 256) within the chunk.
    Events of different synapses are independent; one synapse's events are applied one after another,
    so clipping and weight dependence act exactly as in a step-by-step simulation.
    ``first``: optional, when every synapse has at most two events: whether each is its synapse's first
    (then two masked rounds replace sorting).
    Returns the weight each event saw before its own update (what a transmitted spike carries).
    """
    flat = w.view(-1)
    if key.numel() == 0:
        return torch.empty(0, device=w.device, dtype=w.dtype)
    before = torch.empty(key.shape, device=w.device, dtype=w.dtype)
    if first is not None:
        for mask in (first, ~first):
            e = torch.nonzero(mask).squeeze(1)
            if e.numel():
                _apply(flat, before, e, key, dw_fn, w_min, w_max)
        return before
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
