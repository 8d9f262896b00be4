"""Weight statistics: bimodality coefficient, Vuong heavy-tail tests, matching, degrees (tolerances stated)."""
import numpy as np

from neurokit_bdh.analysis import heavy_tail as H
from neurokit_bdh.analysis import weights as W
from neurokit_bdh.io.runfile import RunWriter, open_run


def test_bimodality_coefficient():
    rng = np.random.default_rng(0)
    bimodal = np.concatenate([rng.normal(0, 1, 2000), rng.normal(5, 1, 2000)])
    assert W.bimodality_coefficient(bimodal) > W.BC_UNIFORM                # measured 0.656
    assert W.bimodality_coefficient(rng.normal(size=4000)) < W.BC_UNIFORM  # measured 0.340 (theory 1/3)
    assert abs(W.bimodality_coefficient(rng.normal(size=4000)) - 1 / 3) < 0.03
    assert abs(W.bimodality_coefficient(rng.uniform(size=20000)) - 5 / 9) < 0.02   # measured 0.550


def test_vuong_lognormal_data_prefers_lognormal():
    x = np.random.default_rng(1).lognormal(0.0, 1.0, 5000)
    h = H.compare_tails(x, H.fit_power_law(x, xmin=1.0))
    assert h.fit.n_tail > 2000 and abs(h.mu) < 0.2 and abs(h.sigma - 1) < 0.1  # truncated MLE; measured -0.11, 1.05
    assert h.vs_lognormal.R < 0 and h.vs_lognormal.p < 0.05                  # measured R_norm -8.1, p 5e-16


def test_vuong_pareto_data_prefers_power_law():
    x = (1 - np.random.default_rng(2).random(5000)) ** (-1 / 1.5)             # Pareto, alpha = 2.5, xmin = 1
    h = H.compare_tails(x, min_tail=50)                                        # xmin by KS
    assert 1 <= h.fit.xmin < 1.5 and abs(h.fit.alpha - 2.5) < 0.1            # measured xmin 1.20, alpha 2.46
    assert h.vs_exponential.R > 0 and h.vs_exponential.p < 0.05              # measured R_norm 4.47, p 8e-6
    # a lognormal truncated at xmin can imitate a power law (mu -> -inf): the test is then inconclusive,
    # as Clauset et al. 2009 report; it must at least not favour the lognormal significantly
    assert h.vs_lognormal.p > 0.05 or h.vs_lognormal.R > 0                  # measured R_norm -0.52, p 0.60


def test_loglikelihood_ratio_formula():
    d = np.array([1.0, 2.0, 0.5, -0.5])
    r = H.loglikelihood_ratio(d, np.zeros(4))
    assert np.isclose(r.R, 3.0) and np.isclose(r.R_norm, 3.0 / (2 * d.std()))
    from scipy.special import erfc
    assert np.isclose(r.p, erfc(abs(r.R_norm) / np.sqrt(2)))


def test_potentiation_and_trajectories():
    pre0, post0, w0 = np.array([0, 0, 1, 2]), np.array([1, 2, 0, 2]), np.array([1.0, 1.0, 1.0, 1.0])
    pre1, post1, w1 = np.array([0, 1, 2, 3]), np.array([2, 0, 2, 3]), np.array([2.0, 0.5, 1.0, 9.0])
    f = W.potentiation_fraction(pre0, post0, w0, pre1, post1, w1)
    assert f["n_matched"] == 3 and np.isclose(f["potentiated"], 1 / 3) and np.isclose(f["depressed"], 1 / 3)
    pre, post, w = W.synapse_trajectories([(pre0, post0, w0), (pre1, post1, w1)], n_samples=10, seed=0)
    assert list(zip(pre.tolist(), post.tolist())) == [(0, 2), (1, 0), (2, 2)]
    assert np.allclose(w, [[1, 1, 1], [2, 0.5, 1]])


def test_degrees_er_baseline_and_powerlaw():
    rng = np.random.default_rng(3)
    n = 2000
    # heavy-tailed out-degree: row lengths from a discrete power law
    deg = np.minimum(rng.zipf(2.5, n), n - 1)
    indptr = np.concatenate([[0], np.cumsum(deg)])
    indices = np.concatenate([rng.choice(n, d, replace=False) for d in deg])
    w = rng.uniform(0, 1, indices.size)
    d = W.degree_analysis(indptr, indices, w, n, threshold=-1.0, seed=0)
    assert np.array_equal(d["out_degree"], deg) and d["n_edges"] == indices.size
    assert d["er_out_degree"].sum() == d["er_in_degree"].sum() == indices.size
    assert abs(d["fit_out"].alpha - 2.5) < 0.25                          # CSN discrete MLE
    er_mean = d["er_out_degree"].mean()
    assert abs(d["er_out_degree"].var() - er_mean) < 0.3 * er_mean       # ER degrees ~ Poisson
    strong = W.strong_degrees(indptr, indices, w, n, threshold=0.5)
    assert strong["n_edges"] == int((w > 0.5).sum())
    assert np.isclose(strong["out_strength"].sum(), w[w > 0.5].sum())


def test_run_file_wrappers(tmp_path):
    rng = np.random.default_rng(4)
    n_pre, n_post = 30, 20
    path = tmp_path / "w.h5"
    snaps = []
    with RunWriter(path, spec_text="", seed=0, dt=1e-3, n_steps=100, n_trials=1,
                   populations={"a": n_pre, "b": n_post}, projections={"ab": ("a", "b")}, versions={}) as wr:
        for k, step in enumerate([0, 50, 100]):
            mask = rng.random((n_pre, n_post)) < 0.5
            mask[:5, :5] = True                                           # always present
            pre, post = np.nonzero(mask)
            w = rng.uniform(0, 1, pre.size).astype(np.float32)
            indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))])
            wr.add_weights("ab", step, indptr, post.astype(np.uint32), w)
            snaps.append((pre, post, w.astype(np.float64)))
    with open_run(path) as run:
        steps, edges, counts = W.run_weight_histograms(run, "ab", bins=10)
        e2, c2 = W.weight_histograms([s[2] for s in snaps], bins=10)
        assert steps.tolist() == [0, 50, 100] and np.allclose(edges, e2) and np.array_equal(counts, c2)
        summ = W.run_weight_summary(run, "ab")
        assert np.isclose(summ[1]["total"], snaps[1][2].sum()) and summ[2]["step"] == 100
        f = W.run_potentiation_fraction(run, "ab", 0, -1)
        assert f == W.potentiation_fraction(*snaps[0], *snaps[2])
        st, pre, post, tr = W.run_synapse_trajectories(run, "ab", n_samples=15, seed=7)
        p2, q2, t2 = W.synapse_trajectories(snaps, n_samples=15, seed=7)
        assert np.array_equal(pre, p2) and np.array_equal(post, q2) and np.allclose(tr, t2) and tr.shape == (3, 15)
        da = W.run_degree_analysis(run, "ab", threshold=0.5)
        assert [d["step"] for d in da] == [0, 50, 100]
        assert da[0]["n_edges"] == int((snaps[0][2] > 0.5).sum())
