"""The same engine code path on CUDA: equal to the dense reference there too (marked gpu)."""
import numpy as np
import pytest
import torch

from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise

from .test_native import reference, small_spec

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


@pytest.mark.parametrize("compile", [False, True])
def test_cuda_engine_equals_dense_reference(compile):
    spec = small_spec({"dist": "uniform", "low": 8e-4, "high": 3e-3})
    net = realise(spec)
    r = NativeEngine(net, device="cuda", dtype=torch.float64, compile=compile).run(keep_spikes=True)
    ref_spikes, ref_w = reference(net, spec.n_steps)
    _, neuron, step = r.spikes["net"]
    assert sorted(zip(step.tolist(), neuron.tolist())) == sorted(ref_spikes)
    np.testing.assert_allclose(r.weights["rec"][2][0], ref_w, rtol=0, atol=1e-12)


def test_cuda_batched_trials_statistics_match_cpu():
    # different random streams on the two devices: compare rates, not spikes (tolerance 5 %)
    drive = {"rate": 800.0, "weight": 0.3}
    spec = small_spec({"dist": "constant", "value": 5e-4}, n_trials=8, drive=drive, duration=0.5)
    cpu = NativeEngine(realise(spec)).run()
    gpu = NativeEngine(realise(spec), device="cuda").run()
    assert cpu.rate("net") > 5
    assert abs(gpu.rate("net") - cpu.rate("net")) / cpu.rate("net") < 0.05


def test_cuda_structural_plasticity_runs_and_counts():
    from pathlib import Path

    from neurokit_bdh.simulate import simulate
    spec = Path(__file__).resolve().parents[2] / "topologies" / "structural_scale_free.toml"
    r = simulate(spec, duration=1.0, device="cuda")
    assert r.births["rec"] > 0 and r.deaths["rec"] > 0
    indptr, indices, w = r.weights["rec"]
    assert indptr[-1] == len(indices) == w.shape[1]
