"""Brian2 cpp_standalone against the native engine (float64), one build (compiling takes a while).

The network holds two independent parts: one LIF neuron (exact integration, subtract reset, 2 ms
refractory, current window) driven through 7-step delays by a spike train, and the triplet-STDP pairing
protocol (delta synapses). Spikes are identical, the plastic weight equal to 1e-9, and the run files agree:
spikes, weight snapshots (from the standalone StateMonitor) and sampled state.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, Population, Projection, StateRecord, WeightRecord

from ..conftest import require
from .test_brian2_engine import RULES, assert_same_spikes, pairing

pytestmark = pytest.mark.brian2


def combined():
    dt = 1e-3
    pre = [30 * k + 10 for k in range(12)] + [370, 372, 380]
    kick = sorted({30 * k + 10 + d - 1 for k, d in enumerate([3, -4, 8, -10, 1, 0, 12, -2, 5, -7, 2, -1])}
                  | {373, 375, 385})
    spec = pairing(RULES["triplet"], pre, kick, n_steps=400, dt=dt)
    steps = np.sort(np.random.default_rng(1).choice(400, 120, replace=False))
    spec.populations += [
        Population("src", 1, "spike_source", {"times": [round(float(s) * dt, 9) for s in steps], "neurons": [0] * 120}),
        Population("lif", 1, "lif", dict(tau_mem=10e-3, tau_syn=5e-3, reset="subtract", t_ref=2e-3))]
    spec.projections.append(Projection("drive", "src", "lif", "all_to_all", weight={"dist": "constant", "value": 0.9},
                                       delay={"dist": "constant", "value": 7 * dt}))
    spec.inputs.append(Input("current", "lif", {"amplitude": 0.6, "start": 0.1, "stop": 0.3}))
    spec.record.weights = [WeightRecord("syn", 150)]
    spec.record.state = [StateRecord("lif", ["v", "i", "ref"], neurons=[0], every=50)]
    return spec


def test_cpp_standalone_matches_native(tmp_path):
    require("brian2")
    from neurokit_bdh.engine.brian2_engine import Brian2Engine
    from neurokit_bdh.io.runfile import RunWriter, open_run
    spec = combined()
    net = realise(spec)
    results, paths = {}, {}
    for name, engine in (("native", NativeEngine(net, dtype=torch.float64)),
                         ("brian2", Brian2Engine(net, "cpp_standalone", standalone_dir=tmp_path / "build"))):
        paths[name] = tmp_path / f"{name}.h5"
        with RunWriter(paths[name], spec_text=spec.to_toml(), seed=spec.seed, dt=spec.dt, n_steps=spec.n_steps,
                       n_trials=1, populations={n: p.size for n, p in net.populations.items()},
                       projections={n: (p.pre, p.post) for n, p in net.projections.items()}) as w:
            results[name] = engine.run(writer=w, keep_spikes=True)
    rn, rb = results["native"], results["brian2"]
    assert rn.spike_counts["lif"].sum() >= 30 and rn.spike_counts["post"].sum() >= 12
    assert_same_spikes(rn, rb, ["pre", "kick", "post", "src", "lif"])
    w0 = rn.initial_weights["syn"][2][0, 0]
    assert abs(rn.weights["syn"][2][0, 0] - w0) > 1e-3
    assert rb.weights["syn"][2][0, 0] == pytest.approx(rn.weights["syn"][2][0, 0], abs=1e-9)
    with open_run(paths["native"]) as a, open_run(paths["brian2"]) as b:
        for pop in ("post", "lif"):
            for x, y in zip(a.spikes(pop), b.spikes(pop)):
                np.testing.assert_array_equal(np.sort(x), np.sort(y))
        assert a.weight_steps("syn") == b.weight_steps("syn") == [0, 150, 300, 400]
        for k in range(4):
            np.testing.assert_allclose(a.weights("syn", k)[3], b.weights("syn", k)[3], rtol=0, atol=1e-9)
        for var in ("v", "i", "ref"):
            xa, xb = a.state("lif", var), b.state("lif", var)
            assert list(xa[0]) == list(range(49, 400, 50))
            for u, z in zip(xa, xb):
                np.testing.assert_allclose(np.asarray(u, float), np.asarray(z, float), rtol=0, atol=1e-9, err_msg=var)
