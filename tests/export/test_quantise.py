"""Loihi export without Lava: fixed-point mapping, errors, emulator vs our own engine, report, files, CLI."""
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurokit_bdh.cli import main
from neurokit_bdh.export.emulator import Emulator, decay_int, lif_step_fixed, source_spikes
from neurokit_bdh.export.quantise import choose_scale, decays, quantise_network, quantise_weights
from neurokit_bdh.export.resources import estimate, load_hardware
from neurokit_bdh.export.store import load_qnet, save_qnet
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection

from .nets import feed_forward, lif, plastic, scale_free_ei


def test_decays_map_time_constants():
    # dv: 4096·(1 − e^{−dt/τ}); du: 4095 − round(4096·e^{−dt/τ_syn}); delta synapse -> 4095 (u decays fully)
    assert decays(10e-3, 0.0, 1e-3) == (4095, 4096 - round(4096 * math.exp(-0.1)))
    assert decays(20e-3, 5e-3, 1e-3) == (4095 - round(4096 * math.exp(-0.2)), 4096 - round(4096 * math.exp(-0.05)))
    assert decays(10e-3, 0.0, 1e-3, method="euler")[1] == round(4096 * 0.1)


def test_decay_rounds_toward_zero_like_lava():
    x = np.array([1000, -1000, 7, -7])
    assert decay_int(x, 2048).tolist() == [500, -500, 3, -3]
    # u wraps past 2^23, v saturates at ±(2^23 − 1)
    u0 = 2**23 - 10
    s, u, v = lif_step_fixed(np.array([u0]), np.array([u0]), np.array([4096]), 0, 0, 0, 2**17 - 1)
    du_decayed = (u0 * 4095) >> 12                       # du = 0 still decays u by 1/4096 (Lava adds 1)
    assert u[0] == du_decayed + 4096 * 64 - 2**24 < 0    # wrapped
    assert v[0] == u0 + u[0] and not s[0]                # dv = 0: no voltage decay
    s, u, v = lif_step_fixed(np.array([0]), np.array([-(2**23) + 10]), np.array([-1]), 4095, 0, 0, 2**17 - 1)
    assert u[0] == -64 and v[0] == -(2**23) + 1  # saturated at the bottom


def test_weights_mixed_are_even_with_one_exponent():
    w, e = quantise_weights(np.array([-300.0, 12.0, 501.0]), "mixed", "p")
    assert e == 1 and w.tolist() == [-150, 6, 250] and all(x % 2 == 0 for x in w)
    w, e = quantise_weights(np.array([0.4, 255.0]), "excitatory", "p")
    assert e == 0 and w.tolist() == [0, 255]
    with pytest.raises(ValueError, match=r"proj 'x'.*weight_exp 8 > 7"):
        quantise_weights(np.array([254.0 * 2**8]), "mixed", "proj 'x'")


def test_scale_uses_full_mantissa_and_exact_threshold():
    vth, S = choose_scale(1.0, 0.05, 0.0, "pop")
    assert vth == math.floor(254 / 0.05) and S == vth * 64
    with pytest.raises(ValueError, match="pop 'n'.*threshold v_th=1.0 cannot be represented"):
        choose_scale(1.0, 0.0, 1e5, "pop 'n'")


def _spec(pop_params=None, delay=1e-3, inputs=(), tau_syn=0.0):
    return NetworkSpec(dt=1e-3, duration=0.05, seed=1, populations=[
        Population("src", 5, "poisson", {"rate": 100.0}),
        Population("n", 4, "lif", pop_params or lif(tau_syn))], projections=[
        Projection("p", "src", "n", "all_to_all", {}, {"dist": "constant", "value": 0.2},
                   delay={"dist": "constant", "value": delay})], inputs=list(inputs))


@pytest.mark.parametrize("params, match", [
    (lif(reset="subtract"), r"population 'n'.*resets v to 0.*reset='subtract'"),
    (lif(v_reset=-0.5), r"population 'n'.*v_reset=-0.5"),
    (lif(t_ref=5e-3), r"population 'n'.*t_ref=0.005 s \(5 steps\)"),
])
def test_unrepresentable_neurons_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        quantise_network(realise(_spec(params)))


def test_current_synapse_needs_two_step_delay():
    with pytest.raises(ValueError, match=r"projection 'p'.*delay must be >= 2 steps"):
        quantise_network(realise(_spec(tau_syn=5e-3)))
    q = quantise_network(realise(_spec(tau_syn=5e-3, delay=3e-3)))
    assert set(q.projections["p"].delay.tolist()) == {2}  # Lava arrival = our delay − 1 for current synapses


