"""The facade users touch: create, load and run studies; ask and tell; read results."""

from __future__ import annotations

import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

# create_study and friends live in _lifecycle.py (which imports Study only where it runs).
from tuneful._lifecycle import (
    DEFAULT_HEARTBEAT_INTERVAL,
    create_study,
    delete_study,
    list_studies,
    load_study,
)
from tuneful._ported import missing_attribute
from tuneful.errors import SpaceError, StudyError, TrialError
from tuneful.optimizers import Optimizer
from tuneful.records import History, StudySummary, TrialRecord, TrialState, pareto_front
from tuneful.schedulers import Decision, ModelView, Scheduler, make_scheduler
from tuneful.space import Space
from tuneful.storage import Storage, StudyInfo
from tuneful.storage.replay import StudyReplica
from tuneful.storage.urls import redact_url
from tuneful.trial import Trial, _check_json, check_tell, check_values, trial_number

if TYPE_CHECKING:
    import pandas

__all__ = ["Study", "create_study", "load_study", "delete_study", "list_studies"]


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Study:
    """A named optimization: its space, directions, optimizer and every trial, in storage.

    Build one with :func:`create_study` or :func:`load_study`, not directly.
    """

    def __init__(
        self,
        info: StudyInfo,
        storage: Storage,
        optimizer: Optimizer,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._info = info
        self._storage = storage
        self.optimizer = optimizer
        self.scheduler = scheduler if scheduler is not None else make_scheduler("none")
        self._model_view = ModelView()
        self._space = None if info.space is None else Space.from_dict(dict(info.space))
        self._replica = StudyReplica()
        self._worker = _worker_id()
        self._last_stale_check = 0.0

    # -- identity ------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._info.name

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def storage_url(self) -> str:
        """The storage's URL as it may be shown: a password is replaced by ``***``."""
        return redact_url(self._storage.url)

    @property
    def space(self) -> Space | None:
        """The search space, or None for define-by-run studies."""
        return self._space

    @property
    def directions(self) -> tuple[str, ...]:
        return self._info.directions

    @property
    def direction(self) -> str:
        """The direction of a single-objective study (several objectives: ``directions``)."""
        if len(self.directions) != 1:
            raise StudyError(
                f"study {self.name!r} has {len(self.directions)} objectives "
                f"{list(self.directions)}: read study.directions"
            )
        return self.directions[0]

    @property
    def seed(self) -> int:
        return int(self._info.settings["seed"])

    @property
    def settings(self) -> dict[str, Any]:
        """What the study was created with (optimizer, seed, retries, heartbeats)."""
        return dict(self._info.settings)

    @property
    def retries(self) -> int:
        return int(self._info.settings.get("retries", 0))

    @property
    def heartbeat_interval(self) -> float | None:
        value = self._info.settings.get("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)
        return None if value is None else float(value)

    @property
    def grace_period(self) -> float | None:
        interval = self.heartbeat_interval
        if interval is None:
            return None
        grace = self._info.settings.get("grace_period")
        return 4.0 * interval if grace is None else float(grace)

    def __repr__(self) -> str:
        return (
            f"Study(name={self.name!r}, directions={self.directions}, storage={self.storage_url!r})"
        )

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute("Study", name)

    # -- reading -------------------------------------------------------------------------
    def _refresh(self) -> None:
        self._replica.apply(self._storage.read_events(self._info.id, self._replica.last_event_id))

    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, by number (frozen records)."""
        self._refresh()
        return self._replica.trials()

    def get_trials(self, states: Iterable[TrialState | str] | None = None) -> list[TrialRecord]:
        """Trials, optionally only those in ``states``."""
        trials = self.trials
        if states is None:
            return trials
        wanted = {TrialState(s) for s in states}
        return [t for t in trials if t.state in wanted]

    def get_trial(self, number: int) -> TrialRecord:
        number = trial_number(number, "get_trial number")
        self._refresh()
        if not 0 <= number < len(self._replica):
            raise TrialError(f"study {self.name!r} has no trial number {number}")
        return self._replica.trial(number)

    @property
    def user_attrs(self) -> dict[str, Any]:
        self._refresh()
        return dict(self._replica.study_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable attribute to the study."""
        _check_json(key, value)
        self._storage.set_study_attr(self._info.id, key, value)

    def _completed(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state is TrialState.COMPLETE and t.values is not None]

    @property
    def best_trial(self) -> TrialRecord:
        """The best COMPLETE trial (earliest on ties). Single-objective studies only: with
        several objectives there is no single best, and ``best_trials`` is the Pareto front.

        Raises:
            StudyError: no trial has completed, or the study has several objectives.
        """
        if len(self.directions) != 1:
            raise StudyError(
                f"study {self.name!r} has {len(self.directions)} objectives "
                f"{list(self.directions)}: there is no single best trial; study.best_trials "
                "is the Pareto front (the trials no other trial beats on every objective)"
            )
        direction = self.directions[0]
        completed = self._completed()
        if not completed:
            raise StudyError(f"study {self.name!r} has no completed trial yet")
        sign = 1.0 if direction == "minimize" else -1.0
        return min(completed, key=lambda t: (sign * t.values[0], t.number))  # type: ignore[index]

    @property
    def best_value(self) -> float:
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    @property
    def best_trials(self) -> list[TrialRecord]:
        """The Pareto front of COMPLETE trials (for one objective: the best trial(s))."""
        return pareto_front(self._completed(), self.directions)

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per trial: number, state, value(s), params_*, user_attrs_*, system_attrs_*
        (e.g. ``system_attrs_optimizer``: which optimizer ``auto`` used), times, error.

        Needs pandas (``pip install pandas``).
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "Study.to_dataframe needs pandas: pip install pandas (or tuneful[pandas])"
            ) from None
        rows = [t.to_row(len(self.directions)) for t in self.trials]
        return pd.DataFrame(rows)

    # -- writing -------------------------------------------------------------------------
    def _record(self, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        self._storage.append(self._info.id, number, kind, payload)

    def _record_params(
        self, number: int, params: Mapping[str, Any], distributions: Mapping[str, Any] | None
    ) -> None:
        payload: dict[str, Any] = {"params": dict(params)}
        if distributions:
            payload["distributions"] = dict(distributions)
        self._record(number, "params", payload)

    def enqueue(
        self, params: Mapping[str, Any], *, user_attrs: Mapping[str, Any] | None = None
    ) -> int:
        """Queue a configuration to be tried next; returns its trial number.

        ``params`` may be partial: parameters it leaves out are chosen by the optimizer.
        ``user_attrs`` become the trial's user attributes.

        Raises:
            SpaceError: a value is invalid, unknown or inactive for the study's space.
        """
        if not isinstance(params, Mapping):
            raise SpaceError(f"enqueue params={params!r}: expected a mapping name -> value")
        clean = dict(params) if self._space is None else self._space.validate(params, partial=True)
        _check_json("params", clean)
        for key, value in (user_attrs or {}).items():
            _check_json(key, value)
        return self._storage.create_trial(
            self._info.id,
            state=TrialState.WAITING,
            params=clean,
            system_attrs={"enqueued": True},
            user_attrs=user_attrs,
        )

    def _rng(self, number: int) -> np.random.Generator:
        # One stream per trial number: a resumed study draws exactly what it would have.
        return np.random.default_rng([self.seed, number])

    def _history(self, space: Space | None, number: int | None) -> History:
        return History(
            space,
            self.directions,
            self._replica.trials_view(),  # shared, read-only: History does not modify it
            number=number,
            seed=self.seed,
            has_reports=self._replica.has_reports,
        )

    def _model_history(self, space: Space, number: int | None) -> History:
        """What the optimizer sees: under a scheduler, every trial at one budget (BOHB)."""
        history = self._history(space, number)
        return self._model_view(history, self.scheduler) if self.scheduler.active else history

    def _dynamic_space(self) -> Space | None:
        """For define-by-run studies: the parameters seen so far, as one flat space.

        A parameter whose definition changed between trials (a narrowed range) takes its
        latest one; earlier values outside it count as missing for the optimizer.
        """
        specs: dict[str, Any] = {}
        for trial in self._replica.trials_view():
            for name, spec in trial.distributions.items():
                specs[name] = spec
        if not specs:
            return None
        try:
            return Space.from_dict(specs)
        except SpaceError:
            return None

    def fail_stale_trials(self) -> list[int]:
        """Fail RUNNING trials whose worker stopped heartbeating (and re-enqueue per retries)."""
        grace = self.grace_period
        self._last_stale_check = time.monotonic()
        if grace is None:
            return []
        return self._storage.fail_stale_trials(self._info.id, grace=grace, retries=self.retries)

    def _resume(self, number: int) -> Trial:
        """A handle on RUNNING trial ``number``, asked by another process (a Dask client),
        to run its objective here."""
        self._refresh()
        record = self._replica.trial(number)
        if record.state is not TrialState.RUNNING:
            raise TrialError(f"trial {number} is {record.state.value}, not RUNNING: cannot run it")
        rng = self._rng(number)
        if self._space is not None:
            return Trial(self, number, dict(record.params), rng=rng)
        fixed = dict(record.params)
        proposal = self._propose_dynamic(number, rng) if not fixed else None
        return Trial(self, number, {}, rng=rng, fixed=fixed, proposal=proposal)

    def _fail_lost(self, number: int, error: str) -> bool:
        """Fail RUNNING trial ``number`` whose worker was lost, retried per ``retries``."""
        return self._storage.fail_trial(self._info.id, number, error=error, retries=self.retries)

    def ask(self, fixed_params: Mapping[str, Any] | None = None) -> Trial:
        """Start a trial: an enqueued configuration if any waits, else the optimizer's pick.

        Args:
            fixed_params: values to use for some parameters (validated); the rest come from
                the optimizer.
        """
        return self._ask(fixed_params, monitored=False)

    def _ask(
        self,
        fixed_params: Mapping[str, Any] | None,
        *,
        monitored: bool,
        limit: int | None = None,
    ) -> Trial:
        from tuneful.errors import SearchExhausted

        self._refresh()
        fixed: dict[str, Any] = {}
        number: int | None = None
        expected: int | None = None
        draft_rng: np.random.Generator | None = None
        if self._replica.has_waiting():
            number = self._storage.claim_trial(
                self._info.id, worker=self._worker, monitored=monitored
            )
            if number is not None:
                self._refresh()
                record = self._replica.trial(number)
                fixed = dict(record.params)
        if fixed_params:
            fixed.update(
                fixed_params
                if self._space is None
                else self._space.validate(fixed_params, partial=True)
            )
        if number is None:
            if self._space is not None and self.optimizer.exhausted(
                self._history(self._space, None)
            ):
                raise SearchExhausted(
                    f"optimizer {self.optimizer.name!r} has no configuration left to try in "
                    f"study {self.name!r}"
                )
            # Draw the parameters for the number this trial will most likely get, and create
            # it with them in one write; if another worker took that number first, the
            # storage drops them and they are drawn again below for the number we got.
            expected = len(self._replica)
            drafted = None
            draft_attrs: dict[str, Any] = {}
            draft_rng = self._rng(expected)
            if self._space is not None:
                drafted, draft_attrs = self._propose(self._space, expected, draft_rng, fixed)
            number = self._storage.create_trial(
                self._info.id,
                state=TrialState.RUNNING,
                params=drafted,
                system_attrs=draft_attrs or None,
                worker=self._worker,
                monitored=monitored,
                expected_number=expected,
                limit=limit,
            )
            self._refresh()
        rng = draft_rng if draft_rng is not None and number == expected else self._rng(number)
        if self._space is None:
            for key, value in self.scheduler.assign(self._history(None, number)).items():
                self._record(number, "system_attr", {"key": key, "value": value})
            proposal = self._propose_dynamic(number, rng) if not fixed else None
            return Trial(self, number, {}, rng=rng, fixed=fixed, proposal=proposal)
        stored = dict(self._replica.trial(number).params)
        if stored and number == expected:  # the drafted parameters were kept
            return Trial(self, number, stored, rng=rng)
        params, attrs = self._propose(self._space, number, rng, fixed)
        if params != stored:
            self._record_params(number, params, None)
        for key, value in attrs.items():
            self._record(number, "system_attr", {"key": key, "value": value})
        return Trial(self, number, dict(params), rng=rng)

    def _propose(
        self, space: Space, number: int, rng: np.random.Generator, fixed: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The trial's parameters and what the optimizer records about its choice."""
        placed = self.scheduler.assign(self._history(space, number))
        if fixed and all(name in fixed for name in space.active_names(fixed)):
            return space.validate(fixed), placed
        history = self._model_history(space, number)
        point = self.optimizer.suggest(history, 1, rng)
        attrs = {**placed, **self.optimizer.trial_attrs(history)}
        proposal = space.decode(np.asarray(point, dtype=float).reshape(1, space.dim))[0]
        if not fixed:
            return proposal, attrs
        return self._complete(space, proposal, fixed, rng), attrs

    def _complete(
        self,
        space: Space,
        proposal: dict[str, Any],
        fixed: dict[str, Any],
        rng: np.random.Generator,
    ) -> dict[str, Any]:
        """The fixed values over the proposal; parameters they switch on are sampled."""
        merged = {**proposal, **fixed}
        # Fixed values may switch branches on or off: keep what is active, sample the rest.
        active = space.active_names(merged)
        while True:
            merged = {k: v for k, v in merged.items() if k in active}
            missing = [name for name in active if name not in merged]
            if not missing:
                return space.validate(merged)
            for name in missing:
                merged[name] = space.sample_parameter(name, rng)
            active = space.active_names(merged)

    def _propose_dynamic(
        self, number: int, rng: np.random.Generator
    ) -> tuple[Space, dict[str, Any]] | None:
        space = self._dynamic_space()
        if space is None or space.dim == 0:
            return None
        history = self._model_history(space, number)
        point = self.optimizer.suggest(history, 1, rng)
        for key, value in self.optimizer.trial_attrs(history).items():
            self._record(number, "system_attr", {"key": key, "value": value})
        return space, space.decode(np.asarray(point, dtype=float).reshape(1, space.dim))[0]

    # -- schedulers ----------------------------------------------------------------------
    def _judge(self, number: int) -> Decision | None:
        """The scheduler's verdict after trial ``number`` reported; recorded on the trial."""
        if not self.scheduler.active or len(self.directions) != 1:
            return None
        self._refresh()
        record = self._replica.trial(number)
        stopped = record.system_attrs.get("pruned")
        if isinstance(stopped, Mapping):  # judged before (ask/tell users may report on)
            return Decision(stop=True, reason=str(stopped.get("reason", "")))
        decision = self.scheduler.decide(record, self._history(self._space, number))
        if decision is not None:
            for key, value in decision.attrs.items():
                self._record(number, "system_attr", {"key": key, "value": value})
        return decision

    def _budget_of(self, number: int, cap: int | None) -> tuple[int | None, bool]:
        """Trial ``number``'s budget now (at most ``cap``) and whether it is the last one."""
        if not self.scheduler.active:
            return cap, True
        self._refresh()
        record = self._replica.trial(number)
        history = self._history(self._space, number)
        budget = self.scheduler.budget(record, history)
        full = self.scheduler.max_budget_of(history)
        if cap is not None:
            full = cap if full is None else min(full, cap)
            budget = cap if budget is None else min(budget, cap)
        return budget, budget is not None and full is not None and budget >= full

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        values: Sequence[float] | None = None,
        state: TrialState | str | None = None,
        error: str | None = None,
    ) -> TrialRecord:
        """Finish a trial with its value(s), or with ``state="PRUNED"`` / ``"FAIL"``.

        A value that is None, NaN, infinite, beyond the float range or not a real number
        fails the trial with the reason (and a warning) instead of recording it.

        A PRUNED or FAIL trial takes no value: a value given with one is refused, and the
        trial stays RUNNING so that it can be told again. A stopped trial's evidence is its
        learning curve, reported step by step (``trial.report(step=, value=)``); a value
        without a step would have to be invented a place on that curve, and a FAIL trial
        has no result (its reason goes in ``error=``).

        Raises:
            TrialError: the trial does not exist, is already finished, belongs to another
                study, or its number is not an int; an unknown state; a value with
                ``state="PRUNED"`` or ``"FAIL"``; ``error=`` without ``state="FAIL"``;
                both ``value`` and ``values``.
        """
        number = self._told_number(trial)
        result, chosen = check_tell(number, value, values, state, error)
        if chosen in (None, TrialState.COMPLETE):
            checked, reason = check_values(result, len(self.directions))
            if reason is None:
                self._storage.finish_trial(
                    self._info.id, number, state=TrialState.COMPLETE, values=checked
                )
            else:
                warnings.warn(f"trial {number} failed: {reason}", stacklevel=2)
                self._storage.finish_trial(
                    self._info.id, number, state=TrialState.FAIL, error=reason
                )
        else:
            self._storage.finish_trial(self._info.id, number, state=chosen, error=error)
        return self.get_trial(number)

    def _told_number(self, trial: Trial | int) -> int:
        if isinstance(trial, Trial):
            if trial.study.name != self.name:
                raise TrialError(
                    f"trial {trial.number} belongs to study {trial.study.name!r}, not "
                    f"{self.name!r}: tell it to its own study"
                )
            return trial.number
        return trial_number(trial, "tell trial")

    # -- running -------------------------------------------------------------------------
    def optimize(
        self,
        objective: Callable[[Trial], Any],
        *,
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
        callbacks: Sequence[Callable[[Study, TrialRecord], None]] | None = None,
        show_progress_bar: bool | None = None,
        max_trials: int | None = None,
        executor: Any = None,
        fail_fast: bool | int = True,
    ) -> None:
        """Run ``objective`` on new trials until ``n_trials`` or ``timeout`` is reached.

        ``n_trials`` counts the trials this call runs; ``max_trials`` stops it when the study
        holds that many trials in all, however many processes or machines work on it (each
        trial is created only while the study is below the limit, in one transaction):
        independent workers started with the same ``max_trials`` finish the study together.
        Enqueued trials are still run.

        ``executor=tuneful.DaskExecutor("tcp://scheduler:8786")`` runs the trials as tasks on
        a Dask cluster (this process proposes them and keeps the workers busy; the storage
        must be one the workers reach).

        An exception in the objective fails that trial (traceback stored) and the study goes
        on; exceptions not matching ``catch`` fail the trial and then propagate. But once 5
        trials of this run failed with the same error and none completed, the run stops with
        RepeatedFailureError (``fail_fast``: an int sets the count, False never stops). Ctrl-C
        or SIGTERM marks the running trial failed and re-raises. ``n_jobs=k`` runs k worker
        processes (threads for ``memory://``, which other processes cannot see).

        Example:
            >>> import tuneful
            >>> study = tuneful.create_study(
            ...     space=tuneful.Space(x=tuneful.Float(-5, 5)), storage="memory://", seed=0)
            >>> study.optimize(lambda t: t.params["x"] ** 2, n_trials=10, show_progress_bar=False)
            >>> len(study.trials)
            10
        """
        from tuneful.execution import run_optimization

        run_optimization(
            self,
            objective,
            n_trials=n_trials,
            timeout=timeout,
            n_jobs=n_jobs,
            catch=catch,
            callbacks=list(callbacks or []),
            show_progress_bar=show_progress_bar,
            max_trials=max_trials,
            executor=executor,
            fail_fast=fail_fast,
        )

    def summary(self) -> StudySummary:
        counts = self._storage.count_trials(self._info.id)
        best: tuple[float, ...] | None = None
        if len(self.directions) == 1 and counts.get("COMPLETE"):
            best = self.best_trial.values
        return StudySummary(
            name=self.name,
            directions=self.directions,
            created_at=self._info.created_at,
            n_trials=sum(counts.values()),
            counts=counts,
            best_values=best,
        )
