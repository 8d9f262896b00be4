"""Spike time tiling coefficient (Cutts & Eglen 2014): limits (identical 1, independent ~0, jittered
copy 1), a hand-computed example, the definition written out independently, and streamed == loaded."""
from fractions import Fraction

import numpy as np
import pytest

from neurokit_bdh.analysis import spikes as S
from neurokit_bdh.io.runfile import RunWriter, open_run
from tests.analysis.test_spikes import DT, gamma_trains


def brute_sttc(a, b, n_steps, W):
    """The definition, cell by cell and spike by spike, for one trial of integer steps and window W steps:
    T_X = fraction of the unit cells [x, x + 1] of [0, n_steps] inside some [s - W, s + W] of X;
    P_X = fraction of X's spikes with |s_x - s_y| <= W for some spike s_y of the other train."""
    def tiled(x):
        cov = np.zeros(n_steps, bool)
        for s in x:
            cov[max(s - W, 0):min(s + W, n_steps)] = True
        return cov.sum() / n_steps

    def prop(x, y):
        return sum(any(abs(int(sx) - int(sy)) <= W for sy in y) for sx in x) / len(x)

    ta, tb, pa, pb = tiled(a), tiled(b), prop(a, b), prop(b, a)
    return 0.5 * ((pa - tb) / (1 - pa * tb) + (pb - ta) / (1 - pb * ta))


def test_hand_computed_example():
    # n_steps 100, dt 1 ms, dt_w 5 ms (W = 5 steps). A = {2, 10, 50}, B = {12, 55, 98}.
    # T_A: [0,7] u [5,15] u [45,55] = 25 of 100.  T_B: [7,17] u [50,60] u [93,100] = 27 of 100.
    # P_A: 2 no (12 is 10 away), 10 yes, 50 yes (|50 - 55| = 5, inclusive) = 2/3.  P_B: 12 yes, 55 yes, 98 no = 2/3.
    pa, pb, ta, tb = Fraction(2, 3), Fraction(2, 3), Fraction(25, 100), Fraction(27, 100)
    want = (pa - tb) / (1 - pa * tb) / 2 + (pb - ta) / (1 - pb * ta) / 2
    assert want == Fraction(121, 246)
    got = S.sttc([2, 10, 50], [12, 55, 98], n_steps=100, dt=1e-3, delta_s=0.005)
    assert got == pytest.approx(float(want), rel=1e-14, abs=0)
    assert S.sttc([12, 55, 98], [2, 10, 50], 100, 1e-3, 0.005) == pytest.approx(float(want), rel=1e-14)  # symmetric


def test_matches_definition_written_out():
    rng = np.random.default_rng(7)
    for k in range(30):
        n_steps, W = int(rng.integers(50, 400)), int(rng.integers(1, 12))
        a = np.unique(rng.integers(0, n_steps, rng.integers(1, 25)))
        b = np.unique(rng.integers(0, n_steps, rng.integers(1, 25)))
        if k % 5 == 0:                                                  # spikes at both ends of the recording
            a = np.unique(np.concatenate([a, [0, n_steps - 1]]))
        got = S.sttc(a, b, n_steps, 1e-3, W * 1e-3)
        assert got == pytest.approx(brute_sttc(a, b, n_steps, W), rel=1e-12, abs=1e-14)


def test_identical_jittered_and_independent():
    N, T = 40, 200.0
    t, n, s = gamma_trains(N, 10.0, T, k=1.0, seed=21)                   # Poisson, 10 Hz
    n_steps, W = int(T / DT), 50                                         # dt_w = 5 ms
    a = s[n == 0]
    assert S.sttc(a, a, n_steps, DT, 0.005) == 1.0
    rng = np.random.default_rng(0)
    jit = a + rng.integers(-(W - 1), W, a.size)                          # |jitter| < dt_w: every spike tiled
    assert S.sttc(a, np.clip(jit, 0, n_steps - 1), n_steps, DT, 0.005) == pytest.approx(1.0, abs=1e-12)
    far = a + rng.integers(-4 * W, 4 * W + 1, a.size)                    # jitter up to 4 dt_w: clearly below 1
    assert S.sttc(a, np.clip(far, 0, n_steps - 1), n_steps, DT, 0.005) < 0.6
    pairs, x = S.spike_time_tiling(t, n, s, N, 1, n_steps, DT, 0.005, n_pairs=100, seed=0)
    assert pairs.shape == (100, 2) and np.all(pairs[:, 0] != pairs[:, 1]) and np.isfinite(x).all()
    # independent: P_A ~ T_B ~ 1 - exp(-2 * 10 Hz * 5 ms) = 0.095 with ~2000 spikes a train: per-pair sd ~0.007.
    # Discrete steps add a bias of about +rate * dt = +0.001 (P_A counts 2W + 1 steps, T_B tiles 2W).
    assert abs(x.mean()) < 0.005 and np.abs(x).max() < 0.04             # measured mean 0.0015, sd 0.0070, max 0.026
    p2, _ = S.count_correlation(t, n, s, N, 1, n_steps, DT, 0.02, n_pairs=100, seed=0)
    assert np.array_equal(pairs, p2)                                     # the same sampled pairs


