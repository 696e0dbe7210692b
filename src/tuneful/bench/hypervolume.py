"""Hypervolume regret: how a multi-objective run enters the same statistics as a
single-objective one.

After evaluation i of a run, with ``HV_i`` the hypervolume of its *feasible* points among
evaluations 1..i (failures and constraint violations count for nothing),

    regret_i = (HV* - HV_i) / HV*,

clipped to [0, 1]: 1 until the run has a feasible point inside the reference box, 0 when it
covers the whole front. It never increases, like a single-objective incumbent. Objectives
are oriented so that lower is better (maximized ones negated), and the reference point and
``HV*`` of a task are, in this order of preference:

- **known**: the task's ``reference_point`` and ``max_hypervolume`` (ZDT, DTLZ: the true
  front's hypervolume);
- **union of runs**: the non-dominated feasible points of every run of the task in the
  report (all optimizers, all seeds) stand in for the unknown front, and ``HV*`` is their
  hypervolume. The reference point is the task's own when it has one (bbob-biobj: COCO's
  nadir), else (YAHPO) the worst value seen in each objective over every feasible point of
  every run, pushed out by 10 % of the range seen: the same convention as a
  single-objective task's worst loss seen mapping to regret 1. Regret is then relative to
  the best that any compared optimizer found, so it depends on which runs a report holds:
  a report says which tasks were measured this way.

A hypervolume ratio does not change when an objective is scaled by a positive factor and
shifted (with the reference point), so normalizing the objectives (COCO's ideal/nadir
normalization) would give the same regret.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tuneful._pareto import hypervolume
from tuneful.bench.results import Run

__all__ = ["HypervolumeReference", "hypervolume_trace", "task_references", "with_hv_regret"]

#: How far the derived reference point lies beyond the union front's nadir.
MARGIN = 0.1


@dataclasses.dataclass(frozen=True)
class HypervolumeReference:
    """What one task's hypervolume regret is measured against.

    Attributes:
        point: the reference point, oriented for minimization.
        best: ``HV*``, the hypervolume that counts as regret 0.
        source: ``"known"`` (the task's front) or ``"union"`` (every run's points).
        point_source: ``"task"`` (the task's reference point) or ``"union"`` (derived).
    """

    point: tuple[float, ...]
    best: float
    source: str
    point_source: str


def hypervolume_trace(
    points: np.ndarray, feasible: np.ndarray, reference: np.ndarray
) -> np.ndarray:
    """(n,) the hypervolume of the feasible points among the first i + 1, for each i.

    Args:
        points: (n, m) objectives to minimize; rows with NaN are failures.
        feasible: (n,) whether each point satisfied the constraints.
        reference: (m,) the reference point.
    """
    trace = np.zeros(len(points))
    front = np.empty((0, points.shape[1]))
    volume = 0.0
    for i, (point, ok) in enumerate(zip(points, feasible, strict=True)):
        useful = bool(ok) and np.all(np.isfinite(point)) and np.all(point < reference)
        if useful and not np.any(np.all(front <= point, axis=1)):
            front = np.vstack([front[~np.all(point <= front, axis=1)], point])
            volume = hypervolume(front, reference)
        trace[i] = volume
    return trace


def _feasible_points(runs: Sequence[Run]) -> np.ndarray:
    chunks = [r.points[r.feasible] for r in runs if r.points is not None and r.feasible is not None]
    stacked = np.vstack(chunks) if chunks else np.empty((0, 0))
    return stacked[np.all(np.isfinite(stacked), axis=1)] if stacked.size else stacked


def _oriented(run: Run, key: str) -> np.ndarray | None:
    """The run's ``meta[key]`` point (in the objectives' directions), oriented to minimize."""
    value = run.meta.get(key)
    if value is None:
        return None
    directions = run.meta.get("directions") or ["minimize"] * len(value)
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    return signs * np.asarray(value, dtype=float)


def _reference_of(runs: Sequence[Run]) -> HypervolumeReference:
    first = runs[0]
    point = _oriented(first, "reference_point")
    known = first.meta.get("max_hypervolume")
    union = _feasible_points(runs)
    point_source = "task"
    if point is None:
        point_source = "union"
        if union.size == 0:
            return HypervolumeReference((), 0.0, "union", point_source)
        low, high = union.min(axis=0), union.max(axis=0)
        span = np.where(high > low, high - low, np.maximum(np.abs(high), 1.0))
        point = high + MARGIN * span
    if known is not None and point_source == "task":
        return HypervolumeReference(tuple(map(float, point)), float(known), "known", "task")
    best = hypervolume(union, point) if union.size else 0.0
    return HypervolumeReference(tuple(map(float, point)), float(best), "union", point_source)


def task_references(runs: Sequence[Run]) -> dict[str, HypervolumeReference]:
    """Each multi-objective task's reference (see the module docstring)."""
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        if run.multi_objective:
            by_task.setdefault(run.task, []).append(run)
    return {task: _reference_of(task_runs) for task, task_runs in sorted(by_task.items())}


def with_hv_regret(runs: Sequence[Run]) -> list[Run]:
    """``runs`` with each multi-objective run's ``losses`` replaced by its hypervolume regret
    (``optimum`` 0, ``normalized``; ``meta["hypervolume"]`` says what it was measured
    against). Single-objective runs are returned as they are."""
    references = task_references(runs)
    out: list[Run] = []
    for run in runs:
        if not run.multi_objective or run.points is None or run.feasible is None:
            out.append(run)
            continue
        reference = references[run.task]
        if reference.best > 0:
            trace = hypervolume_trace(run.points, run.feasible, np.array(reference.point))
            regret = np.clip((reference.best - trace) / reference.best, 0.0, 1.0)
        else:  # nobody has a feasible point inside the reference box
            regret = np.ones(len(run.losses))
        meta = {**run.meta, "hypervolume": dataclasses.asdict(reference)}
        out.append(dataclasses.replace(run, losses=regret, optimum=0.0, normalized=True, meta=meta))
    return out
