"""Time-batched projections, the spiking MLP and its sparse (scale-free) recurrent option."""
import pytest
import torch

from neurokit_bdh.graph.topology import barabasi_albert
from neurokit_bdh.layers import RecurrentLIF, SpikingMLP, TimeLinear, topology_mask


def test_time_linear_equals_per_step_linear():
    torch.manual_seed(0)
    lin = TimeLinear(16, 9)
    x = torch.randn(12, 5, 16)  # (T, B, N)
    y = lin(x)
    ref = torch.stack([torch.nn.functional.linear(x[t], lin.weight, lin.bias) for t in range(12)])
    assert y.shape == (12, 5, 9)
    torch.testing.assert_close(y, ref, rtol=1e-6, atol=1e-6)
    xs = torch.randn(5, 16)  # static input broadcast over T
    torch.testing.assert_close(lin(xs, n_steps=4), lin(xs.expand(4, 5, 16)), rtol=1e-6, atol=1e-6)


def test_time_linear_is_one_matmul(monkeypatch):
    calls = []
    real = torch.nn.functional.linear
    monkeypatch.setattr(torch.nn.functional, "linear", lambda *a, **k: calls.append(1) or real(*a, **k))
    TimeLinear(4, 3)(torch.randn(50, 2, 4))
    assert len(calls) == 1


def test_mask_keeps_only_listed_connections():
    mask = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    lin = TimeLinear(2, 2, bias=False, mask=mask)
    assert torch.equal(lin.effective_weight() == 0, mask == 0)
    lin(torch.randn(3, 1, 2)).sum().backward()
    assert (lin.weight.grad[mask == 0] == 0).all()
    with pytest.raises(ValueError, match="mask"):
        TimeLinear(2, 3, mask=mask)


def test_topology_mask_matches_generator():
    pre, post = barabasi_albert(40, 3, seed=7)
    m = topology_mask(40, "barabasi_albert", seed=7, m=3)
    assert int(m.sum()) == pre.size and bool((m[post, pre] == 1).all())
    rec = RecurrentLIF(40, topology="barabasi_albert", topology_params={"m": 3}, seed=7)
    assert torch.equal(rec.recurrent.effective_weight() != 0, m.bool())
    with pytest.raises(ValueError, match="topology"):
        topology_mask(10, "nope", seed=0)


@pytest.mark.parametrize("recurrent,topology", [(False, None), (True, None), (True, "barabasi_albert")])
def test_spiking_mlp_shapes_and_grads(recurrent, topology):
    net = SpikingMLP(10, [24, 16], 3, recurrent=recurrent, topology=topology,
                     topology_params={"m": 2} if topology else None, seed=0, input_gain=5.0)
    out = net(torch.rand(6, 10), n_steps=8)
    assert out.shape == (8, 6, 3) and len(net.hidden_spikes) == 2
    out.amax(0).sum().backward()
    for p in net.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    net2 = SpikingMLP(10, [24, 16], 3, recurrent=recurrent, topology=topology,
                      topology_params={"m": 2} if topology else None, seed=0, input_gain=5.0)
    for a, b in zip(net.state_dict().values(), net2.state_dict().values()):
        assert torch.equal(a, b)  # seeded initialisation is reproducible


def test_spiking_mlp_spike_output_and_errors():
    net = SpikingMLP(4, [8], 2, output="spikes", seed=0)
    z = net(torch.rand(5, 3, 4))
    assert z.shape == (5, 3, 2) and set(z.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="n_steps"):
        net(torch.rand(3, 4))
    with pytest.raises(ValueError, match="output"):
        SpikingMLP(4, [8], 2, output="rates")
    with pytest.raises(ValueError, match=r"hidden\[0\]"):
        SpikingMLP(4, [0], 2)
