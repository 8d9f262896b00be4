r"""Plastic projections on Loihi: our pair STDP mapped to Lava's ``STDPLoihi``, and its bit-level emulation.

Lava's rule (``lava.proc.learning_rules.stdp_learning_rule.STDPLoihi``, epoch of one step) changes an
integer weight by

.. math:: \Delta w = A_-\,x_0\,y_1 + A_+\,y_0\,x_1

with 7-bit traces ``x1`` (pre, impulse 16, time constant ``tau_plus`` in steps) and ``y1`` (post,
``tau_minus``) that decay by ``exp(-1/tau)`` with stochastic rounding. We export our additive pair STDP
as: ``A_± = a_±·K/16`` where ``K`` is the projection's integer weights per unit weight (so one pair at
zero lag changes the weight by ``a_±`` as in our rule), each rounded to what Lava's rule can hold
(``m·2^e``: ``m`` ∈ {1, 3, 5, 7}, ``m = 1`` below one), ``tau_± `` rounded to whole steps,
``learning_rate = 1``; the bounds become Lava's 8-bit weight range: ``LearningSparse`` runs in Lava's
mixed sign mode (its ``sign_mode`` argument does not reach the CPU model), so plastic weights are even mantissas in
[-256, 254] and learning may take an excitatory weight below zero. Differences from our rule: a pre
and post spike in the same step count for both terms (ours: potentiation only), and trace
arithmetic is stochastically rounded. ``LearningSparse`` only updates stored synapses; synapses the rule
must not touch (``on = "exc_pre"/"exc_exc"``) go to a separate static projection.

The emulation (:class:`STDPState`) reproduces ``LearningConnectionModelBitApproximate`` with
``LearningRuleApplierBitApprox`` step for step, including its seeded random streams (``rng_seed``).
"""
from __future__ import annotations

import math

import numpy as np

W_TRACE_MAX = 2**7 - 1
ACC_MAX = 2**15 - 1
ACC_MIN = -(2**15) - 1
ACC_SHIFT = 7      # W_ACCUMULATOR_S - W_WEIGHTS_S
ROUND_UNIT = 2**7  # 2^(W_ACCUMULATOR_U - W_WEIGHTS_U)
IMPULSE = 16
RNG_SEED = 1


def representable(x: float) -> float:
    """The nearest value Lava's rule literal keeps exactly: ±m·2^e, m ∈ {1,3,5,7}, and m = 1 below one."""
    if x == 0:
        return 0.0
    a = abs(x)
    cands = [2.0**e for e in range(-7, 9)] + [m * 2.0**e for m in (3, 5, 7) for e in range(0, 9)]
    best = min(cands, key=lambda c: abs(math.log(c / a)))
    return math.copysign(best, x)


def literal(x: float) -> tuple[int, int]:
    """(s_mantissa, s_exp) of a representable value, as Lava's product series stores them (exponent + 7)."""
    if x == 0:
        return 0, 7
    a = abs(x)
    m, e = (1, int(round(math.log2(a)))) if a < 1 else (int(a), 0)
    while m > 7 and m % 2 == 0 and e < 8:
        m, e = m // 2, e + 1
    return int(math.copysign(m, x)), e + 7


def learning_from_rule(rule, qproj, dt: float, where: str) -> dict:
    """STDPLoihi parameters for our rule on this quantised projection (a plain dict, stored in the export)."""
    if getattr(rule, "name", None) != "stdp" or getattr(rule, "kind", "additive") != "additive":
        raise NotImplementedError(f"{where}: only additive pair STDP ('stdp', kind='additive') exports to Loihi "
                                  f"(STDPLoihi); got {getattr(rule, 'name', type(rule).__name__)!r}")
    k = 2.0**-qproj.weight_exp * _int_per_weight(qproj)
    tau_plus, tau_minus = int(round(rule.tau_plus / dt)), int(round(rule.tau_minus / dt))
    if not (1 <= tau_plus <= 255 and 1 <= tau_minus <= 255):
        raise ValueError(f"{where}: STDP time constants of {tau_plus} and {tau_minus} steps; Loihi traces need 1..255")
    a_plus, a_minus = representable(rule.a_plus * k / IMPULSE), representable(-rule.a_minus * k / IMPULSE)
    return {"rule": "STDPLoihi", "learning_rate": 1.0, "A_plus": a_plus, "A_minus": a_minus,
            "tau_plus": tau_plus, "tau_minus": tau_minus, "rng_seed": RNG_SEED,
            "a_plus_rel_error": abs(a_plus * IMPULSE / k - rule.a_plus) / abs(rule.a_plus) if rule.a_plus else 0.0,
            "a_minus_rel_error": (abs(-a_minus * IMPULSE / k - rule.a_minus) / abs(rule.a_minus)
                                  if rule.a_minus else 0.0)}


def _int_per_weight(q) -> float:
    nz = q.w_f != 0
    if not nz.any():
        return 1.0
    return float(np.median((q.w_int[nz].astype(np.float64) * 2.0**q.weight_exp) / q.w_f[nz]))


