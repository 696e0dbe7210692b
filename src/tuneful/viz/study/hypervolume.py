"""How a multi-objective search progressed (``hypervolume``): the hypervolume of the
feasible front after each completed trial, for one study or several compared on one
reference point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.front import check_objectives, pareto_points
from tuneful.analysis.indicators import hypervolume_over_time, reference_point
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.viz.study._select import PALETTE, nothing_to_plot, read_studies
from tuneful.viz.study.figure import Axis, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_hypervolume"]

_LINE = "#1f77b4"


def _shared_reference(
    studies: list[StudyData], objectives: tuple[int, ...], reference: Sequence[float] | None
) -> np.ndarray:
    """The reference every study is measured from: ``reference`` if given, else the default
    reference point of all the studies' feasible trials together (so that their
    hypervolumes compare)."""
    directions = [studies[0].directions[i] for i in objectives]
    if reference is not None:
        if len(reference) != len(objectives):
            raise StudyError(
                f"reference={list(reference)!r}: expected {len(objectives)} numbers, one per "
                f"objective {list(objectives)}"
            )
        return np.asarray(reference, dtype=float)
    points = []
    for study in studies:
        front = pareto_points(study, objectives=objectives)
        feasible = np.array([t.feasible for t in front.trials], dtype=bool)
        if feasible.any():
            points.append(front.values[feasible])
    if not points:
        raise StudyError(
            f"no feasible completed trial in {_named(studies)}: there is no front to measure"
        )
    return reference_point(np.vstack(points), directions=directions)


def _named(studies: list[StudyData]) -> str:
    if len(studies) == 1:
        return f"study {studies[0].name!r}"
    return "studies " + ", ".join(repr(s.name) for s in studies)


def plot_hypervolume(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    objectives: Sequence[int] | None = None,
    reference: Sequence[float] | None = None,
) -> StudyFigure:
    """The hypervolume of each study's feasible front after each completed trial
    (:func:`tuneful.analysis.indicators.hypervolume_over_time`), as a step line.

    Args:
        studies: one multi-objective study, or several to compare (one colour each).
        objectives: which objectives (default: all; two or more).
        reference: the reference point in the objectives' own directions; by default that of
            all the studies' feasible trials together, so the lines compare.

    Raises:
        StudyError: a study has one objective; bad ``objectives`` or ``reference``; no
            completed or no feasible trial.
    """
    found = read_studies(studies)
    chosen = check_objectives(found[0], objectives)
    for study in found[1:]:
        check_objectives(study, chosen)
        if study.directions != found[0].directions:
            raise StudyError(
                f"study {study.name!r} has directions {list(study.directions)} but "
                f"{found[0].name!r} has {list(found[0].directions)}: hypervolumes compare "
                "only between studies with the same objectives"
            )
    if not any(t.values for s in found for t in s.trials):
        raise nothing_to_plot(found[0])
    ref = _shared_reference(found, chosen, reference)
    traces: list[Trace] = []
    notes = [
        "reference point ("
        + ", ".join(f"{v:.4g}" for v in ref)
        + "); infeasible trials add nothing"
    ]
    for index, study in enumerate(found):
        colour = PALETTE[index % len(PALETTE)] if len(found) > 1 else _LINE
        try:
            trace = hypervolume_over_time(study, objectives=chosen, reference=list(ref))
        except StudyError:
            notes.append(f"study {study.name!r} has no completed trial yet")
            continue
        traces.append(
            Trace(
                "scatter",
                study.name if len(found) > 1 else "hypervolume",
                trace.numbers.astype(float),
                trace.hypervolumes,
                mode="lines",
                line_shape="hv",
                color=colour,
                hover=tuple(
                    f"trial {int(n)}: hypervolume {v:.6g}"
                    for n, v in zip(trace.numbers, trace.hypervolumes, strict=True)
                ),
                numbers=trace.numbers.astype(int),
                legend_group=study.name,
            )
        )
    panel = Panel(Axis("trial"), Axis("hypervolume of the feasible front"))
    what = f"{len(found)} studies" if len(found) > 1 else f"study {found[0].name!r}"
    data = FigureData((panel,), tuple(traces), tuple(notes), size=(8.4, 4.6))
    return StudyFigure("hypervolume", f"Hypervolume over trials: {what}", data)
