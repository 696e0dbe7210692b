"""The progress bar of ``optimize`` (rich), with the best value so far."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tuneful.records import TrialRecord, TrialState

if TYPE_CHECKING:
    from tuneful.execution.engine import Engine

__all__ = ["StudyProgress"]


class StudyProgress:
    """Counts finished trials and shows the incumbent; drawn on stderr."""

    def __init__(self, engine: Engine, *, total: int | None, timeout: float | None) -> None:
        from rich.console import Console

        self._engine = engine
        self._single = len(engine.directions) == 1
        self._sign = 1.0 if not self._single or engine.directions[0] == "minimize" else -1.0
        self._best: float | None = None
        self._done = 0
        self._start_finished = sum(1 for t in engine.trials() if t.state.is_finished)
        self._timeout = timeout
        self._started = time.time()
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[best]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._task: TaskID = self._progress.add_task(engine.name, total=total, best="")

    def __enter__(self) -> StudyProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._progress.__exit__(*exc_info)

    def _note(self, record: TrialRecord) -> None:
        if self._single and record.state is TrialState.COMPLETE and record.values:
            value = record.values[0]
            if self._best is None or self._sign * value < self._sign * self._best:
                self._best = value

    def _show(self) -> None:
        best = "" if self._best is None else f"best {self._best:.6g}"
        self._progress.update(self._task, completed=self._done, best=best)

    def advance(self, record: TrialRecord) -> None:
        """Called by an in-process worker after each trial."""
        self._done += 1
        self._note(record)
        self._show()

    def poll(self) -> None:
        """Re-read the storage (worker processes report there)."""
        finished = [t for t in self._engine.trials() if t.state.is_finished]
        self._done = max(0, len(finished) - self._start_finished)
        for record in finished:
            self._note(record)
        self._show()
