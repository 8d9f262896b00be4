"""The native engine against a plain dense step-by-step reference written out here, spike for spike."""
import math

import numpy as np
import pytest
import torch

from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection

TM, TS, VTH, TREF, DT = 10e-3, 4e-3, 1.0, 2e-3, 1e-4
STDP = dict(a_plus=0.01, a_minus=0.012, tau_plus=15e-3, tau_minus=25e-3, w_min=0.0, w_max=0.3)


def small_spec(delay, stdp=True, n=60, seed=3, duration=0.3, n_trials=1, drive=None, t_ref=TREF, amp=0.8):
    plast = dict(rule="stdp", on="exc_exc", **STDP) if stdp else None
    src_times = list(np.round(np.linspace(0.001, duration - 0.01, 80), 4))
    src_neurons = [int(i) for i in np.random.default_rng(0).integers(0, 10, 80)]
    inputs = [Input("current", "net", {"amplitude": amp, "start": 0.0, "stop": duration})]
    if drive:
        inputs.append(Input("poisson", "net", drive))
    return NetworkSpec(
        dt=DT, duration=duration, seed=seed, n_trials=n_trials,
        populations=[Population("net", n, "lif", dict(tau_mem=TM, tau_syn=TS, v_th=VTH, t_ref=t_ref), frac_exc=0.8),
                     Population("src", 10, "spike_source", {"times": src_times, "neurons": src_neurons})],
        projections=[Projection("rec", "net", "net", "random", {"p": 0.2},
                                weight={"dist": "uniform", "low": 0.05, "high": 0.25}, g=3.0,
                                delay=delay, plasticity=plast),
                     Projection("in", "src", "net", "random", {"p": 0.5},
                                weight={"dist": "constant", "value": 0.6}, delay={"dist": "constant", "value": 3e-4})],
        inputs=inputs)


def reference(net, n_steps):
    """Dense float64 simulation following the documented per-step semantics, one step at a time."""
    pop, src = net.populations["net"], net.populations["src"]
    n = pop.size
    am, as_ = math.exp(-DT / TM), math.exp(-DT / TS)
    ci = TS / (TS - TM) * (as_ - am)
    n_ref = round(pop.params.t_ref / DT)
    amp = next(i.params["amplitude"] for i in net.spec.inputs if i.type == "current")
    v, i, ref = np.zeros(n), np.zeros(n), np.zeros(n, int)
    projs = []
    for name in ("rec", "in"):
        p = net.projections[name]
        projs.append((p.csr.pre(), p.csr.indices.astype(int), p.csr.weights.astype(np.float64).copy(),
                      p.csr.delays.astype(int), p.plastic, name))
    D = max(int(p[3].max()) for p in projs) + 1
    ring = np.zeros((D, n))
    xp, xq = np.zeros(n), np.zeros(n)
    ap, aq = math.exp(-DT / STDP["tau_plus"]), math.exp(-DT / STDP["tau_minus"])
    src_steps = np.rint(np.asarray(net.spec.population("src").params["times"]) / DT).astype(int)
    src_neurons = np.asarray(net.spec.population("src").params["neurons"])
    spikes = []
    for t in range(n_steps):
        x = ring[t % D].copy()
        ring[t % D] = 0
        held = ref > 0
        v_new = am * v + ci * i + (1 - am) * amp
        i = as_ * i + x
        v = np.where(held, v, v_new)
        z = (v > VTH) & ~held
        v[z] = 0.0
        ref = np.where(z, n_ref - 1, np.maximum(ref - 1, 0))
        zs = np.zeros(src.size, bool)
        zs[src_neurons[src_steps == t]] = True
        spikes += [(t, k) for k in np.flatnonzero(z)]
        for pre, post, w, d, plastic, name in projs:
            zpre = zs if name == "in" else z
            sel = zpre[pre]
            np.add.at(ring, ((t + d[sel]) % D, post[sel]), w[sel])  # transmit weights before this step's update
            if plastic is not None and name == "rec":
                xp *= ap
                xq *= aq
                for s in np.flatnonzero(sel & plastic):  # depression at presynaptic spikes
                    w[s] = min(max(w[s] - STDP["a_minus"] * xq[post[s]], 0.0), STDP["w_max"])
                xp += z
                for s in np.flatnonzero(z[post] & plastic):  # potentiation at postsynaptic spikes
                    w[s] = min(max(w[s] + STDP["a_plus"] * xp[pre[s]], 0.0), STDP["w_max"])
                xq += z
    return spikes, projs[0][2]


