"""Spike-train statistics: rates, PSTH, ISI, CV, LV, Fano factor, count correlation, synchrony, bursts.

Array functions take the run-file spike columns as plain 1-D integer arrays ``trial``, ``neuron``,
``step`` (any order) plus ``n_neurons``, ``n_trials``, ``n_steps`` and ``dt`` (seconds); a spike at
step ``k`` happened at ``k * dt`` (docs/formats.md). The ``run_*`` wrappers read a
:class:`~neurokit_bdh.io.runfile.RunFile` and give the same numbers; those for rates, PSTH, Fano
factor, correlation and synchrony (chi**2 and STTC) stream the file in chunks and never hold all spikes (memory:
O(n_trials * n_neurons), O(n_bins * n_trials), the non-zero (trial, neuron, bin) counts, or the spike
times of the neurons of the sampled pairs only). The
ISI-based wrappers (isi, CV, LV, bursts) need each train whole and load the population's spikes.
Only spikes at steps < ``n_steps`` (``run.steps_done`` for the wrappers) are counted.

Depends on numpy only.

>>> t, n, s = np.zeros(4, int), np.array([0, 0, 1, 0]), np.array([0, 10, 5, 30])
>>> spike_rates(t, n, s, n_neurons=2, n_trials=1, n_steps=100, dt=1e-3).tolist()
[[30.0, 10.0]]
>>> [x.tolist() for x in isi(t, n, s, n_neurons=2, dt=1e-3)]
[[0.01, 0.02], []]
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "spike_rates", "mean_rate", "population_rate", "psth", "isi", "cv_isi", "lv_isi", "fano_factor",
    "count_correlation", "chi_synchrony", "sttc", "spike_time_tiling", "detect_bursts", "Bursts",
    "run_spike_rates", "run_population_rate", "run_psth", "run_isi", "run_cv_isi", "run_lv_isi",
    "run_fano_factor", "run_count_correlation", "run_chi_synchrony", "run_spike_time_tiling", "run_detect_bursts",
]

CHUNK = 1_000_000          # events per chunk read by the run_* wrappers


# ----------------------------------------------------------------------------- helpers

def _cols(trial, neuron, step):
    """The three spike columns as equal-length int64 arrays."""
    t, n, s = (np.asarray(a).astype(np.int64, copy=False).ravel() for a in (trial, neuron, step))
    if not len(t) == len(n) == len(s):
        raise ValueError(f"trial, neuron and step must have equal lengths, got {len(t)}, {len(n)}, {len(s)}")
    return t, n, s


def _pos_int(name, x, lo=1) -> int:
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)) or int(x) < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {x!r}")
    return int(x)


def _pos_float(name, x) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not 0 < float(x) < math.inf:
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")
    return float(x)


def _bin_steps(name, bin_s, dt) -> int:
    """A bin width in seconds as a whole number (>= 1) of steps (rounded)."""
    b = _pos_float(name, bin_s) / _pos_float("dt", dt)
    return max(int(round(b)), 1)


def _sorted_trains(trial, neuron, step, n_steps=None):
    """Columns sorted by (trial, neuron, step), spikes at step >= n_steps dropped."""
    t, n, s = _cols(trial, neuron, step)
    if n_steps is not None:
        keep = s < n_steps
        t, n, s = t[keep], n[keep], s[keep]
    order = np.lexsort((s, n, t))
    return t[order], n[order], s[order]


def _isi_pairs(t, n, s):
    """For sorted trains: ISIs in steps and the neuron of each (consecutive spikes of one (trial, neuron))."""
    same = (t[1:] == t[:-1]) & (n[1:] == n[:-1])
    return (s[1:] - s[:-1])[same], n[1:][same], same


# ----------------------------------------------------------------------------- rates and PSTH

def spike_rates(trial, neuron, step, n_neurons, n_trials, n_steps, dt) -> np.ndarray:
    """(n_trials, n_neurons) firing rates in Hz over the ``n_steps * dt`` seconds of each trial."""
    t, n, s = _cols(trial, neuron, step)
    n_neurons, n_trials, n_steps = (_pos_int(k, v) for k, v in
                                    (("n_neurons", n_neurons), ("n_trials", n_trials), ("n_steps", n_steps)))
    keep = s < n_steps
    c = np.bincount(t[keep] * n_neurons + n[keep], minlength=n_trials * n_neurons)
    return c.reshape(n_trials, n_neurons) / (n_steps * _pos_float("dt", dt))


def mean_rate(rates: np.ndarray, mask=None) -> float:
    """Population mean rate (Hz) of a :func:`spike_rates` array, over neurons (optionally ``mask``ed) and trials."""
    r = np.asarray(rates, dtype=np.float64)
    if mask is not None:
        r = r[..., np.asarray(mask, dtype=bool)]
    return float(r.mean()) if r.size else math.nan


def population_rate(trial, step, n_neurons, n_trials, n_steps, dt, bin_s):
    """Population rate per trial: (bin_edges_s (n_bins+1,), rate_hz (n_trials, n_bins)).

    rate = spikes in the bin / (n_neurons * bin width). Bins are whole steps (``bin_s`` rounded to
    steps); the last bin may be shorter and is normalised by its own width.
    """
    t, _, s = _cols(trial, np.zeros_like(np.asarray(trial)), step)
    n_trials, n_steps = _pos_int("n_trials", n_trials), _pos_int("n_steps", n_steps)
    b = _bin_steps("bin_s", bin_s, dt)
    n_bins = -(-n_steps // b)
    keep = s < n_steps
    c = np.bincount(t[keep] * n_bins + s[keep] // b, minlength=n_trials * n_bins).reshape(n_trials, n_bins)
    return _rate_from_counts(c, n_neurons, n_steps, dt, b)


def _rate_from_counts(c, n_neurons, n_steps, dt, b):
    n_bins = c.shape[1]
    edges_steps = np.minimum(np.arange(n_bins + 1) * b, n_steps)
    width_s = np.diff(edges_steps) * dt
    return edges_steps * dt, c / (_pos_int("n_neurons", n_neurons) * width_s)


def psth(trial, step, n_neurons, n_trials, n_steps, dt, bin_s):
    """Trial-averaged population rate: (bin_edges_s, rate_hz (n_bins,))."""
    edges, r = population_rate(trial, step, n_neurons, n_trials, n_steps, dt, bin_s)
    return edges, r.mean(axis=0)


# ----------------------------------------------------------------------------- ISI statistics

def isi(trial, neuron, step, n_neurons, dt, n_steps=None) -> list[np.ndarray]:
    """ISIs in seconds per neuron (list of n_neurons arrays); intervals never span two trials."""
    t, n, s = _sorted_trains(trial, neuron, step, n_steps)
    d, who, _ = _isi_pairs(t, n, s)
    n_neurons = _pos_int("n_neurons", n_neurons)
    order = np.argsort(who, kind="stable")
    split = np.searchsorted(who[order], np.arange(1, n_neurons))
    return [x * float(dt) for x in np.split(d[order], split)]


def cv_isi(trial, neuron, step, n_neurons, n_steps=None, min_isi: int = 2) -> np.ndarray:
    """Coefficient of variation std/mean (ddof=0, as elephant.statistics.cv) of each neuron's ISIs pooled
    over trials; NaN where a neuron has fewer than ``min_isi`` ISIs. Shape (n_neurons,)."""
    t, n, s = _sorted_trains(trial, neuron, step, n_steps)
    d, who, _ = _isi_pairs(t, n, s)
    n_neurons = _pos_int("n_neurons", n_neurons)
    k = np.bincount(who, minlength=n_neurons).astype(np.float64)
    s1 = np.bincount(who, d.astype(np.float64), minlength=n_neurons)
    s2 = np.bincount(who, d.astype(np.float64) ** 2, minlength=n_neurons)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = s1 / k
        var = np.maximum(s2 / k - m * m, 0.0)
        out = np.sqrt(var) / m
    out[k < max(min_isi, 1)] = np.nan
    return out


def lv_isi(trial, neuron, step, n_neurons, n_steps=None, min_isi: int = 2) -> np.ndarray:
    """Local variation (Shinomoto et al. 2003, Neural Comput. 15:2823) per neuron:
    ``LV = 3 / (n - 1) * sum_i ((I_i - I_{i+1}) / (I_i + I_{i+1}))**2`` over consecutive ISI pairs of one
    train (pairs pooled over trials, n - 1 = number of pairs). 1 for Poisson, 3/(2k+1) for gamma-k
    trains. NaN where a neuron has fewer than ``min_isi`` ISIs (i.e. no pair). Shape (n_neurons,)."""
    t, n, s = _sorted_trains(trial, neuron, step, n_steps)
    d, who, same = _isi_pairs(t, n, s)
    n_neurons = _pos_int("n_neurons", n_neurons)
    # consecutive ISIs d[j], d[j+1] of one train: both come from one (trial, neuron) run of spikes
    tt = t[1:][same]
    pair = (tt[1:] == tt[:-1]) & (who[1:] == who[:-1])
    a, b = d[:-1][pair].astype(np.float64), d[1:][pair].astype(np.float64)
    term = ((a - b) / (a + b)) ** 2
    pw = who[1:][pair]
    k = np.bincount(pw, minlength=n_neurons)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 3.0 * np.bincount(pw, term, minlength=n_neurons) / k
    n_isi = np.bincount(who, minlength=n_neurons)
    out[(k == 0) | (n_isi < max(min_isi, 2))] = np.nan
    return out


# ----------------------------------------------------------------------------- binned counts

class _SparseCounts:
    """Non-zero spike counts per (trial, neuron, bin), accumulated from chunks (keys merged per chunk)."""

    def __init__(self, n_neurons, n_trials, n_bins, b):
        self.N, self.T, self.B, self.b = n_neurons, n_trials, n_bins, b
        self.keys, self.counts = np.zeros(0, np.int64), np.zeros(0, np.int64)

    def add(self, t, n, s):
        keep = s < self.B * self.b                       # whole bins only
        t, n, s = t[keep], n[keep], s[keep]
        k = (t * self.N + n) * self.B + s // self.b
        keys = np.concatenate([self.keys, k])
        counts = np.concatenate([self.counts, np.ones(len(k), np.int64)])
        self.keys, inv = np.unique(keys, return_inverse=True)
        self.counts = np.bincount(inv, counts, minlength=len(self.keys)).astype(np.int64)

    def per_neuron_moments(self):
        """(sum over (trial, bin) of c, of c**2) per neuron."""
        nrn = (self.keys // self.B) % self.N
        c = self.counts.astype(np.float64)
        return np.bincount(nrn, c, minlength=self.N), np.bincount(nrn, c * c, minlength=self.N)

    def pop_counts(self):
        """(n_trials, n_bins) spike counts summed over neurons."""
        tb = (self.keys // (self.N * self.B)) * self.B + self.keys % self.B
        return np.bincount(tb, self.counts, minlength=self.T * self.B).reshape(self.T, self.B)


def _fano_from(sc: _SparseCounts, min_rate_count: float):
    n = sc.T * sc.B
    s1, s2 = sc.per_neuron_moments()
    if n < 2:
        return np.full(sc.N, np.nan)
    m = s1 / n
    var = (s2 - n * m * m) / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ff = var / m
    ff[s1 <= min_rate_count] = np.nan
    return ff


def fano_factor(trial, neuron, step, n_neurons, n_trials, n_steps, dt, windows_s, min_spikes: int = 1):
    """Fano factor of spike counts vs counting window: (windows_s, mean_ff (n_windows,), ff (n_windows, n_neurons)).

    For each window w the trials are cut into floor(n_steps / w) whole windows (the rest is dropped);
    per neuron FF = var / mean of its counts over all (trial, window) samples (var with ddof=1).
    ``mean_ff`` is the mean over neurons with more than ``min_spikes`` counted spikes (NaN elsewhere in ``ff``).
    Poisson trains: FF = 1 for every w; renewal trains: FF -> CV**2 for long windows.
    """
    t, n, s = _cols(trial, neuron, step)
    return _fano(lambda: [(t, n, s)], n_neurons, n_trials, n_steps, dt, windows_s, min_spikes)


def _fano(chunks, n_neurons, n_trials, n_steps, dt, windows_s, min_spikes):
    n_neurons, n_trials, n_steps = _pos_int("n_neurons", n_neurons), _pos_int("n_trials", n_trials), \
        _pos_int("n_steps", n_steps)
    windows = np.atleast_1d(np.asarray(windows_s, dtype=np.float64))
    ffs = []
    for w in windows:
        b = _bin_steps("windows_s", float(w), dt)
        sc = _SparseCounts(n_neurons, n_trials, n_steps // b, b)
        for t, n, s in chunks():
            sc.add(*_cols(t, n, s))
        ffs.append(_fano_from(sc, min_spikes))
    ff = np.array(ffs).reshape(len(windows), n_neurons)
    with np.errstate(invalid="ignore"):
        mean = np.array([np.nanmean(f) if np.isfinite(f).any() else np.nan for f in ff])
    return windows, mean, ff


def chi_synchrony(trial, neuron, step, n_neurons, n_trials, n_steps, dt, bin_s) -> float:
    """Golomb's chi**2 synchrony (Golomb 2007, Scholarpedia 2:1347) of binned spike counts:
    ``var_t(mean_i c_i(t)) / mean_i var_t(c_i(t))``, variances over all (trial, bin) samples (whole
    bins only). 1 for identical trains, about 1/N for N independent ones; for N trains thinned from one
    shared Poisson source with count correlation c it is (1 + (N - 1) c) / N. Returns chi**2."""
    t, n, s = _cols(trial, neuron, step)
    return _chi(lambda: [(t, n, s)], n_neurons, n_trials, n_steps, dt, bin_s)


def _chi(chunks, n_neurons, n_trials, n_steps, dt, bin_s):
    n_neurons, n_trials, n_steps = _pos_int("n_neurons", n_neurons), _pos_int("n_trials", n_trials), \
        _pos_int("n_steps", n_steps)
    b = _bin_steps("bin_s", bin_s, dt)
    sc = _SparseCounts(n_neurons, n_trials, n_steps // b, b)
    for t, n, s in chunks():
        sc.add(*_cols(t, n, s))
    m = sc.T * sc.B
    if m < 2:
        raise ValueError(f"chi_synchrony: need at least 2 whole bins, got {m}")
    s1, s2 = sc.per_neuron_moments()
    var_i = s2 / m - (s1 / m) ** 2
    pop = sc.pop_counts().ravel() / n_neurons
    denom = var_i.mean()
    return float(pop.var() / denom) if denom > 0 else math.nan


def count_correlation(trial, neuron, step, n_neurons, n_trials, n_steps, dt, bin_s, n_pairs=100, seed=0,
                      pairs=None):
    """Pearson correlation of binned spike counts for sampled neuron pairs: (pairs (n_pairs, 2), rho (n_pairs,)).

    Pairs of distinct neurons are drawn uniformly with ``np.random.default_rng(seed)`` (or given as
    ``pairs``). Counts are taken in whole bins of ``bin_s`` and all (trial, bin) samples are pooled.
    rho is NaN for a pair where a neuron has zero count variance; summarise with ``np.nanmean(rho)``.
    """
    t, n, s = _cols(trial, neuron, step)
    return _corr(lambda: [(t, n, s)], n_neurons, n_trials, n_steps, dt, bin_s, n_pairs, seed, pairs)


def _sample_pairs(n_neurons, n_pairs, seed, pairs):
    if pairs is not None:
        p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if p.size and (p.min() < 0 or p.max() >= n_neurons):
            raise ValueError(f"pairs: neuron index out of range for n_neurons = {n_neurons}")
        return p
    if n_neurons < 2:
        raise ValueError(f"sampled neuron pairs: need at least 2 neurons, got n_neurons = {n_neurons}")
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_neurons, _pos_int("n_pairs", n_pairs))
    b = (a + rng.integers(1, n_neurons, len(a))) % n_neurons          # b != a
    return np.stack([a, b], axis=1)


def _corr(chunks, n_neurons, n_trials, n_steps, dt, bin_s, n_pairs, seed, pairs):
    n_neurons, n_trials, n_steps = _pos_int("n_neurons", n_neurons), _pos_int("n_trials", n_trials), \
        _pos_int("n_steps", n_steps)
    p = _sample_pairs(n_neurons, n_pairs, seed, pairs)
    b = _bin_steps("bin_s", bin_s, dt)
    n_bins = n_steps // b
    used = np.unique(p)
    slot = np.full(n_neurons, -1, np.int64)
    slot[used] = np.arange(len(used))
    c = np.zeros((len(used), n_trials * n_bins))                         # dense counts of sampled neurons only
    for t, n, s in chunks():
        t, n, s = _cols(t, n, s)
        keep = (slot[n] >= 0) & (s < n_bins * b)
        np.add.at(c, (slot[n[keep]], t[keep] * n_bins + s[keep] // b), 1.0)
    c -= c.mean(axis=1, keepdims=True)
    sd = np.sqrt((c * c).mean(axis=1))
    x, y = slot[p[:, 0]], slot[p[:, 1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (c[x] * c[y]).mean(axis=1) / (sd[x] * sd[y])
    rho[(sd[x] == 0) | (sd[y] == 0)] = np.nan
    return p, rho


# ----------------------------------------------------------------------------- spike time tiling coefficient

def _window_steps(delta_s, dt) -> int:
    """STTC window as a whole number of steps; a window under half a step would round to 0."""
    w = int(round(_pos_float("delta_s", delta_s) / _pos_float("dt", dt)))
    if w < 1:
        raise ValueError(f"delta_s = {delta_s!r} is below half a time step (dt = {dt!r}); the STTC window "
                         "must round to at least one step")
    return w


class _Tiling:
    """Per train: spikes as sorted 'global steps' g = trial * L + step (L = n_steps + 2 W + 1, so windows
    of two trials never meet) and the tiled fraction T of the n_trials * n_steps recorded steps."""

    def __init__(self, W, n_steps, n_trials):
        self.W, self.n, self.T, self.L = W, n_steps, n_trials, n_steps + 2 * W + 1

    def train(self, t, s):
        return np.sort(np.asarray(t, np.int64) * self.L + np.asarray(s, np.int64))

    def tiled(self, g) -> float:
        """Length of the union of [t - dt_w, t + dt_w] clipped to each trial's [0, n_steps], as a fraction."""
        if g.size == 0:
            return 0.0
        base = (g // self.L) * self.L
        lo = base + np.maximum(g - base - self.W, 0)
        hi = base + np.minimum(g - base + self.W, self.n)
        # g sorted -> interval ends non-decreasing, so each interval adds what lies beyond the previous end
        prev = np.concatenate([[lo[0]], hi[:-1]])
        return float(np.maximum(hi - np.maximum(lo, prev), 0).sum()) / (self.T * self.n)

    def near(self, ga, gb) -> float:
        """Fraction of the spikes of ga with a spike of gb within +-W steps (inclusive)."""
        if gb.size == 0:
            return 0.0
        i = np.searchsorted(gb, ga - self.W, side="left")
        ok = i < gb.size
        ok[ok] = gb[i[ok]] <= ga[ok] + self.W
        return float(ok.mean())

    def sttc(self, ga, gb, ta=None, tb=None) -> float:
        if ga.size == 0 or gb.size == 0:
            return math.nan
        ta = self.tiled(ga) if ta is None else ta
        tb = self.tiled(gb) if tb is None else tb
        pa, pb = self.near(ga, gb), self.near(gb, ga)
        d1, d2 = 1.0 - pa * tb, 1.0 - pb * ta
        if d1 == 0 or d2 == 0:                       # a train tiles the whole recording: undefined
            return math.nan
        return 0.5 * ((pa - tb) / d1 + (pb - ta) / d2)


def sttc(step_a, step_b, n_steps, dt, delta_s, trial_a=None, trial_b=None, n_trials=1) -> float:
    """Spike time tiling coefficient of two trains (Cutts & Eglen 2014, J. Neurosci. 34:14288):

    ``STTC = 1/2 [(P_A - T_B) / (1 - P_A T_B) + (P_B - T_A) / (1 - P_B T_A)]``, where T_A is the fraction
    of the recording within +-delta_s of a spike of A (windows clipped to the recording) and P_A the
    fraction of A's spikes within +-delta_s (inclusive) of a spike of B. 1 for identical trains (or B a
    copy of A jittered by less than delta_s), about 0 for independent ones, -1 for trains that avoid each
    other. Spikes are at steps (time step * dt) of ``n_steps``-step trials; ``delta_s`` is rounded to whole
    steps; with ``trial_a``/``trial_b`` the trials are pooled (tiling over n_trials * n_steps, coincidences
    within one trial only). NaN if a train is empty or tiles the whole recording."""
    n_steps, n_trials = _pos_int("n_steps", n_steps), _pos_int("n_trials", n_trials)
    tl = _Tiling(_window_steps(delta_s, dt), n_steps, n_trials)
    out = []
    for tr, st in ((trial_a, step_a), (trial_b, step_b)):
        st = np.asarray(st, np.int64).ravel()
        tr = np.zeros_like(st) if tr is None else np.asarray(tr, np.int64).ravel()
        if tr.size != st.size:
            raise ValueError(f"sttc: trial and step arrays must have equal lengths, got {tr.size} and {st.size}")
        keep = st < n_steps
        if st.size and (st.min() < 0 or tr.min() < 0 or tr.max() >= n_trials):
            raise ValueError(f"sttc: steps must be >= 0 and trials in [0, {n_trials})")
        out.append(tl.train(tr[keep], st[keep]))
    return tl.sttc(*out)


def spike_time_tiling(trial, neuron, step, n_neurons, n_trials, n_steps, dt, delta_s, n_pairs=100, seed=0,
                      pairs=None):
    """STTC of sampled neuron pairs: (pairs (n_pairs, 2), sttc (n_pairs,)); the pairs are those of
    :func:`count_correlation` with the same ``n_pairs`` and ``seed`` (or given). Trials are pooled as in
    :func:`sttc`; NaN for a pair with a silent neuron. Summarise with ``np.nanmean``."""
    t, n, s = _cols(trial, neuron, step)
    return _sttc_pairs(lambda: [(t, n, s)], n_neurons, n_trials, n_steps, dt, delta_s, n_pairs, seed, pairs)


class SttcCollector:
    """Spike times of the neurons of the sampled pairs only (memory: their spikes, not the population's),
    fed chunk by chunk; :meth:`finish` gives the STTC per pair."""

    def __init__(self, pairs, n_neurons, n_trials, n_steps, dt, delta_s):
        self.pairs = np.asarray(pairs, np.int64).reshape(-1, 2)
        self.tl = _Tiling(_window_steps(delta_s, dt), _pos_int("n_steps", n_steps), _pos_int("n_trials", n_trials))
        self.delta_s = self.tl.W * float(dt)             # the window actually used (whole steps)
        used = np.unique(self.pairs)
        self.slot = np.full(_pos_int("n_neurons", n_neurons), -1, np.int64)
        self.slot[used] = np.arange(used.size)
        self.n_used = used.size
        self.parts: list[tuple] = []

    def add(self, t, n, s) -> None:
        sl = self.slot[n]
        m = (sl >= 0) & (s < self.tl.n)
        if m.any():
            self.parts.append((sl[m], t[m] * self.tl.L + s[m]))       # (slot, g); sorted per slot at the end

    def finish(self) -> np.ndarray:
        if self.parts:
            sl, g = (np.concatenate(x) for x in zip(*self.parts))
        else:
            sl, g = np.zeros(0, np.int64), np.zeros(0, np.int64)
        o = np.lexsort((g, sl))
        sl, g = sl[o], g[o]
        trains = np.split(g, np.searchsorted(sl, np.arange(1, self.n_used)))
        tiled = [self.tl.tiled(x) for x in trains]
        x, y = self.slot[self.pairs[:, 0]], self.slot[self.pairs[:, 1]]
        return np.array([self.tl.sttc(trains[i], trains[j], tiled[i], tiled[j]) for i, j in zip(x, y)], np.float64)


def _sttc_pairs(chunks, n_neurons, n_trials, n_steps, dt, delta_s, n_pairs, seed, pairs):
    n_neurons = _pos_int("n_neurons", n_neurons)
    p = _sample_pairs(n_neurons, n_pairs, seed, pairs)
    col = SttcCollector(p, n_neurons, n_trials, n_steps, dt, delta_s)
    for t, n, s in chunks():
        col.add(*_cols(t, n, s))
    return p, col.finish()


# ----------------------------------------------------------------------------- bursts

class Bursts(NamedTuple):
    """Detected bursts, one row each, sorted by (trial, neuron, start); ``per_neuron``: bursts per neuron."""
    trial: np.ndarray
    neuron: np.ndarray
    start_step: np.ndarray       # step of the first spike
    end_step: np.ndarray         # step of the last spike
    n_spikes: np.ndarray
    per_neuron: np.ndarray       # (n_neurons,) burst counts summed over trials


def detect_bursts(trial, neuron, step, n_neurons, dt, max_isi_s, min_spikes=3, n_steps=None) -> Bursts:
    """Bursts by ISI threshold: maximal runs of consecutive spikes of one (trial, neuron) whose ISIs are
    all <= ``max_isi_s``, with at least ``min_spikes`` spikes."""
    t, n, s = _sorted_trains(trial, neuron, step, n_steps)
    n_neurons, min_spikes = _pos_int("n_neurons", n_neurons), _pos_int("min_spikes", min_spikes, 2)
    thr = _pos_float("max_isi_s", max_isi_s) / _pos_float("dt", dt)
    link = (t[1:] == t[:-1]) & (n[1:] == n[:-1]) & ((s[1:] - s[:-1]) <= thr * (1 + 1e-9))
    e = np.concatenate([[0], link.astype(np.int8), [0]])
    starts = np.flatnonzero(np.diff(e) == 1)            # link run [starts, ends) -> spikes [starts, ends]
    ends = np.flatnonzero(np.diff(e) == -1)
    k = ends - starts + 1
    ok = k >= min_spikes
    starts, ends, k = starts[ok], ends[ok], k[ok]
    return Bursts(t[starts], n[starts], s[starts], s[ends], k, np.bincount(n[starts], minlength=n_neurons))


# ----------------------------------------------------------------------------- RunFile wrappers

def _chunks(run, pop, chunk):
    return lambda: run.iter_spikes(pop, chunk)


def _all(run, pop):
    """All (trial, neuron, step) of ``pop`` at steps < steps_done as int64 (for ISI-based measures)."""
    t, n, s = (a.astype(np.int64) for a in run.spikes(pop))
    keep = s < run.steps_done
    return t[keep], n[keep], s[keep]


def run_spike_rates(run, pop, chunk=CHUNK) -> np.ndarray:
    """:func:`spike_rates` of a run file's population (streamed): (n_trials, size) Hz over steps_done."""
    size, T, n_steps = run.populations[pop], run.n_trials, _pos_int("steps_done", run.steps_done)
    counts = np.zeros(T * size, np.int64)
    for t, n, s in run.iter_spikes(pop, chunk):
        t, n, s = _cols(t, n, s)
        keep = s < n_steps
        counts += np.bincount(t[keep] * size + n[keep], minlength=T * size)
    return counts.reshape(T, size) / (n_steps * run.dt)


def run_population_rate(run, pop, bin_s, chunk=CHUNK):
    """:func:`population_rate` of a run file's population (streamed)."""
    size, T, n_steps, dt = run.populations[pop], run.n_trials, _pos_int("steps_done", run.steps_done), run.dt
    b = _bin_steps("bin_s", bin_s, dt)
    n_bins = -(-n_steps // b)
    c = np.zeros(T * n_bins, np.int64)
    for t, _, s in run.iter_spikes(pop, chunk):
        t, _, s = _cols(t, t, s)
        keep = s < n_steps
        c += np.bincount(t[keep] * n_bins + s[keep] // b, minlength=T * n_bins)
    return _rate_from_counts(c.reshape(T, n_bins), size, n_steps, dt, b)


def run_psth(run, pop, bin_s, chunk=CHUNK):
    """:func:`psth` of a run file's population (streamed)."""
    edges, r = run_population_rate(run, pop, bin_s, chunk)
    return edges, r.mean(axis=0)


def run_fano_factor(run, pop, windows_s, min_spikes=1, chunk=CHUNK):
    """:func:`fano_factor` of a run file's population (streamed; one pass per window)."""
    return _fano(_chunks(run, pop, chunk), run.populations[pop], run.n_trials, run.steps_done, run.dt,
                 windows_s, min_spikes)


def run_chi_synchrony(run, pop, bin_s, chunk=CHUNK) -> float:
    """:func:`chi_synchrony` of a run file's population (streamed)."""
    return _chi(_chunks(run, pop, chunk), run.populations[pop], run.n_trials, run.steps_done, run.dt, bin_s)


def run_count_correlation(run, pop, bin_s, n_pairs=100, seed=0, pairs=None, chunk=CHUNK):
    """:func:`count_correlation` of a run file's population (streamed)."""
    return _corr(_chunks(run, pop, chunk), run.populations[pop], run.n_trials, run.steps_done, run.dt,
                 bin_s, n_pairs, seed, pairs)


def run_spike_time_tiling(run, pop, delta_s, n_pairs=100, seed=0, pairs=None, chunk=CHUNK):
    """:func:`spike_time_tiling` of a run file's population (streamed; keeps the sampled neurons' spikes only)."""
    return _sttc_pairs(_chunks(run, pop, chunk), run.populations[pop], run.n_trials, run.steps_done, run.dt,
                       delta_s, n_pairs, seed, pairs)


def run_isi(run, pop):
    """:func:`isi` of a run file's population (loads its spikes)."""
    return isi(*_all(run, pop), n_neurons=run.populations[pop], dt=run.dt)


def run_cv_isi(run, pop, min_isi=2):
    """:func:`cv_isi` of a run file's population (loads its spikes)."""
    return cv_isi(*_all(run, pop), n_neurons=run.populations[pop], min_isi=min_isi)


def run_lv_isi(run, pop, min_isi=2):
    """:func:`lv_isi` of a run file's population (loads its spikes)."""
    return lv_isi(*_all(run, pop), n_neurons=run.populations[pop], min_isi=min_isi)


def run_detect_bursts(run, pop, max_isi_s, min_spikes=3) -> Bursts:
    """:func:`detect_bursts` of a run file's population (loads its spikes)."""
    return detect_bursts(*_all(run, pop), n_neurons=run.populations[pop], dt=run.dt, max_isi_s=max_isi_s,
                         min_spikes=min_spikes)
