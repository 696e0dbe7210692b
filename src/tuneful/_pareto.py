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
   sorted by the first objective (O(n log n)); for 3 by a sweep over the third objective that
   keeps the 2-D front of the points seen so far and its area, updated on each insertion (the
   dimension-sweep of Fonseca, Paquete & Lopez-Ibanez 2006, "An Improved Dimension-Sweep
   Algorithm for the Hypervolume Indicator", CEC; O(n^2) worst case here, as the front is a
   sorted list); for 4 or more by the WFG algorithm (While, Bradstreet & Barone 2012, "A Fast
   Way of Calculating Exact Hypervolumes", IEEE TEC 16(1)): the sum over points of their
   exclusive contributions, each the volume of the point's box minus the hypervolume of the
   later points limited to that box. With the points in decreasing order of the last
   objective every limited point shares the box's last coordinate, so the limit set is
   measured in one objective fewer (down to the 3-D sweep). Its worst case grows
   exponentially with the number of objectives: meant for fronts of up to a few thousand
   points in 3 objectives and a few dozen in 6 or more, the sizes of a tuning study's front.
4. Hypervolume estimate: Monte-Carlo sampling (Bader & Zitzler 2011, "HypE", Evolutionary
   Computation 19(1), Sec. 3): draw points uniformly in the box between the points' ideal
   point and the reference point; the share that some point dominates, times the box's
   volume, is an unbiased estimate with binomial standard error. Cost O(samples n m),
   whatever the number of objectives.
5. Hypervolume subset selection (used by multi-objective TPE): pick k points of largest
   joint hypervolume, greedily (Guerreiro, Fonseca & Paquete 2016, "Greedy
   Hypervolume Subset Selection in Low Dimensions", Evolutionary Computation 24(3)): add the
   point of largest hypervolume gain, k times. Hypervolume is monotone submodular, so the
   greedy subset holds at least 1 - 1/e of the best subset's hypervolume, and a gain only
   shrinks as the subset grows: the gains are kept as upper bounds and recomputed lazily,
   largest bound first, until the largest is exact (Minoux's lazy greedy; the same subset).
   After each pick every bound is also cut to the gain over the new point alone (its box
   minus the intersection of the two boxes), which skips most exact computations.
"""

from __future__ import annotations

import bisect

import numpy as np

__all__ = [
    "non_dominated_sort",
    "pareto_front_mask",
    "crowding_distance",
    "hypervolume",
    "hypervolume_estimate",
    "greedy_hypervolume_subset",
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
    ref = _check_reference(y, reference)
    inside = y[np.all(y < ref, axis=1)]
    if len(inside) == 0:
        return 0.0
    if inside.shape[1] > 3:  # WFG wants the front; the sweeps pass over dominated points
        inside = inside[pareto_front_mask(inside)]
    return float(_volume(inside, ref))


def hypervolume_estimate(
    y: np.ndarray,
    reference: np.ndarray,
    *,
    samples: int = 100_000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """A Monte-Carlo estimate of :func:`hypervolume` and its standard error (see the module
    docstring): unbiased, for any number of objectives.

    Args:
        y: values to minimize, shape (n_points, n_objectives).
        reference: the reference point, shape (n_objectives,).
        samples: how many uniform points to draw in the box between the points' ideal point
            and ``reference``; the standard error shrinks as ``1 / sqrt(samples)``.
        rng: the random generator (default: a fresh one seeded with 0).

    Returns:
        ``(estimate, standard_error)``; ``(0.0, 0.0)`` when no point dominates ``reference``.

    Example:
        >>> hypervolume_estimate(np.array([[0.0, 0.0]]), np.array([2.0, 3.0]))
        (6.0, 0.0)
    """
    y = _as_matrix(y)
    ref = _check_reference(y, reference)
    inside = y[np.all(y < ref, axis=1)]
    if len(inside) == 0:
        return 0.0, 0.0
    front = inside[pareto_front_mask(inside)]
    rng = np.random.default_rng(0) if rng is None else rng
    low = front.min(axis=0)
    box = float(np.prod(ref - low))
    n, m = front.shape
    rows = max(1, _BLOCK // (n * m))
    hits = 0
    for start in range(0, samples, rows):
        draws = rng.uniform(low, ref, size=(min(rows, samples - start), m))  # ~ U[ideal, ref]
        covered = np.all(front[None, :, :] <= draws[:, None, :], axis=2).any(axis=1)
        hits += int(covered.sum())
    share = hits / samples
    return box * share, box * float(np.sqrt(share * (1.0 - share) / samples))


def greedy_hypervolume_subset(y: np.ndarray, k: int, reference: np.ndarray) -> np.ndarray:
    """Indices of ``k`` points picked greedily for their joint hypervolume (see the module
    docstring): each step adds the point of largest hypervolume gain over the points picked
    so far, ties to the lowest index; points that add nothing come last, by index.

    Args:
        y: values to minimize, shape (n_points, n_objectives).
        k: how many points to pick; all of them (in index order) when ``k >= n_points``.
        reference: the reference point, shape (n_objectives,).

    Returns:
        Row indices of ``y`` in the order picked, shape (min(k, n_points),).

    Example:
        >>> greedy_hypervolume_subset(
        ...     np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]), 2, np.array([4.0, 4.0]))
        array([1, 0])
    """
    y = _as_matrix(y)
    ref = _check_reference(y, reference)
    n = len(y)
    if k >= n:
        return np.arange(n)
    inside = np.all(y < ref, axis=1)
    boxes = np.where(inside, np.prod(np.clip(ref - y, 0.0, None), axis=1), 0.0)
    gains = boxes.copy()  # upper bounds of the gains
    exact_at = np.full(n, -1)  # the step at which gains[i] was last computed exactly
    picked: list[int] = []
    volume = 0.0
    for step in range(max(k, 0)):
        while True:
            i = int(np.argmax(gains))
            if exact_at[i] == step or gains[i] <= 0.0:
                break
            subset = y[[*picked, i]]
            subset = subset[np.all(subset < ref, axis=1)]
            if subset.shape[1] > 3:
                subset = subset[pareto_front_mask(subset)]
            gains[i] = max(_volume(subset, ref) - volume, 0.0)
            exact_at[i] = step
        picked.append(i)
        volume += max(float(gains[i]), 0.0)
        gains[i] = -np.inf
        # a gain over the picked points is at most the gain over the newest alone (submodular)
        alone = boxes - np.prod(np.clip(ref - np.maximum(y, y[i]), 0.0, None), axis=1)
        np.minimum(gains, alone, out=gains)
    return np.array(picked, dtype=np.int64)


def _check_reference(y: np.ndarray, reference: np.ndarray) -> np.ndarray:
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if ref.shape[0] != y.shape[1]:
        raise ValueError(
            f"the reference point has {ref.shape[0]} objectives, the points {y.shape[1]}"
        )
    return ref


def _volume(points: np.ndarray, ref: np.ndarray) -> float:
    """Hypervolume of points that all dominate ``ref``, mutually non-dominated if more than 3
    objectives."""
    n, m = points.shape
    if n == 0:
        return 0.0
    if n == 1 or m == 1:
        return float(np.prod(ref - points.min(axis=0)))
    if m == 2:
        return _sweep_2d(points, ref)
    if m == 3:
        return _sweep_3d(points, ref)
    return _wfg(points, ref)


def _sweep_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Two objectives: sweep by the first; each point that lowers the running minimum of the
    second adds the slab between the two levels, from its first objective to the
    reference's."""
    order = np.lexsort((points[:, 1], points[:, 0]))
    first, second = points[order, 0], points[order, 1]
    level = np.minimum.accumulate(second)
    previous = np.concatenate([[ref[1]], level[:-1]])
    return float(np.sum((ref[0] - first) * (previous - level)))


def _sweep_3d(points: np.ndarray, ref: np.ndarray) -> float:
    """Three objectives: sweep up the third. After each point the 2-D front of the points
    seen so far (first objective ascending, second descending) dominates an area that
    extends up to the next point's third objective; inserting a point adds its exclusive
    area, the strips between it and the staircase it goes under."""
    order = np.argsort(points[:, 2], kind="stable")
    xs: list[float] = []  # the 2-D front: xs ascending, ys strictly descending
    ys: list[float] = []
    area = volume = 0.0
    heights = np.append(points[order, 2], ref[2])
    for rank, (x, y) in enumerate(points[order, :2].tolist()):
        i = bisect.bisect_left(xs, x)  # xs[:i] < x <= xs[i:]
        behind_left = i > 0 and ys[i - 1] <= y
        behind_equal = i < len(xs) and xs[i] == x and ys[i] <= y
        if not (behind_left or behind_equal):
            end = i
            while end < len(xs) and ys[end] >= y:  # the points it dominates
                end += 1
            level, left = (ys[i - 1] if i > 0 else ref[1]), x
            for j in range(i, end):  # the strips under the staircase it covers
                area += (xs[j] - left) * (level - y)
                level, left = ys[j], xs[j]
            area += ((xs[end] if end < len(xs) else ref[0]) - left) * (level - y)
            xs[i:end], ys[i:end] = [x], [y]
        volume += area * (heights[rank + 1] - heights[rank])
    return volume


def _wfg(points: np.ndarray, ref: np.ndarray) -> float:
    """WFG (While et al. 2012, Sec. III): the sum of the points' exclusive hypervolumes, each
    ``prod(ref - p_k)`` minus the hypervolume of ``limit(p_{k+1..n}, p_k)``, the later points
    moved to the boundary of ``p_k``'s box (``max(p_j, p_k)``) and reduced to their front.
    Points are taken in decreasing order of the last objective, which keeps limit sets small
    and gives every limited point ``p_k``'s last coordinate: the limit set's hypervolume is
    that height times its hypervolume in the other objectives."""
    points = points[np.argsort(-points[:, -1], kind="stable")]
    total = 0.0
    for k in range(len(points)):
        height = float(ref[-1] - points[k, -1])
        base = float(np.prod(ref[:-1] - points[k, :-1]))
        later = points[k + 1 :, :-1]
        if len(later):
            limited = np.maximum(later, points[k, :-1])
            base -= _volume(limited[pareto_front_mask(limited)], ref[:-1])
        total += height * base
    return total
