"""One benchmark run as the statistics see it: the evaluations of one optimizer on one task
with one seed, in order. A multi-objective run also keeps every evaluation's objective
vector and feasibility; its ``losses`` are then a hypervolume regret (see
:mod:`tuneful.bench.hypervolume`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Run", "run_of_cell"]


@dataclass(frozen=True)
class Run:
    """The trace of one (optimizer, task, seed) cell.

    Attributes:
        optimizer: the optimizer's label in reports (``"auto"``, ``"optuna-tpe"``, ...).
        task: the task id.
        seed: the run's seed.
        losses: shape (n,): the primary objective of each evaluation in the order they
            were made, oriented so that lower is better (maximized metrics are negated);
            NaN for failed evaluations.
        costs: shape (n,): what each evaluation cost (1.0 per full-fidelity evaluation of a
            black-box task; the fidelity fraction or the surrogate's runtime otherwise).
        optimum: the best attainable loss in the same orientation, when the task knows it.
        budget: the number of evaluations (or the cost) the run was allowed.
        meta: the optimizer's name, version and settings, the task's metadata, ...
        points: shape (n, m), for a multi-objective run: each evaluation's objectives,
            oriented so that lower is better; NaN rows for failed evaluations. None for a
            single-objective run.
        feasible: shape (n,): whether each evaluation satisfied the task's constraints
            (all True without constraints; False for failures). None when ``points`` is.
        normalized: ``losses`` are already a regret in [0, 1] with 0 the best attainable
            (a hypervolume regret), so the statistics take them as they are instead of
            normalizing them by the task's range.
    """

    optimizer: str
    task: str
    seed: int
    losses: np.ndarray
    costs: np.ndarray
    optimum: float | None = None
    budget: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    points: np.ndarray | None = None
    feasible: np.ndarray | None = None
    normalized: bool = False

    def __post_init__(self) -> None:
        losses = np.asarray(self.losses, dtype=float).reshape(-1)
        costs = np.asarray(self.costs, dtype=float).reshape(-1)
        if losses.shape != costs.shape:
            raise ValueError(
                f"run {self.optimizer}/{self.task}/{self.seed}: losses has shape "
                f"{losses.shape} but costs has {costs.shape}; expected one cost per loss"
            )
        object.__setattr__(self, "losses", losses)
        object.__setattr__(self, "costs", costs)
        if self.points is not None:
            points = np.asarray(self.points, dtype=float)
            feasible = np.isfinite(points).all(axis=1) if points.ndim == 2 else np.zeros(0, bool)
            if self.feasible is not None:
                feasible = np.asarray(self.feasible, dtype=bool).reshape(-1)
            if points.ndim != 2 or len(points) != len(losses) or feasible.shape != losses.shape:
                raise ValueError(
                    f"run {self.optimizer}/{self.task}/{self.seed}: points has shape "
                    f"{points.shape} and feasible {feasible.shape} for {len(losses)} losses; "
                    "expected (n, objectives) and (n,)"
                )
            object.__setattr__(self, "points", points)
            object.__setattr__(self, "feasible", feasible)

    @property
    def multi_objective(self) -> bool:
        return self.points is not None

    @property
    def incumbent(self) -> np.ndarray:
        """Best loss so far after each evaluation (NaN until the first success)."""
        filled = np.where(np.isnan(self.losses), np.inf, self.losses)
        best = np.minimum.accumulate(filled) if filled.size else filled
        return np.where(np.isinf(best), np.nan, best)

    @property
    def cumulative_cost(self) -> np.ndarray:
        return np.cumsum(self.costs)


def run_of_cell(
    attrs: Mapping[str, Any],
    test_metrics: Any,
    losses: list[float],
    costs: list[float],
    *,
    complete: bool,
    points: np.ndarray | None = None,
    feasible: np.ndarray | None = None,
    **meta: Any,
) -> Run:
    """The :class:`Run` of a benchmark cell from its study's ``bench`` attribute ``attrs``,
    its losses (already oriented) and costs; ``meta`` adds to what the report shows."""
    sign = 1.0 if attrs["direction"] == "minimize" else -1.0
    optimum = attrs.get("optimum")
    return Run(
        optimizer=attrs["optimizer"],
        task=attrs["task"],
        seed=int(attrs["seed"]),
        losses=np.array(losses, dtype=float),
        costs=np.array(costs, dtype=float),
        optimum=None if optimum is None else sign * float(optimum),
        budget=float(attrs["budget"]),
        meta={
            "optimizer": attrs.get("optimizer_info", {}),
            "objective": attrs.get("objective"),
            "direction": attrs.get("direction"),
            "task_metadata": attrs.get("task_metadata", {}),
            "test_metrics": test_metrics,
            "complete": complete,
            **{k: attrs[k] for k in _MULTI_OBJECTIVE_ATTRS if k in attrs},
            **meta,
        },
        points=points,
        feasible=feasible,
    )


#: What a multi-objective cell's ``bench`` attribute adds, passed on to the run's ``meta``.
_MULTI_OBJECTIVE_ATTRS = (
    "objectives",
    "directions",
    "constraints",
    "reference_point",
    "max_hypervolume",
)
