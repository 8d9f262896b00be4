"""06 — Structural plasticity: a scale-free graph that grows and rewires while it keeps its heavy tail.

The network is ``topologies/structural_scale_free.toml``: a directed scale-free E/I network (Bollobás et
al. generator) of 2000 LIF neurons with STDP. (Without that file the script builds a similar one in
Python, starting from a directed Barabási–Albert graph whose old neurons are in-degree hubs, with a
growth rate well above the pruning rate.) While it runs, STDP changes the weights and the structural rule
(``plasticity/structural.py``) rewires the graph every ``interval``:

* a synapse whose weight stayed below ``w_prune`` for ``t_prune`` seconds dies;
* new synapses are born at ``growth_rate`` per second, from a random excitatory neuron to a target chosen
  with probability ∝ in-degree + ``attach_offset`` (preferential attachment), so hubs keep attracting
  synapses.

Weight snapshots in the run file hold the whole graph (``indptr``/``indices``) at each recorded time,
so we read back the in-degree distribution at the start and at the end, plot its complementary CDF on
log–log axes with a maximum-likelihood power-law fit (``graph.topology.powerlaw_fit``, Clauset et al. 2009),
and count births and deaths.
"""
from dataclasses import replace

import numpy as np

from _common import done, repo_file, setup
from neurokit_bdh.analysis.plots import weight_histograms_png
from neurokit_bdh.graph.spec import (Input, NetworkSpec, Population, Projection, WeightRecord,
                                     load_spec)
from neurokit_bdh.graph.topology import powerlaw_fit
from neurokit_bdh.io.runfile import open_run
from neurokit_bdh.simulate import simulate

args = setup(__file__, __doc__)
import matplotlib.pyplot as plt  # noqa: E402

DURATION = 1.0 if args.fast else 20.0   # s
N = 2000


def python_spec() -> NetworkSpec:
    return NetworkSpec(
        name="structural_growth", dt=2.5e-4, duration=DURATION, seed=1,
        populations=[Population("net", N, "lif", {"tau_mem": 20e-3, "tau_syn": 5e-3, "v_th": 1.0, "t_ref": 2e-3},
                                frac_exc=0.8)],
        projections=[Projection(
            "rec", "net", "net", "barabasi_albert", {"m": 5, "both_directions": False},
            weight={"dist": "uniform", "low": 0.0, "high": 0.1}, g=4.0,
            delay={"dist": "uniform", "low": 1.5e-3, "high": 3e-3},
            plasticity={"rule": "stdp", "on": "exc_pre", "a_plus": 0.004, "a_minus": 0.0042,
                        "tau_plus": 20e-3, "tau_minus": 20e-3, "w_min": 0.0, "w_max": 0.1},
            structural={"w_prune": 0.005, "t_prune": 0.5, "growth_rate": 2000.0, "w_new": 0.01,
                        "interval": 0.1})],
        inputs=[Input("poisson", "net", {"rate": 1000.0, "weight": 0.18})])


toml = repo_file("topologies", "structural_scale_free.toml")
if toml.exists():
    spec = load_spec(toml)
    if args.fast or spec.duration > DURATION:   # keep the default run under a minute
        spec = replace(spec, duration=DURATION)
    print(f"spec: {toml} ({spec.duration:g} s)")
else:
    spec = python_spec()
    print("spec: built in Python (topologies/structural_scale_free.toml not found)")

