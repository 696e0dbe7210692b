"""tuneful as an optimizer of carps, the HPO benchmarking harness (``tuneful[carps]``).

:class:`TunefulOptimizer` follows carps' ask/tell optimizer interface (carps 1.1,
``carps.optimizers.optimizer.Optimizer``): carps' own loop (``optimizer.run()``, or
``python -m carps.run``) asks for a :class:`~carps.utils.trials.TrialInfo`, evaluates it and
tells the :class:`~carps.utils.trials.TrialValue`. Behind it is an ordinary tuneful study
(``memory://`` unless a storage is given, so that a benchmark run can be kept and looked at).

The task's ConfigSpace becomes a tuneful space (:func:`space_from_configspace`): floats and
integers (log scales kept), categoricals, ordinals (searched as the index into their
sequence, so that their order counts), constants, and conditions that a ``when=`` mapping can
say (equals, in, not-equals on a categorical or ordinal parent, and their conjunctions).
What it cannot say (or-conjunctions, less/greater-than conditions, forbidden clauses,
weighted categoricals, normal or beta priors) is refused with the hyperparameter named,
rather than searched as a different space.

Multi-fidelity (the task's ``fidelity_space.is_multifidelity``): a tuneful trial is one
configuration, and each carps evaluation at a budget is a step of its learning curve. The
study's scheduler (``asha`` by default) gives the budget of each evaluation: a new trial
starts at the first rung; a trial that passes its rung is asked again at the next budget;
one that does not is recorded as PRUNED with its curve; one evaluated at the full budget
completes with that cost. Budgets map to curve steps through the fidelity's unit (its
minimum, or a hundredth of its maximum when the minimum is 0): step ``s`` is budget
``s * unit``, up to the maximum fidelity.

Several objectives (``output_space.n_objectives > 1``): every objective is minimized (carps'
costs), and the incumbent is the Pareto front of the completed trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tuneful._extras import require
from tuneful._lifecycle import create_study
from tuneful.errors import SpaceError, StudyError, TrialError
from tuneful.schedulers.multi import report_values
from tuneful.space import Categorical, Fixed, Float, Int, Parameter, Space
from tuneful.study import Study
from tuneful.trial import Trial

_FEATURE = "tuneful.integrations.carps.TunefulOptimizer"
_base = require("carps.optimizers.optimizer", "carps", _FEATURE)
_trials = require("carps.utils.trials", "carps", _FEATURE)
_configspace = require("ConfigSpace", "carps", _FEATURE)
_hyperparameters = require("ConfigSpace.hyperparameters", "carps", _FEATURE)
_conditions = require("ConfigSpace.conditions", "carps", _FEATURE)
_CarpsOptimizer: Any = _base.Optimizer

__all__ = ["TunefulOptimizer", "space_from_configspace"]

_FIDELITY_STEPS = 100  # curve steps of a fidelity whose minimum is 0


# -- the space -------------------------------------------------------------------------------
def _parameter(hp: Any) -> Parameter:
    """The tuneful parameter of one ConfigSpace hyperparameter (before conditions)."""
    h = _hyperparameters
    if isinstance(hp, h.UniformFloatHyperparameter):
        return Float(float(hp.lower), float(hp.upper), log=bool(hp.log))
    if isinstance(hp, h.UniformIntegerHyperparameter):
        return Int(int(hp.lower), int(hp.upper), log=bool(hp.log))
    if isinstance(hp, h.CategoricalHyperparameter):
        if hp.weights is not None and len(set(hp.weights)) > 1:
            raise SpaceError(
                f"hyperparameter {hp.name!r}: weights={list(hp.weights)!r} (a prior over the "
                "choices) cannot be expressed in a tuneful space"
            )
        return Categorical(list(hp.choices))
    if isinstance(hp, h.OrdinalHyperparameter):
        return Int(0, len(hp.sequence) - 1) if len(hp.sequence) > 1 else Fixed(0)
    if isinstance(hp, h.Constant):
        return Fixed(hp.value)
    raise SpaceError(
        f"hyperparameter {hp.name!r} is a {type(hp).__name__}, which a tuneful space cannot "
        "express (it takes uniform floats and integers, categoricals, ordinals and constants; "
        "a normal or beta prior is not a search space)"
    )


def _clauses(condition: Any) -> list[Any]:
    c = _conditions
    if isinstance(condition, c.AndConjunction):
        return [part for component in condition.components for part in _clauses(component)]
    if isinstance(condition, c.EqualsCondition | c.InCondition | c.NotEqualsCondition):
        return [condition]
    child = getattr(condition, "child", None)
    name = getattr(child, "name", "?")
    raise SpaceError(
        f"hyperparameter {name!r}: condition {condition} ({type(condition).__name__}) cannot be "
        "expressed as a tuneful when= condition (equals, in and not-equals, alone or joined "
        "by and, can)"
    )


def _allowed(clause: Any) -> list[Any]:
    """The parent values under which ``clause`` holds, as the child's ``when`` lists them."""
    c, parent = _conditions, clause.parent
    if isinstance(clause, c.EqualsCondition):
        values = [clause.value]
    elif isinstance(clause, c.InCondition):
        values = list(clause.values)
    else:
        domain = _domain(parent, clause)
        values = [value for value in domain if value != clause.value]
    if isinstance(parent, _hyperparameters.OrdinalHyperparameter):
        return [list(parent.sequence).index(value) for value in values]
    return values


