"""GP-BO with several objectives: ParEGO's random augmented-Tchebycheff scalarizations
(Knowles 2006)."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful.analysis.indicators import hypervolume
from tuneful.optimizers import GPOptimizer
from tuneful.optimizers.gp import _scalarized
from tuneful.records import History

ZDT_SPACE = tuneful.Space(**{f"x{i}": tuneful.Float(0, 1) for i in range(5)})


def _zdt1(trial: tuneful.Trial) -> tuple[float, float]:
    x = np.array([trial.params[f"x{i}"] for i in range(5)])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - float(np.sqrt(x[0] / g)))


def _front_volume(study: tuneful.Study) -> float:
    points = [t.values for t in study.trials if t.values]
    return hypervolume(points, reference=[1.1, 11.0])


def test_the_scalarization_is_the_augmented_tchebycheff_of_scaled_objectives() -> None:
    y = np.array([[0.0, 10.0], [1.0, 0.0], [0.5, 5.0]])
    rng = np.random.default_rng(4)
    w = np.random.default_rng(4).dirichlet(np.ones(2))
    scaled = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    expected = np.max(scaled * w, axis=1) + 0.05 * np.sum(scaled * w, axis=1)
    assert np.allclose(_scalarized(y, rng), expected)


def test_one_objective_draws_nothing_from_the_generator() -> None:
    rng = np.random.default_rng(0)
    assert np.array_equal(_scalarized(np.array([[3.0], [1.0]]), rng), [3.0, 1.0])
    assert rng.random() == np.random.default_rng(0).random()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parego_beats_random_search_on_zdt1(seed: int) -> None:
    directions = ["minimize", "minimize"]
    gp = tuneful.create_study(
        space=ZDT_SPACE, storage="memory://", directions=directions, optimizer="gp", seed=seed
    )
    gp.optimize(_zdt1, n_trials=40, show_progress_bar=False)
    blind = tuneful.create_study(
        space=ZDT_SPACE, storage="memory://", directions=directions, optimizer="random", seed=seed
    )
    blind.optimize(_zdt1, n_trials=40, show_progress_bar=False)
    assert _front_volume(gp) > _front_volume(blind) + 1.0


def test_a_fresh_optimizer_on_a_multi_objective_history_proposes_the_same() -> None:
    study = tuneful.create_study(
        space=ZDT_SPACE,
        storage="memory://",
        directions=["minimize", "maximize"],
        optimizer="gp",
        seed=2,
    )
    study.optimize(lambda t: (_zdt1(t)[0], -_zdt1(t)[1]), n_trials=14, show_progress_bar=False)
    history = History(ZDT_SPACE, ("minimize", "maximize"), list(study.trials), number=14, seed=2)
    first = GPOptimizer(seed=2).suggest(history, 1, np.random.default_rng(9))
    again = GPOptimizer(seed=2).suggest(history, 1, np.random.default_rng(9))
    other = GPOptimizer(seed=2).suggest(history, 1, np.random.default_rng(10))
    assert np.array_equal(first, again) and not np.array_equal(first, other)
