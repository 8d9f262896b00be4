"""Spiking self-attention: spike-form Q, K, V, no softmax, the product checked against a manual computation."""
import math

import pytest
import torch

from neurokit_bdh.layers import LIF, SpikingSelfAttention
from neurokit_bdh.layers.attention import SPIKFORMER_ATTN_LIF, SPIKFORMER_LIF


def _spikes(T, B, L, D, seed, p=0.3):
    return (torch.rand(T, B, L, D, generator=torch.Generator().manual_seed(seed)) < p).float()  # (T, B, L, D)


def test_attention_equals_manual_spikformer_computation():
    """Q, K, V are LIF spikes of the projections; A = scale·(QKᵀ)V per head, with no softmax."""
    torch.manual_seed(0)
    attn = SpikingSelfAttention(8, n_heads=2, norm=None, seed=1).eval()
    with torch.no_grad():  # stronger weights than the default init, so that the tiny layer spikes
        for lin in (attn.q, attn.k, attn.v, attn.o):
            lin.weight.mul_(5.0)
    s = _spikes(5, 2, 6, 8, seed=2, p=0.5)
    out = attn(s)
    lif = LIF(SPIKFORMER_LIF, 1e-3, "atan", kernel="torch")
    heads = []
    for lin in (attn.q, attn.k, attn.v):
        z = lif(s @ lin.weight.T + lin.bias)[0]                           # (T, B, L, D)
        heads.append(z.reshape(5, 2, 6, 2, 4).permute(0, 1, 3, 2, 4))      # (T, B, H, L, 4)
    q, k, v = heads
    assert 0 < q.mean() < 1 and set(torch.unique(q).tolist()) <= {0.0, 1.0}
    ref = torch.einsum("tbhld,tbhmd,tbhme->tbhle", q, k, v) * 0.5          # scale 1/sqrt(4)
    torch.testing.assert_close(attn.last_attention, ref, rtol=0, atol=1e-6)
    assert attn.last_attention.min() >= 0 and attn.last_attention.max() > 1   # counts, not a softmax's weights
    a = LIF(SPIKFORMER_ATTN_LIF, 1e-3, "atan", kernel="torch")(ref.permute(0, 1, 3, 2, 4).reshape(5, 2, 6, 8))[0]
    expect = lif(a @ attn.o.weight.T + attn.o.bias)[0]
    assert torch.equal(out, expect)


def _strong(attn):
    with torch.no_grad():
        for lin in (attn.q, attn.k, attn.v, attn.o):
            lin.weight.mul_(5.0)
    return attn


def test_no_softmax_scaling_is_linear_in_scale():
    s = _spikes(4, 2, 5, 8, seed=3, p=0.5)
    a1 = _strong(SpikingSelfAttention(8, n_heads=1, norm=None, seed=0, scale=0.25))
    a2 = _strong(SpikingSelfAttention(8, n_heads=1, norm=None, seed=0, scale=0.5))
    a1(s)
    a2(s)
    assert a1.last_attention.max() > 0
    torch.testing.assert_close(a2.last_attention, 2 * a1.last_attention, rtol=0, atol=0)


def test_causal_mask_hides_future_tokens():
    attn = _strong(SpikingSelfAttention(8, n_heads=2, causal=True, norm=None, seed=4))
    s = _spikes(6, 1, 7, 8, seed=5, p=0.5)
    s2 = s.clone()
    s2[:, :, 4:] = _spikes(6, 1, 3, 8, seed=6, p=0.5)     # change tokens 4..6 only
    out1, a1 = attn(s), attn.last_attention
    out2, a2 = attn(s2), attn.last_attention
    assert torch.equal(out1[:, :, :4], out2[:, :, :4]) and torch.equal(a1[..., :4, :], a2[..., :4, :])
    assert not torch.equal(a1[..., 4:, :], a2[..., 4:, :])
    full = _strong(SpikingSelfAttention(8, n_heads=2, causal=False, norm=None, seed=4))
    full(s2)
    assert not torch.equal(full.last_attention[..., :4, :], a2[..., :4, :])  # without the mask they would differ


def test_trains_with_batchnorm_and_gradients_reach_all_projections():
    torch.manual_seed(0)
    attn = SpikingSelfAttention(16, n_heads=4, seed=7)
    s = _spikes(4, 3, 5, 16, seed=8)
    out = attn(s)
    assert out.shape == (4, 3, 5, 16) and set(torch.unique(out).tolist()) <= {0.0, 1.0}
    out.sum().backward()
    for name in ("q", "k", "v", "o"):
        g = getattr(attn, name).weight.grad
        assert g is not None and torch.isfinite(g).all() and g.abs().max() > 0, name
    assert attn.scale == pytest.approx(1 / math.sqrt(4))


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_heads"):
        SpikingSelfAttention(10, n_heads=3)
    with pytest.raises(ValueError, match="dim"):
        SpikingSelfAttention(0)
    with pytest.raises(ValueError, match="norm"):
        SpikingSelfAttention(8, norm="layer")
    with pytest.raises(ValueError, match="scale"):
        SpikingSelfAttention(8, scale=-1.0)
    with pytest.raises(ValueError, match=r"\(T, B, L, 8\)"):
        SpikingSelfAttention(8)(torch.zeros(3, 2, 8))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_uses_fused_kernels_and_matches_torch_path():
    s = _spikes(8, 4, 16, 64, seed=9).cuda()
    fused = SpikingSelfAttention(64, n_heads=4, seed=3, kernel="auto").cuda()
    plain = SpikingSelfAttention(64, n_heads=4, seed=3, kernel="torch").cuda()
    assert fused.q_lif._use_triton(s, fused.q_lif.init_state(s.shape[1:], device="cuda"), False)
    o1, o2 = fused(s), plain(s)
    torch.testing.assert_close(fused.last_attention, plain.last_attention, rtol=1e-5, atol=1e-5)
    assert (o1 != o2).float().mean() < 1e-3  # matmul reductions may round differently on GPU