def _domain(parent: Any, clause: Any) -> list[Any]:
    h = _hyperparameters
    if isinstance(parent, h.CategoricalHyperparameter):
        return list(parent.choices)
    if isinstance(parent, h.OrdinalHyperparameter):
        return list(parent.sequence)
    raise SpaceError(
        f"hyperparameter {clause.child.name!r}: condition {clause} is a not-equals on "
        f"{parent.name!r}, which is not categorical or ordinal; tuneful's when= lists the "
        "values under which a parameter is active, and this one has no finite list"
    )


def space_from_configspace(configspace: Any) -> Space:
    """A tuneful :class:`~tuneful.Space` for a ConfigSpace ``ConfigurationSpace``.

    Ordinal hyperparameters become the index into their sequence (``Int(0, n - 1)``);
    :meth:`TunefulOptimizer.configuration` maps indices back.

    Raises:
        SpaceError: forbidden clauses, or a hyperparameter or condition that a tuneful space
            cannot express (named in the message).
    """
    if list(configspace.forbidden_clauses):
        raise SpaceError(
            f"the configuration space has forbidden clauses ({configspace.forbidden_clauses[0]}"
            ", ...), which a tuneful space cannot express"
        )
    when: dict[str, dict[str, list[Any]]] = {}
    for condition in configspace.conditions:
        for clause in _clauses(condition):
            allowed = when.setdefault(clause.child.name, {})
            values = _allowed(clause)
            if clause.parent.name in allowed:  # two clauses on one parent: both hold
                values = [value for value in allowed[clause.parent.name] if value in values]
            allowed[clause.parent.name] = values
    parameters: dict[str, Parameter] = {}
    for hp in configspace.values():
        parameter = _parameter(hp)
        if hp.name in when:
            spec = {**parameter.to_dict(), "when": when[hp.name]}
            try:
                parameter = Parameter.from_dict(spec)
            except SpaceError as exc:
                raise SpaceError(f"hyperparameter {hp.name!r}: {exc}") from None
        parameters[hp.name] = parameter
    try:
        return Space(parameters)
    except SpaceError as exc:
        raise SpaceError(f"the configuration space's conditions: {exc}") from None


# -- budgets ---------------------------------------------------------------------------------
class _Fidelity:
    """Curve steps (ints from 1) <-> carps budgets: step ``s`` is budget ``s * unit``."""

    def __init__(self, fidelity_space: Any) -> None:
        low, high = fidelity_space.min_fidelity, fidelity_space.max_fidelity
        if high is None or not high > 0:
            raise StudyError(
                f"the task is multi-fidelity but its max_fidelity={high!r} is not a positive number"
            )
        low = 0 if low is None else low
        self.unit = float(low) if low > 0 else float(high) / _FIDELITY_STEPS
        self.high = high
        self.integral = all(isinstance(v, int) or float(v).is_integer() for v in (low, high))
        self.max_step = max(1, round(float(high) / self.unit))

    def budget(self, step: int) -> float:
        budget = float(self.high) if step >= self.max_step else step * self.unit
        return float(round(budget)) if self.integral else budget

    def step(self, budget: float) -> int:
        return max(1, min(self.max_step, round(float(budget) / self.unit)))


