"""The Brian2 engine: render a realised network as Brian2 objects and run it (runtime or C++ standalone).

Same network, same timing convention as :mod:`.native` (stated there), spike for spike where the
arithmetic allows it (float64 both sides; Brian2's ``exact`` integrator and our ``discretise`` agree to
~1e-16 per step). Neuron groups are generated from each model's own declarative equations
(``neurons.lif.equations``, ``neurons.alif.equations``, ``neurons.izhikevich.equations``), never from a
copy kept here. How each piece of our convention is expressed in Brian2:

* **LIF** (``isyn`` is our ``i``; ``i`` is Brian2's neuron index), from ``neurons.lif.equations``::

      dv/dt = (v_leak - v + isyn + iext)/tau_mem : 1 (unless refractory)
      disyn/dt = -isyn/tau_syn : 1

  threshold ``v > v_th``, reset ``v = v_reset`` (to_value) or ``v = v - (v_th - v_reset)``
  (subtract), ``refractory = round(t_ref/dt)*dt``. Brian2 evaluates ``not_refractory`` as
  ``timestep(t - lastspike) >= n_ref`` at each state update: the membrane is held for the n_ref - 1
  steps after a spike, as ours. ``method`` exact -> Brian2 ``exact``, euler -> ``euler``.
  With ``tau_syn == tau_mem`` Brian2's exact solution of the system *with* ``(unless refractory)``
  divides by zero, so there the current equation is written with ``tau_mem`` itself (sympy then finds the
  degenerate t·e^{-t/τ} solution) and the membrane hold is applied by two ``run_regularly`` operations
  around the state update (exact: a multiplication by 1.0/0.0 and an addition of 0.0).
* **ALIF** adds ``db/dt = -b/tau_adapt`` (integrated before the threshold test ``v > v_th + b``) and
  ``b += beta`` at a spike. **Izhikevich** is forward ``euler`` as ours, with ``isyn`` multiplied by
  e^{-dt/τ_syn} after the update (``tau_syn = 0``: a one-step current pulse, delivered before the update of
  its arrival step like delta synapses before the threshold, and cleared after it).
* **Current-based transmission**: a spike at step k through delay d is delivered in step k + d in the
  default ``synapses`` slot (after state update and threshold): ``isyn_post += w`` — our "i jumps at the
  end of step k + d".
* **Delta synapses** (``tau_syn = 0``): the input must jump ``v`` *before* the threshold test of the
  arrival step. The transmitting pathway runs in the ``before_thresholds`` slot with delay
  ``(d - 1)*dt``: it pushes the spikes of the previous step (still in the spike space there), so a spike
  of step k lands in step k + d after the state update and before the threshold. Arrivals (and Poisson
  drive) are multiplied by ``not_refractory``: our held membrane discards them.
* **Plasticity** acts at the presynaptic spike's *emission* step through a separate zero-delay pathway
  ``stdp_pre`` (order -1) and at the postsynaptic spike through ``post`` (order +1), the delayed
  transmission ``pre`` runs first (order -2). Brian2 reads ``w`` when a delayed spike is *delivered*; our
  spike carries the weight from before its emission step's update, so ``stdp_pre`` stores that weight in
  ``wtx`` and the transmission sends ``wtx``. Exact unless a presynaptic neuron fires again while its
  previous spike is still in flight (inter-spike interval < delay): then the earlier spike carries the
  newer weight — a RuntimeWarning says when that happened.
* **Per-step rules** (Hebbian/Oja, reward-modulated STDP) keep their traces per synapse: a ``run_regularly``
  multiplies them by e^{-dt/τ} in ``before_synapses``, the zero-delay pathways add this step's spikes in
  ``synapses`` (STDP-like eligibility terms exactly as ``plasticity/``), and a second ``run_regularly`` in
  ``after_synapses`` applies the step's weight change. The modulator is a ``TimedArray`` of per-step values.
* Only the synapses the rule may change (``plastic_on``) go into the plastic ``Synapses`` object; the rest
  of the projection is a constant-weight object (clipping must not touch, e.g., inhibitory weights).
* **Sources**: ``spike_source`` -> ``SpikeGeneratorGroup`` (times = step·dt, duplicates merged as ours),
  ``poisson`` -> ``PoissonGroup``. **Poisson drive** -> ``run_regularly`` adding
  ``weight * Binomial(n_sources, rate·dt)`` per neuron and step in the ``synapses`` slot (delta
  synapses: ``before_thresholds``; Izhikevich pulses: ``before_groups``). **Current input** -> ``iext`` set before each state update from the
  step windows ``start <= step < stop``.

* **Trials** (``n_trials = B > 1``): B copies of the network side by side in one Brian2 network, as the
  native engine's batch: every group holds B·n neurons (trial b's neuron k at b·n + k), every ``Synapses``
  object B copies of the realised synapses (same weights and delays, trial-major, each connecting its own
  trial's copies), so each trial has its own state and plastic weights; Poisson populations and drives
  draw per neuron, hence independently per trial; spike-source schedules, current windows and the
  modulator are shared. Monitors are split back into (trial, neuron) and weights into (B, n_syn).

Random streams differ from the native engine's, so Poisson populations and drives agree in distribution
only. ``cpp_standalone`` builds the whole run as one C++ program in a directory kept per network shape
(``~/.cache/neurokit_bdh/brian2_standalone/<key>`` unless given), so a rerun recompiles only what changed;
its weight snapshots come from a StateMonitor on the synapses instead of pausing the run. Not rendered
(NotImplementedError naming the feature): structural plasticity.
"""
from __future__ import annotations

