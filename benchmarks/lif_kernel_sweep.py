"""Tune the fused LIF kernels for this GPU: sweep neurons per program, warps and steps per load / checkpoint.

Times each kernel alone (``triton.testing.do_bench``, median; starting from rest, as ``layers.LIF``
without a state does) at the benchmark shapes, reports the achieved bandwidth as a fraction of a
device-to-device copy, and prints the settings that minimise the summed time over the shapes as an
entry of ``TUNINGS`` in ``neurokit_bdh/kernels/lif.py`` (keyed by a substring of the GPU's name).
The forward (with checkpoints) and the backward must share the checkpoint interval (the longest chunk,
balanced for each T: ``kernels.lif.balanced_chunk``), so those two are chosen together; the forward's
loads are independent of it. Kernels compile in parallel worker processes first.

    python benchmarks/lif_kernel_sweep.py [--shapes 256x2097152 100x1048576] [--json out.json]
"""
from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import time

import torch

from neurokit_bdh.kernels import lif as K
from neurokit_bdh.neurons import LIFParams
from neurokit_bdh.neurons import lif as nlif

COEF = nlif.discretise(LIFParams(tau_mem=20e-3, tau_syn=0.0), 1e-3)  # the benchmark's delta-synapse neuron
PROGRAMS = {  # kind -> (neurons per program, warps) candidates
    "infer_u8": [(512, 1), (1024, 2), (256, 1), (512, 2), (1024, 4), (128, 1)],
    "infer": [(512, 1), (1024, 8), (256, 1), (512, 2), (1024, 4)],
    "fwd": [(512, 2), (1024, 4), (512, 1), (1024, 8), (128, 1), (256, 2), (512, 4)],
    "bwd": [(128, 1), (256, 2), (512, 4), (1024, 8), (128, 2), (256, 4)],
}
LOADS = {"infer_u8": (8, 16, 32), "infer": (8, 16), "fwd": (8, 16)}  # steps loaded at a time
CHECKPOINTS = (8, 16, 20)  # longest chunk between checkpoints (balanced for each T), shared by forward and backward


