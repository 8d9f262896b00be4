r"""Fused LIF kernels in Triton: multi-step forward/backward and a single-step update.

The math is ``neurons.lif`` (no refractoriness): with the coefficients of ``lif.discretise``,

.. math::

    h_t = c_v v_{t-1} + c_0 + c_i i_{t-1} \,(+\,x_t \text{ for delta synapses}),\quad
    i_t = x_t + a_i i_{t-1},\quad z_t = [h_t > v_{th}],\quad v_t = \mathrm{reset}(h_t, z_t)

and the surrogate derivatives of ``neurons.surrogate``. The kernels apply the same floating-point
operations in the same order as the plain torch path (``layers.lif.LIF(kernel="torch")``), and where
torch evaluates ``a + alpha*b`` as one fused multiply-add on the device (probed once per device
type) the kernel does too, so forward spikes and states are **bitwise equal** to the plain path on
the same device (the interpreter emulates a fused multiply-add in float64: equal except for a
double rounding about once in 10⁹ operations). Gradients agree to fp32 rounding (the sums are
associated differently): relative 1e-5 on the tests' shapes.

Memory traffic (fp32, per neuron-step; the floor the issue quotes is 20 B):

* forward with autograd: read x, write z (8 B) + one state checkpoint every ``chunk`` steps (at most
  20 on an H100, 8 on an H200: ``TUNINGS``), 4/chunk B per state variable;
* backward: per chunk, newest first, load the chunk's x and ∂L/∂z, recompute h from the checkpoint
  into registers (``chunk`` values per neuron), then walk the chunk backwards writing ∂L/∂x:
  read x, read ∂L/∂z, write ∂L/∂x (12 B) + the checkpoint reads;
* so 20.4 B (delta synapses, 20-step chunks) or 20.8 B (current-based) for forward+backward, instead of
  24 B when the membrane trace is stored in fp32 (SpikingJelly's scheme); starting from rest (numbers
  as the initial state) the first checkpoint is the constant: not stored, and no state is read;
* inference without autograd: read x, write z: 8 B with fp32 spikes, 5 B with ``spike_dtype=torch.uint8``
  or ``torch.bool``.

On CUDA tensors the kernels are compiled; on CPU tensors they run in Triton's interpreter (slow: for
tests on tiny shapes). The interpreter mode is chosen per call, so ``TRITON_INTERPRET`` need not be
set before Triton is imported. Refractoriness (``n_ref > 1``) is not supported: ``unsupported``
says why a coefficient set is refused, and the LIF layer then uses the torch path.

>>> import torch
>>> from neurokit_bdh.neurons import LIFParams, lif
>>> coef = lif.discretise(LIFParams(tau_mem=10e-3, tau_syn=0.0), 1e-3)
>>> x = torch.full((3, 1, 2), 0.6)                    # (T, B, N), on CPU: the interpreter runs it
>>> z, v, i = lif_multistep(x, torch.zeros(1, 2), torch.zeros(1, 2), coef)
>>> z[:, 0, 0].tolist()
[0.0, 1.0, 0.0]
"""
# No ``from __future__ import annotations``: Triton < 3.8 needs the ``tl.constexpr`` annotations as objects.
import functools
import math
import os
import threading
import types
from typing import NamedTuple

import torch

from neurokit_bdh.neurons.lif import LIFCoef
from neurokit_bdh.neurons.surrogate import DEFAULT_ALPHA, SURROGATES

try:  # optional: the layers fall back to the torch path without it
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - exercised only where triton is absent
    triton = None
    tl = types.SimpleNamespace(constexpr=None)  # lets the kernel sources below be defined


class Tuning(NamedTuple):
    """Launch settings of the kernels on one kind of GPU (``benchmarks/lif_kernel_sweep.py`` prints them)."""
    chunk: int        # most steps between state checkpoints = steps the backward recomputes in registers at once
    blocks: dict      # kernel -> (neurons per program, warps)
    load_ahead: dict  # forward kernel -> steps loaded at a time


