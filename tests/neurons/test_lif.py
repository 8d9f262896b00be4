"""LIF against closed forms: sub-threshold v(t), the f–I curve, reset modes, refractoriness, gradients."""
import math

import pytest
import torch

from neurokit_bdh.neurons import LIF, LIFParams, run_steps
from neurokit_bdh.neurons import lif


def simulate(p, dt, n, x=None, i_ext=None, shape=(1,)):
    coef = lif.discretise(p, dt)
    s = lif.init_state(p, shape, dtype=torch.float64)
    vs, zs = [], []
    for t in range(n):
        xt = torch.zeros(shape, dtype=torch.float64) if x is None else x(t)
        z, s = lif.step(xt, s, coef, i_ext=i_ext)
        vs.append(s.v.clone())
        zs.append(z.clone())
    return torch.stack(vs), torch.stack(zs)


@pytest.mark.parametrize("tau_syn", [0.0, 5e-3])
def test_constant_current_matches_closed_form_exactly(tau_syn):
    # v(t) = v_leak + I (1 - e^{-t/τ}) below threshold; exact integration: error < 1e-12 (float64)
    p = LIFParams(tau_mem=20e-3, tau_syn=tau_syn, v_th=10.0, v_leak=-0.2)
    dt, I = 1e-4, 0.9
    v, _ = simulate(p, dt, 500, i_ext=torch.tensor([I], dtype=torch.float64))
    t = torch.arange(1, 501, dtype=torch.float64) * dt
    expected = -0.2 + I * (1 - torch.exp(-t / 20e-3))
    assert torch.max(torch.abs(v[:, 0] - expected)) < 1e-12


def test_euler_converges_to_closed_form_first_order():
    p = LIFParams(tau_mem=20e-3, tau_syn=0.0, v_th=10.0, method="euler")
    errs = []
    for dt in (1e-3, 5e-4):
        n = int(round(0.05 / dt))
        v, _ = simulate(p, dt, n, i_ext=torch.tensor([1.0], dtype=torch.float64))
        errs.append(abs(v[-1, 0].item() - (1 - math.exp(-0.05 / 20e-3))))
    assert errs[0] < 1e-2 and 1.8 < errs[0] / errs[1] < 2.2  # first-order method: halving dt halves the error


@pytest.mark.parametrize("tau_syn", [5e-3, 20e-3])  # distinct and degenerate (τs = τm) cases
def test_synaptic_current_psp_closed_form(tau_syn):
    # one input of weight w at step 0: i = w e^{-t/τs}; v(t) = w τs/(τs-τm) (e^{-t/τs} - e^{-t/τm}) (or w t/τ e^{-t/τ})
    tm, w, dt = 20e-3, 0.5, 1e-4
    p = LIFParams(tau_mem=tm, tau_syn=tau_syn, v_th=10.0)
    v, _ = simulate(p, dt, 400, x=lambda t: torch.tensor([w if t == 0 else 0.0], dtype=torch.float64))
    t = torch.arange(0, 400, dtype=torch.float64) * dt  # input lands at the end of step 0, v moves from step 1
    if tau_syn == tm:
        exp = w * t / tm * torch.exp(-t / tm)
    else:
        exp = w * tau_syn / (tau_syn - tm) * (torch.exp(-t / tau_syn) - torch.exp(-t / tm))
    assert torch.max(torch.abs(v[:, 0] - exp)) < 1e-12


@pytest.mark.parametrize("I", [1.2, 1.5, 2.0, 4.0])
def test_f_i_curve_matches_analytic_rate(I):
    # ISI = t_ref + τ ln(I / (I − θ)) for reset to 0; discrete time is exact to one step (dt) per ISI.
    tm, t_ref, dt = 20e-3, 2e-3, 1e-5
    p = LIFParams(tau_mem=tm, tau_syn=0.0, v_th=1.0, t_ref=t_ref)
    _, z = simulate(p, dt, 20000, i_ext=torch.tensor([I], dtype=torch.float64))
    steps = torch.nonzero(z[:, 0]).flatten()
    isi = torch.diff(steps).double() * dt
    theory = t_ref + tm * math.log(I / (I - 1.0))
    assert len(isi) >= 3
    assert torch.all(torch.abs(isi - theory) <= dt + 1e-12)
    rate = 1 / isi.mean().item()
    assert rate == pytest.approx(1 / theory, rel=0.01)


