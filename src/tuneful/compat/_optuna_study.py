"""Optuna's ``Study`` and ``Trial`` over tuneful's: the faces an Optuna script talks to."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tuneful._lifecycle import load_study
from tuneful.compat._optuna_choices import BasePruner, BaseSampler, GridSampler
from tuneful.compat._optuna_objects import (
    FrozenTrial,
    StudyDirection,
    TrialState,
    finished_of,
    frozen_of,
)
from tuneful.compat._write import write_trial
from tuneful.errors import StudyError, TrialError
from tuneful.records import TrialRecord
from tuneful.storage import MemoryStorage
from tuneful.study import Study as NativeStudy
from tuneful.trial import Pruned
from tuneful.trial import Trial as NativeTrial

if TYPE_CHECKING:
    import pandas

__all__ = ["Study", "Trial"]

_DATAFRAME_ATTRS = (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params",
    "user_attrs",
    "system_attrs",
    "state",
)


def _unmapped(owner: str, name: str, native: str) -> AttributeError:
    """A name of Optuna's this layer does not map (or a typo): say where tuneful's API is."""
    return AttributeError(
        f"tuneful.compat.optuna {owner} has no attribute {name!r}: it maps the common part "
        f"of Optuna's API (docs/from-optuna.md); for the rest use {native}"
    )


def _as_pruned(exc: BaseException) -> bool:
    """Optuna's own TrialPruned (raised by code that imports optuna itself)."""
    return type(exc).__name__ == "TrialPruned" and type(exc).__module__.startswith("optuna")


