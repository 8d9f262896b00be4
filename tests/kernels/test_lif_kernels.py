"""Fused Triton LIF kernels against the plain torch path (``layers.lif.LIF(kernel="torch")``).

On CPU the kernels run in Triton's interpreter (chosen per call: no TRITON_INTERPRET needed), on tiny
shapes; the ``gpu`` tests compile them and compare on the issue's benchmark shape. Forward: spikes
and final state bitwise equal. Gradients: equal to fp32 rounding (the sums are associated
differently), asserted as |Δ| <= 1e-5·max|g| + 1e-6 relative to each gradient's scale.
"""
import zlib

import pytest
import torch

from neurokit_bdh.layers import LIF
from neurokit_bdh.neurons import LIFParams, lif
from neurokit_bdh.neurons.surrogate import spike
from tests.conftest import require

triton = require("triton")
from neurokit_bdh.kernels import lif as klif  # noqa: E402 - after require("triton"): fails loudly in CI

SURROGATES = ["atan", "fast_sigmoid", "superspike", "triangular", None]
NEURONS = {
    "delta-to_value": dict(tau_mem=10e-3, tau_syn=0.0),
    "delta-subtract": dict(tau_mem=20e-3, tau_syn=0.0, reset="subtract", v_reset=-0.2),
    "current-to_value": dict(tau_mem=10e-3, tau_syn=5e-3, v_leak=0.1, v_reset=0.05),
    "current-subtract-euler": dict(tau_mem=10e-3, tau_syn=10e-3, reset="subtract", method="euler"),
}


def _close(a, b, name):
    scale = max(a.abs().max().item(), b.abs().max().item(), 1e-30)
    err = (a - b).abs().max().item()
    assert err <= 1e-5 * scale + 1e-6 * scale, f"{name}: max |Δ| {err:.3g} vs scale {scale:.3g}"


def _run(layer, x, v0, i0, gz, gv, gi):
    """Spikes, final state and the gradients of a weighted sum of all three w.r.t. x, v0, i0."""
    x, v0, i0 = (t.detach().clone().requires_grad_() for t in (x, v0, i0))
    z, s = layer(x, lif.LIFState(v0, i0, torch.zeros_like(v0)))
    loss = (z * gz).sum() + (s.v * gv).sum() + (s.i * gi).sum()
    grads = torch.autograd.grad(loss, (x, v0, i0), allow_unused=True)
    return z.detach(), s.v.detach(), s.i.detach(), grads


