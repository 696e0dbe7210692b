"""The face users touch: a study's identity, its trials and best results, ask and tell,
optimize. The work is done below it, by the study's :class:`~tuneful.execution.engine.Engine`;
``create_study`` and friends (``tuneful.create_study``) build studies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tuneful._ported import missing_attribute
from tuneful.errors import SpaceError, StudyError, TrialError
from tuneful.execution.engine import Engine
from tuneful.execution.runner import run_optimization
from tuneful.optimizers import Optimizer
from tuneful.records import StudySummary, TrialRecord, TrialState, pareto_front
from tuneful.schedulers import Scheduler
from tuneful.space import Space
from tuneful.storage import Storage, StudyInfo
from tuneful.storage.urls import redact_url
from tuneful.trial import Trial, check_json, trial_number

if TYPE_CHECKING:
    import pandas

__all__ = ["Study", "no_feasible_message"]


class Study:
    """A named optimization: its space, directions, optimizer and every trial, in storage.

    Build one with :func:`tuneful.create_study` or :func:`tuneful.load_study`, not directly.
    """

    def __init__(
        self,
        info: StudyInfo,
        storage: Storage,
        optimizer: Optimizer,
        scheduler: Scheduler | None = None,
    ) -> None:
        self._engine = Engine(info, storage, optimizer, scheduler, face_factory=type(self).over)
        self._engine.face = self

    @classmethod
    def over(cls, engine: Engine) -> Study:
        """The face over ``engine`` (a worker thread's or process's own engine)."""
        study = cls.__new__(cls)
        study._engine = engine
        engine.face = study
        return study

    # -- identity ------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """What runs the study's trials (trials and workers talk to it, not to the study)."""
        return self._engine

    @property
    def name(self) -> str:
        return self._engine.name

    @property
    def storage(self) -> Storage:
        return self._engine.storage

    @property
    def storage_url(self) -> str:
        """The storage's URL as it may be shown: a password is replaced by ``***``."""
        return redact_url(self._engine.storage.url)

    @property
    def space(self) -> Space | None:
        """The search space, or None for define-by-run studies."""
        return self._engine.space

    @property
    def optimizer(self) -> Optimizer:
        return self._engine.optimizer

    @property
    def scheduler(self) -> Scheduler:
        return self._engine.scheduler

    @property
    def directions(self) -> tuple[str, ...]:
        return self._engine.directions

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
        return self._engine.seed

    @property
    def settings(self) -> dict[str, Any]:
        """What the study was created with (optimizer, seed, retries, heartbeats)."""
        return dict(self._engine.settings)

    @property
    def retries(self) -> int:
        return self._engine.retries

    @property
    def heartbeat_interval(self) -> float | None:
        return self._engine.heartbeat_interval

    @property
    def grace_period(self) -> float | None:
        return self._engine.grace_period

    def __repr__(self) -> str:
        return (
            f"Study(name={self.name!r}, directions={self.directions}, storage={self.storage_url!r})"
        )

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute("Study", name)

    # -- reading -------------------------------------------------------------------------
    @property
    def trials(self) -> list[TrialRecord]:
        """Every trial, by number (frozen records)."""
        return self._engine.trials()

    def get_trials(self, states: Iterable[TrialState | str] | None = None) -> list[TrialRecord]:
        """Trials, optionally only those in ``states``."""
        trials = self.trials
        if states is None:
            return trials
        wanted = {TrialState(s) for s in states}
        return [t for t in trials if t.state in wanted]

    def get_trial(self, number: int) -> TrialRecord:
        number = trial_number(number, "get_trial number")
        engine = self._engine
        engine.refresh()
        if not 0 <= number < len(engine.replica):
            raise TrialError(f"study {self.name!r} has no trial number {number}")
        return engine.replica.trial(number)

    @property
    def user_attrs(self) -> dict[str, Any]:
        self._engine.refresh()
        return dict(self._engine.replica.study_attrs)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable attribute to the study."""
        check_json(key, value)
        self._engine.storage.set_study_attr(self._engine.study_id, key, value)

    def _completed(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.state is TrialState.COMPLETE and t.values is not None]

    @property
    def best_trial(self) -> TrialRecord:
        """The best feasible COMPLETE trial (earliest on ties). Single-objective studies only:
        with several objectives there is no single best, and ``best_trials`` is the Pareto
        front. A trial told with constraints is feasible when every value is <= 0; a trial
        without constraints always is.

        Raises:
            StudyError: no trial has completed, none of those that have is feasible (the
                message names the trial that violates its constraints least), or the study
                has several objectives.
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
        feasible = [t for t in completed if t.feasible]
        if not feasible:
            raise StudyError(no_feasible_message(self.name, completed))
        sign = 1.0 if direction == "minimize" else -1.0
        return min(feasible, key=lambda t: (sign * t.values[0], t.number))  # type: ignore[index]

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
        """The Pareto front of feasible COMPLETE trials (for one objective: the best
        trial(s)); empty when no trial is feasible (``best_trial`` says which comes
        closest)."""
        return pareto_front(self._completed(), self.directions)

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per trial: number, state, value(s), params_*, user_attrs_*, system_attrs_*
        (e.g. ``system_attrs_optimizer``: which optimizer ``auto`` used), times, error; in a
        study with constraints, ``constraints_0``, ``constraints_1``, ... and ``feasible``.

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
        space = self._engine.space
        clean = dict(params) if space is None else space.validate(params, partial=True)
        check_json("params", clean)
        for key, value in (user_attrs or {}).items():
            check_json(key, value)
        return self._engine.enqueue(clean, user_attrs)

    def fail_stale_trials(self) -> list[int]:
        """Fail RUNNING trials whose worker stopped heartbeating (and re-enqueue per retries)."""
        return self._engine.fail_stale()

    def fail_trial(self, trial: Trial | int, error: str) -> bool:
        """Fail a RUNNING trial whose run was cut short, as a trial whose worker died is
        failed: with ``error`` as its reason, and queued again (a WAITING copy of its
        parameters, run before new ones) while its chain of retries is shorter than the
        study's ``retries``. ``optimize`` fails a trial this way when Ctrl-C or SIGTERM stops
        it; this is for code that finds such a trial later (a run that was killed).

        Returns False, writing nothing, when the trial is not RUNNING (finished or failed
        meanwhile).

        Raises:
            TrialError: the trial does not exist or belongs to another study, its number is
                not an int, or ``error`` is not a non-empty string.
        """
        number = self._told_number(trial, "fail_trial trial")
        if not isinstance(error, str) or not error.strip():
            raise TrialError(
                f"fail_trial trial {number} error={error!r}: expected a non-empty string "
                "saying why the trial failed"
            )
        self.get_trial(number)  # TrialError when there is no such trial
        return self._engine.fail_trial(number, error)

    def ask(self, fixed_params: Mapping[str, Any] | None = None) -> Trial:
        """Start a trial: an enqueued configuration if any waits, else the optimizer's pick.

        Args:
            fixed_params: values to use for some parameters (validated); the rest come from
                the optimizer.
        """
        return self._engine.ask(fixed_params)

    def tell(
        self,
        trial: Trial | int,
        value: Any = None,
        *,
        values: Sequence[float] | None = None,
        state: TrialState | str | None = None,
        error: str | None = None,
        constraints: Sequence[Any] | None = None,
    ) -> TrialRecord:
        """Finish a trial with its value(s), or with ``state="PRUNED"`` / ``"FAIL"``.

        ``constraints``: one value per constraint, satisfied when <= 0 (Optuna's
        convention), e.g. ``[memory_gb - 16]``; stored with the trial. Only feasible trials
        (every value <= 0) count for ``best_trial`` and ``best_trials``. Every completed
        trial of a study gives as many as the first one did (none: none). Without
        ``constraints=``, a completed Trial takes those set with ``trial.set_constraints``
        (a PRUNED or FAIL one drops them).

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
                both ``value`` and ``values``; constraints that are not finite numbers,
                given with ``state="PRUNED"`` or ``"FAIL"``, or not as many as the study's
                completed trials carry (the trial then stays RUNNING, to be told again).
        """
        number = self._told_number(trial, "tell trial")
        completes = state is None or str(state).upper() == TrialState.COMPLETE.value
        if constraints is None and completes and isinstance(trial, Trial):
            constraints = trial.constraints  # set with trial.set_constraints
        return self._engine.tell(
            number, value, values=values, state=state, error=error, constraints=constraints
        )

    def _told_number(self, trial: Trial | int, label: str) -> int:
        if isinstance(trial, Trial):
            owner = trial._engine.name
            if owner != self.name:
                raise TrialError(
                    f"trial {trial.number} belongs to study {owner!r}, not "
                    f"{self.name!r}: tell it to its own study"
                )
            return trial.number
        return trial_number(trial, label)

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
        or SIGTERM fails the running trial (queued again per ``retries``, as a trial whose
        worker died) and re-raises. ``n_jobs=k`` runs k worker
        processes (threads for ``memory://``, which other processes cannot see).

        Example:
            >>> import tuneful
            >>> study = tuneful.create_study(
            ...     space=tuneful.Space(x=tuneful.Float(-5, 5)), storage="memory://", seed=0)
            >>> study.optimize(lambda t: t.params["x"] ** 2, n_trials=10, show_progress_bar=False)
            >>> len(study.trials)
            10
        """
        run_optimization(
            self._engine,
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
        counts = self._engine.storage.count_trials(self._engine.study_id)
        best: tuple[float, ...] | None = None
        if len(self.directions) == 1 and counts.get("COMPLETE"):
            feasible = [t for t in self._completed() if t.feasible]
            best = self.best_trial.values if feasible else None
        return StudySummary(
            name=self.name,
            directions=self.directions,
            created_at=self._engine.info.created_at,
            n_trials=sum(counts.values()),
            counts=counts,
            best_values=best,
        )


def no_feasible_message(name: str, completed: Sequence[TrialRecord]) -> str:
    """Why a study with completed trials has no best one: none is feasible; names the trial
    that violates its constraints least (earliest on ties)."""
    closest = min(completed, key=lambda t: (t.violation, t.number))
    shown = ", ".join(f"{c:.6g}" for c in closest.constraints or ())
    return (
        f"study {name!r}: no feasible trial among {len(completed)} completed: the smallest "
        f"violation is trial {closest.number} (total {closest.violation:.6g}; constraints "
        f"[{shown}], each satisfied when <= 0)"
    )
