"""Optuna's value objects for the compatibility layer: trial states, study directions,
distributions, frozen trials, ``create_trial`` and ``TrialPruned``."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tuneful.compat._distributions import distribution_args, spec_of
from tuneful.compat._write import FinishedTrial
from tuneful.errors import TrialError
from tuneful.records import TrialRecord
from tuneful.records import TrialState as NativeState
from tuneful.trial import Pruned

__all__ = [
    "TrialState",
    "StudyDirection",
    "FloatDistribution",
    "IntDistribution",
    "CategoricalDistribution",
    "FrozenTrial",
    "TrialPruned",
    "create_trial",
    "frozen_of",
    "finished_of",
    "distribution_of",
]


class TrialPruned(Pruned):
    """Raise it in an objective to prune the trial (recorded as PRUNED with its curve); it is
    :class:`tuneful.Pruned`, so tuneful's own loop treats it alike."""


class TrialState(enum.IntEnum):
    """Optuna's trial states (same names and numbers)."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def __repr__(self) -> str:
        return f"TrialState.{self.name}"

    def is_finished(self) -> bool:
        return self not in (TrialState.RUNNING, TrialState.WAITING)


class StudyDirection(enum.IntEnum):
    """Optuna's study directions."""

    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2


class _Distribution:
    _fields: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, *(repr(getattr(self, f)) for f in self._fields)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({shown})"


class FloatDistribution(_Distribution):
    _fields = ("low", "high", "log", "step")

    def __init__(
        self, low: float, high: float, log: bool = False, step: float | None = None
    ) -> None:
        self.low, self.high, self.log, self.step = float(low), float(high), bool(log), step


class IntDistribution(_Distribution):
    _fields = ("low", "high", "log", "step")

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1) -> None:
        self.low, self.high, self.log, self.step = int(low), int(high), bool(log), int(step)


class CategoricalDistribution(_Distribution):
    _fields = ("choices",)

    def __init__(self, choices: Sequence[Any]) -> None:
        self.choices = tuple(choices)


_CLASSES: dict[str, type[_Distribution]] = {
    "FloatDistribution": FloatDistribution,
    "IntDistribution": IntDistribution,
    "CategoricalDistribution": CategoricalDistribution,
}


def distribution_of(name: str, spec: Mapping[str, Any], value: Any) -> Any:
    """The compatibility layer's distribution for a tuneful parameter spec."""
    kind, kwargs = distribution_args(name, spec, value)
    return _CLASSES[kind](**kwargs)


def _local(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds)


class FrozenTrial:
    """A finished (or running) trial as Optuna shows it; built from a tuneful TrialRecord or by
    :func:`create_trial`. ``constraints`` is a dict, as in Optuna 5."""

    def __init__(
        self,
        *,
        number: int,
        state: TrialState,
        values: Sequence[float] | None,
        params: Mapping[str, Any],
        distributions: Mapping[str, Any],
        user_attrs: Mapping[str, Any],
        system_attrs: Mapping[str, Any],
        intermediate_values: Mapping[int, float],
        datetime_start: datetime | None,
        datetime_complete: datetime | None,
        constraints: Mapping[str, float] | None = None,
    ) -> None:
        self.number = number
        self._trial_id = number
        self.state = state
        self.values = None if values is None else list(values)
        self.params = dict(params)
        self.distributions = dict(distributions)
        self.user_attrs = dict(user_attrs)
        self.system_attrs = dict(system_attrs)
        self.intermediate_values = dict(intermediate_values)
        self.datetime_start = datetime_start
        self.datetime_complete = datetime_complete
        self.constraints = dict(constraints or {})

    @property
    def value(self) -> float | None:
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise RuntimeError(
                "this trial has several values: read trial.values (a multi-objective study)"
            )
        return self.values[0]

    @property
    def duration(self) -> timedelta | None:
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate_values) if self.intermediate_values else None

    def __repr__(self) -> str:
        return (
            f"FrozenTrial(number={self.number}, state={self.state!r}, values={self.values}, "
            f"params={self.params})"
        )