proj = next(p for p in spec.projections if p.structural is not None)
# record the graph ten times over the run (a weight snapshot stores indptr/indices too)
every = max(1, spec.n_steps // 10)
weights = [w for w in spec.record.weights if w.projection != proj.name] + [WeightRecord(proj.name, every)]
# text="": the spec object now differs from the TOML text it was read from, so let the run file store
# the spec as it is (simulate() writes spec.to_toml() when there is no source text)
spec = replace(spec, record=replace(spec.record, weights=weights), text="")
print(f"{proj.name}: {proj.topology} {proj.topology_params}, structural {proj.structural}")

run_path = args.out / "structural.h5"
r = simulate(spec, run_path, overwrite=True, compile=False)
print(f"simulated {r.n_steps * r.dt:g} s in {r.wall_s:.1f} s wall; mean rate {r.rate(proj.post):.2f} Hz")

with open_run(run_path) as run:
    n_post = run.populations[proj.post]
    steps = run.weight_steps(proj.name)
    times, n_syn, in_degrees = [], [], []
    for k in range(len(steps)):
        step, indptr, indices, w = run.weights(proj.name, k)
        times.append(step * run.dt)
        n_syn.append(int(indptr[-1]))
        in_degrees.append(np.bincount(indices, minlength=n_post))   # the graph at this time
    st = run.structural(proj.name)                                   # one row per structural update
    births, deaths = np.asarray(st["births"]).reshape(len(st["step"]), -1)[:, 0], \
        np.asarray(st["deaths"]).reshape(len(st["step"]), -1)[:, 0]
    t_struct = st["step"] * run.dt
    weight_histograms_png(run, proj.name, args.out / "weights.png")

print(f"synapses: {n_syn[0]:,} at t=0 -> {n_syn[-1]:,} at t={times[-1]:g} s; "
      f"{births.sum():,} births, {deaths.sum():,} deaths (engine counts: {r.births[proj.name]:,} / {r.deaths[proj.name]:,})")
assert n_syn[-1] == n_syn[0] + births.sum() - deaths.sum()
fits = []
for label, deg in (("start", in_degrees[0]), ("end", in_degrees[-1])):
    fit = powerlaw_fit(deg)
    fits.append(fit)
    print(f"in-degree at {label:>5}: mean {deg.mean():.1f}, max {deg.max()}; power-law tail alpha = {fit.alpha:.2f} "
          f"± {fit.sigma:.2f} for k >= {fit.xmin:g} ({fit.n_tail} neurons, KS {fit.ks:.3f})")
top = max(1, n_post // 100)
hubs0 = set(np.argsort(in_degrees[0])[-top:])
hubs1 = set(np.argsort(in_degrees[-1])[-top:])
print(f"top-1% hubs at the start still top-1% at the end: {len(hubs0 & hubs1)}/{top}")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
for j, (label, deg, fit) in enumerate((("t = 0", in_degrees[0], fits[0]), (f"t = {times[-1]:g} s", in_degrees[-1], fits[1]))):
    k, counts = np.unique(deg[deg > 0], return_counts=True)
    n_pos = counts.sum()
    ccdf = (n_pos - np.cumsum(counts) + counts) / n_pos             # P(K >= k) over neurons with k >= 1
    ax.loglog(k, ccdf, "o", ms=3, color=f"C{j}", label=label)
    xs = np.logspace(np.log10(fit.xmin), np.log10(k.max()), 50)
    p_tail = fit.n_tail / n_pos
    ax.loglog(xs, p_tail * (xs / fit.xmin) ** (1 - fit.alpha), "-", color=f"C{j}", lw=1.2,
              label=f"fit α = {fit.alpha:.2f} (k ≥ {fit.xmin:g})")
ax.set(xlabel="in-degree k", ylabel="P(K ≥ k)", title="in-degree CCDF")
ax.legend(fontsize=8)
ax2.plot(times, n_syn, "k.-", label="synapses")
ax2.plot(t_struct, n_syn[0] + np.cumsum(births), "C2-", label="initial + births")
ax2.plot(t_struct, np.cumsum(deaths), "C3-", label="deaths (cumulative)")
ax2.set(xlabel="time (s)", ylabel="count", title="growth and pruning")
ax2.legend(fontsize=8)
fig.tight_layout()
fig.savefig(args.out / "structural_growth.png", dpi=110)
plt.close(fig)
done(args)
