"""The native engine: event-driven simulation of a realised network with torch, one code path for CPU and CUDA.

Per step ``t``, in this order (the timing convention every engine and exporter follows):

1. each neuron population takes its input ``x`` (what arrives in step ``t``: synaptic spikes and Poisson
   drive) and its external current, and advances one step (``neurons/``); spike sources emit;
2. a spike at step ``t`` through a synapse with delay ``d >= 1`` steps arrives as input of step ``t + d``,
   carrying the synapse's weight from before step ``t``'s plasticity update;
3. plasticity rules see the step's pre- and postsynaptic spikes (``plasticity/``);
4. recording, then structural plasticity every ``interval``.

For speed the engine advances K steps at a time, K no larger than the shortest delay (no spike can arrive
within the chunk it was emitted in), then propagates and learns from the whole chunk's spikes at once:
the neurons' inputs for the chunk are already in the ring buffer, and the rules evaluate every trace at
each event's own step, so the result equals a step-by-step simulation. Rules that change every synapse
every step (Hebbian, reward-modulated) run chunks of one step.

Several independent trials run batched (leading dimension B): each has its own state, weights and random
input stream. Randomness comes from ``torch.Generator`` objects seeded from the spec (one per Poisson
drive, one for spike-source populations): a CPU run is bit-identical for the same seed.
"""
from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch

from ..graph.network import Network, plastic_mask, subseed
from ..neurons import NEURON_MODELS, run_steps
from ..plasticity import ChunkSpikes, SynapseIndex

MAX_CHUNK = 64     # steps advanced between propagation/learning passes (capped by the shortest delay)
DRIVE_BLOCK = 256  # steps of Poisson drive sampled at once


@dataclass
class RunResult:
    """What a run returns besides the HDF5 file: counts, rates, final weights (and spikes if kept)."""

    n_steps: int
    dt: float
    n_trials: int
    wall_s: float
    spike_counts: dict[str, np.ndarray]                       # pop -> (B, n) spikes per neuron
    spikes: dict[str, tuple] = field(default_factory=dict)    # pop -> (trial, neuron, step) when kept
    weights: dict[str, tuple] = field(default_factory=dict)   # proj -> (indptr, indices, w (B, S)) at the end
    initial_weights: dict[str, tuple] = field(default_factory=dict)
    births: dict[str, int] = field(default_factory=dict)
    deaths: dict[str, int] = field(default_factory=dict)

    def rate(self, pop: str, mask: np.ndarray | None = None) -> float:
        """Mean firing rate in Hz of a population (or of the neurons in ``mask``)."""
        c = self.spike_counts[pop]
        c = c[:, mask] if mask is not None else c
        return float(c.mean() / (self.n_steps * self.dt)) if c.size else 0.0


class _Pop:
    """Runtime state of one population: neuron state or spike source, input ring buffer, drives."""

    def __init__(self, rp, spec, B, device, dtype, gen):
        self.name, self.size, self.kind = rp.name, rp.size, rp.model
        self.is_exc = torch.as_tensor(rp.is_exc, device=device)
        self.ring = None  # (R, B, n) arrivals by step modulo R; created when a projection targets this population
        self.poisson, self.current = [], []
        self.B, self.device, self.dtype, self.gen = B, device, dtype, gen
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

    def emit_source(self, t0: int, K: int) -> torch.Tensor:
        """Spikes of a source for steps t0..t0+K-1, (K, B, n)."""
        if self.kind == "poisson":
            return (torch.rand((K, self.B, self.size), generator=self.gen, device=self.device) < self.p).to(self.dtype)
        z = torch.zeros((K, self.B, self.size), device=self.device, dtype=self.dtype)
        lo, hi = np.searchsorted(self.src_steps, [t0, t0 + K])
        if hi > lo:
            k = torch.as_tensor(self.src_steps[lo:hi] - t0, device=self.device)
            z[k, :, self.src_neurons[lo:hi]] = 1.0
        return z

    def add_drive(self, x: torch.Tensor) -> None:
        """Add the next K steps of every Poisson drive to the chunk input x (K, B, n), in place."""
        flat_x = x.view(-1)
        for d in self.poisson:
            for ev in d.take(x.shape[0]):
                flat_x.index_add_(0, ev, torch.full(ev.shape, d.w, device=self.device, dtype=x.dtype))

    def i_ext(self, t: int):
        out = None
        for amp, start, stop in self.current:
            if start <= t < stop:
                out = amp if out is None else out + amp
        return out