class Trial:
    """Optuna's ``Trial`` over a running tuneful trial (:attr:`native`)."""

    def __init__(self, native: NativeTrial, study: Study) -> None:
        self.native = native
        self.study = study
        self._constraints: dict[str, float] = {}
        native.raise_when_stopped = False  # Optuna's report never raises: should_prune asks

    def __getattr__(self, name: str) -> Any:
        raise _unmapped("Trial", name, "trial.native (a tuneful.Trial)")

    @property
    def number(self) -> int:
        return self.native.number

    @property
    def params(self) -> dict[str, Any]:
        return self.native.params

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self.native.user_attrs

    @property
    def distributions(self) -> dict[str, Any]:
        return frozen_of(self.native.record(), self.study.native.space).distributions

    @property
    def datetime_start(self) -> Any:
        return frozen_of(self.native.record()).datetime_start

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        if step is not None and not log and high > low:
            high = low + ((high - low) // step) * step  # Optuna trims high to the grid
        return self.native.suggest_float(name, low, high, log=log, step=step)

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, log: bool = False) -> int:
        if step > 1 and high > low:
            high = low + ((high - low) // step) * step
        return self.native.suggest_int(name, low, high, step=step, log=log)

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        return self.native.suggest_categorical(name, choices)

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        return self.suggest_float(name, low, high, step=q)

    def report(self, value: float, step: int) -> None:
        """Optuna's order: ``report(value, step)``."""
        self.native.report(step=step, value=value)

    def should_prune(self) -> bool:
        return self.native.should_stop()

    def set_user_attr(self, key: str, value: Any) -> None:
        self.native.set_user_attr(key, value)

    def set_constraint(self, key: str, value: float) -> None:
        """Optuna 5's named constraint (feasible when <= 0); stored with the trial's value in
        the order they were set (a key set again is ignored, as Optuna does)."""
        if key in self._constraints:
            return
        self._constraints[key] = value
        self.native.set_constraints(list(self._constraints.values()))


class _Stopped(Exception):  # noqa: N818 - internal signal of study.stop()
    pass


class Study:
    """Optuna's ``Study`` over a tuneful study (:attr:`native`)."""

    def __init__(
        self, native: NativeStudy, sampler: BaseSampler | None, pruner: BasePruner | None
    ) -> None:
        self.native = native
        self.sampler = sampler
        self.pruner = pruner
        self._stop = threading.Event()

    def __getattr__(self, name: str) -> Any:
        raise _unmapped("Study", name, "study.native (a tuneful.Study)")

    # -- identity --------------------------------------------------------------------------
    @property
    def study_name(self) -> str:
        return self.native.name

    @property
    def directions(self) -> list[StudyDirection]:
        return [StudyDirection[d.upper()] for d in self.native.directions]

    @property
    def direction(self) -> StudyDirection:
        if len(self.native.directions) != 1:
            raise RuntimeError("a multi-objective study has no single direction: read directions")
        return self.directions[0]

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self.native.user_attrs

    def set_user_attr(self, key: str, value: Any) -> None:
        self.native.set_user_attr(key, value)

    # -- reading ---------------------------------------------------------------------------
    def _frozen(self, record: TrialRecord) -> FrozenTrial:
        return frozen_of(record, self.native.space)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self.get_trials()

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        del deepcopy  # every FrozenTrial here is a fresh copy
        found = [self._frozen(r) for r in self.native.trials]
        return found if states is None else [t for t in found if t.state in states]

    @property
    def best_trial(self) -> FrozenTrial:
        return self._frozen(self.native.best_trial)

    @property
    def best_value(self) -> float:
        return self.native.best_value

    @property
    def best_params(self) -> dict[str, Any]:
        return self.native.best_params

    @property
    def best_trials(self) -> list[FrozenTrial]:
        return [self._frozen(r) for r in self.native.best_trials]

    def trials_dataframe(
        self, attrs: tuple[str, ...] = _DATAFRAME_ATTRS, multi_index: bool = False
    ) -> pandas.DataFrame:
        """Optuna's columns: ``number``, ``value`` (``values_0``, ... with several
        objectives), ``datetime_start``, ``datetime_complete``, ``duration``, ``params_<name>``,
        ``user_attrs_<key>``, ``system_attrs_<key>``, ``state`` (its name)."""
        import pandas as pd

        trials = self.trials
        if not trials:
            return pd.DataFrame()
        several = len(self.native.directions) > 1
        attrs = tuple("values" if a == "value" and several else a for a in attrs)
        records, columns = [], []
        seen: dict[str, set[tuple[str, Any]]] = {a: set() for a in attrs}
        for trial in trials:
            row: dict[tuple[str, Any], Any] = {}
            for attr in attrs:
                for key, value in _cells(trial, attr, len(self.native.directions)):
                    row[(attr, key)] = value
                    seen[attr].add((attr, key))
            records.append(row)
        for attr in attrs:
            columns.extend(sorted(seen[attr], key=lambda c: str(c[1])))
        frame = pd.DataFrame(records, columns=pd.MultiIndex.from_tuples(columns))
        if not multi_index:
            frame.columns = ["_".join(str(p) for p in col if p != "") for col in columns]
        return frame

    # -- writing ---------------------------------------------------------------------------
    def enqueue_trial(
        self,
        params: Mapping[str, Any],
        user_attrs: Mapping[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> None:
        if skip_if_exists and any(dict(r.params) == dict(params) for r in self.native.trials):
            return
        self.native.enqueue(params, user_attrs=user_attrs)

    def add_trial(self, trial: FrozenTrial) -> None:
        """Store a finished trial (made with ``create_trial``) as it is."""
        engine = self.native.engine
        write_trial(engine.storage, engine.study_id, finished_of(trial))

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        for trial in trials:
            self.add_trial(trial)

    def ask(self, fixed_distributions: Mapping[str, Any] | None = None) -> Trial:
        if fixed_distributions:
            raise StudyError(
                "ask(fixed_distributions=...): tuneful.compat.optuna cannot map it; call "
                "trial.suggest_*() for each parameter after ask()"
            )
        return Trial(self.native.ask(), self)

    def tell(
        self,
        trial: Trial | int,
        values: float | Sequence[float] | None = None,
        state: TrialState | None = None,
        skip_if_finished: bool = False,
    ) -> FrozenTrial:
        number = trial.number if isinstance(trial, Trial) else trial
        if skip_if_finished and self.native.get_trial(number).state.is_finished:
            return self._frozen(self.native.get_trial(number))
        name = None if state is None else TrialState(state).name
        if name in ("PRUNED", "FAIL"):
            return self._frozen(self.native.tell(number, state=name))
        if values is None:
            raise TrialError(f"tell trial {number}: give values= (or state=PRUNED / FAIL)")
        if isinstance(values, Sequence):
            return self._frozen(self.native.tell(number, values=[float(v) for v in values]))
        return self._frozen(self.native.tell(number, values))

    def stop(self) -> None:
        """Stop ``optimize`` once the trials running now have finished."""
        self._stop.set()

    # -- running ---------------------------------------------------------------------------
    def _objective(self, func: Callable[[Trial], Any]) -> Callable[[NativeTrial], Any]:
        constraints_func = None if self.sampler is None else self.sampler.constraints_func

        def objective(native: NativeTrial) -> Any:
            trial = Trial(native, self)
            try:
                result = func(trial)
            except Exception as exc:
                if _as_pruned(exc):
                    raise Pruned(str(exc)) from exc
                raise
            if constraints_func is not None:
                values = result if isinstance(result, Sequence) else [result]
                native.set_constraints(list(constraints_func(_running(native, values))))
            return result

        return objective

    def _hook(
        self, callbacks: Sequence[Callable[[Study, FrozenTrial], None]], collect: bool
    ) -> Callable[[NativeStudy, TrialRecord], None]:
        def hook(native: NativeStudy, record: TrialRecord) -> None:
            del native
            frozen = self._frozen(record)
            for callback in callbacks:
                callback(self, frozen)
            if collect:
                gc.collect()
            if self._stop.is_set() or self._grid_done():
                raise _Stopped

        return hook

    def _grid_done(self) -> bool:
        if not isinstance(self.sampler, GridSampler):
            return False
        counts = self.native.storage.count_trials(self.native.engine.study_id)
        return not counts.get("WAITING") and not counts.get("RUNNING")

    def optimize(
        self,
        func: Callable[[Trial], Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: Iterable[type[Exception]] | type[Exception] = (),
        callbacks: Sequence[Callable[[Study, FrozenTrial], None]] | None = None,
        gc_after_trial: bool = False,
        show_progress_bar: bool = False,
    ) -> None:
        """Optuna's ``optimize``: exceptions not in ``catch`` fail the trial and stop the
        run (none is caught by default); ``callbacks`` get ``(study, frozen_trial)``;
        ``study.stop()`` ends the run after the trials running now; ``n_jobs=k`` runs k
        threads in this process, as Optuna does."""
        caught = (catch,) if isinstance(catch, type) else tuple(catch)
        self._stop.clear()
        if self._grid_done() and isinstance(self.sampler, GridSampler):
            return
        objective = self._objective(func)
        hook = self._hook(list(callbacks or []), gc_after_trial)
        try:
            if n_jobs == 1:
                self.native.optimize(
                    objective,
                    n_trials=n_trials,
                    timeout=timeout,
                    catch=caught,
                    callbacks=[hook],
                    show_progress_bar=show_progress_bar,
                    fail_fast=False,
                )
            else:
                self._threads(objective, hook, n_trials, timeout, n_jobs, caught)
        except _Stopped:
            pass
        finally:
            self._stop.clear()

    def _threads(
        self,
        objective: Callable[[NativeTrial], Any],
        hook: Callable[[NativeStudy, TrialRecord], None],
        n_trials: int | None,
        timeout: float | None,
        n_jobs: int,
        caught: tuple[type[BaseException], ...],
    ) -> None:
        """Optuna's ``n_jobs``: threads sharing the objective, each over its own tuneful
        study object (its own replica and connection), one trial per take."""
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise StudyError(f"n_jobs={n_jobs!r}: expected a positive int, or -1 for one per CPU")
        jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
        deadline = None if timeout is None else time.time() + timeout
        lock, taken = threading.Lock(), [0]
        errors: list[BaseException] = []
        storage = self.native.storage
        shared = isinstance(storage, MemoryStorage)

        def take() -> bool:
            with lock:
                if errors or self._stop.is_set():
                    return False
                if deadline is not None and time.time() >= deadline:
                    return False
                if n_trials is not None and taken[0] >= n_trials:
                    return False
                taken[0] += 1
                return True

        def work() -> None:
            own = load_study(self.native.name, storage=storage if shared else storage.url)
            try:
                while take():
                    own.optimize(
                        objective,
                        n_trials=1,
                        catch=caught,
                        callbacks=[hook],
                        show_progress_bar=False,
                        fail_fast=False,
                    )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]


def _running(native: NativeTrial, values: Sequence[Any]) -> FrozenTrial:
    """The trial as ``constraints_func`` sees it: its parameters and the values it returned."""
    frozen = frozen_of(native.record())
    frozen.state = TrialState.COMPLETE
    frozen.values = [float(v) for v in values]
    return frozen


def _cells(trial: FrozenTrial, attr: str, n_objectives: int) -> list[tuple[Any, Any]]:
    """The cells of one attribute of a trial in ``trials_dataframe``: (sub-column, value)."""
    value = getattr(trial, attr)
    if isinstance(value, TrialState):
        return [("", value.name)]
    if attr == "values":
        told = [None] * n_objectives if value is None else value
        return list(enumerate(told))
    if isinstance(value, dict):
        return list(value.items())
    return [("", value)]
