"""The live handle an objective receives: parameters, define-by-run suggestions, reports."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful._ported import missing_attribute
from tuneful.errors import SpaceError, TrialError, did_you_mean
from tuneful.records import TrialRecord, TrialState, as_finite_float, short_repr

if TYPE_CHECKING:
    from tuneful.execution.engine import Engine
    from tuneful.space import Parameter, Space
    from tuneful.study import Study

__all__ = [
    "Trial",
    "Pruned",
    "check_values",
    "check_tell",
    "check_constraints",
    "check_json",
    "trial_number",
]


class Pruned(Exception):  # noqa: N818 - reads as "raise tuneful.Pruned"
    """Raised to stop a trial early; the managed loop records it as PRUNED with its curve."""


class Trial:
    """One running trial. Created by :meth:`Study.ask`; finished by :meth:`Study.tell`.

    It talks to the study's engine (:class:`tuneful.execution.engine.Engine`), which
    records what it reports; ``study`` is the Study the user holds.

    ``params`` holds the configuration as a plain dict (inactive parameters absent). For
    studies built as the objective runs, ``suggest_float`` / ``suggest_int`` /
    ``suggest_categorical`` add parameters one at a time; each is recorded immediately.
    :meth:`set_constraints` gives the constraint values stored with the trial's value.
    """

    def __init__(
        self,
        engine: Engine,
        number: int,
        params: dict[str, Any],
        *,
        rng: np.random.Generator,
        fixed: dict[str, Any] | None = None,
        proposal: tuple[Space, dict[str, Any]] | None = None,
    ) -> None:
        self._engine = engine
        self.number = number
        self._params = params
        self._rng = rng
        self._fixed = fixed or {}
        self._proposal = proposal
        self._user_attrs: dict[str, Any] = {}
        self._definitions: dict[str, Parameter] = {}  # define-by-run: name -> first definition
        self._drew_at_random = False
        self._stop_reason: str | None = None
        self._constraints: tuple[float, ...] | None = None
        #: Whether ``report`` raises Pruned when the scheduler stops the trial (the managed
        #: loop); ask/tell users poll ``should_stop`` instead.
        self.raise_when_stopped = False

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, params={self._params!r})"

    def __getattr__(self, name: str) -> Any:
        raise missing_attribute("Trial", name)

    @property
    def study(self) -> Study:
        """The study this trial belongs to (the :class:`~tuneful.study.Study` users hold)."""
        return self._engine.face

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
        """A float in [low, high], log-uniform when ``log``; recorded under ``name``.

        In a study with a declared space, returns the trial's value of ``name``, which the
        space must define the same way (see :meth:`_suggest`).
        """
        from tuneful.space import Float

        return float(self._suggest(name, lambda: Float(low, high, log=log, step=step)))

    def suggest_int(
        self, name: str, low: int, high: int, *, log: bool = False, step: int = 1
    ) -> int:
        """An int in [low, high] (inclusive); recorded under ``name``."""
        from tuneful.space import Int

        return int(self._suggest(name, lambda: Int(low, high, log=log, step=step)))

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``; recorded under ``name``."""
        from tuneful.space import Categorical

        return self._suggest(name, lambda: Categorical(list(choices)))

    def _suggest(self, name: str, build: Callable[[], Parameter]) -> Any:
        """The value of parameter ``name`` under the definition ``build`` makes.

        Raises:
            SpaceError: the definition is invalid; ``name`` was suggested earlier in this
                trial with another definition; or the study has a declared space that does
                not define ``name`` this way, or in which ``name`` is inactive in this trial.
        """
        from tuneful.space import Space

        if not isinstance(name, str) or not name:
            raise SpaceError(f"parameter name {name!r}: expected a non-empty string")
        try:
            parameter = build()
        except SpaceError as exc:
            raise SpaceError(f"parameter {name!r}: {exc}") from None
        if self._engine.space is not None:
            return self._declared(self._engine.space, name, parameter)
        first = self._definitions.get(name)
        if first is not None:
            if first != parameter:
                raise SpaceError(
                    f"parameter {name!r} is suggested twice in trial {self.number} with "
                    f"different definitions: first {first!r}, now {parameter!r} (a name "
                    "stands for one parameter; use another name for the other one)"
                )
            return self._params[name]
        single = Space({name: parameter})
        if name in self._fixed:
            value = single.validate({name: self._fixed[name]})[name]
        elif self._proposal is not None and self._proposed(name) == single[name].to_dict():
            value = self._proposal[1][name]
        else:
            value = single.sample(self._rng, 1)[0][name]
            if self._proposal is None and not self._drew_at_random:
                # No model proposed this trial (the study's first, or one asked before
                # any parameter was seen): say so, as other trials name their optimizer.
                self._drew_at_random = True
                self._engine.record(
                    self.number, "system_attr", {"key": "optimizer", "value": "random"}
                )
        self._engine.record_params(self.number, {name: value}, {name: single[name].to_dict()})
        self._params[name] = value
        self._definitions[name] = parameter
        return value

    def _declared(self, space: Space, name: str, parameter: Parameter) -> Any:
        """The trial's value of ``name`` from the study's declared space."""
        if name not in space:
            raise SpaceError(
                f"parameter {name!r} is not in the study's space (parameters: "
                f"{list(space.names)}){did_you_mean(name, space.names)}; a study created "
                "with space= proposes every parameter at ask time: add it to the space, or "
                "create the study without space= to define the space in the objective"
            )
        declared = space[name]
        if _definition(declared) != _definition(parameter):
            raise SpaceError(
                f"parameter {name!r}: suggested as {parameter!r}, but the study's space "
                f"defines it as {declared!r}; suggest it as the space defines it, or read "
                f"trial.params[{name!r}]"
            )
        if name not in self._params:
            raise SpaceError(
                f"parameter {name!r} is inactive in trial {self.number} (its condition "
                f"when={declared.when!r} does not hold for {self._params!r}); check the "
                f"condition, or read trial.params.get({name!r})"
            )
        return self._params[name]

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
        return self._engine.budget_of(self.number, None)[0]

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
            budget, last = self._engine.budget_of(self.number, max_budget)
            if budget is None:
                raise TrialError(
                    f"trial {self.number}: the full budget is not known yet; pass it, e.g. "
                    "trial.budgets(max_budget=50), or set max_budget on the scheduler"
                )
            yield budget
            reported = self._engine.trial(self.number).last_step
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
        if not _is_step(step):
            raise TrialError(f"report step={short_repr(step)}: expected a non-negative integer")
        number, reason = as_finite_float(value)
        if number is None:
            raise TrialError(
                f"report value={short_repr(value)} at step {step}: {reason}; expected a finite "
                "number"
            )
        self._engine.record(self.number, "reported", {"step": int(step), "value": number})
        if self._stop_reason is not None:
            return
        decision = self._engine.judge(self.number)
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
        check_json(key, value)
        self._engine.record(self.number, "user_attr", {"key": key, "value": value})
        self._user_attrs[key] = value

    def set_constraints(self, constraints: Sequence[Any]) -> None:
        """Give the trial's constraint values, told with its value when it completes: each
        a finite number, satisfied when <= 0 (Optuna's convention), e.g. ``[memory_gb - 16,
        latency_ms - 50]``. Call it before the objective returns; a later call replaces the
        earlier one. Every completed trial of a study gives the same number of them.

        In ``study.optimize`` they are stored with the returned value. A trial that is
        pruned (raises :class:`Pruned`) or fails keeps none: only a completed trial has an
        outcome to judge. With ask and tell, ``study.tell(trial, value)`` takes the values
        set here when it is not given ``constraints=`` itself.

        Raises:
            TrialError: not a list of finite numbers (NaN, infinities, strings are refused).
        """
        self._constraints = check_constraints(self.number, constraints)

    @property
    def constraints(self) -> tuple[float, ...] | None:
        """The constraint values given with :meth:`set_constraints` (None: none given)."""
        return self._constraints

    def record(self) -> TrialRecord:
        """The trial as the storage has it now."""
        return self._engine.trial(self.number)


