"""What a benchmark task is: a space, objectives, an optional fidelity, a known optimum."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneful.space import Space

__all__ = ["Task", "Objective", "Fidelity"]


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
    """

    id: str
    space: Space
    objectives: tuple[Objective, ...]
    fidelity: Fidelity | None = None
    cost: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return self.space.dim

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
