"""Feed-forward projection batched over time: one matmul over all T·B rows, not T small ones.

Published SNN benchmarks mostly measure how this layer is scheduled (reference/snn.md §4 note 6): a
per-step GEMV re-reads the weight matrix T times, a (T·B, N_in) × (N_in, N_out) GEMM reads it once.

>>> import torch
>>> lin = TimeLinear(3, 2)
>>> lin(torch.ones(5, 4, 3)).shape          # (T, B, N_in) -> (T, B, N_out)
torch.Size([5, 4, 2])
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TimeLinear(nn.Linear):
    """``nn.Linear`` over a time-major (T, B, N_in) input as a single (T·B)-row matmul.

    A static (B, N_in) input (e.g. a constant current) is projected once; pass ``n_steps`` to get it
    broadcast to (n_steps, B, N_out) without copying. ``mask`` (a 0/1 tensor of the weight's shape,
    out × in) keeps only the listed connections (sparse connectivity on a dense weight).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, mask: torch.Tensor | None = None,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        if mask is not None:
            if tuple(mask.shape) != (out_features, in_features):
                raise ValueError(f"mask: expected shape {(out_features, in_features)}, got {tuple(mask.shape)}")
            mask = mask.to(dtype=self.weight.dtype, device=self.weight.device)
            with torch.no_grad():
                self.weight.mul_(mask)
        self.register_buffer("mask", mask)

    def effective_weight(self) -> torch.Tensor:
        return self.weight if self.mask is None else self.weight * self.mask

    def forward(self, x: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        w = self.effective_weight()
        if x.dim() == 2 and n_steps is not None:
            return F.linear(x, w, self.bias).expand(n_steps, *x.shape[:1], self.out_features)  # (T, B, N_out)
        lead = x.shape[:-1]
        y = F.linear(x.reshape(-1, x.shape[-1]), w, self.bias)  # (T·B, N_out): one GEMM
        return y.reshape(*lead, self.out_features)
