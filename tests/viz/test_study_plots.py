"""Every plot kind of a study, on real studies run with tuneful: the figure's data is
checked (what is drawn, where, on which axes), not its pixels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tuneful
from tuneful.analysis.importance import Importance
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.records import TrialState
from tuneful.viz.study import (
    KINDS,
    Dimension,
    plot,
    plot_contour,
    plot_curves,
    plot_edf,
    plot_history,
    plot_importance,
    plot_parallel,
    plot_pareto,
    plot_slice,
    plot_timeline,
)


def _completed(study: StudyData) -> list[tuneful.TrialRecord]:
    return [t for t in study.trials if t.state is TrialState.COMPLETE]


# --- history -------------------------------------------------------------------------------


def test_history_incumbent_line_is_the_running_best(conditional: StudyData) -> None:
    figure = plot_history(conditional)
    best = figure.data.trace("best so far")
    done = _completed(conditional)
    for x, y in zip(best.x, best.y, strict=True):
        assert y == min(t.values[0] for t in done if t.number <= x)
    assert best.x[-1] == done[-1].number
    dots = figure.data.trace("complete")
    assert sorted(dots.numbers) == [t.number for t in done]


def test_history_maximize_incumbent_is_the_running_maximum(conditional_max: StudyData) -> None:
    best = plot_history(conditional_max).data.trace("best so far")
    done = _completed(conditional_max)
    for x, y in zip(best.x, best.y, strict=True):
        assert y == max(t.values[0] for t in done if t.number <= x)


def test_history_draws_pruned_trials_at_their_last_reported_value(pruned: StudyData) -> None:
    trace = plot_history(pruned).data.trace("pruned (last reported value)")
    stopped = [t for t in pruned.trials if t.state is TrialState.PRUNED]
    assert list(trace.numbers) == [t.number for t in stopped]
    assert list(trace.y) == [t.intermediate[max(t.intermediate)] for t in stopped]
    assert trace.symbol == "circle-open"


def test_history_says_failed_trials_are_not_drawn(conditional: StudyData) -> None:
    failed = sum(t.state is TrialState.FAIL for t in conditional.trials)
    assert failed > 0
    assert any(f"{failed} failed" in note for note in plot_history(conditional).notes)


def test_history_compares_studies_one_colour_each(
    conditional: StudyData, define_by_run: StudyData
) -> None:
    figure = plot_history([conditional, define_by_run])
    first = figure.data.trace("conditional: complete")
    second = figure.data.trace("by-run: complete")
    assert first.color != second.color
    assert figure.data.trace("by-run: best so far").color == second.color


def test_history_sampled_keeps_every_incumbent_and_says_so(conditional: StudyData) -> None:
    figure = plot_history(conditional, max_trials=10)
    dots = figure.data.trace("complete")
    best = figure.data.trace("best so far")
    assert len(dots) == 10
    assert set(best.x[:-1].astype(int)) <= set(dots.numbers)
    assert any(note.startswith("showing 10 of") for note in figure.notes)


# --- parallel ------------------------------------------------------------------------------


def _dimension(figure, label: str) -> Dimension:
    (trace,) = figure.data.traces
    return next(d for d in trace.dimensions if d.label == label)


def test_parallel_draws_inactive_values_in_their_own_band(conditional: StudyData) -> None:
    figure = plot_parallel(conditional)
    (trace,) = figure.data.traces
    momentum = _dimension(figure, "momentum")
    by_number = {t.number: t for t in conditional.trials}
    sgd = np.array([by_number[int(n)].params["optimizer"] == "sgd" for n in trace.numbers])
    assert np.array_equal(momentum.inactive, ~sgd)
    active = momentum.values[sgd]
    assert np.all((active >= 0) & (active <= 1))


def test_parallel_log_axis_is_ticked_with_values(conditional: StudyData) -> None:
    lr = _dimension(plot_parallel(conditional), "lr")
    assert lr.tick_labels == ("0.0001", "0.001", "0.01", "0.1")
    assert np.allclose(lr.tick_positions, [0, 1 / 3, 2 / 3, 1])


def test_parallel_categorical_axis_is_labelled_with_its_choices(conditional: StudyData) -> None:
    optimizer = _dimension(plot_parallel(conditional), "optimizer")
    assert optimizer.tick_labels == ("sgd", "adam")
    assert set(np.round(optimizer.values, 6)) == {0.25, 0.75}


def test_parallel_colours_by_value_best_brightest(conditional_max: StudyData) -> None:
    (trace,) = plot_parallel(conditional_max).data.traces
    assert trace.colorscale == "viridis"  # maximize: the largest value at the bright end
    (trace,) = plot_parallel(conditional_max, params=["lr"]).data.traces
    assert [d.label for d in trace.dimensions] == ["value (maximize)", "lr"]


# --- slice ---------------------------------------------------------------------------------


def test_slice_draws_a_parameter_only_where_it_is_active(conditional: StudyData) -> None:
    figure = plot_slice(conditional)
    names = [p.title for p in figure.data.panels]
    assert sorted(names) == ["layers", "lr", "momentum", "optimizer"]
    momentum = figure.data.trace("momentum")
    sgd = [t for t in _completed(conditional) if t.params["optimizer"] == "sgd"]
    assert sorted(momentum.numbers) == [t.number for t in sgd]
    panels = {p.title: p for p in figure.data.panels}
    assert panels["lr"].x.type == "log"
    assert panels["optimizer"].x.type == "category"
    assert panels["optimizer"].x.categories == ("sgd", "adam")
    assert panels["layers"].x.integer


def test_slice_define_by_run_draws_each_branch_alone(define_by_run: StudyData) -> None:
    figure = plot_slice(define_by_run)
    alpha = figure.data.trace("alpha")
    by_number = {t.number: t for t in define_by_run.trials}
    assert all(by_number[int(n)].params["kind"] == "linear" for n in alpha.numbers)
    depth = figure.data.trace("depth")
    assert all(by_number[int(n)].params["kind"] == "tree" for n in depth.numbers)


# --- contour -------------------------------------------------------------------------------


def test_contour_interpolates_over_trials_where_both_are_active(conditional: StudyData) -> None:
    figure = plot_contour(conditional, params=["lr", "momentum"])
    surface = figure.data.trace("interpolated value")
    points = figure.data.trace("trials")
    sgd = [t for t in _completed(conditional) if t.params["optimizer"] == "sgd"]
    assert sorted(points.numbers) == [t.number for t in sgd]
    values = [t.values[0] for t in sgd]
    z = surface.z[np.isfinite(surface.z)]
    assert z.size > 0 and min(values) - 1e-9 <= z.min() and z.max() <= max(values) + 1e-9
    panel = figure.data.panels[0]
    assert (panel.x.type, panel.y.type) == ("log", "linear")
    assert surface.x[0] == pytest.approx(1e-4) and surface.x[-1] == pytest.approx(0.1)
    assert any("inactive" in note for note in figure.notes)


def test_contour_with_a_categorical_draws_cells_per_choice(conditional: StudyData) -> None:
    figure = plot_contour(conditional, params=["lr", "optimizer"])
    surface = figure.data.traces[0]
    assert surface.kind == "heatmap"
    assert figure.data.panels[0].y.categories == ("sgd", "adam")
    assert surface.z.shape == (2, len(surface.x))


def test_contour_takes_exactly_two_parameters(conditional: StudyData) -> None:
    with pytest.raises(StudyError, match="exactly two"):
        plot_contour(conditional, params=["lr"])
    with pytest.raises(StudyError, match="not parameters"):
        plot_contour(conditional, params=["lr", "nope"])


# --- importance ----------------------------------------------------------------------------


def _importance() -> Importance:
    return Importance(
        method="fanova",
        study="conditional",
        objective=0,
        params=("lr", "optimizer", "layers"),
        shares={"lr": 0.6, "optimizer": 0.2, "layers": 0.05},
        std={"lr": 0.05, "optimizer": 0.03, "layers": 0.01},
        pairs={("lr", "optimizer"): 0.08},
        pair_std={("lr", "optimizer"): 0.02},
        n_trials=53,
        notes=("7 failed trials left out",),
    )


def test_importance_bars_most_important_on_top_with_error_bars(conditional: StudyData) -> None:
    figure = plot_importance(conditional, importance=_importance())
    bars = figure.data.trace("parameter")
    panel = figure.data.panels[0]
    labels = [panel.y.categories[int(y)] for y in bars.y]
    assert labels == ["lr", "optimizer", "layers"]
    assert list(bars.x) == [0.6, 0.2, 0.05] and list(bars.error) == [0.05, 0.03, 0.01]
    assert bars.y[0] == len(panel.y.categories) - 1  # the top row
    pairs = figure.data.trace("pair (interaction)")
    assert [panel.y.categories[int(y)] for y in pairs.y] == ["lr × optimizer"]
    assert "7 failed trials left out" in figure.notes


def test_importance_computed_from_the_study(conditional: StudyData) -> None:
    try:
        figure = plot_importance(conditional, method="ped-anova")
    except NotImplementedError:
        pytest.skip("tuneful.analysis.importance.importance is not written yet")
    assert set(figure.data.trace("parameter").x) and figure.kind == "importance"


# --- curves --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["pruned", "median_pruned"])
def test_curves_pruned_marker_sits_at_the_stop_step(name: str, request) -> None:
    study: StudyData = request.getfixturevalue(name)
    figure = plot_curves(study)
    stops = figure.data.trace("stopped here by the scheduler")
    by_number = {t.number: t for t in study.trials}
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    assert sorted(stops.numbers) == [t.number for t in pruned] and pruned
    for number, x, y, hover in zip(stops.numbers, stops.x, stops.y, stops.hover, strict=True):
        record = by_number[int(number)].system_attrs["pruned"]
        assert x == record["step"]
        assert y == by_number[int(number)].intermediate[record["step"]]
        assert record["reason"] in hover


def test_curves_one_legend_entry_per_state(pruned: StudyData) -> None:
    figure = plot_curves(pruned)
    names = [t.name for t in figure.data.traces]
    n_done = len(_completed(pruned))
    n_pruned = sum(t.state is TrialState.PRUNED for t in pruned.trials)
    assert f"complete ({n_done})" in names and f"pruned ({n_pruned})" in names
    complete = figure.data.trace(f"complete ({n_done})")
    pruned_line = figure.data.trace(f"pruned ({n_pruned})")
    assert complete.color != pruned_line.color


# --- edf -----------------------------------------------------------------------------------


def test_edf_is_the_fraction_of_values_at_or_below(
    conditional: StudyData, pruned: StudyData
) -> None:
    figure = plot_edf([conditional, pruned])
    for study in (conditional, pruned):
        trace = figure.data.trace(study.name)
        values = np.array([t.values[0] for t in _completed(study)])
        for x, fraction in zip(trace.x, trace.y, strict=True):
            assert fraction == pytest.approx(np.mean(values <= x))
        assert trace.y[-1] == 1.0 and trace.line_shape == "hv"


# --- pareto --------------------------------------------------------------------------------


def _dominates(a, b, signs) -> bool:
    a, b = np.asarray(a) * signs, np.asarray(b) * signs
    return bool(np.all(a <= b) and np.any(a < b))


@pytest.mark.parametrize("name", ["bi_objective", "bi_objective_mixed", "tri_objective"])
def test_pareto_front_is_the_non_dominated_set(name: str, request) -> None:
    study: StudyData = request.getfixturevalue(name)
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in study.directions])
    done = _completed(study)
    expected = sorted(
        t.number
        for t in done
        if not any(_dominates(o.values, t.values, signs) for o in done if o is not t)
    )
    figure = plot_pareto(study)
    front = figure.data.trace("Pareto front")
    assert sorted(front.numbers) == expected
    dominated = figure.data.trace("dominated")
    assert sorted([*front.numbers, *dominated.numbers]) == [t.number for t in done]
    assert dominated.opacity < front.opacity
    assert figure.data.panels[0].is_3d == (study.n_objectives == 3)
    if study.n_objectives == 3:
        assert front.kind == "scatter3d" and front.z is not None


def test_pareto_objectives_option_picks_which(tri_objective: StudyData) -> None:
    figure = plot_pareto(tri_objective, objectives=[0, 2])
    panel = figure.data.panels[0]
    assert not panel.is_3d and panel.y.title == "objective 2 (minimize)"
    by_number = {t.number: t for t in tri_objective.trials}
    front = figure.data.trace("Pareto front")
    assert [by_number[int(n)].values[2] for n in front.numbers] == list(front.y)


def test_pareto_refuses_a_single_objective_study(conditional: StudyData) -> None:
    with pytest.raises(StudyError, match="one objective"):
        plot_pareto(conditional)


def test_pareto_compares_studies_each_with_its_front(
    bi_objective: StudyData, bi_objective_mixed: StudyData
) -> None:
    other = dataclasses.replace(bi_objective, name="bi-copy")
    figure = plot_pareto([bi_objective, other])
    a = figure.data.trace("bi: Pareto front")
    b = figure.data.trace("bi-copy: Pareto front")
    assert list(a.numbers) == list(b.numbers) and a.color != b.color


# --- timeline ------------------------------------------------------------------------------


def test_timeline_bar_per_trial_from_start_to_end(conditional: StudyData) -> None:
    figure = plot_timeline(conditional)
    origin = min(t.started_at for t in conditional.trials)
    by_number = {t.number: t for t in conditional.trials}
    drawn = []
    for trace in (t for t in figure.data.traces if t.kind == "bar"):
        for number, start, length in zip(trace.numbers, trace.base, trace.x, strict=True):
            record = by_number[int(number)]
            assert start == pytest.approx(record.started_at - origin)
            assert length == pytest.approx(record.finished_at - record.started_at)
            drawn.append(int(number))
    assert sorted(drawn) == [t.number for t in conditional.trials]
    failed = figure.data.trace("failed")
    assert len(failed) == sum(t.state is TrialState.FAIL for t in conditional.trials)
    assert all("error: RuntimeError: out of memory" in h for h in failed.hover)
    assert "failure (end of a failed trial)" in [t.name for t in figure.data.traces]
    assert figure.data.panels[0].y.type == "category"


def test_timeline_running_trial_runs_to_now() -> None:
    study = tuneful.create_study(space=tuneful.Space(x=tuneful.Float(0, 1)), storage="memory://")
    study.optimize(lambda t: t.params["x"], n_trials=2, show_progress_bar=False)
    running = study.ask()
    data = StudyData.of(study)
    record = data.trials[running.number]
    figure = plot_timeline(data, now=record.started_at + 5.0)
    bar = figure.data.trace("running")
    origin = min(t.started_at for t in data.trials)
    assert bar.base[0] + bar.x[0] == pytest.approx(record.started_at + 5.0 - origin)


# --- every kind ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, what",
    [
        ("history", "completed trial"),
        ("parallel", "completed trial"),
        ("slice", "completed trial"),
        ("contour", "completed trial"),
        ("importance", "completed trial"),
        ("curves", "trial that reported a learning curve"),
        ("edf", "completed trial"),
        ("timeline", "started trial"),
    ],
)
def test_empty_study_says_there_is_nothing_to_plot(kind: str, what: str, empty) -> None:
    with pytest.raises(StudyError, match=f"study 'empty' has no {what} yet: nothing to plot"):
        plot(kind, empty)


def test_empty_multi_objective_study_has_no_front() -> None:
    study = tuneful.create_study(
        "empty-mo",
        space=tuneful.Space(x=tuneful.Float(0, 1)),
        directions=["minimize", "minimize"],
        storage="memory://",
    )
    with pytest.raises(StudyError, match="has no completed trial yet: nothing to plot"):
        plot("pareto", study)


@pytest.mark.parametrize(
    "kind", ["parallel", "slice", "contour", "importance", "curves", "timeline"]
)
def test_kinds_that_cannot_compare_say_so(kind: str, conditional, pruned) -> None:
    with pytest.raises(StudyError, match="one study at a time.*history, edf, pareto, hypervolume"):
        plot(kind, [conditional, pruned])


def test_plot_refuses_an_unknown_kind_and_an_option_the_kind_has_not(conditional) -> None:
    with pytest.raises(StudyError, match="unknown plot kind 'histroy'; did you mean 'history'"):
        plot("histroy", conditional)
    with pytest.raises(StudyError, match="the 'edf' plot takes no params"):
        plot("edf", conditional, params=["lr"])
    assert KINDS == (
        "history",
        "parallel",
        "slice",
        "contour",
        "importance",
        "curves",
        "edf",
        "pareto",
        "hypervolume",
        "timeline",
    )


def test_a_study_object_is_read_like_its_data() -> None:
    study = tuneful.create_study(space=tuneful.Space(x=tuneful.Float(0, 1)), storage="memory://")
    study.optimize(lambda t: t.params["x"], n_trials=5, show_progress_bar=False)
    assert len(plot("history", study).data.trace("complete")) == 5
