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


# ----------------------------------------------------------------------------- figures of `neurokit analyse`
# These draw from what analyse() computed (streamed); none of them reads the run file again.

def _save(fig, path, plt):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def raster_from_points(r: dict, pop: str, path):
    """Raster of the sampled neurons (trial 0, first ``raster_window_s``) collected by the spike pass."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.2))
    exc = r.get("is_exc")
    e = exc[r["raster_neuron"]] if exc is not None else np.ones(r["raster_t"].size, bool)
    ax.scatter(r["raster_t"][e], r["raster_rank"][e], s=2, c="tab:blue", marker="|", label="excitatory",
               rasterized=True)
    if exc is not None and (~e).any():
        ax.scatter(r["raster_t"][~e], r["raster_rank"][~e], s=2, c="tab:red", marker="|", label="inhibitory",
                   rasterized=True)
        ax.legend(loc="upper right", markerscale=6, fontsize=8)
    ax.set_xlim(0, r["raster_window_s"])
    ax.set_ylim(-0.5, r["raster_n"] - 0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"neuron ({r['raster_n']} of {r['rates'].shape[1]})")
    ax.set_title(f"{pop}: spike raster, trial 0, first {r['raster_window_s']:g} s")
    return _save(fig, path, plt)


def population_rate_png(r: dict, pop: str, path):
    plt = _plt()
    e, pr = r["pop_rate_edges_s"], r["pop_rate"]
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(0.5 * (e[1:] + e[:-1]), pr.mean(0), lw=0.8, c="k")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("rate (Hz)")
    ax.set_title(f"{pop}: population rate (trial mean, {1e3 * (e[1] - e[0]):.3g} ms bins)")
    return _save(fig, path, plt)


def rate_histogram_png(r: dict, pop: str, path):
    plt = _plt()
    rates = r["rates"].mean(0)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    exc = r.get("is_exc")
    bins = np.linspace(0, max(rates.max(), 1e-9), 40)
    if exc is not None and exc.any() and (~exc).any():
        ax.hist([rates[exc], rates[~exc]], bins=bins, color=["tab:blue", "tab:red"], label=["excitatory", "inhibitory"],
                histtype="stepfilled", alpha=0.6)
        ax.legend(fontsize=8)
    else:
        ax.hist(rates, bins=bins, color="tab:blue")
    ax.set_xlabel("firing rate (Hz)")
    ax.set_ylabel("neurons")
    ax.set_title(f"{pop}: rate histogram (mean {rates.mean():.2f} Hz)")
    return _save(fig, path, plt)


def isi_cv_png(r: dict, pop: str, path):
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    e, h = r["isi_edges_s"], r["isi_hist"]
    dens = h / np.maximum(np.diff(e), 1e-300) / max(h.sum(), 1)
    a1.step(e[:-1], dens, where="post", c="k")
    a1.set_xscale("log")
    a1.set_yscale("log")
    a1.set_xlabel("ISI (s)")
    a1.set_ylabel("density (1/s)")
    a1.set_title("ISI distribution")
    cv = r["cv"][np.isfinite(r["cv"])]
    a2.hist(cv, bins=40, color="tab:green")
    a2.axvline(1.0, c="k", ls="--", lw=0.8, label="Poisson")
    a2.set_xlabel("CV of ISI")
    a2.set_ylabel("neurons")
    a2.set_title(f"CV (mean {cv.mean():.2f})" if cv.size else "CV (no neuron with 2 ISIs)")
    a2.legend(fontsize=8)
    return _save(fig, path, plt)


def weight_hists_png(d: dict, proj: str, path):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    e = d["edges"]
    cmap = plt.get_cmap("viridis")
    for i, (t, c) in enumerate(d["hists"]):
        ax.step(e[:-1], c, where="post", color=cmap(i / max(len(d["hists"]) - 1, 1)), lw=1.4, label=f"t = {t:.3g} s")
    ax.set_xlabel("weight")
    ax.set_ylabel("synapses")
    ax.set_title(f"{proj}: weight distribution over time")
    ax.legend(fontsize=8)
    return _save(fig, path, plt)


def degree_ccdf_png(d: dict, proj: str, path):
    """Degree CCDFs (log-log) of the first and last strong-synapse graph with power-law fits, next to the
    same-size Erdős–Rényi baseline."""
    from .heavy_tail import ccdf

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, kind in zip(axes, ("out", "in")):
        for k, c in sorted(d["ccdf"].items()):
            x = c[kind][c[kind] > 0]
            if x.size:
                v, p = ccdf(x)
                ln, = ax.loglog(v, p, "o", ms=3, label=f"t = {c['t_s']:.3g} s")
                f = c["fits"][kind]
                if f is not None:
                    frac = (x >= f.xmin).mean()
                    xs = np.geomspace(f.xmin, v.max(), 50)
                    ax.loglog(xs, frac * (xs / f.xmin) ** (1 - f.alpha), "-", c=ln.get_color(), lw=1,
                              label=f"fit α = {f.alpha:.2f}, xmin = {f.xmin:g}")
            xe = c["er_" + kind][c["er_" + kind] > 0]
            if xe.size and k == max(d["ccdf"]):
                v, p = ccdf(xe)
                ax.loglog(v, p, "--", c="gray", lw=1, label="random baseline (same n, m)")
        ax.set_xlabel(f"{kind}-degree (strong synapses)")
        ax.set_ylabel("P(X ≥ x)")
        ax.set_title(f"{proj}: {kind}-degree CCDF")
        ax.legend(fontsize=7)
    return _save(fig, path, plt)


def trajectories_png(d: dict, proj: str, path):
    plt = _plt()
    steps, _, _, w = d["traj"]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    if w.size:
        ax.plot(np.asarray(steps) * d["dt"], w, lw=0.8, alpha=0.7)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("weight")
    ax.set_title(f"{proj}: {w.shape[1]} sampled synapse trajectories")
    return _save(fig, path, plt)


def weight_summary_png(d: dict, proj: str, path):
    plt = _plt()
    s = d["snaps"]
    t = [r["t_s"] for r in s]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(t, [r["mean"] for r in s], "o-", c="k")
    a1.set_xlabel("time (s)")
    a1.set_ylabel("mean weight")
    a2.plot(t, [r["total"] for r in s], "o-", c="tab:purple", label="total weight")
    a2.set_xlabel("time (s)")
    a2.set_ylabel("total weight")
    st = d["structural"]
    if len(st["step"]):
        ax3 = a2.twinx()
        b = np.asarray(st["births"]).reshape(len(st["step"]), -1).sum(1)
        de = np.asarray(st["deaths"]).reshape(len(st["step"]), -1).sum(1)
        ax3.step(np.asarray(st["step"]) * d["dt"], np.cumsum(b), c="tab:green", where="post", label="births (cum.)")
        ax3.step(np.asarray(st["step"]) * d["dt"], np.cumsum(de), c="tab:red", where="post", label="deaths (cum.)")
        ax3.set_ylabel("synapses")
        ax3.legend(fontsize=7, loc="lower right")
    a1.set_title(f"{proj}: mean weight")
    a2.set_title(f"{proj}: total weight" + (", births/deaths" if len(st["step"]) else ""))
    return _save(fig, path, plt)
