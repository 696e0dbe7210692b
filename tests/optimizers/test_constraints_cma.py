"""CMA-ES with constraints: infeasible members ranked after feasible ones, by violation."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.optimizers.cma import CMAESOptimizer
from tuneful.optimizers.tpe import TPEOptimizer
from tuneful.records import History, TrialRecord, TrialState

cmaes = pytest.importorskip("cmaes")


def seed_of(seed: int, run: int, generation: int) -> int:
    """The documented per-generation seed, written out independently of the module."""
    return int(np.random.SeedSequence([seed, 0, run, generation]).generate_state(1)[0])


def unit_space(dim: int) -> tuneful.Space:
    return tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(dim)})


def sphere(params: Mapping[str, Any]) -> float:
    return float(sum((float(v) - 0.3) ** 2 for v in params.values()))


def run(
    optimizer: CMAESOptimizer,
    space: tuneful.Space,
    n_trials: int,
    constraints: dict[int, tuple[float, ...]] | None = None,
    seed: int = 0,
) -> list[TrialRecord]:
    """One trial at a time, as a one-worker study; ``constraints`` by trial number."""
    trials: list[TrialRecord] = []
    for number in range(n_trials):
        history = History(space, ("minimize",), list(trials), number=number, seed=seed)
        point = optimizer.suggest(history, 1, np.random.default_rng([seed, number]))
        params = space.decode(point)[0]
        told = (constraints or {}).get(number)
        trials.append(
            TrialRecord(
                number,
                TrialState.COMPLETE,
                params=params,
                values=(sphere(params),),
                constraints=told,
            )
        )
    return trials


def test_infeasible_members_are_told_after_every_feasible_one_by_violation() -> None:
    space = unit_space(2)
    violated = {1: (0.3, -1.0), 2: (0.1,)}
    optimizer = CMAESOptimizer(seed=8, popsize=4, restart=None)
    trials = run(optimizer, space, 4, constraints=violated, seed=8)
    state = optimizer.state(History(space, ("minimize",), trials, seed=8))
    assert state is not None and state.generation == 1

    cma = cmaes.CMA(
        mean=np.full(2, 0.5), sigma=0.2, bounds=np.tile([0.0, 1.0], (2, 1)), population_size=4
    )
    cma.reseed_rng(seed_of(8, 0, 0))
    xs = [cma.ask() for _ in range(4)]
    worst = max(trials[0].values[0], trials[3].values[0])  # type: ignore[index]
    cma.tell(
        [
            (xs[0], trials[0].values[0]),  # type: ignore[index]
            (xs[1], worst + 0.3),
            (xs[2], worst + 0.1),
            (xs[3], trials[3].values[0]),  # type: ignore[index]
        ]
    )
    np.testing.assert_array_equal(state.mean, cma.mean)


def test_a_generation_with_no_feasible_member_ranks_by_violation_alone() -> None:
    space = unit_space(2)
    violated = {0: (2.0,), 1: (0.5,), 2: (1.0,), 3: (3.0,)}
    optimizer = CMAESOptimizer(seed=8, popsize=4, restart=None)
    trials = run(optimizer, space, 4, constraints=violated, seed=8)
    state = optimizer.state(History(space, ("minimize",), trials, seed=8))
    assert state is not None

    cma = cmaes.CMA(
        mean=np.full(2, 0.5), sigma=0.2, bounds=np.tile([0.0, 1.0], (2, 1)), population_size=4
    )
    cma.reseed_rng(seed_of(8, 0, 0))
    xs = [cma.ask() for _ in range(4)]
    cma.tell([(xs[k], violated[k][0]) for k in range(4)])
    np.testing.assert_array_equal(state.mean, cma.mean)


def test_start_up_mean_is_the_best_feasible_start_up_trial() -> None:
    space = unit_space(3)
    plain = run(CMAESOptimizer(seed=6, n_startup=5), space, 5, seed=6)
    best = min(plain, key=lambda t: t.values[0])  # type: ignore[index]
    # the best start-up trial violates a constraint: the run starts at the best feasible one
    violated = {best.number: (1.0,)}
    optimizer = CMAESOptimizer(seed=6, n_startup=5)
    trials = run(optimizer, space, 5, constraints=violated, seed=6)
    feasible = [t for t in trials if t.number != best.number]
    second = min(feasible, key=lambda t: t.values[0])  # type: ignore[index]
    state = optimizer.state(History(space, ("minimize",), trials, seed=6))
    assert state is not None
    np.testing.assert_allclose(state.mean, space.encode([second.params])[0], atol=1e-12)


def test_a_fresh_optimizer_on_a_constrained_history_continues_exactly() -> None:
    space = unit_space(3)
    used = CMAESOptimizer(seed=3, n_startup=4)
    violated = {n: (0.2 * (n % 3),) for n in range(30)}
    trials = run(used, space, 30, constraints=violated, seed=3)
    history = History(space, ("minimize",), trials, number=30, seed=3)
    point = used.suggest(history, 1, np.random.default_rng([3, 30]))
    again = CMAESOptimizer(seed=3, n_startup=4).suggest(history, 1, np.random.default_rng([3, 30]))
    np.testing.assert_array_equal(point, again)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cma_finds_the_constrained_optimum_not_the_infeasible_one(seed: int) -> None:
    """min x^2 + y^2 subject to x >= 1: the unconstrained optimum (0, 0) is infeasible, the
    constrained one is (1, 0) with value 1. Without the constraints CMA-ES goes to (0, 0)
    (the control below); with them its late trials are feasible and near (1, 0)."""
    space = tuneful.Space(x=tuneful.Float(-3, 3), y=tuneful.Float(-3, 3))

    def study_of(constrained: bool) -> tuneful.Study:
        study = tuneful.create_study(space=space, storage="memory://", seed=seed, optimizer="cmaes")

        def objective(trial: tuneful.Trial) -> float:
            x, y = trial.params["x"], trial.params["y"]
            if constrained:
                trial.set_constraints([1.0 - x])
            return x * x + y * y

        study.optimize(objective, n_trials=120, show_progress_bar=False)
        return study

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cmaes takes constraints into account: no warning
        constrained = study_of(True)
    late = constrained.trials[-30:]
    assert sum(t.feasible for t in late) >= 15
    best = constrained.best_trial
    assert best.feasible and best.params["x"] >= 1.0
    assert best.value is not None and best.value < 1.3

    ignored = study_of(False)  # the same search blind to the constraint
    assert sum(t.params["x"] >= 1.0 for t in ignored.trials[-30:]) < 5


def test_a_delegated_space_shows_tpe_infeasible_trials_ranked_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    space = tuneful.Space(
        x=tuneful.Float(0.0, 1.0),
        kind=tuneful.Categorical(["a", "b", "c"]),
        y=tuneful.Float(0.0, 1.0, when={"kind": "a"}),
    )
    trials = [
        TrialRecord(
            0,
            TrialState.COMPLETE,
            params={"x": 0.1, "kind": "b"},
            values=(0.1,),
            constraints=(2.0,),
        ),
        TrialRecord(
            1,
            TrialState.COMPLETE,
            params={"x": 0.5, "kind": "c"},
            values=(0.5,),
            constraints=(-1.0,),
        ),
    ]
    seen: list[History] = []

    def spy(self: TPEOptimizer, history: History, n: int, rng: np.random.Generator) -> Any:
        seen.append(history)
        return np.full((n, history.space.dim), 0.5)

    monkeypatch.setattr(TPEOptimizer, "suggest", spy)
    history = History(space, ("minimize",), trials, number=2, seed=0)
    CMAESOptimizer(seed=0).suggest(history, 1, np.random.default_rng(0))
    assert [t.values for t in seen[0].trials] == [(2.5,), (0.5,)]  # 0.5 worst feasible + 2