def test_inputs_that_cannot_be_exported():
    with pytest.raises(NotImplementedError, match=r"inputs\[0\].*'poisson' inputs"):
        quantise_network(realise(_spec(inputs=[Input("poisson", "n", {"rate": 100.0, "weight": 0.1})])))
    with pytest.raises(NotImplementedError, match=r"inputs\[0\].*switched on/off"):
        quantise_network(realise(_spec(inputs=[Input("current", "n", {"amplitude": 0.5, "start": 0.01})])))
    q = quantise_network(realise(_spec(inputs=[Input("current", "n", {"amplitude": 0.5})])))
    p = q.populations["n"]
    c = 1 - math.exp(-0.1)  # i_ext enters v as c_e·i_ext per step
    assert np.allclose(p.bias_f, 0.5 * c)
    assert np.allclose((p.bias_mant.astype(float) * 2.0**p.bias_exp) / p.scale, 0.5 * c, rtol=2e-3)


def test_report_states_scale_and_errors():
    q = quantise_network(feed_forward())
    r = q.report["projections"]
    for name in ("p1", "p2", "p3"):
        assert r[name]["n_syn"] == q.projections[name].w_int.size
        assert 0 < r[name]["rel_error"] <= 1 / 127 + 1e-9  # half a mantissa step of the largest weight
    assert r["p2"]["sign_mode"] == "mixed" and r["p1"]["sign_mode"] == "excitatory"
    assert r["p2"]["flushed_to_zero"] > 0  # normal weights near 0 round to 0, and the report says how many
    for name, p in q.report["populations"].items():
        assert p["vth_rel_error"] < 1e-3 and p["decay_v_rel_error"] < 1e-3


def test_float_emulation_matches_our_native_engine():
    """The float reference (Lava's float LIF with our mapped parameters) reproduces the toolkit's own engine:
    same delta synapses, same delays (1..3 steps), same spikes, given the same input spikes."""
    from neurokit_bdh.simulate import simulate

    net = scale_free_ei(n=200)
    q = quantise_network(net)
    T = 300
    z = source_spikes(q.populations["inp"], T, q.dt)
    step, neuron = np.nonzero(z)
    spec = replace(net.spec, duration=T * 1e-3, populations=[
        Population("inp", 50, "spike_source", {"times": (step * 1e-3).tolist(), "neurons": neuron.tolist()}),
        net.spec.populations[1]])
    r = simulate(spec, keep_spikes=True)
    ours = np.zeros((T, 200), bool)
    _, n, s = r.spikes["net"]
    ours[s, n] = True
    emu = Emulator(q, "float").run(T, source_override={"inp": z}).spikes["net"]
    assert ours.sum() > 1000
    # float32 (engine) vs float64 (emulator): allow a handful of threshold-grazing differences
    assert (ours != emu).sum() <= 0.002 * ours.sum(), \
        f"native vs float emulation: {int((ours != emu).sum())} of {int(ours.sum())} spikes differ"


@pytest.mark.parametrize("build, T, tol", [(feed_forward, 200, 0.01), (scale_free_ei, 1000, 0.02)])
def test_float_vs_fixed_spike_counts_bounded(build, T, tol):
    q = quantise_network(build())
    fx, fl = Emulator(q).run(T), Emulator(q, "float").run(T)
    for p in q.lif_populations():
        a, b = int(fx.spikes[p.name].sum()), int(fl.spikes[p.name].sum())
        assert b > 100 and abs(a - b) <= tol * b, f"{build.__name__} {p.name}: fixed {a} vs float {b} spikes"


def test_resources_and_limits(tmp_path):
    q = quantise_network(scale_free_ei())
    r = estimate(q)
    assert r["cores"] == 1 and r["chips"] == 1 and r["populations"]["net"]["synapses_in"] == \
        q.projections["drive"].w_int.size + q.projections["rec"].w_int.size
    hw = dict(load_hardware(), max_fan_in=5)
    with pytest.raises(ValueError, match=r"population 'net': neuron \d+ has fan-in \d+, above .*max_fan_in=5"):
        estimate(q, hw)
    hw = dict(load_hardware(), neurons_per_core=10, cores_per_chip=4, max_chips=2)
    with pytest.raises(ValueError, match=r"needs 20 cores = 5 chips, above max_chips=2"):
        estimate(q, hw)
    bad = tmp_path / "hw.toml"
    bad.write_text((load_hardware.__globals__["HARDWARE_DIR"] / "loihi2.toml").read_text()
                   .replace("neurons_per_core = 8192", "neurons_per_core = -1"))
    with pytest.raises(ValueError, match="neurons_per_core: expected a positive integer, got -1"):
        load_hardware(bad)


