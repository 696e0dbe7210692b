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

No trial is stopped before ``min_completed`` (5) trials have completed: until then every
rung a trial reaches is recorded as passed (``rule`` "none"). A study of a few dozen trials
otherwise ended with a handful of full results (the rank rule at two rungs keeps about one
trial in η² = 9, and fewer when the first trials happen to be the best), too few to compare
or for the optimizer to model the full budget; with one worker the first five trials run in
full, and in any study at least five do (or all, in a smaller one). A large study pays for
those few full runs once: on the multi-fidelity benchmark's tasks the default runs about 60
of 126 trials in full at 100 full evaluations' worth anyway.

When the full budget leaves too few rungs, trials start at the highest rung that is left.
The full budget is ``max_budget`` when given, else the longest completed curve; trials
created before any trial completed explore from the second rung like the others (a trial
placed before anything was reported records no bracket and is read as in that one).
Measurements behind the choices: docs/benchmarks.md, "Multi-fidelity".
"""

from __future__ import annotations

from typing import Any

from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.base import Decision, check_int, value_at
from tuneful.schedulers.curve import CurvePredictor
from tuneful.schedulers.halving import hyperband_brackets

__all__ = ["AutoScheduler", "MIN_COMPLETED"]

#: Trials that must have completed before the default stops any.
MIN_COMPLETED = 5


class AutoScheduler(CurvePredictor):
    """The fidelity-aware default (``scheduler="auto"``); settings as
    :class:`~tuneful.schedulers.curve.CurvePredictor`, with ``quantile`` 0.5 and ``delta``
    0.01 by default, and:

    Args:
        min_completed: no trial is stopped before this many trials have completed, so that
            a small study still has that many full results to compare (and the rank rule
            that many trials at each of its rungs).
    """

    name = "auto"

    def __init__(
        self,
        *,
        quantile: float = 0.5,
        delta: float = 0.01,
        min_completed: int = MIN_COMPLETED,
        **settings: Any,
    ) -> None:
        super().__init__(quantile=quantile, delta=delta, **settings)
        self.min_completed = check_int(self.name, "min_completed", min_completed, minimum=0)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "min_completed": self.min_completed}

    def brackets(self, history: History) -> list[tuple[int, int]]:
        """Hyperband's brackets for the full budget known now (empty when none is); bracket
        s starts at ``min_budget * reduction_factor**s``."""
        full = self.max_budget_of(history)
        if full is None or full <= self.min_budget:
            return []
        return hyperband_brackets(self.min_budget, full, self.reduction_factor)

    def bracket_of(self, trial: TrialRecord) -> int:
        """The trial's bracket; a trial placed before any report (when nothing said whether
        the objective reports at all) explores like the others placed before a completion."""
        bracket = trial.system_attrs.get("bracket")
        return self._first_bracket(1, self.max_budget) if bracket is None else int(bracket)

    def _first_bracket(self, first: int, full: int | None) -> int:
        """``first``, lowered until the bracket has a rung to judge at up to
        ``full / reduction_factor`` (unchanged while the full budget is unknown)."""
        if full is None:
            return first
        while first > 0 and self.min_budget * self.reduction_factor ** (first + 1) > full:
            first -= 1
        return first

    def assign(self, history: History) -> dict[str, Any]:
        if not history.has_reports:  # nothing to schedule (yet): skip the scan
            return {}
        full = self.max_budget_of(history)
        if full is not None and full <= self.min_budget:
            return {}
        # exploring: successive halving from the second rung; then the model from the third
        return {"bracket": self._first_bracket(1 if self.exploring(history) else 2, full)}

    def exploring(self, history: History) -> bool:
        """Whether fewer than ``min_curves`` trials have completed (the model cannot judge
        yet; new trials start at the second rung, later ones at the third)."""
        return _completed(history, self.min_curves) < self.min_curves

    def rungs(self, trial: TrialRecord, history: History) -> list[int]:
        """The trial's rungs up to ``max_budget / reduction_factor``."""
        rungs = super().rungs(trial, history)
        full = self.max_budget_of(history)
        if full is None:
            return rungs
        return [rung for rung in rungs if rung * self.reduction_factor <= full]

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        if _completed(history, self.min_completed) >= self.min_completed:
            return super().decide(trial, history)
        why = f"fewer than {self.min_completed} trials have completed; none is stopped yet"
        attrs: dict[str, Any] = {
            f"rung_{rung}": {
                "value": value_at(trial, rung),
                "rule": "none",
                "passed": True,
                "why": why,
            }
            for rung in self.new_rungs(trial, history)
        }
        return Decision(stop=False, reason=why, attrs=attrs) if attrs else None


def _completed(history: History, enough: int) -> int:
    """The number of COMPLETE trials, counted up to ``enough``."""
    completed = 0
    for trial in history.trials:
        if completed >= enough:
            break
        if trial.state is TrialState.COMPLETE:
            completed += 1
    return completed
