"""Spike statistics: analytic targets on synthetic trains (tolerances stated per test) and streamed
RunFile wrappers equal to the array functions."""
import numpy as np
import pytest

from neurokit_bdh.analysis import spikes as S
from neurokit_bdh.io.runfile import RunWriter, open_run

DT = 1e-4


def gamma_trains(n, rate, T, k=1.0, n_trials=1, seed=0):
    """Renewal trains with gamma-k ISIs (k=1: Poisson) as (trial, neuron, step), one spike per step at most."""
    rng = np.random.default_rng(seed)
    cols = [[], [], []]
    for tr in range(n_trials):
        for i in range(n):
            x = np.cumsum(rng.gamma(k, 1 / (k * rate), int(rate * T * 1.3) + 50))
            s = np.unique((x[x < T] / DT).astype(np.int64))
            for c, v in zip(cols, (np.full(len(s), tr), np.full(len(s), i), s)):
                c.append(v)
    return [np.concatenate(c) for c in cols]


def common_source(n, rate, c, T, seed=0):
    """n trains each keeping every spike of one Poisson mother (rate / c) with probability c: count correlation c."""
    rng = np.random.default_rng(seed)
    mother = np.flatnonzero(rng.random(int(T / DT)) < rate / c * DT)
    keep = [mother[rng.random(len(mother)) < c] for _ in range(n)]
    neuron = np.concatenate([np.full(len(k), i) for i, k in enumerate(keep)])
    step = np.concatenate(keep)
    return np.zeros_like(neuron), neuron, step


@pytest.fixture(scope="module")
def poisson():
    return gamma_trains(40, 10.0, 200.0, k=1.0, seed=1)       # ~2000 spikes per neuron


def test_poisson_cv_lv_fano_rate(poisson):
    t, n, s = poisson
    n_steps = int(200.0 / DT)
    assert abs(np.nanmean(S.cv_isi(t, n, s, 40)) - 1.0) < 0.05           # measured 0.998
    assert abs(np.nanmean(S.lv_isi(t, n, s, 40)) - 1.0) < 0.05           # measured 0.997
    _, ff, per = S.fano_factor(t, n, s, 40, 1, n_steps, DT, [0.01, 0.1, 1.0])
    assert per.shape == (3, 40)
    assert np.all(np.abs(ff - 1.0) < 0.1)                                # measured 1.002, 1.004, 1.030
    assert abs(S.mean_rate(S.spike_rates(t, n, s, 40, 1, n_steps, DT)) - 10.0) < 0.3


def test_gamma4_cv_lv_fano():
    t, n, s = gamma_trains(40, 10.0, 200.0, k=4.0, seed=2)
    assert abs(np.nanmean(S.cv_isi(t, n, s, 40)) - 0.5) < 0.05           # 1/sqrt(k); measured 0.499
    assert abs(np.nanmean(S.lv_isi(t, n, s, 40)) - 3 / 9) < 0.03         # 3/(2k+1); measured 0.3335
    _, ff, _ = S.fano_factor(t, n, s, 40, 1, int(200.0 / DT), DT, [5.0])
    assert abs(ff[0] - 0.25) < 0.05                                      # -> CV^2 for long windows; measured 0.254


def test_common_source_correlation_and_synchrony():
    c, N, T = 0.2, 30, 100.0
    t, n, s = common_source(N, 20.0, c, T, seed=3)
    pairs, rho = S.count_correlation(t, n, s, N, 1, int(T / DT), DT, 0.02, n_pairs=100, seed=0)
    assert pairs.shape == (100, 2) and np.all(pairs[:, 0] != pairs[:, 1])
    assert abs(np.nanmean(rho) - c) < 0.05                               # measured 0.2015
    p2, _ = S.count_correlation(t, n, s, N, 1, int(T / DT), DT, 0.02, n_pairs=100, seed=0)
    assert np.array_equal(pairs, p2)                                     # seeded
    chi2 = S.chi_synchrony(t, n, s, N, 1, int(T / DT), DT, 0.02)
    assert abs(chi2 - (1 + (N - 1) * c) / N) < 0.03                      # 0.2267 expected; measured 0.2271


def test_chi_synchrony_limits(poisson):
    t, n, s = poisson
    chi2 = S.chi_synchrony(t, n, s, 40, 1, int(200.0 / DT), DT, 0.01)
    assert abs(chi2 - 1 / 40) < 0.01                                     # independent: 1/N = 0.025; measured 0.0254
    one = n == 0
    same = (np.concatenate([t[one]] * 5), np.repeat(np.arange(5), one.sum()), np.concatenate([s[one]] * 5))
    assert abs(S.chi_synchrony(*same, 5, 1, int(200.0 / DT), DT, 0.01) - 1.0) < 1e-9


