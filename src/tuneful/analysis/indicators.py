"""How good a set of trade-offs is: hypervolume (exact or estimated), hypervolume over a
study's trials, IGD and IGD+ against a known front, and attainment surfaces over runs.

Every function takes points in the objectives' own directions, shape ``(n_points,
n_objectives)``, with ``directions`` (``"minimize"`` / ``"maximize"`` per column; default all
minimized); results come back in the same orientation. A reference point that is not given
is derived from the points: the nadir (the worst value of each objective among them) pushed
out by 10 % of the objective's range, by 0.1 where the objective is flat
(:func:`reference_point`). A point that does not strictly beat the reference point in every
objective contributes nothing to a hypervolume.

1. Hypervolume (Zitzler & Thiele 1998): exact by :func:`tuneful._pareto.hypervolume` (a sweep
   in 2 and 3 objectives, WFG from 4); :func:`hypervolume_estimate` is Monte-Carlo, seeded,
   with its standard error, for many objectives or points.
2. :func:`hypervolume_over_time`: after each completed trial of a study, the hypervolume of
   the feasible trials so far (every trial when none has constraints).
3. IGD (Coello & Reyes Sierra 2004) and IGD+ (Ishibuchi, Masuda, Tanigaki & Nojima 2015,
   "Modified Distance Calculation in Generational Distance and Inverted Generational
   Distance", EMO): the mean, over the points of a reference front, of the distance to the
   nearest point of the set; IGD+ counts only how far a point is worse than the reference
   point (``sqrt(sum(max(a - z, 0)^2))`` when minimizing), which makes it weakly Pareto
   compliant.
4. Attainment (Fonseca & Fleming 1996; Lopez-Ibanez, Paquete & Stuetzle 2010, "Exploratory
   Analysis of Stochastic Local Search Algorithms in Biobjective Optimization"): over r runs
   on 2 objectives, the k-attainment surface bounds the region that at least k runs' fronts
   weakly dominate; k = r/2 gives the median surface, 1 the best, r the worst.

Example:
    >>> import numpy as np
    >>> hypervolume(np.array([[1.0, 3.0], [3.0, 1.0]]), reference=[4.0, 4.0])
    5.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tuneful import _pareto
from tuneful.analysis.front import check_objectives, default_reference, front_mask
from tuneful.analysis.trials import StudyData, as_study_data
from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = [
    "HypervolumeEstimate",
    "HypervolumeTrace",
    "reference_point",
    "hypervolume",
    "hypervolume_estimate",
    "hypervolume_over_time",
    "study_front",
    "igd",
    "igd_plus",
    "attainment_surfaces",
    "attainment_surface",
]

DIRECTIONS = ("minimize", "maximize")


@dataclass(frozen=True)
class HypervolumeEstimate:
    """A Monte-Carlo hypervolume: ``value`` +- ``standard_error`` from ``samples`` draws."""

    value: float
    standard_error: float
    samples: int


@dataclass(frozen=True)
class HypervolumeTrace:
    """The hypervolume of a study's front after each completed trial.

    Attributes:
        numbers: the trial numbers, in order, shape (n,).
        hypervolumes: the hypervolume after each, shape (n,), non-decreasing.
        reference: the reference point, in the objectives' own directions.
        directions: the objectives' directions.
        feasible_only: whether some trial was infeasible (it is then counted as a step that
            adds nothing).
    """

    numbers: np.ndarray
    hypervolumes: np.ndarray
    reference: np.ndarray
    directions: tuple[str, ...]
    feasible_only: bool


def _signs(directions: Sequence[str]) -> np.ndarray:
    return np.array([1.0 if d == "minimize" else -1.0 for d in directions])


def _oriented(
    values: object, directions: Sequence[str] | None, what: str = "values"
) -> tuple[np.ndarray, np.ndarray]:
    """``values`` as a finite matrix made lower-is-better, and the signs that did it.

    Raises:
        StudyError: not a matrix of finite numbers, or ``directions`` does not fit it.
    """
    try:
        matrix = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise StudyError(f"{what}: expected numbers, shape (n_points, n_objectives)") from None
    if matrix.ndim != 2:
        raise StudyError(
            f"{what}: expected a matrix (n_points, n_objectives), got shape {matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise StudyError(f"{what}: every value must be finite (no NaN or inf)")
    if directions is None:
        directions = ("minimize",) * matrix.shape[1]
    directions = tuple(directions)
    bad = [d for d in directions if d not in DIRECTIONS]
    if bad or len(directions) != matrix.shape[1]:
        raise StudyError(
            f"directions={list(directions)!r}: expected one of {DIRECTIONS} for each of the "
            f"{matrix.shape[1]} objectives of {what}"
        )
    signs = _signs(directions)
    return matrix * signs, signs


def _reference(
    reference: Sequence[float] | None, minimized: np.ndarray, signs: np.ndarray
) -> np.ndarray:
    """The reference point, minimized orientation: given (in own directions) or derived."""
    if reference is None:
        if len(minimized) == 0:
            raise StudyError("no points to derive a reference point from; pass reference=...")
        return default_reference(minimized)
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if ref.shape != signs.shape or not np.all(np.isfinite(ref)):
        raise StudyError(
            f"reference={list(ref)!r}: expected {len(signs)} finite numbers, one per objective"
        )
    return ref * signs


def reference_point(values: object, *, directions: Sequence[str] | None = None) -> np.ndarray:
    """The reference point used when none is given: the nadir of ``values`` pushed out by
    10 % of each objective's range (by 0.1 where flat), in the objectives' own directions.

    Example:
        >>> reference_point([[0.0, 10.0], [1.0, 5.0]], directions=["minimize", "maximize"])
        array([1.1, 4.5])
    """
    minimized, signs = _oriented(values, directions)
    return _reference(None, minimized, signs) * signs


def hypervolume(
    values: object,
    reference: Sequence[float] | None = None,
    *,
    directions: Sequence[str] | None = None,
) -> float:
    """The exact hypervolume of ``values`` with respect to ``reference`` (default:
    :func:`reference_point` of ``values``). Exact in any number of objectives, fast in 2-3;
    beyond about 6 objectives or a few hundred front points prefer
    :func:`hypervolume_estimate`.

    Raises:
        StudyError: malformed values, directions or reference; no points and no reference.

    Example:
        >>> hypervolume([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]], reference=[4.0, 4.0])
        6.0
    """
    minimized, signs = _oriented(values, directions)
    ref = _reference(reference, minimized, signs)
    return _pareto.hypervolume(minimized, ref)


def hypervolume_estimate(
    values: object,
    reference: Sequence[float] | None = None,
    *,
    directions: Sequence[str] | None = None,
    samples: int = 100_000,
    seed: int = 0,
) -> HypervolumeEstimate:
    """A Monte-Carlo estimate of :func:`hypervolume`, unbiased, with its standard error:
    ``samples`` uniform draws in the box between the points' ideal point and the reference
    point; the same ``seed`` gives the same estimate.

    Raises:
        StudyError: as :func:`hypervolume`, or ``samples`` is not a positive int.

    Example:
        >>> hypervolume_estimate([[0.0, 0.0, 0.0]], reference=[1.0, 2.0, 3.0]).value
        6.0
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise StudyError(f"samples={samples!r}: expected an int >= 1")
    minimized, signs = _oriented(values, directions)
    ref = _reference(reference, minimized, signs)
    rng = np.random.default_rng(seed)
    value, error = _pareto.hypervolume_estimate(minimized, ref, samples=samples, rng=rng)
    return HypervolumeEstimate(value, error, samples)


