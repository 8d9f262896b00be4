"""NIR export/import: round trips through files, snntorch and norse, and refusals that name what would be lost."""
import numpy as np
import pytest
import torch

from neurokit_bdh.engine.native import NativeEngine
from neurokit_bdh.graph.network import realise
from neurokit_bdh.graph.spec import Input, NetworkSpec, Population, Projection
from neurokit_bdh.layers import SpikingMLP
from neurokit_bdh.models.snn import SNNClassifier, SNNConfig
from neurokit_bdh.neurons import LIFParams

from ..conftest import require

T = 500


def _x(n_in, T=T, B=3, seed=2, dtype=torch.float32):
    return torch.rand(T, B, n_in, generator=torch.Generator().manual_seed(seed), dtype=dtype)  # (T, B, n_in)


def _mlp(tau_syn=0.0, dt=1e-4, reset="to_value", method="exact", **kw):
    p = LIFParams(tau_mem=2e-3, tau_syn=tau_syn, v_th=1.0 if tau_syn == 0 else 0.05, reset=reset, method=method)
    kw = {"output": "spikes", "seed": 1, "input_gain": 3.0, **kw}
    return SpikingMLP(12, [16, 10], 6, params=p, dt=dt, surrogate=None, **kw)


@pytest.mark.parametrize("tau_syn", [0.0, 2e-3])
@pytest.mark.parametrize("recurrent", [False, True])
@pytest.mark.parametrize("output", ["spikes", "membrane"])
def test_ours_file_ours_exact(tmp_path, tau_syn, recurrent, output):
    """Export -> NIR file -> import reproduces the model (float64: spikes equal, membranes to 1e-12)."""
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    net = _mlp(tau_syn, recurrent=recurrent, output=output, dt=1e-3).double()
    x = _x(12, T=200, dtype=torch.float64)
    with torch.no_grad():
        y = net(x)
        path = nir_io.write_nir(tmp_path / "m.nir", net)
        y2 = nir_io.read_nir(path)(x)
    assert sum(float(h.sum()) for h in net.hidden_spikes) > 200
    if output == "spikes":
        assert torch.equal(y2, y)
    else:
        torch.testing.assert_close(y2, y, rtol=0, atol=1e-12)


def test_metadata_and_baked_parameters():
    """dt, reset, method and input gain are in metadata; tau is the Euler-equivalent of the exact decay."""
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    g = nir_io.to_nir(_mlp(dt=1e-4))
    lif0 = g.nodes["lif0"]
    c_v = np.exp(-1e-4 / 2e-3)
    assert g.metadata["dt"] == 1e-4 and lif0.metadata["dt"] == 1e-4
    assert lif0.metadata["reset"] == "to_value" and lif0.metadata["method"] == "exact"
    np.testing.assert_allclose(lif0.tau, 1e-4 / (1 - c_v), rtol=1e-14)       # Euler with dt gives decay c_v
    np.testing.assert_allclose(lif0.r, 1.0)
    assert lif0.metadata["input_gain"] == pytest.approx((1e-4 / (1 - c_v)) / 1e-4, rel=1e-14)
    net = _mlp(dt=1e-4)
    w0 = net.linears[0].weight.detach().double().numpy()
    np.testing.assert_allclose(g.nodes["affine0"].weight, w0 * 3.0 * lif0.metadata["input_gain"], rtol=1e-12)


@pytest.mark.parametrize("method", ["exact", "euler"])
def test_ours_to_snntorch_import_same_spikes(method):
    """Ours -> NIR -> snntorch import_from_nir (which assumes dt = 1e-4 s): same spikes over 500 steps."""
    from neurokit_bdh.io import nir as nir_io
    require("snntorch")
    from snntorch import utils as snn_utils
    from snntorch.import_nir import import_from_nir

    net = _mlp(dt=1e-4, method=method)
    x = _x(12)
    with torch.no_grad():
        y = net(x)
        model = import_from_nir(nir_io.to_nir(net))
        snn_utils.reset(model)
        y_snn = torch.stack([model(x[t])[0] for t in range(T)])
    assert y.sum() > 200
    assert torch.equal(y_snn, y)


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_ours_to_norse_from_nir_same_spikes(dt):
    from neurokit_bdh.io import nir as nir_io
    require("norse")
    import norse.torch as nt

    net = SpikingMLP(12, [16, 10], 6, params=LIFParams(tau_mem=10e-3, tau_syn=0.0, v_th=1.0), dt=dt,
                     surrogate=None, output="spikes", seed=1, input_gain=3.0)
    x = _x(12)
    with torch.no_grad():
        y = net(x)
        model = nt.from_nir(nir_io.to_nir(net), dt=dt)
        state, out = None, []
        for t in range(T):
            z, state = model(x[t], state)
            out.append(z)
    assert y.sum() > 200
    assert torch.equal(torch.stack(out), y)


