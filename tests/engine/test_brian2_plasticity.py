"""Per-step plasticity rules rendered to Brian2 against the native engine (float64): Hebbian, Oja and
reward-modulated STDP on the pairing protocol of test_brian2_engine. The spikes are identical; the final
weight equal to 1e-9 (traces decay by the same e^{-dt/τ} factor each step on both sides; only the order of
a few float operations differs)."""
from __future__ import annotations

import pytest

from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input

from ..conftest import require
from .test_brian2_engine import assert_same_spikes, both, pairing

pytestmark = pytest.mark.brian2

RULES = {
    "hebbian": dict(rule="hebbian", eta=0.2, decay=0.05, tau_pre=20e-3, tau_post=30e-3),
    "oja": dict(rule="hebbian", kind="oja", eta=0.3, tau_pre=20e-3, tau_post=30e-3, w_min=0.0, w_max=1.0),
    "reward_stdp": dict(rule="reward_stdp", a_plus=1.0, a_minus=1.05, tau_plus=17e-3, tau_minus=34e-3,
                        tau_e=0.1, eta=0.05),
}


@pytest.mark.parametrize("rule", list(RULES))
def test_per_step_rules_equal(rule):
    require("brian2")
    from neurokit_bdh.engine.brian2_engine import Brian2Engine
    pre = [30 * k + 10 for k in range(12)]
    kick = [30 * k + 10 + d for k, d in enumerate([3, -4, 8, -10, 1, 0, 12, -2, 5, -7, 2, -1])]
    spec = pairing(RULES[rule], pre, kick)
    if rule == "reward_stdp":  # piecewise-constant third factor, sign flips included
        spec.inputs.append(Input("modulator", None, {"times": [0.0, 0.12, 0.25], "values": [1.0, -0.5, 2.0]}))
    rn, rb = both(realise(spec), Brian2Engine, target="numpy")  # no compile: cython is covered elsewhere
    assert_same_spikes(rn, rb, ["pre", "kick", "post"])
    assert rn.spike_counts["post"].sum() >= 12
    w0 = rn.initial_weights["syn"][2][0, 0]
    dn, db = rn.weights["syn"][2][0, 0] - w0, rb.weights["syn"][2][0, 0] - w0
    assert abs(dn) > 1e-3
    assert db == pytest.approx(dn, abs=1e-9)
