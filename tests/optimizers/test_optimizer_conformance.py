"""Every registered optimizer: valid suggestions, determinism, pending trials, resume."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful.errors import OptimizerError
from tuneful.optimizers import (
    GridOptimizer,
    Optimizer,
    SobolOptimizer,
    available_optimizers,
    make_optimizer,
)
from tuneful.records import History, TrialState

SPACE = tuneful.Space(
    lr=tuneful.Float(1e-5, 1e-1, log=True),
    layers=tuneful.Int(1, 8),
    optimizer=tuneful.Categorical(["adam", "sgd"]),
    momentum=tuneful.Float(0.0, 0.99, when={"optimizer": "sgd"}),
    nesterov=tuneful.Categorical([True, False], when={"optimizer": "sgd"}),
)

NAMES = [name for name in available_optimizers() if name != "external"]


def objective(trial: tuneful.Trial) -> float:
    p = trial.params
    return float(np.log10(p["lr"]) ** 2 + p["layers"] + p.get("momentum", 0.0))


@pytest.mark.parametrize("name", NAMES)
def test_suggestions_are_valid_configurations(name: str) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", optimizer=name, seed=0)
    study.optimize(objective, n_trials=30, show_progress_bar=False)
    assert len(study.trials) == 30
    for trial in study.trials:
        assert trial.state is TrialState.COMPLETE
        assert SPACE.validate(trial.params) == trial.params
        assert ("momentum" in trial.params) == (trial.params["optimizer"] == "sgd")


@pytest.mark.parametrize("name", NAMES)
def test_suggest_returns_points_in_the_unit_cube(name: str) -> None:
    optimizer = make_optimizer(name, seed=1)
    history = History(SPACE, ("minimize",), [], number=0, seed=1)
    points = optimizer.suggest(history, 4, np.random.default_rng(0))
    assert points.shape == (4, SPACE.dim)
    active = ~np.isnan(points)
    assert np.all((points[active] >= 0) & (points[active] <= 1))


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_study_and_resume_continues_exactly(name: str, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    whole = tuneful.create_study("whole", space=SPACE, storage=url, optimizer=name, seed=7)
    whole.optimize(objective, n_trials=12, show_progress_bar=False)
    parts = tuneful.create_study("parts", space=SPACE, storage=url, optimizer=name, seed=7)
    parts.optimize(objective, n_trials=5, show_progress_bar=False)
    resumed = tuneful.load_study("parts", storage=url)
    resumed.optimize(objective, n_trials=7, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


@pytest.mark.parametrize("name", NAMES)
def test_parallel_workers_do_not_repeat_points(name: str) -> None:
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1)),
        storage="memory://",
        optimizer=name,
        seed=3,
    )
    pending = [study.ask() for _ in range(8)]  # eight trials in flight at once
    points = {(t.params["x"], t.params["y"]) for t in pending}
    assert len(points) == 8


@pytest.mark.parametrize("name", NAMES)
def test_batches_of_pending_trials_are_distinct_once_the_model_is_on(name: str) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", optimizer=name, seed=5)
    study.optimize(objective, n_trials=12, show_progress_bar=False)
    for _ in range(3):  # four trials in flight at a time, told together
        batch = [study.ask() for _ in range(4)]
        for trial in batch:
            study.tell(trial, objective(trial))
    configs = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(configs)) == len(configs) == 24


def test_sobol_points_are_the_scrambled_sequence() -> None:
    from scipy.stats import qmc

    space = tuneful.Space(a=tuneful.Float(0, 1), b=tuneful.Float(0, 1))
    study = tuneful.create_study(space=space, storage="memory://", optimizer="sobol", seed=11)
    study.optimize(lambda t: 0.0, n_trials=8, show_progress_bar=False)
    got = np.array([[t.params["a"], t.params["b"]] for t in study.trials])
    expected = qmc.Sobol(2, scramble=True, seed=11).random(8)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # a power-of-two Sobol set puts exactly one point in each half of every axis... and each
    # eighth of it: the balance that random draws lack
    for column in got.T:
        assert sorted(np.floor(column * 8).astype(int).tolist()) == list(range(8))


def test_grid_enumerates_a_conditional_space() -> None:
    space = tuneful.Space(
        kernel=tuneful.Categorical(["rbf", "poly"]),
        gamma=tuneful.Float(1e-3, 1.0, log=True, when={"kernel": "rbf"}),
        degree=tuneful.Int(2, 4, when={"kernel": "poly"}),
    )
    grid = GridOptimizer(resolution=4).grid(space)
    assert len(grid) == 4 + 3
    assert {"kernel": "poly", "degree": 3} in grid
    gammas = sorted(c["gamma"] for c in grid if c["kernel"] == "rbf")
    np.testing.assert_allclose(gammas, [1e-3, 1e-2, 1e-1, 1.0])


def test_grid_large_integer_ranges_are_thinned_and_too_big_grids_refused() -> None:
    space = tuneful.Space(n=tuneful.Int(1, 1000, log=True))
    values = [c["n"] for c in GridOptimizer(resolution=4).grid(space)]
    assert values == [1, 10, 100, 1000]
    huge = tuneful.Space({f"x{i}": tuneful.Float(0, 1) for i in range(12)})
    with pytest.raises(OptimizerError, match="exceeds"):
        GridOptimizer(resolution=10).grid(huge)
    with pytest.raises(OptimizerError, match="resolution"):
        GridOptimizer(resolution=1)


def test_registry_accepts_names_dicts_and_objects() -> None:
    assert isinstance(make_optimizer("sobol", seed=0), SobolOptimizer)
    built = make_optimizer({"name": "grid", "settings": {"resolution": 3}}, seed=0)
    assert isinstance(built, GridOptimizer) and built.resolution == 3
    custom = SobolOptimizer(seed=4)
    assert make_optimizer(custom, seed=0) is custom
    with pytest.raises(OptimizerError, match="unknown"):
        make_optimizer("tpe-typo", seed=0)
    with pytest.raises(OptimizerError, match="settings"):
        make_optimizer({"name": "grid", "settings": {"bogus": 1}}, seed=0)


def test_custom_optimizer_object() -> None:
    class Corner(Optimizer):
        name = "corner"

        def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
            return np.zeros((n, history.space.dim))

    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(2, 3)), storage="memory://", optimizer=Corner()
    )
    assert study.ask().params == {"x": 2.0}


def test_external_optimizer_only_takes_fixed_params() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", optimizer="external")
    config = {"lr": 0.01, "layers": 2, "optimizer": "adam"}
    assert study.ask(fixed_params=config).params == config
    with pytest.raises(OptimizerError, match="external"):
        study.ask()
