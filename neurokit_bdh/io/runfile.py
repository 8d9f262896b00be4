"""HDF5 run files: one file per simulation run, written in flushed chunks while the run goes on.

The schema, the versioning policy and the spike timing convention are in ``docs/formats.md``.
This module depends on numpy and h5py only.

Kill safety rests on one rule: no byte that the last flush made visible is rewritten later.
Compressed chunks are written exactly once (spikes go to whole chunks, the remainder to an
uncompressed two-slot tail; each weight snapshot starts on a chunk boundary); everything that
grows in place is uncompressed (its chunks never move); counts are published only after the data
they cover has been flushed; and the file is created with HDF5 free-space reuse turned off.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "run.h5")
>>> with RunWriter(path, spec_text="", seed=0, dt=1e-3, n_steps=10, n_trials=1,
...                populations={"exc": 4}, projections={}) as w:
...     w.add_spikes("exc", trial=[0, 0], neuron=[1, 3], step=[2, 5])
>>> with open_run(path) as run:
...     run.status, run.spike_counts("exc").tolist()
('complete', [[0, 1, 0, 1]])
"""
from __future__ import annotations

import importlib.metadata
import json
import math
import numbers
import os
import platform
import sys
import time
from datetime import datetime, timezone

import h5py
import numpy as np

FORMAT = "neurokit-run"
FORMAT_VERSION = 1
STATUSES = ("running", "complete", "failed")
COMPRESSIONS = (None, "gzip", "lzf")
SPIKE_CHUNK = 1 << 12            # events per HDF5 chunk of spikes/<pop>/{trial,neuron,step}
_BIG_CHUNK = 1 << 16             # elements per chunk of weight arrays and state samples
_SMALL_CHUNK = 1 << 10           # rows per chunk of small tables and tail slots
_SPIKE_COLS = ("trial", "neuron", "step")


class RunFileError(ValueError):
    """A file that is not a (readable) neurokit run file."""


# ----------------------------------------------------------------------------- validation helpers

def _is_int(x) -> bool:
    """True for Python/numpy integers (not bool)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _check_int(where: str, name: str, x, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``int(x)``; raise naming ``name`` unless an integer in [lo, hi)."""
    if not _is_int(x):
        raise TypeError(f"{where}: {name} must be an integer, got {x!r}")
    x = int(x)
    if (lo is not None and x < lo) or (hi is not None and x >= hi):
        raise ValueError(f"{where}: {name} = {x} out of range [{lo}, {hi})")
    return x


def _check_name(where: str, kind: str, name) -> str:
    """A group name usable in HDF5: non-empty str without '/'."""
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ValueError(f"{where}: {kind} name must be a non-empty string without '/', got {name!r}")
    return name


