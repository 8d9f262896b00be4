"""Batched trials (n_trials > 1) in the Brian2 engine: B copies of one network side by side.

Deterministic drive: every trial is the n_trials = 1 run, spike for spike, and the native engine's
(float64). Poisson drive: the trials differ, each is a faithful run of the network on its own input (rerun
on the native engine from that trial's recorded input spikes: same spikes, STDP weights equal to 1e-9),
and the mean rates agree with the native engine's in distribution.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection, StateRecord, WeightRecord

from ..conftest import require
from .test_brian2_engine import ei_network

pytestmark = pytest.mark.brian2
B = 3


@pytest.fixture(scope="module")
def Brian2Engine():
    require("brian2")
    from neurokit_bdh.engine.brian2_engine import Brian2Engine
    return Brian2Engine


def write_run(engine, spec, net, path, **kw):
    from neurokit_bdh.io.runfile import RunWriter
    with RunWriter(path, spec_text=spec.to_toml(), seed=spec.seed, dt=spec.dt, n_steps=spec.n_steps,
                   n_trials=spec.n_trials, populations={n: p.size for n, p in net.populations.items()},
                   projections={n: (p.pre, p.post) for n, p in net.projections.items()}) as w:
        return engine.run(writer=w, **kw)


def trial_spikes(result, pop, b):
    """(neuron, step) of trial b, sorted by step then neuron."""
    tb, n, s = result.spikes[pop]
    n, s = n[tb == b], s[tb == b]
    k = np.lexsort((n, s))
    return n[k], s[k]


def test_deterministic_trials_identical(Brian2Engine, tmp_path):
    """200-neuron E/I network with delays, STDP and spike-source + current input, 3 trials: each trial equals
    the one-trial Brian2 run and the native engine's trial (spikes, weights, sampled state)."""
    from neurokit_bdh.io.runfile import open_run
    spec = ei_network(duration=0.1)
    spec.record.weights = [WeightRecord("rec", 400)]
    spec.record.state = [StateRecord("net", ["v", "i", "ref"], neurons=7, every=250)]
    one = Brian2Engine(realise(spec)).run(keep_spikes=True)
    spec.n_trials = B
    net = realise(spec)
    rn = write_run(NativeEngine(net, dtype=torch.float64), spec, net, tmp_path / "native.h5", keep_spikes=True)
    rb = write_run(Brian2Engine(net), spec, net, tmp_path / "brian2.h5", keep_spikes=True)
    assert rb.n_trials == B and rb.spike_counts["net"].shape == (B, 200)
    assert one.spike_counts["net"].sum() > 100
    for pop in ("net", "src"):
        n1, s1 = trial_spikes(one, pop, 0)
        for b in range(B):
            for other in (rb, rn):
                n, s = trial_spikes(other, pop, b)
                np.testing.assert_array_equal(s, s1, err_msg=f"{pop} trial {b}: spike steps")
                np.testing.assert_array_equal(n, n1, err_msg=f"{pop} trial {b}: neurons")
            np.testing.assert_array_equal(rb.spike_counts[pop][b], one.spike_counts[pop][0])
    w1 = one.weights["rec"][2]
    assert rb.weights["rec"][2].shape == (B, w1.shape[1])
    assert np.abs(w1 - one.initial_weights["rec"][2]).max() > 1e-3  # STDP acted
    np.testing.assert_array_equal(rb.weights["rec"][2], np.repeat(w1, B, 0))
    np.testing.assert_allclose(rb.weights["rec"][2], rn.weights["rec"][2], rtol=0, atol=1e-9)
    with open_run(tmp_path / "native.h5") as a, open_run(tmp_path / "brian2.h5") as f:
        assert f.n_trials == B
        for pop in ("net", "src"):
            ta, na, sa = a.spikes(pop)
            tf, nf, sf = f.spikes(pop)
            ka, kf = np.lexsort((na, sa, ta)), np.lexsort((nf, sf, tf))
            for x, y in ((ta, tf), (na, nf), (sa, sf)):
                np.testing.assert_array_equal(x[ka], y[kf])
            assert sorted(set(tf.tolist())) == list(range(B))
        assert a.weight_steps("rec") == f.weight_steps("rec") == [0, 400, 800, 1000]
        for k in range(4):
            wa, wf = a.weights("rec", k)[3], f.weights("rec", k)[3]
            assert wf.shape == (B, w1.shape[1])
            np.testing.assert_allclose(wf, wa, rtol=0, atol=1e-9)
        for var in ("v", "i", "ref"):
            (sa_, xa, _), (sf_, xf, nf_) = a.state("net", var), f.state("net", var)
            assert list(sf_) == [249, 499, 749, 999] and xf.shape == (4, B, len(nf_))
            np.testing.assert_allclose(np.asarray(xf, float), np.asarray(xa, float), rtol=0, atol=1e-9, err_msg=var)
            np.testing.assert_array_equal(xf[:, 1:], xf[:, :1].repeat(B - 1, 1))


