"""Plasticity rules on sparse synapse sets (CPU and CUDA): the only copy of each learning rule."""
from .chunk import ChunkSpikes
from .hebbian import Hebbian
from .reward import RewardSTDP
from .stdp import PairSTDP, TripletSTDP
from .structural import StructuralPlasticity
from .synapses import SynapseIndex

# name used in specs -> rule class (parameters are the dataclass fields)
RULES = {
    "stdp": PairSTDP,
    "triplet": TripletSTDP,
    "hebbian": Hebbian,
    "reward_stdp": RewardSTDP,
}

__all__ = ["RULES", "ChunkSpikes", "SynapseIndex", "PairSTDP", "TripletSTDP", "Hebbian", "RewardSTDP",
           "StructuralPlasticity"]