def _int_array(where: str, name: str, a) -> np.ndarray:
    """``a`` as a 1-D integer array (an empty sequence is accepted)."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{where}: {name} must be 1-D, got shape {a.shape}")
    if a.size == 0:
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} must hold integers, got dtype {a.dtype}")
    return a


def _check_range(where: str, name: str, a: np.ndarray, hi: int, what: str) -> int:
    """Every value of ``a`` in [0, hi), else an error naming the offending value; returns the max (-1 if empty)."""
    if a.size == 0:
        return -1
    hi_v = int(np.maximum.reduce(a))
    lo_v = int(np.minimum.reduce(a)) if a.dtype.kind == "i" else 0
    if lo_v < 0 or hi_v >= hi:
        raise ValueError(f"{where}: {name} {lo_v if lo_v < 0 else hi_v} out of range for {what}")
    return hi_v


def _compression_kwargs(compression) -> dict:
    """h5py filter kwargs for ``compression`` (None, "gzip" level 1 or "lzf"; shuffle with both)."""
    if compression not in COMPRESSIONS:
        raise ValueError(f"RunWriter: compression must be one of {COMPRESSIONS}, got {compression!r}")
    if compression is None:
        return {}
    opts = {"compression_opts": 1} if compression == "gzip" else {}
    return {"compression": compression, "shuffle": True, **opts}


def _check_attr_value(key: str, v):
    """A user attr value h5py can store: str, or bool/int/float scalar or array."""
    if isinstance(v, str):
        return v
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"RunWriter: attrs[{key!r}]: expected str or numbers, got {type(v).__name__}")
    return a if a.ndim else a[()]


def collect_versions() -> dict[str, str]:
    """Versions of python, neurokit_bdh, numpy, h5py, HDF5 and torch (if installed; never imported here)."""
    from .. import __version__

    out = {"python": platform.python_version(), "neurokit_bdh": __version__,
           "numpy": np.__version__, "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version}
    torch = sys.modules.get("torch")
    try:
        out["torch"] = torch.__version__ if torch is not None else importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pass
    return out


# ----------------------------------------------------------------------------- dataset helpers

def _table(g: h5py.Group, name: str, row_shape: tuple, dtype, chunk_rows: int = _SMALL_CHUNK,
           filters: dict | None = None) -> h5py.Dataset:
    """Empty dataset growing along axis 0 (uncompressed unless ``filters``)."""
    return g.create_dataset(name, shape=(0, *row_shape), maxshape=(None, *row_shape), dtype=dtype,
                            chunks=(chunk_rows, *row_shape), **(filters or {}))


def _append(ds: h5py.Dataset, data: np.ndarray, start: int) -> int:
    """Write ``data`` at rows [start, start + len) of ``ds`` (growing it); return the new end."""
    end = start + len(data)
    if ds.shape[0] < end:
        ds.resize(end, axis=0)
    if len(data):
        ds[start:end] = data
    return end


# ----------------------------------------------------------------------------- writer

class _Config:
    """The validated constructor arguments of a RunWriter (checked before any file is touched)."""

    def __init__(self, spec_text, seed, dt, n_steps, n_trials, populations, projections,
                 versions, attrs, chunk_events, flush_every_s, compression):
        w = "RunWriter"
        if not isinstance(spec_text, str):
            raise TypeError(f"{w}: spec_text must be a str (the TOML text), got {type(spec_text).__name__}")
        self.spec_text = spec_text
        self.seed = _check_int(w, "seed", seed, 0, 2**63)
        if not isinstance(dt, numbers.Real) or isinstance(dt, bool) or not 0 < float(dt) < math.inf:
            raise ValueError(f"{w}: dt must be a positive finite number of seconds, got {dt!r}")
        self.dt = float(dt)
        self.n_steps = _check_int(w, "n_steps", n_steps, 1, 2**62)
        self.n_trials = _check_int(w, "n_trials", n_trials, 1, 2**31)
        self.populations = self._populations(populations)
        self.projections = self._projections(projections)
        self.versions = self._versions(versions)
        self.attrs = {_check_name(w, "attrs", k): _check_attr_value(k, v) for k, v in (attrs or {}).items()}
        self.chunk_events = _check_int(w, "chunk_events", chunk_events, 1)
        if not isinstance(flush_every_s, numbers.Real) or not float(flush_every_s) >= 0:
            raise ValueError(f"{w}: flush_every_s must be a number >= 0, got {flush_every_s!r}")
        self.flush_every_s = float(flush_every_s)
        self.filters = _compression_kwargs(compression)

    @staticmethod
    def _populations(pops) -> dict[str, int]:
        """name -> size, sizes in [1, 2**32)."""
        if not isinstance(pops, dict):
            raise TypeError(f"RunWriter: populations must be a dict name -> size, got {type(pops).__name__}")
        return {_check_name("RunWriter", "population", k): _check_int("RunWriter", f"populations[{k!r}]", v, 1, 2**32)
                for k, v in pops.items()}

    def _projections(self, projs) -> dict[str, tuple[str, str]]:
        """name -> (pre, post), both known populations."""
        if not isinstance(projs, dict):
            raise TypeError(f"RunWriter: projections must be a dict name -> (pre, post), got {type(projs).__name__}")
        out = {}
        for name, ends in projs.items():
            _check_name("RunWriter", "projection", name)
            if not isinstance(ends, (tuple, list)) or len(ends) != 2:
                raise ValueError(f"RunWriter: projections[{name!r}] must be (pre_pop, post_pop), got {ends!r}")
            for end in ends:
                if end not in self.populations:
                    raise ValueError(f"RunWriter: projections[{name!r}] names unknown population {end!r} "
                                     f"(known: {', '.join(self.populations) or 'none'})")
            out[name] = (str(ends[0]), str(ends[1]))
        return out

    @staticmethod
    def _versions(versions) -> dict[str, str]:
        """Given versions (str -> str), or the collected ones."""
        if versions is None:
            return collect_versions()
        if not isinstance(versions, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in versions.items()):
            raise TypeError(f"RunWriter: versions must be a dict str -> str, got {versions!r}")
        return dict(versions)


def _check_target(path: str, overwrite: bool) -> None:
    """Refuse an existing path (unless overwrite), a directory, or a missing parent directory."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path}: is a directory; give a file path for the run file")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"{path}: parent directory {parent} does not exist")


def _create_h5(path: str) -> h5py.File:
    """Create the file with free-space reuse off, so space that flushed metadata points to is never recycled."""
    return h5py.File(path, "w", fs_strategy="none")


