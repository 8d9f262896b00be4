r"""NIR (Neuromorphic Intermediate Representation) export and import.

Export (``to_nir`` / ``write_nir``): a layered model (``layers.SpikingMLP``, ``models.snn.SNNClassifier``) or a
realised network (``graph.network.Network``) becomes a ``nir.NIRGraph``. Import (``from_nir`` / ``read_nir``): a
NIR graph (ours, snntorch's, norse's, ...) becomes a :class:`NIRNetwork`, a torch module that simulates it
step by step with the neuron library (``neurons.lif``).

Our convention (docs/formats.md, "NIR"), chosen so that a graph is self-contained and reads the same in
snntorch and norse:

* NIR is continuous-time; a reader must pick ``dt`` and a discretisation. Every graph we write reproduces our
  discrete update exactly under the **forward-Euler reading with our ``dt``**: for a per-step membrane decay
  ``c_v`` (``exp(-dt/tau)`` with ``method="exact"``, ``1 - dt/tau`` with ``"euler"``) we write
  ``tau = dt / (1 - c_v)``. ``dt`` and the original parameters go into every neuron node's metadata.
* Input gain: our delta-synapse input jumps ``v`` by the weight. A ``LIF``/``LI`` node gets ``r = 1`` and its
  incoming weights (and biases) are multiplied by ``tau/dt`` (snntorch and norse both read that exactly; norse
  ignores ``r``). A current-based layer becomes ``CubaLIF``/``CubaLI`` with ``r = tau_mem/dt`` and the gain in
  ``w_in``. ``SpikingMLP.input_gain`` is multiplied into the first ``Affine``.
* Timing: NIR readers add a synaptic current in the step it arrives; ours reaches ``v`` one step later, so a
  current-based layer is written as a ``Delay`` of one step in front of the ``CubaLIF``. A network projection
  with delay ``d`` steps is ``Linear`` followed by ``Delay(d·dt)``. Cycles without a ``Delay`` (snntorch's
  recurrent export) are read with an implicit one-step delay on the edge that closes the cycle.
* Reset: NIR's LIF resets to ``v_reset``. ``reset="subtract"`` and refractory periods have no NIR field: with
  ``strict=True`` (default) export refuses them; with ``strict=False`` they go into node metadata, which
  neurokit_bdh honours and other readers ignore.

Never written as a different network: plasticity, structural plasticity, per-synapse (heterogeneous) delays,
external drives (Poisson inputs, currents) and weight matrices larger than ``max_dense`` entries raise
ValueError naming what would be lost.
"""
from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neurokit_bdh.neurons import lif
from neurokit_bdh.neurons.lif import LIFParams

CONVENTION = "neurokit_bdh-euler-1"
MAX_DENSE = 1 << 24  # weight entries (64 MiB in float32): beyond this a sparse projection is not densified


def _nir():
    try:
        import nir
    except ImportError as e:
        raise ImportError(f"NIR import/export needs the optional package nir: pip install 'neurokit_bdh[interop]' ({e})") from None
    return nir


# ============================================================================================== export

def _neuron(p: LIFParams, n: int, dt: float, spiking: bool, strict: bool, where: str):
    """The NIR node of one LIF/LI population: (node, gain for incoming weights, extra delay steps)."""
    nir = _nir()
    c = lif.discretise(p, dt)
    if strict and p.reset == "subtract" and spiking:
        raise ValueError(f"{where}: reset='subtract' cannot be expressed in NIR (its LIF resets to v_reset); "
                         f"pass strict=False (--lax) to keep it in node metadata (read by neurokit_bdh only)")
    if spiking and c.n_ref > 1 and strict:
        raise ValueError(f"{where}: the refractory period t_ref={p.t_ref} s has no NIR field; "
                         f"pass strict=False (--lax) to keep it in node metadata (read by neurokit_bdh only)")
    full = lambda v: np.full(n, float(v), dtype=np.float64)  # noqa: E731
    tau_m = dt / (1.0 - c.c_v)
    meta = {"convention": CONVENTION, "dt": float(dt), "reset": p.reset if spiking else "none",
            "method": p.method, "tau_mem": p.tau_mem, "tau_syn": p.tau_syn, "v_reset": p.v_reset,
            "t_ref": p.t_ref if spiking else 0.0}
    if c.delta:
        meta["input_gain"] = tau_m / dt
        if spiking:
            node = nir.LIF(tau=full(tau_m), r=full(1.0), v_leak=full(p.v_leak), v_threshold=full(p.v_th),
                           v_reset=full(p.v_reset), metadata=meta)
        else:
            node = nir.LI(tau=full(tau_m), r=full(1.0), v_leak=full(p.v_leak), metadata=meta)
        return node, tau_m / dt, 0
    tau_s = dt / (1.0 - c.a_i)
    w_in = c.c_i * tau_s / dt  # (dt/tau_s)·w_in = c_i: the current the membrane adds equals ours times c_i
    meta["input_gain"] = w_in
    kw = dict(tau_syn=full(tau_s), tau_mem=full(tau_m), r=full(tau_m / dt), v_leak=full(p.v_leak), w_in=full(w_in))
    if spiking:
        node = nir.CubaLIF(**kw, v_threshold=full(p.v_th), v_reset=full(p.v_reset), metadata=meta)
    else:
        node = nir.CubaLI(**kw, metadata=meta)
    return node, 1.0, 1


