"""TPE with constraints: c-TPE (Watanabe & Hutter 2023), one good/bad split per constraint."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.optimizers.tpe import TPEOptimizer, _constrained_split
from tuneful.records import History, TrialRecord, TrialState

SQUARE = tuneful.Space(x=tuneful.Float(-2.0, 2.0), y=tuneful.Float(-2.0, 2.0))

Problem = Callable[[Mapping[str, Any]], tuple[tuple[float, ...], tuple[float, ...] | None]]


def disc(params: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """x + y on [-2, 2]^2 subject to the unit disc: the unconstrained optimum (-2, -2) is
    infeasible; the constrained one is (-1/sqrt 2, -1/sqrt 2), value -sqrt 2."""
    x, y = float(params["x"]), float(params["y"])
    return (x + y,), (x * x + y * y - 1.0,)


def run(
    optimizer: TPEOptimizer,
    space: tuneful.Space,
    problem: Problem,
    n_trials: int,
    *,
    directions: tuple[str, ...] = ("minimize",),
    constrained: bool = True,
    seed: int = 0,
) -> list[TrialRecord]:
    """One trial at a time, as a one-worker study (constraints told only if ``constrained``)."""
    trials: list[TrialRecord] = []
    for number in range(n_trials):
        history = History(space, directions, list(trials), number=number, seed=seed)
        point = optimizer.suggest(history, 1, np.random.default_rng([seed, number]))
        params = space.decode(point)[0]
        values, constraints = problem(params)
        trials.append(
            TrialRecord(
                number,
                TrialState.COMPLETE,
                params=params,
                values=values,
                constraints=constraints if constrained else None,
            )
        )
    return trials


def feasible_share_and_best(trials: list[TrialRecord]) -> tuple[float, float]:
    """Share of feasible trials after the start-up, and the best feasible value."""
    feasible = [disc(t.params)[1][0] <= 0.0 for t in trials]
    values = [t.values[0] for t, ok in zip(trials, feasible, strict=True) if ok and t.values]
    return float(np.mean(feasible[10:])), min(values, default=np.inf)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_constraint_moves_tpe_into_the_feasible_region(seed: int) -> None:
    constrained = run(TPEOptimizer(seed=seed), SQUARE, disc, 60, seed=seed)
    blind = run(TPEOptimizer(seed=seed), SQUARE, disc, 60, constrained=False, seed=seed)
    share, best = feasible_share_and_best(constrained)
    blind_share, blind_best = feasible_share_and_best(blind)
    assert share > 0.5 > 0.1 > blind_share
    assert best < -1.2  # the constrained optimum is -1.414
    assert best < blind_best


def test_an_all_infeasible_history_moves_towards_lower_violation() -> None:
    space = tuneful.Space(x=tuneful.Float(0.0, 1.0), y=tuneful.Float(0.0, 1.0))
    rng = np.random.default_rng(0)
    trials = []
    for number in range(30):  # x in [0, 0.7]; feasible needs x >= 0.8; the objective wants x = 0
        x, y = 0.7 * float(rng.random()), float(rng.random())
        trials.append(
            TrialRecord(
                number,
                TrialState.COMPLETE,
                params={"x": x, "y": y},
                values=(x,),
                constraints=(0.8 - x,),
            )
        )
    history = History(space, ("minimize",), trials, number=30, seed=0)
    points = np.concatenate(
        [TPEOptimizer(seed=0).suggest(history, 1, np.random.default_rng(i)) for i in range(20)]
    )
    assert points[:, 0].mean() > 0.6  # the history's mean x is about 0.35
    blind = History(
        space,
        ("minimize",),
        [TrialRecord(t.number, t.state, params=t.params, values=t.values) for t in trials],
        number=30,
    )
    blind_points = np.concatenate(
        [TPEOptimizer(seed=0).suggest(blind, 1, np.random.default_rng(i)) for i in range(20)]
    )
    assert blind_points[:, 0].mean() < 0.3


def test_the_objective_good_set_holds_no_infeasible_trial_while_one_is_feasible() -> None:
    values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    feasible = [False, False, True, False, True] + [False] * 7
    trials = [
        TrialRecord(
            i,
            TrialState.COMPLETE,
            params={"x": 0.0},
            values=(v,),
            constraints=(-1.0 if ok else 1.0 + i,),
        )
        for i, (v, ok) in enumerate(zip(values, feasible, strict=True))
    ]
    (good, bad), (c_good, c_bad) = _constrained_split(trials, ("minimize",), 0.25, 25)
    assert good.tolist() == [2, 4]  # ceil(0.25 * 12) = 3, but only 2 and 4 are feasible
    assert bad[0] == 0  # then the least violating (trial 0 has the best value of all)
    assert sorted(c_good.tolist()) == [2, 4]  # good for the constraint: those satisfying it
    assert sorted(c_bad.tolist()) == [i for i in range(12) if i not in (2, 4)]


def test_a_constraint_no_trial_satisfies_takes_the_closest_as_good() -> None:
    trials = [
        TrialRecord(i, TrialState.COMPLETE, params={}, values=(float(i),), constraints=(c, -1.0))
        for i, c in enumerate([3.0, 0.5, 2.0, 1.0])
    ]
    parts = _constrained_split(trials, ("minimize",), 0.1, 25)
    assert len(parts) == 2  # the second constraint, satisfied everywhere, is left out
    (good, _), (c_good, c_bad) = parts
    assert good.tolist() == [1]  # no feasible trial: the least violating one
    assert c_good.tolist() == [1] and sorted(c_bad.tolist()) == [0, 2, 3]


def test_trials_told_without_constraints_are_left_out_of_the_constraint_splits() -> None:
    space = tuneful.Space(x=tuneful.Float(0.0, 1.0), y=tuneful.Float(0.0, 1.0))
    rng = np.random.default_rng(1)
    trials = []
    for number in range(24):
        x, y = float(rng.random()), float(rng.random())
        told: tuple[float, ...] | None = None
        if number >= 12:  # constraints were told from trial 12 on, a second one from 18 on
            told = (x - 0.5,) if number < 18 else (x - 0.5, y - 0.5)
        trials.append(
            TrialRecord(
                number, TrialState.COMPLETE, params={"x": x, "y": y}, values=(y,), constraints=told
            )
        )
    parts = _constrained_split(trials, ("minimize",), 0.1, 25)
    assert all(set(np.concatenate(p).tolist()) <= set(range(12, 24)) for p in parts[1:2])
    assert all(set(np.concatenate(p).tolist()) <= set(range(18, 24)) for p in parts[2:])
    history = History(space, ("minimize",), trials, number=24, seed=0)
    points = TPEOptimizer(seed=0).suggest(history, 3, np.random.default_rng(0))
    assert points.shape == (3, 2) and ((points >= 0) & (points <= 1)).all()


def test_a_fresh_optimizer_on_a_constrained_history_continues_exactly() -> None:
    cached = TPEOptimizer(seed=3)
    trials = run(cached, SQUARE, disc, 25, seed=3)
    history = History(SQUARE, ("minimize",), trials, number=25, seed=3)
    continued = cached.suggest(history, 2, np.random.default_rng(7))
    resumed = TPEOptimizer(seed=3).suggest(history, 2, np.random.default_rng(7))
    np.testing.assert_array_equal(continued, resumed)
    replay = run(TPEOptimizer(seed=3), SQUARE, disc, 25, seed=3)
    assert [t.params for t in replay] == [t.params for t in trials]


def binh_korn_like(params: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Two objectives (distances to (-2, -2) and to (-2, 2)) and the unit disc: the
    unconstrained front joins two infeasible corners."""
    x, y = float(params["x"]), float(params["y"])
    f1 = (x + 2.0) ** 2 + (y + 2.0) ** 2
    f2 = (x + 2.0) ** 2 + (y - 2.0) ** 2
    return (f1, f2), (x * x + y * y - 1.0,)


