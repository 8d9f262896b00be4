"""Multi-layer SBM community count by the sequential goodness-of-fit test, Louvain against its baseline."""
import numpy as np

from neurokit_bdh.analysis.communities import louvain, mlsbm_select
from tests.conftest import require


def _layers(n, k, pin, pout, n_layers, seed):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, k, n)
    out = []
    for l in range(n_layers):
        p = np.where(g[:, None] == g[None], pin * (1 + 0.2 * l), pout)
        up = np.triu(rng.random((n, n)) < p, 1).astype(float)
        out.append(up + up.T)
    return out, g


def test_mlsbm_recovers_three_communities_and_baseline_has_one():
    layers, g = _layers(300, 3, 0.15, 0.05, 3, seed=0)
    r = mlsbm_select(layers, k_max=6)
    assert r.k_hat == 3 and r.baseline_k_hat == 1
    assert r.stats[0] > 50 and r.stats[2] < r.threshold                     # measured 137, 93, -1.8; thr 4.6
    pairs = np.mean((r.labels[:, None] == r.labels[None]) == (g[:, None] == g[None]))
    assert pairs > 0.99                                                      # partition recovered (up to labels)


def test_mlsbm_on_er_layers_selects_one():
    layers, _ = _layers(300, 1, 0.1, 0.1, 2, seed=1)
    assert mlsbm_select(layers, k_max=5).k_hat == 1


def test_louvain_planted_partition_beats_random_baseline():
    require("networkx")
    layers, g = _layers(300, 4, 0.2, 0.01, 1, seed=2)
    u, v = np.nonzero(np.triu(layers[0]))
    r = louvain(u, v, n_nodes=300, seed=0)
    assert r.n_communities == 4 and r.modularity > 0.6                       # planted: Q = 0.68 expected
    assert r.baseline_modularity < r.modularity - 0.3                        # G(n, m) baseline ~0.25


def test_mlsbm_with_known_ei_groups():
    """E and I sub-graphs (Dale: an I-I pair has no excitatory synapse) of a planted two-block network:
    without the types the E/I structure spoils the fit (measured K = k_max = 6); with them K = 2."""
    from neurokit_bdh.analysis.communities import undirected_adjacency
    rng = np.random.default_rng(0)
    n = 300
    exc, g = rng.random(n) < 0.8, rng.integers(0, 2, n)
    a = rng.random((n, n)) < np.where(g[:, None] == g[None], 0.12, 0.03)
    np.fill_diagonal(a, False)
    pre, post = np.nonzero(a)
    layers = [undirected_adjacency(pre, post, n, exc[pre]), undirected_adjacency(pre, post, n, ~exc[pre])]
    assert mlsbm_select(layers, k_max=6).k_hat > 2
    r = mlsbm_select(layers, k_max=6, groups=exc.astype(int))
    assert r.k_hat == 2 and r.baseline_k_hat == 1                          # measured stats 72.1, -14.3
    assert np.mean((r.labels[:, None] == r.labels[None]) == (g[:, None] == g[None])) > 0.99
