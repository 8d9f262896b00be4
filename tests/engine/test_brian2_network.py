"""The Barabási–Albert E/I network of topologies/ba_stdp.toml (10,000 LIF neurons, 199,800 synapses, pair STDP
on E→E, Poisson drive) for 2 s of biological time on the native engine and in Brian2 (cython).

The Poisson drive is drawn from different random streams (native: torch generator seeded from spec seed 1,
subseed "engine"; Brian2: ``brian2.seed`` from subseed "brian2"), so the runs agree in distribution only:
mean rate and mean CV of the ISI (neurons with >= 2 ISIs) within 5 % of each other.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurokit_bdh.analysis.spikes import cv_isi
from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import load_spec

from ..conftest import require

pytestmark = [pytest.mark.brian2, pytest.mark.slow]
SPEC = Path(__file__).resolve().parents[2] / "topologies" / "ba_stdp.toml"


def stats(r, n):
    b, i, s = r.spikes["net"]
    return r.rate("net"), float(np.nanmean(cv_isi(b, i, s, n, n_steps=r.n_steps)))


def test_ba_stdp_network_rate_and_cv_agree():
    require("brian2")
    from neurokit_bdh.engine.brian2_engine import Brian2Engine
    spec = load_spec(SPEC)
    spec = replace(spec, duration=2.0)
    net = realise(spec)
    n = net.populations["net"].size
    rate_n, cv_n = stats(NativeEngine(net).run(keep_spikes=True), n)
    rate_b, cv_b = stats(Brian2Engine(net, "cython").run(keep_spikes=True), n)
    assert rate_n > 1.0 and 0.1 < cv_n < 2.0, (rate_n, cv_n)     # the network is active and irregular
    assert rate_b == pytest.approx(rate_n, rel=0.05), (rate_n, rate_b)
    assert cv_b == pytest.approx(cv_n, rel=0.05), (cv_n, cv_b)