def _scheduler(scheduler: str | Mapping[str, Any] | None, fidelity: _Fidelity | None) -> Any:
    """The study's scheduler, with the fidelity's steps as its budgets."""
    if fidelity is None:
        return "none" if scheduler is None else scheduler
    if scheduler is None:
        scheduler = "asha"
    if scheduler == "none":
        return scheduler
    spec: dict[str, Any] = {"name": scheduler} if isinstance(scheduler, str) else dict(scheduler)
    settings = dict(spec.get("settings") or {})
    settings.setdefault("min_budget", 1)
    settings.setdefault("max_budget", fidelity.max_step)
    return {**spec, "settings": settings}


# -- the optimizer ---------------------------------------------------------------------------
class TunefulOptimizer(_CarpsOptimizer):
    """A tuneful study as a carps optimizer.

    Args:
        task: the carps task (objective function, input/output space, resources).
        loggers: carps loggers.
        optimizer: tuneful optimizer: a name (``"auto"``, ``"tpe"``, ``"gp"``, ``"random"``,
            ...) or ``{"name": ..., "settings": {...}}``.
        scheduler: for multi-fidelity tasks, the tuneful scheduler that picks budgets and
            stops trials (default ``"asha"``; its ``min_budget``/``max_budget`` are set from
            the fidelity); ignored otherwise.
        storage: where the study lives (default ``memory://``).
        study_name: the study's name (generated when omitted).
        seed: the study's seed (default: the task's seed).
        expects_multiple_objectives / expects_fidelities: carps' metadata; carps checks
            them against the task.

    Raises:
        SpaceError: the task's configuration space cannot be expressed (see
            :func:`space_from_configspace`).
        StudyError / OptimizerError / SchedulerError: invalid study options.

    Example (carps' own loop)::

        optimizer = TunefulOptimizer(task, optimizer="tpe", seed=1)
        incumbent = optimizer.run()   # until task.optimization_resources.n_trials
    """

    def __init__(
        self,
        task: Any,
        loggers: list[Any] | None = None,
        *,
        optimizer: str | Mapping[str, Any] = "auto",
        scheduler: str | Mapping[str, Any] | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        seed: int | None = None,
        expects_multiple_objectives: bool = False,
        expects_fidelities: bool = False,
    ) -> None:
        super().__init__(
            task,
            loggers,
            expects_multiple_objectives=expects_multiple_objectives,
            expects_fidelities=expects_fidelities,
        )
        self.configspace = task.objective_function.configspace
        self.space = self.convert_configspace(self.configspace)
        fidelity_space = task.input_space.fidelity_space
        self.fidelity = _Fidelity(fidelity_space) if fidelity_space.is_multifidelity else None
        self.fidelity_enabled = self.fidelity is not None
        self.n_objectives = int(task.output_space.n_objectives or 1)
        self.optimizer_spec = dict(optimizer) if isinstance(optimizer, Mapping) else optimizer
        self.scheduler_spec = _scheduler(scheduler, self.fidelity)
        self.storage = storage or "memory://"
        self.study_name = study_name
        self.seed = task.seed if seed is None else seed
        self._running: dict[str, Trial] = {}  # asked, not yet told: TrialInfo.name -> trial
        self._resume: list[Trial] = []  # passed a rung: to be asked at their next budget
        self._results: dict[int, tuple[Any, Any]] = {}  # completed: (TrialInfo, TrialValue)
        self._best: tuple[Any, Any] | None = None

    @property
    def study(self) -> Study:
        """The tuneful study (created on the first ask, or by ``setup_optimizer``)."""
        if self.solver is None:
            self.setup_optimizer()
        return self.solver

    def _setup_optimizer(self) -> Study:
        return create_study(
            self.study_name,
            space=self.space,
            directions=["minimize"] * self.n_objectives,
            storage=self.storage,
            optimizer=self.optimizer_spec,
            scheduler=self.scheduler_spec,
            seed=self.seed,
        )

    def convert_configspace(self, configspace: Any) -> Space:
        """The task's ConfigSpace as a tuneful space (:func:`space_from_configspace`)."""
        return space_from_configspace(configspace)

    def configuration(self, params: Mapping[str, Any]) -> Any:
        """The ConfigSpace ``Configuration`` of a tuneful trial's parameters."""
        values: dict[str, Any] = {}
        for name, value in params.items():
            hp = self.configspace[name]
            if isinstance(hp, _hyperparameters.OrdinalHyperparameter):
                value = hp.sequence[int(value)]
            values[name] = value
        return _configspace.Configuration(self.configspace, values=values)

    def convert_to_trial(self, trial: Trial, step: int | None = None) -> Any:
        """The carps TrialInfo of a tuneful trial (at curve ``step`` for multi-fidelity)."""
        budget = None
        if self.fidelity is not None and step is not None:
            budget = self.fidelity.budget(step)
        return _trials.TrialInfo(
            config=self.configuration(trial.params),
            budget=budget,
            name=f"trial-{trial.number}@{step}" if step is not None else f"trial-{trial.number}",
        )

    def run(self) -> Any:
        """carps' loop (until the task's trials or time run out), then the trials it left
        between two budgets recorded as PRUNED (user attribute ``stopped``), so that none
        stays RUNNING in the study. Returns the incumbent."""
        incumbent = super().run()
        for trial in self._resume:
            trial.set_user_attr("stopped", "the carps run ended before its next budget")
            self.study.tell(trial, state="PRUNED")
        self._resume.clear()
        return incumbent

    def ask(self) -> Any:
        """The next evaluation: a trial that passed its rung, at its next budget; else a new
        trial (at the scheduler's first budget for multi-fidelity tasks)."""
        trial = self._resume.pop(0) if self._resume else self.study.ask()
        step = None
        if self.fidelity is not None:
            step = trial.budget if trial.budget is not None else self.fidelity.max_step
            step = min(step, self.fidelity.max_step)
        info = self.convert_to_trial(trial, step)
        self._running[info.name] = trial
        return info

    def tell(self, trial_info: Any, trial_value: Any) -> None:
        """Record an evaluation: the trial's value, a point of its curve (multi-fidelity:
        then PRUNED when the scheduler stops it, COMPLETE at the full budget), or FAIL when
        carps reports a crash, timeout or memory-out.

        Raises:
            TrialError: ``trial_info`` was not asked from this optimizer, or was told already.
        """
        trial = self._running.pop(str(trial_info.name), None)
        if trial is None:
            raise TrialError(
                f"TunefulOptimizer.tell: {trial_info.name!r} was not asked from this optimizer "
                "or was told already"
            )
        status = trial_value.status
        if status != _trials.StatusType.SUCCESS:
            name = getattr(status, "name", str(status))
            self.study.tell(trial, state="FAIL", error=f"carps evaluation status {name}")
            return
        cost = trial_value.cost
        values = [float(c) for c in cost] if isinstance(cost, Sequence) else [float(cost)]
        if self.fidelity is None or trial_info.budget is None:
            self._complete(trial, trial_info, trial_value, values)
            return
        step = self.fidelity.step(trial_info.budget)
        try:
            if self.n_objectives > 1:
                report_values(trial, step=step, values=values)
            else:
                trial.report(step=step, value=values[0])
        except TrialError as exc:  # a cost that is not a finite number
            self.study.tell(trial, state="FAIL", error=str(exc))
            return
        if trial.should_stop():
            self.study.tell(trial, state="PRUNED")
        elif step >= self.fidelity.max_step:
            self._complete(trial, trial_info, trial_value, values)
        else:
            self._resume.append(trial)

    def _complete(self, trial: Trial, info: Any, value: Any, values: list[float]) -> None:
        record = self.study.tell(trial, values=values)
        if record.state.value != "COMPLETE":  # NaN or infinite: failed with the reason
            return
        self._results[trial.number] = (info, value)
        if self.n_objectives == 1 and (self._best is None or values[0] < self._best[1].cost):
            self._best = (info, value)

    def get_current_incumbent(self) -> Any:
        """The best completed evaluation as (TrialInfo, TrialValue); for several objectives
        the Pareto front as a list of them; None before any trial completed."""
        if not self._results:
            return None
        if self.n_objectives == 1:
            return self._best
        return [self._results[t.number] for t in self.study.best_trials]
