"""Export a trained spiking classifier (``neurokit train snn``) to Loihi 2 fixed point, and run batches of it.

The model (``models.snn.SNNClassifier``, current encoding) is ``x -> W0·(gain·x) + b0 -> LIF -> W1 -> ... ->
readout``. On Loihi the first projection is folded into the hidden neurons' bias (the input current is
constant over a sample), every later layer is a Dense projection, and each later bias ``b_k`` is carried
by a one-neuron source that spikes every step (so it arrives with the same one-step delay as the
spikes; a LIF bias would act one step early). Lava's Dense adds one step per layer, so our step ``t`` of
layer ``k`` is Lava step ``t + k``; the readout (a leaky integrator) is a LIF that never fires, read from
its ``v`` over the steps ``depth .. depth + T - 1``.

``batch_network`` lays ``B`` samples side by side (block-diagonal Sparse weights): the whole test set
runs in one Lava run.
"""
from __future__ import annotations

import numpy as np

from .quantise import (SHIFT, VTH_MAX, QNet, QPopulation, QProjection, _du, _dv, _lif_coef,
                       _quantise_projection, choose_scale, quantise_bias)


def quantise_classifier(model, name: str = "snn") -> QNet:
    """Quantise an ``SNNClassifier`` (feed-forward, current encoding, reset to 0) to a one-sample template."""
    from ..neurons.lif import LIFParams

    cfg = model.cfg
    where = f"{name}"
    if cfg.encoding != "current":
        raise ValueError(f"{where}: encoding={cfg.encoding!r}: Loihi export supports the 'current' encoding only")
    if cfg.recurrent:
        raise NotImplementedError(f"{where}: recurrent hidden layers are not supported by the classifier exporter")
    if cfg.readout not in ("max_membrane", "mean_membrane", "count"):
        raise ValueError(f"{where}: readout={cfg.readout!r} cannot be exported")
    dt = cfg.dt
    hidden_p = LIFParams(tau_mem=cfg.tau_mem, tau_syn=cfg.tau_syn, v_th=cfg.v_th, reset=cfg.reset)
    out_spiking = model.output == "spikes"
    out_p = hidden_p if out_spiking else LIFParams(tau_mem=cfg.tau_mem_out, tau_syn=cfg.tau_syn_out, v_th=cfg.v_th)
    lins = [(lin.effective_weight().detach().double().numpy(), lin.bias.detach().double().numpy())
            for lin in model.net.linears]
    sizes = [cfg.n_in, *cfg.hidden, cfg.n_out]
    depth = len(cfg.hidden)
    pops, projs, report = {}, {}, {"populations": {}, "projections": {}}
    names = [f"h{k}" for k in range(depth)] + ["out"]
    for k, pname in enumerate(names):
        params = out_p if pname == "out" else hidden_p
        c = _lif_coef(params, dt, f"{where}: layer {pname!r}")
        if not c.delta:
            raise NotImplementedError(f"{where}: layer {pname!r}: tau_syn > 0 is not supported by the classifier "
                                      "exporter (its one-step current lag would shift every layer)")
        W, b = lins[k]
        n = sizes[k + 1]
        if k == 0:  # bias-driven: the largest possible current with x in [0, 1]
            gain = float(model.net.input_gain)
            max_bias = float(np.max(np.abs(W).sum(1) * gain + np.abs(b)))
            vth, S = choose_scale(c.v_th, 0.0, max_bias, f"{where}: layer {pname!r}")
        else:
            max_w = float(max(np.abs(W).max(), np.abs(b).max()))
            if pname == "out" and not out_spiking:  # never fires: keep |v| well inside the threshold
                bound = float(np.max(np.abs(W).sum(1) + np.abs(b))) / (1 - c.c_v)
                S = min(254 * 2**SHIFT / max_w, VTH_MAX * 2**SHIFT / (2 * bound))
                vth = VTH_MAX
            else:
                vth, S = choose_scale(c.v_th, max_w, 0.0, f"{where}: layer {pname!r}")
        pops[pname] = QPopulation(pname, n, "lif", du=_du(c.a_i), dv=_dv(c.c_v), vth=vth,
                                  bias_mant=np.zeros(n, np.int32), bias_exp=np.zeros(n, np.int32),
                                  v_init=np.zeros(n, np.int32), scale=S, du_f=1.0 - c.a_i, dv_f=1.0 - c.c_v,
                                  vth_f=np.inf if vth == VTH_MAX and pname == "out" and not out_spiking else c.v_th,
                                  bias_f=np.zeros(n), v_init_f=np.zeros(n))
        report["populations"][pname] = {"size": n, "scale": S, "du": pops[pname].du, "dv": pops[pname].dv,
                                        "vth": vth}
        if k > 0:
            prev = names[k - 1]
            post, pre = np.nonzero(W)
            projs[f"{prev}_{pname}"] = _quantise_projection(
                f"{prev}_{pname}", prev, pname, pre, post, W[post, pre], np.ones(post.size, np.int32), S,
                f"{where}: projection {prev}->{pname}", report)
            bname = f"bias_{pname}"  # one neuron spiking from Lava step k-1 on: b arrives with the spikes
            pops[bname] = QPopulation(bname, 1, "source", source={"from_step": k - 1})
            nz = np.nonzero(b)[0]
            projs[f"{bname}_{pname}"] = _quantise_projection(
                f"{bname}_{pname}", bname, pname, np.zeros(nz.size, np.int64), nz, b[nz],
                np.ones(nz.size, np.int32), S, f"{where}: bias of layer {pname!r}", report)
    meta = {"kind": "classifier", "n_steps": cfg.n_steps, "depth": depth, "readout": cfg.readout,
            "n_in": cfg.n_in, "n_out": cfg.n_out, "input_gain": float(model.net.input_gain),
            "in_weight": lins[0][0], "in_bias": lins[0][1]}
    return QNet(name, dt, pops, projs, report, meta)


