"""The network spec: populations, projections, inputs, recording, time — as Python dataclasses or a TOML file.

Everything is validated before anything is simulated or written; each error names where it is
(``file: projections[1].pre``), the bad value and what was expected.

>>> spec = NetworkSpec(
...     dt=1e-4, duration=0.1, seed=1,
...     populations=[Population("net", 100, "lif", params={"tau_mem": 20e-3}, frac_exc=0.8)],
...     projections=[Projection("rec", "net", "net", topology="barabasi_albert", topology_params={"m": 3},
...                             weight={"dist": "constant", "value": 0.05}, g=4.0)],
...     inputs=[Input("poisson", "net", {"rate": 800.0, "weight": 0.2})])
>>> spec.validate().populations[0].size
100
"""
from __future__ import annotations

import math
import sys
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..neurons import NEURON_MODELS
from ..neurons.base import params_from_dict
from ..plasticity import RULES, StructuralPlasticity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on the 3.10 CI interpreter
    import tomli as tomllib

SOURCE_MODELS = ("poisson", "spike_source")
INPUT_TYPES = ("poisson", "current", "modulator")
PLASTIC_ON = ("all", "exc_pre", "exc_exc")
PAIR_TOPOLOGIES = ("random", "all_to_all", "one_to_one")  # any two populations; the rest need pre == post


class SpecError(ValueError):
    """An invalid network spec; the message names the place, the value and what was expected."""


def _fail(where: str, msg: str):
    raise SpecError(f"{where}: {msg}")


@dataclass
class Population:
    """``model``: a neuron model (lif, alif, izhikevich) or a spike source (poisson, spike_source).

    ``frac_exc``: fraction of excitatory neurons (Dale's law: their outgoing weights are positive, the
    others' negative), assigned at random from the spec's seed. Sources take ``params = {rate}`` (Hz) or ``{times, neurons}`` (seconds, indices).
    """

    name: str
    size: int
    model: str = "lif"
    params: dict[str, Any] = field(default_factory=dict)
    frac_exc: float = 1.0


@dataclass
class Projection:
    """Synapses from ``pre`` to ``post``. Weights are magnitudes drawn from ``weight``; an inhibitory
    presynaptic neuron's weight is multiplied by −``g``. Delays in seconds, rounded to steps (≥ 1)."""

    name: str
    pre: str
    post: str
    topology: str = "random"
    topology_params: dict[str, Any] = field(default_factory=dict)
    weight: dict[str, Any] = field(default_factory=lambda: {"dist": "constant", "value": 0.1})
    g: float = 1.0
    delay: dict[str, Any] = field(default_factory=lambda: {"dist": "constant", "value": 1e-4})
    plasticity: dict[str, Any] | None = None   # {"rule": "stdp", "on": "exc_exc", ...rule params}
    structural: dict[str, Any] | None = None   # StructuralPlasticity fields


@dataclass
class Input:
    """``poisson``: independent Poisson drive (``rate`` Hz per source, ``n_sources``, ``weight`` per input
    spike, added like a synaptic input); ``current``: ``amplitude`` from ``start`` to ``stop`` (s) into
    i_ext; ``modulator``: the global third factor, piecewise constant ``values`` from ``times`` (s)."""

    type: str
    target: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    neurons: list[int] | None = None  # None: the whole population


@dataclass
class StateRecord:
    population: str
    vars: list[str]
    neurons: list[int] | int = 10   # indices, or a count of evenly spaced neurons
    every: int = 10                 # steps


@dataclass
class WeightRecord:
    projection: str
    every: int = 1000               # steps


@dataclass
class Record:
    spikes: list[str] | None = None  # None: every population
    state: list[StateRecord] = field(default_factory=list)
    weights: list[WeightRecord] = field(default_factory=list)


@dataclass
class NetworkSpec:
    dt: float = 1e-4
    duration: float = 1.0
    seed: int = 0
    n_trials: int = 1
    name: str = "network"
    populations: list[Population] = field(default_factory=list)
    projections: list[Projection] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    record: Record = field(default_factory=Record)
    source: str = "spec"  # where it came from, for error messages
    text: str = ""        # the TOML text it was read from, stored in run files

    @property
    def n_steps(self) -> int:
        return int(round(self.duration / self.dt))

    def population(self, name: str) -> Population:
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)

    def validate(self) -> "NetworkSpec":
        """Check everything; return self. Raises :class:`SpecError`."""
        validate(self)
        return self

    def to_toml(self) -> str:
        return dump_toml(self)


# ----------------------------------------------------------------------------------------------- validation

