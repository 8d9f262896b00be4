"""Topology generators, E/I split (Dale's law), weight/delay initialisers, networkx interop, degree statistics.

Every generator returns ``(pre, post)``: two int64 arrays, one entry per directed synapse, sorted by
``(pre, post)`` and free of duplicates. Turn them into synapses with ``CSR.from_edges``:

>>> pre, post = erdos_renyi(100, 0.1, seed=1)
>>> csr = CSR.from_edges(pre, post, 100, 100, weights=init_weights(pre.size, "constant", value=0.5))
>>> csr.n_syn == pre.size
True

Randomness always comes from an explicit ``seed`` (a non-negative int, or a ``numpy.random.Generator``);
nothing here touches global random state. Undirected models (BA, Holme–Kim, Watts–Strogatz) give two
synapses per undirected edge when ``both_directions=True``. Generators backed by networkx build one Python
object per edge (fine up to ~10^5 neurons, a few seconds); ``configuration_model``, ``erdos_renyi``,
``random_bipartite`` and ``barabasi_albert(method="fast")`` are vectorised numpy (10^6 neurons in seconds,
memory proportional to the number of edges).

Delays are integer steps >= 1: a spike emitted at step t arrives at step t + delay.
"""
from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from neurokit_bdh.graph.csr import CSR

__all__ = [
    "barabasi_albert", "holme_kim", "directed_scale_free", "configuration_model", "watts_strogatz",
    "erdos_renyi", "TOPOLOGIES", "all_to_all", "one_to_one", "random_bipartite",
    "ei_split", "apply_dale", "check_dale", "init_weights", "init_delays",
    "to_networkx", "from_networkx", "degree_stats", "powerlaw_fit",
]


# ----------------------------------------------------------------------------------------------------------
# argument checking and randomness
# ----------------------------------------------------------------------------------------------------------

def _int(name, value, lo=None, hi=None, rule=None) -> int:
    """Check that ``value`` is an int in ``[lo, hi]``; ValueError naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name}: expected an int, got {value!r}")
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if rule is None:
            rule = f">= {lo}" if hi is None else (f"<= {hi}" if lo is None else f"in [{lo}, {hi}]")
        raise ValueError(f"{name}: must be {rule}, got {name}={value}")
    return value


def _float(name, value, lo=None, hi=None, lo_open=False, hi_open=False, rule=None) -> float:
    """Check that ``value`` is a finite real number in the given (open or closed) range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value!r}")
    value = float(value)
    bad = ((lo is not None and (value <= lo if lo_open else value < lo))
           or (hi is not None and (value >= hi if hi_open else value > hi)))
    if bad:
        if rule is None:
            left = "" if lo is None else (f"> {lo}" if lo_open else f">= {lo}")
            right = "" if hi is None else (f"< {hi}" if hi_open else f"<= {hi}")
            rule = " and ".join(s for s in (left, right) if s)
        raise ValueError(f"{name}: must be {rule}, got {name}={value!r}")
    return value


def _prob(name, p) -> float:
    return _float(name, p, 0.0, 1.0, rule="a probability in [0, 1]")


def _rng(seed) -> np.random.Generator:
    """numpy Generator from a non-negative int seed (or pass a Generator through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int or numpy.random.Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _nx_seed(seed) -> int:
    """Int seed for networkx (same int as given, so results match calling networkx directly)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**63 - 1))
    _rng(seed)  # validates
    return int(seed)


# ----------------------------------------------------------------------------------------------------------
# edge-array helpers
# ----------------------------------------------------------------------------------------------------------

def _canonical(pre, post, n_post, self_loops=True):
    """Sorted by (pre, post), duplicates collapsed, self-loops dropped unless ``self_loops``."""
    pre = np.asarray(pre, np.int64)
    post = np.asarray(post, np.int64)
    if not self_loops:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    key = np.unique(pre * np.int64(n_post) + post)
    return key // n_post, key % n_post


def _nx_edges(G):
    """(u, v) int64 arrays of a networkx graph with integer nodes, without a Python list of edges."""
    m = G.number_of_edges()
    flat = np.fromiter(itertools.chain.from_iterable(G.edges()), dtype=np.int64, count=2 * m)
    return flat[0::2], flat[1::2]


