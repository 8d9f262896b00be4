"""Wall time of the native engine on the flagship network (topologies/ba_stdp.toml) per device.

Prints seconds of wall time per second of biological time (real-time factor) after a warm-up run
that compiles the fused kernels. On CUDA every step is timed with torch.cuda.synchronize().

    python benchmarks/engine_device.py --device cuda --duration 2 [--trials 1 8]
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import torch

from neurokit_bdh.engine import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import load_spec

SPEC = Path(__file__).resolve().parent.parent / "topologies" / "ba_stdp.toml"


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--duration", type=float, default=2.0)
    ap.add_argument("--trials", type=int, nargs="+", default=[1])
    ap.add_argument("--compile", action=argparse.BooleanOptionalAction, default=True)
    a = ap.parse_args(argv)
    spec = load_spec(SPEC)
    name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, compile={a.compile}")
    for B in a.trials:
        s = replace(spec, n_trials=B, duration=a.duration)
        warm = NativeEngine(realise(replace(s, duration=0.02)), device=a.device, compile=a.compile)
        t0 = time.perf_counter()
        warm.run()
        compile_s = time.perf_counter() - t0
        eng = NativeEngine(realise(s), device=a.device, compile=a.compile)
        eng._compiled = warm._compiled
        if a.device == "cuda":
            torch.cuda.synchronize()
        r = eng.run()
        if a.device == "cuda":
            torch.cuda.synchronize()
        print(f"trials {B:3d}: warm-up/compile {compile_s:6.1f} s | {r.wall_s:7.2f} s wall for {a.duration:g} s "
              f"x {B} trials = RTF {r.wall_s / (a.duration * B):.3f} per trial | rate {r.rate('net'):.2f} Hz")


if __name__ == "__main__":
    main()