def _number(where, value, *, positive=False, integer=False, minimum=None):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and integer:
        ok = float(value).is_integer()
    if ok and positive:
        ok = value > 0
    if ok and minimum is not None:
        ok = value >= minimum
    if not ok:
        what = "an integer" if integer else "a finite number"
        what += " > 0" if positive else (f" >= {minimum}" if minimum is not None else "")
        _fail(where, f"expected {what}, got {value!r}")


def neuron_params(pop: Population, where: str):
    """The validated parameter dataclass of a neuron population."""
    model = NEURON_MODELS[pop.model]
    try:
        if pop.model == "izhikevich" and "preset" in pop.params:
            extra = {k: v for k, v in pop.params.items() if k != "preset"}
            return model.params.preset(pop.params["preset"], **extra)
        return params_from_dict(model.params, pop.params)
    except (ValueError, TypeError) as e:
        _fail(f"{where}.params", str(e))


def plasticity_rule(proj: Projection, where: str):
    cfg = dict(proj.plasticity)
    rule = cfg.pop("rule", None)
    if rule not in RULES:
        _fail(f"{where}.plasticity.rule", f"expected one of {sorted(RULES)}, got {rule!r}")
    on = cfg.pop("on", "all")
    if on not in PLASTIC_ON:
        _fail(f"{where}.plasticity.on", f"expected one of {PLASTIC_ON}, got {on!r}")
    try:
        return params_from_dict(RULES[rule], cfg), on
    except (ValueError, TypeError) as e:
        _fail(f"{where}.plasticity", str(e))


def structural_rule(proj: Projection, where: str):
    try:
        return params_from_dict(StructuralPlasticity, dict(proj.structural))
    except (ValueError, TypeError) as e:
        _fail(f"{where}.structural", str(e))


def validate(spec: NetworkSpec) -> None:
    src = spec.source
    _number(f"{src}: dt", spec.dt, positive=True)
    _number(f"{src}: duration", spec.duration, positive=True)
    _number(f"{src}: seed", spec.seed, integer=True, minimum=0)
    _number(f"{src}: n_trials", spec.n_trials, integer=True, minimum=1)
    if spec.duration < spec.dt:
        _fail(f"{src}: duration", f"expected at least one step dt={spec.dt}, got {spec.duration}")
    if not spec.populations:
        _fail(f"{src}: populations", "expected at least one population, got none")
    names: dict[str, Population] = {}
    taus: list[tuple[float, str]] = []
    for k, pop in enumerate(spec.populations):
        w = f"{src}: populations[{k}]"
        if not isinstance(pop.name, str) or not pop.name.isidentifier():
            _fail(f"{w}.name", f"expected an identifier-like name, got {pop.name!r}")
        if pop.name in names:
            _fail(f"{w}.name", f"duplicate population name {pop.name!r}")
        names[pop.name] = pop
        _number(f"{w}.size", pop.size, integer=True, positive=True)
        _number(f"{w}.frac_exc", pop.frac_exc, minimum=0)
        if pop.frac_exc > 1:
            _fail(f"{w}.frac_exc", f"expected a fraction in [0, 1], got {pop.frac_exc}")
        if pop.model in NEURON_MODELS:
            p = neuron_params(pop, w)
            taus.append((NEURON_MODELS[pop.model].shortest_tau(p), f"{w}.params"))
        elif pop.model == "poisson":
            rate = pop.params.get("rate")
            _number(f"{w}.params.rate", rate, minimum=0)
            if rate * spec.dt > 1:
                _fail(f"{w}.params.rate", f"expected rate*dt <= 1 (at most one spike per step), got {rate}")
        elif pop.model == "spike_source":
            _check_spike_source(pop, w, spec)
        else:
            _fail(f"{w}.model", f"unknown neuron model {pop.model!r}; expected one of "
                                f"{sorted(NEURON_MODELS) + list(SOURCE_MODELS)}")
    projs = set()
    for k, proj in enumerate(spec.projections):
        w = f"{src}: projections[{k}]"
        if proj.name in projs:
            _fail(f"{w}.name", f"duplicate projection name {proj.name!r}")
        projs.add(proj.name)
        for end in ("pre", "post"):
            if getattr(proj, end) not in names:
                _fail(f"{w}.{end}", f"no population named {getattr(proj, end)!r}; populations are {sorted(names)}")
        if names[proj.post].model in SOURCE_MODELS:
            _fail(f"{w}.post", f"population {proj.post!r} is a spike source and cannot receive synapses")
        _check_topology(proj, names, w)
        if not isinstance(proj.weight, dict) or "dist" not in proj.weight:
            _fail(f"{w}.weight", f"expected a table with 'dist' (constant, uniform, normal, lognormal), got {proj.weight!r}")
        if not isinstance(proj.delay, dict) or "dist" not in proj.delay:
            _fail(f"{w}.delay", f"expected a table with 'dist' (constant, uniform), got {proj.delay!r}")
        _number(f"{w}.g", proj.g, minimum=0)
        for key in ("value", "low", "high"):
            if key in proj.delay:
                _number(f"{w}.delay.{key}", proj.delay[key], positive=True)
                if proj.delay[key] < spec.dt * (1 - 1e-9):
                    _fail(f"{w}.delay.{key}", f"expected a delay >= dt={spec.dt} s (one step), got {proj.delay[key]}")
        if proj.plasticity is not None:
            rule, _ = plasticity_rule(proj, w)
            taus.append((rule.shortest_tau(), f"{w}.plasticity"))
        if proj.structural is not None:
            s = structural_rule(proj, w)
            if spec.n_trials != 1:
                _fail(f"{w}.structural", f"structural plasticity needs n_trials = 1 (one graph), got {spec.n_trials}")
            if proj.plasticity is not None and plasticity_rule(proj, w)[0].name == "reward_stdp":
                _fail(f"{w}.structural", "cannot be combined with reward_stdp (per-synapse eligibility)")
            if s.interval < spec.dt:
                _fail(f"{w}.structural.interval", f"expected >= dt={spec.dt}, got {s.interval}")
    for tau, where in taus:
        if not spec.dt < tau:
            _fail(f"{src}: dt", f"expected dt smaller than the shortest time constant ({tau} s in {where}), got {spec.dt}")
    for k, inp in enumerate(spec.inputs):
        _check_input(inp, names, f"{src}: inputs[{k}]", spec)
    rec = spec.record
    for k, pname in enumerate(rec.spikes or []):
        if pname not in names:
            _fail(f"{src}: record.spikes[{k}]", f"no population named {pname!r}")
    for k, s in enumerate(rec.state):
        w = f"{src}: record.state[{k}]"
        if s.population not in names:
            _fail(f"{w}.population", f"no population named {s.population!r}")
        pop = names[s.population]
        if pop.model not in NEURON_MODELS:
            _fail(f"{w}.population", f"{s.population!r} is a spike source and has no state")
        valid = NEURON_MODELS[pop.model].state._fields
        for v in s.vars:
            if v not in valid:
                _fail(f"{w}.vars", f"unknown state variable {v!r} of {pop.model}; expected some of {list(valid)}")
        _number(f"{w}.every", s.every, integer=True, positive=True)
        if isinstance(s.neurons, int):
            _number(f"{w}.neurons", s.neurons, integer=True, positive=True)
        else:
            _check_indices(s.neurons, pop.size, f"{w}.neurons")
    for k, r in enumerate(rec.weights):
        w = f"{src}: record.weights[{k}]"
        if r.projection not in projs:
            _fail(f"{w}.projection", f"no projection named {r.projection!r}; projections are {sorted(projs)}")
        _number(f"{w}.every", r.every, integer=True, positive=True)


