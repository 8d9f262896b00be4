"""Figures from run files: spike raster and weight histograms (matplotlib, imported lazily)."""
from __future__ import annotations

import numpy as np


def _plt():
    try:
        import matplotlib
    except ImportError as e:  # pragma: no cover - the plots extra is part of the dev install
        raise ImportError("plotting needs matplotlib: pip install 'neurokit-bdh[plots]'") from e
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def raster_png(run, pop: str, path, t_max: float | None = None, max_neurons: int = 500, trial: int = 0,
               is_exc: np.ndarray | None = None) -> None:
    """Spike raster of ``pop`` (at most ``max_neurons`` evenly spaced neurons) up to ``t_max`` seconds, with
    the population rate below it."""
    plt = _plt()
    size, dt = run.populations[pop], run.dt
    t_max = run.steps_done * dt if t_max is None else t_max
    keep = np.unique(np.linspace(0, size - 1, min(size, max_neurons)).round().astype(np.int64))
    rank = np.full(size, -1)
    rank[keep] = np.arange(len(keep))
    ts, ns, es, counts = [], [], [], np.zeros(max(int(t_max / 1e-3), 1))
    for tr, n, s in run.iter_spikes(pop):
        sel = (tr == trial) & (s * dt < t_max)
        n, s = n[sel], s[sel]
        np.add.at(counts, np.minimum((s * dt / 1e-3).astype(int), len(counts) - 1), 1)
        m = rank[n] >= 0
        ts.append(s[m] * dt), ns.append(rank[n[m]])
        es.append(is_exc[n[m]] if is_exc is not None else np.ones(m.sum(), bool))
    t, r, e = (np.concatenate(a) if a else np.zeros(0) for a in (ts, ns, es))
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    e = e.astype(bool)
    ax.scatter(t[e], r[e], s=1, c="tab:blue", marker="|", label="excitatory", rasterized=True)
    if (~e).any():
        ax.scatter(t[~e], r[~e], s=1, c="tab:red", marker="|", label="inhibitory", rasterized=True)
        ax.legend(loc="upper right", markerscale=8, fontsize=8)
    ax.set_ylabel(f"neuron ({len(keep)} of {size})")
    ax.set_title(f"{pop}: spike raster")
    ax2.plot(np.arange(len(counts)) * 1e-3, counts / (size * 1e-3), lw=0.7, c="k")
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel("rate (Hz)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def weight_histograms_png(run, proj: str, path, snapshots: list[int] | None = None, trial: int = 0,
                          exc_only: bool = True) -> None:
    """Histograms of a projection's weights at several snapshots (default: first and last)."""
    plt = _plt()
    steps = run.weight_steps(proj)
    if not steps:
        raise ValueError(f"{run.path}: projection {proj!r} has no weight snapshots; record them with "
                         f"[[record.weights]] projection = {proj!r}")
    ks = snapshots if snapshots is not None else sorted({0, len(steps) - 1})
    fig, ax = plt.subplots(figsize=(7, 4))
    for k in ks:
        step, _, _, w = run.weights(proj, k)
        w = np.atleast_2d(w)[trial]
        if exc_only:
            w = w[w > 0]
        ax.hist(w, bins=60, histtype="step", lw=1.5, label=f"t = {step * run.dt:.2f} s")
    ax.set_xlabel("weight" + (" (excitatory synapses)" if exc_only else ""))
    ax.set_ylabel("synapses")
    ax.set_title(f"{proj}: weight distribution")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
