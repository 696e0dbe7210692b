"""When each trial ran and where (``timeline``): one row per worker, a bar per trial from
its start to its end (running trials to now), coloured by state, failures marked."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

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

__all__ = ["plot_timeline"]

TIMELINE_TRIALS = 2000
_LABELS = {
    TrialState.COMPLETE: "complete",
    TrialState.PRUNED: "pruned",
    TrialState.FAIL: "failed",
    TrialState.RUNNING: "running",
    TrialState.WAITING: "waiting",
}
_ORDER = tuple(_LABELS)


def _duration_text(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def _first_line(text: str | None) -> str:
    """What went wrong, in one line: a plain message's first line, or a traceback's
    exception line (the first unindented line after its last frame)."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    if lines and lines[0].startswith("Traceback"):
        frames = [i for i, line in enumerate(lines) if line.startswith(" ")]
        after = frames[-1] + 1 if frames else 1
        lines = lines[after:] or lines[-1:]
    return lines[0][:200] if lines else ""


def _hover(trial: TrialRecord, seconds: float) -> str:
    lines = [f"trial {trial.number} ({trial.state.value.lower()})", _duration_text(seconds)]
    if trial.worker:
        lines.append(f"worker {trial.worker}")
    if trial.error:
        lines.append(f"error: {_first_line(trial.error)}")
    return "<br>".join(lines)


def plot_timeline(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    max_trials: int | None = None,
    now: float | None = None,
) -> StudyFigure:
    """One row per worker and a bar per trial from its start to its end, coloured by state
    (running trials run to ``now``); a failed trial's end is marked with a cross.

    Args:
        max_trials: at most this many bars (default 2,000), every failed and running trial
            kept.
        now: the time (POSIX seconds) running trials are drawn to (default: the clock).

    Raises:
        StudyError: several studies; no trial has started.
    """
    study = one_study("timeline", studies)
    started = [t for t in sorted(study.trials, key=lambda t: t.number) if t.started_at]
    if not started:
        raise nothing_to_plot(study, "started trial")
    clock = time.time() if now is None else now
    keep = np.array([t.state in (TrialState.FAIL, TrialState.RUNNING) for t in started])
    rows = sample(len(started), check_cap(max_trials, TIMELINE_TRIALS), keep=keep)
    notes = []
    if len(rows) < len(started):
        kept = "every failed and running trial kept"
        notes.append(sampled_note(len(rows), len(started), "trials", kept))
    chosen = [started[i] for i in rows]
    origin = min(t.started_at or 0.0 for t in started)
    workers = list(dict.fromkeys(t.worker or "unknown" for t in started))
    row_of = {w: i for i, w in enumerate(workers)}
    traces = []
    for state in _ORDER:
        mine = [t for t in chosen if t.state is state]
        if not mine:
            continue
        start = np.array([(t.started_at or origin) - origin for t in mine])
        end = np.array([(t.finished_at or clock) - origin for t in mine])
        traces.append(
            Trace(
                "bar",
                _LABELS[state],
                np.maximum(end - start, 0.0),
                np.array([row_of[t.worker or "unknown"] for t in mine], dtype=float),
                base=start,
                color=STATE_COLORS[state],
                opacity=0.85,
                hover=tuple(_hover(t, e - s) for t, s, e in zip(mine, start, end, strict=True)),
                numbers=np.array([t.number for t in mine], dtype=int),
            )
        )
        if state is TrialState.FAIL:
            traces.append(
                Trace(
                    "scatter",
                    "failure (end of a failed trial)",
                    end,
                    np.array([row_of[t.worker or "unknown"] for t in mine], dtype=float),
                    color=STATE_COLORS[state],
                    symbol="x",
                    size=9,
                    hover=tuple(_hover(t, e - s) for t, s, e in zip(mine, start, end, strict=True)),
                    numbers=np.array([t.number for t in mine], dtype=int),
                )
            )
    panel = Panel(
        Axis("seconds since the first trial started"), Axis("worker", "category", tuple(workers))
    )
    size = (8.0, max(2.6, 0.45 * len(workers) + 1.6))
    data = FigureData((panel,), tuple(traces), tuple(notes), size=size)
    return StudyFigure("timeline", f"Timeline: study {study.name!r}", data)
