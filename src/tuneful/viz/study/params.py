"""Where the good values are, parameter by parameter: parallel coordinates (``parallel``),
one slice per parameter (``slice``) and the surface over a pair (``contour``).

Each draws a parameter only over the trials where it is active, a log parameter on a log
scale and a categorical one with its choices as labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.progress import running_best
from tuneful.analysis.relevance import ranked_params
from tuneful.analysis.surface import value_surface
from tuneful.analysis.trials import StudyData, TrialTable, trial_table
from tuneful.errors import StudyError
from tuneful.records import TrialState
from tuneful.viz.study._select import (
    best_bright,
    check_cap,
    check_objective,
    nothing_to_plot,
    one_study,
    param_axis,
    round_ticks,
    sample,
    sampled_note,
    trial_hover,
    unit_ticks,
    value_title,
)
from tuneful.viz.study.figure import Axis, Dimension, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_parallel", "plot_slice", "plot_contour"]

PARALLEL_TRIALS = 1000
SLICE_TRIALS = 2000
CONTOUR_TRIALS = 2000
PARALLEL_PARAMS = 8
SLICE_PARAMS = 12


def completed_table(
    kind: str,
    studies: Study | StudyData | Sequence[Study | StudyData],
    params: Sequence[str] | None,
    objective: int,
) -> tuple[StudyData, TrialTable]:
    """The one study a kind draws and its completed trials with a finite objective.

    Raises:
        StudyError: several studies, no completed trial, no parameter, an unknown name.
    """
    study = one_study(kind, studies)
    check_objective(study, objective)
    kept = tuple(
        t
        for t in study.trials
        if t.state is TrialState.COMPLETE
        and t.values is not None
        and len(t.values) == study.n_objectives
        and math.isfinite(t.values[objective])
    )
    if not kept:
        raise nothing_to_plot(study)
    table = trial_table(replace(study, trials=kept), params=params)
    if not table.columns:
        raise StudyError(f"study {study.name!r} has no parameter to plot")
    return study, table


def _sampled(table: TrialTable, objective: int, cap: int) -> tuple[np.ndarray, list[str]]:
    """Rows to draw (every incumbent kept) and the note when some are left out."""
    y = table.objective(objective, minimize=True)
    best = running_best(y)
    improved = np.concatenate([[True], best[1:] < best[:-1]]) if len(y) else np.zeros(0, bool)
    rows = sample(len(table), cap, keep=improved)
    if len(rows) == len(table):
        return rows, []
    return rows, [sampled_note(len(rows), len(table), "completed trials", "every incumbent kept")]


def _chosen(
    table: TrialTable, params: Sequence[str] | None, objective: int, limit: int
) -> tuple[list[str], list[str]]:
    """The parameters to draw and a note when some were left out (the most relevant kept)."""
    if params is not None:
        return list(params), []
    ranked = ranked_params(table, objective=objective)
    if len(ranked) <= limit:
        return ranked, []
    note = (
        f"showing {limit} of {len(ranked)} parameters, those the value varies most with "
        "(choose with params=)"
    )
    return ranked[:limit], [note]


def plot_parallel(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
    max_trials: int | None = None,
) -> StudyFigure:
    """Parallel coordinates: the value, then one axis per parameter, a line per completed
    trial coloured by its value (the best brightest).

    A categorical axis is labelled with its choices, a log one with its values on a log
    scale; where a parameter is inactive the line goes to the band labelled "inactive"
    under that axis.

    Args:
        params: the axes (default: up to 8, those the value varies most with first).
        max_trials: at most this many lines (default 1,000), every incumbent kept.
    """
    study, table = completed_table("parallel", studies, params, objective)
    names, notes = _chosen(table, params, objective, PARALLEL_PARAMS)
    rows, sampled = _sampled(table, objective, check_cap(max_trials, PARALLEL_TRIALS))
    values = table.values[rows, objective]
    low, high = float(np.min(values)), float(np.max(values))
    span = high - low if high > low else 1.0
    ticks = _value_ticks(low, high)
    dimensions = [
        Dimension(
            value_title(study, objective),
            (values - low) / span,
            tuple((t - low) / span for t in ticks),
            tuple(f"{t:.4g}" for t in ticks),
        )
    ]
    for name in names:
        column = table.columns[name]
        unit = column.unit()[rows]
        positions, labels = unit_ticks(column)
        dimensions.append(
            Dimension(name, np.where(np.isnan(unit), Dimension.INACTIVE, unit), positions, labels)
        )
    trace = Trace(
        "parallel",
        "trials",
        color_values=values,
        colorscale=best_bright(study.directions[objective]),
        colorbar=value_title(study, objective),
        dimensions=tuple(dimensions),
        numbers=table.numbers[rows],
    )
    width = max(7.0, 1.25 * len(dimensions) + 2.0)
    data = FigureData((Panel(Axis(), Axis()),), (trace,), tuple(notes + sampled), size=(width, 4.6))
    title = f"Parallel coordinates: study {study.name!r}"
    return StudyFigure("parallel", title, data)


def _value_ticks(low: float, high: float) -> list[float]:
    if high <= low:
        return [low]
    return [t for t in round_ticks(low, high, 5) if low <= t <= high]


def plot_slice(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
    max_trials: int | None = None,
) -> StudyFigure:
    """One panel per parameter: each completed trial's value against the parameter's value,
    over the trials where the parameter is active, coloured by trial number.

    Args:
        params: the panels (default: all, up to 12, those the value varies most with first).
        max_trials: at most this many trials (default 2,000), every incumbent kept.
    """
    study, table = completed_table("slice", studies, params, objective)
    names, notes = _chosen(table, params, objective, SLICE_PARAMS)
    rows, sampled = _sampled(table, objective, check_cap(max_trials, SLICE_TRIALS))
    values = table.values[:, objective]
    hover = {int(i): trial_hover(table.trials[i]) for i in rows}
    panels, traces = [], []
    for index, name in enumerate(names):
        column = table.columns[name]
        mine = rows[column.active[rows]]
        panels.append(Panel(param_axis(column), Axis(value_title(study, objective)), title=name))
        traces.append(
            Trace(
                "scatter",
                name,
                column.values[mine],
                values[mine],
                panel=index,
                color_values=table.numbers[mine].astype(float),
                colorscale="viridis",
                colorbar="trial" if index == 0 else None,
                opacity=0.75,
                hover=tuple(hover[int(i)] for i in mine),
                numbers=table.numbers[mine],
                show_legend=False,
            )
        )
    columns = len(panels) if len(panels) <= 3 else 2 if len(panels) == 4 else 3
    data = FigureData(tuple(panels), tuple(traces), tuple(notes + sampled), columns=columns)
    return StudyFigure("slice", f"Slices: study {study.name!r}", data)


def _default_pair(study: StudyData, table: TrialTable, objective: int) -> tuple[str, str]:
    """The two parameters the value varies most with among those active together in at
    least 3 trials (or in the most trials, when no pair reaches 3)."""
    if len(table.columns) < 2:
        raise StudyError(
            f"a contour plot needs two parameters; study {study.name!r} has "
            f"{len(table.columns)} ({', '.join(table.columns)})"
        )
    ranked = ranked_params(table, objective=objective)
    pairs = [(a, b) for j, b in enumerate(ranked) for a in ranked[:j]]
    together = {
        (a, b): int((table.columns[a].active & table.columns[b].active).sum()) for a, b in pairs
    }
    enough = [pair for pair in pairs if together[pair] >= 3]
    return enough[0] if enough else max(pairs, key=lambda pair: together[pair])


def plot_contour(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
    max_trials: int | None = None,
) -> StudyFigure:
    """The value as a surface over two parameters, interpolated from the completed trials
    where both are active (see :mod:`tuneful.analysis.surface`), with those trials on top.

    Args:
        params: the two parameters ``[x, y]`` (default: the two the value varies most with).
        max_trials: at most this many trials drawn as points (default 2,000; the surface
            uses them all).

    Raises:
        StudyError: ``params`` does not name two parameters; the study has fewer than two;
            no completed trial has both active.
    """
    if params is not None and len(params) != 2:
        raise StudyError(f"params={list(params)!r}: a contour plot takes exactly two parameters")
    study, table = completed_table("contour", studies, params, objective)
    a, b = params if params is not None else _default_pair(study, table, objective)
    if a == b:
        raise StudyError(f"params={[a, b]!r}: a contour plot needs two different parameters")
    surface = value_surface(table, a, b, objective=objective)
    if not surface.rows.any():
        raise nothing_to_plot(study, f"completed trial where both {a!r} and {b!r} are active")
    both = np.flatnonzero(surface.rows)
    keep = sample(len(both), check_cap(max_trials, CONTOUR_TRIALS))
    rows = both[keep]
    notes = []
    if len(rows) < len(both):
        notes.append(
            sampled_note(len(rows), len(both), "trials as points") + "; the surface uses all"
        )
    left_out = len(table) - len(both)
    if left_out:
        notes.append(f"{left_out:,} completed trial(s) left out: {a!r} or {b!r} inactive there")
    direction = study.directions[objective]
    categorical = table.columns[a].is_categorical or table.columns[b].is_categorical
    traces = (
        Trace(
            "heatmap" if categorical else "contour",
            "interpolated value",
            surface.x,
            surface.y,
            z=surface.z,
            colorscale=best_bright(direction),
            colorbar=value_title(study, objective),
        ),
        Trace(
            "scatter",
            "trials",
            table.columns[a].values[rows],
            table.columns[b].values[rows],
            color="#222222",
            size=5,
            opacity=0.8,
            hover=tuple(trial_hover(table.trials[i]) for i in rows),
            numbers=table.numbers[rows],
        ),
    )
    panel = Panel(param_axis(table.columns[a]), param_axis(table.columns[b]))
    data = FigureData((panel,), traces, tuple(notes), size=(6.4, 5.0))
    return StudyFigure("contour", f"Contour of the value: study {study.name!r}", data)
