"""SMAC3's black-box (Gaussian process) and HPO (random forest) facades, by ask/tell.

The space becomes a ConfigSpace ``ConfigurationSpace``:

- ``Float(low, high, log)`` -> ``Float(name, (low, high), log=log)``;
- ``Int(low, high, log)`` -> ``Integer(name, (low, high), log=log)``;
- ``Float`` with a step and ``Int`` with a step > 1 -> ``Integer(name, (0, n - 1))``, the
  index of the grid level (ConfigSpace 1.x has no quantized parameters; an ordered index
  is what the grid is);
- ``Categorical(choices)`` -> ``Categorical(name, [0, ..., k - 1])``, the choice's index
  (choices may be None or bool, and ``True`` and ``1`` must stay apart);
- ``Fixed`` is left out: tuneful fills it in wherever it is active. A ``Constant`` would
  say nothing more, and SMAC's Sobol initial design fails on conditions whose parent is a
  ``Constant`` (ConfigSpace reports the child as active without a value);
- ``when`` -> ``EqualsCondition`` (one value) or ``InCondition`` (several), joined by
  ``AndConjunction`` for several parents. A condition on a Fixed parent is replaced by that
  parameter's own condition (or drops the child when the fixed value is not allowed).

A NaN or infinite loss is told as a CRASHED trial whose cost is the worst finite loss so far
(see :class:`SmacFailures`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneful._parameters import value_key
from tuneful.bench.adapters._peer import (
    PeerAdapter,
    check_run,
    is_failed,
    proposals,
    quiet_loggers,
    quiet_warnings,
)
from tuneful.bench.adapters.base import Evaluate
from tuneful.bench.tasks.base import Task
from tuneful.errors import SearchExhausted, SpaceError
from tuneful.space import Categorical, Fixed, Float, Int, Parameter, Space

if TYPE_CHECKING:
    from ConfigSpace import ConfigurationSpace

__all__ = ["SmacBlackBox", "SmacHPO", "to_configspace", "ConfigSpaceConversion", "SmacFailures"]

_Key = tuple[bool, Any]  # tuneful's value_key: True and 1 differ
_Conditions = dict[str, frozenset[_Key]]  # parent -> the value keys it must take


class ConfigSpaceConversion:
    """A tuneful space as a ConfigSpace ``ConfigurationSpace``, and configurations back.

    Attributes:
        configspace: the ``ConfigurationSpace`` (not seeded: SMAC seeds it).
    """

    def __init__(
        self,
        configspace: ConfigurationSpace,
        decoders: Mapping[str, Callable[[Any], Any]],
        space: Space,
    ) -> None:
        self.configspace = configspace
        self._decoders = dict(decoders)
        self._space = space

    def to_config(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A ConfigSpace configuration's active values -> a valid tuneful configuration.

        Raises:
            SpaceError: the values do not make a valid configuration (a conversion bug).
        """
        config = {name: self._decoders[name](value) for name, value in values.items()}
        return self._space.validate(config)


def _effective_conditions(space: Space) -> dict[str, _Conditions | None]:
    """Each parameter's condition with Fixed parents replaced by their own conditions."""
    effective: dict[str, _Conditions | None] = {}
    for name in space.names:
        param = space[name]
        conditions: _Conditions | None = {}
        for parent, values in param.when.items():
            keys = frozenset(value_key(v) for v in values)
            parent_param, inherited = space[parent], effective[parent]
            if inherited is None:
                conditions = None
            elif isinstance(parent_param, Fixed):
                if value_key(parent_param.value) not in keys:
                    conditions = None
                else:
                    conditions = _intersect(conditions, inherited)
            else:
                conditions = _intersect(conditions, {parent: keys})
            if conditions is None:
                break
        effective[name] = conditions
    return effective


def _intersect(conditions: _Conditions | None, more: _Conditions) -> _Conditions | None:
    if conditions is None:
        return None
    merged = dict(conditions)
    for parent, keys in more.items():
        both = merged[parent] & keys if parent in merged else keys
        if not both:
            return None  # no value of the parent satisfies both: never active
        merged[parent] = both
    return merged