def _inputs(T, B, N, seed, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(T, B, N, generator=g) * 0.9 - 0.1           # (T, B, N): mostly excitatory drive
    v0 = torch.rand(B, N, generator=g) * 0.5
    i0 = torch.rand(B, N, generator=g) * 0.2
    gz, gv, gi = torch.randn(T, B, N, generator=g), torch.randn(B, N, generator=g), torch.randn(B, N, generator=g)
    return [t.to(device) for t in (x, v0, i0, gz, gv, gi)]


@pytest.mark.parametrize("detach", [True, False])
@pytest.mark.parametrize("neuron", list(NEURONS))
@pytest.mark.parametrize("surrogate", SURROGATES)
def test_multistep_matches_torch_path(neuron, surrogate, detach):
    p = LIFParams(**NEURONS[neuron], detach_reset=detach)
    seed = zlib.crc32(f"{neuron}{surrogate}{detach}".encode()) % 1000
    args = _inputs(21, 2, 19, seed=seed)  # 21 steps: a partial chunk too
    ref = _run(LIF(p, 1e-3, surrogate, kernel="torch"), *args)
    got = _run(LIF(p, 1e-3, surrogate, kernel="triton"), *args)
    assert ref[0].sum() > 20 and ref[0].mean() < 0.6  # spiking, not saturated
    for a, b, name in zip(got[:3], ref[:3], ("z", "v", "i")):
        assert torch.equal(a, b), f"{name} differs: max |Δ| {(a - b).abs().max().item()}"
    for a, b, name in zip(got[3], ref[3], ("dx", "dv0", "di0")):
        _close(a, b, name)  # with delta synapses i passes through unchanged: di0 = the weight on s.i
    assert got[3][0].abs().max() > 0


def test_tunings_are_valid_launch_settings():
    """Every GPU entry covers every kernel with whole warps of whole threads; the CPU gets the default."""
    assert klif.tuning_key(torch.device("cpu")) == klif.DEFAULT_TUNING
    for key, t in klif.TUNINGS.items():
        assert set(t.blocks) == {"fwd", "bwd", "infer", "infer_u8", "step"}, key
        assert set(t.load_ahead) == {"fwd", "infer", "infer_u8"} and t.chunk >= 1, key
        for kind, (block, warps) in t.blocks.items():
            assert block & (block - 1) == 0 and warps & (warps - 1) == 0, (key, kind)
            assert block >= 32 * warps, (key, kind)  # at least one neuron per thread


@pytest.mark.parametrize("uses", ["z", "z+v", "z+i", "v"])
@pytest.mark.parametrize("neuron", ["delta-to_value", "current-to_value"])
def test_gradients_when_only_some_outputs_are_used(neuron, uses):
    """Outputs the loss ignores send no gradient (None to the backward): the kernel treats those as zero."""
    p = LIFParams(**NEURONS[neuron])
    x, v0, i0, gz, gv, gi = _inputs(21, 2, 19, seed=7)
    weights = {"z": gz if "z" in uses else 0 * gz, "v": gv if "v" in uses else 0 * gv,
               "i": gi if "i" in uses else 0 * gi}
    results = []
    for kernel in ("torch", "triton"):
        xx, vv, ii = (t.detach().clone().requires_grad_() for t in (x, v0, i0))
        z, s = LIF(p, 1e-3, "atan", kernel=kernel)(xx, lif.LIFState(vv, ii, torch.zeros_like(vv)))
        parts = {"z": (z * weights["z"]).sum(), "v": (s.v * weights["v"]).sum(), "i": (s.i * weights["i"]).sum()}
        loss = sum(parts[k] for k in uses.split("+"))  # only the used outputs enter the graph
        results.append(torch.autograd.grad(loss, (xx, vv), allow_unused=True))
    for a, b, name in zip(results[1], results[0], ("dx", "dv0")):
        _close(a, b, name)
    assert results[1][0].abs().max() > 0


def test_balanced_chunks():
    """At most the tuning's chunk, as equal as possible: no short last chunk unless T needs one."""
    got = {T: klif.balanced_chunk(T, 20) for T in (1, 5, 20, 21, 100, 101, 256)}
    assert got == {1: 1, 5: 5, 20: 20, 21: 11, 100: 20, 101: 17, 256: 20}


@pytest.mark.parametrize("chunk", [1, 4, 7, 32])
def test_checkpoint_interval_does_not_change_results(chunk):
    """Backward recomputes each chunk from its checkpoint: any chunk length gives the same answer (the
    forward's loads, 16 steps at a time on the default tuning, need not be a multiple of it)."""
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3, reset="subtract")
    coef = lif.discretise(p, 1e-3)
    x, v0, i0, gz, gv, gi = _inputs(30, 1, 23, seed=5)

    def run(c):
        xx = x.clone().requires_grad_()
        z, v, i = klif.lif_multistep(xx, v0, i0, coef, "fast_sigmoid", chunk=c)
        (gx,) = torch.autograd.grad((z * gz).sum() + (v * gv).sum() + (i * gi).sum(), xx)
        return z, v, i, gx

    ref, got = run(None), run(chunk)  # None: the default tuning's chunk
    for a, b in zip(got[:3], ref[:3]):
        assert torch.equal(a, b)
    assert torch.equal(got[3], ref[3])  # same operations in the same order: bitwise, not just close


@pytest.mark.parametrize("chunk", [4, 32])
@pytest.mark.parametrize("neuron", ["delta-subtract", "current-to_value"])
def test_resting_initial_state_as_constants(neuron, chunk):
    """Numbers as the initial state (what ``LIF`` passes from rest) give the results of the same state as
    tensors, bitwise, with and without a gradient to the initial state (the kernels then skip reading
    it, writing the first checkpoint and writing its gradient)."""
    p = LIFParams(**NEURONS[neuron])
    coef = lif.discretise(p, 1e-3)
    x, _, _, gz, gv, gi = _inputs(21, 2, 19, seed=11)
    v_rest = float(p.v_leak)

    def run(v0, i0):
        xx = x.clone().requires_grad_()
        z, v, i = klif.lif_multistep(xx, v0, i0, coef, "atan", chunk=chunk)
        loss = (z * gz).sum() + (v * gv).sum() + (0 if coef.delta else (i * gi).sum())
        leaves = [t for t in (xx, v0, i0) if isinstance(t, torch.Tensor) and t.requires_grad]
        return (z, v, i, *torch.autograd.grad(loss, leaves))

    full = lambda value: torch.full((2, 19), value)  # noqa: E731
    const = run(v_rest, None if coef.delta else 0.0)
    tensors = run(full(v_rest), None if coef.delta else full(0.0))
    leaf_v = full(v_rest).requires_grad_()
    with_grad = run(leaf_v, None if coef.delta else full(0.0).requires_grad_())
    assert const[0].sum() > 20  # spiking
    for got in (tensors, with_grad):
        for a, b in zip(const[:4], got[:4]):
            assert (a is None and b is None) or torch.equal(a, b)
    assert with_grad[4].abs().max() > 0  # ∂L/∂v0 written when asked for
    with pytest.raises(TypeError, match="v: expected a float32 tensor or a number"):
        klif.lif_multistep(x, "0", None, coef)


