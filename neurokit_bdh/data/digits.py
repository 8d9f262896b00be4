"""Small classification data for spiking networks: scikit-learn's bundled 8×8 digits, a synthetic
temporal spike-pattern task, and the minimal ``Dataset`` protocol both follow.

A dataset is anything with ``len(ds)`` and ``ds[i] -> (x, y)`` (``x`` a float tensor, ``y`` an int
class). Static samples ``x`` have shape (N,) and batch to (B, N); temporal samples have shape (T, N)
and batch time-major to (T, B, N) (see ``batches``).

>>> train, test = load_digits("train"), load_digits("test")
>>> len(train), len(test), train[0][0].shape
(1437, 360, torch.Size([64]))
>>> ds = spike_pattern_task(n_classes=3, n_samples=30, n_inputs=20, n_steps=50, seed=0)
>>> x, y = ds[0]; tuple(x.shape), int(y) in (0, 1, 2)
((50, 20), True)
"""
from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

import numpy as np
import torch


@runtime_checkable
class Dataset(Protocol):
    """What training needs from a dataset: a length and ``(x, y)`` pairs."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]: ...


class ArrayDataset:
    """A dataset held as two tensors: ``x`` (n, ...) float and ``y`` (n,) int64 class labels."""

    def __init__(self, x, y, n_classes: int | None = None):
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
        y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y, dtype=torch.int64)
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"y: expected {x.shape[0]} labels (one per sample of x), got {y.shape[0]}")
        self.x, self.y = x, y
        self.n_classes = int(y.max()) + 1 if n_classes is None and len(y) else n_classes

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i):
        return self.x[i], self.y[i]


def _stack(xs: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(xs, dim=xs[0].dim() - 1)  # (N,) -> (B, N); (T, N) -> (T, B, N)


def batches(ds: Dataset, batch_size: int, shuffle: bool = False, generator: torch.Generator | None = None
            ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Mini-batches ``(x, y)``: static samples as (B, N), temporal ones time-major (T, B, N)."""
    if not (isinstance(batch_size, int) and batch_size > 0):
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    n = len(ds)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for s in range(0, n, batch_size):
        idx = order[s:s + batch_size]
        if isinstance(ds, ArrayDataset):
            x = ds.x[idx]
            yield (x.transpose(0, 1) if x.dim() == 3 else x), ds.y[idx]
        else:
            items = [ds[int(i)] for i in idx]
            yield _stack([torch.as_tensor(x, dtype=torch.float32) for x, _ in items]), \
                torch.as_tensor([int(y) for _, y in items], dtype=torch.int64)


def load_digits(split: str = "train", test_fraction: float = 0.2, seed: int = 0) -> ArrayDataset:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes), pixels scaled to [0, 1].

    The split is stratified and deterministic for a given ``seed`` (default: 1437 train / 360 test).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction: expected a number in (0, 1), got {test_fraction!r}")
    try:
        from sklearn.datasets import load_digits as _load
        from sklearn.model_selection import train_test_split
    except ImportError as e:  # pragma: no cover
        raise ImportError("the digits data set needs scikit-learn: pip install 'neurokit-bdh[dev]'") from e
    d = _load()
    x = d.data.astype(np.float32) / 16.0  # (1797, 64) in [0, 1]
    x_tr, x_te, y_tr, y_te = train_test_split(x, d.target, test_size=test_fraction, random_state=seed,
                                              stratify=d.target)
    return ArrayDataset(x_tr, y_tr, 10) if split == "train" else ArrayDataset(x_te, y_te, 10)


def spike_pattern_task(n_classes: int = 4, n_samples: int = 400, n_inputs: int = 50, n_steps: int = 100,
                       rate: float = 0.05, jitter: int = 2, noise_rate: float = 0.005, drop: float = 0.1,
                       seed: int = 0) -> ArrayDataset:
    """Classify frozen spike patterns: each class is one random spike template (``rate`` spikes per
    input per step); every sample is its class template with each spike moved by up to ``±jitter``
    steps, deleted with probability ``drop``, plus background spikes at ``noise_rate``. All classes
    have the same mean rate, so only spike timing tells them apart. ``x``: (n_samples, T, N) 0/1.
    """
    for name, v in (("n_classes", n_classes), ("n_samples", n_samples), ("n_inputs", n_inputs), ("n_steps", n_steps)):
        if not (isinstance(v, int) and v > 0):
            raise ValueError(f"{name}: expected a positive int, got {v!r}")
    for name, v in (("rate", rate), ("noise_rate", noise_rate), ("drop", drop)):
        if not 0 <= v <= 1:
            raise ValueError(f"{name}: expected a probability in [0, 1], got {v!r}")
    rng = np.random.default_rng(seed)
    templates = rng.random((n_classes, n_steps, n_inputs)) < rate
    y = np.arange(n_samples) % n_classes
    rng.shuffle(y)
    x = np.zeros((n_samples, n_steps, n_inputs), np.float32)
    for k in range(n_samples):
        t, j = np.nonzero(templates[y[k]])
        keep = rng.random(t.size) >= drop
        t = np.clip(t[keep] + rng.integers(-jitter, jitter + 1, keep.sum()), 0, n_steps - 1)
        x[k, t, j[keep]] = 1.0
        x[k] = np.maximum(x[k], rng.random((n_steps, n_inputs)) < noise_rate)
    return ArrayDataset(x, y, n_classes)


DATASETS = {"digits": load_digits}
