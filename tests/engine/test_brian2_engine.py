"""The Brian2 engine against the native engine on the same realised network (float64 on the native side).

Single neuron and recurrent network: spike steps must be identical (both integrate the same affine step
exactly in float64; a flip would need v within ~1e-15 of v_th). STDP pairings: weight changes equal to
1e-9 (float64 traces: native multiplies by e^{-dt/τ} each step, Brian2 evaluates e^{-Δt/τ} at once).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from neurokit_bdh.engine import ENGINES, NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection, StateRecord, WeightRecord

from ..conftest import require

pytestmark = pytest.mark.brian2
DT = 1e-4


@pytest.fixture(scope="module")
def Brian2Engine():
    require("brian2")
    from neurokit_bdh.engine.brian2_engine import Brian2Engine
    return Brian2Engine


def both(net, Brian2Engine, target="cython"):
    rn = NativeEngine(net, dtype=torch.float64).run(keep_spikes=True)
    rb = Brian2Engine(net, target).run(keep_spikes=True)
    return rn, rb


def assert_same_spikes(rn, rb, pops):
    for p in pops:
        a = np.lexsort((rn.spikes[p][1], rn.spikes[p][2]))
        b = np.lexsort((rb.spikes[p][1], rb.spikes[p][2]))
        np.testing.assert_array_equal(rn.spikes[p][2][a], rb.spikes[p][2][b], err_msg=f"{p}: spike steps")
        np.testing.assert_array_equal(rn.spikes[p][1][a], rb.spikes[p][1][b], err_msg=f"{p}: spiking neurons")
        np.testing.assert_array_equal(rn.spike_counts[p], rb.spike_counts[p])


# ------------------------------------------------------------------------------------------- one neuron

def one_neuron(tau_syn, reset, t_ref, w, delay, tau_mem=10e-3, current=None):
    steps = np.sort(np.random.default_rng(1).choice(10_000, 200, replace=False))
    return NetworkSpec(
        dt=DT, duration=1.0, seed=0,
        populations=[Population("src", 1, "spike_source", {"times": [float(s * DT) for s in steps], "neurons": [0] * 200}),
                     Population("post", 1, "lif", dict(tau_mem=tau_mem, tau_syn=tau_syn, v_th=1.0, reset=reset,
                                                       t_ref=t_ref, v_reset=0.1 if reset == "to_value" else 0.0))],
        projections=[Projection("in", "src", "post", "all_to_all", weight={"dist": "constant", "value": w},
                                delay={"dist": "constant", "value": delay})],
        inputs=[Input("current", "post", current)] if current else [])


@pytest.mark.parametrize("tau_syn,w", [(5e-3, 1.5), (10e-3, 0.8), (0.0, 0.65)])   # 10 ms = tau_mem: degenerate case
@pytest.mark.parametrize("reset", ["to_value", "subtract"])
@pytest.mark.parametrize("delay", [1e-4, 7e-4])
def test_single_neuron_identical_spikes(Brian2Engine, tau_syn, w, reset, delay):
    cur = dict(amplitude=0.4, start=0.3, stop=0.6)
    rn, rb = both(realise(one_neuron(tau_syn, reset, 2e-3, w, delay, current=cur)), Brian2Engine)
    assert rn.spike_counts["post"].sum() >= 40, rn.spike_counts
    assert_same_spikes(rn, rb, ["src", "post"])


def test_numpy_target_and_euler(Brian2Engine):
    spec = one_neuron(5e-3, "to_value", 3e-3, 1.5, 2e-4)
    spec.populations[1].params["method"] = "euler"
    rn, rb = both(realise(spec), Brian2Engine, target="numpy")
    assert rn.spike_counts["post"].sum() >= 40
    assert_same_spikes(rn, rb, ["post"])


# ------------------------------------------------------------------------------------------- STDP pairings

def pairing(rule, pre_steps, kick_steps, n_steps=400, dt=1e-3):
    t = lambda s: [round(x * dt, 9) for x in s]  # noqa: E731
    return NetworkSpec(
        dt=dt, duration=n_steps * dt, seed=0,
        populations=[
            Population("pre", 1, "spike_source", {"times": t(pre_steps), "neurons": [0] * len(pre_steps)}),
            Population("kick", 1, "spike_source", {"times": t(kick_steps), "neurons": [0] * len(kick_steps)}),
            Population("post", 1, "lif", {"tau_mem": 20e-3, "tau_syn": 0.0, "v_th": 1.0})],
        projections=[
            Projection("syn", "pre", "post", "all_to_all", weight={"dist": "constant", "value": 0.5},
                       delay={"dist": "constant", "value": dt}, plasticity=rule),
            Projection("kick", "kick", "post", "all_to_all", weight={"dist": "constant", "value": 5.0},
                       delay={"dist": "constant", "value": dt})])


RULES = {
    "additive": dict(rule="stdp", a_plus=0.01, a_minus=0.012, tau_plus=17e-3, tau_minus=34e-3),
    "multiplicative": dict(rule="stdp", kind="multiplicative", a_plus=0.01, a_minus=0.012, tau_plus=17e-3, tau_minus=34e-3),
    "power_law": dict(rule="stdp", kind="power_law", mu=0.4, a_plus=0.01, a_minus=0.012, tau_plus=17e-3, tau_minus=34e-3),
    "triplet": dict(rule="triplet", a2_plus=5e-3, a3_plus=6.2e-3, a2_minus=7e-3, a3_minus=2.3e-3),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_stdp_pairings_equal(Brian2Engine, rule):
    rng = np.random.default_rng(0)
    # a train of 12 pairings at offsets -20..20 steps, then bursts that make triplet terms matter
    pre = [30 * k + 10 for k in range(12)] + [370, 372, 380]
    kick = [30 * k + 10 + int(d) - 1 for k, d in enumerate(rng.integers(-15, 16, 12))] + [373, 375, 385]
    net = realise(pairing(RULES[rule], pre, sorted(set(kick))))
    rn, rb = both(net, Brian2Engine)
    assert_same_spikes(rn, rb, ["pre", "kick", "post"])
    assert rn.spike_counts["post"].sum() >= 12
    w0 = rn.initial_weights["syn"][2][0, 0]
    dn, db = rn.weights["syn"][2][0, 0] - w0, rb.weights["syn"][2][0, 0] - w0
    assert abs(dn) > 1e-3
    assert dn == pytest.approx(db, abs=1e-9)


# ------------------------------------------------------------------------------------------- E/I network

def ei_network(tau_syn=5e-3, delay=None, duration=0.2):
    n_src = 20
    src_steps = np.random.default_rng(2).integers(0, int(duration / DT), 600)
    src_n = np.random.default_rng(3).integers(0, n_src, 600)
    plast = dict(rule="stdp", on="exc_exc", a_plus=0.005, a_minus=0.006, tau_plus=15e-3, tau_minus=25e-3,
                 w_min=0.0, w_max=0.4)
    return NetworkSpec(
        dt=DT, duration=duration, seed=4,
        populations=[Population("net", 200, "lif", dict(tau_mem=15e-3, tau_syn=tau_syn, v_th=1.0, t_ref=2e-3),
                                frac_exc=0.8),
                     Population("src", n_src, "spike_source", {"times": [float(s * DT) for s in src_steps],
                                                               "neurons": [int(i) for i in src_n]})],
        projections=[Projection("rec", "net", "net", "barabasi_albert", {"m": 5},
                                weight={"dist": "uniform", "low": 0.05, "high": 0.3}, g=3.0,
                                delay=delay or {"dist": "uniform", "low": 1e-4, "high": 1e-3}, plasticity=plast),
                     Projection("in", "src", "net", "random", {"p": 0.3},
                                weight={"dist": "uniform", "low": 0.2, "high": 0.6},
                                delay={"dist": "constant", "value": 2e-4})],
        inputs=[Input("current", "net", {"amplitude": 0.3, "start": 0.0, "stop": duration})])


@pytest.mark.parametrize("tau_syn", [5e-3, 0.0])
def test_recurrent_ei_network_identical(Brian2Engine, tau_syn):
    """200 LIF neurons, BA(m=5) E/I graph, delays 1..10 steps, STDP on E->E: the same spikes and weights.

    t_ref (20 steps) exceeds every delay, so no spike is in flight when its neuron fires again and
    Brian2's transmitted weight (``wtx``, stored at emission) is exactly ours."""
    net = realise(ei_network(tau_syn))
    assert net.projections["rec"].csr.delays.max() > 5
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        rn, rb = both(net, Brian2Engine)
    assert rn.rate("net") > 5
    assert_same_spikes(rn, rb, ["net", "src"])
    wn, wb = rn.weights["rec"][2], rb.weights["rec"][2]
    assert np.abs(wn - rn.initial_weights["rec"][2]).max() > 1e-3   # STDP did act
    np.testing.assert_allclose(wb, wn, rtol=0, atol=1e-9)