def _index_decoder(values: Callable[[int], Any], n_levels: int) -> Callable[[Any], Any]:
    def decode(index: Any) -> Any:
        return values(min(max(int(index), 0), n_levels - 1))

    return decode


def _hyperparameter(name: str, param: Parameter) -> tuple[Any, Callable[[Any], Any]]:
    """The ConfigSpace hyperparameter of one parameter and its value decoder."""
    from ConfigSpace import Categorical as CSCategorical
    from ConfigSpace import Float as CSFloat
    from ConfigSpace import Integer as CSInteger

    if isinstance(param, Float) and param.step is None:
        low, high = param.low, param.high
        return CSFloat(name, (low, high), log=param.log), lambda v: min(max(float(v), low), high)
    if isinstance(param, Int) and param.step == 1:
        return CSInteger(name, (param.low, param.high), log=param.log), int
    if isinstance(param, Float):  # on a grid: the level's index
        n, low, high, step = param.n_levels, param.low, param.high, param.step or 0.0

        def float_level(i: int) -> float:
            return high if i == n - 1 else low + i * step  # validate snaps it to the grid

        return CSInteger(name, (0, n - 1)), _index_decoder(float_level, n)
    if isinstance(param, Int):  # step > 1: the level's index
        first, stride, n_ints = param.low, param.step, param.n_levels
        return CSInteger(name, (0, n_ints - 1)), _index_decoder(
            lambda i: first + i * stride, n_ints
        )
    if isinstance(param, Categorical):
        choices = param.choices
        hyperparameter = CSCategorical(name, list(range(len(choices))))
        return hyperparameter, _index_decoder(choices.__getitem__, len(choices))
    raise TypeError(f"parameter {name!r}: unsupported type {type(param).__name__}")


