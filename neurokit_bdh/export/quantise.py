r"""Map a network (spec or trained classifier) to Loihi 2 fixed point, with a report of what it cost.

The exported model is Lava's current-based LIF (``PyLifModelBitAcc``), per step ``t``::

    u[t] = u[t-1]·(4096 - du - 1) >> 12  +  (a_in[t] << 6)        (rounded toward zero)
    v[t] = v[t-1]·(4096 - dv) >> 12      +  u[t] + bias            (saturates at ±(2^23 - 1))
    spike if v[t] > vth << 6, then v[t] = 0

Our LIF (``neurons.lif``, exact or Euler discretisation) maps onto it as follows; ``S`` is the
integer membrane units per unit of our ``v`` in a post-synaptic population (one per population):

* membrane decay ``a_m = exp(-dt/τ_mem)`` (or ``1 - dt/τ_mem``): ``dv = 4096 - round(4096·a_m)``;
* synaptic decay ``a_s = exp(-dt/τ_syn)``: ``du = 4095 - round(4096·a_s)``; delta synapses
  (``τ_syn = 0``) are ``du = 4095``: the current decays fully each step, so an input jumps ``v`` in the
  step it arrives, exactly like our delta synapse;
* with ``τ_syn > 0`` our input adds to ``i`` and reaches ``v`` one step later (``v`` uses ``c_i·i`` of the
  previous step), Lava's reaches ``v`` in its arrival step: Lava's ``u`` is our ``c_i·i`` one step
  earlier, so weights carry ``c_i`` and the Lava delay is our delay minus one (so it must be ≥ 2 steps);
* delays: our spike of step ``t`` with delay ``d`` arrives in step ``t + d``; Lava's ``Dense`` delivers
  in step ``t + 1`` and ``DelayDense`` with delay ``k`` in ``t + 1 + k``. The exporter stores the Lava
  arrival delay ``L`` (= ``d`` for delta synapses, ``d - 1`` for current synapses) per synapse;
* threshold ``vth = round(v_th·S/64)`` (17 bit), reset to 0 (``reset="to_value"`` with ``v_reset = 0``
  only), no refractory period (``t_ref`` under two steps only); ``v_leak`` becomes a bias plus ``v(0)``;
* weights: ``w_int·2^weight_exp·64 ≈ w·c·S`` with an 8-bit mantissa (even values in [-256, 254] for
  mixed-sign projections, as Lava's truncation leaves them) and one exponent (0…7) per projection.

``S`` is chosen so the largest incoming weight uses the full mantissa at exponent 0, capped so the
threshold fits 17 bits and the biases fit ``bias_mant·2^bias_exp`` (13-bit mantissa, exponent 0…7).
A value that cannot be represented raises ``ValueError`` naming the population or projection.

>>> from neurokit_bdh.export.quantise import decays
>>> decays(tau_mem=10e-3, tau_syn=0.0, dt=1e-3)       # (du, dv): delta synapse, exp(-0.1) membrane
(4095, 390)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

VTH_MAX = 2**17 - 1           # unsigned 17-bit threshold mantissa
BIAS_MANT_MAX = 2**12 - 1     # signed 13-bit bias mantissa
BIAS_EXP_MAX = 7              # 3-bit bias exponent
WEIGHT_EXP_MAX = 7
DELAY_MAX = 64                # DelayDense delays 0..63, i.e. arrival after 1..64 steps
SHIFT = 6                     # Lava left-shifts a_in and vth by 6 bits
UV_MAX = 2**23 - 1            # 24-bit u, v


@dataclass
class QPopulation:
    """One population in fixed point (``kind="lif"``) or a spike source (``kind="source"``)."""

    name: str
    size: int
    kind: str                                  # "lif" or "source"
    du: int = 0
    dv: int = 0
    vth: int = 0
    bias_mant: np.ndarray | None = None        # (N,) int
    bias_exp: np.ndarray | None = None         # (N,) int
    v_init: np.ndarray | None = None           # (N,) int
    scale: float = 1.0                         # S: integer v units per unit of the float v
    du_f: float = 0.0                          # float counterparts (Lava's floating_pt model)
    dv_f: float = 0.0
    vth_f: float = 0.0
    bias_f: np.ndarray | None = None
    v_init_f: np.ndarray | None = None
    source: dict = field(default_factory=dict)  # {"rate": Hz, "seed"}, {"steps", "neurons"} or {"from_step"}


@dataclass
class QProjection:
    """Synapses ``pre[k] -> post[k]``: integer weight, one exponent, Lava arrival delay (steps ≥ 1)."""

    name: str
    pre: str
    post: str
    pre_idx: np.ndarray     # (n_syn,) int64
    post_idx: np.ndarray    # (n_syn,) int64
    w_int: np.ndarray       # (n_syn,) int32, already as Lava's clip/truncation leaves it
    weight_exp: int
    delay: np.ndarray       # (n_syn,) int32 Lava arrival delay: a spike of step t arrives in step t + delay
    w_f: np.ndarray         # (n_syn,) float64: the weight in float v units (Lava floating_pt)
    sign_mode: str          # "mixed", "excitatory", "inhibitory" (lava.utils.weightutils.SignMode)
    learning: dict | None = None   # STDPLoihi parameters (see .stdp), None: static


@dataclass
class QNet:
    name: str
    dt: float
    populations: dict[str, QPopulation]
    projections: dict[str, QProjection]
    report: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)   # e.g. the classifier's readout and time window

    def lif_populations(self):
        return [p for p in self.populations.values() if p.kind == "lif"]


# ------------------------------------------------------------------------------------------------ helpers

def decays(tau_mem: float, tau_syn: float, dt: float, method: str = "exact") -> tuple[int, int]:
    """Lava ``(du, dv)`` for our membrane and synaptic time constants."""
    from ..neurons.lif import LIFParams, discretise

    c = discretise(LIFParams(tau_mem=tau_mem, tau_syn=tau_syn, method=method), dt)
    return _du(c.a_i), _dv(c.c_v)


def _du(a_s: float) -> int:
    return 4095 - int(round(4096 * a_s))


def _dv(a_m: float) -> int:
    return 4096 - int(round(4096 * a_m))


def sign_mode(w: np.ndarray) -> str:
    """Lava's ``determine_sign_mode`` on the weights."""
    if w.size == 0 or w.min() >= 0:
        return "excitatory"
    return "inhibitory" if w.max() <= 0 else "mixed"


