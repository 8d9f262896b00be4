"""Spike encoders: static values or signals -> time-major spike tensors (T, B, N).

* ``poisson``: each step an independent Bernoulli spike with probability ``x·gain`` (rate coding);
  randomness from an explicit ``generator`` or ``seed``.
* ``latency``: one spike per input, earlier for larger values (time-to-first-spike coding).
* ``delta``: a spike whenever the signal has moved by more than ``threshold`` since the last spike
  (level-crossing / DVS-style), signed +1/−1 with ``off=True``.

>>> import torch
>>> latency(torch.tensor([[1.0, 0.5, 0.0]]), n_steps=5)[:, 0].T.tolist()
[[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0]]
>>> delta(torch.tensor([0.0, 0.3, 0.6, 0.2])[:, None, None], threshold=0.25)[:, 0, 0].tolist()
[0.0, 1.0, 1.0, -1.0]
"""
from __future__ import annotations

import torch


def _n_steps(n_steps) -> int:
    if not (isinstance(n_steps, int) and n_steps > 0):
        raise ValueError(f"n_steps: expected a positive int, got {n_steps!r}")
    return n_steps


def poisson(x: torch.Tensor, n_steps: int, gain: float = 1.0, *, generator: torch.Generator | None = None,
            seed: int | None = None) -> torch.Tensor:
    """Bernoulli spikes (n_steps, *x.shape) with per-step probability ``clamp(x·gain, 0, 1)``.

    For a rate ``r`` in Hz and step ``dt``, pass ``x = r`` and ``gain = dt``. Give ``generator`` or
    ``seed`` for reproducible draws (with neither, torch's default generator is used).
    """
    n_steps = _n_steps(n_steps)
    if generator is not None and seed is not None:
        raise ValueError("seed: give either generator or seed, not both")
    if seed is not None:
        generator = torch.Generator(device=x.device).manual_seed(seed)
    p = (x * gain).clamp(0.0, 1.0)
    u = torch.rand((n_steps, *x.shape), generator=generator, device=x.device, dtype=p.dtype)  # (T, B, N)
    return (u < p).to(p.dtype)


def latency(x: torch.Tensor, n_steps: int, threshold: float = 0.0, normalize: bool = True) -> torch.Tensor:
    """One spike per value at step ``round((1 − x)·(n_steps − 1))`` (x in [0, 1], x = 1 fires at step 0).

    Values ``<= threshold`` never fire. ``normalize=False`` skips the clamp of ``x`` to [0, 1] (then
    out-of-range values raise ValueError).
    """
    n_steps = _n_steps(n_steps)
    if normalize:
        x = x.clamp(0.0, 1.0)
    elif x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"x: expected values in [0, 1], got range [{x.min().item():g}, {x.max().item():g}]")
    t_spike = torch.round((1.0 - x) * (n_steps - 1)).long()
    t_spike = torch.where(x > threshold, t_spike, torch.full_like(t_spike, n_steps))  # n_steps: never
    steps = torch.arange(n_steps, device=x.device).view(-1, *([1] * x.dim()))
    return (steps == t_spike.unsqueeze(0)).to(x.dtype if x.is_floating_point() else torch.float32)  # (T, ...)


def delta(x: torch.Tensor, threshold: float, off: bool = True) -> torch.Tensor:
    """Level-crossing spikes of a time-major signal ``x`` (T, ...): +1 when ``x[t] − ref > threshold``, −1
    (only with ``off=True``) when ``ref − x[t] > threshold``; after a spike ``ref = x[t]``. ``ref``
    starts at ``x[0]``, so step 0 never spikes."""
    if x.dim() < 1 or x.shape[0] < 1:
        raise ValueError(f"x: expected a time-major signal (T, ...), got shape {tuple(x.shape)}")
    if not threshold > 0:
        raise ValueError(f"threshold: expected > 0, got {threshold!r}")
    ref = x[0].clone()
    out = torch.zeros_like(x, dtype=torch.float32 if not x.is_floating_point() else x.dtype)
    for t in range(1, x.shape[0]):
        d = x[t] - ref
        up = d > threshold
        down = (-d > threshold) if off else torch.zeros_like(up)
        out[t] = up.to(out.dtype) - down.to(out.dtype)
        ref = torch.where(up | down, x[t], ref)
    return out
