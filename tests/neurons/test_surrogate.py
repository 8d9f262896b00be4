"""Surrogate spike functions: strict Heaviside forward, backward equals the named derivative."""
import math

import pytest
import torch

from neurokit_bdh.neurons.surrogate import DEFAULT_ALPHA, spike

# smooth primitives whose derivative each surrogate claims to be (independent of the implementation)
PRIMITIVES = {
    "atan": lambda x, a: torch.atan(math.pi / 2 * a * x) / math.pi + 0.5,
    "fast_sigmoid": lambda x, a: x / (1 + a * x.abs()),
    "superspike": lambda x, a: x / (1 + a * x.abs()),
    "triangular": lambda x, a: torch.where(x.abs() < 1 / a, x - a * x * x.abs() / 2, torch.sign(x) / (2 * a)),
}


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_backward_is_derivative_of_primitive(name):
    a = DEFAULT_ALPHA[name]
    x = torch.linspace(-2 / a, 2 / a, 101, dtype=torch.float64)
    x = x[(x.abs() > 1e-3) & ((x.abs() - 1 / a).abs() > 1e-3)]  # keep away from the kinks
    xg = x.clone().requires_grad_()
    spike(xg, name).sum().backward()
    h = 1e-6
    numeric = (PRIMITIVES[name](x + h, a) - PRIMITIVES[name](x - h, a)) / (2 * h)
    torch.testing.assert_close(xg.grad, numeric, rtol=1e-5, atol=1e-7)


def test_known_values():
    x = torch.tensor([0.0, 0.5], dtype=torch.float64, requires_grad=True)
    spike(x, "atan", alpha=2.0).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([1.0, 1 / (1 + (math.pi / 2) ** 2)], dtype=torch.float64))
    x.grad = None
    spike(x, "triangular", alpha=1.0).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([1.0, 0.5], dtype=torch.float64))


def test_forward_is_strict_heaviside_for_every_surrogate():
    x = torch.tensor([-1e-9, 0.0, 1e-9])
    for name in PRIMITIVES:
        assert spike(x, name).tolist() == [0.0, 0.0, 1.0]
    assert spike(x).tolist() == [0.0, 0.0, 1.0]


def test_gradcheck_through_spike_uses_surrogate():
    # d/dx sum(spike(w*x)) = w * g(w*x): gradcheck against the analytic surrogate expression
    x = torch.tensor([0.3, -0.2, 0.05], dtype=torch.float64, requires_grad=True)
    w = 1.7
    spike(w * x, "fast_sigmoid", alpha=10.0).sum().backward()
    torch.testing.assert_close(x.grad, w / (1 + 10.0 * (w * x.detach()).abs()) ** 2)


def test_unknown_surrogate_error():
    with pytest.raises(ValueError, match="surrogate"):
        spike(torch.zeros(1), "sigmoidish")