# From sweeps at the benchmark shapes (T=256, B=32, N=65536 and T=100, B=64, N=16384; 128–2048 neurons
# × 1–8 warps × 8–32 steps), as a fraction of a device copy's bandwidth. H100, 2026-11-26, chunks of at
# most 20 steps (balanced: 20 at both shapes): forward with checkpoints 94.6 % / 92.2 %, backward 97.0 % /
# 94.9 % (16-step chunks: 96.4 % / 92.0 %; 32: 93 % / 86 %, the registers of 3 × 32 values per neuron).
# 2026-11-25: inference with uint8 spikes 98 % / 89 %, fp32 spikes 95 % / 93 %. H200 (2026-11-25, 8-step
# chunks): 94 / 90, 98 / 97, 94 / 82, 94 / 91 %. Several elements per thread keep more loads in flight than
# more warps do; evict-first / streaming cache hints cost 3–6 %.
TUNINGS = {  # GPU name substring -> settings; other GPUs and the CPU interpreter use DEFAULT_TUNING
    "H100": Tuning(20, {"fwd": (256, 1), "bwd": (256, 2), "infer": (512, 1), "infer_u8": (1024, 2),
                        "step": (1024, 4)}, {"fwd": 16, "infer": 8, "infer_u8": 16}),
    "H200": Tuning(8, {"fwd": (1024, 8), "bwd": (512, 4), "infer": (1024, 8), "infer_u8": (1024, 2),
                       "step": (1024, 4)}, {"fwd": 8, "infer": 8, "infer_u8": 16}),
}
DEFAULT_TUNING = "H100"
MIN_PROGRAMS = 1024  # smaller blocks for small layers, so that every SM gets work
SURROGATE_CODES = {None: 0, "atan": 1, "fast_sigmoid": 2, "superspike": 2, "triangular": 3}
SPIKE_DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.uint8, torch.int8, torch.bool)


def available() -> bool:
    """True when Triton can be imported."""
    return triton is not None


def unsupported(coef: LIFCoef) -> str | None:
    """Why the kernels cannot run this coefficient set, or None when they can."""
    if not isinstance(coef, LIFCoef):
        return f"expected a LIFCoef, got {type(coef).__name__}"
    if coef.n_ref > 1:
        return f"refractory period of {coef.n_ref} steps (the kernels have no refractoriness)"
    return None


# ----------------------------------------------------------------------------------------------
# Kernel sources. They are plain functions here and become Triton functions in ``_build``, once
# per mode (compiled / interpreted), so the mode is a property of the call, not of import order.
# They call only Triton builtins: triton.language's own jit helpers (tl.cdiv, ...) were decorated
# in one mode when Triton was imported and cannot run in the other.

def _fma(a, b, c, FMA: tl.constexpr):
    # a*b + c rounded the way torch.add(c, a, alpha=b) rounds on the device: 1 fused, 2 fused (emulated), 0 not
    if FMA == 1:
        r = tl.fma(a, b, c)
    elif FMA == 2:
        r = (a.to(tl.float64) * b + c.to(tl.float64)).to(tl.float32)
    else:
        r = c + a * b
    return r


def _integrate(x, v, i, c_v, c_0, c_i, a_i, DELTA: tl.constexpr, HAS_C0: tl.constexpr, HAS_CI: tl.constexpr,
               FMA: tl.constexpr):
    # neurons.lif.integrate, op for op
    h = v * c_v
    if HAS_C0:
        h = h + c_0
    if HAS_CI:
        h = _fma(i, c_i, h, FMA)
    if DELTA:
        h = h + x
        i_new = i
    else:
        i_new = _fma(i, a_i, x, FMA)
    return h, i_new


def _fire(h, v_th, v_reset, jump, SUBTRACT: tl.constexpr):
    # neurons.lif.fire_and_reset: strict v > v_th; lerp with weight 0/1 is a select
    s = (h - v_th) > 0
    z = s.to(tl.float32)
    if SUBTRACT:
        v = h - z * jump
    else:
        v = tl.where(s, v_reset, h)
    return z, v


def _grad_step(h, gz, gv, gi, c_v, c_i, a_i, v_th, v_reset, jump, k1, k2, SURR: tl.constexpr,
               DELTA: tl.constexpr, SUBTRACT: tl.constexpr, DETACH: tl.constexpr):
    # One step of BPTT: (dL/dz_t, dL/dv_t, dL/di_t) -> (dL/dx_t, dL/dv_{t-1}, dL/di_{t-1}).
    d = h - v_th
    if SURR == 1:  # atan: (α/2) / (1 + (π/2·α·d)²); k1 = α/2, k2 = π/2·α
        q = d * k2
        sg = k1 / (1.0 + q * q)
    elif SURR == 2:  # fast sigmoid / SuperSpike: 1 / (1 + α|d|)²; k1 = α
        u = 1.0 + k1 * tl.abs(d)
        sg = 1.0 / (u * u)
    elif SURR == 3:  # triangular: max(0, 1 - α|d|); k1 = α
        sg = tl.maximum(1.0 - k1 * tl.abs(d), 0.0)
    else:  # no surrogate: the spike is a constant
        sg = d * 0.0
    if DETACH:
        gzz = gz
    elif SUBTRACT:
        gzz = gz - gv * jump
    else:
        gzz = gz + gv * (v_reset - h)
    if SUBTRACT:
        gh = gv + gzz * sg
    else:
        gh = tl.where(d > 0, 0.0, gv) + gzz * sg
    if DELTA:
        gx = gh
        gi_new = gi
    else:
        gx = gi  # i_t = x_t + a_i·i_{t-1}
        gi_new = gi * a_i + gh * c_i
    return gx, gh * c_v, gi_new