def test_isi_psth_bursts_exact():
    t = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
    n = np.array([0, 0, 0, 0, 0, 1, 1, 0, 0, 0])
    s = np.array([10, 12, 14, 50, 51, 5, 90, 0, 2, 3])
    isis = S.isi(t, n, s, 3, dt=1e-3)
    assert np.allclose(np.sort(isis[0]), [1e-3, 1e-3, 2e-3, 2e-3, 2e-3, 36e-3]) and isis[2].size == 0
    edges, rate = S.population_rate(t, s, n_neurons=2, n_trials=2, n_steps=100, dt=1e-3, bin_s=0.05)
    assert np.allclose(edges, [0, 0.05, 0.1])
    assert np.allclose(rate, [[4 / (2 * 0.05), 3 / (2 * 0.05)], [3 / (2 * 0.05), 0]])
    b = S.detect_bursts(t, n, s, 3, dt=1e-3, max_isi_s=2e-3, min_spikes=3)
    assert b.trial.tolist() == [0, 1] and b.neuron.tolist() == [0, 0]
    assert b.start_step.tolist() == [10, 0] and b.end_step.tolist() == [14, 3] and b.n_spikes.tolist() == [3, 3]
    assert b.per_neuron.tolist() == [2, 0, 0]
    b2 = S.detect_bursts(t, n, s, 3, dt=1e-3, max_isi_s=2e-3, min_spikes=2)
    assert b2.n_spikes.tolist() == [3, 2, 3]


def test_run_file_wrappers_equal_array_functions(tmp_path):
    n_trials, N, T = 2, 12, 20.0
    n_steps = int(T / DT)
    t, n, s = gamma_trains(N, 15.0, T, k=2.0, n_trials=n_trials, seed=5)
    order = np.argsort(s, kind="stable")                                 # engines write in time order
    t, n, s = t[order], n[order], s[order]
    path = tmp_path / "run.h5"
    with RunWriter(path, spec_text="", seed=0, dt=DT, n_steps=n_steps, n_trials=n_trials,
                   populations={"exc": N}, projections={}, chunk_events=1000, versions={}) as w:
        for a in range(0, len(t), 777):
            w.add_spikes("exc", t[a:a + 777], n[a:a + 777], s[a:a + 777])
    arr = dict(n_neurons=N, n_trials=n_trials, n_steps=n_steps, dt=DT)
    with open_run(path) as run:
        assert run.steps_done == n_steps
        ch = 500                                                         # many chunks per pass
        assert np.allclose(S.run_spike_rates(run, "exc", chunk=ch), S.spike_rates(t, n, s, **arr))
        e1, r1 = S.run_population_rate(run, "exc", 0.1, chunk=ch)
        e2, r2 = S.population_rate(t, s, N, n_trials, n_steps, DT, 0.1)
        assert np.allclose(e1, e2) and np.allclose(r1, r2)
        assert np.allclose(S.run_psth(run, "exc", 0.1, chunk=ch)[1], S.psth(t, s, N, n_trials, n_steps, DT, 0.1)[1])
        f1 = S.run_fano_factor(run, "exc", [0.05, 0.5], chunk=ch)
        f2 = S.fano_factor(t, n, s, **arr, windows_s=[0.05, 0.5])
        assert np.allclose(f1[1], f2[1]) and np.allclose(f1[2], f2[2], equal_nan=True)
        assert np.isclose(S.run_chi_synchrony(run, "exc", 0.02, chunk=ch), S.chi_synchrony(t, n, s, **arr, bin_s=0.02))
        c1 = S.run_count_correlation(run, "exc", 0.05, n_pairs=20, seed=1, chunk=ch)
        c2 = S.count_correlation(t, n, s, **arr, bin_s=0.05, n_pairs=20, seed=1)
        assert np.array_equal(c1[0], c2[0]) and np.allclose(c1[1], c2[1], equal_nan=True)
        assert np.allclose(S.run_cv_isi(run, "exc"), S.cv_isi(t, n, s, N), equal_nan=True)
        assert np.allclose(S.run_lv_isi(run, "exc"), S.lv_isi(t, n, s, N), equal_nan=True)
        assert all(np.allclose(a, b) for a, b in zip(S.run_isi(run, "exc"), S.isi(t, n, s, N, DT)))
        b1, b2 = S.run_detect_bursts(run, "exc", 0.01, 3), S.detect_bursts(t, n, s, N, DT, 0.01, 3)
        assert all(np.array_equal(x, y) for x, y in zip(b1, b2)) and b1.n_spikes.size > 0


def test_validation_errors():
    with pytest.raises(ValueError, match="equal lengths"):
        S.spike_rates([0], [0, 1], [0], 2, 1, 10, 1e-3)
    with pytest.raises(ValueError, match="bin_s"):
        S.population_rate([0], [0], 1, 1, 10, 1e-3, bin_s=0)
    with pytest.raises(ValueError, match="n_neurons"):
        S.cv_isi([0], [0], [0], n_neurons=0)


def test_no_torch_import():
    import subprocess
    import sys
    code = "import sys, neurokit_bdh.analysis.spikes, neurokit_bdh.analysis.weights; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"
