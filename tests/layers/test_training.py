"""Training end to end: digits accuracy after a short run, determinism, checkpoints, datasets, CLI."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from neurokit_bdh.data import ArrayDataset, Dataset, batches, load_digits, spike_pattern_task
from neurokit_bdh.models.snn import SNNClassifier, SNNConfig
from neurokit_bdh.train import TrainConfig, evaluate, load_checkpoint, save_checkpoint, train, train_snn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits():
    return load_digits("train"), load_digits("test")


def test_digits_split_is_deterministic_and_stratified(digits):
    tr, te = digits
    assert (len(tr), len(te)) == (1437, 360)
    assert torch.equal(load_digits("test").x, te.x)
    assert 0.0 <= float(tr.x.min()) and float(tr.x.max()) <= 1.0
    counts = torch.bincount(te.y, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert isinstance(tr, Dataset)


def test_short_digits_training_reaches_90_percent(digits):
    tr, te = digits
    t0 = time.perf_counter()
    model, hist = train_snn(SNNConfig(hidden=(128,), n_steps=10, seed=0),
                            TrainConfig(epochs=6, lr=3e-3, seed=0), tr, te, progress=False)
    wall = time.perf_counter() - t0
    assert hist["test_acc"][-1] >= 0.90, hist["test_acc"]  # measured 0.96–0.97
    assert hist["epoch_loss"][-1] < 0.5 * hist["epoch_loss"][0]
    assert wall < 30, wall  # ~1 s on the 2-core machine (one thread)


def test_training_is_deterministic(digits):
    tr, _ = digits
    small = ArrayDataset(tr.x[:256], tr.y[:256], 10)
    runs = [train_snn(SNNConfig(hidden=(32,), n_steps=5, seed=1), TrainConfig(epochs=1, seed=2), small,
                      progress=False) for _ in range(2)]
    assert runs[0][1]["loss"] == runs[1][1]["loss"]
    for a, b in zip(runs[0][0].state_dict().values(), runs[1][0].state_dict().values()):
        assert torch.equal(a, b)


def test_checkpoint_roundtrip(tmp_path, digits):
    tr, te = digits
    cfg = SNNConfig(hidden=(16,), n_steps=4, recurrent=True, topology="barabasi_albert", topology_m=2, seed=3)
    model = SNNClassifier(cfg)
    tc = TrainConfig(epochs=1)
    hist = train(model, ArrayDataset(tr.x[:128], tr.y[:128], 10), tc, progress=False)
    path = save_checkpoint(tmp_path / "m.pt", model, tc, hist)
    model2, ck = load_checkpoint(path)
    assert model2.cfg == cfg and ck["train_config"]["epochs"] == 1 and ck["history"]["loss"] == hist["loss"]
    assert evaluate(model2, te) == evaluate(model, te)
    torch.save({"x": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a neurokit SNN checkpoint"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="nope"):
        SNNConfig.from_dict({**cfg.to_dict(), "nope": 1})


def test_spike_pattern_task_and_plain_dataset_protocol():
    ds = spike_pattern_task(n_classes=3, n_samples=60, n_inputs=12, n_steps=40, seed=4)
    assert torch.equal(ds.x, spike_pattern_task(n_classes=3, n_samples=60, n_inputs=12, n_steps=40, seed=4).x)
    assert set(ds.x.unique().tolist()) <= {0.0, 1.0} and torch.bincount(ds.y).tolist() == [20, 20, 20]

    class Plain:  # a user's own data set: only len and getitem
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return ds.x[i], int(ds.y[i])

    x, y = next(batches(Plain(), 4))
    assert x.shape == (40, 4, 12) and y.tolist() == ds.y[:4].tolist()  # time-major batch
    x2, _ = next(batches(ds, 4))
    assert torch.equal(x, x2)


def test_spike_patterns_are_learnable():
    ds = spike_pattern_task(n_classes=4, n_samples=240, n_inputs=30, n_steps=40, seed=0)
    tr, te = ArrayDataset(ds.x[:200], ds.y[:200], 4), ArrayDataset(ds.x[200:], ds.y[200:], 4)
    cfg = SNNConfig(n_in=30, n_out=4, hidden=(32,), encoding="none", n_steps=40, seed=0)
    _, hist = train_snn(cfg, TrainConfig(epochs=20, lr=5e-3, batch_size=32), tr, te, progress=False)
    assert hist["test_acc"][-1] >= 0.8, hist["test_acc"]


def test_cli_train_snn(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, "-m", "neurokit_bdh.cli", "train", "snn", "--dataset", "digits",
                        "--epochs", "2", "--hidden", "32", "--steps", "6", "-q", "-o", str(tmp_path / "o")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "test accuracy" in r.stdout
    assert (tmp_path / "o" / "snn_digits.pt").exists() and (tmp_path / "o" / "loss_curve.png").stat().st_size > 1000
    model, _ = load_checkpoint(tmp_path / "o" / "snn_digits.pt")
    assert model.cfg.hidden == (32,)
    bad = subprocess.run([sys.executable, "-m", "neurokit_bdh.cli", "train", "snn", "--epochs", "0", "-q",
                          "-o", str(tmp_path / "o2")], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "epochs" in bad.stderr and not (tmp_path / "o2").exists()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("recurrent", [False, True])
def test_gpu_training_runs_the_fused_kernels_and_matches_cpu(digits, monkeypatch, recurrent):
    """The same seeded run on CPU and CUDA: on CUDA the LIF layers go through the Triton kernels (multi-step,
    or the single-step kernel in a scale-free recurrent layer), the first batch's loss equals the CPU's
    to fp32 rounding (same initialisation and batches; a flipped spike moves it by ~1e-3 at most), and
    both reach the CPU test's accuracy band."""
    from neurokit_bdh.kernels import lif as klif

    calls = []
    for name in ("lif_multistep", "lif_step"):
        real = getattr(klif, name)
        monkeypatch.setattr(klif, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    tr, te = digits
    cfg = SNNConfig(hidden=(128,), n_steps=10, seed=0, recurrent=recurrent,
                    topology="barabasi_albert" if recurrent else None)
    runs = {dev: train_snn(cfg, TrainConfig(epochs=6, lr=3e-3, seed=0, device=dev), tr, te, progress=False)[1]
            for dev in ("cpu", "cuda")}
    assert ("lif_step" if recurrent else "lif_multistep") in calls
    cpu, gpu = runs["cpu"]["loss"][0], runs["cuda"]["loss"][0]
    assert abs(cpu - gpu) <= 1e-2 * cpu, (cpu, gpu)
    for dev, hist in runs.items():
        assert hist["test_acc"][-1] >= 0.90, (dev, hist["test_acc"])
