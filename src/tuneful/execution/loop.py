"""Running one trial of an objective, and a worker's loop of trials (on a study's engine)."""

from __future__ import annotations

import logging
import os
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tuneful.errors import (
    CommandError,
    RepeatedFailureError,
    SearchExhausted,
    StorageError,
    TrialError,
)
from tuneful.execution.failfast import FailFast
from tuneful.execution.heartbeat import Heartbeat
from tuneful.records import TrialRecord, TrialState
from tuneful.trial import Pruned, Trial, check_constraint_count, check_values

if TYPE_CHECKING:
    from tuneful.execution.engine import Engine
    from tuneful.study import Study

__all__ = ["run_trial", "evaluate", "worker_loop", "Slots"]

logger = logging.getLogger("tuneful")

Catch = tuple[type[BaseException], ...]


class Slots:
    """Hands out the right to start a trial, at most ``limit`` times in all (None: no limit).

    ``take`` is called by every worker of one ``optimize`` call; a shared counter makes the
    total exact across threads or processes.
    """

    def __init__(
        self,
        limit: int | None,
        counter: Any,
        lock: Any,
        deadline: float | None,
        study_limit: int | None = None,
    ) -> None:
        self.limit = limit
        #: The study's size at which every worker stops (``optimize(max_trials=...)``).
        self.study_limit = study_limit
        self._counter = counter
        self._lock = lock
        self.deadline = deadline
        self._stopped = False

    def take(self) -> bool:
        if self._stopped:
            return False
        if self.deadline is not None and time.time() >= self.deadline:
            return False
        with self._lock:
            if self.limit is not None and self._counter.value >= self.limit:
                return False
            self._counter.value += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self._counter.value -= 1

    def stop(self) -> None:
        self._stopped = True


def _tell_quietly(engine: Engine, trial: Trial, **kwargs: Any) -> TrialRecord | None:
    """Tell the outcome; a trial finished elsewhere meanwhile (failed as stale, or as lost)
    is logged and skipped. A storage that cannot be written stops the run (StorageError):
    the trial stays RUNNING in storage, to be failed by heartbeat, and nothing told before
    is touched. Any other exception from ``tell`` (a value it cannot store) fails the trial
    with that reason."""
    try:
        return engine.tell(trial.number, **kwargs)
    except TrialError as exc:
        logger.warning("could not record trial %d: %s", trial.number, exc)
        return None
    except StorageError:
        raise
    except Exception as exc:  # e.g. a value tell cannot store: never leave the trial RUNNING
        reason = f"the outcome could not be recorded: {type(exc).__name__}: {exc}"
        logger.warning("trial %d failed: %s", trial.number, reason)
        try:
            return engine.tell(trial.number, state=TrialState.FAIL, error=reason)
        except TrialError as again:
            logger.warning("could not record trial %d: %s", trial.number, again)
            return None


def run_trial(
    engine: Engine,
    objective: Callable[[Trial], Any],
    catch: Catch,
    heartbeat: Heartbeat | None = None,
    limit: int | None = None,
) -> TrialRecord | None:
    """Ask, run the objective, tell. Returns the finished record.

    ``limit``: create no trial once the study holds that many (TrialLimitReached).
    Exceptions matching ``catch`` fail the trial and are absorbed; others fail it and
    propagate, as does KeyboardInterrupt (after the trial is failed and re-enqueued per the
    study's ``retries``, as a lost worker's trial is).
    """
    trial = engine.ask(None, monitored=heartbeat is not None, limit=limit)
    return evaluate(engine, trial, objective, catch, heartbeat)


def _fail_interrupted(engine: Engine, trial: Trial, how: str) -> None:
    """Fail a trial that Ctrl-C or SIGTERM stopped, re-enqueued per the study's ``retries``:
    its run was cut short, as a lost worker's is, and says nothing about its parameters."""
    try:
        if not engine.fail_trial(trial.number, f"interrupted ({how})"):
            logger.warning("could not record trial %d: no longer RUNNING", trial.number)
    except TrialError as exc:
        logger.warning("could not record trial %d: %s", trial.number, exc)