def poisson_network(duration=0.5):
    """200 LIF neurons, sparse E/I recurrence, each driven by 100 Poisson inputs at 10 Hz (~15 Hz output)."""
    return NetworkSpec(
        dt=1e-4, duration=duration, seed=11, n_trials=B,
        populations=[Population("net", 200, "lif", dict(tau_mem=20e-3, tau_syn=5e-3, v_th=1.0, t_ref=2e-3),
                                frac_exc=0.8)],
        projections=[Projection("rec", "net", "net", "random", {"p": 0.05},
                                weight={"dist": "uniform", "low": 0.02, "high": 0.1}, g=2.0,
                                delay={"dist": "uniform", "low": 5e-4, "high": 2e-3})],
        inputs=[Input("poisson", "net", {"rate": 10.0, "n_sources": 100, "weight": 0.2})])


def test_poisson_trials_differ_rates_agree(Brian2Engine, tmp_path):
    """Independent drive per trial: trials differ; each trial's mean rate is within 5% of the native engine's
    mean over its 3 trials (~14 Hz; each trial's rate averages ~1400 spikes, which vary less than Poisson: the
    trials spread by ~1%, so 5% is > 4 σ of the difference; the two engines' streams are unrelated)."""
    from neurokit_bdh.io.runfile import open_run
    from neurokit_bdh.simulate import simulate
    spec = poisson_network()
    rn = NativeEngine(realise(spec), dtype=torch.float64).run()
    rb = simulate(spec, tmp_path / "run.h5", engine="brian2", keep_spikes=True)
    with open_run(tmp_path / "run.h5") as f:  # the run file holds every trial's spikes
        assert f.n_trials == B and f.attrs["engine"] == "brian2"
        np.testing.assert_array_equal(f.spike_counts("net"), rb.spike_counts["net"])
    native_rate = rn.rate("net")
    assert 8.0 < native_rate < 40.0, native_rate
    rates = rb.spike_counts["net"].mean(1) / 0.5
    np.testing.assert_allclose(rates, native_rate, rtol=0.05)
    for b in range(1, B):
        assert not np.array_equal(rb.spike_counts["net"][b], rb.spike_counts["net"][0])
        n0, s0 = trial_spikes(rb, "net", 0)
        nb, sb = trial_spikes(rb, "net", b)
        # independent streams: few of trial b's spikes coincide with trial 0's (same neuron, same step)
        common = len(set(zip(n0.tolist(), s0.tolist())) & set(zip(nb.tolist(), sb.tolist())))
        assert common < 0.05 * len(nb), (b, common, len(nb))


