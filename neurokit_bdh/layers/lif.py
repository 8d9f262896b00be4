"""LIF layers for deep learning: the neuron library's ``lif.step`` run over a time-major input.

``LIF`` takes an input current ``x`` of shape (T, B, N) (what arrives at the synapses each step) and
returns spikes (T, B, N) and the final ``LIFState``; with a surrogate name the spikes carry a
surrogate gradient, so the layer trains by backpropagation through time. On CUDA float32 tensors
``LIF`` runs the fused Triton kernels of ``neurokit_bdh.kernels.lif`` (all T steps in one kernel,
state in registers, backward by recomputation; bitwise the same spikes and states); elsewhere, and
for what the kernels do not cover, it runs the plain loop below. ``LI`` is the leaky
integrator readout: the same sub-threshold update (``lif.integrate``) without the spike test, and
returns the membrane trace (T, B, N). Neither re-derives any math: both call ``neurons.lif``.

>>> import torch
>>> from neurokit_bdh.neurons import LIFParams
>>> layer = LIF(LIFParams(tau_mem=10e-3, tau_syn=0.0), dt=1e-3)
>>> z, s = layer(torch.full((3, 1, 2), 0.6))   # (T, B, N)
>>> z[:, 0, 0].tolist()                          # 0.6, then 0.6·e^{-0.1} + 0.6 > 1: spike and reset
[0.0, 1.0, 0.0]
"""
from __future__ import annotations

import torch
from torch import nn

from neurokit_bdh.neurons import lif
from neurokit_bdh.neurons.base import scan
from neurokit_bdh.neurons.lif import LIFParams, LIFState
from neurokit_bdh.neurons.surrogate import SURROGATES


def _check_time_major(x: torch.Tensor) -> None:
    if x.dim() < 2:
        raise ValueError(f"x: expected a time-major tensor (T, B, N), got shape {tuple(x.shape)}")


KERNELS = ("auto", "torch", "triton")


def _check_surrogate(surrogate):
    if surrogate is not None and surrogate not in SURROGATES:
        raise ValueError(f"surrogate: unknown name {surrogate!r}; expected one of {sorted(SURROGATES)} or None")
    return surrogate