def _check_dense(shape, max_dense: int, where: str, sparse: bool):
    n = int(np.prod(shape))
    if n > max_dense:
        kind = "sparse weights" if sparse else "weights"
        raise ValueError(f"{where}: {kind} of shape {tuple(shape)} would be written as a dense NIR matrix of {n} "
                         f"entries (> max_dense={max_dense}); NIR has no sparse weight primitive")


def _delay(n: int, steps: int, dt: float):
    return _nir().Delay(delay=np.full(n, steps * dt, dtype=np.float64))


def _layer_params(layer):
    """(LIFParams, dt, spiking) of a neuron layer of a SpikingMLP (native or backend)."""
    from neurokit_bdh.layers.lif import LI

    if hasattr(layer, "lif"):  # RecurrentLIF
        layer = layer.lif
    return layer.params, layer.dt, not isinstance(layer, LI)


def mlp_to_nir(net, *, strict: bool = True, max_dense: int = MAX_DENSE, metadata: dict | None = None):
    """Export a ``layers.SpikingMLP`` (the time-major current (T, B, n_in) it takes is the graph's input)."""
    from neurokit_bdh.layers.mlp import RecurrentLIF

    nir = _nir()
    n_in = net.linears[0].in_features
    nodes = {"input": nir.Input(input_type=np.array([n_in]))}
    edges, prev, dt0 = [], "input", None
    for k, (lin, layer) in enumerate(zip(net.linears, net.neurons)):
        p, dt, spiking = _layer_params(layer)
        if dt0 is not None and dt != dt0:
            raise ValueError(f"layer {k}: dt={dt} differs from layer 0's dt={dt0}; one NIR graph has one dt")
        dt0 = dt
        n = lin.out_features
        node, gain, extra = _neuron(p, n, dt, spiking, strict, f"layer {k} ({type(layer).__name__})")
        _check_dense(lin.weight.shape, max_dense, f"layer {k} Affine", False)
        w = lin.effective_weight().detach().double().cpu().numpy() * gain
        if k == 0:
            w = w * net.input_gain
        b = (lin.bias.detach().double().cpu().numpy() if lin.bias is not None else np.zeros(n)) * gain
        name = f"lif{k}" if spiking else "li"
        nodes[f"affine{k}"] = nir.Affine(weight=w, bias=b)
        edges.append((prev, f"affine{k}"))
        src = f"affine{k}"
        if extra:
            nodes[f"delay{k}"] = _delay(n, extra, dt)
            edges.append((src, f"delay{k}"))
            src = f"delay{k}"
        nodes[name] = node
        edges.append((src, name))
        if isinstance(layer, RecurrentLIF):
            rec = layer.recurrent
            _check_dense(rec.weight.shape, max_dense, f"layer {k} recurrent", rec.mask is not None)
            nodes[f"rec{k}"] = nir.Linear(weight=rec.effective_weight().detach().double().cpu().numpy() * gain)
            nodes[f"rec_delay{k}"] = _delay(n, 1 + extra, dt)  # a spike at t arrives at t + 1 (plus the current's step)
            edges += [(name, f"rec{k}"), (f"rec{k}", f"rec_delay{k}"), (f"rec_delay{k}", name)]
        prev = name
    nodes["output"] = nir.Output(output_type=np.array([net.linears[-1].out_features]))
    edges.append((prev, "output"))
    meta = {"convention": CONVENTION, "dt": float(dt0), "source": "SpikingMLP", "output": net.output}
    meta.update(metadata or {})
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def network_to_nir(net, *, strict: bool = True, max_dense: int = MAX_DENSE, ignore_inputs: bool = False):
    """Export a realised ``graph.network.Network``: spike-source populations become ``Input`` nodes (their
    spikes are the graph's input), LIF populations neuron nodes with an ``Output`` each, projections
    ``Linear`` + ``Delay``. Refuses plasticity, heterogeneous delays, oversized dense weights and (unless
    ``ignore_inputs``) the spec's external drives."""
    nir = _nir()
    spec = net.spec
    dt = spec.dt
    if spec.inputs and not ignore_inputs:
        kinds = ", ".join(f"inputs[{k}] ({i.type} into {i.target!r})" for k, i in enumerate(spec.inputs))
        raise ValueError(f"{spec.source}: NIR has no primitive for the external drives {kinds}; pass "
                         f"ignore_inputs=True (--ignore-inputs) to export the network without them (feed them as input spikes)")
    nodes, edges, gains, extras = {}, [], {}, {}
    for name, pop in net.populations.items():
        if pop.model in ("poisson", "spike_source"):
            nodes[name] = nir.Input(input_type=np.array([pop.size]), metadata={"source": pop.model})
        elif pop.model == "lif":
            nodes[name], gains[name], extras[name] = _neuron(pop.params, pop.size, dt, True, strict,
                                                            f"{spec.source}: population {name!r}")
            nodes[f"{name}_out"] = nir.Output(output_type=np.array([pop.size]))
            edges.append((name, f"{name}_out"))
        else:
            raise NotImplementedError(f"{spec.source}: population {name!r}: neuron model {pop.model!r} has no NIR "
                                      f"node (NIR has LIF, CubaLIF, LI, IF); only 'lif' populations export")
    for name, proj in net.projections.items():
        where = f"{spec.source}: projection {name!r}"
        if proj.rule is not None:
            raise ValueError(f"{where}: its plasticity rule ({type(proj.rule).__name__}) would be lost; "
                             f"NIR has no learning-rule primitive")
        if proj.structural is not None:
            raise ValueError(f"{where}: structural plasticity would be lost; NIR has no primitive for it")
        csr = proj.csr
        d = np.unique(csr.delays)
        if d.size > 1:
            raise ValueError(f"{where}: per-synapse delays ({d.min()}..{d.max()} steps) would be lost; NIR's Delay "
                             f"delays a whole node's output, so a projection needs one delay")
        _check_dense((csr.n_post, csr.n_pre), max_dense, where, True)
        w = csr.to_dense().T * gains[proj.post]  # (post, pre), as NIR and torch
        steps = (int(d[0]) if d.size else 1) + extras[proj.post]
        nodes[f"{name}_w"] = nir.Linear(weight=w)
        nodes[f"{name}_delay"] = _delay(csr.n_post, steps, dt)
        edges += [(proj.pre, f"{name}_w"), (f"{name}_w", f"{name}_delay"), (f"{name}_delay", proj.post)]
    meta = {"convention": CONVENTION, "dt": float(dt), "source": "Network", "name": spec.name}
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta)


