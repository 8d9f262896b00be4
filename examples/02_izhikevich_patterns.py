"""02 — Izhikevich firing patterns: RS, FS, IB, CH and LTS neurons under a current step.

The five presets of ``IzhikevichParams.preset`` (Izhikevich 2003, Fig. 2) differ only in (a, b, c, d),
yet respond to the same step of current very differently: regular spiking (RS) adapts, fast spiking (FS)
does not, intrinsic bursting (IB) opens with a burst then spikes tonically, chattering (CH) fires
repeated fast bursts, low-threshold spiking (LTS) fires fast with some adaptation.

We drive each with ``i_ext = 10`` from 50 ms on, stepping the model's ``step`` function directly with
dt = 0.1 ms (the model is forward Euler in ms; keep dt ≤ 0.1 ms). As in Izhikevich's reference code every
neuron starts at rest, v = −65 mV, u = b·v.
"""
import numpy as np
import torch

from _common import done, setup
from neurokit_bdh.neurons import IzhikevichParams, IzhikevichState, izhikevich

args = setup(__file__, __doc__)
import matplotlib.pyplot as plt  # noqa: E402

DT = 1e-4                                  # s
T = 0.15 if args.fast else 0.4             # s
T_ON, AMP = 0.05, 10.0                     # step onset (s) and amplitude
PRESETS = ["RS", "FS", "IB", "CH", "LTS"]
names = {"RS": "regular spiking", "FS": "fast spiking", "IB": "intrinsically bursting",
         "CH": "chattering", "LTS": "low-threshold spiking"}

n = int(round(T / DT))
t = np.arange(n) * DT
results = {}
for name in PRESETS:
    p = IzhikevichParams.preset(name, tau_syn=0.0)
    coef = izhikevich.discretise(p, DT)
    v0 = torch.full((1,), -65.0)
    state = IzhikevichState(v=v0, u=p.b * v0, i=torch.zeros(1))   # rest, as in Izhikevich's code
    x = torch.zeros(1)
    on = torch.tensor([AMP])
    v = np.empty(n)
    spikes = []
    for k in range(n):
        z, state = izhikevich.step(x, state, coef, i_ext=on if t[k] >= T_ON else None)
        # the state is reset in the step that crosses v_peak: draw the spike at the peak
        v[k] = p.v_peak if z.item() else state.v.item()
        if z.item():
            spikes.append(t[k])
    results[name] = (v, np.array(spikes))

print(f"{'type':<5} {'spikes':>6} {'first spike (ms after onset)':>29} {'first ISIs (ms)':>30}  rate (Hz)")
for name in PRESETS:
    _, s = results[name]
    isi = np.diff(s) * 1e3
    first = f"{(s[0] - T_ON) * 1e3:.1f}" if len(s) else "-"
    rate = len(s) / (T - T_ON)
    print(f"{name:<5} {len(s):>6} {first:>29} {', '.join(f'{x:.1f}' for x in isi[:4]):>30}  {rate:8.1f}")
# A burst is an ISI well below the neuron's typical ISI: the signature of IB and CH.
for name in ("IB", "CH"):
    isi = np.diff(results[name][1]) * 1e3
    if len(isi):
        n_bursts = 1 + int(np.sum(isi > 10.0))        # groups of spikes separated by > 10 ms of silence
        print(f"{name}: shortest ISI {isi.min():.1f} ms, longest {isi.max():.1f} ms; "
              f"{n_bursts} groups, {len(isi) + 1} spikes ({(len(isi) + 1) / n_bursts:.1f} per group)")

fig, axes = plt.subplots(len(PRESETS), 1, figsize=(9, 9), sharex=True)
for ax, name in zip(axes, PRESETS):
    v, s = results[name]
    ax.plot(t * 1e3, v, lw=0.8)
    ax.axvspan(T_ON * 1e3, T * 1e3, color="0.9", zorder=0)
    p = IzhikevichParams.preset(name)
    ax.set_ylabel("v (mV)")
    ax.set_ylim(-90, 40)
    ax.set_title(f"{name} — {names[name]}: a={p.a}, b={p.b}, c={p.c}, d={p.d}; {len(s)} spikes",
                 fontsize=9, loc="left")
axes[-1].set_xlabel(f"time (ms); shaded: i_ext = {AMP:g}")
fig.tight_layout()
fig.savefig(args.out / "izhikevich_patterns.png", dpi=110)
plt.close(fig)
done(args)
