"""The ``neurokit`` command: simulate specs, inspect run files, run the demo, train spiking networks."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

REPO_TOPOLOGIES = Path(__file__).resolve().parent.parent / "topologies"
DEMO_SPEC = "ba_stdp.toml"
# Modules that add subcommands: each defines register(subparsers) and imports heavy packages lazily.
COMMAND_MODULES: tuple[str, ...] = (".analysis.cli", ".export.cli", ".io.nir_cli")


def find_spec(name: str) -> Path:
    """A spec path as given, or the name of a spec shipped in topologies/."""
    p = Path(name)
    shipped = REPO_TOPOLOGIES / (name if name.endswith(".toml") else name + ".toml")
    return shipped if not p.exists() and shipped.exists() else p


def cmd_simulate(a) -> int:
    from .simulate import simulate

    try:
        r = simulate(find_spec(a.spec), a.output, duration=a.duration, seed=a.seed, device=a.device,
                     progress=not a.quiet, overwrite=a.overwrite, compile=a.compile, engine=a.engine,
                     brian2_target=a.brian2_target)
    except NotImplementedError as e:  # a feature the chosen engine cannot express: say which, no traceback
        print(f"neurokit simulate: {e}", file=sys.stderr)
        return 2
    for pop, c in r.spike_counts.items():
        print(f"{pop}: {int(c.sum()):,} spikes, mean rate {r.rate(pop):.2f} Hz")
    print(f"simulated {r.n_steps * r.dt:g} s in {r.wall_s:.1f} s wall -> {a.output}")
    return 0


def cmd_info(a) -> int:
    from .io.runfile import open_run

    with open_run(a.run) as run:
        s = run.summary()
    print(json.dumps(s, indent=2, default=str) if a.json else _format_summary(a.run, s))
    return 0


def _format_summary(path, s: dict) -> str:
    lines = [f"{path}"]
    for k, v in s.items():
        if isinstance(v, dict):
            lines.append(f"  {k}:")
            lines += [f"    {kk}: {vv}" for kk, vv in v.items()]
        else:
            lines.append(f"  {k}: {v}")
    return "\n".join(lines)


def cmd_demo(a) -> int:
    """Simulate the flagship scale-free STDP network; print rates and weight change; write figures."""
    import numpy as np

    from .analysis.plots import raster_png, weight_histograms_png
    from .io.runfile import open_run
    from .simulate import simulate

    out = Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = REPO_TOPOLOGIES / DEMO_SPEC
    run_path = out / "ba_stdp.h5"
    print(f"simulating {spec_path.name} ({a.duration:g} s of biological time) -> {run_path}")
    r = simulate(spec_path, run_path, duration=a.duration, device=a.device, progress=not a.quiet,
                 overwrite=True, compile=a.compile)
    with open_run(run_path) as run:
        is_exc = run.population_data("net", "is_exc").astype(bool)
        print(f"rates: excitatory {r.rate('net', is_exc):.2f} Hz, inhibitory {r.rate('net', ~is_exc):.2f} Hz "
              f"({r.wall_s:.1f} s wall for {r.n_steps * r.dt:g} s)")
        _, _, _, w0 = run.weights("rec", 0)
        k_last = len(run.weight_steps("rec")) - 1
        step, _, _, w1 = run.weights("rec", k_last)
        ee = w0[0] > 0  # excitatory synapses (Dale's law: positive)
        d = w1[0][ee] - w0[0][ee]
        print(f"E synapse weights: mean {w0[0][ee].mean():.5f} -> {w1[0][ee].mean():.5f} "
              f"(change {d.mean():+.5f}; {np.mean(d > 0):.0%} potentiated, {np.mean(d < 0):.0%} depressed)")
        raster_png(run, "net", out / "raster.png", t_max=min(1.0, run.steps_done * run.dt), is_exc=is_exc)
        weight_histograms_png(run, "rec", out / "weights.png")
    print(f"wrote {out / 'raster.png'}, {out / 'weights.png'}")
    return 0


def cmd_train_snn(a) -> int:
    """Train a spiking classifier (surrogate gradients, BPTT); write the checkpoint and the loss curve."""
    from .data import load_digits, spike_pattern_task
    from .models.snn import SNNConfig
    from .train import TrainConfig, loss_curve_png, save_checkpoint, train_snn

    if a.dataset == "digits":
        train_ds, test_ds = load_digits("train", seed=a.split_seed), load_digits("test", seed=a.split_seed)
        n_in, n_out, encoding, n_steps = 64, 10, "current", a.steps
    else:  # patterns: spike_pattern_task, 80/20 split of one seeded draw
        from .data import ArrayDataset
        ds = spike_pattern_task(n_classes=4, n_samples=500, n_inputs=50, n_steps=a.steps, seed=a.split_seed)
        k = int(0.8 * len(ds))
        train_ds, test_ds = ArrayDataset(ds.x[:k], ds.y[:k], 4), ArrayDataset(ds.x[k:], ds.y[k:], 4)
        n_in, n_out, encoding, n_steps = 50, 4, "none", a.steps
    cfg = SNNConfig(n_in=n_in, n_out=n_out, hidden=tuple(a.hidden), n_steps=n_steps, encoding=encoding,
                    recurrent=a.recurrent or a.topology is not None, topology=a.topology, seed=a.seed,
                    surrogate=a.surrogate, readout=a.readout, reset=a.reset)
    tcfg = TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed, device=a.device,
                       num_threads=a.threads)
    out = Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    model, hist = train_snn(cfg, tcfg, train_ds, test_ds, progress=not a.quiet)
    ckpt = save_checkpoint(out / f"snn_{a.dataset}.pt", model, tcfg, hist)
    png = loss_curve_png(hist, out / "loss_curve.png", title=f"SNN on {a.dataset}")
    print(f"{a.dataset}: test accuracy {hist['test_acc'][-1]:.2%} after {a.epochs} epochs "
          f"({hist['wall_s']:.1f} s wall) -> {ckpt}, {png}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="neurokit", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("simulate", help="simulate a network spec (TOML) and write a run file (HDF5)")
    s.add_argument("spec", help="spec file, or the name of one in topologies/ (e.g. ba_stdp)")
    s.add_argument("-o", "--output", required=True, help="run file to write (.h5)")
    s.add_argument("--duration", type=float, help="override the spec's duration (s)")
    s.add_argument("--seed", type=int, help="override the spec's seed")
    s.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    s.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    s.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="fuse neuron updates with torch.compile (default: for long runs)")
    s.add_argument("--engine", default="native", choices=("native", "brian2"),
                   help="simulator: our torch engine, or the network rendered to Brian2")
    s.add_argument("--brian2-target", default="cython", choices=("cython", "cpp_standalone", "numpy"),
                   help="Brian2 code generation target (with --engine brian2)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_simulate)
    i = sub.add_parser("info", help="summarise a run file")
    i.add_argument("run")
    i.add_argument("--json", action="store_true")
    i.set_defaults(fn=cmd_info)
    d = sub.add_parser("demo", help="the flagship demo: scale-free E/I network with STDP, figures")
    d.add_argument("-o", "--output", default="out/demo")
    d.add_argument("--duration", type=float, default=5.0)
    d.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    d.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None)
    d.add_argument("-q", "--quiet", action="store_true")
    d.set_defaults(fn=cmd_demo)
    t = sub.add_parser("train", help="train a model (snn: spiking classifier with surrogate gradients)")
    tsub = t.add_subparsers(dest="model", required=True)
    ts = tsub.add_parser("snn", help="train a LIF network with BPTT; writes a checkpoint and loss_curve.png")
    ts.add_argument("--dataset", default="digits", choices=("digits", "patterns"),
                    help="digits: scikit-learn 8x8 digits; patterns: synthetic temporal spike patterns")
    ts.add_argument("--epochs", type=int, default=30)
    ts.add_argument("--hidden", type=int, nargs="+", default=[256], help="hidden layer sizes")
    ts.add_argument("--steps", type=int, default=20, help="time steps per sample")
    ts.add_argument("--batch-size", type=int, default=64)
    ts.add_argument("--lr", type=float, default=2e-3)
    ts.add_argument("--surrogate", default="atan")
    ts.add_argument("--reset", default="subtract", choices=("subtract", "to_value"),
                    help="LIF reset after a spike; to_value (to 0) is what Loihi's LIF and NIR's LIF do")
    ts.add_argument("--readout", default="max_membrane", choices=("max_membrane", "mean_membrane", "count"))
    ts.add_argument("--recurrent", action="store_true", help="recurrent (dense) hidden LIF layers")
    ts.add_argument("--topology", help="sparse recurrent mask from this generator (e.g. barabasi_albert)")
    ts.add_argument("--seed", type=int, default=0)
    ts.add_argument("--split-seed", type=int, default=0, help="seed of the train/test split")
    ts.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ts.add_argument("--threads", type=int, default=1, help="torch threads during training (default 1: fastest for small nets)")
    ts.add_argument("-o", "--output", required=True, help="folder for the checkpoint and loss curve")
    ts.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ts.set_defaults(fn=cmd_train_snn)
    for module in COMMAND_MODULES:
        importlib.import_module(module, __package__).register(sub)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, OSError, ImportError) as e:  # bad input or file: one clear line, no traceback
        print(f"neurokit {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
