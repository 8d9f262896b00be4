"""One LIF layer, forward+backward, fp32 on a GPU: our fused Triton kernels against the peers, in one run.

Throughput is in G neuron-steps/s (T·B·N / wall time), each number the median of ``--reps`` samples
after a warm-up run (which also compiles), timed two ways for every row: *pipelined*, a sample times
back-to-back calls (≥ 50 ms of them) between two torch.cuda.synchronize() calls, as a training loop
runs; and *each call synchronised*, which adds the host's launch latency to every call (a
library with more host work per call loses more here). Every row drives the
layer with the same input x (T, B, N) and backpropagates the same upstream gradient ∂L/∂z (a
preallocated tensor, so no row pays for materialising ``ones``). Rows:

* neurokit triton: ``layers.LIF`` on CUDA (the fused kernels), delta synapses and current-based;
* neurokit torch: the same layer with ``kernel="torch"`` (the plain per-step loop);
* hand loop: a minimal delta-synapse LIF loop in torch with a straight-through atan surrogate;
* torch.compile: the same hand-written step compiled with ``torch.compile`` and looped in Python
  (compiling the whole 256-step loop takes minutes and one graph per T);
* snntorch ``Leaky`` (reset to zero, atan surrogate), called once per step;
* norse ``LIF`` (current-based: norse's LIF has a synaptic current), its own loop over T;
* spikingjelly ``LIFNode`` multi-step with its fastest available backend (triton, then cupy, else torch);
* the memory floor: bytes per neuron-step / the bandwidth of a measured device copy; 20 B for
  forward+backward (read x, write z; read x, ∂L/∂z, write ∂L/∂x), 8 B for inference with fp32
  spikes, 5 B with uint8 spikes.

Forward-only inference (under torch.no_grad) is timed for every row too. Missing packages give
"not installed" rows. Targets from the issue: ≥ 1.2× spikingjelly, ≥ 85% of the floor, inference
≥ 500 G neuron-steps/s.

    python benchmarks/lif_layer.py [--reps 5] [--shapes 256x32x65536 100x64x16384] [--json out.json]
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import time

import torch

from neurokit_bdh.layers import LIF
from neurokit_bdh.neurons import LIFParams

DT = 1e-3
TAU_MEM = 20e-3          # every delta-synapse row uses the decay beta = exp(-dt/tau_mem) per step
BETA = math.exp(-DT / TAU_MEM)
FLOOR_BYTES = {"fwd+bwd": 20, "fwd fp32": 8, "fwd uint8": 5}


def _sync_time(fn, reps: int, sample_s: float = 0.05) -> tuple[float, float]:
    """Median seconds per call, two ways: ``(synchronised, pipelined)``.

    *synchronised*: each call between two synchronisations (the host's launch latency included);
    *pipelined*: each sample times back-to-back calls (as many as fill ``sample_s``) between two
    synchronisations, as a training loop issues its steps without waiting for the GPU. A call slower
    than ``sample_s`` is timed once per sample, so both are the same measurement."""
    fn()  # warm-up: compiles, allocates
    torch.cuda.synchronize()
    samples = {1: []}
    for _ in range(reps):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        samples[1].append(time.perf_counter() - t0)
    inner = max(1, min(100, round(sample_s / statistics.median(samples[1]))))
    if inner > 1:
        samples[inner] = []
        for _ in range(reps):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            torch.cuda.synchronize()
            samples[inner].append((time.perf_counter() - t0) / inner)
    return statistics.median(samples[1]), statistics.median(samples[inner])


def copy_bandwidth(nbytes: int = 2**30, reps: int = 10) -> float:
    """Bytes/s of a device-to-device copy (read + write counted)."""
    a = torch.empty(nbytes // 4, device="cuda")
    b = torch.empty_like(a)
    t = _sync_time(lambda: b.copy_(a), reps)[1]
    del a, b
    return 2 * nbytes / t


def _atan_st(u: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """Heaviside forward, atan surrogate backward, as a straight-through expression torch.compile can fuse."""
    s = torch.atan(math.pi / 2 * alpha * u) / math.pi + 0.5
    return s + ((u > 0).to(u.dtype) - s).detach()


def _hand_step(v: torch.Tensor, x: torch.Tensor):
    v = BETA * v + x
    z = _atan_st(v - 1.0)
    return z, v * (1.0 - z.detach())  # reset to zero


def _loop(step):
    def run(x):
        v, zs = torch.zeros_like(x[0]), []
        for t in range(x.shape[0]):
            z, v = step(v, x[t])
            zs.append(z)
        return torch.stack(zs)
    return run


def implementations():
    """name -> (factory returning a callable x -> spikes, or None with a reason)."""
    impls = {}
    delta = LIFParams(tau_mem=TAU_MEM, tau_syn=0.0)
    cuba = LIFParams(tau_mem=TAU_MEM, tau_syn=5e-3)
    impls["neurokit triton (delta)"] = lambda: (lambda x, m=LIF(delta, DT, "atan", kernel="triton"): m(x)[0])
    impls["neurokit triton (current)"] = lambda: (lambda x, m=LIF(cuba, DT, "atan", kernel="triton"): m(x)[0])
    impls["neurokit torch loop (delta)"] = lambda: (lambda x, m=LIF(delta, DT, "atan", kernel="torch"): m(x)[0])
    impls["hand loop (torch)"] = lambda: _loop(_hand_step)
    impls["torch.compile (step)"] = lambda: _loop(torch.compile(_hand_step, dynamic=False))

    def snntorch_leaky():
        import snntorch
        from snntorch import surrogate

        lif = snntorch.Leaky(beta=BETA, threshold=1.0, spike_grad=surrogate.atan(), reset_mechanism="zero").cuda()

        def run(x):
            mem, zs = torch.zeros_like(x[0]), []
            for t in range(x.shape[0]):
                z, mem = lif(x[t], mem)
                zs.append(z)
            return torch.stack(zs)
        return run

    def norse_lif():
        import norse.torch as nt

        m = nt.LIF(nt.LIFParameters(tau_mem_inv=torch.tensor(1 / TAU_MEM), tau_syn_inv=torch.tensor(1 / 5e-3)),
                   dt=DT).cuda()
        return lambda x: m(x)[0]

    def spikingjelly_lif():
        from spikingjelly.activation_based import neuron, surrogate

        node = neuron.LIFNode(tau=1 / (1 - BETA), decay_input=False, v_reset=0.0, detach_reset=True,
                              surrogate_function=surrogate.ATan(), step_mode="m")
        backend = "auto"  # spikingjelly >= 2 picks its kernel per call (functional.lif_multi_step)
        for name in ("triton", "cupy", "torch") if hasattr(node, "supported_backends") else ():  # 0.0.0.0.x
            if name in node.supported_backends:
                try:
                    node.backend = backend = name
                    break
                except Exception:  # a backend listed but not importable (e.g. cupy missing)
                    continue
        node.cuda()

        def run(x):
            node.reset()
            return node(x)
        run.backend = backend
        return run

    impls["snntorch Leaky"] = snntorch_leaky
    impls["norse LIF (current)"] = norse_lif
    impls["spikingjelly LIFNode (multi-step)"] = spikingjelly_lif
    return impls


def versions() -> dict:
    out = {"torch": torch.__version__}
    for mod in ("triton", "snntorch", "norse", "spikingjelly", "cupy"):
        try:
            m = __import__(mod)
            out[mod] = getattr(m, "__version__", "installed")
        except ImportError:
            out[mod] = "not installed"
    return out


def run_shape(T, B, N, reps, impls, only=None):
    g = torch.Generator(device="cuda").manual_seed(0)
    x = (torch.rand(T, B, N, device="cuda", generator=g) * 0.6).requires_grad_()  # (T, B, N)
    gz = torch.randn(T, B, N, device="cuda", generator=g)
    n = T * B * N
    rows = {}
    for name, factory in impls.items():
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        try:
            f = factory()
        except ImportError as e:
            rows[name] = {"status": f"not installed ({e.name})"}
            continue
        note = f"backend={f.backend}" if hasattr(f, "backend") else ""

        def fwd_bwd():
            x.grad = None
            f(x).backward(gz)

        def fwd():
            with torch.no_grad():
                f(x)
        try:
            t_fb_sync, t_fb = _sync_time(fwd_bwd, reps)
            x.grad = None
            t_f = _sync_time(fwd, reps)[1]
            rows[name] = {"fwd+bwd": n / t_fb / 1e9, "fwd+bwd synced": n / t_fb_sync / 1e9, "fwd": n / t_f / 1e9,
                          "note": note}
        except torch.cuda.OutOfMemoryError:
            rows[name] = {"status": "out of memory"}
        del f
        gc.collect()
        torch.cuda.empty_cache()
        print(f"  {name:36s} {rows[name]}", flush=True)
    # inference with uint8 spikes (5 B per neuron-step), our kernels only
    from neurokit_bdh.kernels.lif import lif_multistep
    from neurokit_bdh.neurons import lif as nlif

    coef = nlif.discretise(LIFParams(tau_mem=TAU_MEM, tau_syn=0.0), DT)
    xd = x.detach()
    t = _sync_time(lambda: lif_multistep(xd, 0.0, None, coef, "atan", spike_dtype=torch.uint8), reps)[1]
    rows["neurokit triton (delta, uint8 spikes)"] = {"fwd": n / t / 1e9, "note": "inference only"}
    del x, gz, xd
    torch.cuda.empty_cache()
    return rows


def print_table(T, B, N, rows, bw):
    sj = rows.get("spikingjelly LIFNode (multi-step)", {})
    sj = {} if "status" in sj else sj
    floor = bw / FLOOR_BYTES["fwd+bwd"] / 1e9
    print(f"\n| implementation (T={T}, B={B}, N={N}) | fwd+bwd G/s | vs spikingjelly | % floor "
          f"| each call synchronised: G/s | vs spikingjelly | fwd-only G/s | % floor |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        if "status" in r:
            print(f"| {name} | {r['status']} |" + " |" * 6)
            continue
        cells = []
        for key in ("fwd+bwd", "fwd+bwd synced"):
            v, ref = r.get(key), sj.get(key)
            cells += [f"{v:.2f}" if v else "–", f"{v / ref:.2f}×" if v and ref else "–"]
            if key == "fwd+bwd":
                cells.append(f"{100 * v / floor:.0f}%" if v else "–")
        inf_floor = bw / FLOOR_BYTES["fwd uint8" if "uint8" in name else "fwd fp32"] / 1e9
        cells += [f"{r['fwd']:.2f}", f"{100 * r['fwd'] / inf_floor:.0f}%"]
        label = f"{name} [{r['note']}]" if r.get("note") else name
        print(f"| {label} | " + " | ".join(cells) + " |")
    ours = rows.get("neurokit triton (delta)", {})
    inf = rows.get("neurokit triton (delta, uint8 spikes)", {}).get("fwd")
    if "fwd+bwd" in ours:
        vs_sj = (f"ours/spikingjelly = {ours['fwd+bwd'] / sj['fwd+bwd']:.2f} pipelined, "
                 f"{ours['fwd+bwd synced'] / sj['fwd+bwd synced']:.2f} synchronised (≥ 1.2)" if sj
                 else "spikingjelly not run")
        print(f"\ntargets: {vs_sj} | ours/floor = {100 * ours['fwd+bwd'] / floor:.0f}% (≥ 85%)"
              + (f" | inference uint8 = {inf:.0f} G/s (≥ 500)" if inf else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", nargs="+", default=["256x32x65536", "100x64x16384"], help="TxBxN")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", nargs="*", help="run only rows whose name contains one of these")
    ap.add_argument("--json", help="also write the results to this JSON file")
    a = ap.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("benchmarks/lif_layer.py needs a CUDA GPU")
    shapes = []
    for s in a.shapes:
        try:
            shapes.append(tuple(int(v) for v in s.lower().split("x")))
        except ValueError:
            raise SystemExit(f"--shapes: expected TxBxN, got {s!r}") from None
    dev = torch.cuda.get_device_name()
    ver = versions()
    bw = copy_bandwidth()
    print(f"device {dev} | " + ", ".join(f"{k} {v}" for k, v in ver.items()))
    print(f"measured copy bandwidth {bw / 1e12:.2f} TB/s -> floors: "
          + ", ".join(f"{k} {bw / b / 1e9:.0f} G/s ({b} B)" for k, b in FLOOR_BYTES.items()))
    impls = implementations()
    results = {"device": dev, "versions": ver, "copy_bandwidth_Bps": bw, "shapes": {}}
    for T, B, N in shapes:
        print(f"\nT={T} B={B} N={N}")
        rows = run_shape(T, B, N, a.reps, impls, a.only)
        results["shapes"][f"{T}x{B}x{N}"] = rows
        print_table(T, B, N, rows, bw)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
