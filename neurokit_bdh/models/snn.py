"""Spiking classifier trained with surrogate gradients: encoder -> SpikingMLP -> readout -> class scores.

Config dataclass first; every size derived once. Shapes: input x (B, n_in) static or (T, B, n_in)
temporal; hidden spikes (T, B, hidden[k]); output (T, B, n_out) -> scores (B, n_out).

>>> import torch
>>> m = SNNClassifier(SNNConfig(n_in=64, n_out=10, hidden=(32,), n_steps=8, seed=0))
>>> m(torch.rand(4, 64)).shape
torch.Size([4, 10])
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from neurokit_bdh.layers import READOUTS, SpikingMLP, latency, poisson
from neurokit_bdh.neurons.lif import LIFParams

ENCODINGS = ("current", "poisson", "latency", "none")


@dataclass(frozen=True)
class SNNConfig:
    n_in: int = 64
    n_out: int = 10
    hidden: tuple[int, ...] = (256,)
    n_steps: int = 20             # time steps per static sample (temporal inputs bring their own T)
    dt: float = 1e-3              # s
    tau_mem: float = 10e-3        # s
    tau_syn: float = 0.0          # s; 0: delta synapses (input jumps v in the same step)
    v_th: float = 1.0
    reset: str = "subtract"
    tau_mem_out: float = 10e-3    # readout (leaky integrator) membrane, s
    tau_syn_out: float = 0.0      # with > 0 the readout's v is 0 at step 0, so max_membrane is clipped at >= 0
    surrogate: str = "atan"
    encoding: str = "current"     # current: x as a constant input current; poisson/latency: spikes; none: x is (T, B, N)
    input_gain: float = 5.0       # multiplies x (current) or the spike probability (poisson)
    readout: str = "max_membrane" # a name in layers.READOUTS
    recurrent: bool = False
    topology: str | None = None   # sparse recurrent mask from graph.topology (needs recurrent=True)
    topology_m: int = 4
    seed: int = 0                 # initialisation and Poisson encoding

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding: expected one of {ENCODINGS}, got {self.encoding!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"readout: expected one of {sorted(READOUTS)}, got {self.readout!r}")
        if self.topology is not None and not self.recurrent:
            raise ValueError(f"topology: {self.topology!r} needs recurrent=True")
        if not (isinstance(self.n_steps, int) and self.n_steps > 0):
            raise ValueError(f"n_steps: expected a positive int, got {self.n_steps!r}")

    @classmethod
    def from_dict(cls, d: dict) -> "SNNConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown SNNConfig field; expected one of {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


class SNNClassifier(nn.Module):
    def __init__(self, cfg: SNNConfig):
        super().__init__()
        self.cfg = cfg
        params = LIFParams(tau_mem=cfg.tau_mem, tau_syn=cfg.tau_syn, v_th=cfg.v_th, reset=cfg.reset)
        readout_params = LIFParams(tau_mem=cfg.tau_mem_out, tau_syn=cfg.tau_syn_out, v_th=cfg.v_th)
        self.output = "spikes" if cfg.readout in ("count", "first_spike") else "membrane"
        self.net = SpikingMLP(cfg.n_in, cfg.hidden, cfg.n_out, params=params, dt=cfg.dt, surrogate=cfg.surrogate,
                              output=self.output, readout_params=readout_params, recurrent=cfg.recurrent,
                              topology=cfg.topology,
                              topology_params={"m": cfg.topology_m} if cfg.topology else None,
                              seed=cfg.seed, input_gain=cfg.input_gain if cfg.encoding == "current" else 1.0)
        self.readout = READOUTS[cfg.readout]
        self.encode_generator: torch.Generator | None = None  # Poisson draws; seeded lazily per device

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, int | None]:
        c = self.cfg
        if c.encoding == "current":
            return x, c.n_steps                      # static (B, N): projected once, broadcast over T
        if c.encoding == "none":
            return x, None                           # already (T, B, N)
        if c.encoding == "latency":
            return latency(x, c.n_steps), None
        if self.encode_generator is None or self.encode_generator.device != x.device:
            self.encode_generator = torch.Generator(device=x.device).manual_seed(c.seed)
        return poisson(x, c.n_steps, gain=c.input_gain, generator=self.encode_generator), None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, n_steps = self.encode(x)
        out = self.net(h, n_steps=n_steps)           # (T, B, n_out)
        return self.readout(out)                     # (B, n_out)