def trial_number(number: Any, label: str) -> int:
    """A trial number given by the user as an int (numpy ints too); 14.9 is not one."""
    if isinstance(number, bool | np.bool_) or not isinstance(number, int | np.integer):
        raise TrialError(
            f"{label}={short_repr(number)}: expected a trial number (an int) or a Trial"
        )
    return int(number)


def _told_state(state: TrialState | str | None) -> TrialState | None:
    """The state ``tell`` was given: COMPLETE, PRUNED or FAIL (any case), or None."""
    if state is None:
        return None
    try:
        chosen = TrialState(state.upper() if isinstance(state, str) else state)
    except ValueError:
        chosen = None
    if chosen not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL):
        raise TrialError(f"tell state={state!r}: expected COMPLETE, PRUNED or FAIL")
    return chosen


def check_tell(
    number: int,
    value: Any,
    values: Any,
    state: TrialState | str | None,
    error: str | None,
    constraints: Any = None,
) -> tuple[Any, TrialState | None]:
    """What ``Study.tell`` was given, checked: (the value(s), the state or None).

    Raises:
        TrialError: see :meth:`Study.tell`.
    """
    chosen = _told_state(state)
    if chosen in (TrialState.PRUNED, TrialState.FAIL) and constraints is not None:
        raise TrialError(
            f"tell trial {number}: a {chosen.value} trial takes no constraints (got "
            f"{short_repr(constraints)}): only a completed trial has an outcome to judge"
        )
    if value is not None and values is not None:
        raise TrialError(f"tell trial {number}: pass value= or values=, not both")
    result = values if values is not None else value
    if chosen in (TrialState.PRUNED, TrialState.FAIL) and result is not None:
        raise TrialError(
            f"tell trial {number}: a {chosen.value} trial takes no value (got "
            f"{short_repr(result)}). A PRUNED trial keeps its reported curve: "
            "trial.report(step=..., value=...) first, then tell(trial, state='PRUNED'); "
            "a FAIL trial keeps its reason: tell(trial, state='FAIL', error='why')"
        )
    if error is not None and chosen is not TrialState.FAIL:
        raise TrialError(
            f"tell trial {number}: error= is kept only for state='FAIL' (got state="
            f"{'COMPLETE' if chosen is None else chosen.value})"
        )
    return result, chosen