import hashlib
import os
import time
import warnings
from pathlib import Path

import numpy as np

from ..graph.network import Network, subseed
from ..neurons import alif, izhikevich, lif
from .native import RunResult

TARGETS = ("cython", "numpy", "cpp_standalone")
EXTRA = "pip install 'neurokit-bdh[brian2]'"
# Arrays read from Brian2 objects are copied (np.array): brian2 >= 2.10 hands out views of memory that is
# freed with the network, and results outlive the engine.

# neuron model -> its declarative equations (the neuron module's own definition)
EQUATIONS = {"lif": lif.equations, "alif": alif.equations, "izhikevich": izhikevich.equations}
SOURCES = ("poisson", "spike_source")
RULES = ("stdp", "triplet", "hebbian", "reward_stdp")
STANDALONE_CACHE = Path(os.environ.get("NEUROKIT_BRIAN2_CACHE", Path.home() / ".cache" / "neurokit_bdh"
                                       / "brian2_standalone"))
# where a synaptic input lands (neurons.lif.Equations.input) -> Brian2 slot of the transmitting pathway
INPUT_SLOT = {"isyn@end": "synapses", "v@threshold": "before_thresholds", "isyn@update": "before_groups"}


def _import_brian2():
    try:
        import brian2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"the brian2 engine needs Brian2: {EXTRA} ({e})") from None
    return brian2


def _check_supported(net: Network, target: str) -> None:
    if target not in TARGETS:
        raise ValueError(f"target: expected one of {TARGETS}, got {target!r}")
    for pop in net.populations.values():
        if pop.model not in EQUATIONS and pop.model not in SOURCES:
            raise NotImplementedError(f"Brian2Engine: population {pop.name!r} model {pop.model!r} is not rendered; "
                                      f"rendered: {sorted(EQUATIONS) + list(SOURCES)}")
    for proj in net.projections.values():
        if proj.rule is not None and proj.rule.name not in RULES:
            raise NotImplementedError(f"Brian2Engine: plasticity rule {proj.rule.name!r} (projection "
                                      f"{proj.name!r}) is not rendered; rendered: {RULES}")
        if proj.structural is not None:
            raise NotImplementedError(f"Brian2Engine: structural plasticity (projection {proj.name!r}) is not "
                                      "rendered: Brian2 cannot create synapses during a run; use the native engine")


# ------------------------------------------------------------------------------------ code snippets

