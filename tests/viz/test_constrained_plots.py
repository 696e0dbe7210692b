"""Plots of studies with constraints: an infeasible trial is drawn apart and is never the
incumbent nor on the Pareto front."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful.analysis.progress import progress
from tuneful.analysis.trials import StudyData
from tuneful.records import TrialState
from tuneful.viz.study import plot_history, plot_pareto


def _study(n_objectives: int, values, constraints) -> StudyData:
    """A study told ``values`` (one tuple per trial) with ``constraints`` (one list each)."""
    directions = ["minimize"] * n_objectives
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0, 1)),
        storage="memory://",
        directions=directions,
        seed=0,
        optimizer="random",
    )
    for value, constraint in zip(values, constraints, strict=True):
        trial = study.ask()
        study.tell(trial, value, constraints=constraint)
    return StudyData.of(study)


@pytest.fixture
def single() -> StudyData:
    # trial 1 is the lowest value but infeasible; trial 3 is the best feasible one
    return _study(
        1,
        [(3.0,), (0.5,), (2.0,), (1.0,), (0.1,)],
        [[-1.0], [2.0], [0.0], [-0.5], [0.3]],
    )


def test_progress_incumbent_skips_infeasible_trials(single: StudyData) -> None:
    trace = progress(single)
    assert trace.feasible.tolist() == [True, False, True, True, False]
    assert trace.best.tolist() == [3.0, 3.0, 2.0, 1.0, 1.0]
    assert trace.improved.tolist() == [True, False, True, True, False]


def test_history_draws_infeasible_trials_apart_and_never_as_best(single: StudyData) -> None:
    figure = plot_history(single)
    assert sorted(figure.data.trace("complete").numbers) == [0, 2, 3]
    infeasible = figure.data.trace("infeasible (constraints > 0)")
    assert sorted(infeasible.numbers) == [1, 4] and infeasible.symbol == "x"
    best = figure.data.trace("best so far")
    assert min(best.y) == 1.0  # not 0.5 nor 0.1: those violate their constraint


def test_history_with_no_feasible_trial_draws_no_incumbent_and_says_so() -> None:
    study = _study(1, [(1.0,), (2.0,)], [[1.0], [0.5]])
    figure = plot_history(study)
    names = [t.name for t in figure.data.traces]
    assert "best so far" not in names
    assert any("no feasible trial" in note for note in figure.data.notes)


def test_pareto_plot_keeps_infeasible_trials_off_the_front() -> None:
    values = [(0.0, 0.0), (1.0, 2.0), (2.0, 1.0), (3.0, 3.0)]
    study = _study(2, values, [[1.0], [-1.0], [-1.0], [-1.0]])
    figure = plot_pareto(study)
    assert sorted(figure.data.trace("Pareto front").numbers) == [1, 2]
    infeasible = figure.data.trace("infeasible (constraints > 0)")
    assert infeasible.numbers.tolist() == [0] and infeasible.symbol == "x"
    assert figure.data.trace("dominated").numbers.tolist() == [3]
    assert any("1 infeasible" in note for note in figure.data.notes)


def test_unconstrained_history_has_no_infeasible_trace() -> None:
    study = _study(1, [(1.0,), (2.0,)], [None, None])
    names = [t.name for t in plot_history(study).data.traces]
    assert not any(name.startswith("infeasible") for name in names)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    assert np.isfinite(progress(study).best).all()
