"""Emulator vs Lava's CPU simulator (lava-nc 0.10.0): spikes and learned weights equal bit for bit."""
import pytest

from neurokit_bdh.cli import main
from neurokit_bdh.export.emulator import Emulator
from neurokit_bdh.export.quantise import quantise_network

from ..conftest import require
from .nets import feed_forward, plastic, scale_free_ei

pytestmark = pytest.mark.lava


@pytest.fixture(scope="module")
def lava_run():
    require("lava")
    from neurokit_bdh.export.lava_build import run_on_lava
    return run_on_lava


def _equal(a, b):
    return {n: int((a.spikes[n] != b.spikes[n]).sum()) for n in a.spikes}


def test_feed_forward_three_layers(lava_run):
    q = quantise_network(feed_forward())
    assert {p.delay.max() for p in q.projections.values()} == {1, 4}  # Sparse, DelayDense, Dense all used
    lv, em = lava_run(q, 200, record_v=["l2"]), Emulator(q).run(200, record_v=["l2"])
    assert _equal(lv, em) == {n: 0 for n in em.spikes}
    assert (lv.v["l2"] == em.v["l2"]).all()
    assert all(em.spikes[n].sum() > 500 for n in ("l1", "l2", "l3"))


def test_recurrent_scale_free_ei_1000_steps(lava_run):
    q = quantise_network(scale_free_ei(n=200))
    lv, em = lava_run(q, 1000), Emulator(q).run(1000)
    assert _equal(lv, em) == {"inp": 0, "net": 0}
    assert em.spikes["net"].sum() > 5000


def test_stdp_weights_after_500_steps(lava_run):
    q = quantise_network(plastic())
    lv, em = lava_run(q, 500), Emulator(q).run(500)
    assert _equal(lv, em) == {"inp": 0, "out": 0}
    w0 = q.projections["ff"].w_int
    assert (lv.weights["ff"] == em.weights["ff"]).all()
    assert (em.weights["ff"] != w0).sum() > 50  # learning did happen


def test_floating_pt_models_match_float_emulation(lava_run):
    q = quantise_network(feed_forward())
    lv, em = lava_run(q, 200, "floating_pt"), Emulator(q, "float").run(200)
    for n in ("l1", "l2", "l3"):  # same arithmetic up to summation order
        assert abs(int(lv.spikes[n].sum()) - int(em.spikes[n].sum())) <= 0.005 * em.spikes[n].sum()


def test_cli_lava_run_writes_run_file(lava_run, tmp_path):
    from neurokit_bdh.io.runfile import open_run

    spec = tmp_path / "ff.toml"
    spec.write_text(feed_forward().spec.to_toml())
    out, run = tmp_path / "exp", tmp_path / "run.h5"
    assert main(["export", "loihi", str(spec), "-o", str(out)]) == 0
    assert main(["lava-run", str(out), "--steps", "100", "-o", str(run)]) == 0
    ref = Emulator(quantise_network(feed_forward())).run(100)
    with open_run(run) as r:
        assert r.attrs["engine"] == "lava:fixed_pt"
        for n in ("l1", "l2", "l3"):
            assert (r.spike_counts(n)[0] == ref.spikes[n].sum(0)).all()