def input_bias(qnet: QNet, x: np.ndarray, fixed: bool = True):
    """First-layer bias for samples ``x`` (B, n_in): (mant, exp, n_clipped) in fixed point, or the float current."""
    m = qnet.meta
    cur = (np.asarray(x, np.float64) * m["input_gain"]) @ m["in_weight"].T + m["in_bias"]  # (B, hidden[0])
    if not fixed:
        return cur
    return quantise_bias(cur * qnet.populations["h0"].scale, f"{qnet.name}: input bias", clip=True)


def batch_network(qnet: QNet, x: np.ndarray, fixed: bool = True) -> QNet:
    """``B`` copies of the template side by side, the first layer biased by each sample of ``x`` (B, n_in)."""
    x = np.asarray(x, np.float64)
    B = x.shape[0]
    pops, projs = {}, {}
    for n, p in qnet.populations.items():
        q = QPopulation(**{**p.__dict__})
        q.size = p.size * B
        if p.kind == "lif":
            for f in ("bias_mant", "bias_exp", "v_init", "bias_f", "v_init_f"):
                setattr(q, f, np.tile(getattr(p, f), B))
        pops[n] = q
    h0 = pops["h0"]
    if fixed:
        mant, exp, n_clip = input_bias(qnet, x, True)
        h0.bias_mant, h0.bias_exp = mant.reshape(-1), exp.reshape(-1)
    else:
        n_clip = 0
        h0.bias_f = input_bias(qnet, x, False).reshape(-1)
    for n, q in qnet.projections.items():
        n_pre, n_post = qnet.populations[q.pre].size, qnet.populations[q.post].size
        off = np.arange(B, dtype=np.int64)[:, None]
        r = QProjection(**{**q.__dict__})
        r.pre_idx = (q.pre_idx[None] + off * n_pre).reshape(-1)
        r.post_idx = (q.post_idx[None] + off * n_post).reshape(-1)
        for f in ("w_int", "delay", "w_f"):
            setattr(r, f, np.tile(getattr(q, f), B))
        projs[n] = r
    meta = dict(qnet.meta, batch=B, bias_clipped=n_clip)
    return QNet(qnet.name, qnet.dt, pops, projs, qnet.report, meta)


def n_run_steps(qnet: QNet) -> int:
    return qnet.meta["n_steps"] + qnet.meta["depth"]


def scores(qnet: QNet, v_out: np.ndarray | None = None, s_out: np.ndarray | None = None) -> np.ndarray:
    """Class scores (B, n_out) from the output layer's Lava-timed trace (T + depth, B·n_out)."""
    m = qnet.meta
    lo, T = m["depth"], m["n_steps"]
    B, n = m["batch"], m["n_out"]
    if m["readout"] == "count":
        return s_out[lo:lo + T].sum(0).reshape(B, n).astype(np.float64)
    w = np.asarray(v_out[lo:lo + T], np.float64).reshape(T, B, n)
    return w.max(0) if m["readout"] == "max_membrane" else w.mean(0)


__all__ = ["quantise_classifier", "batch_network", "input_bias", "scores", "n_run_steps"]