def test_store_round_trip(tmp_path):
    q = quantise_network(plastic())
    save_qnet(q, tmp_path / "network.h5")
    q2 = load_qnet(tmp_path)
    a, b = Emulator(q).run(200), Emulator(q2).run(200)
    assert all((a.spikes[n] == b.spikes[n]).all() for n in a.spikes)
    assert (a.weights["ff"] == b.weights["ff"]).all() and (a.weights["ff"] != q.projections["ff"].w_int).any()
    (tmp_path / "x.h5").write_bytes(b"")
    with pytest.raises(OSError, match="no such file"):
        load_qnet(tmp_path / "missing")


def test_plastic_projection_split_and_rule():
    q = quantise_network(plastic())
    ff, st = q.projections["ff"], q.projections["ff_static"]
    assert (st.w_int <= 0).all() and (ff.w_int > 0).all()  # inhibitory sources stay static (on = exc_pre)
    L = ff.learning
    assert L["rule"] == "STDPLoihi" and L["tau_plus"] == 20 and L["A_minus"] < 0 < L["A_plus"]
    assert ff.sign_mode == "mixed" and (ff.w_int % 2 == 0).all()


def _write_spec(tmp_path):
    net = feed_forward()
    p = tmp_path / "ff.toml"
    p.write_text(net.spec.to_toml())
    return p


def test_cli_export_and_emulated_run(tmp_path, capsys):
    from neurokit_bdh.io.runfile import open_run

    spec = _write_spec(tmp_path)
    out = tmp_path / "exp"
    assert main(["export", "loihi", str(spec), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["network.h5", "report.json", "resources.json"]
    rep = json.loads((out / "report.json").read_text())
    assert set(rep["projections"]) == {"p1", "p2", "p3"}
    assert main(["export", "loihi", str(spec), "-o", str(out)]) == 2  # refuses to overwrite
    assert "pass --overwrite" in capsys.readouterr().err
    run = tmp_path / "run.h5"
    assert main(["lava-run", str(out), "--steps", "150", "-o", str(run), "--engine", "emulator"]) == 0
    q = load_qnet(out)
    ref = Emulator(q).run(150)
    with open_run(run) as r:
        for n in ("l1", "l2", "l3"):
            assert r.spike_counts(n).sum() == ref.spikes[n].sum() > 0
    assert main(["info", str(run)]) == 0


def test_cli_errors_leave_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(realise(_spec(lif(reset="subtract"))).spec.to_toml())
    out = tmp_path / "exp"
    assert main(["export", "loihi", str(bad), "-o", str(out)]) == 2
    assert "resets v to 0" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".export-*"))
    assert main(["export", "loihi", "ba_stdp", "-o", str(out)]) == 2  # unsupported feature: one line, not a traceback
    assert "inputs[0]: Loihi export of 'poisson' inputs is not supported" in capsys.readouterr().err
    assert not out.exists()


def test_lava_run_without_lava_says_what_to_install(tmp_path):
    spec = _write_spec(tmp_path)
    out = tmp_path / "exp"
    assert main(["export", "loihi", str(spec), "-o", str(out)]) == 0
    code = ("import sys; sys.modules['lava'] = None\n"
            "from neurokit_bdh.cli import main\n"
            f"sys.exit(main(['lava-run', {str(out)!r}, '--steps', '10', '-o', {str(tmp_path / 'r.h5')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "lava-nc 0.10.0" in r.stderr and "Python 3.10" in r.stderr and "pip install 'neurokit-bdh[lava]'" in r.stderr
    assert not (tmp_path / "r.h5").exists()


def test_shipped_loihi_spec_exports_and_learns_on_the_emulator(tmp_path):
    """topologies/loihi_ba_stdp.toml is exportable as shipped: 1,000 neurons on one core, the plastic E->E
    part split from its static rest, and the emulated run is active and changes the plastic weights."""
    from neurokit_bdh.io.runfile import open_run

    spec = Path(__file__).resolve().parents[2] / "topologies" / "loihi_ba_stdp.toml"
    out, run = tmp_path / "exp", tmp_path / "run.h5"
    assert main(["export", "loihi", str(spec), "-o", str(out)]) == 0
    rep = json.loads((out / "report.json").read_text())
    assert {"drive", "rec", "rec_static"} <= set(rep["projections"])
    assert json.loads((out / "resources.json").read_text())["cores"] == 1
    q = load_qnet(out)
    res = Emulator(q).run(200)
    assert 5 < res.spikes["net"].sum() / (1000 * 0.2) < 100  # Hz: active, not saturated
    changed = np.mean(res.weights["rec"] != q.projections["rec"].w_int)
    assert 0.01 < changed  # STDP moved a share of the plastic weights
    assert main(["lava-run", str(out), "--steps", "200", "-o", str(run), "--engine", "emulator"]) == 0
    with open_run(run) as r:
        assert r.spike_counts("net").sum() == res.spikes["net"].sum()
