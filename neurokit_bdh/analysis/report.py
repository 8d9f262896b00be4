"""One self-contained report.html: the run's header and spec, summary numbers and every figure embedded
as a base64 PNG (no external files, scripts or fonts), so it can be mailed or archived as one file."""
from __future__ import annotations

import base64
import html
import os
from pathlib import Path

__all__ = ["write_report"]

_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header{background:#1d2a44;color:#fff;padding:18px 32px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d3e6;font-size:13px}main{padding:20px 32px;max-width:1280px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px;color:#1d2a44}table{border-collapse:collapse;font-size:13px;margin:4px 0 8px}
td,th{padding:3px 12px 3px 0;text-align:left;vertical-align:top}th{color:#5a6478;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
figure{margin:0}figure img{width:100%;border:1px solid #e3e6eb;border-radius:4px}
figcaption{font-size:12px;color:#5a6478;margin-top:3px}pre{background:#f7f8fa;padding:10px;font-size:12px;
overflow:auto;max-height:320px;border-radius:4px}.ok{color:#18794e;font-weight:600}.warn{color:#b4531b;font-weight:600}
"""


def _fmt(v):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def _table(rows):
    return "<table>" + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{_fmt(v)}</td></tr>" for k, v in rows) + "</table>"


def _pop_rows(m):
    r = m["rate_hz"]
    rows = [("neurons", m["size"]), ("spikes", m["n_spikes"]), ("mean rate (Hz)", r["mean"]),
            ("median rate (Hz)", r["median"]), ("silent fraction", r["silent_fraction"])]
    if "excitatory" in r:
        rows += [("excitatory rate (Hz)", r["excitatory"]), ("inhibitory rate (Hz)", r["inhibitory"])]
    rows += [("CV of ISI (mean)", m["cv_isi"]["mean"]), ("LV (mean)", m["lv_isi"]["mean"])]
    rows += [(f"Fano factor, {w}", v) for w, v in m["fano"].items()]
    rows += [(f"χ² synchrony ({m['sync_bin_s']:g} s bins)", m["chi2_synchrony"]),
             (f"count correlation, {m['count_correlation']['n_pairs']} pairs (mean)", m["count_correlation"]["mean"]),
             (f"STTC, Δt = {m['sttc']['delta_s'] * 1e3:g} ms, {m['sttc']['n_pairs']} pairs (mean)",
              m["sttc"]["mean"]),
             ("bursts (total)", m["bursts"]["total"]), ("burst rate per neuron (Hz)", m["bursts"]["rate_hz_per_neuron"])]
    return rows


def _proj_rows(m):
    first, last = m["snapshots"][0], m["snapshots"][-1]
    rows = [("pre → post", f"{m['pre']} → {m['post']}"), ("snapshots", m["n_snapshots"]),
            ("synapses (first → last)", f"{first['n_syn']} → {last['n_syn']}"),
            ("mean weight (first → last)", f"{_fmt(first['mean'])} → {_fmt(last['mean'])}"),
            ("bimodality coefficient (last)", last["bimodality_coefficient"]),
            ("bimodal (BC > 5/9 and ≥ 2 KDE modes)", last["bimodal"])]
    if "first_to_last" in m:
        rows += [("potentiated (first → last)", m["first_to_last"]["potentiated"]),
                 ("depressed (first → last)", m["first_to_last"]["depressed"])]
    g = m["strong_graph"][-1]
    rows += [("strong synapses (last)", f"{g['n_edges']} ({m['strong_threshold_rule']})")]
    for kind in ("out", "in"):
        f, b = g.get(f"fit_{kind}"), g.get(f"fit_er_{kind}")
        rows.append((f"{kind}-degree power-law α (random baseline α)",
                     f"{_fmt(f and f['alpha'])} (xmin {_fmt(f and f['xmin'])}) vs {_fmt(b and b['alpha'])}"))
    for name, t in (m.get("heavy_tail") or {}).items():
        if t:
            rows.append((f"{name}: tail fit", f"α = {t['alpha']:.3g}, xmin = {t['xmin']:.3g}, GOF p = {_fmt(t['gof_p'])}, "
                         f"vs log-normal R = {_fmt(t['vs_lognormal']['R'])} (p {_fmt(t['vs_lognormal']['p'])}), "
                         f"vs exponential R = {_fmt(t['vs_exponential']['R'])} (p {_fmt(t['vs_exponential']['p'])}) "
                         f"→ {t['verdict']}"))
    if "structural" in m:
        s = m["structural"]
        rows.append(("structural births / deaths", f"{s['births']} / {s['deaths']} (net {s['net']:+d})"))
    c = m.get("communities") or {}
    if "louvain" in c:
        lv = c["louvain"]
        rows.append(("Louvain modularity (random baseline)",
                     f"{_fmt(lv['modularity'])} with {lv['n_communities']} communities "
                     f"({_fmt(lv['baseline_modularity'])} with {lv['baseline_n_communities']})"))
    if "multilayer_sbm" in c:
        sb = c["multilayer_sbm"]
        what = "E/I sub-graphs" if sb.get("layer_mode") == "ei" else "snapshots over time"
        if "skipped" in sb:
            rows.append((f"multi-layer SBM ({what})", sb["skipped"]))
        else:
            rows.append((f"multi-layer SBM communities, layers: {what} (random baseline)",
                         f"K = {sb['k_hat']} on {sb['n_nodes']} sampled nodes (baseline K = {sb['baseline_k_hat']})"))
    if "skipped" in c:
        rows.append(("communities", c["skipped"]))
    return rows


def write_report(path, metrics: dict, spec_text: str, figures: list) -> Path:
    """Write the report; ``figures``: [(caption, png_path)]. Written to a temporary name, then renamed."""
    path = Path(path)
    run = metrics["run"]
    parts = [f"<section><h2>Run</h2>{_table([(k, run[k]) for k in run])}"
             f"<p>analysed in {metrics.get('wall_s', 0):.1f} s</p></section>"]
    cards = [f"<section><h2>Population {html.escape(p)}</h2>{_table(_pop_rows(m))}</section>"
             for p, m in metrics["populations"].items()]
    if cards:
        parts.append(f"<div class='cards'>{''.join(cards)}</div>")
    for q, m in metrics["projections"].items():
        parts.append(f"<section><h2>Projection {html.escape(q)}</h2>{_table(_proj_rows(m))}</section>")
    figs = []
    for cap, f in figures:
        data = base64.b64encode(Path(f).read_bytes()).decode("ascii")
        figs.append(f'<figure><img alt="{html.escape(cap)}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    if figs:
        parts.append(f"<section><h2>Figures</h2><div class='grid'>{''.join(figs)}</div></section>")
    parts.append(f"<section><h2>Network spec</h2><pre>{html.escape(spec_text or '(no spec stored)')}</pre></section>")
    title = f"neurokit analysis: {os.path.basename(run['path'])}"
    doc = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{_CSS}</style></head><body><header><h1>{html.escape(title)}</h1>"
           f"<p>{run['status']} run · {run['duration_s']:g} s simulated · dt = {run['dt']:g} s · "
           f"{run['n_trials']} trial(s) · seed {run['seed']}</p></header><main>{''.join(parts)}</main></body></html>")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return path