def evaluate(
    engine: Engine,
    trial: Trial,
    objective: Callable[[Trial], Any],
    catch: Catch,
    heartbeat: Heartbeat | None = None,
) -> TrialRecord | None:
    """Run the objective on an asked trial and tell its outcome (see :func:`run_trial`)."""
    trial.raise_when_stopped = True
    if heartbeat is not None:
        heartbeat.watch(trial.number)
    try:
        try:
            result = objective(trial)
        except Pruned:
            return _tell_quietly(engine, trial, state=TrialState.PRUNED)
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (lifetime.Terminated)
            _fail_interrupted(engine, trial, str(exc) or "KeyboardInterrupt")
            raise
        except BaseException as exc:
            if isinstance(exc, CommandError):  # the program's own output says it all; a
                # traceback would only show tuneful's frames
                text = f"{type(exc).__name__}: {exc}"
            else:
                text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            record = _tell_quietly(engine, trial, state=TrialState.FAIL, error=text)
            if not isinstance(exc, catch) or isinstance(exc, StorageError):
                raise  # a storage that cannot be written stops the run, whatever `catch` says
            logger.warning("trial %d failed: %s: %s", trial.number, type(exc).__name__, exc)
            return record
        try:
            values, reason = check_values(result, len(engine.directions))
        except Exception as exc:  # e.g. OverflowError: an int too large for a float
            values, reason = (
                None,
                (
                    f"objective returned a value that is not a finite float "
                    f"({type(exc).__name__}: {exc})"
                ),
            )
        limits = trial.constraints  # set by the objective with trial.set_constraints
        if reason is None:
            reason = _constraint_count_reason(engine, trial.number, limits)
        if reason is not None:
            logger.warning("trial %d failed: %s", trial.number, reason)
            return _tell_quietly(engine, trial, state=TrialState.FAIL, error=reason)
        return _tell_quietly(engine, trial, values=values, constraints=limits)
    finally:
        if heartbeat is not None:
            heartbeat.forget(trial.number)


def _constraint_count_reason(
    engine: Engine, number: int, limits: tuple[float, ...] | None
) -> str | None:
    """Why a trial's constraints cannot be stored (a count other than the study's), or
    None: such an objective fails its trial, as a value it cannot store does."""
    try:
        check_constraint_count(number, limits, engine.constraint_count(limits))
    except TrialError as exc:
        return str(exc)
    return None


def worker_loop(
    engine: Engine,
    objective: Callable[[Trial], Any],
    *,
    slots: Slots,
    catch: Catch,
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    on_finished: Callable[[TrialRecord], None] | None = None,
    fail_fast: FailFast | None = None,
    parent: int | None = None,
) -> None:
    """Run trials while slots remain: the body of every worker, thread or process.

    ``fail_fast``: raises RepeatedFailureError when the run's first trials all failed alike.
    ``parent``: the pid of the process that started this worker process; when it is gone
    the worker starts no more trials. Callbacks receive the engine's face (the Study).
    """
    with Heartbeat(engine.storage, engine.study_id, engine.heartbeat_interval) as heartbeat:
        while slots.take():
            if parent is not None and os.getppid() != parent:
                logger.warning("the process that started this worker is gone: stopping")
                slots.give_back()
                slots.stop()
                return
            engine.fail_stale_when_due()
            try:
                record = run_trial(engine, objective, catch, heartbeat, slots.study_limit)
            except SearchExhausted as exc:
                logger.info("%s", exc)
                slots.give_back()
                slots.stop()
                return
            if record is None:
                continue
            for callback in callbacks:
                callback(engine.face, record)
            if on_finished is not None:
                on_finished(record)
            if fail_fast is not None:
                try:
                    fail_fast.check(engine, record)
                except RepeatedFailureError:
                    slots.stop()  # before the error travels: the other workers start no more
                    raise