class RunWriter:
    """Writes one run file, appending spikes/state/weights/structural events in flushed chunks.

    Memory is bounded: at most ``chunk_events`` spike events and ``chunk_events`` state values
    are buffered; a full buffer, or ``flush_every_s`` seconds since the last flush, triggers
    :meth:`flush`. After a flush a killed process leaves everything written so far readable.
    """

    def __init__(self, path, *, spec_text: str, seed: int, dt: float, n_steps: int, n_trials: int,
                 populations: dict[str, int], projections: dict[str, tuple[str, str]],
                 versions: dict[str, str] | None = None, attrs: dict | None = None,
                 chunk_events: int = 65536, flush_every_s: float = 5.0,
                 overwrite: bool = False, compression: str | None = "gzip"):
        self.path = os.fspath(path)
        cfg = _Config(spec_text, seed, dt, n_steps, n_trials, populations, projections,
                      versions, attrs, chunk_events, flush_every_s, compression)
        _check_target(self.path, overwrite)
        self.dt, self.n_steps, self.n_trials = cfg.dt, cfg.n_steps, cfg.n_trials
        self.populations, self.projections = cfg.populations, cfg.projections
        self.chunk_events, self.flush_every_s = cfg.chunk_events, cfg.flush_every_s
        self._filters = cfg.filters
        self._trial_dtype = np.dtype(np.uint16 if cfg.n_trials <= 65536 else np.int32)
        self._pending = {p: [] for p in self.populations}   # pop -> buffered (trial, neuron, step) pieces
        self.buffered_events = 0                             # spike events held in RAM now
        self.max_buffered_events = 0                         # high-water mark of buffered_events
        self.buffered_state_values = 0                       # state values held in RAM now
        self._state, self._wts, self._struct = {}, {}, {}    # (pop, var) / proj -> series
        self._explicit_done, self._max_step = 0, 0
        self._f = _create_h5(self.path)
        try:
            self._init_file(cfg)
            self._spikes = {p: _SpikeSeries(self, p) for p in self.populations}
            self._f.flush()
        except BaseException:
            self._f.close()
            os.remove(self.path)
            raise
        self._last_flush = time.monotonic()

    def _init_file(self, cfg: _Config) -> None:
        """Root attrs, spec, user attrs, populations and projections."""
        f, a = self._f, self._f.attrs
        a["format"], a["format_version"] = FORMAT, np.int64(FORMAT_VERSION)
        a["seed"], a["dt"] = np.int64(cfg.seed), np.float64(cfg.dt)
        a["n_steps"], a["steps_done"], a["n_trials"] = np.int64(cfg.n_steps), np.int64(0), np.int64(cfg.n_trials)
        a["status"] = "running"
        a["created"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        a["finished"] = ""                                   # ISO time, set by close()
        a["versions"] = json.dumps(cfg.versions, sort_keys=True)
        f.create_dataset("spec", data=cfg.spec_text, dtype=h5py.string_dtype("utf-8"))
        meta = f.create_group("meta")
        for k, v in cfg.attrs.items():
            meta.attrs[k] = v
        for grp in ("populations", "projections", "spikes", "state", "weights", "structural"):
            f.create_group(grp)
        for name, size in cfg.populations.items():
            f["populations"].create_group(name).attrs["size"] = np.int64(size)
        for name, (pre, post) in cfg.projections.items():
            g = f["projections"].create_group(name)
            g.attrs["pre"], g.attrs["post"] = pre, post

    # -- common checks

    def _check_open(self) -> None:
        """Raise if the writer was closed."""
        if self._f is None:
            raise ValueError(f"{self.path}: RunWriter is closed")

    def _pop_size(self, where: str, pop) -> int:
        """Size of a known population, else ValueError naming it."""
        if pop not in self.populations:
            raise ValueError(f"{where}: unknown population {pop!r} (known: {', '.join(self.populations)})")
        return self.populations[pop]

    def _proj(self, where: str, proj) -> tuple[str, str]:
        """(pre, post) of a known projection, else ValueError naming it."""
        if proj not in self.projections:
            raise ValueError(f"{where}: unknown projection {proj!r} "
                             f"(known: {', '.join(self.projections) or 'none'})")
        return self.projections[proj]

    def _step(self, where: str, step, completed: bool = False) -> int:
        """A step index in [0, n_steps); with ``completed``, a count of completed steps in [0, n_steps]."""
        return _check_int(where, "step", step, 0, self.n_steps + 1 if completed else self.n_steps)

    def _maybe_flush(self) -> None:
        """Flush if flush_every_s has passed since the last flush."""
        if time.monotonic() - self._last_flush >= self.flush_every_s:
            self.flush()

    # -- spikes

    def add_spikes(self, pop: str, trial, neuron, step) -> None:
        """Append spike events (equal-length int arrays) of population ``pop``."""
        self._check_open()
        where = "add_spikes"
        size = self._pop_size(where, pop)
        t, n, s = (_int_array(where, k, a) for k, a in zip(_SPIKE_COLS, (trial, neuron, step)))
        if not len(t) == len(n) == len(s):
            raise ValueError(f"{where}: trial, neuron and step must have equal lengths, "
                             f"got trial: {len(t)}, neuron: {len(n)}, step: {len(s)}")
        _check_range(where, "trial", t, self.n_trials, f"n_trials = {self.n_trials}")
        _check_range(where, "neuron index", n, size, f"population {pop!r} (size {size})")
        last = _check_range(where, "step", s, self.n_steps, f"n_steps = {self.n_steps}")
        if len(s):
            self._max_step = max(self._max_step, last)
            self._buffer_events(pop, t, n, s)
        self._maybe_flush()

    def _buffer_events(self, pop: str, t, n, s) -> None:
        """Copy events into the buffer, flushing so it never holds more than chunk_events."""
        k = len(t)
        if self.buffered_events + k > self.chunk_events:
            self.flush()
        if k > self.chunk_events:                            # too big to buffer: write straight through
            self._spikes[pop].append(t, n, s)
            self.flush()
            return
        self._pending[pop].append((t.astype(self._trial_dtype), n.astype(np.uint32), s.astype(np.int64)))
        self.buffered_events += k
        self.max_buffered_events = max(self.max_buffered_events, self.buffered_events)
        if self.buffered_events >= self.chunk_events:
            self.flush()

    def _write_spike_buffers(self) -> None:
        """Append every buffered piece to the file and empty the buffer."""
        for pop, pieces in self._pending.items():
            if pieces:
                self._spikes[pop].append(*(np.concatenate(col) for col in zip(*pieces)))
                pieces.clear()
        self.buffered_events = 0

    # -- state, weights, structural

    def add_state(self, pop: str, var: str, step: int, values, neurons) -> None:
        """Append one sample ``values`` (n_trials, len(neurons)) of state ``var`` of ``pop`` at ``step``."""
        self._check_open()
        where = f"add_state({pop!r}, {var!r})"
        size = self._pop_size(where, pop)
        _check_name(where, "state variable", var)
        step = self._step(where, step)
        series = self._state.setdefault((pop, var), _StateSeries(self, pop, var, size))
        self.buffered_state_values += series.add(step, values, neurons)
        self._max_step = max(self._max_step, step)
        if self.buffered_state_values >= self.chunk_events:
            self.flush()
        else:
            self._maybe_flush()

    def add_weights(self, proj: str, step: int, indptr, indices, weights) -> None:
        """Write a CSR weight snapshot of ``proj`` at ``step``; weights (n_syn,) or (n_trials, n_syn)."""
        self._check_open()
        where = f"add_weights({proj!r})"
        pre, post = self._proj(where, proj)
        step = self._step(where, step, completed=True)
        series = self._wts.setdefault(proj, _WeightSeries(self, proj, self.populations[pre], self.populations[post]))
        series.add(step, indptr, indices, weights)
        self._max_step = max(self._max_step, step)
        self._maybe_flush()

    def add_population_data(self, pop: str, name: str, values) -> None:
        """Store a per-neuron array of population ``pop`` (e.g. the ``is_exc`` mask) at ``populations/<pop>/<name>``."""
        self._check_open()
        where = f"add_population_data({pop!r}, {name!r})"
        size = self._pop_size(where, pop)
        _check_name(where, "dataset", name)
        values = np.asarray(values)
        if values.shape[:1] != (size,):
            raise ValueError(f"{where}: expected one value per neuron, shape ({size}, ...), got {values.shape}")
        if values.dtype.kind not in "biuf":
            raise TypeError(f"{where}: values must be numeric or boolean, got dtype {values.dtype}")
        g = self._f[f"populations/{pop}"]
        if name in g:
            raise ValueError(f"{where}: already written")
        g.create_dataset(name, data=values.astype(np.uint8) if values.dtype == bool else values)

    def add_structural(self, proj: str, step: int, births, deaths) -> None:
        """Record synapse births/deaths of ``proj`` at ``step`` (totals, or per-trial arrays of n_trials)."""
        self._check_open()
        where = f"add_structural({proj!r})"
        self._proj(where, proj)
        step = self._step(where, step, completed=True)
        series = self._struct.setdefault(proj, _StructSeries(self, proj))
        series.add(step, births, deaths)
        self._max_step = max(self._max_step, step)
        self._maybe_flush()

    # -- progress, flush, close

    @property
    def steps_done(self) -> int:
        """Steps known complete: the engine's report, else the last step seen (taken as still in progress)."""
        return max(self._explicit_done, self._max_step)

    @steps_done.setter
    def steps_done(self, value: int) -> None:
        value = _check_int("RunWriter", "steps_done", value, 0, self.n_steps + 1)
        self._explicit_done = max(self._explicit_done, value)

    def flush(self, steps_done: int | None = None) -> None:
        """Write all buffered data, flush it, then publish counts and ``steps_done`` and flush again."""
        self._check_open()
        if steps_done is not None:
            self.steps_done = steps_done
        self._write_spike_buffers()
        for series in (*self._state.values(), *self._struct.values()):
            series.write()
        self.buffered_state_values = 0
        self._publish()
        self._last_flush = time.monotonic()

    def _publish(self) -> None:
        """Flush the data, then publish counts one attr kind at a time, each on disk before the next.

        Every state a kill can leave on disk is consistent: n_main, then tail_slot, then n_events
        (with the other series' counts), then steps_done.
        """
        self._f.flush()
        for attr in _SpikeSeries.PUBLISH_ORDER:
            for series in self._spikes.values():
                series.publish(attr)
            if attr == "n_events":
                for series in (*self._state.values(), *self._wts.values(), *self._struct.values()):
                    series.publish()
            self._f.flush()
        self._f.attrs.modify("steps_done", np.int64(self.steps_done))
        self._f.flush()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._f is None

    def close(self, status: str = "complete", steps_done: int | None = None) -> None:
        """Flush and close; ``status`` "complete" (steps_done defaults to n_steps) or "failed"."""
        if self._f is None:
            return
        if status not in ("complete", "failed"):
            raise ValueError(f"close: status must be 'complete' or 'failed', got {status!r}")
        try:
            self.flush(self.n_steps if status == "complete" and steps_done is None else steps_done)
            for series in self._spikes.values():
                series.finish()
            self._publish()
            self._f.attrs.modify("finished", datetime.now(timezone.utc).isoformat(timespec="seconds"))
            self._f.attrs.modify("status", status)
            self._f.flush()
        finally:
            self._f.close()
            self._f = None

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close("complete")
            return
        try:
            self.close("failed")
        except Exception:                                    # keep the original exception
            pass


class _SpikeSeries:
    """Events of one population: whole chunks go to the compressed columns, the rest to an uncompressed tail.

    ``spikes/<pop>/{trial,neuron,step}`` hold events [0, n_main) and only ever receive whole
    SPIKE_CHUNK chunks (plus one final partial chunk at close), so no compressed chunk is
    rewritten. Events [n_main, n_events) sit in ``tail/<col>[tail_slot, :n_events - n_main]``;
    when a chunk completes, the new remainder goes to the slot that is not published. Publishing
    n_main, then tail_slot, then n_events keeps every intermediate state a valid prefix (a reader
    takes max(n_events - n_main, 0) tail events).
    """

    PUBLISH_ORDER = ("n_main", "tail_slot", "n_events")

    def __init__(self, w: RunWriter, pop: str):
        self.g = g = w._f["spikes"].create_group(pop)
        dtypes = (w._trial_dtype, np.dtype(np.uint32), np.dtype(np.int64))
        self.main = [_table(g, c, (), d, SPIKE_CHUNK, w._filters) for c, d in zip(_SPIKE_COLS, dtypes)]
        tail = g.create_group("tail")
        slot_chunk = (1, min(SPIKE_CHUNK, _SMALL_CHUNK))
        self.tail = [tail.create_dataset(c, shape=(2, SPIKE_CHUNK), dtype=d, chunks=slot_chunk)
                     for c, d in zip(_SPIKE_COLS, dtypes)]
        self.published = dict.fromkeys(self.PUBLISH_ORDER, 0)
        for k in self.PUBLISH_ORDER:
            g.attrs[k] = np.int64(0)
        self.n_main = self.n_tail = self.slot = 0

    def append(self, *cols: np.ndarray) -> None:
        """Append (trial, neuron, step) columns of equal length."""
        k = len(cols[0])
        if self.n_tail + k < SPIKE_CHUNK:                    # still a partial chunk: extend the tail slot
            for ds, a in zip(self.tail, cols):
                ds[self.slot, self.n_tail:self.n_tail + k] = a
            self.n_tail += k
            return
        need = SPIKE_CHUNK - self.n_tail
        self._to_main([np.concatenate([ds[self.slot, :self.n_tail], a[:need]]) for ds, a in zip(self.tail, cols)])
        n_full = (k - need) // SPIKE_CHUNK * SPIKE_CHUNK
        self._to_main([a[need:need + n_full] for a in cols])
        rest = [a[need + n_full:] for a in cols]
        if self.slot == self.published["tail_slot"]:       # never overwrite the published slot
            self.slot = 1 - self.slot
        for ds, a in zip(self.tail, rest):
            ds[self.slot, :len(a)] = a
        self.n_tail = len(rest[0])

    def _to_main(self, cols) -> None:
        """Append whole chunks to the compressed columns."""
        for ds, a in zip(self.main, cols):
            end = _append(ds, a, self.n_main)
        self.n_main = end

    def finish(self) -> None:
        """Move the tail into the compressed columns (the one partial chunk, written once)."""
        self._to_main([ds[self.slot, :self.n_tail] for ds in self.tail])
        self.n_tail = 0

    def publish(self, attr: str) -> None:
        """Write one of PUBLISH_ORDER (the writer flushes between them) if it changed."""
        value = {"n_main": self.n_main, "tail_slot": self.slot, "n_events": self.n_main + self.n_tail}[attr]
        if value != self.published[attr]:
            self.g.attrs.modify(attr, np.int64(value))
            self.published[attr] = value


class _StateSeries:
    """Buffered samples of one state variable, appended to ``state/<pop>/<var>`` (uncompressed: chunks never move).

    The datasets are created by the first valid sample, which also fixes ``neurons`` and the dtype.
    """

    def __init__(self, w: RunWriter, pop: str, var: str, size: int):
        self.w, self.pop, self.var, self.size = w, pop, var, size
        self.where = f"add_state({pop!r}, {var!r})"
        self.neurons, self.g, self.pending, self.n, self.last = None, None, [], 0, -1

    def _check_neurons(self, neurons) -> np.ndarray:
        """The recorded subset: on the first call validated, afterwards equal to the first."""
        if self.neurons is not None:
            neurons = np.asarray(neurons)
            if neurons.shape != self.neurons.shape or not np.array_equal(neurons, self.neurons):
                raise ValueError(f"{self.where}: neurons differ from the first call (the recorded subset is fixed)")
            return self.neurons
        neurons = _int_array(self.where, "neurons", neurons)
        if neurons.size == 0:
            raise ValueError(f"{self.where}: neurons must name at least one recorded neuron")
        _check_range(self.where, "neuron index", neurons, self.size, f"population {self.pop!r} (size {self.size})")
        if np.unique(neurons).size != neurons.size:
            raise ValueError(f"{self.where}: neurons must not repeat")
        return neurons.copy()

    def _create(self, neurons: np.ndarray, dtype) -> None:
        """Create the group and its datasets."""
        w = self.w
        self.neurons, self.row_size = neurons, w.n_trials * neurons.size
        self.g = w._f["state"].require_group(self.pop).create_group(self.var)
        self.g.attrs["n_samples"] = np.int64(0)
        self.g.create_dataset("neurons", data=neurons.astype(np.uint32))
        rows = max(1, _BIG_CHUNK // self.row_size)
        self.values = _table(self.g, "values", (w.n_trials, neurons.size), dtype, rows)
        self.steps = _table(self.g, "steps", (), np.int64)

    def add(self, step: int, values, neurons) -> int:
        """Validate and buffer one sample; return its number of values."""
        neurons = self._check_neurons(neurons)
        values = np.asarray(values)
        if values.dtype.kind not in "biuf":
            raise TypeError(f"{self.where}: values must be numeric, got dtype {values.dtype}")
        want = (self.w.n_trials, neurons.size)
        if values.shape != want:
            raise ValueError(f"{self.where}: values must have shape (n_trials, len(neurons)) = {want}, "
                             f"got {values.shape}")
        if step <= self.last:
            raise ValueError(f"{self.where}: step {step} not after the previous sample's step {self.last}")
        if self.g is None:
            self._create(neurons, values.dtype)
        self.last = step
        self.pending.append((step, values.astype(self.values.dtype)))
        return values.size

    def write(self) -> None:
        """Append the buffered samples."""
        if self.pending:
            _append(self.values, np.stack([v for _, v in self.pending]), self.n)
            self.n = _append(self.steps, np.array([s for s, _ in self.pending], np.int64), self.n)
            self.pending.clear()

    def publish(self) -> None:
        """Publish the number of complete samples."""
        if self.g is not None:
            self.g.attrs.modify("n_samples", np.int64(self.n))


class _WeightSeries:
    """CSR snapshots of one projection, concatenated; each snapshot starts on a chunk boundary (see docs/formats.md).

    The datasets are created by the first valid snapshot, which also fixes the weight dtype.
    """

    def __init__(self, w: RunWriter, proj: str, n_pre: int, n_post: int):
        self.w, self.proj, self.n_pre, self.n_post = w, proj, n_pre, n_post
        self.where = f"add_weights({proj!r})"
        self.align = _BIG_CHUNK if w._filters else 1         # compressed chunks are written once
        self.g, self.n, self.syn_end, self.val_end, self.last = None, 0, 0, 0, -1

    def _create(self, dtype) -> None:
        """Create the group and its datasets."""
        w = self.w
        self.g = g = w._f["weights"].create_group(self.proj)
        g.attrs["n_snapshots"] = np.int64(0)
        self.step = _table(g, "step", (), np.int64)
        self.per_trial = _table(g, "per_trial", (), np.uint8)
        self.syn_start = _table(g, "indices_start", (), np.int64)
        self.val_start = _table(g, "weights_start", (), np.int64)
        row = self.n_pre + 1
        self.indptr = g.create_dataset("indptr", shape=(0, row), maxshape=(None, row), dtype=np.int64,
                                       chunks=(1, min(row, _BIG_CHUNK)), **w._filters)
        self.indices = _table(g, "indices", (), np.uint32, _BIG_CHUNK, w._filters)
        self.weights = _table(g, "weights", (), dtype, _BIG_CHUNK, w._filters)

    def _check(self, step, indptr, indices, weights):
        """Validated (indptr, indices, weights) of one snapshot."""
        wh = self.where
        indptr, indices = _int_array(wh, "indptr", indptr), _int_array(wh, "indices", indices)
        if indptr.shape != (self.n_pre + 1,):
            raise ValueError(f"{wh}: indptr must have shape (n_pre + 1,) = ({self.n_pre + 1},), got {indptr.shape}")
        if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise ValueError(f"{wh}: indptr must start at 0 and never decrease")
        n_syn = int(indptr[-1])
        if indices.shape != (n_syn,):
            raise ValueError(f"{wh}: indices must have length indptr[-1] = {n_syn}, got {indices.shape}")
        _check_range(wh, "indices value", indices, self.n_post, f"postsynaptic population (size {self.n_post})")
        weights = np.asarray(weights)
        if weights.shape not in ((n_syn,), (self.w.n_trials, n_syn)):
            raise ValueError(f"{wh}: weights must have shape (n_syn,) or (n_trials, n_syn) with n_syn = {n_syn}, "
                             f"got {weights.shape}")
        if weights.dtype.kind not in "iuf":
            raise TypeError(f"{wh}: weights must be numeric, got dtype {weights.dtype}")
        if step < self.last:
            raise ValueError(f"{wh}: step {step} before the previous snapshot's step {self.last}")
        return indptr, indices, weights

    def _aligned(self, end: int) -> int:
        """First chunk boundary at or after ``end``."""
        return -(-end // self.align) * self.align

    def add(self, step: int, indptr, indices, weights) -> None:
        """Validate and write one snapshot now (it becomes visible at the next flush)."""
        indptr, indices, weights = self._check(step, indptr, indices, weights)
        if self.g is None:
            self._create(weights.dtype)
        self.last = step
        s0, v0 = self._aligned(self.syn_end), self._aligned(self.val_end)
        self.syn_end = _append(self.indices, indices, s0)
        self.val_end = _append(self.weights, weights.reshape(-1), v0)
        _append(self.indptr, indptr[None, :], self.n)
        _append(self.syn_start, np.array([s0], np.int64), self.n)
        _append(self.val_start, np.array([v0], np.int64), self.n)
        _append(self.per_trial, np.array([weights.ndim == 2], np.uint8), self.n)
        self.n = _append(self.step, np.array([step], np.int64), self.n)

    def publish(self) -> None:
        """Publish the number of complete snapshots."""
        if self.g is not None:
            self.g.attrs.modify("n_snapshots", np.int64(self.n))


class _StructSeries:
    """Rows (step, births, deaths) of one projection; totals or per-trial, fixed by the first valid call."""

    def __init__(self, w: RunWriter, proj: str):
        self.w, self.proj, self.where = w, proj, f"add_structural({proj!r})"
        self.per_trial, self.g, self.pending, self.n, self.last = None, None, [], 0, -1

    def _create(self) -> None:
        """Create the group and its datasets."""
        shape = (self.w.n_trials,) if self.per_trial else ()
        self.g = g = self.w._f["structural"].create_group(self.proj)
        g.attrs["n_rows"], g.attrs["per_trial"] = np.int64(0), self.per_trial
        self.step = _table(g, "step", (), np.int64)
        self.births = _table(g, "births", shape, np.int64)
        self.deaths = _table(g, "deaths", shape, np.int64)

    def _counts(self, name: str, x, per_trial: bool) -> np.ndarray:
        """births/deaths as a non-negative int scalar or (n_trials,) array."""
        a = np.asarray(x)
        want = (self.w.n_trials,) if per_trial else ()
        if a.shape != want:
            form = f"an array of n_trials = {self.w.n_trials}" if per_trial else "a scalar total"
            raise ValueError(f"{self.where}: {name} must be {form} like the first call, got shape {a.shape}")
        if a.dtype.kind not in "iu" or np.any(a < 0):
            raise ValueError(f"{self.where}: {name} must be non-negative integers, got {x!r}")
        return a.astype(np.int64)

    def add(self, step: int, births, deaths) -> None:
        """Validate and buffer one row."""
        per_trial = np.ndim(births) == 1 if self.per_trial is None else self.per_trial
        b, d = self._counts("births", births, per_trial), self._counts("deaths", deaths, per_trial)
        if step < self.last:
            raise ValueError(f"{self.where}: step {step} before the previous row's step {self.last}")
        if self.g is None:
            self.per_trial = per_trial
            self._create()
        self.last = step
        self.pending.append((step, b, d))

    def write(self) -> None:
        """Append the buffered rows."""
        if self.pending:
            steps, b, d = zip(*self.pending)
            _append(self.births, np.stack(b), self.n)
            _append(self.deaths, np.stack(d), self.n)
            self.n = _append(self.step, np.array(steps, np.int64), self.n)
            self.pending.clear()

    def publish(self) -> None:
        """Publish the number of complete rows."""
        if self.g is not None:
            self.g.attrs.modify("n_rows", np.int64(self.n))


# ----------------------------------------------------------------------------- reader

def _open_h5(path: str) -> h5py.File:
    """Open read-only without file locking (so a file being written, or killed, can be read)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    if os.path.isdir(path) or not h5py.is_hdf5(path):
        raise RunFileError(f"{path}: not an HDF5 file; expected a neurokit run file (HDF5, format={FORMAT!r})")
    try:
        try:
            return h5py.File(path, "r", locking=False)
        except TypeError:                                  # h5py < 3.5 has no locking kwarg
            return h5py.File(path, "r")
    except OSError as e:
        raise RunFileError(f"{path}: cannot be read as HDF5 ({e}); expected a neurokit run file") from e


def _check_format(path: str, f: h5py.File) -> int:
    """The file's format_version, or RunFileError saying what was expected."""
    fmt = f.attrs.get("format")
    if fmt != FORMAT:
        got = "no 'format' attribute" if fmt is None else f"format attribute {fmt!r}"
        raise RunFileError(f"{path}: not a neurokit run file ({got}; expected format={FORMAT!r})")
    v = f.attrs.get("format_version")
    if not _is_int(v) or int(v) < 1:
        raise RunFileError(f"{path}: invalid format_version {v!r}; expected a positive integer")
    if int(v) > FORMAT_VERSION:
        raise RunFileError(f"{path}: format_version {int(v)} is newer than this neurokit_bdh supports "
                           f"(format_version <= {FORMAT_VERSION}); upgrade neurokit_bdh to read it")
    return int(v)


def open_run(path) -> "RunFile":
    """Open a run file for reading (also one still being written, or killed mid-run)."""
    return RunFile(path)


class RunFile:
    """Read access to a run file; what the writer's last flush published is what is read."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._f = _open_h5(self.path)
        try:
            self.format_version = _check_format(self.path, self._f)
        except BaseException:
            self._f.close()
            raise

    def close(self) -> None:
        """Close the file."""
        self._f.close()

    def __enter__(self) -> "RunFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunFile({self.path!r}, status={self.status!r}, steps_done={self.steps_done}/{self.n_steps})"

    # -- header

    @property
    def spec(self) -> str:
        """The network spec (TOML text) the run was made from."""
        return self._f["spec"].asstr()[()]

    seed = property(lambda self: int(self._f.attrs["seed"]), doc="Seed of the run.")
    dt = property(lambda self: float(self._f.attrs["dt"]), doc="Time step in seconds.")
    n_steps = property(lambda self: int(self._f.attrs["n_steps"]), doc="Planned number of steps.")
    steps_done = property(lambda self: int(self._f.attrs["steps_done"]), doc="Steps complete at the last flush.")
    n_trials = property(lambda self: int(self._f.attrs["n_trials"]), doc="Number of trials (batch).")
    status = property(lambda self: str(self._f.attrs["status"]), doc='"running", "complete" or "failed".')
    created = property(lambda self: str(self._f.attrs["created"]), doc="ISO time the file was created (UTC).")

    @property
    def versions(self) -> dict[str, str]:
        """Package versions of the writing process."""
        return json.loads(self._f.attrs["versions"])

    @property
    def attrs(self) -> dict:
        """User attrs given to the writer."""
        return dict(self._f["meta"].attrs)

    @property
    def populations(self) -> dict[str, int]:
        """Population name -> size."""
        return {k: int(g.attrs["size"]) for k, g in self._f["populations"].items()}

    @property
    def projections(self) -> dict[str, tuple[str, str]]:
        """Projection name -> (pre, post) population names."""
        return {k: (str(g.attrs["pre"]), str(g.attrs["post"])) for k, g in self._f["projections"].items()}

    def population_data(self, pop: str, name: str) -> np.ndarray:
        """A per-neuron array stored with :meth:`RunWriter.add_population_data` (``is_exc``: 1 = excitatory)."""
        if pop not in self.populations:
            raise ValueError(f"{self.path}: no population {pop!r}; populations are {list(self.populations)}")
        g = self._f[f"populations/{pop}"]
        if name not in g:
            raise ValueError(f"{self.path}: population {pop!r} has no recorded {name!r} "
                             f"(has: {sorted(g) or 'nothing'})")
        return g[name][()]

    def state_vars(self) -> dict[str, list[str]]:
        """Population -> names of its recorded state variables."""
        return {p: list(g) for p, g in self._f["state"].items()}

    # -- spikes

    def _spike_segments(self, pop: str) -> list[tuple[list, int]]:
        """[(column readers, count)] for the compressed part and the tail of ``pop``'s events."""
        if pop not in self._f["spikes"]:
            raise ValueError(f"{self.path}: unknown population {pop!r} (known: {', '.join(self._f['spikes'])})")
        g = self._f["spikes"][pop]
        n_events, n_main, slot = (int(g.attrs[k]) for k in ("n_events", "n_main", "tail_slot"))
        main = [lambda a, b, c=c: g[c][a:b] for c in _SPIKE_COLS]
        tail = [lambda a, b, c=c: g["tail"][c][slot, a:b] for c in _SPIKE_COLS]
        return [(main, n_main), (tail, max(n_events - n_main, 0))]

    def n_events(self, pop: str) -> int:
        """Number of spike events of ``pop`` in the file."""
        return sum(n for _, n in self._spike_segments(pop))

    def iter_spikes(self, pop: str, chunk: int = 1_000_000):
        """Yield (trial, neuron, step) arrays of at most ``chunk`` events, in file order."""
        chunk = _check_int("iter_spikes", "chunk", chunk, 1)
        for cols, n in self._spike_segments(pop):
            for a in range(0, n, chunk):
                yield tuple(read(a, min(a + chunk, n)) for read in cols)

    def spikes(self, pop: str, trial: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (trial, neuron, step) events of ``pop`` in stored dtypes, optionally of one trial only."""
        segments = self._spike_segments(pop)
        if trial is None:
            parts = [tuple(read(0, n) for read in cols) for cols, n in segments]
        else:
            trial = _check_int("spikes", "trial", trial, 0, self.n_trials)
            parts = [tuple(read(0, 0) for read in segments[0][0])]       # typed empty arrays
            parts += [tuple(x[t == trial] for x in (t, n, s)) for t, n, s in self.iter_spikes(pop)]
        return tuple(np.concatenate(col) for col in zip(*parts))

    def spike_counts(self, pop: str, before_step: int | None = None) -> np.ndarray:
        """(n_trials, size) int64 spike counts (only of steps < before_step if given), streamed."""
        self._spike_segments(pop)                            # unknown population -> ValueError
        size = int(self._f["populations"][pop].attrs["size"])
        counts = np.zeros(self.n_trials * size, np.int64)
        for t, n, s in self.iter_spikes(pop):
            if before_step is not None:
                keep = s < before_step
                t, n = t[keep], n[keep]
            idx, c = np.unique(t.astype(np.int64) * size + n, return_counts=True)
            counts[idx] += c
        return counts.reshape(self.n_trials, size)

    # -- state, weights, structural

    def state(self, pop: str, var: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps (n,), values (n, n_trials, n_rec), neurons (n_rec,)) of a recorded state variable."""
        if var not in self.state_vars().get(pop, []):
            known = [f"{p}/{v}" for p, vs in self.state_vars().items() for v in vs]
            raise ValueError(f"{self.path}: no state {pop}/{var} recorded (recorded: {', '.join(known) or 'none'})")
        g = self._f["state"][pop][var]
        n = int(g.attrs["n_samples"])
        return g["steps"][:n], g["values"][:n], g["neurons"][()]

    def _proj_group(self, kind: str, proj: str) -> h5py.Group | None:
        """``<kind>/<proj>`` (None if nothing recorded); ValueError for an unknown projection."""
        if proj not in self._f["projections"]:
            raise ValueError(f"{self.path}: unknown projection {proj!r} "
                             f"(known: {', '.join(self._f['projections']) or 'none'})")
        return self._f[kind].get(proj)

    def weight_steps(self, proj: str) -> list[int]:
        """Steps of the weight snapshots of ``proj``, in order (snapshot k of :meth:`weights`)."""
        g = self._proj_group("weights", proj)
        return [] if g is None else [int(s) for s in g["step"][:int(g.attrs["n_snapshots"])]]

    def weights(self, proj: str, k: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
        """Snapshot ``k`` (negative counts from the end) of ``proj``: (step, indptr, indices, weights)."""
        g = self._proj_group("weights", proj)
        n = 0 if g is None else int(g.attrs["n_snapshots"])
        if n == 0:
            raise ValueError(f"{self.path}: projection {proj!r} has no weight snapshots")
        k = _check_int("weights", "snapshot index k", k, -n, n) % n
        indptr = g["indptr"][k]
        n_syn = int(indptr[-1])
        s0, v0 = int(g["indices_start"][k]), int(g["weights_start"][k])
        per_trial = bool(g["per_trial"][k])
        w = g["weights"][v0:v0 + n_syn * (self.n_trials if per_trial else 1)]
        if per_trial:
            w = w.reshape(self.n_trials, n_syn)
        return int(g["step"][k]), indptr, g["indices"][s0:s0 + n_syn], w

    def structural(self, proj: str) -> dict[str, np.ndarray]:
        """{"step": (n,), "births": (n,) or (n, n_trials), "deaths": same} of ``proj``."""
        g = self._proj_group("structural", proj)
        if g is None:
            return {k: np.zeros(0, np.int64) for k in ("step", "births", "deaths")}
        n = int(g.attrs["n_rows"])
        return {k: g[k][:n] for k in ("step", "births", "deaths")}

    # -- summary

    def _n_counted(self, pop: str) -> int:
        """Spikes of ``pop`` in completed steps (all of them in a complete run)."""
        if self.status == "complete":
            return self.n_events(pop)
        done = self.steps_done
        return sum(int(np.count_nonzero(s < done)) for _, _, s in self.iter_spikes(pop))

    def summary(self) -> dict:
        """Header, per-population spikes and mean rates (Hz), per-projection snapshots (for ``neurokit info``)."""
        T = self.steps_done * self.dt                        # simulated seconds per trial
        pops = {}
        for name, size in self.populations.items():
            n = self._n_counted(name)
            pops[name] = {"size": size, "spikes": n, "rate_hz": n / (size * self.n_trials * T) if T > 0 else None}
        projs = {}
        for name, (pre, post) in self.projections.items():
            st = self.structural(name)
            projs[name] = {"pre": pre, "post": post, "snapshots": len(self.weight_steps(name)),
                           "structural_rows": len(st["step"]),
                           "births": int(st["births"].sum()), "deaths": int(st["deaths"].sum())}
        return {"path": self.path, "format_version": self.format_version, "status": self.status,
                "seed": self.seed, "dt": self.dt, "n_steps": self.n_steps, "steps_done": self.steps_done,
                "n_trials": self.n_trials, "duration_s": T, "created": self.created, "versions": self.versions,
                "populations": pops, "projections": projs, "state": self.state_vars()}
