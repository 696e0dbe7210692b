"""Read a ConfigSpace JSON document (``json_format_version`` 0.2) into tuneful parameters.

Only what benchmark spaces use is read: ``uniform_float``, ``uniform_int``, ``categorical``,
``ordinal`` and ``constant`` hyperparameters (bounds, log flags and defaults kept), and
``EQ`` / ``IN`` conditions, alone or joined by ``AND`` (they become ``when=`` conditions).
Anything else (``OR``, ``NEQ``, ``LT``, ``GT``, forbidden clauses, normal distributions)
cannot be expressed in a tuneful space and is an error rather than silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from tuneful.bench.tasks._common import TaskError
from tuneful.space import Categorical, Fixed, Float, Int, Parameter

__all__ = ["Hyperparameter", "read_hyperparameters", "read_conditions", "to_parameters"]


@dataclass(frozen=True)
class Hyperparameter:
    """One hyperparameter of the document, as written there."""

    name: str
    type: str
    lower: float = math.nan
    upper: float = math.nan
    log: bool = False
    choices: tuple[Any, ...] = ()
    default: Any = None

    @property
    def is_integer(self) -> bool:
        return self.type == "uniform_int"


def read_hyperparameters(document: Mapping[str, Any], source: str) -> dict[str, Hyperparameter]:
    """Name -> hyperparameter, in document order.

    Raises:
        TaskError: a type tuneful cannot represent (named with the hyperparameter).
    """
    found: dict[str, Hyperparameter] = {}
    for entry in document.get("hyperparameters", []):
        name, kind = entry["name"], entry["type"]
        if kind in ("uniform_float", "uniform_int"):
            found[name] = Hyperparameter(
                name,
                kind,
                lower=entry["lower"],
                upper=entry["upper"],
                log=bool(entry.get("log", False)),
                default=entry.get("default"),
            )
        elif kind in ("categorical", "ordinal"):
            choices = entry["choices"] if kind == "categorical" else entry["sequence"]
            found[name] = Hyperparameter(
                name, kind, choices=tuple(choices), default=entry.get("default")
            )
        elif kind == "constant":
            found[name] = Hyperparameter(
                name, kind, choices=(entry["value"],), default=entry["value"]
            )
        else:
            raise TaskError(
                f"{source}: hyperparameter {name!r} has type {kind!r}; supported types are "
                "uniform_float, uniform_int, categorical, ordinal and constant"
            )
    return found


def read_conditions(document: Mapping[str, Any], source: str) -> dict[str, dict[str, list[Any]]]:
    """Child name -> ``when`` mapping (parent -> allowed values).

    Raises:
        TaskError: a condition type that a ``when`` mapping cannot express, or forbidden
            clauses (tuneful spaces have none).
    """
    if document.get("forbiddens"):
        raise TaskError(
            f"{source}: the space has forbidden clauses, which tuneful spaces cannot express"
        )
    when: dict[str, dict[str, list[Any]]] = {}
    for condition in document.get("conditions", []):
        parts = condition["conditions"] if condition["type"] == "AND" else [condition]
        for part in parts:
            child, parent, values = _clause(part, source)
            allowed = when.setdefault(child, {})
            if parent in allowed:  # two clauses on one parent: both must hold
                values = [v for v in allowed[parent] if v in values]
            allowed[parent] = values
    return when


def _clause(clause: Mapping[str, Any], source: str) -> tuple[str, str, list[Any]]:
    """(child, parent, allowed values) of an EQ or IN clause."""
    kind = clause["type"]
    if kind == "EQ":
        return clause["child"], clause["parent"], [clause["value"]]
    if kind == "IN":
        return clause["child"], clause["parent"], list(clause["values"])
    nested = clause.get("conditions") or [{}]
    child = clause.get("child", nested[0].get("child"))
    raise TaskError(
        f"{source}: condition on {child!r} has type {kind!r}; only EQ and IN, alone or "
        "joined by AND, can be expressed as tuneful when= conditions"
    )


def to_parameters(
    hyperparameters: Mapping[str, Hyperparameter],
    conditions: Mapping[str, Mapping[str, list[Any]]],
    *,
    exclude: Collection[str],
    source: str,
) -> dict[str, Parameter]:
    """Tuneful parameters for every hyperparameter not in ``exclude``, in document order.

    Raises:
        TaskError: a condition names an excluded parent (its value would be fixed, so the
            condition is not part of the search), or the parameter cannot be built.
    """
    params: dict[str, Parameter] = {}
    for name, hyper in hyperparameters.items():
        if name in exclude:
            continue
        when = dict(conditions.get(name, {}))
        fixed_parents = [parent for parent in when if parent in exclude]
        if fixed_parents:
            raise TaskError(
                f"{source}: {name!r} is conditional on {fixed_parents[0]!r}, which the task "
                "fixes; such spaces are not supported"
            )
        try:
            params[name] = _parameter(hyper, when or None)
        except ValueError as exc:
            raise TaskError(f"{source}: hyperparameter {name!r}: {exc}") from None
    return params


def _parameter(hyper: Hyperparameter, when: dict[str, list[Any]] | None) -> Parameter:
    if hyper.type == "uniform_float":
        return Float(hyper.lower, hyper.upper, log=hyper.log, default=hyper.default, when=when)
    if hyper.type == "uniform_int":
        return Int(
            int(hyper.lower), int(hyper.upper), log=hyper.log, default=hyper.default, when=when
        )
    if hyper.type == "constant":
        return Fixed(hyper.choices[0], when=when)
    return Categorical(hyper.choices, default=hyper.default, when=when)
