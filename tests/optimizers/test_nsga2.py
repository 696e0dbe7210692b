"""NSGA-II: hypervolume on ZDT1, replay and resume, constrained domination, pending trials."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful._pareto import hypervolume
from tuneful.errors import OptimizerError
from tuneful.optimizers import NSGAIIOptimizer, make_optimizer
from tuneful.optimizers._nsga import Variation, offspring, ranks
from tuneful.records import History, TrialRecord, TrialState

TWO = ("minimize", "minimize")


def unit_space(dim: int) -> tuneful.Space:
    return tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(dim)})


def zdt1(params: Mapping[str, Any]) -> tuple[float, float]:
    x = np.array([params[f"x{i}"] for i in range(len(params))])
    g = 1.0 + 9.0 * x[1:].mean()
    return float(x[0]), float(g * (1.0 - np.sqrt(x[0] / g)))


def zdt1_hypervolume(optimizer: Any, seed: int, n_trials: int) -> float:
    study = tuneful.create_study(
        space=unit_space(6), directions=list(TWO), storage="memory://", optimizer=optimizer,
        seed=seed,
    )  # fmt: skip
    study.optimize(lambda t: zdt1(t.params), n_trials=n_trials, show_progress_bar=False)
    y = np.array([t.values for t in study.trials])
    return hypervolume(y, np.array([1.1, 1.1]))


def record(
    number: int,
    values: tuple[float, ...] | None,
    x: float = 0.5,
    constraints: tuple[float, ...] | None = None,
    state: TrialState = TrialState.COMPLETE,
) -> TrialRecord:
    return TrialRecord(number, state, {"x0": x, "x1": 0.5}, values, constraints=constraints)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zdt1_reaches_a_hypervolume_bound_that_random_search_misses(seed: int) -> None:
    # ZDT1 in 6 dimensions, 500 evaluations; the whole front has hypervolume 0.87 from
    # (1.1, 1.1), a random sample of 500 points seldom reaches 0.15
    assert zdt1_hypervolume("nsga2", seed, 500) > 0.28
    assert zdt1_hypervolume("random", seed, 500) < 0.2


def test_one_objective_is_a_genetic_algorithm_that_beats_random_search() -> None:
    space = unit_space(4)

    def sphere(trial: tuneful.Trial) -> float:
        return float(sum((value - 0.3) ** 2 for value in trial.params.values()))

    for seed in range(3):
        bests = {}
        for name, optimizer in (
            ("nsga2", NSGAIIOptimizer(seed=seed, population_size=20)),
            ("random", "random"),
        ):
            study = tuneful.create_study(
                space=space, storage="memory://", optimizer=optimizer, seed=seed
            )
            study.optimize(sphere, n_trials=300, show_progress_bar=False)
            bests[name] = study.best_value
        assert bests["nsga2"] < 0.005 < bests["random"]


def test_three_objectives_run_and_keep_a_front() -> None:
    def dtlz2(trial: tuneful.Trial) -> tuple[float, float, float]:
        x = np.array([trial.params[f"x{i}"] for i in range(5)])
        g = float(np.sum((x[2:] - 0.5) ** 2))
        a, b = x[0] * np.pi / 2, x[1] * np.pi / 2
        r = 1 + g
        return r * np.cos(a) * np.cos(b), r * np.cos(a) * np.sin(b), r * np.sin(a)

    study = tuneful.create_study(
        space=unit_space(5), directions=["minimize"] * 3, storage="memory://",
        optimizer=NSGAIIOptimizer(population_size=20), seed=0,
    )  # fmt: skip
    study.optimize(dtlz2, n_trials=200, show_progress_bar=False)
    y = np.array([t.values for t in study.trials])
    late, early = y[100:], y[:20]
    # the later generations sit nearer the front (||f|| = 1 on it) than the Sobol start
    assert np.median(np.linalg.norm(late, axis=1)) < np.median(np.linalg.norm(early, axis=1))


def test_resume_gives_the_same_proposals_as_an_uninterrupted_run(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    optimizer = {"name": "nsga2", "settings": {"population_size": 6}}
    space = unit_space(3)

    def objective(trial: tuneful.Trial) -> tuple[float, float]:
        return zdt1(trial.params)

    whole = tuneful.create_study(
        "whole", space=space, directions=list(TWO), storage=url, optimizer=optimizer, seed=3
    )
    whole.optimize(objective, n_trials=31, show_progress_bar=False)
    parts = tuneful.create_study(
        "parts", space=space, directions=list(TWO), storage=url, optimizer=optimizer, seed=3
    )
    parts.optimize(objective, n_trials=13, show_progress_bar=False)  # stops mid-generation
    resumed = tuneful.load_study("parts", storage=url)
    resumed.optimize(objective, n_trials=18, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


def test_the_cached_chain_proposes_what_a_fresh_replay_does() -> None:
    space = unit_space(2)
    study = tuneful.create_study(
        space=space, directions=list(TWO), storage="memory://",
        optimizer=NSGAIIOptimizer(seed=1, population_size=5), seed=1,
    )  # fmt: skip
    study.optimize(lambda t: zdt1(t.params), n_trials=23, show_progress_bar=False)
    history = History(space, TWO, list(study.trials), number=23, seed=1)
    used = study.optimizer
    fresh = NSGAIIOptimizer(seed=1, population_size=5)
    for rng_seed in range(3):
        np.testing.assert_array_equal(
            used.suggest(history, 2, np.random.default_rng(rng_seed)),
            fresh.suggest(history, 2, np.random.default_rng(rng_seed)),
        )
    assert used.population(history, 4) == fresh.population(history, 4)


def test_constrained_domination_ranks_feasible_first_then_by_violation() -> None:
    y = np.array([[5.0, 5.0], [0.0, 0.0], [0.0, 0.0], [1.0, 6.0], [6.0, 1.0], [9.0, 9.0]])
    violation = np.array([0.0, 2.0, 0.5, 0.0, 0.0, 0.0])
    # feasible: front 0 = {0, 3, 4}, front 1 = {5}; infeasible after them by violation
    assert ranks(y, violation).tolist() == [0, 3, 2, 0, 0, 1]
    assert ranks(y[1:3], violation[1:3]).tolist() == [1, 0]  # none feasible


def test_survivors_keep_a_dominated_feasible_trial_over_infeasible_ones() -> None:
    # population 2: generation 0 = trials 0, 1; generation 1 = trials 2, 3; P_2 = best 2 of 4
    trials = [
        record(0, (0.0, 0.0), constraints=(3.0,)),
        record(1, (0.0, 0.0), constraints=(1.0, -4.0)),
        record(2, (9.0, 9.0), constraints=(-1.0,)),
        record(3, (2.0, 2.0), constraints=(0.5,)),
    ]
    history = History(unit_space(2), TWO, trials, number=4, seed=0)
    optimizer = NSGAIIOptimizer(seed=0, population_size=2)
    assert optimizer.population(history, 1) == [0, 1]
    assert optimizer.population(history, 2) == [2, 3]
    # without the constraints, the two (0, 0) trials dominate everything
    plain = [record(t.number, t.values) for t in trials]
    unconstrained = History(unit_space(2), TWO, plain, number=4, seed=0)
    assert NSGAIIOptimizer(seed=0, population_size=2).population(unconstrained, 2) == [0, 1]


def test_constraints_change_the_parents_and_so_the_proposals() -> None:
    def trials(constrained: bool) -> list[TrialRecord]:
        out = []
        for k in range(4):  # generation 0 of a population of 4: the far corner is feasible
            bad = constrained and k < 3
            violated = (1.0 if bad else -1.0,)
            out.append(record(k, (float(k), float(k)), x=0.1 * k, constraints=violated))
        return out

    optimizer = NSGAIIOptimizer(seed=0, population_size=4, mutation_prob=0.0, crossover_prob=0.0)

    def times_trial_3_is_the_child(constrained: bool) -> int:
        # with no variation the child is its first tournament's winner
        history = History(unit_space(2), TWO, trials(constrained), number=4, seed=0)
        rngs = [np.random.default_rng(s) for s in range(200)]
        children = [optimizer.suggest(history, 1, rng)[0, 0] for rng in rngs]
        return sum(abs(x - 0.3) < 1e-9 for x in children)

    # feasible, trial 3 wins every tournament it enters (7/16 of them); dominated by all the
    # others when nothing is constrained, it wins only against itself (1/16)
    assert times_trial_3_is_the_child(True) > 60
    assert times_trial_3_is_the_child(False) < 30


def test_pending_members_are_left_out_until_they_finish() -> None:
    space = unit_space(2)
    running = [
        record(0, (1.0, 2.0), x=0.1),
        record(1, (2.0, 1.0), x=0.2),
        record(2, None, x=0.3, state=TrialState.RUNNING),
        record(3, None, x=0.4, state=TrialState.FAIL),
    ]
    optimizer = NSGAIIOptimizer(seed=0, population_size=4)
    early = History(space, TWO, running, number=4, seed=0)
    assert optimizer.population(early, 1) == [0, 1]
    points = optimizer.suggest(early, 3, np.random.default_rng(0))
    assert points.shape == (3, 2) and np.all((points >= 0) & (points <= 1))
    assert len({tuple(p) for p in points}) == 3
    finished = [*running[:2], record(2, (0.5, 0.5), x=0.3), running[3]]
    later = History(space, TWO, finished, number=5, seed=0)
    assert optimizer.population(later, 1) == [0, 1, 2]  # counted once finished; FAIL never


def test_nothing_completed_falls_back_to_the_sobol_sequence() -> None:
    space = unit_space(2)
    failed = [record(k, None, state=TrialState.FAIL) for k in range(4)]
    optimizer = NSGAIIOptimizer(seed=5, population_size=4)
    history = History(space, TWO, failed, number=4, seed=5)
    sobol = make_optimizer("sobol", seed=5)
    expected = sobol.suggest(History(space, TWO, [], number=4, seed=5), 1, np.random.default_rng())
    np.testing.assert_array_equal(optimizer.suggest(history, 1, np.random.default_rng(0)), expected)


def test_a_conditional_space_with_categoricals_and_ints() -> None:
    space = tuneful.Space(
        kind=tuneful.Categorical(["a", "b", "c"]),
        n=tuneful.Int(1, 5),
        width=tuneful.Int(2, 512, log=True, when={"kind": ["a", "b"]}),
        rate=tuneful.Float(1e-4, 1.0, log=True, when={"kind": "c"}),
    )

    def objective(trial: tuneful.Trial) -> tuple[float, float]:
        p = trial.params
        size = p["n"] * p.get("width", 8)
        return float(np.log(size)), float(p.get("rate", 0.5) + (p["kind"] == "b"))

    study = tuneful.create_study(
        space=space, directions=list(TWO), storage="memory://",
        optimizer=NSGAIIOptimizer(population_size=8), seed=2,
    )  # fmt: skip
    study.optimize(objective, n_trials=60, show_progress_bar=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    for trial in study.trials:
        assert space.validate(trial.params) == trial.params
    kinds = {t.params["kind"] for t in study.trials[8:]}
    assert kinds <= {"a", "b", "c"} and len(kinds) >= 2


def test_offspring_of_inactive_columns_and_categoricals() -> None:
    categorical = np.array([False, True, False])
    variation = Variation(categorical, crossover_prob=1.0, eta_c=20, mutation_prob=0.0, eta_m=20)
    a = np.array([0.2, 1 / 6, np.nan])
    b = np.array([0.8, 5 / 6, np.nan])
    for s in range(50):
        child = offspring(a, b, variation, np.random.default_rng(s))
        assert np.all(np.isfinite(child)) and np.all((child >= 0) & (child <= 1))
        assert child[1] in (1 / 6, 5 / 6)  # a categorical takes a parent's level
    still = Variation(categorical, crossover_prob=0.0, eta_c=20, mutation_prob=0.0, eta_m=20)
    one_active = np.array([0.2, 1 / 6, 0.4])
    child = offspring(one_active, b, still, np.random.default_rng(0))
    np.testing.assert_array_equal(child, one_active)
    child = offspring(b, one_active, still, np.random.default_rng(0))
    assert child[2] == 0.4  # inactive in the first parent: the other's value


def _reference_sbx(a: float, b: float, u: float, eta: float) -> tuple[float, float]:
    """Deb's bounded SBX written out from the paper's formulas (children: upper, lower)."""
    low, high, eps = min(a, b), max(a, b), 1e-14
    gap = max(high - low, eps)
    out = []
    for beta, sign in ((1 + 2 * (1 - high) / gap, 1), (1 + 2 * low / gap, -1)):
        alpha = 2 - beta ** -(eta + 1)
        bq = (
            (u * alpha) ** (1 / (eta + 1))
            if u <= 1 / alpha
            else (1 / (2 - u * alpha)) ** (1 / (eta + 1))
        )
        out.append(min(max(0.5 * (low + high + sign * bq * gap), 0), 1))
    return out[0], out[1]


def _reference_mutation(x: float, u: float, eta: float) -> float:
    if u <= 0.5:
        delta = (2 * u + (1 - 2 * u) * (1 - x) ** (eta + 1)) ** (1 / (eta + 1)) - 1
    else:
        delta = 1 - (2 * (1 - u) + 2 * (u - 0.5) * x ** (eta + 1)) ** (1 / (eta + 1))
    return min(max(x + delta, 0), 1)


def test_offspring_follows_the_reference_formulas_draw_by_draw() -> None:
    gen = np.random.default_rng(3)
    for case in range(300):
        dim = int(gen.integers(1, 8))
        a, b = gen.random(dim), gen.random(dim)
        variation = Variation(
            np.zeros(dim, dtype=bool), crossover_prob=float(gen.random()),
            eta_c=float(gen.choice([2, 20])), mutation_prob=float(gen.random()),
            eta_m=float(gen.choice([5, 20])),
        )  # fmt: skip
        child = offspring(a, b, variation, np.random.default_rng(case))
        draws = np.random.default_rng(case)
        draws.random((2, dim))  # the fill values of inactive columns (none here)
        cross = draws.random() < variation.crossover_prob
        per_column, sbx_u, which = draws.random((3, dim))
        mutates = draws.random(dim) < variation.mutation_prob
        mutation_u = draws.random(dim)
        for j in range(dim):
            value = a[j]
            if cross and per_column[j] < 0.5 and abs(a[j] - b[j]) > 1e-14:
                value = _reference_sbx(a[j], b[j], sbx_u[j], variation.eta_c)[
                    0 if which[j] < 0.5 else 1
                ]
            if mutates[j]:
                value = _reference_mutation(value, mutation_u[j], variation.eta_m)
            assert child[j] == pytest.approx(value, abs=1e-12), (case, j)


def test_out_of_range_settings_are_refused() -> None:
    with pytest.raises(OptimizerError, match="population_size"):
        NSGAIIOptimizer(population_size=1)
    with pytest.raises(OptimizerError, match="crossover_prob"):
        NSGAIIOptimizer(crossover_prob=1.5)
    with pytest.raises(OptimizerError, match="mutation_prob"):
        make_optimizer({"name": "nsga2", "settings": {"mutation_prob": -0.1}}, seed=0)


def test_the_cache_follows_a_growing_history_and_a_changed_early_record() -> None:
    # one optimizer asked along a history that only grows, then after an early trial's
    # record changes (a pending member finishing), agrees with a fresh replay every time
    space = unit_space(2)
    cached = NSGAIIOptimizer(seed=0, population_size=4)
    trials = [record(i, zdt1({"x0": i / 30, "x1": 0.5}), x=i / 30) for i in range(30)]
    trials[5] = record(5, None, state=TrialState.RUNNING)
    for end in (9, 10, 17, 25, 30):
        history = History(space, TWO, trials[:end], number=end, seed=0)
        fresh = NSGAIIOptimizer(seed=0, population_size=4)
        assert cached.population(history, end // 4) == fresh.population(history, end // 4)
    assert 5 not in cached.population(history, 7)
    trials[5] = record(5, (0.0, 0.0), x=0.1)  # it finishes and dominates everything
    history = History(space, TWO, list(trials), number=30, seed=0)
    assert 5 in cached.population(history, 7)
    fresh = NSGAIIOptimizer(seed=0, population_size=4)
    assert cached.population(history, 7) == fresh.population(history, 7)
