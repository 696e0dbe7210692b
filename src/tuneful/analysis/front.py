"""A multi-objective study's Pareto front among its feasible completed trials, and the
default reference point. Numbers only; the plots are in :mod:`tuneful.viz`; hypervolume over
a study's trials is :func:`tuneful.analysis.indicators.hypervolume_over_time`.

Dominance is over the chosen objectives, each oriented by its direction (a maximized
objective is negated before comparing); the sort and the hypervolume themselves are in
:mod:`tuneful._pareto`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.trials import StudyData, as_study_data
from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["Front", "front_mask", "pareto_points", "default_reference"]


@dataclass(frozen=True)
class Front:
    """The completed trials of a study on some of its objectives, and which are on the front.

    Attributes:
        study: the study's name.
        objectives: the objective indices the points are over.
        directions: their directions.
        trials: the completed trials with finite values, in number order.
        values: their values on ``objectives``, shape (n, len(objectives)), as stored.
        on_front: which no other trial dominates, shape (n,).
    """

    study: str
    objectives: tuple[int, ...]
    directions: tuple[str, ...]
    trials: tuple[TrialRecord, ...]
    values: np.ndarray
    on_front: np.ndarray

    @property
    def numbers(self) -> np.ndarray:
        return np.array([t.number for t in self.trials], dtype=int)

    @property
    def minimized(self) -> np.ndarray:
        """``values`` with maximized objectives negated: lower is better in every column."""
        return self.values * _signs(self.directions)


def _signs(directions: Sequence[str]) -> np.ndarray:
    return np.array([1.0 if d == "minimize" else -1.0 for d in directions])


def check_objectives(data: StudyData, objectives: Sequence[int] | None) -> tuple[int, ...]:
    """The objective indices to use: all of the study's when None.

    Raises:
        StudyError: an index is out of range or repeated, or fewer than two are chosen.
    """
    chosen = tuple(range(data.n_objectives)) if objectives is None else tuple(objectives)
    bad = [i for i in chosen if not isinstance(i, int) or not 0 <= i < data.n_objectives]
    if bad or len(set(chosen)) != len(chosen):
        raise StudyError(
            f"objectives={list(chosen)!r}: expected distinct indices of study {data.name!r}'s "
            f"{data.n_objectives} objectives, numbered from 0"
        )
    if len(chosen) < 2:
        raise StudyError(
            f"a Pareto front needs two objectives or more; study {data.name!r} has "
            f"{data.n_objectives} and {len(chosen)} {'was' if len(chosen) == 1 else 'were'} chosen"
        )
    return chosen


def pareto_points(study: Study | StudyData, *, objectives: Sequence[int] | None = None) -> Front:
    """The completed trials of ``study`` over ``objectives`` (default: all), with the
    non-dominated ones marked: the front is that of the feasible trials (as
    ``study.best_trials``); an infeasible trial is never on it.

    Raises:
        StudyError: bad ``objectives`` (see :func:`check_objectives`).
    """
    data = as_study_data(study)
    chosen = check_objectives(data, objectives)
    rows = []
    for trial in sorted(data.trials, key=lambda t: t.number):
        if trial.state is not TrialState.COMPLETE or not trial.values:
            continue
        if len(trial.values) != data.n_objectives:
            continue
        point = [trial.values[i] for i in chosen]
        if all(np.isfinite(point)):
            rows.append((trial, point))
    directions = tuple(data.directions[i] for i in chosen)
    values = np.array([p for _, p in rows], dtype=float).reshape(len(rows), len(chosen))
    feasible = np.array([t.feasible for t, _ in rows], dtype=bool)
    on_front = np.zeros(len(rows), dtype=bool)
    on_front[feasible] = front_mask((values * _signs(directions))[feasible])
    return Front(data.name, chosen, directions, tuple(t for t, _ in rows), values, on_front)


def front_mask(y: np.ndarray) -> np.ndarray:
    """Which rows of ``y`` (lower is better) no other row dominates, in O(n log n + n f m)
    for a front of f points: after a lexicographic sort a point's dominators all come
    before it, and if one is dominated itself, what dominates it is on the front and
    dominates the point too; so each point is checked against the front found so far.
    Equal points are all kept (as :func:`tuneful._pareto.pareto_front_mask`, which compares
    every pair and is quadratic: minutes at 50,000 trials)."""
    n, m = y.shape
    mask = np.zeros(n, dtype=bool)
    front = np.empty((16, m))
    size = 0
    for i in np.lexsort(y.T[::-1]):
        point = y[i]
        found = front[:size]
        if size and np.any(np.all(found <= point, axis=1) & np.any(found < point, axis=1)):
            continue
        if size == len(front):
            front = np.vstack([front, np.empty_like(front)])
        front[size] = point
        size += 1
        mask[i] = True
    return mask


def default_reference(minimized: np.ndarray) -> np.ndarray:
    """A reference point for the hypervolume of ``minimized`` values (lower is better): the
    worst value of each objective pushed out by a tenth of its range (by 1 where flat)."""
    worst, best = minimized.max(axis=0), minimized.min(axis=0)
    spread = np.where(worst > best, worst - best, 1.0)
    return worst + 0.1 * spread
