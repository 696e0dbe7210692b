"""Multi-objective TPE: the good set (fronts, the last cut by greedy hypervolume subset
selection), its constrained variant, and the search it drives."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tuneful
from tuneful._pareto import greedy_hypervolume_subset, hypervolume, non_dominated_sort
from tuneful.bench.tasks.zdt_dtlz import ClassicTask
from tuneful.optimizers._motpe import good_rows, reference_point
from tuneful.optimizers.tpe import TPEOptimizer, _constrained_split, _n_good
from tuneful.records import History, TrialRecord, TrialState


def front(n: int, m: int, seed: int) -> np.ndarray:
    """n mutually non-dominated points: on the positive part of the unit sphere."""
    points = np.abs(np.random.default_rng(seed).normal(size=(n, m)))
    return 1.0 - points / np.linalg.norm(points, axis=1, keepdims=True)


def plain_greedy(y: np.ndarray, k: int, ref: np.ndarray) -> list[int]:
    picked: list[int] = []
    for _ in range(k):
        rest = [i for i in range(len(y)) if i not in picked]
        gains = [hypervolume(y[[*picked, i]], ref) for i in rest]
        picked.append(rest[int(np.argmax(gains))])
    return picked


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_greedy_subset_holds_the_greedy_bound_of_the_brute_force_best(m: int, seed: int) -> None:
    y = front(8, m, seed)
    ref = np.full(m, 1.1)
    for k in range(1, 8):
        best = max(hypervolume(y[list(c)], ref) for c in itertools.combinations(range(8), k))
        greedy = hypervolume(y[greedy_hypervolume_subset(y, k, ref)], ref)
        assert greedy >= (1 - 1 / math.e) * best
        if k == 1:  # one point: greedy is exact
            assert greedy == pytest.approx(best)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_lazy_greedy_picks_what_plain_greedy_picks(m: int) -> None:
    y = front(15, m, seed=m)
    ref = np.full(m, 1.1)
    assert greedy_hypervolume_subset(y, 6, ref).tolist() == plain_greedy(y, 6, ref)


def test_greedy_subset_spreads_over_a_crowded_front() -> None:
    # the two ends and a tight crowd near (0.5, 0.5): two places take the two ends
    y = np.array([[0.0, 1.0], [0.5, 0.5], [0.5001, 0.4999], [0.4999, 0.5001], [1.0, 0.0]])
    picked = greedy_hypervolume_subset(y, 3, np.array([1.1, 1.1]))
    assert set(picked.tolist()) & {0, 4} == {0, 4}
    assert len(set(picked.tolist()) & {1, 2, 3}) == 1


def test_greedy_subset_edge_cases() -> None:
    y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [5.0, 5.0]])
    ref = np.array([4.0, 4.0])
    assert greedy_hypervolume_subset(y, 4, ref).tolist() == [0, 1, 2, 3]
    assert greedy_hypervolume_subset(y, 0, ref).tolist() == []
    assert greedy_hypervolume_subset(y, 3, ref).tolist() == [1, 0, 2]  # [5, 5] adds nothing


def test_the_good_set_holds_all_of_front_0_when_it_fits() -> None:
    rng = np.random.default_rng(0)
    y = rng.random((60, 2))
    fronts = non_dominated_sort(y)
    size = int(np.sum(fronts == 0))
    rows = good_rows(y, size + 3)
    assert set(np.flatnonzero(fronts == 0)) <= set(rows.tolist())
    assert len(rows) == size + 3 and np.all(fronts[rows[size:]] == 1)
    # whole fronts while they fit, then the greedy subset of the next
    cut = np.flatnonzero(fronts == 1)
    expected = cut[greedy_hypervolume_subset(y[cut], 3, reference_point(y[cut]))]
    assert rows[size:].tolist() == expected.tolist()


def test_the_good_set_cuts_front_0_by_hypervolume_when_it_does_not_fit() -> None:
    y = np.array([[0.0, 1.0], [0.5, 0.5], [0.5001, 0.4999], [0.4999, 0.5001], [1.0, 0.0], [2, 2]])
    rows = good_rows(y, 3)
    assert set(rows.tolist()) & {0, 4} == {0, 4} and 5 not in rows


def test_the_good_set_is_invariant_to_scaling_an_objective() -> None:
    y = np.random.default_rng(1).random((40, 2))
    scaled = y * np.array([1000.0, 1.0]) + np.array([-7.0, 3.0])
    assert good_rows(y, 10).tolist() == good_rows(scaled, 10).tolist()


def test_several_objectives_take_ceil_gamma_n_good_trials_uncapped() -> None:
    assert _n_good(0.1, None, (1000, 1)) == 25
    assert _n_good(0.1, None, (1000, 2)) == 100
    assert _n_good(0.1, 40, (1000, 2)) == 40
    assert TPEOptimizer().settings()["max_good"] is None


def test_constrained_several_objectives_take_fronts_among_the_feasible_trials() -> None:
    rng = np.random.default_rng(2)
    values = rng.random((50, 2))
    constraints = rng.normal(size=50)  # about half feasible
    trials = [
        TrialRecord(number=i, state=TrialState.COMPLETE, params={"x": 0.5}, values=tuple(v),
                    constraints=(float(c),))
        for i, (v, c) in enumerate(zip(values, constraints, strict=True))
    ]  # fmt: skip
    good, bad = _constrained_split(trials, ("minimize", "minimize"), 0.1, None)[0]
    feasible = np.flatnonzero(constraints <= 0)
    assert set(good.tolist()) <= set(feasible.tolist()) and len(good) == 5
    assert good.tolist() == feasible[good_rows(values[feasible], 5)].tolist()
    assert sorted([*good.tolist(), *bad.tolist()]) == list(range(50))


def zdt1_hypervolume(optimizer: str, seed: int, trials: int) -> float:
    task = ClassicTask("zdt1", 5, 2)
    study = tuneful.create_study(
        space=task.space, directions=["minimize", "minimize"], storage="memory://",
        optimizer=optimizer, seed=seed,
    )  # fmt: skip
    study.optimize(lambda t: tuple(task.evaluate(t.params).values()), n_trials=trials,
                   show_progress_bar=False)  # fmt: skip
    y = np.array([t.values for t in study.trials])
    return hypervolume(y, np.array(task.reference_point)) / task.max_hypervolume


def test_multi_objective_tpe_beats_random_on_zdt1_hypervolume() -> None:
    tpe = [zdt1_hypervolume("tpe", seed, 100) for seed in range(3)]
    random = [zdt1_hypervolume("random", seed, 100) for seed in range(3)]
    assert np.mean(tpe) > np.mean(random) + 0.1


def mo_history(n: int, constrained: bool) -> History:
    rng = np.random.default_rng(5)
    trials = []
    for i in range(n):
        x, y = rng.random(2)
        trials.append(TrialRecord(
            number=i, state=TrialState.COMPLETE, params={"x": float(x), "y": float(y)},
            values=(float(x), float(1 - x * x + y)),
            constraints=(float(x + y - 1.2),) if constrained else None,
        ))  # fmt: skip
    space = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
    return History(space, ("minimize", "minimize"), trials, number=n, seed=0)


@pytest.mark.parametrize("constrained", [False, True])
def test_a_fresh_optimizer_on_a_multi_objective_history_continues_exactly(
    constrained: bool,
) -> None:
    warm = TPEOptimizer(seed=3)
    for n in (20, 30, 40):  # the running optimizer's caches have followed the history
        warm.suggest(mo_history(n, constrained), 1, np.random.default_rng(n))
    history = mo_history(41, constrained)
    continued = warm.suggest(history, 2, np.random.default_rng(7))
    resumed = TPEOptimizer(seed=3).suggest(history, 2, np.random.default_rng(7))
    np.testing.assert_array_equal(continued, resumed)
