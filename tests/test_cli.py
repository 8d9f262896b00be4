"""The neurokit command end to end, in subprocesses as users run it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SMALL = """
dt = 1e-4
duration = 0.2
seed = 5
[[populations]]
name = "net"
size = 200
model = "lif"
frac_exc = 0.8
params = { tau_mem = 20e-3, tau_syn = 5e-3, t_ref = 2e-3 }
[[projections]]
name = "rec"
pre = "net"
post = "net"
topology = "barabasi_albert"
topology_params = { m = 4 }
weight = { dist = "uniform", low = 0.0, high = 0.05 }
g = 4.0
delay = { dist = "constant", value = 1e-3 }
plasticity = { rule = "stdp", on = "exc_exc", a_plus = 0.001, a_minus = 0.00105, w_max = 0.05 }
[[inputs]]
type = "poisson"
target = "net"
params = { rate = 1000.0, weight = 0.2 }
[record]
weights = [{ projection = "rec", every = 1000 }]
state = [{ population = "net", vars = ["v", "i"], neurons = 5, every = 10 }]
"""


def neurokit(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "neurokit_bdh.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=300)


def test_simulate_then_info(tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL)
    out = tmp_path / "run.h5"
    r = neurokit("simulate", spec, "-o", out, "--seed", 9, "-q")
    assert r.returncode == 0, r.stderr
    assert "mean rate" in r.stdout and out.exists()
    info = neurokit("info", out, "--json")
    assert info.returncode == 0, info.stderr
    s = json.loads(info.stdout)
    assert s["status"] == "complete" and s["steps_done"] == 2000 and s["seed"] == 9
    from neurokit_bdh.io.runfile import open_run
    with open_run(out) as run:
        _, neuron, step = run.spikes("net")
        assert len(neuron) > 0 and step.max() < 2000
        assert run.weight_steps("rec") == [0, 1000, 2000]
        steps, values, neurons = run.state("net", "v")
        assert values.shape == (200, 1, 5) and steps[0] == 9  # sample after step index 9 (10 steps done)
        assert "barabasi_albert" in run.spec
        rate = len(neuron) / (200 * 0.2)
    printed = float(r.stdout.split("mean rate ")[1].split(" Hz")[0])
    assert printed == pytest.approx(rate, abs=0.006)  # the printed rate is the file's spike count / (N · T)


def test_bad_spec_one_clear_error_and_no_file(tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(SMALL.replace('post = "net"', 'post = "nett"'))
    out = tmp_path / "run.h5"
    r = neurokit("simulate", spec, "-o", out, "-q")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0  # one line, no traceback
    assert "projections[0].post: no population named 'nett'" in r.stderr and str(spec) in r.stderr
    assert not out.exists()


def test_existing_output_is_not_overwritten(tmp_path):
    spec = tmp_path / "small.toml"
    spec.write_text(SMALL)
    out = tmp_path / "run.h5"
    out.write_bytes(b"precious")
    r = neurokit("simulate", spec, "-o", out, "-q")
    assert r.returncode == 2 and "already exists" in r.stderr
    assert out.read_bytes() == b"precious"


def test_info_on_a_non_run_file(tmp_path):
    p = tmp_path / "x.h5"
    p.write_text("not hdf5")
    r = neurokit("info", p)
    assert r.returncode == 2 and "not an HDF5 file" in r.stderr


@pytest.mark.slow
def test_demo_short(tmp_path):
    r = neurokit("demo", "-o", tmp_path, "--duration", "0.3", "-q", "--no-compile")
    assert r.returncode == 0, r.stderr
    assert "excitatory" in r.stdout and "E synapse weights" in r.stdout
    assert (tmp_path / "raster.png").stat().st_size > 10_000
    assert (tmp_path / "weights.png").stat().st_size > 10_000


def test_sigkilled_simulation_leaves_a_readable_file(tmp_path):
    import signal
    import time

    from neurokit_bdh.io.runfile import open_run

    spec = tmp_path / "long.toml"
    spec.write_text(SMALL.replace("duration = 0.2", "duration = 60.0"))
    out = tmp_path / "run.h5"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "neurokit_bdh.cli", "simulate", str(spec), "-o", str(out), "-q", "--no-compile"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        done = 0
        while time.time() < deadline and done < 4000:  # wait for at least two flushes (every 2000 steps)
            time.sleep(0.2)
            if out.exists():
                try:
                    with open_run(out) as run:
                        done = run.steps_done
                except (OSError, ValueError):  # the file may be mid-creation: poll again
                    continue
        assert done >= 4000, "the simulation never flushed"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    with open_run(out) as run:
        assert run.status == "running" and run.steps_done >= 4000
        _, neuron, step = run.spikes("net")
        assert len(step) > 0 and step.max() < run.n_steps
        assert run.weight_steps("rec")[0] == 0


def test_train_with_reset_to_zero_then_export_to_nir_and_loihi(tmp_path):
    """`train snn --reset to_value` gives a model both exporters accept; the default (subtract) is refused by
    both with a one-line error naming the reset."""
    for reset in ("to_value", "subtract"):
        out = tmp_path / reset
        r = neurokit("train", "snn", "--epochs", "1", "--hidden", "32", "--steps", "8", "--reset", reset, "-q",
                     "-o", out)
        assert r.returncode == 0, r.stderr
        ckpt = out / "snn_digits.pt"
        nir_run = neurokit("nir", "export", ckpt, "-o", out / "m.nir")
        loihi_run = neurokit("export", "loihi", ckpt, "-o", out / "loihi")
        if reset == "to_value":
            assert nir_run.returncode == 0 and loihi_run.returncode == 0, nir_run.stderr + loihi_run.stderr
            assert (out / "m.nir").is_file() and (out / "loihi" / "network.net").is_file()
        else:
            for run in (nir_run, loihi_run):
                assert run.returncode == 2 and "subtract" in run.stderr and len(run.stderr.splitlines()) == 1
