"""NSGA-III: reference points, normalization, association and niching on hand-built points;
spread on DTLZ2 beside NSGA-II; replay, resume, constraints and settings."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

import tuneful
from tuneful.analysis.indicators import igd
from tuneful.bench.tasks.zdt_dtlz import ClassicTask
from tuneful.errors import OptimizerError
from tuneful.optimizers import NSGAIIIOptimizer, NSGAIIOptimizer, make_optimizer
from tuneful.optimizers._nsga import Population, feasibility_tournament
from tuneful.optimizers._nsga3 import (
    associate,
    das_dennis,
    default_reference_points,
    niching,
    normalize,
    select,
)
from tuneful.records import History, TrialRecord, TrialState

THREE = ("minimize", "minimize", "minimize")


def population(y: list[list[float]], violation: list[float] | None = None) -> Population:
    k = len(y)
    return Population(
        numbers=np.arange(k),
        x=np.zeros((k, 1)),
        y=np.array(y, dtype=float),
        violation=np.zeros(k) if violation is None else np.array(violation, dtype=float),
        rank=np.zeros(k, dtype=int),
        crowding=np.zeros(k),
    )


@pytest.mark.parametrize(("m", "p"), [(2, 5), (3, 12), (5, 6)])
def test_das_dennis_points_are_the_simplex_lattice(m: int, p: int) -> None:
    points = das_dennis(m, p)
    assert points.shape == (comb(m + p - 1, p), m)
    np.testing.assert_allclose(points.sum(axis=1), 1.0)
    np.testing.assert_allclose(points * p, np.round(points * p), atol=1e-12)
    assert len({tuple(row) for row in points}) == len(points)


@pytest.mark.parametrize(
    ("m", "count", "size"), [(3, 91, 92), (5, 210, 212), (8, 156, 156), (10, 275, 276),
                             (15, 135, 136)],
)  # fmt: skip
def test_default_reference_points_and_population_follow_table_one(
    m: int, count: int, size: int
) -> None:
    points = default_reference_points(m)
    assert points.shape == (count, m)
    np.testing.assert_allclose(points.sum(axis=1), 1.0)
    assert NSGAIIIOptimizer().size(m) == size


def test_one_and_two_objectives_get_a_population_of_at_least_24() -> None:
    assert NSGAIIIOptimizer().size(1) == 24 and NSGAIIIOptimizer().size(2) == 24
    assert NSGAIIIOptimizer(divisions=30).size(2) == 32
    assert NSGAIIIOptimizer(population_size=10).size(3) == 10


def test_normalize_divides_by_the_intercepts_of_the_extreme_points() -> None:
    # points on the plane f1 / 2 + f2 / 4 + f3 = 1, shifted by the ideal point (1, 1, 1)
    y = np.array([[2, 0, 0], [0, 4, 0], [0, 0, 1], [1, 2, 0], [0.5, 1, 0.5]]) + 1.0
    out = normalize(y, np.ones(len(y), dtype=bool))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(out[:3], np.eye(3), atol=1e-5)


def test_normalize_falls_back_to_the_worst_of_the_first_front_when_degenerate() -> None:
    # every point on one line: the extreme points repeat, no hyperplane through them
    y = np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    first = np.array([True, True, False])
    np.testing.assert_allclose(normalize(y, first), y / 1.0)  # worst of the first front: 1
    first_is_one_point = np.array([True, False, False])  # its worst is 0: S_t's worst, 2
    np.testing.assert_allclose(normalize(y, first_is_one_point), y / 2.0)


def test_associate_picks_the_line_nearest_in_perpendicular_distance() -> None:
    references = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    points = np.array([[0.9, 0.1], [1.0, 1.0], [0.2, 2.0], [0.3, 0.3]])
    niche, distance = associate(points, references)
    assert niche.tolist() == [0, 1, 2, 1]
    np.testing.assert_allclose(distance, [0.1, 0.0, 0.2, 0.0], atol=1e-12)


def test_niching_gives_an_empty_niche_its_nearest_member_first() -> None:
    counts = np.array([1, 0, 1])
    niche = np.array([1, 1, 0])
    distance = np.array([0.3, 0.1, 0.2])
    for seed in range(5):
        rng = np.random.default_rng(seed)
        assert niching(1, counts, niche, distance, rng).tolist() == [1]
        second = niching(2, counts, niche, distance, np.random.default_rng(seed)).tolist()
        assert second[0] == 1 and second[1] in (0, 2)


def test_niching_sets_aside_reference_points_without_members() -> None:
    # reference 0 has the least count but no member of the last front: set aside
    picks = niching(2, np.array([0, 3]), np.array([1, 1, 1]), np.zeros(3), np.random.default_rng(0))
    assert sorted(picks.tolist()) in ([0, 1], [0, 2], [1, 2])


def test_select_keeps_whole_fronts_and_niches_the_last() -> None:
    # front 0: (0, 1), (0.2, 0.7), (1, 0), none near the diagonal; front 1: (0.1, 1.2) near
    # the f2 axis (whose niche holds two) and (0.5, 0.75) nearest the diagonal, an empty niche
    references = das_dennis(2, 2)  # (1, 0), (0.5, 0.5), (0, 1)
    pool = population([[0.0, 1.0], [0.2, 0.7], [0.1, 1.2], [0.5, 0.75], [1.0, 0.0]])
    for seed in range(5):
        kept = select(pool, 4, references, np.random.default_rng(seed))
        assert kept.numbers.tolist() == [0, 1, 3, 4]
        assert kept.rank.tolist() == [0, 0, 1, 0]


def test_select_niches_a_last_front_crowded_into_one_direction() -> None:
    # six non-dominated points: five along the diagonal direction, one at the f2 extreme
    pool = population([[0.5, 0.5], [0.49, 0.51], [0.51, 0.49], [0.48, 0.52], [0.52, 0.48],
                       [0.0, 1.0], [1.0, 0.0]])  # fmt: skip
    kept = select(pool, 3, das_dennis(2, 2), np.random.default_rng(0))
    assert kept.numbers.tolist() == [0, 5, 6]  # one per direction, the diagonal's nearest


def test_select_cuts_an_infeasible_last_front_by_trial_number() -> None:
    pool = population([[1, 1], [0, 0], [0, 1], [1, 0]], violation=[0.0, 2.0, 2.0, 2.0])
    kept = select(pool, 3, das_dennis(2, 2), np.random.default_rng(0))
    assert kept.numbers.tolist() == [0, 1, 2]


def test_feasibility_tournament_prefers_feasible_then_smaller_violation() -> None:
    pool = population([[0, 0], [1, 1], [2, 2]], violation=[0.0, 1.0, 3.0])
    wins = [feasibility_tournament(pool, np.random.default_rng(s)) for s in range(200)]
    assert wins.count(2) < wins.count(1) < wins.count(0)
    free = population([[0, 0], [1, 1], [2, 2]])  # no constraints: a uniform random pick
    wins = [feasibility_tournament(free, np.random.default_rng(s)) for s in range(600)]
    assert all(150 < wins.count(i) < 250 for i in range(3))


def final_igd(optimizer: NSGAIIOptimizer | NSGAIIIOptimizer, task: ClassicTask, seed: int,
              generations: int) -> float:  # fmt: skip
    study = tuneful.create_study(
        space=task.space, directions=list(THREE), storage="memory://", optimizer=optimizer,
        seed=seed,
    )  # fmt: skip

    def objective(trial: tuneful.Trial) -> list[float]:
        values = task.evaluate(trial.params)
        return [values["f1"], values["f2"], values["f3"]]

    study.optimize(objective, n_trials=92 * generations, show_progress_bar=False)
    history = History(task.space, THREE, list(study.trials), number=len(study.trials), seed=seed)
    final = optimizer.population(history, generations)
    return igd([study.trials[k].values for k in final], task.pareto_front(500))


def test_dtlz2_final_population_spreads_over_the_front_better_than_nsga2() -> None:
    task = ClassicTask("dtlz2", 7, 3)
    three, two = [], []
    for seed in range(3):  # both with NSGA-III's default population for 3 objectives, 92
        three.append(final_igd(NSGAIIIOptimizer(seed=seed), task, seed, 15))
        two.append(final_igd(NSGAIIOptimizer(seed=seed, population_size=92), task, seed, 15))
    assert all(a < b for a, b in zip(three, two, strict=True))
    assert np.mean(three) < 0.9 * np.mean(two)


def test_resume_gives_the_same_proposals_as_an_uninterrupted_run(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    optimizer = {"name": "nsga3", "settings": {"population_size": 6, "divisions": 3}}
    task = ClassicTask("dtlz2", 4, 3)

    def objective(trial: tuneful.Trial) -> list[float]:
        values = task.evaluate(trial.params)
        trial.set_constraints([values["f1"] - 0.8])
        return [values["f1"], values["f2"], values["f3"]]

    kwargs = {"space": task.space, "directions": list(THREE), "storage": url, "seed": 3}
    whole = tuneful.create_study("whole", optimizer=optimizer, **kwargs)  # type: ignore[arg-type]
    whole.optimize(objective, n_trials=40, show_progress_bar=False)
    parts = tuneful.create_study("parts", optimizer=optimizer, **kwargs)  # type: ignore[arg-type]
    parts.optimize(objective, n_trials=15, show_progress_bar=False)  # stops mid-generation
    resumed = tuneful.load_study("parts", storage=url)
    resumed.optimize(objective, n_trials=25, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


def test_the_cached_chain_proposes_what_a_fresh_replay_does() -> None:
    task = ClassicTask("dtlz2", 4, 3)
    study = tuneful.create_study(
        space=task.space, directions=list(THREE), storage="memory://",
        optimizer=NSGAIIIOptimizer(seed=1, population_size=8, divisions=3), seed=1,
    )  # fmt: skip
    study.optimize(lambda t: list(task.evaluate(t.params).values()), n_trials=45,
                   show_progress_bar=False)  # fmt: skip
    history = History(task.space, THREE, list(study.trials), number=45, seed=1)
    used, fresh = study.optimizer, NSGAIIIOptimizer(seed=1, population_size=8, divisions=3)
    for rng_seed in range(3):
        np.testing.assert_array_equal(
            used.suggest(history, 2, np.random.default_rng(rng_seed)),
            fresh.suggest(history, 2, np.random.default_rng(rng_seed)),
        )
    assert used.population(history, 5) == fresh.population(history, 5)
    assert len(fresh.population(history, 5)) == 8


def test_constraints_keep_the_population_feasible() -> None:
    # DTLZ2 with f1 <= 0.3 asked: once feasible trials exist, the parents are all feasible
    task = ClassicTask("dtlz2", 5, 3)

    def objective(trial: tuneful.Trial) -> list[float]:
        values = task.evaluate(trial.params)
        trial.set_constraints([values["f1"] - 0.3])
        return [values["f1"], values["f2"], values["f3"]]

    optimizer = NSGAIIIOptimizer(seed=0, divisions=4, population_size=20)
    study = tuneful.create_study(
        space=task.space, directions=list(THREE), storage="memory://", optimizer=optimizer,
        seed=0,
    )  # fmt: skip
    study.optimize(objective, n_trials=200, show_progress_bar=False)
    history = History(task.space, THREE, list(study.trials), number=200, seed=0)
    final = optimizer.population(history, 10)
    assert len(final) == 20 and all(study.trials[k].feasible for k in final)
    late = [t.feasible for t in study.trials[180:]]
    early = [t.feasible for t in study.trials[:20]]
    assert sum(late) > sum(early)


def test_one_objective_runs_as_a_genetic_algorithm() -> None:
    space = tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(3)})
    study = tuneful.create_study(space=space, storage="memory://", optimizer="nsga3", seed=0)
    study.optimize(lambda t: sum((v - 0.3) ** 2 for v in t.params.values()),
                   n_trials=240, show_progress_bar=False)  # fmt: skip
    assert study.best_value < 0.005


def test_made_by_name_with_the_paper_defaults() -> None:
    optimizer = make_optimizer("nsga3", seed=0)
    assert isinstance(optimizer, NSGAIIIOptimizer)
    assert optimizer.settings() == {
        "population_size": None, "divisions": None, "reference_points": None,
        "crossover_prob": 1.0, "eta_c": 30.0, "mutation_prob": None, "eta_m": 20.0,
    }  # fmt: skip
    explicit = make_optimizer(
        {"name": "nsga3", "settings": {"reference_points": [[1, 0], [0, 1]]}}, seed=0
    )
    assert isinstance(explicit, NSGAIIIOptimizer)
    np.testing.assert_array_equal(explicit.references(2), [[1.0, 0.0], [0.0, 1.0]])


def test_out_of_range_settings_are_refused() -> None:
    with pytest.raises(OptimizerError, match="population_size"):
        NSGAIIIOptimizer(population_size=1)
    with pytest.raises(OptimizerError, match="divisions"):
        NSGAIIIOptimizer(divisions=0)
    with pytest.raises(OptimizerError, match="both given"):
        NSGAIIIOptimizer(divisions=3, reference_points=[[1, 0]])
    for bad in ([[1, -1]], [[0, 0]], [1, 0], [], "points", [[np.nan, 1]]):
        with pytest.raises(OptimizerError, match="reference_points"):
            NSGAIIIOptimizer(reference_points=bad)
    with pytest.raises(OptimizerError, match="crossover_prob"):
        make_optimizer({"name": "nsga3", "settings": {"crossover_prob": 2}}, seed=0)
    optimizer = NSGAIIIOptimizer(reference_points=[[1, 0], [0, 1]])
    history = History(
        tuneful.Space(x=tuneful.Float(0, 1)), THREE,
        [TrialRecord(0, TrialState.COMPLETE, {"x": 0.5}, (1.0, 1.0, 1.0))], number=30,
    )  # fmt: skip
    with pytest.raises(OptimizerError, match="2 columns; this study has 3 objectives"):
        optimizer.suggest(history, 1, np.random.default_rng(0))