class PoissonDrive:
    """Independent Poisson input to (a subset of) a population: per step, trial and neuron a
    Binomial(n_sources, p) count of input spikes, each adding ``w`` to the neuron's input.

    Sampled DRIVE_BLOCK steps at a time as sorted event positions (``bernoulli_events``) from the drive's
    own generator, so a CPU run is bit-identical per seed whichever thread draws. On the CPU the next block
    is drawn by a worker thread (``pool``) while the simulation uses the current one: sampling is most of
    the drive's cost, and torch releases the GIL while it works.
    """

    def __init__(self, n_sources, p, w, size, B, n_pop, idx, seed, device, pool=None):
        self.n, self.p, self.w, self.idx = n_sources, p, w, idx
        self.size, self.n_pop, self.per = size, n_pop, B * size
        self.device, self.pool = device, pool
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(seed % (2**63))
        self.next = None
        self.events, self.bounds, self.j = None, None, DRIVE_BLOCK

    def _sample(self):
        ev = bernoulli_events(DRIVE_BLOCK * self.per * self.n, self.p, self.gen, self.device)
        if self.n > 1:  # n_sources Bernoulli trials per (step, trial, neuron): successes -> counts
            ev = ev // self.n
        bounds = torch.searchsorted(ev, torch.arange(DRIVE_BLOCK + 1, device=self.device) * self.per)
        return ev, bounds.tolist()

    def _next_block(self):
        block = self.next.result() if self.next is not None else self._sample()
        self.next = self.pool.submit(self._sample) if self.pool is not None else None
        return block

    def take(self, K: int):
        """Flat event positions into a (K, B, n_pop) input for the next K steps (one tensor per block touched)."""
        k = 0
        while k < K:
            if self.j == DRIVE_BLOCK:
                (self.events, self.bounds), self.j = self._next_block(), 0
            take = min(DRIVE_BLOCK - self.j, K - k)
            ev = self.events[self.bounds[self.j]:self.bounds[self.j + take]] + (k - self.j) * self.per
            if self.idx is not None:  # drive on a subset: map (step, trial, i) to the population's neuron idx[i]
                ev = (ev // self.size) * self.n_pop + self.idx[ev % self.size]
            yield ev
            self.j += take
            k += take


class _Proj:
    """Runtime state of one projection: the synapse index, weights (B, S), delays, plasticity state."""

    def __init__(self, rp, pre: _Pop, post: _Pop, spec, B, device, dtype, gen):
        self.name, self.pre, self.post, self.rp = rp.name, pre, post, rp
        self.B, self.device, self.dtype, self.gen = B, device, dtype, gen
        self.rule, self.structural = rp.rule, rp.structural
        self.births = self.deaths = 0
        csr = rp.csr
        self._load(csr.indptr, csr.indices, np.broadcast_to(csr.weights, (B, csr.n_syn)), csr.delays, rp.plastic)
        self.min_delay = int(csr.delays.min()) if csr.n_syn else 1 << 30
        self.max_delay = int(csr.delays.max()) if csr.n_syn else 1
        if self.rule is not None:
            self.rule_coef = self.rule.discretise(spec.dt)
            self.rule_state = self.rule.init_state(self.idx, B, device, dtype)
        if self.structural is not None:
            self.weak_time = torch.zeros(self.idx.n_syn, dtype=torch.float64, device=device)
            self.interval = self.structural.interval_steps(spec.dt)
            self.allowed_pre = pre.is_exc if rp.plastic_on != "all" else torch.ones_like(pre.is_exc)
            self.new_delay = int(np.median(csr.delays)) if csr.n_syn else 1
            self.struct_gen = torch.Generator()  # growth is drawn on the CPU, whatever the device
            self.struct_gen.manual_seed(subseed(spec.seed, "structural", rp.name) % (2**63))

    def _load(self, indptr, indices, w, delays, mask):
        dev = self.device
        self.idx = SynapseIndex.from_csr(self.pre.size, self.post.size, indptr, indices, device=dev, plastic=mask)
        self.w = torch.tensor(np.ascontiguousarray(w), dtype=self.dtype, device=dev).contiguous()  # (B, S), a copy
        d = np.asarray(delays, np.int64)
        self.delays = torch.as_tensor(d, device=dev)
        self._arrival = None
        self.mask = None if mask is None else torch.as_tensor(mask, device=dev)

    def step_chunk(self, pre: ChunkSpikes, post: ChunkSpikes, t0: int, modulator):
        """Learn from a chunk's spikes and push the transmitted weights into the target's ring buffer."""
        idx = self.idx
        owner, syn = idx.out_synapses(pre.n)
        k, b = pre.k.index_select(0, owner), pre.b.index_select(0, owner)
        if self.rule is not None:
            self.rule_state, w_tx = self.rule.chunk(self.w, self.rule_state, idx, pre, post, self.rule_coef,
                                                    (k, b, syn), self.mask, modulator)
        else:
            w_tx = self.w.view(-1).index_select(0, b * idx.n_syn + syn)
        if syn.numel() == 0:
            return
        ring = self.post.ring
        R, B, n = ring.shape
        if self._arrival is None:  # (delay, target) of each synapse as one offset into the ring's (R, B, n) slots
            self._arrival = self.delays * (B * n) + idx.post
        # slot of step t0 + k + delay, trial b, target: (t0 + k + delay) mod R, flattened
        flat = self._arrival.index_select(0, syn).add_(k, alpha=B * n).add_(b, alpha=n).add_(t0 * B * n).remainder_(R * B * n)
        ring.view(-1).index_add_(0, flat, w_tx)

    def restructure(self):
        """Prune synapses weak for t_prune, grow new ones by preferential attachment; rebuild the CSR."""
        s, idx = self.structural, self.idx
        self.weak_time, keep = s.age_weak(self.weak_time, self.w)
        if self.mask is not None:  # only synapses the plasticity rule shapes are pruned (growth adds those alone)
            keep = keep | ~self.mask
        pre, post = idx.pre[keep], idx.post[keep]
        new_pre, new_post = s.grow(pre, post, idx.n_pre, idx.n_post, self.allowed_pre, self.struct_gen,
                                   recurrent=self.pre is self.post)
        n_new, n_dead = new_pre.numel(), int((~keep).sum())
        self.births += n_new
        self.deaths += n_dead
        sign = torch.where(self.pre.is_exc[new_pre], 1.0, -1.0).to(self.dtype)
        all_pre, all_post = torch.cat([pre, new_pre]), torch.cat([post, new_post])
        order = torch.argsort(all_pre * idx.n_post + all_post)
        all_pre, all_post = all_pre[order], all_post[order]
        w = torch.cat([self.w[:, keep], (s.w_new * sign).expand(self.B, n_new)], 1)[:, order]
        d_new = torch.full((n_new,), self.new_delay, dtype=torch.int64, device=self.device)
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
        return n_new, n_dead

    def snapshot(self):
        """(indptr, indices, weights (B, S)) as numpy copies."""
        idx = self.idx
        return (idx.indptr.cpu().numpy().copy(), idx.post.cpu().numpy().astype(np.int32),
                self.w.cpu().numpy().copy())


class NativeEngine:
    """Simulate a realised :class:`~neurokit_bdh.graph.network.Network` on ``device``."""

    def __init__(self, net: Network, device: str | torch.device = "cpu", dtype=torch.float32,
                 compile: bool | None = None):
        """``compile``: fuse each population's K-step neuron update into one kernel with torch.compile
        (a one-time compilation of ~15 s, cached on disk; worth it for long runs). ``None``: only for runs
        of at least 10^8 neuron-steps. Falls back to eager execution if compilation fails."""
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
        per_step = any(p.rule is not None and p.rule.per_step for p in self.projs)
        self.max_chunk = 1 if per_step else min([MAX_CHUNK] + [p.min_delay for p in self.projs])
        for pop in self.pops.values():
            incoming = [p.max_delay for p in self.projs if p.post is pop]
            if incoming:
                pop.ring = torch.zeros((max(incoming) + self.max_chunk, B, pop.size), device=self.device, dtype=dtype)
        self.modulator, self._pool = None, None
        for inp in spec.inputs:
            self._add_input(inp, dtype)
        n_neurons = sum(p.size for p in self.pops.values() if p.kind in NEURON_MODELS)
        self.compile = compile if compile is not None else spec.n_steps * n_neurons * self.B >= 1e8
        self._compiled = {}
        self._K = self.max_chunk

    def _add_input(self, inp, dtype):
        dt, dev = self.dt, self.device
        if inp.type == "modulator":
            self.modulator = (np.rint(np.asarray(inp.params["times"]) / dt).astype(np.int64),
                              np.asarray(inp.params["values"], float))
            return
        pop = self.pops[inp.target]
        idx = None if inp.neurons is None else torch.as_tensor(inp.neurons, device=dev)
        if inp.type == "poisson":
            if self._pool is None and dev.type == "cpu":
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="neurokit-drive")
            seed = subseed(self.spec.seed, "drive", inp.target, len(pop.poisson))
            pop.poisson.append(PoissonDrive(int(inp.params.get("n_sources", 1)), float(inp.params["rate"]) * dt,
                                            float(inp.params["weight"]), pop.size if idx is None else len(idx),
                                            self.B, pop.size, idx, seed, dev, self._pool))
        else:
            amp = torch.zeros(pop.size, device=dev, dtype=dtype)
            amp[slice(None) if idx is None else idx] = float(inp.params["amplitude"])
            start = int(round(inp.params.get("start", 0.0) / dt))
            stop = int(round(inp.params.get("stop", self.spec.duration) / dt))
            pop.current.append((amp, start, stop))

    def _modulator(self, t: int):
        if self.modulator is None:
            return None
        steps, values = self.modulator
        k = np.searchsorted(steps, t, side="right") - 1
        return torch.full((self.B,), float(values[k]) if k >= 0 else 0.0, device=self.device)

    def _chunk(self, periods: list[int]) -> int:
        """The chunk length of a run: the largest K <= max_chunk dividing every recording/structural period,
        so that every chunk (but the last) has the same length and one compiled kernel serves them all."""
        g = 0
        for p in periods:
            g = math.gcd(g, p)
        return max(k for k in range(1, self.max_chunk + 1) if g % k == 0) if g else self.max_chunk

    def _advance(self, pop: _Pop, t0: int, K: int) -> ChunkSpikes:
        """Advance one population K steps; return its spikes."""
        if pop.kind not in NEURON_MODELS:
            return ChunkSpikes.from_dense(pop.emit_source(t0, K))
        B, n = self.B, pop.size
        if pop.ring is not None:  # slots t0..t0+K-1 (mod R): at most two contiguous pieces
            R, s0 = pop.ring.shape[0], t0 % pop.ring.shape[0]
            x = pop.ring[s0:s0 + K] if s0 + K <= R else torch.cat([pop.ring[s0:], pop.ring[:s0 + K - R]])
        else:
            x = torch.zeros((K, B, n), device=self.device, dtype=pop.dtype)
        pop.add_drive(x)
        i_ext = [pop.i_ext(t0 + k) for k in range(K)]
        if self.compile and K == self._K and all(i is None for i in i_ext):
            z, fired, pop.state = self._compiled_advance(pop)(x, pop.state)
        else:
            (z, pop.state), fired = run_steps(pop.model, x, pop.state, pop.coef, i_ext), None
        if pop.ring is not None:  # the slots were consumed: clear them for arrivals R steps later
            pop.ring[s0:s0 + K].zero_()
            if s0 + K > R:
                pop.ring[:s0 + K - R].zero_()
        return ChunkSpikes.from_dense(z, fired)

    def _compiled_advance(self, pop: _Pop):
        """The K-step update of ``pop`` compiled into fused kernels (eager if compilation is unavailable);
        also returns which neurons fired at all in the chunk, (B, n), fused into the same kernel."""
        fn = self._compiled.get(pop.name)
        if fn is None:
            model, coef = pop.model, pop.coef

            def advance(x, state):
                z, state = run_steps(model, x, state, coef)
                return z, z.amax(0), state

            fn = _fallback(torch.compile(advance, dynamic=False), advance)
            self._compiled[pop.name] = fn
        return fn

    def run(self, n_steps: int | None = None, writer=None, keep_spikes: bool = False, progress: bool = False,
            flush_steps: int = 2000, threads: int | None = 1) -> RunResult:
        """Simulate ``n_steps`` (default: the spec's duration); stream spikes, state, weights to ``writer``.

        State and weights carry over to a next call, but each call starts its clock at step 0 again
        (spike steps, spike-source schedules, current windows and the modulator are relative to the call).

        ``threads``: torch CPU threads during the run (restored afterwards). One is fastest for networks
        up to ~10^5 neurons, whose per-step tensors are too small to amortise thread wake-ups.
        """
        before = torch.get_num_threads()
        if threads is not None and self.device.type == "cpu":
            torch.set_num_threads(threads)
        try:
            with torch.no_grad():
                return self._run(self.spec.n_steps if n_steps is None else int(n_steps), writer, keep_spikes,
                                 progress, flush_steps)
        finally:
            torch.set_num_threads(before)

    def _run(self, n_steps, writer, keep_spikes, progress, flush_steps) -> RunResult:
        rec = self.spec.record
        rec_spikes = set(self.pops) if rec.spikes is None else set(rec.spikes)
        rec_state = [(r, self._state_neurons(r)) for r in rec.state] if writer is not None else []
        rec_w = {r.projection: r.every for r in rec.weights} if writer is not None else {}
        periods = [r.every for r, _ in rec_state] + list(rec_w.values())
        periods += [p.interval for p in self.projs if p.structural is not None]
        self._K = self._chunk(periods)
        counts = {n: np.zeros((self.B, p.size), np.int64) for n, p in self.pops.items()}
        pending = {n: [] for n in self.pops}
        kept = {n: [] for n in rec_spikes} if keep_spikes else {}
        initial = {p.name: p.snapshot() for p in self.projs}
        for name in rec_w:
            writer.add_weights(name, 0, *self._proj(name).snapshot())
        bar = _progress(n_steps, progress)
        t0_wall = time.perf_counter()
        total_spikes, t = 0, 0
        while t < n_steps:
            K = min(self._K, n_steps - t)
            spikes = {name: self._advance(pop, t, K) for name, pop in self.pops.items()}
            mod = self._modulator(t)
            for proj in self.projs:
                proj.step_chunk(spikes[proj.pre.name], spikes[proj.post.name], t, mod)
            for name, s in spikes.items():
                if not s.empty:
                    total_spikes += s.n.numel()
                    pending[name].append((s.k + t, s.b, s.n))
            t += K
            for r, neurons in rec_state:
                if t % r.every == 0:
                    st = self.pops[r.population].state
                    for var in r.vars:
                        writer.add_state(r.population, var, t - 1, getattr(st, var)[:, neurons].cpu().numpy(),
                                         neurons.cpu().numpy())
            for proj in self.projs:
                if proj.structural is not None and t % proj.interval == 0:
                    born, died = proj.restructure()
                    if writer is not None:
                        writer.add_structural(proj.name, t, born, died)
            for name, every in rec_w.items():
                if t % every == 0 or t == n_steps:
                    writer.add_weights(name, t, *self._proj(name).snapshot())
            if t // flush_steps != (t - K) // flush_steps or t == n_steps:  # crossed a multiple of flush_steps
                self._flush_spikes(pending, kept, counts, writer, rec_spikes, t)
                bar.update(t - bar.n)
                rate = total_spikes / max(time.perf_counter() - t0_wall, 1e-9)
                bar.set_postfix_str(f"t={t * self.dt:.3f}s, {rate:,.0f} spikes/s", refresh=False)
        bar.close()
        result = RunResult(n_steps, self.dt, self.B, time.perf_counter() - t0_wall, counts, initial_weights=initial)
        for name, chunks in kept.items():
            result.spikes[name] = _concat(chunks)
        for proj in self.projs:
            result.weights[proj.name] = proj.snapshot()
            result.births[proj.name], result.deaths[proj.name] = proj.births, proj.deaths
        return result

    def _proj(self, name):
        return next(p for p in self.projs if p.name == name)

    def _state_neurons(self, r):
        size = self.pops[r.population].size
        if isinstance(r.neurons, int):
            idx = np.unique(np.linspace(0, size - 1, min(r.neurons, size)).round().astype(np.int64))
        else:
            idx = np.asarray(r.neurons, np.int64)
        return torch.as_tensor(idx, device=self.device)

    def _flush_spikes(self, pending, kept, counts, writer, recorded, step):
        for name, chunks in pending.items():
            if not chunks:
                continue
            s = torch.cat([c[0] for c in chunks]).cpu().numpy()
            b = torch.cat([c[1] for c in chunks]).cpu().numpy()
            n = torch.cat([c[2] for c in chunks]).cpu().numpy()
            c = counts[name]
            c += np.bincount(b * c.shape[1] + n, minlength=c.size).reshape(c.shape)
            if writer is not None and name in recorded:
                writer.add_spikes(name, b, n, s)
            if name in kept:
                kept[name].append((b, n, s))
            chunks.clear()
        if writer is not None:
            writer.flush()


