"""Bit-accurate emulator of the exported network: Lava's fixed-point LIF, Dense/Sparse/DelayDense, STDPLoihi.

Numpy only (no Lava). ``mode="fixed"`` reproduces ``PyLifModelBitAcc`` + ``PyDenseModelBitAcc`` /
``PySparseModelBitAcc`` / ``PyDelayDenseModelBitAcc`` (and ``LearningSparse`` with STDPLoihi) integer
for integer; ``mode="float"`` is Lava's ``floating_pt`` semantics with the unquantised parameters (the
float reference that quantisation is measured against).

Per step, in Lava's order: every LIF population receives its input (the sum over projections of what
arrives this step), updates ``u`` then ``v``, spikes and resets; sources emit; every projection turns
this step's presynaptic spikes into input arriving ``delay`` steps later (Dense: 1).

>>> import numpy as np
>>> from neurokit_bdh.export.quantise import QNet, QPopulation, QProjection
>>> src = QPopulation("src", 1, "source", source={"steps": [0, 1], "neurons": [0, 0]})
>>> lif = QPopulation("n", 1, "lif", du=4095, dv=0, vth=150, bias_mant=np.zeros(1, int), bias_exp=np.zeros(1, int),
...                   v_init=np.zeros(1, int))
>>> w = QProjection("p", "src", "n", np.array([0]), np.array([0]), np.array([120]), 0, np.array([1]),
...                 np.array([1.0]), "excitatory")
>>> out = Emulator(QNet("t", 1e-3, {"src": src, "n": lif}, {"p": w})).run(4, record_v=["n"])
>>> out.v["n"][:, 0].tolist()        # 120·64 per spike, one step later; 2·7680 > 150·64: spike, reset to 0
[0, 7680, 0, 0]
>>> out.spikes["n"][:, 0].tolist()
[False, False, True, False]
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .quantise import DELAY_MAX, SHIFT, QNet, effective_bias

UV_LIMIT = 2**23  # Lava's max_uv_val


def source_spikes(pop, n_steps: int, dt: float) -> np.ndarray:
    """(T, N) bool spikes of a source population: seeded Poisson draws or a (step, neuron) schedule."""
    s = pop.source
    if "rate" in s:
        rng = np.random.default_rng(s["seed"])
        return rng.random((n_steps, pop.size)) < s["rate"] * dt
    z = np.zeros((n_steps, pop.size), bool)
    if "from_step" in s:  # always on from that step (the classifier's bias units)
        z[int(s["from_step"]):] = True
        return z
    steps, neurons = np.asarray(s["steps"], np.int64), np.asarray(s["neurons"], np.int64)
    keep = (steps >= 0) & (steps < n_steps)
    z[steps[keep], neurons[keep]] = True
    return z


def decay_int(x: np.ndarray, d: int) -> np.ndarray:
    """Lava's ``sign(x)·((|x|·(4096 - d)) >> 12)``: rounds toward zero."""
    y = x.astype(np.int64) * (4096 - d)
    return np.sign(y) * (np.abs(y) >> 12)


def lif_step_fixed(u, v, a_in, du, dv, bias, vth):
    """One ``PyLifModelBitAcc`` step (int64 arrays, updated copies): returns (spikes, u, v)."""
    u = decay_int(u, du + 1) + (a_in.astype(np.int64) << SHIFT)
    u = np.where(u > UV_LIMIT, u - 2 * UV_LIMIT, u)      # current wraps modulo 2^24
    u = np.where(u <= -UV_LIMIT, u + 2 * UV_LIMIT, u)
    v = np.clip(decay_int(v, dv) + u + bias, -UV_LIMIT + 1, UV_LIMIT - 1)  # voltage saturates
    s = v > (int(vth) << SHIFT)
    v[s] = 0
    return s, u, v


@dataclass
class EmulatorResult:
    spikes: dict[str, np.ndarray]                         # (T, N) bool per population (sources included)
    v: dict[str, np.ndarray] = field(default_factory=dict)  # (T, N) recorded membranes (int or float units)
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # final weights of plastic projections


