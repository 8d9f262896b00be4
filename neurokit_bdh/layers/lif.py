"""LIF layers for deep learning: the neuron library's ``lif.step`` run over a time-major input.

``LIF`` takes an input current ``x`` of shape (T, B, N) (what arrives at the synapses each step) and
returns spikes (T, B, N) and the final ``LIFState``; with a surrogate name the spikes carry a
surrogate gradient, so the layer trains by backpropagation through time. ``LI`` is the leaky
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
from neurokit_bdh.neurons.lif import LIFParams, LIFState
from neurokit_bdh.neurons.surrogate import SURROGATES


def _check_time_major(x: torch.Tensor) -> None:
    if x.dim() < 2:
        raise ValueError(f"x: expected a time-major tensor (T, B, N), got shape {tuple(x.shape)}")


def _check_surrogate(surrogate):
    if surrogate is not None and surrogate not in SURROGATES:
        raise ValueError(f"surrogate: unknown name {surrogate!r}; expected one of {sorted(SURROGATES)} or None")
    return surrogate


class LIF(nn.Module):
    """A population of LIF neurons as a layer: input current (T, B, N) -> spikes (T, B, N), final state.

    ``params``: a ``LIFParams``; ``dt``: the step in seconds (explicit); ``surrogate``: the name of the
    surrogate derivative (``neurons.surrogate.SURROGATES``), or None for a non-differentiable step.
    The coefficients come from ``lif.discretise`` once, at construction.
    """

    def __init__(self, params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan"):
        super().__init__()
        if not isinstance(params, LIFParams):
            raise TypeError(f"params: expected a LIFParams, got {type(params).__name__}")
        self.params, self.dt = params, dt
        self.coef = lif.discretise(params, dt)
        self.surrogate = _check_surrogate(surrogate)

    def init_state(self, shape, device=None, dtype=torch.float32) -> LIFState:
        return lif.init_state(self.params, shape, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor, state: LIFState | None = None, record_v: bool = False):
        """Run all T steps. Returns ``(spikes, state)``, or ``(spikes, v, state)`` with ``record_v``
        (``v``: the membrane after each step, after any reset; (T, B, N))."""
        _check_time_major(x)
        if state is None:
            state = self.init_state(x.shape[1:], device=x.device, dtype=x.dtype)
        zs, vs = [], []
        for t in range(x.shape[0]):
            z, state = lif.step(x[t], state, self.coef, surrogate=self.surrogate)
            zs.append(z)
            if record_v:
                vs.append(state.v)
        z = torch.stack(zs)  # (T, B, N)
        return (z, torch.stack(vs), state) if record_v else (z, state)

    def extra_repr(self) -> str:
        return f"params={self.params}, dt={self.dt:g}, surrogate={self.surrogate!r}"


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
        v, i, ref = state
        vs = []
        for t in range(x.shape[0]):
            v, i, _ = lif.integrate(x[t], v, i, ref, self.coef)
            vs.append(v)
        return torch.stack(vs), LIFState(v, i, ref)  # (T, B, N)

    def extra_repr(self) -> str:
        return f"params={self.params}, dt={self.dt:g}"
