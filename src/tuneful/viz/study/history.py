"""How studies progressed: each trial's value with the incumbent (``history``), and the
empirical distribution of the values (``edf``); both compare several studies on one figure,
one colour each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.progress import Progress, edf, progress
from tuneful.analysis.trials import StudyData
from tuneful.records import TrialRecord, TrialState
from tuneful.viz.study._select import (
    PALETTE,
    STATE_COLORS,
    check_cap,
    check_objective,
    nothing_to_plot,
    read_studies,
    sample,
    sampled_note,
    trial_hover,
    value_title,
)
from tuneful.viz.study.figure import Axis, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_history", "plot_edf"]

#: Default caps on what one study contributes: points of the history, steps of the EDF.
HISTORY_POINTS = 5000
EDF_POINTS = 2000
_INCUMBENT = "#d62728"
_INFEASIBLE = "#7f7f7f"
_WORDS = {TrialState.FAIL: "failed", TrialState.RUNNING: "running"}


def _title(what: str, studies: Sequence[StudyData]) -> str:
    if len(studies) == 1:
        return f"{what}: study {studies[0].name!r}"
    return f"{what}: {len(studies)} studies"


def _with_values(studies: list[StudyData], objective: int) -> list[StudyData]:
    for study in studies:
        check_objective(study, objective)
    if not any(progress(s, objective=objective).numbers.size for s in studies):
        raise nothing_to_plot(studies[0])
    return studies


def plot_history(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    objective: int = 0,
    max_trials: int | None = None,
    log_y: bool = False,
) -> StudyFigure:
    """Each completed trial's value (and each pruned trial's last reported value) against
    its number, with the incumbent: the best value so far.

    Args:
        studies: one study, or several to compare (one colour each).
        objective: which objective to draw.
        max_trials: at most this many points per study (default 5,000), sampled with every
            trial that improved the incumbent kept.
        log_y: a log scale for the values.

    Raises:
        StudyError: no study has a completed trial; ``objective`` is out of range.
    """
    found = _with_values(read_studies(studies), objective)
    cap = check_cap(max_trials, HISTORY_POINTS)
    traces: list[Trace] = []
    notes: list[str] = []
    for index, study in enumerate(found):
        colour = PALETTE[index % len(PALETTE)] if len(found) > 1 else None
        traces.extend(_history_traces(study, objective, cap, colour, notes))
    panel = Panel(
        Axis("trial"), Axis(value_title(found[0], objective), "log" if log_y else "linear")
    )
    title = _title("Optimization history", found)
    data = FigureData((panel,), tuple(traces), tuple(notes), size=(8.4, 4.6))
    return StudyFigure("history", title, data)


def _history_traces(
    study: StudyData, objective: int, cap: int, colour: str | None, notes: list[str]
) -> list[Trace]:
    trace_of = progress(study, objective=objective)
    prefix = f"{study.name}: " if colour is not None else ""
    if trace_of.numbers.size == 0:
        notes.append(f"study {study.name!r} has no completed trial yet")
        return []
    by_number = {t.number: t for t in study.trials}
    keep = sample(len(trace_of.numbers), cap, keep=trace_of.improved)
    if len(keep) < len(trace_of.numbers):
        total = len(trace_of.numbers)
        note = sampled_note(len(keep), total, "completed trials", "every incumbent kept")
        notes.append(prefix + note)
    traces = []
    for feasible in (True, False):
        chosen = keep[trace_of.feasible[keep] == feasible]
        if feasible is False and chosen.size == 0:
            continue  # no constraints, or none violated: no second legend entry
        numbers = trace_of.numbers[chosen]
        traces.append(
            Trace(
                "scatter",
                f"{prefix}complete" if feasible else f"{prefix}infeasible (constraints > 0)",
                numbers.astype(float),
                trace_of.values[chosen],
                color=colour or STATE_COLORS[TrialState.COMPLETE] if feasible else _INFEASIBLE,
                symbol="circle" if feasible else "x",
                opacity=0.55 if colour else 0.75,
                hover=tuple(trial_hover(by_number[int(n)]) for n in numbers),
                numbers=numbers,
                legend_group=study.name,
            )
        )
    if objective == 0 or study.n_objectives == 1:
        traces.extend(_pruned(study, cap, prefix, colour, notes))
    if trace_of.improved.any():
        traces.append(
            _incumbent(trace_of, f"{prefix}best so far", colour or _INCUMBENT, study.name)
        )
    else:
        notes.append(f"{prefix}no feasible trial yet: no incumbent")
    counts = {
        state: sum(t.state is state for t in study.trials)
        for state in (TrialState.FAIL, TrialState.RUNNING)
    }
    said = ", ".join(f"{n} {_WORDS[s]}" for s, n in counts.items() if n)
    if said:
        notes.append(f"{prefix}not drawn, having no value: {said}")
    return traces


def _last_report(trial: TrialRecord) -> tuple[float, float] | None:
    if not trial.intermediate:
        return None
    step = max(trial.intermediate)
    return float(trial.number), float(trial.intermediate[step])


def _pruned(
    study: StudyData, cap: int, prefix: str, colour: str | None, notes: list[str]
) -> list[Trace]:
    """Pruned trials at their last reported value (hollow markers)."""
    points = [
        (t, p)
        for t in study.trials
        if t.state is TrialState.PRUNED and (p := _last_report(t)) is not None
    ]
    if not points:
        return []
    keep = sample(len(points), cap)
    if len(keep) < len(points):
        notes.append(prefix + sampled_note(len(keep), len(points), "pruned trials"))
    chosen = [points[i] for i in keep]
    return [
        Trace(
            "scatter",
            f"{prefix}pruned (last reported value)",
            np.array([p[0] for _, p in chosen]),
            np.array([p[1] for _, p in chosen]),
            color=colour or STATE_COLORS[TrialState.PRUNED],
            symbol="circle-open",
            opacity=0.6,
            hover=tuple(trial_hover(t, _reason(t)) for t, _ in chosen),
            numbers=np.array([t.number for t, _ in chosen], dtype=int),
            legend_group=study.name,
        )
    ]


def _reason(trial: TrialRecord) -> str:
    pruned = trial.system_attrs.get("pruned")
    if isinstance(pruned, dict) and pruned.get("reason"):
        return f"stopped at step {pruned.get('step')}: {pruned['reason']}"
    return ""


def _incumbent(trace_of: Progress, name: str, colour: str, group: str) -> Trace:
    """The best-so-far line as a step after each improvement, to the last trial."""
    at = np.flatnonzero(trace_of.improved)
    x = np.append(trace_of.numbers[at], trace_of.numbers[-1]).astype(float)
    y = np.append(trace_of.best[at], trace_of.best[-1])
    return Trace(
        "scatter",
        name,
        x,
        y,
        mode="lines",
        line_shape="hv",
        color=colour,
        hover=tuple(
            f"best so far {v:.6g} (trial {int(n)})"
            for n, v in zip(
                np.append(trace_of.numbers[at], trace_of.numbers[at][-1]), y, strict=True
            )
        ),
        legend_group=group,
    )


def plot_edf(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    objective: int = 0,
    max_trials: int | None = None,
    log_x: bool = False,
) -> StudyFigure:
    """The empirical distribution of the completed trials' values: for each value x, the
    fraction of trials whose value is at most x.

    Args:
        studies: one study, or several to compare (one colour each).
        objective: which objective.
        max_trials: at most this many steps per study's curve (default 2,000; the steps kept
            are evenly spaced in rank, so the curve's shape is exact at each of them).
        log_x: a log scale for the values.

    Raises:
        StudyError: no study has a completed trial; ``objective`` is out of range.
    """
    found = _with_values(read_studies(studies), objective)
    cap = check_cap(max_trials, EDF_POINTS)
    traces, notes = [], []
    for index, study in enumerate(found):
        values = progress(study, objective=objective).values
        x, fraction = edf(values)
        if x.size == 0:
            notes.append(f"study {study.name!r} has no completed trial yet")
            continue
        if x.size > cap:
            at = np.unique(np.linspace(0, x.size - 1, cap).round().astype(int))
            x, fraction = x[at], fraction[at]
            notes.append(f"{study.name}: curve drawn through {len(at):,} of its steps")
        traces.append(
            Trace(
                "scatter",
                study.name,
                x,
                fraction,
                mode="lines",
                line_shape="hv",
                color=PALETTE[index % len(PALETTE)],
                hover=tuple(
                    f"{study.name}<br>{f:.1%} of trials ≤ {v:.6g}"
                    for v, f in zip(x, fraction, strict=True)
                ),
            )
        )
    panel = Panel(
        Axis(value_title(found[0], objective), "log" if log_x else "linear"),
        Axis("fraction of trials with value ≤ x", range=(0.0, 1.02)),
    )
    title = _title("Empirical distribution of values", found)
    data = FigureData((panel,), tuple(traces), tuple(notes), size=(7.6, 4.6))
    return StudyFigure("edf", title, data)
