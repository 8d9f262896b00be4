"""03 — The STDP window, measured through the simulation engine, against A±·exp(−|Δt|/τ±).

One experiment per Δt, all in one network: synapse i connects source neuron ``pre[i]`` to LIF neuron
``post[i]`` (``one_to_one``, plastic). Every ``pre[i]`` fires once at t_pre; every ``post[i]`` is made to
fire once at t_pre + Δt_i by a strong "kick" from a second spike source. Reading the weights at the end
gives the whole window Δw(Δt) from a single run.

The timing rules we rely on (stated once in ``engine/native.py``):

* a spike emitted at step t through a synapse with delay d steps arrives as input of step t + d;
* with ``tau_syn = 0`` (delta synapses) an arriving weight jumps v *before* the threshold test, so a
  kick of weight 2 > v_th emitted at step s makes the post neuron fire in step s + d_kick;
* STDP sees the presynaptic spike at its emission step (the synapse's own delay does not shift the
  window — checked below by rerunning with another delay), and a pre and post spike in the same step
  count as Δt = 0 (potentiation).

Expected (``kind="additive"``): Δw = +A+·e^{−Δt/τ+} for Δt ≥ 0 and −A−·e^{Δt/τ−} for Δt < 0; with
``kind="multiplicative"`` depression is scaled by w̃ = (w − w_min)/(w_max − w_min).
"""
import numpy as np

from _common import done, setup
from neurokit_bdh.graph.spec import NetworkSpec, Population, Projection
from neurokit_bdh.simulate import simulate

args = setup(__file__, __doc__)
import matplotlib.pyplot as plt  # noqa: E402

DT = 1e-4
STDP = dict(a_plus=0.01, a_minus=0.0105, tau_plus=17e-3, tau_minus=34e-3, w_min=0.0, w_max=1.0)
W0 = 0.5                                    # initial weight: the pre spike alone (0.5 < v_th) never fires post
D_KICK = 10                                 # steps (1 ms)
step_ms = 2 if args.fast else 1
lags = np.arange(-100, 101, step_ms)        # Δt in ms, one synapse each
N = len(lags)
T_PRE = 0.12                                # s: every pre neuron fires here
k_pre = int(round(T_PRE / DT))
k_post = k_pre + lags * 10                  # steps at which each post neuron must fire


def window_spec(kind, delay_steps=10):
    plast = dict(rule="stdp", kind=kind, **STDP)
    return NetworkSpec(
        dt=DT, duration=0.25, seed=0, name=f"stdp_window_{kind}",
        populations=[
            Population("pre", N, "spike_source", {"times": [k_pre * DT] * N, "neurons": list(range(N))}),
            Population("kick", N, "spike_source",
                       {"times": [float((k - D_KICK) * DT) for k in k_post], "neurons": list(range(N))}),
            Population("post", N, "lif", {"tau_mem": 20e-3, "tau_syn": 0.0, "v_th": 1.0}),
        ],
        projections=[
            Projection("syn", "pre", "post", "one_to_one", weight={"dist": "constant", "value": W0},
                       delay={"dist": "constant", "value": delay_steps * DT}, plasticity=plast),
            Projection("kick", "kick", "post", "one_to_one", weight={"dist": "constant", "value": 2.0},
                       delay={"dist": "constant", "value": D_KICK * DT}),
        ])


def measure(kind, delay_steps=10):
    r = simulate(window_spec(kind, delay_steps), keep_spikes=True)
    _, neuron, step = r.spikes["post"]
    # every post neuron fired exactly once, at the planned step
    fired = np.full(N, -1)
    fired[neuron] = step
    ok = len(neuron) == N and np.array_equal(fired, k_post)
    indptr, indices, w = r.weights["syn"]      # one_to_one: synapse i is pre i -> post i
    assert np.array_equal(indices, np.arange(N))
    return w[0] - W0, ok


def expected(kind):
    dt_s = lags * 1e-3
    wt = (W0 - STDP["w_min"]) / (STDP["w_max"] - STDP["w_min"])
    f_minus = 1.0 if kind == "additive" else wt
    return np.where(dt_s >= 0, STDP["a_plus"] * np.exp(-dt_s / STDP["tau_plus"]),
                    -STDP["a_minus"] * f_minus * np.exp(dt_s / STDP["tau_minus"]))


fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
dense = np.linspace(lags.min(), lags.max(), 2001)
for j, kind in enumerate(("additive", "multiplicative")):
    dw, timing_ok = measure(kind)
    exp_dw = expected(kind)
    err = np.abs(dw - exp_dw).max()
    print(f"{kind:>14}: {N} pairings, post spikes exactly as planned: {timing_ok}; "
          f"max |dw - A*exp(-|dt|/tau)| = {err:.2e} (A+ = {STDP['a_plus']}, relative {err / STDP['a_plus']:.1e})")
    print(f"{'':>14}  dw(0) = {dw[lags == 0][0]:+.6f}, dw(+10 ms) = {dw[lags == 10][0]:+.6f}, "
          f"dw(-10 ms) = {dw[lags == -10][0]:+.6f}")
    c = f"C{j}"
    x = dense * 1e-3
    wt = 1.0 if kind == "additive" else (W0 - STDP["w_min"]) / (STDP["w_max"] - STDP["w_min"])
    curve = np.where(x >= 0, STDP["a_plus"] * np.exp(-x / STDP["tau_plus"]),
                     -STDP["a_minus"] * wt * np.exp(x / STDP["tau_minus"]))
    for side in (dense < 0, dense >= 0):                 # two branches: no line across the jump at 0
        ax.plot(dense[side], curve[side], "-", color=c, lw=4, alpha=0.3)
    ax.plot(lags, dw, "o", ms=3, color=c, label=f"{kind} (engine)")
    ax2.plot(lags, dw - exp_dw, "o-", ms=2, color=c, label=kind)

# the plastic synapse's own delay does not move the window: STDP uses the presynaptic emission step
dw_a, _ = measure("additive", delay_steps=10)
dw_b, _ = measure("additive", delay_steps=50)
print(f"window with synaptic delay 1 ms vs 5 ms: identical = {bool(np.array_equal(dw_a, dw_b))}")

ax.axhline(0, color="k", lw=0.5)
ax.axvline(0, color="k", lw=0.5)
ax.set(xlabel="Δt = t_post − t_pre (ms)", ylabel="Δw after one pairing",
       title=f"STDP window (w0 = {W0}); lines: A±·exp(−|Δt|/τ±)")
ax.legend()
ax2.axhline(0, color="k", lw=0.5)
ax2.set(xlabel="Δt (ms)", ylabel="measured − expected", title="deviation (float32 round-off)")
ax2.legend()
fig.tight_layout()
fig.savefig(args.out / "stdp_window.png", dpi=110)
plt.close(fig)
done(args)
