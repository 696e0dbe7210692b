"""The optimizer interface: a pure function of the history and a seeded generator.

An optimizer proposes points in the encoded unit cube of ``history.space`` (see
:mod:`tuneful.space`): ``suggest(history, n, rng) -> ndarray (n, dim)``. It keeps no state
the history cannot rebuild, so any worker can suggest and a resumed study continues exactly
where an uninterrupted one would. Pending trials (``history.pending``) are part of the input
so that parallel workers do not pile onto one point.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from tuneful._registry import Component, build
from tuneful.errors import OptimizerError
from tuneful.records import History

__all__ = [
    "Optimizer",
    "register_optimizer",
    "make_optimizer",
    "available_optimizers",
    "config_key",
]


def config_key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable identity of a configuration (True and 1 differ), to tell repeats apart."""
    return tuple(sorted((name, type(value).__name__, value) for name, value in config.items()))


class Optimizer(Component, abc.ABC):
    """Base class of every optimizer. Subclasses set ``name`` and implement ``suggest``."""

    name: ClassVar[str] = "optimizer"

    @abc.abstractmethod
    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        """Propose ``n`` encoded points, shape (n, history.space.dim), values in [0, 1].

        Columns of parameters that the proposal leaves inactive may hold any value (they are
        ignored on decoding).
        """

    def exhausted(self, history: History) -> bool:
        """True when the optimizer has nothing left to propose (a finished grid)."""
        return False

    def trial_attrs(self, history: History) -> dict[str, Any]:
        """JSON-safe facts to record on the trial ``history.number`` along with the point
        ``suggest`` proposes for it (its ``system_attrs``), e.g. which model chose it."""
        return {}


_REGISTRY: dict[str, Callable[..., Optimizer]] = {}


def register_optimizer(name: str, factory: Callable[..., Optimizer]) -> None:
    """Make ``optimizer=name`` work in ``create_study``. ``factory(seed=..., **settings)``."""
    _REGISTRY[name] = factory


def available_optimizers() -> list[str]:
    """Names accepted by ``create_study(optimizer=...)``."""
    return sorted(_REGISTRY)


def make_optimizer(spec: str | dict[str, Any] | Optimizer | None, *, seed: int) -> Optimizer:
    """Build an optimizer from a registry name, a ``{"name", "settings"}`` dict or an object.

    Raises:
        OptimizerError: the name is not registered or the settings are not accepted.
    """
    return build(
        spec,
        kind="optimizer",
        base=Optimizer,
        registry=_REGISTRY,
        error=OptimizerError,
        default="auto",
        example="random",
        seed=seed,
    )
