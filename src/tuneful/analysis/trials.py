"""A study's trials as typed columns: what importance and every plot of a study read.

:class:`StudyData` is a study frozen at one moment (its name, directions, space and trials),
made from a live :class:`~tuneful.study.Study` with :meth:`StudyData.of` or from records a
reader already holds (the dashboard keeps one per study and refreshes it from new events).

:func:`trial_table` turns it into one :class:`Column` per parameter, with the parameter's
kind, scale and range, and the value of every selected trial, ``NaN`` where the parameter
is inactive (a conditional branch not taken) or missing. Nothing here draws or fits.

Where the parameters' definitions come from, first found first:

1. the study's declared space;
2. define-by-run studies: each parameter's latest definition among the trials;
3. parameters no definition covers (enqueued by hand, or a damaged log): read off the
   values — numbers become a ``float`` column over the range seen, anything else a
   ``categorical`` one with the choices seen, in order of first appearance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful._parameters import Categorical, Fixed, Float, Int, Parameter
from tuneful._validation import is_real
from tuneful.errors import SpaceError, StudyError
from tuneful.records import TrialRecord, TrialState

if TYPE_CHECKING:
    from tuneful.space import Space
    from tuneful.study import Study

__all__ = ["StudyData", "Column", "TrialTable", "as_study_data", "trial_table"]


@dataclass(frozen=True)
class StudyData:
    """A study as read at one moment: everything an analysis or a plot needs, no storage."""

    name: str
    directions: tuple[str, ...]
    trials: tuple[TrialRecord, ...]
    space: Space | None = None

    @classmethod
    def of(cls, study: Study) -> StudyData:
        """Read ``study``'s trials now (one read of its storage)."""
        return cls(study.name, tuple(study.directions), tuple(study.trials), study.space)

    @property
    def n_objectives(self) -> int:
        return len(self.directions)

    def definitions(self) -> dict[str, Parameter]:
        """Every non-fixed parameter of the study, by name, in a stable order (see module)."""
        found: dict[str, Parameter] = {}
        if self.space is not None:
            found.update(self.space.items())
        else:
            for trial in self.trials:
                for name, spec in trial.distributions.items():
                    try:
                        found[name] = Parameter.from_dict(spec)
                    except SpaceError:  # a definition this release cannot read: infer it
                        continue
        seen: dict[str, list[Any]] = {}
        for trial in self.trials:
            for name, value in trial.params.items():
                if name not in found:
                    seen.setdefault(name, []).append(value)
        for name, values in seen.items():
            found[name] = _inferred(values)
        return {name: p for name, p in found.items() if not isinstance(p, Fixed)}


def as_study_data(study: Study | StudyData) -> StudyData:
    """``study`` itself when it is already a :class:`StudyData`, else a fresh reading of it."""
    return study if isinstance(study, StudyData) else StudyData.of(study)


def _inferred(values: Sequence[Any]) -> Parameter:
    numbers = [float(v) for v in values if is_real(v) and math.isfinite(float(v))]
    if len(numbers) == len(values) and numbers:
        low, high = min(numbers), max(numbers)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return Int(int(low), int(high) if high > low else int(low) + 1)
        return Float(low, high if high > low else low + 1.0)
    choices: list[Any] = []
    for value in values:
        plain = value if value is None or isinstance(value, (str, int, float, bool)) else str(value)
        if not any(type(plain) is type(c) and plain == c for c in choices):
            choices.append(plain)
    return Categorical(choices)


@dataclass(frozen=True)
class Column:
    """One parameter over the selected trials.

    Attributes:
        name: the parameter's name.
        kind: ``"float"``, ``"int"`` or ``"categorical"``.
        log: whether the parameter is searched on a log scale (plots use a log axis).
        low / high: the declared range (numeric kinds), else None.
        choices: the declared choices (categorical), else ``()``.
        values: one float per trial: the value (numeric kinds) or the index of the choice
            (categorical); ``NaN`` where the parameter is inactive or its value is not one the
            definition admits (a range narrowed later, a hand-edited value).
        raw: one value per trial as stored (``None`` where inactive).
    """

    name: str
    kind: str
    log: bool
    low: float | None
    high: float | None
    choices: tuple[Any, ...]
    values: np.ndarray
    raw: tuple[Any, ...]

    @property
    def active(self) -> np.ndarray:
        """Where the parameter has a value (a boolean mask over the trials)."""
        return ~np.isnan(self.values)

    @property
    def is_categorical(self) -> bool:
        return self.kind == "categorical"

    def unit(self) -> np.ndarray:
        """The values mapped to [0, 1] on the parameter's own scale (log when ``log``); a
        categorical choice i of k sits at the centre of its cell, (i + 0.5) / k."""
        if self.is_categorical:
            return (self.values + 0.5) / max(len(self.choices), 1)
        assert self.low is not None and self.high is not None
        low, high, x = self.low, self.high, self.values
        if self.log:
            low, high = math.log(low), math.log(high)
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.log(np.where(x > 0, x, np.nan))
        return (x - low) / (high - low)

    def label(self, index: int) -> str:
        """The name of choice ``index`` (categorical), as a plot writes it."""
        return str(self.choices[index])


