"""The plasticity specs shipped in topologies/ load, validate and run (short), and their run files hold
what their [record] tables ask for."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurokit_bdh.graph.spec import load_spec
from neurokit_bdh.io.runfile import open_run
from neurokit_bdh.simulate import simulate

TOPOLOGIES = Path(__file__).resolve().parents[2] / "topologies"


def test_song_miller_abbott_spec_loads_and_runs(tmp_path):
    """The SMA spec: 1000 Poisson inputs -> 1 LIF neuron, all-to-all additive STDP; 0.2 s into a run file:
    the input population fires at 15 Hz (±15 %: 3000 expected spikes), weight snapshots at steps 0 and
    400 (the end), the last equal to the returned weights, and every weight stays within [0, w_max]."""
    path = TOPOLOGIES / "song_miller_abbott.toml"
    spec = load_spec(path)
    assert [p.name for p in spec.populations] == ["inputs", "neuron"]
    proj = spec.projections[0]
    assert proj.topology == "all_to_all" and proj.plasticity["rule"] == "stdp"
    assert proj.plasticity["kind"] == "additive"
    assert proj.plasticity["a_minus"] * proj.plasticity["tau_minus"] == pytest.approx(
        1.05 * proj.plasticity["a_plus"] * proj.plasticity["tau_plus"])
    out = tmp_path / "sma.h5"
    r = simulate(path, output=out, duration=0.2, compile=False)
    assert r.rate("inputs") == pytest.approx(15.0, rel=0.15)
    w_max = proj.plasticity["w_max"]
    with open_run(out) as run:
        assert run.status == "complete"
        assert run.weight_steps("syn") == [0, 400]
        step, indptr, indices, w = run.weights("syn", -1)
        assert indptr[-1] == 1000 and (indices == 0).all()
        np.testing.assert_array_equal(np.asarray(w).reshape(-1), r.weights["syn"][2].reshape(-1))
        assert (np.asarray(w) >= 0).all() and (np.asarray(w) <= w_max).all()
        assert run.n_events("neuron") == int(r.spike_counts["neuron"].sum())


def test_structural_scale_free_spec_loads_and_runs(tmp_path):
    """The structural spec: 2000-neuron directed scale-free E/I network, STDP + structural plasticity;
    0.2 s (two structural updates) into a run file: births recorded in the file equal r.births (> 0: the
    growth rate 150/s gives ~30), deaths equal r.deaths, spikes and weight snapshots (steps 0 and 2000)
    recorded, and the last snapshot's synapse count is the initial count + births - deaths."""
    path = TOPOLOGIES / "structural_scale_free.toml"
    spec = load_spec(path)
    proj = spec.projections[0]
    assert proj.topology == "directed_scale_free" and proj.structural is not None
    assert proj.plasticity["rule"] == "stdp" and spec.populations[0].frac_exc == 0.8
    out = tmp_path / "structural.h5"
    r = simulate(path, output=out, duration=0.2)
    assert r.births["rec"] > 0
    with open_run(out) as run:
        st = run.structural("rec")
        assert st["step"].tolist() == [1000, 2000]
        assert int(st["births"].sum()) == r.births["rec"] and int(st["deaths"].sum()) == r.deaths["rec"]
        assert run.weight_steps("rec") == [0, 2000]
        _, indptr0, _, _ = run.weights("rec", 0)
        _, indptr1, _, w1 = run.weights("rec", -1)
        assert int(indptr1[-1]) == int(indptr0[-1]) + r.births["rec"] - r.deaths["rec"]
        np.testing.assert_array_equal(np.asarray(w1).reshape(-1), r.weights["rec"][2].reshape(-1))
        assert run.n_events("net") == int(r.spike_counts["net"].sum()) > 0
