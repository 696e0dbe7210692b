"""What a benchmark task is: a space, objectives, an optional fidelity, a known optimum;
for a multi-objective task, how many objectives are optimized together, its constraints, its
hypervolume reference point and, when known, the front's maximum hypervolume."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneful.space import Space

__all__ = ["Task", "Objective", "Fidelity", "Constraint"]


@dataclass(frozen=True)
class Objective:
    """One metric a task reports and which way is better.

    Attributes:
        name: key in the dict ``Task.evaluate`` returns (e.g. ``"val_accuracy"``).
        direction: ``"minimize"`` or ``"maximize"``.
        optimum: the best value attainable, when known (BBOB's f_opt); regret is then exact.
    """

    name: str
    direction: str = "minimize"
    optimum: float | None = None


@dataclass(frozen=True)
class Constraint:
    """A bound on one metric a task reports: satisfied when ``metrics[metric] <= bound``.

    The constraint's value, as studies record it (``<= 0`` satisfied), is
    ``metrics[metric] - bound``.
    """

    metric: str
    bound: float

    def value(self, metrics: Mapping[str, float]) -> float:
        return float(metrics[self.metric]) - float(self.bound)


@dataclass(frozen=True)
class Fidelity:
    """A budget axis: epochs, training-set fraction, ... ``high`` is full fidelity."""

    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = False


@dataclass
class Task(abc.ABC):
    """A benchmark problem. Subclasses implement :meth:`evaluate`.

    Attributes:
        id: the string that :func:`tuneful.bench.load_task` resolves, e.g. ``bbob/f1/d2/i1``.
        space: the search space (fidelity parameters excluded).
        objectives: the metrics to optimize; the first is the primary one.
        fidelity: the budget axis, or None for black-box tasks.
        cost: name of the metric that measures an evaluation's cost (e.g. lcbench ``time``),
            or None when every full-fidelity evaluation costs 1.
        metadata: anything a report should show (citation, instance, dimension, ...).
        n_optimized: how many of ``objectives``, from the first, are optimized together: 1
            for a single-objective task (the others are only recorded), 2 or more for a
            multi-objective one (ZDT, DTLZ, ``bbob-biobj``, ``yahpo-mo``).
        constraints: bounds on metrics that a feasible evaluation satisfies.
        reference_point: the hypervolume reference point of a multi-objective task, one value
            per optimized objective in its own direction; None when the task has none (a
            benchmark report then derives one from every run's points).
        max_hypervolume: the true front's hypervolume for ``reference_point``, when known.
    """

    id: str
    space: Space
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None = None
    cost: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    n_optimized: int = 1
    constraints: tuple[Constraint, ...] = ()
    reference_point: tuple[float, ...] | None = None
    max_hypervolume: float | None = None

    @property
    def dim(self) -> int:
        return self.space.dim

    @property
    def optimized(self) -> tuple[Objective, ...]:
        """The objectives optimized together (the first ``n_optimized``)."""
        return self.objectives[: max(1, self.n_optimized)]

    @property
    def multi_objective(self) -> bool:
        return self.n_optimized > 1

    @property
    def primary(self) -> Objective:
        return self.objectives[0]

    @abc.abstractmethod
    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """Metrics of one configuration (at ``fidelity``, full when None).

        Raises:
            SpaceError: ``config`` is not a valid configuration of ``space``.
            ValueError: ``fidelity`` is outside [fidelity.low, fidelity.high].
        """

    def test_evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float] | None:
        """Metrics on held-out data for the honest protocol (tune on one, report the other).

        None when the task has no separate test measurement.
        """
        return None
