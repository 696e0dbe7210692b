"""Pareto fronts, crowding distance and hypervolume, checked against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tuneful import _pareto
from tuneful._pareto import crowding_distance, hypervolume, non_dominated_sort, pareto_front_mask
from tuneful.records import TrialRecord, TrialState, pareto_front


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def brute_fronts(y: np.ndarray) -> np.ndarray:
    """Front k: the points that only points of fronts < k dominate (the definition)."""
    front = np.full(len(y), -1)
    level = 0
    while (front < 0).any():
        left = np.flatnonzero(front < 0)
        current = [i for i in left if not any(dominates(y[j], y[i]) for j in left)]
        front[current] = level
        level += 1
    return front


def brute_hypervolume(y: np.ndarray, ref: np.ndarray) -> float:
    """Inclusion-exclusion over every non-empty subset: the union of the points' boxes."""
    y = y[np.all(y < ref, axis=1)]
    total = 0.0
    for size in range(1, len(y) + 1):
        for subset in itertools.combinations(range(len(y)), size):
            corner = y[list(subset)].max(axis=0)
            total += (-1) ** (size + 1) * float(np.prod(ref - corner))
    return total


def grid_hypervolume(y: np.ndarray, ref: np.ndarray) -> int:
    """For integer points: the number of unit cells of [0, ref) some point dominates."""
    cells = np.array(list(itertools.product(*(range(int(r)) for r in ref))))
    covered = np.zeros(len(cells), dtype=bool)
    for point in y:
        covered |= np.all(cells >= point, axis=1)
    return int(covered.sum())


