"""One call from a spec to a run file: validate, realise, simulate, record.

>>> from neurokit_bdh.simulate import simulate
>>> from neurokit_bdh.graph.spec import NetworkSpec, Population, Input
>>> spec = NetworkSpec(dt=1e-4, duration=0.05, populations=[Population("n", 10, "lif", {"tau_syn": 0.0})],
...                    inputs=[Input("current", "n", {"amplitude": 1.5})])
>>> result = simulate(spec)
>>> round(result.rate("n"))   # ISI = 20 ms · ln(1.5/0.5) ≈ 22 ms: 2 spikes in 50 ms
40
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from .engine import NativeEngine, RunResult
from .graph.network import realise
from .graph.spec import NetworkSpec, dump_toml, load_spec, spec_from_dict, tomllib


def _text_matches(spec: NetworkSpec) -> bool:
    """Whether the spec's original TOML text still describes it (it may have been changed since loading)."""
    if not spec.text:
        return False
    try:
        return dump_toml(spec_from_dict(tomllib.loads(spec.text))) == dump_toml(spec)
    except ValueError:
        return False


def simulate(spec: NetworkSpec | str | os.PathLike, output: str | os.PathLike | None = None, *,
             duration: float | None = None, seed: int | None = None, device: str = "cpu",
             progress: bool = False, keep_spikes: bool = False, compile: bool | None = None,
             overwrite: bool = False) -> RunResult:
    """Simulate a spec (object or TOML path) with the native engine; write ``output`` (HDF5) if given.

    ``duration`` and ``seed`` override the spec's. Everything is validated before the output file is
    created; a failing run leaves a file marked ``status="failed"`` holding everything up to the last flush.
    """
    if not isinstance(spec, NetworkSpec):
        spec = load_spec(spec)
    if duration is not None or seed is not None:
        spec = replace(spec, duration=spec.duration if duration is None else duration,
                       seed=spec.seed if seed is None else seed)
    spec.validate()
    net = realise(spec)
    engine = NativeEngine(net, device=device, compile=compile)
    if output is None:
        return engine.run(progress=progress, keep_spikes=keep_spikes)
    from .io.runfile import RunWriter

    text = spec.text if _text_matches(spec) else dump_toml(spec)
    writer = RunWriter(Path(output), spec_text=text, seed=spec.seed, dt=spec.dt, n_steps=spec.n_steps,
                       n_trials=spec.n_trials, populations={n: p.size for n, p in net.populations.items()},
                       projections={n: (p.pre, p.post) for n, p in net.projections.items()},
                       attrs={"engine": "native", "device": str(engine.device), "name": spec.name},
                       overwrite=overwrite)
    with writer:
        for name, pop in net.populations.items():
            writer.add_population_data(name, "is_exc", pop.is_exc)
        result = engine.run(writer=writer, progress=progress, keep_spikes=keep_spikes)
    return result
