"""Spiking MLP blocks: stacks of (TimeLinear -> LIF), optionally with recurrent LIF layers.

``RecurrentLIF`` adds a recurrent weight matrix: a spike emitted at step t arrives at step t + 1
(delay of one step, the toolkit's transmission rule). The recurrent weights are dense, optionally
masked by a sparse topology from ``neurokit_bdh.graph.topology`` (e.g. a scale-free graph):

>>> import torch
>>> rec = RecurrentLIF(50, topology="barabasi_albert", topology_params={"m": 2}, seed=0)
>>> int(rec.recurrent.mask.sum()) == 2 * 2 * (50 - 2)     # one synapse per direction per BA edge
True
>>> net = SpikingMLP(64, [32], 10, recurrent=True, seed=0)
>>> net(torch.rand(8, 64), n_steps=5).shape                # static input current, 5 steps
torch.Size([5, 8, 10])
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from neurokit_bdh.neurons.base import scan
from neurokit_bdh.neurons.lif import LIFParams, LIFState

from .backends import lif_layer
from .lif import LI, _check_surrogate, _check_time_major
from .linear import TimeLinear


def topology_mask(n: int, topology: str, seed, **kwargs) -> torch.Tensor:
    """A dense 0/1 (post, pre) mask of shape (n, n) from a generator in ``graph.topology.TOPOLOGIES``."""
    from neurokit_bdh.graph.topology import TOPOLOGIES

    if topology not in TOPOLOGIES:
        raise ValueError(f"topology: unknown name {topology!r}; expected one of {sorted(TOPOLOGIES)}")
    pre, post = TOPOLOGIES[topology](n=n, seed=seed, **kwargs)
    mask = torch.zeros(n, n)
    mask[torch.as_tensor(np.asarray(post)), torch.as_tensor(np.asarray(pre))] = 1.0
    return mask


class RecurrentLIF(nn.Module):
    """LIF population with recurrent weights: input current (T, B, N) -> spikes (T, B, N), final state.

    Each step the neurons receive ``x[t] + W_rec · z[t-1]`` (one-step delay). ``mask`` (n × n, post ×
    pre, 0/1) or ``topology`` (a name in ``graph.topology.TOPOLOGIES`` with ``topology_params`` and
    ``seed``) restricts the recurrent connections; otherwise they are all-to-all (dense).
    ``backend``: who computes the LIF update, "native" | "snntorch" | "norse" (``layers.backends``).
    """

    def __init__(self, n: int, params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan",
                 mask: torch.Tensor | None = None, topology: str | None = None, topology_params: dict | None = None,
                 seed: int | None = None, init_scale: float = 1.0, backend: str = "native"):
        super().__init__()
        if topology is not None:
            if mask is not None:
                raise ValueError("mask: give either mask or topology, not both")
            if seed is None:
                raise ValueError("seed: a topology needs an explicit seed")
            mask = topology_mask(n, topology, seed, **(topology_params or {}))
        self.backend = backend
        self.lif = lif_layer(params, dt, surrogate, backend)
        self.recurrent = TimeLinear(n, n, bias=False, mask=mask)
        fan_in = n if mask is None else max(float(mask.sum(1).mean()), 1.0)
        with torch.no_grad():  # scale by the actual (mean) in-degree, not n
            g = torch.Generator().manual_seed(seed) if seed is not None else None
            w = torch.empty(n, n).uniform_(-1.0, 1.0, generator=g) * (init_scale / math.sqrt(fan_in))
            self.recurrent.weight.copy_(w if mask is None else w * self.recurrent.mask)

    def forward(self, x: torch.Tensor, state: tuple[LIFState, torch.Tensor] | None = None):
        """Returns ``(spikes, (lif_state, last_spikes))``."""
        _check_time_major(x)
        if state is None:
            s = self.lif.init_state(x.shape[1:], device=x.device, dtype=x.dtype)
            z = torch.zeros(x.shape[1:], device=x.device, dtype=x.dtype)
        else:
            s, z = state
        w = self.recurrent.effective_weight()

        def step(xt, state):  # the fused single-step kernel on CUDA for the native backend
            s, z = state
            z, s = self.lif.step(torch.addmm(xt, z, w.t()), s)
            return z, (s, z)

        return scan(step, x, (s, z))  # spikes (T, B, N), (lif_state, last_spikes)


class SpikingMLP(nn.Module):
    """``n_in -> hidden[0] -> ... -> n_out``: each hidden layer a TimeLinear followed by LIF (or RecurrentLIF).

    ``output="membrane"``: the last layer is a leaky-integrator readout (``LI``), the forward returns its
    membrane (T, B, n_out); ``output="spikes"``: the last layer is LIF and the forward returns spikes.
    The input is a time-major current (T, B, n_in) or a static (B, n_in) current with ``n_steps``
    (then the first projection is computed once, not T times). ``seed`` makes initialisation
    reproducible without touching the global RNG. ``backend`` ("native" | "snntorch" | "norse") picks
    who computes the hidden (and spiking output) LIF layers (``layers.backends``); the leaky-integrator
    readout is always native.
    """

    def __init__(self, n_in: int, hidden: list[int] | tuple[int, ...], n_out: int,
                 params: LIFParams = LIFParams(), dt: float = 1e-3, surrogate: str | None = "atan",
                 output: str = "membrane", readout_params: LIFParams | None = None,
                 recurrent: bool = False, topology: str | None = None, topology_params: dict | None = None,
                 seed: int | None = None, input_gain: float = 1.0, backend: str = "native"):
        super().__init__()
        if output not in ("membrane", "spikes"):
            raise ValueError(f"output: expected 'membrane' or 'spikes', got {output!r}")
        for k, h in enumerate(hidden):
            if not (isinstance(h, int) and h > 0):
                raise ValueError(f"hidden[{k}]: expected a positive int, got {h!r}")
        _check_surrogate(surrogate)
        self.output, self.input_gain, self.backend = output, float(input_gain), backend
        sizes = [n_in, *hidden, n_out]
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        self.linears = nn.ModuleList(TimeLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        if g is not None:
            with torch.no_grad():
                for lin in self.linears:  # PyTorch's default init (kaiming-uniform bounds), from our generator
                    bound = 1.0 / math.sqrt(lin.in_features)
                    lin.weight.uniform_(-bound, bound, generator=g)
                    lin.bias.uniform_(-bound, bound, generator=g)
        layers = []
        for k, h in enumerate(hidden):
            if recurrent:
                layers.append(RecurrentLIF(h, params, dt, surrogate, topology=topology,
                                           topology_params=topology_params,
                                           seed=None if seed is None else seed + 1 + k, backend=backend))
            else:
                layers.append(lif_layer(params, dt, surrogate, backend))
        layers.append(LI(readout_params or params, dt) if output == "membrane"
                      else lif_layer(params, dt, surrogate, backend))
        self.neurons = nn.ModuleList(layers)
        self.hidden_spikes: list[torch.Tensor] = []  # the last forward's hidden spikes, for regularisers/plots

    def forward(self, x: torch.Tensor, n_steps: int | None = None) -> torch.Tensor:
        if x.dim() == 2 and n_steps is None:
            raise ValueError("n_steps: needed for a static (B, N) input")
        h = self.linears[0](x * self.input_gain if self.input_gain != 1.0 else x,
                            n_steps=n_steps if x.dim() == 2 else None)  # (T, B, hidden[0])
        self.hidden_spikes = []
        for k, layer in enumerate(self.neurons):
            if k > 0:
                h = self.linears[k](h)
            out = layer(h)
            h = out[0]
            if k < len(self.neurons) - 1:
                self.hidden_spikes.append(h)
        return h  # (T, B, n_out): membrane or spikes