def _fwd_kernel(x_ptr, z_ptr, v0_ptr, i0_ptr, vT_ptr, iT_ptr, ckv_ptr, cki_ptr, T, M, n_chunks, v_init, i_init,
                c_v, c_0, c_i, a_i, v_th, v_reset, jump,
                K: tl.constexpr, BLOCK: tl.constexpr, DELTA: tl.constexpr, HAS_C0: tl.constexpr,
                HAS_CI: tl.constexpr, SUBTRACT: tl.constexpr, SAVE: tl.constexpr, FMA: tl.constexpr,
                CK: tl.constexpr, INIT_CONST: tl.constexpr):
    # One program per BLOCK neurons walks all T steps with v (and i) in registers, loading K steps at a
    # time; with SAVE it writes the state every CK steps (any CK: K is set by the forward's registers, CK
    # by the backward's). INIT_CONST: every neuron starts at (v_init, i_init): nothing to read, and the
    # backward knows the first checkpoint without reading it.
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = off < M
    if INIT_CONST:
        v = tl.full([BLOCK], v_init, tl.float32)
    else:
        v = tl.load(v0_ptr + off, mask=m, other=0.0)
    if DELTA:
        i = v
    elif INIT_CONST:
        i = tl.full([BLOCK], i_init, tl.float32)
    else:
        i = tl.load(i0_ptr + off, mask=m, other=0.0)
    xp = x_ptr + off
    zp = z_ptr + off
    cvp = ckv_ptr + off
    cip = cki_ptr + off
    for c in range(0, n_chunks):
        # Load the chunk's K inputs before any store: a load cannot move above a store the compiler
        # cannot prove does not alias it, so interleaving would serialise the memory latency per step.
        xs = ()
        for k in tl.static_range(K):
            xs = xs + (tl.load(xp, mask=m & (c * K + k < T), other=0.0),)
            xp += M
        for k in tl.static_range(K):
            s = c * K + k
            ok = s < T
            if SAVE:  # the state entering every CK-th step: where the backward restarts its recompute
                at = s % CK == 0
                mc = m & ok & at
                if INIT_CONST:
                    mc = mc & (s > 0)
                tl.store(cvp, v, mask=mc)
                if not DELTA:
                    tl.store(cip, i, mask=mc)
                cvp += tl.where(at, M, 0)
                cip += tl.where(at, M, 0)
            h, i_new = _integrate(xs[k], v, i, c_v, c_0, c_i, a_i, DELTA, HAS_C0, HAS_CI, FMA)
            z, v_new = _fire(h, v_th, v_reset, jump, SUBTRACT)
            tl.store(zp, z.to(z_ptr.dtype.element_ty), mask=m & ok)
            v = tl.where(ok, v_new, v)
            i = tl.where(ok, i_new, i)
            zp += M
    tl.store(vT_ptr + off, v, mask=m)
    if not DELTA:
        tl.store(iT_ptr + off, i, mask=m)


