"""Brian2 peer simulation of the benchmark network (the reference our engine is timed against).

``simulate_brian2(net, duration, target="cython")`` builds the network described by ``net`` in
Brian2 and returns timings, rates, spikes and the final plastic weights.  ``target`` is one of
``"cython"`` / ``"numpy"`` (runtime mode, ``prefs.codegen.target``) or ``"cpp_standalone"``.

Model (dimensionless ``v`` and ``i``, time in seconds)::

    dv/dt = (v_leak - v + i)/tau_mem : 1 (unless refractory)     method='exact'
    di/dt = -i/tau_syn               : 1
    threshold 'v > v_th', reset 'v = v_reset', refractory=t_ref; v(0) = v_leak, i(0) = 0

(``i`` is reserved in Brian2 -- the neuron index -- so the current is called ``isyn`` in the
Brian2 code.)

* transmission: a spike emitted in step k reaches ``isyn_post += w`` in step ``k + delay_steps``
  (Brian2 ``delay = delay_steps*dt``; delivered in the 'synapses' slot, after the state update
  and the threshold of that step, so it affects ``v`` from step ``k + delay_steps + 1``);
* pair STDP on the plastic (E->E) synapses only, at spike *emission* (an undelayed pathway):
  pre spike ``w = clip(w - a_minus*xpost, w_min, w_max); xpre += 1``, then post spike
  ``w = clip(w + a_plus*xpre, w_min, w_max); xpost += 1`` (event-driven traces);
* Poisson drive, per neuron and step: ``isyn += weight`` with probability ``rate*dt``, i.e.
  ``PoissonInput(G, 'isyn', N=1, rate, weight)``.  By default it is written as an equivalent
  ``run_regularly`` in the same slot (``poisson_impl="bernoulli"``) because every PoissonInput
  gets a fresh internal function name, which makes Cython recompile inside the timed run;
  ``poisson_impl="PoissonInput"`` uses the real thing.

Order inside one step (Brian2 default schedule, made explicit here): groups (state update) ->
thresholds -> synapses [plastic transmission 'pre' (order -2) -> static transmission (-1) ->
STDP depression 'stdp_pre' (-1, name sorts after) -> PoissonInput (0) -> STDP potentiation
'post' (1)] -> resets.  Transmission therefore uses ``w`` *before* this step's STDP update
(``transmit_before_stdp=False`` flips that), and uses the weight current at *arrival* time,
not at emission time (Brian2 reads ``w`` when the delayed event is delivered).

Run ``python benchmarks/brian2_peer.py --n 10000 --m 10 --duration 1 --target cython cpp_standalone``.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import tempfile
import time

import numpy as np

DEFAULT_LIF = dict(tau_mem=20e-3, tau_syn=5e-3, v_th=1.0, v_reset=0.0, v_leak=0.0, t_ref=2e-3)
DEFAULT_STDP = dict(a_plus=0.001, a_minus=0.00105, tau_plus=20e-3, tau_minus=20e-3,
                    w_min=0.0, w_max=0.04)
TARGETS = ("cython", "numpy", "cpp_standalone")

NEURON_EQS = """
dv/dt = (v_leak - v + isyn)/tau_mem : 1 (unless refractory)
disyn/dt = -isyn/tau_syn : 1
"""
STATIC_MODEL = "w : 1 (constant)"
STATIC_ON_PRE = "isyn_post += w"
PLASTIC_MODEL = """
w : 1
dxpre/dt = -xpre/tau_plus : 1 (event-driven)
dxpost/dt = -xpost/tau_minus : 1 (event-driven)
"""
PLASTIC_ON_PRE = {
    "pre": "isyn_post += w",                                                  # delayed transmission
    "stdp_pre": "w = clip(w - a_minus*xpost, w_min, w_max)\nxpre += 1",    # undelayed depression
}
PLASTIC_ON_POST = {"post": "w = clip(w + a_plus*xpre, w_min, w_max)\nxpost += 1"}


def _namespace(net):
    from brian2 import second
    lif = {**DEFAULT_LIF, **net.get("lif", {})}
    stdp = {**DEFAULT_STDP, **(net.get("stdp") or {})}
    return {
        "tau_mem": lif["tau_mem"] * second, "tau_syn": lif["tau_syn"] * second,
        "v_th": float(lif["v_th"]), "v_reset": float(lif["v_reset"]),
        "v_leak": float(lif["v_leak"]), "t_ref": lif["t_ref"] * second,
        "a_plus": float(stdp["a_plus"]), "a_minus": float(stdp["a_minus"]),
        "tau_plus": stdp["tau_plus"] * second, "tau_minus": stdp["tau_minus"] * second,
        "w_min": float(stdp["w_min"]), "w_max": float(stdp["w_max"]),
    }


def _build(net, ns, record_spikes, transmit_before_stdp=True, poisson_impl="bernoulli"):
    """Create all Brian2 objects for ``net`` and return (Network, handles). Names are fixed so a
    rebuilt network generates byte-identical code (and hits the Cython cache)."""
    from brian2 import Hz, NeuronGroup, Network, PoissonInput, SpikeMonitor, Synapses, second

    n = int(net["n"])
    dt = float(net["dt"])
    ns = dict(ns)
    pre = np.asarray(net["pre"], dtype=np.int64)
    post = np.asarray(net["post"], dtype=np.int64)
    w = np.asarray(net["w"], dtype=np.float64)
    delay = np.asarray(net["delay_steps"], dtype=np.int64)
    plastic = np.asarray(net.get("plastic", np.zeros(len(pre), bool)), dtype=bool)
    if len(pre) and delay.min() < 1:
        raise ValueError("delay_steps must be >= 1")
    if float(ns["tau_syn"]) <= 0:
        raise NotImplementedError("tau_syn = 0 (delta synapses) is not mapped to Brian2 here")
    pois = net.get("poisson") or {}
    ns["poisson_w"] = float(pois.get("weight", 0.0))
    ns["poisson_p"] = float(pois.get("rate", 0.0)) * dt

    eqs = NEURON_EQS
    if math.isclose(float(ns["tau_mem"]), float(ns["tau_syn"]), rel_tol=1e-6):
        # Brian2's 'exact' solution of this system (with '(unless refractory)', which makes the
        # v equation's rate tau_mem/not_refractory) divides by (tau_mem - tau_syn) -- or by
        # (not_refractory - 1) with literal equal taus -- giving NaN. Nudge tau_syn by 1e-6
        # (relative): the per-step coefficients change by ~1e-7, below float32 resolution.
        ns["tau_syn"] = ns["tau_mem"] * (1 + 1e-6)
    G = NeuronGroup(n, eqs, threshold="v > v_th", reset="v = v_reset",
                    refractory=ns["t_ref"], method="exact", namespace=ns, name="nk_neurons")
    G.v = ns["v_leak"]
    G.isyn = 0.0
    objs = [G]
    h = {"G": G, "plastic_idx": np.flatnonzero(plastic)}

    st = ~plastic
    if st.any():
        S = Synapses(G, G, STATIC_MODEL, on_pre=STATIC_ON_PRE, namespace=ns, name="nk_static")
        S.connect(i=pre[st], j=post[st])
        S.w = w[st]
        S.delay = delay[st] * dt * second          # heterogeneous, per synapse
        S.pre.order = -1
        objs.append(S)
        h["S_static"] = S
    if plastic.any():
        P = Synapses(G, G, PLASTIC_MODEL, on_pre=PLASTIC_ON_PRE, on_post=PLASTIC_ON_POST,
                     delay={"stdp_pre": 0 * second},   # scalar zero delay for the STDP pathway
                     namespace=ns, name="nk_plastic")
        P.connect(i=pre[plastic], j=post[plastic])
        P.w = w[plastic]
        P.pre.delay = delay[plastic] * dt * second    # heterogeneous delays, 'pre' pathway only
        # explicit order (Brian2 defaults: every on_pre pathway -1, every on_post pathway +1,
        # ties broken by object name: 'nk_plastic_pre' < 'nk_plastic_stdp_pre')
        P.pre.order = -2 if transmit_before_stdp else 0
        P.stdp_pre.order = -1
        P.post.order = 1
        objs.append(P)
        h["S_plastic"] = P

    if pois.get("rate", 0) > 0 and pois.get("weight", 0) != 0:
        rate, weight = float(pois["rate"]), float(pois["weight"])
        if poisson_impl == "PoissonInput":
            objs.append(PoissonInput(G, "isyn", N=1, rate=rate * Hz, weight=weight))
        elif poisson_impl == "bernoulli":
            # Same as PoissonInput(N=1) (a Binomial(1, rate*dt) jump per neuron and step, in the
            # same 'synapses' slot with order 0) but with a fixed name: every PoissonInput
            # creates a new BinomialFunction 'poissoninput_binomial_<k>' that Brian2's caches
            # keep alive, so each rebuilt network has new code and Cython recompiles it inside
            # the timed run (~2 s), defeating the warm-up.
            p = rate * dt
            if not 0 <= p <= 1:
                raise ValueError(f"poisson rate*dt = {p} is not a probability")
            G.run_regularly("isyn += poisson_w * int(rand() < poisson_p)", when="synapses",
                            order=0, name="nk_poisson")
        else:
            raise ValueError(f"poisson_impl must be 'bernoulli' or 'PoissonInput', "
                             f"got {poisson_impl!r}")
    M = SpikeMonitor(G, record=bool(record_spikes), name="nk_spikes")
    objs.append(M)
    h["M"] = M
    return Network(*objs, name="nk_network"), h


def _collect(h, net, duration, record_spikes):
    dt = float(net["dt"])
    n = int(net["n"])
    counts = np.asarray(h["M"].count[:], dtype=np.int64)
    out = {
        "n_spikes": int(counts.sum()),
        "mean_rate_hz": float(counts.sum() / n / duration),
        "rates": counts / duration,
    }
    if record_spikes:
        out["spike_i"] = np.asarray(h["M"].i[:], dtype=np.int64)
        out["spike_step"] = np.rint(np.asarray(h["M"].t_[:]) / dt).astype(np.int64)
    if "S_plastic" in h:
        P = h["S_plastic"]
        out["w_plastic"] = np.asarray(P.w[:], dtype=np.float64)
        out["plastic_idx"] = h["plastic_idx"]
        # Brian2 keeps the connect(i=, j=) order; check it so w_plastic aligns with plastic_idx
        pre = np.asarray(net["pre"])[h["plastic_idx"]]
        post = np.asarray(net["post"])[h["plastic_idx"]]
        if not (np.array_equal(P.i[:], pre) and np.array_equal(P.j[:], post)):
            raise RuntimeError("Brian2 reordered the plastic synapses")
    else:
        out["w_plastic"] = np.zeros(0)
        out["plastic_idx"] = np.zeros(0, np.int64)
    return out


def _run_runtime(net, duration, target, seed, record_spikes, warmup, transmit_before_stdp,
                 poisson_impl):
    import brian2 as b2
    from brian2 import defaultclock, prefs, second
    from brian2.devices.device import get_device, runtime_device

    if get_device() is not runtime_device:
        b2.set_device("runtime")
    prefs.codegen.target = target
    ns = _namespace(net)
    defaultclock.dt = float(net["dt"]) * second

    # 1) compilation warm-up: identical network, short run (Cython compiles + caches code)
    t0 = time.perf_counter()
    b2.seed(seed)
    wnet, wh = _build(net, ns, record_spikes, transmit_before_stdp, poisson_impl)
    wnet.run(min(warmup, duration) * second)
    compile_s = time.perf_counter() - t0
    del wnet, wh
    gc.collect()

    # 2) the timed build and run
    t0 = time.perf_counter()
    b2.seed(seed)
    bnet, h = _build(net, ns, record_spikes, transmit_before_stdp, poisson_impl)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    bnet.run(duration * second)
    run_s = time.perf_counter() - t0
    loop_s = float(b2.get_device()._last_run_time)   # time-stepping loop only (no before_run)
    out = dict(build_s=build_s, compile_s=compile_s, run_s=run_s, loop_s=loop_s)
    out.update(_collect(h, net, duration, record_spikes))
    del bnet, h
    gc.collect()
    return out


def _run_standalone(net, duration, seed, record_spikes, directory, openmp_threads,
                    transmit_before_stdp, poisson_impl):
    import brian2 as b2
    from brian2 import defaultclock, prefs, second

    if directory is None:
        # stable per-network directory: a rebuild only recompiles the files that changed
        key = hashlib.sha1(f"{net['n']}-{len(net['pre'])}-{openmp_threads}".encode()).hexdigest()[:10]
        directory = os.path.join(tempfile.gettempdir(), f"brian2_peer_standalone_{key}")
    b2.set_device("cpp_standalone", build_on_run=False, directory=directory)
    prefs.devices.cpp_standalone.openmp_threads = int(openmp_threads)
    try:
        ns = _namespace(net)
        defaultclock.dt = float(net["dt"]) * second
        t0 = time.perf_counter()
        b2.seed(seed)
        bnet, h = _build(net, ns, record_spikes, transmit_before_stdp, poisson_impl)
        bnet.run(duration * second)                  # only recorded, nothing runs yet
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=True, with_output=False)
        total = time.perf_counter() - t0
        dev = b2.device
        run_binary_s = float(dev.timers["run_binary"])
        out = dict(build_s=build_s,
                   compile_s=total - run_binary_s,      # code generation + make
                   make_s=float(dev.timers["compile"]["make"] or 0.0),
                   run_s=float(dev._last_run_time),     # simulation loop inside the binary
                   run_binary_s=run_binary_s,           # whole binary (incl. array I/O)
                   directory=directory)
        out.update(_collect(h, net, duration, record_spikes))
        del bnet, h
    finally:
        b2.device.reinit()
        b2.device.activate()
        b2.set_device("runtime")
        gc.collect()
    return out


def simulate_brian2(net: dict, duration: float, target: str = "cython", seed: int = 0,
                    record_spikes: bool = True, *, warmup: float = 10e-3,
                    standalone_dir: str | None = None, openmp_threads: int = 0,
                    transmit_before_stdp: bool = True,
                    poisson_impl: str = "bernoulli") -> dict:
    """Simulate ``net`` for ``duration`` seconds in Brian2 and return timings and results.

    Returns a dict with ``build_s`` (object creation + connect), ``compile_s`` (one-time code
    compilation: the warm-up build + ``warmup`` s run in runtime mode; code generation + make
    for cpp_standalone), ``run_s`` (timed simulation with compiled code: wall time of
    ``Network.run`` in runtime mode, the binary's own loop time for cpp_standalone),
    ``loop_s`` (runtime: time-stepping loop only) or ``run_binary_s`` / ``make_s``
    (standalone), ``n_spikes``, ``mean_rate_hz``, ``rates`` (Hz per neuron), ``spike_i`` and
    ``spike_step`` (if ``record_spikes``), ``w_plastic`` (final weights of the plastic synapses,
    in the order of ``plastic_idx = flatnonzero(net['plastic'])``), and ``target``.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    duration = float(duration)
    if target == "cpp_standalone":
        out = _run_standalone(net, duration, seed, record_spikes, standalone_dir,
                              openmp_threads, transmit_before_stdp, poisson_impl)
    else:
        out = _run_runtime(net, duration, target, seed, record_spikes, warmup,
                           transmit_before_stdp, poisson_impl)
    out["target"] = target
    out["duration"] = duration
    return out


def make_ba_net(n=10_000, m=10, seed=0, n_exc=None, w_exc=0.02, w_inh=-0.08, delay_steps=15,
                dt=1e-4, poisson_rate=1000.0, poisson_weight=0.18, lif=None, stdp=None) -> dict:
    """Barabasi-Albert graph (networkx, ``seed``), both directions of every edge; the first
    ``n_exc`` (default 80 %) neurons of a random permutation are excitatory.

    The drive sets the rate: mean current = rate*weight*tau_syn (0.9 with the defaults, just
    below v_th = 1), so firing is fluctuation-driven and asynchronous, ~7 Hz at N=10k, m=10
    (weight 0.17: ~4.4 Hz, 0.19: ~10 Hz; 0.1 leaves the network silent)."""
    import networkx as nx
    g = nx.barabasi_albert_graph(n, m, seed=seed)
    e = np.asarray(g.edges(), dtype=np.int64).reshape(-1, 2)
    pre = np.concatenate([e[:, 0], e[:, 1]])
    post = np.concatenate([e[:, 1], e[:, 0]])
    rng = np.random.default_rng(seed)
    n_exc = int(round(0.8 * n)) if n_exc is None else n_exc
    is_exc = rng.permutation(n) < n_exc
    w = np.where(is_exc[pre], w_exc, w_inh).astype(np.float32)
    return dict(
        n=n, dt=dt, lif=dict(DEFAULT_LIF, **(lif or {})),
        pre=pre, post=post, w=w,
        delay_steps=np.full(len(pre), delay_steps, dtype=np.int32),
        plastic=is_exc[pre] & is_exc[post], is_exc=is_exc,
        stdp=dict(DEFAULT_STDP, **(stdp or {})),
        poisson=dict(rate=poisson_rate, weight=poisson_weight),
    )


def _irregularity(r, net, duration, burn_in=0.2):
    """Synchrony/regularity after ``burn_in`` s (the start is synchronous: every v starts at
    v_leak): Fano factor of the 1 ms population count (~1 asynchronous, >>1 synchronous) and
    mean ISI CV over neurons with >= 3 spikes (~1 Poisson-like, ~0 clock-like)."""
    dt = float(net["dt"])
    k0 = int(round(min(burn_in, duration / 2) / dt))
    keep = r["spike_step"] >= k0
    st, si = r["spike_step"][keep], r["spike_i"][keep]
    b = max(1, int(round(1e-3 / dt)))
    nb = (int(round(duration / dt)) - k0) // b
    pop = np.bincount((st - k0) // b, minlength=nb)[:nb]
    fano = pop.var() / max(pop.mean(), 1e-12)
    order = np.lexsort((st, si))
    st, si = st[order], si[order]
    same = si[1:] == si[:-1]
    isi = np.diff(st)[same].astype(float)
    owner = si[1:][same]
    cnt = np.bincount(owner, minlength=int(net["n"]))
    s1 = np.bincount(owner, isi, minlength=int(net["n"]))
    s2 = np.bincount(owner, isi * isi, minlength=int(net["n"]))
    ok = cnt >= 2
    mu = s1[ok] / cnt[ok]
    cv = np.sqrt(np.maximum(s2[ok] / cnt[ok] - mu * mu, 0)) / mu
    cvs = f"{cv.mean():.2f}" if ok.any() else "n/a"
    return f"after {k0 * dt:g}s: pop Fano(1ms) {fano:.2f}, ISI CV {cvs}"


def _summary(r, net, duration):
    counts = r["rates"] * duration
    line = (f"[{r['target']}] build {r['build_s']:.2f}s  compile {r['compile_s']:.2f}s  "
            f"run {r['run_s']:.2f}s")
    if "loop_s" in r:
        line += f" (loop {r['loop_s']:.2f}s)"
    if "run_binary_s" in r:
        line += f" (binary {r['run_binary_s']:.2f}s, make {r['make_s']:.2f}s)"
    line += f"  for {duration:g}s bio"
    is_exc = net.get("is_exc")
    line2 = f"  spikes {r['n_spikes']}  mean rate {r['mean_rate_hz']:.2f} Hz"
    if is_exc is not None:
        line2 += (f"  (E {r['rates'][is_exc].mean():.2f} Hz, I {r['rates'][~is_exc].mean():.2f} Hz,"
                  f" max {r['rates'].max():.1f} Hz, silent {np.mean(counts == 0) * 100:.1f}%)")
    if "spike_step" in r and r["n_spikes"]:
        line2 += "  " + _irregularity(r, net, duration)
    if len(r["w_plastic"]):
        w0 = np.asarray(net["w"])[r["plastic_idx"]]
        line2 += f"  w_EE mean {w0.mean():.4f}->{r['w_plastic'].mean():.4f}"
    return line + "\n" + line2


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--m", type=int, default=10)
    ap.add_argument("--duration", type=float, default=1.0)
    ap.add_argument("--target", nargs="+", default=["cython", "cpp_standalone"], choices=TARGETS,
                    help="one or more Brian2 targets, run one after the other on the same network")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--w-exc", type=float, default=0.02)
    ap.add_argument("--w-inh", type=float, default=-0.08)
    ap.add_argument("--poisson-rate", type=float, default=1000.0)
    ap.add_argument("--poisson-weight", type=float, default=0.18,
                    help="jump of i per Poisson input spike (0.18 -> ~7 Hz; 0.1 -> silent)")
    ap.add_argument("--poisson-impl", default="bernoulli", choices=("bernoulli", "PoissonInput"))
    ap.add_argument("--delay-steps", type=int, default=15)
    ap.add_argument("--threads", type=int, default=0, help="OpenMP threads (cpp_standalone)")
    ap.add_argument("--no-spikes", action="store_true", help="do not record spike times")
    a = ap.parse_args(argv)

    t0 = time.perf_counter()
    net = make_ba_net(a.n, a.m, seed=a.seed, w_exc=a.w_exc, w_inh=a.w_inh,
                      delay_steps=a.delay_steps, poisson_rate=a.poisson_rate,
                      poisson_weight=a.poisson_weight)
    print(f"network: n={a.n} m={a.m} synapses={len(net['pre'])} "
          f"plastic={int(net['plastic'].sum())}  (networkx {time.perf_counter() - t0:.2f}s)")
    out = {}
    for target in a.target:
        out[target] = r = simulate_brian2(net, a.duration, target=target, seed=a.seed,
                                          record_spikes=not a.no_spikes, openmp_threads=a.threads,
                                          poisson_impl=a.poisson_impl)
        print(_summary(r, net, a.duration))
    if "cython" in out and "cpp_standalone" in out:
        print(f"cpp_standalone runs {out['cython']['run_s'] / out['cpp_standalone']['run_s']:.2f}x faster than "
              f"cython (compile {out['cpp_standalone']['compile_s']:.1f} s vs {out['cython']['compile_s']:.1f} s)")
    return out


if __name__ == "__main__":
    main()
