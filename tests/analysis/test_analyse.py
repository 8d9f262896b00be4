"""`analyse` end to end: validation targets through the streamed pass (Poisson CV ≈ 1 and Fano ≈ 1,
gamma-4 CV ≈ 1/2, common-source correlation c), equality with the array functions, weights over time,
Song–Miller–Abbott bimodal vs multiplicative STDP unimodal, errors, CLI, and report.html in Chromium."""
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from neurokit_bdh.analysis import spikes as S
from neurokit_bdh.analysis.analyse import analyse, is_bimodal
from neurokit_bdh.analysis.stream import SpikePassConfig
from neurokit_bdh.cli import main
from neurokit_bdh.io.runfile import RunWriter
from tests.analysis.test_spikes import DT, common_source, gamma_trains

T_S = 100.0
N_STEPS = int(T_S / DT)


def _write_run(path, pops, snaps=None, n_syn_pre=60, time_order=True, structural=False):
    """pops: name -> (trial, neuron, step, size). snaps: list of (step, pre, post, w) of projection 'rec' on 'a'."""
    projections = {"rec": ("a", "a")} if snaps else {}
    with RunWriter(path, spec_text='name = "synthetic"\n', seed=0, dt=DT, n_steps=N_STEPS, n_trials=1,
                   populations={k: v[3] for k, v in pops.items()}, projections=projections, versions={}) as w:
        for name, (t, n, s, _) in pops.items():
            o = np.argsort(s, kind="stable") if time_order else np.lexsort((s, n))
            for a in range(0, len(t), 50_000):
                sl = o[a:a + 50_000]
                w.add_spikes(name, t[sl], n[sl], s[sl])
        for step, pre, post, ww in snaps or []:
            indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_syn_pre))])
            w.add_weights("rec", step, indptr, post.astype(np.uint32), ww.astype(np.float32))
            if structural and step > 0:
                w.add_structural("rec", step, 5, 3)
    return path