def _bwd_kernel(x_ptr, gz_ptr, gx_ptr, ckv_ptr, cki_ptr, gvT_ptr, giT_ptr, gv0_ptr, gi0_ptr, T, M, n_chunks,
                LAST, LASTC, KM, v_init, i_init,
                c_v, c_0, c_i, a_i, v_th, v_reset, jump, k1, k2,
                K: tl.constexpr, BLOCK: tl.constexpr, DELTA: tl.constexpr, HAS_C0: tl.constexpr,
                HAS_CI: tl.constexpr, SUBTRACT: tl.constexpr, DETACH: tl.constexpr, SURR: tl.constexpr,
                FMA: tl.constexpr, FINAL_GRAD: tl.constexpr, INIT_CONST: tl.constexpr, INIT_GRAD: tl.constexpr):
    # LAST = (chunks-1)·K·M (first element of the last chunk), LASTC = (chunks-1)·M, KM = K·M.
    # INIT_CONST: the first checkpoint is (v_init, i_init) (see _fwd_kernel); INIT_GRAD: write ∂L/∂(v0, i0).
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = off < M
    if FINAL_GRAD:  # gradients reach the final state (else they are zero: nothing to read)
        gv = tl.load(gvT_ptr + off, mask=m, other=0.0)
    else:
        gv = tl.full([BLOCK], 0.0, tl.float32)
    if DELTA:
        gi = gv
    elif FINAL_GRAD:
        gi = tl.load(giT_ptr + off, mask=m, other=0.0)
    else:
        gi = tl.full([BLOCK], 0.0, tl.float32)
    xp = x_ptr + off + LAST
    hp = gx_ptr + off + LAST
    gp = gz_ptr + off + LAST
    cvp = ckv_ptr + off + LASTC
    cip = cki_ptr + off + LASTC
    for cc in range(0, n_chunks):
        c = n_chunks - 1 - cc
        if INIT_CONST:  # the first chunk's checkpoint was not written: the masked load yields the constant
            v = tl.load(cvp, mask=m & (c > 0), other=v_init)
        else:
            v = tl.load(cvp, mask=m, other=0.0)
        if DELTA:
            i = v
        elif INIT_CONST:
            i = tl.load(cip, mask=m & (c > 0), other=i_init)
        else:
            i = tl.load(cip, mask=m, other=0.0)
        xs = ()  # the chunk's inputs and upstream gradients, all loaded before any store (see _fwd_kernel)
        gs = ()
        xq = xp
        gq = gp
        for k in tl.static_range(K):
            mk = m & (c * K + k < T)
            xs = xs + (tl.load(xq, mask=mk, other=0.0),)
            gs = gs + (tl.load(gq, mask=mk, other=0.0),)
            xq += M
            gq += M
        hs = ()
        for k in tl.static_range(K):  # recompute the chunk forward, bit for bit as _fwd_kernel; h stays in registers
            h, i_new = _integrate(xs[k], v, i, c_v, c_0, c_i, a_i, DELTA, HAS_C0, HAS_CI, FMA)
            z, v_new = _fire(h, v_th, v_reset, jump, SUBTRACT)
            hs = hs + (h,)
            v = v_new
            i = i_new
        hq = hp + KM
        for j in tl.static_range(K - 1, -1, -1):  # then walk it backwards
            ok = c * K + j < T
            hq -= M
            gx, gv_new, gi_new = _grad_step(hs[j], gs[j], gv, gi, c_v, c_i, a_i, v_th, v_reset, jump, k1, k2,
                                            SURR, DELTA, SUBTRACT, DETACH)
            tl.store(hq, gx, mask=m & ok)
            gv = tl.where(ok, gv_new, gv)
            gi = tl.where(ok, gi_new, gi)
        xp -= KM
        hp -= KM
        gp -= KM
        cvp -= M
        cip -= M
    if INIT_GRAD:
        tl.store(gv0_ptr + off, gv, mask=m)
        if not DELTA:
            tl.store(gi0_ptr + off, gi, mask=m)


def _step_fwd_kernel(x_ptr, v_ptr, i_ptr, z_ptr, vo_ptr, io_ptr, h_ptr, M,
                     c_v, c_0, c_i, a_i, v_th, v_reset, jump,
                     BLOCK: tl.constexpr, DELTA: tl.constexpr, HAS_C0: tl.constexpr, HAS_CI: tl.constexpr,
                     SUBTRACT: tl.constexpr, SAVE: tl.constexpr, FMA: tl.constexpr):
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = off < M
    x = tl.load(x_ptr + off, mask=m, other=0.0)
    v = tl.load(v_ptr + off, mask=m, other=0.0)
    if DELTA:
        i = v
    else:
        i = tl.load(i_ptr + off, mask=m, other=0.0)
    h, i_new = _integrate(x, v, i, c_v, c_0, c_i, a_i, DELTA, HAS_C0, HAS_CI, FMA)
    z, v_new = _fire(h, v_th, v_reset, jump, SUBTRACT)
    tl.store(z_ptr + off, z.to(z_ptr.dtype.element_ty), mask=m)
    tl.store(vo_ptr + off, v_new, mask=m)
    if not DELTA:
        tl.store(io_ptr + off, i_new, mask=m)
    if SAVE:  # one step: storing h (4 B) is cheaper than re-reading x, v and i (12 B)
        tl.store(h_ptr + off, h, mask=m)


def _step_bwd_kernel(h_ptr, gz_ptr, gvo_ptr, gio_ptr, gx_ptr, gv_ptr, gi_ptr, M,
                     c_v, c_i, a_i, v_th, v_reset, jump, k1, k2,
                     BLOCK: tl.constexpr, DELTA: tl.constexpr, SUBTRACT: tl.constexpr, DETACH: tl.constexpr,
                     SURR: tl.constexpr):
    off = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = off < M
    h = tl.load(h_ptr + off, mask=m, other=0.0)
    g = tl.load(gz_ptr + off, mask=m, other=0.0)
    gv = tl.load(gvo_ptr + off, mask=m, other=0.0)
    if DELTA:
        gi = gv
    else:
        gi = tl.load(gio_ptr + off, mask=m, other=0.0)
    gx, gv_new, gi_new = _grad_step(h, g, gv, gi, c_v, c_i, a_i, v_th, v_reset, jump, k1, k2,
                                    SURR, DELTA, SUBTRACT, DETACH)
    tl.store(gx_ptr + off, gx, mask=m)
    tl.store(gv_ptr + off, gv_new, mask=m)
    if not DELTA:
        tl.store(gi_ptr + off, gi_new, mask=m)