@pytest.mark.parametrize("kind", ["Leaky", "Synaptic"])
def test_snntorch_export_to_ours_same_spikes(kind):
    """snntorch export_to_nir -> NIR -> ours (dt = 1e-4 s, snntorch's convention): same spikes. snntorch's
    reset 'zero' with reset_delay=False is NIR's reset to v_reset = 0. Per-neuron beta (a vector) because a
    scalar beta makes snntorch write an empty input type (snntorch issues #334, #410)."""
    from neurokit_bdh.io import nir as nir_io
    snn = require("snntorch")
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)

    def cell(n, beta, alpha, th):
        kw = dict(beta=torch.full((n,), beta), threshold=torch.full((n,), th), reset_mechanism="zero",
                  reset_delay=False, init_hidden=True)
        return snn.Leaky(**kw) if kind == "Leaky" else snn.Synaptic(alpha=torch.full((n,), alpha), **kw)

    l2 = cell(6, 0.8, 0.6, 0.7)
    l2.output = True
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), cell(16, 0.9, 0.7, 0.5), torch.nn.Linear(16, 6), l2)
    x = _x(12) * 2.0
    with torch.no_grad():
        snn_utils.reset(net)
        y_snn = torch.stack([net(x[t])[0] for t in range(T)])
        graph = export_to_nir(net, torch.rand(1, 12), ignore_dims=[0])
        y = nir_io.from_nir(graph, dt=1e-4)(x)
    assert y_snn.sum() > 200
    assert torch.equal(y, y_snn)


def test_snntorch_rleaky_export_to_ours_same_spikes():
    """snntorch's recurrent layer (RLeaky, dense recurrent Linear with bias) is a LIF <-> Affine cycle without a
    Delay: read with a one-step delay on the closing edge, and the recurrent bias present from step 0."""
    from neurokit_bdh.io import nir as nir_io
    snn = require("snntorch")
    from snntorch import utils as snn_utils
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)
    rleaky = snn.RLeaky(beta=torch.full((16,), 0.9), threshold=torch.full((16,), 0.5), linear_features=16,
                        reset_mechanism="zero", reset_delay=False, init_hidden=True, output=True)
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), rleaky)
    x = _x(12, T=300) * 2.0
    with torch.no_grad():
        snn_utils.reset(net)
        y_snn = torch.stack([net(x[t])[0] for t in range(300)])
        graph = export_to_nir(net, torch.rand(1, 12), ignore_dims=[0])
        y = nir_io.from_nir(graph, dt=1e-4)(x)
    assert y_snn.sum() > 1000
    assert torch.equal(y, y_snn)


def test_norse_to_nir_to_ours_same_spikes():
    """norse 1.1.0's to_nir writes tau = dt/tau_mem_inv (norse issue #411): dt=1.0 there gives the true tau
    (what newer norse calls time_scaling_factor=1). r = 1: the input is scaled by dt/tau, as in LIFBoxCell."""
    from neurokit_bdh.io import nir as nir_io
    require("norse")
    import norse.torch as nt

    torch.manual_seed(0)
    dt = 1e-3
    seq = nt.SequentialState(
        torch.nn.Linear(12, 16), nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.tensor(100.0), v_th=torch.tensor(0.1)), dt=dt),
        torch.nn.Linear(16, 6), nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.tensor(200.0), v_th=torch.tensor(0.05)), dt=dt))
    x = _x(12) * 2.0
    with torch.no_grad():
        state, out = None, []
        for t in range(T):
            z, state = seq(x[t], state)
            out.append(z)
        y_norse = torch.stack(out)
        graph = nt.to_nir(seq, torch.rand(2, 12), dt=1.0)
        y = nir_io.from_nir(graph, dt=dt)(x)
    assert y_norse.sum() > 200
    assert torch.equal(y, y_norse)


