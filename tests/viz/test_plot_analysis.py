"""What the plots compute, in tuneful.analysis: the incumbent, the empirical distribution,
Pareto points and hypervolume over time, the relevance screen, the interpolated surface."""

from __future__ import annotations

import numpy as np
import pytest

from tuneful._pareto import hypervolume
from tuneful.analysis.front import pareto_points
from tuneful.analysis.indicators import hypervolume_over_time
from tuneful.analysis.progress import edf, progress, running_best
from tuneful.analysis.relevance import ranked_params, relevance
from tuneful.analysis.surface import value_surface
from tuneful.analysis.trials import StudyData, trial_table
from tuneful.errors import StudyError


def test_running_best_skips_missing_values_and_follows_the_direction() -> None:
    values = np.array([np.nan, 3.0, np.nan, 1.0, 2.0, 0.5])
    assert np.allclose(running_best(values)[1:], [3, 3, 1, 1, 0.5])
    assert np.isnan(running_best(values)[0])
    assert np.allclose(running_best(values, maximize=True)[1:], [3, 3, 3, 3, 3])


def test_edf_counts_ties_once_with_their_whole_weight() -> None:
    x, fraction = edf(np.array([2.0, 1.0, 1.0, 4.0, np.inf]))
    assert list(x) == [1.0, 2.0, 4.0] and list(fraction) == [0.5, 0.75, 1.0]
    empty_x, empty_fraction = edf(np.array([np.nan]))
    assert empty_x.size == 0 and empty_fraction.size == 0


def test_progress_marks_the_trials_that_set_a_new_best(conditional: StudyData) -> None:
    trace = progress(conditional)
    assert np.array_equal(trace.best, running_best(trace.values))
    assert trace.improved[0] and all(
        trace.values[i] == trace.best[i] for i in np.flatnonzero(trace.improved)
    )
    with pytest.raises(StudyError, match="objective=1 is out of range"):
        progress(conditional, objective=1)


def test_hypervolume_over_time_grows_to_the_front_s_hypervolume(bi_objective: StudyData) -> None:
    trace = hypervolume_over_time(bi_objective)
    numbers, volumes, reference = trace.numbers, trace.hypervolumes, trace.reference
    front = pareto_points(bi_objective)
    assert len(numbers) == len(volumes) == len(front.numbers)
    assert np.all(np.diff(volumes) >= -1e-12)
    assert volumes[-1] == pytest.approx(hypervolume(front.minimized[front.on_front], reference))
    assert numbers[-1] == front.numbers[-1]


def test_pareto_points_orient_maximized_objectives(bi_objective_mixed: StudyData) -> None:
    front = pareto_points(bi_objective_mixed)
    assert np.array_equal(front.minimized[:, 1], -front.values[:, 1])
    with pytest.raises(StudyError, match="needs two objectives or more"):
        pareto_points(bi_objective_mixed, objectives=[0])


def test_relevance_ranks_what_the_value_depends_on_first(conditional: StudyData) -> None:
    table = trial_table(conditional)
    scores = relevance(table)
    assert ranked_params(table)[0] == "lr"  # the loss is a parabola in log10(lr)
    assert all(0.0 <= s <= 1.0 for s in scores.values())


def test_surface_is_exact_at_the_trials_of_two_categorical_parameters() -> None:
    import tuneful

    space = tuneful.Space(a=tuneful.Categorical(["x", "y"]), b=tuneful.Categorical([1, 2, 3]))
    study = tuneful.create_study(space=space, storage="memory://", optimizer="grid")
    study.optimize(
        lambda t: len(t.params["a"]) + t.params["b"], n_trials=6, show_progress_bar=False
    )
    surface = value_surface(trial_table(study), "a", "b")
    assert surface.z.shape == (3, 2)
    assert np.allclose(surface.z, [[2, 2], [3, 3], [4, 4]])


def test_front_mask_agrees_with_the_pairwise_front_ties_included() -> None:
    from tuneful._pareto import pareto_front_mask
    from tuneful.analysis.front import front_mask

    rng = np.random.default_rng(3)
    for m in (2, 3, 4):
        y = rng.integers(0, 6, size=(300, m)).astype(float)  # many ties and equal points
        assert np.array_equal(front_mask(y), pareto_front_mask(y))


def test_the_front_leaves_out_infeasible_trials() -> None:
    from tuneful.analysis.front import pareto_points
    from tuneful.analysis.trials import StudyData
    from tuneful.records import TrialRecord, TrialState

    trials = (
        TrialRecord(0, TrialState.COMPLETE, values=(0.0, 0.0), constraints=(1.0,)),
        TrialRecord(1, TrialState.COMPLETE, values=(1.0, 2.0), constraints=(-1.0,)),
        TrialRecord(2, TrialState.COMPLETE, values=(2.0, 1.0)),
        TrialRecord(3, TrialState.COMPLETE, values=(2.0, 3.0), constraints=(0.0,)),
    )
    front = pareto_points(StudyData("c", ("minimize", "minimize"), trials))
    assert [t.number for t, on in zip(front.trials, front.on_front, strict=True) if on] == [1, 2]