def mantissa_limit(mode: str) -> int:
    return 254 if mode == "mixed" else 255


def quantise_weights(w_v: np.ndarray, mode: str, where: str):
    """``w_v``: weights in units of ``a_in``. Returns (w_int, weight_exp)."""
    m = float(np.abs(w_v).max()) if w_v.size else 0.0
    lim = mantissa_limit(mode)
    exp = 0 if m <= lim else int(math.ceil(math.log2(m / lim) - 1e-12))
    if exp > WEIGHT_EXP_MAX:
        raise ValueError(f"{where}: weight {m:.4g} (in a_in units) needs weight_exp {exp} > {WEIGHT_EXP_MAX}; "
                         "it cannot be represented (lower the weights or raise the threshold)")
    x = w_v / 2.0**exp
    if mode == "mixed":  # Lava drops the lowest bit of mixed-sign weights: keep even values
        w = 2 * np.clip(np.rint(x / 2), -128, 127)
    elif mode == "excitatory":
        w = np.clip(np.rint(x), 0, 255)
    else:
        w = np.clip(np.rint(x), -255, 0)
    return w.astype(np.int32), exp


def quantise_bias(b_v: np.ndarray, where: str, clip: bool = False):
    """Bias in integer v units -> (bias_mant, bias_exp, n_clipped), one exponent per neuron."""
    b_v = np.asarray(b_v, np.float64)
    a = np.abs(b_v)
    exp = np.zeros(b_v.shape, np.int64)
    big = a > BIAS_MANT_MAX
    exp[big] = np.ceil(np.log2(a[big] / BIAS_MANT_MAX) - 1e-12).astype(np.int64)
    over = exp > BIAS_EXP_MAX
    if over.any() and not clip:
        k = int(np.argmax(over))
        raise ValueError(f"{where}: bias {b_v[k]:.4g} (integer v units) exceeds "
                         f"{BIAS_MANT_MAX}·2^{BIAS_EXP_MAX}; it cannot be represented")
    exp = np.minimum(exp, BIAS_EXP_MAX)
    mant = np.clip(np.rint(b_v / 2.0**exp), -BIAS_MANT_MAX - 1, BIAS_MANT_MAX)
    return mant.astype(np.int32), exp.astype(np.int32), int(over.sum())