def _spec(tau_syn, **proj_kw):
    rng = np.random.default_rng(0)
    n_steps, dt = 1000, 1e-4
    times = (rng.integers(0, n_steps, 300) * dt).tolist()
    neurons = rng.integers(0, 20, 300).tolist()
    rec = {"weight": {"dist": "uniform", "low": 0.05, "high": 0.2}, "g": 3.0,
           "delay": {"dist": "constant", "value": 3e-4}, **proj_kw}
    return NetworkSpec(dt=dt, duration=n_steps * dt, seed=3, populations=[
        Population("src", 20, "spike_source", params={"times": times, "neurons": neurons}),
        Population("net", 40, "lif", params={"tau_mem": 20e-3, "tau_syn": tau_syn, "v_th": 1.0 if tau_syn == 0 else 0.1},
                   frac_exc=0.8)],
        projections=[Projection("inp", "src", "net", topology="random", topology_params={"p": 0.3},
                                weight={"dist": "uniform", "low": 0.2, "high": 0.6}, delay={"dist": "constant", "value": 2e-4}),
                     Projection("rec", "net", "net", topology="barabasi_albert", topology_params={"m": 3}, **rec)]), times, neurons


@pytest.mark.parametrize("tau_syn", [0.0, 5e-3])
def test_network_export_matches_native_engine(tmp_path, tau_syn):
    """Realised network (spike source -> recurrent BA E/I population, delays 2 and 3 steps) -> NIR file ->
    ours: the same spike raster as the native engine (float64)."""
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    spec, times, neurons = _spec(tau_syn)
    net = realise(spec)
    res = NativeEngine(net, dtype=torch.float64).run(keep_spikes=True)
    trial, neuron, step = res.spikes["net"]
    ref = np.zeros((spec.n_steps, 1, 40))
    ref[step, trial, neuron] = 1
    x = np.zeros((spec.n_steps, 1, 20))
    x[np.rint(np.asarray(times) / spec.dt).astype(int), 0, neurons] = 1
    path = nir_io.write_nir(tmp_path / "net.nir", net)
    with torch.no_grad():
        y = nir_io.read_nir(path)(torch.as_tensor(x))
    assert ref.sum() > 500
    np.testing.assert_array_equal(y.numpy(), ref)


def test_export_refuses_what_nir_cannot_represent(tmp_path):
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    stdp = {"rule": "stdp", "a_plus": 1e-3, "a_minus": 1e-3, "tau_plus": 20e-3, "tau_minus": 20e-3,
            "w_min": 0.0, "w_max": 0.5}
    cases = [
        (realise(_spec(0.0, plasticity=stdp)[0]), {}, r"projection 'rec'.*plasticity rule \(\w*STDP\) would be lost"),
        (realise(_spec(0.0, delay={"dist": "uniform", "low": 2e-4, "high": 6e-4})[0]), {},
         r"projection 'rec'.*per-synapse delays"),
        (realise(_spec(0.0)[0]), {"max_dense": 1000}, r"projection 'rec'.*sparse weights of shape \(40, 40\).*1600"),
        (_mlp(reset="subtract"), {}, r"layer 0.*reset='subtract' cannot be expressed"),
        (SpikingMLP(4, [3], 2, params=LIFParams(t_ref=2e-3), dt=1e-4, output="spikes"), {}, "refractory period"),
        (SpikingMLP(10, [40], 2, recurrent=True, topology="barabasi_albert", topology_params={"m": 2}, seed=0),
         {"max_dense": 1000}, r"layer 0 recurrent: sparse weights of shape \(40, 40\)"),
    ]
    for obj, kw, msg in cases:
        path = tmp_path / "refused.nir"
        with pytest.raises(ValueError, match=msg):
            nir_io.write_nir(path, obj, **kw)
        assert not path.exists() and not list(tmp_path.iterdir())          # nothing half-written
    spec = _spec(0.0)[0]
    spec.inputs = [Input("poisson", "net", {"rate": 100.0, "weight": 0.1})]
    with pytest.raises(ValueError, match=r"inputs\[0\] \(poisson into 'net'\)"):
        nir_io.to_nir(realise(spec))
    assert "net" in nir_io.to_nir(realise(spec), ignore_inputs=True).nodes
    with pytest.raises(TypeError, match="expected a SpikingMLP"):
        nir_io.to_nir(torch.nn.Linear(2, 2))