def stdp_from_sources(src, dt=5e-4, duration=0.5):
    """50 inputs (Poisson population at 20 Hz, or a spike source replaying given spikes) -> 20 LIF neurons
    through all-to-all pair STDP with one-step delays."""
    plast = dict(rule="stdp", a_plus=0.01, a_minus=0.011, tau_plus=17e-3, tau_minus=34e-3, w_min=0.0, w_max=0.5)
    return NetworkSpec(
        dt=dt, duration=duration, seed=5, n_trials=B if src is None else 1,
        populations=[Population("src", 50, "poisson", {"rate": 20.0}) if src is None else
                     Population("src", 50, "spike_source", src),
                     Population("post", 20, "lif", dict(tau_mem=10e-3, tau_syn=5e-3, v_th=1.0, t_ref=1e-3))],
        projections=[Projection("syn", "src", "post", "all_to_all", weight={"dist": "uniform", "low": 0.1, "high": 0.3},
                                delay={"dist": "constant", "value": dt}, plasticity=plast)])


def test_stdp_weights_per_trial_standalone(Brian2Engine, tmp_path):
    """Poisson inputs, STDP, 3 trials, cpp_standalone (one build, ~20 s): weight snapshots (3, n_syn) in the
    run file (the middle one from the standalone weight monitor), different per trial; each trial replayed
    on the native engine from its own recorded input spikes gives the same output spikes and final weights
    (1e-9): every copy is the network, alone."""
    from neurokit_bdh.io.runfile import open_run
    spec = stdp_from_sources(None)
    spec.record.weights = [WeightRecord("syn", 500)]
    path = tmp_path / "run.h5"
    net = realise(spec)
    res = write_run(Brian2Engine(net, "cpp_standalone", standalone_dir=tmp_path / "build"), spec, net, path,
                    keep_spikes=True)
    n_syn = 50 * 20
    with open_run(path) as f:
        assert f.n_trials == B and f.weight_steps("syn") == [0, 500, 1000]
        w0, wm, wT = (f.weights("syn", k)[3] for k in range(3))
        assert w0.shape == wm.shape == wT.shape == (B, n_syn)
        np.testing.assert_array_equal(w0[1:], w0[:1].repeat(B - 1, 0))
        np.testing.assert_array_equal(wT, res.weights["syn"][2])
        spikes = {pop: f.spikes(pop) for pop in ("src", "post")}
    for b in range(1, B):
        assert np.abs(wT[b] - wT[0]).max() > 1e-3, b
    assert np.abs(wT - w0).max() > 1e-2  # STDP acted
    dt = spec.dt
    for b in range(B):
        tb, n, s = spikes["src"]
        keep = tb == b
        replay = stdp_from_sources({"times": [float(x * dt) for x in s[keep]], "neurons": n[keep].tolist()})
        replay.record.weights = spec.record.weights
        rnet = realise(replay)
        np.testing.assert_array_equal(rnet.projections["syn"].csr.weights, w0[b])  # the same realised network
        rn = write_run(NativeEngine(rnet, dtype=torch.float64), replay, rnet, tmp_path / f"replay{b}.h5",
                       keep_spikes=True)
        with open_run(tmp_path / f"replay{b}.h5") as f:
            np.testing.assert_allclose(wm[b], f.weights("syn", 1)[3][0], rtol=0, atol=1e-9, err_msg=f"trial {b}")
        tp, npost, sp = spikes["post"]
        nb, sb = npost[tp == b], sp[tp == b]
        kb, kn = np.lexsort((nb, sb)), np.lexsort((rn.spikes["post"][1], rn.spikes["post"][2]))
        assert len(sb) > 50, (b, len(sb))
        np.testing.assert_array_equal(sb[kb], rn.spikes["post"][2][kn], err_msg=f"trial {b}")
        np.testing.assert_array_equal(nb[kb], rn.spikes["post"][1][kn], err_msg=f"trial {b}")
        np.testing.assert_allclose(wT[b], rn.weights["syn"][2][0], rtol=0, atol=1e-9, err_msg=f"trial {b}")
