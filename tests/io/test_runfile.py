"""Run files: round trip, bounded writer memory, survival of SIGKILL, and clear errors."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np
import pytest

from neurokit_bdh.io import runfile
from neurokit_bdh.io.runfile import FORMAT_VERSION, RunFile, RunFileError, RunWriter, open_run

REPO = Path(__file__).resolve().parents[2]
SPEC = '[network]\nname = "tiny" # µ-test\n'


def writer(path, **kw) -> RunWriter:
    """A small writer: exc (10), inh (3), projections ee and ei, 2 trials, 100 steps of 1 ms."""
    args = dict(spec_text=SPEC, seed=7, dt=1e-3, n_steps=100, n_trials=2,
                populations={"exc": 10, "inh": 3},
                projections={"ee": ("exc", "exc"), "ei": ("exc", "inh")},
                versions={"neurokit_bdh": "test"}, attrs={"note": "hello", "gain": 1.5})
    args.update(kw)
    return RunWriter(path, **args)


def _subprocess_env() -> dict:
    """Environment whose PYTHONPATH finds this repo first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


# ----------------------------------------------------------------------------- round trip

@pytest.mark.parametrize("spike_chunk", [8, runfile.SPIKE_CHUNK])
def test_round_trip_everything(tmp_path, monkeypatch, spike_chunk):
    monkeypatch.setattr(runfile, "SPIKE_CHUNK", spike_chunk)   # 8: many whole chunks + tail slot swaps
    path = tmp_path / "run.h5"
    rng = np.random.default_rng(0)
    spikes, samples = {"exc": [], "inh": []}, []
    with writer(path, chunk_events=7, flush_every_s=float("inf")) as w:
        for step in range(100):
            for pop, size in (("exc", 10), ("inh", 3)):
                k = int(rng.integers(0, 6))
                ev = (rng.integers(0, 2, k), rng.integers(0, size, k), np.full(k, step))
                w.add_spikes(pop, *ev)
                spikes[pop].append(ev)
            assert w.buffered_events <= 7
            if step % 10 == 0:
                samples.append(rng.random((2, 3)).astype(np.float32))
                w.add_state("exc", "v", step, samples[-1], neurons=[7, 0, 3])
            if step % 33 == 5:
                w.flush(steps_done=step + 1)
        snaps = []
        for i, step in enumerate((0, 40, 90)):         # structure changes between snapshots
            n_syn = 5 + 3 * i
            indptr = np.sort(rng.integers(0, n_syn + 1, 11)); indptr[0], indptr[-1] = 0, n_syn
            indices = rng.integers(0, 10, n_syn)
            weights = rng.random((2, n_syn) if i != 1 else n_syn).astype(np.float32)
            w.add_weights("ee", step, indptr, indices, weights)
            snaps.append((step, indptr, indices, weights))
        w.add_structural("ee", 40, births=3, deaths=1)
        w.add_structural("ee", 90, births=0, deaths=2)
        w.add_structural("ei", 50, births=np.array([1, 2]), deaths=np.array([0, 4]))
    expect = {p: tuple(np.concatenate(c) for c in zip(*evs)) for p, evs in spikes.items()}

    with open_run(path) as run:
        assert isinstance(run, RunFile)
        assert (run.spec, run.seed, run.dt, run.n_steps, run.steps_done, run.n_trials, run.status) == \
               (SPEC, 7, 1e-3, 100, 100, 2, "complete")
        assert run.versions == {"neurokit_bdh": "test"}
        assert run.attrs == {"note": "hello", "gain": 1.5}
        assert run.format_version == FORMAT_VERSION == 1
        assert run.populations == {"exc": 10, "inh": 3}
        assert run.projections == {"ee": ("exc", "exc"), "ei": ("exc", "inh")}
        for pop, (t, n, s) in expect.items():
            for got, want in zip(run.spikes(pop), (t, n, s)):
                np.testing.assert_array_equal(got, want)
            for got, want in zip(run.spikes(pop, trial=1), (t[t == 1], n[t == 1], s[t == 1])):
                np.testing.assert_array_equal(got, want)
            chunks = list(run.iter_spikes(pop, chunk=5))
            assert max(len(c[0]) for c in chunks) == 5
            np.testing.assert_array_equal(np.concatenate([c[2] for c in chunks]), s)
            ref = np.zeros((2, run.populations[pop]), np.int64)
            np.add.at(ref, (t, n), 1)
            np.testing.assert_array_equal(run.spike_counts(pop), ref)
        steps, values, neurons = run.state("exc", "v")
        np.testing.assert_array_equal(steps, np.arange(0, 100, 10))
        assert values.shape == (10, 2, 3) and values.dtype == np.float32
        np.testing.assert_array_equal(values, np.stack(samples))
        np.testing.assert_array_equal(neurons, [7, 0, 3])
        assert run.state_vars() == {"exc": ["v"]}
        assert run.weight_steps("ee") == [0, 40, 90] and run.weight_steps("ei") == []
        for k, (step, indptr, indices, weights) in enumerate(snaps):
            got = run.weights("ee", k)
            assert got[0] == step
            for g, w_ in zip(got[1:], (indptr, indices, weights)):
                np.testing.assert_array_equal(g, w_)
                assert g.shape == w_.shape
        np.testing.assert_array_equal(run.weights("ee", -1)[3], snaps[-1][3])
        st = run.structural("ee")
        np.testing.assert_array_equal(st["step"], [40, 90])
        np.testing.assert_array_equal(st["births"], [3, 0])
        np.testing.assert_array_equal(st["deaths"], [1, 2])
        st = run.structural("ei")
        np.testing.assert_array_equal(st["births"], [[1, 2]])
        np.testing.assert_array_equal(st["deaths"], [[0, 4]])