def to_nir(obj, *, strict: bool = True, max_dense: int = MAX_DENSE, ignore_inputs: bool = False):
    """Export a ``SpikingMLP``, an ``SNNClassifier`` or a realised ``Network`` to a ``nir.NIRGraph``."""
    from neurokit_bdh.graph.network import Network
    from neurokit_bdh.layers.mlp import SpikingMLP
    from neurokit_bdh.models.snn import SNNClassifier

    if isinstance(obj, Network):
        return network_to_nir(obj, strict=strict, max_dense=max_dense, ignore_inputs=ignore_inputs)
    if isinstance(obj, SNNClassifier):
        c = obj.cfg
        return mlp_to_nir(obj.net, strict=strict, max_dense=max_dense,
                          metadata={"source": "SNNClassifier", "encoding": c.encoding, "readout": c.readout,
                                    "n_steps": c.n_steps})
    if isinstance(obj, SpikingMLP):
        return mlp_to_nir(obj, strict=strict, max_dense=max_dense)
    raise TypeError(f"obj: expected a SpikingMLP, SNNClassifier or graph.network.Network, got {type(obj).__name__}")


def write_nir(path: str | Path, obj, **kwargs) -> Path:
    """Export ``obj`` (see :func:`to_nir`) and write it to ``path``; nothing is written if export fails."""
    nir = _nir()
    graph = obj if isinstance(obj, nir.NIRGraph) else to_nir(obj, **kwargs)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", suffix=".nir.tmp")
    os.close(fd)
    try:
        nir.write(tmp, graph)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


