"""Optuna's samplers and pruners, mapped by name to tuneful's optimizers and schedulers.

Each class takes Optuna's arguments; those that have a tuneful counterpart become its
settings, and one that does not is refused (:class:`~tuneful.errors.StudyError` naming the
argument and the tuneful way) unless it is given at Optuna's default.
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tuneful.errors import StudyError
from tuneful.optimizers import make_optimizer
from tuneful.schedulers import make_scheduler

__all__ = [
    "BaseSampler",
    "TPESampler",
    "RandomSampler",
    "CmaEsSampler",
    "GPSampler",
    "NSGAIISampler",
    "NSGAIIISampler",
    "QMCSampler",
    "GridSampler",
    "BasePruner",
    "MedianPruner",
    "SuccessiveHalvingPruner",
    "HyperbandPruner",
    "NopPruner",
    "PercentilePruner",
]


def _version(build: Callable[[], Any]) -> int:
    """The current version of the algorithm ``build`` makes (building it checks the
    settings, too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the spec has no version yet: it reads as version 1
        return int(getattr(build(), "version", 1))


def _refuse(owner: str, argument: str, value: Any, instead: str) -> StudyError:
    return StudyError(
        f"{owner}({argument}={value!r}): tuneful.compat.optuna cannot map {argument}; {instead}"
    )


def _only_default(owner: str, given: Mapping[str, Any], defaults: Mapping[str, Any]) -> None:
    """Refuse the first argument given with another value than Optuna's default."""
    for key, value in given.items():
        if key not in defaults:
            raise StudyError(
                f"{owner}() got an unexpected keyword argument {key!r} (taken: {sorted(defaults)})"
            )
        if value != defaults[key]:
            raise _refuse(
                owner,
                key,
                value,
                f"leave it at Optuna's default ({defaults[key]!r}) or use tuneful's own API "
                "(tuneful.create_study(optimizer=..., scheduler=...))",
            )


class BaseSampler:
    """An Optuna sampler as a tuneful optimizer: ``name`` and ``settings``."""

    name = "auto"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.settings: dict[str, Any] = {}
        self.constraints_func: Callable[[Any], Sequence[float]] | None = None

    def optimizer(self) -> dict[str, Any]:
        """The tuneful optimizer spec (``tuneful.create_study(optimizer=...)``), of the
        algorithm's current version (a spec without one reads as a stored version 1)."""
        spec = {"name": self.name, "settings": dict(self.settings)}
        return {**spec, "version": _version(lambda: make_optimizer(spec, seed=0))}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(-> tuneful optimizer {self.name!r} {self.settings})"


class TPESampler(BaseSampler):
    name = "tpe"

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        prior_weight: float = 1.0,
        multivariate: bool = False,
        constant_liar: bool = False,
        constraints_func: Callable[[Any], Sequence[float]] | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        _only_default(
            "TPESampler",
            rest,
            {
                "consider_prior": True,
                "consider_magic_clip": True,
                "consider_endpoints": False,
                "gamma": None,
                "weights": None,
                "group": False,
                "warn_independent_sampling": True,
                "categorical_distance_func": None,
            },
        )
        self.settings = {
            "n_startup": n_startup_trials,
            "n_candidates": n_ei_candidates,
            "prior_weight": prior_weight,
            "multivariate": multivariate,
            "constant_liar": constant_liar,
        }
        self.constraints_func = constraints_func


class RandomSampler(BaseSampler):
    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)


