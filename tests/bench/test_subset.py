"""Star discrepancy and task-subset selection, checked by hand and by brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tuneful.bench.results import Run
from tuneful.bench.subset import dev_test_split, select_subset, star_discrepancy, task_points


def brute_force(points: np.ndarray) -> float:
    """Every corner of the coordinate grid, open and closed boxes counted point by point."""
    n, k = points.shape
    axes = [sorted(set(points[:, d]) | {1.0}) for d in range(k)]
    worst = 0.0
    for corner in itertools.product(*axes):
        x = np.array(corner)
        volume = float(np.prod(x))
        inside_open = np.mean(np.all(points < x, axis=1))
        inside_closed = np.mean(np.all(points <= x, axis=1))
        worst = max(worst, volume - inside_open, inside_closed - volume)
    return worst


def test_one_dimension_by_hand() -> None:
    assert star_discrepancy(np.array([0.25, 0.75])) == pytest.approx(0.25)
    assert star_discrepancy(np.array([[0.5]])) == pytest.approx(0.5)
    # a point at 1 lies outside the open box [0, 1), whose volume is 1
    assert star_discrepancy(np.array([[1.0]])) == pytest.approx(1.0)


def test_one_dimension_closed_form() -> None:
    # Niederreiter: D* = 1 / (2n) + max_i | x_(i) - (2i - 1) / (2n) |
    x = np.sort(np.random.default_rng(4).random(9))
    n = x.size
    expected = 1 / (2 * n) + np.max(np.abs(x - (2 * np.arange(1, n + 1) - 1) / (2 * n)))
    assert star_discrepancy(x) == pytest.approx(expected)


def test_two_dimensions_by_hand() -> None:
    # one point at the centre: the closed box [0, 0.5]^2 holds it with volume 0.25
    assert star_discrepancy(np.array([[0.5, 0.5]])) == pytest.approx(0.75)
    # the four centres of the quadrants: the closed box [0, 0.75]^2 holds all four
    # (share 1) with volume 0.5625, so D* = 0.4375
    quadrants = np.array([[0.25, 0.25], [0.25, 0.75], [0.75, 0.25], [0.75, 0.75]])
    assert star_discrepancy(quadrants) == pytest.approx(brute_force(quadrants))
    assert star_discrepancy(quadrants) == pytest.approx(0.4375)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_exact_matches_brute_force(k: int) -> None:
    rng = np.random.default_rng(k)
    for n in (1, 4, 9):
        points = rng.random((n, k))
        points[0] = np.round(points[0], 1)  # shared coordinates and ties with the grid
        if n > 1:
            points[1, 0] = points[0, 0]
        assert star_discrepancy(points, method="exact") == pytest.approx(brute_force(points))


def test_sampling_gives_a_lower_bound() -> None:
    points = np.random.default_rng(0).random((12, 3))
    exact = star_discrepancy(points, method="exact")
    sampled = star_discrepancy(points, method="sample", samples=2000, seed=1)
    assert sampled <= exact + 1e-12
    assert sampled == star_discrepancy(points, method="sample", samples=2000, seed=1)
    # 2000 draws on a grid of 13^3 = 2197 corners find the worst one or come close
    assert sampled > 0.8 * exact


def test_points_outside_the_cube_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        star_discrepancy(np.array([[0.2, 1.5]]))
    with pytest.raises(ValueError, match="method"):
        star_discrepancy(np.array([[0.2]]), method="guess")


def test_selected_subset_beats_random_subsets_and_is_deterministic() -> None:
    points = np.random.default_rng(7).random((24, 2))
    chosen = select_subset(points, 6, seed=0, restarts=2)
    assert len(chosen) == 6 == len(set(chosen)) and chosen == sorted(chosen)
    assert chosen == select_subset(points, 6, seed=0, restarts=2)
    rng = np.random.default_rng(1)
    random_values = [
        star_discrepancy(points[rng.choice(24, size=6, replace=False)]) for _ in range(50)
    ]
    assert star_discrepancy(points[chosen]) < np.mean(random_values)
    assert star_discrepancy(points[chosen]) <= np.min(random_values) + 1e-12


def test_select_subset_respects_exclude_and_bounds() -> None:
    points = np.random.default_rng(2).random((10, 2))
    chosen = select_subset(points, 3, seed=0, restarts=1, exclude=[0, 1, 2])
    assert not set(chosen) & {0, 1, 2}
    assert select_subset(points, 7, seed=0, exclude=[0, 1, 2]) == list(range(3, 10))
    with pytest.raises(ValueError, match="m must be"):
        select_subset(points, 8, exclude=[0, 1, 2])
    with pytest.raises(ValueError, match="exclude"):
        select_subset(points, 2, exclude=[10])


def test_dev_test_split_is_disjoint_and_seeded() -> None:
    points = np.random.default_rng(3).random((16, 2))
    dev, test = dev_test_split(points, 4, 5, seed=0, restarts=1)
    assert len(dev) == 4 and len(test) == 5 and not set(dev) & set(test)
    assert (dev, test) == dev_test_split(points, 4, 5, seed=0, restarts=1)
    with pytest.raises(ValueError, match="exceeds"):
        dev_test_split(points, 10, 7)


def test_task_points_from_runs() -> None:
    runs = []
    for task, (a, b) in {"t1": (0.0, 1.0), "t2": (0.5, 0.25)}.items():
        runs.append(Run("a", task, 0, np.array([a]), np.ones(1)))
        runs.append(Run("b", task, 0, np.array([b]), np.ones(1)))
        runs.append(Run("pin", task, 0, np.array([0.0, 1.0]), np.ones(2)))  # range [0, 1]
    tasks, points = task_points(runs, ["b", "a"])
    assert tasks == ["t1", "t2"]
    np.testing.assert_allclose(points, [[1.0, 0.0], [0.25, 0.5]])
    with pytest.raises(ValueError, match="did you mean 'a'"):
        task_points(runs, ["aa"])
    with pytest.raises(ValueError, match="no run on tasks"):
        task_points([*runs, Run("a", "t3", 0, np.array([1.0]), np.ones(1))], ["a", "b"])
