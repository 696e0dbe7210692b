"""Optuna's samplers with their defaults, driven by ask/tell and define-by-run suggestions.

The space is suggested as a user of Optuna would write it: parameters in ``space.names``
order (parents first), each suggested only when its condition holds for the values already
chosen, with the matching distribution:

- ``Float(low, high, log, step)`` -> ``suggest_float(name, low, high, log=log, step=step)``
- ``Int(low, high, log, step)`` -> ``suggest_int(name, low, high, log=log, step=step)``
- ``Categorical(choices)`` -> ``suggest_categorical(name, [0, ..., k - 1])``: the choice's
  index. Optuna models a categorical by index either way; suggesting the index keeps choices
  such as ``True`` and ``1`` apart, which Optuna's ``list.index`` lookup would confuse.
- ``Fixed(value)`` is not suggested: it is set whenever it is active.

On a multi-objective task the study has the task's directions, and a sampler that takes
constraints gets ``constraints_func`` reading the values the runner returns (stored in the
trial's user attribute ``constraints``). ``optuna-default`` is what ``optuna.create_study``
picks when given no sampler — in Optuna 5.1 ``TPESampler()`` for one objective and for
several alike — seeded and without ``constraints_func`` (a user who passes no sampler has
nowhere to give one); ``optuna-motpe`` is the same TPE given the constraints.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

from tuneful.bench.adapters._peer import (
    PeerAdapter,
    check_run,
    is_active,
    is_failed,
    proposals,
    quiet_loggers,
    quiet_warnings,
)
from tuneful.bench.adapters.base import Evaluate, EvaluateObjectives, MultiObjectiveAdapter
from tuneful.bench.tasks.base import Task
from tuneful.space import Categorical, Fixed, Float, Int, Space

if TYPE_CHECKING:
    import optuna

__all__ = [
    "OptunaTPE",
    "OptunaGP",
    "OptunaCmaEs",
    "OptunaRandom",
    "OptunaDefault",
    "OptunaMOTPE",
    "OptunaNSGA2",
    "OptunaNSGA3",
    "suggest",
]

#: Optuna's constraint callback: a finished trial -> its constraint values.
ConstraintsFunc = Any


def suggest(trial: optuna.Trial, space: Space) -> dict[str, Any]:
    """Suggest one configuration of ``space`` on an Optuna trial, parents first.

    Returns:
        The configuration as tuneful values (inactive parameters absent); not yet validated.
    """
    config: dict[str, Any] = {}
    for name in space.names:
        param = space[name]
        if not is_active(param, config):
            continue
        if isinstance(param, Fixed):
            config[name] = param.value
        elif isinstance(param, Float):
            config[name] = trial.suggest_float(
                name, param.low, param.high, log=param.log, step=param.step
            )
        elif isinstance(param, Int):
            config[name] = trial.suggest_int(
                name, param.low, param.high, log=param.log, step=param.step
            )
        elif isinstance(param, Categorical):
            index = trial.suggest_categorical(name, list(range(len(param.choices))))
            config[name] = param.choices[index]
        else:  # pragma: no cover - the four parameter types are exhaustive
            raise TypeError(f"parameter {name!r}: unsupported type {type(param).__name__}")
    return config


class _OptunaAdapter(PeerAdapter):
    """One Optuna sampler, constructed with its defaults and ``seed``, on an in-memory study."""

    package = "optuna"
    loggers = ("optuna",)

    @abc.abstractmethod
    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        """The sampler, exactly as ``call`` says."""

    def run(self, task: Task, *, budget: int, seed: int, evaluate: Evaluate) -> None:
        """Ask, suggest, evaluate, tell, until ``evaluate`` raises BudgetExhausted."""
        check_run(self.name, budget=budget, seed=seed)
        import optuna
        from optuna.trial import TrialState

        space = task.space
        with quiet_loggers(self.loggers):
            with quiet_warnings():
                study = optuna.create_study(direction="minimize", sampler=self._sampler(seed))
            for _ in proposals(self.name, budget):
                with quiet_warnings():
                    trial = study.ask()
                    config = space.validate(suggest(trial, space))
                loss = float(evaluate(config))
                with quiet_warnings():
                    if is_failed(loss):
                        study.tell(trial, state=TrialState.FAIL)
                    else:
                        study.tell(trial, loss)


class OptunaTPE(_OptunaAdapter):
    """Optuna's default sampler: TPE (multivariate for one objective, constant liar on).

    ``TPESampler(seed=seed)`` is what ``optuna.create_study()`` builds when given no sampler
    (``TPESampler()``), seeded: ``multivariate`` is left unset, which Optuna resolves to the
    multivariate TPE for single-objective studies, and ``constant_liar`` defaults to True.
    """

    name = "optuna-tpe"
    call = "optuna.samplers.TPESampler(seed=seed)"

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.TPESampler(seed=seed)


class OptunaGP(_OptunaAdapter):
    """Optuna's Gaussian-process sampler with its defaults; needs torch."""

    name = "optuna-gp"
    call = "optuna.samplers.GPSampler(seed=seed)"

    def unavailable_reason(self) -> str | None:
        reason = super().unavailable_reason()
        if reason is not None:
            return reason
        from importlib.util import find_spec

        if find_spec("torch") is None:
            return "torch is not installed (pip install torch==2.13.0, a CPU build)"
        return None

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.GPSampler(seed=seed)


