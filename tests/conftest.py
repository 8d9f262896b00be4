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
