"""Index of a sparse synapse set that plasticity rules and engines share: who connects to whom.

Synapses are numbered in CSR order (sorted by presynaptic neuron). ``out_synapses`` expands the rows
of spiking presynaptic neurons, ``in_synapses`` the columns of spiking postsynaptic neurons (via a
CSC permutation), both vectorised and batched over trials: a spike is a pair (trial b, neuron n).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


def expand_ranges(starts: torch.Tensor, counts: torch.Tensor):
    """For ranges [starts[k], starts[k] + counts[k]) return (owner k per element, element index)."""
    ends = torch.cumsum(counts, 0)
    total = int(ends[-1]) if len(ends) else 0
    k = torch.arange(total, device=counts.device)
    owner = torch.searchsorted(ends, k, right=True)  # much cheaper than repeat_interleave on small inputs
    return owner, (starts - (ends - counts)).index_select(0, owner) + k


@dataclass(frozen=True)
class SynapseIndex:
    n_pre: int
    n_post: int
    pre: torch.Tensor      # (S,) int64 presynaptic neuron of each synapse
    post: torch.Tensor     # (S,) int64 postsynaptic neuron of each synapse
    indptr: torch.Tensor   # (n_pre + 1,) CSR row pointers
    in_ptr: torch.Tensor   # (n_post + 1,) CSC column pointers
    in_perm: torch.Tensor  # synapse ids sorted by post: all of them, or those plasticity may change
    out_deg: torch.Tensor  # (n_pre,) synapses per presynaptic neuron
    in_deg: torch.Tensor   # (n_post,) synapses listed in in_perm per postsynaptic neuron

    @classmethod
    def from_csr(cls, n_pre: int, n_post: int, indptr, indices, device=None, plastic=None) -> "SynapseIndex":
        """``plastic`` (S,) bool: only these synapses are listed by :meth:`in_synapses` (the only use of the
        incoming side is plasticity; skipping the others saves work at every postsynaptic spike)."""
        indptr = torch.as_tensor(indptr, dtype=torch.int64, device=device)
        post = torch.as_tensor(indices, dtype=torch.int64, device=device)
        pre = torch.repeat_interleave(torch.arange(n_pre, device=device), indptr[1:] - indptr[:-1])
        ids = torch.arange(len(post), device=device)
        if plastic is not None:
            ids = ids[torch.as_tensor(plastic, device=device)]
        p = post.index_select(0, ids)
        in_perm = ids.index_select(0, torch.argsort(p * n_pre + pre.index_select(0, ids)))  # by post, then pre
        in_ptr = torch.zeros(n_post + 1, dtype=torch.int64, device=device)
        in_ptr[1:] = torch.cumsum(torch.bincount(p, minlength=n_post), 0)
        return cls(n_pre, n_post, pre, post, indptr, in_ptr, in_perm, indptr.diff(), in_ptr.diff())

    @property
    def n_syn(self) -> int:
        return self.pre.numel()

    def out_synapses(self, neurons: torch.Tensor):
        """Synapses leaving each spiking presynaptic neuron: (owner index into ``neurons``, synapse id)."""
        return expand_ranges(self.indptr.index_select(0, neurons), self.out_deg.index_select(0, neurons))

    def in_synapses(self, neurons: torch.Tensor):
        """Plastic synapses entering each spiking postsynaptic neuron: (owner index into ``neurons``, synapse id)."""
        owner, k = expand_ranges(self.in_ptr.index_select(0, neurons), self.in_deg.index_select(0, neurons))
        return owner, self.in_perm.index_select(0, k)