def check_constraints(
    number: int, constraints: Any, expected: int | None = None
) -> tuple[float, ...]:
    """Constraint values told for trial ``number``, checked: a list, tuple or 1-d array of
    finite numbers (see :func:`tuneful.records.as_finite_float`), ``expected`` of them when
    the study already fixed their count.

    Raises:
        TrialError: not a sequence, a value that is not a finite number (NaN, infinities,
            bools, strings), or a count other than ``expected``.
    """
    if isinstance(constraints, str | bytes) or not (
        isinstance(constraints, list | tuple) or (_is_array(constraints) and constraints.ndim == 1)
    ):
        raise TrialError(
            f"trial {number} constraints={short_repr(constraints)}: expected a list of "
            "numbers, each satisfied when <= 0, e.g. [memory_gb - 16]"
        )
    checked = []
    for i, item in enumerate(constraints):
        value, reason = as_finite_float(item)
        if value is None:
            raise TrialError(
                f"trial {number} constraint {i} = {short_repr(item)}: {reason}; expected a "
                "finite number (<= 0 when satisfied)"
            )
        checked.append(value)
    if not checked:
        raise TrialError(
            f"trial {number} constraints=[]: expected at least one value (leave constraints "
            "out for a trial without constraints)"
        )
    if expected is not None and len(checked) != expected:
        raise TrialError(_count_mismatch(number, len(checked), expected))
    return tuple(checked)


def _count_mismatch(number: int, told: int, expected: int) -> str:
    given = "no constraint values" if told == 0 else f"{told} constraint value(s)"
    fixed = (
        "none (its first completed trial was told without constraints)"
        if expected == 0
        else f"{expected} (fixed by its first completed trial)"
    )
    return (
        f"trial {number} was told {given}; every completed trial of this study carries "
        f"{fixed}: tell the same constraints in every trial"
    )


def check_constraint_count(number: int, told: tuple[float, ...] | None, expected: int) -> None:
    """Raise TrialError unless a completed trial told ``told`` matches the study's count
    (``expected``; 0: the study's trials carry no constraints)."""
    count = 0 if told is None else len(told)
    if count != expected:
        raise TrialError(_count_mismatch(number, count, expected))


def _definition(parameter: Parameter) -> dict[str, Any]:
    """What a suggestion can state about a parameter: its spec without when= and default=."""
    spec = parameter.to_dict()
    spec.pop("when", None)
    spec.pop("default", None)
    return spec


def _is_step(step: Any) -> bool:
    """A non-negative integer: an int, a numpy int, or a float with an integral value (3.0)."""
    if isinstance(step, bool | np.bool_):
        return False
    if isinstance(step, float | np.floating):
        return bool(math.isfinite(step) and float(step).is_integer() and step >= 0)
    return bool(isinstance(step, int | np.integer) and step >= 0)


def check_json(key: Any, value: Any) -> None:
    """Raise TrialError unless ``key`` is a string and ``value`` JSON-serializable."""
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
    """Validate what an objective returned: (values, None) or (None, reason to fail).

    One value per direction: a real number that is a finite float (see
    :func:`tuneful.records.as_finite_float`); several as a list, tuple or 1-d array.
    """
    if result is None:
        return None, "objective returned None; expected a number"
    if isinstance(result, list | tuple) or (_is_array(result) and result.ndim == 1):
        items = list(result)
    else:
        items = [result]
    if len(items) != n_objectives:
        return None, (
            f"objective returned {len(items)} value(s) {short_repr(result)}; the study has "
            f"{n_objectives} direction(s)"
        )
    values = []
    for item in items:
        number, reason = as_finite_float(item)
        if number is None:
            return (
                None,
                f"objective returned {short_repr(item)}: {reason}; expected a finite number",
            )
        values.append(number)
    return tuple(values), None


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray)