# ============================================================================================== import

def _meta(node) -> dict:
    return {k: (v.decode() if isinstance(v, bytes) else v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v)
            for k, v in (getattr(node, "metadata", None) or {}).items()}


def _flatten(graph, prefix: str = ""):
    """Inline sub-graphs (snntorch writes recurrent layers as one): returns (nodes, edges) without NIRGraph
    nodes. A sub-graph's Input and Output stay as pass-through nodes, which the outer edges connect to."""
    nir = _nir()
    nodes, edges, ports = {}, [], {}
    for name, node in graph.nodes.items():
        full = prefix + name
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = _flatten(node, full + ".")
            nodes.update(sub_nodes)
            edges += sub_edges
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise NotImplementedError(f"sub-graph {full!r}: expected one Input and one Output node, found "
                                          f"{len(ins)} and {len(outs)}")
            ports[name] = (f"{full}.{ins[0]}", f"{full}.{outs[0]}")
        else:
            nodes[full] = node
    for a, b in graph.edges:
        edges.append((ports[a][1] if a in ports else prefix + a, ports[b][0] if b in ports else prefix + b))
    return nodes, edges


def _scalar(node, field: str, where: str, default=None) -> float:
    v = getattr(node, field, None)
    if v is None:
        if default is None:
            raise ValueError(f"{where}.{field}: missing")
        return float(default)
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.size == 0:
        raise ValueError(f"{where}.{field}: empty")
    if not np.allclose(a, a[0], rtol=1e-12, atol=0):
        raise ValueError(f"{where}.{field}: per-neuron values differ ({a.min()}..{a.max()}); a neurokit_bdh "
                         f"population has one parameter set")
    return float(a[0])


def _size(name: str, nodes: dict, edges: list) -> int:
    """Number of neurons of a node: its input type, else (norse writes scalar parameters with an empty type)
    the rows of an Affine/Linear feeding it."""
    node = nodes[name]
    t = getattr(node, "input_type", None) or {}
    for v in t.values():
        v = np.asarray(v).ravel()
        if v.size and int(np.prod(v)) > 0:
            return int(np.prod(v))
    for a, b in edges:
        if b == name and hasattr(nodes[a], "weight"):
            return int(np.asarray(nodes[a].weight).shape[0])
    raise ValueError(f"node {name!r}: cannot tell the number of neurons (empty input type, no weights feeding it)")


class _Op(nn.Module):
    stateful = False

    def init_state(self, shape_b, device, dtype):
        return None


class _Affine(_Op):
    def __init__(self, weight, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.as_tensor(np.asarray(weight)))
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(np.asarray(bias)))

    def forward(self, x, state):
        w = self.weight.to(x.dtype)
        return F.linear(x, w.reshape(w.shape[0], -1), None if self.bias is None else self.bias.to(x.dtype)), None


class _Scale(_Op):
    def __init__(self, scale):
        super().__init__()
        self.register_buffer("scale", torch.as_tensor(np.asarray(scale)))

    def forward(self, x, state):
        return x * self.scale.to(x.dtype), None


class _Identity(_Op):
    def forward(self, x, state):
        return x.reshape(x.shape[0], -1), None


