"""Median stopping (Golovin et al. 2017, "Google Vizier"): stop a trial at step t when its
best value so far is worse than the median, over completed trials, of their running averages
up to step t.

With several objectives there is no median to compare with (a trial's vector can be worse
than the per-objective medians in one objective and on the Pareto front all the same):
``scheduler="median"`` refuses such a study with a :class:`~tuneful.errors.SchedulerError`
that points to ``"asha"`` / ``"hyperband"``, which rank by non-dominated sorting."""

from __future__ import annotations

from typing import Any

import numpy as np

from tuneful._validation import check_int
from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.base import Decision, RungScheduler, sign_of

__all__ = ["MedianStopping"]


class MedianStopping(RungScheduler):
    """The median stopping rule (``scheduler="median"``).

    Args:
        n_startup_trials: completed trials needed before anything is stopped.
        n_warmup_steps: steps below this are never judged.
        min_budget / max_budget / reduction_factor: only shape the budgets
            :meth:`tuneful.Trial.budgets` hands out; the rule itself judges every report.
    """

    name = "median"
    single_objective_why = (
        "the median of several objectives' running averages is not defined (a median per "
        "objective would stop trials on the Pareto front)"
    )

    def __init__(
        self,
        *,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        min_budget: int = 1,
        max_budget: int | None = None,
        reduction_factor: float = 3,
    ) -> None:
        super().__init__(
            min_budget=min_budget, max_budget=max_budget, reduction_factor=reduction_factor
        )
        self.n_startup_trials = check_int(
            self.name, "n_startup_trials", n_startup_trials, minimum=1, error=SchedulerError
        )
        self.n_warmup_steps = check_int(
            self.name, "n_warmup_steps", n_warmup_steps, minimum=0, error=SchedulerError
        )

    def settings(self) -> dict[str, Any]:
        return {
            "n_startup_trials": self.n_startup_trials,
            "n_warmup_steps": self.n_warmup_steps,
            **super().settings(),
        }

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        self.check_directions(history.directions)
        step = trial.last_step
        if step is None or step < self.n_warmup_steps:
            return None
        sign = sign_of(history)
        averages = []
        for other in history.trials:
            if other.state is not TrialState.COMPLETE or other.number == trial.number:
                continue
            upto = [sign * v for s, v in other.intermediate.items() if s <= step]
            if upto:
                averages.append(float(np.mean(upto)))
        if len(averages) < self.n_startup_trials:
            return None
        median = float(np.median(averages))
        best = min(sign * v for s, v in trial.intermediate.items() if s <= step)
        if best <= median:
            return None
        reason = (
            f"at step {step} its best value {sign * best:.6g} is worse than the median "
            f"{sign * median:.6g} of the running averages of {len(averages)} completed trials"
        )
        return Decision.stop_now(
            reason, attrs={"pruned": {"step": step, "rule": "median", "reason": reason}}
        )
