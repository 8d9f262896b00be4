"""The neuron library: the math of each model written once, used by every engine, layer and model."""
from .alif import ALIF, ALIFParams, ALIFState
from .base import NeuronModel, run_steps, scan
from .izhikevich import IZHIKEVICH, IzhikevichParams, IzhikevichState
from .lif import LIF, LIFParams, LIFState
from .surrogate import SURROGATES, spike

NEURON_MODELS: dict[str, NeuronModel] = {m.name: m for m in (LIF, ALIF, IZHIKEVICH)}

__all__ = ["NEURON_MODELS", "NeuronModel", "run_steps", "scan", "spike", "SURROGATES",
           "LIF", "LIFParams", "LIFState", "ALIF", "ALIFParams", "ALIFState",
           "IZHIKEVICH", "IzhikevichParams", "IzhikevichState"]
