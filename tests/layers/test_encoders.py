"""Encoders (statistics and exact timing) and readouts."""
import pytest
import torch

from neurokit_bdh.layers import delta, first_spike, latency, max_membrane, poisson, spike_count


def test_poisson_rate_within_tolerance():
    p = torch.tensor([0.0, 0.05, 0.2, 0.5, 1.0])
    z = poisson(p.expand(100, 5), n_steps=200, seed=0)  # (T, B, N): 20 000 draws per probability
    assert z.shape == (200, 100, 5)
    rate = z.mean((0, 1))
    sd = (p * (1 - p) / 20000).sqrt()
    assert torch.all((rate - p).abs() <= 5 * sd + 1e-9), (rate, p)  # 5 standard errors
    assert rate[0] == 0 and rate[-1] == 1


def test_poisson_rate_in_hz_and_reproducible():
    dt = 1e-3
    z = poisson(torch.full((1, 1000), 50.0), n_steps=1000, gain=dt, seed=3)  # 50 Hz for 1 s, 1000 trains
    assert abs(z.sum(0).mean().item() - 50.0) < 1.0  # SE of the mean count ≈ 0.22
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(poisson(torch.rand(3, 4, generator=g1), 10, generator=g1),
                       poisson(torch.rand(3, 4, generator=g2), 10, generator=g2))
    with pytest.raises(ValueError, match="seed"):
        poisson(torch.rand(2), 3, generator=g1, seed=1)
    with pytest.raises(ValueError, match="n_steps"):
        poisson(torch.rand(2), 0)


def test_latency_one_spike_earlier_for_larger_values():
    x = torch.tensor([[1.0, 0.75, 0.5, 0.25, 0.0]])
    z = latency(x, n_steps=9)
    assert z.shape == (9, 1, 5)
    assert z.sum(0).tolist() == [[1.0, 1.0, 1.0, 1.0, 0.0]]
    assert first_spike(z).tolist() == [[0, 2, 4, 6, 9]]  # round((1 - x)·8); 9 = never


def test_delta_level_crossing():
    t = torch.linspace(0, 1, 101)
    x = torch.sin(2 * torch.pi * t)[:, None, None]  # (T, 1, 1)
    z = delta(x, threshold=0.1)
    # between spikes the signal stays within one threshold of its value at the last spike
    ref = x[0].clone()
    for t in range(101):
        if z[t] != 0:
            assert (z[t] > 0) == (x[t] > ref) and (x[t] - ref).abs() > 0.1
            ref = x[t].clone()
        assert (x[t] - ref).abs() <= 0.1 + 1e-6
    assert (z == 1).sum() > 5 and (z == -1).sum() > 5
    assert (delta(x, 0.1, off=False) >= 0).all()


def test_readouts():
    z = torch.zeros(5, 2, 3)
    z[1, 0, 0] = z[3, 0, 0] = z[4, 1, 2] = 1
    assert spike_count(z).tolist() == [[2, 0, 0], [0, 0, 1]]
    assert first_spike(z).tolist() == [[1, 5, 5], [5, 5, 4]]
    v = torch.arange(30.0).reshape(5, 2, 3)
    assert torch.equal(max_membrane(v), v[-1])