def _ckpt(T, ck):
    return 4 * (-(-T // ck) - 1) / T  # checkpoint bytes per neuron-step (from rest the first is not stored)


BYTES = {"infer_u8": lambda T, ck: 5, "infer": lambda T, ck: 8, "fwd": lambda T, ck: 8 + _ckpt(T, ck),
         "bwd": lambda T, ck: 12 + _ckpt(T, ck)}  # per neuron-step


def jobs(shapes):
    """(kind, T, M, neurons per program, warps, steps loaded at a time, longest chunk between checkpoints)."""
    out = []
    for (T, M), kind in itertools.product(shapes, PROGRAMS):
        for (b, w) in PROGRAMS[kind]:
            if kind == "fwd":
                out += [(kind, T, M, b, w, n, ck) for n in LOADS[kind] for ck in CHECKPOINTS]
            elif kind == "bwd":  # recomputes one chunk at a time
                out += [(kind, T, M, b, w, ck, ck) for ck in CHECKPOINTS]
            else:  # inference: no checkpoints
                out += [(kind, T, M, b, w, n, n) for n in LOADS[kind]]
    return out


def launch(job, bufs, warm=False):
    """One kernel launch (or compilation only) of ``job`` on the buffers ``bufs``."""
    kind, T, M, b, w, load, longest = job
    ck = K.balanced_chunk(T, longest)
    load = ck if kind == "bwd" else load
    x, z8, z, ckpt, gz, gx, v0 = bufs
    cfg = K._config(COEF, "atan", None, x.device, ck)
    grid = (-(-M // b),)
    if kind == "bwd":
        f = K._build(False)["_bwd_kernel"]
        nc = -(-T // ck)
        args = (x, gz, gx, ckpt, ckpt, v0, v0, v0, v0, T, M, nc, (nc - 1) * ck * M, (nc - 1) * M, ck * M, 0.0, 0.0,
                *K._coefs(cfg), cfg.k1, cfg.k2)
        kw = dict(K=ck, DETACH=cfg.detach, SURR=cfg.surr, FINAL_GRAD=False, INIT_CONST=True, INIT_GRAD=False)
    else:
        f = K._build(False)["_fwd_kernel"]
        args = (x, z8 if kind == "infer_u8" else z, v0, v0, v0, v0, ckpt, ckpt, T, M, -(-T // load), 0.0, 0.0,
                *K._coefs(cfg))
        kw = dict(K=load, CK=ck, SAVE=kind == "fwd", INIT_CONST=True)
    kw.update(BLOCK=b, **K._flags(cfg), num_warps=w, enable_fp_fusion=False)
    if warm:
        f.warmup(*args, grid=grid, **kw)
    else:
        f[grid](*args, **kw)


def _compile(js):
    t = torch.zeros(64, device="cuda")
    bufs = (t, torch.zeros(64, device="cuda", dtype=torch.uint8), t, t, t, t, t)
    for j in js:
        launch(j, bufs, warm=True)


def time_shape(T, M, js):
    from triton.testing import do_bench

    x = torch.rand(T, M, device="cuda") * 0.6
    bufs = (x, torch.empty(T, M, device="cuda", dtype=torch.uint8), torch.empty_like(x), torch.empty_like(x),
            torch.randn(T, M, device="cuda"), torch.empty_like(x), torch.zeros(M, device="cuda"))
    rows = []
    for j in js:
        ms = do_bench(lambda: launch(j, bufs), warmup=20, rep=80, return_mode="median")
        rows.append(dict(kind=j[0], T=T, M=M, block=j[3], warps=j[4], load=j[5], checkpoint=j[6], ms=ms,
                         GBps=BYTES[j[0]](T, K.balanced_chunk(T, j[6])) * T * M / ms / 1e6))
    return rows


def best(rows, kind, checkpoint=None):
    """(block, warps, load, checkpoint) minimising the time summed over shapes, each relative to its best."""
    table = {}
    for r in rows:
        if r["kind"] == kind and checkpoint in (None, r["checkpoint"]):
            table.setdefault((r["block"], r["warps"], r["load"], r["checkpoint"]), {})[r["T"]] = r["ms"]
    shapes = {t for v in table.values() for t in v}
    lo = {t: min(v[t] for v in table.values() if t in v) for t in shapes}
    full = {c: v for c, v in table.items() if set(v) == shapes}
    c = min(full, key=lambda c: sum(full[c][t] / lo[t] for t in shapes))
    return c, full[c]


def main(argv=None):
    from triton.testing import do_bench

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", nargs="+", default=["256x2097152", "100x1048576"], help="TxM (M = B·N neurons)")
    ap.add_argument("--workers", type=int, default=8, help="processes compiling the variants")
    ap.add_argument("--json", help="also write every timing to this JSON file")
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks/lif_kernel_sweep.py needs a CUDA GPU")
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in a.shapes]
    js = jobs(shapes)
    t0 = time.time()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_compile, args=(js[i::a.workers],)) for i in range(a.workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print(f"{torch.cuda.get_device_name()}: compiled {len(js)} variants in {time.time() - t0:.0f} s", flush=True)
    rows = [r for T, M in shapes for r in time_shape(T, M, [j for j in js if j[1:3] == (T, M)])]
    a_, b_ = torch.empty(2**28, device="cuda"), torch.empty(2**28, device="cuda")
    copy = 2 * a_.numel() * 4 / do_bench(lambda: b_.copy_(a_), warmup=20, rep=200, return_mode="median") / 1e6
    print(f"copy bandwidth {copy:.0f} GB/s")
    pct = {(r["kind"], r["block"], r["warps"], r["load"], r["checkpoint"], r["T"]): 100 * r["GBps"] / copy
           for r in rows}

    def show(kind, c, times):
        cells = ", ".join(f"T={t}: {ms:.3f} ms ({pct[(kind, *c, t)]:.0f} % of copy)" for t, ms in sorted(times.items()))
        print(f"  {kind:9s} block {c[0]:4d}, {c[1]} warps, {c[2]:2d} steps a load, ≤ {c[3]:2d} per checkpoint: "
              + cells)
    train = []
    for ck in CHECKPOINTS:
        (fc, ft), (bc, bt) = best(rows, "fwd", ck), best(rows, "bwd", ck)
        train.append((sum(ft.values()) + sum(bt.values()), ck, (fc, ft), (bc, bt)))
    _, ck, (fc, ft), (bc, bt) = min(train)
    (ic, it), (uc, ut) = best(rows, "infer"), best(rows, "infer_u8")
    print("best:")
    for kind, c, t in (("fwd", fc, ft), ("bwd", bc, bt), ("infer", ic, it), ("infer_u8", uc, ut)):
        show(kind, c, t)
    step = K.TUNINGS[K.DEFAULT_TUNING].blocks["step"]
    tuning = K.Tuning(ck, {"fwd": fc[:2], "bwd": bc[:2], "infer": ic[:2], "infer_u8": uc[:2], "step": step},
                      {"fwd": fc[2], "infer": ic[2], "infer_u8": uc[2]})
    print(f"\nTUNINGS entry for {torch.cuda.get_device_name()}:\n    {tuning}")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"device": torch.cuda.get_device_name(), "copy_GBps": copy, "rows": rows}, fh, indent=1)
    return tuning


if __name__ == "__main__":
    main()