def _check_indices(idx, size, where):
    if not isinstance(idx, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in idx):
        _fail(where, f"expected a list of neuron indices, got {idx!r}")
    bad = [i for i in idx if not 0 <= i < size]
    if bad:
        _fail(where, f"expected indices in [0, {size}), got {bad[0]}")


def _check_spike_source(pop, where, spec):
    times, neurons = pop.params.get("times"), pop.params.get("neurons")
    if not isinstance(times, list) or not isinstance(neurons, list) or len(times) != len(neurons):
        _fail(f"{where}.params", "expected 'times' (s) and 'neurons' lists of equal length")
    _check_indices(neurons, pop.size, f"{where}.params.neurons")
    for t in times:
        _number(f"{where}.params.times", t, minimum=0)


def _check_topology(proj, names, where):
    from .topology import TOPOLOGIES  # lazy: networkx import
    if proj.topology not in TOPOLOGIES and proj.topology not in PAIR_TOPOLOGIES:
        _fail(f"{where}.topology", f"unknown topology {proj.topology!r}; expected one of "
                                   f"{sorted(set(TOPOLOGIES) | set(PAIR_TOPOLOGIES))}")
    if proj.topology not in PAIR_TOPOLOGIES and names[proj.pre].size != names[proj.post].size:
        _fail(f"{where}.topology", f"{proj.topology!r} builds a graph on one set of neurons; pre "
                                   f"{proj.pre!r} and post {proj.post!r} differ in size")


