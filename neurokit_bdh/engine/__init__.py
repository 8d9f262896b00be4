"""Simulation engines. ``native``: event-driven torch engine (CPU/CUDA); ``brian2``: Brian2 renderer
(imported lazily: ``import neurokit_bdh.engine`` never imports brian2)."""
from .native import NativeEngine, RunResult


def Brian2Engine(*args, **kwargs):
    """Lazy constructor of :class:`neurokit_bdh.engine.brian2_engine.Brian2Engine` (needs the brian2 extra:
    ``pip install 'neurokit-bdh[brian2]'``)."""
    from .brian2_engine import Brian2Engine as _Brian2Engine
    return _Brian2Engine(*args, **kwargs)


ENGINES = {"native": NativeEngine, "brian2": Brian2Engine}

__all__ = ["ENGINES", "NativeEngine", "RunResult", "Brian2Engine"]
