"""Early stopping with several objectives: the rung rule of MO-ASHA.

Schmucker, Donini, Zafar, Salinas & Archambeau 2021 ("Multi-objective Asynchronous Successive
Halving", arXiv:2106.12639) keep asynchronous successive halving (Li et al. 2020) and change
only what "the best 1/η at a rung" means when each trial has a vector of values there: the
trials that reached the rung are ordered the way NSGA-II selects survivors (Deb et al. 2002,
Sec. III): by non-dominated front first, then, within a front, by decreasing crowding
distance (the lonelier point first, so the kept trials spread along the front). A trial
passes the rung when fewer than ``max(1, floor(n / η))`` of the n trials there come before
it (ties count in its favour, as in the one-objective rule). Maximized objectives are
negated first, so every objective is minimized.

The paper also proposes an ε-net selection (greedily pick a front point, drop the points
within ε of it, repeat); its experiments show neither selection winning everywhere. tuneful
uses the NSGA-II order: it needs no ε or normalization, the crowding distance is invariant to
each objective's scale, it is the order ``optimizer="nsga2"`` already uses, and a trial's
position is a plain count of the trials ahead of it, recorded on the trial.

Constraints: when a trial reports constraint values with a rung point (``constraints=`` of
:func:`report_values`), Deb's constrained domination applies: the feasible trials (every
value <= 0) come first in the order above, then the infeasible ones by increasing total
violation. Trials that report no constraints count as feasible.

How a vector reaches the scheduler: ``trial.report(step=, value=)`` stores one number per
step. :func:`report_values` stores the whole vector (and constraints) of a step as the user
attribute ``objectives@<step>`` and reports the first objective as the curve point, so the
curve still drives budgets, rungs and plots; the rung rule reads the vector back with
:func:`values_at`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tuneful._pareto import crowding_distance, non_dominated_sort
from tuneful.errors import SchedulerError, TrialError
from tuneful.records import TrialRecord

__all__ = ["report_values", "values_at", "objectives_key", "pareto_positions"]


def objectives_key(step: int) -> str:
    """The user attribute that holds the vector reported at ``step``."""
    return f"objectives@{int(step)}"


def _finite_list(what: str, step: Any, items: Any) -> list[float]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence | np.ndarray):
        raise TrialError(
            f"report_values {what}={items!r} at step {step}: expected a sequence of numbers"
        )
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float | np.integer | np.floating):
            raise TrialError(
                f"report_values {what}={list(items)!r} at step {step}: {item!r} is not a number"
            )
        if not math.isfinite(float(item)):
            raise TrialError(
                f"report_values {what}={list(items)!r} at step {step}: {item!r} is not finite"
            )
        out.append(float(item))
    return out


def report_values(
    trial: Any,
    *,
    step: int,
    values: Sequence[float],
    constraints: Sequence[float] | None = None,
) -> None:
    """Report one point of a multi-objective learning curve: the value of every objective
    (and optionally every constraint, satisfied when <= 0) at ``step``.

    The vector is stored as the user attribute ``objectives@<step>``; the first objective is
    reported with ``trial.report(step=step, value=values[0])``, which lets the scheduler
    judge the trial (and raises :class:`tuneful.Pruned` when it stops it).

    Example (``train_to`` being the user's training code)::

        def objective(trial):
            for epoch in trial.budgets(27):
                error, latency = train_to(trial.params, epoch)
                tuneful.schedulers.report_values(trial, step=epoch, values=[error, latency])
            return error, latency

    Raises:
        TrialError: ``values`` or ``constraints`` is not a sequence of finite numbers, or
            ``values`` does not have one value per objective of the trial's study.
    """
    numbers = _finite_list("values", step, values)
    directions = getattr(getattr(trial, "study", None), "directions", None)
    expected = len(directions) if directions is not None else None
    if not numbers or (expected is not None and len(numbers) != expected):
        raise TrialError(
            f"report_values values={numbers!r} at step {step}: expected one value per "
            f"objective ({expected if expected is not None else 'at least one'})"
        )
    record: dict[str, Any] = {"values": numbers}
    if constraints is not None:
        record["constraints"] = _finite_list("constraints", step, constraints)
    trial.set_user_attr(objectives_key(step), record)
    trial.report(step=step, value=numbers[0])


def _step_at(trial: TrialRecord, budget: int) -> int | None:
    """The reported step whose point stands for ``budget`` (as :func:`~.base.value_at`):
    the largest step <= ``budget``, else the first one; None when the curve stops short."""
    curve = trial.intermediate
    if not curve or max(curve) < budget:
        return None
    below = [step for step in curve if step <= budget]
    return max(below) if below else min(curve)


def values_at(
    trial: TrialRecord, budget: int
) -> tuple[tuple[float, ...], tuple[float, ...] | None] | None:
    """The trial's vector at ``budget`` and its constraint values (None when none were
    reported): read from the point that stands for ``budget`` (the largest reported step
    <= ``budget``). None when the trial has not reached ``budget`` or reported only a number
    (``trial.report``) at that step."""
    step = _step_at(trial, budget)
    if step is None:
        return None
    record = trial.user_attrs.get(objectives_key(step))
    if not isinstance(record, dict) or "values" not in record:
        return None
    values = tuple(float(v) for v in record["values"])
    told = record.get("constraints")
    return values, None if told is None else tuple(float(c) for c in told)


def pareto_positions(y: np.ndarray, violation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Front (0 = non-dominated) and crowding distance of each point of an oriented matrix
    ``y`` (every column minimized), with infeasible points (``violation > 0``) after every
    feasible one: their front is one past the last feasible front, and among them the
    smaller violation comes first (as its own front).

    Example:
        >>> y = np.array([[0.0, 3.0], [1.0, 1.0], [3.0, 0.0], [2.0, 2.0], [0.0, 0.0]])
        >>> fronts, crowding = pareto_positions(y, np.array([0, 0, 0, 0, 1.0]))
        >>> fronts.tolist()
        [0, 0, 0, 1, 2]
    """
    n = len(y)
    fronts = np.zeros(n, dtype=int)
    crowding = np.zeros(n)
    feasible = np.flatnonzero(violation <= 0)
    if len(feasible):
        fronts[feasible] = non_dominated_sort(y[feasible])
        for front in np.unique(fronts[feasible]):
            members = feasible[fronts[feasible] == front]
            crowding[members] = crowding_distance(y[members])
    infeasible = np.flatnonzero(violation > 0)
    if len(infeasible):
        first = int(fronts[feasible].max()) + 1 if len(feasible) else 0
        levels = np.unique(violation[infeasible])
        fronts[infeasible] = first + np.searchsorted(levels, violation[infeasible])
        crowding[infeasible] = np.inf
    return fronts, crowding


def ahead_of(index: int, fronts: np.ndarray, crowding: np.ndarray) -> int:
    """How many points come strictly before point ``index`` in the NSGA-II order (lower
    front, or same front and larger crowding distance)."""
    own_front, own_crowding = fronts[index], crowding[index]
    before = (fronts < own_front) | ((fronts == own_front) & (crowding > own_crowding))
    return int(np.count_nonzero(before))


def check_vector(
    scheduler: str, trial: TrialRecord, rung: int, found: Any, n_objectives: int
) -> tuple[tuple[float, ...], tuple[float, ...] | None]:
    """The trial's own vector at ``rung``, or a clear error when it cannot be judged."""
    if found is None:
        raise SchedulerError(
            f"{scheduler}: trial {trial.number} reached rung {rung} with one number per step "
            f"and the study has {n_objectives} objectives: report every objective with "
            "tuneful.schedulers.report_values(trial, step=..., values=[...])"
        )
    values, constraints = found
    if len(values) != n_objectives:
        raise SchedulerError(
            f"{scheduler}: trial {trial.number} reported {len(values)} values at rung {rung}; "
            f"the study has {n_objectives} objectives"
        )
    return values, constraints
