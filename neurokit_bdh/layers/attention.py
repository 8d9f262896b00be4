"""Spiking self-attention (Spikformer-style, Zhou et al. 2023): spike-form Q, K, V and no softmax.

For a spike input ``s`` of shape (T, B, L, D) (time, batch, tokens, features):

    Q = LIF(norm(s W_q)),  K = LIF(norm(s W_k)),  V = LIF(norm(s W_v))     each (T, B, H, L, D/H)
    A = scale · (Q Kᵀ) V                                                   (T, B, H, L, D/H)
    out = LIF(norm(LIF_attn(A) W_o))                                       (T, B, L, D)

Q, K and V are binary, so Q Kᵀ counts coincident spikes and is non-negative: no softmax is needed
(and none is applied), which keeps the whole block multiplication-free on neuromorphic hardware.
The projections are ``TimeLinear``: one matmul over all T·B·L rows. Every spiking non-linearity is
the toolkit's ``LIF`` layer (the fused Triton kernels on CUDA), with state reset at each call.
``causal=True`` masks Q Kᵀ to keys at or before the query position (for autoregressive models).

>>> import torch
>>> attn = SpikingSelfAttention(16, n_heads=2, seed=0)
>>> s = (torch.rand(4, 3, 5, 16, generator=torch.Generator().manual_seed(0)) < 0.3).float()  # (T, B, L, D)
>>> out = attn(s)
>>> out.shape, bool(((out == 0) | (out == 1)).all())
(torch.Size([4, 3, 5, 16]), True)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from neurokit_bdh.neurons.lif import LIFParams

from .lif import LIF, _check_surrogate
from .linear import TimeLinear

# Spikformer's neurons: τ = 2 steps, hard reset to 0, threshold 1 (0.5 after the attention product).
SPIKFORMER_LIF = LIFParams(tau_mem=2e-3, tau_syn=0.0, v_th=1.0, method="euler")
SPIKFORMER_ATTN_LIF = LIFParams(tau_mem=2e-3, tau_syn=0.0, v_th=0.5, method="euler")


class SpikingSelfAttention(nn.Module):
    """Spike-driven multi-head self-attention over a (T, B, L, D) spike tensor; returns spikes (T, B, L, D).

    ``dim``: D, split into ``n_heads`` heads of D/n_heads; ``scale``: the factor on Q Kᵀ V
    (default 1/sqrt(D/n_heads), Spikformer's 0.125 for 64-wide heads); ``params``/``attn_params``:
    the LIF neurons after the projections / after the attention product; ``dt``: the step (s);
    ``norm``: BatchNorm over features after each projection (Spikformer; folds into the weights for
    inference) or None; ``causal``: mask future keys; ``seed``: reproducible initialisation.
    ``kernel`` is passed to every LIF layer (``"auto"``: fused Triton kernels on CUDA).
    """

    def __init__(self, dim: int, n_heads: int = 1, scale: float | None = None,
                 params: LIFParams = SPIKFORMER_LIF, attn_params: LIFParams = SPIKFORMER_ATTN_LIF,
                 dt: float = 1e-3, surrogate: str | None = "atan", norm: str | None = "batch",
                 causal: bool = False, seed: int | None = None, kernel: str = "auto"):
        super().__init__()
        if not (isinstance(dim, int) and dim > 0):
            raise ValueError(f"dim: expected a positive int, got {dim!r}")
        if not (isinstance(n_heads, int) and n_heads > 0 and dim % n_heads == 0):
            raise ValueError(f"n_heads: expected a positive divisor of dim={dim}, got {n_heads!r}")
        if norm not in ("batch", None):
            raise ValueError(f"norm: expected 'batch' or None, got {norm!r}")
        if scale is not None and not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale: expected a finite number > 0, got {scale!r}")
        _check_surrogate(surrogate)
        self.dim, self.n_heads, self.causal = dim, n_heads, bool(causal)
        self.scale = float(scale) if scale is not None else 1.0 / math.sqrt(dim // n_heads)
        self.q, self.k, self.v, self.o = (TimeLinear(dim, dim, bias=norm is None) for _ in range(4))
        if seed is not None:
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():  # PyTorch's default bound, drawn from our generator
                for lin in (self.q, self.k, self.v, self.o):
                    b = 1.0 / math.sqrt(dim)
                    lin.weight.uniform_(-b, b, generator=g)
                    if lin.bias is not None:
                        lin.bias.uniform_(-b, b, generator=g)
        make_norm = (lambda: nn.BatchNorm1d(dim)) if norm == "batch" else (lambda: nn.Identity())
        self.q_norm, self.k_norm, self.v_norm, self.o_norm = (make_norm() for _ in range(4))
        self.q_lif, self.k_lif, self.v_lif, self.o_lif = (LIF(params, dt, surrogate, kernel=kernel) for _ in range(4))
        self.attn_lif = LIF(attn_params, dt, surrogate, kernel=kernel)
        self.last_attention: torch.Tensor | None = None  # (T, B, H, L, D/H): scale·(QKᵀ)V of the last call

    def _project(self, s, lin, norm, lif):
        y = lin(s)  # (T, B, L, D): one matmul over T·B·L rows
        y = norm(y.reshape(-1, self.dim)).reshape(y.shape)
        return lif(y)[0]

    def _heads(self, s):  # (T, B, L, D) -> (T, B, H, L, D/H)
        T, B, L, D = s.shape
        return s.reshape(T, B, L, self.n_heads, D // self.n_heads).transpose(2, 3)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        if s.dim() != 4 or s.shape[-1] != self.dim:
            raise ValueError(f"s: expected spikes of shape (T, B, L, {self.dim}), got {tuple(s.shape)}")
        q, k, v = (self._heads(self._project(s, lin, norm, lif)) for lin, norm, lif in
                   ((self.q, self.q_norm, self.q_lif), (self.k, self.k_norm, self.k_lif),
                    (self.v, self.v_norm, self.v_lif)))
        scores = q @ k.transpose(-2, -1)  # (T, B, H, L, L): coincident spike counts, >= 0, no softmax
        if self.causal:
            L = s.shape[2]
            scores = scores * torch.ones(L, L, device=s.device, dtype=s.dtype).tril()
        a = (scores @ v) * self.scale  # (T, B, H, L, D/H)
        self.last_attention = a.detach()
        T, B, H, L, dh = a.shape
        a = self.attn_lif(a.transpose(2, 3).reshape(T, B, L, H * dh))[0]  # (T, B, L, D)
        return self._project(a, self.o, self.o_norm, self.o_lif)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, n_heads={self.n_heads}, scale={self.scale:g}, causal={self.causal}"
