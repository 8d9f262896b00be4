"""The Brian2 engine: render a realised network as Brian2 objects (runtime mode) and run it.

Same network, same timing convention as :mod:`.native` (stated there), spike for spike where the
arithmetic allows it (float64 both sides; Brian2's ``exact`` integrator and our ``discretise`` agree to
~1e-16 per step). How each piece of our convention is expressed in Brian2:

* **LIF** (``isyn`` is our ``i``; ``i`` is Brian2's neuron index)::

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
* Only the synapses the rule may change (``plastic_on``) go into the plastic ``Synapses`` object; the rest
  of the projection is a constant-weight object (clipping must not touch, e.g., inhibitory weights).
* **Sources**: ``spike_source`` -> ``SpikeGeneratorGroup`` (times = step·dt, duplicates merged as ours),
  ``poisson`` -> ``PoissonGroup``. **Poisson drive** -> ``run_regularly`` adding
  ``weight * Binomial(n_sources, rate·dt)`` per neuron and step in the ``synapses`` slot (delta
  synapses: ``before_thresholds``). **Current input** -> ``iext`` set before each state update from the
  step windows ``start <= step < stop``.

Random streams differ from the native engine's, so Poisson populations and drives agree in distribution
only. Not rendered (NotImplementedError naming the feature): ALIF and Izhikevich neurons, Hebbian and
reward-modulated STDP, structural plasticity, n_trials > 1, target ``cpp_standalone``.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..graph.network import Network, subseed
from .native import RunResult

TARGETS = ("cython", "numpy")
EXTRA = "pip install 'neurokit-bdh[brian2]'"


def _import_brian2():
    try:
        import brian2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"the brian2 engine needs Brian2: {EXTRA} ({e})") from None
    return brian2


def _check_supported(net: Network, target: str) -> None:
    spec = net.spec
    if target == "cpp_standalone":
        raise NotImplementedError("Brian2Engine: target 'cpp_standalone' is not supported yet; "
                                  "use 'cython' or 'numpy' (runtime mode)")
    if target not in TARGETS:
        raise ValueError(f"target: expected one of {TARGETS}, got {target!r}")
    if spec.n_trials != 1:
        raise NotImplementedError(f"Brian2Engine: n_trials = {spec.n_trials} (batched trials) is not supported; "
                                  "use n_trials = 1 or the native engine")
    for pop in net.populations.values():
        if pop.model in ("alif", "izhikevich"):
            raise NotImplementedError(f"Brian2Engine: neuron model {pop.model!r} (population {pop.name!r}) "
                                      "is not rendered yet; only 'lif', 'poisson', 'spike_source'")
        if pop.model not in ("lif", "poisson", "spike_source"):
            raise NotImplementedError(f"Brian2Engine: population {pop.name!r} model {pop.model!r} is not rendered")
    for proj in net.projections.values():
        if proj.rule is not None and proj.rule.name not in ("stdp", "triplet"):
            raise NotImplementedError(f"Brian2Engine: plasticity rule {proj.rule.name!r} (projection "
                                      f"{proj.name!r}) is not rendered yet; only 'stdp' and 'triplet'")
        if proj.structural is not None:
            raise NotImplementedError(f"Brian2Engine: structural plasticity (projection {proj.name!r}) "
                                      "is not rendered yet")


# ------------------------------------------------------------------------------------ code snippets

def _stdp_code(rule):
    """(model, depression code, potentiation code, namespace) of a plastic Synapses object."""
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


class Brian2Engine:
    """Simulate a realised :class:`~neurokit_bdh.graph.network.Network` in Brian2 (runtime mode).

    ``target``: ``"cython"`` (compiled, cached on disk after the first use) or ``"numpy"``.
    """

    def __init__(self, net: Network, target: str = "cython"):
        _check_supported(net, target)
        self.b2 = _import_brian2()
        self.net, self.spec, self.dt, self.target = net, net.spec, net.spec.dt, target
        self._built = False

    # ------------------------------------------------------------------------------------ building

    def _build(self, record_state: bool = False):
        b2 = self.b2
        from brian2 import (BinomialFunction, NeuronGroup, PoissonGroup, SpikeGeneratorGroup, SpikeMonitor,
                            Synapses, second)
        from brian2.devices.device import get_device, runtime_device
        if get_device() is not runtime_device:
            b2.set_device("runtime")
        b2.prefs.codegen.target = self.target
        spec, dt = self.spec, self.dt
        DT = dt * second
        rec = spec.record
        self._rec_spikes = set(self.net.populations) if rec.spikes is None else set(rec.spikes)
        objs, self.groups, self.monitors, self.syn = [], {}, {}, {}
        self.delta = {}
        for name, rp in self.net.populations.items():
            if rp.model == "lif":
                G = self._lif_group(name, rp.params, NeuronGroup, BinomialFunction, DT, second)
            elif rp.model == "poisson":
                G = PoissonGroup(rp.size, rates=float(rp.params["rate"]) * b2.Hz, dt=DT, name=f"nk_{name}")
            else:
                steps = np.rint(np.asarray(rp.params["times"], float) / dt).astype(np.int64)
                neurons = np.asarray(rp.params["neurons"], np.int64)
                pairs = np.unique(np.stack([steps, neurons], 1), axis=0) if steps.size else np.zeros((0, 2), np.int64)
                G = SpikeGeneratorGroup(rp.size, pairs[:, 1], pairs[:, 0] * dt * second, dt=DT, name=f"nk_{name}")
            self.groups[name] = G
            objs.append(G)
            M = SpikeMonitor(G, record=name in self._rec_spikes, name=f"nk_spikes_{name}")
            self.monitors[name] = M
            objs.append(M)
        self.state_monitors = []
        for r in (rec.state if record_state else []):
            objs.append(self._state_monitor(r, DT, second))
        for pname, rp in self.net.projections.items():
            objs += self._projection(pname, rp, Synapses, DT, second)
        self.bnet = b2.Network(*objs, name="nk_network")
        self._built = True

    def _state_monitor(self, r, DT, second):
        """A StateMonitor sampling at the start of every ``every``-th step, i.e. the state after the step before."""
        from brian2 import StateMonitor
        size = self.net.populations[r.population].size
        if isinstance(r.neurons, int):
            neurons = np.unique(np.linspace(0, size - 1, min(r.neurons, size)).round().astype(np.int64))
        else:
            neurons = np.asarray(r.neurons, np.int64)
        G = self.groups[r.population]
        k = len(self.state_monitors)
        M = StateMonitor(G, ["v", "isyn", "lastspike"], record=neurons, dt=r.every * DT, when="start",
                         name=f"nk_state_{k}")
        self.state_monitors.append((r, neurons, M))
        return M

    def _write_state(self, writer, n_steps):
        """Samples as the native engine writes them: after steps every-1, 2·every-1, ... (<= n_steps-1)."""
        for r, neurons, M in self.state_monitors:
            G = self.groups[r.population]
            n_ref = int(round(self.net.populations[r.population].params.t_ref / self.dt))
            steps = np.rint(np.asarray(M.t_[:]) / self.dt).astype(np.int64)
            cols = {"v": np.asarray(M.v[:]), "isyn": np.asarray(M.isyn[:]), "lastspike": np.asarray(M.lastspike_[:])}
            samples = [(int(t), {k: c[:, j] for k, c in cols.items()}) for j, t in enumerate(steps) if t > 0]
            if n_steps % r.every == 0:
                samples.append((n_steps, {"v": np.asarray(G.v[:])[neurons], "isyn": np.asarray(G.isyn[:])[neurons],
                                          "lastspike": np.asarray(G.lastspike_[:])[neurons]}))
            for t, vals in samples:
                for var in r.vars:
                    if var == "v":
                        x = vals["v"]
                    elif var == "i":
                        x = vals["isyn"]
                    else:  # ref: steps the membrane stays held; n_ref-1 right after a spike, counting down
                        last = np.rint(vals["lastspike"] / self.dt)
                        x = np.maximum(n_ref - 1 - (t - 1 - last), 0) if n_ref > 1 else np.zeros(len(neurons))
                        x = np.where(np.isfinite(x), x, 0.0)
                    writer.add_state(r.population, var, t - 1, np.asarray(x, np.float64)[None, :], neurons)

    def _lif_group(self, name, p, NeuronGroup, BinomialFunction, DT, second):
        dt = self.dt
        delta = p.tau_syn == 0
        self.delta[name] = delta
        degenerate = (not delta and p.method == "exact" and math.isclose(p.tau_syn, p.tau_mem))
        flag = "" if degenerate else " (unless refractory)"
        if delta:
            eqs = f"dv/dt = (v_leak - v + iext)/tau_mem : 1{flag}\nisyn : 1\n"
        else:
            tau_i = "tau_mem" if degenerate else "tau_syn"
            eqs = f"dv/dt = (v_leak - v + isyn + iext)/tau_mem : 1{flag}\ndisyn/dt = -isyn/{tau_i} : 1\n"
        eqs += "iext : 1\n"
        currents = [(k, inp) for k, inp in enumerate(self.spec.inputs) if inp.type == "current" and inp.target == name]
        for k, inp in enumerate(self.spec.inputs):
            if inp.type in ("poisson", "current") and inp.target == name:
                eqs += f"mask_{k} : 1 (constant)\n"
        if degenerate:
            eqs += "v_hold : 1\n"
        n_ref = int(round(p.t_ref / dt))
        ns = dict(tau_mem=p.tau_mem * second, tau_syn=max(p.tau_syn, 1e-300) * second, v_th=float(p.v_th),
                  v_reset=float(p.v_reset), v_leak=float(p.v_leak))
        reset = "v = v_reset" if p.reset == "to_value" else "v = v - (v_th - v_reset)"
        method = "exact" if p.method == "exact" else "euler"
        G = NeuronGroup(self.net.populations[name].size, eqs, threshold="v > v_th", reset=reset,
                        refractory=n_ref * DT, method=method, namespace=ns, dt=DT, name=f"nk_{name}")
        G.v = float(p.v_leak)
        if currents:
            terms, cns = [], {}
            for k, inp in currents:
                start = int(round(inp.params.get("start", 0.0) / dt))
                stop = int(round(inp.params.get("stop", self.spec.duration) / dt))
                cns[f"amp_{k}"] = float(inp.params["amplitude"])
                terms.append(f"amp_{k} * mask_{k} * int(timestep(t, dt) >= {start} and timestep(t, dt) < {stop})")
            G.namespace.update(cns)
            G.run_regularly("iext = " + " + ".join(terms), when="before_groups", order=0, name=f"nk_{name}_iext")
        for k, inp in enumerate(self.spec.inputs):
            if inp.type not in ("poisson", "current") or inp.target != name:
                continue
            mask = np.zeros(G.N, float)
            mask[slice(None) if inp.neurons is None else np.asarray(inp.neurons)] = 1.0
            setattr(G, f"mask_{k}", mask)
            if inp.type == "poisson":
                n, pr = int(inp.params.get("n_sources", 1)), float(inp.params["rate"]) * dt
                if pr <= 0 or inp.params["weight"] == 0:
                    continue
                G.namespace[f"drive_w_{k}"] = float(inp.params["weight"])
                G.namespace[f"nk_binom_{k}"] = BinomialFunction(n, pr, approximate=False, name=f"nk_binom_{k}")
                if delta:
                    code = f"v += int(not_refractory) * mask_{k} * drive_w_{k} * nk_binom_{k}()"
                else:
                    code = f"isyn += mask_{k} * drive_w_{k} * nk_binom_{k}()"
                G.run_regularly(code, when="before_thresholds" if delta else "synapses", order=0,
                                name=f"nk_{name}_drive_{k}")
        if degenerate:
            G.run_regularly("v_hold = v", when="before_groups", order=1, name=f"nk_{name}_hold0")
            G.run_regularly("v = v * int(not_refractory) + v_hold * int(not not_refractory)",
                            when="after_groups", order=0, name=f"nk_{name}_hold1")
        return G

    def _projection(self, pname, rp, Synapses, DT, second):
        csr = rp.csr
        pre, post = csr.pre(), csr.indices.astype(np.int64)
        w = csr.weights.astype(np.float64)
        delays = csr.delays.astype(np.int64)
        delta = self.delta[rp.post]
        shift = 1 if delta else 0
        Gpre, Gpost = self.groups[rp.pre], self.groups[rp.post]
        tx = "v_post += {w} * int(not_refractory_post)" if delta else "isyn_post += {w}"
        when = "before_thresholds" if delta else "synapses"
        plastic = np.zeros(csr.n_syn, bool)
        if rp.rule is not None:
            plastic = np.ones(csr.n_syn, bool) if rp.plastic is None else np.asarray(rp.plastic, bool)
        out = []
        st = ~plastic
        self.syn[pname] = {}
        if st.any():
            S = Synapses(Gpre, Gpost, "w : 1 (constant)", on_pre=tx.format(w="w"), dt=DT, name=f"nk_{pname}_static")
            S.connect(i=pre[st], j=post[st])
            S.w = w[st]
            S.pre.delay = (delays[st] - shift) * DT
            S.pre.when = when
            S.pre.order = -1
            self.syn[pname]["static"] = (S, np.flatnonzero(st))
            out.append(S)
        if plastic.any():
            model, dep, pot, ns = _stdp_code(rp.rule)
            ns = {k: (v * second if k.startswith("tau") else v) for k, v in ns.items()}
            P = Synapses(Gpre, Gpost, model, on_pre={"pre": tx.format(w="wtx"), "stdp_pre": dep},
                         on_post={"post": pot}, delay={"stdp_pre": 0 * second}, namespace=ns, dt=DT,
                         name=f"nk_{pname}_plastic")
            P.connect(i=pre[plastic], j=post[plastic])
            P.w = w[plastic]
            P.wtx = w[plastic]
            P.pre.delay = (delays[plastic] - shift) * DT
            P.pre.when = when
            P.pre.order = -2
            P.stdp_pre.order = -1
            P.post.order = 1
            self.syn[pname]["plastic"] = (P, np.flatnonzero(plastic))
            out.append(P)
        for S, idx in self.syn[pname].values():
            if not (np.array_equal(np.asarray(S.i[:]), pre[idx]) and np.array_equal(np.asarray(S.j[:]), post[idx])):
                raise RuntimeError(f"Brian2 reordered the synapses of projection {pname!r}")
        return out

    # ------------------------------------------------------------------------------------ running

    def _snapshot(self, pname):
        csr = self.net.projections[pname].csr
        w = csr.weights.astype(np.float64).copy()
        for S, idx in self.syn[pname].values():
            w[idx] = np.asarray(S.w[:], np.float64)
        return csr.indptr.copy(), csr.indices.astype(np.int32), w[None, :]

    def run(self, keep_spikes: bool = False, writer=None, progress: bool = False) -> RunResult:
        """Simulate the spec's duration once (a fresh Brian2 network per call)."""
        b2 = self.b2
        from brian2 import second
        spec, dt, n_steps = self.spec, self.dt, self.spec.n_steps
        self._build(record_state=writer is not None)
        rec_w = {r.projection: r.every for r in spec.record.weights} if writer is not None else {}
        initial = {p: self._snapshot(p) for p in self.net.projections}
        for name in rec_w:
            writer.add_weights(name, 0, *initial[name])
        stops = sorted({n_steps} | {s for e in rec_w.values() for s in range(e, n_steps, e)})
        b2.seed(subseed(spec.seed, "brian2") % (2**32))
        t0 = time.perf_counter()
        done = 0
        for stop in stops:
            self.bnet.run((stop - done) * dt * second, report="text" if progress else None)
            done = stop
            for name, every in rec_w.items():
                if stop % every == 0 or stop == n_steps:
                    writer.add_weights(name, stop, *self._snapshot(name))
        wall = time.perf_counter() - t0
        counts, kept = {}, {}
        for name, M in self.monitors.items():
            counts[name] = np.asarray(M.count[:], np.int64)[None, :]
            if name in self._rec_spikes and (keep_spikes or writer is not None):
                n = np.asarray(M.i[:], np.int64)
                s = np.rint(np.asarray(M.t_[:]) / dt).astype(np.int64)
                b = np.zeros_like(n)
                if keep_spikes:
                    kept[name] = (b, n, s)
                if writer is not None and n.size:
                    writer.add_spikes(name, b, n, s)
        if writer is not None:
            self._write_state(writer, n_steps)
            writer.flush()
        result = RunResult(n_steps, dt, 1, wall, counts, spikes=kept, initial_weights=initial)
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


__all__ = ["Brian2Engine", "TARGETS"]
