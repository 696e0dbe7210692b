"""The engine below a study: what trials and workers talk to.

An :class:`Engine` owns one study's record (``StudyInfo``), its storage, optimizer, scheduler,
local replica of the event log and this process's worker id. Its interface is narrow and
public: ``ask`` a trial, ``record`` what the trial reports, ``judge`` it, tell its outcome,
``fail_trial`` a trial whose run was cut short (re-enqueued per the study's ``retries``), sweep
stale trials. :class:`~tuneful.trial.Trial` and the execution layer (loop, worker processes,
Dask) use nothing else; :class:`~tuneful.study.Study` is the face users hold over it.

The engine does not know the face's class: it keeps an opaque reference to it (``face``, what
``trial.study`` returns and callbacks receive) and, to give a worker thread or process a face
of its own, the function that builds one (``face_factory``).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tuneful.errors import SearchExhausted, SpaceError, TrialError
from tuneful.optimizers import Optimizer, available_optimizers, make_optimizer
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import Decision, ModelView, Scheduler, make_scheduler, refuse_exploit
from tuneful.space import Space
from tuneful.storage import Storage, StudyInfo, open_storage
from tuneful.storage.replay import StudyReplica
from tuneful.trial import (
    Trial,
    check_constraint_count,
    check_constraints,
    check_tell,
    check_values,
)

__all__ = [
    "DEFAULT_HEARTBEAT_INTERVAL",
    "Engine",
    "FaceFactory",
    "complete",
    "open_engine",
    "worker_id",
]

#: Seconds between heartbeats of a worker's running trials.
DEFAULT_HEARTBEAT_INTERVAL = 10.0

#: Builds the face users hold (a Study) over an engine; the engine does not know its class.
FaceFactory = Callable[["Engine"], Any]


def worker_id() -> str:
    """This process's name in the trials it starts: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Engine:
    """Runs one study's trials: ask, record, judge, tell, fail; heartbeat settings.

    Args:
        info: the study's record in ``storage``.
        storage: where its events live.
        optimizer: what proposes parameters.
        scheduler: what stops, promotes and places trials (None: ``"none"``).
        face_factory: builds the face (a Study) over a sibling engine; see :meth:`sibling`.
    """

    def __init__(
        self,
        info: StudyInfo,
        storage: Storage,
        optimizer: Optimizer,
        scheduler: Scheduler | None = None,
        *,
        face_factory: FaceFactory | None = None,
    ) -> None:
        self.info = info
        self.storage = storage
        self.optimizer = optimizer
        self.scheduler = scheduler if scheduler is not None else make_scheduler("none")
        self.space = None if info.space is None else Space.from_dict(dict(info.space))
        self.replica = StudyReplica()
        self.worker = worker_id()
        #: The object users hold over this engine (``trial.study``); None when none was made.
        self.face: Any = None
        self.face_factory = face_factory
        #: ``time.monotonic()`` of this engine's last sweep for stale trials.
        self.last_stale_check = 0.0
        self._model_view = ModelView()
        #: How many constraint values every completed trial carries, once known (0: none).
        self._constraint_count: int | None = None
        self._warned_constraints = False

    def sibling(self) -> Engine:
        """Another engine on the same study, with its own replica and worker id (one per
        thread), and its own face when this one knows how to build one."""
        engine = Engine(
            self.info,
            self.storage,
            self.optimizer,
            self.scheduler,
            face_factory=self.face_factory,
        )
        if self.face_factory is not None:
            engine.face = self.face_factory(engine)
        return engine

    # -- identity and settings -------------------------------------------------------------
    @property
    def study_id(self) -> int:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def directions(self) -> tuple[str, ...]:
        return self.info.directions

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.info.settings

    @property
    def seed(self) -> int:
        return int(self.info.settings["seed"])

    @property
    def retries(self) -> int:
        return int(self.info.settings.get("retries", 0))

    @property
    def heartbeat_interval(self) -> float | None:
        value = self.info.settings.get("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)
        return None if value is None else float(value)

    @property
    def grace_period(self) -> float | None:
        interval = self.heartbeat_interval
        if interval is None:
            return None
        grace = self.info.settings.get("grace_period")
        return 4.0 * interval if grace is None else float(grace)

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Apply the events logged since the last refresh to the replica."""
        self.replica.apply(self.storage.read_events(self.info.id, self.replica.last_event_id))

    def trials(self) -> list[TrialRecord]:
        """Every trial, by number, as the storage has them now."""
        self.refresh()
        return self.replica.trials()

    def trial(self, number: int) -> TrialRecord:
        """Trial ``number`` as the storage has it now (it must exist)."""
        self.refresh()
        return self.replica.trial(number)

    def history(self, space: Space | None, number: int | None) -> History:
        """The replica as optimizers and schedulers read it (refresh first)."""
        return History(
            space,
            self.directions,
            self.replica.trials_view(),  # shared, read-only: History does not modify it
            number=number,
            seed=self.seed,
            has_reports=self.replica.has_reports,
        )

    def model_history(self, space: Space, number: int | None) -> History:
        """What the optimizer sees: under a scheduler, every trial at one budget (BOHB)."""
        history = self.history(space, number)
        return self._model_view(history, self.scheduler) if self.scheduler.active else history

    def dynamic_space(self) -> Space | None:
        """For define-by-run studies: the parameters seen so far, as one flat space.

        A parameter whose definition changed between trials (a narrowed range) takes its
        latest one; earlier values outside it count as missing for the optimizer.
        """
        specs: dict[str, Any] = {}
        for trial in self.replica.trials_view():
            for name, spec in trial.distributions.items():
                specs[name] = spec
        if not specs:
            return None
        try:
            return Space.from_dict(specs)
        except SpaceError:
            return None

    def rng(self, number: int) -> np.random.Generator:
        """Trial ``number``'s random stream: a resumed study draws exactly what it would have."""
        return np.random.default_rng([self.seed, number])

    # -- writing ---------------------------------------------------------------------------
    def record(self, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        """Log an event of RUNNING trial ``number`` (``reported``, ``user_attr``, ...)."""
        self.storage.append(self.info.id, number, kind, payload)

    def record_params(
        self, number: int, params: Mapping[str, Any], distributions: Mapping[str, Any] | None
    ) -> None:
        """Log parameters of trial ``number`` (and, define-by-run, their definitions)."""
        payload: dict[str, Any] = {"params": dict(params)}
        if distributions:
            payload["distributions"] = dict(distributions)
        self.record(number, "params", payload)

    def enqueue(self, params: Mapping[str, Any], user_attrs: Mapping[str, Any] | None) -> int:
        """Queue checked ``params`` as a WAITING trial; returns its number."""
        return self.storage.create_trial(
            self.info.id,
            state=TrialState.WAITING,
            params=dict(params),
            system_attrs={"enqueued": True},
            user_attrs=user_attrs,
        )

    def tell(
        self,
        number: int,
        value: Any = None,
        *,
        values: Sequence[float] | None = None,
        state: TrialState | str | None = None,
        error: str | None = None,
        constraints: Any = None,
    ) -> TrialRecord:
        """Finish trial ``number`` (see :meth:`tuneful.study.Study.tell`); returns its record.

        A value that cannot be stored fails the trial with the reason, and warns. Constraints
        that cannot be stored (not finite numbers, or not as many as the study's completed
        trials carry) raise TrialError and leave the trial RUNNING, to be told again.
        """
        result, chosen = check_tell(number, value, values, state, error, constraints)
        if chosen not in (None, TrialState.COMPLETE):
            self.storage.finish_trial(self.info.id, number, state=chosen, error=error)
            return self.trial(number)
        limits = None if constraints is None else check_constraints(number, constraints)
        checked, reason = check_values(result, len(self.directions))
        if reason is None:
            check_constraint_count(number, limits, self.constraint_count(limits))
            self.storage.finish_trial(
                self.info.id, number, state=TrialState.COMPLETE, values=checked, constraints=limits
            )
            if limits is not None:
                self._warn_unmodelled_constraints()
        else:
            # stacklevel 3: the caller of Study.tell
            warnings.warn(f"trial {number} failed: {reason}", stacklevel=3)
            self.storage.finish_trial(self.info.id, number, state=TrialState.FAIL, error=reason)
        return self.trial(number)

    def constraint_count(self, told: tuple[float, ...] | None = None) -> int:
        """How many constraint values every completed trial of the study carries: those of
        its first completed trial (0 when it carried none); ``told``'s count while no trial
        has completed. Checked at tell time, outside the storage's transaction: two first
        trials told at once by two workers with different counts are both kept."""
        if self._constraint_count is None:
            self.refresh()
            first = next(
                (t for t in self.replica.trials_view() if t.state is TrialState.COMPLETE), None
            )
            if first is None:
                return 0 if told is None else len(told)
            self._constraint_count = len(first.constraints or ())
        return self._constraint_count

    def _warn_unmodelled_constraints(self) -> None:
        """Say once that the optimizer ranks trials by value alone, feasible or not."""
        if self._warned_constraints or type(self.optimizer).capabilities.constraints:
            return
        self._warned_constraints = True
        warnings.warn(
            f"optimizer {self.optimizer.name!r} does not take constraints into account: it "
            "ranks trials by their values alone, feasible or not (the best trial and the "
            "Pareto front count feasible trials only); optimizers that do: "
            f"{', '.join(constraint_aware_optimizers())}",
            stacklevel=4,
        )

    def fail_trial(self, number: int, error: str) -> bool:
        """Fail RUNNING trial ``number`` whose run was cut short (its worker lost, killed or
        interrupted), and re-enqueue it (a WAITING copy of its parameters) while its chain of
        retries is shorter than ``retries``, in one transaction. False (nothing written) when
        the trial is no longer RUNNING: someone else finished or failed it."""
        return self.storage.fail_trial(self.info.id, number, error=error, retries=self.retries)

    # -- liveness --------------------------------------------------------------------------
    def fail_stale(self) -> list[int]:
        """Fail RUNNING trials whose worker stopped heartbeating (and re-enqueue per retries)."""
        grace = self.grace_period
        self.last_stale_check = time.monotonic()
        if grace is None:
            return []
        return self.storage.fail_stale_trials(self.info.id, grace=grace, retries=self.retries)

    def fail_stale_when_due(self) -> None:
        """Sweep for stale trials when half a grace period passed since the last sweep."""
        grace = self.grace_period
        if grace is not None and time.monotonic() - self.last_stale_check > grace / 2:
            self.fail_stale()

    # -- asking ----------------------------------------------------------------------------
    def ask(
        self,
        fixed_params: Mapping[str, Any] | None = None,
        *,
        monitored: bool = False,
        limit: int | None = None,
    ) -> Trial:
        """Start a trial: an enqueued configuration if any waits, else the optimizer's pick.

        Args:
            fixed_params: values for some parameters (validated); the rest are proposed.
            monitored: whether a heartbeat keeps the trial alive (stale when it stops).
            limit: create no trial once the study holds that many (TrialLimitReached).

        Raises:
            SearchExhausted: the optimizer has no configuration left to try.
        """
        self.refresh()
        fixed: dict[str, Any] = {}
        number: int | None = None
        if self.replica.has_waiting():
            number = self.storage.claim_trial(self.info.id, worker=self.worker, monitored=monitored)
            if number is not None:
                fixed = dict(self.trial(number).params)
        space = self.space
        if fixed_params:
            checked = fixed_params if space is None else space.validate(fixed_params, partial=True)
            fixed.update(checked)
        if number is not None:
            return self._start(number, fixed, None, self.rng(number))
        return self._create(fixed, monitored, limit)

    def _create(self, fixed: dict[str, Any], monitored: bool, limit: int | None) -> Trial:
        """Create a new RUNNING trial, its parameters drafted for the number it should get."""
        if self.space is not None and self.optimizer.exhausted(self.history(self.space, None)):
            raise SearchExhausted(
                f"optimizer {self.optimizer.name!r} has no configuration left to try in "
                f"study {self.name!r}"
            )
        # Draw the parameters for the number this trial will most likely get, and create it
        # with them in one write; if another worker took that number first, the storage drops
        # them and they are drawn again for the number we got.
        expected = len(self.replica)
        drafted = None
        draft_attrs: dict[str, Any] = {}
        draft_rng = self.rng(expected)
        if self.space is not None:
            drafted, draft_attrs = self._propose(self.space, expected, draft_rng, fixed)
        number = self.storage.create_trial(
            self.info.id,
            state=TrialState.RUNNING,
            params=drafted,
            system_attrs=draft_attrs or None,
            worker=self.worker,
            monitored=monitored,
            expected_number=expected,
            limit=limit,
        )
        self.refresh()
        if number == expected:
            return self._start(number, fixed, expected, draft_rng)
        return self._start(number, fixed, expected, self.rng(number))

    def _start(
        self,
        number: int,
        fixed: dict[str, Any],
        expected: int | None,
        rng: np.random.Generator,
    ) -> Trial:
        """The handle on a trial just claimed or created: its parameters proposed and
        recorded (unless drafted at creation), or, define-by-run, the proposal to follow."""
        if self.space is None:
            for key, value in self.scheduler.assign(self.history(None, number)).items():
                self.record(number, "system_attr", {"key": key, "value": value})
            proposal = self._propose_dynamic(number, rng) if not fixed else None
            return Trial(self, number, {}, rng=rng, fixed=fixed, proposal=proposal)
        stored = dict(self.replica.trial(number).params)
        if stored and number == expected:  # the drafted parameters were kept
            return Trial(self, number, stored, rng=rng)
        params, attrs = self._propose(self.space, number, rng, fixed)
        if params != stored:
            self.record_params(number, params, None)
        for key, value in attrs.items():
            self.record(number, "system_attr", {"key": key, "value": value})
        return Trial(self, number, dict(params), rng=rng)

    def resume(self, number: int) -> Trial:
        """A handle on RUNNING trial ``number``, asked by another process (a Dask client), to
        run its objective here.

        Raises:
            TrialError: the trial is not RUNNING.
        """
        record = self.trial(number)
        if record.state is not TrialState.RUNNING:
            raise TrialError(f"trial {number} is {record.state.value}, not RUNNING: cannot run it")
        rng = self.rng(number)
        if self.space is not None:
            return Trial(self, number, dict(record.params), rng=rng)
        fixed = dict(record.params)
        proposal = self._propose_dynamic(number, rng) if not fixed else None
        return Trial(self, number, {}, rng=rng, fixed=fixed, proposal=proposal)

    def _propose(
        self, space: Space, number: int, rng: np.random.Generator, fixed: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The trial's parameters and what the optimizer records about its choice."""
        placed = self.scheduler.assign(self.history(space, number))
        if fixed and all(name in fixed for name in space.active_names(fixed)):
            return space.validate(fixed), placed
        history = self.model_history(space, number)
        point = self.optimizer.suggest(history, 1, rng)
        attrs = {**placed, **self.optimizer.trial_attrs(history)}
        proposal = space.decode(np.asarray(point, dtype=float).reshape(1, space.dim))[0]
        if not fixed:
            return proposal, attrs
        return complete(space, proposal, fixed, rng), attrs

    def _propose_dynamic(
        self, number: int, rng: np.random.Generator
    ) -> tuple[Space, dict[str, Any]] | None:
        space = self.dynamic_space()
        if space is None or space.dim == 0:
            return None
        history = self.model_history(space, number)
        point = self.optimizer.suggest(history, 1, rng)
        for key, value in self.optimizer.trial_attrs(history).items():
            self.record(number, "system_attr", {"key": key, "value": value})
        return space, space.decode(np.asarray(point, dtype=float).reshape(1, space.dim))[0]

    # -- schedulers ------------------------------------------------------------------------
    def judge(self, number: int) -> Decision | None:
        """The scheduler's verdict after trial ``number`` reported; recorded on the trial."""
        if not self.scheduler.active:
            return None
        record = self.trial(number)
        stopped = record.system_attrs.get("pruned")
        if isinstance(stopped, Mapping):  # judged before (ask/tell users may report on)
            return Decision(stop=True, reason=str(stopped.get("reason", "")))
        decision = self.scheduler.decide(record, self.history(self.space, number))
        if decision is not None:
            # Carrying on from another trial's checkpoint needs checkpoints, which trials
            # cannot save yet: such a decision is an error, never a silent "go on".
            refuse_exploit(
                decision,
                scheduler=self.scheduler.name,
                trial=number,
                why="trials save no checkpoints to go on from",
            )
            for key, value in decision.attrs.items():
                self.record(number, "system_attr", {"key": key, "value": value})
        return decision

    def budget_of(self, number: int, cap: int | None) -> tuple[int | None, bool]:
        """Trial ``number``'s budget now (at most ``cap``) and whether it is the last one."""
        if not self.scheduler.active:
            return cap, True
        record = self.trial(number)
        history = self.history(self.space, number)
        budget = self.scheduler.budget(record, history)
        full = self.scheduler.max_budget_of(history)
        if cap is not None:
            full = cap if full is None else min(full, cap)
            budget = cap if budget is None else min(budget, cap)
        return budget, budget is not None and full is not None and budget >= full


def constraint_aware_optimizers() -> list[str]:
    """The registered optimizers that declare ``capabilities.constraints``."""
    return [
        name
        for name in available_optimizers()
        if type(make_optimizer(name, seed=0)).capabilities.constraints
    ]


def complete(
    space: Space,
    proposal: Mapping[str, Any],
    fixed: Mapping[str, Any],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """The ``fixed`` values over the optimizer's ``proposal``, valid for ``space``: fixed values
    may switch conditional branches on or off; what is active is kept, what they switch on and
    neither gives is sampled from ``rng``."""
    merged = {**proposal, **fixed}
    active = space.active_names(merged)
    while True:
        merged = {k: v for k, v in merged.items() if k in active}
        missing = [name for name in active if name not in merged]
        if not missing:
            return space.validate(merged)
        for name in missing:
            merged[name] = space.sample_parameter(name, rng)
        active = space.active_names(merged)


def open_engine(
    name: str,
    storage: str | Storage,
    *,
    optimizer: Any = None,
    scheduler: Any = None,
    face_factory: FaceFactory | None = None,
) -> Engine:
    """An engine on the existing study ``name`` (a worker process or a Dask task reopening it).

    Args:
        storage: the storage's full URL, or an open Storage.
        optimizer / scheduler: a registry name, a ``{"name", "settings"}`` description or an
            object; None: rebuilt from what the study stored.
        face_factory: builds the face (a Study) over the engine; its ``face`` then.

    Raises:
        StudyNotFoundError: no study of that name in the storage.
    """
    backend = storage if isinstance(storage, Storage) else open_storage(storage)
    info = backend.get_study(name)
    seed = int(info.settings["seed"])
    stored = info.settings.get("optimizer")
    built = make_optimizer(optimizer if optimizer is not None else stored, seed=seed)
    # Studies created before schedulers existed have none.
    stored_scheduler = info.settings.get("scheduler") or "none"
    chosen = make_scheduler(scheduler if scheduler is not None else stored_scheduler)
    engine = Engine(info, backend, built, chosen, face_factory=face_factory)
    if face_factory is not None:
        engine.face = face_factory(engine)
    return engine