def test_state_values_written_by_chunks(tmp_path):
    path = tmp_path / "run.h5"
    vals = np.arange(50 * 2 * 3, dtype=np.float64).reshape(50, 2, 3)
    with writer(path, chunk_events=12) as w:               # 6 values per sample: a flush every 2 samples
        for i in range(50):
            w.add_state("inh", "u", 2 * i, vals[i], neurons=[2, 0, 1])
            assert w.buffered_state_values < 12
    with open_run(path) as run:
        steps, values, neurons = run.state("inh", "u")
        np.testing.assert_array_equal(steps, 2 * np.arange(50))
        np.testing.assert_array_equal(neurons, [2, 0, 1])
        np.testing.assert_array_equal(values, vals)
        assert values.dtype == np.float64


def test_summary_rates_hand_made(tmp_path):
    path = tmp_path / "run.h5"
    with writer(path, n_steps=1000, populations={"a": 4, "b": 5}, projections={"ab": ("a", "b")}) as w:
        w.add_spikes("a", trial=np.arange(20) % 2, neuron=np.arange(20) % 4, step=np.arange(20) * 7)
        w.add_weights("ab", 10, [0, 1, 1, 2, 2], [0, 4], [0.5, 0.25])
        w.add_weights("ab", 20, [0, 0, 0, 0, 0], [], np.zeros(0, np.float32))
        w.add_structural("ab", 20, births=1, deaths=3)
    with open_run(path) as run:
        s = run.summary()
    # 20 spikes / (4 neurons * 2 trials * 1000 steps * 1 ms) = 2.5 Hz
    assert s["populations"] == {"a": {"size": 4, "spikes": 20, "rate_hz": 2.5},
                                "b": {"size": 5, "spikes": 0, "rate_hz": 0.0}}
    assert s["projections"] == {"ab": {"pre": "a", "post": "b", "snapshots": 2, "structural_rows": 1,
                                       "births": 1, "deaths": 3}}
    assert (s["status"], s["steps_done"], s["duration_s"], s["n_trials"]) == ("complete", 1000, 1.0, 2)
    json.dumps(s)                                          # printable by `neurokit info`


