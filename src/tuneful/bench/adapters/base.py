"""Optimizer adapters: run a peer library (or tuneful) on a task, recording every evaluation.

A peer adapter proposes configurations with its own defaults and hands each one to
``evaluate``, which the runner supplies: it records the evaluation as a trial of the run's
study (so runs are resumable and browsable like any study) and returns the loss (lower is
better) for the peer to minimize.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tuneful.bench.tasks.base import Task
from tuneful.errors import SpecError

if TYPE_CHECKING:
    from tuneful.bench.session import FidelitySession

__all__ = [
    "Adapter",
    "MultiFidelityAdapter",
    "MultiObjectiveAdapter",
    "Evaluate",
    "EvaluateObjectives",
]

#: ``evaluate(config, fidelity=None) -> loss``; raises BudgetExhausted when the run is over.
Evaluate = Callable[..., float]


class Adapter(abc.ABC):
    """A way to run one optimizer on a task. Subclasses set ``name`` and ``package``."""

    name: str = "adapter"
    package: str | None = None  # the distribution that must be installed, for reports

    def unavailable_reason(self) -> str | None:
        """Why this adapter cannot run here (package missing, ...), or None if it can."""
        if self.package is None:
            return None
        from importlib.util import find_spec

        module = self.package.replace("-", "_")
        if find_spec(module) is None:
            return f"{self.package} is not installed (pip install {self.package})"
        return None

    def version(self) -> str | None:
        if self.package is None:
            return None
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.package)
        except PackageNotFoundError:
            return None

    def settings(self) -> Mapping[str, Any]:
        """What the adapter configures; an empty dict means the peer's defaults."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Name, package, version and settings: recorded with every run."""
        return {
            "name": self.name,
            "package": self.package,
            "version": self.version(),
            "settings": dict(self.settings()),
            "defaults": not self.settings(),
        }

    @abc.abstractmethod
    def run(self, task: Task, *, budget: int, seed: int, evaluate: Evaluate) -> None:
        """Propose ``budget`` configurations of ``task.space``, calling ``evaluate`` on each.

        ``evaluate`` takes a configuration as a plain dict (valid for ``task.space``: right
        types, inactive conditional parameters absent) and returns its loss. It raises
        :class:`~tuneful.bench.budget.BudgetExhausted` when the run is over; adapters let it
        propagate.
        """


class MultiFidelityAdapter(Adapter):
    """A peer that schedules its own budgets; it runs only in multi-fidelity benchmarks.

    Instead of ``evaluate`` it gets a :class:`~tuneful.bench.session.FidelitySession`:
    ``session.evaluate(config, budget)`` evaluates from scratch at an integer budget,
    ``session.start(config)`` opens a trial trained budget after budget, and
    ``session.plan`` holds the task's budgets (``min_budget``, ``max_budget``).
    """

    def run(self, task: Task, *, budget: int, seed: int, evaluate: Evaluate) -> None:
        raise SpecError(
            f"{self.name} is a multi-fidelity optimizer: run it in a multi-fidelity "
            "benchmark (Benchmark(..., multi_fidelity=True))"
        )

    @abc.abstractmethod
    def run_multi_fidelity(self, task: Task, *, seed: int, session: FidelitySession) -> None:
        """Propose and evaluate through ``session``; it raises BudgetExhausted (which
        adapters let propagate) once the cell's cost is spent."""


#: A multi-objective peer's callback: config -> (objectives in the task's directions,
#: constraint values, <= 0 satisfied; empty without constraints).
EvaluateObjectives = Callable[[Mapping[str, Any]], tuple[list[float], list[float]]]


class MultiObjectiveAdapter(Adapter):
    """A peer that optimizes several objectives (and honours constraints).

    On a task with one objective it runs through :meth:`Adapter.run` like any peer; on a
    multi-objective task the runner calls :meth:`run_multi_objective`, whose ``evaluate``
    returns every optimized objective, in the task's directions, and the constraint values.
    """

    @abc.abstractmethod
    def run_multi_objective(
        self, task: Task, *, budget: int, seed: int, evaluate: EvaluateObjectives
    ) -> None:
        """Propose configurations until ``evaluate`` raises BudgetExhausted (let it
        propagate, like the RuntimeError it raises when the task fails)."""
