"""Every numbered example runs end to end in fast mode (as a user would run it) and writes its figures."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("[0-9]*.py"))
TIMEOUT_S = 60  # per script in fast mode; each takes a few seconds on the 2-core machine


def test_examples_exist():
    assert len(EXAMPLES) >= 7, [p.name for p in EXAMPLES]


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_fast(script, tmp_path):
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NEUROKIT_FAST="1", MPLBACKEND="Agg")
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, str(script), "--fast", "--out", str(out)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=TIMEOUT_S)
    wall = time.perf_counter() - t0
    assert r.returncode == 0, f"{script.name} failed after {wall:.1f} s:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    pngs = [p for p in out.glob("*.png") if p.stat().st_size > 1000]
    assert pngs, f"{script.name} wrote no PNG into {out}: {sorted(p.name for p in out.iterdir())}"
    assert "(fast mode)" in r.stdout  # the script saw --fast
    assert not any(tmp_path.glob("out/examples")), "--out was ignored"
