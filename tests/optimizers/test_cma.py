"""CMA-ES: against the cmaes package directly, replay and cache, parallel trials, restarts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.errors import MissingDependencyError, OptimizerError
from tuneful.optimizers.base import Optimizer
from tuneful.optimizers.cma import CMAESOptimizer
from tuneful.optimizers.random import RandomOptimizer, SobolOptimizer
from tuneful.optimizers.tpe import TPEOptimizer
from tuneful.records import History, TrialRecord, TrialState

cmaes = pytest.importorskip("cmaes")

Objective = Callable[[Mapping[str, Any]], float]


def seed_of(seed: int, run: int, generation: int) -> int:
    """The documented per-generation seed, written out independently of the module."""
    return int(np.random.SeedSequence([seed, 0, run, generation]).generate_state(1)[0])


def unit_space(dim: int) -> tuneful.Space:
    return tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(dim)})


def shifted_sphere(params: Mapping[str, Any]) -> float:
    x = np.array([float(v) for v in params.values()])
    return float(np.sum((x - 0.3) ** 2))


def complete(number: int, params: Mapping[str, Any], value: float) -> TrialRecord:
    return TrialRecord(number=number, state=TrialState.COMPLETE, params=params, values=(value,))


def sequential(
    optimizer: Optimizer,
    space: tuneful.Space,
    objective: Objective,
    n_trials: int,
    seed: int = 0,
    trials: list[TrialRecord] | None = None,
) -> list[TrialRecord]:
    """Suggest, evaluate and record one trial at a time, as a one-worker study does."""
    trials = [] if trials is None else trials
    for number in range(len(trials), len(trials) + n_trials):
        history = History(space, ("minimize",), list(trials), number=number, seed=seed)
        point = optimizer.suggest(history, 1, np.random.default_rng([seed, number]))
        params = space.decode(point)[0]
        trials.append(complete(number, params, objective(params)))
    return trials


# -- the degenerate case: a plain cmaes ask/tell loop --------------------------------------


def test_sequential_continuous_study_is_the_plain_cmaes_loop() -> None:
    dim, seed, n_trials = 3, 5, 64
    space = unit_space(dim)
    trials = sequential(CMAESOptimizer(seed=seed), space, shifted_sphere, n_trials, seed)
    got = np.array([[t.params[f"x{i}"] for i in range(dim)] for t in trials])

    cma = cmaes.CMA(mean=np.full(dim, 0.5), sigma=0.2, bounds=np.tile([0.0, 1.0], (dim, 1)))
    expected: list[np.ndarray] = []
    generation = 0
    while len(expected) < n_trials:
        cma.reseed_rng(seed_of(seed, 0, generation))
        solutions = []
        for _ in range(cma.population_size):
            x = cma.ask()
            expected.append(x)
            solutions.append((x, shifted_sphere({f"x{i}": v for i, v in enumerate(x)})))
        cma.tell(solutions)
        assert not cma.should_stop()
        generation += 1
    np.testing.assert_array_equal(got, np.array(expected[:n_trials]))


def test_integer_columns_run_the_plain_cma_with_margin_loop() -> None:
    space = tuneful.Space(a=tuneful.Float(0.0, 1.0), b=tuneful.Int(0, 9), c=tuneful.Int(0, 1))
    seed, n_trials = 2, 40

    def objective(params: Mapping[str, Any]) -> float:
        return (params["a"] - 0.7) ** 2 + (params["b"] - 3) ** 2 + params["c"]

    optimizer = CMAESOptimizer(seed=seed)
    trials = sequential(optimizer, space, objective, n_trials, seed)
    history = History(space, ("minimize",), trials, seed=seed)
    state = optimizer.state(history)
    assert state is not None and state.with_margin

    # documented bounds: the centres of the first and last levels, steps of one level
    bounds = np.array([[0.0, 1.0], [0.05, 0.95], [0.25, 0.75]])
    cma = cmaes.CMAwM(
        mean=np.full(3, 0.5), sigma=0.2, bounds=bounds, steps=np.array([0.0, 0.1, 0.5])
    )
    expected: list[dict[str, Any]] = []
    generation = 0
    while len(expected) < n_trials:
        cma.reseed_rng(seed_of(seed, 0, generation))
        solutions = []
        for _ in range(cma.population_size):
            evaluated, told = cma.ask()
            params = space.decode(evaluated)[0]
            expected.append(params)
            solutions.append((told, objective(params)))
        cma.tell(solutions)
        generation += 1
    assert [t.params for t in trials] == expected[:n_trials]
    assert len({t.params["b"] for t in trials}) > 2  # the integer column moves


# -- a function of the history --------------------------------------------------------------


MIXED = tuneful.Space(
    lr=tuneful.Float(1e-4, 1e-1, log=True),
    width=tuneful.Float(0.0, 1.0),
    depth=tuneful.Int(1, 6),
    units=tuneful.Int(8, 512, log=True),
    act=tuneful.Categorical(["relu", "tanh"]),
    slope=tuneful.Float(0.0, 0.3, when={"act": "relu"}),
)


def mixed_objective(params: Mapping[str, Any]) -> float:
    value = (np.log10(params["lr"]) + 2.5) ** 2 + (params["width"] - 0.2) ** 2
    value += 0.1 * abs(params["depth"] - 4) + 0.01 * abs(np.log2(params["units"]) - 6)
    return float(value + (0.0 if params["act"] == "relu" else 0.5) + params.get("slope", 0.0))


def test_a_fresh_optimizer_on_the_same_history_continues_exactly() -> None:
    used = CMAESOptimizer(seed=3, n_startup=4)
    trials = sequential(used, MIXED, mixed_objective, 30, seed=3)
    trials[7] = TrialRecord(number=7, state=TrialState.FAIL, params=trials[7].params)
    for number in range(30, 45):
        history = History(MIXED, ("minimize",), list(trials), number=number, seed=3)
        rng = np.random.default_rng([3, number])
        point = used.suggest(history, 1, rng)
        fresh = CMAESOptimizer(seed=3, n_startup=4)
        again = fresh.suggest(history, 1, np.random.default_rng([3, number]))
        np.testing.assert_array_equal(point, again)
        params = MIXED.decode(point)[0]
        trials.append(complete(number, params, mixed_objective(params)))


def test_the_cache_gives_what_a_fresh_replay_gives_with_pending_failed_and_injected() -> None:
    """Workers finish out of order, some trials fail, one is a user's configuration, and a
    flat stretch ends the first run: the cached optimizer always matches a fresh one."""
    space = unit_space(2)
    rng = np.random.default_rng(0)
    cached = CMAESOptimizer(seed=1, popsize=4)
    trials: list[TrialRecord] = []
    running: list[int] = []
    for number in range(150):
        history = History(space, ("minimize",), list(trials), number=number, seed=1)
        point = cached.suggest(history, 1, np.random.default_rng([1, number]))
        fresh = CMAESOptimizer(seed=1, popsize=4).suggest(
            history, 1, np.random.default_rng([1, number])
        )
        np.testing.assert_array_equal(point, fresh)
        params = space.decode(point)[0] if number != 20 else {"x0": 0.9, "x1": 0.1}
        trials.append(TrialRecord(number=number, state=TrialState.RUNNING, params=params))
        running.append(number)
        while len(running) > 2 or (running and rng.random() < 0.5):  # up to three workers
            done = running.pop(int(rng.integers(len(running))))
            old = trials[done]
            if rng.random() < 0.1:
                trials[done] = TrialRecord(number=done, state=TrialState.FAIL, params=old.params)
            else:
                value = 1.0 if done > 16 else shifted_sphere(old.params)  # then flat
                trials[done] = complete(done, old.params, value)
    state = cached.state(History(space, ("minimize",), trials, seed=1))
    assert state is not None and state.restarts >= 1


# -- parallel workers and the unit cube -----------------------------------------------------


def test_pending_trials_get_distinct_points() -> None:
    space = unit_space(2)
    optimizer = CMAESOptimizer(seed=0)
    trials: list[TrialRecord] = []
    for number in range(15):  # more than two generations in flight, none finished
        history = History(space, ("minimize",), list(trials), number=number, seed=0)
        params = space.decode(optimizer.suggest(history, 1, np.random.default_rng(number)))[0]
        trials.append(TrialRecord(number=number, state=TrialState.RUNNING, params=params))
    assert len({tuple(t.params.values()) for t in trials}) == 15
    batch = optimizer.suggest(
        History(space, ("minimize",), trials, seed=0), 5, np.random.default_rng(0)
    )
    assert len({tuple(row) for row in batch}) == 5

    study = tuneful.create_study(
        space=space, storage="memory://", optimizer=CMAESOptimizer(seed=3), seed=3
    )
    asked = [study.ask() for _ in range(10)]
    assert len({(t.params["x0"], t.params["x1"]) for t in asked}) == 10


def test_suggestions_lie_in_the_unit_cube_and_decode() -> None:
    optimizer = CMAESOptimizer(seed=4, n_startup=3)
    trials = sequential(optimizer, MIXED, mixed_objective, 40, seed=4)
    history = History(MIXED, ("minimize",), trials, number=40, seed=4)
    points = optimizer.suggest(history, 9, np.random.default_rng(0))
    assert points.shape == (9, MIXED.dim)
    assert np.all((points >= 0) & (points <= 1))
    for config in MIXED.decode(points) + [t.params for t in trials]:
        assert MIXED.validate(config) == config
    assert {t.params["act"] for t in trials} == {"relu", "tanh"}  # the categorical varies
    state = optimizer.state(history)
    assert state is not None
    assert state.columns == ("lr", "width", "depth", "units") and state.with_margin
    assert np.all((state.mean >= 0) & (state.mean <= 1))


def test_start_up_is_sobol_and_the_first_run_starts_at_its_best() -> None:
    space = unit_space(3)
    optimizer = CMAESOptimizer(seed=6, n_startup=5)
    trials = sequential(optimizer, space, shifted_sphere, 5, seed=6)
    sobol = SobolOptimizer(seed=6).suggest(
        History(space, ("minimize",), [], number=0, seed=6), 5, np.random.default_rng(0)
    )
    got = np.array([[t.params[f"x{i}"] for i in range(3)] for t in trials])
    np.testing.assert_allclose(got, sobol, rtol=0, atol=1e-12)
    best = min(trials, key=lambda t: t.value)
    state = optimizer.state(History(space, ("minimize",), trials, seed=6))
    assert state is not None and state.start == 5 and state.generation == 0
    np.testing.assert_allclose(state.mean, space.encode([best.params])[0], atol=1e-12)


# -- failures, restarts, convergence --------------------------------------------------------


def test_failed_members_are_told_the_generations_worst_value_and_rank_last() -> None:
    space = unit_space(2)
    optimizer = CMAESOptimizer(seed=8, popsize=4, restart=None)
    trials = sequential(optimizer, space, shifted_sphere, 4, seed=8)
    failed = {1, 2}
    trials = [
        TrialRecord(number=t.number, state=TrialState.FAIL, params=t.params)
        if t.number in failed
        else t
        for t in trials
    ]
    state = optimizer.state(History(space, ("minimize",), trials, seed=8))
    assert state is not None and state.generation == 1

    cma = cmaes.CMA(
        mean=np.full(2, 0.5), sigma=0.2, bounds=np.tile([0.0, 1.0], (2, 1)), population_size=4
    )
    cma.reseed_rng(seed_of(8, 0, 0))
    xs = [cma.ask() for _ in range(4)]
    values = {k: trials[k].value for k in (0, 3)}
    worst = max(values.values())
    cma.tell([(xs[0], values[0]), (xs[3], values[3]), (xs[1], worst), (xs[2], worst)])
    np.testing.assert_array_equal(state.mean, cma.mean)


def test_ipop_restarts_a_flat_run_with_twice_the_population() -> None:
    space = unit_space(2)
    flat = sequential(CMAESOptimizer(seed=0), space, lambda params: 1.0, 140)
    history = History(space, ("minimize",), flat, seed=0)
    state = CMAESOptimizer(seed=0).state(history)
    assert state is not None
    assert state.restarts == 1 and state.population_size == 12  # default lambda(2) = 6
    single = CMAESOptimizer(seed=0, restart=None).state(history)
    assert single is not None and single.restarts == 0 and single.population_size == 6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_on_the_5d_sphere_where_random_search_does_not(seed: int) -> None:
    space = tuneful.Space({f"x{i}": tuneful.Float(-5.0, 5.0) for i in range(5)})
    optimum = np.array([1.0, -2.0, 3.0, -0.5, 2.5])

    def sphere(params: Mapping[str, Any]) -> float:
        return float(np.sum((np.array(list(params.values())) - optimum) ** 2))

    def best(optimizer: Optimizer) -> float:
        trials = sequential(optimizer, space, sphere, 300, seed)
        return min(t.value for t in trials)

    assert best(CMAESOptimizer(seed=seed)) < 0.05
    assert best(RandomOptimizer(seed=seed)) > 0.5


# -- the rest of the contract ---------------------------------------------------------------


def test_mostly_categorical_or_conditional_spaces_go_to_tpe() -> None:
    space = tuneful.Space(
        x=tuneful.Float(0.0, 1.0),
        kind=tuneful.Categorical(["a", "b", "c"]),
        y=tuneful.Float(0.0, 1.0, when={"kind": "a"}),
    )
    trials = sequential(TPEOptimizer(seed=2), space, lambda p: p["x"], 15, seed=2)
    history = History(space, ("minimize",), trials, number=15, seed=2)
    got = CMAESOptimizer(seed=2).suggest(history, 3, np.random.default_rng(0))
    expected = TPEOptimizer(seed=2).suggest(history, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(got, expected)
    assert CMAESOptimizer(seed=2).state(history) is None


def test_missing_package_raises_missing_dependency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmaes", None)  # import cmaes now raises ImportError
    history = History(unit_space(2), ("minimize",), [], number=0, seed=0)
    with pytest.raises(MissingDependencyError, match="pip install cmaes"):
        CMAESOptimizer(seed=0).suggest(history, 1, np.random.default_rng(0))


def test_several_objectives_are_refused_with_a_clear_error() -> None:
    history = History(unit_space(2), ("minimize", "maximize"), [], number=0, seed=0)
    with pytest.raises(OptimizerError, match="one objective"):
        CMAESOptimizer(seed=0).suggest(history, 1, np.random.default_rng(0))


def test_settings_are_json_safe_and_rebuild_the_optimizer() -> None:
    optimizer = CMAESOptimizer(seed=1, sigma0=0.3, popsize=8, restart=None, n_startup=4)
    settings = json.loads(json.dumps(optimizer.settings()))
    assert CMAESOptimizer(seed=1, **settings).settings() == optimizer.settings()
    assert CMAESOptimizer().settings() == {
        "sigma0": 0.2,
        "popsize": None,
        "restart": "ipop",
        "with_margin": "auto",
        "n_startup": 0,
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("sigma0", 0.0),
        ("sigma0", 2.0),
        ("popsize", 3),
        ("popsize", 6.0),
        ("restart", "bipop"),
        ("with_margin", "yes"),
        ("n_startup", -1),
        ("seed", "1"),
    ],
)
def test_invalid_settings_name_the_setting_and_value(key: str, value: Any) -> None:
    with pytest.raises(OptimizerError, match=f"{key}={value!r}"):
        CMAESOptimizer(**{key: value})


def test_a_study_resumed_from_storage_continues_exactly(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'cma.db'}"
    space = unit_space(3)

    def objective(trial: tuneful.Trial) -> float:
        return shifted_sphere(trial.params)

    def study(name: str) -> tuneful.Study:
        return tuneful.create_study(
            name, space=space, storage=url, optimizer=CMAESOptimizer(seed=9), seed=9
        )

    whole = study("whole")
    whole.optimize(objective, n_trials=16, show_progress_bar=False)
    parts = study("parts")
    parts.optimize(objective, n_trials=9, show_progress_bar=False)
    resumed = tuneful.load_study("parts", storage=url, optimizer=CMAESOptimizer(seed=9))
    resumed.optimize(objective, n_trials=7, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]
