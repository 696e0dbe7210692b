"""What optimizers see of a multi-fidelity study: every trial's value at one budget.

BOHB (Falkner et al. 2018) models the largest budget at which enough configurations have been
observed, so that the model improves as trials pass higher rungs, instead of learning only
from the few trials that ran in full. The view below does the same over the storage's trials:
it picks the highest of the scheduler's budgets with at least ``dim + 2`` observations (the
one with the most when none has that many), and shows each trial that was trained that far
as COMPLETE with its curve value there (a completed trial's own value at the full budget).
Trials stopped below it stay PRUNED and the model does not see them (showing them with the
worst value seen at the budget, as Optuna's TPE ranks pruned trials last, made the GP's
proposals worse on YAHPO lcbench: a pruned configuration is not a bad one at full budget) —
except when the chosen budget is the full one and a learning-curve model stopped the trial:
then the trial is shown with the final value the model predicted for it when it stopped it
(``rung_<b>["predicted"]``), the model's best estimate of what the optimizer would have seen;
such predictions count toward the ``dim + 2`` observations that choose the full budget.
On YAHPO (lcbench 7593/34539/167149, rbv2_xgboost 1049/334; 3 seeds, 100 full evaluations'
worth) that cut the default's mean normalized regret at 100 from 0.049 to 0.036; on the whole
multi-fidelity suite (8 tasks, 10 seeds), leaving the predictions out of today's default
raises it from 0.038 to 0.061.
Running trials stay pending; failed ones stay failed.

A study whose objective reports nothing gets its history back unchanged.
"""

from __future__ import annotations

import dataclasses

from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.base import Scheduler, value_at

__all__ = ["model_view", "ModelView"]


def _predicted_final(trial: TrialRecord) -> float | None:
    """The final value a learning-curve model predicted for a trial it stopped (None when
    no model judged it: stopped by a rank rule, or not stopped)."""
    if trial.state is not TrialState.PRUNED:
        return None
    latest: tuple[int, float] | None = None
    for key, record in trial.system_attrs.items():
        if key.startswith("rung_") and isinstance(record, dict) and "predicted" in record:
            rung = int(key[5:])
            if latest is None or rung > latest[0]:
                latest = (rung, float(record["predicted"]))
    return None if latest is None else latest[1]


def _value(trial: TrialRecord, budget: int, full: int | None) -> float | None:
    if trial.state is TrialState.COMPLETE and trial.values is not None:
        last = trial.last_step
        if last is None or budget >= last or (full is not None and budget >= full):
            return trial.values[0]
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING):
        return value_at(trial, budget)
    return None


class ModelView:
    """Builds the view (see the module docstring), keeping each budget's observed values
    in step with the history by record identity (records are replaced, never mutated, when
    a trial changes), so a call costs one scan of the trial list."""

    def __init__(self) -> None:
        self._key: tuple[tuple[int, ...], int | None] | None = None
        self._seen: dict[int, TrialRecord] = {}
        self._by_budget: dict[int, dict[int, float]] = {}
        self._predicted: dict[int, float] = {}  # stopped trials' predicted finals
        self._shown: dict[int, tuple[int, TrialRecord]] = {}

    def _sync(self, history: History, budgets: list[int], full: int | None) -> None:
        key = (tuple(budgets), full)
        if key != self._key or len(history.trials) < len(self._seen):
            self._key = key
            self._seen = {}
            self._by_budget = {budget: {} for budget in budgets}
            self._predicted = {}
            self._shown = {}
        for trial in history.trials:
            if self._seen.get(trial.number) is trial:
                continue
            self._seen[trial.number] = trial
            self._shown.pop(trial.number, None)
            for budget, column in self._by_budget.items():
                value = _value(trial, budget, full)
                if value is None:
                    column.pop(trial.number, None)
                else:
                    column[trial.number] = value
            predicted = _predicted_final(trial)
            if predicted is None:
                self._predicted.pop(trial.number, None)
            else:
                self._predicted[trial.number] = predicted

    def __call__(self, history: History, scheduler: Scheduler) -> History:
        if len(history.directions) != 1 or not history.has_reports:
            return history
        full = scheduler.max_budget_of(history)
        budgets = scheduler.model_budgets(history)
        if not budgets:
            return history
        self._sync(history, budgets, full)
        needed = (history.space.dim if history.space is not None else 0) + 2
        chosen = budgets[0]
        for budget in reversed(budgets):
            count = len(self._by_budget[budget])
            if budget == full:  # with the final values the model predicted
                count += sum(1 for n in self._predicted if n not in self._by_budget[budget])
            if count >= needed:
                chosen = budget
                break
            if len(self._by_budget[budget]) > len(self._by_budget[chosen]):
                chosen = budget
        values = self._by_budget[chosen]
        points = len(values)
        if chosen == full and self._predicted:
            values = {**self._predicted, **values}
        trials = []
        for trial in history.trials:
            if trial.number in values:  # a running trial past the budget counts as observed
                cached = self._shown.get(trial.number)
                if cached is None or cached[0] != chosen:
                    shown = dataclasses.replace(
                        trial, state=TrialState.COMPLETE, values=(values[trial.number],)
                    )
                    cached = (chosen, shown)
                    self._shown[trial.number] = cached
                trials.append(cached[1])
            elif trial.state is TrialState.COMPLETE:
                trials.append(dataclasses.replace(trial, state=TrialState.PRUNED))
            else:
                trials.append(trial)
        view = History(
            history.space,
            history.directions,
            trials,
            number=history.number,
            seed=history.seed,
            has_reports=True,
        )
        view.fidelity = {"budget": chosen, "max_budget": full, "points": points}
        return view


def model_view(history: History, scheduler: Scheduler) -> History:
    """``history`` as optimizers should model it under ``scheduler`` (see the module doc).

    The returned history's ``fidelity`` is ``{"budget": b, "max_budget": B, "points": n}``.
    """
    return ModelView()(history, scheduler)
