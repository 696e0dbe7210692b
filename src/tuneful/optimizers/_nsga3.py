"""The selection of NSGA-III (Deb & Jain 2014, "An Evolutionary Many-Objective Optimization
Algorithm Using Reference-Point-Based Nondominated Sorting Approach, Part I", IEEE TEC 18(4)),
with the constraint handling of its Part II (Jain & Deb 2014, IEEE TEC 18(4)).

1. Reference points (Sec. IV-B, :func:`das_dennis`, :func:`default_reference_points`): the
   structured points of Das & Dennis (1998) on the unit simplex, every coordinate a multiple
   of 1/p for p divisions; for eight objectives and more, two layers (Sec. V-D): the outer
   one with p_1 divisions and an inner one with p_2, shrunk halfway to the simplex's centre.
2. Normalization (Sec. IV-C, :func:`normalize`) over S_t, the fronts that fill the next
   population: translate by the ideal point (the minimum of each objective); the extreme
   point of axis i minimizes the achievement scalarizing function with weights e_i (1e-6
   elsewhere); the intercepts are those of the hyperplane through the M extreme points. When
   that plane cannot be built (its points are linearly dependent) or an intercept is not
   positive, each intercept falls back to the worst value of the first front, then of S_t,
   then 1 (the fallbacks studied by Blank, Deb & Roy 2019, "Investigating the normalization
   procedure of NSGA-III", and used by pymoo).
3. Association (Sec. IV-D, :func:`associate`): each normalized point joins the reference
   line (through the origin) nearest in perpendicular distance, ties to the first line.
4. Niching (Sec. IV-E, :func:`niching`): niche counts from the members kept whole; then, one
   at a time, a reference point of least count (ties at random) takes the nearest member of
   the last front if its count is 0, a random one of its members otherwise; a point without
   members of the last front is set aside.
5. Constraints (Part II, Sec. III): ranks under constrained domination
   (:func:`tuneful.optimizers._nsga.ranks`); S_t's last front is then feasible (and niched)
   or of one violation level (cut by trial number). Parents are picked by
   :func:`tuneful.optimizers._nsga.feasibility_tournament`.
"""

from __future__ import annotations

from math import comb

import numpy as np

from tuneful.optimizers._nsga import Population, ranks

__all__ = [
    "das_dennis",
    "default_reference_points",
    "normalize",
    "associate",
    "niching",
    "select",
]

_WEIGHT_FLOOR = 1e-6  # the ASF's weight on the other axes (Sec. IV-C)
_TINY = 1e-10  # an intercept at or below this is degenerate


def das_dennis(n_objectives: int, divisions: int) -> np.ndarray:
    """The C(M + p - 1, p) points with coordinates in {0, 1/p, ..., 1} summing to 1."""
    points: list[list[int]] = []

    def fill(prefix: list[int], left: int, slots: int) -> None:
        if slots == 1:
            points.append([*prefix, left])
            return
        for k in range(left, -1, -1):
            fill([*prefix, k], left - k, slots - 1)

    fill([], divisions, n_objectives)
    out = np.array(points, dtype=float) / divisions
    assert len(out) == comb(n_objectives + divisions - 1, divisions)
    return out


def default_reference_points(n_objectives: int) -> np.ndarray:
    """The paper's points for M objectives (Table I): p = 12 for 3, 6 for 5, two layers
    (3, 2) for 8 and 10 and (2, 1) from 15; between those, p shrinks as M grows."""
    m = n_objectives
    if m <= 3:
        return das_dennis(m, 12 if m > 1 else 1)
    single = {4: 8, 5: 6, 6: 4, 7: 4}
    if m in single:
        return das_dennis(m, single[m])
    outer, inner = (3, 2) if m < 15 else (2, 1)
    shrunk = (das_dennis(m, inner) + 1.0 / m) / 2.0
    return np.vstack([das_dennis(m, outer), shrunk])


