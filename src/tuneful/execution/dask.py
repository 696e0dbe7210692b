"""Trials as Dask tasks: ``study.optimize(objective, executor=DaskExecutor(...))``.

The calling process stays in charge: it asks the study for each trial (so one model proposes
them all, and the trial exists in storage before any worker sees it), submits a task that runs
the objective on a Dask worker, and submits the next one as each task ends, keeping every
worker thread busy. The task opens the study's storage itself (so the storage must be one the
workers reach: an SQLite file on this machine, or PostgreSQL), runs the objective there
(``trial.report`` and pruning work as in-process) and records the outcome. The Dask ``Client``
is only the transport: nothing is lost if it breaks, and the trials in flight are failed by
heartbeat as with any dead worker.

A Dask worker that dies mid-trial (killed, out of memory, its machine lost): Dask reruns the
task elsewhere; the rerun finds the trial was already started by a worker and, instead of
running it a second time, fails it ("its Dask worker was lost") and re-enqueues it per the
study's ``retries``, exactly once (the storage's RUNNING -> FAIL transition is atomic). When
Dask gives up on the task instead (``KilledWorker``), the client does the same.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneful.errors import RepeatedFailureError, SearchExhausted, StudyError
from tuneful.execution.engine import Engine, FaceFactory, open_engine
from tuneful.execution.failfast import FailFast
from tuneful.execution.heartbeat import Heartbeat
from tuneful.execution.loop import Catch, evaluate
from tuneful.records import TrialRecord, TrialState
from tuneful.storage import MemoryStorage

if TYPE_CHECKING:
    from tuneful.execution.progress import StudyProgress
    from tuneful.study import Study
    from tuneful.trial import Trial

__all__ = ["DaskExecutor"]

logger = logging.getLogger("tuneful")

#: The system attribute a task writes when it starts a trial: a rerun that finds it knows
#: the first worker was lost.
STARTED_ON = "dask_worker"


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise StudyError(
            "executor=DaskExecutor(...) needs Dask's distributed: pip install 'tuneful[dask]'"
        ) from None
    return distributed


class DaskExecutor:
    """Run a study's trials on a Dask cluster.

    Args:
        address: the scheduler's address (``"tcp://host:8786"``), a ``distributed.Client``,
            or None for ``distributed.Client()`` (a local cluster).
        resources: Dask worker resources each trial needs, e.g. ``{"GPU": 1}``: only workers
            started with them (``dask worker --resources "GPU=1"``) run trials, as many at a
            time as they hold.
        max_in_flight: trials submitted at once (default: the cluster's worker threads when
            the run starts, at least 1).
        connect_timeout: seconds to wait for the scheduler and for a first worker.

    Example::

        study.optimize(objective, n_trials=200,
                       executor=tuneful.DaskExecutor("tcp://scheduler:8786", resources={"GPU": 1}))
    """

    def __init__(
        self,
        address: Any = None,
        *,
        resources: Mapping[str, float] | None = None,
        max_in_flight: int | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        if address is not None and not isinstance(address, str) and not hasattr(address, "submit"):
            raise StudyError(
                f"DaskExecutor address={address!r}: expected 'tcp://host:port', a "
                "distributed.Client, or None"
            )
        checked: dict[str, float] = {}
        for name, amount in (resources or {}).items():
            if (
                not isinstance(name, str)
                or isinstance(amount, bool)
                or not isinstance(amount, int | float)
                or amount <= 0
            ):
                raise StudyError(
                    f"DaskExecutor resources={dict(resources or {})!r}: expected names mapped to "
                    f"positive amounts, e.g. {{'GPU': 1}} (bad entry {name!r}: {amount!r})"
                )
            checked[name] = float(amount)
        if max_in_flight is not None and (
            isinstance(max_in_flight, bool)
            or not isinstance(max_in_flight, int)
            or max_in_flight < 1
        ):
            raise StudyError(f"DaskExecutor max_in_flight={max_in_flight!r}: expected an int >= 1")
        self.address = address
        self.resources = checked
        self.max_in_flight = max_in_flight
        self.connect_timeout = connect_timeout

    def __repr__(self) -> str:
        where = self.address if isinstance(self.address, str | None) else "Client"
        return f"DaskExecutor({where!r}, resources={self.resources})"

    def _connect(self) -> tuple[Any, bool]:
        """The client, and whether this executor opened it (and so closes it)."""
        distributed = _distributed()
        if self.address is not None and not isinstance(self.address, str):
            return self.address, False
        try:
            client = distributed.Client(self.address, timeout=self.connect_timeout)
        except OSError as exc:
            raise StudyError(
                f"DaskExecutor: cannot reach the Dask scheduler at {self.address!r}: {exc}"
            ) from None
        return client, True

    def run(
        self,
        engine: Engine,
        objective: Callable[[Trial], Any],
        *,
        n_trials: int | None,
        deadline: float | None,
        max_trials: int | None,
        catch: Catch,
        callbacks: Sequence[Callable[[Study, TrialRecord], None]],
        progress: StudyProgress | None,
        fail_fast: FailFast | None = None,
    ) -> None:
        """Submit trials until ``n_trials`` were started, ``deadline`` passed or the study
        holds ``max_trials``; return when every submitted trial has ended.

        ``fail_fast``: once it says so, submit no more, let the trials in flight end, and
        raise its RepeatedFailureError."""
        if isinstance(engine.storage, MemoryStorage):
            raise StudyError(
                "executor=DaskExecutor(...): memory:// storage lives in this process and Dask "
                "workers cannot reach it; use sqlite:///path.db (one machine) or postgresql://"
            )
        distributed = _distributed()
        client, owned = self._connect()
        try:
            run = _Run(self, client, distributed, engine, objective, catch)
            run.fail_fast = fail_fast
            run.drive(n_trials, deadline, max_trials, callbacks, progress)
        finally:
            if owned:
                client.close()


class _Run:
    """One ``optimize`` call on a Dask cluster."""

    def __init__(
        self,
        executor: DaskExecutor,
        client: Any,
        distributed: Any,
        engine: Engine,
        objective: Callable[[Trial], Any],
        catch: Catch,
    ) -> None:
        self.executor = executor
        self.client = client
        self.distributed = distributed
        self.engine = engine
        self.objective = objective
        self.catch = catch
        self.in_flight: dict[Any, int] = {}
        self.started = 0
        self.exhausted = False
        self.fail_fast: FailFast | None = None
        self.stopping: RepeatedFailureError | None = None

    def capacity(self) -> int:
        if self.executor.max_in_flight is not None:
            return self.executor.max_in_flight
        try:
            self.client.wait_for_workers(1, timeout=self.executor.connect_timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise StudyError(
                f"DaskExecutor: no Dask worker joined within {self.executor.connect_timeout:g} s"
            ) from None
        return max(1, sum(self.client.nthreads().values()))

    def submit(
        self, n_trials: int | None, deadline: float | None, max_trials: int | None, queue: Any
    ) -> bool:
        """Ask for one trial and submit it; False when the run should start no more."""
        if self.stopping is not None or self.exhausted:
            return False
        if n_trials is not None and self.started >= n_trials:
            return False
        if deadline is not None and time.time() >= deadline:
            return False
        try:
            trial = self.engine.ask(None, monitored=True, limit=max_trials)
        except SearchExhausted as exc:
            logger.info("%s", exc)
            self.exhausted = True
            return False
        self.started += 1
        future = self.client.submit(
            _run_remote,
            _Task(self.engine.name, self.engine.storage.url, self.engine.face_factory),
            trial.number,
            self.objective,
            self.catch,
            key=f"tuneful-{self.engine.name}-{trial.number}-{uuid.uuid4().hex[:8]}",
            resources=self.executor.resources or None,
            pure=False,
        )
        self.in_flight[future] = trial.number
        self.heartbeat.watch(trial.number)
        queue.add(future)
        return True

    def drive(
        self,
        n_trials: int | None,
        deadline: float | None,
        max_trials: int | None,
        callbacks: Sequence[Callable[[Study, TrialRecord], None]],
        progress: StudyProgress | None,
    ) -> None:
        engine = self.engine
        queue = self.distributed.as_completed()
        # The client keeps the trials it submitted alive while they wait for a worker.
        with Heartbeat(engine.storage, engine.study_id, engine.heartbeat_interval) as heartbeat:
            self.heartbeat = heartbeat
            for _ in range(self.capacity()):
                if not self.submit(n_trials, deadline, max_trials, queue):
                    break
            for future in queue:
                number = self.in_flight.pop(future)
                try:
                    self.finish(future, number)
                except BaseException:
                    self.abandon()
                    raise
                finally:
                    heartbeat.forget(number)
                    future.release()  # else Dask recomputes it if its worker dies later
                record = engine.trial(number)
                for callback in callbacks:
                    callback(engine.face, record)
                if progress is not None:
                    progress.advance(record)
                if self.fail_fast is not None and self.stopping is None:
                    try:
                        self.fail_fast.check(engine, record)
                    except RepeatedFailureError as exc:  # the trials in flight still end
                        self.stopping = exc
                self.submit(n_trials, deadline, max_trials, queue)
        if self.stopping is not None:
            raise self.stopping

    def finish(self, future: Any, number: int) -> None:
        """Take one task's outcome: a lost worker fails (and re-enqueues) its trial; an
        objective's exception outside ``catch`` propagates, as in-process."""
        try:
            future.result()
        except self.distributed.scheduler.KilledWorker as exc:
            self.engine.fail_trial(number, f"its Dask worker was lost ({exc})")
        except (OSError, self.distributed.comm.CommClosedError) as exc:
            self.engine.fail_trial(number, f"its Dask worker could not be reached ({exc})")

    def abandon(self) -> None:
        """The run stops with trials in flight: fail them so none stays RUNNING."""
        for future, number in list(self.in_flight.items()):
            future.cancel()
            self.engine.fail_trial(number, "the optimize call that submitted it stopped")
        self.in_flight.clear()


