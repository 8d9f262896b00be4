"""`neurokit nir export` / `neurokit nir info`."""
import torch

from neurokit_bdh.cli import main

from ..conftest import require

SPEC = """
name = "tiny"
dt = 1e-4
duration = 0.02
seed = 1
[[populations]]
name = "src"
size = 5
model = "spike_source"
params = { times = [0.001, 0.002, 0.002], neurons = [0, 3, 4] }
[[populations]]
name = "net"
size = 10
model = "lif"
params = { tau_mem = 20e-3, tau_syn = 0.0, v_th = 0.6 }
[[projections]]
name = "inp"
pre = "src"
post = "net"
topology = "all_to_all"
weight = { dist = "constant", value = 0.5 }
delay = { dist = "constant", value = 2e-4 }
"""


def test_cli_export_info_and_refusal(tmp_path, capsys):
    require("nir")
    from neurokit_bdh.io.nir import read_nir

    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    out = tmp_path / "tiny.nir"
    assert main(["nir", "export", str(spec), "-o", str(out)]) == 0
    assert main(["nir", "info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "inp_delay: Delay" in text and "net: LIF" in text and "dt: 0.0001" in text
    x = torch.zeros(30, 1, 5)
    x[10, 0, [3]] = 1.0                                    # spikes of neurons 3 and 4 at step 20 -> v = 1.0 > 0.6
    x[20, 0, [3, 4]] = 1.0
    z = read_nir(out)(x)
    assert z.sum() == 10 and z[22].sum() == 10             # one spike each, delay 2 steps; 0.5 alone stays below
    assert main(["nir", "export", str(spec), "-o", str(out)]) == 2          # exists, no --overwrite
    assert "exists" in capsys.readouterr().err
    bad = tmp_path / "ba.nir"
    assert main(["nir", "export", "ba_stdp", "-o", str(bad), "--ignore-inputs", "--lax"]) == 2
    assert "plasticity rule" in capsys.readouterr().err and not bad.exists()
