"""Learning curves (``curves``): each trial's reported values against the step, coloured by
state, and each trial the scheduler stopped ending in a marker at the step where it was
stopped, with the scheduler's reason in its hover text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.analysis.trials import StudyData
from tuneful.records import TrialRecord, TrialState
from tuneful.viz.study._select import (
    STATE_COLORS,
    check_cap,
    nothing_to_plot,
    one_study,
    sample,
    sampled_note,
)
from tuneful.viz.study.figure import Axis, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_curves", "stop_point"]

CURVES = 300
_LABELS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.RUNNING: "running",
    TrialState.FAIL: "failed",
    TrialState.WAITING: "waiting",
}
_STOP_COLOR = "#b34700"


def stop_point(trial: TrialRecord) -> tuple[float, float, str] | None:
    """Where the scheduler stopped ``trial``: ``(step, value there, reason)``, from
    ``system_attrs["pruned"]`` (the last reported step when it names none); None for a trial
    that was not pruned or reported nothing."""
    if trial.state is not TrialState.PRUNED or not trial.intermediate:
        return None
    stopped: Any = trial.system_attrs.get("pruned")
    stopped = stopped if isinstance(stopped, dict) else {}
    step = stopped.get("step")
    steps = sorted(trial.intermediate)
    if not isinstance(step, (int, float)) or step not in trial.intermediate:
        earlier = [s for s in steps if isinstance(step, (int, float)) and s <= step]
        step = earlier[-1] if earlier else steps[-1]
    reason = str(stopped.get("reason") or "stopped by the scheduler (no reason recorded)")
    return float(step), float(trial.intermediate[step]), reason


def plot_curves(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    max_trials: int | None = None,
    log_y: bool = False,
) -> StudyFigure:
    """Every trial's learning curve (what it reported with ``trial.report``), one colour per
    state; a pruned trial's curve ends in a marker at the step where it was stopped.

    Args:
        max_trials: at most this many curves (default 300), sampled so that each state keeps
            some, with the best completed curves kept.
        log_y: a log scale for the reported values.

    Raises:
        StudyError: no trial reported a learning curve.
    """
    study = one_study("curves", studies)
    reported = [t for t in sorted(study.trials, key=lambda t: t.number) if t.intermediate]
    if not reported:
        raise nothing_to_plot(study, "trial that reported a learning curve")
    rows = _sampled(study, reported, check_cap(max_trials, CURVES))
    notes = []
    if len(rows) < len(reported):
        notes.append(sampled_note(len(rows), len(reported), "curves", "every state kept"))
    chosen = [reported[i] for i in rows]
    traces = [
        _state_curves(state, [t for t in chosen if t.state is state])
        for state in _LABELS
        if any(t.state is state for t in chosen)
    ]
    stops = [(t, p) for t in chosen if (p := stop_point(t)) is not None]
    if stops:
        traces.append(
            Trace(
                "scatter",
                "stopped here by the scheduler",
                np.array([p[0] for _, p in stops]),
                np.array([p[1] for _, p in stops]),
                color=_STOP_COLOR,
                symbol="x",
                size=8,
                hover=tuple(
                    f"trial {t.number} stopped at step {p[0]:g}<br>{p[2]}" for t, p in stops
                ),
                numbers=np.array([t.number for t, _ in stops], dtype=int),
            )
        )
    panel = Panel(Axis("step"), Axis("reported value", "log" if log_y else "linear"))
    data = FigureData((panel,), tuple(traces), tuple(notes), size=(7.5, 4.6))
    return StudyFigure("curves", f"Learning curves: study {study.name!r}", data)


def _sampled(study: StudyData, reported: list[TrialRecord], cap: int) -> np.ndarray:
    states = np.array([t.state.value for t in reported])
    best = np.zeros(len(reported), dtype=bool)
    done = [i for i, t in enumerate(reported) if t.state is TrialState.COMPLETE and t.values]
    if done and len(reported) > cap:
        sign = 1.0 if study.directions[0] == "minimize" else -1.0
        done.sort(key=lambda i: sign * reported[i].values[0])  # type: ignore[index]
        best[done[: max(1, cap // 20)]] = True
    return sample(len(reported), cap, keep=best, groups=states)


def _state_curves(state: TrialState, trials: list[TrialRecord]) -> Trace:
    """All the curves of one state as one line, broken by NaN between trials."""
    xs: list[float] = []
    ys: list[float] = []
    hover: list[str] = []
    for trial in trials:
        steps = sorted(trial.intermediate)
        xs.extend([float(s) for s in steps] + [np.nan])
        ys.extend([float(trial.intermediate[s]) for s in steps] + [np.nan])
        head = f"trial {trial.number} ({_LABELS[state]})"
        hover.extend([f"{head}<br>step {s}: {trial.intermediate[s]:.6g}" for s in steps] + [""])
    return Trace(
        "scatter",
        f"{_LABELS[state]} ({len(trials)})",
        np.array(xs),
        np.array(ys),
        mode="lines+markers",
        size=3,
        color=STATE_COLORS[state],
        opacity=0.8 if state is TrialState.COMPLETE else 0.55,
        hover=tuple(hover),
        numbers=np.array([t.number for t in trials], dtype=int),
        legend_group=state.value,
    )
