"""Weight-snapshot statistics: histograms over time, mean/total weight, potentiation/depression,
Sarle's bimodality coefficient, synapse trajectories, strong-synapse degree/strength distributions
with power-law fits next to an Erdős–Rényi baseline (heavy-tail fits and tests: :mod:`.heavy_tail`).

A snapshot is CSR as in the run file (docs/formats.md): ``indptr`` (n_pre + 1,), ``indices``
(post index per synapse) and ``weights`` (n_syn,) or (n_trials, n_syn). The ``run_*`` wrappers read
one snapshot at a time from a :class:`~neurokit_bdh.io.runfile.RunFile`; per-trial snapshots are
reduced to ``trial`` (default 0).

Depends on numpy and scipy.

>>> round(bimodality_coefficient([0] * 10 + [1] * 10), 3)       # two equal point masses, n = 20
0.767
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .heavy_tail import fit_power_law

__all__ = [
    "BC_UNIFORM", "csr_pairs", "weight_histograms", "weight_summary", "potentiation_fraction",
    "bimodality_coefficient", "synapse_trajectories", "strong_degrees", "degree_analysis", "er_degrees",
    "run_snapshot", "run_weight_histograms", "run_weight_summary", "run_potentiation_fraction",
    "run_synapse_trajectories", "run_degree_analysis",
]

BC_UNIFORM = 5.0 / 9.0          # bimodality coefficient of a uniform distribution; larger suggests bimodality


def _w1(weights, trial):
    w = np.asarray(weights)
    if w.ndim == 2:
        w = w[0 if trial is None else trial]
    return w.astype(np.float64, copy=False)


def csr_pairs(indptr, indices) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) int64 arrays of every synapse of a CSR snapshot."""
    indptr = np.asarray(indptr, dtype=np.int64)
    pre = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return pre, np.asarray(indices, dtype=np.int64)


# ----------------------------------------------------------------------------- distributions over time

def weight_histograms(snapshots, bins=50, range=None):
    """Histograms of several snapshots' weights (list of 1-D arrays) on common edges:
    (edges (bins+1,), counts (n_snap, bins)). Edges span all snapshots unless ``range`` is given."""
    ws = [np.asarray(w, dtype=np.float64).ravel() for w in snapshots]
    if range is None:
        nz = [w for w in ws if w.size]
        range = (min(w.min() for w in nz), max(w.max() for w in nz)) if nz else (0.0, 1.0)
        if range[0] == range[1]:
            range = (range[0] - 0.5, range[1] + 0.5)
    edges = np.histogram_bin_edges([], bins=bins, range=range)
    return edges, np.array([np.histogram(w, bins=edges)[0] for w in ws]).reshape(len(ws), len(edges) - 1)


