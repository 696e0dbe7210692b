"""Hypervolume, its estimate and trace, IGD/IGD+ and attainment surfaces, checked by hand
and against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tuneful.analysis.indicators import (
    attainment_surface,
    attainment_surfaces,
    hypervolume,
    hypervolume_estimate,
    hypervolume_over_time,
    igd,
    igd_plus,
    reference_point,
    study_front,
)
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState


def cell_count(y: np.ndarray, ref: np.ndarray, step: float) -> float:
    """The volume of the cells of a grid of side ``step`` over [min, ref) that some point
    dominates, counted one by one (exact for points on the grid)."""
    low = y.min(axis=0)
    axes = [np.arange(lo, r, step) for lo, r in zip(low, ref, strict=True)]
    corners = np.array(list(itertools.product(*axes)))
    covered = np.zeros(len(corners), dtype=bool)
    for point in y:
        covered |= np.all(corners >= point - 1e-12, axis=1)
    return float(covered.sum()) * step ** y.shape[1]


def test_hypervolume_by_hand_in_two_three_and_four_objectives() -> None:
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]) == 6.0  # 3 + 2 + 1
    # three unit boxes in a 2-cube meeting at the origin corner: 3*4 - 3*2 + 1 = 7
    assert hypervolume(np.eye(3), [2, 2, 2]) == pytest.approx(7.0)
    # two 4-D boxes of volume 2*1*1*1 and 1*2*1*1 overlapping in a unit hypercube
    assert hypervolume([[0, 1, 1, 1], [1, 0, 1, 1]], [2, 2, 2, 2]) == pytest.approx(3.0)


def test_maximized_objectives_are_turned_around() -> None:
    points = [[1.0, -3.0], [2.0, -2.0], [3.0, -1.0]]  # f2 = -(staircase): maximize it
    assert hypervolume(points, [4, -4], directions=["minimize", "maximize"]) == 6.0
    assert hypervolume([[3, 1]], [0, 0], directions=["maximize", "maximize"]) == 3.0


@pytest.mark.parametrize(("m", "levels", "n"), [(2, 9, 30), (3, 7, 25), (4, 5, 20)])
@pytest.mark.parametrize("seed", range(3))
def test_hypervolume_matches_a_cell_count(m: int, levels: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, levels, size=(n, m)) * 0.5  # ties and duplicates included
    ref = np.full(m, levels * 0.5)
    assert hypervolume(y, ref) == pytest.approx(cell_count(y, ref, 0.5))


def test_points_not_beating_the_reference_add_nothing() -> None:
    ref = [4.0, 4.0]
    assert hypervolume([[4.0, 1.0], [5.0, 0.0], [1.0, 4.0]], ref) == 0.0
    assert hypervolume([[1.0, 1.0], [4.0, 0.0]], ref) == 9.0


def test_the_derived_reference_is_the_nadir_plus_a_tenth_of_the_range() -> None:
    y = np.array([[0.0, 10.0], [2.0, 0.0]])
    np.testing.assert_allclose(reference_point(y), [2.2, 11.0])
    np.testing.assert_allclose(reference_point(y, directions=["minimize", "maximize"]), [2.2, -1.0])
    assert hypervolume(y) == pytest.approx(2.2 * 1.0 + 0.2 * 10.0)  # the default reference
    np.testing.assert_allclose(reference_point([[1.0, 5.0]]), [1.1, 5.1])  # flat: range taken as 1


@pytest.mark.parametrize("m", [2, 4, 6])
def test_the_estimate_is_within_a_few_standard_errors(m: int) -> None:
    rng = np.random.default_rng(m)
    x = np.abs(rng.normal(size=(40, m)))
    y = x / np.linalg.norm(x, axis=1, keepdims=True)
    ref = np.full(m, 1.1)
    exact = hypervolume(y, ref)
    estimate = hypervolume_estimate(y, ref, samples=40_000, seed=1)
    assert estimate.standard_error > 0 and estimate.samples == 40_000
    assert abs(estimate.value - exact) < 4 * estimate.standard_error
    assert hypervolume_estimate(y, ref, samples=40_000, seed=1) == estimate  # seeded


def test_the_estimate_of_a_box_is_exact_and_of_nothing_is_zero() -> None:
    single = hypervolume_estimate([[0.0, 0.0, 0.0]], [1.0, 2.0, 3.0], samples=100)
    assert (single.value, single.standard_error) == (6.0, 0.0)
    outside = hypervolume_estimate([[5.0, 5.0]], [1.0, 1.0], samples=100)
    assert (outside.value, outside.standard_error) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: hypervolume([1.0, 2.0], [3, 3]), "expected a matrix"),
        (lambda: hypervolume([[1.0, np.nan]], [3, 3]), "must be finite"),
        (lambda: hypervolume([[1.0, 2.0]], [3, 3], directions=["min", "max"]), "directions="),
        (lambda: hypervolume([[1.0, 2.0]], [3, 3, 3]), "expected 2 finite numbers"),
        (lambda: hypervolume(np.empty((0, 2))), "no points to derive a reference"),
        (lambda: hypervolume_estimate([[1.0, 2.0]], [3, 3], samples=0), "samples=0"),
        (lambda: igd([[0.0, 1.0]], [[0.0, 1.0, 2.0]]), "same number of objectives"),
        (lambda: attainment_surfaces([]), "at least one run"),
        (lambda: attainment_surfaces([[[1.0, 2.0, 3.0]]]), "attainment needs 2"),
        (lambda: attainment_surface([[[1.0, 2.0]]], 0.0), "level=0.0"),
    ],
)
def test_bad_inputs_are_study_errors(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StudyError, match=message):
        call()


def test_igd_and_igd_plus_on_a_known_front() -> None:
    front = np.column_stack([np.linspace(0, 1, 11), 1 - np.linspace(0, 1, 11)])
    assert igd(front, front) == 0.0 and igd_plus(front, front) == 0.0
    shifted = front + 0.1  # every point worse by 0.1 in both objectives
    assert igd(shifted, front) == pytest.approx(0.1 * np.sqrt(2))
    assert igd_plus(shifted, front) == pytest.approx(0.1 * np.sqrt(2))
    better = front - 0.1  # dominates the front: IGD+ is 0, IGD is not
    assert igd_plus(better, front) == 0.0
    assert igd(better, front) == pytest.approx(0.1 * np.sqrt(2))
    ends = np.array([[0.0, 1.0], [1.0, 0.0]])
    expected = np.mean([np.hypot(min(t, 1 - t), min(t, 1 - t)) for t in np.linspace(0, 1, 11)])
    assert igd(ends, front) == pytest.approx(expected)
    maximized = igd(-shifted, -front, directions=["maximize", "maximize"])
    assert maximized == pytest.approx(igd(shifted, front))


def brute_attainment(runs: list[np.ndarray], k: int, grid: np.ndarray) -> np.ndarray:
    """Which grid points at least k runs attain (some point no worse in both)."""
    counts = np.zeros(len(grid), dtype=int)
    for run in runs:
        counts += np.any(np.all(run[None, :, :] <= grid[:, None, :], axis=2), axis=1)
    return counts >= k


def attained_by_surface(surface: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if len(surface) == 0:
        return np.zeros(len(grid), dtype=bool)
    return np.any(np.all(surface[None, :, :] <= grid[:, None, :], axis=2), axis=1)


def test_attainment_of_identical_runs_is_that_run() -> None:
    run = np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0], [2.5, 2.5]])  # one dominated point
    front = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    for k, surface in enumerate(attainment_surfaces([run, run, run]), start=1):
        np.testing.assert_array_equal(surface, front, err_msg=f"k={k}")
    np.testing.assert_array_equal(attainment_surface([run] * 4, 0.5), front)


@pytest.mark.parametrize("seed", range(4))
def test_each_surface_bounds_what_k_runs_attain(seed: int) -> None:
    rng = np.random.default_rng(seed)
    runs = [rng.integers(0, 8, size=(rng.integers(0, 6), 2)).astype(float) for _ in range(5)]
    axis = np.arange(-0.5, 9.0, 0.5)
    grid = np.array(list(itertools.product(axis, axis)))
    surfaces = attainment_surfaces(runs)
    assert len(surfaces) == 5
    for k, surface in enumerate(surfaces, start=1):
        np.testing.assert_array_equal(
            attained_by_surface(surface, grid), brute_attainment(runs, k, grid), err_msg=f"k={k}"
        )
        assert np.all(np.diff(surface[:, 0]) > 0) and np.all(np.diff(surface[:, 1]) < 0)


def test_median_surface_of_two_objectives_and_maximized_runs() -> None:
    runs = [np.array([[1.0, 1.0]]), np.array([[2.0, 0.0]]), np.array([[0.0, 3.0]])]
    median = attainment_surface(runs, 0.5)  # k = 2 of 3
    np.testing.assert_array_equal(median, [[1.0, 3.0], [2.0, 1.0]])
    flipped = attainment_surface([-r for r in runs], 0.5, directions=["maximize", "maximize"])
    np.testing.assert_array_equal(flipped, -median)
    np.testing.assert_array_equal(attainment_surface(runs, 1.0), [[2.0, 3.0]])


def trial(number: int, values: tuple[float, ...] | None, constraints=None) -> TrialRecord:  # type: ignore[no-untyped-def]
    state = TrialState.COMPLETE if values is not None else TrialState.FAIL
    return TrialRecord(number=number, state=state, values=values, constraints=constraints)


def study(*trials: TrialRecord, directions=("minimize", "minimize")) -> StudyData:  # type: ignore[no-untyped-def]
    return StudyData("s", tuple(directions), tuple(trials))


def test_hypervolume_over_time_steps_at_each_completed_trial() -> None:
    data = study(
        trial(0, (3.0, 3.0)),
        trial(1, None),  # failed: no step
        trial(2, (1.0, 3.0)),
        trial(3, (3.5, 3.5)),  # dominated: no gain
        trial(4, (3.0, 1.0)),
    )
    trace = hypervolume_over_time(data, reference=[4.0, 4.0])
    np.testing.assert_array_equal(trace.numbers, [0, 2, 3, 4])
    np.testing.assert_allclose(trace.hypervolumes, [1.0, 3.0, 3.0, 5.0])
    assert trace.feasible_only is False
    np.testing.assert_allclose(trace.reference, [4.0, 4.0])


def test_hypervolume_over_time_counts_feasible_trials_only() -> None:
    data = study(
        trial(0, (3.0, 3.0), (0.0,)),
        trial(1, (0.0, 0.0), (1.0,)),  # the best point, but infeasible
        trial(2, (1.0, 3.0), (-1.0,)),
        directions=("minimize", "maximize"),
    )
    trace = hypervolume_over_time(data, reference=[4.0, 0.0])
    assert trace.feasible_only is True
    np.testing.assert_allclose(trace.hypervolumes, [3.0, 3.0, 9.0])
    last = hypervolume([[3.0, 3.0], [1.0, 3.0]], [4.0, 0.0], directions=trace.directions)
    assert trace.hypervolumes[-1] == last
    np.testing.assert_array_equal(study_front(data), [[1.0, 3.0]])


def test_hypervolume_over_time_derives_its_reference_from_feasible_trials() -> None:
    data = study(trial(0, (0.0, 2.0)), trial(1, (2.0, 0.0)), trial(2, (9.0, 9.0), (1.0,)))
    trace = hypervolume_over_time(data)
    np.testing.assert_allclose(trace.reference, [2.2, 2.2])


def test_hypervolume_over_time_of_empty_or_infeasible_studies_says_so() -> None:
    with pytest.raises(StudyError, match="no completed trial"):
        hypervolume_over_time(study(trial(0, None)))
    infeasible = study(trial(0, (1.0, 1.0), (2.0,)))
    with pytest.raises(StudyError, match="no feasible trial among its 1 completed"):
        hypervolume_over_time(infeasible)
    assert hypervolume_over_time(infeasible, reference=[2, 2]).hypervolumes.tolist() == [0.0]


def test_study_front_keeps_the_non_dominated_feasible_points_sorted() -> None:
    data = study(
        trial(0, (2.0, 1.0)), trial(1, (1.0, 2.0)), trial(2, (2.0, 2.0)), trial(3, (1.0, 2.0))
    )
    np.testing.assert_array_equal(study_front(data), [[1.0, 2.0], [1.0, 2.0], [2.0, 1.0]])
    assert study_front(study(trial(0, None))).shape == (0, 2)