def _stdp_code(rule):
    """(model, depression code, potentiation code, namespace) of an event-driven plastic Synapses object."""
    bounds = dict(w_min=float(rule.w_min), w_max=float(rule.w_max))
    if rule.name == "stdp":
        span = f"({rule.w_max!r} - ({rule.w_min!r}))"
        if rule.kind == "additive":
            f_plus, f_minus = "1.0", "1.0"
        elif rule.kind == "multiplicative":
            f_plus, f_minus = "1.0", f"clip((w - w_min)/{span}, 0, inf)"
        else:
            f_plus = f"clip((w_max - w)/{span}, 0, inf)**mu"
            f_minus = f"clip((w - w_min)/{span}, 0, inf)**mu"
        model = ("w : 1\nwtx : 1\n"
                 "dxpre/dt = -xpre/tau_plus : 1 (event-driven)\n"
                 "dxpost/dt = -xpost/tau_minus : 1 (event-driven)\n")
        dep = f"wtx = w\nw = clip(w - a_minus*{f_minus}*xpost, w_min, w_max)\nxpre += 1"
        pot = f"w = clip(w + a_plus*{f_plus}*xpre, w_min, w_max)\nxpost += 1"
        ns = dict(a_plus=float(rule.a_plus), a_minus=float(rule.a_minus), mu=float(rule.mu),
                  tau_plus=rule.tau_plus, tau_minus=rule.tau_minus, **bounds)
        return model, dep, pot, ns
    # triplet (Pfister & Gerstner 2006): second-order traces read before their own increment
    model = ("w : 1\nwtx : 1\n"
             "dr1/dt = -r1/tau_plus : 1 (event-driven)\n"
             "dr2/dt = -r2/tau_x : 1 (event-driven)\n"
             "do1/dt = -o1/tau_minus : 1 (event-driven)\n"
             "do2/dt = -o2/tau_y : 1 (event-driven)\n")
    dep = "wtx = w\nw = clip(w - o1*(a2_minus + a3_minus*r2), w_min, w_max)\nr1 += 1\nr2 += 1"
    pot = "w = clip(w + r1*(a2_plus + a3_plus*o2), w_min, w_max)\no1 += 1\no2 += 1"
    ns = dict(a2_plus=float(rule.a2_plus), a3_plus=float(rule.a3_plus), a2_minus=float(rule.a2_minus),
              a3_minus=float(rule.a3_minus), tau_plus=rule.tau_plus, tau_minus=rule.tau_minus,
              tau_x=rule.tau_x, tau_y=rule.tau_y, **bounds)
    return model, dep, pot, ns


def _per_step_code(rule, has_modulator: bool):
    """(model, pre code, post code, decay code, update code or None, namespace) of a rule acting every step.

    The traces live on the synapses (one copy per synapse of its neuron's trace): decayed in
    ``before_synapses``, bumped by this step's spikes in ``synapses``, read by the update in ``after_synapses``.
    """
    bounds = dict(w_min=float(rule.w_min), w_max=float(rule.w_max))
    if rule.name == "hebbian":
        model = "w : 1\nwtx : 1\nxpre : 1\nxpost : 1\n"
        decay = "xpre = xpre*exp(-dt/tau_pre)\nxpost = xpost*exp(-dt/tau_post)"
        if rule.kind == "hebbian":
            dw = "eta*xpre*xpost - lam*w"
        else:  # Oja
            dw = "eta*xpost*(xpre - xpost*w)"
        ns = dict(eta=float(rule.eta), lam=float(rule.decay), tau_pre=rule.tau_pre, tau_post=rule.tau_post, **bounds)
        return model, "wtx = w\nxpre += 1", "xpost += 1", decay, f"w = clip(w + dt*({dw})/second, w_min, w_max)", ns
    # reward-modulated STDP: additive pair terms into the eligibility e; dw/dt = eta·M(t)·e
    model = "w : 1\nwtx : 1\nxpre : 1\nxpost : 1\nelig : 1\n"  # e is Brian2's constant
    decay = "xpre = xpre*exp(-dt/tau_plus)\nxpost = xpost*exp(-dt/tau_minus)\nelig = elig*exp(-dt/tau_e)"
    ns = dict(a_plus=float(rule.a_plus), a_minus=float(rule.a_minus), eta=float(rule.eta), tau_plus=rule.tau_plus,
              tau_minus=rule.tau_minus, tau_e=rule.tau_e, **bounds)
    update = "w = clip(w + eta*(dt/second)*nk_modulator(t)*elig, w_min, w_max)" if has_modulator else None
    return model, "wtx = w\nelig += -a_minus*xpost\nxpre += 1", "elig += a_plus*xpre\nxpost += 1", decay, update, ns


def _structure_key(net: Network, n_steps: int) -> str:
    """A key for the standalone build directory: what shapes the generated code (not parameter values)."""
    import brian2
    parts = [brian2.__version__, str(n_steps)]
    parts += [f"{p.name}:{p.model}:{p.size}" for p in net.populations.values()]
    parts += [f"{p.name}:{p.pre}:{p.post}:{p.rule.name if p.rule else ''}" for p in net.projections.values()]
    parts += [f"{i.type}:{i.target}" for i in net.spec.inputs]
    if net.spec.n_trials > 1:  # group sizes are compiled into the program
        parts.append(f"trials:{net.spec.n_trials}")
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16]


