"""Pick a representative subset of tasks, after carps.

Each task is a point in [0, 1]^k: the final normalized regrets (mean over seeds) of k
optimizers that behave differently. A subset whose points spread evenly over the cube keeps
the variety of the full set; evenness is measured by the L-infinity star discrepancy

    D*(P) = sup over x in [0, 1]^k of | #{p in P : p in [0, x)} / n - vol([0, x)) |,

and the subset is chosen by swapping members for non-members while the discrepancy drops,
from several random starts. A dev subset is picked first, then a disjoint test subset.

Example:
    >>> import numpy as np
    >>> star_discrepancy(np.array([[0.25], [0.75]]))
    0.25
    >>> points = np.random.default_rng(0).random((30, 2))
    >>> dev, test = dev_test_split(points, 5, 5, seed=1)
    >>> set(dev).isdisjoint(test)
    True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from tuneful.bench.results import Run
from tuneful.bench.stats import anytime_curves, final_summary
from tuneful.errors import did_you_mean

__all__ = ["star_discrepancy", "select_subset", "dev_test_split", "task_points"]

# Above this many grid cells ("auto") samples the grid instead of enumerating it: the exact
# computation holds two integer arrays of this size (n = 100 points in 3-D is ~1e6 cells).
_EXACT_CELLS = 2_000_000
_SAMPLE_CHUNK = 4096


def _as_points(points: np.ndarray) -> np.ndarray:
    array = np.asarray(points, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"points must have shape (n, k) with n, k >= 1, got {array.shape}")
    if not np.all(np.isfinite(array)) or array.min() < 0 or array.max() > 1:
        raise ValueError("points must lie in [0, 1]^k (finite, no NaN)")
    return array


def _grids(points: np.ndarray) -> list[np.ndarray]:
    """Per dimension, the sorted distinct coordinates and 1: where the supremum is attained."""
    return [np.unique(np.append(points[:, d], 1.0)) for d in range(points.shape[1])]


def _exact(points: np.ndarray, grids: list[np.ndarray]) -> float:
    n, k = points.shape
    shape = tuple(g.size for g in grids)
    worst = 0.0
    volume = np.ones(shape)
    for d, grid in enumerate(grids):
        volume = volume * grid.reshape([-1 if i == d else 1 for i in range(k)])
    sides: tuple[tuple[Literal["left", "right"], float], ...] = (("right", -1.0), ("left", 1.0))
    for side, sign in sides:
        # A point lies in the open box [0, g) when every g_d > p_d (first such grid index:
        # searchsorted "right"), in the closed box [0, g] when every g_d >= p_d ("left").
        # Mark each point at its first grid index, then cumulative sums along every axis
        # count the points inside each box.
        counts = np.zeros(tuple(s + 1 for s in shape), dtype=np.int64)
        first = tuple(np.searchsorted(grids[d], points[:, d], side=side) for d in range(k))
        np.add.at(counts, first, 1)
        for axis in range(k):
            counts = np.cumsum(counts, axis=axis)
        inside = counts[tuple(slice(0, s) for s in shape)] / n
        # open boxes: volume - share (too few points); closed boxes: share - volume
        worst = max(worst, float(np.max(sign * (inside - volume))))
    return worst


def _sampled(
    points: np.ndarray, grids: list[np.ndarray], samples: int, rng: np.random.Generator
) -> float:
    n, k = points.shape
    worst = 0.0
    for start in range(0, samples, _SAMPLE_CHUNK):
        size = min(_SAMPLE_CHUNK, samples - start)
        corners = np.column_stack([g[rng.integers(0, g.size, size=size)] for g in grids])
        volume = np.prod(corners, axis=1)
        below = points[None, :, :] < corners[:, None, :]  # (size, n, k)
        at_most = points[None, :, :] <= corners[:, None, :]
        open_share = below.all(axis=2).sum(axis=1) / n
        closed_share = at_most.all(axis=2).sum(axis=1) / n
        worst = max(worst, float(np.max(volume - open_share)), float(np.max(closed_share - volume)))
    return worst


def star_discrepancy(
    points: np.ndarray, *, method: str = "auto", samples: int = 100_000, seed: int = 0
) -> float:
    """The L-infinity star discrepancy of a point set in [0, 1]^k.

    The supremum over anchored boxes [0, x) is attained at corners x on the grid
    G = G_1 x ... x G_k, where G_d holds the points' d-th coordinates and 1. At each corner
    both the open box (points with every p_d < x_d; the count can fall short of the volume)
    and the closed box (every p_d <= x_d; the count can exceed it) are checked:

        D* = max over x in G of max(vol(x) - #open(x) / n, #closed(x) / n - vol(x)).

    ``"exact"`` enumerates G: O((n + 1)^k) cells, fine for k <= 3 with a few hundred points
    or k = 4 with a few dozen. ``"sample"`` checks ``samples`` random corners of G (seeded)
    and so returns a lower bound of D* that tightens with more samples. ``"auto"`` is exact
    up to 2e6 cells and samples above.

    Args:
        points: (n, k) in [0, 1]; a 1-D array is read as n points in 1-D.

    Raises:
        ValueError: points outside [0, 1]^k, or an unknown method.
    """
    array = _as_points(points)
    if method not in ("auto", "exact", "sample"):
        raise ValueError(f"method must be 'auto', 'exact' or 'sample', got {method!r}")
    grids = _grids(array)
    cells = math.prod(g.size for g in grids)
    if method == "exact" or (method == "auto" and cells <= _EXACT_CELLS):
        return _exact(array, grids)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    return _sampled(array, grids, samples, np.random.default_rng(seed))


def select_subset(
    points: np.ndarray,
    m: int,
    *,
    seed: int | np.random.Generator = 0,
    restarts: int = 10,
    exclude: Iterable[int] = (),
    max_passes: int = 100,
    method: str = "auto",
) -> list[int]:
    """Indices of ``m`` points whose star discrepancy is as small as a swap search finds.

    Each restart draws ``m`` random members, then passes over the members in random order:
    each member is swapped for the non-member that lowers the discrepancy most, if any does.
    Passes repeat until one changes nothing (or ``max_passes``); the best restart wins.

    Args:
        points: (n, k) in [0, 1], one row per task.
        m: how many to pick, 1 <= m <= n - len(exclude).
        seed: an int or a Generator; the same seed gives the same subset.
        exclude: indices that may not be picked (e.g. the dev subset).
        method: passed to :func:`star_discrepancy`.

    Returns:
        The chosen indices, sorted.

    Raises:
        ValueError: m out of range, an excluded index out of range, restarts < 1.
    """
    array = _as_points(points)
    n = array.shape[0]
    excluded = {int(i) for i in exclude}
    if any(not 0 <= i < n for i in excluded):
        raise ValueError(f"exclude holds indices outside 0..{n - 1}: {sorted(excluded)}")
    candidates = [i for i in range(n) if i not in excluded]
    if not 1 <= m <= len(candidates):
        raise ValueError(
            f"m must be between 1 and the {len(candidates)} selectable points, got {m}"
        )
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    if m == len(candidates):
        return candidates
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def discrepancy(members: Sequence[int]) -> float:
        return star_discrepancy(array[list(members)], method=method)

    best: list[int] = []
    best_value = math.inf
    for _ in range(restarts):
        members = [int(i) for i in rng.choice(candidates, size=m, replace=False)]
        value = discrepancy(members)
        for _ in range(max_passes):
            changed = False
            for position in rng.permutation(m):
                outside = [c for c in candidates if c not in members]
                trials = []
                for candidate in outside:
                    trial = members.copy()
                    trial[position] = candidate
                    trials.append((discrepancy(trial), candidate))
                lowest, candidate = min(trials)
                if lowest < value - 1e-12:
                    members[position] = candidate
                    value = lowest
                    changed = True
            if not changed:
                break
        if value < best_value:
            best, best_value = sorted(members), value
    return best


def dev_test_split(
    points: np.ndarray,
    m_dev: int,
    m_test: int,
    *,
    seed: int = 0,
    restarts: int = 10,
    method: str = "auto",
) -> tuple[list[int], list[int]]:
    """A dev subset of ``m_dev`` points, then a disjoint test subset of ``m_test`` from the rest.

    Both are chosen by :func:`select_subset` with one generator seeded by ``seed``.

    Raises:
        ValueError: m_dev + m_test exceeds the number of points.
    """
    n = _as_points(points).shape[0]
    if m_dev + m_test > n:
        raise ValueError(f"m_dev + m_test = {m_dev + m_test} exceeds the {n} points")
    rng = np.random.default_rng(seed)
    dev = select_subset(points, m_dev, seed=rng, restarts=restarts, method=method)
    test = select_subset(points, m_test, seed=rng, restarts=restarts, exclude=dev, method=method)
    return dev, test


def task_points(runs: Sequence[Run], optimizers: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Place each task at the mean final normalized regrets of ``optimizers``.

    Regrets are normalized over all ``runs`` (every optimizer in them counts towards the
    task's range), not only over the listed optimizers.

    Returns:
        ``(tasks, points)``: the sorted task ids and an array of shape (len(tasks), k) whose
        column j belongs to ``optimizers[j]``.

    Raises:
        ValueError: an optimizer has no runs, or no run on some task.
    """
    if not optimizers:
        raise ValueError("optimizers is empty; expected the k optimizers that place the tasks")
    summary = final_summary(anytime_curves(runs, fractions=[1.0]))
    rows = []
    for name in optimizers:
        if name not in summary.optimizers:
            raise ValueError(
                f"no runs of optimizer {name!r}{did_you_mean(name, summary.optimizers)}"
            )
        rows.append(summary.optimizers.index(name))
    points = summary.mean[rows].T  # (t, k)
    missing = [t for t, row in zip(summary.tasks, points, strict=True) if np.isnan(row).any()]
    if missing:
        raise ValueError(
            f"some of {list(optimizers)} have no run on tasks {missing}; "
            "run them there or leave those tasks out"
        )
    return list(summary.tasks), points
