"""LIF/LI layers against the neuron library's step function, and their gradients."""
import pytest
import torch

from neurokit_bdh.layers import LI, LIF, RecurrentLIF
from neurokit_bdh.neurons import LIFParams, lif, run_steps
from neurokit_bdh.neurons.lif import LIF as LIF_MODEL


@pytest.mark.parametrize("params", [
    LIFParams(tau_mem=10e-3, tau_syn=5e-3, t_ref=3e-3),
    LIFParams(tau_mem=20e-3, tau_syn=0.0, reset="subtract"),
    LIFParams(tau_mem=10e-3, tau_syn=10e-3, method="euler", v_reset=-0.2),
])
def test_layer_equals_manual_steps_exactly(params):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(30, 4, 7, generator=g) * 0.8  # (T, B, N)
    layer = LIF(params, dt=1e-3, surrogate="atan")
    z, v, s = layer(x, record_v=True)
    coef = lif.discretise(params, 1e-3)
    state = lif.init_state(params, (4, 7))
    for t in range(30):
        zt, state = lif.step(x[t], state, coef, surrogate="atan")
        assert torch.equal(z[t], zt) and torch.equal(v[t], state.v)
    assert torch.equal(s.v, state.v) and torch.equal(s.i, state.i) and torch.equal(s.ref, state.ref)
    assert z.sum() > 10  # the inputs do make it spike
    z2, s2 = run_steps(LIF_MODEL, x, lif.init_state(params, (4, 7)), coef, surrogate="atan")
    assert torch.equal(z, z2)


def test_state_carries_over_between_calls():
    layer = LIF(LIFParams(tau_syn=5e-3), dt=1e-3)
    x = torch.rand(20, 2, 3, generator=torch.Generator().manual_seed(1)) * 2
    z_all, s_all = layer(x)
    z_a, s_a = layer(x[:8])
    z_b, s_b = layer(x[8:], s_a)
    assert torch.equal(torch.cat([z_a, z_b]), z_all) and torch.equal(s_b.v, s_all.v)


def test_li_is_the_subthreshold_lif_update():
    p = LIFParams(tau_mem=10e-3, tau_syn=4e-3, v_th=1e9)  # never reaches threshold: LIF == LI
    x = torch.rand(15, 3, 5, generator=torch.Generator().manual_seed(2))
    v_li, _ = LI(p, 1e-3)(x)
    z, v_lif, _ = LIF(p, 1e-3)(x, record_v=True)
    assert z.sum() == 0 and torch.equal(v_li, v_lif)


def test_gradcheck_subthreshold_float64():
    """No spikes (inputs far below threshold, reset detached): v_T is a smooth function of x and of W."""
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3)
    layer = LIF(p, dt=1e-3, surrogate="fast_sigmoid")
    x = (torch.rand(6, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) * 0.1).requires_grad_()
    w = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4)).mul_(0.1).requires_grad_()

    def f(x, w):
        z, s = layer(x @ w.T)
        return s.v, s.i

    assert torch.autograd.gradcheck(f, (x, w), eps=1e-6, atol=1e-8)


def test_surrogate_gradients_flow_and_are_finite():
    torch.manual_seed(0)
    w = torch.randn(8, 5, requires_grad=True)
    x = torch.rand(25, 4, 5) * 2.0
    z, _ = LIF(LIFParams(tau_mem=10e-3, tau_syn=5e-3), dt=1e-3, surrogate="atan")(x @ w.T)
    assert 0 < z.mean() < 1
    z.sum().backward()
    assert torch.isfinite(w.grad).all() and (w.grad.abs() > 0).float().mean() > 0.5


def test_recurrent_layer_one_step_delay():
    """A spike at step t reaches the recurrent targets at step t+1 (and not at t)."""
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0)
    rec = RecurrentLIF(2, p, dt=1e-3, mask=torch.tensor([[0.0, 0.0], [1.0, 0.0]]), seed=0)  # 0 -> 1 only
    with torch.no_grad():
        rec.recurrent.weight.copy_(torch.tensor([[0.0, 0.0], [2.0, 0.0]]))
    x = torch.zeros(4, 1, 2)
    x[1, 0, 0] = 2.0  # neuron 0 fires at step 1
    z, _ = rec(x)
    assert z[:, 0, 0].tolist() == [0, 1, 0, 0] and z[:, 0, 1].tolist() == [0, 0, 1, 0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="surrogate"):
        LIF(LIFParams(), 1e-3, surrogate="nope")
    with pytest.raises(TypeError, match="params"):
        LIF({"tau_mem": 1e-2}, 1e-3)
    with pytest.raises(ValueError, match="dt"):
        LIF(LIFParams(), dt=0)
    with pytest.raises(ValueError, match="time-major"):
        LIF()(torch.zeros(3))