class _Neuron(_Op):
    """LIF / LI / CubaLIF / CubaLI under the forward-Euler reading of NIR with step ``dt``: an optional
    current stage ``I' = (1 - dt/tau_syn) I + (dt/tau_syn) w_in x`` feeding the membrane
    ``v' = (1 - dt/tau) v + (dt/tau) (v_leak + r I)`` in the same step, then spike/reset (spiking types)."""

    stateful = True

    def __init__(self, node, kind: str, name: str, n: int, dt: float, reset: str | None, surrogate):
        super().__init__()
        meta = _meta(node)
        meta = meta if meta.get("convention") == CONVENTION else {}  # only our own metadata carries these keys
        where = f"node {name!r} ({kind})"
        cuba = kind.startswith("Cuba")
        self.spiking = kind.endswith("F")
        tau = _scalar(node, "tau_mem" if cuba else "tau", where)
        v_leak = _scalar(node, "v_leak", where)
        if not (tau > dt or math.isclose(tau, dt)):
            raise ValueError(f"{where}: tau={tau} s must exceed dt={dt} s for the Euler reading")
        kw = dict(tau_mem=tau, tau_syn=0.0, v_leak=v_leak, method="euler", detach_reset=False)
        if self.spiking:
            kw.update(v_th=_scalar(node, "v_threshold", where), v_reset=_scalar(node, "v_reset", where, default=0.0),
                      reset=reset or (meta.get("reset") if meta.get("reset") in lif.RESET_MODES else "to_value"),
                      t_ref=float(meta.get("t_ref", 0.0)))
        try:
            self.params = LIFParams(**kw)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        self.coef = lif.discretise(self.params, dt)
        r = np.asarray(node.r, dtype=np.float64) * np.ones(n)
        self.register_buffer("gain", torch.as_tensor(r * dt / tau))  # (dt/tau)·r per neuron
        self.syn = None
        if cuba:
            tau_s = _scalar(node, "tau_syn", where)
            self.syn = lif.discretise(LIFParams(tau_mem=tau_s, tau_syn=0.0, method="euler"), dt)
            w_in = np.asarray(node.w_in, dtype=np.float64) * np.ones(n)
            self.register_buffer("syn_gain", torch.as_tensor(w_in * dt / tau_s))
        self.surrogate = surrogate

    def init_state(self, shape_b, device, dtype):
        s = lif.init_state(self.params, shape_b, device=device, dtype=dtype)
        return (s, torch.zeros(shape_b, device=device, dtype=dtype))  # (LIF state, synaptic current)

    def forward(self, x, state):
        s, cur = state
        if self.syn is not None:  # the current stage is itself a delta-input leaky integrator
            cur, _, _ = lif.integrate(x * self.syn_gain.to(x.dtype), cur, cur, cur, self.syn)
            x = cur
        x = x * self.gain.to(x.dtype)
        if self.spiking:
            z, s = lif.step(x, s, self.coef, surrogate=self.surrogate)
            return z, (s, cur)
        v, i, _ = lif.integrate(x, s.v, s.i, s.ref, self.coef._replace(n_ref=0))
        return v, (s._replace(v=v, i=i), cur)


