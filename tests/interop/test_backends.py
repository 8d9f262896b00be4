"""The LIF layer on snntorch and norse cells agrees with the native backend, spike for spike (float64)."""
import pytest
import torch

from neurokit_bdh.layers import SpikingMLP
from neurokit_bdh.layers.backends import lif_layer
from neurokit_bdh.layers.mlp import RecurrentLIF
from neurokit_bdh.neurons import LIFParams

from ..conftest import require

T, B, N, DT = 500, 4, 32, 1e-3


def _input(scale=0.6, offset=-0.15, seed=0):
    # inputs below (2 - c_v)·v_th keep the post-reset membrane under threshold: the regime in which
    # snntorch's subtract reset equals ours (layers/backends.py)
    g = torch.Generator().manual_seed(seed)
    return torch.rand(T, B, N, dtype=torch.float64, generator=g) * scale + offset  # (T, B, N)


def _params(synapse, reset, method):
    if synapse == "delta":
        return LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=0.6, reset=reset, method=method)
    return LIFParams(tau_mem=10e-3, tau_syn=5e-3, v_th=0.2, reset=reset, method=method)


@pytest.mark.parametrize("backend", ["snntorch", "norse"])
@pytest.mark.parametrize("synapse", ["delta", "current"])
@pytest.mark.parametrize("reset", ["to_value", "subtract"])
@pytest.mark.parametrize("method", ["exact", "euler"])
def test_spikes_equal_native_500_steps(backend, synapse, reset, method):
    require(backend)
    p, x = _params(synapse, reset, method), _input()
    if backend == "norse" and synapse == "current" and reset == "subtract":
        with pytest.raises(ValueError, match="subtract.*LIFCell only resets"):
            lif_layer(p, DT, None, backend)
        return
    z_nat, v_nat, _ = lif_layer(p, DT, None, "native")(x, record_v=True)
    z, v, _ = lif_layer(p, DT, None, backend)(x, record_v=True)
    assert z.shape == (T, B, N) and z.dtype == torch.float64
    assert z_nat.sum() > 0.05 * z_nat.numel()                       # the neurons do fire, in every case
    assert torch.equal(z, z_nat)                                    # spike for spike
    torch.testing.assert_close(v, v_nat, rtol=0, atol=1e-12)        # membranes to rounding (float64)


GRAD_CASES = [(b, s, syn, r) for b, s in [("snntorch", "atan"), ("snntorch", "fast_sigmoid"), ("norse", "triangular")]
              for syn in ("delta", "current") for r in ("to_value", "subtract")
              if not (b == "norse" and syn == "current" and r == "subtract")]  # refused, see above


@pytest.mark.parametrize("backend,surrogate,synapse,reset", GRAD_CASES)
def test_gradients_agree_with_native(backend, surrogate, synapse, reset):
    """Same surrogate, reset not detached (as snntorch and norse): BPTT gradients agree.

    norse computes in float64: 1e-9 relative. snntorch returns float32 spikes, so every gradient flowing back
    through a spike is rounded to float32: agreement to 1e-5 of the largest gradient."""
    require(backend)
    p = _params(synapse, reset, "exact")
    p = LIFParams(**{**p.__dict__, "detach_reset": False})
    x0 = _input()[:100]
    w = torch.randn(100, B, N, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    grads = {}
    for name in ("native", backend):
        x = x0.clone().requires_grad_(True)
        z, v, _ = lif_layer(p, DT, surrogate, name)(x, record_v=True)
        ((z * w).sum() + (v * w).sum()).backward()
        grads[name] = x.grad
    g_max = float(grads["native"].abs().max())
    assert g_max > 0
    if backend == "norse":
        torch.testing.assert_close(grads[backend], grads["native"], rtol=1e-9, atol=1e-12)
    else:
        torch.testing.assert_close(grads[backend], grads["native"], rtol=0, atol=1e-5 * g_max)


@pytest.mark.parametrize("backend,surrogate,reset", [("snntorch", "atan", "to_value"), ("norse", "triangular", "to_value"),
                                                     ("norse", "triangular", "subtract")])
def test_spiking_mlp_backend_forward_and_weight_gradients(backend, surrogate, reset):
    """SpikingMLP(backend=...): same hidden spikes, readout and weight gradients as native. (snntorch with
    'subtract' differs in the gradient once a membrane exceeds 2·v_th in a step, as documented.)"""
    require(backend)
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0, reset=reset, detach_reset=False)
    x = torch.rand(6, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(3))  # static (B, n_in)
    outs, grads = {}, {}
    for name in ("native", backend):
        net = SpikingMLP(20, [24, 16], 5, params=p, dt=DT, surrogate=surrogate, seed=7, input_gain=2.0,
                         backend=name).double()
        y = net(x, n_steps=60)                                      # (T, B, 5) readout membrane
        y.pow(2).sum().backward()
        outs[name] = (y.detach(), [h.detach() for h in net.hidden_spikes])
        grads[name] = [q.grad for q in net.parameters()]
    assert sum(float(h.sum()) for h in outs["native"][1]) > 100
    for a, b in zip(outs["native"][1], outs[backend][1]):
        assert torch.equal(a, b)
    torch.testing.assert_close(outs[backend][0], outs["native"][0], rtol=0, atol=1e-12)
    for a, b in zip(grads["native"], grads[backend]):
        assert a.abs().max() > 0
        if backend == "norse":
            torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-12)
        else:  # float32 spikes (see test_gradients_agree_with_native)
            torch.testing.assert_close(b, a, rtol=0, atol=1e-5 * float(a.abs().max()))