def test_file_copied_at_every_flush_phase_is_consistent(tmp_path, monkeypatch):
    """What a kill leaves behind: a copy taken after any internal flush shows exactly the published data."""
    monkeypatch.setattr(runfile, "SPIKE_CHUNK", 16)
    path = tmp_path / "run.h5"
    w = writer(path, n_steps=60, chunk_events=10**6, flush_every_s=float("inf"))
    added, published, copies = [0], [0], []
    real_flush = w._f.flush

    def flush_and_copy():
        real_flush()
        dst = tmp_path / f"copy{len(copies)}.h5"
        shutil.copyfile(path, dst)
        copies.append((dst, published[0], added[0]))

    w._f.flush = flush_and_copy
    for step in range(60):
        k = step % 7                                       # events i: trial i % 2, neuron i % 10, at its step
        i = np.arange(added[0], added[0] + k)
        w.add_spikes("exc", i % 2, i % 10, np.full(k, step))
        added[0] += k
        w.add_state("exc", "v", step, np.full((2, 1), step, np.float32), neurons=[4])
        if step % 5 == 4:
            n_syn = step % 3
            w.add_weights("ee", step, np.r_[0, np.full(10, n_syn)], np.arange(n_syn), np.full(n_syn, step, np.float32))
            w.flush(steps_done=step + 1)
            published[0] = added[0]
    w.close()
    assert len(copies) >= 5 * 12                          # data, n_main, tail_slot, n_events, steps_done
    seen = set()
    for dst, before, now in copies:
        with open_run(dst) as run:
            n = run.n_events("exc")
            assert before <= n <= now and run.status in ("running", "complete")
            seen.add("old" if n == before else "new" if n == now else "between")
            t, nn, s = run.spikes("exc")
            i = np.arange(n)
            np.testing.assert_array_equal(t, i % 2)
            np.testing.assert_array_equal(nn, i % 10)
            steps, values, _ = run.state("exc", "v")
            np.testing.assert_array_equal(values[:, 0, 0], steps)
            done = run.steps_done                          # never ahead of the data
            assert np.count_nonzero(steps < done) == done
            assert n >= sum(k % 7 for k in range(done))
            for k, step in enumerate(run.weight_steps("ee")):
                np.testing.assert_array_equal(run.weights("ee", k)[3], np.full(step % 3, step, np.float32))
    assert seen == {"old", "between", "new"}              # n_main published before n_events: a valid prefix


def test_frequent_flushes_do_not_grow_the_file(tmp_path):
    """Published chunks are never rewritten, so 300 flushes cost about what one flush costs."""
    sizes = []
    for every in (300, 1):
        path = tmp_path / f"every{every}.h5"
        with writer(path, n_steps=10**5, flush_every_s=float("inf")) as w:
            rng = np.random.default_rng(0)
            for step in range(300):
                w.add_spikes("exc", rng.integers(0, 2, 100), rng.integers(0, 10, 100), np.full(100, step))
                if step % every == every - 1:
                    w.flush()
        sizes.append(path.stat().st_size)
    one, many = sizes
    assert many - one < 150_000, sizes                    # rewriting partial chunks adds ~0.5 MB here


def test_exception_in_with_block_marks_failed(tmp_path):
    path = tmp_path / "run.h5"
    with pytest.raises(RuntimeError, match="engine blew up"):
        with writer(path) as w:
            w.add_spikes("exc", [0, 1], [2, 3], [4, 5])
            raise RuntimeError("engine blew up")
    with open_run(path) as run:
        assert run.status == "failed" and run.steps_done == 5       # last step seen, 5, may be partial
        np.testing.assert_array_equal(run.spikes("exc")[1], [2, 3])


