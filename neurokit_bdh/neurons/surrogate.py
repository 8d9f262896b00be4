"""Spike functions: a strict Heaviside forward (spike iff x > 0) with a surrogate derivative backward.

``x`` is the distance to threshold, ``v - v_th``. Each surrogate is written once as its derivative
``g(x, alpha)``; the forward pass is always the same step function.

>>> import torch
>>> x = torch.tensor([-0.5, 0.0, 0.5], requires_grad=True)
>>> z = spike(x, "atan", alpha=2.0)
>>> z.tolist()
[0.0, 0.0, 1.0]
>>> z.sum().backward(); [round(g, 4) for g in x.grad.tolist()]
[0.2884, 1.0, 0.2884]
"""
from __future__ import annotations

import math
from typing import Callable

import torch

Surrogate = Callable[[torch.Tensor, float], torch.Tensor]


def atan_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """d/dx of (1/π)·atan(π/2·α·x) + 1/2 (snntorch's ATan, Fang et al. 2021)."""
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


def fast_sigmoid_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """1 / (1 + α|x|)², the derivative of the fast sigmoid x / (1 + α|x|) (Zenke & Ganguli 2018).

    SuperSpike is the same function; snntorch calls it fast_sigmoid (slope 25), norse superspike (α 100).
    """
    return 1 / (1 + alpha * x.abs()) ** 2


def triangular_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """max(0, 1 − α|x|): a triangle of height 1 and half-width 1/α (Bellec et al. 2018)."""
    return torch.clamp(1 - alpha * x.abs(), min=0.0)


SURROGATES: dict[str, Surrogate] = {
    "atan": atan_grad,
    "fast_sigmoid": fast_sigmoid_grad,
    "superspike": fast_sigmoid_grad,
    "triangular": triangular_grad,
}

# Default slope per surrogate, matching the libraries users compare with (snntorch atan α=2,
# fast_sigmoid slope 25; norse superspike α=100; triangular width 1).
DEFAULT_ALPHA = {"atan": 2.0, "fast_sigmoid": 25.0, "superspike": 100.0, "triangular": 1.0}


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """1.0 where x > 0 else 0.0, in x's dtype (eager: sign + clamp, faster on CPUs than a comparison and a
    cast; compiled kernels fuse the comparison)."""
    if torch.compiler.is_compiling():
        return (x > 0).to(x.dtype)
    return torch.sign(x).clamp_(min=0.0)


class _SpikeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, grad_fn: Surrogate, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.grad_fn, ctx.alpha = grad_fn, alpha
        return heaviside(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * ctx.grad_fn(x, ctx.alpha), None, None


def spike(x: torch.Tensor, surrogate: str | None = None, alpha: float | None = None) -> torch.Tensor:
    """Spike where ``x > 0``; with a surrogate name, differentiable with that surrogate derivative.

    ``surrogate=None`` gives the plain (non-differentiable) step used by the simulation engine.
    """
    if surrogate is None:
        return heaviside(x)
    if surrogate not in SURROGATES:
        raise ValueError(f"surrogate: unknown name {surrogate!r}; expected one of {sorted(SURROGATES)}")
    a = DEFAULT_ALPHA[surrogate] if alpha is None else float(alpha)
    if not a > 0:
        raise ValueError(f"alpha: must be > 0, got {alpha!r}")
    return _SpikeFn.apply(x, SURROGATES[surrogate], a)
