"""How a study progressed: the incumbent (best value so far) after each trial, and the
empirical distribution of its values. Numbers only; the plots are in :mod:`tuneful.viz`.

Example:
    >>> import numpy as np
    >>> running_best(np.array([3.0, np.nan, 1.0, 2.0]))
    array([ 3.,  3.,  1.,  1.])
    >>> edf(np.array([2.0, 1.0, 1.0, 4.0]))
    (array([1., 2., 4.]), array([0.5 , 0.75, 1.  ]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.trials import StudyData, as_study_data
from tuneful.errors import StudyError
from tuneful.records import TrialState

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["running_best", "edf", "Progress", "progress"]


def running_best(values: np.ndarray, *, maximize: bool = False) -> np.ndarray:
    """The best value among ``values[:i + 1]`` for each i (``NaN`` until the first finite
    value; ``NaN`` values are skipped).

    Args:
        values: shape (n,), in the order the trials finished or were numbered.
        maximize: the best is the largest instead of the smallest.
    """
    x = np.asarray(values, dtype=float)
    fill = -np.inf if maximize else np.inf
    cleaned = np.where(np.isfinite(x), x, fill)
    best = np.maximum.accumulate(cleaned) if maximize else np.minimum.accumulate(cleaned)
    return np.where(np.isfinite(best), best, np.nan)


def edf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical distribution function of the finite ``values``: the distinct values in
    increasing order, and the fraction of values at or below each.

    Returns:
        ``(x, fraction)``, both shape (n_distinct,); empty when no value is finite.
    """
    x = np.asarray(values, dtype=float)
    x = np.sort(x[np.isfinite(x)])
    if x.size == 0:
        return x, x.copy()
    distinct, counts = np.unique(x, return_counts=True)
    return distinct, np.cumsum(counts) / x.size


@dataclass(frozen=True)
class Progress:
    """The completed trials of a study with one objective's value, in number order.

    Attributes:
        numbers: trial numbers, shape (n,).
        values: the objective's value of each, shape (n,).
        feasible: whether each satisfies its constraints (all True without constraints).
        best: the incumbent after each trial among the feasible ones, shape (n,): an
            infeasible trial is never the incumbent (``NaN`` until the first feasible one).
        improved: where the incumbent changed (the trial that set a new best), shape (n,).
        direction: ``"minimize"`` or ``"maximize"``.
    """

    numbers: np.ndarray
    values: np.ndarray
    feasible: np.ndarray
    best: np.ndarray
    improved: np.ndarray
    direction: str


def progress(study: Study | StudyData, *, objective: int = 0) -> Progress:
    """The incumbent trace of ``study`` on objective ``objective``, over its completed trials
    (the incumbent among the feasible ones, as ``study.best_trial``).

    Raises:
        StudyError: ``objective`` is not one of the study's.
    """
    data = as_study_data(study)
    if not 0 <= objective < data.n_objectives:
        raise StudyError(
            f"objective={objective!r} is out of range: study {data.name!r} has "
            f"{data.n_objectives} objective(s), numbered from 0"
        )
    rows = [
        t
        for t in data.trials
        if t.state is TrialState.COMPLETE and t.values and len(t.values) == data.n_objectives
    ]
    rows.sort(key=lambda t: t.number)
    numbers = np.array([t.number for t in rows], dtype=int)
    values = np.array([(t.values or ())[objective] for t in rows], dtype=float)
    feasible = np.array([t.feasible for t in rows], dtype=bool)
    direction = data.directions[objective]
    best = running_best(np.where(feasible, values, np.nan), maximize=direction == "maximize")
    previous = np.concatenate([[np.nan], best[:-1]]) if best.size else best
    improved = np.isfinite(best) & ~(best == previous)
    return Progress(numbers, values, feasible, best, improved, direction)
