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


ENGINE_NAMES = ("native", "brian2")
BRIAN2_TARGETS = ("cython", "cpp_standalone", "numpy")


def simulate(spec: NetworkSpec | str | os.PathLike, output: str | os.PathLike | None = None, *,
             duration: float | None = None, seed: int | None = None, device: str = "cpu",
             progress: bool = False, keep_spikes: bool = False, compile: bool | None = None,
             overwrite: bool = False, engine: str = "native", brian2_target: str = "cython") -> RunResult:
    """Simulate a spec (object or TOML path); write ``output`` (HDF5) if given.

    ``engine``: ``"native"`` (our torch engine on ``device``) or ``"brian2"`` (the network rendered to
    Brian2, ``brian2_target`` ``"cython"`` | ``"cpp_standalone"`` | ``"numpy"``); both write the same run
    file. ``duration`` and ``seed`` override the spec's. Everything is validated (including whether Brian2
    can render the network) before the output file is created; a failing run leaves a file marked
    ``status="failed"`` holding everything up to the last flush.
    """
    if engine not in ENGINE_NAMES:
        raise ValueError(f"engine: expected one of {ENGINE_NAMES}, got {engine!r}")
    if engine == "brian2" and brian2_target not in BRIAN2_TARGETS:
        raise ValueError(f"brian2_target: expected one of {BRIAN2_TARGETS}, got {brian2_target!r}")
    if not isinstance(spec, NetworkSpec):
        spec = load_spec(spec)
    if duration is not None or seed is not None:
        spec = replace(spec, duration=spec.duration if duration is None else duration,
                       seed=spec.seed if seed is None else seed)
    spec.validate()
    net = realise(spec)
    if engine == "brian2":
        if device != "cpu":
            raise ValueError(f"device: the brian2 engine runs on the CPU, got device={device!r}")
        from .engine.brian2_engine import Brian2Engine

        eng = Brian2Engine(net, brian2_target)
        attrs = {"engine": "brian2", "brian2_target": brian2_target, "device": "cpu", "name": spec.name}
    else:
        eng = NativeEngine(net, device=device, compile=compile)
        attrs = {"engine": "native", "device": str(eng.device), "name": spec.name}
    if output is None:
        return eng.run(progress=progress, keep_spikes=keep_spikes)
    from .io.runfile import RunWriter, collect_versions

    versions = collect_versions()
    if engine == "brian2":
        versions["brian2"] = eng.b2.__version__
    text = spec.text if _text_matches(spec) else dump_toml(spec)
    writer = RunWriter(Path(output), spec_text=text, seed=spec.seed, dt=spec.dt, n_steps=spec.n_steps,
                       n_trials=spec.n_trials, populations={n: p.size for n, p in net.populations.items()},
                       projections={n: (p.pre, p.post) for n, p in net.projections.items()},
                       versions=versions, attrs=attrs, overwrite=overwrite)
    with writer:
        for name, pop in net.populations.items():
            writer.add_population_data(name, "is_exc", pop.is_exc)
        result = eng.run(writer=writer, progress=progress, keep_spikes=keep_spikes)
    return result
