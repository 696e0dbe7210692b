"""GP-BO with constraints (Gardner et al. 2014): a GP per constraint, expected improvement
over the best feasible value (or expected hypervolume improvement over the feasible front)
times the probability that every constraint holds."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful.analysis.indicators import hypervolume
from tuneful.optimizers import GPOptimizer
from tuneful.optimizers._gp_acquisition import log_probability_below
from tuneful.records import History

UNIT = tuneful.Space(**{f"x{i}": tuneful.Float(0, 1) for i in range(4)})
BALL = tuneful.Space(**{f"x{i}": tuneful.Float(-2, 2) for i in range(4)})


def _ball(trial: tuneful.Trial, told: bool = True) -> float:
    """Near (1.5, ...) subject to the unit ball; the constrained optimum is 4.0."""
    x = np.array([trial.params[f"x{i}"] for i in range(4)])
    if told:
        trial.set_constraints([float(np.sum(x**2)) - 1.0])
    return float(np.sum((x - 1.5) ** 2))


def _best_feasible(study: tuneful.Study) -> float:
    x = [np.array([t.params[f"x{i}"] for i in range(4)]) for t in study.trials]
    feasible = [t.values[0] for t, p in zip(study.trials, x, strict=True) if np.sum(p**2) <= 1]
    return min(feasible, default=np.inf)


def test_the_probability_of_feasibility_and_its_gradients() -> None:
    mean, variance = np.array([0.3, -1.0, 2.0]), np.array([0.5, 0.2, 1.5])
    value, d_mean, d_variance = log_probability_below(mean, variance, 0.5)
    from scipy.stats import norm

    assert np.allclose(value, norm.logcdf((0.5 - mean) / np.sqrt(variance)))
    h = 1e-6
    up, _, _ = log_probability_below(mean + h, variance, 0.5)
    assert np.allclose(d_mean, (up - value) / h, rtol=1e-4, atol=1e-6)
    up, _, _ = log_probability_below(mean, variance + h, 0.5)
    assert np.allclose(d_variance, (up - value) / h, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_constraint_leads_the_gp_to_the_constrained_optimum(seed: int) -> None:
    constrained = tuneful.create_study(space=BALL, storage="memory://", optimizer="gp", seed=seed)
    constrained.optimize(_ball, n_trials=35, show_progress_bar=False)
    blind = tuneful.create_study(space=BALL, storage="memory://", optimizer="gp", seed=seed)
    blind.optimize(lambda t: _ball(t, told=False), n_trials=35, show_progress_bar=False)
    assert constrained.best_value < 4.2
    assert _best_feasible(constrained) < _best_feasible(blind) - 0.5


def _feasible_share(study: tuneful.Study) -> float:
    """The share of the GP's proposals (after the start-up) inside the unit ball."""
    x = [np.array([t.params[f"x{i}"] for i in range(4)]) for t in study.trials[10:]]
    return float(np.mean([np.sum(p**2) <= 1 for p in x]))


def test_the_constrained_gp_proposes_feasible_points_far_more_often() -> None:
    """The ball holds 2% of the box; the objective's optimum lies outside it."""
    constrained = tuneful.create_study(space=BALL, storage="memory://", optimizer="gp", seed=0)
    constrained.optimize(_ball, n_trials=35, show_progress_bar=False)
    blind = tuneful.create_study(space=BALL, storage="memory://", optimizer="gp", seed=0)
    blind.optimize(lambda t: _ball(t, told=False), n_trials=35, show_progress_bar=False)
    assert _feasible_share(constrained) > _feasible_share(blind) + 0.15


def _zdt1_right(trial: tuneful.Trial, told: bool = True) -> tuple[float, float]:
    """ZDT1 in 4 variables, feasible where x0 >= 0.6 (the front's left part is not)."""
    x = np.array([trial.params[f"x{i}"] for i in range(4)])
    if told:
        trial.set_constraints([0.6 - float(x[0])])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - float(np.sqrt(x[0] / g)))


def _feasible_volume(study: tuneful.Study) -> float:
    points = [t.values for t in study.trials if t.params["x0"] >= 0.6]
    return hypervolume(points or [[1.1, 11.0]], reference=[1.1, 11.0])


@pytest.mark.parametrize("method", ["ehvi", "parego"])
@pytest.mark.parametrize("seed", [0, 1])
def test_with_several_objectives_the_gp_keeps_to_the_feasible_front(method: str, seed: int) -> None:
    def study() -> tuneful.Study:
        optimizer = GPOptimizer(seed=seed, multi_objective=method)
        return tuneful.create_study(
            space=UNIT, storage="memory://", directions=["minimize"] * 2, optimizer=optimizer,
            seed=seed,
        )  # fmt: skip

    constrained, blind = study(), study()
    constrained.optimize(_zdt1_right, n_trials=30, show_progress_bar=False)
    blind.optimize(lambda t: _zdt1_right(t, told=False), n_trials=30, show_progress_bar=False)
    share = np.mean([t.params["x0"] >= 0.6 for t in constrained.trials[10:]])
    assert share > 0.75
    assert _feasible_volume(constrained) > _feasible_volume(blind)


@pytest.mark.parametrize("method", ["ehvi", "parego"])
def test_with_several_objectives_and_no_feasible_trial_the_gp_seeks_feasibility(
    method: str,
) -> None:
    space = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
    optimizer = GPOptimizer(seed=0, multi_objective=method)
    study = tuneful.create_study(
        space=space, storage="memory://", directions=["minimize"] * 2, optimizer=optimizer, seed=0
    )
    for x in np.linspace(0.4, 1.0, 12):
        trial = study.ask({"x": float(x), "y": float(1.0 - x)})
        study.tell(trial, [-float(x), float(x)], constraints=[float(x) - 0.1])
    assert study.ask().params["x"] < 0.4


def test_with_no_feasible_trial_the_gp_seeks_feasibility() -> None:
    """Every trial so far violates x <= 0.1 (the objective prefers large x): the next points
    maximize the probability of feasibility, so they go below every x tried."""
    space = tuneful.Space(x=tuneful.Float(0, 1))
    study = tuneful.create_study(space=space, storage="memory://", optimizer="gp", seed=0)
    for x in np.linspace(0.4, 1.0, 12):
        trial = study.ask({"x": float(x)})
        study.tell(trial, -float(x), constraints=[float(x) - 0.1])
    trial = study.ask()
    assert trial.params["x"] < 0.4
    study.tell(trial, -trial.params["x"], constraints=[trial.params["x"] - 0.1])


def test_a_fresh_optimizer_on_a_constrained_history_proposes_the_same() -> None:
    study = tuneful.create_study(space=BALL, storage="memory://", optimizer="gp", seed=3)
    study.optimize(_ball, n_trials=14, show_progress_bar=False)
    history = History(BALL, ("minimize",), list(study.trials), number=14, seed=3)
    first = GPOptimizer(seed=3).suggest(history, 1, np.random.default_rng(7))
    again = GPOptimizer(seed=3).suggest(history, 1, np.random.default_rng(7))
    assert np.array_equal(first, again)


def test_a_resumed_constrained_study_proposes_what_an_uninterrupted_one_does(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    whole = tuneful.create_study("whole", space=BALL, storage=url, optimizer="gp", seed=4)
    whole.optimize(_ball, n_trials=17, show_progress_bar=False)
    parts = tuneful.create_study("parts", space=BALL, storage=url, optimizer="gp", seed=4)
    parts.optimize(_ball, n_trials=12, show_progress_bar=False)
    resumed = tuneful.load_study("parts", storage=url)
    resumed.optimize(_ball, n_trials=5, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]