def random_points(seed: int, n: int, m: int, *, levels: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if levels:  # integer values: many ties and equal points
        return rng.integers(0, levels, size=(n, m)).astype(float)
    return rng.random((n, m))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("m", [1, 2, 3, 4])
def test_non_dominated_sort_matches_the_definition(seed: int, m: int) -> None:
    for levels in (0, 4):
        y = random_points(seed, 40, m, levels=levels)
        np.testing.assert_array_equal(non_dominated_sort(y), brute_fronts(y))


@pytest.mark.parametrize("seed", range(6))
def test_the_front_mask_is_front_zero(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    y = random_points(seed, 57, 3, levels=5)
    expected = non_dominated_sort(y) == 0
    np.testing.assert_array_equal(pareto_front_mask(y), expected)
    monkeypatch.setattr(_pareto, "_BLOCK", 7)  # several blocks of rows, one ragged
    np.testing.assert_array_equal(pareto_front_mask(y), expected)


def test_equal_points_do_not_dominate_each_other() -> None:
    y = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(non_dominated_sort(y), [0, 0, 1])
    np.testing.assert_array_equal(pareto_front_mask(y), [True, True, False])


def test_empty_and_malformed_inputs() -> None:
    assert non_dominated_sort(np.empty((0, 2))).shape == (0,)
    assert pareto_front_mask(np.empty((0, 2))).shape == (0,)
    assert crowding_distance(np.empty((0, 2))).shape == (0,)
    assert hypervolume(np.empty((0, 2)), np.ones(2)) == 0.0
    with pytest.raises(ValueError, match=r"\(n_points, n_objectives\)"):
        pareto_front_mask(np.ones(3))
    with pytest.raises(ValueError, match="reference point has 3 objectives, the points 2"):
        hypervolume(np.ones((2, 2)), np.ones(3))


def brute_crowding(y: np.ndarray) -> np.ndarray:
    n, m = y.shape
    distance = np.zeros(n)
    for k in range(m):
        order = sorted(range(n), key=lambda i: (y[i, k], i))
        low, high = y[order[0], k], y[order[-1], k]
        distance[order[0]] = distance[order[-1]] = np.inf
        for position in range(1, n - 1):
            if high > low:
                gap = y[order[position + 1], k] - y[order[position - 1], k]
                distance[order[position]] += gap / (high - low)
    return distance


@pytest.mark.parametrize("seed", range(5))
def test_crowding_distance_matches_its_definition(seed: int) -> None:
    y = random_points(seed, 12, 3)
    np.testing.assert_allclose(crowding_distance(y), brute_crowding(y))


def test_crowding_distance_of_small_fronts_and_flat_objectives() -> None:
    assert np.all(np.isinf(crowding_distance(np.array([[0.0, 1.0], [1.0, 0.0]]))))
    flat = np.array([[0.0, 5.0], [1.0, 5.0], [3.0, 5.0]])  # the second objective never varies
    np.testing.assert_allclose(crowding_distance(flat), [np.inf, 1.0, np.inf])


def test_hypervolume_of_known_sets() -> None:
    staircase = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert hypervolume(staircase, np.array([4.0, 4.0])) == 6.0
    assert hypervolume(np.array([[0.5]]), np.array([2.0])) == 1.5
    assert hypervolume(np.array([[0.0, 0.0, 0.0]]), np.ones(3)) == 1.0
    cube_corners = np.eye(3)  # three unit-thick slabs of the 2-cube, pairwise overlapping
    assert hypervolume(cube_corners, np.full(3, 2.0)) == pytest.approx(7.0)


def test_points_outside_the_reference_or_dominated_add_nothing() -> None:
    ref = np.array([4.0, 4.0])
    base = np.array([[1.0, 3.0], [3.0, 1.0]])
    extra = np.array([[5.0, 0.0], [4.0, 2.0], [2.0, 3.5], [1.0, 3.0]])  # outside, on, behind
    assert hypervolume(np.vstack([base, extra]), ref) == hypervolume(base, ref) == 5.0


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_hypervolume_matches_inclusion_exclusion(seed: int, m: int) -> None:
    y = random_points(seed, 8, m)
    ref = np.full(m, 1.1)
    assert hypervolume(y, ref) == pytest.approx(brute_hypervolume(y, ref), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_counts_the_cells_of_integer_points(seed: int, m: int) -> None:
    y = random_points(seed, 15, m, levels=5)  # ties and equal points included
    ref = np.full(m, 5.0)
    assert hypervolume(y, ref) == pytest.approx(grid_hypervolume(y, ref))


def test_hypervolume_of_a_larger_three_objective_front_matches_a_fine_grid() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 12, size=(120, 3)).astype(float)
    ref = np.full(3, 12.0)
    assert hypervolume(y, ref) == pytest.approx(grid_hypervolume(y, ref))


def record(number: int, *values: float) -> TrialRecord:
    return TrialRecord(number=number, state=TrialState.COMPLETE, values=tuple(values))


def test_records_pareto_front_orients_maximized_objectives() -> None:
    records = [record(0, 1, 1), record(1, 0.5, 3), record(2, 2, 0.5), record(3, 0.5, 3)]
    records.append(record(4, 3, 3))
    front = pareto_front(records, ("minimize", "maximize"))
    assert [t.number for t in front] == [1, 3]  # equal points are both kept
    front = pareto_front(records, ("minimize", "minimize"))
    assert [t.number for t in front] == [0, 1, 2, 3]
    assert pareto_front([], ("minimize",)) == []


@pytest.mark.parametrize("seed", range(6))
def test_the_three_objective_sweep_matches_wfg(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 6, size=(60, 3)).astype(float)  # ties, duplicates, dominated points
    ref = np.full(3, 6.0)
    swept = _pareto._sweep_3d(y, ref)
    front = y[pareto_front_mask(y)]
    assert swept == pytest.approx(_pareto._wfg(front, ref))
    assert swept == pytest.approx(grid_hypervolume(y, ref))


@pytest.mark.parametrize("seed", range(4))
def test_non_dominated_sort_with_duplicated_rows(seed: int) -> None:
    y = random_points(seed, 20, 3)
    y = np.vstack([y, y[:7], y[:3]])  # exact duplicates share their front
    fronts = non_dominated_sort(y)
    np.testing.assert_array_equal(fronts, brute_fronts(y))
    np.testing.assert_array_equal(fronts[20:27], fronts[:7])


@pytest.mark.parametrize("m", [3, 5])
def test_hypervolume_estimate_is_unbiased_within_its_error(m: int) -> None:
    y = random_points(m, 12, m)
    ref = np.full(m, 1.1)
    value, error = _pareto.hypervolume_estimate(
        y, ref, samples=50_000, rng=np.random.default_rng(3)
    )
    assert error > 0
    assert abs(value - hypervolume(y, ref)) < 4 * error
