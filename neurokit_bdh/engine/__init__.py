"""Simulation engines. ``native``: event-driven torch engine (CPU/CUDA)."""
from .native import NativeEngine, RunResult

ENGINES = {"native": NativeEngine}

__all__ = ["ENGINES", "NativeEngine", "RunResult"]