def effective_bias(mant, exp) -> np.ndarray:
    return np.asarray(mant, np.int64) << np.asarray(exp, np.int64)


def rel_error(approx: np.ndarray, exact: np.ndarray) -> float:
    """max |approx - exact| / max |exact| (0 for an all-zero exact)."""
    exact = np.asarray(exact, np.float64)
    m = float(np.abs(exact).max()) if exact.size else 0.0
    return float(np.abs(np.asarray(approx, np.float64) - exact).max()) / m if m else 0.0


def choose_scale(v_th: float, max_w: float, max_bias: float, where: str) -> tuple[int, float]:
    """Threshold mantissa and scale S: largest weight -> full mantissa, capped by 17-bit vth and the bias range."""
    s_cap = VTH_MAX * 2**SHIFT / v_th
    if max_w > 0:
        s_cap = min(s_cap, 254 * 2**SHIFT / max_w)
    if max_bias > 0:
        s_cap = min(s_cap, BIAS_MANT_MAX * 2**BIAS_EXP_MAX / max_bias)
    vth = int(math.floor(v_th * s_cap / 2**SHIFT))
    if vth < 1:
        raise ValueError(f"{where}: threshold v_th={v_th} cannot be represented: the largest weight ({max_w:.4g}) "
                         f"or bias ({max_bias:.4g}) is too large relative to it for 17-bit fixed point")
    return vth, vth * 2**SHIFT / v_th


# ------------------------------------------------------------------------------------------------ spec

def _lif_coef(params, dt, where):
    from ..neurons.lif import LIFParams, discretise

    if not isinstance(params, LIFParams):
        raise ValueError(f"{where}: Loihi export supports LIF populations only, got {type(params).__name__}")
    if params.reset != "to_value" or params.v_reset != 0:
        raise ValueError(f"{where}: Lava's LIF resets v to 0; got reset={params.reset!r}, v_reset={params.v_reset} "
                         "(export needs reset='to_value' and v_reset=0)")
    c = discretise(params, dt)
    if c.n_ref > 1:
        raise ValueError(f"{where}: t_ref={params.t_ref} s ({c.n_ref} steps) cannot be exported: Lava's LIF has no "
                         "refractory period (use t_ref < 2·dt)")
    return c


