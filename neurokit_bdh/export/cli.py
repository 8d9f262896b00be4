"""``neurokit export loihi MODEL_OR_SPEC -o OUTDIR`` and ``neurokit lava-run OUTDIR --steps N -o RUN.h5``."""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path


def export_loihi(source, outdir, overwrite: bool = False, hardware=None) -> dict:
    """Quantise a checkpoint (.pt) or spec (TOML) and write the export folder; returns the report."""
    from .quantise import quantise_network
    from .resources import estimate, load_hardware
    from .store import save_qnet, write_json

    src = Path(source)
    out = Path(outdir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise FileExistsError(f"{out}: exists and is not empty; pass --overwrite to replace the export")
    hw = load_hardware(hardware)
    if src.suffix == ".pt":
        from ..train import load_checkpoint
        from .classifier import quantise_classifier
        model, _ = load_checkpoint(src)
        qnet = quantise_classifier(model, name=src.stem)
    else:
        from ..cli import find_spec
        from ..graph.network import realise
        from ..graph.spec import load_spec
        spec = load_spec(find_spec(str(source)))
        qnet = quantise_network(realise(spec))
        qnet.meta.update(spec_text=spec.text or spec.to_toml(), seed=spec.seed)
    res = estimate(qnet, hw)
    # build everything in a scratch folder next to the target, then move it in: nothing half-written
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        save_qnet(qnet, tmp / "network.h5")
        write_json(qnet.report, tmp / "report.json")
        write_json(res, tmp / "resources.json")
        if qnet.meta.get("kind") == "classifier":
            from .netx import write_netx
            write_netx(qnet, tmp / "network.net")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return {"report": qnet.report, "resources": res, "files": sorted(p.name for p in out.iterdir())}


def lava_run(outdir, n_steps: int, run_path, select_tag: str = "fixed_pt", engine: str = "lava",
             overwrite: bool = False):
    """Run an exported spec network on Lava (or the emulator) and write a run file; returns (path, result)."""
    import numpy as np

    from ..io.runfile import RunWriter
    from .emulator import Emulator
    from .store import load_qnet

    if not (isinstance(n_steps, int) and n_steps > 0):
        raise ValueError(f"--steps: expected a positive integer, got {n_steps!r}")
    qnet = load_qnet(outdir)
    if qnet.meta.get("kind") != "spec":
        raise ValueError(f"{outdir}: holds a classifier export; its input is a per-sample current, so run it with "
                         "neurokit_bdh.export.classifier + lava_build.run_on_lava (see examples/09_export_loihi.py)")
    if engine == "lava":
        from .lava_build import run_on_lava
        t0 = time.perf_counter()
        res = run_on_lava(qnet, n_steps, select_tag)
    else:
        t0 = time.perf_counter()
        res = Emulator(qnet, "fixed" if select_tag == "fixed_pt" else "float").run(n_steps)
    wall = time.perf_counter() - t0
    projs = {n: (q.pre, q.post) for n, q in qnet.projections.items()}
    w = RunWriter(run_path, spec_text=qnet.meta.get("spec_text", ""), seed=int(qnet.meta.get("seed", 0)),
                  dt=qnet.dt, n_steps=n_steps, n_trials=1, populations={n: p.size for n, p in qnet.populations.items()},
                  projections=projs, attrs={"engine": f"{engine}:{select_tag}", "wall_s": wall},
                  overwrite=overwrite)
    try:
        for n, z in res.spikes.items():
            step, neuron = np.nonzero(z)
            w.add_spikes(n, np.zeros(step.size, np.int64), neuron, step)
    except BaseException:
        w.close("failed")
        raise
    w.close("complete")
    return Path(run_path), res, wall


def cmd_export(a) -> int:
    try:
        r = export_loihi(a.source, a.output, overwrite=a.overwrite, hardware=a.hardware)
    except NotImplementedError as e:  # a feature Loihi export does not cover: one line, like bad input
        raise ValueError(str(e)) from None
    for n, p in r["report"]["projections"].items():
        print(f"projection {n}: {p['n_syn']} synapses, weight_exp {p['weight_exp']}, {p['sign_mode']}, "
              f"rel. error {p['rel_error']:.2%}, {p['flushed_to_zero']} flushed to zero, {p['clipped']} clipped")
    res = r["resources"]
    print(f"resources: {res['cores']} cores on {res['chips']} chip(s) of {res['hardware']}")
    print(f"wrote {a.output}: {', '.join(r['files'])}")
    return 0


def cmd_lava_run(a) -> int:
    path, res, wall = lava_run(a.outdir, a.steps, a.output, a.tag, a.engine, a.overwrite)
    for n, z in res.spikes.items():
        print(f"{n}: {int(z.sum()):,} spikes")
    print(f"ran {a.steps} steps on {a.engine} ({a.tag}) in {wall:.1f} s wall -> {path}")
    return 0


def register(sub) -> None:
    e = sub.add_parser("export", help="export a network to a neuromorphic target")
    esub = e.add_subparsers(dest="target", required=True)
    lo = esub.add_parser("loihi", help="quantise to Loihi 2 fixed point; write network.h5, report, resources, .net")
    lo.add_argument("source",
                    help="a checkpoint of `neurokit train snn` (.pt) or a network spec (TOML or shipped name)")
    lo.add_argument("-o", "--output", required=True, help="export folder")
    lo.add_argument("--hardware", help="hardware description (default: hardware/loihi2.toml)")
    lo.add_argument("--overwrite", action="store_true")
    lo.set_defaults(fn=cmd_export)
    r = sub.add_parser("lava-run", help="run an exported network on Lava's CPU simulator; write a run file")
    r.add_argument("outdir", help="folder written by `neurokit export loihi`")
    r.add_argument("--steps", type=int, required=True)
    r.add_argument("-o", "--output", required=True, help="run file to write (.h5)")
    r.add_argument("--tag", default="fixed_pt", choices=("fixed_pt", "floating_pt"))
    r.add_argument("--engine", default="lava", choices=("lava", "emulator"),
                   help="lava: Lava's simulator (Python 3.10); emulator: our bit-accurate numpy emulator")
    r.add_argument("--overwrite", action="store_true")
    r.set_defaults(fn=cmd_lava_run)


__all__ = ["register", "export_loihi", "lava_run"]