def _snapshots(n, bimodal_last, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < 0.3
    np.fill_diagonal(mask, False)
    pre, post = np.nonzero(mask)
    out = []
    for k, step in enumerate([0, N_STEPS // 2, N_STEPS]):
        if k == 2 and bimodal_last:
            w = np.where(rng.random(pre.size) < 0.5, rng.normal(0.1, 0.03, pre.size), rng.normal(0.9, 0.03, pre.size))
        else:
            w = rng.lognormal(-1.0, 0.3, pre.size)
        out.append((step, pre, post, np.clip(w, 1e-3, None)))
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("an")
    pt, pn, ps = gamma_trains(60, 10.0, T_S, k=1.0, seed=11)            # Poisson, 60 neurons
    gt, gn, gs = gamma_trains(60, 10.0, T_S, k=4.0, seed=12)            # gamma-4
    ct, cn, cs = common_source(30, 20.0, 0.2, T_S, seed=13)             # count correlation 0.2
    pops = {"a": (pt, pn, ps, 60), "g": (gt, gn, gs, 60), "c": (ct, cn, cs, 30)}
    path = _write_run(d / "syn.h5", pops, _snapshots(60, True), structural=True)
    cfg = SpikePassConfig(fano_windows_s=(0.01, 0.1, 1.0), sync_bin_s=0.02, n_pairs=200, chunk=20_000)
    m = analyse(path, d / "out", cfg=cfg, n_boot=10)
    return path, d, m, pops, cfg


def test_validation_targets(synthetic):
    _, _, m, _, _ = synthetic
    a, g, c = (m["populations"][p] for p in "agc")
    assert m["populations"]["a"]["streamed"] is True
    assert abs(a["cv_isi"]["mean"] - 1.0) < 0.05                         # Poisson CV; measured ~1.00
    assert all(abs(v - 1.0) < 0.1 for v in a["fano"].values())           # Fano 1 at 10 ms, 100 ms, 1 s
    assert abs(a["rate_hz"]["mean"] - 10.0) < 0.3
    assert abs(g["cv_isi"]["mean"] - 0.5) < 0.05                         # gamma-4: 1/sqrt(4)
    assert abs(c["count_correlation"]["mean"] - 0.2) < 0.05              # set correlation recovered
    assert abs(c["chi2_synchrony"] - (1 + 29 * 0.2) / 30) < 0.03         # Golomb chi^2 = (1 + (N-1) c) / N
    # STTC (+-5 ms, the 200 sampled pairs): independent Poisson ~0; common source clearly positive
    assert a["sttc"]["delta_s"] == pytest.approx(0.005) and a["sttc"]["n_pairs"] == 200
    assert abs(a["sttc"]["mean"]) < 0.01                                 # measured ~0.001
    # common source (each train keeps a mother spike with prob c = 0.2, 20 Hz): T = 1 - exp(-2 r dt_w),
    # P = 1 - (1 - c)(1 - T) (the shared spike, else an unrelated one in the window): STTC = (P - T) / (1 - P T)
    T_ = 1 - np.exp(-2 * 20.0 * 0.005)
    P_ = 1 - 0.8 * (1 - T_)
    assert abs(c["sttc"]["mean"] - (P_ - T_) / (1 - P_ * T_)) < 0.015    # 0.175 expected; measured 0.174


def test_streamed_equals_array_functions_and_out_of_order_fallback(synthetic, tmp_path):
    path, _, m, pops, cfg = synthetic
    t, n, s, N = pops["g"]
    arr = dict(n_neurons=N, n_trials=1, n_steps=N_STEPS, dt=DT)
    g = m["populations"]["g"]
    assert g["cv_isi"]["mean"] == pytest.approx(np.nanmean(S.cv_isi(t, n, s, N)), rel=1e-12)
    assert g["lv_isi"]["mean"] == pytest.approx(np.nanmean(S.lv_isi(t, n, s, N)), rel=1e-12)
    ff = S.fano_factor(t, n, s, **arr, windows_s=[0.1])[1][0]
    assert g["fano"]["0.1s"] == pytest.approx(ff, rel=1e-12)
    assert g["chi2_synchrony"] == pytest.approx(S.chi_synchrony(t, n, s, **arr, bin_s=0.02), rel=1e-12)
    _, x = S.spike_time_tiling(t, n, s, **arr, delta_s=cfg.sttc_dt_s, n_pairs=cfg.n_pairs, seed=cfg.seed)
    assert g["sttc"]["mean"] == pytest.approx(np.nanmean(x), rel=1e-12) and g["sttc"]["n_valid"] == 200
    b = S.detect_bursts(t, n, s, N, DT, cfg.burst_max_isi_s, cfg.burst_min_spikes)
    assert g["bursts"]["total"] == b.n_spikes.size
    # the same spikes stored neuron by neuron (not in time order): loaded fallback, same numbers
    p2 = _write_run(tmp_path / "unordered.h5", {"g": pops["g"]}, time_order=False)
    m2 = analyse(p2, None, cfg=cfg)
    g2 = m2["populations"]["g"]
    assert g2["streamed"] is False
    for key in ("cv_isi", "lv_isi", "fano", "bursts", "count_correlation", "sttc"):
        assert json.dumps(g2[key]) == json.dumps(g[key]) or all(
            np.isclose(x, y) for x, y in zip(_nums(g2[key]), _nums(g[key]))), key


def _nums(d):
    return [v for v in d.values() if isinstance(v, (int, float))]


def test_weights_metrics_and_outputs(synthetic):
    _, d, m, _, _ = synthetic
    r = m["projections"]["rec"]
    assert [s["bimodal"] for s in r["snapshots"]] == [False, False, True]     # lognormal, lognormal, two peaks
    assert r["structural"] == {"rows": 2, "births": 10, "deaths": 6, "net": 4}
    assert r["snapshots"][1]["potentiated"] + r["snapshots"][1]["depressed"] == pytest.approx(1.0)
    g = r["strong_graph"][0]
    w0 = _snapshots(60, True)[0][3].astype(np.float32).astype(np.float64)      # as stored
    assert g["n_edges"] == int((np.abs(w0) > r["strong_threshold"]).sum()) > 0
    assert "louvain" in r["communities"] and "multilayer_sbm" in r["communities"]
    out = d / "out"
    files = json.loads((out / "metrics.json").read_text())["figures"]
    assert len(files) == 4 * 3 + 4 and all((out / f).stat().st_size > 5000 for f in files)
    assert (out / "report.html").exists() and not list(out.glob("*.tmp"))
    html = (out / "report.html").read_text()
    st = m["populations"]["c"]["sttc"]
    assert f"STTC, Δt = 5 ms, 200 pairs (mean)</th><td>{st['mean']:.4g}</td>" in html
    assert json.loads((out / "metrics.json").read_text())["populations"]["c"]["sttc"]["mean"] == st["mean"]
    assert r["communities"]["multilayer_sbm"]["layer_mode"] == "snapshots"               # the default


def test_is_bimodal_rejects_skewed_unimodal():
    rng = np.random.default_rng(0)
    ln = rng.lognormal(0, 1.0, 5000)
    bim, bc, modes = is_bimodal(ln)
    assert bc > 5 / 9 and modes == 1 and not bim                         # BC alone would call it bimodal


def test_errors_and_cli(tmp_path, synthetic, capsys):
    path, _, _, _, _ = synthetic
    bad = tmp_path / "not_a_run.h5"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not_a_run.h5"):
        analyse(bad, tmp_path / "o1")
    with pytest.raises(ValueError, match="no population 'zz'"):
        analyse(path, tmp_path / "o2", pops=["zz"])
    nosnap = _write_run(tmp_path / "nosnap.h5", {"a": (np.zeros(3, int), np.arange(3), np.arange(3), 5)})
    with pytest.raises(ValueError, match="no projection 'rec'"):
        analyse(nosnap, tmp_path / "o3", projs=["rec"])
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()
    assert capsys.readouterr().err == ""  # the API raises; only the CLI prints the error
    assert main(["analyse", str(bad), "-o", str(tmp_path / "o4")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "neurokit analyse: error:" in err and "not_a_run.h5" in err
    assert main(["analyse", str(path), "-o", str(tmp_path / "o5"), "-q", "--n-boot", "5", "--pop", "a"]) == 0
    assert (tmp_path / "o5" / "report.html").exists()


def _png_ok(b: bytes) -> bool:
    return b[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" in b[-16:]


def test_report_renders_in_headless_chromium(synthetic, tmp_path):
    import base64
    _, d, _, _, _ = synthetic
    html = (d / "out" / "report.html").read_text()
    imgs = re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert len(imgs) == 16 and all(_png_ok(base64.b64decode(x)) for x in imgs)
    assert "src=\"http" not in html and "<script" not in html                 # self-contained
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe is not None, "chromium not installed: run tools/ensure-chromium.sh (make test does)"
    shot = tmp_path / "shot.png"
    subprocess.run([exe, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=1280,2400", (d / "out" / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image
    im = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert im.shape == (2400, 1280)
    assert im.std() > 20                                                      # not blank: text, tables, plots
    dark = (im < 100).mean()
    assert 0.01 < dark < 0.6                                                  # content present, not all dark
    # figures rendered: the grid area holds many distinct grey levels (plots), not just text on white
    assert len(np.unique(im[1200:].astype(np.uint8))) > 100
    shutil.copy(shot, d / "out" / "screenshot.png")


# ----------------------------------------------------------------------------- plasticity validation

@pytest.mark.slow
def test_song_miller_abbott_run_reported_bimodal(sma_run):
    """The shipped SMA spec (150 s simulated, ~40 s wall): the analysis reports the last snapshot bimodal
    (BC > 5/9 and two KDE modes; tests/plasticity measured BC 0.71-0.75) and the first (uniform) not."""
    m = analyse(sma_run[0], None, projs=["syn"], pops=[], n_boot=0)
    s = m["projections"]["syn"]["snapshots"]
    assert s[-1]["bimodal"] and s[-1]["bimodality_coefficient"] > 0.68
    assert not s[0]["bimodal"]


def test_multiplicative_stdp_run_reported_unimodal(multiplicative_run):
    """Same neuron and inputs, multiplicative STDP with A- = 2 A+ (10 s, ~4 s wall): unimodal around w_max/2."""
    m = analyse(multiplicative_run[0], None, projs=["syn"], pops=[], n_boot=0)
    last = m["projections"]["syn"]["snapshots"][-1]
    assert not last["bimodal"] and last["bimodality_coefficient"] < 5 / 9     # measured ~0.34


# ----------------------------------------------------------------------------- multi-layer SBM on E/I sub-graphs

def _ei_run(path, n=300, p_in=0.12, p_out=0.03, is_exc=True, seed=0):
    """One snapshot of a recurrent projection on n neurons (80 % excitatory): two planted blocks with
    connection probability p_in inside and p_out between (p_in = p_out: no blocks). E weights in
    [0.6, 1], I weights in [-4, -2.5], so each layer's strong threshold (0.5 x its max |w|) keeps all."""
    rng = np.random.default_rng(seed)
    exc = rng.random(n) < 0.8
    g = rng.integers(0, 2, n)
    a = rng.random((n, n)) < np.where(g[:, None] == g[None], p_in, p_out)
    np.fill_diagonal(a, False)
    pre, post = np.nonzero(a)
    w = np.where(exc[pre], rng.uniform(0.6, 1.0, pre.size), -rng.uniform(2.5, 4.0, pre.size))
    with RunWriter(path, spec_text="", seed=0, dt=DT, n_steps=N_STEPS, n_trials=1, populations={"a": n},
                   projections={"rec": ("a", "a")}, versions={}) as wr:
        if is_exc:
            wr.add_population_data("a", "is_exc", exc.astype(np.uint8))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n))])
        wr.add_weights("rec", N_STEPS, indptr, post.astype(np.uint32), w.astype(np.float32))
    return path


def test_sbm_on_ei_layers_planted_two_blocks(tmp_path):
    """E and I sub-graphs of a planted two-block network: K = 2 (blocks fitted per (community, E/I type),
    so the E/I types alone do not count), random baseline K = 1; without blocks K = 1."""
    kw = dict(pops=[], projs=["rec"], n_boot=0, sbm_layers="ei", max_graph_nodes=300)
    sb = analyse(_ei_run(tmp_path / "planted.h5"), None, **kw)["projections"]["rec"]["communities"]["multilayer_sbm"]
    assert sb["layer_mode"] == "ei" and sb["n_layers"] == 2 and sb["n_nodes"] == 300
    assert sb["k_hat"] == 2 and sb["baseline_k_hat"] == 1
    assert sb["stats"][0] > 30 and sb["stats"][1] < sb["threshold"]          # measured 75.7, -9.5; threshold 4.61
    assert sb["layer_thresholds"]["E"] < 0.5 and sb["layer_thresholds"]["I"] > 1.25
    flat = analyse(_ei_run(tmp_path / "flat.h5", p_in=0.075, p_out=0.075), None, **kw)
    assert flat["projections"]["rec"]["communities"]["multilayer_sbm"]["k_hat"] == 1
    assert flat["config"]["sbm_layers"] == "ei"


def test_sbm_ei_errors_and_cli(tmp_path, capsys):
    noexc = _ei_run(tmp_path / "noexc.h5", is_exc=False)
    with pytest.raises(ValueError, match="is_exc"):
        analyse(noexc, tmp_path / "o1", pops=[], projs=["rec"], sbm_layers="ei")
    assert not (tmp_path / "o1").exists()
    with pytest.raises(ValueError, match="sbm_layers must be one of snapshots, ei"):
        analyse(noexc, None, sbm_layers="E/I")
    assert capsys.readouterr().err == ""  # the API raises; only the CLI prints the error
    assert main(["analyse", str(noexc), "-o", str(tmp_path / "o2"), "-q", "--sbm-layers", "ei"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is_exc" in err
    path = _ei_run(tmp_path / "ok.h5")
    assert main(["analyse", str(path), "-o", str(tmp_path / "o3"), "-q", "--n-boot", "0", "--sbm-layers", "ei"]) == 0
    m = json.loads((tmp_path / "o3" / "metrics.json").read_text())
    assert m["projections"]["rec"]["communities"]["multilayer_sbm"]["k_hat"] == 2
    html = (tmp_path / "o3" / "report.html").read_text()
    assert "layers: E/I sub-graphs (random baseline)</th><td>K = 2 on 300" in html