def test_default_versions_never_import_torch(tmp_path):
    code = textwrap.dedent(f"""
        import json, sys
        from neurokit_bdh.io.runfile import RunWriter, open_run
        with RunWriter({str(tmp_path / 'v.h5')!r}, spec_text="", seed=0, dt=1e-3, n_steps=1, n_trials=1,
                       populations={{"p": 1}}, projections={{}}):
            pass
        assert "torch" not in sys.modules, "io imported torch"
        print(json.dumps(open_run({str(tmp_path / 'v.h5')!r}).versions))
    """)
    out = subprocess.run([sys.executable, "-c", code], env=_subprocess_env(), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    versions = json.loads(out.stdout)
    import h5py as _h5py
    assert versions["numpy"] == np.__version__ and versions["h5py"] == _h5py.__version__
    assert {"python", "neurokit_bdh", "hdf5"} <= set(versions)


# ----------------------------------------------------------------------------- bounded memory

def test_writer_memory_is_bounded(tmp_path):
    path = tmp_path / "big.h5"
    chunk, per_call, calls = 65536, 10_000, 500                # 5 million events
    w = writer(path, n_steps=10**6, populations={"exc": 100_000, "inh": 10}, chunk_events=chunk,
               flush_every_s=float("inf"))
    rng = np.random.default_rng(1)
    tracemalloc.start()
    for i in range(calls):
        w.add_spikes("exc", rng.integers(0, 2, per_call), rng.integers(0, 100_000, per_call),
                     np.full(per_call, i))
        assert w.buffered_events <= chunk
    w.add_spikes("exc", np.zeros(3 * chunk, int), np.zeros(3 * chunk, int), np.full(3 * chunk, calls))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    w.close()
    assert w.max_buffered_events <= chunk
    assert peak < 16 * 2**20               # the 5M events are 70 MB raw: nothing accumulated
    with open_run(path) as run:
        assert run.n_events("exc") == calls * per_call + 3 * chunk
        counts = run.spike_counts("exc")
        assert counts.sum() == calls * per_call + 3 * chunk and counts[0, 0] >= 3 * chunk
        last = None
        for _, _, s in run.iter_spikes("exc", chunk=1_000_000):
            assert len(s) <= 1_000_000
            last = s
        assert last[-1] == calls


# ----------------------------------------------------------------------------- SIGKILL

KILL_SCRIPT = """
import os, sys, time
import numpy as np
from neurokit_bdh.io import runfile
runfile.SPIKE_CHUNK = 64                         # chunks complete every few steps: exercise main + tail
path, marker = sys.argv[1], sys.argv[2]
w = runfile.RunWriter(path, spec_text="kill", seed=1, dt=1e-3, n_steps=10**9, n_trials=2,
                      populations={"p": 50, "q": 7}, projections={"pq": ("p", "q")}, versions={},
                      chunk_events=10**6, flush_every_s=1e9)
per = 20
for step in range(10**9):
    i = np.arange(step * per, (step + 1) * per)
    w.add_spikes("p", i % 2, i % 50, np.full(per, step))
    w.add_state("p", "v", step, np.full((2, 2), step, np.float32), neurons=[0, 1])
    if step % 10 == 9:
        n_syn = step % 7
        w.add_weights("pq", step, np.r_[0, np.full(50, n_syn)], np.arange(n_syn), np.full(n_syn, step, np.float32))
        w.add_structural("pq", step, births=step, deaths=1)
        w.flush(steps_done=step + 1)
        with open(marker + ".tmp", "w") as fh:
            fh.write(str(step + 1))
        os.replace(marker + ".tmp", marker)
    time.sleep(0.0005)
"""


def test_sigkill_leaves_flushed_data_readable(tmp_path):
    path, marker, log = tmp_path / "killed.h5", tmp_path / "flushed.txt", tmp_path / "stderr.txt"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path), str(marker)],
                                env=_subprocess_env(), stderr=err)
    try:
        deadline = time.monotonic() + 30
        flushed = 0
        while flushed < 50 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            flushed = int(marker.read_text()) if marker.exists() else 0
        assert flushed >= 50, f"writer made no progress; its stderr:\n{log.read_text()}"
    finally:
        proc.send_signal(signal.SIGKILL)                 # killed mid-loop, often mid-write
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    with open_run(path) as run:
        assert run.status == "running" and run.spec == "kill"
        done = run.steps_done
        assert done >= flushed
        t, n, s = run.spikes("p")
        assert len(s) >= 20 * done                       # everything up to the last flush
        i = np.arange(len(s))
        np.testing.assert_array_equal(t, i % 2)
        np.testing.assert_array_equal(n, i % 50)
        np.testing.assert_array_equal(s, i // 20)
        steps, values, neurons = run.state("p", "v")
        assert len(steps) >= done
        np.testing.assert_array_equal(steps, np.arange(len(steps)))
        np.testing.assert_array_equal(values[:, 1, 0], steps)
        ws = run.weight_steps("pq")
        assert ws == list(range(9, 10 * len(ws), 10)) and len(ws) >= done // 10
        for k, step in enumerate(ws):
            np.testing.assert_array_equal(run.weights("pq", k)[3], np.full(step % 7, step, np.float32))
        np.testing.assert_array_equal(run.structural("pq")["births"], ws)
        summary = run.summary()
    # counted are spikes of completed steps: 20 per step / (50 neurons * 2 trials * 1 ms) = 200 Hz
    assert summary["populations"]["p"]["spikes"] == 20 * done
    assert summary["populations"]["p"]["rate_hz"] == pytest.approx(200.0)


# ----------------------------------------------------------------------------- errors

def test_not_a_run_file(tmp_path):
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(RunFileError, match=r"plain\.h5.*no 'format' attribute.*neurokit-run"):
        open_run(plain)
    with h5py.File(plain, "a") as f:
        f.attrs["format"] = "something-else"
    with pytest.raises(RunFileError, match=r"'something-else'.*expected format='neurokit-run'"):
        open_run(plain)
    text = tmp_path / "notes.txt"
    text.write_text("not hdf5 at all\n")
    with pytest.raises(RunFileError, match=r"notes\.txt: not an HDF5 file.*neurokit run file"):
        open_run(text)
    assert issubclass(RunFileError, ValueError)
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        open_run(tmp_path / "missing.h5")


def test_newer_format_version_says_what_is_supported(tmp_path):
    path = tmp_path / "future.h5"
    writer(path).close()
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = 2
    with pytest.raises(RunFileError, match=r"format_version 2 is newer.*format_version <= 1"):
        open_run(path)


def test_bad_spike_input_names_the_problem(tmp_path):
    path = tmp_path / "run.h5"
    with writer(path) as w:
        with pytest.raises(ValueError, match="unknown population 'nope' \\(known: exc, inh\\)"):
            w.add_spikes("nope", [0], [0], [0])
        with pytest.raises(ValueError, match="trial: 3, neuron: 2, step: 3"):
            w.add_spikes("exc", [0, 0, 0], [1, 2], [0, 0, 0])
        with pytest.raises(ValueError, match="neuron index 10 out of range for population 'exc' \\(size 10\\)"):
            w.add_spikes("exc", [0, 0], [9, 10], [0, 0])
        with pytest.raises(ValueError, match="neuron index -1"):
            w.add_spikes("inh", [0], [-1], [0])
        with pytest.raises(ValueError, match="trial 2 out of range"):
            w.add_spikes("exc", [2], [0], [0])
        with pytest.raises(ValueError, match="step 100 out of range"):
            w.add_spikes("exc", [0], [0], [100])
        with pytest.raises(TypeError, match="neuron must hold integers"):
            w.add_spikes("exc", [0], [1.5], [0])
        w.add_spikes("exc", [1], [9], [3])                  # the rejected calls added nothing
    with open_run(path) as run:
        assert [a.tolist() for a in run.spikes("exc")] == [[1], [9], [3]]
        with pytest.raises(ValueError, match="unknown population 'nope'"):
            run.spikes("nope")


def test_bad_state_weights_structural_input(tmp_path):
    path = tmp_path / "run.h5"
    with writer(path) as w:
        w.add_state("exc", "v", 0, np.zeros((2, 2)), neurons=[1, 2])
        with pytest.raises(ValueError, match="neurons differ from the first call"):
            w.add_state("exc", "v", 1, np.zeros((2, 2)), neurons=[1, 3])
        with pytest.raises(ValueError, match=r"shape \(n_trials, len\(neurons\)\) = \(2, 2\), got \(2, 3\)"):
            w.add_state("exc", "v", 1, np.zeros((2, 3)), neurons=[1, 2])
        with pytest.raises(ValueError, match="step 0 not after"):
            w.add_state("exc", "v", 0, np.zeros((2, 2)), neurons=[1, 2])
        with pytest.raises(ValueError, match="neuron index 3 out of range for population 'inh'"):
            w.add_state("inh", "v", 0, np.zeros((2, 1)), neurons=[3])
        with pytest.raises(ValueError, match="unknown projection 'xx'"):
            w.add_weights("xx", 0, [0] * 11, [], [])
        with pytest.raises(ValueError, match=r"indptr must have shape \(n_pre \+ 1,\) = \(11,\)"):
            w.add_weights("ee", 0, [0, 1], [0], [1.0])
        with pytest.raises(ValueError, match="indices value 3 out of range for postsynaptic population \\(size 3\\)"):
            w.add_weights("ei", 0, [0] * 10 + [1], [3], [1.0])
        with pytest.raises(ValueError, match="weights must have shape"):
            w.add_weights("ei", 0, [0] * 10 + [1], [2], [1.0, 2.0])
        w.add_structural("ee", 5, births=1, deaths=0)
        with pytest.raises(ValueError, match="births must be a scalar total like the first call"):
            w.add_structural("ee", 6, births=[1, 1], deaths=[0, 0])
        with pytest.raises(ValueError, match="deaths must be non-negative integers"):
            w.add_structural("ee", 6, births=1, deaths=-1)
        with pytest.raises(ValueError, match=r"step = 101 out of range \[0, 101\)"):  # after 0..n_steps steps
            w.add_structural("ee", 101, births=1, deaths=0)
        with pytest.raises(ValueError, match=r"values must have shape .* got \(3, 1\)"):
            w.add_state("inh", "u", 50, np.zeros((3, 1)), neurons=[0])   # a rejected first call ...
        with pytest.raises(TypeError, match="weights must be numeric"):
            w.add_weights("ei", 60, [0] * 10 + [1], [2], ["x"])
        assert w.steps_done == 5                           # ... leaves no trace, not even in steps_done
        w.close("failed")
    with pytest.raises(ValueError, match="RunWriter is closed"):
        w.add_spikes("exc", [0], [0], [0])
    with h5py.File(path, "r") as f:
        assert list(f["state"]) == ["exc"] and list(f["state/exc"]) == ["v"]
        assert list(f["weights"]) == [] and list(f["structural"]) == ["ee"]
        assert f.attrs["status"] == "failed" and f.attrs["steps_done"] == 5


def test_existing_path_is_refused_and_untouched(tmp_path):
    path = tmp_path / "old.h5"
    path.write_bytes(b"precious results")
    before = path.stat().st_mtime_ns
    with pytest.raises(FileExistsError, match=r"old\.h5: already exists; pass overwrite=True"):
        writer(path)
    assert path.read_bytes() == b"precious results" and path.stat().st_mtime_ns == before
    writer(path, overwrite=True).close()
    with open_run(path) as run:
        assert run.status == "complete"


@pytest.mark.parametrize("bad, match", [
    (dict(projections={"x": ("exc", "ghost")}), "unknown population 'ghost'"),
    (dict(populations={"exc": 0}), r"populations\['exc'\] = 0 out of range"),
    (dict(dt=0.0), "dt must be a positive finite number of seconds"),
    (dict(n_trials=0), "n_trials = 0 out of range"),
    (dict(populations={"a/b": 3}, projections={}), "population name must be a non-empty string without '/'"),
    (dict(compression="zstd"), "compression must be one of"),
    (dict(attrs={"bad": {"nested": 1}}), r"attrs\['bad'\]: expected str or numbers"),
])
def test_bad_config_creates_no_file(tmp_path, bad, match):
    path = tmp_path / "run.h5"
    with pytest.raises((ValueError, TypeError), match=match):
        writer(path, **bad)
    assert not path.exists()


# ----------------------------------------------------------------------------- docs

@pytest.mark.parametrize("killed", [False, True])
def test_docs_snippets_run(tmp_path, monkeypatch, killed):
    """The plain-h5py and neurokit snippets of docs/formats.md read a complete and a killed file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runfile, "SPIKE_CHUNK", 8)        # 20 events: 2 whole chunks + a 4-event tail
    w = writer("run.h5", flush_every_s=float("inf"))
    w.add_spikes("exc", np.arange(20) % 2, np.arange(20) % 10, np.arange(20))
    w.add_state("exc", "v", 3, np.zeros((2, 1)), neurons=[5])
    w.add_weights("ee", 3, np.r_[0, np.full(10, 2)], [4, 5], [[0.5, 0.25], [1.0, 2.0]])
    w.flush()
    if killed:
        shutil.copyfile("run.h5", "flushed.h5")           # the bytes a kill after this flush leaves
    w.close()
    if killed:
        os.replace("flushed.h5", "run.h5")
    blocks = [b.split("```")[0] for b in (REPO / "docs" / "formats.md").read_text().split("```python\n")[1:3]]
    for block in blocks:
        scope: dict = {}
        exec(block, scope)
        np.testing.assert_array_equal(scope["step"], np.arange(20))
        np.testing.assert_array_equal(scope["weights"], [[0.5, 0.25], [1.0, 2.0]])
    with open_run("run.h5") as run:
        assert run.status == ("running" if killed else "complete")
