"""What optimizers see of a multi-fidelity study: every trial's value at one budget.

BOHB (Falkner et al. 2018) models the largest budget at which enough configurations have been
observed, so that the model improves as trials pass higher rungs, instead of learning only
from the few trials that ran in full. The view below does the same over the storage's trials:
it picks the highest of the scheduler's budgets with at least ``dim + 2`` observations (the
one with the most when none has that many), and shows each trial that was trained that far
as COMPLETE with its curve value there (a completed trial's own value at the full budget).
Trials that stopped below it stay PRUNED; running ones stay pending.

A study whose objective reports nothing gets its history back unchanged.
"""

from __future__ import annotations

import dataclasses

from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.base import Scheduler, value_at

__all__ = ["model_view"]


def _value(trial: TrialRecord, budget: int, full: int | None) -> float | None:
    if trial.state is TrialState.COMPLETE and trial.values is not None:
        last = trial.last_step
        if last is None or budget >= last or (full is not None and budget >= full):
            return trial.values[0]
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
        return value_at(trial, budget)
    return None


def model_view(history: History, scheduler: Scheduler) -> History:
    """``history`` as optimizers should model it under ``scheduler`` (see the module doc).

    The returned history's ``fidelity`` is ``{"budget": b, "max_budget": B, "points": n}``.
    """
    if len(history.directions) != 1 or not any(t.intermediate for t in history.trials):
        return history
    full = scheduler.max_budget_of(history)
    budgets = scheduler.model_budgets(history)
    if not budgets:
        return history
    needed = (history.space.dim if history.space is not None else 0) + 2
    best: tuple[int, int, dict[int, float]] | None = None
    for budget in reversed(budgets):
        values: dict[int, float] = {}
        for trial in history.trials:
            value = _value(trial, budget, full)
            if value is not None:
                values[trial.number] = value
        if len(values) >= needed:
            best = (budget, len(values), values)
            break
        if best is None or len(values) > best[1]:
            best = (budget, len(values), values)
    assert best is not None
    budget, count, values = best
    trials = []
    for trial in history.trials:
        if trial.number in values:  # a running trial past the budget counts as observed
            observed = (values[trial.number],)
            trials.append(dataclasses.replace(trial, state=TrialState.COMPLETE, values=observed))
        elif trial.state is TrialState.COMPLETE:
            trials.append(dataclasses.replace(trial, state=TrialState.PRUNED))
        else:
            trials.append(trial)
    view = History(
        history.space, history.directions, trials, number=history.number, seed=history.seed
    )
    view.fidelity = {"budget": budget, "max_budget": full, "points": count}
    return view
