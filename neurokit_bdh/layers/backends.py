r"""The LIF layer on other libraries' cells: snntorch ``Leaky``/``Synaptic`` and norse ``LIFBoxCell``/``LIFCell``.

``lif_layer(params, dt, surrogate, backend)`` returns a layer with the interface of ``layers.lif.LIF``
(``forward(x (T, B, N), state) -> (spikes (T, B, N), state)``, plus ``init_state`` and a one-step
``step``) computed by ``"native"`` (``neurons.lif``), ``"snntorch"`` or ``"norse"``. The parameters are
mapped from ``LIFParams`` and ``dt`` through the per-step coefficients of ``lif.discretise`` (so the
``exact`` and ``euler`` methods both map), such that every library performs our update:

* delta synapses, ``v' = c_v v + c_0 + x``: snntorch ``Leaky(beta=c_v)`` fed ``x + c_0``; norse
  ``LIFBoxCell`` with ``tau_mem_inv = (1 - c_v)/dt`` fed ``x / (1 - c_v)`` (norse multiplies its input by
  ``dt·tau_mem_inv``).
* current-based, ``v' = c_v v + c_0 + c_i i``, ``i' = a_i i + x``: our current reaches ``v`` one step after
  it arrives, whereas both libraries add the current of the same step. The cell is therefore fed the
  previous step's input: snntorch ``Synaptic(alpha=a_i, beta=c_v)`` gets ``c_i·x[t-1]``, norse ``LIFCell``
  (``tau_syn_inv = (1 - a_i)/dt``) gets ``c_i/(1 - c_v)·x[t-1]``; then their current equals ours times
  the input gain, step for step.

Both libraries reset with ``reset_delay=False`` semantics (the spike and the reset in the same step),
test ``v > v_th`` strictly, and let the gradient flow through the reset: gradients equal the native
backend's when ``params.detach_reset`` is False. What a library cannot represent raises ValueError
naming it: refractory periods, ``v_reset != 0`` (snntorch; norse with ``subtract``), ``v_leak != 0``
with current synapses (snntorch), ``subtract`` with current synapses (norse ``LIFCell`` resets to
``v_reset`` only), and surrogates without an identical counterpart (snntorch: atan, fast_sigmoid,
superspike; norse: triangular, whose ``triangle`` ignores nothing; norse's ``super`` ignores its
``alpha``, so it is not our superspike).

Agreement is spike-exact in float64 (the tests' setting); in float32 the libraries round in a different
order, so a membrane within ~1e-7 of threshold can fire in one and not the other.

One snntorch subtlety: after a ``subtract`` reset that leaves ``v`` above threshold (the membrane rose
above ``2·v_th`` within one step), snntorch subtracts again at the start of the next step before its
spike test; the native update does not. Spikes agree whenever every input satisfies
``x < (2 - c_v)·v_th``.

>>> import torch
>>> from neurokit_bdh.neurons import LIFParams
>>> layer = lif_layer(LIFParams(tau_mem=10e-3, tau_syn=0.0), 1e-3, None, "native")
>>> z, state = layer(torch.full((3, 1, 2), 0.6))   # (T, B, N); snntorch/norse give the same spikes
>>> z[:, 0, 0].tolist()
[0.0, 1.0, 0.0]
>>> lif_layer(LIFParams(t_ref=2e-3), 1e-4, None, "norse")
Traceback (most recent call last):
    ...
ValueError: backend='norse': cannot represent a refractory period (t_ref=0.002 s = 20 steps); use backend='native'
"""
from __future__ import annotations

import importlib
from typing import NamedTuple

import torch
from torch import nn

from neurokit_bdh.neurons import lif
from neurokit_bdh.neurons.base import scan
from neurokit_bdh.neurons.lif import LIFParams, LIFState
from neurokit_bdh.neurons.surrogate import DEFAULT_ALPHA

from .lif import LIF, _check_surrogate, _check_time_major

BACKENDS = ("native", "snntorch", "norse")


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"backend {module.split('.')[0]!r} needs the optional package {module.split('.')[0]}: "
                          f"pip install 'neurokit_bdh[interop]' ({e})") from None


def _refuse(backend: str, what: str):
    raise ValueError(f"backend={backend!r}: cannot represent {what}")


