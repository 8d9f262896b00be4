"""``neurokit simulate --engine brian2`` end to end, in a subprocess as users run it."""
from __future__ import annotations

import json

import numpy as np
import pytest

from ..conftest import require
from ..test_cli import SMALL, neurokit

pytestmark = pytest.mark.brian2


def test_simulate_engine_brian2_writes_the_run_file(tmp_path):
    require("brian2")
    from neurokit_bdh.io.runfile import open_run
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL)
    out = tmp_path / "run.h5"
    r = neurokit("simulate", spec, "-o", out, "--engine", "brian2", "--brian2-target", "cython", "--seed", 3, "-q")
    assert r.returncode == 0, r.stderr
    assert "mean rate" in r.stdout
    s = json.loads(neurokit("info", out, "--json").stdout)
    assert s["status"] == "complete" and s["steps_done"] == 2000 and s["seed"] == 3
    with open_run(out) as run:
        _, neuron, step = run.spikes("net")
        assert neuron.size > 100 and step.min() >= 0 and step.max() < 2000
        assert run.weight_steps("rec") == [0, 1000, 2000]
        w0, w1 = run.weights("rec", 0)[3], run.weights("rec", 2)[3]
        assert np.abs(w1 - w0).max() > 0                              # STDP acted
        steps, neurons, v = run.state("net", "v")
        assert list(steps[:3]) == [9, 19, 29] and len(steps) == 200
        assert run.attrs["engine"] == "brian2" and run.attrs["brian2_target"] == "cython"
        assert "brian2" in run.versions


def test_simulate_engine_brian2_refusals(tmp_path):
    require("brian2")
    spec = tmp_path / "structural.toml"
    spec.write_text(SMALL.replace('[[inputs]]', 'structural = { interval = 0.05 }\n[[inputs]]', 1))
    out = tmp_path / "run.h5"
    r = neurokit("simulate", spec, "-o", out, "--engine", "brian2", "-q")
    assert r.returncode == 2 and "structural plasticity" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()                                           # refused before anything was written
    r = neurokit("simulate", spec, "-o", out, "--engine", "brian2", "--brian2-target", "gpu", "-q")
    assert r.returncode == 2 and "--brian2-target" in r.stderr