def _completed(data: StudyData, chosen: tuple[int, ...]) -> list[tuple[TrialRecord, list[float]]]:
    """The completed trials with finite values on ``chosen``, in number order."""
    rows = []
    for trial in sorted(data.trials, key=lambda t: t.number):
        if trial.state is not TrialState.COMPLETE or not trial.values:
            continue
        if len(trial.values) != data.n_objectives:
            continue
        point = [float(trial.values[i]) for i in chosen]
        if all(math.isfinite(v) for v in point):
            rows.append((trial, point))
    return rows


def hypervolume_over_time(
    study: Study | StudyData,
    *,
    objectives: Sequence[int] | None = None,
    reference: Sequence[float] | None = None,
) -> HypervolumeTrace:
    """The exact hypervolume of the feasible completed trials after each completed trial, in
    number order. An infeasible trial (some constraint > 0) is a step that adds nothing.

    Args:
        objectives: the objective indices (default: all; at least two).
        reference: in the objectives' own directions; default :func:`reference_point` of the
            feasible completed trials.

    Raises:
        StudyError: no completed trial; no feasible one and no ``reference``; bad
            ``objectives`` or ``reference``.
    """
    data = as_study_data(study)
    chosen = check_objectives(data, objectives)
    directions = tuple(data.directions[i] for i in chosen)
    rows = _completed(data, chosen)
    if not rows:
        raise StudyError(f"study {data.name!r} has no completed trial with finite values")
    signs = _signs(directions)
    feasible = np.array([trial.feasible for trial, _ in rows])
    y = np.array([point for _, point in rows]) * signs
    if reference is None and not feasible.any():
        raise StudyError(
            f"study {data.name!r} has no feasible trial among its {len(rows)} completed ones; "
            "pass reference=... to measure it anyway (the hypervolume is then 0)"
        )
    ref = _reference(reference, y[feasible], signs)
    volumes = np.zeros(len(rows))
    kept = np.empty((0, y.shape[1]))  # the front so far: only its points add volume
    volume = 0.0
    for i, point in enumerate(y):
        if feasible[i] and np.all(point < ref) and not _weakly_dominated(point, kept):
            kept = np.vstack([kept[~np.all(point <= kept, axis=1)], point])
            volume = _pareto.hypervolume(kept, ref)
        volumes[i] = volume
    numbers = np.array([trial.number for trial, _ in rows], dtype=int)
    return HypervolumeTrace(numbers, volumes, ref * signs, directions, not feasible.all())


