"""04 — Song, Miller & Abbott (2000): additive STDP splits 1000 input weights into two groups.

One LIF neuron receives 1000 independent Poisson inputs (15 Hz each) through plastic synapses with
additive, hard-bounded pair STDP, depression slightly stronger than potentiation (A−τ− > A+τ+).
Starting from uniform weights, the synapses compete: inputs that happen to help fire the neuron are
potentiated (their spikes tend to precede its spikes), the others drift down. The weight distribution
ends bimodal — piled up at 0 and at w_max — and the output rate falls.

The network is ``topologies/song_miller_abbott.toml`` (delta synapses, reset close to threshold,
A+ = 0.01·w_max, twice the paper's 0.005·w_max, so the split shows sooner), run for 100 s of simulated time
(≈ 35 s on this 2-core machine; 5 s in fast mode, too short to split). Without that file the script
builds an equivalent spec in Python: current-based synapses (τ_syn = 5 ms), τ_m = 10 ms, v_reset = 0.7,
no refractory period, w_max = 0.03 — the conductance-based model of the paper (as in Brian2's example
of it) mapped onto the current-based LIF of ``neurons/lif.py`` — with A+ = 0.01·w_max and A−/A+ = 1.1.
"""
from dataclasses import replace

import numpy as np

from _common import done, repo_file, setup
from neurokit_bdh.graph.spec import NetworkSpec, Population, Projection, load_spec
from neurokit_bdh.simulate import simulate

args = setup(__file__, __doc__)
import matplotlib.pyplot as plt  # noqa: E402

DURATION = 5.0 if args.fast else 100.0      # s of simulated time
W_MAX = 0.03
A_PLUS = 0.01 * W_MAX


def python_spec() -> NetworkSpec:
    return NetworkSpec(
        name="song_miller_abbott", dt=5e-4, duration=DURATION, seed=1,
        populations=[
            Population("inputs", 1000, "poisson", {"rate": 15.0}),
            Population("out", 1, "lif", {"tau_mem": 10e-3, "tau_syn": 5e-3, "v_th": 1.0, "v_reset": 0.7,
                                         "t_ref": 0.0}),
        ],
        projections=[
            Projection("syn", "inputs", "out", "all_to_all",
                       weight={"dist": "uniform", "low": 0.0, "high": W_MAX},
                       delay={"dist": "constant", "value": 2e-3},
                       plasticity={"rule": "stdp", "kind": "additive", "a_plus": A_PLUS, "a_minus": 1.1 * A_PLUS,
                                   "tau_plus": 20e-3, "tau_minus": 20e-3, "w_min": 0.0, "w_max": W_MAX}),
        ])


toml = repo_file("topologies", "song_miller_abbott.toml")
if toml.exists():
    spec = replace(load_spec(toml), duration=DURATION)
    print(f"spec: {toml} (duration overridden to {DURATION:g} s)")
else:
    spec = python_spec()
    print("spec: built in Python (topologies/song_miller_abbott.toml not found)")

# the plastic projection, its target neuron and its weight bounds, whichever spec we use
proj = next(p for p in spec.projections if p.plasticity is not None)
w_min = float(proj.plasticity.get("w_min", 0.0))
w_max = float(proj.plasticity.get("w_max", 1.0))
out_pop = proj.post
print(f"{proj.pre} -> {out_pop}: {spec.population(proj.pre).size} inputs, rule {proj.plasticity['rule']} "
      f"({proj.plasticity.get('kind', 'additive')}), w in [{w_min}, {w_max}], {spec.duration:g} s at dt={spec.dt:g} s")

r = simulate(spec, keep_spikes=True, compile=False)
w0 = r.initial_weights[proj.name][2][0]           # (S,) weights of trial 0 before the run
w1 = r.weights[proj.name][2][0]                   # ... and after
x0, x1 = (w0 - w_min) / (w_max - w_min), (w1 - w_min) / (w_max - w_min)
lo, hi = 0.1, 0.9
print(f"simulated {r.n_steps * r.dt:g} s in {r.wall_s:.1f} s wall")
T = r.n_steps * r.dt
_, _, steps = r.spikes[out_pop]
t_spk = steps * r.dt                              # output spike times (s)
t_last = min(10.0, T / 5)
print(f"output rate: {r.rate(out_pop):.1f} Hz over the run; first {t_last:g} s: "
      f"{np.sum(t_spk < t_last) / t_last:.1f} Hz, last {t_last:g} s: {np.sum(t_spk >= T - t_last) / t_last:.1f} Hz")
for label, x in (("before", x0), ("after", x1)):
    print(f"weights {label:>6}: {np.mean(x < lo):5.1%} near 0 (< {lo} w_max), {np.mean(x > hi):5.1%} near w_max "
          f"(> {hi} w_max), {np.mean((x >= lo) & (x <= hi)):5.1%} in between; mean {np.mean(x):.3f} w_max")
counts, _ = np.histogram(x1, bins=10, range=(0, 1))
bimodal = counts[0] > counts[1:-1].max() and counts[-1] > counts[1:-1].max()
print(f"final histogram (10 bins): {counts.tolist()} -> bimodal (both end bins above every middle bin): {bimodal}")

# output rate in 1 s bins (2 s in long runs), from the kept spikes
bin_s = 1.0 if T <= 20 else 2.0
edges = np.arange(0, T + 1e-9, bin_s)
rate_t = np.histogram(t_spk, bins=edges)[0] / bin_s

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
bins = np.linspace(0, 1, 26)
ax.hist(x0, bins=bins, histtype="step", lw=1.5, label="before")
ax.hist(x1, bins=bins, histtype="stepfilled", alpha=0.5, label=f"after {r.n_steps * r.dt:g} s")
ax.set(xlabel="w / w_max", ylabel="synapses", title="weight distribution (additive STDP)")
ax.legend()
ax2.plot(edges[1:] - bin_s / 2, rate_t, "k.-")
ax2.set(xlabel="time (s)", ylabel="output rate (Hz)", title=f"output neuron ({bin_s:g} s bins)", ylim=(0, None))
fig.tight_layout()
fig.savefig(args.out / "song_miller_abbott.png", dpi=110)
plt.close(fig)
done(args)
