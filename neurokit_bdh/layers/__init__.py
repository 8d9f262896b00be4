"""torch.nn layers built on the neuron library: LIF/LI layers, time-batched projections, spiking MLPs,
input encoders and readouts, spiking self-attention."""
from .attention import SpikingSelfAttention
from .encoders import delta, latency, poisson
from .lif import LI, LIF
from .linear import TimeLinear
from .mlp import RecurrentLIF, SpikingMLP, topology_mask
from .readouts import READOUTS, first_spike, max_membrane, mean_membrane, spike_count

__all__ = ["LIF", "LI", "TimeLinear", "SpikingSelfAttention", "RecurrentLIF", "SpikingMLP", "topology_mask",
           "poisson", "latency", "delta", "READOUTS", "spike_count", "max_membrane", "mean_membrane", "first_spike"]
