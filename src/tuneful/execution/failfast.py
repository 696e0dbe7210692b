"""Stopping a run whose objective cannot work: the same error, trial after trial.

With ``catch=Exception`` a porting mistake (a missing module, a wrong path, a typo in the
objective) fails every trial and the run would spend its whole budget doing so. A run stops
with :class:`~tuneful.errors.RepeatedFailureError` once ``threshold`` of its trials failed with
the same error while none of them completed or was pruned.

Why 5 by default: one failure, or two, is often the search itself (a batch size that runs out
of memory, a learning rate that diverges); such a region holding each of the first five random
draws is unlikely (a region of half the space: 3 %, against 12 % for three draws), while five
trials of a broken objective cost little. Runs of fewer trials are never stopped: they end soon
anyway, and their summary shows the failures.

"The same error": for an exception, its type and the first line of its message (the last
exception of a traceback, when chained); for a command's trial, stored as its message, the
first line: the program's exit status and the last line of its stderr (``CommandError: command
exited with code 1: ModuleNotFoundError: ...``); for a value that is not a number, the first
line of the reason.

The judgement is made on the trials in storage whose numbers are at or after the run's first
(so worker processes, threads and Dask tasks of one run all count together); once any of them
completes the check stops looking.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

from tuneful.errors import RepeatedFailureError
from tuneful.records import TrialRecord, TrialState

if TYPE_CHECKING:
    from tuneful.execution.engine import Engine

__all__ = ["FailFast", "DEFAULT_THRESHOLD", "error_signature", "check_fail_fast"]

DEFAULT_THRESHOLD = 5
_INTERRUPTED = "interrupted"  # a Ctrl-C or SIGTERM is the user's doing, not the objective's


def check_fail_fast(value: object) -> int | None:
    """``fail_fast`` as a threshold: True -> the default, False/None -> off, an int >= 1."""
    from tuneful.errors import StudyError

    if value is True:
        return DEFAULT_THRESHOLD
    if value is False or value is None:
        return None
    if isinstance(value, int) and value >= 1:
        return value
    raise StudyError(
        f"fail_fast={value!r}: expected True (stop after {DEFAULT_THRESHOLD} identical "
        "failures), False, or a number of identical failures >= 1"
    )


def error_signature(error: str | None) -> str:
    """The line of a stored error that identifies it: ``Type: first line of the message``.

    Example:
        >>> error_signature('Traceback (most recent call last):\\n  File "x.py", line 1\\n'
        ...                 "KeyError: 'lr'\\nmore")
        "KeyError: 'lr'"
    """
    if not error:
        return ""
    text = error
    marker = "Traceback (most recent call last):\n"
    if text.startswith(marker):  # the last one is the exception raised, when chained
        text = text.rsplit(marker, 1)[1]
        for line in text.splitlines():
            if line and not line[0].isspace():
                name, colon, message = line.partition(":")
                return f"{name.rsplit('.', 1)[-1]}{colon}{message}"
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


class FailFast:
    """Watches one run's finished trials; :meth:`check` raises RepeatedFailureError when
    ``threshold`` of them failed with the same error and none completed.

    One instance per worker (thread, process or Dask client): the count comes from storage.
    """

    def __init__(self, threshold: int | None, first_number: int) -> None:
        self.threshold = threshold
        self.first_number = first_number
        self._armed = threshold is not None
        self._raised: RepeatedFailureError | None = None  # every worker sharing it stops
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:  # sent to spawned worker processes
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def check(self, engine: Engine, record: TrialRecord) -> None:
        """Look at the run after ``record`` finished; raise when it should stop."""
        if self._raised is not None:
            raise self._raised
        if not self._armed or record.number < self.first_number:
            return
        if record.state is not TrialState.FAIL:
            self._armed = False
            return
        error = self.failure(engine)
        if error is not None:
            raise error

    def failure(self, engine: Engine) -> RepeatedFailureError | None:
        """The error to stop the run with, or None (and disarmed once a trial completed)."""
        assert self.threshold is not None
        with self._lock:
            if not self._armed:
                return None
            failures: list[TrialRecord] = []
            for trial in engine.trials()[self.first_number :]:
                if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
                    self._armed = False
                    return None
                if trial.state is TrialState.FAIL:
                    failures.append(trial)
            signatures = Counter(
                s
                for s in (error_signature(t.error) for t in failures)
                if s and not s.startswith(_INTERRUPTED)
            )
            if not signatures:
                return None
            signature, count = signatures.most_common(1)[0]
            if count < self.threshold:
                return None
            self._armed = False
            numbers = [t.number for t in failures if error_signature(t.error) == signature]
            self._raised = RepeatedFailureError(_message(engine.name, signature, numbers))
            return self._raised


def _message(name: str, signature: str, numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
    return (
        f"study {name!r}: the run stopped after {len(numbers)} trials failed with the "
        f"same error and none completed (trials {shown}):\n"
        f"    {signature[:500]}\n"
        f"The full error of each is stored with its trial: study.trials[{numbers[0]}].error in "
        f"Python, `tuneful show {name}` on the command line. Fix the objective and run "
        "again; to run on through such failures, pass fail_fast=False to optimize() "
        "(--no-fail-fast on the command line)."
    )