def _undirected_to_synapses(u, v, n, both_directions):
    """Both directions -> two synapses per edge; otherwise one synapse from the newer (higher index) neuron."""
    u = np.asarray(u, np.int64)
    v = np.asarray(v, np.int64)
    if both_directions:
        return _canonical(np.concatenate([u, v]), np.concatenate([v, u]), n, self_loops=False)
    return _canonical(np.maximum(u, v), np.minimum(u, v), n, self_loops=False)


def _bernoulli_indices(total, p, rng, chunk=1 << 22):
    """Sorted indices in ``[0, total)``, each kept independently with probability ``p`` (geometric skips).

    Memory and time are proportional to the number kept (about ``total * p``), not to ``total``.
    """
    if p <= 0.0 or total <= 0:
        return np.zeros(0, np.int64)
    if p >= 1.0:
        return np.arange(total, dtype=np.int64)
    out, pos = [], np.int64(-1)
    expected = total * p
    size = int(min(max(expected + 6.0 * math.sqrt(expected) + 16, 16), chunk))
    while True:
        idx = pos + np.cumsum(rng.geometric(p, size=size).astype(np.int64))
        if idx[-1] >= total:
            out.append(idx[idx < total])
            break
        out.append(idx)
        pos = idx[-1]
    return np.concatenate(out)


# ----------------------------------------------------------------------------------------------------------
# recurrent topologies (n neurons, directed synapses)
# ----------------------------------------------------------------------------------------------------------