class LIF(nn.Module):
    """A population of LIF neurons as a layer: input current (T, B, N) -> spikes (T, B, N), final state.

    ``params``: a ``LIFParams``; ``dt``: the step in seconds (explicit); ``surrogate``: the name of the
    surrogate derivative (``neurons.surrogate.SURROGATES``), or None for a non-differentiable step.
    The coefficients come from ``lif.discretise`` once, at construction.

    ``kernel``: ``"auto"`` (default) uses the fused Triton kernels when the input is a float32 CUDA
    tensor, Triton is installed and the neuron is supported, and the plain torch loop otherwise;
    ``"torch"`` always uses the loop; ``"triton"`` always uses the kernels (on CPU tensors through
    Triton's interpreter, slow: for tests) and raises ValueError where they cannot run. The kernels
    do not cover, so ``"auto"`` falls back to torch for: refractoriness (``t_ref`` of more than one
    step), ``record_v=True``, dtypes other than float32, and a missing Triton.
    """

    def __init__(self, params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan",
                 kernel: str = "auto"):
        super().__init__()
        if not isinstance(params, LIFParams):
            raise TypeError(f"params: expected a LIFParams, got {type(params).__name__}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel: expected one of {KERNELS}, got {kernel!r}")
        self.params, self.dt, self.kernel = params, dt, kernel
        self.coef = lif.discretise(params, dt)
        self.surrogate = _check_surrogate(surrogate)

    def _triton_reason(self, x: torch.Tensor, state: LIFState, record_v: bool) -> str | None:
        """Why the fused kernels cannot run this call (None: they can)."""
        from neurokit_bdh.kernels import lif as klif

        if not klif.available():
            return "triton is not installed (pip install 'neurokit-bdh[dev]')"
        if record_v:
            return "record_v=True (the kernels do not write the membrane trace)"
        if x.dtype != torch.float32 or any(s.dtype != torch.float32 for s in (state or ())[:2]):
            return f"dtype {x.dtype} (the kernels compute in float32)"
        if self.kernel == "auto" and not x.is_cuda:
            return "a CPU tensor"
        return klif.unsupported(self.coef)

    def _use_triton(self, x, state, record_v) -> bool:
        if self.kernel == "torch" or (self.kernel == "auto" and not x.is_cuda):
            return False
        why = self._triton_reason(x, state, record_v)
        if why is not None and self.kernel == "triton":
            raise ValueError(f"kernel: 'triton' cannot run this call: {why}")
        return why is None

    def init_state(self, shape, device=None, dtype=torch.float32) -> LIFState:
        return lif.init_state(self.params, shape, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor, state: LIFState | None = None, record_v: bool = False):
        """Run all T steps. Returns ``(spikes, state)``, or ``(spikes, v, state)`` with ``record_v``
        (``v``: the membrane after each step, after any reset; (T, B, N))."""
        _check_time_major(x)
        if self._use_triton(x, state, record_v):
            from neurokit_bdh.kernels.lif import lif_multistep

            if state is None:  # from rest: the kernels start from constants, no state tensors to fill and read
                z, v, i = lif_multistep(x, float(self.params.v_leak), 0.0, self.coef, self.surrogate)
                zero = x.new_zeros(()).expand(x.shape[1:])  # not refractory; i of delta synapses stays 0
                return z, LIFState(v, zero if self.coef.delta else i, zero)
            z, v, i = lif_multistep(x, state.v, state.i, self.coef, self.surrogate)
            return z, LIFState(v, i, state.ref)  # no refractoriness: ref is untouched
        if state is None:
            state = self.init_state(x.shape[1:], device=x.device, dtype=x.dtype)
        return scan(lambda xt, s: lif.step(xt, s, self.coef, surrogate=self.surrogate), x, state,
                    record=(lambda s: s.v) if record_v else None)  # z (T, B, N)

    def step(self, x: torch.Tensor, state: LIFState | None = None):
        """One step: input (B, N) -> ``(spikes, state)``, the fused single-step kernel where ``forward``
        would use the kernels (for recurrent layers that must step one at a time)."""
        if state is None:
            state = self.init_state(x.shape, device=x.device, dtype=x.dtype)
        if self._use_triton(x, state, False):
            from neurokit_bdh.kernels.lif import lif_step

            z, v, i = lif_step(x, state.v, state.i, self.coef, self.surrogate)
            return z, LIFState(v, i, state.ref)
        return lif.step(x, state, self.coef, surrogate=self.surrogate)

    def extra_repr(self) -> str:
        return f"params={self.params}, dt={self.dt:g}, surrogate={self.surrogate!r}, kernel={self.kernel!r}"


class LI(nn.Module):
    """Leaky-integrator readout (no spikes): input current (T, B, N) -> membrane trace (T, B, N), final state.

    The sub-threshold part of the LIF update (``lif.integrate``); ``params.v_th``/reset are unused.
    """

    def __init__(self, params: LIFParams = LIFParams(), dt: float = 1e-3):
        super().__init__()
        if not isinstance(params, LIFParams):
            raise TypeError(f"params: expected a LIFParams, got {type(params).__name__}")
        self.params, self.dt = params, dt
        self.coef = lif.discretise(params, dt)._replace(n_ref=0)  # never refractory: it never spikes

    def forward(self, x: torch.Tensor, state: LIFState | None = None):
        _check_time_major(x)
        if state is None:
            state = lif.init_state(self.params, x.shape[1:], device=x.device, dtype=x.dtype)
        def step(xt, s):
            v, i, _ = lif.integrate(xt, s.v, s.i, s.ref, self.coef)
            return v, LIFState(v, i, s.ref)

        return scan(step, x, state)  # membrane (T, B, N)

    def extra_repr(self) -> str:
        return f"params={self.params}, dt={self.dt:g}"
