"""Compressed sparse rows for synapses: row = presynaptic neuron, one entry per synapse.

No Python object per edge: every field is a flat numpy array, so 10^6-neuron graphs stay cheap.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CSR:
    """Synapses ``pre -> indices[indptr[pre]:indptr[pre+1]]`` with per-synapse ``weights`` and integer ``delays`` (steps)."""

    n_pre: int
    n_post: int
    indptr: np.ndarray   # (n_pre + 1,) int64
    indices: np.ndarray  # (n_syn,) int32/int64 postsynaptic neuron
    weights: np.ndarray  # (n_syn,) float32
    delays: np.ndarray   # (n_syn,) int32, >= 1 step

    def __post_init__(self):
        if self.indptr.shape != (self.n_pre + 1,):
            raise ValueError(f"indptr: expected shape ({self.n_pre + 1},), got {self.indptr.shape}")
        n = int(self.indptr[-1])
        for name in ("indices", "weights", "delays"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name}: expected shape ({n},) (one per synapse), got {getattr(self, name).shape}")
        if n and (self.indices.min() < 0 or self.indices.max() >= self.n_post):
            raise ValueError(f"indices: postsynaptic index out of range [0, {self.n_post})")
        if n and self.delays.min() < 1:
            raise ValueError(f"delays: every delay must be >= 1 step, got min {int(self.delays.min())}")

    @property
    def n_syn(self) -> int:
        return int(self.indptr[-1])

    def pre(self) -> np.ndarray:
        """Presynaptic index of every synapse, (n_syn,)."""
        return np.repeat(np.arange(self.n_pre, dtype=np.int64), np.diff(self.indptr))

    @classmethod
    def from_edges(cls, pre, post, n_pre: int, n_post: int, weights=None, delays=None) -> "CSR":
        """Build from edge arrays (any order); rows sorted by pre, then post."""
        pre = np.asarray(pre, dtype=np.int64)
        post = np.asarray(post, dtype=np.int64)
        if pre.shape != post.shape:
            raise ValueError(f"pre/post: expected equal lengths, got {pre.shape} and {post.shape}")
        w = np.ones(pre.shape, np.float32) if weights is None else np.asarray(weights, np.float32)
        d = np.ones(pre.shape, np.int32) if delays is None else np.asarray(delays, np.int32)
        if pre.size and (pre.min() < 0 or pre.max() >= n_pre):
            raise ValueError(f"pre: index out of range [0, {n_pre})")
        order = np.lexsort((post, pre))
        indptr = np.zeros(n_pre + 1, np.int64)
        np.cumsum(np.bincount(pre, minlength=n_pre), out=indptr[1:])
        return cls(n_pre, n_post, indptr, post[order].astype(np.int32), w[order], d[order])

    def to_dense(self) -> np.ndarray:
        """(n_pre, n_post) weight matrix (for small graphs and tests)."""
        m = np.zeros((self.n_pre, self.n_post), np.float64)
        np.add.at(m, (self.pre(), self.indices), self.weights)
        return m
