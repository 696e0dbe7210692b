"""The default scheduler: explore by successive halving, then judge every trial by
learning-curve prediction.

Used when a study names no scheduler. It does nothing for objectives that never report. For
those that do, it works in two phases:

- **Exploration**, until ``min_curves`` trials have completed: new trials are judged by
  successive halving's rank rule from the second rung (``min_budget * reduction_factor``)
  on. The first rung is left out because it says least about the final value: on YAHPO
  lcbench 7593 and 167149 the first epoch's accuracy is even anti-correlated with the last
  one (Spearman −0.09 and −0.11 over 150 random configurations; 0.81 at epoch 3).
- **Prediction**, once ``min_curves`` curves are complete: each new trial is judged from the
  third rung (``min_budget * reduction_factor**2``) on by the learning-curve model of Baker
  et al. 2017 (:class:`~tuneful.schedulers.curve.CurvePredictor`) and stops when P(its final
  value beats the median of the completed trials) < ``delta`` (``quantile=0.5``,
  ``delta=0.01``). The optimizer's proposals are good by then, so they run in full unless
  the model is confident they are hopeless; comparing with the median rather than the best
  (Baker et al.) keeps the near-best proposals running, which the optimizer needs to see in
  full. Judging at the first two rungs as well (where the model has the least of the curve
  to go on, and where every budget is trained from scratch each finished trial pays for
  them) left the mean normalized regret at 100 full evaluations' worth on the YAHPO suite at
  0.041 instead of 0.038.

In both phases a trial is judged only at rungs up to ``max_budget / reduction_factor``: a
stop later saves less than a third of the trial, and when the objective retrains from scratch
at each budget (a training-set fraction, say) a late rung costs more than it can save.

When the full budget leaves too few rungs, trials start at the highest rung that is left.
The full budget is ``max_budget`` when given, else the longest completed curve (trials
created before any trial completed start in the first bracket). Measurements behind the
choices: docs/benchmarks.md, "Multi-fidelity".
"""

from __future__ import annotations

from typing import Any

from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.curve import CurvePredictor
from tuneful.schedulers.halving import hyperband_brackets

__all__ = ["AutoScheduler"]


class AutoScheduler(CurvePredictor):
    """The fidelity-aware default (``scheduler="auto"``); settings as
    :class:`~tuneful.schedulers.curve.CurvePredictor`, with ``quantile`` 0.5 and ``delta``
    0.01 by default."""

    name = "auto"

    def __init__(self, *, quantile: float = 0.5, delta: float = 0.01, **settings: Any) -> None:
        super().__init__(quantile=quantile, delta=delta, **settings)

    def brackets(self, history: History) -> list[tuple[int, int]]:
        """Hyperband's brackets for the full budget known now (empty when none is); bracket
        s starts at ``min_budget * reduction_factor**s``."""
        full = self.max_budget_of(history)
        if full is None or full <= self.min_budget:
            return []
        return hyperband_brackets(self.min_budget, full, self.reduction_factor)

    def assign(self, history: History) -> dict[str, Any]:
        if not history.has_reports:  # nothing to schedule (yet): skip the scan
            return {}
        brackets = self.brackets(history)
        if not brackets:
            return {}
        full = self.max_budget_of(history)
        assert full is not None  # there are brackets
        # exploring: successive halving from the second rung; then the model from the third
        first = 1 if self.exploring(history) else 2
        while first > 0 and self.min_budget * self.reduction_factor ** (first + 1) > full:
            first -= 1  # no rung to judge at up to max_budget / reduction_factor: start lower
        return {"bracket": first}

    def exploring(self, history: History) -> bool:
        """Whether fewer than ``min_curves`` trials have completed (the model cannot judge
        yet; new trials start at the second rung, later ones at the third)."""
        completed = 0
        for trial in history.trials:
            if trial.state is TrialState.COMPLETE:
                completed += 1
                if completed >= self.min_curves:
                    return False
        return True

    def rungs(self, trial: TrialRecord, history: History) -> list[int]:
        """The trial's rungs up to ``max_budget / reduction_factor``."""
        rungs = super().rungs(trial, history)
        full = self.max_budget_of(history)
        if full is None:
            return rungs
        return [rung for rung in rungs if rung * self.reduction_factor <= full]