class NIRNetwork(nn.Module):
    """A NIR graph simulated step by step with neurokit_bdh's neuron library.

    ``forward(x)``: ``x`` is the input (T, B, n) (or a dict ``{input name: tensor}``); returns the output
    (T, B, n_out) of the single ``Output`` node (or a dict for several). Per step the nodes run in
    dependency order; a ``Delay`` of ``d >= 1`` steps hands on what it received ``d`` steps earlier; an edge
    that closes a cycle without a ``Delay`` carries the previous step's value (snntorch/norse recurrence).
    Inputs arriving at a node from several edges are summed.
    """

    def __init__(self, graph, dt: float, reset: str | None = None, surrogate: str | None = None):
        super().__init__()
        nir = _nir()
        self.dt = float(dt)
        nodes, edges = _flatten(graph)
        for a, b in edges:
            for end in (a, b):
                if end not in nodes:
                    raise ValueError(f"edge ({a!r}, {b!r}): no node named {end!r}")
        self.names = list(nodes)
        self.inputs = [n for n, x in graph.nodes.items() if isinstance(x, nir.Input)]    # top level only
        self.outputs = [n for n, x in graph.nodes.items() if isinstance(x, nir.Output)]
        if not self.inputs or not self.outputs:
            raise ValueError("graph: expected at least one Input and one Output node")
        self.input_sizes = {}
        for n in self.inputs:
            t = np.asarray(next(iter((nodes[n].input_type or {}).values()), np.array([]))).ravel()
            if t.size and int(t[-1]) > 0:  # the last dimension: norse writes the sample's batch dimension too
                self.input_sizes[n] = int(t[-1])
        ops, self.delay_steps = {}, {}
        for name, node in nodes.items():
            kind = type(node).__name__
            if kind in ("Input", "Output", "Identity", "Flatten"):
                ops[name] = _Identity()
            elif kind == "Affine":
                ops[name] = _Affine(node.weight, node.bias)
            elif kind == "Linear":
                ops[name] = _Affine(node.weight, None)
            elif kind == "Scale":
                ops[name] = _Scale(node.scale)
            elif kind == "Delay":
                steps = np.rint(np.asarray(node.delay, dtype=np.float64) / self.dt)
                if steps.size == 0 or not (steps == steps.flat[0]).all() or steps.flat[0] < 0:
                    raise ValueError(f"node {name!r} (Delay): expected one non-negative delay for every neuron, got "
                                     f"{np.unique(np.asarray(node.delay))} s")
                if not np.allclose(steps * self.dt, node.delay, rtol=1e-6, atol=1e-12):
                    raise ValueError(f"node {name!r} (Delay): {np.asarray(node.delay).flat[0]} s is not a whole number "
                                     f"of steps of dt={self.dt} s")
                self.delay_steps[name] = int(steps.flat[0])
                ops[name] = _Identity()
            elif kind in ("LIF", "LI", "CubaLIF", "CubaLI"):
                ops[name] = _Neuron(node, kind, name, _size(name, nodes, edges), self.dt, reset, surrogate)
            else:
                raise NotImplementedError(f"node {name!r}: NIR node type {kind} is not supported by neurokit_bdh "
                                          f"(supported: Input, Output, Affine, Linear, Scale, Flatten, Delay, LIF, LI, "
                                          f"CubaLIF, CubaLI)")
        self.ops = nn.ModuleDict({self._key(n): op for n, op in ops.items()})
        self.preds = {n: [a for a, b in edges if b == n] for n in self.names}
        self.order, self.back = self._schedule(edges)

    @staticmethod
    def _key(name: str) -> str:
        return "n_" + name.replace(".", "__")

    def _schedule(self, edges):
        """Dependency order within a step; edges into a Delay (d >= 1) are read at the end of the step; edges
        closing a remaining cycle are read from the previous step."""
        deps = {n: [a for a in self.preds[n]] for n in self.names}
        for n, d in self.delay_steps.items():
            if d >= 1:
                deps[n] = []
        order, state, back = [], {}, set()

        def visit(n):
            state[n] = 1
            for a in deps[n]:
                if state.get(a) == 1:
                    back.add((a, n))
                elif a not in state:
                    visit(a)
            state[n] = 2
            order.append(n)

        for n in self.outputs + self.names:  # from the outputs back, then anything unreachable
            if n not in state:
                visit(n)
        return order, back

    def forward(self, x, progress: bool = False):
        """``progress``: show a tqdm bar over the time steps (long simulations)."""
        xs = x if isinstance(x, dict) else {self.inputs[0]: x} if len(self.inputs) == 1 else None
        if xs is None:
            raise ValueError(f"x: the graph has inputs {self.inputs}; pass a dict of tensors (T, B, n)")
        for k, v in xs.items():
            if k not in self.inputs:
                raise ValueError(f"x: no Input node named {k!r}; inputs are {self.inputs}")
            n_in = self.input_sizes.get(k)
            if v.dim() != 3 or (n_in is not None and v.shape[2] != n_in):
                raise ValueError(f"x[{k!r}]: expected a time-major tensor (T, B, {n_in or 'n'}), got shape {tuple(v.shape)}")
        first = next(iter(xs.values()))
        T, B = first.shape[:2]
        dev, dtype = first.device, first.dtype
        states = {n: self.ops[self._key(n)].init_state((B, self._width(n, xs)), dev, dtype)
                  if self.ops[self._key(n)].stateful else None for n in self.names}
        hist = {n: [] for n in self.delay_steps}      # what each Delay received, step by step
        prev: dict[str, torch.Tensor] = {}
        outs = {n: [] for n in self.outputs}
        from tqdm.auto import tqdm

        for t in tqdm(range(T), disable=not progress, unit="step", desc="NIR graph", dynamic_ncols=True):
            cur: dict[str, torch.Tensor] = {}
            for n in self.order:
                if n in self.inputs:
                    if n not in xs:
                        raise ValueError(f"x: missing input {n!r}")
                    cur[n] = xs[n][t]
                    continue
                if self.delay_steps.get(n, 0) >= 1:
                    d = self.delay_steps[n]
                    cur[n] = hist[n][t - d] if t >= d else None
                    continue
                u = self._gather(n, cur, prev)
                op = self.ops[self._key(n)]
                if u is None and isinstance(op, _Affine) and op.bias is not None:  # nothing arrived: the bias alone
                    u = torch.zeros((B, op.weight.shape[1]), device=dev, dtype=dtype)
                cur[n], states[n] = op(u, states[n]) if u is not None else (None, states[n])
                if cur[n] is None and self.ops[self._key(n)].stateful:
                    zero = torch.zeros((B, self._width(n, xs)), device=dev, dtype=dtype)
                    cur[n], states[n] = self.ops[self._key(n)](zero, states[n])
            for n, d in self.delay_steps.items():
                if d >= 1:
                    hist[n].append(self._gather(n, cur, prev))
            for n in self.outputs:
                outs[n].append(cur[n])
            prev = cur
        res = {}
        for n, seq in outs.items():
            if any(s is None for s in seq):
                ref = next((s for s in seq if s is not None), None)
                if ref is None:
                    raise ValueError(f"output {n!r}: never receives a value")
                seq = [torch.zeros_like(ref) if s is None else s for s in seq]
            res[n] = torch.stack(seq)  # (T, B, n_out)
        return res[self.outputs[0]] if len(res) == 1 else res

    def _gather(self, n, cur, prev):
        total = None
        for a in self.preds[n]:
            if (a, n) in self.back:
                v = prev.get(a)
                op = self.ops[self._key(a)]
                if v is None and not prev and isinstance(op, _Affine) and op.bias is not None:
                    ref = next(x for x in cur.values() if x is not None)  # step 0: the value at rest is the bias
                    v = op.bias.to(ref.dtype).expand(ref.shape[0], -1)
            else:
                v = cur.get(a)
            if v is not None:
                total = v if total is None else total + v
        return total

    def _width(self, n, xs):
        op = self.ops[self._key(n)]
        if isinstance(op, _Neuron):
            return op.gain.shape[0]
        return 0


