"""The native engine: event-driven simulation of a realised network with torch, one code path for CPU and CUDA.

Per step ``t``, in this order (the timing convention every engine and exporter follows):

1. each neuron population takes its input ``x`` (the ring-buffer slot of step ``t``: synaptic spikes
   and Poisson drive) and its external current, and advances one step (``neurons/``);
   spike sources emit their spikes of step ``t``;
2. every projection pushes the spikes of its presynaptic population along the CSR rows of the neurons
   that spiked: a spike at step ``t`` through a synapse with delay ``d >= 1`` steps lands in slot ``t + d``;
3. plasticity rules see the step's pre- and postsynaptic spikes (``plasticity/``);
4. recording, then structural plasticity every ``interval``.

Several independent trials run batched (leading dimension B): each trial has its own state, weights
and random input stream. Randomness comes from one ``torch.Generator`` seeded from the spec, so a run
on the CPU is bit-identical for the same seed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from ..graph.network import Network, plastic_mask, subseed
from ..neurons import NEURON_MODELS
from ..plasticity import Spikes, SynapseIndex


@dataclass
class RunResult:
    """What a run returns besides the HDF5 file: counts, rates, final weights (and spikes if kept)."""

    n_steps: int
    dt: float
    n_trials: int
    wall_s: float
    spike_counts: dict[str, np.ndarray]          # pop -> (B, n) spikes per neuron
    spikes: dict[str, tuple] = field(default_factory=dict)  # pop -> (trial, neuron, step) when kept
    weights: dict[str, tuple] = field(default_factory=dict)  # proj -> (indptr, indices, w (B, S)) at the end
    initial_weights: dict[str, tuple] = field(default_factory=dict)
    births: dict[str, int] = field(default_factory=dict)
    deaths: dict[str, int] = field(default_factory=dict)

    def rate(self, pop: str, mask: np.ndarray | None = None) -> float:
        """Mean firing rate in Hz of a population (or of the neurons in ``mask``)."""
        c = self.spike_counts[pop]
        c = c[:, mask] if mask is not None else c
        return float(c.mean() / (self.n_steps * self.dt)) if c.size else 0.0


class _Pop:
    """Runtime state of one population."""

    def __init__(self, rp, spec, B, device, dtype, gen):
        self.name, self.size, self.kind = rp.name, rp.size, rp.model
        self.is_exc = torch.as_tensor(rp.is_exc, device=device)
        self.ring = None  # (R, B, n) created when a projection targets this population
        self.poisson, self.current = [], []
        if rp.model in NEURON_MODELS:
            self.model = NEURON_MODELS[rp.model]
            self.coef = self.model.discretise(rp.params, spec.dt)
            self.state = self.model.init_state(rp.params, (B, rp.size), device, dtype)
        elif rp.model == "poisson":
            self.p = float(rp.params["rate"]) * spec.dt
        else:  # spike_source: sorted (step, neuron) schedule, the same in every trial
            steps = np.rint(np.asarray(rp.params["times"], float) / spec.dt).astype(np.int64)
            order = np.argsort(steps, kind="stable")
            self.src_steps = steps[order]
            self.src_neurons = torch.as_tensor(np.asarray(rp.params["neurons"], np.int64)[order], device=device)
            self.src_ptr = 0
        self.B, self.device, self.dtype, self.gen = B, device, dtype, gen

    def emit_source(self, t):
        if self.kind == "poisson":
            return (torch.rand((self.B, self.size), generator=self.gen, device=self.device) < self.p).to(self.dtype)
        z = torch.zeros((self.B, self.size), device=self.device, dtype=self.dtype)
        lo = self.src_ptr
        hi = lo
        while hi < len(self.src_steps) and self.src_steps[hi] <= t:
            hi += 1
        if hi > lo:
            z[:, self.src_neurons[lo:hi]] = 1.0
            self.src_ptr = hi
        return z


class _Proj:
    """Runtime state of one projection: the synapse index, weights (B, S), delays, plasticity state."""

    def __init__(self, rp, pre: _Pop, post: _Pop, spec, B, device, dtype, gen):
        self.name, self.pre, self.post, self.rp = rp.name, pre, post, rp
        self.B, self.device, self.dtype, self.gen, self.dt = B, device, dtype, gen, spec.dt
        self.rule, self.structural = rp.rule, rp.structural
        self.births = self.deaths = 0
        csr = rp.csr
        self._load(csr.indptr, csr.indices, np.broadcast_to(csr.weights, (B, csr.n_syn)), csr.delays, rp.plastic)
        if self.rule is not None:
            self.rule_coef = self.rule.discretise(spec.dt)
            self.rule_state = self.rule.init_state(self.idx, B, device, dtype)
        if self.structural is not None:
            self.weak_time = torch.zeros(self.idx.n_syn, dtype=torch.float64, device=device)
            self.interval = self.structural.interval_steps(spec.dt)
            self.allowed_pre = pre.is_exc if rp.plastic_on != "all" else torch.ones_like(pre.is_exc)

    def _load(self, indptr, indices, w, delays, mask):
        dev = self.device
        self.idx = SynapseIndex.from_csr(self.pre.size, self.post.size, indptr, indices, device=dev)
        self.w = torch.as_tensor(np.ascontiguousarray(w), dtype=self.dtype, device=dev).clone()  # (B, S)
        self.delays = torch.as_tensor(np.asarray(delays, np.int64), device=dev)
        d = np.asarray(delays)
        self.const_delay = int(d[0]) if d.size and (d == d[0]).all() else None
        self.max_delay = int(d.max()) if d.size else 1
        self.mask = None if mask is None else torch.as_tensor(mask, device=dev)

    def propagate(self, spikes: Spikes, t: int):
        """Add the weights of every synapse of a spiking neuron into the target's ring buffer."""
        if spikes.empty or self.idx.n_syn == 0:
            return
        owner, syn = self.idx.out_synapses(spikes.n)
        if syn.numel() == 0:
            return
        b = spikes.b[owner]
        ring = self.post.ring
        R, B, n = ring.shape
        if self.const_delay is not None:
            base = ((t + self.const_delay) % R) * B * n
            flat = base + b * n + self.idx.post[syn]
        else:
            flat = ((t + self.delays[syn]) % R) * (B * n) + b * n + self.idx.post[syn]
        ring.view(-1).index_add_(0, flat, self.w[b, syn])

    def learn(self, pre: Spikes, post: Spikes, modulator):
        self.rule_state = self.rule.step(self.w, self.rule_state, self.idx, pre, post, self.rule_coef,
                                         self.mask, modulator)

    def restructure(self):
        """Prune synapses weak for t_prune, grow new ones by preferential attachment; rebuild the CSR."""
        s, idx = self.structural, self.idx
        self.weak_time, keep = s.age_weak(self.weak_time, self.w)
        pre, post = idx.pre[keep], idx.post[keep]
        new_pre, new_post = s.grow(pre, post, idx.n_pre, idx.n_post, self.allowed_pre, self.gen,
                                   recurrent=self.pre is self.post)
        n_new = new_pre.numel()
        self.deaths += int((~keep).sum())
        self.births += n_new
        sign = torch.where(self.pre.is_exc[new_pre], 1.0, -1.0).to(self.dtype)
        w_new = (s.w_new * sign).expand(self.B, n_new)
        d_new = torch.full((n_new,), self.max_delay if self.const_delay is None else self.const_delay,
                           dtype=torch.int64, device=self.device)
        if self.const_delay is None:  # new synapses get the projection's median delay
            d_new.fill_(int(self.delays.float().median()))
        all_pre = torch.cat([pre, new_pre])
        all_post = torch.cat([post, new_post])
        order = torch.argsort(all_pre * idx.n_post + all_post)
        all_pre, all_post = all_pre[order], all_post[order]
        w = torch.cat([self.w[:, keep], w_new], 1)[:, order]
        delays = torch.cat([self.delays[keep], d_new])[order]
        weak = torch.cat([self.weak_time[keep], torch.zeros(n_new, dtype=torch.float64, device=self.device)])[order]
        indptr = torch.zeros(idx.n_pre + 1, dtype=torch.int64, device=self.device)
        indptr[1:] = torch.cumsum(torch.bincount(all_pre, minlength=idx.n_pre), 0)
        mask = None
        if self.rp.plastic is not None:
            mask = plastic_mask(self.rp.plastic_on, all_pre.cpu().numpy(), all_post.cpu().numpy(),
                                self.pre.is_exc.cpu().numpy(), self.post.is_exc.cpu().numpy())
        self._load(indptr.cpu().numpy(), all_post.cpu().numpy(), w.cpu().numpy(), delays.cpu().numpy(), mask)
        self.weak_time = weak
        return n_new, int((~keep).sum())

    def snapshot(self):
        idx = self.idx
        return idx.indptr.cpu().numpy(), idx.post.cpu().numpy().astype(np.int32), self.w.cpu().numpy()


