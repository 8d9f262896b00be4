"""`neurokit analyse RUN.h5 -o OUTDIR`: metrics.json, PNG plots and report.html for a run file."""
from __future__ import annotations


def cmd_analyse(a) -> int:
    from .analyse import analyse

    m = analyse(a.run, a.output, pops=a.pop, projs=a.proj, n_boot=a.n_boot, seed=a.seed,
                strong_frac=a.strong_frac, max_graph_nodes=a.graph_nodes, progress=not a.quiet,
                sbm_layers=a.sbm_layers)
    for p, pm in m["populations"].items():
        print(f"{p}: {pm['n_spikes']:,} spikes, mean rate {pm['rate_hz']['mean']:.3g} Hz, "
              f"CV {pm['cv_isi']['mean'] if pm['cv_isi']['mean'] is not None else float('nan'):.3g}")
    for q, qm in m["projections"].items():
        last = qm["snapshots"][-1]
        print(f"{q}: {qm['n_snapshots']} snapshots, mean weight {last['mean']}, "
              f"bimodal {'yes' if last['bimodal'] else 'no'} (BC {last['bimodality_coefficient']})")
    print(f"analysed in {m['wall_s']:.1f} s -> {a.output}/report.html")
    return 0


def register(sub) -> None:
    p = sub.add_parser("analyse", help="analyse a run file: metrics.json, PNG plots, report.html")
    p.add_argument("run", help="run file (.h5) written by neurokit simulate")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--pop", action="append", help="population to analyse (repeatable; default: all with spikes)")
    p.add_argument("--proj", action="append", help="projection to analyse (repeatable; default: all with snapshots)")
    p.add_argument("--n-boot", type=int, default=50, help="bootstrap repetitions of the power-law GOF test")
    p.add_argument("--strong-frac", type=float, default=0.5,
                   help="strong synapse: |w| above this fraction of the largest |w| (default 0.5)")
    p.add_argument("--graph-nodes", type=int, default=300, help="nodes sampled for the multi-layer SBM")
    p.add_argument("--sbm-layers", choices=("snapshots", "ei"), default="snapshots",
                   help="multi-layer SBM layers: weight snapshots over time (default) or the excitatory and "
                        "inhibitory sub-graphs of the last snapshot (needs population data is_exc)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(fn=cmd_analyse)
