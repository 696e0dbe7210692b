"""What a multi-fidelity peer sees of its benchmark cell: a :class:`FidelitySession` that
evaluates configurations at integer budgets, records each evaluation as a trial of the cell's
study and counts the cost against the cell's budget (see :mod:`tuneful.bench.multifidelity`).

What a trial records: the user attributes ``cost`` (what it paid, in full evaluations' worth),
``budget`` (the largest budget it was evaluated at) and, when that is the full budget,
``metrics`` (every task metric at full fidelity); see :func:`record_cost`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import tuneful
from tuneful.bench.budget import BudgetExhausted
from tuneful.bench.fidelity import FidelityPlan
from tuneful.bench.tasks.base import Task
from tuneful.records import TrialState

__all__ = ["FidelitySession", "CurveTrial", "record_cost"]


class FidelitySession:
    """The runner's side of a multi-fidelity cell: evaluates, records, counts the cost.

    Peers call :meth:`evaluate` (one evaluation from scratch at a budget) or :meth:`start`
    (a trial trained budget after budget). Both raise :class:`BudgetExhausted` once the
    cell's cost is spent; a trial already started may finish.

    Attributes:
        plan: the task's budgets and cost model.
        budget: the cell's budget in full evaluations' worth.
        spent: what the recorded trials cost so far.
    """

    def __init__(
        self, study: tuneful.Study, task: Task, plan: FidelityPlan, budget: float, spent: float
    ) -> None:
        self.study = study
        self.task = task
        self.plan = plan
        self.budget = budget
        self.spent = spent
        self.sign = 1.0 if task.primary.direction == "minimize" else -1.0

    def _check(self) -> None:
        if self.spent >= self.budget:
            raise BudgetExhausted(f"cost budget of {self.budget:g} spent ({self.spent:.4g})")

    def start(self, config: Mapping[str, Any]) -> CurveTrial:
        """A new trial of ``config``, to be trained to increasing budgets.

        Raises:
            BudgetExhausted: the budget is spent.
        """
        self._check()
        return CurveTrial(self, self.study.ask(fixed_params=dict(config)))

    def evaluate(self, config: Mapping[str, Any], budget: int) -> float:
        """Evaluate ``config`` at ``budget`` from scratch, as its own trial; its loss (lower
        is better; NaN when the evaluation failed).

        Raises:
            BudgetExhausted: the budget is spent.
        """
        with self.start(config) as trial:
            loss = trial.at(budget)
            trial.finish()
        return loss


class CurveTrial:
    """One recorded trial that a peer trains to increasing budgets (a context manager).

    :meth:`at` evaluates the trial's configuration at a budget; :meth:`finish` ends it
    normally. Leaving the ``with`` block without ``finish`` records it stopped early.
    """

    def __init__(self, session: FidelitySession, trial: tuneful.Trial) -> None:
        self.session = session
        self.trial = trial
        self.evaluated: list[tuple[int, dict[str, float]]] = []
        self._closed = False

    def __enter__(self) -> CurveTrial:
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if self._closed or (kind is not None and not issubclass(kind, Exception)):
            return  # Ctrl-C: the trial stays unfinished, like a cut black-box trial
        if kind is not None:
            self._close(TrialState.FAIL, error=f"{kind.__name__}: {error}")
        else:
            self._close(TrialState.PRUNED)

    def at(
        self, budget: int, metrics: Mapping[str, float] | None = None, *, record: bool = True
    ) -> float:
        """The loss (lower is better) of the configuration at ``budget``.

        Args:
            metrics: the task's metrics at ``budget`` when the caller has them already (a
                batched curve); evaluated here otherwise.
            record: report the value on the recorded trial's curve (a peer that looks at
                every epoch may record only the budgets that matter; the cost is the same).
        """
        plan = self.session.plan
        if metrics is None:
            metrics = self.session.task.evaluate(self.trial.params, plan.value(budget))
        clean = {k: float(v) for k, v in metrics.items()}
        self.evaluated.append((int(budget), clean))
        value = clean[self.session.task.primary.name]
        if record and np.isfinite(value):
            self.trial.report(step=int(budget), value=value)
        return self.session.sign * value

    def finish(self) -> None:
        """End the trial: COMPLETE when it reached full fidelity, PRUNED otherwise."""
        reached = max((b for b, _ in self.evaluated), default=None)
        full = reached == self.session.plan.max_budget
        self._close(TrialState.COMPLETE if full else TrialState.PRUNED)

    def _close(self, state: TrialState, error: str | None = None) -> None:
        self._closed = True
        session, trial = self.session, self.trial
        cost = record_cost(trial, session.plan, self.evaluated)
        session.spent += cost
        top = self.evaluated[-1][1] if self.evaluated else {}
        value = top.get(session.task.primary.name)
        if state is TrialState.COMPLETE and value is not None and np.isfinite(value):
            session.study.tell(trial, value)
        elif state is TrialState.FAIL or not self.evaluated:
            session.study.tell(trial, state=TrialState.FAIL, error=error or "no evaluation")
        else:
            session.study.tell(trial, state=TrialState.PRUNED)


def record_cost(
    trial: tuneful.Trial, plan: FidelityPlan, evaluated: list[tuple[int, dict[str, float]]]
) -> float:
    """Attach ``cost``, ``budget`` and (at full fidelity) ``metrics`` to ``trial``."""
    cost = plan.trial_cost(evaluated)
    trial.set_user_attr("cost", cost)
    if evaluated:
        budget, metrics = max(evaluated, key=lambda pair: pair[0])
        trial.set_user_attr("budget", budget)
        if budget == plan.max_budget:
            trial.set_user_attr("metrics", metrics)
    return cost
