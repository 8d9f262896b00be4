"""``neurokit analyse``: every statistic of a run file in one call -> metrics.json, PNG plots, report.html.

Spikes are streamed (one pass per population, :mod:`.stream`); weight snapshots are read one or two at
a time. Everything is computed before anything is written, so bad input leaves nothing on disk.

>>> # analyse("run.h5", "out/analysis")  -> dict of metrics; files in out/analysis
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import heavy_tail as H
from . import spikes as S
from .stream import OutOfOrder, SpikePassConfig, spike_pass
from .weights import BC_UNIFORM, bimodality_coefficient, csr_pairs, er_degrees, potentiation_fraction, \
    run_synapse_trajectories, strong_degrees

__all__ = ["analyse", "is_bimodal", "select_data", "SBM_LAYERS"]

LOUVAIN_MAX_EDGES = 10_000      # larger strong graphs: Louvain on the subgraph induced by sampled nodes
MAX_XMIN_CANDIDATES = 100       # xmin candidates (evenly spaced in rank) for weights and strengths
TAIL_MAX_VALUES = 20_000        # heavy-tail tests of |w| on a seeded random subsample of this many weights
SBM_LAYERS = ("snapshots", "ei")  # multi-layer SBM layers: weight snapshots over time, or E and I sub-graphs


# ----------------------------------------------------------------------------- input checks

def select_data(run, pops=None, projs=None) -> tuple[list[str], list[str]]:
    """Populations (with spikes) and projections (with weight snapshots) to analyse; explicit names
    that are unknown or lack the recorded data raise one ValueError naming them."""
    where = run.path
    if pops is None:
        pops = [p for p in run.populations if run.n_events(p) > 0]
    else:
        for p in pops:
            if p not in run.populations:
                raise ValueError(f"{where}: no population {p!r} (populations: {', '.join(run.populations)})")
            if run.n_events(p) == 0:
                raise ValueError(f"{where}: population {p!r} has no recorded spikes; record them with "
                                 f"[record] spikes = [{p!r}]")
    if projs is None:
        projs = [q for q in run.projections if run.weight_steps(q)]
    else:
        for q in projs:
            if q not in run.projections:
                raise ValueError(f"{where}: no projection {q!r} (projections: {', '.join(run.projections) or 'none'})")
            if not run.weight_steps(q):
                raise ValueError(f"{where}: projection {q!r} has no weight snapshots; record them with "
                                 f"[[record.weights]] projection = {q!r}")
    if not pops and not projs:
        raise ValueError(f"{where}: the run has no recorded spikes or weight snapshots to analyse")
    if run.steps_done < 1:
        raise ValueError(f"{where}: no completed steps (steps_done = 0); nothing to analyse")
    return list(pops), list(projs)


# ----------------------------------------------------------------------------- helpers

def is_bimodal(w, bins: int = 100) -> tuple[bool, float, int]:
    """(bimodal, BC, modes): Sarle's coefficient above 5/9 AND at least two modes of a Gaussian KDE
    (Silverman bandwidth), each >= 5 % of the highest with a prominence >= 25 % of its height. BC alone also flags strongly
    skewed unimodal data (e.g. log-normal), hence the mode count."""
    from scipy.signal import find_peaks
    from scipy.stats import gaussian_kde

    w = np.asarray(w, np.float64)
    if w.size < 4 or np.all(w == w[0]):
        return False, math.nan, 1
    bc = bimodality_coefficient(w)
    sample = w if w.size <= 20000 else np.random.default_rng(0).choice(w, 20000, replace=False)
    grid = np.linspace(w.min(), w.max(), bins)
    d = gaussian_kde(sample, bw_method="silverman")(grid)
    d = np.concatenate([[0.0], d, [0.0]])
    peaks, props = find_peaks(d, prominence=0.0)
    # a mode counts if it is >= 5 % of the highest and stands out by >= 25 % of its own height
    # (the sampling wiggles of a flat density do not)
    keep = (d[peaks] >= 0.05 * d.max()) & (props["prominences"] >= 0.25 * d[peaks])
    modes = max(int(keep.sum()), 1)
    return bool(bc > BC_UNIFORM and modes >= 2), float(bc), modes


def _nan(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _f(x):
    x = float(x)
    return x if math.isfinite(x) else None


def _fit_dict(f: H.PowerLawFit | None):
    return None if f is None else {"alpha": _f(f.alpha), "xmin": _f(f.xmin), "ks": _f(f.ks),
                                   "n_tail": f.n_tail, "sigma": _f(f.sigma)}


def _try_fit(x, discrete=True):
    try:
        return H.fit_power_law(x, discrete, min_tail=10, max_candidates=MAX_XMIN_CANDIDATES)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- spikes

def _analyse_pop(run, pop, cfg, progress):
    size = run.populations[pop]
    try:
        is_exc = run.population_data(pop, "is_exc").astype(bool)
    except ValueError:
        is_exc = None
    try:
        r = spike_pass(run, pop, cfg, is_exc, progress)
        streamed = True
    except OutOfOrder:                      # not in time order: load this population's spikes (array functions)
        r = _loaded_pass(run, pop, cfg, is_exc)
        streamed = False
    rates = r["rates"]
    m = {"size": size, "n_spikes": r["n_spikes"], "streamed": streamed,
         "rate_hz": {"mean": _f(rates.mean()), "median": _f(np.median(rates)), "std": _f(rates.std()),
                     "max": _f(rates.max()), "silent_fraction": _f((rates.sum(0) == 0).mean())},
         "cv_isi": {"mean": _f(np.nanmean(r["cv"])) if np.isfinite(r["cv"]).any() else None,
                    "median": _f(np.nanmedian(r["cv"])) if np.isfinite(r["cv"]).any() else None,
                    "n_neurons": int(np.isfinite(r["cv"]).sum())},
         "lv_isi": {"mean": _f(np.nanmean(r["lv"])) if np.isfinite(r["lv"]).any() else None},
         "fano": {f"{w:g}s": (_f(np.nanmean(ff)) if np.isfinite(ff).any() else None)
                  for w, ff in zip(r["fano_windows_s"], r["fano"])},
         "chi2_synchrony": _f(r["chi2"]), "sync_bin_s": cfg.sync_bin_s,
         "count_correlation": {"bin_s": cfg.sync_bin_s, "n_pairs": int(len(r["rho"])),
                               "mean": _f(np.nanmean(r["rho"])) if np.isfinite(r["rho"]).any() else None,
                               "std": _f(np.nanstd(r["rho"])) if np.isfinite(r["rho"]).any() else None},
         "sttc": {"delta_s": _f(r["sttc_delta_s"]), "n_pairs": int(len(r["sttc"])),
                  "n_valid": int(np.isfinite(r["sttc"]).sum()),
                  "mean": _f(np.nanmean(r["sttc"])) if np.isfinite(r["sttc"]).any() else None,
                  "std": _f(np.nanstd(r["sttc"])) if np.isfinite(r["sttc"]).any() else None},
         "bursts": {"max_isi_s": cfg.burst_max_isi_s, "min_spikes": cfg.burst_min_spikes,
                    "total": int(r["bursts_per_neuron"].sum()),
                    "rate_hz_per_neuron": _f(r["bursts_per_neuron"].sum() / (size * run.n_trials * run.steps_done * run.dt)),
                    "mean_spikes": _f(r["burst_spikes"] / r["bursts_per_neuron"].sum())
                    if r["bursts_per_neuron"].sum() else None}}
    if is_exc is not None and is_exc.any() and (~is_exc).any():
        m["rate_hz"]["excitatory"] = _f(rates[:, is_exc].mean())
        m["rate_hz"]["inhibitory"] = _f(rates[:, ~is_exc].mean())
    r["is_exc"] = is_exc
    return m, r


def _loaded_pass(run, pop, cfg, is_exc):
    """The same results as the streamed pass from the loading array functions (files not in time order)."""
    t, n, s = S._all(run, pop)
    N, T, n_steps, dt = run.populations[pop], run.n_trials, run.steps_done, run.dt
    arr = dict(n_neurons=N, n_trials=T, n_steps=n_steps, dt=dt)
    rb = cfg.rate_bin_s if cfg.rate_bin_s is not None else max(n_steps * dt / 1000, dt)
    edges, pr = S.population_rate(t, s, N, T, n_steps, dt, rb)
    isis = np.concatenate(S.isi(t, n, s, N, dt)) if s.size else np.zeros(0)
    isi_edges = np.geomspace(dt, max(n_steps * dt, 2 * dt), cfg.isi_bins + 1)
    pairs, rho = S.count_correlation(t, n, s, **arr, bin_s=cfg.sync_bin_s, n_pairs=cfg.n_pairs, seed=cfg.seed) \
        if N >= 2 else (np.zeros((0, 2), np.int64), np.zeros(0))
    col = S.SttcCollector(pairs, N, T, n_steps, dt, cfg.sttc_dt_s)
    col.add(t, n, s)
    b = S.detect_bursts(t, n, s, N, dt, cfg.burst_max_isi_s, cfg.burst_min_spikes)
    keep = np.unique(np.linspace(0, N - 1, min(N, cfg.raster_neurons)).round().astype(np.int64))
    rank = np.full(N, -1)
    rank[keep] = np.arange(len(keep))
    tw = min(n_steps * dt, 2.0) if cfg.raster_t_s is None else cfg.raster_t_s
    sel = (t == 0) & (rank[n] >= 0) & (s * dt < tw)
    sel &= np.cumsum(sel) <= cfg.raster_max_points
    return {"rates": S.spike_rates(t, n, s, **arr), "cv": S.cv_isi(t, n, s, N), "lv": S.lv_isi(t, n, s, N),
            "isi_edges_s": isi_edges, "isi_hist": np.histogram(isis, bins=isi_edges)[0],
            "pop_rate_edges_s": edges, "pop_rate": pr, "fano_windows_s": np.array(cfg.fano_windows_s, float),
            "fano": S.fano_factor(t, n, s, **arr, windows_s=list(cfg.fano_windows_s))[2],
            "chi2": S.chi_synchrony(t, n, s, **arr, bin_s=cfg.sync_bin_s), "pairs": pairs, "rho": rho,
            "sttc": col.finish(), "sttc_delta_s": col.delta_s,
            "bursts_per_neuron": b.per_neuron, "burst_spikes": int(b.n_spikes.sum()),
            "raster_t": s[sel] * dt, "raster_rank": rank[n[sel]], "raster_neuron": n[sel],
            "raster_n": len(keep), "raster_window_s": tw, "n_spikes": int(t.size)}


# ----------------------------------------------------------------------------- weights

def _w1(w):
    w = np.asarray(w)
    return (w[0] if w.ndim == 2 else w).astype(np.float64, copy=False)


def _analyse_proj(run, proj, n_boot, seed, max_graph_nodes, strong_frac, progress, sbm_layers="snapshots"):
    pre_pop, post_pop = run.projections[proj]
    n_pre, n_post = run.populations[pre_pop], run.populations[post_pop]
    is_exc = None
    if sbm_layers == "ei" and pre_pop == post_pop:
        try:
            is_exc = np.asarray(run.population_data(pre_pop, "is_exc")).astype(bool).ravel()
        except ValueError as e:
            raise ValueError(f"sbm_layers='ei' (E and I sub-graphs) needs the excitatory mask of population "
                             f"{pre_pop!r}: {e}") from None
        if is_exc.size != n_pre:
            raise ValueError(f"{run.path}: populations/{pre_pop}/is_exc has {is_exc.size} entries, "
                             f"expected {n_pre} (one per neuron)")
    steps = run.weight_steps(proj)
    S_ = len(steps)
    dt = run.dt
    # pass 1: range and sign of the weights
    lo, hi, amax, mixed = math.inf, -math.inf, 0.0, False
    for k in range(S_):
        w = _w1(run.weights(proj, k)[3])
        if w.size:
            lo, hi, amax = min(lo, w.min()), max(hi, w.max()), max(amax, np.abs(w).max())
            mixed |= bool((w < 0).any() and (w > 0).any())
    if not math.isfinite(lo):
        lo, hi = 0.0, 1.0
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, 61)
    thr = strong_frac * amax
    hist_ks = sorted(set(np.linspace(0, S_ - 1, min(S_, 5)).round().astype(int).tolist()))
    layer_ks = sorted(set(np.linspace(0, S_ - 1, min(S_, 4)).round().astype(int).tolist()))
    rng = np.random.default_rng(seed)
    square = pre_pop == post_pop
    sub = np.sort(rng.choice(n_pre, min(n_pre, max_graph_nodes), replace=False)) if square else None
    snaps, hists, degs, layers, prev = [], [], [], [], None
    ccdf_data = {}
    it = range(S_)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, desc=f"weights {proj}", unit="snapshot", leave=False)
    for k in it:
        step, indptr, indices, w = run.weights(proj, k)
        w = _w1(w)
        pre, post = csr_pairs(indptr, indices)
        wb = w[w > 0] if mixed else w                          # Dale's law: bimodality of excitatory weights
        bim, bc, modes = is_bimodal(wb) if wb.size >= 4 else (False, math.nan, 0)
        row = {"step": int(step), "t_s": step * dt, "n_syn": int(w.size), "mean": _f(w.mean()) if w.size else None,
               "total": _f(w.sum()), "std": _f(w.std()) if w.size else None,
               "bimodality_coefficient": _f(bc), "kde_modes": modes, "bimodal": bim}
        if prev is not None:
            pf = potentiation_fraction(*prev, pre, post, w)
            row.update(potentiated=_f(pf["potentiated"]), depressed=_f(pf["depressed"]), n_matched=pf["n_matched"])
        if k in hist_ks:
            hists.append((step * dt, np.histogram(w, bins=edges)[0]))
        d = strong_degrees(indptr, indices, w, n_post, thr)
        er_out, er_in = er_degrees(n_pre, n_post, d["n_edges"], seed + k)
        fits = {name: _try_fit(x) for name, x in (("out", d["out_degree"]), ("in", d["in_degree"]),
                                                  ("er_out", er_out), ("er_in", er_in))}
        fits["out_strength"] = _try_fit(d["out_strength"], discrete=False)
        degs.append({"step": int(step), "n_edges": d["n_edges"],
                     "mean_out_degree": _f(d["out_degree"].mean()),
                     "max_in_degree": int(d["in_degree"].max(initial=0)),
                     "max_out_degree": int(d["out_degree"].max(initial=0)),
                     **{f"fit_{name}": _fit_dict(f) for name, f in fits.items()}})
        if k in (0, S_ - 1):
            ccdf_data[k] = {"t_s": step * dt, "out": d["out_degree"], "in": d["in_degree"], "er_out": er_out,
                            "er_in": er_in, "fits": fits}
        if square and sbm_layers == "snapshots" and k in layer_ks:
            keep = np.abs(w) > thr
            pos = np.full(n_pre, -1)
            pos[sub] = np.arange(sub.size)
            m2 = keep & (pos[pre] >= 0) & (pos[post] >= 0)
            from .communities import undirected_adjacency
            layers.append(undirected_adjacency(pos[pre[m2]], pos[post[m2]], sub.size))
        if k == S_ - 1:
            last = (pre, post, w, d)
        snaps.append(row)
        prev = (pre, post, w)
    pre, post, w, d = last
    m = {"pre": pre_pop, "post": post_pop, "n_snapshots": S_, "strong_threshold": _f(thr),
         "strong_threshold_rule": f"|w| > {strong_frac:g} x max |w| over all snapshots",
         "snapshots": snaps, "strong_graph": degs}
    if S_ >= 2:
        _, p0, q0, w0 = (lambda s: (s[0], *csr_pairs(s[1], s[2]), _w1(s[3])))(run.weights(proj, 0))
        pf = potentiation_fraction(p0, q0, w0, pre, post, w)
        m["first_to_last"] = {k: _f(v) if isinstance(v, float) else v for k, v in pf.items()}
    # heavy tail of the final |weights| and of the final strong out-degree
    aw = np.abs(w[w != 0])
    n_aw = aw.size
    if aw.size > TAIL_MAX_VALUES:
        aw = np.random.default_rng(seed).choice(aw, TAIL_MAX_VALUES, replace=False)
    m["heavy_tail"] = {}
    tails = {}
    for name, x, disc in (("abs_weight", aw, False), ("out_degree", d["out_degree"], True)):
        f = _try_fit(x, disc)
        if f is None:
            m["heavy_tail"][name] = None
            continue
        c = H.compare_tails(x, f)
        p = H.bootstrap_gof(x, f, n_boot=n_boot, seed=seed, max_candidates=MAX_XMIN_CANDIDATES) if n_boot > 0 else None
        tails[name] = c
        m["heavy_tail"][name] = {**_fit_dict(f), "gof_p": p, "n_boot": n_boot, "n_values": int(x.size),
                                 "subsampled_from": n_aw if name == "abs_weight" and n_aw > x.size else None,
                                 "lognormal": {"mu": _f(c.mu), "sigma": _f(c.sigma)}, "exponential_lambda": _f(c.lam),
                                 "vs_lognormal": {"R": _f(c.vs_lognormal.R), "p": _nan(c.vs_lognormal.p)},
                                 "vs_exponential": {"R": _f(c.vs_exponential.R), "p": _nan(c.vs_exponential.p)},
                                 "verdict": c.verdict()}
    st = run.structural(proj)
    if len(st["step"]):
        b, dd = np.asarray(st["births"]), np.asarray(st["deaths"])
        m["structural"] = {"rows": int(len(st["step"])), "births": int(b.sum()), "deaths": int(dd.sum()),
                           "net": int(b.sum() - dd.sum())}
    traj = run_synapse_trajectories(run, proj, n_samples=40, seed=seed)
    comm = None
    if square and d["n_edges"] > 0:
        sbm = _snapshot_sbm(layers) if sbm_layers == "snapshots" else \
            _ei_sbm(pre, post, w, is_exc, sub, strong_frac)
        comm = _communities(pre, post, w, thr, n_pre, sub, seed, sbm)
        m["communities"] = comm
    elif not square:
        m["communities"] = {"skipped": f"pre ({pre_pop}) and post ({post_pop}) differ; communities need a "
                                       "recurrent projection"}
    plot = {"edges": edges, "hists": hists, "ccdf": ccdf_data, "traj": traj, "dt": dt, "snaps": snaps,
            "structural": st, "tails": tails, "mixed": mixed}
    return m, plot


def _snapshot_sbm(layers):
    return {"mode": "snapshots", "layers": layers, "groups": None,
            "desc": "strong-synapse graphs of up to 4 snapshots over time"}


def _ei_sbm(pre, post, w, is_exc, sub, strong_frac):
    """Layers = the excitatory and the inhibitory strong-synapse sub-graphs of the last snapshot on the
    sampled nodes; each layer has its own strong threshold (strong_frac x its largest |w|), since I weights
    are often several times larger than E weights and one threshold would empty the E layer."""
    from .communities import undirected_adjacency

    if is_exc.all() or not is_exc.any():
        kind = "excitatory" if is_exc.all() else "inhibitory"
        return {"mode": "ei", "skipped": f"every neuron of the population is {kind} (is_exc); E and I "
                                         "sub-graphs need both"}
    pos = np.full(is_exc.size, -1)
    pos[sub] = np.arange(sub.size)
    inside = (pos[pre] >= 0) & (pos[post] >= 0)
    layers, thrs = [], {}
    for name, from_e in (("E", True), ("I", False)):
        m = is_exc[pre] == from_e
        t = strong_frac * float(np.abs(w[m]).max(initial=0.0))
        keep = m & inside & (np.abs(w) > t)
        thrs[name] = _f(t)
        layers.append(undirected_adjacency(pos[pre[keep]], pos[post[keep]], sub.size))
    return {"mode": "ei", "layers": layers, "groups": is_exc[sub].astype(np.int64), "thresholds": thrs,
            "desc": "excitatory and inhibitory strong-synapse sub-graphs of the last snapshot "
                    "(|w| > strong_frac x the layer's max |w|); blocks fitted per (community, E/I type)"}


def _communities(pre, post, w, thr, n, sub, seed, sbm):
    from .communities import louvain, mlsbm_select

    keep = np.abs(w) > thr
    u, v, ww = pre[keep], post[keep], w[keep]
    if u.size > LOUVAIN_MAX_EDGES:          # networkx Louvain is pure Python: induced subgraph of sampled nodes
        chosen = np.random.default_rng(seed).random(n) < math.sqrt(LOUVAIN_MAX_EDGES / u.size)
        sel = chosen[u] & chosen[v]
        relabel = np.cumsum(chosen) - 1
        u, v, ww, n = relabel[u[sel]], relabel[v[sel]], ww[sel], int(chosen.sum())
    lv = louvain(u, v, ww, n_nodes=n, seed=seed)
    out = {"louvain": {"n_nodes": lv.n_nodes, "n_edges": lv.n_edges, "n_communities": lv.n_communities,
                       "modularity": _f(lv.modularity), "largest_sizes": lv.sizes[:10],
                       "baseline_modularity": _f(lv.baseline_modularity),
                       "baseline_n_communities": lv.baseline_n_communities}}
    layers = sbm.get("layers")
    if "skipped" in sbm:
        out["multilayer_sbm"] = {"layer_mode": sbm["mode"], "skipped": sbm["skipped"]}
    elif layers and sub.size >= 10 and sum(a.sum() for a in layers) > 0:
        r = mlsbm_select(layers, k_max=6, seed=seed, groups=sbm["groups"])
        out["multilayer_sbm"] = {"layer_mode": sbm["mode"], "layers": sbm["desc"], "n_layers": len(layers),
                                 "n_nodes": int(sub.size), "k_hat": r.k_hat, "stats": [_f(x) for x in r.stats],
                                 "threshold": _f(r.threshold), "baseline_k_hat": r.baseline_k_hat,
                                 "baseline_stats": [_f(x) for x in r.baseline_stats]}
        if "thresholds" in sbm:
            out["multilayer_sbm"]["layer_thresholds"] = sbm["thresholds"]
    return out


# ----------------------------------------------------------------------------- entry point

def analyse(path, outdir=None, *, pops=None, projs=None, n_boot: int = 50, seed: int = 0,
            max_graph_nodes: int = 300, strong_frac: float = 0.5, cfg: SpikePassConfig | None = None,
            progress: bool = False, plots: bool = True, sbm_layers: str = "snapshots") -> dict:
    """Analyse a run file; with ``outdir`` write metrics.json, PNG plots and report.html there.
    Returns the metrics dict (what metrics.json holds). ``sbm_layers``: layers of the multi-layer SBM of
    a recurrent projection: "snapshots" (strong-synapse graphs of up to 4 weight snapshots over time) or
    "ei" (excitatory and inhibitory sub-graphs of the last snapshot; needs population data "is_exc")."""
    from ..io.runfile import open_run

    t0 = time.perf_counter()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such run file")
    cfg = cfg or SpikePassConfig(seed=seed)
    if not 0 < strong_frac < 1:
        raise ValueError(f"strong_frac must be in (0, 1), got {strong_frac!r}")
    if sbm_layers not in SBM_LAYERS:
        raise ValueError(f"sbm_layers must be one of {', '.join(SBM_LAYERS)}, got {sbm_layers!r}")
    with open_run(path) as run:
        pops, projs = select_data(run, pops, projs)
        summary = run.summary()
        metrics = {"run": {k: summary[k] for k in ("path", "status", "seed", "dt", "n_steps", "steps_done",
                                                    "n_trials", "duration_s")},
                   "config": {**{k: v for k, v in asdict(cfg).items()}, "n_boot": n_boot,
                              "strong_frac": strong_frac, "max_graph_nodes": max_graph_nodes,
                              "sbm_layers": sbm_layers},
                   "populations": {}, "projections": {}}
        spec = run.spec
        pop_data, proj_data = {}, {}
        for p in pops:
            metrics["populations"][p], pop_data[p] = _analyse_pop(run, p, cfg, progress)
        for q in projs:
            metrics["projections"][q], proj_data[q] = _analyse_proj(run, q, n_boot, seed, max_graph_nodes,
                                                                    strong_frac, progress, sbm_layers)
        dt = run.dt
    metrics["wall_s"] = time.perf_counter() - t0
    if outdir is not None:
        _write(Path(outdir), metrics, spec, pop_data, proj_data, dt, plots)
    return metrics


def _write(out: Path, metrics, spec, pop_data, proj_data, dt, plots):
    from . import plots as P
    from .report import write_report

    out.mkdir(parents=True, exist_ok=True)
    figs = []
    if plots:
        for p, r in pop_data.items():
            figs += [(f"{p}: spike raster", P.raster_from_points(r, p, out / f"raster_{p}.png")),
                     (f"{p}: population rate", P.population_rate_png(r, p, out / f"pop_rate_{p}.png")),
                     (f"{p}: firing-rate histogram", P.rate_histogram_png(r, p, out / f"rates_{p}.png")),
                     (f"{p}: ISI distribution and CV", P.isi_cv_png(r, p, out / f"isi_cv_{p}.png"))]
        for q, d in proj_data.items():
            figs += [(f"{q}: weight histograms over time", P.weight_hists_png(d, q, out / f"weights_{q}.png")),
                     (f"{q}: strong-synapse degree CCDF", P.degree_ccdf_png(d, q, out / f"degree_ccdf_{q}.png")),
                     (f"{q}: sampled weight trajectories", P.trajectories_png(d, q, out / f"trajectories_{q}.png")),
                     (f"{q}: mean and total weight", P.weight_summary_png(d, q, out / f"weight_summary_{q}.png"))]
    metrics["figures"] = [f.name for _, f in figs]
    tmp = out / "metrics.json.tmp"
    tmp.write_text(json.dumps(_jsonable(metrics), indent=2, allow_nan=False))
    os.replace(tmp, out / "metrics.json")
    write_report(out / "report.html", metrics, spec, figs)


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, (np.bool_,)):
        return bool(x)
    return x
