"""ALIF and Izhikevich: golden traces from independent scalar reference loops, and firing patterns."""
import math

import numpy as np
import pytest
import torch

from neurokit_bdh.neurons import alif, izhikevich
from neurokit_bdh.neurons.izhikevich import IzhikevichParams


def ref_alif(I, n, dt, tm, th, beta, ta, t_ref):
    """Scalar ALIF, written out directly from the equations (delta synapses, constant current)."""
    v = b = 0.0
    hold, spikes = 0, []
    am, ab, n_ref = math.exp(-dt / tm), math.exp(-dt / ta), round(t_ref / dt)
    for t in range(n):
        b *= ab
        if hold > 0:
            hold -= 1
        else:
            v = v * am + I * (1 - am)
            if v > th + b:
                spikes.append(t)
                v, b, hold = 0.0, b + beta, max(n_ref - 1, 0)
    return spikes


def test_alif_golden_trace_and_adaptation():
    dt, n = 1e-4, 5000
    p = alif.ALIFParams(tau_mem=20e-3, tau_syn=0.0, v_th=1.0, t_ref=2e-3, beta=0.3, tau_adapt=0.2)
    c, s = alif.discretise(p, dt), alif.init_state(p, (1,), dtype=torch.float64)
    got = []
    for t in range(n):
        z, s = alif.step(torch.zeros(1, dtype=torch.float64), s, c, i_ext=torch.tensor([2.0], dtype=torch.float64))
        if z.item():
            got.append(t)
    assert got == ref_alif(2.0, n, dt, 20e-3, 1.0, 0.3, 0.2, 2e-3)
    isi = np.diff(got)
    assert isi[-1] > 1.5 * isi[0]  # spike-frequency adaptation


def ref_izhikevich(a, b, c, d, I, n, h):
    """Izhikevich 2003, forward Euler with step h (ms), written out directly."""
    v, u, spikes = -65.0, b * -65.0, []
    for t in range(n):
        v, u = v + h * (0.04 * v * v + 5 * v + 140 - u + I), u + h * a * (b * v - u)
        if v > 30.0:
            spikes.append(t)
            v, u = c, u + d
    return spikes


def run_izh(p, I, n, dt=1e-4):
    c, s = izhikevich.discretise(p, dt), izhikevich.init_state(p, (1,), dtype=torch.float64)
    out = []
    for t in range(n):
        z, s = izhikevich.step(torch.zeros(1, dtype=torch.float64), s, c, i_ext=torch.tensor([I], dtype=torch.float64))
        if z.item():
            out.append(t)
    return out


@pytest.mark.parametrize("preset", ["RS", "FS", "IB", "CH", "LTS"])
def test_izhikevich_golden_trace(preset):
    p = IzhikevichParams.preset(preset)
    assert run_izh(p, 10.0, 3000) == ref_izhikevich(p.a, p.b, p.c, p.d, 10.0, 3000, 0.1)


def test_izhikevich_firing_patterns():
    n, dt = 5000, 1e-4  # 500 ms at I = 10
    isi = {k: np.diff(run_izh(IzhikevichParams.preset(k), 10.0, n)) * dt * 1e3 for k in ("RS", "FS", "CH")}
    # regular spiking adapts: late ISIs much longer than the first
    assert isi["RS"][-1] > 1.5 * isi["RS"][0]
    # fast spiking: high rate, nearly constant ISI
    assert len(isi["FS"]) + 1 > 2 * (len(isi["RS"]) + 1)
    assert isi["FS"][-1] < 1.5 * isi["FS"][1]
    # chattering: bursts, i.e. short intra-burst ISIs (< 10 ms) and long inter-burst ISIs (> 15 ms)
    assert (isi["CH"] < 10).any() and (isi["CH"] > 15).any()


def test_izhikevich_preset_errors():
    with pytest.raises(ValueError, match="preset"):
        IzhikevichParams.preset("XX")
    with pytest.raises(ValueError, match="v_peak"):
        IzhikevichParams(c=40.0)