def _fallback(compiled, eager):
    """Call ``compiled``; if compilation fails (no C++ compiler, unsupported backend), warn once and run eager."""
    state = {"fn": compiled}

    def call(*args):
        try:
            return state["fn"](*args)
        except Exception as e:  # noqa: BLE001 - any compiler failure: stay correct, run eager
            if state["fn"] is eager:
                raise
            import warnings
            warnings.warn(f"torch.compile unavailable ({type(e).__name__}: {e}); running eager")
            state["fn"] = eager
            return eager(*args)
    return call


def bernoulli_events(n_trials: int, p: float, gen, device) -> torch.Tensor:
    """Sorted indices of the successes among ``n_trials`` independent Bernoulli(p) trials.

    Drawn as geometric gaps between successes (exact for iid trials): one random number per success
    instead of one per trial, ~1/p times fewer.
    """
    if p <= 0 or n_trials == 0:
        return torch.zeros(0, dtype=torch.int64, device=device)
    if p >= 1:
        return torch.arange(n_trials, device=device)
    inv_log_q = 1.0 / float(np.log1p(-p))  # gap - 1 = floor(log(u) / log(1 - p)) is Geometric(p) on {0, 1, ...}
    last, chunks = -1, []
    while last < n_trials:
        mean = (n_trials - last) * p
        u = torch.rand(int(mean + 6 * mean ** 0.5 + 16), generator=gen, device=device, dtype=torch.float64)
        u = 1.0 - u  # in (0, 1]: log finite (torch.rand draws from [0, 1))
        pos = last + torch.cumsum(u.log_().mul_(inv_log_q).floor_().to(torch.int64) + 1, 0)
        chunks.append(pos)
        last = int(pos[-1])
    pos = torch.cat(chunks) if len(chunks) > 1 else chunks[0]
    return pos[:int(torch.searchsorted(pos, n_trials))]


def _concat(chunks):
    if not chunks:
        e = np.zeros(0, np.int64)
        return e, e, e
    return tuple(np.concatenate([c[k] for c in chunks]) for k in range(3))


def _progress(n_steps, enabled):
    from tqdm.auto import tqdm
    return tqdm(total=n_steps, unit="step", disable=not enabled, desc="simulating", dynamic_ncols=True)
