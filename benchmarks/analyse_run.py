"""Time `analyse` on a large synthetic run: 10 million spikes and 10 weight snapshots of 200,000 synapses.

The run file is written through RunWriter (spikes in time order, as engines write them): 20,000
neurons with Poisson-like trains (log-normal rates, mean ~5 Hz) over 100 s at dt = 0.1 ms; one
recurrent projection of 200,000 synapses whose log-normal weights drift between snapshots, with
structural births/deaths. Then analyse() runs with default settings, and the script prints wall time
and peak memory (ru_maxrss of this process, which includes the generation step; the analysis alone is
measured by tracemalloc). Targets (2-core development machine): < 60 s and < 2 GB.

    .venv/bin/python benchmarks/analyse_run.py [--out DIR] [--keep]
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from neurokit_bdh.analysis.analyse import analyse  # noqa: E402
from neurokit_bdh.io.runfile import RunWriter  # noqa: E402

N, N_SPIKES, N_SYN, N_SNAP = 20_000, 10_000_000, 200_000, 10
DT, T_S = 1e-4, 100.0


def make_run(path: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    n_steps = int(T_S / DT)
    rates = rng.lognormal(0.0, 0.8, N)
    rates *= N_SPIKES / (rates.sum() * T_S)                     # expected total: 10 M spikes
    pre = rng.integers(0, N, N_SYN)
    post = rng.integers(0, N, N_SYN)
    order = np.lexsort((post, pre))
    pre, post = pre[order], post[order]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=N))])
    w = rng.lognormal(-2.0, 0.5, N_SYN)
    with RunWriter(path, spec_text='name = "benchmark"\n', seed=seed, dt=DT, n_steps=n_steps, n_trials=1,
                   populations={"net": N}, projections={"rec": ("net", "net")}, versions={},
                   chunk_events=1 << 20, flush_every_s=60) as wr:
        block = 10_000                                          # steps per generated block (1 s)
        p = rates * DT
        for s0 in range(0, n_steps, block):
            k = rng.poisson(p.sum() * block)
            neuron = rng.choice(N, k, p=p / p.sum())
            step = s0 + rng.integers(0, block, k)
            o = np.argsort(step, kind="stable")
            wr.add_spikes("net", np.zeros(k, np.uint16), neuron[o].astype(np.uint32), step[o])
            snap = s0 // (n_steps // N_SNAP)
            if s0 % (n_steps // N_SNAP) == 0:
                wr.add_weights("rec", s0, indptr, post.astype(np.uint32), w.astype(np.float32))
                if snap:
                    wr.add_structural("rec", s0, int(rng.integers(50, 100)), int(rng.integers(50, 100)))
                w = w * rng.lognormal(0.0, 0.1, N_SYN)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="folder for run file and analysis (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    a = ap.parse_args()
    root = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="nk_bench_"))
    root.mkdir(parents=True, exist_ok=True)
    run = root / "bench.h5"
    t0 = time.perf_counter()
    if not run.exists():
        make_run(run)
    print(f"generated {run} in {time.perf_counter() - t0:.1f} s ({run.stat().st_size / 1e6:.0f} MB)")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    m = analyse(run, root / "analysis", progress=False)
    wall = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"spikes analysed: {m['populations']['net']['n_spikes']:,}; snapshots: "
          f"{m['projections']['rec']['n_snapshots']} x {m['projections']['rec']['snapshots'][0]['n_syn']:,} synapses")
    print(f"analyse wall time: {wall:.1f} s (target < 60 s)")
    print(f"peak memory: numpy/python allocations {peak / 2**20:.0f} MiB (tracemalloc); process max RSS "
          f"{rss:.0f} MiB ({rss_before:.0f} MiB after generation) (target < 2048 MiB)")
    if not a.out and not a.keep:
        shutil.rmtree(root)
    return 0 if wall < 60 and max(rss, peak / 2**20) < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