def normalize(y: np.ndarray, first: np.ndarray) -> np.ndarray:
    """``y`` (S_t, minimized) normalized by its ideal point and intercepts; ``first`` marks
    the members of the first front (for the fallback)."""
    translated = y - y.min(axis=0)
    m = y.shape[1]
    weights = np.full((m, m), _WEIGHT_FLOOR) + np.eye(m) * (1.0 - _WEIGHT_FLOOR)
    asf = (translated[None, :, :] / weights[:, None, :]).max(axis=2)  # (axis, member)
    extremes = translated[asf.argmin(axis=1)]
    intercepts = _intercepts(extremes)
    if intercepts is None:
        intercepts = translated[first].max(axis=0)
        worst = translated.max(axis=0)
        intercepts = np.where(intercepts > _TINY, intercepts, worst)
        intercepts = np.where(intercepts > _TINY, intercepts, 1.0)
    return translated / intercepts


def _intercepts(extremes: np.ndarray) -> np.ndarray | None:
    """Axis intercepts of the hyperplane through the extreme points, or None if degenerate."""
    try:
        plane = np.linalg.solve(extremes, np.ones(len(extremes)))
    except np.linalg.LinAlgError:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        intercepts = 1.0 / plane
    if not np.all(np.isfinite(intercepts)) or np.any(intercepts <= _TINY):
        return None
    return intercepts


def associate(points: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each normalized point, its nearest reference line and the perpendicular distance
    to it (lines through the origin and each reference point)."""
    unit = references / np.linalg.norm(references, axis=1, keepdims=True)
    along = points @ unit.T  # (point, line): the length of each projection
    residual = points[:, None, :] - along[:, :, None] * unit[None, :, :]
    distance = np.linalg.norm(residual, axis=2)
    nearest = distance.argmin(axis=1)
    return nearest, distance[np.arange(len(points)), nearest]


def niching(
    k: int,
    counts: np.ndarray,
    niche: np.ndarray,
    distance: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Indices of ``k`` members of the last front chosen by niche (Algorithm 4): ``counts``
    are the reference points' niche counts among the members kept; ``niche`` and
    ``distance`` the last front's associations."""
    counts = counts.astype(int)
    left = np.ones(len(niche), dtype=bool)
    open_ = np.ones(len(counts), dtype=bool)
    chosen: list[int] = []
    while len(chosen) < k:
        least = np.flatnonzero(open_ & (counts == counts[open_].min()))
        j = int(least[rng.integers(len(least))])
        members = np.flatnonzero(left & (niche == j))
        if len(members) == 0:
            open_[j] = False
            continue
        if counts[j] == 0:
            pick = int(members[np.argmin(distance[members])])
        else:
            pick = int(members[rng.integers(len(members))])
        chosen.append(pick)
        left[pick] = False
        counts[j] += 1
    return np.array(chosen, dtype=int)


def select(
    pool: Population, size: int, references: np.ndarray, rng: np.random.Generator
) -> Population:
    """The next ``size`` parents of ``pool`` by NSGA-III's selection (module docstring)."""
    rank = ranks(pool.y, pool.violation)
    if len(pool) <= size:
        return _rows(pool, np.arange(len(pool)), rank)
    filled = np.cumsum(np.bincount(rank))
    last = int(np.searchsorted(filled, size))  # the front that fills the population
    kept = np.flatnonzero(rank < last)
    front = np.flatnonzero(rank == last)
    k = size - len(kept)
    if k == len(front):
        picked = front
    elif pool.violation[front[0]] > 0.0:  # one violation level: the lower trial numbers
        picked = front[np.argsort(pool.numbers[front], kind="stable")[:k]]
    else:
        s_t = np.concatenate([kept, front])
        y = pool.y[s_t]
        first = rank[s_t] == 0
        niche, distance = associate(normalize(y, first), references)
        counts = np.bincount(niche[: len(kept)], minlength=len(references))
        picked = front[niching(k, counts, niche[len(kept) :], distance[len(kept) :], rng)]
    order = np.sort(np.concatenate([kept, picked]))  # trial-number order, as NSGA-II
    return _rows(pool, order, rank)


def _rows(pool: Population, order: np.ndarray, rank: np.ndarray) -> Population:
    return pool.rows(order, rank, np.zeros(len(pool)))
