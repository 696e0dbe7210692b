"""The live handle an objective receives: parameters, define-by-run suggestions, reports."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from tuneful.errors import SpaceError, TrialError
from tuneful.records import TrialRecord, is_finite_number

if TYPE_CHECKING:
    import numpy as np

    from tuneful.space import Space
    from tuneful.study import Study

__all__ = ["Trial", "Pruned"]


class Pruned(Exception):  # noqa: N818 - reads as "raise tuneful.Pruned"
    """Raised to stop a trial early; the managed loop records it as PRUNED with its curve."""


class Trial:
    """One running trial. Created by :meth:`Study.ask`; finished by :meth:`Study.tell`.

    ``params`` holds the configuration as a plain dict (inactive parameters absent). For
    studies built as the objective runs, ``suggest_float`` / ``suggest_int`` /
    ``suggest_categorical`` add parameters one at a time; each is recorded immediately.
    """

    def __init__(
        self,
        study: Study,
        number: int,
        params: dict[str, Any],
        *,
        rng: np.random.Generator,
        fixed: dict[str, Any] | None = None,
        proposal: tuple[Space, dict[str, Any]] | None = None,
    ) -> None:
        self.study = study
        self.number = number
        self._params = params
        self._rng = rng
        self._fixed = fixed or {}
        self._proposal = proposal
        self._user_attrs: dict[str, Any] = {}
        self._stop_reason: str | None = None
        #: Whether ``report`` raises Pruned when the scheduler stops the trial (the managed
        #: loop); ask/tell users poll ``should_stop`` instead.
        self.raise_when_stopped = False

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self._params!r})"

    @property
    def params(self) -> dict[str, Any]:
        """The configuration so far (a copy)."""
        return dict(self._params)

    @property
    def user_attrs(self) -> dict[str, Any]:
        return dict(self._user_attrs)

    # -- define-by-run -------------------------------------------------------------------
    def suggest_float(
        self, name: str, low: float, high: float, *, log: bool = False, step: float | None = None
    ) -> float:
        """A float in [low, high], log-uniform when ``log``; recorded under ``name``."""
        from tuneful.space import Float

        return float(self._suggest(name, Float(low, high, log=log, step=step)))

    def suggest_int(
        self, name: str, low: int, high: int, *, log: bool = False, step: int = 1
    ) -> int:
        """An int in [low, high] (inclusive); recorded under ``name``."""
        from tuneful.space import Int

        return int(self._suggest(name, Int(low, high, log=log, step=step)))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``; recorded under ``name``."""
        from tuneful.space import Categorical

        return self._suggest(name, Categorical(list(choices)))

    def _suggest(self, name: str, parameter: Any) -> Any:
        from tuneful.space import Space

        if not isinstance(name, str) or not name:
            raise SpaceError(f"parameter name {name!r}: expected a non-empty string")
        if name in self._params:
            return self._params[name]  # set at ask time, or suggested earlier in this trial
        single = Space({name: parameter})
        if name in self._fixed:
            value = single.validate({name: self._fixed[name]})[name]
        elif self._proposal is not None and self._proposed(name) == single[name].to_dict():
            value = self._proposal[1][name]
        else:
            value = single.sample(self._rng, 1)[0][name]
        self.study._record_params(self.number, {name: value}, {name: single[name].to_dict()})
        self._params[name] = value
        return value

    def _proposed(self, name: str) -> dict[str, Any] | None:
        """Definition of the optimizer's proposal for ``name``, if it made one."""
        if self._proposal is None:
            return None
        space, config = self._proposal
        return space[name].to_dict() if name in config else None

    # -- budgets, reports and attributes --------------------------------------------------
    @property
    def budget(self) -> int | None:
        """The budget (a step of the curve) the scheduler lets this trial run to before it
        judges it again: its next rung, or the full budget after the last one. None when the
        study has no scheduler, or the full budget is not known yet."""
        return self.study._budget_of(self.number, None)[0]

    def budgets(self, max_budget: int | None = None) -> Iterator[int]:
        """The budgets to train to, one after the other: each rung of the scheduler, then the
        full budget (``max_budget`` caps it and sets it when the scheduler does not know it).
        Report at each budget before taking the next; the report raises :class:`Pruned` when
        the scheduler stops the trial. Without a scheduler: only ``max_budget``.

        Example (``train_to`` being the user's training code)::

            def objective(trial):
                for epoch in trial.budgets(27):      # 1, 3, 9, 27 under ASHA's defaults
                    loss = train_to(trial.params, epoch)
                    trial.report(step=epoch, value=loss)
                return loss

        Raises:
            TrialError: no budget is known (give ``max_budget``), or the previous budget was
                not reported.
        """
        if max_budget is not None and (
            isinstance(max_budget, bool) or not isinstance(max_budget, int) or max_budget < 1
        ):
            raise TrialError(f"budgets max_budget={max_budget!r}: expected a positive int")
        while True:
            budget, last = self.study._budget_of(self.number, max_budget)
            if budget is None:
                raise TrialError(
                    f"trial {self.number}: the full budget is not known yet; pass it, e.g. "
                    "trial.budgets(max_budget=50), or set max_budget on the scheduler"
                )
            yield budget
            reported = self.study.get_trial(self.number).last_step
            if reported is None or reported < budget:
                raise TrialError(
                    f"trial {self.number}: report at step {budget} (trial.report(step={budget}, "
                    "value=...)) before taking the next budget"
                )
            if last:
                return

    def report(self, *args: Any, step: Any = None, value: Any = None) -> None:
        """Record ``value`` of the learning curve at ``step`` (epoch, iteration, ...), and let
        the study's scheduler judge the trial: ``trial.report(step=epoch, value=loss)``.

        Both arguments are keyword-only: Optuna's ``report(value, step)`` and the reverse order
        read alike when both are numbers, so a positional call is refused rather than guessed.

        Raises:
            TrialError: arguments given by position, ``step`` is not a non-negative int or
                ``value`` is not a finite number.
            Pruned: the scheduler stopped the trial (in ``study.optimize``; ask/tell users
                call :meth:`should_stop`). The reason is in ``system_attrs["pruned"]``.
        """
        if args:
            raise TrialError(
                f"trial.report{tuple(args)!r}: pass the step and the value by keyword, "
                "trial.report(step=epoch, value=metric) (Optuna's order is report(value, step); "
                "tuneful takes keywords so that neither order is misread)"
            )
        if step is None or value is None:
            raise TrialError("trial.report needs step= and value=, e.g. report(step=3, value=0.1)")
        if isinstance(step, bool) or not isinstance(step, int | float) or step != int(step):
            raise TrialError(f"report step={step!r}: expected a non-negative integer")
        if int(step) < 0:
            raise TrialError(f"report step={step!r}: expected a non-negative integer")
        if not is_finite_number(value):
            raise TrialError(f"report value={value!r} at step {step}: expected a finite number")
        self.study._record(self.number, "reported", {"step": int(step), "value": float(value)})
        if self._stop_reason is not None:
            return
        decision = self.study._judge(self.number)
        if decision is not None and decision.stop:
            self._stop_reason = decision.reason
            if self.raise_when_stopped:
                raise Pruned(f"trial {self.number} stopped: {decision.reason}")

    def should_stop(self) -> bool:
        """Whether the study's scheduler has stopped this trial (ask/tell users poll this and
        then ``study.tell(trial, state="PRUNED")``)."""
        return self._stop_reason is not None

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable value to the trial."""
        _check_json(key, value)
        self.study._record(self.number, "user_attr", {"key": key, "value": value})
        self._user_attrs[key] = value

    def record(self) -> TrialRecord:
        """The trial as the storage has it now."""
        return self.study.get_trial(self.number)


def _check_json(key: Any, value: Any) -> None:
    if not isinstance(key, str):
        raise TrialError(f"attribute key {key!r}: expected a string")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TrialError(
            f"attribute {key!r}={value!r} is not JSON-serializable (finite numbers, strings, "
            f"lists, dicts): {exc}"
        ) from None


def check_values(result: Any, n_objectives: int) -> tuple[tuple[float, ...] | None, str | None]:
    """Validate what an objective returned: (values, None) or (None, reason to fail)."""
    if result is None:
        return None, "objective returned None; expected a number"
    items = list(result) if isinstance(result, list | tuple) else [result]
    if len(items) != n_objectives:
        return None, (
            f"objective returned {len(items)} value(s) {result!r}; the study has "
            f"{n_objectives} direction(s)"
        )
    values = []
    for item in items:
        if (
            isinstance(item, bool)
            or not isinstance(item, int | float)
            and not _is_numpy_number(item)
        ):
            return None, f"objective returned {item!r} ({type(item).__name__}); expected a number"
        number = float(item)
        if not math.isfinite(number):
            return None, f"objective returned {number}; expected a finite number"
        values.append(number)
    return tuple(values), None


def _is_numpy_number(value: Any) -> bool:
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return False
    return isinstance(value, np.integer | np.floating) or (
        isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf"
    )