@dataclass(frozen=True)
class TrialTable:
    """The selected trials of a study, as rows, with one :class:`Column` per parameter.

    Attributes:
        study: what the table was read from.
        trials: the rows, in trial-number order.
        columns: one column per parameter, in the study's order.
        values: ``(n_trials, n_objectives)`` objective values, ``NaN`` where a trial has none.
    """

    study: StudyData
    trials: tuple[TrialRecord, ...]
    columns: dict[str, Column]
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def numbers(self) -> np.ndarray:
        return np.array([t.number for t in self.trials], dtype=int)

    def objective(self, index: int = 0, *, minimize: bool = False) -> np.ndarray:
        """Objective ``index`` of every row; with ``minimize=True``, negated for maximized
        objectives so that lower is always better."""
        if not 0 <= index < self.study.n_objectives:
            raise StudyError(
                f"objective={index!r} is out of range: study {self.study.name!r} has "
                f"{self.study.n_objectives} objective(s), numbered from 0"
            )
        column = self.values[:, index].copy()
        if minimize and self.study.directions[index] == "maximize":
            column = -column
        return column


def trial_table(
    study: Study | StudyData,
    *,
    states: Iterable[TrialState | str] = (TrialState.COMPLETE,),
    params: Sequence[str] | None = None,
) -> TrialTable:
    """The trials of ``study`` in ``states`` (completed ones by default) as typed columns.

    Args:
        study: a study, or a :class:`StudyData` read earlier.
        states: which trials are rows.
        params: the parameters to keep, in this order (default: all but fixed ones).

    Raises:
        StudyError: a name in ``params`` is not a parameter of the study (the message lists
            the study's parameters), or ``states`` names an unknown state.
    """
    data = as_study_data(study)
    try:
        wanted = {TrialState(s) for s in states}
    except ValueError:
        known = [s.value for s in TrialState]
        raise StudyError(f"states={list(states)!r}: expected some of {known}") from None
    rows = tuple(t for t in data.trials if t.state in wanted)
    definitions = data.definitions()
    if params is not None:
        unknown = [p for p in params if p not in definitions]
        if unknown:
            raise StudyError(
                f"params={list(params)!r}: {unknown} are not parameters of study {data.name!r} "
                f"(it has {sorted(definitions)})"
            )
        definitions = {name: definitions[name] for name in params}
    columns = {name: _column(name, p, rows) for name, p in definitions.items()}
    values = np.full((len(rows), data.n_objectives), np.nan)
    for i, trial in enumerate(rows):
        if trial.values is not None and len(trial.values) == data.n_objectives:
            values[i] = trial.values
    return TrialTable(data, rows, columns, values)


def _column(name: str, parameter: Parameter, rows: Sequence[TrialRecord]) -> Column:
    raw: tuple[Any, ...] = tuple(t.params.get(name) for t in rows)
    present = [name in t.params for t in rows]
    numeric = np.full(len(rows), np.nan)
    if isinstance(parameter, Categorical):
        index = _choice_index(parameter.choices)
        for i, (value, here) in enumerate(zip(raw, present, strict=True)):
            if here:
                numeric[i] = index.get(_choice_key(value), np.nan)
        return Column(name, "categorical", False, None, None, parameter.choices, numeric, raw)
    assert isinstance(parameter, (Float, Int))
    low, high = float(parameter.low), float(parameter.high)
    for i, (value, here) in enumerate(zip(raw, present, strict=True)):
        if here and is_real(value) and low <= float(value) <= high:
            numeric[i] = float(value)
    kind = "int" if isinstance(parameter, Int) else "float"
    return Column(name, kind, bool(parameter.log), low, high, (), numeric, raw)


def _choice_key(value: Any) -> tuple[str, Any]:
    # True and 1 are different choices; a key that keeps the type apart keeps them apart
    try:
        hash(value)
    except TypeError:
        return ("unhashable", repr(value))
    return (type(value).__name__, value)


def _choice_index(choices: Iterable[Any]) -> Mapping[tuple[str, Any], int]:
    return {_choice_key(choice): i for i, choice in enumerate(choices)}