def from_nir(graph, dt: float | None = None, reset: str | None = None, surrogate: str | None = None) -> NIRNetwork:
    """Build a :class:`NIRNetwork` from a ``nir.NIRGraph``.

    ``dt`` (seconds): the step of the Euler reading; taken from the graph's metadata when we wrote it (a
    different ``dt`` raises, since our parameters have it baked in); required for foreign graphs (snntorch's
    exporter assumes 1e-4 s). ``reset``: override the reset of every spiking node ("to_value" | "subtract");
    by default node metadata, else NIR's reset to ``v_reset``.
    """
    nir = _nir()
    if not isinstance(graph, nir.NIRGraph):
        raise TypeError(f"graph: expected a nir.NIRGraph, got {type(graph).__name__}")
    if reset is not None and reset not in lif.RESET_MODES:
        raise ValueError(f"reset: expected one of {lif.RESET_MODES} or None, got {reset!r}")
    meta = _meta(graph)
    baked = meta.get("dt") if meta.get("convention") == CONVENTION else None
    if baked is not None and dt is not None and not math.isclose(float(dt), float(baked), rel_tol=1e-9):
        raise ValueError(f"dt: this graph has dt={baked} s baked into its parameters (metadata), got dt={dt}")
    dt = dt if dt is not None else baked
    if dt is None:
        raise ValueError("dt: the NIR graph carries no dt in its metadata; pass dt= (seconds) — NIR does not "
                         "store the time step (snntorch's exporter assumes 1e-4 s)")
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt: expected a time step > 0 s, got {dt!r}")
    return NIRNetwork(graph, float(dt), reset=reset, surrogate=surrogate)


def read_nir(path: str | Path, dt: float | None = None, reset: str | None = None,
             surrogate: str | None = None) -> NIRNetwork:
    """Read a NIR file and build a :class:`NIRNetwork` (see :func:`from_nir`)."""
    nir = _nir()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such NIR file")
    try:
        graph = nir.read(path)
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path}: not a readable NIR file: {e}") from None
    return from_nir(graph, dt=dt, reset=reset, surrogate=surrogate)


__all__ = ["CONVENTION", "MAX_DENSE", "to_nir", "mlp_to_nir", "network_to_nir", "write_nir",
           "from_nir", "read_nir", "NIRNetwork"]