def test_layer_from_rest_matches_torch_path():
    """``LIF`` without a state runs the kernels from constants; spikes, state and ∂L/∂x equal the torch path."""
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3, v_leak=0.1, v_reset=0.05)
    x, _, _, gz, gv, _ = _inputs(21, 2, 19, seed=3)
    out = []
    for kernel in ("torch", "triton"):
        xx = x.clone().requires_grad_()
        z, s = LIF(p, 1e-3, "atan", kernel=kernel)(xx)
        (gx,) = torch.autograd.grad((z * gz).sum() + (s.v * gv).sum(), xx)
        out.append((z, s.v, s.i, s.ref, gx))
    for a, b, name in zip(out[1][:4], out[0][:4], ("z", "v", "i", "ref")):
        assert torch.equal(a, b), name
    _close(out[1][4], out[0][4], "dx")
    assert out[0][0].sum() > 20


def test_alpha_is_used_and_matches_spike_function():
    """A non-default surrogate slope reaches the backward kernel (doubling alpha changes the gradient)."""
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0)
    coef = lif.discretise(p, 1e-3)
    x, v0, i0, gz, _, _ = _inputs(12, 2, 9, seed=7)
    grads = []
    for a in (2.0, 4.0):
        xx = x.clone().requires_grad_()
        z, _, _ = klif.lif_multistep(xx, v0, None, coef, "atan", alpha=a)
        grads.append(torch.autograd.grad((z * gz).sum(), xx)[0])
    # torch reference with the same alpha, through neurons.surrogate.spike
    xx = x.clone().requires_grad_()
    v, zs = v0, []
    for t in range(12):
        h = v * coef.c_v + xx[t]
        z = spike(h - coef.v_th, "atan", alpha=4.0)
        v = torch.lerp(h, h.new_tensor(coef.v_reset), z.detach())
        zs.append(z)
    ref = torch.autograd.grad((torch.stack(zs) * gz).sum(), xx)[0]
    _close(grads[1], ref, "dx(alpha=4)")
    assert (grads[0] - grads[1]).abs().max() > 1e-3


@pytest.mark.parametrize("neuron", list(NEURONS))
def test_single_step_matches_lif_step(neuron):
    p = LIFParams(**NEURONS[neuron], detach_reset=False)
    coef = lif.discretise(p, 1e-3)
    g = torch.Generator().manual_seed(11)
    x, v0 = torch.rand(3, 37, generator=g) * 1.2, torch.rand(3, 37, generator=g) * 1.3
    i0 = torch.rand(3, 37, generator=g)
    gz, gv, gi = (torch.randn(3, 37, generator=g) for _ in range(3))
    out = []
    for fused in (False, True):
        xx, vv, ii = (t.clone().requires_grad_() for t in (x, v0, i0))
        if fused:
            z, v, i = klif.lif_step(xx, vv, ii, coef, "triangular")
        else:
            z, s = lif.step(xx, lif.LIFState(vv, ii, torch.zeros_like(vv)), coef, surrogate="triangular")
            v, i = s.v, s.i
        loss = (z * gz).sum() + (v * gv).sum() + (i * gi).sum()
        out.append((z, v, i, torch.autograd.grad(loss, (xx, vv, ii), allow_unused=True)))
    (z0, v0_, i0_, g0), (z1, v1, i1, g1) = out
    assert torch.equal(z0, z1) and torch.equal(v0_, v1) and torch.equal(i0_, i1)
    assert 0 < z0.sum() < z0.numel()
    for a, b, name in zip(g1, g0, ("dx", "dv", "di")):
        if b is None:
            continue
        _close(a, b, name)


def test_layer_step_uses_kernel_and_matches_forward():
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
    x = _inputs(6, 2, 10, seed=3)[0]
    layer = LIF(p, 1e-3, "atan", kernel="triton")
    z_all, s_all = layer(x)
    s, zs = None, []
    for t in range(6):
        z, s = layer.step(x[t], s)
        zs.append(z)
    assert torch.equal(torch.stack(zs), z_all) and torch.equal(s.v, s_all.v) and torch.equal(s.i, s_all.i)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.bool, torch.float16])
def test_inference_path_and_spike_dtypes(dtype):
    """Without autograd no checkpoints are written; narrow spike dtypes hold the same spikes."""
    coef = lif.discretise(LIFParams(tau_mem=10e-3, tau_syn=5e-3), 1e-3)
    x, v0, i0 = _inputs(20, 2, 13, seed=4)[:3]
    with torch.no_grad():
        zf, vf, i_f = klif.lif_multistep(x, v0, i0, coef, "atan")
        zn, vn, i_n = klif.lif_multistep(x, v0, i0, coef, "atan", spike_dtype=dtype)
    assert zn.dtype == dtype and torch.equal(zn.float(), zf) and torch.equal(vn, vf) and torch.equal(i_n, i_f)
    assert zf.sum() > 10
    with pytest.raises(ValueError, match="spike_dtype"):
        klif.lif_multistep(x.requires_grad_(), v0, i0, coef, "atan", spike_dtype=torch.uint8)


