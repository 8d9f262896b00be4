"""``neurokit nir export SOURCE -o FILE.nir`` and ``neurokit nir info FILE.nir`` (conventions: io/nir.py)."""
from __future__ import annotations

from pathlib import Path


def _load_source(source: str):
    """A trained checkpoint (.pt, ``neurokit train snn``) or a network spec (TOML, realised from its seed)."""
    src = Path(source)
    if src.suffix == ".pt":
        from ..train import load_checkpoint

        model, _ = load_checkpoint(src)
        return model
    from ..cli import find_spec
    from ..graph.network import realise
    from ..graph.spec import load_spec

    return realise(load_spec(find_spec(source)))


def cmd_export(a) -> int:
    from .nir import write_nir

    out = Path(a.output)
    if out.exists() and not a.overwrite:
        raise FileExistsError(f"{out}: exists; pass --overwrite to replace it")
    obj = _load_source(a.source)
    write_nir(out, obj, strict=not a.lax, ignore_inputs=a.ignore_inputs)
    print(f"wrote {out}")
    return 0


def cmd_info(a) -> int:
    from .nir import _meta, _nir

    nir = _nir()
    path = Path(a.file)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such NIR file")
    g = nir.read(path)
    print(f"{path}: {len(g.nodes)} nodes, {len(g.edges)} edges")
    for k, v in _meta(g).items():
        print(f"  {k}: {v}")
    for name, node in g.nodes.items():
        shapes = {k: tuple(v.shape) for k, v in vars(node).items() if hasattr(v, "shape") and k not in ("metadata",)}
        print(f"  {name}: {type(node).__name__} {shapes}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("nir", help="export to / inspect NIR files (Neuromorphic Intermediate Representation)")
    ps = p.add_subparsers(dest="nir_command", required=True)
    e = ps.add_parser("export", help="write a checkpoint (.pt) or network spec (TOML) as a NIR file")
    e.add_argument("source", help="checkpoint .pt from `neurokit train snn`, or a spec TOML / shipped spec name")
    e.add_argument("-o", "--output", required=True, help="the .nir file to write")
    e.add_argument("--lax", action="store_true",
                   help="keep reset='subtract' and refractory periods in node metadata (read by neurokit_bdh only)")
    e.add_argument("--ignore-inputs", action="store_true", help="export a spec without its external drives")
    e.add_argument("--overwrite", action="store_true")
    e.set_defaults(fn=cmd_export)
    i = ps.add_parser("info", help="list the nodes and metadata of a NIR file")
    i.add_argument("file")
    i.set_defaults(fn=cmd_info)
