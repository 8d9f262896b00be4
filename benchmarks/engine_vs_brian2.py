"""Time the native engine against Brian2 on the same network, in one run, and print the ratio.

The network is topologies/ba_stdp.toml: Barabási–Albert N=10,000, m=10, every edge in both directions
(199,800 synapses), 80/20 E/I with Dale's law, independent Poisson drive, pair STDP on E→E synapses,
dt = 0.1 ms. Both simulators get the very same synapses (our realised CSR is handed to Brian2), the
same neuron model and plasticity semantics (benchmarks/brian2_peer.py), and record every spike.
One-time compilation (torch.compile for us, Cython/C++ for Brian2) is warmed first and reported on its
own line; the timed runs start from compiled code.

    python benchmarks/engine_vs_brian2.py --duration 5 [--targets cython cpp_standalone]

Both Brian2 targets run by default: cython (runtime mode; compile = the warm-up build and short run) and
cpp_standalone (one C++ program; compile = code generation + make, run = the binary's own time-stepping
loop). The last lines print our speed ratio against each.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from brian2_peer import simulate_brian2  # noqa: E402

from neurokit_bdh.engine import NativeEngine  # noqa: E402
from neurokit_bdh.graph.network import realise  # noqa: E402
from neurokit_bdh.graph.spec import load_spec  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "topologies" / "ba_stdp.toml"


def brian2_net(net) -> dict:
    """The realised network as brian2_peer's dict: identical synapses, parameters and drive."""
    pop, proj = net.populations["net"], net.projections["rec"]
    p, rule = pop.params, proj.rule
    drive = next(i for i in net.spec.inputs if i.type == "poisson")
    csr = proj.csr
    return dict(
        n=pop.size, dt=net.spec.dt, is_exc=pop.is_exc,
        lif=dict(tau_mem=p.tau_mem, tau_syn=p.tau_syn, v_th=p.v_th, v_reset=p.v_reset, v_leak=p.v_leak,
                 t_ref=p.t_ref),
        pre=csr.pre(), post=csr.indices.astype(np.int64), w=csr.weights, delay_steps=csr.delays,
        plastic=proj.plastic, stdp=dict(a_plus=rule.a_plus, a_minus=rule.a_minus, tau_plus=rule.tau_plus,
                                        tau_minus=rule.tau_minus, w_min=rule.w_min, w_max=rule.w_max),
        poisson=dict(rate=drive.params["rate"], weight=drive.params["weight"]))


def run_native(spec, duration):
    from dataclasses import replace
    warm = NativeEngine(realise(replace(spec, duration=0.05)), compile=True)
    t0 = time.perf_counter()
    warm.run()
    compile_s = time.perf_counter() - t0
    net = realise(replace(spec, duration=duration))
    eng = NativeEngine(net, compile=True)
    eng._compiled = warm._compiled  # reuse the compiled kernels (same shapes and coefficients)
    r = eng.run(keep_spikes=True)
    return net, r, compile_s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=5.0, help="biological time (s)")
    ap.add_argument("--targets", nargs="+", default=["cython", "cpp_standalone"],
                    choices=["cython", "cpp_standalone", "numpy"])
    a = ap.parse_args(argv)
    import torch
    spec = load_spec(SPEC)
    net, r, compile_s = run_native(spec, a.duration)
    is_exc = net.populations["net"].is_exc
    bnet = brian2_net(net)
    print(f"network: N={net.populations['net'].size:,}, synapses={net.projections['rec'].csr.n_syn:,} "
          f"({int(bnet['plastic'].sum()):,} plastic E->E), dt={spec.dt * 1e3:g} ms, {a.duration:g} s biological time")
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} torch threads available (engine runs 1)")
    print(f"neurokit native : compile (one-time) {compile_s:6.1f} s | run {r.wall_s:7.2f} s | "
          f"rate {r.rate('net'):.2f} Hz (E {r.rate('net', is_exc):.2f}, I {r.rate('net', ~is_exc):.2f})")
    import brian2
    ratios = []
    for target in a.targets:
        b = simulate_brian2(bnet, a.duration, target=target, seed=spec.seed)
        rates = b["rates"]
        rate = float(np.mean(rates))
        make = f" (make {b['make_s']:.1f} s)" if "make_s" in b else ""
        print(f"brian2 {brian2.__version__} {target:14s}: compile (one-time) {b['compile_s']:6.1f} s{make} | "
              f"run {b['run_s']:7.2f} s | rate {rate:.2f} Hz "
              f"(E {rates[is_exc].mean():.2f}, I {rates[~is_exc].mean():.2f})")
        ratio = b["run_s"] / r.wall_s
        who = (f"neurokit is {ratio:.2f}x faster than brian2 {target}" if ratio >= 1
               else f"brian2 {target} is {1 / ratio:.2f}x faster than neurokit")
        print(f"  -> {who}; mean rates differ by {abs(r.rate('net') - rate) / rate:.1%}")
        ratios.append((target, b["run_s"] / r.wall_s, b["compile_s"]))
    print("summary (ratio = brian2 run time / neurokit run time, > 1: we are faster; compile times excluded):")
    for target, ratio, comp in ratios:
        print(f"  brian2 {target:14s}: {ratio:6.2f}x   (its one-time compile: {comp:.1f} s; ours: {compile_s:.1f} s)")

if __name__ == "__main__":
    main()