def test_several_objectives_with_constraints_search_the_feasible_region() -> None:
    shares = {}
    for constrained in (True, False):
        trials = run(
            TPEOptimizer(seed=0),
            SQUARE,
            binh_korn_like,
            60,
            directions=("minimize", "minimize"),
            constrained=constrained,
        )
        late = [binh_korn_like(t.params)[1][0] <= 0.0 for t in trials[10:]]
        shares[constrained] = float(np.mean(late))
    assert shares[True] > 0.5 > shares[False] + 0.3


def test_a_constrained_study_runs_without_the_ignored_constraints_warning() -> None:
    study = tuneful.create_study(space=SQUARE, storage="memory://", optimizer="tpe", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(15):
            trial = study.ask()
            values, constraints = disc(trial.params)
            study.tell(trial, values[0], constraints=list(constraints))
    assert any(t.feasible for t in study.trials)


def test_pending_trials_and_batch_points_are_distinct_under_constraints() -> None:
    trials = run(TPEOptimizer(seed=4), SQUARE, disc, 20, seed=4)
    running = TrialRecord(20, TrialState.RUNNING, params={"x": -0.5, "y": -0.5})
    history = History(SQUARE, ("minimize",), [*trials, running], number=21, seed=4)
    points = TPEOptimizer(seed=4).suggest(history, 4, np.random.default_rng(0))
    configs = {tuple(p.values()) for p in SQUARE.decode(points)}
    assert len(configs) == 4 and (-0.5, -0.5) not in configs
