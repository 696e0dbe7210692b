"""The optimizer interface: a pure function of the history and a seeded generator.

An optimizer proposes points in the encoded unit cube of ``history.space`` (see
:mod:`tuneful.space`): ``suggest(history, n, rng) -> ndarray (n, dim)``. It keeps no state
the history cannot rebuild, so any worker can suggest and a resumed study continues exactly
where an uninterrupted one would. Pending trials (``history.pending``) are part of the input
so that parallel workers do not pile onto one point.

Each optimizer class declares what it can work with (:class:`Capabilities`); one function,
:func:`check_supported`, refuses a study that needs more, naming the optimizers that would do.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tuneful._registry import Component, build
from tuneful.errors import OptimizerError
from tuneful.records import History

__all__ = [
    "Capabilities",
    "Optimizer",
    "check_supported",
    "register_optimizer",
    "make_optimizer",
    "available_optimizers",
    "config_key",
]


def config_key(config: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable identity of a configuration (True and 1 differ), to tell repeats apart."""
    return tuple(sorted((name, type(value).__name__, value) for name, value in config.items()))


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What an optimizer can work with, declared on its class (``Optimizer.capabilities``).

    Attributes:
        multi_objective: studies with several objectives (``directions`` of length > 1).
        constraints: studies with constraints on the trials' outcomes.
        conditional: spaces with conditional parameters (``when=``).
        define_by_run: studies without a space, whose objective defines its parameters as it
            runs (the optimizer then sees the parameters seen so far as one flat space).
        batch: ``suggest(history, n, rng)`` with ``n > 1`` proposes points meant to be
            evaluated together (distinct, each aware of the earlier ones).
    """

    multi_objective: bool
    constraints: bool
    conditional: bool
    define_by_run: bool
    batch: bool


#: What tuneful assumed of every optimizer before optimizers declared their capabilities.
_UNDECLARED = Capabilities(
    multi_objective=True, constraints=False, conditional=True, define_by_run=True, batch=True
)


class Optimizer(Component, abc.ABC):
    """Base class of every optimizer. Subclasses set ``name``, declare ``capabilities`` and
    implement ``suggest``."""

    name: ClassVar[str] = "optimizer"
    #: What the optimizer can work with; :func:`check_supported` refuses studies that need
    #: more. A subclass that does not declare it keeps what every optimizer was taken to
    #: support before the declaration existed: everything but constraints.
    capabilities: ClassVar[Capabilities] = _UNDECLARED

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


_NEEDS = {
    "multi_objective": "several objectives",
    "constraints": "constraints",
    "conditional": "conditional parameters (when=)",
    "define_by_run": "define-by-run (no space)",
    "batch": "batch suggestions",
}


def check_supported(
    optimizer: Optimizer,
    *,
    directions: Sequence[str],
    space: Any,
    constraints: bool = False,
    batch: bool = False,
) -> None:
    """Refuse a study that needs what ``optimizer`` does not declare in its ``capabilities``.

    Args:
        optimizer: the study's optimizer.
        directions: the study's directions, one per objective.
        space: the study's :class:`~tuneful.space.Space`; None for a define-by-run study.
        constraints: whether the study has constraints.
        batch: whether several points will be asked of one ``suggest`` call.

    Raises:
        OptimizerError: names the optimizer, what the study needs that it lacks, and the
            registered optimizers that support all of it.

    Example:
        >>> import tuneful
        >>> from tuneful.optimizers import make_optimizer
        >>> space = tuneful.Space(x=tuneful.Float(0, 1))
        >>> two = ["minimize", "maximize"]
        >>> check_supported(make_optimizer("tpe", seed=0), directions=two, space=space)
        >>> check_supported(make_optimizer("cmaes", seed=0), directions=two, space=space)
        Traceback (most recent call last):
        ...
        tuneful.errors.OptimizerError: optimizer 'cmaes' handles one objective; this study has \
2 (minimize, maximize): optimizers that handle several objectives: auto, external, gp, grid, \
nsga2, nsga3, random, sobol, tpe
    """
    declared = type(optimizer).capabilities
    needs = {
        "multi_objective": len(directions) > 1,
        "constraints": constraints,
        "conditional": space is not None and bool(getattr(space, "is_conditional", False)),
        "define_by_run": space is None,
        "batch": batch,
    }
    needed = [key for key, needed in needs.items() if needed]
    missing = [key for key in needed if not getattr(declared, key)]
    if not missing:
        return
    what = []
    for key in missing:
        if key == "multi_objective":
            what.append(
                f"handles one objective; this study has {len(directions)} ({', '.join(directions)})"
            )
        else:
            what.append(f"does not handle {_NEEDS[key]}, which this study needs")
    able = [
        name
        for name, factory in sorted(_REGISTRY.items())
        if isinstance(capabilities := getattr(factory, "capabilities", None), Capabilities)
        and all(getattr(capabilities, key) for key in needed)
    ]
    wanted = " and ".join(_NEEDS[key] for key in needed)
    alternatives = (
        f"optimizers that handle {wanted}: {', '.join(able)}"
        if able
        else f"no registered optimizer handles {wanted}"
    )
    raise OptimizerError(f"optimizer {optimizer.name!r} {'; it '.join(what)}: {alternatives}")


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