@pytest.mark.parametrize("delay", [
    {"dist": "constant", "value": 1e-4},                 # one-step delays: chunks of one step
    {"dist": "uniform", "low": 2e-4, "high": 1.2e-3},    # heterogeneous delays, chunks of two steps
    {"dist": "uniform", "low": 8e-4, "high": 3e-3},      # chunks of eight steps
])
def test_engine_equals_dense_reference_spike_for_spike(delay):
    got, ref_spikes, w, ref_w, w0 = _engine_and_reference(small_spec(delay))
    assert len(ref_spikes) > 200, "the test network must be active"
    assert got == sorted(ref_spikes)
    np.testing.assert_allclose(w, ref_w, rtol=0, atol=1e-12)
    assert not np.allclose(ref_w, w0)  # STDP did change weights


def test_engine_equals_reference_with_several_spikes_per_neuron_and_chunk():
    """No refractory period and chunks of 30 steps: neurons fire repeatedly within a chunk, so the rules take
    their general path (spike slots per neuron, weight updates sorted in time)."""
    spec = small_spec({"dist": "uniform", "low": 3e-3, "high": 4e-3}, t_ref=0.0, amp=6.0, duration=0.1)
    got, ref_spikes, w, ref_w, w0 = _engine_and_reference(spec)
    chunk_neuron = [(s // 30, n) for s, n in ref_spikes]
    assert len(chunk_neuron) - len(set(chunk_neuron)) >= 50  # repeated spikes within 30-step windows
    assert got == sorted(ref_spikes)
    np.testing.assert_allclose(w, ref_w, rtol=0, atol=1e-12)
    assert not np.allclose(ref_w, w0)


def _engine_and_reference(spec):
    """(engine spikes sorted as (step, neuron), reference spikes, engine weights, reference weights, initial)."""
    net = realise(spec)
    r = NativeEngine(net, dtype=torch.float64).run(keep_spikes=True)
    ref_spikes, ref_w = reference(net, spec.n_steps)
    trial, neuron, step = r.spikes["net"]
    got = sorted(zip(step.tolist(), neuron.tolist()))
    return got, ref_spikes, r.weights["rec"][2][0], ref_w, net.projections["rec"].csr.weights


def test_same_seed_bit_identical_different_seed_differs_and_trials_independent():
    drive = {"rate": 500.0, "weight": 0.3}
    runs = [NativeEngine(realise(small_spec({"dist": "constant", "value": 5e-4}, seed=s, n_trials=3, drive=drive)))
            .run(keep_spikes=True) for s in (7, 7, 8)]
    a, b, c = (r.spikes["net"] for r in runs)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(runs[0].weights["rec"][2], runs[1].weights["rec"][2])
    assert len(a[0]) != len(c[0]) or not np.array_equal(a[2], c[2])
    counts = runs[0].spike_counts["net"]  # (3 trials, n): independent Poisson streams per trial
    assert counts.shape == (3, 60) and not np.array_equal(counts[0], counts[1])


def test_poisson_drive_rate_statistics():
    # Binomial(n_sources, p) counts per step from geometric skips: mean and variance of the input counts
    from neurokit_bdh.engine.native import bernoulli_events
    g = torch.Generator().manual_seed(0)
    n_trials, p = 2_000_000, 0.05
    ev = bernoulli_events(n_trials, p, g, None)
    assert torch.all(ev[1:] > ev[:-1]) and ev[-1] < n_trials
    assert abs(len(ev) / n_trials - p) < 4 * math.sqrt(p * (1 - p) / n_trials)
    counts = torch.bincount(ev % 1000, minlength=1000).double()  # 1000 bins of 2000 trials each
    assert abs(counts.var().item() / (2000 * p * (1 - p)) - 1) < 0.15
