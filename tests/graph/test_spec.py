"""Spec validation: every bad input gets one error naming the file, the field and what was expected."""
import pytest

from neurokit_bdh.graph.spec import SpecError, load_spec, spec_from_dict

GOOD = """
dt = 1e-4
duration = 0.1
seed = 2

[[populations]]
name = "exc"
size = 50
model = "lif"
params = { tau_mem = 20e-3, tau_syn = 5e-3 }

[[populations]]
name = "src"
size = 20
model = "poisson"
params = { rate = 20.0 }

[[projections]]
name = "ff"
pre = "src"
post = "exc"
topology = "random"
topology_params = { p = 0.3 }
weight = { dist = "constant", value = 0.2 }
delay = { dist = "constant", value = 1e-3 }
plasticity = { rule = "stdp", a_plus = 0.01 }

[[inputs]]
type = "current"
target = "exc"
params = { amplitude = 0.5 }

[record]
spikes = ["exc"]
state = [{ population = "exc", vars = ["v"], neurons = [0, 1], every = 5 }]
weights = [{ projection = "ff", every = 100 }]
"""


def write(tmp_path, text):
    p = tmp_path / "net.toml"
    p.write_text(text)
    return p


def test_good_spec_loads(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.n_steps == 1000 and spec.populations[1].model == "poisson"
    assert spec.text.startswith("\ndt = 1e-4")


def test_roundtrip_to_toml(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    again = load_spec(write(tmp_path, spec.to_toml()))
    assert again.projections[0].plasticity == spec.projections[0].plasticity
    assert again.record.state[0].neurons == [0, 1]


@pytest.mark.parametrize("old, new, match", [
    ('model = "lif"', 'model = "lifx"', r"populations\[0\]\.model: unknown neuron model 'lifx'"),
    ("tau_mem = 20e-3", "tau_mem = -20e-3", r"populations\[0\]\.params: tau_mem: expected a finite number > 0"),
    ('post = "exc"', 'post = "missing"', r"projections\[0\]\.post: no population named 'missing'"),
    ("tau_syn = 5e-3", "tau_syn = 5e-5", r"dt: expected dt smaller than the shortest time constant \(5e-05 s in"),
    ('rule = "stdp"', 'rule = "stpd"', r"projections\[0\]\.plasticity\.rule: expected one of"),
    ("a_plus = 0.01", "a_plux = 0.01", r"projections\[0\]\.plasticity: a_plux: unknown parameter"),
    ('value = 1e-3 }', 'value = 1e-5 }', r"projections\[0\]\.delay\.value: expected a delay >= dt"),
    ("size = 50", "size = 0", r"populations\[0\]\.size: expected an integer > 0, got 0"),
    ('topology = "random"', 'topology = "barabasi_albert"', r"projections\[0\]\.topology: 'barabasi_albert' builds a graph on one set"),
    ('vars = ["v"]', 'vars = ["u"]', r"record\.state\[0\]\.vars: unknown state variable 'u'"),
    ("neurons = [0, 1]", "neurons = [0, 99]", r"record\.state\[0\]\.neurons: expected indices in \[0, 50\), got 99"),
    ('target = "exc"', 'target = "src"', r"inputs\[0\]\.target: population 'src' is a spike source"),
    ("seed = 2", "seed = 2\nspeed = 3", r"speed: unknown top-level field"),
    ('projection = "ff"', 'projection = "fb"', r"record\.weights\[0\]\.projection: no projection named 'fb'"),
])
def test_errors_name_file_field_and_value(tmp_path, old, new, match):
    assert old in GOOD
    p = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(SpecError, match=match) as e:
        load_spec(p)
    assert str(e.value).startswith(str(p))


def test_invalid_toml_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(write(tmp_path, "dt = = 1"))
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "nope.toml")


def test_missing_required_field():
    with pytest.raises(SpecError, match=r"populations\[0\]\.size: missing required field"):
        spec_from_dict({"populations": [{"name": "a"}]})


def test_nothing_written_for_invalid_spec(tmp_path):
    from neurokit_bdh.simulate import simulate
    p = write(tmp_path, GOOD.replace('post = "exc"', 'post = "missing"'))
    out = tmp_path / "run.h5"
    with pytest.raises(SpecError):
        simulate(p, out)
    assert not out.exists()
