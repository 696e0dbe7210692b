"""Pareto dominance over objective values that are all minimized: fronts, crowding distance
and hypervolume.

Every function takes a matrix ``y`` of shape ``(n_points, n_objectives)``, lower is better in
every column (orient maximized objectives by negating them first, as ``History.y`` does), with
finite values. Point ``a`` dominates point ``b`` when ``a`` is no worse in every objective and
strictly better in at least one; equal points do not dominate each other.

1. Fronts: the fast non-dominated sort of Deb, Pratap, Agarwal & Meyarivan (2002), "A Fast and
   Elitist Multiobjective Genetic Algorithm: NSGA-II" (IEEE TEC 6(2), Sec. III-A). Count for
   each point how many points dominate it; the points with count 0 are front 0; remove them,
   decrement the counts of the points they dominated, and repeat. O(m n^2) time and O(n^2)
   memory for n points and m objectives. :func:`pareto_front_mask` computes front 0 alone,
   in O(m n^2) time and memory bounded by blocks of rows.
2. Crowding distance (Deb et al. 2002, Sec. III-B): for each objective, sort the front; the
   two extreme points get an infinite distance, every other point adds the gap between its
   two neighbours divided by the objective's range.
3. Hypervolume: the measure of the region that the points dominate and that dominates the
   reference point (Zitzler & Thiele 1998). Exact: for 2 objectives by a sweep over the points
   sorted by the first objective (O(n log n)); for 3 or more by the WFG algorithm (While,
   Bradstreet & Barone 2012, "A Fast Way of Calculating Exact Hypervolumes", IEEE TEC 16(1)):
   the sum over points of their exclusive contributions, each the volume of the point's box
   minus the hypervolume of the later points limited to that box. Its worst case grows
   exponentially with the number of objectives: meant for fronts of up to a few hundred points
   in 3 objectives and a few dozen in 5 or more, the sizes of a tuning study's front.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "non_dominated_sort",
    "pareto_front_mask",
    "crowding_distance",
    "hypervolume",
]

_BLOCK = 1 << 22  # comparisons per block in pareto_front_mask: bounds its memory (~4 MB)


def _as_matrix(y: np.ndarray) -> np.ndarray:
    matrix = np.asarray(y, dtype=float)
    if matrix.ndim != 2:
        raise ValueError(f"expected a matrix (n_points, n_objectives), got shape {matrix.shape}")
    return matrix


def non_dominated_sort(y: np.ndarray) -> np.ndarray:
    """The front index of each point: 0 for the non-dominated points, 1 for those that only
    front 0 dominates, and so on (Deb et al. 2002, Sec. III-A).

    Args:
        y: values to minimize, shape (n_points, n_objectives).

    Returns:
        Front indices, shape (n_points,), integers from 0.

    Example:
        >>> non_dominated_sort(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
        array([0, 0, 1, 2])
    """
    y = _as_matrix(y)
    n, m = y.shape
    # dominated[i, j]: point j dominates point i (no worse everywhere, better somewhere)
    no_worse = np.ones((n, n), dtype=bool)
    better = np.zeros((n, n), dtype=bool)
    for k in range(m):
        column = y[:, k]
        no_worse &= column[None, :] <= column[:, None]
        better |= column[None, :] < column[:, None]
    dominated = no_worse & better
    count = dominated.sum(axis=1)  # n_p: how many points dominate p
    front = np.full(n, -1)
    remaining = np.ones(n, dtype=bool)
    level = 0
    while remaining.any():  # peel the fronts: O(n^2) in all
        current = remaining & (count == 0)
        front[current] = level
        remaining &= ~current
        count = count - dominated[:, current].sum(axis=1)
        level += 1
    return front


def pareto_front_mask(y: np.ndarray) -> np.ndarray:
    """Which points no other point dominates (front 0).

    Args:
        y: values to minimize, shape (n_points, n_objectives).

    Returns:
        Booleans, shape (n_points,); equal points are all kept.

    Example:
        >>> pareto_front_mask(np.array([[1.0, 2.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]]))
        array([ True,  True, False,  True])
    """
    y = _as_matrix(y)
    n, m = y.shape
    dominated = np.zeros(n, dtype=bool)
    rows = max(1, _BLOCK // max(1, n * m))
    for start in range(0, n, rows):
        block = y[start : start + rows, None, :]  # (rows, 1, m) against (1, n, m)
        no_worse = np.all(y[None, :, :] <= block, axis=2)
        better = np.any(y[None, :, :] < block, axis=2)
        dominated[start : start + rows] = np.any(no_worse & better, axis=1)
    return ~dominated


def crowding_distance(y: np.ndarray) -> np.ndarray:
    """How far each point of one front is from its neighbours (Deb et al. 2002, Sec. III-B):
    larger is lonelier; the extreme points of each objective get ``inf``.

    Args:
        y: values of the points of one front, shape (n_points, n_objectives).

    Returns:
        Distances, shape (n_points,): the sum over objectives of the gap between a point's
        two neighbours in that objective over the objective's range (an objective whose
        values are all equal adds nothing but its extremes' ``inf``).

    Example:
        >>> crowding_distance(np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]]))
        array([ inf, 1.25, 1.25,  inf])
    """
    y = _as_matrix(y)
    n, m = y.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(y[:, k], kind="stable")
        values = y[order, k]
        distance[order[0]] = distance[order[-1]] = np.inf
        spread = values[-1] - values[0]
        if spread > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / spread
    return distance


def hypervolume(y: np.ndarray, reference: np.ndarray) -> float:
    """The volume dominated by the points and bounded by ``reference`` (exact; see the module
    docstring for the algorithms and their limits).

    Args:
        y: values to minimize, shape (n_points, n_objectives).
        reference: the reference point, shape (n_objectives,); a point that is not strictly
            better than it in every objective adds nothing.

    Returns:
        The hypervolume, 0.0 for no points.

    Example:
        >>> hypervolume(np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), np.array([4.0, 4.0]))
        6.0
    """
    y = _as_matrix(y)
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if ref.shape[0] != y.shape[1]:
        raise ValueError(
            f"the reference point has {ref.shape[0]} objectives, the points {y.shape[1]}"
        )
    inside = y[np.all(y < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    inside = inside[pareto_front_mask(inside)]  # dominated points add nothing
    return float(_volume(inside, ref))


def _volume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of points that all dominate ``ref``."""
    n, m = points.shape
    if n == 0:
        return 0.0
    if n == 1 or m == 1:
        return float(np.prod(ref - points.min(axis=0)))
    if m == 2:
        return _sweep_2d(points, ref)
    return _wfg(points, ref)


def _sweep_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Two objectives: sweep by the first; each point that lowers the second objective adds
    the slab between the two levels, from its first objective to the reference's."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    area, level = 0.0, ref[1]
    for f1, f2 in points[order]:
        if f2 < level:
            area += (ref[0] - f1) * (level - f2)
            level = f2
    return area


def _wfg(points: np.ndarray, ref: np.ndarray) -> float:
    """WFG (While et al. 2012, Sec. III): the sum of the points' exclusive hypervolumes, each
    ``prod(ref - p_k)`` minus the hypervolume of ``limit(p_{k+1..n}, p_k)``, the later points
    moved to the boundary of ``p_k``'s box (``max(p_j, p_k)``) and reduced to their front.
    Points are taken in decreasing order of the last objective, which keeps limit sets small."""
    points = points[np.argsort(-points[:, -1], kind="stable")]
    total = 0.0
    for k in range(len(points)):
        box = float(np.prod(ref - points[k]))
        later = points[k + 1 :]
        if len(later):
            limited = np.maximum(later, points[k])
            limited = limited[pareto_front_mask(limited)]
            box -= _volume(limited, ref)
        total += box
    return total