def test_auto_dispatch_and_fallbacks(monkeypatch):
    calls = []
    real = klif.lif_multistep
    monkeypatch.setattr(klif, "lif_multistep", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = _inputs(5, 1, 4, seed=1)[0]
    LIF(LIFParams(), 1e-3)(x)                                # auto on a CPU tensor: plain torch path
    assert calls == []
    LIF(LIFParams(), 1e-3, kernel="triton")(x)
    assert calls == [1]
    refractory = LIFParams(t_ref=3e-3)
    with pytest.raises(ValueError, match="refractory"):
        LIF(refractory, 1e-3, kernel="triton")(x)
    with pytest.raises(ValueError, match="record_v"):
        LIF(LIFParams(), 1e-3, kernel="triton")(x, record_v=True)
    with pytest.raises(ValueError, match="float32"):
        LIF(LIFParams(), 1e-3, kernel="triton")(x.double())
    with pytest.raises(ValueError, match="kernel"):
        LIF(LIFParams(), 1e-3, kernel="cuda")


def test_bad_inputs():
    coef = lif.discretise(LIFParams(tau_syn=5e-3), 1e-3)
    x = torch.zeros(4, 2, 3)
    with pytest.raises(TypeError, match="float32"):
        klif.lif_multistep(x.double(), torch.zeros(2, 3), torch.zeros(2, 3), coef)
    with pytest.raises(ValueError, match="v: shape"):
        klif.lif_multistep(x, torch.zeros(5), torch.zeros(2, 3), coef)
    with pytest.raises(ValueError, match="i: the initial state"):
        klif.lif_multistep(x, torch.zeros(2, 3), None, coef)
    with pytest.raises(ValueError, match="surrogate"):
        klif.lif_multistep(x, torch.zeros(2, 3), torch.zeros(2, 3), coef, "relu")
    with pytest.raises(ValueError, match="refractory"):
        klif.lif_multistep(x, torch.zeros(2, 3), torch.zeros(2, 3), lif.discretise(LIFParams(t_ref=5e-3), 1e-3))
    with pytest.raises(ValueError, match="time-major"):
        klif.lif_multistep(torch.zeros(3), torch.zeros(()), None, lif.discretise(LIFParams(tau_syn=0.0), 1e-3))


# ---- GPU: compiled kernels on the shapes -------------------------------------------------

gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("neuron", ["delta-to_value", "current-subtract-euler"])
def test_gpu_benchmark_shape_matches_torch_path(neuron):
    """T=256, B=32, N=65536 (the issue's benchmark shape): forward bitwise, gradients to fp32 rounding."""
    p = LIFParams(**NEURONS[neuron])
    T, B, N = 256, 32, 65536
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.rand(T, B, N, device="cuda", generator=g) * 0.3
    gz = torch.randn(T, B, N, device="cuda", generator=g)
    res = []
    for kernel in ("torch", "triton"):
        xx = x.clone().requires_grad_()
        z, s = LIF(p, 1e-3, "atan", kernel=kernel)(xx)
        (gx,) = torch.autograd.grad((z * gz).sum() + s.v.sum(), xx)
        res.append((z, s.v, s.i, gx))
        del xx, z, s, gx
        torch.cuda.empty_cache()
    (z0, v0, i0, g0), (z1, v1, i1, g1) = res
    assert 0.01 < z0.mean().item() < 0.5
    assert torch.equal(z0, z1) and torch.equal(v0, v1) and torch.equal(i0, i1)
    _close(g1, g0, "dx")


@pytest.mark.gpu
@gpu
def test_gpu_auto_dispatch_and_single_step():
    x = torch.rand(64, 8, 1000, device="cuda") * 0.5
    layer = LIF(LIFParams(tau_syn=5e-3), 1e-3, "fast_sigmoid")
    assert layer._use_triton(x, layer.init_state(x.shape[1:], device="cuda"), False)
    z, s = layer(x)
    zt, st = LIF(LIFParams(tau_syn=5e-3), 1e-3, "fast_sigmoid", kernel="torch")(x)
    assert torch.equal(z, zt) and torch.equal(s.v, st.v)
    s1, zs = None, []
    for t in range(64):
        zk, s1 = layer.step(x[t], s1)
        zs.append(zk)
    assert torch.equal(torch.stack(zs), z)
    assert not LIF(LIFParams(t_ref=3e-3), 1e-3)._use_triton(x, layer.init_state(x.shape[1:], device="cuda"), False)