def _encoded_values(param: Parameter, keys: frozenset[_Key]) -> list[int]:
    """The ConfigSpace values of a parent that stand for the tuneful values in ``keys``."""
    if isinstance(param, Categorical):
        return [i for i, choice in enumerate(param.choices) if value_key(choice) in keys]
    if isinstance(param, Int):
        ints = sorted(int(v) for _, v in keys)
        return ints if param.step == 1 else [(v - param.low) // param.step for v in ints]
    raise TypeError(f"{type(param).__name__} parameters cannot be parents")


def to_configspace(space: Space) -> ConfigSpaceConversion:
    """Convert ``space`` to a ConfigSpace ``ConfigurationSpace`` (see the module docstring).

    Raises:
        SpaceError: the space has no parameter to search (only Fixed values).
    """
    from ConfigSpace import AndConjunction, ConfigurationSpace, EqualsCondition, InCondition

    effective = _effective_conditions(space)
    configspace = ConfigurationSpace()
    hyperparameters: dict[str, Any] = {}
    decoders: dict[str, Callable[[Any], Any]] = {}
    for name in space.names:
        param = space[name]
        if isinstance(param, Fixed) or effective[name] is None:
            continue
        hyperparameters[name], decoders[name] = _hyperparameter(name, param)
    if not hyperparameters:
        raise SpaceError("SMAC needs at least one parameter that is not Fixed to search")
    configspace.add(list(hyperparameters.values()))
    conditions: list[Any] = []
    for name, child in hyperparameters.items():
        parts: list[Any] = []
        for parent, keys in sorted((effective[name] or {}).items()):
            values = _encoded_values(space[parent], keys)
            parent_hp = hyperparameters[parent]
            if len(values) == 1:
                parts.append(EqualsCondition(child, parent_hp, values[0]))
            else:
                parts.append(InCondition(child, parent_hp, values))
        if len(parts) == 1:
            conditions.append(parts[0])
        elif parts:
            conditions.append(AndConjunction(*parts))
    if conditions:
        configspace.add(conditions)
    return ConfigSpaceConversion(configspace, decoders, space)


class SmacFailures:
    """Tells SMAC about failed trials (NaN or infinite loss) without breaking its model.

    SMAC 2.4.1 records a crashed trial at ``Scenario.crash_cost``, infinite by default, and
    an infinite cost turns the surrogate's training targets into NaN (its fit then fails).
    SMAC's own remedy (automl/SMAC3#1312) replaces non-finite costs by the worst observed
    one when it encodes the history; likewise, a failed trial is told as CRASHED with the
    worst finite loss seen so far. Failures before the first finite loss wait for it.
    """

    def __init__(self) -> None:
        self.worst: float | None = None
        self.waiting: list[Any] = []

    def tell(self, optimizer: Any, info: Any, loss: float) -> None:
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        if is_failed(loss):
            if self.worst is None:
                self.waiting.append(info)
            else:
                optimizer.tell(info, TrialValue(cost=self.worst, status=StatusType.CRASHED))
            return
        self.worst = loss if self.worst is None else max(self.worst, loss)
        optimizer.tell(info, TrialValue(cost=loss))
        for waiting in self.waiting:
            optimizer.tell(waiting, TrialValue(cost=self.worst, status=StatusType.CRASHED))
        self.waiting.clear()


class _SmacAdapter(PeerAdapter):
    """One SMAC facade with its defaults, driven by ask/tell."""

    package = "smac"
    loggers = ("smac", "ConfigSpace")
    facade = ""  # the facade's class name in ``smac``

    def run(self, task: Task, *, budget: int, seed: int, evaluate: Evaluate) -> None:
        """Ask, evaluate, tell, until ``evaluate`` raises BudgetExhausted.

        Raises:
            SearchExhausted: SMAC found no new configuration to propose before the budget
                was spent (small discrete spaces).
        """
        check_run(self.name, budget=budget, seed=seed)
        import smac
        from smac.main.exceptions import ConfigurationSpaceExhaustedException

        facade_class = getattr(smac, self.facade)
        with (
            tempfile.TemporaryDirectory(prefix="tuneful-smac-", ignore_cleanup_errors=True) as out,
            quiet_loggers(self.loggers),
        ):
            with quiet_warnings():
                conversion = to_configspace(task.space)
                scenario = smac.Scenario(
                    conversion.configspace,
                    deterministic=True,
                    n_trials=budget,
                    seed=seed,
                    output_directory=Path(out),
                )
                # logging_level=False: SMAC would otherwise reconfigure the root logger
                optimizer = facade_class(scenario, overwrite=True, logging_level=False)
            failures = SmacFailures()
            for count in proposals(self.name, budget):
                try:
                    with quiet_warnings():
                        info = optimizer.ask()
                except (ConfigurationSpaceExhaustedException, StopIteration):
                    raise SearchExhausted(
                        f"{self.name}: SMAC found no new configuration to propose after "
                        f"{count} of {budget} evaluations (the space is too small for the "
                        "budget)"
                    ) from None
                config = conversion.to_config(info.config)
                loss = float(evaluate(config))
                with quiet_warnings():
                    failures.tell(optimizer, info, loss)


class SmacBlackBox(_SmacAdapter):
    """SMAC's black-box facade (Gaussian process, Sobol initial design) with its defaults."""

    name = "smac-bb"
    facade = "BlackBoxFacade"
    call = (
        "smac.BlackBoxFacade(smac.Scenario(configspace, deterministic=True, n_trials=budget, "
        "seed=seed, output_directory=<temporary>), overwrite=True, logging_level=False)"
    )


class SmacHPO(_SmacAdapter):
    """SMAC's hyperparameter-optimization facade (random forest) with its defaults."""

    name = "smac-hpo"
    facade = "HyperparameterOptimizationFacade"
    call = (
        "smac.HyperparameterOptimizationFacade(smac.Scenario(configspace, deterministic=True, "
        "n_trials=budget, seed=seed, output_directory=<temporary>), overwrite=True, "
        "logging_level=False)"
    )
