"""What every neuron model provides, and the shared bits of parameter checking and time stepping."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Callable, NamedTuple

import torch


def check(ok: bool, field: str, value: Any, expected: str) -> None:
    """Raise ``ValueError`` naming the field, its bad value and what was expected."""
    if not ok:
        raise ValueError(f"{field}: expected {expected}, got {value!r}")


def check_positive(obj: Any, *names: str, allow_zero: bool = False) -> None:
    for name in names:
        value = getattr(obj, name)
        ok = isinstance(value, (int, float)) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
        check(ok, name, value, "a finite number >= 0" if allow_zero else "a finite number > 0 (seconds)")


def check_finite(obj: Any, *names: str) -> None:
    for name in names:
        value = getattr(obj, name)
        check(isinstance(value, (int, float)) and math.isfinite(value), name, value, "a finite number")


def check_choice(obj: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(obj, name)
    check(value in choices, name, value, f"one of {choices}")


def params_from_dict(cls: type, values: dict[str, Any], where: str = "") -> Any:
    """Build a parameter dataclass from a mapping, naming unknown keys (e.g. from a TOML table)."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}{unknown[0]}: unknown parameter for {cls.__name__}; expected one of {sorted(known)}")
    return cls(**values)


def blend(a: torch.Tensor, b, mask: torch.Tensor) -> torch.Tensor:
    """``a`` where the float 0/1 ``mask`` is 0, ``b`` where it is 1 (exactly, gradients through all three).

    Eager: torch.lerp, one fused op (on CPUs comparisons and torch.where are several times slower than float
    arithmetic). Inside torch.compile, where the mask carries no gradient: torch.where, which Inductor turns
    into one select instead of lerp's two-branch formula.
    """
    if torch.compiler.is_compiling() and not mask.requires_grad:
        return torch.where(mask != 0, b, a)
    return torch.lerp(a, b, mask)


def decay(dt: float, tau: float) -> float:
    """exp(−dt/τ); τ = 0 means an instantaneous variable (decays to 0 within one step)."""
    return math.exp(-dt / tau) if tau > 0 else 0.0


@dataclass(frozen=True)
class NeuronModel:
    """A neuron model as the engines see it: every function here is the model's only copy of its math.

    ``discretise(params, dt)`` turns parameters into per-step coefficients once; ``step(x, state,
    coef, i_ext, surrogate)`` advances one step of ``dt`` and returns ``(spikes, new_state)``.
    """

    name: str
    params: type
    state: type
    discretise: Callable[[Any, float], NamedTuple]
    init_state: Callable[..., NamedTuple]
    step: Callable[..., tuple[torch.Tensor, NamedTuple]]
    shortest_tau: Callable[[Any], float]


def scan(step: Callable, x: torch.Tensor, state, record: Callable | None = None):
    """The one time loop: ``step(x[t], state) -> (out_t, state)`` for t = 0..T-1 over a time-major ``x``.

    Returns ``(out (T, ...), state)``, or ``(out, rec (T, ...), state)`` where ``record(state)`` is stacked
    after every step. Differentiable when ``step`` is.
    """
    if x.dim() < 2:
        raise ValueError(f"x: expected a time-major tensor (T, ...), got shape {tuple(x.shape)}")
    outs, recs = [], []
    for t in range(x.shape[0]):
        out, state = step(x[t], state)
        outs.append(out)
        if record is not None:
            recs.append(record(state))
    if record is not None:
        return torch.stack(outs), torch.stack(recs), state
    return torch.stack(outs), state


def run_steps(model: NeuronModel, x: torch.Tensor, state: NamedTuple, coef: NamedTuple,
              i_ext=None, surrogate: str | None = None):
    """Multi-step form: feed a time-major input ``x`` of shape (T, B, N); return spikes (T, B, N) and the final state.

    ``i_ext``: None, one current for every step, or a sequence of T per-step currents (each may be None).
    Differentiable end to end when ``surrogate`` names a surrogate gradient.
    """
    if isinstance(i_ext, (list, tuple)):
        currents = iter(i_ext)
        return scan(lambda xt, s: model.step(xt, s, coef, i_ext=next(currents), surrogate=surrogate), x, state)
    return scan(lambda xt, s: model.step(xt, s, coef, i_ext=i_ext, surrogate=surrogate), x, state)
