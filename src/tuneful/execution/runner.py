"""``Study.optimize``: one worker in-process, or several worker threads or processes on one
storage, each with its own engine."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from tuneful.errors import StudyError
from tuneful.execution.engine import Engine, FaceFactory, open_engine
from tuneful.execution.failfast import FailFast, check_fail_fast
from tuneful.execution.lifetime import (
    Terminated,
    die_with_parent,
    handle_sigterm_as_interrupt,
    limit_threads,
    sigterm_as_interrupt,
    thread_cap,
)
from tuneful.execution.loop import Slots, worker_loop
from tuneful.execution.progress import StudyProgress
from tuneful.records import TrialRecord
from tuneful.storage import MemoryStorage
from tuneful.trial import Trial

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["run_optimization"]

logger = logging.getLogger("tuneful")


class _Counter:
    """The single-process stand-in for ``multiprocessing.Value``."""

    def __init__(self) -> None:
        self.value = 0


def _check_arguments(
    n_trials: int | None, timeout: float | None, n_jobs: int, catch: Any
) -> tuple[int, tuple[type[BaseException], ...]]:
    if n_trials is not None and (
        isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0
    ):
        raise StudyError(f"n_trials={n_trials!r}: expected a non-negative int or None")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise StudyError(f"timeout={timeout!r}: expected a positive number of seconds or None")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise StudyError(f"n_jobs={n_jobs!r}: expected a positive int, or -1 for one per CPU")
    jobs = os.cpu_count() or 1 if n_jobs == -1 else n_jobs
    caught = catch if isinstance(catch, tuple) else (catch,)
    for item in caught:
        if not (isinstance(item, type) and issubclass(item, BaseException)):
            raise StudyError(f"catch={catch!r}: expected exception classes")
    return jobs, caught


def run_optimization(
    engine: Engine,
    objective: Callable[[Trial], Any],
    *,
    n_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    catch: Any,
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    show_progress_bar: bool | None,
    max_trials: int | None = None,
    executor: Any = None,
    fail_fast: bool | int = True,
) -> None:
    """Run the objective until ``n_trials`` trials were started, ``timeout`` passed, or the
    study holds ``max_trials`` trials.

    ``fail_fast``: stop with RepeatedFailureError when the run's first trials all failed with
    the same error (True: 5 of them; an int: that many; False: never; see failfast.py).
    SIGTERM stops the run as Ctrl-C does (see lifetime.py). Callbacks receive the face of
    the engine that ran the trial (the Study).
    """
    if not callable(objective):
        raise StudyError(f"objective={objective!r}: expected a callable taking a trial")
    jobs, caught = _check_arguments(n_trials, timeout, n_jobs, catch)
    if max_trials is not None and (
        isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 0
    ):
        raise StudyError(f"max_trials={max_trials!r}: expected a non-negative int or None")
    if executor is not None and not hasattr(executor, "run"):
        raise StudyError(f"executor={executor!r}: expected a tuneful.DaskExecutor")
    if executor is not None and jobs != 1:
        raise StudyError(
            f"n_jobs={n_jobs!r} with executor={executor!r}: the executor's workers run the "
            "trials; leave n_jobs at 1"
        )
    threshold = check_fail_fast(fail_fast)
    engine.fail_stale()
    watch = FailFast(threshold, first_number=len(engine.trials()))
    deadline = None if timeout is None else time.time() + timeout
    show = sys.stderr.isatty() if show_progress_bar is None else bool(show_progress_bar)
    progress = StudyProgress(engine, total=n_trials, timeout=timeout) if show else None
    with sigterm_as_interrupt(), progress if progress is not None else nullcontext():
        if executor is not None:
            executor.run(
                engine,
                objective,
                n_trials=n_trials,
                deadline=deadline,
                max_trials=max_trials,
                catch=caught,
                callbacks=callbacks,
                progress=progress,
                fail_fast=watch,
            )
        elif jobs == 1:
            slots = Slots(n_trials, _Counter(), nullcontext(), deadline, max_trials)
            worker_loop(
                engine,
                objective,
                slots=slots,
                catch=caught,
                callbacks=callbacks,
                on_finished=None if progress is None else progress.advance,
                fail_fast=watch,
            )
        elif isinstance(engine.storage, MemoryStorage):
            slots = Slots(n_trials, _Counter(), threading.Lock(), deadline, max_trials)
            _run_threads(engine, objective, jobs, slots, caught, callbacks, progress, watch)
        else:
            _run_processes(
                engine,
                objective,
                jobs,
                _Limits(n_trials, deadline, max_trials),
                caught,
                callbacks,
                progress,
                watch,
            )


def _run_threads(
    engine: Engine,
    objective: Callable[[Trial], Any],
    jobs: int,
    slots: Slots,
    catch: tuple[type[BaseException], ...],
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    progress: StudyProgress | None,
    fail_fast: FailFast,
) -> None:
    # memory:// lives in this process, so its workers are threads.
    errors: list[BaseException] = []

    def work() -> None:
        try:
            worker_loop(
                engine.sibling(),  # its own replica and worker id
                objective,
                slots=slots,
                catch=catch,
                callbacks=callbacks,
                on_finished=None if progress is None else progress.advance,
                fail_fast=fail_fast,
            )
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)
            slots.stop()

    threads = [threading.Thread(target=work, name=f"tuneful-worker-{i}") for i in range(jobs)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.2)
    except KeyboardInterrupt:
        slots.stop()
        for thread in threads:
            thread.join()
        raise
    if errors:
        raise errors[0]


@dataclass(frozen=True)
class _Limits:
    n_trials: int | None
    deadline: float | None
    max_trials: int | None


@dataclass(frozen=True)
class _WorkerSetup:
    """What a worker process needs besides the objective (the storage URL travels in memory,
    through fork or a pipe, never on a command line)."""

    name: str
    storage_url: str
    optimizer: Any
    scheduler: Any
    face_factory: FaceFactory | None
    parent: int
    thread_cap: int | None
    fail_fast: FailFast


def _process_main(
    setup: _WorkerSetup,
    objective: Callable[[Trial], Any],
    slots: Slots,
    stop: Any,
    catch: tuple[type[BaseException], ...],
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    errors: Any,
) -> None:
    code = 0
    try:
        handle_sigterm_as_interrupt()  # stop like Ctrl-C: the running trial fails
        die_with_parent(setup.parent)
        if setup.thread_cap is not None:
            limit_threads(setup.thread_cap)
        own = open_engine(
            setup.name,
            setup.storage_url,
            optimizer=setup.optimizer,
            scheduler=setup.scheduler,
            face_factory=setup.face_factory,
        )
        try:
            worker_loop(
                own,
                objective,
                slots=slots,
                catch=catch,
                callbacks=callbacks,
                fail_fast=setup.fail_fast,
                parent=setup.parent,
            )
        finally:
            own.storage.close()
    except KeyboardInterrupt:
        code = 130
    except BaseException as exc:
        stop.set()
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        try:
            errors.put((exc, text))
        except Exception:  # the exception cannot be pickled: send its text alone
            errors.put((None, text))
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip the parent's atexit handlers inherited through fork


class _StoppableSlots(Slots):
    def __init__(self, stop: Any, *args: Any) -> None:
        super().__init__(*args)
        self._stop_event = stop

    def take(self) -> bool:
        return not self._stop_event.is_set() and super().take()

    def stop(self) -> None:  # every worker process stops, not this one alone
        super().stop()
        self._stop_event.set()


def _run_processes(
    engine: Engine,
    objective: Callable[[Trial], Any],
    jobs: int,
    limits: _Limits,
    catch: tuple[type[BaseException], ...],
    callbacks: Sequence[Callable[[Study, TrialRecord], None]],
    progress: StudyProgress | None,
    fail_fast: FailFast,
) -> None:
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    counter = context.Value("i", 0, lock=False)
    lock = context.Lock()
    stop = context.Event()
    errors = context.SimpleQueue()
    slots = _StoppableSlots(
        stop, limits.n_trials, counter, lock, limits.deadline, limits.max_trials
    )
    setup = _WorkerSetup(
        engine.name,
        engine.storage.url,
        engine.optimizer,
        engine.scheduler,
        engine.face_factory,
        parent=os.getpid(),
        thread_cap=thread_cap(jobs),
        fail_fast=fail_fast,
    )
    engine.storage.close()  # children must not inherit open connections
    workers = [
        context.Process(
            target=_process_main,
            args=(setup, objective, slots, stop, catch, callbacks, errors),
            name=f"tuneful-worker-{i}",
        )
        for i in range(jobs)
    ]
    for worker in workers:
        worker.start()
    try:
        running = [worker for worker in workers if worker.is_alive()]
        while running:
            if progress is not None:
                progress.poll()
            # Woken by the first worker to exit, so the run ends when its last worker does
            # (a fixed sleep here added up to 0.2 s to every run).
            wait([worker.sentinel for worker in running], timeout=0.2)
            running = [worker for worker in running if worker.is_alive()]
    except KeyboardInterrupt as exc:
        stop.set()
        if isinstance(exc, Terminated):  # unlike Ctrl-C, SIGTERM reached this process alone
            for worker in workers:
                if worker.is_alive():
                    worker.terminate()
        for worker in workers:
            worker.join(timeout=30)
        raise
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
                worker.join()
    _raise_worker_errors(engine, workers, errors, progress)


def _raise_worker_errors(
    engine: Engine, workers: list[Any], errors: Any, progress: StudyProgress | None
) -> None:
    if progress is not None:
        progress.poll()
    if not errors.empty():
        exc, text = errors.get()
        if isinstance(exc, BaseException):
            raise exc
        raise StudyError(f"a worker process of study {engine.name!r} failed:\n{text}")
    failed = [w.exitcode for w in workers if w.exitcode not in (0, None)]
    if failed:
        raise StudyError(
            f"{len(failed)} worker process(es) of study {engine.name!r} exited abnormally "
            f"(exit codes {failed}); their running trials are failed on the next optimize"
        )
