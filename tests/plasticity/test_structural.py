"""Structural plasticity on a directed scale-free E/I network with pair STDP: synapses die and are born,
and preferential attachment keeps the in-degree distribution heavy-tailed (StructuralPlasticity docstring)."""
from __future__ import annotations

import numpy as np

from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection
from neurokit_bdh.graph.topology import erdos_renyi, powerlaw_fit
from neurokit_bdh.simulate import simulate

N, T, W_MAX, W_PRUNE = 2000, 4.0, 0.1, 0.01


def scale_free_spec(seed=1):
    return NetworkSpec(
        dt=1e-4, duration=T, seed=seed,
        populations=[Population("net", N, "lif", {"tau_mem": 20e-3, "tau_syn": 5e-3, "v_th": 1.0, "t_ref": 2e-3},
                                frac_exc=0.8)],
        projections=[Projection(
            "rec", "net", "net", "directed_scale_free", {},  # Bollobás et al. defaults: in-degree exponent ≈ 2.15
            weight={"dist": "uniform", "low": 0.0, "high": W_MAX}, g=4.0,
            delay={"dist": "uniform", "low": 1.5e-3, "high": 3e-3},
            plasticity=dict(rule="stdp", on="exc_exc", a_plus=0.005, a_minus=0.006, w_min=0.0, w_max=W_MAX),
            structural=dict(w_prune=W_PRUNE, t_prune=0.3, growth_rate=150.0, w_new=0.02, interval=0.1))],
        inputs=[Input("poisson", "net", {"rate": 1400.0, "weight": 0.15})])


def in_degree(indices):
    return np.bincount(np.asarray(indices, np.int64), minlength=N)


def test_structural_plasticity_keeps_in_degree_heavy_tailed():
    """2000 LIF neurons (80 % excitatory, g = 4), directed scale-free graph (~3500 synapses), Poisson drive,
    pair STDP on E->E (A- = 1.2·A+), pruning of synapses with |w| < 0.01 for 0.3 s, growth 150/s by
    preferential attachment, 4 s simulated (~4 s wall).

    Asserted (measured with seeds 1 / 2 / 3: S 3540 -> 3324 / 3224 / 3299, births 556 / 556 / 578,
    deaths 772 / 872 / 859 vs 306 / 303 / 292 initially weak, hub share 0.41 / 0.35 / 0.40, α 2.16 -> 2.02 /
    1.96 -> 1.91 / 1.84 -> 1.94, final max/mean in-degree 389 / 328 / 315 vs ER 4.9 / 4.4 / 4.3; the test
    runs seed 1):
    * births > 0 and deaths > 0, as recorded in r.births / r.deaths, and the synapse count balances:
      S_end = S_start + births - deaths;
    * deaths exceed the synapses that started below w_prune: STDP depression itself caused pruning;
    * the births went preferentially to hubs: the 1 % of neurons with the largest in-degree received
      > 10 % of the new synapses (uniform attachment would give them 1 %);
    * heavy tail: the discrete power-law MLE exponent of the final in-degrees (powerlaw_fit, xmin by
      minimum KS) lies in [1.8, 2.6] and within 0.3 of the initial graph's (the generator's theoretical
      in-degree exponent is 1 + (1 + δ_in(α+γ))/(α+β) ≈ 2.15);
    * max/mean in-degree stays far above an Erdős–Rényi graph with the same neurons and synapse count:
      > 20 × the ER value (ER max/mean ≈ 4-5, checked < 8).
    """
    r = simulate(scale_free_spec())
    _, idx0, w0 = r.initial_weights["rec"]
    indptr1, idx1, w1 = r.weights["rec"]
    births, deaths = r.births["rec"], r.deaths["rec"]
    s0, s1 = idx0.size, idx1.size
    weak0 = int((np.abs(w0[0]) < W_PRUNE).sum())
    print(f"S {s0} -> {s1}, births {births}, deaths {deaths}, initially weak {weak0}, "
          f"rate {r.rate('net'):.1f} Hz, wall {r.wall_s:.1f} s")
    assert births > 0 and deaths > 0
    assert s1 == s0 + births - deaths
    assert deaths > weak0

    # new synapses and where they went
    pre0 = np.repeat(np.arange(N), np.diff(r.initial_weights["rec"][0]))
    pre1 = np.repeat(np.arange(N), np.diff(indptr1))
    old = set((pre0 * N + idx0).tolist())
    new_post = np.array([k % N for k in (pre1 * N + idx1).tolist() if k not in old])
    assert new_post.size > 0  # some of the births survive to the end
    deg0, deg1 = in_degree(idx0), in_degree(idx1)
    hubs = np.argsort(deg0)[-N // 100:]
    hub_share = float(np.isin(new_post, hubs).mean())

    fit0, fit1 = powerlaw_fit(deg0), powerlaw_fit(deg1)
    _, er_post = erdos_renyi(N, s1 / (N * (N - 1)), seed=0)
    er = in_degree(er_post)
    sf_ratio, er_ratio = deg1.max() / deg1.mean(), er.max() / er.mean()
    print(f"hub share of new synapses {hub_share:.3f}; alpha {fit0.alpha:.2f} (xmin {fit0.xmin:.0f}, "
          f"n_tail {fit0.n_tail}) -> {fit1.alpha:.2f} (xmin {fit1.xmin:.0f}, n_tail {fit1.n_tail}, "
          f"sigma {fit1.sigma:.2f}); max/mean {deg0.max() / deg0.mean():.1f} -> {sf_ratio:.1f}, ER {er_ratio:.1f}")
    assert hub_share > 0.10
    assert 1.8 <= fit1.alpha <= 2.6
    assert abs(fit1.alpha - fit0.alpha) < 0.3
    assert er_ratio < 8
    assert sf_ratio > 20 * er_ratio
