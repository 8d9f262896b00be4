"""Write a feed-forward export as a lava-dl netx HDF5 network (``.net``), the layout ``netx.hdf5.Network`` reads.

Layout (lava-dl 0.6 ``lava/lib/dl/netx/hdf5.py``)::

    /layer/0        type="input", shape=[n_in], neuron/{type="CUBA", iDecay, vDecay, vThMant, refDelay, gradedSpike}
    /layer/k        type="dense", shape=[n], inFeatures, outFeatures, weight (out, in), bias (n,),
                    neuron/{type="CUBA", iDecay = du + 1, vDecay = dv, vThMant = vth, refDelay=1, gradedSpike=0}
    /simulation/{Ts=1, tSample}

netx rebuilds each dense layer as ``Dense`` (re-deriving the weight exponent with
``optimize_weight_bits``) and ``LIF(du=iDecay-1, dv=vDecay, vth=vThMant, bias_exp=6)``, so weights are
stored in integer ``a_in`` units (``w_int·2^weight_exp``) and the bias in units of 64 (netx's
``bias_exp=6``). The first layer of a neurokit classifier takes a constant input current, which netx's
binary input layer cannot carry: it is written as the first dense layer with the input projection
(``W0·gain`` in ``a_in`` units) and ``b0`` as its bias, so a netx user feeds the pixel values as graded
input of one step per sample.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .quantise import SHIFT, QNet


def _neuron(g, p):
    n = g.create_group("neuron")
    n.create_dataset("type", data="CUBA")
    n.create_dataset("iDecay", data=int(p.du) + 1)
    n.create_dataset("vDecay", data=int(p.dv))
    n.create_dataset("vThMant", data=int(p.vth))
    n.create_dataset("refDelay", data=1)
    n.create_dataset("gradedSpike", data=False)


def write_netx(qnet: QNet, path) -> Path:
    """Write a classifier export (``quantise_classifier``) as a netx ``.net``; other networks raise ValueError."""
    import h5py

    if qnet.meta.get("kind") != "classifier":
        raise ValueError(f"{qnet.name}: a netx .net holds a feed-forward layer chain; only classifier exports "
                         "(neurokit train snn checkpoints) are written as .net")
    m = qnet.meta
    layers = [f"h{k}" for k in range(m["depth"])] + ["out"]
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with h5py.File(tmp, "w") as f:
            g = f.create_group("layer/0")
            g.create_dataset("type", data="input")
            g.create_dataset("shape", data=np.array([m["n_in"]]))
            _neuron(g, qnet.populations["h0"])
            prev = None
            for k, name in enumerate(layers):
                p = qnet.populations[name]
                g = f.create_group(f"layer/{k + 1}")
                g.create_dataset("type", data="dense")
                g.create_dataset("shape", data=np.array([p.size]))
                if prev is None:
                    w = np.asarray(m["in_weight"]) * m["input_gain"] * p.scale / 2**SHIFT
                    b = np.asarray(m["in_bias"]) * p.scale
                else:
                    q = qnet.projections[f"{prev}_{name}"]
                    w = np.zeros((p.size, qnet.populations[prev].size))
                    w[q.post_idx, q.pre_idx] = q.w_int.astype(np.int64) << q.weight_exp
                    qb = qnet.projections[f"bias_{name}_{name}"]  # the always-on bias unit of this layer
                    b = np.zeros(p.size)
                    b[qb.post_idx] = (qb.w_int.astype(np.int64) << qb.weight_exp) * 2**SHIFT
                g.create_dataset("inFeatures", data=w.shape[1])
                g.create_dataset("outFeatures", data=w.shape[0])
                g.create_dataset("weight", data=np.rint(w).astype(np.int32))
                g.create_dataset("bias", data=np.rint(b / 2**SHIFT).astype(np.int32))
                _neuron(g, p)
                prev = name
            s = f.create_group("simulation")
            s.create_dataset("Ts", data=1)
            s.create_dataset("tSample", data=int(m["n_steps"]))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


__all__ = ["write_netx"]
