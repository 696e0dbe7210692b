"""What ``TunefulSearchCV`` is given, checked: the space, the scheduler, the seed, the counts.

The search space is tuneful's own. What scikit-learn and Optuna users pass instead (a list of
values, a scipy.stats distribution, an Optuna distribution) is refused with the tuneful
parameter to write in its place: guessing would silently change the search (a list of floats
read as a range, or a log scale lost).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from tuneful.errors import SchedulerError, SpaceError, StudyError
from tuneful.records import short_repr
from tuneful.schedulers import make_scheduler
from tuneful.space import Parameter, Space

__all__ = ["search_space", "scheduler_spec", "check_count", "check_timeout", "seed_of"]


def search_space(space: Any) -> Space:
    """``space`` as a :class:`Space`: a Space, a mapping name -> tuneful parameter, or a spec
    dict (``{"C": {"type": "float", "low": 0.01, "high": 100, "log": True}}``).

    Raises:
        SpaceError: anything else; Optuna distributions, lists of values and scipy.stats
            distributions name the tuneful parameter to write instead.
    """
    if isinstance(space, Space):
        return space
    if isinstance(space, list | tuple):
        raise SpaceError(
            f"TunefulSearchCV space={short_repr(space)}: a list of grids (GridSearchCV's "
            "param_grid) is not a tuneful space; write one tuneful.Space whose parameters "
            "depend on a Categorical through when= (conditional parameters)"
        )
    if not isinstance(space, Mapping) or not space:
        raise SpaceError(
            f"TunefulSearchCV space={short_repr(space)}: expected a tuneful.Space or a "
            "non-empty dict name -> tuneful parameter, e.g. {'C': tuneful.Float(0.01, 100, "
            "log=True)}"
        )
    for name, value in space.items():
        hint = _foreign_hint(value)
        if hint is not None:
            raise SpaceError(f"TunefulSearchCV space[{name!r}] = {short_repr(value)}: {hint}")
    if all(isinstance(value, Parameter) for value in space.values()):
        return Space(dict(space))
    return Space.from_dict(dict(space))


def _foreign_hint(value: Any) -> str | None:
    """What to write instead of a value another search tool takes; None for other values."""
    module = type(value).__module__ or ""
    if module.startswith("optuna"):
        return (
            "an Optuna distribution (OptunaSearchCV's param_distributions) is not a tuneful "
            f"parameter; write {_optuna_equivalent(value)}"
        )
    if isinstance(value, list | tuple | np.ndarray):
        choices = [v.item() if isinstance(v, np.generic) else v for v in value]
        return (
            "a list of values (GridSearchCV's param_grid) is not a tuneful parameter; write "
            f"tuneful.Categorical({choices!r}) to choose among them, or tuneful.Float / "
            "tuneful.Int for a range"
        )
    if hasattr(value, "rvs"):
        return (
            "a scipy.stats distribution (RandomizedSearchCV's param_distributions) is not a "
            "tuneful parameter; write its range: tuneful.Float(low, high) (uniform), "
            "tuneful.Float(low, high, log=True) (loguniform) or tuneful.Int(low, high) (randint)"
        )
    return None


def _optuna_equivalent(distribution: Any) -> str:
    """The tuneful parameter that samples like an Optuna distribution, as code."""
    if hasattr(distribution, "choices"):
        return f"tuneful.Categorical({list(distribution.choices)!r})"
    low, high = getattr(distribution, "low", "low"), getattr(distribution, "high", "high")
    kind = "Int" if "Int" in type(distribution).__name__ else "Float"
    options = ""
    if getattr(distribution, "log", False) or "LogUniform" in type(distribution).__name__:
        options += ", log=True"
    step = getattr(distribution, "step", None) or getattr(distribution, "q", None)
    if step not in (None, 1) or (step is not None and kind == "Float"):
        options += f", step={step!r}"
    return f"tuneful.{kind}({low!r}, {high!r}{options})"


def scheduler_spec(scheduler: Any, n_steps: int) -> Any:
    """The study's scheduler: ``"none"`` for None; a name or ``{"name", "settings"}`` dict
    gets ``max_budget=n_steps`` (the number of folds, or of partial_fit iterations) unless it
    sets one or does not take it; a Scheduler object is used as it is."""
    if scheduler is None:
        return "none"
    if isinstance(scheduler, str):
        if scheduler == "none":
            return scheduler
        name: Any = scheduler
        settings: dict[str, Any] = {}
    elif isinstance(scheduler, Mapping) and "max_budget" not in (scheduler.get("settings") or {}):
        name, settings = scheduler.get("name"), dict(scheduler.get("settings") or {})
    else:
        return scheduler
    spec = {"name": name, "settings": {**settings, "max_budget": n_steps}}
    try:
        make_scheduler(spec)
    except SchedulerError:
        return scheduler  # no max_budget there (or a bad spec: the study names the error)
    return spec


def check_count(label: str, value: Any) -> int:
    """A positive int (``n_trials``, ``partial_fit_iterations``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise StudyError(f"TunefulSearchCV {label}={short_repr(value)}: expected a positive int")
    return int(value)


def check_timeout(value: Any) -> float | None:
    """Seconds after which no new trial starts: a positive number, or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
        raise StudyError(
            f"TunefulSearchCV timeout={short_repr(value)}: expected a positive number of "
            "seconds or None"
        )
    return float(value)


def seed_of(random_state: Any) -> int | None:
    """The study's seed: an int as given, one drawn from a RandomState, or None (random)."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise StudyError(
            f"TunefulSearchCV random_state={short_repr(random_state)}: expected an int, a "
            "numpy RandomState or None"
        )
    return int(random_state)