@dataclass(frozen=True)
class _Task:
    """Where a Dask task finds its study: the study's name, the storage's full URL (sent to
    the workers in the task, never on a command line) and how to build the face that
    ``trial.study`` returns there."""

    name: str
    url: str
    face_factory: FaceFactory | None


_CACHE = threading.local()


def _engine_here(task: _Task) -> Engine:
    """This worker thread's engine on the study (opened once per thread), with the optimizer
    and scheduler the study stored."""
    engines: dict[tuple[str, str], Engine] = getattr(_CACHE, "engines", None) or {}
    _CACHE.engines = engines
    key = (task.name, task.url)
    if key not in engines:
        engines[key] = open_engine(task.name, task.url, face_factory=task.face_factory)
    return engines[key]


def _run_remote(task: _Task, number: int, objective: Callable[[Trial], Any], catch: Catch) -> str:
    """The Dask task: run trial ``number``'s objective on this worker and record it."""
    engine = _engine_here(task)
    record = engine.trial(number)
    if record.state is not TrialState.RUNNING:
        return record.state.value  # failed meanwhile (a stale heartbeat, an abandoned run)
    first = record.system_attrs.get(STARTED_ON)
    if first is not None:  # Dask reran the task: the worker that started it was lost
        engine.fail_trial(number, f"its Dask worker {first} was lost while running it")
        return "lost"
    try:
        here = _distributed().get_worker().address
    except ValueError:  # not in a worker (run synchronously, in tests of this function)
        here = "local"
    engine.record(number, "system_attr", {"key": STARTED_ON, "value": here})
    with Heartbeat(engine.storage, engine.study_id, engine.heartbeat_interval) as heartbeat:
        evaluate(engine, engine.resume(number), objective, catch, heartbeat)
    return "done"