def weight_summary(weights) -> dict:
    """{"n_syn", "mean", "total", "std", "min", "max"} of one snapshot's weights."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        return {"n_syn": 0, "mean": math.nan, "total": 0.0, "std": math.nan, "min": math.nan, "max": math.nan}
    return {"n_syn": int(w.size), "mean": float(w.mean()), "total": float(w.sum()), "std": float(w.std()),
            "min": float(w.min()), "max": float(w.max())}


def _keys(pre, post, n_post):
    return np.asarray(pre, np.int64) * n_post + np.asarray(post, np.int64)


def potentiation_fraction(pre0, post0, w0, pre1, post1, w1, tol=0.0) -> dict:
    """Synapses present in both snapshots, matched by (pre, post): fractions with w1 > w0 + tol
    (potentiated), w1 < w0 - tol (depressed) and unchanged, and the number matched.
    Duplicate (pre, post) entries keep their first occurrence."""
    n_post = int(max(np.max(post0, initial=0), np.max(post1, initial=0))) + 1
    k0, k1 = _keys(pre0, post0, n_post), _keys(pre1, post1, n_post)
    _, i0, i1 = np.intersect1d(k0, k1, assume_unique=False, return_indices=True)
    d = np.asarray(w1, np.float64)[i1] - np.asarray(w0, np.float64)[i0]
    m = d.size
    if m == 0:
        return {"n_matched": 0, "potentiated": math.nan, "depressed": math.nan, "unchanged": math.nan}
    pot, dep = int(np.count_nonzero(d > tol)), int(np.count_nonzero(d < -tol))
    return {"n_matched": m, "potentiated": pot / m, "depressed": dep / m, "unchanged": (m - pot - dep) / m}


def bimodality_coefficient(x) -> float:
    """Sarle's bimodality coefficient, sample-size-corrected form (SAS; Pfister et al. 2013, Front. Psychol. 4:700):

    ``BC = (G1**2 + 1) / (G2 + 3 (n-1)**2 / ((n-2)(n-3)))`` with G1 the bias-corrected sample skewness
    (``scipy.stats.skew(bias=False)``) and G2 the bias-corrected sample excess kurtosis
    (``scipy.stats.kurtosis(fisher=True, bias=False)``); needs n >= 4. A normal sample gives about 1/3,
    a uniform one 5/9 (:data:`BC_UNIFORM`); BC > 5/9 suggests bimodality (or strong skew).
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    if n < 4:
        raise ValueError(f"bimodality_coefficient: need at least 4 values, got {n}")
    if np.all(x == x[0]):
        return math.nan
    g1 = stats.skew(x, bias=False)
    g2 = stats.kurtosis(x, fisher=True, bias=False)
    return float((g1 ** 2 + 1.0) / (g2 + 3.0 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def synapse_trajectories(snapshots, n_samples=100, seed=0):
    """Weights of sampled synapses across snapshots: (pre (m,), post (m,), w (n_snap, m)).

    ``snapshots``: sequence of (pre, post, w) arrays. Only synapses present in every snapshot
    (matched by (pre, post)) are eligible; m = min(n_samples, eligible) drawn without replacement with
    ``np.random.default_rng(seed)``, returned sorted by (pre, post).
    """
    snaps = [tuple(np.asarray(a) for a in s) for s in snapshots]
    if not snaps:
        raise ValueError("synapse_trajectories: need at least one snapshot")
    n_post = int(max(np.max(s[1], initial=0) for s in snaps)) + 1
    common = None
    for pre, post, _ in snaps:
        k = np.unique(_keys(pre, post, n_post))
        common = k if common is None else np.intersect1d(common, k, assume_unique=True)
    chosen = _choose(common, n_samples, seed)
    w = np.empty((len(snaps), len(chosen)))
    for i, (pre, post, ws) in enumerate(snaps):
        w[i] = _lookup(_keys(pre, post, n_post), np.asarray(ws, np.float64), chosen)
    return chosen // n_post, chosen % n_post, w


def _choose(common, n_samples, seed):
    rng = np.random.default_rng(seed)
    m = min(int(n_samples), len(common))
    return np.sort(rng.choice(common, size=m, replace=False)) if m else common[:0]


def _lookup(keys, w, chosen):
    order = np.argsort(keys, kind="stable")
    pos = np.searchsorted(keys[order], chosen)
    return w[order[pos]]


# ----------------------------------------------------------------------------- strong-synapse graph

def strong_degrees(indptr, indices, weights, n_post, threshold) -> dict:
    """Degrees/strengths of the graph of synapses with |w| > threshold:
    {"out_degree" (n_pre,), "in_degree" (n_post,), "out_strength", "in_strength" (sums of |w|), "n_edges"}."""
    pre, post = csr_pairs(indptr, indices)
    a = np.abs(np.asarray(weights, dtype=np.float64).ravel())
    keep = a > threshold
    pre, post, a = pre[keep], post[keep], a[keep]
    n_pre = len(indptr) - 1
    return {"out_degree": np.bincount(pre, minlength=n_pre), "in_degree": np.bincount(post, minlength=n_post),
            "out_strength": np.bincount(pre, a, minlength=n_pre), "in_strength": np.bincount(post, a, minlength=n_post),
            "n_edges": int(keep.sum())}


def er_degrees(n_pre, n_post, n_edges, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """(out_degree, in_degree) of a directed Erdős–Rényi G(n_pre, n_post, m) graph with m distinct edges
    (self-pairs allowed when pre and post are the same population), drawn with ``default_rng(seed)``."""
    total = int(n_pre) * int(n_post)
    if n_edges > total:
        raise ValueError(f"er_degrees: {n_edges} edges do not fit {n_pre} x {n_post}")
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, total, int(n_edges * 1.1) + 16))
    while keys.size < n_edges:
        keys = np.unique(np.concatenate([keys, rng.integers(0, total, n_edges)]))
    keys = rng.choice(keys, n_edges, replace=False)
    return np.bincount(keys // n_post, minlength=n_pre), np.bincount(keys % n_post, minlength=n_post)


def _fit(deg, min_tail):
    try:
        return fit_power_law(deg, discrete=True, min_tail=min_tail)
    except ValueError:
        return None


def degree_analysis(indptr, indices, weights, n_post, threshold, seed=0, min_tail=10) -> dict:
    """:func:`strong_degrees` plus discrete power-law fits (``PowerLawFit`` or None when too few
    positive degrees) of in/out degree, and of a same-size Erdős–Rényi graph (``er_degrees``, ``seed``):
    keys ``fit_in``, ``fit_out``, ``er_in_degree``, ``er_out_degree``, ``er_fit_in``, ``er_fit_out``."""
    d = strong_degrees(indptr, indices, weights, n_post, threshold)
    er_out, er_in = er_degrees(len(indptr) - 1, n_post, d["n_edges"], seed)
    d.update(fit_in=_fit(d["in_degree"], min_tail), fit_out=_fit(d["out_degree"], min_tail),
             er_in_degree=er_in, er_out_degree=er_out,
             er_fit_in=_fit(er_in, min_tail), er_fit_out=_fit(er_out, min_tail))
    return d


# ----------------------------------------------------------------------------- RunFile wrappers

def run_snapshot(run, proj, k, trial=0):
    """Snapshot ``k`` of ``proj`` as (step, pre, post, w (n_syn,)); per-trial weights reduced to ``trial``."""
    step, indptr, indices, w = run.weights(proj, k)
    pre, post = csr_pairs(indptr, indices)
    return step, pre, post, _w1(w, trial)


def run_weight_histograms(run, proj, bins=50, range=None, trial=0):
    """(steps, edges, counts (n_snap, bins)) over all snapshots of ``proj`` (one snapshot in memory at a
    time; without ``range`` a first pass finds the global min/max)."""
    steps = run.weight_steps(proj)
    if range is None:
        lo, hi = math.inf, -math.inf
        for k in np.arange(len(steps)):
            w = run_snapshot(run, proj, int(k), trial)[3]
            if w.size:
                lo, hi = min(lo, w.min()), max(hi, w.max())
        range = (lo, hi) if lo < hi else ((lo - 0.5, lo + 0.5) if np.isfinite(lo) else (0.0, 1.0))
    edges = np.histogram_bin_edges([], bins=bins, range=range)
    counts = [np.histogram(run_snapshot(run, proj, k, trial)[3], bins=edges)[0] for k in np.arange(len(steps))]
    return np.array(steps), edges, np.array(counts).reshape(len(steps), len(edges) - 1)


def run_weight_summary(run, proj, trial=0) -> list[dict]:
    """:func:`weight_summary` of every snapshot, each with its ``step``."""
    out = []
    for k in np.arange(len(run.weight_steps(proj))):
        step, _, _, w = run_snapshot(run, proj, int(k), trial)
        out.append({"step": step, **weight_summary(w)})
    return out


def run_potentiation_fraction(run, proj, k0=0, k1=-1, tol=0.0, trial=0) -> dict:
    """:func:`potentiation_fraction` between snapshots ``k0`` and ``k1``."""
    _, p0, q0, w0 = run_snapshot(run, proj, k0, trial)
    _, p1, q1, w1 = run_snapshot(run, proj, k1, trial)
    return potentiation_fraction(p0, q0, w0, p1, q1, w1, tol)


def run_synapse_trajectories(run, proj, n_samples=100, seed=0, trial=0):
    """:func:`synapse_trajectories` over all snapshots of ``proj`` (two passes, one snapshot in memory):
    (steps, pre, post, w (n_snap, m))."""
    steps = run.weight_steps(proj)
    n_post = run.populations[run.projections[proj][1]]
    common = None
    for k in np.arange(len(steps)):
        _, pre, post, _ = run_snapshot(run, proj, int(k), trial)
        kk = np.unique(_keys(pre, post, n_post))
        common = kk if common is None else np.intersect1d(common, kk, assume_unique=True)
    if common is None:
        raise ValueError(f"{run.path}: projection {proj!r} has no weight snapshots")
    chosen = _choose(common, n_samples, seed)
    w = np.empty((len(steps), len(chosen)))
    for k in np.arange(len(steps)):
        _, pre, post, ws = run_snapshot(run, proj, int(k), trial)
        w[k] = _lookup(_keys(pre, post, n_post), ws, chosen)
    return np.array(steps), chosen // n_post, chosen % n_post, w


def run_degree_analysis(run, proj, threshold, seed=0, min_tail=10, trial=0) -> list[dict]:
    """:func:`degree_analysis` of every snapshot of ``proj``, each with its ``step``."""
    n_post = run.populations[run.projections[proj][1]]
    out = []
    for k in np.arange(len(run.weight_steps(proj))):
        step, indptr, indices, w = run.weights(proj, int(k))
        out.append({"step": step, **degree_analysis(indptr, indices, _w1(w, trial), n_post, threshold,
                                                     seed, min_tail)})
    return out