def test_non_strict_keeps_subtract_reset_for_neurokit(tmp_path):
    """strict=False: the subtract reset travels in metadata; our reader honours it (spikes equal), and
    overriding it with reset='to_value' gives a different raster (so the metadata is what matters)."""
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    net = _mlp(reset="subtract", dt=1e-4).double()
    x = _x(12, T=300, dtype=torch.float64)
    with torch.no_grad():
        y = net(x)
        assert y.sum() > 200
        path = nir_io.write_nir(tmp_path / "sub.nir", net, strict=False)
        assert torch.equal(nir_io.read_nir(path)(x), y)
        assert not torch.equal(nir_io.read_nir(path, reset="to_value")(x), y)


def test_import_errors_name_the_problem(tmp_path):
    from neurokit_bdh.io import nir as nir_io
    nir = require("nir")
    g = nir_io.to_nir(_mlp(dt=1e-4))
    with pytest.raises(ValueError, match="dt: this graph has dt=0.0001 s baked"):
        nir_io.from_nir(g, dt=1e-3)
    foreign = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((3, 2))),
                                     nir.LIF(tau=np.full(3, 1e-2), r=np.ones(3), v_leak=np.zeros(3),
                                             v_threshold=np.ones(3)))
    with pytest.raises(ValueError, match="carries no dt"):
        nir_io.from_nir(foreign)
    assert nir_io.from_nir(foreign, dt=1e-3)(torch.ones(5, 1, 2)).shape == (5, 1, 3)
    hetero = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 2))),
                                    nir.LIF(tau=np.array([1e-2, 2e-2]), r=np.ones(2), v_leak=np.zeros(2),
                                            v_threshold=np.ones(2)))
    with pytest.raises(ValueError, match=r"tau: per-neuron values differ"):
        nir_io.from_nir(hetero, dt=1e-3)
    unsupported = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 2))), nir.IF(r=np.ones(2), v_threshold=np.ones(2)))
    with pytest.raises(NotImplementedError, match="NIR node type IF"):
        nir_io.from_nir(unsupported, dt=1e-3)
    with pytest.raises(ValueError, match="no such NIR file"):
        nir_io.read_nir(tmp_path / "missing.nir")


def test_snn_classifier_export_records_encoding_and_readout():
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    m = SNNClassifier(SNNConfig(n_in=12, n_out=4, hidden=(8,), reset="to_value", seed=0))
    g = nir_io.to_nir(m)
    assert g.metadata["encoding"] == "current" and g.metadata["readout"] == "max_membrane"
    x = torch.rand(5, 12, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        mem = m.net(x, n_steps=m.cfg.n_steps)                       # (T, B, n_out)
        mem2 = nir_io.from_nir(g)(x.expand(m.cfg.n_steps, 5, 12))
    torch.testing.assert_close(mem2, mem, rtol=0, atol=1e-5)          # float32


def test_imported_network_checks_its_input_and_trains():
    """A wrong input width is named; with a surrogate the imported graph is differentiable end to end."""
    from neurokit_bdh.io import nir as nir_io
    require("nir")
    net = _mlp(dt=1e-4)
    with pytest.raises(ValueError, match=r"expected a time-major tensor \(T, B, 12\), got shape \(5, 2, 7\)"):
        nir_io.from_nir(nir_io.to_nir(net))(torch.zeros(5, 2, 7))
    m = nir_io.from_nir(nir_io.to_nir(net), surrogate="atan")
    m(_x(12, T=100)).sum().backward()
    grads = [p.grad for p in m.parameters()]
    assert len(grads) == 6 and all(g is not None and g.abs().sum() > 0 for g in grads)