def quantise_network(net, n_steps: int | None = None) -> QNet:
    """Quantise a realised :class:`~neurokit_bdh.graph.network.Network` (spike sources stay sources)."""
    from ..graph.network import subseed

    spec = net.spec
    dt = spec.dt
    for k, inp in enumerate(spec.inputs):
        if inp.type != "current":
            raise NotImplementedError(f"{spec.source}: inputs[{k}]: Loihi export of {inp.type!r} inputs is not "
                                      "supported; drive the network from a 'poisson' or 'spike_source' population")
    pops: dict[str, QPopulation] = {}
    coefs = {}
    report = {"populations": {}, "projections": {}}
    for name, rp in net.populations.items():
        where = f"{spec.source}: population {name!r}"
        if rp.model == "poisson":
            pops[name] = QPopulation(name, rp.size, "source",
                                     source={"rate": float(rp.params["rate"]),
                                             "seed": subseed(spec.seed, "pop", name, "loihi_source")})
        elif rp.model == "spike_source":
            steps = np.rint(np.asarray(rp.params["times"], float) / dt).astype(np.int64)
            pops[name] = QPopulation(name, rp.size, "source",
                                     source={"steps": steps.tolist(), "neurons": list(rp.params["neurons"])})
        elif rp.model == "lif":
            coefs[name] = _lif_coef(rp.params, dt, where)
        else:
            raise ValueError(f"{where}: Loihi export supports LIF populations only, got model {rp.model!r}")
    # float weights in v units (c_i folded in) and Lava arrival delays
    fw = {}
    for pname, pr in net.projections.items():
        where = f"{spec.source}: projection {pname!r}"
        if pr.post not in coefs:
            raise ValueError(f"{where}: post population {pr.post!r} is not LIF")
        c = coefs[pr.post]
        if pr.structural is not None:
            raise NotImplementedError(f"{where}: structural plasticity cannot be exported to Loihi")
        w = pr.csr.weights.astype(np.float64) * (1.0 if c.delta else c.c_i)
        delay = pr.csr.delays.astype(np.int64) - (0 if c.delta else 1)
        if delay.size and delay.min() < 1:
            raise ValueError(f"{where}: delay of {int(pr.csr.delays.min())} step(s) into a current-based population "
                             "cannot be exported: Lava's current reaches v in its arrival step, ours one step later, "
                             "so the delay must be >= 2 steps (or use tau_syn = 0)")
        if delay.size and delay.max() > DELAY_MAX:
            raise ValueError(f"{where}: delay {int(delay.max())} steps exceeds Loihi's {DELAY_MAX}")
        fw[pname] = (w, delay)
    bias_f = {n: np.zeros(net.populations[n].size) for n in coefs}
    for k, inp in enumerate(spec.inputs):  # constant currents over the whole run become biases
        where = f"{spec.source}: inputs[{k}]"
        p = inp.params
        start, stop = float(p.get("start", 0.0)), float(p.get("stop", math.inf))
        if start > 0 or stop < spec.duration:
            raise NotImplementedError(f"{where}: a current switched on/off during the run ({start}..{stop} s) cannot "
                                      "be exported; Loihi biases are constant")
        if inp.target not in coefs:
            raise ValueError(f"{where}: target {inp.target!r} is not LIF")
        idx = slice(None) if inp.neurons is None else np.asarray(inp.neurons)
        bias_f[inp.target][idx] += float(p["amplitude"]) * coefs[inp.target].c_e
    for name, c in coefs.items():
        rp = net.populations[name]
        where = f"{spec.source}: population {name!r}"
        v_leak = rp.params.v_leak
        b_f = bias_f[name] + c.c_0
        incoming = [fw[p][0] for p, pr in net.projections.items() if pr.post == name and fw[p][0].size]
        max_w = max((float(np.abs(w).max()) for w in incoming), default=0.0)
        vth, S = choose_scale(c.v_th, max_w, float(np.abs(b_f).max()) if b_f.size else 0.0, where)
        mant, bexp, _ = quantise_bias(b_f * S, where)
        v0 = np.full(rp.size, float(v_leak))
        if abs(v_leak) * S > UV_MAX:
            raise ValueError(f"{where}: v_leak={v_leak} cannot be represented in 24-bit v")
        pops[name] = QPopulation(
            name, rp.size, "lif", du=_du(c.a_i), dv=_dv(c.c_v), vth=vth, bias_mant=mant, bias_exp=bexp,
            v_init=np.rint(v0 * S).astype(np.int32), scale=S, du_f=1.0 - c.a_i, dv_f=1.0 - c.c_v, vth_f=c.v_th,
            bias_f=b_f, v_init_f=v0)
        if not 0 <= pops[name].dv <= 4095:
            raise ValueError(f"{where}: tau_mem too short for dt: dv={pops[name].dv} outside 0..4095")
        report["populations"][name] = {
            "size": rp.size, "scale": S, "du": pops[name].du, "dv": pops[name].dv, "vth": vth,
            "vth_rel_error": abs(vth * 2**SHIFT / S - c.v_th) / c.v_th,
            "decay_u_rel_error": abs((4095 - pops[name].du) / 4096 - c.a_i) / max(c.a_i, 1e-300) if c.a_i else 0.0,
            "decay_v_rel_error": abs((4096 - pops[name].dv) / 4096 - c.c_v) / c.c_v,
            "bias_rel_error": rel_error(effective_bias(mant, bexp) / S, b_f)}
    projs = {}
    for pname, pr in net.projections.items():
        where = f"{spec.source}: projection {pname!r}"
        w, delay = fw[pname]
        post = pops[pr.post]
        pre_idx, post_idx = pr.csr.pre(), pr.csr.indices
        if pr.rule is None:
            projs[pname] = _quantise_projection(pname, pr.pre, pr.post, pre_idx, post_idx, w, delay, post.scale,
                                                where, report)
            continue
        from .stdp import learning_from_rule
        # Lava's learning rule acts on every synapse of a connection: synapses the rule must not touch
        # (plastic_on = exc_pre / exc_exc) become a separate static projection
        mask = np.ones(w.size, bool) if pr.plastic is None else np.asarray(pr.plastic, bool)
        if (~mask).any():
            k = ~mask
            projs[f"{pname}_static"] = _quantise_projection(f"{pname}_static", pr.pre, pr.post, pre_idx[k],
                                                            post_idx[k], w[k], delay[k], post.scale, where, report)
        # LearningSparse runs in Lava's MIXED sign mode (even mantissas; learning may cross zero)
        q = _quantise_projection(pname, pr.pre, pr.post, pre_idx[mask], post_idx[mask], w[mask], delay[mask],
                                 post.scale, where, report, mode="mixed")
        q.learning = learning_from_rule(pr.rule, q, dt, where)
        report["projections"][pname]["learning"] = q.learning
        projs[pname] = q
    return QNet(spec.name, dt, pops, projs, report, meta={"kind": "spec", "n_steps": n_steps or spec.n_steps})