def _check_common(p: LIFParams, coef, backend: str):
    if coef.n_ref > 1:
        _refuse(backend, f"a refractory period (t_ref={p.t_ref} s = {coef.n_ref} steps); use backend='native'")


def _f64(value) -> torch.Tensor:
    # float64 0-dim tensors: they take the dtype of the data they multiply, so float64 inputs keep full precision
    return torch.tensor(float(value), dtype=torch.float64)


class _PendingState(NamedTuple):
    """State of a backend layer: the library's own state plus the input that enters its current next step."""

    cell: tuple            # the library cell's state tensors
    pending: torch.Tensor  # current-based only: gain · x[t-1] (zeros with delta synapses)


class _BackendLIF(nn.Module):
    """Shared time loop; subclasses define ``init_state`` and ``step``."""

    backend = "?"

    def __init__(self, params: LIFParams, dt: float, surrogate: str | None):
        super().__init__()
        if not isinstance(params, LIFParams):
            raise TypeError(f"params: expected a LIFParams, got {type(params).__name__}")
        self.params, self.dt = params, dt
        self.coef = lif.discretise(params, dt)
        self.surrogate = _check_surrogate(surrogate)
        _check_common(params, self.coef, self.backend)

    def forward(self, x: torch.Tensor, state=None, record_v: bool = False):
        """Run all T steps: ``(spikes, state)`` or, with ``record_v``, ``(spikes, v, state)``; v (T, B, N)."""
        _check_time_major(x)
        if state is None:
            state = self.init_state(x.shape[1:], device=x.device, dtype=x.dtype)
        return scan(self.step, x, state, record=self.membrane if record_v else None)  # z (T, B, N)

    def extra_repr(self) -> str:
        return f"params={self.params}, dt={self.dt:g}, surrogate={self.surrogate!r}"