class OptunaCmaEs(_OptunaAdapter):
    """Optuna's CMA-ES sampler with its defaults (categoricals are sampled at random)."""

    name = "optuna-cmaes"
    call = "optuna.samplers.CmaEsSampler(seed=seed)"

    def unavailable_reason(self) -> str | None:
        reason = super().unavailable_reason()
        if reason is not None:
            return reason
        from importlib.util import find_spec

        if find_spec("cmaes") is None:
            return "cmaes is not installed (pip install cmaes)"
        return None

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.CmaEsSampler(seed=seed)


class _MultiObjective(_OptunaAdapter, MultiObjectiveAdapter):
    """An Optuna sampler that also runs on multi-objective (and constrained) tasks."""

    @abc.abstractmethod
    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        """The sampler for a multi-objective study; ``constraints`` is None without any."""

    def _sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        return self._mo_sampler(seed, None)

    def run_multi_objective(
        self, task: Task, *, budget: int, seed: int, evaluate: EvaluateObjectives
    ) -> None:
        """Ask, suggest, evaluate, tell every objective, until BudgetExhausted."""
        check_run(self.name, budget=budget, seed=seed)
        import optuna

        space = task.space
        constraints = _read_constraints if task.constraints else None
        with quiet_loggers(self.loggers):
            with quiet_warnings():
                study = optuna.create_study(
                    directions=[o.direction for o in task.optimized],  # type: ignore[misc]
                    sampler=self._mo_sampler(seed, constraints),
                )
            for _ in proposals(self.name, budget):
                with quiet_warnings():
                    trial = study.ask()
                    config = space.validate(suggest(trial, space))
                values, bounds = evaluate(config)
                with quiet_warnings():
                    if bounds:
                        trial.set_user_attr("constraints", list(bounds))
                    study.tell(trial, values)


def _read_constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
    return list(trial.user_attrs["constraints"])


class OptunaRandom(_MultiObjective):
    """Optuna's random sampler: independent uniform draws (log-uniform on log scales)."""

    name = "optuna-random"
    call = "optuna.samplers.RandomSampler(seed=seed)"

    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.RandomSampler(seed=seed)


class OptunaDefault(_MultiObjective):
    """What ``optuna.create_study(directions=...)`` samples with when given no sampler
    (``TPESampler()`` in Optuna 5.1), seeded; it does not see constraints."""

    name = "optuna-default"
    call = "optuna.samplers.TPESampler(seed=seed)"

    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.TPESampler(seed=seed)


class OptunaMOTPE(_MultiObjective):
    """Optuna's TPE for several objectives (MOTPE), given the task's constraints."""

    name = "optuna-motpe"
    call = "optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)"

    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.TPESampler(seed=seed, constraints_func=constraints)


class OptunaNSGA2(_MultiObjective):
    """Optuna's NSGA-II with its defaults (population 50), given the task's constraints."""

    name = "optuna-nsga2"
    call = "optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints)"

    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.NSGAIISampler(seed=seed, constraints_func=constraints)


class OptunaNSGA3(_MultiObjective):
    """Optuna's NSGA-III with its defaults (population 50), given the task's constraints."""

    name = "optuna-nsga3"
    call = "optuna.samplers.NSGAIIISampler(seed=seed, constraints_func=constraints)"

    def _mo_sampler(self, seed: int, constraints: ConstraintsFunc) -> optuna.samplers.BaseSampler:
        import optuna

        return optuna.samplers.NSGAIIISampler(seed=seed, constraints_func=constraints)
