"""Small networks shared by the export tests (spec -> realise)."""
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import NetworkSpec, Population, Projection


def lif(tau_syn=0.0, **kw):
    return {"tau_mem": 10e-3, "tau_syn": tau_syn, "v_th": 1.0, **kw}


def delay(low, high=None):
    return {"dist": "constant", "value": low} if high is None else {"dist": "uniform", "low": low, "high": high}


def feed_forward(seed=3):
    """Poisson(50) -> 40 LIF (delta) -> 30 LIF (current synapses, delays 2-5 steps) -> 20 LIF (E/I)."""
    return realise(NetworkSpec(dt=1e-3, duration=0.2, seed=seed, name="ff3", populations=[
        Population("inp", 50, "poisson", {"rate": 100.0}),
        Population("l1", 40, "lif", lif()), Population("l2", 30, "lif", lif(5e-3)),
        Population("l3", 20, "lif", lif(), frac_exc=0.8)], projections=[
        Projection("p1", "inp", "l1", "random", {"p": 0.3}, {"dist": "uniform", "low": 0.0, "high": 0.6},
                   delay=delay(1e-3)),
        Projection("p2", "l1", "l2", "random", {"p": 0.5}, {"dist": "normal", "mean": 0.2, "std": 0.3},
                   delay=delay(2e-3, 5e-3)),
        Projection("p3", "l2", "l3", "all_to_all", {}, {"dist": "uniform", "low": 0.0, "high": 0.15}, g=3.0,
                   delay=delay(1e-3))]))


def scale_free_ei(n=200, seed=7):
    """A Barabási–Albert E/I network (80 % E, g = 4) driven by 50 Poisson sources, delays 1-3 steps."""
    return realise(NetworkSpec(dt=1e-3, duration=1.0, seed=seed, name="ba_ei", populations=[
        Population("inp", 50, "poisson", {"rate": 50.0}),
        Population("net", n, "lif", lif(), frac_exc=0.8)], projections=[
        Projection("drive", "inp", "net", "random", {"p": 0.1}, {"dist": "uniform", "low": 0.2, "high": 0.6},
                   delay=delay(1e-3)),
        Projection("rec", "net", "net", "barabasi_albert", {"m": 3}, {"dist": "uniform", "low": 0.05, "high": 0.3},
                   g=4.0, delay=delay(1e-3, 3e-3))]))


def plastic(seed=5):
    """40 Poisson sources -> 10 LIF with additive STDP on the E synapses; a static inhibitory source too."""
    return realise(NetworkSpec(dt=1e-3, duration=0.5, seed=seed, name="stdp", populations=[
        Population("inp", 40, "poisson", {"rate": 40.0}, frac_exc=0.75),
        Population("out", 10, "lif", lif())], projections=[
        Projection("ff", "inp", "out", "random", {"p": 0.5}, {"dist": "uniform", "low": 0.1, "high": 0.5},
                   delay=delay(1e-3), g=0.5,
                   plasticity={"rule": "stdp", "on": "exc_pre", "a_plus": 0.02, "a_minus": 0.021,
                               "tau_plus": 20e-3, "tau_minus": 20e-3, "w_min": 0.0, "w_max": 0.5})]))