@pytest.mark.parametrize("backend", ["snntorch", "norse"])
def test_recurrent_layer_backend_spikes_equal(backend):
    require(backend)
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=0.5, reset="to_value")
    x = _input(scale=0.4, offset=-0.1)[:200]
    z = {}
    for name in ("native", backend):
        rec = RecurrentLIF(N, p, DT, None, topology="barabasi_albert", topology_params={"m": 3}, seed=2,
                           backend=name).double()
        with torch.no_grad():
            z[name], _ = rec(x)
    assert z["native"].sum() > 500
    assert torch.equal(z[backend], z["native"])


def test_backends_refuse_what_they_cannot_represent():
    require("snntorch")
    require("norse")
    with pytest.raises(ValueError, match="refractory period"):
        lif_layer(LIFParams(t_ref=2e-3), 1e-4, None, "snntorch")
    with pytest.raises(ValueError, match="v_reset=0.5"):
        lif_layer(LIFParams(v_reset=0.5), 1e-3, None, "snntorch")
    with pytest.raises(ValueError, match="v_leak=0.2 with current synapses"):
        lif_layer(LIFParams(v_leak=0.2, tau_syn=5e-3), 1e-3, None, "snntorch")
    with pytest.raises(ValueError, match="surrogate 'triangular'"):
        lif_layer(LIFParams(), 1e-3, "triangular", "snntorch")
    with pytest.raises(ValueError, match="surrogate 'atan'"):
        lif_layer(LIFParams(), 1e-3, "atan", "norse")
    with pytest.raises(ValueError, match="subtract' with v_reset=0.3"):
        lif_layer(LIFParams(tau_syn=0.0, v_reset=0.3, reset="subtract"), 1e-3, None, "norse")
    with pytest.raises(ValueError, match="backend: expected one of"):
        lif_layer(LIFParams(), 1e-3, None, "brian2")
    with pytest.raises(ValueError, match="backend: expected one of"):
        SpikingMLP(4, [3], 2, backend="torch")


def test_v_leak_and_v_reset_mapped_where_representable():
    """snntorch: v_leak folded into the input (delta synapses); norse: v_leak and v_reset as parameters."""
    require("snntorch")
    require("norse")
    x = _input(scale=0.3, offset=-0.05)
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=0.6, v_leak=0.3, reset="subtract")
    z_nat, _ = lif_layer(p, DT, None, "native")(x)
    assert z_nat.sum() > 1000
    assert torch.equal(lif_layer(p, DT, None, "snntorch")(x)[0], z_nat)
    assert torch.equal(lif_layer(p, DT, None, "norse")(x)[0], z_nat)
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3, v_th=0.2, v_leak=0.05, v_reset=-0.1)
    z_nat, _ = lif_layer(p, DT, None, "native")(x)
    assert z_nat.sum() > 1000
    assert torch.equal(lif_layer(p, DT, None, "norse")(x)[0], z_nat)
