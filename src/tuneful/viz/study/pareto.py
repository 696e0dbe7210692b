"""The Pareto front (``pareto``) of one or several multi-objective studies over two or three
objectives: the front highlighted, the dominated trials faded, directions respected."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.front import Front, pareto_points
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.viz.study._select import (
    PALETTE,
    check_cap,
    nothing_to_plot,
    read_studies,
    sample,
    sampled_note,
    trial_hover,
)
from tuneful.viz.study.figure import Axis, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_pareto"]

DOMINATED_POINTS = 5000
_FADED = "#8a8a8a"
_FRONT = "#d62728"


def _objectives(study: StudyData, objectives: Sequence[int] | None) -> tuple[int, ...]:
    if study.n_objectives < 2:
        raise StudyError(
            f"study {study.name!r} has one objective: a Pareto front needs two or more "
            "(plot its history instead)"
        )
    if objectives is not None:
        if not 2 <= len(objectives) <= 3:
            raise StudyError(
                f"objectives={list(objectives)!r}: a Pareto plot draws two or three objectives"
            )
        return tuple(objectives)
    return tuple(range(min(3, study.n_objectives)))


def plot_pareto(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    objectives: Sequence[int] | None = None,
    max_trials: int | None = None,
) -> StudyFigure:
    """Each completed trial over two or three objectives, the Pareto front highlighted and
    the dominated trials faded (a 3-D scatter for three objectives).

    Args:
        studies: one multi-objective study, or several to compare (one colour each, each
            with its own front).
        objectives: which two or three objectives (default: the first two, or three).
        max_trials: at most this many dominated trials per study (default 5,000); the front
            is always drawn whole.

    Raises:
        StudyError: a study has one objective; bad ``objectives``; no completed trial.
    """
    found = read_studies(studies)
    chosen = _objectives(found[0], objectives)
    fronts = [pareto_points(s, objectives=_objectives(s, chosen)) for s in found]
    if not any(len(f.trials) for f in fronts):
        raise nothing_to_plot(found[0])
    notes = []
    if objectives is None and found[0].n_objectives > 3:
        notes.append(
            f"showing objectives 0, 1, 2 of {found[0].n_objectives} (choose with objectives=)"
        )
    cap = check_cap(max_trials, DOMINATED_POINTS)
    traces: list[Trace] = []
    for index, front in enumerate(fronts):
        colour = PALETTE[index % len(PALETTE)] if len(fronts) > 1 else None
        traces.extend(_front_traces(front, colour, cap, notes))
    axes = [Axis(f"objective {i} ({found[0].directions[i]})") for i in chosen]
    panel = Panel(axes[0], axes[1], z=axes[2] if len(axes) == 3 else None)
    what = f"{len(found)} studies" if len(found) > 1 else f"study {found[0].name!r}"
    data = FigureData((panel,), tuple(traces), tuple(notes), size=(6.8, 5.2))
    return StudyFigure("pareto", f"Pareto front: {what}", data)


def _front_traces(front: Front, colour: str | None, cap: int, notes: list[str]) -> list[Trace]:
    prefix = f"{front.study}: " if colour is not None else ""
    if not len(front.trials):
        notes.append(f"study {front.study!r} has no completed trial yet")
        return []
    kind = "scatter3d" if front.values.shape[1] == 3 else "scatter"
    on = np.flatnonzero(front.on_front)
    off = np.flatnonzero(~front.on_front)
    kept = off[sample(len(off), cap)]
    notes.append(f"{prefix}{len(on):,} of {len(front.trials):,} trials on the front")
    if len(kept) < len(off):
        notes.append(prefix + sampled_note(len(kept), len(off), "dominated trials"))
    feasible = np.array([t.feasible for t in front.trials], dtype=bool)
    infeasible = kept[~feasible[kept]]
    if infeasible.size:
        notes.append(
            f"{prefix}{int((~feasible).sum()):,} infeasible trials (x): never on the front"
        )
    traces = []
    groups = (
        (kept[feasible[kept]], "dominated", True),
        (infeasible, "infeasible (constraints > 0)", True),
        (on, "Pareto front", False),
    )
    for rows, name, faded in groups:
        if not len(rows):
            continue
        if kind == "scatter" and not faded:
            rows = rows[np.argsort(front.values[rows, 0], kind="stable")]
        values = front.values[rows]
        traces.append(
            Trace(
                kind,
                prefix + name,
                values[:, 0],
                values[:, 1],
                z=values[:, 2] if kind == "scatter3d" else None,
                mode="markers" if faded or kind == "scatter3d" else "lines+markers",
                color=(colour or _FADED) if faded else (colour or _FRONT),
                opacity=(0.45 if kind == "scatter3d" else 0.3) if faded else 0.95,
                size=5 if faded else 8,
                symbol="diamond"
                if not faded
                else "x"
                if name.startswith("infeasible")
                else "circle",
                hover=tuple(trial_hover(front.trials[i]) for i in rows),
                numbers=front.numbers[rows],
                legend_group=front.study,
            )
        )
    return traces
