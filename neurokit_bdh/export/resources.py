"""Resource estimate of an exported network against a hardware description (``hardware/loihi2.toml``).

Each LIF population is split over cores by its neuron count and by the synaptic memory of the
synapses it receives (one core holds a neuron's incoming synapses); the chip count follows from the
total. A neuron with more distinct inputs than ``max_fan_in``, or a network beyond ``max_chips``,
stops the export with a ValueError naming it.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

HARDWARE_DIR = Path(__file__).resolve().parents[2] / "hardware"
REQUIRED = ("cores_per_chip", "neurons_per_core", "synaptic_memory_bytes_per_core", "bytes_per_sparse_synapse",
            "bytes_per_dense_synapse", "max_fan_in", "max_chips")


def load_hardware(path=None) -> dict:
    """Read a hardware TOML (default: hardware/loihi2.toml), checking every required field."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - the 3.10 interpreter
        import tomli as tomllib
    path = Path(path) if path is not None else HARDWARE_DIR / "loihi2.toml"
    if not path.exists():
        raise OSError(f"{path}: no such hardware description")
    hw = tomllib.loads(path.read_text())
    for k in REQUIRED:
        v = hw.get(k)
        if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
            raise ValueError(f"{path}: {k}: expected a positive integer, got {v!r}")
    return hw


def estimate(qnet, hw: dict | None = None) -> dict:
    """Cores per population, total cores and chips; raises ValueError when a limit is exceeded."""
    hw = hw or load_hardware()
    per_pop = {}
    for p in qnet.lif_populations():
        n_syn, fan_in, dense_bytes = 0, np.zeros(p.size, np.int64), 0
        for q in qnet.projections.values():
            if q.post != p.name:
                continue
            n_syn += q.pre_idx.size
            fan_in += np.bincount(q.post_idx, minlength=p.size)
            n_pre = qnet.populations[q.pre].size
            dense_bytes += n_pre * p.size * hw["bytes_per_dense_synapse"]
        worst = int(fan_in.max()) if p.size else 0
        if worst > hw["max_fan_in"]:
            raise ValueError(f"population {p.name!r}: neuron {int(fan_in.argmax())} has fan-in {worst}, above "
                             f"the hardware limit max_fan_in={hw['max_fan_in']}")
        syn_bytes = min(n_syn * hw["bytes_per_sparse_synapse"], dense_bytes) if n_syn else 0
        cores = max(math.ceil(p.size / hw["neurons_per_core"]),
                    math.ceil(syn_bytes / hw["synaptic_memory_bytes_per_core"]), 1)
        per_pop[p.name] = {"neurons": p.size, "synapses_in": n_syn, "max_fan_in": worst,
                           "synaptic_bytes": syn_bytes, "cores": cores}
    n_src = sum(p.size for p in qnet.populations.values() if p.kind == "source")
    cores = sum(v["cores"] for v in per_pop.values())
    chips = math.ceil(cores / hw["cores_per_chip"])
    if chips > hw["max_chips"]:
        raise ValueError(f"network {qnet.name!r} needs {cores} cores = {chips} chips, "
                         f"above max_chips={hw['max_chips']}")
    return {"hardware": hw.get("name", "?"), "populations": per_pop, "input_neurons": n_src,
            "cores": cores, "chips": chips}


__all__ = ["load_hardware", "estimate"]