class Emulator:
    """Run a :class:`~neurokit_bdh.export.quantise.QNet` step by step, bit-exactly as Lava's CPU models."""

    def __init__(self, qnet: QNet, mode: str = "fixed"):
        if mode not in ("fixed", "float"):
            raise ValueError(f"mode: expected 'fixed' or 'float', got {mode!r}")
        self.net, self.mode = qnet, mode
        self.fixed = mode == "fixed"

    def run(self, n_steps: int, record_v=(), source_override: dict | None = None) -> EmulatorResult:
        net, fixed = self.net, self.fixed
        if not (isinstance(n_steps, int) and n_steps > 0):
            raise ValueError(f"n_steps: expected a positive int, got {n_steps!r}")
        dtype = np.int64 if fixed else np.float64
        R = DELAY_MAX + 1
        lif = {p.name: p for p in net.lif_populations()}
        for name in record_v:
            if name not in lif:
                raise ValueError(f"record_v: {name!r} is not a LIF population of {net.name!r}")
        src = {n: (source_override or {}).get(n) for n, p in net.populations.items() if p.kind == "source"}
        src = {n: (z if z is not None else source_spikes(net.populations[n], n_steps, net.dt)) for n, z in src.items()}
        state = {}
        for n, p in lif.items():
            if fixed:
                state[n] = [np.zeros(p.size, np.int64), p.v_init.astype(np.int64).copy(),
                            effective_bias(p.bias_mant, p.bias_exp)]
            else:
                state[n] = [np.zeros(p.size), np.asarray(p.v_init_f, np.float64).copy(), np.asarray(p.bias_f, float)]
        ring = {n: np.zeros((R, p.size), dtype) for n, p in lif.items()}  # arrivals by step modulo R, per post
        plastic = {}
        projs = []
        for q in net.projections.values():
            order = np.argsort(q.pre_idx, kind="stable")
            n_pre = net.populations[q.pre].size
            indptr = np.zeros(n_pre + 1, np.int64)
            np.cumsum(np.bincount(q.pre_idx, minlength=n_pre), out=indptr[1:])
            w = (q.w_int.astype(np.int64) << q.weight_exp) if fixed else q.w_f.astype(np.float64)
            projs.append([q, order, indptr, w])
            if q.learning is not None:
                from .stdp import STDPState
                if not fixed:
                    raise NotImplementedError("float emulation of plastic projections (STDPLoihi) is not supported")
                plastic[q.name] = STDPState(q, n_pre, net.populations[q.post].size)
        spikes = {n: np.zeros((n_steps, p.size), bool) for n, p in net.populations.items()}
        vrec = {n: np.zeros((n_steps, lif[n].size), dtype) for n in record_v}
        for t in range(n_steps):
            slot = t % R
            for n, p in lif.items():
                u, v, bias = state[n]
                a_in = ring[n][slot].copy()
                ring[n][slot] = 0
                if fixed:
                    s, u, v = lif_step_fixed(u, v, a_in, p.du, p.dv, bias, p.vth)
                else:
                    u = u * (1 - p.du_f) + a_in
                    v = v * (1 - p.dv_f) + u + bias
                    s = v > p.vth_f
                    v[s] = 0.0
                state[n][0], state[n][1] = u, v
                spikes[n][t] = s
                if n in vrec:
                    vrec[n][t] = v
            for n, z in src.items():
                spikes[n][t] = z[t]
            for q, order, indptr, w in projs:
                pre_s = spikes[q.pre][t]
                st = plastic.get(q.name)
                if st is not None:  # LearningSparse: this step's transmission uses the weights before learning
                    w_now = st.weights_int().astype(np.int64) << q.weight_exp
                else:
                    w_now = w
                act = np.flatnonzero(pre_s)
                if act.size:
                    start, count = indptr[act], indptr[act + 1] - indptr[act]
                    # synapses of the active rows, without a Python loop: row starts repeated, plus offsets
                    pos = np.repeat(start - np.cumsum(count) + count, count) + np.arange(count.sum())
                    if pos.size:
                        self._deliver(ring[q.post], t, q, order[pos], w_now, R)
                if st is not None:
                    st.step(t, pre_s, spikes[q.post][t])
        out = EmulatorResult(spikes, vrec)
        for n, st in plastic.items():
            out.weights[n] = st.weights_int()
        return out

    @staticmethod
    def _deliver(ring, t, q, syn, w, R):
        # Dense/DelayDense accumulate per (delay slot, post) and shift each sum by weight_exp >= 0: a left
        # shift, so shifting the sum equals summing the shifted weights.
        d = q.delay[syn].astype(np.int64)
        post = q.post_idx[syn]
        n_post = ring.shape[1]
        key = ((t + d) % R) * n_post + post
        add = np.bincount(key, weights=w[syn].astype(np.float64), minlength=R * n_post)
        ring += np.rint(add).astype(ring.dtype).reshape(R, n_post) if ring.dtype == np.int64 else add.reshape(R, n_post)


__all__ = ["Emulator", "EmulatorResult", "source_spikes", "lif_step_fixed", "decay_int"]