_HELPERS = ("_fma", "_integrate", "_fire", "_grad_step")
_KERNEL_NAMES = ("_fwd_kernel", "_bwd_kernel", "_step_fwd_kernel", "_step_bwd_kernel")
_BUILT: dict[bool, dict] = {}
_LOCK = threading.Lock()


def _build(interpret: bool) -> dict:
    """Triton functions for one mode, in their own namespace (helpers resolve to the same mode)."""
    if triton is None:
        raise ImportError("the fused LIF kernels need triton: pip install 'neurokit-bdh[dev]' (Linux)")
    built = _BUILT.get(interpret)
    if built is not None:
        return built
    with _LOCK:
        if interpret not in _BUILT:
            ns = dict(globals())
            old = os.environ.get("TRITON_INTERPRET")
            os.environ["TRITON_INTERPRET"] = "1" if interpret else "0"  # read by triton.jit when decorating
            try:
                for name in _HELPERS + _KERNEL_NAMES:
                    raw = globals()[name]
                    fn = types.FunctionType(raw.__code__, ns, name, raw.__defaults__)
                    fn.__annotations__ = raw.__annotations__  # the tl.constexpr markers live here
                    fn.__module__, fn.__qualname__ = raw.__module__, raw.__qualname__
                    ns[name] = triton.jit(fn)
            finally:
                if old is None:
                    del os.environ["TRITON_INTERPRET"]
                else:
                    os.environ["TRITON_INTERPRET"] = old
            _BUILT[interpret] = {name: ns[name] for name in _KERNEL_NAMES}
    return _BUILT[interpret]


_FMA_MODE: dict[str, int] = {}


def _fma_mode(device: torch.device) -> int:
    """How torch rounds ``torch.add(c, a, alpha=b)`` on this device type, as the kernels' FMA constant."""
    if device.type not in _FMA_MODE:
        g = torch.Generator().manual_seed(0)
        a, c = torch.randn(4099, generator=g), torch.randn(4099, generator=g)  # odd length: vector tails too
        b = 0.7310585786300049
        fused = (c.double() + a.double() * float(torch.tensor(b, dtype=torch.float32))).float()
        got = torch.add(c.to(device), a.to(device), alpha=b).cpu()
        if torch.equal(got, fused):
            _FMA_MODE[device.type] = 1 if device.type == "cuda" else 2
        else:
            _FMA_MODE[device.type] = 0
    return _FMA_MODE[device.type]


class _Config(NamedTuple):
    c_v: float
    c_0: float
    c_i: float
    a_i: float
    v_th: float
    v_reset: float
    jump: float
    k1: float
    k2: float
    delta: bool
    has_c0: bool
    has_ci: bool
    subtract: bool
    detach: bool
    surr: int
    fma: int
    interpret: bool
    chunk: int


def _config(coef: LIFCoef, surrogate, alpha, device: torch.device, chunk: int) -> _Config:
    key = (coef, surrogate, alpha, device.type, chunk)
    try:
        cfg = _CONFIGS.get(key)
    except TypeError:  # an unhashable argument: let validation name it
        return _make_config(coef, surrogate, alpha, device, chunk)
    if cfg is None:
        cfg = _CONFIGS[key] = _make_config(coef, surrogate, alpha, device, chunk)
    return cfg


_CONFIGS: dict = {}  # building a config costs ~40 µs (float32 rounding through torch): once per layer setup


def _make_config(coef: LIFCoef, surrogate, alpha, device: torch.device, chunk: int) -> _Config:
    why = unsupported(coef)
    if why is not None:
        raise ValueError(f"coef: the fused LIF kernels do not support this neuron: {why}")
    if surrogate not in SURROGATE_CODES:
        raise ValueError(f"surrogate: unknown name {surrogate!r}; expected one of {sorted(SURROGATES)} or None")
    if device.type not in ("cuda", "cpu"):
        raise ValueError(f"x: the fused LIF kernels run on cuda (compiled) or cpu (interpreted), not {device.type}")
    if not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"chunk: expected an int >= 1, got {chunk!r}")
    a = 0.0 if surrogate is None else float(DEFAULT_ALPHA[surrogate] if alpha is None else alpha)
    if surrogate is not None and not a > 0:
        raise ValueError(f"alpha: must be > 0, got {alpha!r}")
    code = SURROGATE_CODES[surrogate]
    k1, k2 = (a / 2, math.pi / 2 * a) if code == 1 else (a, 0.0)
    # Scalars rounded to float32 here, as torch rounds a Python scalar for a float32 op (the
    # interpreter would otherwise keep float64 values where a float64 op is emulated).
    f32 = lambda a: float(torch.tensor(a, dtype=torch.float32))  # noqa: E731
    return _Config(c_v=f32(coef.c_v), c_0=f32(coef.c_0), c_i=f32(coef.c_i), a_i=f32(coef.a_i), v_th=f32(coef.v_th),
                   v_reset=f32(coef.v_reset), jump=f32(coef.v_th - coef.v_reset), k1=f32(k1), k2=f32(k2),
                   delta=coef.delta, has_c0=bool(coef.c_0),
                   has_ci=bool(coef.c_i), subtract=coef.subtract, detach=coef.detach_reset, surr=code,
                   fma=_fma_mode(device), interpret=device.type == "cpu", chunk=chunk)


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)  # not triton.cdiv: a jit function, ~5 µs per call outside a kernel