def frozen_of(record: TrialRecord, space: Any = None) -> FrozenTrial:
    """The FrozenTrial of a tuneful trial record."""
    distributions = {}
    for name, value in record.params.items():
        spec = record.distributions.get(name)
        if spec is None and space is not None and name in space:
            spec = space[name].to_dict()
        distributions[name] = distribution_of(
            name, spec or {"type": "fixed", "value": value}, value
        )
    return FrozenTrial(
        number=record.number,
        state=TrialState[record.state.value],
        values=record.values,
        params=record.params,
        distributions=distributions,
        user_attrs=record.user_attrs,
        system_attrs=record.system_attrs,
        intermediate_values=record.intermediate,
        datetime_start=_local(record.started_at),
        datetime_complete=_local(record.finished_at),
        constraints={str(i): c for i, c in enumerate(record.constraints or ())},
    )


def create_trial(
    *,
    state: TrialState = TrialState.COMPLETE,
    value: float | None = None,
    values: Sequence[float] | None = None,
    params: Mapping[str, Any] | None = None,
    distributions: Mapping[str, Any] | None = None,
    user_attrs: Mapping[str, Any] | None = None,
    system_attrs: Mapping[str, Any] | None = None,
    intermediate_values: Mapping[int, float] | None = None,
    constraints: Mapping[str, float] | None = None,
) -> FrozenTrial:
    """A trial to give to ``study.add_trial`` (Optuna's ``optuna.trial.create_trial``).

    Raises:
        TrialError: both ``value`` and ``values``; a COMPLETE trial without a value, or a
            FAIL one with one; a parameter without a distribution.
    """
    if value is not None and values is not None:
        raise TrialError("create_trial: give value= or values=, not both")
    told = [value] if value is not None else None if values is None else list(values)
    state = TrialState(state)
    if state is TrialState.COMPLETE and told is None:
        raise TrialError("create_trial(state=COMPLETE) needs value= or values=")
    if state is TrialState.FAIL and told is not None:
        raise TrialError(f"create_trial(state=FAIL) takes no value (got {told})")
    params, distributions = dict(params or {}), dict(distributions or {})
    missing = [name for name in params if name not in distributions]
    if missing:
        raise TrialError(
            f"create_trial: parameter {missing[0]!r} has no distribution (give "
            "distributions={name: FloatDistribution(...), ...} for every parameter)"
        )
    now = datetime.now()
    return FrozenTrial(
        number=-1,
        state=state,
        values=told,
        params=params,
        distributions=distributions,
        user_attrs=user_attrs or {},
        system_attrs=system_attrs or {},
        intermediate_values=intermediate_values or {},
        datetime_start=None if state is TrialState.WAITING else now,
        datetime_complete=now if state.is_finished() else None,
        constraints=constraints,
    )


def finished_of(trial: FrozenTrial) -> FinishedTrial:
    """What ``study.add_trial`` writes for a FrozenTrial.

    Raises:
        TrialError: a RUNNING trial (it cannot be added: nothing would finish it), a value
            that is not finite, or a distribution tuneful cannot read.
    """
    if trial.state is TrialState.RUNNING:
        raise TrialError("add_trial: a RUNNING trial cannot be added (nothing would finish it)")
    state = NativeState(trial.state.name)
    values = None if trial.values is None else [float(v) for v in trial.values]
    if state is not NativeState.COMPLETE:
        values = None  # tuneful keeps a stopped trial's evidence in its curve only
    if values is not None and not all(math.isfinite(v) for v in values):
        raise TrialError(f"add_trial: values {values} are not all finite")
    try:
        specs = {name: spec_of(name, d) for name, d in trial.distributions.items()}
    except ValueError as exc:
        raise TrialError(f"add_trial: {exc}") from None
    return FinishedTrial(
        state=state,
        params=trial.params,
        distributions=specs,
        values=values,
        intermediate=trial.intermediate_values,
        user_attrs=trial.user_attrs,
        system_attrs=trial.system_attrs,
        constraints=list(trial.constraints.values()) or None,
    )