def test_trials_pooled_and_streamed_equals_loaded(tmp_path):
    n_trials, N, T = 3, 10, 5.0
    n_steps = int(T / DT)
    t, n, s = gamma_trains(N, 20.0, T, k=1.0, n_trials=n_trials, seed=4)
    # neuron 1 copies neuron 0 trial by trial: STTC 1 although each trial's spikes differ
    other, zero = n != 1, n == 0
    t, n, s = (np.concatenate([t[other], t[zero]]), np.concatenate([n[other], np.ones(zero.sum(), n.dtype)]),
               np.concatenate([s[other], s[zero]]))
    pairs = np.array([[0, 1], [0, 2], [3, 4]])
    _, x = S.spike_time_tiling(t, n, s, N, n_trials, n_steps, DT, 0.01, pairs=pairs)
    assert x[0] == 1.0
    # one trial's trains shifted into another trial would coincide; pooled trials never mix: brute force per
    # trial concatenated with gaps wider than the window gives the same numbers
    W, gap = 100, n_steps + 2 * 100 + 5
    for (i, j), v in zip(pairs, x):
        ga = np.sort(t[n == i] * gap + s[n == i])
        gb = np.sort(t[n == j] * gap + s[n == j])
        ta = sum(brute_tiled(s[(n == i) & (t == k)], n_steps, W) for k in range(n_trials)) / n_trials
        tb = sum(brute_tiled(s[(n == j) & (t == k)], n_steps, W) for k in range(n_trials)) / n_trials
        pa = np.mean([np.any(np.abs(gb - g) <= W) for g in ga])
        pb = np.mean([np.any(np.abs(ga - g) <= W) for g in gb])
        assert v == pytest.approx(0.5 * ((pa - tb) / (1 - pa * tb) + (pb - ta) / (1 - pb * ta)), rel=1e-12)
    order = np.argsort(s, kind="stable")
    path = tmp_path / "run.h5"
    with RunWriter(path, spec_text="", seed=0, dt=DT, n_steps=n_steps, n_trials=n_trials,
                   populations={"exc": N}, projections={}, chunk_events=500, versions={}) as w:
        for a in range(0, len(order), 333):
            o = order[a:a + 333]
            w.add_spikes("exc", t[o], n[o], s[o])
    with open_run(path) as run:
        p1, x1 = S.run_spike_time_tiling(run, "exc", 0.01, n_pairs=30, seed=3, chunk=400)
    p2, x2 = S.spike_time_tiling(t, n, s, N, n_trials, n_steps, DT, 0.01, n_pairs=30, seed=3)
    assert np.array_equal(p1, p2) and np.array_equal(x1, x2)


def brute_tiled(x, n_steps, W):
    cov = np.zeros(n_steps, bool)
    for v in x:
        cov[max(v - W, 0):min(v + W, n_steps)] = True
    return cov.sum() / n_steps


def test_empty_train_and_bad_window():
    assert np.isnan(S.sttc([], [1, 2], 100, 1e-3, 0.005))
    assert np.isnan(S.sttc(np.arange(0, 100, 2), np.arange(0, 100, 2), 100, 1e-3, 0.005))   # tiles everything
    with pytest.raises(ValueError, match="delta_s"):
        S.sttc([1], [2], 100, 1e-3, 0.0004)
    with pytest.raises(ValueError, match="delta_s"):
        S.sttc([1], [2], 100, 1e-3, -1.0)
