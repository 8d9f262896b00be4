"""09 — Train a spiking digits classifier, export it to Loihi 2 fixed point, run it on Lava, compare.

Train (surrogate gradients, LIF with reset to 0 as Lava's LIF) -> ``neurokit export loihi`` (the
checkpoint becomes ``network.h5`` with 8-bit weights + exponents, 12-bit decays, 17-bit threshold,
a quantisation report, a resource estimate and a lava-dl netx ``network.net``) -> the whole test set,
360 samples side by side, in one run of Lava's bit-accurate simulator (``Loihi2SimCfg(select_tag=
"fixed_pt")``) -> accuracy vs the float model, and Lava's output membranes vs our bit-accurate
emulator (they must be equal integer for integer).

Lava (lava-nc 0.10.0) installs only on Python 3.10; without it this script says so and runs the
emulator in its place. Full run: 256 hidden LIF, 20 steps, 30 epochs; ``--fast``: 64 hidden, 10 steps,
8 epochs. Figure: ``export_compare.png`` (class scores, float model vs Lava fixed point).
"""

import time

import numpy as np
import torch

from _common import done, setup
from neurokit_bdh.cli import main as neurokit
from neurokit_bdh.data import load_digits
from neurokit_bdh.export.classifier import batch_network, n_run_steps, scores
from neurokit_bdh.export.emulator import Emulator
from neurokit_bdh.export.store import load_qnet
from neurokit_bdh.models.snn import SNNConfig
from neurokit_bdh.train import TrainConfig, save_checkpoint, train_snn

args = setup(__file__, __doc__)
train_ds, test_ds = load_digits("train"), load_digits("test")
if args.fast:
    cfg, tcfg = SNNConfig(hidden=(64,), n_steps=10, reset="to_value"), TrainConfig(epochs=8, batch_size=64)
else:
    cfg = SNNConfig(hidden=(256,), n_steps=20, reset="to_value")
    tcfg = TrainConfig(epochs=30, batch_size=64, weight_decay=1e-4)
model, hist = train_snn(cfg, tcfg, train_ds, test_ds, progress=True)
with torch.no_grad():
    float_scores = model(test_ds.x).numpy()
y = test_ds.y.numpy()
acc_float = float((float_scores.argmax(1) == y).mean())
print(f"1. trained {cfg.n_in} -> {cfg.hidden} LIF -> {cfg.n_out}: float test accuracy {acc_float:.2%}")

ckpt = save_checkpoint(args.out / "snn_digits.pt", model, tcfg, hist)
export_dir = args.out / "loihi"
neurokit(["export", "loihi", str(ckpt), "-o", str(export_dir), "--overwrite"])
q = load_qnet(export_dir)
print(f"2. exported to {export_dir}: " + ", ".join(sorted(p.name for p in export_dir.iterdir())))

qb = batch_network(q, test_ds.x.numpy())
T = n_run_steps(qb)
try:
    from neurokit_bdh.export.lava_build import require_lava, run_on_lava
    require_lava()
    have_lava = True
except ImportError as e:
    print(f"   {e}\n   -> running the bit-accurate emulator instead of Lava")
    have_lava = False
t0 = time.perf_counter()
res = run_on_lava(qb, T, record_v=["out"]) if have_lava else Emulator(qb).run(T, record_v=["out"])
wall = time.perf_counter() - t0
fixed_scores = scores(qb, v_out=res.v["out"]) / qb.populations["out"].scale
acc_fixed = float((fixed_scores.argmax(1) == y).mean())
where = "Lava fixed_pt" if have_lava else "emulator (fixed point)"
print(f"3. {len(y)} test samples in one {where} run of {T} steps ({wall:.1f} s): accuracy {acc_fixed:.2%} "
      f"({(acc_fixed - acc_float) * 100:+.2f} points vs float)")
if have_lava:
    emu = Emulator(qb).run(T, record_v=["out"])
    same = bool((emu.v["out"] == res.v["out"]).all())
    print(f"4. emulator vs Lava: output membranes identical integer for integer: {same}")
agree = float((fixed_scores.argmax(1) == float_scores.argmax(1)).mean())
err = np.abs(fixed_scores - float_scores)
print(f"   float and fixed point agree on {agree:.2%} of the test samples; "
      f"score error mean {err.mean():.3f}, max {err.max():.3f}")

import matplotlib.pyplot as plt  # noqa: E402

fig, ax = plt.subplots(figsize=(5, 5))
ax.plot(float_scores.ravel(), fixed_scores.ravel(), ".", ms=2, alpha=0.5)
lim = [float_scores.min(), float_scores.max()]
ax.plot(lim, lim, "k--", lw=0.8)
ax.set(xlabel="float model score (max membrane)", ylabel=f"{where} score",
       title=f"digits: {acc_float:.1%} float vs {acc_fixed:.1%} fixed point")
fig.tight_layout()
fig.savefig(args.out / "export_compare.png", dpi=120)
done(args)