def balanced_chunk(T: int, longest: int) -> int:
    """Steps per checkpoint for T steps: at most ``longest``, the chunks as equal as possible (a short last
    chunk costs the backward a whole chunk's latency for a few steps' work)."""
    return _cdiv(T, _cdiv(T, longest))


def tuning_key(device: torch.device) -> str:
    """The ``TUNINGS`` entry for this device."""
    if device.type != "cuda":
        return DEFAULT_TUNING
    return _cuda_tuning_key(torch.cuda.current_device() if device.index is None else device.index)


@functools.lru_cache(maxsize=None)
def _cuda_tuning_key(index: int) -> str:
    name = torch.cuda.get_device_name(index)
    return next((key for key in TUNINGS if key in name), DEFAULT_TUNING)


@functools.lru_cache(maxsize=256)
def _block(tuning: str, kind: str, M: int) -> tuple[int, int]:
    block, warps = TUNINGS[tuning].blocks[kind]
    while block > 128 and _cdiv(M, block) < MIN_PROGRAMS:
        block //= 2
        warps = max(1, warps // 2)  # keep whole warps busy as the block shrinks
    return min(block, max(16, 1 << (M - 1).bit_length())), warps


def _coefs(cfg: _Config):
    return cfg.c_v, cfg.c_0, cfg.c_i, cfg.a_i, cfg.v_th, cfg.v_reset, cfg.jump


def _flags(cfg: _Config):
    return dict(DELTA=cfg.delta, HAS_C0=cfg.has_c0, HAS_CI=cfg.has_ci, SUBTRACT=cfg.subtract, FMA=cfg.fma)


def _init_args(x, v0, i0):
    """Kernel arguments for the initial state: (v0 pointer, i0 pointer, v_init, i_init, INIT_CONST).

    Tensors (M,) are read by the kernels; floats (the resting state) are constants, x a stand-in pointer."""
    if isinstance(v0, torch.Tensor):
        return v0, v0 if i0 is None else i0, 0.0, 0.0, False
    return x, x, v0, 0.0 if i0 is None else i0, True


def _run_fwd(cfg: _Config, x, v0, i0, z, save: bool):
    """x (T, M), v0/i0 (M,) or floats -> z written; returns vT, iT, checkpoints (chunks, M) (or None)."""
    T, M = x.shape
    kind = "fwd" if save else ("infer_u8" if z.element_size() == 1 else "infer")
    key = tuning_key(x.device)
    K = TUNINGS[key].load_ahead[kind]  # steps loaded at a time; checkpoints are written every cfg.chunk steps
    vT = x.new_empty(M)
    iT = vT if cfg.delta else x.new_empty(M)  # with delta synapses an unused stand-in
    n_ck = _cdiv(T, cfg.chunk)
    ckv = x.new_empty((n_ck, M)) if save else x  # (checkpoints, M); x is an unused stand-in pointer
    cki = x.new_empty((n_ck, M)) if save and not cfg.delta else ckv
    block, warps = _block(key, kind, M)
    kern = _build(cfg.interpret)["_fwd_kernel"]
    v0p, i0p, v_init, i_init, const = _init_args(x, v0, i0)
    kern[(_cdiv(M, block),)](
        x, z, v0p, i0p, vT, iT, ckv, cki, T, M, _cdiv(T, K), v_init, i_init, *_coefs(cfg),
        K=K, BLOCK=block, SAVE=save, CK=cfg.chunk if save else K, INIT_CONST=const, **_flags(cfg),
        num_warps=warps, enable_fp_fusion=False)
    return vT, (None if cfg.delta else iT), ((ckv, cki) if save else None)


class _MultiStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cfg, x, v0, i0):
        z = torch.empty_like(x)  # (T, M)
        vT, iT, (ckv, cki) = _run_fwd(cfg, x, v0, i0, z, save=True)
        ctx.cfg, ctx.init = cfg, _init_args(x, v0, i0)[2:]
        ctx.set_materialize_grads(False)  # unused outputs: None to the backward, not tensors of zeros
        ctx.save_for_backward(x, ckv, cki)
        if cfg.surr == 0:
            ctx.mark_non_differentiable(z)
        return (z, vT) if cfg.delta else (z, vT, iT)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gz, gvT, giT=None):
        cfg = ctx.cfg
        x, ckv, cki = ctx.saved_tensors
        T, M = x.shape
        gz = torch.zeros_like(x) if gz is None else gz.contiguous()
        final = gvT is not None or giT is not None
        if final:
            zeros = torch.zeros_like(ckv[0])
            gvT = zeros if gvT is None else gvT.contiguous()
            giT = gvT if cfg.delta else (zeros if giT is None else giT.contiguous())
        else:  # placeholders: the kernel reads no final-state gradient
            gvT = giT = ckv[0]
        gx = torch.empty_like(x)
        v_init, i_init, const = ctx.init
        init_grad = any(ctx.needs_input_grad[2:])  # False for a constant initial state
        gv0 = torch.empty_like(ckv[0]) if init_grad else gx  # else: a placeholder nothing is written to
        gi0 = gv0 if cfg.delta or not init_grad else torch.empty_like(gv0)
        n_chunks = _cdiv(T, cfg.chunk)
        block, warps = _block(tuning_key(x.device), "bwd", M)
        kern = _build(cfg.interpret)["_bwd_kernel"]
        kern[(_cdiv(M, block),)](
            x, gz, gx, ckv, cki, gvT, giT, gv0, gi0, T, M, n_chunks, (n_chunks - 1) * cfg.chunk * M, (n_chunks - 1) * M,
            cfg.chunk * M, v_init, i_init, *_coefs(cfg), cfg.k1, cfg.k2, K=cfg.chunk, BLOCK=block,
            DETACH=cfg.detach, FINAL_GRAD=final, SURR=cfg.surr, INIT_CONST=const, INIT_GRAD=init_grad,
            **_flags(cfg), num_warps=warps, enable_fp_fusion=False)
        grads = ctx.needs_input_grad
        return None, gx, (gv0 if grads[2] else None), (gi0 if grads[3] and not cfg.delta else None)