def merge_duplicates(pre_idx, post_idx, w, delay, where):
    """Sum parallel synapses (same pre, post, delay): Lava stores one weight per (post, pre) pair."""
    pre_idx, post_idx = np.asarray(pre_idx, np.int64), np.asarray(post_idx, np.int64)
    key = pre_idx * (int(post_idx.max(initial=0)) + 1) + post_idx
    uniq, inv = np.unique(key, return_inverse=True)
    if uniq.size == key.size:
        return pre_idx, post_idx, w, delay
    d_min = np.full(uniq.size, np.iinfo(np.int64).max)
    np.minimum.at(d_min, inv, delay)
    if np.any(d_min[inv] != delay):
        raise ValueError(f"{where}: parallel synapses between one pair of neurons with different delays cannot be "
                         "exported (Lava holds one delay per pair)")
    first = np.unique(inv, return_index=True)[1]
    return pre_idx[first], post_idx[first], np.bincount(inv, weights=w), np.asarray(delay)[first]


def _quantise_projection(name, pre, post, pre_idx, post_idx, w, delay, S, where, report, mode=None) -> QProjection:
    pre_idx, post_idx, w, delay = merge_duplicates(pre_idx, post_idx, w, delay, where)
    w_v = w * S / 2**SHIFT
    mode = mode or sign_mode(w)
    w_int, exp = quantise_weights(w_v, mode, where)
    approx = w_int.astype(np.float64) * 2.0**(exp + SHIFT) / S
    report["projections"][name] = {
        "n_syn": int(w.size), "weight_exp": exp, "sign_mode": mode,
        "scale": S / 2**(exp + SHIFT),  # integer weight units per unit of float weight
        "flushed_to_zero": int(np.sum((w_int == 0) & (w != 0))),
        "clipped": int(np.sum(np.abs(w_v / 2.0**exp) > mantissa_limit(mode) + 1)),
        "rel_error": rel_error(approx, w)}
    return QProjection(name, pre, post, np.asarray(pre_idx, np.int64), np.asarray(post_idx, np.int64), w_int, exp,
                       np.asarray(delay, np.int32), np.asarray(w, np.float64), mode)


__all__ = ["QNet", "QPopulation", "QProjection", "quantise_network", "decays", "quantise_weights",
           "quantise_bias", "choose_scale", "effective_bias"]