def _check_input(inp, names, where, spec):
    if inp.type not in INPUT_TYPES:
        _fail(f"{where}.type", f"expected one of {INPUT_TYPES}, got {inp.type!r}")
    if inp.type == "modulator":
        times, values = inp.params.get("times"), inp.params.get("values")
        if not isinstance(times, list) or not isinstance(values, list) or len(times) != len(values) or not times:
            _fail(f"{where}.params", "expected non-empty 'times' (s) and 'values' lists of equal length")
        return
    if inp.target not in names:
        _fail(f"{where}.target", f"no population named {inp.target!r}; populations are {sorted(names)}")
    if names[inp.target].model in SOURCE_MODELS:
        _fail(f"{where}.target", f"population {inp.target!r} is a spike source and takes no input")
    if inp.neurons is not None:
        _check_indices(inp.neurons, names[inp.target].size, f"{where}.neurons")
    if inp.type == "poisson":
        _number(f"{where}.params.rate", inp.params.get("rate"), minimum=0)
        _number(f"{where}.params.weight", inp.params.get("weight"))
        _number(f"{where}.params.n_sources", inp.params.get("n_sources", 1), integer=True, positive=True)
        if inp.params["rate"] * spec.dt > 1:
            _fail(f"{where}.params.rate", f"expected rate*dt <= 1, got rate {inp.params['rate']} Hz")
    else:
        _number(f"{where}.params.amplitude", inp.params.get("amplitude"))
        start, stop = inp.params.get("start", 0.0), inp.params.get("stop", spec.duration)
        _number(f"{where}.params.start", start, minimum=0)
        _number(f"{where}.params.stop", stop, minimum=0)
        if stop < start:
            _fail(f"{where}.params.stop", f"expected stop >= start={start}, got {stop}")


# ----------------------------------------------------------------------------------------------- TOML

_TOP = {f.name for f in fields(NetworkSpec)} - {"source", "text"}


def _build(cls, table, where):
    if not isinstance(table, dict):
        _fail(where, f"expected a table, got {table!r}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(table) - known)
    if unknown:
        _fail(f"{where}.{unknown[0]}", f"unknown field; expected one of {sorted(known)}")
    required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
    for r in required:
        if r not in table:
            _fail(f"{where}.{r}", "missing required field")
    return cls(**table)


def spec_from_dict(d: dict, source: str = "spec", text: str = "") -> NetworkSpec:
    """Build and validate a spec from a mapping (the TOML structure)."""
    unknown = sorted(set(d) - _TOP)
    if unknown:
        _fail(f"{source}: {unknown[0]}", f"unknown top-level field; expected one of {sorted(_TOP)}")
    d = dict(d)
    pops = [_build(Population, t, f"{source}: populations[{k}]") for k, t in enumerate(d.pop("populations", []))]
    projs = [_build(Projection, t, f"{source}: projections[{k}]") for k, t in enumerate(d.pop("projections", []))]
    inputs = [_build(Input, t, f"{source}: inputs[{k}]") for k, t in enumerate(d.pop("inputs", []))]
    rec = dict(d.pop("record", {}))
    state = [_build(StateRecord, t, f"{source}: record.state[{k}]") for k, t in enumerate(rec.pop("state", []))]
    weights = [_build(WeightRecord, t, f"{source}: record.weights[{k}]") for k, t in enumerate(rec.pop("weights", []))]
    record = _build(Record, rec, f"{source}: record")
    record = replace(record, state=state, weights=weights)
    spec = NetworkSpec(**d, populations=pops, projections=projs, inputs=inputs, record=record,
                       source=source, text=text)
    return spec.validate()


def load_spec(path: str | Path) -> NetworkSpec:
    """Read and validate a TOML network spec."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: no such spec file")
    text = path.read_text()
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SpecError(f"{path}: not valid TOML: {e}") from None
    return spec_from_dict(d, source=str(path), text=text)


def dump_toml(spec: NetworkSpec) -> str:
    """The spec as TOML text (what run files store when a spec was built in Python)."""
    d = {k: v for k, v in asdict(spec).items() if k in _TOP}
    return _toml(d)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items() if x is not None) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def _toml(d: dict) -> str:
    lines, tables = [], []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                tables.append(f"\n[[{k}]]\n" + "\n".join(f"{a} = {_toml_value(b)}" for a, b in item.items() if b is not None))
        elif isinstance(v, dict) and k == "record":
            sub = {a: b for a, b in v.items() if not (isinstance(b, list) and b and isinstance(b[0], dict))}
            tables.append("\n[record]\n" + "\n".join(f"{a} = {_toml_value(b)}" for a, b in sub.items() if b is not None))
            for a, b in v.items():
                if isinstance(b, list) and b and isinstance(b[0], dict):
                    for item in b:
                        tables.append(f"\n[[record.{a}]]\n" + "\n".join(f"{x} = {_toml_value(y)}" for x, y in item.items()))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines + tables) + "\n"