def _ba_fast(n, m, rng):
    """Preferential attachment with targets drawn with replacement (Batagelj & Brandes 2005), vectorised.

    Same seed graph and attachment kernel as networkx (star on m+1 nodes; a new node picks each of its m
    targets with probability proportional to degree *before* it arrived), but the m draws are
    independent, so repeated targets collapse into one edge. Stub resolution ``M[2e+1] = M[r_e]`` is done
    by vectorised pointer chasing instead of a Python loop.
    """
    n_edges = m * (n - m)                      # m star edges + m per later node
    e = np.arange(m, n_edges, dtype=np.int64)  # edges added by nodes m+1 .. n-1
    src_all = np.empty(n_edges, np.int64)      # (n_edges,) source node of every edge
    src_all[:m] = np.arange(1, m + 1)
    src_all[m:] = m + 1 + (e - m) // m
    first = 2 * (m + (src_all[m:] - (m + 1)) * m)  # stub positions that existed before this node
    r = np.zeros(n_edges, np.int64)            # (n_edges,) chosen stub position for every edge's target
    r[m:] = (rng.random(e.size) * first).astype(np.int64)
    cur = r[m:].copy()                         # (n_edges - m,) stub position being resolved

    def chase(c):                              # odd stub of a non-star edge -> follow that edge's own choice
        return ((c & 1) == 1) & ((c - 1) // 2 >= m)

    act = np.flatnonzero(chase(cur))
    while act.size:
        cur[act] = r[(cur[act] - 1) // 2]
        act = act[chase(cur[act])]
    tgt = np.where((cur & 1) == 1, 0, src_all[cur // 2])  # odd star stub -> hub 0; even stub -> that edge's source
    u = np.concatenate([src_all[:m], src_all[m:]])
    v = np.concatenate([np.zeros(m, np.int64), tgt])
    return u, v


def barabasi_albert(n, m, seed, both_directions=True, method="networkx"):
    """Barabási–Albert preferential attachment: each new neuron links to ``m`` existing ones (degree exponent 3).

    ``method="networkx"`` wraps ``nx.barabasi_albert_graph`` (star seed graph on m+1 nodes, m distinct targets
    per new node, so exactly ``m * (n - m)`` undirected edges); it is pure Python (~0.2 s for n=10^4 and
    ~3 s for n=10^5 at m=10) and gives the same graph as calling networkx with the same int seed.
    ``method="fast"`` is a vectorised numpy version of the same process (Batagelj & Brandes 2005) whose m
    targets per node are drawn with replacement, so collapsed repeats leave slightly fewer edges; use it
    for 10^6 neurons. ``both_directions=True`` turns each undirected edge into two synapses; otherwise the
    one synapse goes from the newer neuron to the older one (hubs get large in-degree).

    >>> pre, post = barabasi_albert(100, 3, seed=0)
    >>> pre.size == 2 * 3 * (100 - 3)
    True
    """
    n = _int("n", n, 2)
    m = _int("m", m, 1, n - 1, rule=f"in [1, n) with n={n}")
    if method == "networkx":
        import networkx as nx  # lazy: only the networkx-based functions need it
        G = nx.barabasi_albert_graph(n, m, seed=_nx_seed(seed))
        u, v = _nx_edges(G)
    elif method == "fast":
        u, v = _ba_fast(n, m, _rng(seed))
    else:
        raise ValueError(f"method: must be 'networkx' or 'fast', got {method!r}")
    return _undirected_to_synapses(u, v, n, both_directions)


def holme_kim(n, m, p, seed, both_directions=True):
    """Holme–Kim scale-free graph with tunable clustering (``nx.powerlaw_cluster_graph``).

    BA attachment of ``m`` edges per new neuron, each after the first followed by a triad-closing step
    with probability ``p``. Pure Python (~0.7 s for n=10^4, m=10).

    >>> pre, post = holme_kim(50, 2, 0.5, seed=0)
    >>> bool((pre != post).all())
    True
    """
    n = _int("n", n, 2)
    m = _int("m", m, 1, n - 1, rule=f"in [1, n) with n={n}")
    p = _prob("p", p)
    import networkx as nx  # lazy: only the networkx-based functions need it
    G = nx.powerlaw_cluster_graph(n, m, p, seed=_nx_seed(seed))
    u, v = _nx_edges(G)
    return _undirected_to_synapses(u, v, n, both_directions)


def directed_scale_free(n, alpha=0.41, beta=0.54, gamma=0.05, delta_in=0.2, delta_out=0.0, *, seed,
                        self_loops=False):
    """Directed scale-free graph of Bollobás, Borgs, Chayes & Riordan (2003) via ``nx.scale_free_graph``.

    Each step adds, with probability ``alpha``, a new neuron projecting to an in-degree-chosen target;
    with ``beta`` a synapse between two existing neurons; with ``gamma`` an out-degree-chosen neuron
    projecting to a new one (``alpha + beta + gamma = 1``). Parallel edges are collapsed into one synapse
    and self-loops dropped unless ``self_loops=True``. Pure Python (~1.5 s for n=10^5).

    >>> pre, post = directed_scale_free(200, seed=3)
    >>> bool((pre != post).all())
    True
    """
    n = _int("n", n, 3, rule=">= 3 (the seed graph is a 3-cycle)")
    alpha = _float("alpha", alpha, 0.0, 1.0, lo_open=True)
    beta = _float("beta", beta, 0.0, 1.0, lo_open=True)
    gamma = _float("gamma", gamma, 0.0, 1.0, lo_open=True)
    if abs(alpha + beta + gamma - 1.0) >= 1e-9:
        raise ValueError(f"alpha, beta, gamma: must sum to 1, got {alpha} + {beta} + {gamma} = {alpha + beta + gamma}")
    delta_in = _float("delta_in", delta_in, 0.0)
    delta_out = _float("delta_out", delta_out, 0.0)
    # keywords only: networkx 2.8 has create_using before seed, 3.x removed it
    import networkx as nx  # lazy: only the networkx-based functions need it
    G = nx.scale_free_graph(n, alpha=alpha, beta=beta, gamma=gamma, delta_in=delta_in, delta_out=delta_out,
                            seed=_nx_seed(seed))
    u, v = _nx_edges(G)
    return _canonical(u, v, n, self_loops=bool(self_loops))


def _powerlaw_degrees(n, exponent, k_min, k_max, rng):
    """n iid draws of P(k) proportional to k**-exponent on the integers k_min..k_max (inverse CDF, exact)."""
    ks = np.arange(k_min, k_max + 1, dtype=np.float64)
    cdf = np.cumsum(np.exp(-exponent * np.log(ks / k_min)))   # relative to k_min: no underflow
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, rng.random(n), side="right")
    return k_min + np.minimum(idx, ks.size - 1).astype(np.int64)


def configuration_model(n, exponent, seed, k_min=1, k_max=None, directed=True):
    """Configuration model with power-law degrees ``P(k) ~ k**-exponent`` on ``k_min..k_max``, vectorised.

    Degrees are drawn exactly from the truncated discrete power law (``k_max`` defaults to ``n - 1``),
    stubs are paired by one random permutation, then self-loops are dropped and parallel edges collapsed
    (this trims the largest hubs slightly). ``directed=True`` draws in- and out-degree sequences
    independently; the longer stub list is cut at random to the shorter one's length. ``directed=False``
    wires one sequence undirected (one stub dropped if the sum is odd) and returns both directions.
    Memory and time are proportional to the number of stubs: n=10^6 takes about a second.

    >>> pre, post = configuration_model(1000, 2.5, seed=0, k_min=2)
    >>> bool((pre != post).all()) and int(post.max()) < 1000
    True
    """
    n = _int("n", n, 2)
    exponent = _float("exponent", exponent, 1.0, lo_open=True)
    k_min = _int("k_min", k_min, 1, n - 1, rule=f"in [1, n-1] with n={n}")
    k_max = n - 1 if k_max is None else _int("k_max", k_max, k_min, n - 1, rule=f"in [k_min, n-1] = [{k_min}, {n - 1}]")
    rng = _rng(seed)
    nodes = np.arange(n, dtype=np.int64)
    if directed:
        out_stubs = np.repeat(nodes, _powerlaw_degrees(n, exponent, k_min, k_max, rng))
        in_stubs = np.repeat(nodes, _powerlaw_degrees(n, exponent, k_min, k_max, rng))
        n_pair = min(out_stubs.size, in_stubs.size)
        pre = rng.permutation(out_stubs)[:n_pair]
        post = rng.permutation(in_stubs)[:n_pair]
        return _canonical(pre, post, n, self_loops=False)
    stubs = rng.permutation(np.repeat(nodes, _powerlaw_degrees(n, exponent, k_min, k_max, rng)))
    stubs = stubs[: stubs.size - (stubs.size % 2)]
    u, v = stubs[0::2], stubs[1::2]
    lo, hi = _canonical(np.minimum(u, v), np.maximum(u, v), n, self_loops=False)
    return _undirected_to_synapses(lo, hi, n, both_directions=True)


def watts_strogatz(n, k, p, seed, both_directions=True):
    """Watts–Strogatz small world (``nx.watts_strogatz_graph``): ring of ``k`` nearest neighbours, rewired with prob. ``p``.

    Pure Python (~0.8 s for n=10^5, k=10).

    >>> pre, post = watts_strogatz(20, 4, 0.0, seed=0)
    >>> pre.size
    80
    """
    n = _int("n", n, 2)
    k = _int("k", k, 0, n - 1, rule=f"in [0, n) with n={n}")
    p = _prob("p", p)
    import networkx as nx  # lazy: only the networkx-based functions need it
    G = nx.watts_strogatz_graph(n, k, p, seed=_nx_seed(seed))
    u, v = _nx_edges(G)
    return _undirected_to_synapses(u, v, n, both_directions)


def erdos_renyi(n, p, seed, directed=True):
    """Erdős–Rényi G(n, p) without self-loops, by geometric skipping (memory ~ number of edges, not n^2).

    ``directed=True``: every ordered pair i != j independently with probability ``p``.
    ``directed=False``: every unordered pair with probability ``p``, returned as two synapses.

    >>> pre, post = erdos_renyi(10, 1.0, seed=0)
    >>> pre.size
    90
    """
    n = _int("n", n, 1)
    p = _prob("p", p)
    rng = _rng(seed)
    idx = _bernoulli_indices(n * (n - 1), p, rng)   # ordered pairs without the diagonal
    pre = idx // (n - 1) if n > 1 else idx
    r = idx - pre * (n - 1)
    post = r + (r >= pre)
    if directed:
        return pre, post                              # already sorted and unique
    keep = pre < post                                 # each unordered pair kept with probability p
    return _undirected_to_synapses(pre[keep], post[keep], n, both_directions=True)


TOPOLOGIES = {
    "barabasi_albert": barabasi_albert,
    "holme_kim": holme_kim,
    "directed_scale_free": directed_scale_free,
    "configuration_model": configuration_model,
    "watts_strogatz": watts_strogatz,
    "erdos_renyi": erdos_renyi,
}
"""Name -> generator for ``topology = "..."`` in network specs; each is called as ``f(n=..., seed=..., **kwargs)``."""


# ----------------------------------------------------------------------------------------------------------
# projections between populations (n_pre may differ from n_post)
# ----------------------------------------------------------------------------------------------------------

def all_to_all(n_pre, n_post, self_loops=False):
    """Every pre neuron to every post neuron; pairs ``i == j`` are dropped unless ``self_loops=True``.

    Pass ``self_loops=True`` for a projection between two *different* populations (index i of one is not
    neuron i of the other).

    >>> all_to_all(2, 3)
    (array([0, 0, 1, 1]), array([1, 2, 0, 2]))
    """
    n_pre = _int("n_pre", n_pre, 0)
    n_post = _int("n_post", n_post, 0)
    pre = np.repeat(np.arange(n_pre, dtype=np.int64), n_post)
    post = np.tile(np.arange(n_post, dtype=np.int64), n_pre)
    if not self_loops:
        keep = pre != post
        pre, post = pre[keep], post[keep]
    return pre, post


def one_to_one(n):
    """Neuron i to neuron i, for i < n.

    >>> one_to_one(3)
    (array([0, 1, 2]), array([0, 1, 2]))
    """
    n = _int("n", n, 0)
    return np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)


def random_bipartite(n_pre, n_post, p, seed):
    """Fixed-probability projection: each (pre, post) pair independently with probability ``p``.

    Geometric skipping, so memory is proportional to the number of synapses (about ``n_pre*n_post*p``).

    >>> pre, post = random_bipartite(3, 5, 1.0, seed=0)
    >>> pre.size
    15
    """
    n_pre = _int("n_pre", n_pre, 0)
    n_post = _int("n_post", n_post, 0)
    p = _prob("p", p)
    idx = _bernoulli_indices(n_pre * n_post, p, _rng(seed))
    return idx // max(n_post, 1), idx % max(n_post, 1)


# ----------------------------------------------------------------------------------------------------------
# excitatory / inhibitory split and Dale's law
# ----------------------------------------------------------------------------------------------------------

def ei_split(n, frac_exc=0.8, seed=None):
    """Boolean mask ``is_exc`` (n,) with ``round(frac_exc * n)`` excitatory neurons.

    Without ``seed`` the first ones are excitatory; with ``seed`` they are a random subset.

    >>> ei_split(5, 0.6)
    array([ True,  True,  True, False, False])
    """
    n = _int("n", n, 0)
    frac_exc = _float("frac_exc", frac_exc, 0.0, 1.0)
    n_exc = int(round(frac_exc * n))
    is_exc = np.zeros(n, bool)
    if seed is None:
        is_exc[:n_exc] = True
    else:
        is_exc[_rng(seed).permutation(n)[:n_exc]] = True
    return is_exc


def _mask(is_exc, n_needed, name="is_exc"):
    is_exc = np.asarray(is_exc)
    if is_exc.dtype != bool or is_exc.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D boolean mask, got dtype {is_exc.dtype} and shape {is_exc.shape}")
    if is_exc.size < n_needed:
        raise ValueError(f"{name}: has {is_exc.size} entries but presynaptic index {n_needed - 1} occurs")
    return is_exc


def apply_dale(pre, weights_abs, is_exc):
    """Signed weights: ``+|w|`` where the presynaptic neuron is excitatory, ``-|w|`` where inhibitory.

    >>> apply_dale(np.array([0, 1]), np.array([0.5, 0.5]), np.array([True, False]))
    array([ 0.5, -0.5])
    """
    pre = np.asarray(pre, np.int64)
    w = np.asarray(weights_abs)
    if not np.issubdtype(w.dtype, np.floating):
        w = w.astype(np.float64)
    if w.shape != pre.shape:
        raise ValueError(f"weights_abs: expected shape {pre.shape} (one per synapse), got {w.shape}")
    if w.size and np.nanmin(w) < 0:
        i = int(np.argmin(w))
        raise ValueError(f"weights_abs: must be >= 0 (magnitudes), got weights_abs[{i}]={float(w[i])!r}")
    is_exc = _mask(is_exc, int(pre.max()) + 1 if pre.size else 0)
    return np.where(is_exc[pre], w, -w).astype(w.dtype, copy=False)


def check_dale(syn, is_exc):
    """Raise ValueError naming the first synapse whose sign disagrees with its presynaptic neuron's type.

    ``syn`` is a ``CSR`` or a ``(pre, weights)`` pair. Zero weights are allowed.

    >>> check_dale((np.array([0, 1]), np.array([0.2, 0.3])), np.array([True, False]))
    Traceback (most recent call last):
    ...
    ValueError: Dale's law violated at synapse 1 (pre 1): presynaptic neuron 1 is inhibitory but weight is 0.3 > 0
    """
    if isinstance(syn, CSR):
        pre, w, post = syn.pre(), np.asarray(syn.weights), np.asarray(syn.indices)
    else:
        try:
            pre, w = syn
        except (TypeError, ValueError):
            raise ValueError(f"syn: expected a CSR or a (pre, weights) pair, got {type(syn).__name__}") from None
        pre, w, post = np.asarray(pre, np.int64), np.asarray(w), None
        if pre.shape != w.shape:
            raise ValueError(f"weights: expected shape {pre.shape} (one per synapse), got {w.shape}")
    is_exc = _mask(is_exc, int(pre.max()) + 1 if pre.size else 0)
    exc = is_exc[pre]
    bad = np.flatnonzero((exc & (w < 0)) | (~exc & (w > 0)))
    if bad.size:
        i = int(bad[0])
        j = int(pre[i])
        where = f"pre {j} -> post {int(post[i])}" if post is not None else f"pre {j}"
        kind, rel = ("excitatory", "< 0") if exc[i] else ("inhibitory", "> 0")
        raise ValueError(f"Dale's law violated at synapse {i} ({where}): presynaptic neuron {j} is {kind} "
                         f"but weight is {float(w[i])!r} {rel}")


# ----------------------------------------------------------------------------------------------------------
# weights and delays
# ----------------------------------------------------------------------------------------------------------

_WEIGHT_ARGS = {"constant": ({"value"}, set()), "uniform": ({"low", "high"}, set()),
                "normal": ({"mean", "std"}, {"clip_at_zero"}), "lognormal": ({"mean", "sigma"}, set())}
_DELAY_ARGS = {"constant": ({"value"}, set()), "uniform": ({"low", "high"}, set())}


def _dist_kwargs(what, dist, kw, table):
    if dist not in table:
        raise ValueError(f"dist: {what} distribution must be one of {sorted(table)}, got {dist!r}")
    required, optional = table[dist]
    missing = sorted(required - set(kw))
    extra = sorted(set(kw) - required - optional)
    if missing:
        raise ValueError(f"{what} dist={dist!r}: missing argument(s) {missing}")
    if extra:
        raise ValueError(f"{what} dist={dist!r}: unknown argument(s) {extra}; allowed {sorted(required | optional)}")


def init_weights(n_syn, dist, seed=None, **kw):
    """float32 weights (n_syn,) from ``dist``: constant(value), uniform(low, high), normal(mean, std, clip_at_zero=False), lognormal(mean, sigma).

    ``lognormal`` takes the mean and sigma of the underlying normal (numpy's convention). A ``seed`` is
    required for every distribution but ``constant``.

    >>> init_weights(3, "constant", value=0.25)
    array([0.25, 0.25, 0.25], dtype=float32)
    >>> bool((init_weights(100, "uniform", seed=0, low=0.1, high=0.2) >= 0.1).all())
    True
    """
    n_syn = _int("n_syn", n_syn, 0)
    _dist_kwargs("weight", dist, kw, _WEIGHT_ARGS)
    if dist == "constant":
        return np.full(n_syn, _float("value", kw["value"]), np.float32)
    if seed is None:
        raise ValueError(f"seed: required for weight dist={dist!r}, got None")
    rng = _rng(seed)
    if dist == "uniform":
        low = _float("low", kw["low"])
        high = _float("high", kw["high"], low, rule=f">= low ({low})")
        w = rng.uniform(low, high, n_syn)
    elif dist == "normal":
        mean = _float("mean", kw["mean"])
        std = _float("std", kw["std"], 0.0)
        w = rng.normal(mean, std, n_syn)
        if kw.get("clip_at_zero", False):
            w = np.maximum(w, 0.0)
    else:
        mean = _float("mean", kw["mean"])
        sigma = _float("sigma", kw["sigma"], 0.0)
        w = rng.lognormal(mean, sigma, n_syn)
    return w.astype(np.float32)


def init_delays(n_syn, dist, dt, seed=None, **kw):
    """int32 delays in steps (n_syn,) from delays in SECONDS: constant(value), uniform(low, high).

    Each delay is rounded to the nearest step (halves round up); a delay that rounds below one step
    raises ValueError, because a spike needs at least one step to arrive.

    >>> init_delays(2, "constant", dt=1e-4, value=1.5e-3)
    array([15, 15], dtype=int32)
    >>> init_delays(2, "constant", dt=1e-3, value=1e-4)
    Traceback (most recent call last):
    ...
    ValueError: delay: 0.0001 s rounds to 0 steps at dt=0.001 s; every delay must be >= dt (one step)
    """
    n_syn = _int("n_syn", n_syn, 0)
    dt = _float("dt", dt, 0.0, lo_open=True)
    _dist_kwargs("delay", dist, kw, _DELAY_ARGS)
    if dist == "constant":
        d = np.full(n_syn, _float("value", kw["value"], 0.0))
    else:
        if seed is None:
            raise ValueError(f"seed: required for delay dist={dist!r}, got None")
        low = _float("low", kw["low"], 0.0)
        high = _float("high", kw["high"], low, rule=f">= low ({low})")
        d = _rng(seed).uniform(low, high, n_syn)
    steps = np.floor(d / dt + 0.5)
    if n_syn and steps.min() < 1:
        i = int(np.argmin(steps))
        raise ValueError(f"delay: {float(d[i])!r} s rounds to {int(steps[i])} steps at dt={dt!r} s; "
                         f"every delay must be >= dt (one step)")
    if n_syn and steps.max() > np.iinfo(np.int32).max:
        raise ValueError(f"delay: {float(d.max())!r} s is {steps.max():.0f} steps at dt={dt!r} s, beyond int32")
    return steps.astype(np.int32)


# ----------------------------------------------------------------------------------------------------------
# networkx interop
# ----------------------------------------------------------------------------------------------------------

def to_networkx(csr, multigraph=False):
    """``nx.DiGraph`` with edge attributes ``weight`` (float) and ``delay`` (int, in steps).

    A square CSR (n_pre == n_post, one population) gives nodes ``0..n-1``. A rectangular projection gives
    pre nodes ``0..n_pre-1`` and post nodes ``n_pre..n_pre+n_post-1``, tagged with node attribute
    ``bipartite`` = 0 / 1. Parallel synapses need ``multigraph=True`` (an ``nx.MultiDiGraph``).

    >>> G = to_networkx(CSR.from_edges([0, 1], [1, 0], 2, 2, weights=[0.5, -1.0]))
    >>> sorted(G.edges(data="weight"))
    [(0, 1, 0.5), (1, 0, -1.0)]
    """
    if not isinstance(csr, CSR):
        raise ValueError(f"csr: expected a CSR, got {type(csr).__name__}")
    pre = csr.pre()
    post = np.asarray(csr.indices, np.int64)
    import networkx as nx  # lazy: only the networkx-based functions need it
    G = nx.MultiDiGraph() if multigraph else nx.DiGraph()
    if csr.n_pre == csr.n_post:
        G.add_nodes_from(range(csr.n_pre))
    else:
        G.add_nodes_from(range(csr.n_pre), bipartite=0)
        G.add_nodes_from(range(csr.n_pre, csr.n_pre + csr.n_post), bipartite=1)
        post = post + csr.n_pre
    if not multigraph and csr.n_syn:
        key = np.unique(pre * np.int64(csr.n_pre + csr.n_post) + post)
        if key.size != csr.n_syn:
            raise ValueError(f"csr: has {csr.n_syn - key.size} parallel synapse(s); pass multigraph=True")
    attrs = ({"weight": w, "delay": d} for w, d in zip(np.asarray(csr.weights).tolist(),
                                                        np.asarray(csr.delays).tolist()))
    G.add_edges_from(zip(pre.tolist(), post.tolist(), attrs))
    return G


def from_networkx(G, weight="weight", delay=None, default_weight=1.0, nodelist=None):
    """CSR from a networkx graph; node labels map to ``0..n-1`` in ``G.nodes`` (insertion) order.

    That is the order ``nx.to_numpy_array(G)`` uses, so ``from_networkx(G).to_dense()`` equals it; pass
    ``nodelist`` (e.g. ``sorted(G)``) for another order. An undirected edge becomes two synapses (one for a
    self-loop); parallel edges of a multigraph become parallel synapses. ``weight`` names the weight
    attribute (missing -> ``default_weight``; ``None`` -> all ``default_weight``); ``delay`` names an
    integer delay attribute in steps (``None`` -> every delay is 1 step).

    >>> import networkx as nx
    >>> csr = from_networkx(nx.path_graph(3))
    >>> csr.to_dense()
    array([[0., 1., 0.],
           [1., 0., 1.],
           [0., 1., 0.]])
    """
    import networkx as nx  # lazy: only the networkx-based functions need it
    if not isinstance(G, nx.Graph):
        raise ValueError(f"G: expected a networkx graph, got {type(G).__name__}")
    nodes = list(G) if nodelist is None else list(nodelist)
    index = {u: i for i, u in enumerate(nodes)}
    if len(index) != len(nodes):
        raise ValueError("nodelist: contains duplicate nodes")
    missing = [u for u in G if u not in index]
    if missing:
        raise ValueError(f"nodelist: misses node {missing[0]!r} of G")
    n = len(nodes)
    m = G.number_of_edges()
    pre = np.empty(m, np.int64)
    post = np.empty(m, np.int64)
    w = np.empty(m, np.float64)
    d = np.ones(m, np.int64)
    for k, (u, v, data) in enumerate(G.edges(data=True)):
        pre[k], post[k] = index[u], index[v]
        w[k] = default_weight if weight is None else data.get(weight, default_weight)
        if delay is not None:
            if delay not in data:
                raise ValueError(f"delay: edge ({u!r}, {v!r}) has no attribute {delay!r}")
            dv = data[delay]
            if isinstance(dv, bool) or not isinstance(dv, numbers.Integral) or dv < 1:
                raise ValueError(f"delay: edge ({u!r}, {v!r}) has {delay}={dv!r}; expected an int >= 1 (steps)")
            d[k] = dv
    if not G.is_directed():
        rev = pre != post
        pre, post = np.concatenate([pre, post[rev]]), np.concatenate([post, pre[rev]])
        w, d = np.concatenate([w, w[rev]]), np.concatenate([d, d[rev]])
    return CSR.from_edges(pre, post, n, n, weights=w, delays=d)


# ----------------------------------------------------------------------------------------------------------
# degree statistics and power-law fits
# ----------------------------------------------------------------------------------------------------------

def powerlaw_fit(degrees, xmin=None, discrete=True, min_tail=10):
    """Fit a power-law tail ``P(x) ~ x**-alpha`` (x >= xmin) by maximum likelihood, ``xmin`` by minimum KS
    distance (Clauset, Shalizi & Newman 2009): :func:`neurokit_bdh.analysis.heavy_tail.fit_power_law`
    with degree-friendly defaults (``discrete=True``). Returns a ``PowerLawFit`` (alpha, xmin, ks, n_tail,
    n, sigma, discrete).

    >>> x = np.random.default_rng(0).zipf(2.5, 20000)
    >>> fit = powerlaw_fit(x, xmin=1)
    >>> abs(fit.alpha - 2.5) < 0.05, fit.n_tail
    (True, 20000)
    """
    from neurokit_bdh.analysis.heavy_tail import fit_power_law  # numpy/scipy only
    return fit_power_law(degrees, discrete=discrete, xmin=xmin, min_tail=min_tail)


def degree_stats(csr, fit=True):
    """In/out-degree arrays, their mean/std/min/max and (``fit=True``) power-law fits of each.

    Keys: ``n_pre, n_post, n_syn, in_degree, out_degree``, and for ``d`` in ``in``/``out``:
    ``{d}_mean, {d}_std, {d}_min, {d}_max, {d}_powerlaw`` (a ``PowerLawFit``, or None when too few
    positive degrees to fit).

    >>> s = degree_stats(CSR.from_edges([0, 0, 1], [1, 2, 2], 3, 3), fit=False)
    >>> s["out_degree"].tolist(), s["in_max"]
    ([2, 1, 0], 2)
    """
    if not isinstance(csr, CSR):
        raise ValueError(f"csr: expected a CSR, got {type(csr).__name__}")
    out_deg = np.diff(csr.indptr).astype(np.int64)
    in_deg = np.bincount(np.asarray(csr.indices, np.int64), minlength=csr.n_post).astype(np.int64)
    stats = {"n_pre": csr.n_pre, "n_post": csr.n_post, "n_syn": csr.n_syn,
             "in_degree": in_deg, "out_degree": out_deg}
    for name, deg in (("in", in_deg), ("out", out_deg)):
        stats[f"{name}_mean"] = float(deg.mean()) if deg.size else 0.0
        stats[f"{name}_std"] = float(deg.std()) if deg.size else 0.0
        stats[f"{name}_min"] = int(deg.min()) if deg.size else 0
        stats[f"{name}_max"] = int(deg.max()) if deg.size else 0
        pl = None
        if fit:
            try:
                pl = powerlaw_fit(deg)
            except ValueError:
                pl = None
        stats[f"{name}_powerlaw"] = pl
    return stats