def _weakly_dominated(point: np.ndarray, front: np.ndarray) -> bool:
    return bool(len(front)) and bool(np.any(np.all(front <= point, axis=1)))


def study_front(study: Study | StudyData, *, objectives: Sequence[int] | None = None) -> np.ndarray:
    """The values of the feasible completed trials no other one dominates, in the objectives'
    own directions, shape (n, len(objectives)), sorted by the first objective: what
    :func:`igd`, :func:`attainment_surfaces` and the hypervolume take.

    Raises:
        StudyError: bad ``objectives``.
    """
    data = as_study_data(study)
    chosen = check_objectives(data, objectives)
    signs = _signs([data.directions[i] for i in chosen])
    points = [point for trial, point in _completed(data, chosen) if trial.feasible]
    y = np.array(points, dtype=float).reshape(len(points), len(chosen)) * signs
    front = y[front_mask(y)] if len(y) else y
    return front[np.lexsort(front.T[::-1])] * signs


def _distances(
    values: object, reference_front: object, directions: Sequence[str] | None, plus: bool
) -> np.ndarray:
    """For each reference-front point, the distance to the nearest point of ``values``."""
    a, signs = _oriented(values, directions)
    z, _ = _oriented(reference_front, directions, "reference_front")
    if z.shape[1] != a.shape[1] or len(a) == 0 or len(z) == 0:
        raise StudyError(
            f"values {a.shape} and reference_front {z.shape}: expected non-empty matrices with "
            "the same number of objectives"
        )
    nearest = np.full(len(z), np.inf)
    rows = max(1, (1 << 20) // max(1, len(a) * a.shape[1]))
    for start in range(0, len(z), rows):
        gap = a[None, :, :] - z[start : start + rows, None, :]  # (rows, n_values, m)
        if plus:
            gap = np.maximum(gap, 0.0)  # only where the point is worse than the reference's
        nearest[start : start + rows] = np.sqrt(np.min(np.sum(gap**2, axis=2), axis=1))
    return nearest


def igd(
    values: object, reference_front: object, *, directions: Sequence[str] | None = None
) -> float:
    """Inverted generational distance: the mean, over the points of ``reference_front`` (a
    sample of the true front), of the Euclidean distance to the nearest point of ``values``.
    0 when ``values`` contains the reference front; lower is better. Not Pareto compliant: a
    dominated point can lower it; prefer :func:`igd_plus` to rank sets.

    Raises:
        StudyError: malformed inputs, either empty, or different numbers of objectives.

    Example:
        >>> round(igd([[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]), 6)
        0.235702
    """
    return float(np.mean(_distances(values, reference_front, directions, plus=False)))


def igd_plus(
    values: object, reference_front: object, *, directions: Sequence[str] | None = None
) -> float:
    """IGD+ (Ishibuchi et al. 2015): as :func:`igd`, with each distance counting only the
    objectives where the point is worse than the reference-front point. Weakly Pareto
    compliant: a set that dominates another never scores worse.

    Example:
        >>> igd_plus([[0.0, 1.0], [1.0, 0.0]], [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
        0.16666666666666666
    """
    return float(np.mean(_distances(values, reference_front, directions, plus=True)))


def attainment_surfaces(
    runs: Sequence[object], *, directions: Sequence[str] | None = None
) -> list[np.ndarray]:
    """The k-attainment surfaces of several runs' results on 2 objectives, k = 1..r.

    Surface k (index ``k - 1``) is the set of minimal points of the region that at least k of
    the r runs attain (some point of the run is no worse in both objectives): a staircase,
    sorted by the first objective, in the objectives' own directions. Between two of its
    points the surface stays at the left one's second objective, so
    ``matplotlib.pyplot.step(s[:, 0], s[:, 1], where="post")`` draws it.

    Args:
        runs: each run's points (its front or all its points), shape (n_i, 2); a run may be
            empty (it attains nothing).

    Raises:
        StudyError: no runs, or a run that is not a 2-column matrix of finite numbers.
    """
    if len(runs) == 0:
        raise StudyError("attainment surfaces need at least one run; got none")
    oriented = []
    signs = np.ones(2)
    for index, run in enumerate(runs):
        matrix = np.asarray(run, dtype=float)
        if matrix.size == 0:
            matrix = matrix.reshape(0, 2)
        y, signs = _oriented(matrix, directions, f"runs[{index}]")
        if y.shape[1] != 2:
            raise StudyError(f"runs[{index}] has {y.shape[1]} objectives; attainment needs 2")
        oriented.append(y)
    xs = np.unique(np.concatenate([y[:, 0] for y in oriented]))
    levels = np.full((len(oriented), len(xs)), np.inf)  # run j's best f2 with f1 <= x
    for j, y in enumerate(oriented):
        order = np.argsort(y[:, 0], kind="stable")
        best = np.minimum.accumulate(y[order, 1])
        seen = np.searchsorted(y[order, 0], xs, side="right")  # how many have f1 <= x
        levels[j, seen > 0] = best[seen[seen > 0] - 1]
    levels.sort(axis=0)  # row k - 1: the k-th best run at each x
    surfaces = []
    for row in levels:
        finite = np.isfinite(row)
        x, f2 = xs[finite], row[finite]
        drops = np.concatenate([[True], f2[1:] < f2[:-1]])[: len(f2)]  # the staircase's steps
        surfaces.append(np.column_stack([x[drops], f2[drops]]) * signs)
    return surfaces


def attainment_surface(
    runs: Sequence[object], level: float = 0.5, *, directions: Sequence[str] | None = None
) -> np.ndarray:
    """The surface that a share ``level`` of the runs attain: the k-attainment surface of
    :func:`attainment_surfaces` with ``k = max(1, ceil(level * r))`` (0.5: the median;
    1.0: what every run attains).

    Raises:
        StudyError: ``level`` not in (0, 1], or as :func:`attainment_surfaces`.

    Example:
        >>> attainment_surface([[[1.0, 2.0]], [[2.0, 1.0]]], 1.0)
        array([[2., 2.]])
    """
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 < level <= 1:
        raise StudyError(f"level={level!r}: expected a share of the runs in (0, 1]")
    surfaces = attainment_surfaces(runs, directions=directions)
    k = max(1, math.ceil(level * len(surfaces) - 1e-9))
    return surfaces[k - 1]