class Brian2Engine:
    """Simulate a realised :class:`~neurokit_bdh.graph.network.Network` in Brian2.

    ``target``: ``"cython"`` (compiled, cached on disk after the first use) or ``"numpy"`` (runtime mode),
    or ``"cpp_standalone"`` (one C++ program per run, built in ``standalone_dir``; default: a cache directory
    per network shape, so a rerun recompiles only what changed). After a run, ``compile_s`` holds the time
    spent generating and compiling code (standalone) and ``RunResult.wall_s`` the simulation loop alone.
    """

    def __init__(self, net: Network, target: str = "cython", standalone_dir: str | os.PathLike | None = None):
        _check_supported(net, target)
        self.b2 = _import_brian2()
        self.net, self.spec, self.dt, self.target = net, net.spec, net.spec.dt, target
        self.B = net.spec.n_trials
        self.standalone = target == "cpp_standalone"
        self.standalone_dir = None if standalone_dir is None else Path(standalone_dir)
        self.compile_s = 0.0
        self._built = False

    # ------------------------------------------------------------------------------------ building

    def _activate(self):
        b2 = self.b2
        from brian2.devices.device import get_device, runtime_device
        if self.standalone:
            d = self.standalone_dir or STANDALONE_CACHE / _structure_key(self.net, self.spec.n_steps)
            d.mkdir(parents=True, exist_ok=True)
            self._dir = str(d)
            b2.set_device("cpp_standalone", directory=self._dir, build_on_run=False)
            b2.device.reinit()  # forget objects of an earlier standalone run in this process
            b2.device.activate(directory=self._dir, build_on_run=False)
        else:
            if get_device() is not runtime_device:
                b2.set_device("runtime")
            b2.prefs.codegen.target = self.target

    def _build(self, record_state: bool = False, weight_every: dict | None = None):
        b2 = self.b2
        from brian2 import NeuronGroup, PoissonGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, second
        self._activate()
        spec, dt = self.spec, self.dt
        DT = dt * second
        rec = spec.record
        self._rec_spikes = set(self.net.populations) if rec.spikes is None else set(rec.spikes)
        objs, self.groups, self.monitors, self.syn = [], {}, {}, {}
        self.inputs = {}
        for name, rp in self.net.populations.items():
            if rp.model in EQUATIONS:
                G = self._neuron_group(name, rp, NeuronGroup, DT, second)
            elif rp.model == "poisson":
                G = PoissonGroup(self.B * rp.size, rates=float(rp.params["rate"]) * b2.Hz, dt=DT, name=f"nk_{name}")
            else:
                steps = np.rint(np.asarray(rp.params["times"], float) / dt).astype(np.int64)
                neurons = np.asarray(rp.params["neurons"], np.int64)
                pairs = np.unique(np.stack([steps, neurons], 1), axis=0) if steps.size else np.zeros((0, 2), np.int64)
                # the same schedule in every trial's copy
                G = SpikeGeneratorGroup(self.B * rp.size, self._tiled(pairs[:, 1], rp.size),
                                        np.tile(pairs[:, 0], self.B) * dt * second, dt=DT, name=f"nk_{name}")
            self.groups[name] = G
            objs.append(G)
            M = SpikeMonitor(G, record=name in self._rec_spikes, name=f"nk_spikes_{name}")
            self.monitors[name] = M
            objs.append(M)
        self.state_monitors = []
        for r in (rec.state if record_state else []):
            objs.append(self._state_monitor(r, DT))
        for pname, rp in self.net.projections.items():
            objs += self._projection(pname, rp, DT, second)
        # standalone cannot pause to read weights: sample them at the start of every every-th step instead
        self.weight_monitors = {}
        for pname, every in (weight_every or {}).items():
            for part, (S, idx) in self.syn[pname].items():
                if part == "plastic":
                    M = StateMonitor(S, "w", record=True, dt=every * DT, when="start", name=f"nk_w_{pname}")
                    self.weight_monitors[pname] = M
                    objs.append(M)
        self.bnet = b2.Network(*objs, name="nk_network")
        self._built = True

    def _state_monitor(self, r, DT):
        """A StateMonitor sampling at the start of every ``every``-th step, i.e. the state after the step before."""
        from brian2 import StateMonitor
        size = self.net.populations[r.population].size
        if isinstance(r.neurons, int):
            neurons = np.unique(np.linspace(0, size - 1, min(r.neurons, size)).round().astype(np.int64))
        else:
            neurons = np.asarray(r.neurons, np.int64)
        G = self.groups[r.population]
        names = [self._var(v) for v in r.vars if v != "ref"] + (["lastspike"] if "ref" in r.vars else [])
        for v in names:
            if v not in G.variables:
                raise ValueError(f"record.state: population {r.population!r} has no variable {v!r} in Brian2")
        k = len(self.state_monitors)
        M = StateMonitor(G, sorted(set(names)), record=self._tiled(neurons, size), dt=r.every * DT, when="start",
                         name=f"nk_state_{k}")
        self.state_monitors.append((r, neurons, M))
        return M

    def _tiled(self, idx, size):
        """Indices ``idx`` of one trial's copy (of ``size`` elements) repeated for every trial: trial b at b·size."""
        idx = np.asarray(idx, np.int64)
        return idx if self.B == 1 else np.concatenate([idx + b * size for b in range(self.B)])

    @staticmethod
    def _var(var):
        return "isyn" if var == "i" else var

    def _write_state(self, writer, n_steps):
        """Samples as the native engine writes them: after steps every-1, 2·every-1, ... (<= n_steps-1)."""
        for r, neurons, M in self.state_monitors:
            G = self.groups[r.population]
            n_ref = int(round(getattr(self.net.populations[r.population].params, "t_ref", 0.0) / self.dt))
            steps = np.rint(np.asarray(M.t_[:]) / self.dt).astype(np.int64)
            names = M.record_variables
            cols = {v: np.array(getattr(M, v + "_")[:], np.float64) for v in names}
            samples = [(int(t), {k: c[:, j] for k, c in cols.items()}) for j, t in enumerate(steps) if t > 0]
            if n_steps % r.every == 0:
                rec = self._tiled(neurons, self.net.populations[r.population].size)
                samples.append((n_steps, {v: np.asarray(getattr(G, v + "_")[:], np.float64)[rec] for v in names}))
            for t, vals in samples:
                for var in r.vars:
                    if var != "ref":
                        x = vals[self._var(var)]
                    else:  # steps the membrane stays held; n_ref-1 right after a spike, counting down
                        last = np.rint(vals["lastspike"] / self.dt)
                        x = np.maximum(n_ref - 1 - (t - 1 - last), 0) if n_ref > 1 else np.zeros(len(last))
                        x = np.where(np.isfinite(x), x, 0.0)
                    # recorded trial by trial: (B·n_rec,) -> (B, n_rec)
                    writer.add_state(r.population, var, t - 1, np.asarray(x, np.float64).reshape(self.B, -1), neurons)

    def _neuron_group(self, name, rp, NeuronGroup, DT, second):
        """A NeuronGroup from the model's declarative equations, plus external current and Poisson drive."""
        dt = self.dt
        eq = EQUATIONS[rp.model](rp.params)
        self.inputs[name] = eq.input
        ode = eq.ode
        # exact LIF/ALIF with tau_syn == tau_mem: Brian2's solver of the system with "(unless refractory)"
        # divides by zero; integrate freely and hold the membrane around the update instead (see above)
        hold = eq.method == "exact" and "(unless refractory)" in ode and "disyn/dt = -isyn/tau_mem" in ode
        if hold:
            ode = ode.replace(" (unless refractory)", "") + "v_hold : 1\n"
        for k, inp in enumerate(self.spec.inputs):
            if inp.type in ("poisson", "current") and inp.target == name:
                ode += f"mask_{k} : 1 (constant)\n"
        n_ref = int(round(eq.refractory / dt))
        if n_ref == 0:  # nothing to hold (Brian2 warns about the flag without a refractory period)
            ode = ode.replace(" (unless refractory)", "")
        ns = {k: (v * second if k.startswith("tau") else v) for k, v in eq.namespace.items()}
        G = NeuronGroup(self.B * rp.size, ode, threshold=eq.threshold, reset=eq.reset,
                        refractory=n_ref * DT if n_ref > 0 else False, method=eq.method, namespace=ns, dt=DT,
                        name=f"nk_{name}")
        for var, value in eq.init.items():
            setattr(G, var, value)
        currents = [(k, inp) for k, inp in enumerate(self.spec.inputs) if inp.type == "current" and inp.target == name]
        if currents:
            terms = []
            for k, inp in currents:
                start = int(round(inp.params.get("start", 0.0) / dt))
                stop = int(round(inp.params.get("stop", self.spec.duration) / dt))
                G.namespace[f"amp_{k}"] = float(inp.params["amplitude"])
                terms.append(f"amp_{k} * mask_{k} * int(timestep(t, dt) >= {start} and timestep(t, dt) < {stop})")
            G.run_regularly("iext = " + " + ".join(terms), when="before_groups", order=0, name=f"nk_{name}_iext")
        target = "v" if eq.input == "v@threshold" else "isyn"
        held = "int(not_refractory) * " if eq.input == "v@threshold" and n_ref > 0 else ""
        for k, inp in enumerate(self.spec.inputs):
            if inp.type not in ("poisson", "current") or inp.target != name:
                continue
            mask = np.zeros(rp.size, float)
            mask[slice(None) if inp.neurons is None else np.asarray(inp.neurons)] = 1.0
            setattr(G, f"mask_{k}", np.tile(mask, self.B))
            if inp.type == "poisson":
                from brian2 import BinomialFunction
                n, pr = int(inp.params.get("n_sources", 1)), float(inp.params["rate"]) * dt
                if pr <= 0 or inp.params["weight"] == 0:
                    continue
                G.namespace[f"drive_w_{k}"] = float(inp.params["weight"])
                G.namespace[f"nk_binom_{k}"] = BinomialFunction(n, pr, approximate=False, name=f"nk_binom_{k}")
                G.run_regularly(f"{target} += {held}mask_{k} * drive_w_{k} * nk_binom_{k}()",
                                when=INPUT_SLOT[eq.input], order=1, name=f"nk_{name}_drive_{k}")
        for j, (code, when) in enumerate(eq.regular):
            G.run_regularly(code, when=when, order=1 + j, name=f"nk_{name}_regular_{j}")
        if hold:
            G.run_regularly("v_hold = v", when="before_groups", order=1, name=f"nk_{name}_hold0")
            G.run_regularly("v = v * int(not_refractory) + v_hold * int(not not_refractory)",
                            when="after_groups", order=0, name=f"nk_{name}_hold1")
        return G

    def _modulator(self):
        """The modulator as a TimedArray of per-step values (piecewise constant from each time on), or None."""
        from brian2 import TimedArray, second
        mods = [inp for inp in self.spec.inputs if inp.type == "modulator"]
        if not mods:
            return None
        steps = np.rint(np.asarray(mods[-1].params["times"]) / self.dt).astype(np.int64)
        values = np.asarray(mods[-1].params["values"], float)
        k = np.searchsorted(steps, np.arange(self.spec.n_steps + 1), side="right") - 1
        return TimedArray(np.where(k >= 0, values[np.maximum(k, 0)], 0.0), dt=self.dt * second, name="nk_modulator")

    def _projection(self, pname, rp, DT, second):
        from brian2 import Synapses
        csr = rp.csr
        pre, post = csr.pre(), csr.indices.astype(np.int64)
        w = csr.weights.astype(np.float64)
        delays = csr.delays.astype(np.int64)
        where = self.inputs[rp.post]
        shift = 0 if where == "isyn@end" else 1  # pathways before the threshold push the previous step's spikes
        Gpre, Gpost = self.groups[rp.pre], self.groups[rp.post]
        n_pre, n_post, B = self.net.populations[rp.pre].size, self.net.populations[rp.post].size, self.B
        post_refractory = (where == "v@threshold"
                           and int(round(self.net.populations[rp.post].params.t_ref / self.dt)) > 0)
        if where == "v@threshold":
            tx = "v_post += {w}" + (" * int(not_refractory_post)" if post_refractory else "")
        else:
            tx = "isyn_post += {w}"
        when = INPUT_SLOT[where]
        plastic = np.zeros(csr.n_syn, bool)
        if rp.rule is not None:
            plastic = np.ones(csr.n_syn, bool) if rp.plastic is None else np.asarray(rp.plastic, bool)
        out = []
        st = ~plastic
        self.syn[pname] = {}
        if st.any():
            S = Synapses(Gpre, Gpost, "w : 1 (constant)", on_pre=tx.format(w="w"), dt=DT, name=f"nk_{pname}_static")
            # one copy of the projection per trial, between that trial's copies of pre and post
            S.connect(i=self._tiled(pre[st], n_pre), j=self._tiled(post[st], n_post))
            S.w = np.tile(w[st], B)
            S.pre.delay = np.tile(delays[st] - shift, B) * DT
            S.pre.when = when
            S.pre.order = -1
            self.syn[pname]["static"] = (S, np.flatnonzero(st))
            out.append(S)
        if plastic.any():
            rule = rp.rule
            if rule.per_step:
                modulator = self._modulator() if rule.name == "reward_stdp" else None
                model, on_pre, on_post, decay, update, ns = _per_step_code(rule, modulator is not None)
                if modulator is not None:
                    ns["nk_modulator"] = modulator
            else:
                model, on_pre, on_post, ns = _stdp_code(rule)
            ns = {k: (v * second if k.startswith("tau") else v) for k, v in ns.items()}
            ns["second"] = second
            P = Synapses(Gpre, Gpost, model, on_pre={"pre": tx.format(w="wtx"), "stdp_pre": on_pre},
                         on_post={"post": on_post}, delay={"stdp_pre": 0 * second}, namespace=ns, dt=DT,
                         name=f"nk_{pname}_plastic")
            P.connect(i=self._tiled(pre[plastic], n_pre), j=self._tiled(post[plastic], n_post))
            P.w = np.tile(w[plastic], B)
            P.wtx = np.tile(w[plastic], B)
            P.pre.delay = np.tile(delays[plastic] - shift, B) * DT
            P.pre.when = when
            P.pre.order = -2
            P.stdp_pre.order = -1
            P.post.order = 1
            if rule.per_step:
                P.run_regularly(decay, when="before_synapses", name=f"nk_{pname}_decay")
                if update is not None:
                    P.run_regularly(update, when="after_synapses", name=f"nk_{pname}_update")
            self.syn[pname]["plastic"] = (P, np.flatnonzero(plastic))
            out.append(P)
        if not self.standalone:  # standalone: checked after the run, when the indices exist
            self._check_order(pname)
        return out

    def _check_order(self, pname):
        rp = self.net.projections[pname]
        pre, post = rp.csr.pre(), rp.csr.indices.astype(np.int64)
        n_pre, n_post = self.net.populations[rp.pre].size, self.net.populations[rp.post].size
        for S, idx in self.syn[pname].values():
            if not (np.array_equal(np.asarray(S.i[:]), self._tiled(pre[idx], n_pre))
                    and np.array_equal(np.asarray(S.j[:]), self._tiled(post[idx], n_post))):
                raise RuntimeError(f"Brian2 reordered the synapses of projection {pname!r}")

    # ------------------------------------------------------------------------------------ running

    def _snapshot(self, pname, plastic_w=None):
        """(indptr, indices, w (B, S)): the CSR with Brian2's current weights (``plastic_w``: for the plastic part,
        trial-major as Brian2 holds them)."""
        csr = self.net.projections[pname].csr
        w = np.tile(csr.weights.astype(np.float64), (self.B, 1))
        for part, (S, idx) in self.syn[pname].items():
            if part == "plastic":
                pw = np.array(S.w[:], np.float64) if plastic_w is None else np.array(plastic_w, np.float64)
                w[:, idx] = pw.reshape(self.B, len(idx))
        return csr.indptr.copy(), csr.indices.astype(np.int32), w

    def _initial(self, pname):
        csr = self.net.projections[pname].csr
        return csr.indptr.copy(), csr.indices.astype(np.int32), np.tile(csr.weights.astype(np.float64), (self.B, 1))

    def run(self, keep_spikes: bool = False, writer=None, progress: bool = False) -> RunResult:
        """Simulate the spec's duration once (a fresh Brian2 network per call)."""
        b2 = self.b2
        rec_w = {r.projection: r.every for r in self.spec.record.weights} if writer is not None else {}
        initial = {p: self._initial(p) for p in self.net.projections}
        try:
            self._build(record_state=writer is not None, weight_every=rec_w if self.standalone else None)
            if self.standalone:
                wall = self._run_standalone(progress)
            else:
                wall = self._run_runtime(progress, rec_w, writer, initial)
            return self._collect(writer, keep_spikes, rec_w, initial, wall)
        finally:
            if self.standalone:  # leave Brian2 as found: runtime device, no standalone objects pending
                b2.device.reinit()
                b2.set_device("runtime")

    def _run_runtime(self, progress, rec_w, writer, initial):
        from brian2 import second
        n_steps, dt = self.spec.n_steps, self.dt
        for name in rec_w:
            writer.add_weights(name, 0, *initial[name])
        stops = sorted({n_steps} | {s for e in rec_w.values() for s in range(e, n_steps, e)})
        self.b2.seed(subseed(self.spec.seed, "brian2") % (2**32))
        t0 = time.perf_counter()
        done = 0
        for stop in stops:
            self.bnet.run((stop - done) * dt * second, report="text" if progress else None)
            done = stop
            for name, every in rec_w.items():
                if stop % every == 0 or stop == n_steps:
                    writer.add_weights(name, stop, *self._snapshot(name))
        return time.perf_counter() - t0

    def _run_standalone(self, progress):
        from brian2 import second
        b2 = self.b2
        b2.seed(subseed(self.spec.seed, "brian2") % (2**32))
        self.bnet.run(self.spec.n_steps * self.dt * second, report="text" if progress else None)
        t0 = time.perf_counter()
        b2.device.build(directory=self._dir, compile=True, run=True, with_output=progress)
        total = time.perf_counter() - t0
        loop = float(getattr(b2.device, "_last_run_time", None) or total)
        self.compile_s = max(total - loop, 0.0)
        for pname in self.syn:
            self._check_order(pname)
        return loop

    def _collect(self, writer, keep_spikes, rec_w, initial, wall):
        dt, n_steps = self.dt, self.spec.n_steps
        if self.standalone and writer is not None:  # weight snapshots from the monitors, then the final weights
            for name, every in rec_w.items():
                writer.add_weights(name, 0, *initial[name])
                M = self.weight_monitors.get(name)
                if M is not None:
                    steps = np.rint(np.asarray(M.t_[:]) / dt).astype(np.int64)
                    ws = np.array(M.w[:], np.float64)  # (plastic synapses, samples)
                    for j, s in enumerate(steps):  # ws[:, j]: (B·plastic synapses,) trial-major
                        if 0 < s < n_steps:
                            writer.add_weights(name, int(s), *self._snapshot(name, ws[:, j]))
                        # a projection without plastic synapses never changes: its snapshots are the initial
                else:
                    for s in range(every, n_steps, every):
                        writer.add_weights(name, s, *initial[name])
                writer.add_weights(name, n_steps, *self._snapshot(name))
        counts, kept = {}, {}
        for name, M in self.monitors.items():
            size = self.net.populations[name].size
            counts[name] = np.array(M.count[:], np.int64).reshape(self.B, size)
            if name in self._rec_spikes and (keep_spikes or writer is not None):
                b, n = np.divmod(np.asarray(M.i[:], np.int64), size)  # index in the group -> (trial, neuron)
                s = np.rint(np.asarray(M.t_[:]) / dt).astype(np.int64)
                if keep_spikes:
                    kept[name] = (b, n, s)
                if writer is not None and n.size:
                    writer.add_spikes(name, b, n, s)
        if writer is not None:
            self._write_state(writer, n_steps)
            writer.flush()
        result = RunResult(n_steps, dt, self.B, wall, counts, spikes=kept, initial_weights=initial)
        for pname in self.net.projections:
            result.weights[pname] = self._snapshot(pname)
            result.births[pname] = result.deaths[pname] = 0
        self._check_in_flight()
        return result

    def _check_in_flight(self):
        """Warn where a presynaptic neuron fired again while its previous spike through a plastic synapse was
        still in flight (the earlier spike then carried the newer weight; see the module docstring)."""
        for pname, parts in self.syn.items():
            if "plastic" not in parts:
                continue
            rp = self.net.projections[pname]
            P, idx = parts["plastic"]
            d = rp.csr.delays[idx].astype(np.int64)
            if d.max() <= 1:
                continue
            pre = rp.csr.pre()[idx]
            dmax = np.zeros(self.net.populations[rp.pre].size, np.int64)
            np.maximum.at(dmax, pre, d)
            dmax = np.tile(dmax, self.B)  # indexed by the neuron's index in the group of all trials
            M = self.monitors[rp.pre]
            if not M.record:
                continue
            n = np.asarray(M.i[:], np.int64)
            if n.size == 0:
                continue
            s = np.rint(np.asarray(M.t_[:]) / self.dt).astype(np.int64)
            order = np.lexsort((s, n))
            n, s = n[order], s[order]
            same = n[1:] == n[:-1]
            bad = same & (np.diff(s) < dmax[n[1:]])
            if bad.any():
                warnings.warn(f"Brian2Engine: projection {pname!r}: {int(bad.sum())} presynaptic spikes followed "
                              "an earlier one within its delay; those in-flight spikes carried the newer weight "
                              "(the native engine sends the weight of the emission step)", RuntimeWarning)


__all__ = ["Brian2Engine", "EQUATIONS", "TARGETS"]
