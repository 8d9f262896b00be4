"""The README's API example runs as written (a README that lies is a bug)."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(code, str(README), "exec"), ns)
    assert 1.0 < ns["result"].rate("net") < 50.0
    assert len(ns["neuron"]) > 1000 and (tmp_path / "run.h5").exists()