class CmaEsSampler(BaseSampler):
    name = "cmaes"

    def __init__(
        self,
        x0: Mapping[str, Any] | None = None,
        sigma0: float | None = None,
        n_startup_trials: int = 0,
        seed: int | None = None,
        *,
        restart_strategy: str | None = None,
        popsize: int | None = None,
        with_margin: bool = False,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        if x0 is not None:
            raise _refuse(
                "CmaEsSampler",
                "x0",
                x0,
                "enqueue the starting point instead: study.enqueue_trial(x0)",
            )
        if sigma0 is not None:
            raise _refuse(
                "CmaEsSampler",
                "sigma0",
                sigma0,
                "tuneful's cmaes takes sigma0 as a share of "
                "each parameter's range (tuneful.create_study(optimizer={'name': 'cmaes', "
                "'settings': {'sigma0': 0.2}}))",
            )
        if restart_strategy not in (None, "ipop"):
            raise _refuse(
                "CmaEsSampler", "restart_strategy", restart_strategy, "use 'ipop' or None"
            )
        _only_default(
            "CmaEsSampler",
            rest,
            {
                "independent_sampler": None,
                "warn_independent_sampling": True,
                "inc_popsize": 2,
                "consider_pruned_trials": False,
                "use_separable_cma": False,
                "lr_adapt": False,
                "source_trials": None,
            },
        )
        self.settings = {
            "n_startup": n_startup_trials,
            "popsize": popsize,
            "restart": restart_strategy,
            "with_margin": with_margin,
        }


class GPSampler(BaseSampler):
    name = "gp"

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup_trials: int = 10,
        constraints_func: Callable[[Any], Sequence[float]] | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        _only_default(
            "GPSampler", rest, {"independent_sampler": None, "deterministic_objective": False}
        )
        self.settings = {"n_startup": n_startup_trials}
        self.constraints_func = constraints_func


# Optuna's genetic samplers' operator settings, which tuneful's take only at their defaults
_GENETIC_DEFAULTS: dict[str, Any] = {
    "crossover": None,
    "swapping_prob": 0.5,
    "elite_population_selection_strategy": None,
    "child_generation_strategy": None,
    "after_trial_strategy": None,
}


class NSGAIISampler(BaseSampler):
    name = "nsga2"

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation_prob: float | None = None,
        crossover_prob: float = 0.9,
        seed: int | None = None,
        constraints_func: Callable[[Any], Sequence[float]] | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        _only_default(
            "NSGAIISampler",
            rest,
            _GENETIC_DEFAULTS,
        )
        self.settings = {
            "population_size": population_size,
            "mutation_prob": mutation_prob,
            "crossover_prob": crossover_prob,
        }
        self.constraints_func = constraints_func


class NSGAIIISampler(BaseSampler):
    name = "nsga3"

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation_prob: float | None = None,
        crossover_prob: float = 0.9,
        reference_points: Any = None,
        dividing_parameter: int = 3,
        seed: int | None = None,
        constraints_func: Callable[[Any], Sequence[float]] | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        _only_default(
            "NSGAIIISampler",
            rest,
            _GENETIC_DEFAULTS,
        )
        self.settings = {
            "population_size": population_size,
            "mutation_prob": mutation_prob,
            "crossover_prob": crossover_prob,
            "divisions": dividing_parameter,
        }
        if reference_points is not None:
            self.settings["reference_points"] = [list(map(float, p)) for p in reference_points]
        self.constraints_func = constraints_func


class QMCSampler(BaseSampler):
    name = "sobol"

    def __init__(
        self,
        *,
        qmc_type: str = "sobol",
        scramble: bool = False,
        seed: int | None = None,
        **rest: Any,
    ) -> None:
        super().__init__(seed)
        if qmc_type != "sobol":
            raise _refuse("QMCSampler", "qmc_type", qmc_type, "tuneful's QMC optimizer is Sobol")
        _only_default(
            "QMCSampler",
            rest,
            {
                "independent_sampler": None,
                "warn_independent_sampling": True,
                "warn_asynchronous_seeding": True,
            },
        )
        self.settings = {"scramble": scramble}


class GridSampler(BaseSampler):
    """Every combination of ``search_space`` is queued when the study is created (shuffled by
    ``seed``, as Optuna does), run before anything else; ``study.optimize`` stops once every
    point of the grid has run."""

    name = "random"

    def __init__(self, search_space: Mapping[str, Sequence[Any]], seed: int | None = None) -> None:
        super().__init__(seed)
        if not isinstance(search_space, Mapping) or not search_space:
            raise StudyError(
                f"GridSampler(search_space={search_space!r}): expected a mapping name -> list "
                "of values"
            )
        self.search_space = {name: list(values) for name, values in search_space.items()}

    def points(self) -> list[dict[str, Any]]:
        names = sorted(self.search_space)
        grid = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(self.search_space[n] for n in names))
        ]
        random.Random(self.seed).shuffle(grid)
        return grid


class BasePruner:
    """An Optuna pruner as a tuneful scheduler: ``name`` and ``settings``."""

    name = "none"

    def __init__(self) -> None:
        self.settings: dict[str, Any] = {}

    def scheduler(self) -> dict[str, Any]:
        """The tuneful scheduler spec (``tuneful.create_study(scheduler=...)``)."""
        spec = {"name": self.name, "settings": dict(self.settings)}
        return {**spec, "version": _version(lambda: make_scheduler(spec))}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(-> tuneful scheduler {self.name!r} {self.settings})"


class NopPruner(BasePruner):
    name = "none"


class MedianPruner(BasePruner):
    name = "median"

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__()
        _only_default(
            "MedianPruner",
            {"interval_steps": interval_steps, "n_min_trials": n_min_trials},
            {"interval_steps": 1, "n_min_trials": 1},
        )
        self.settings = {"n_startup_trials": n_startup_trials, "n_warmup_steps": n_warmup_steps}


class PercentilePruner(MedianPruner):
    """Only the 50th percentile maps (tuneful's ``median``)."""

    def __init__(
        self,
        percentile: float,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        if percentile != 50:
            raise _refuse(
                "PercentilePruner",
                "percentile",
                percentile,
                "tuneful stops below the median only (percentile=50, MedianPruner), or by "
                "rungs: SuccessiveHalvingPruner / HyperbandPruner",
            )
        super().__init__(
            n_startup_trials, n_warmup_steps, interval_steps, n_min_trials=n_min_trials
        )


class SuccessiveHalvingPruner(BasePruner):
    name = "asha"

    def __init__(
        self,
        min_resource: str | int = "auto",
        reduction_factor: int = 4,
        min_early_stopping_rate: int = 0,
        bootstrap_count: int = 0,
    ) -> None:
        super().__init__()
        _only_default(
            "SuccessiveHalvingPruner", {"bootstrap_count": bootstrap_count}, {"bootstrap_count": 0}
        )
        if min_resource == "auto":
            if min_early_stopping_rate != 0:
                raise _refuse(
                    "SuccessiveHalvingPruner",
                    "min_early_stopping_rate",
                    min_early_stopping_rate,
                    "give min_resource as an int with it",
                )
            self.settings = {"reduction_factor": reduction_factor}
        else:
            budget = int(min_resource) * int(reduction_factor) ** int(min_early_stopping_rate)
            self.settings = {"min_budget": budget, "reduction_factor": reduction_factor}


class HyperbandPruner(BasePruner):
    name = "hyperband"

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
    ) -> None:
        super().__init__()
        _only_default(
            "HyperbandPruner", {"bootstrap_count": bootstrap_count}, {"bootstrap_count": 0}
        )
        if max_resource == "auto":
            raise _refuse(
                "HyperbandPruner",
                "max_resource",
                max_resource,
                "give the last step as an int (tuneful's hyperband needs max_budget up front)",
            )
        self.settings = {
            "min_budget": int(min_resource),
            "max_budget": int(max_resource),
            "reduction_factor": reduction_factor,
        }