def lava_rule(learning: dict):
    """The Lava ``STDPLoihi`` object for stored parameters."""
    from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi

    return STDPLoihi(learning_rate=learning["learning_rate"], A_plus=learning["A_plus"], A_minus=learning["A_minus"],
                     tau_plus=learning["tau_plus"], tau_minus=learning["tau_minus"], t_epoch=1,
                     rng_seed=learning["rng_seed"])


def _stochastic_round(values, random, prob):
    return (values + (random < prob).astype(np.int64)).astype(np.int64)


class _TraceRandom:
    """Lava's TraceRandom: one float (decay rounding) and one int in [0, 128) (impulse rounding) per advance."""

    def __init__(self, seed_decay, seed_impulse):
        self.r_decay = np.random.default_rng(seed_decay)
        self.r_imp = np.random.default_rng(seed_impulse)
        self.advance()

    def advance(self):
        self.decay = self.r_decay.random(1)[0]
        self.impulse = self.r_imp.integers(0, 2**7, size=1, dtype=int)[0]


class STDPState:
    """Bit-level emulation of a ``LearningSparse`` projection with STDPLoihi, one epoch per step.

    Weights are kept per synapse in the projection's order (``q.pre_idx``/``q.post_idx``).
    """

    def __init__(self, q, n_pre: int, n_post: int):
        p = q.learning
        self.q, self.n_pre, self.n_post = q, n_pre, n_post
        self.mode = q.sign_mode
        w = q.w_int.astype(np.int64)
        if self.mode == "mixed":  # truncate_weights drops the lowest bit; Sparse then drops zero weights
            w = (w >> 1) << 1
        self.w = w
        self.alive = w != 0
        self.x1 = np.zeros(n_pre, np.int64)
        self.y1 = np.zeros(n_post, np.int64)
        self.tau_x, self.tau_y = float(p["tau_plus"]), float(p["tau_minus"])
        seed = int(p["rng_seed"])
        self.xr, self.yr = _TraceRandom(seed, seed + 1), _TraceRandom(seed + 2, seed + 3)
        self.cr = np.random.default_rng(2)  # ConnVarRandom's fixed default seed
        self.c_rand = self.cr.random(1)[0]
        self.products = [(literal(p["A_minus"]), "x0"), (literal(p["A_plus"]), "y0")]

    def weights_int(self) -> np.ndarray:
        return self.w

    @staticmethod
    def _decay(trace, tau, r):
        v = np.exp(-1.0 / tau) * trace
        return _stochastic_round(np.floor(v), r, v % 1)

    @staticmethod
    def _impulse(trace, r):
        # impulse 16 has no fractional part: the stochastic term never fires; clip to 7 bits
        return np.clip(_stochastic_round(trace + IMPULSE, r, 0), 0, W_TRACE_MAX)

    def step(self, t: int, pre_s: np.ndarray, post_s: np.ndarray) -> None:
        # spiking phase: two advances of both trace generators (around the post-spike processing)
        self.xr.advance()
        self.yr.advance()
        self.xr.advance()
        self.yr.advance()
        # learning phase
        self.c_rand = self.cr.random(1)[0]
        x_hist1 = self._decay(self.x1, self.tau_x, self.xr.decay)
        x_hist1[pre_s] = self._impulse(x_hist1[pre_s], self.xr.impulse)
        y_hist1 = self._decay(self.y1, self.tau_y, self.yr.decay)
        y_hist1[post_s] = self._impulse(y_hist1[post_s], self.yr.impulse)
        pre, post = self.q.pre_idx, self.q.post_idx
        x0 = pre_s[pre].astype(np.int64)
        y0 = post_s[post].astype(np.int64)
        # traces seen by each dependency: at the within-epoch spike time (1: after this step's update) or 0 (before)
        y1_x0 = np.where(pre_s[pre], y_hist1[post], self.y1[post])
        x1_y0 = np.where(post_s[post], x_hist1[pre], self.x1[pre])
        acc = self.w << ACC_SHIFT
        for (mant, sexp), dep in self.products:
            if dep == "x0":
                cur = x0 * np.clip(y1_x0, -128, 127)
            else:
                cur = y0 * np.clip(x1_y0, -128, 127)
            cur = cur * mant  # factor widths 7 + 4 < 15: no right shift
            cur = np.clip(cur << sexp, ACC_MIN, ACC_MAX)
            acc = np.clip(acc + cur, ACC_MIN, ACC_MAX)
        if self.mode == "excitatory":
            acc = np.maximum(0, acc)
        elif self.mode == "inhibitory":
            acc = np.minimum(0, acc)
        r = acc / ROUND_UNIT
        acc = _stochastic_round(np.floor(r), self.c_rand, r % 1) * ROUND_UNIT
        w = acc >> ACC_SHIFT
        lo, hi = {"mixed": (-256, 255), "excitatory": (0, 255), "inhibitory": (-255, 0)}[self.mode]
        self.w = np.where(self.alive, np.clip(w, lo, hi), 0)
        self.x1, self.y1 = x_hist1, y_hist1


__all__ = ["learning_from_rule", "lava_rule", "STDPState", "representable", "literal"]
