"""One benchmark run as the statistics see it: the evaluations of one optimizer on one task
with one seed, in order."""

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
    """

    optimizer: str
    task: str
    seed: int
    losses: np.ndarray
    costs: np.ndarray
    optimum: float | None = None
    budget: float | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

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
            **meta,
        },
    )
