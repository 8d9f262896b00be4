"""Test policy: in CI (CI=true) a missing optional dependency fails the test; only `gpu` tests may skip."""
import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(module: str):
    """Import an optional dependency: skip locally without it, fail in CI."""
    if IN_CI:
        return __import__(module)
    return pytest.importorskip(module)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test that is not marked gpu counts as failed."""
    outcome = yield
    rep = outcome.get_result()
    if IN_CI and rep.skipped and item.get_closest_marker("gpu") is None:
        rep.outcome = "failed"
        rep.longrepr = f"skipped in CI, where only gpu tests may skip: {rep.longrepr}"


SMA_SPEC = os.path.join(os.path.dirname(__file__), "..", "topologies", "song_miller_abbott.toml")


@pytest.fixture(scope="session")
def sma_run(tmp_path_factory):
    """The shipped Song–Miller–Abbott spec simulated once (150 s, ~40 s wall): (run file, RunResult).
    Shared by the plasticity test (weights go bimodal) and the analysis test (reported bimodal)."""
    from neurokit_bdh.simulate import simulate
    path = tmp_path_factory.mktemp("sma") / "sma.h5"
    return path, simulate(SMA_SPEC, path, compile=False)


@pytest.fixture(scope="session")
def multiplicative_run(tmp_path_factory):
    """The same neuron and inputs with multiplicative STDP, A- = 2 A+, 10 s: (run file, RunResult)."""
    from neurokit_bdh.graph.spec import load_spec
    from neurokit_bdh.simulate import simulate
    spec = load_spec(SMA_SPEC)
    p = spec.projections[0]
    p.plasticity = dict(p.plasticity, kind="multiplicative", a_minus=2.0 * p.plasticity["a_plus"])
    path = tmp_path_factory.mktemp("mult") / "mult.h5"
    return path, simulate(spec, path, duration=10.0, compile=False)
