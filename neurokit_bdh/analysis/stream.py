"""One streamed pass over a population's spikes that computes every spike statistic of the report.

Engines write spikes in time order (non-decreasing step), so a chunk of events only continues the trains
of earlier chunks: per train the pass carries the last spike step, the last ISI and the length of the
current run of short ISIs; binned counts are finished once a later step has been seen and only the bin
still open is carried to the next chunk. Memory is O(n_trials * n_neurons + bins + chunk), never all
spikes. The numbers equal those of the array functions in :mod:`neurokit_bdh.analysis.spikes`
(rates, population rate, CV, LV, Fano factor, chi**2 synchrony, count correlation, STTC, bursts), which
the tests check. A file whose events are not in time order raises :class:`OutOfOrder`; callers fall
back to the loading functions of :mod:`~neurokit_bdh.analysis.spikes` then.

Depends on numpy only.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .spikes import SttcCollector, _bin_steps, _sample_pairs

__all__ = ["SpikePassConfig", "SpikePass", "OutOfOrder", "spike_pass"]


class OutOfOrder(ValueError):
    """The spike events of a population are not stored in non-decreasing step order."""


@dataclass(frozen=True)
class SpikePassConfig:
    """What the pass computes; times in seconds."""
    rate_bin_s: float | None = None            # population-rate bin; None: duration / 1000, at least dt
    fano_windows_s: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0)
    sync_bin_s: float = 0.01                   # chi**2 synchrony and pairwise count correlation bin
    n_pairs: int = 100                         # sampled neuron pairs for count correlation and STTC
    sttc_dt_s: float = 0.005                   # spike time tiling coefficient window +-dt (whole steps)
    burst_max_isi_s: float = 0.01              # bursts: runs of ISIs <= this ...
    burst_min_spikes: int = 3                  # ... with at least this many spikes
    isi_bins: int = 60                         # log-spaced ISI histogram bins from dt to the duration
    raster_neurons: int = 300                  # neurons shown in the raster (evenly spaced)
    raster_t_s: float | None = None            # raster window [0, t); None: min(duration, 2 s)
    raster_max_points: int = 300_000
    seed: int = 0
    chunk: int = 1_000_000


@dataclass
class _Binned:
    """Counts in whole bins of ``b`` steps: per-neuron sum c and sum c**2 over (trial, bin), population counts."""
    b: int
    n_bins: int
    s1: np.ndarray
    s2: np.ndarray
    pop: np.ndarray                                  # (n_trials * n_bins,)
    carry: tuple = field(default_factory=tuple)      # events of the bin still open


class SpikePass:
    """Accumulators of one population; feed time-ordered chunks with :meth:`add`, then :meth:`finish`."""

    def __init__(self, n_neurons: int, n_trials: int, n_steps: int, dt: float, cfg: SpikePassConfig,
                 is_exc: np.ndarray | None = None):
        N, T = int(n_neurons), int(n_trials)
        self.N, self.T, self.n_steps, self.dt, self.cfg = N, T, int(n_steps), float(dt), cfg
        dur = self.n_steps * self.dt
        TN = T * N
        self.count = np.zeros(TN, np.int64)
        self.last_step = np.full(TN, -1, np.int64)
        self.last_isi = np.full(TN, -1, np.int64)
        self.run = np.zeros(TN, np.int64)                       # links in the current run of short ISIs
        self.isi_n = np.zeros(N)
        self.isi_s1 = np.zeros(N)
        self.isi_s2 = np.zeros(N)
        self.lv_s = np.zeros(N)
        self.lv_n = np.zeros(N)
        self.bursts = np.zeros(N, np.int64)
        self.burst_spikes = 0
        self.burst_thr = cfg.burst_max_isi_s / self.dt * (1 + 1e-9)
        self.isi_edges = np.geomspace(self.dt, max(dur, 2 * self.dt), cfg.isi_bins + 1)
        self.isi_hist = np.zeros(cfg.isi_bins, np.int64)
        rb = cfg.rate_bin_s if cfg.rate_bin_s is not None else max(dur / 1000, self.dt)
        self.rate_b = _bin_steps("rate_bin_s", rb, self.dt)
        self.rate_nb = -(-self.n_steps // self.rate_b)
        self.rate_c = np.zeros(T * self.rate_nb, np.int64)
        self.binned = {}
        for w in sorted(set(cfg.fano_windows_s) | {cfg.sync_bin_s}):
            b = _bin_steps("window", w, self.dt)
            nb = self.n_steps // b
            self.binned[float(w)] = _Binned(b, nb, np.zeros(N), np.zeros(N), np.zeros(T * nb, np.int64))
        # count correlation: dense counts of the neurons of the sampled pairs only
        self.pairs = _sample_pairs(N, cfg.n_pairs, cfg.seed, None) if N >= 2 else np.zeros((0, 2), np.int64)
        used = np.unique(self.pairs)
        self.slot = np.full(N, -1, np.int64)
        self.slot[used] = np.arange(len(used))
        self.corr_b = _bin_steps("sync_bin_s", cfg.sync_bin_s, self.dt)
        self.corr_nb = self.n_steps // self.corr_b
        self.corr_c = np.zeros((len(used), T * self.corr_nb), np.int32)
        # STTC on the same pairs: spike times of their neurons only
        self.sttc = SttcCollector(self.pairs, N, T, self.n_steps, self.dt, cfg.sttc_dt_s)
        # raster sample
        keep = np.unique(np.linspace(0, N - 1, min(N, cfg.raster_neurons)).round().astype(np.int64))
        self.raster_rank = np.full(N, -1, np.int64)
        self.raster_rank[keep] = np.arange(len(keep))
        self.raster_n = len(keep)
        self.raster_t = min(dur, 2.0) if cfg.raster_t_s is None else float(cfg.raster_t_s)
        self.raster_pts: list[tuple] = []
        self.raster_count = 0
        self.is_exc = None if is_exc is None else np.asarray(is_exc).astype(bool)
        self.max_seen = -1

    # -- per chunk

    def add(self, trial, neuron, step) -> None:
        t = np.asarray(trial).astype(np.int64)
        n = np.asarray(neuron).astype(np.int64)
        s = np.asarray(step).astype(np.int64)
        keep = s < self.n_steps
        t, n, s = t[keep], n[keep], s[keep]
        if s.size == 0:
            return
        if s[0] < self.max_seen or (s.size > 1 and np.any(s[1:] < s[:-1])):
            raise OutOfOrder("spike events are not in time order")
        self.max_seen = int(s[-1])
        key = t * self.N + n
        self.count += np.bincount(key, minlength=self.T * self.N)
        self.rate_c += np.bincount(t * self.rate_nb + s // self.rate_b, minlength=self.T * self.rate_nb)
        self._trains(key, n, s)
        for bn in self.binned.values():
            self._bins(bn, t, n, s)
        sl = self.slot[n]
        m = (sl >= 0) & (s < self.corr_nb * self.corr_b)
        np.add.at(self.corr_c, (sl[m], t[m] * self.corr_nb + s[m] // self.corr_b), 1)
        self.sttc.add(t, n, s)
        self._raster(t, n, s)

    def _trains(self, key, n, s) -> None:
        """ISI moments, LV terms, ISI histogram and burst runs, continuing each train from earlier chunks."""
        order = np.argsort(key, kind="stable")                # stable: steps stay ascending within a train
        k, nn, ss = key[order], n[order], s[order]
        first = np.ones(k.size, bool)
        first[1:] = k[1:] != k[:-1]
        prev = np.empty_like(ss)
        prev[1:] = ss[:-1]
        prev[first] = self.last_step[k[first]]
        valid = prev >= 0
        isi = np.where(valid, ss - prev, -1)
        v_isi, v_n = isi[valid], nn[valid]
        self.isi_n += np.bincount(v_n, minlength=self.N)
        self.isi_s1 += np.bincount(v_n, v_isi.astype(np.float64), minlength=self.N)
        self.isi_s2 += np.bincount(v_n, v_isi.astype(np.float64) ** 2, minlength=self.N)
        self.isi_hist += np.histogram(v_isi * self.dt, bins=self.isi_edges)[0]
        # LV: consecutive ISI pairs of one train (the previous ISI may come from an earlier chunk)
        pisi = np.empty_like(isi)
        pisi[1:] = isi[:-1]
        pisi[first] = self.last_isi[k[first]]
        pair = valid & (pisi > 0)
        a, b = pisi[pair].astype(np.float64), isi[pair].astype(np.float64)
        self.lv_s += np.bincount(nn[pair], ((a - b) / (a + b)) ** 2, minlength=self.N)
        self.lv_n += np.bincount(nn[pair], minlength=self.N)
        # bursts: r = links (ISIs <= threshold) in the run ending at each spike; a run of r links is r + 1 spikes
        link = valid & (isi <= self.burst_thr)
        idx = np.arange(k.size)
        seg_start = first | ~link
        seg = np.cumsum(seg_start) - 1
        j = idx[seg_start]
        base = np.where(link[j], self.run[k[j]] + 1, 0)         # only a train's first spike here can continue
        r = base[seg] + (idx - j[seg])
        need = self.cfg.burst_min_spikes - 1
        # a run ends before spike i when i does not link: the run ending at i - 1 (same train) or the carried one
        ended_prev = np.where(first, self.run[k], np.concatenate([[0], r[:-1]]))
        done = ~link & (ended_prev >= need)
        np.add.at(self.bursts, nn[done], 1)
        self.burst_spikes += int((ended_prev[done] + 1).sum())
        last = np.ones(k.size, bool)
        last[:-1] = k[1:] != k[:-1]
        self.last_step[k[last]] = ss[last]
        self.last_isi[k[last]] = np.where(isi[last] > 0, isi[last], self.last_isi[k[last]])
        self.run[k[last]] = r[last]

    def _bins(self, bn: _Binned, t, n, s) -> None:
        """Finish the bins before the latest one seen; carry the events of that open bin."""
        if bn.carry:
            t, n, s = (np.concatenate([c, x]) for c, x in zip(bn.carry, (t, n, s)))
        whole = s < bn.n_bins * bn.b
        t, n, s = t[whole], n[whole], s[whole]
        if s.size == 0:
            bn.carry = ()
            return
        open_bin = s[-1] // bn.b
        done = s // bn.b < open_bin
        bn.carry = (t[~done], n[~done], s[~done])
        self._count_bins(bn, t[done], n[done], s[done])

    def _count_bins(self, bn: _Binned, t, n, s) -> None:
        if s.size == 0:
            return
        bin_ = s // bn.b
        keys, c = np.unique((t * bn.n_bins + bin_) * self.N + n, return_counts=True)
        nrn = keys % self.N
        c = c.astype(np.float64)
        bn.s1 += np.bincount(nrn, c, minlength=self.N)
        bn.s2 += np.bincount(nrn, c * c, minlength=self.N)
        bn.pop += np.bincount(t * bn.n_bins + bin_, minlength=bn.pop.size)

    def _raster(self, t, n, s) -> None:
        if self.raster_count >= self.cfg.raster_max_points:
            return
        m = (t == 0) & (self.raster_rank[n] >= 0) & (s * self.dt < self.raster_t)
        if m.any():
            pts = (s[m] * self.dt, self.raster_rank[n[m]], n[m])
            take = min(int(m.sum()), self.cfg.raster_max_points - self.raster_count)
            self.raster_pts.append(tuple(x[:take] for x in pts))
            self.raster_count += take

    # -- results

    def finish(self) -> dict:
        """All statistics as arrays and numbers (see module docstring)."""
        for bn in self.binned.values():
            if bn.carry:
                self._count_bins(bn, *bn.carry)
                bn.carry = ()
        final_runs = self.run >= self.cfg.burst_min_spikes - 1           # runs still open at the end
        np.add.at(self.bursts, np.flatnonzero(final_runs) % self.N, 1)
        self.burst_spikes += int((self.run[final_runs] + 1).sum())
        self.run[:] = 0
        N, T, dt, n_steps = self.N, self.T, self.dt, self.n_steps
        rates = self.count.reshape(T, N) / (n_steps * dt)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = self.isi_s1 / self.isi_n
            cv = np.sqrt(np.maximum(self.isi_s2 / self.isi_n - m * m, 0.0)) / m
            lv = 3.0 * self.lv_s / self.lv_n
        cv[self.isi_n < 2] = np.nan
        lv[(self.lv_n == 0) | (self.isi_n < 2)] = np.nan
        edges = np.minimum(np.arange(self.rate_nb + 1) * self.rate_b, n_steps)
        pop_rate = self.rate_c.reshape(T, self.rate_nb) / (N * np.diff(edges) * dt)
        fano = {}
        for w in self.cfg.fano_windows_s:
            bn = self.binned[float(w)]
            ns = T * bn.n_bins
            if ns < 2:
                fano[float(w)] = np.full(N, np.nan)
                continue
            mean = bn.s1 / ns
            with np.errstate(invalid="ignore", divide="ignore"):
                ff = (bn.s2 - ns * mean * mean) / (ns - 1) / mean
            ff[bn.s1 <= 1] = np.nan
            fano[float(w)] = ff
        bn = self.binned[float(self.cfg.sync_bin_s)]
        ns = T * bn.n_bins
        chi2 = np.nan
        if ns >= 2:
            var_i = bn.s2 / ns - (bn.s1 / ns) ** 2
            denom = var_i.mean()
            chi2 = float((bn.pop / N).var() / denom) if denom > 0 else np.nan
        c = self.corr_c.astype(np.float64)
        rho = np.full(len(self.pairs), np.nan)
        if c.shape[1] >= 2 and len(self.pairs):
            c -= c.mean(axis=1, keepdims=True)
            sd = np.sqrt((c * c).mean(axis=1))
            x, y = self.slot[self.pairs[:, 0]], self.slot[self.pairs[:, 1]]
            with np.errstate(invalid="ignore", divide="ignore"):
                rho = (c[x] * c[y]).mean(axis=1) / (sd[x] * sd[y])
            rho[(sd[x] == 0) | (sd[y] == 0)] = np.nan
        if self.raster_pts:
            rt, rr, rn = (np.concatenate(a) for a in zip(*self.raster_pts))
        else:
            rt, rr, rn = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64)
        return {"rates": rates, "cv": cv, "lv": lv, "n_isi": self.isi_n.astype(np.int64),
                "isi_edges_s": self.isi_edges, "isi_hist": self.isi_hist,
                "pop_rate_edges_s": edges * dt, "pop_rate": pop_rate,
                "fano_windows_s": np.array(self.cfg.fano_windows_s, float),
                "fano": np.array([fano[float(w)] for w in self.cfg.fano_windows_s]).reshape(-1, N),
                "chi2": chi2, "pairs": self.pairs, "rho": rho,
                "sttc": self.sttc.finish(), "sttc_delta_s": self.sttc.delta_s,
                "bursts_per_neuron": self.bursts.copy(), "burst_spikes": self.burst_spikes,
                "raster_t": rt, "raster_rank": rr.astype(np.int64), "raster_neuron": rn.astype(np.int64),
                "raster_n": self.raster_n, "raster_window_s": self.raster_t,
                "n_spikes": int(self.count.sum())}


def spike_pass(run, pop: str, cfg: SpikePassConfig | None = None, is_exc=None, progress: bool = False) -> dict:
    """:class:`SpikePass` over ``pop`` of a run file (events at steps >= steps_done are ignored).
    Raises :class:`OutOfOrder` for a file whose events are not in time order."""
    cfg = cfg or SpikePassConfig()
    if run.steps_done < 1:
        raise ValueError(f"{run.path}: no completed steps (steps_done = 0); nothing to analyse")
    sp = SpikePass(run.populations[pop], run.n_trials, run.steps_done, run.dt, cfg, is_exc)
    chunks = run.iter_spikes(pop, cfg.chunk)
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, total=-(-run.n_events(pop) // cfg.chunk), desc=f"spikes {pop}", unit="chunk",
                      leave=False)
    for t, n, s in chunks:
        sp.add(t, n, s)
    return sp.finish()
