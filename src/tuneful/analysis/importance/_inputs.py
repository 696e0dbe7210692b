"""What both importance methods read: the completed trials as positions in the unit cube,
with where each parameter is active, and the objective with lower always better.

Every parameter sits in [0, 1] on its own scale, so that the uniform measure over the cube is
the uniform measure over the search space:

- a float: :meth:`Column.unit` (log-aware);
- an int on a linear scale with at most ``MAX_CELLS`` values: its ``i``-th value of ``k``
  (``low + i · step``) sits at the centre of its cell, ``(i + 0.5) / k``, each value owning
  ``1 / k`` of the axis (the ends are not halved); larger or log-scaled ints are treated as
  floats;
- a categorical: choice ``i`` of ``k`` at ``(i + 0.5) / k``, owning the cell
  ``[i / k, (i + 1) / k]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.trials import Column, as_study_data, trial_table
from tuneful.errors import StudyError

if TYPE_CHECKING:
    from tuneful.analysis.trials import StudyData
    from tuneful.study import Study

__all__ = ["MIN_TRIALS", "MAX_CELLS", "Inputs", "Estimate", "read_inputs"]

#: Completed trials (with a finite value) an estimate needs at the least.
MIN_TRIALS = 10
#: An int with more values than this is treated as a float.
MAX_CELLS = 100


@dataclass(frozen=True)
class Inputs:
    """The trials an estimate is made from.

    Attributes:
        study: the study's name.
        names: the parameters, in the study's order.
        unit: ``(n_trials, n_params)`` positions in [0, 1]; ``NaN`` where inactive.
        cells: per parameter, its number of cells when discrete (categorical choices, int
            values), 0 when continuous.
        categorical: per parameter, whether its cells are unordered choices.
        y: ``(n_trials,)`` the objective, negated when maximized (lower is better).
        notes: what was left out and why.
    """

    study: str
    names: tuple[str, ...]
    unit: np.ndarray
    cells: tuple[int, ...]
    categorical: tuple[bool, ...]
    y: np.ndarray
    notes: tuple[str, ...] = field(default=())

    @property
    def active(self) -> np.ndarray:
        """``(n_trials, n_params)``: where each parameter has a value."""
        return ~np.isnan(self.unit)

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Estimate:
    """A method's answer, by parameter index: what :class:`Importance` is made from."""

    shares: np.ndarray
    std: np.ndarray
    pairs: dict[tuple[int, int], tuple[float, float]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


def _position(column: Column, step: int) -> tuple[np.ndarray, int]:
    """The column's positions in [0, 1] and its number of cells (0: continuous); ``step``:
    an int's step (its values are ``low``, ``low + step``, ...)."""
    if column.is_categorical:
        return column.unit(), max(len(column.choices), 1)
    if column.kind == "int" and not column.log:
        assert column.low is not None and column.high is not None
        cells = int(round(column.high - column.low)) // step + 1
        if cells <= MAX_CELLS:
            index = np.round((column.values - column.low) / step)
            return (index + 0.5) / cells, cells
    return np.clip(column.unit(), 0.0, 1.0), 0


def read_inputs(
    study: Study | StudyData, *, params: Sequence[str] | None, objective: int
) -> Inputs:
    """The completed trials of ``study`` with a finite value of objective ``objective``.

    Raises:
        StudyError: ``objective`` is out of range, a name in ``params`` is not a parameter,
            the study has no parameter, or fewer than :data:`MIN_TRIALS` trials qualify.
    """
    data = as_study_data(study)
    table = trial_table(data, params=params)
    y = table.objective(objective, minimize=True)
    finite = np.isfinite(y)
    notes: list[str] = []
    if (~finite).any():
        notes.append(
            f"{int((~finite).sum())} completed trial(s) without a finite value of objective "
            f"{objective} left out"
        )
    if not table.columns:
        raise StudyError(f"study {data.name!r} has no parameter whose importance could be measured")
    n = int(finite.sum())
    if n < MIN_TRIALS:
        raise StudyError(
            f"study {data.name!r} has {n} completed trial(s) with a finite value of objective "
            f"{objective}; importance needs at least {MIN_TRIALS}"
        )
    definitions = data.definitions()
    positions, cells, categorical = [], [], []
    for name, column in table.columns.items():
        step = getattr(definitions.get(name), "step", None)
        where, count = _position(column, step if isinstance(step, int) and step > 0 else 1)
        positions.append(where[finite])
        cells.append(count)
        categorical.append(column.is_categorical)
    unit = np.column_stack(positions).astype(float)
    never = [name for name, p in zip(table.columns, unit.T, strict=True) if np.isnan(p).all()]
    if never:
        notes.append(
            f"never active in these trials, so of no importance: {', '.join(map(str, never))}"
        )
    return Inputs(
        data.name,
        tuple(table.columns),
        unit,
        tuple(cells),
        tuple(categorical),
        y[finite],
        tuple(notes),
    )


def top_count(n: int, quantile: float) -> int:
    """How many trials the best ``quantile`` of ``n`` holds (at least 2)."""
    return min(n, max(2, math.ceil(quantile * n - 1e-9)))
