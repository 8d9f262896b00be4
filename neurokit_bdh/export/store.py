"""The export folder: ``network.h5`` (the quantised network), ``report.json``, ``resources.json``, ``network.net``.

``network.h5`` (format ``neurokit_bdh.loihi/1``): root attrs ``format``, ``name``, ``dt``, ``meta`` (JSON);
``/populations/<name>`` with attrs ``kind``, ``size``, ``du``, ``dv``, ``vth``, ``scale``, ``du_f``, ``dv_f``,
``vth_f``, ``source`` (JSON) and datasets ``bias_mant``, ``bias_exp``, ``v_init``, ``bias_f``, ``v_init_f``;
``/projections/<name>`` with attrs ``pre``, ``post``, ``weight_exp``, ``sign_mode``, ``learning`` (JSON) and
datasets ``pre_idx``, ``post_idx``, ``w_int``, ``delay``, ``w_f``. Files are written to a temporary name and
renamed, so a failed export leaves nothing half-written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .quantise import QNet, QPopulation, QProjection

FORMAT = "neurokit_bdh.loihi/1"
POP_ARRAYS = ("bias_mant", "bias_exp", "v_init", "bias_f", "v_init_f")
PROJ_ARRAYS = ("pre_idx", "post_idx", "w_int", "delay", "w_f")


def _json(obj) -> str:
    def conv(o):
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, (np.integer, np.floating)):
            return o.item()
        raise TypeError(type(o).__name__)
    return json.dumps(obj, default=conv)


def save_qnet(qnet: QNet, path) -> Path:
    import h5py

    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(format=FORMAT, name=qnet.name, dt=qnet.dt, meta=_json(qnet.meta))
            for n, p in qnet.populations.items():
                g = f.create_group(f"populations/{n}")
                g.attrs.update(kind=p.kind, size=p.size, du=p.du, dv=p.dv, vth=p.vth, scale=p.scale, du_f=p.du_f,
                               dv_f=p.dv_f, vth_f=p.vth_f, source=_json(p.source))
                for a in POP_ARRAYS:
                    if getattr(p, a) is not None:
                        g.create_dataset(a, data=getattr(p, a))
            for n, q in qnet.projections.items():
                g = f.create_group(f"projections/{n}")
                g.attrs.update(pre=q.pre, post=q.post, weight_exp=q.weight_exp, sign_mode=q.sign_mode,
                               learning=_json(q.learning))
                for a in PROJ_ARRAYS:
                    g.create_dataset(a, data=getattr(q, a), compression="gzip")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_qnet(path) -> QNet:
    import h5py

    path = Path(path)
    if path.is_dir():
        path = path / "network.h5"
    if not path.exists():
        raise OSError(f"{path}: no such file (expected the network.h5 of `neurokit export loihi`)")
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(f"{path}: not a neurokit Loihi export (format {f.attrs.get('format')!r}, "
                             f"expected {FORMAT!r})")
        meta = json.loads(f.attrs["meta"])
        for k in ("in_weight", "in_bias"):
            if k in meta:
                meta[k] = np.asarray(meta[k])
        pops, projs = {}, {}
        for n, g in f["populations"].items():
            a = g.attrs
            arrays = {k: g[k][()] for k in POP_ARRAYS if k in g}
            pops[n] = QPopulation(n, int(a["size"]), str(a["kind"]), du=int(a["du"]), dv=int(a["dv"]),
                                  vth=int(a["vth"]), scale=float(a["scale"]), du_f=float(a["du_f"]),
                                  dv_f=float(a["dv_f"]), vth_f=float(a["vth_f"]), source=json.loads(a["source"]),
                                  **arrays)
        for n, g in f["projections"].items():
            a = g.attrs
            projs[n] = QProjection(n, str(a["pre"]), str(a["post"]), *(g[k][()] for k in PROJ_ARRAYS[:3]),
                                   int(a["weight_exp"]), g["delay"][()], g["w_f"][()], str(a["sign_mode"]),
                                   json.loads(a["learning"]))
        return QNet(str(f.attrs["name"]), float(f.attrs["dt"]), pops, projs, {}, meta)


def write_json(obj, path) -> Path:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(json.loads(_json(obj)), indent=2) + "\n")
    os.replace(tmp, path)
    return path


__all__ = ["save_qnet", "load_qnet", "write_json", "FORMAT"]
