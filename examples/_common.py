"""Shared command line of the numbered examples: ``--out DIR`` and ``--fast`` (or ``NEUROKIT_FAST=1``).

Every example is a plain script::

    python examples/01_lif_fi_curve.py                 # full run, figures in out/examples/01_lif_fi_curve/
    python examples/01_lif_fi_curve.py --fast --out /tmp/x   # a few seconds (what the tests run)

Not part of the library: just the few lines every example would otherwise repeat.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def setup(file: str, doc: str | None) -> argparse.Namespace:
    """Parse ``--out``/``--fast`` for the example in ``file``; create the output folder; select matplotlib's Agg."""
    name = Path(file).stem
    first = (doc or name).strip().splitlines()[0]
    ap = argparse.ArgumentParser(prog=Path(file).name, description=first)
    ap.add_argument("--out", default=os.path.join("out", "examples", name),
                    help="folder for figures and run files (default: out/examples/%(default)s)")
    ap.add_argument("--fast", action="store_true", default=os.environ.get("NEUROKIT_FAST", "") not in ("", "0"),
                    help="a much shorter run (a few seconds), as the tests use; also NEUROKIT_FAST=1")
    args = ap.parse_args()
    args.out = Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    args.t_start = time.perf_counter()
    import matplotlib
    matplotlib.use("Agg")
    print(f"== {name}{' (fast mode)' if args.fast else ''} -> {args.out}")
    return args


def done(args: argparse.Namespace) -> None:
    """Print the PNGs written and the wall time."""
    pngs = sorted(p.name for p in args.out.glob("*.png"))
    print(f"figures: {', '.join(pngs)}")
    print(f"wall time: {time.perf_counter() - args.t_start:.1f} s")


def repo_file(*parts: str) -> Path:
    """A path inside the repository (e.g. ``repo_file("topologies", "ba_stdp.toml")``)."""
    return Path(__file__).resolve().parent.parent.joinpath(*parts)