class SnntorchLIF(_BackendLIF):
    """Our LIF computed by ``snntorch.Leaky`` (delta synapses) or ``snntorch.Synaptic`` (current-based)."""

    backend = "snntorch"

    def __init__(self, params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan"):
        super().__init__(params, dt, surrogate)
        snn = _require("snntorch")
        sg = _require("snntorch.surrogate")
        p, c = params, self.coef
        if p.v_reset != 0:
            _refuse("snntorch", f"v_reset={p.v_reset} (snntorch resets to 0 or subtracts the threshold)")
        if not c.delta and p.v_leak != 0:
            _refuse("snntorch", f"v_leak={p.v_leak} with current synapses (tau_syn={p.tau_syn} s): Synaptic has no leak potential")
        grads = {"atan": lambda: sg.atan(alpha=DEFAULT_ALPHA["atan"]),
                 "fast_sigmoid": lambda: sg.fast_sigmoid(slope=DEFAULT_ALPHA["fast_sigmoid"]),
                 "superspike": lambda: sg.fast_sigmoid(slope=DEFAULT_ALPHA["superspike"])}
        if surrogate is not None and surrogate not in grads:
            _refuse("snntorch", f"surrogate {surrogate!r} (snntorch's triangular is a different function); "
                                f"use one of {sorted(grads)} or None")
        # threshold as a (1,) float64 tensor: snntorch's spikes are float32, and a 0-dim threshold would
        # leave the subtracted amount in float32; the step casts the state back to the input's dtype
        kw = dict(threshold=_f64(p.v_th).reshape(1), reset_mechanism="subtract" if c.subtract else "zero",
                  reset_delay=False, init_hidden=False,
                  spike_grad=None if surrogate is None else grads[surrogate](), surrogate_disable=surrogate is None)
        if c.delta:
            self.cell = snn.Leaky(beta=_f64(c.c_v), **kw)
        else:
            self.cell = snn.Synaptic(alpha=_f64(c.a_i), beta=_f64(c.c_v), **kw)

    def init_state(self, shape, device=None, dtype=torch.float32) -> _PendingState:
        v = torch.full(shape, float(self.params.v_leak), device=device, dtype=dtype)
        zero = torch.zeros(shape, device=device, dtype=dtype)
        return _PendingState((v,) if self.coef.delta else (v, zero), zero)

    def step(self, x: torch.Tensor, state: _PendingState):
        c = self.coef
        if c.delta:
            z, mem = self.cell(x + c.c_0 if c.c_0 else x, state.cell[0])
            return z.to(x.dtype), _PendingState((mem.to(x.dtype),), state.pending)
        v, syn = state.cell
        z, syn, mem = self.cell(state.pending, syn, v)
        return z.to(x.dtype), _PendingState((mem.to(x.dtype), syn.to(x.dtype)), x * c.c_i)

    @staticmethod
    def membrane(state: _PendingState) -> torch.Tensor:
        return state.cell[0]


class NorseLIF(_BackendLIF):
    """Our LIF computed by norse's ``LIFBoxCell`` (delta synapses) or ``LIFCell`` (current-based)."""

    backend = "norse"

    def __init__(self, params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan"):
        super().__init__(params, dt, surrogate)
        nt = _require("norse.torch")
        reset = _require("norse.torch.functional.reset")
        p, c = params, self.coef
        methods = {None: ("heaviside", 1.0), "triangular": ("triangle", DEFAULT_ALPHA["triangular"])}
        if surrogate not in methods:
            _refuse("norse", f"surrogate {surrogate!r} (norse has no atan; its 'super' ignores alpha, so it "
                             f"is not our superspike/fast_sigmoid); use 'triangular' or None")
        method, alpha = methods[surrogate]
        self.gain = 1.0 - c.c_v  # norse scales its input by dt·tau_mem_inv
        if c.delta:
            if c.subtract and p.v_reset != 0:
                _refuse("norse", f"reset='subtract' with v_reset={p.v_reset} (norse subtracts v_th, we subtract v_th - v_reset)")
            bp = nt.LIFBoxParameters(tau_mem_inv=_f64(self.gain / dt), v_leak=_f64(p.v_leak), v_th=_f64(p.v_th),
                                     v_reset=_f64(p.v_reset), method=method, alpha=alpha,
                                     reset_method=reset.reset_subtract if c.subtract else reset.reset_value)
            self.cell = nt.LIFBoxCell(bp, dt=dt)
        else:
            if c.subtract:
                _refuse("norse", f"reset='subtract' with current synapses (tau_syn={p.tau_syn} s): LIFCell only resets to v_reset")
            lp = nt.LIFParameters(tau_syn_inv=_f64((1.0 - c.a_i) / dt), tau_mem_inv=_f64(self.gain / dt),
                                  v_leak=_f64(p.v_leak), v_th=_f64(p.v_th), v_reset=_f64(p.v_reset),
                                  method=method, alpha=torch.as_tensor(alpha))
            self.cell = nt.LIFCell(lp, dt=dt)
            self.in_scale = c.c_i / self.gain

    def init_state(self, shape, device=None, dtype=torch.float32) -> _PendingState:
        v = torch.full(shape, float(self.params.v_leak), device=device, dtype=dtype)
        zero = torch.zeros(shape, device=device, dtype=dtype)
        return _PendingState((v,) if self.coef.delta else (v, zero), zero)

    def step(self, x: torch.Tensor, state: _PendingState):
        if self.coef.delta:
            ff = _require("norse.torch.functional.lif_box")
            z, s = self.cell(x / self.gain, ff.LIFBoxFeedForwardState(v=state.cell[0]))
            return z, _PendingState((s.v,), state.pending)
        fl = _require("norse.torch.functional.lif")
        v, i = state.cell
        z, s = self.cell(state.pending, fl.LIFFeedForwardState(v=v, i=i))
        return z, _PendingState((s.v, s.i), x * self.in_scale)

    @staticmethod
    def membrane(state: _PendingState) -> torch.Tensor:
        return state.cell[0]


class NativeLIF(LIF):
    """``layers.lif.LIF``, whose ``step(x, state)`` (the fused single-step kernel on CUDA) the backend
    layers share."""

    @staticmethod
    def membrane(state: LIFState) -> torch.Tensor:
        return state.v


_LAYERS = {"native": NativeLIF, "snntorch": SnntorchLIF, "norse": NorseLIF}


def lif_layer(params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan",
              backend: str = "native") -> nn.Module:
    """A LIF layer computed by ``backend`` ("native" | "snntorch" | "norse"); see the module docstring."""
    if backend not in _LAYERS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    return _LAYERS[backend](params, dt, surrogate)


__all__ = ["BACKENDS", "lif_layer", "NativeLIF", "SnntorchLIF", "NorseLIF"]
