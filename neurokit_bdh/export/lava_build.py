"""Build Lava processes from a quantised network and run them on Lava's CPU simulator (the one module importing lava).

LIF populations -> ``lava.proc.lif.process.LIF`` (du, dv, vth scalar per population, as Lava needs);
projections -> ``Dense`` (all delays 1, dense enough), ``Sparse`` (all delays 1, sparse), ``DelayDense``
(longer delays, Lava delay = arrival delay - 1) or ``LearningSparse`` with ``STDPLoihi`` (plastic);
sources -> ``RingBuffer`` with the spikes pre-drawn for the run; spikes (and optionally ``v``)
recorded with ``Monitor``. ``select_tag="fixed_pt"`` runs the bit-accurate models, ``"floating_pt"``
the float ones. The runtime is always stopped, also on error.
"""
from __future__ import annotations

import numpy as np

from .emulator import EmulatorResult, source_spikes
from .quantise import QNet

LAVA_HINT = ("Lava is not installed: running on Lava's simulator needs lava-nc 0.10.0, which installs only on "
             "Python 3.10 (numpy < 2, networkx <= 2.8.7): pip install 'neurokit-bdh[lava]' in a Python 3.10 "
             "environment")
SPARSE_DENSITY = 0.25   # below this fill fraction a delay-1 projection becomes Sparse


def require_lava():
    import multiprocessing as mp
    import sys

    if "lava.magma.runtime.message_infrastructure.multiprocessing" not in sys.modules:
        # Lava calls mp.set_start_method('fork') on import, which fails once anything (torch, a pool) has fixed
        # the start method; with 'fork' already in force, clear the choice so Lava can make the same one.
        method = mp.get_start_method(allow_none=True)
        if method not in (None, "fork"):
            raise ImportError(f"Lava needs the 'fork' multiprocessing start method; this process uses {method!r}")
        if method == "fork":
            mp.context._default_context._actual_context = None
    try:
        import lava.magma.core.run_configs  # noqa: F401
        import lava.magma.runtime.message_infrastructure.multiprocessing  # noqa: F401
    except ImportError as e:
        raise ImportError(LAVA_HINT) from e


def _matrix(q, n_pre, n_post, values, dtype):
    m = np.zeros((n_post, n_pre), dtype)
    m[q.post_idx, q.pre_idx] = values
    return m


def run_on_lava(qnet: QNet, n_steps: int, select_tag: str = "fixed_pt", record_v=(), source_override=None,
                progress: bool = False) -> EmulatorResult:
    """Run ``qnet`` for ``n_steps`` on ``Loihi2SimCfg(select_tag=...)``; same result type as the emulator."""
    require_lava()
    from scipy.sparse import csr_matrix

    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.dense.process import DelayDense, Dense
    from lava.proc.io.source import RingBuffer
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor
    from lava.proc.sparse.process import LearningSparse, Sparse

    if select_tag not in ("fixed_pt", "floating_pt"):
        raise ValueError(f"select_tag: expected 'fixed_pt' or 'floating_pt', got {select_tag!r}")
    fixed = select_tag == "fixed_pt"
    procs, src_data = {}, {}
    for n, p in qnet.populations.items():
        if p.kind == "source":
            z = (source_override or {}).get(n)
            z = source_spikes(p, n_steps, qnet.dt) if z is None else np.asarray(z, bool)
            src_data[n] = z
            procs[n] = RingBuffer(data=z.T.astype(np.int32 if fixed else np.float64))  # (N, T)
        elif fixed:
            procs[n] = LIF(shape=(p.size,), du=int(p.du), dv=int(p.dv), vth=int(p.vth),
                           bias_mant=p.bias_mant.astype(int), bias_exp=p.bias_exp.astype(int),
                           v=p.v_init.astype(int), name=n)
        else:
            vth = float(p.vth_f) if np.isfinite(p.vth_f) else 1e300
            procs[n] = LIF(shape=(p.size,), du=float(p.du_f), dv=float(p.dv_f), vth=vth,
                           bias_mant=np.asarray(p.bias_f, float), bias_exp=0, v=np.asarray(p.v_init_f, float), name=n)
    conns = {}
    for name, q in qnet.projections.items():
        n_pre, n_post = qnet.populations[q.pre].size, qnet.populations[q.post].size
        vals = q.w_int.astype(np.int64) if fixed else q.w_f
        kw = dict(weight_exp=int(q.weight_exp)) if fixed else {}
        if q.learning is not None:
            from .stdp import lava_rule
            if q.delay.size and q.delay.max() > 1:
                raise ValueError(f"projection {name!r}: plastic projections need delay 1 on Lava (LearningSparse)")
            if not fixed:
                raise NotImplementedError(f"projection {name!r}: plastic projections run with "
                                          "select_tag='fixed_pt' only")
            c = LearningSparse(weights=csr_matrix((vals, (q.post_idx, q.pre_idx)), shape=(n_post, n_pre)),
                               learning_rule=lava_rule(q.learning), name=name, **kw)
            procs[q.post].s_out.connect(c.s_in_bap)
        elif q.delay.size and q.delay.max() > 1:
            c = DelayDense(weights=_matrix(q, n_pre, n_post, vals, vals.dtype),
                           delays=_matrix(q, n_pre, n_post, q.delay.astype(np.int64) - 1, np.int64), name=name, **kw)
        elif q.pre_idx.size < SPARSE_DENSITY * n_pre * n_post:
            c = Sparse(weights=csr_matrix((vals, (q.post_idx, q.pre_idx)), shape=(n_post, n_pre)), name=name, **kw)
        else:
            c = Dense(weights=_matrix(q, n_pre, n_post, vals, vals.dtype), name=name, **kw)
        procs[q.pre].s_out.connect(c.s_in)
        c.a_out.connect(procs[q.post].a_in)
        conns[name] = c
    mons = {}
    lif_names = [p.name for p in qnet.lif_populations()]
    for n in lif_names:
        m = Monitor()
        m.probe(procs[n].s_out, n_steps)
        mons[n] = m
    vmons = {}
    for n in record_v:
        m = Monitor()
        m.probe(procs[n].v, n_steps)
        vmons[n] = m
    anchor = procs[lif_names[0]]
    try:
        anchor.run(condition=RunSteps(num_steps=n_steps), run_cfg=Loihi2SimCfg(select_tag=select_tag))
        spikes = {n: mons[n].get_data()[n]["s_out"].astype(bool) for n in lif_names}
        spikes.update(src_data)
        v = {n: vmons[n].get_data()[n]["v"] for n in record_v}
        weights = {}
        for name, q in qnet.projections.items():
            if q.learning is not None:
                w = conns[name].weights.get()
                w = np.asarray(w.todense()) if hasattr(w, "todense") else np.asarray(w)
                weights[name] = w[q.post_idx, q.pre_idx].astype(np.int64)
    finally:
        anchor.stop()
    return EmulatorResult(spikes, v, weights)


__all__ = ["run_on_lava", "require_lava", "LAVA_HINT"]
