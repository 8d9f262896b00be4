"""05 — The flagship network: a scale-free E/I network of 10,000 LIF neurons with STDP, recorded to HDF5.

``topologies/ba_stdp.toml``: a Barabási–Albert graph (m = 10, every edge in both directions: 199,800
synapses), 80 % excitatory neurons (Dale's law; inhibitory weights are −g·w), independent Poisson drive,
and pair STDP on the excitatory→excitatory synapses. We simulate a shortened run (2 s; 0.2 s in fast
mode), write the run file, then read it back with ``open_run`` — the way an analysis would, long after
the simulation — for rates, weight change and figures (``analysis.plots``).

Same as ``neurokit demo``, as a script you can edit.
"""
import numpy as np

from _common import done, repo_file, setup
from neurokit_bdh.analysis.plots import raster_png, weight_histograms_png
from neurokit_bdh.graph.spec import load_spec
from neurokit_bdh.io.runfile import open_run
from neurokit_bdh.simulate import simulate

args = setup(__file__, __doc__)

DURATION = 0.2 if args.fast else 2.0
spec_path = repo_file("topologies", "ba_stdp.toml")
spec = load_spec(spec_path)
proj = spec.projections[0]
print(f"spec {spec_path.name}: {spec.populations[0].size} neurons, topology {proj.topology} "
      f"{proj.topology_params}, plasticity {proj.plasticity['rule']} on {proj.plasticity['on']}")

run_path = args.out / "ba_stdp.h5"
# compile=False: torch.compile would pay a one-time compilation (tens of seconds) that a short run never recovers
r = simulate(spec_path, run_path, duration=DURATION, overwrite=True, compile=False)
print(f"simulated {r.n_steps * r.dt:g} s in {r.wall_s:.1f} s wall -> {run_path} "
      f"({run_path.stat().st_size / 1e6:.1f} MB)")

with open_run(run_path) as run:
    is_exc = run.population_data("net", "is_exc").astype(bool)     # (10000,) Dale's law assignment
    counts = run.spike_counts("net")[0]                              # (10000,) spikes per neuron, trial 0
    T = run.steps_done * run.dt
    print(f"status {run.status}; {run.n_events('net'):,} spikes")
    print(f"rates: excitatory {counts[is_exc].mean() / T:.2f} Hz, inhibitory {counts[~is_exc].mean() / T:.2f} Hz, "
          f"silent neurons {np.mean(counts == 0):.1%}")
    # rate vs in-degree: hubs receive more input (every edge is used in both directions: in = out degree)
    step0, indptr, indices, w0 = run.weights("rec", 0)
    in_deg = np.bincount(indices, minlength=run.populations["net"])
    hubs = in_deg >= np.percentile(in_deg, 99)
    print(f"in-degree: mean {in_deg.mean():.1f}, max {in_deg.max()}; top-1% hubs fire at {counts[hubs].mean() / T:.2f} Hz "
          f"vs {counts[~hubs].mean() / T:.2f} Hz for the rest")
    steps = run.weight_steps("rec")
    step1, _, _, w1 = run.weights("rec", len(steps) - 1)
    ee = w0[0] > 0                                      # excitatory synapses (positive under Dale's law)
    plastic = ee & is_exc[indices]                      # E -> E: the ones STDP changes
    d = w1[0][plastic] - w0[0][plastic]
    print(f"weight snapshots at t = {', '.join(f'{s * run.dt:g}' for s in steps)} s")
    print(f"E->E weights ({plastic.sum():,} synapses): mean {w0[0][plastic].mean():.5f} -> {w1[0][plastic].mean():.5f} "
          f"(change {d.mean():+.2e}; {np.mean(d > 0):.0%} potentiated, {np.mean(d < 0):.0%} depressed, "
          f"{np.mean(d == 0):.0%} unchanged)")
    raster_png(run, "net", args.out / "raster.png", t_max=min(1.0, T), is_exc=is_exc)
    weight_histograms_png(run, "rec", args.out / "weights.png")
done(args)
