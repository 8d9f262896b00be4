"""Realise a spec into concrete arrays: E/I masks per population, a CSR per projection, plastic masks.

This is the engine-independent network: the native engine and the Brian2 renderer both start here,
so they simulate the very same synapses.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..neurons import NEURON_MODELS
from .csr import CSR
from .spec import PAIR_TOPOLOGIES, NetworkSpec, neuron_params, plasticity_rule, structural_rule
from . import topology as topo


def subseed(seed: int, *keys) -> int:
    """A reproducible seed for one component (e.g. ``subseed(seed, "proj", "rec", "weights")``)."""
    words = [seed] + [zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


@dataclass
class RealPopulation:
    name: str
    size: int
    model: str
    params: object          # neuron parameter dataclass, or the source's params dict
    is_exc: np.ndarray      # (size,) bool


@dataclass
class RealProjection:
    name: str
    pre: str
    post: str
    csr: CSR
    rule: object | None     # plasticity rule dataclass
    plastic: np.ndarray | None  # (n_syn,) bool: which synapses the rule changes (None: all)
    plastic_on: str
    structural: object | None


@dataclass
class Network:
    spec: NetworkSpec
    populations: dict[str, RealPopulation]
    projections: dict[str, RealProjection]


def plastic_mask(on: str, pre_idx, post_idx, pre_exc, post_exc):
    if on == "all":
        return None
    m = pre_exc[pre_idx]
    return m & post_exc[post_idx] if on == "exc_exc" else m


def connect(proj, n_pre: int, n_post: int, seed: int):
    """Edge arrays (pre, post) of a projection's topology."""
    kw = dict(proj.topology_params)
    if proj.topology == "random":
        self_loops = kw.pop("self_loops", False)
        pre, post = topo.random_bipartite(n_pre, n_post, seed=seed, **kw)
        if proj.pre == proj.post and not self_loops:
            keep = pre != post
            pre, post = pre[keep], post[keep]
        return pre, post
    if proj.topology == "all_to_all":
        kw.setdefault("self_loops", proj.pre != proj.post)
        return topo.all_to_all(n_pre, n_post, **kw)
    if proj.topology == "one_to_one":
        return topo.one_to_one(n_pre)
    return topo.TOPOLOGIES[proj.topology](n_pre, seed=seed, **kw)


def realise(spec: NetworkSpec) -> Network:
    """Draw every random structure of the spec from its seed; identical seed, identical network."""
    spec.validate()
    pops = {}
    for p in spec.populations:
        params = neuron_params(p, p.name) if p.model in NEURON_MODELS else dict(p.params)
        n_exc = int(round(p.frac_exc * p.size))
        if n_exc in (0, p.size):
            is_exc = np.full(p.size, n_exc == p.size)
        else:
            is_exc = topo.ei_split(p.size, frac_exc=p.frac_exc, seed=subseed(spec.seed, "pop", p.name, "ei"))
        pops[p.name] = RealPopulation(p.name, p.size, p.model, params, is_exc)
    projs = {}
    for k, proj in enumerate(spec.projections):
        where = f"{spec.source}: projections[{k}]"
        a, b = pops[proj.pre], pops[proj.post]
        s = lambda tag: subseed(spec.seed, "proj", proj.name, tag)  # noqa: E731
        try:
            pre, post = connect(proj, a.size, b.size, s("topology"))
            n = len(pre)
            wkw = {k2: v for k2, v in proj.weight.items() if k2 != "dist"}
            w = topo.init_weights(n, proj.weight["dist"], seed=s("weights"), **wkw)
            w = np.where(a.is_exc[pre], w, -proj.g * w).astype(np.float32)
            dkw = {k2: v for k2, v in proj.delay.items() if k2 != "dist"}
            d = topo.init_delays(n, proj.delay["dist"], spec.dt, seed=s("delays"), **dkw)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{where}: {e}") from None
        csr = CSR.from_edges(pre, post, a.size, b.size, w, d)
        rule, on, mask = None, "all", None
        if proj.plasticity is not None:
            rule, on = plasticity_rule(proj, where)
            mask = plastic_mask(on, csr.pre(), csr.indices, a.is_exc, b.is_exc)
        structural = structural_rule(proj, where) if proj.structural is not None else None
        projs[proj.name] = RealProjection(proj.name, proj.pre, proj.post, csr, rule, mask, on, structural)
    return Network(spec, pops, projs)


__all__ = ["Network", "RealPopulation", "RealProjection", "realise", "subseed", "PAIR_TOPOLOGIES"]
