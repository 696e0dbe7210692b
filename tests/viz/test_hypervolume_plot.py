"""The ``hypervolume`` plot: the feasible front's hypervolume after each trial, one study or
several on a shared reference point."""

from __future__ import annotations

import pytest

import tuneful
from tuneful.analysis.indicators import hypervolume
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.viz.study import COMPARING, KINDS, plot, plot_hypervolume


def _study(name: str, values, constraints=None, directions=("minimize", "minimize")):
    study = tuneful.create_study(
        name,
        space=tuneful.Space(x=tuneful.Float(0, 1)),
        storage="memory://",
        directions=list(directions),
        optimizer="random",
    )
    for i, value in enumerate(values):
        trial = study.ask()
        study.tell(trial, value, constraints=None if constraints is None else constraints[i])
    return StudyData.of(study)


def test_hypervolume_steps_at_each_improvement_of_the_front() -> None:
    values = [(3.0, 3.0), (1.0, 3.0), (2.0, 2.0), (2.5, 2.5), (3.0, 1.0)]
    figure = plot_hypervolume(_study("a", values), reference=[4.0, 4.0])
    line = figure.data.trace("hypervolume")
    assert line.numbers.tolist() == [0, 1, 2, 3, 4]
    assert line.y.tolist() == [1.0, 3.0, 5.0, 5.0, 6.0]
    assert line.line_shape == "hv"


def test_hypervolume_infeasible_trials_add_nothing() -> None:
    values = [(3.0, 3.0), (0.0, 0.0), (2.0, 2.0)]
    study = _study("c", values, constraints=[[-1.0], [1.0], [-1.0]])
    line = plot_hypervolume(study, reference=[4.0, 4.0]).data.trace("hypervolume")
    assert line.y.tolist() == [1.0, 1.0, 4.0]


def test_hypervolume_compares_studies_on_one_reference() -> None:
    first = _study("first", [(1.0, 3.0), (3.0, 1.0)])
    second = _study("second", [(2.0, 2.0), (0.5, 4.0)])
    figure = plot("hypervolume", [first, second])
    ref = [3.0 + 0.25, 4.0 + 0.3]  # the nadir of both, pushed out by 10 % of each range
    lines = {t.name: t for t in figure.data.traces}
    assert set(lines) == {"first", "second"}
    assert lines["first"].y[-1] == pytest.approx(hypervolume([[1, 3], [3, 1]], ref))
    assert lines["second"].y[-1] == pytest.approx(hypervolume([[2, 2], [0.5, 4]], ref))
    assert "hypervolume" in KINDS and "hypervolume" in COMPARING


def test_hypervolume_respects_a_maximized_objective() -> None:
    study = _study("m", [(1.0, 1.0), (0.0, 3.0)], directions=("minimize", "maximize"))
    line = plot_hypervolume(study, reference=[2.0, 0.0]).data.trace("hypervolume")
    assert line.y.tolist() == [1.0, 6.0]  # [1,2]x[0,1], then [0,2]x[0,3] covering it


def test_hypervolume_refuses_single_objective_and_mismatched_studies() -> None:
    single = _study("s", [(1.0,)], directions=("minimize",))
    with pytest.raises(StudyError, match="two objectives or more"):
        plot_hypervolume(single)
    a = _study("a", [(1.0, 1.0)])
    b = _study("b", [(1.0, 1.0)], directions=("minimize", "maximize"))
    with pytest.raises(StudyError, match="same objectives"):
        plot_hypervolume([a, b])
    with pytest.raises(StudyError, match="reference="):
        plot_hypervolume(a, reference=[1.0])


def test_hypervolume_with_no_feasible_trial_says_so() -> None:
    study = _study("none", [(1.0, 1.0)], constraints=[[1.0]])
    with pytest.raises(StudyError, match="no feasible completed trial"):
        plot_hypervolume(study)
