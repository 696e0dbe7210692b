"""GP-BO with constraints (Gardner et al. 2014): a GP per constraint, expected improvement
over the best feasible value times the probability that every constraint holds."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful.optimizers import GPOptimizer
from tuneful.optimizers._gp_acquisition import log_probability_below
from tuneful.records import History

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