def _is_number(s) -> bool:
    return isinstance(s, (int, float)) and not isinstance(s, bool)


def _check_inputs(x, v, i, coef, time_major: bool, allow_const: bool):
    """x's per-step shape and the initial state flattened to (M,) tensors, or kept as floats where both
    are numbers (i may be None with delta synapses) and ``allow_const``: the kernels then read nothing."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}")
    if x.dtype != torch.float32:
        raise TypeError(f"x: the fused LIF kernels compute in float32, got {x.dtype}")
    shape = x.shape[1:] if time_major else x.shape
    if time_major and x.dim() < 2:
        raise ValueError(f"x: expected a time-major tensor (T, B, N), got shape {tuple(x.shape)}")
    if allow_const and _is_number(v) and (_is_number(i) or (i is None and coef.delta)):
        return shape, float(v), (None if i is None else float(i))
    out = []
    for name, s in (("v", v), ("i", i)):
        if s is None:
            if name == "i" and coef.delta:
                out.append(None)
                continue
            raise ValueError(f"{name}: the initial state is required")
        if _is_number(s):
            s = torch.tensor(float(s), dtype=torch.float32, device=x.device)
        if not isinstance(s, torch.Tensor):
            raise TypeError(f"{name}: expected a float32 tensor or a number, got {type(s).__name__}")
        if s.dtype != torch.float32 or s.device != x.device:
            raise TypeError(f"{name}: expected float32 on {x.device}, got {s.dtype} on {s.device}")
        try:
            out.append(torch.broadcast_to(s, shape).contiguous().reshape(-1))
        except RuntimeError:
            raise ValueError(f"{name}: shape {tuple(s.shape)} does not broadcast to {tuple(shape)}") from None
    return shape, out[0], out[1]


def lif_multistep(x: torch.Tensor, v0: torch.Tensor, i0: torch.Tensor | None, coef: LIFCoef,
                  surrogate: str | None = None, alpha: float | None = None, spike_dtype: torch.dtype | None = None,
                  chunk: int | None = None):
    """Run T LIF steps in one kernel: ``x`` (T, ...) float32 -> ``(z, v_T, i_T)``.

    ``v0``/``i0``: the initial membrane and synaptic current (shape ``x.shape[1:]`` or broadcastable;
    ``i0`` may be None with delta synapses, and is returned unchanged then). Numbers (e.g. the resting
    state ``v0=p.v_leak, i0=0.0``) start every neuron there without materialising or reading a state
    tensor (and the backward skips their first checkpoint). With autograd on and any input requiring
    grad, the spikes carry the ``surrogate`` gradient (``alpha`` defaults to ``DEFAULT_ALPHA``) and the
    final state carries gradients back to ``x``, ``v0`` and ``i0``. ``spike_dtype`` (default x's dtype):
    uint8 or bool spikes cut inference traffic from 8 to 5 B per neuron-step; only float spikes can
    carry a gradient. ``chunk``: steps between the forward's state checkpoints (default:
    ``balanced_chunk`` of the device's ``TUNINGS`` entry); results do not depend on it.
    """
    shape, v, i = _check_inputs(x, v0, i0, coef, time_major=True, allow_const=True)
    T, M = x.shape[0], math.prod(shape)
    if M == 0 or T == 0:
        raise ValueError(f"x: expected at least one step and one neuron, got shape {tuple(x.shape)}")
    if chunk is None:
        chunk = balanced_chunk(T, TUNINGS[tuning_key(x.device)].chunk)
    cfg = _config(coef, surrogate, alpha, x.device, chunk)
    spike_dtype = x.dtype if spike_dtype is None else spike_dtype
    if spike_dtype not in SPIKE_DTYPES:
        raise ValueError(f"spike_dtype: expected one of {SPIKE_DTYPES}, got {spike_dtype}")
    if M * cfg.chunk >= 2**31:
        raise ValueError(f"x: {M} neurons per step is too many for int32 offsets (max {2**31 // cfg.chunk - 1})")
    x2 = x.contiguous().reshape(T, M)
    grad = torch.is_grad_enabled() and any(isinstance(t, torch.Tensor) and t.requires_grad for t in (x, v0, i0))
    if grad:
        if not spike_dtype.is_floating_point:
            raise ValueError(f"spike_dtype: {spike_dtype} spikes cannot carry a gradient; use a float dtype")
        out = _MultiStep.apply(cfg, x2, v, i)
        z, vT = out[0], out[1]
        iT = None if cfg.delta else out[2]
        if spike_dtype != x.dtype:
            z = z.to(spike_dtype)
    else:
        z = torch.empty((T, M), device=x.device, dtype=spike_dtype)
        vT, iT, _ = _run_fwd(cfg, x2, v, i, z.view(torch.uint8) if spike_dtype == torch.bool else z, save=False)
    return z.reshape(x.shape), vT.reshape(shape), (i0 if cfg.delta else iT.reshape(shape))


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cfg, x, v, i):
        M = x.numel()
        z, vo, h = torch.empty_like(x), torch.empty_like(x), torch.empty_like(x)
        io = vo if cfg.delta else torch.empty_like(x)
        block, warps = _block(tuning_key(x.device), "step", M)
        _build(cfg.interpret)["_step_fwd_kernel"][(_cdiv(M, block),)](
            x, v, v if cfg.delta else i, z, vo, io, h, M, *_coefs(cfg), BLOCK=block, SAVE=True,
            **_flags(cfg), num_warps=warps, enable_fp_fusion=False)
        ctx.cfg = cfg
        ctx.save_for_backward(h)
        ctx.set_materialize_grads(False)
        if cfg.surr == 0:
            ctx.mark_non_differentiable(z)
        return (z, vo) if cfg.delta else (z, vo, io)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gz, gvo, gio=None):
        cfg = ctx.cfg
        (h,) = ctx.saved_tensors
        M = h.numel()
        gz = torch.zeros_like(h) if gz is None else gz.contiguous()
        gvo = torch.zeros_like(h) if gvo is None else gvo.contiguous()
        gio = gvo if cfg.delta else (torch.zeros_like(h) if gio is None else gio.contiguous())
        gx, gv = torch.empty_like(h), torch.empty_like(h)
        gi = gv if cfg.delta else torch.empty_like(h)
        block, warps = _block(tuning_key(h.device), "step", M)
        _build(cfg.interpret)["_step_bwd_kernel"][(_cdiv(M, block),)](
            h, gz, gvo, gio, gx, gv, gi, M, cfg.c_v, cfg.c_i, cfg.a_i, cfg.v_th, cfg.v_reset, cfg.jump,
            cfg.k1, cfg.k2, BLOCK=block, DELTA=cfg.delta, SUBTRACT=cfg.subtract, DETACH=cfg.detach, SURR=cfg.surr,
            num_warps=warps, enable_fp_fusion=False)
        return None, gx, gv, (None if cfg.delta else gi)


def lif_step(x: torch.Tensor, v: torch.Tensor, i: torch.Tensor | None, coef: LIFCoef,
             surrogate: str | None = None, alpha: float | None = None):
    """One fused LIF step (``neurons.lif.step`` without refractoriness): ``x`` (...) -> ``(z, v', i')``.

    One kernel instead of the ~8 elementwise torch kernels of the plain step; differentiable like
    ``lif_multistep``. With delta synapses ``i`` may be None and is returned unchanged.
    """
    shape, v2, i2 = _check_inputs(x, v, i, coef, time_major=False, allow_const=False)
    cfg = _config(coef, surrogate, alpha, x.device, 1)  # one step: no chunks
    if x.numel() == 0:
        raise ValueError("x: expected at least one neuron")
    x2 = x.contiguous().reshape(-1)
    out = _Step.apply(cfg, x2, v2, i2)
    i_new = i if cfg.delta else out[2].reshape(shape)
    return out[0].reshape(shape), out[1].reshape(shape), i_new