# ------------------------------------------------------------------------------------------- refusals, registry

def test_registry_and_refusals(Brian2Engine):
    assert ENGINES["brian2"] is not None
    net = realise(ei_network())
    with pytest.raises(ValueError, match="target.*'gpu'"):
        Brian2Engine(net, "gpu")
    spec = ei_network()
    spec.projections[0].structural = {}
    with pytest.raises(NotImplementedError, match="structural plasticity"):
        Brian2Engine(realise(spec))
    spec = ei_network()
    spec.n_trials = 2  # batched trials are rendered (tests/engine/test_brian2_trials.py)
    assert Brian2Engine(realise(spec)).B == 2


def test_in_flight_spikes_warn(Brian2Engine):
    """Without refractoriness, strongly driven (ISI ~ 20 steps) and with 30-step delays a neuron fires again
    before its last spike arrived; Brian2 then sends the newer weight: the engine says so (rates still agree)."""
    spec = ei_network(delay={"dist": "constant", "value": 3e-3})
    spec.populations[0].params["t_ref"] = 0.0
    spec.inputs[0].params["amplitude"] = 8.0
    net = realise(spec)
    rn = NativeEngine(net, dtype=torch.float64).run()
    with pytest.warns(RuntimeWarning, match="in flight|within its delay"):
        rb = Brian2Engine(net).run()
    assert rb.rate("net") == pytest.approx(rn.rate("net"), rel=0.05)