def test_subthreshold_current_never_fires():
    p = LIFParams(tau_mem=20e-3, tau_syn=0.0, v_th=1.0)
    _, z = simulate(p, 1e-4, 5000, i_ext=torch.tensor([0.999], dtype=torch.float64))
    assert z.sum() == 0


def test_reset_modes():
    dt = 1e-3
    p_val = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0, v_reset=0.1, reset="to_value")
    p_sub = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0, v_reset=0.1, reset="subtract")
    kick = lambda t: torch.tensor([1.7], dtype=torch.float64)  # noqa: E731
    v, z = simulate(p_val, dt, 1, x=kick)
    assert z[0, 0] == 1 and v[0, 0].item() == pytest.approx(0.1)
    v, z = simulate(p_sub, dt, 1, x=kick)
    assert z[0, 0] == 1 and v[0, 0].item() == pytest.approx(1.7 - 0.9)  # v − (v_th − v_reset)


def test_threshold_is_strict():
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0)
    _, z = simulate(p, 1e-3, 1, x=lambda t: torch.tensor([1.0], dtype=torch.float64))
    assert z.sum() == 0


def test_refractory_period_holds_membrane():
    # strong drive: without refractoriness it fires every step; with t_ref = 2 ms at dt = 0.1 ms, every 20 steps
    p = LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0, t_ref=2e-3)
    v, z = simulate(p, 1e-4, 200, x=lambda t: torch.tensor([5.0], dtype=torch.float64))
    steps = torch.nonzero(z[:, 0]).flatten()
    assert torch.all(torch.diff(steps) == 20)
    first = steps[0].item()
    assert torch.all(v[first:first + 20, 0] == 0.0)  # held at v_reset until the next spike step


def test_bad_parameters_name_the_field():
    with pytest.raises(ValueError, match="tau_mem"):
        LIFParams(tau_mem=-1.0)
    with pytest.raises(ValueError, match="reset"):
        LIFParams(reset="zero")
    with pytest.raises(ValueError, match="v_th"):
        LIFParams(v_th=0.0, v_reset=0.5)
    with pytest.raises(ValueError, match="dt"):
        lif.discretise(LIFParams(), dt=0)


def test_multistep_matches_single_step_and_is_differentiable():
    torch.manual_seed(0)
    p = LIFParams(tau_mem=10e-3, tau_syn=5e-3, reset="subtract")
    coef = lif.discretise(p, 1e-3)
    x = (torch.rand(50, 4, 8, dtype=torch.float64) * 0.6).requires_grad_()  # (T, B, N)
    z, _ = run_steps(LIF, x, lif.init_state(p, (4, 8), dtype=torch.float64), coef, surrogate="atan")
    s = lif.init_state(p, (4, 8), dtype=torch.float64)
    for t in range(50):
        zt, s = lif.step(x[t].detach(), s, coef)
        assert torch.equal(zt, z[t].detach())
    assert z.sum() > 0
    z.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_subthreshold_gradient_gradcheck():
    # below threshold the step is affine in (x, i_ext): autograd must equal finite differences
    p = LIFParams(tau_mem=10e-3, tau_syn=4e-3, v_th=100.0)
    coef = lif.discretise(p, 1e-3)

    def f(x):
        z, s = run_steps(LIF, x, lif.init_state(p, (2, 3), dtype=torch.float64), coef, surrogate="fast_sigmoid")
        return s.v

    x = torch.rand(20, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (x,))
