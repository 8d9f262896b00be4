"""01 — A single LIF neuron against its closed form: v(t) under a constant current, and the f–I curve.

We call the neuron library's step functions directly (``neurokit_bdh.neurons.lif``), the same functions
every engine uses. With ``v_leak = v_reset = 0`` and a constant current ``I`` the membrane obeys

    τ dv/dt = −v + I   →   v(t) = I (1 − e^{−t/τ})

and, once ``I > v_th``, the neuron fires periodically at the rate

    f(I) = 1 / (t_ref + τ ln(I / (I − v_th))).

The "exact" integrator reproduces v(t) to round-off at every grid point; forward Euler ("euler") is
off by O(dt/τ). Spikes happen on the time grid: after a spike at step k the membrane is held for
round(t_ref/dt) − 1 steps and then integrates from v_reset, and the threshold crossing is detected at
the end of the step in which it happens. So a simulated ISI lies in (ISI − dt, ISI] of the analytic one
and the simulated rate exceeds f(I) by at most f²·dt/(1 − f·dt) — it converges linearly in dt.
"""

import numpy as np
import torch

from _common import done, setup
from neurokit_bdh.neurons import LIFParams, lif

args = setup(__file__, __doc__)
import matplotlib.pyplot as plt  # noqa: E402  (after setup selected the Agg backend)

TAU, VTH, TREF = 20e-3, 1.0, 2e-3

# ---------------------------------------------------------------- 1. sub-threshold v(t) vs the closed form
dt = 1e-4
I_sub = 0.8                     # below threshold: the membrane charges towards 0.8 and never fires
T = 0.1                         # s
n = int(round(T / dt))
t = np.arange(1, n + 1) * dt    # the state after the k-th step (k = 1..n) is v(k·dt)
closed = I_sub * (1 - np.exp(-t / TAU))
traces = {}
for method in ("exact", "euler"):
    p = LIFParams(tau_mem=TAU, tau_syn=0.0, v_th=VTH, method=method)
    coef = lif.discretise(p, dt)
    state = lif.init_state(p, (1,), dtype=torch.float64)  # float64 to see the method's error, not round-off
    i_ext = torch.tensor([I_sub], dtype=torch.float64)
    vs = np.empty(n)
    for k in range(n):
        _, state = lif.step(torch.zeros(1, dtype=torch.float64), state, coef, i_ext=i_ext)
        vs[k] = state.v.item()
    traces[method] = vs
err_exact = np.abs(traces["exact"] - closed).max()
err_euler = np.abs(traces["euler"] - closed).max()
print(f"v(t), I={I_sub}: max |v - I(1-e^(-t/tau))| = {err_exact:.2e} (exact), {err_euler:.2e} (euler, dt/tau={dt/TAU})")

fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
ax.plot(t * 1e3, closed, "k-", lw=3, alpha=0.3, label="closed form  I(1−e^{−t/τ})")
ax.plot(t * 1e3, traces["exact"], "C0--", label="step(), method='exact'")
ax.plot(t * 1e3, traces["euler"], "C1:", label="step(), method='euler'")
ax.set(xlabel="time (ms)", ylabel="v", title=f"LIF, constant current I = {I_sub} (sub-threshold)")
ax.legend()
ax2.semilogy(t * 1e3, np.abs(traces["exact"] - closed) + 1e-18, "C0", label="exact")
ax2.semilogy(t * 1e3, np.abs(traces["euler"] - closed), "C1", label="euler")
ax2.set(xlabel="time (ms)", ylabel="|v − closed form|", title="integration error (float64)")
ax2.legend()
fig.tight_layout()
fig.savefig(args.out / "lif_v_closed_form.png", dpi=110)
plt.close(fig)

# ---------------------------------------------------------------- 2. the f–I curve
# One neuron per current, all advanced together: the state is a (B=1, N) tensor, i_ext one value per neuron.
currents = np.linspace(0.9, 4.0, 32 if args.fast else 64)   # some below threshold (rate 0)
T_fi = 0.5 if args.fast else 2.0                            # s of simulated time per current


def analytic_rate(I):
    I = np.asarray(I, float)
    out = np.zeros_like(I)
    above = I > VTH
    out[above] = 1.0 / (TREF + TAU * np.log(I[above] / (I[above] - VTH)))
    return out


def simulate_fi(dt):
    p = LIFParams(tau_mem=TAU, tau_syn=0.0, v_th=VTH, v_reset=0.0, t_ref=TREF)
    coef = lif.discretise(p, dt)
    state = lif.init_state(p, (1, len(currents)))          # (B, N)
    i_ext = torch.tensor(currents, dtype=torch.float32)[None]  # (1, N)
    x = torch.zeros_like(i_ext)
    steps = int(round(T_fi / dt))
    first = np.full(len(currents), -1)
    last = np.full(len(currents), -1)
    count = np.zeros(len(currents), int)
    for k in range(steps):
        z, state = lif.step(x, state, coef, i_ext=i_ext)
        fired = z[0].numpy() > 0
        if fired.any():
            first[fired & (first < 0)] = k
            last[fired] = k
            count[fired] += 1
    # rate from the mean inter-spike interval (skips the first, charging-from-rest interval)
    rate = np.where(count >= 2, (count - 1) / np.maximum(last - first, 1) / dt, 0.0)
    return rate


dts = [1e-4] if args.fast else [1e-4, 1e-5]
f_theory = analytic_rate(currents)
fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
I_fine = np.linspace(currents[0], currents[-1], 500)
ax.plot(I_fine, analytic_rate(I_fine), "k-", lw=3, alpha=0.3, label="1 / (t_ref + τ ln(I/(I−v_th)))")
for j, dt in enumerate(dts):
    f_sim = simulate_fi(dt)
    dev = np.abs(f_sim - f_theory)
    bound = f_theory ** 2 * dt / (1 - f_theory * dt)       # one step of ISI rounding, as a rate
    print(f"f-I curve, dt={dt:g} s: max |f_sim - f_theory| = {dev.max():.2f} Hz, min f_sim - f_theory = "
          f"{np.min(f_sim - f_theory):+.3f} Hz "
          f"(max relative {np.max(dev[f_theory > 0] / f_theory[f_theory > 0]):.2%}; "
          f"within the one-step bound f^2*dt everywhere: {bool(np.all(dev <= bound + 1e-6))})")
    ax.plot(currents, f_sim, "o", ms=3, color=f"C{j}", label=f"simulated, dt = {dt:g} s")
    ax2.plot(currents, f_sim - f_theory, "o-", ms=3, color=f"C{j}", label=f"dt = {dt:g} s")
    ax2.plot(currents, -bound, ":", color=f"C{j}", lw=1)
    ax2.plot(currents, bound, ":", color=f"C{j}", lw=1)
i_mid = int(np.argmin(np.abs(currents - 2.0)))
print(f"rate at I={currents[i_mid]:.2f}: analytic {f_theory[i_mid]:.2f} Hz; rheobase I = v_th = {VTH}")
ax.set(xlabel="current I (units of v)", ylabel="rate (Hz)", title=f"f–I curve, τ = {TAU*1e3:g} ms, t_ref = {TREF*1e3:g} ms")
ax.legend()
ax2.axhline(0, color="k", lw=0.5)
ax2.set(xlabel="current I", ylabel="simulated − analytic (Hz)", title="deviation (dotted: ±f²·dt)")
ax2.legend()
fig.tight_layout()
fig.savefig(args.out / "lif_fi_curve.png", dpi=110)
plt.close(fig)
done(args)
