"""Optuna's distributions and tuneful's parameter specs, each way.

Reading Optuna's objects needs only their attributes (``low``, ``high``, ``log``, ``step``,
``choices``) and class names, so this module imports no Optuna: the compatibility layer's own
distribution classes and Optuna's convert alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tuneful.errors import SpaceError
from tuneful.space import Space

__all__ = ["spec_of", "distribution_args"]

_SCALARS = (str, int, float, bool, type(None))


def _float_spec(dist: Any) -> dict[str, Any]:
    low, high = float(dist.low), float(dist.high)
    if low == high:  # Optuna allows a single value; tuneful calls it Fixed
        return {"type": "fixed", "value": low}
    spec: dict[str, Any] = {"type": "float", "low": low, "high": high}
    if getattr(dist, "log", False):
        spec["log"] = True
    step = getattr(dist, "step", None)
    if step is not None:
        spec["step"] = float(step)
    return spec


def _int_spec(dist: Any) -> dict[str, Any]:
    low, high = int(dist.low), int(dist.high)
    if low == high:
        return {"type": "fixed", "value": low}
    spec: dict[str, Any] = {"type": "int", "low": low, "high": high}
    if getattr(dist, "log", False):
        spec["log"] = True
    step = int(getattr(dist, "step", 1) or 1)
    if step != 1:
        spec["step"] = step
    return spec


def _categorical_spec(dist: Any) -> dict[str, Any]:
    choices = list(dist.choices)
    if len(choices) == 1:
        return {"type": "fixed", "value": choices[0]}
    return {"type": "categorical", "choices": choices}


_READERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "FloatDistribution": _float_spec,
    "UniformDistribution": _float_spec,
    "LogUniformDistribution": lambda d: {**_float_spec(d), "log": True},
    "DiscreteUniformDistribution": lambda d: _float_spec(_Stepped(d.low, d.high, d.q)),
    "IntDistribution": _int_spec,
    "IntUniformDistribution": _int_spec,
    "IntLogUniformDistribution": lambda d: {**_int_spec(d), "log": True},
    "CategoricalDistribution": _categorical_spec,
}


class _Stepped:
    def __init__(self, low: float, high: float, step: float) -> None:
        self.low, self.high, self.step, self.log = low, high, step, False


def spec_of(name: str, distribution: Any) -> dict[str, Any]:
    """The tuneful spec (``Float(...).to_dict()``) of an Optuna distribution of ``name``.

    Raises:
        SpaceError: a distribution tuneful has no parameter for, or one it refuses (e.g. a
            categorical choice that is not a str, int, float, bool or None), naming both.
    """
    reader = _READERS.get(type(distribution).__name__)
    if reader is None:
        raise SpaceError(
            f"parameter {name!r}: {distribution!r} is not a distribution tuneful can read "
            f"(expected one of {sorted(_READERS)})"
        )
    spec = reader(distribution)
    try:
        return Space.from_dict({name: spec})[name].to_dict()
    except SpaceError as exc:
        raise SpaceError(f"{exc} (Optuna's {distribution!r})") from None


def distribution_args(name: str, spec: Mapping[str, Any], value: Any) -> tuple[str, dict]:
    """The Optuna distribution for a tuneful spec: its class name and keyword arguments.

    A ``fixed`` parameter becomes a one-value distribution of the value's type; a parameter's
    condition (``when``) has no Optuna form and is left out (the trial's parameters say which
    were active).

    Raises:
        SpaceError: a parameter type Optuna has no distribution for, or a categorical choice
            Optuna cannot store.
    """
    kind = spec.get("type")
    if kind == "float":
        return "FloatDistribution", {
            "low": spec["low"],
            "high": spec["high"],
            "log": bool(spec.get("log", False)),
            "step": spec.get("step"),
        }
    if kind == "int":
        return "IntDistribution", {
            "low": spec["low"],
            "high": spec["high"],
            "log": bool(spec.get("log", False)),
            "step": int(spec.get("step", 1)),
        }
    if kind == "categorical":
        choices = list(spec["choices"])
        bad = [c for c in choices if not isinstance(c, _SCALARS)]
        if bad:
            raise SpaceError(
                f"parameter {name!r}: choice {bad[0]!r} cannot be stored by Optuna (expected "
                "str, int, float, bool or None)"
            )
        return "CategoricalDistribution", {"choices": tuple(choices)}
    if kind == "fixed":
        fixed = spec.get("value", value)
        if isinstance(fixed, bool) or not isinstance(fixed, int | float):
            return "CategoricalDistribution", {"choices": (fixed,)}
        if isinstance(fixed, int):
            return "IntDistribution", {"low": fixed, "high": fixed, "log": False, "step": 1}
        return "FloatDistribution", {"low": fixed, "high": fixed, "log": False, "step": None}
    raise SpaceError(
        f"parameter {name!r}: a {kind!r} parameter has no Optuna distribution (expected float, "
        "int, categorical or fixed)"
    )