class NativeEngine:
    """Simulate a realised :class:`~neurokit_bdh.graph.network.Network` on ``device``."""

    def __init__(self, net: Network, device: str | torch.device = "cpu", dtype=torch.float32):
        spec = net.spec
        self.net, self.spec, self.dt = net, spec, spec.dt
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("device: 'cuda' requested but torch.cuda.is_available() is False")
        B = self.B = spec.n_trials
        self.gen = torch.Generator(device=self.device)
        self.gen.manual_seed(subseed(spec.seed, "engine") % (2**63))
        self.pops = {n: _Pop(rp, spec, B, self.device, dtype, self.gen) for n, rp in net.populations.items()}
        self.projs = [_Proj(rp, self.pops[rp.pre], self.pops[rp.post], spec, B, self.device, dtype, self.gen)
                      for rp in net.projections.values()]
        for pop in self.pops.values():
            incoming = [p.max_delay for p in self.projs if p.post is pop]
            if incoming:
                pop.ring = torch.zeros((max(incoming) + 1, B, pop.size), device=self.device, dtype=dtype)
        self.modulator = None
        for inp in spec.inputs:
            self._add_input(inp, dtype)

    def _add_input(self, inp, dtype):
        dt, dev = self.dt, self.device
        if inp.type == "modulator":
            self.modulator = (np.rint(np.asarray(inp.params["times"]) / dt).astype(np.int64),
                              np.asarray(inp.params["values"], float))
            return
        pop = self.pops[inp.target]
        idx = None if inp.neurons is None else torch.as_tensor(inp.neurons, device=dev)
        if inp.type == "poisson":
            n = int(inp.params.get("n_sources", 1))
            pop.poisson.append((idx, n, float(inp.params["rate"]) * dt, float(inp.params["weight"])))
        else:
            amp = torch.zeros(pop.size, device=dev, dtype=dtype)
            amp[slice(None) if idx is None else idx] = float(inp.params["amplitude"])
            start = int(round(inp.params.get("start", 0.0) / dt))
            stop = int(round(inp.params.get("stop", self.spec.duration) / dt))
            pop.current.append((amp, start, stop))

    def _drive(self, pop: _Pop, x: torch.Tensor):
        """Add Poisson drive (Binomial(n_sources, rate·dt) input spikes per step) to the input ``x``."""
        for idx, n, p, w in pop.poisson:
            shape = (self.B, pop.size if idx is None else len(idx))
            if n == 1:
                k = (torch.rand(shape, generator=self.gen, device=self.device) < p).to(x.dtype)
            else:
                k = torch.binomial(torch.full(shape, float(n), device=self.device),
                                   torch.full(shape, p, device=self.device), generator=self.gen).to(x.dtype)
            if idx is None:
                x = x + w * k
            else:
                x = x.index_add(1, idx, w * k)
        return x

    def _current(self, pop: _Pop, t: int):
        i_ext = None
        for amp, start, stop in pop.current:
            if start <= t < stop:
                i_ext = amp if i_ext is None else i_ext + amp
        return i_ext

    def _modulator(self, t: int):
        if self.modulator is None:
            return None
        steps, values = self.modulator
        k = np.searchsorted(steps, t, side="right") - 1
        v = values[k] if k >= 0 else 0.0
        return torch.full((self.B,), float(v), device=self.device)

    def run(self, n_steps: int | None = None, writer=None, keep_spikes: bool = False, progress: bool = False,
            flush_steps: int = 2000) -> RunResult:
        """Simulate ``n_steps`` (default: the spec's duration); stream spikes, state, weights to ``writer``."""
        spec, B = self.spec, self.B
        n_steps = spec.n_steps if n_steps is None else int(n_steps)
        rec = spec.record
        rec_spikes = set(self.pops) if rec.spikes is None else set(rec.spikes)
        rec_state = [(r, self._state_neurons(r)) for r in rec.state]
        rec_w = {r.projection: r.every for r in rec.weights}
        counts = {n: torch.zeros((B, p.size), device=self.device) for n, p in self.pops.items()}
        pending = {n: [] for n in rec_spikes}
        kept = {n: [] for n in rec_spikes} if keep_spikes else {}
        initial = {p.name: p.snapshot() for p in self.projs}
        self._write_weights(writer, 0, rec_w, force=True)
        bar = _progress(n_steps, self.dt, progress)
        t0 = time.perf_counter()
        total_spikes = 0
        pops = list(self.pops.values())
        for t in range(n_steps):
            spikes = {}
            for pop in pops:
                if pop.kind in NEURON_MODELS:
                    if pop.ring is not None:
                        slot = pop.ring[t % pop.ring.shape[0]]
                        x = slot.clone()
                        slot.zero_()
                    else:
                        x = torch.zeros((B, pop.size), device=self.device, dtype=pop.state[0].dtype)
                    if pop.poisson:
                        x = self._drive(pop, x)
                    z, pop.state = pop.model.step(x, pop.state, pop.coef, i_ext=self._current(pop, t))
                else:
                    z = pop.emit_source(t)
                spikes[pop.name] = Spikes.from_dense(z)
            for proj in self.projs:
                proj.propagate(spikes[proj.pre.name], t)
            mod = None
            for proj in self.projs:
                if proj.rule is not None:
                    if mod is None:
                        mod = self._modulator(t)
                    proj.learn(spikes[proj.pre.name], spikes[proj.post.name], mod)
            for name, s in spikes.items():
                if not s.empty:
                    counts[name] += s.dense
                    total_spikes += s.n.numel()
                    if name in pending:
                        pending[name].append((s.b, s.n, t))
            step = t + 1
            for r, neurons in rec_state:
                if step % r.every == 0 and writer is not None:
                    st = self.pops[r.population].state
                    for var in r.vars:
                        writer.add_state(r.population, var, step, getattr(st, var)[:, neurons].cpu().numpy(),
                                         neurons.cpu().numpy())
            for proj in self.projs:
                if proj.structural is not None and step % proj.interval == 0:
                    born, died = proj.restructure()
                    if writer is not None:
                        writer.add_structural(proj.name, step, born, died)
            self._write_weights(writer, step, rec_w)
            if step % flush_steps == 0 or step == n_steps:
                self._flush_spikes(pending, kept, writer, step)
                bar.update(step - bar.n)
                bar.set_postfix_str(f"t={step * self.dt:.3f}s, {total_spikes / max(time.perf_counter() - t0, 1e-9):,.0f} spikes/s")
        self._write_weights(writer, n_steps, rec_w, force=True)
        bar.close()
        wall = time.perf_counter() - t0
        result = RunResult(n_steps, self.dt, B, wall, {n: c.cpu().numpy() for n, c in counts.items()},
                           initial_weights=initial)
        for name, chunks in kept.items():
            result.spikes[name] = _concat(chunks)
        for proj in self.projs:
            result.weights[proj.name] = proj.snapshot()
            result.births[proj.name], result.deaths[proj.name] = proj.births, proj.deaths
        return result

    def _state_neurons(self, r):
        size = self.pops[r.population].size
        if isinstance(r.neurons, int):
            n = min(r.neurons, size)
            idx = np.unique(np.linspace(0, size - 1, n).round().astype(np.int64))
        else:
            idx = np.asarray(r.neurons, np.int64)
        return torch.as_tensor(idx, device=self.device)

    def _write_weights(self, writer, step, rec_w, force=False):
        if writer is None:
            return
        for proj in self.projs:
            every = rec_w.get(proj.name)
            if every is not None and (force or step % every == 0):
                if force and step and step % every == 0:
                    continue  # already written this step
                writer.add_weights(proj.name, step, *proj.snapshot())

    def _flush_spikes(self, pending, kept, writer, step):
        for name, chunks in pending.items():
            if not chunks:
                continue
            b = torch.cat([c[0] for c in chunks]).cpu().numpy()
            n = torch.cat([c[1] for c in chunks]).cpu().numpy()
            s = np.concatenate([np.full(len(c[1]), c[2], np.int64) for c in chunks])
            if writer is not None:
                writer.add_spikes(name, b, n, s)
            if name in kept:
                kept[name].append((b, n, s))
            chunks.clear()
        if writer is not None:
            writer.flush(steps_done=step) if _accepts_steps(writer) else writer.flush()


def _accepts_steps(writer) -> bool:
    import inspect
    try:
        return "steps_done" in inspect.signature(writer.flush).parameters
    except (TypeError, ValueError):
        return False


def _concat(chunks):
    if not chunks:
        e = np.zeros(0, np.int64)
        return e, e, e
    return tuple(np.concatenate([c[k] for c in chunks]) for k in range(3))


def _progress(n_steps, dt, enabled):
    from tqdm.auto import tqdm
    return tqdm(total=n_steps, unit="step", disable=not enabled, desc="simulating", dynamic_ncols=True)