def test_writer_same_file_content(Brian2Engine, tmp_path):
    from neurokit_bdh.io.runfile import RunWriter, open_run
    spec = ei_network(duration=0.1)
    spec.record.weights = [WeightRecord("rec", 400)]
    spec.record.state = [StateRecord("net", ["v", "i", "ref"], neurons=7, every=250)]
    net = realise(spec)
    paths = {}
    for name, engine in (("native", NativeEngine(net, dtype=torch.float64)), ("brian2", Brian2Engine(net))):
        paths[name] = tmp_path / f"{name}.h5"
        with RunWriter(paths[name], spec_text=spec.to_toml(), seed=spec.seed, dt=spec.dt, n_steps=spec.n_steps,
                       n_trials=1, populations={n: p.size for n, p in net.populations.items()},
                       projections={n: (p.pre, p.post) for n, p in net.projections.items()}) as w:
            engine.run(writer=w)
    with open_run(paths["native"]) as a, open_run(paths["brian2"]) as b:
        for pop in ("net", "src"):
            ka = np.lexsort(a.spikes(pop)[::-1])
            kb = np.lexsort(b.spikes(pop)[::-1])
            for x, y in zip(a.spikes(pop), b.spikes(pop)):
                np.testing.assert_array_equal(x[ka], y[kb])
        assert a.weight_steps("rec") == b.weight_steps("rec") == [0, 400, 800, 1000]
        for k in range(4):
            sa, pa, ia, wa = a.weights("rec", k)
            sb, pb, ib, wb = b.weights("rec", k)
            assert sa == sb
            np.testing.assert_array_equal(pa, pb)
            np.testing.assert_array_equal(ia, ib)
            np.testing.assert_allclose(wa, wb, rtol=0, atol=1e-6)
        for var in ("v", "i", "ref"):
            xa, xb = a.state("net", var), b.state("net", var)
            assert list(xa[0]) == [249, 499, 749, 999]
            for u, z in zip(xa, xb):
                np.testing.assert_allclose(np.asarray(u, float), np.asarray(z, float), rtol=0, atol=1e-6, err_msg=var)
