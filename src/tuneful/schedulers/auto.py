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

Enough trials complete: a trial that fails its rung goes on (its record says ``kept`` and
why) while stopping it would leave fewer than ``min(min_completed, ceil(n / η))`` of the n
finished trials complete (``min_completed`` 3). Hence, whatever the order of the values and
the number of workers, a study whose n finished trials were stopped only by the scheduler
ends with at least that many full results (failed trials aside): 1 of 1–3 trials, 2 of 4–6,
3 from 7 trials on; the rank rule's own passes come on top (4–5 of 16 trials of the guide's
example, 5–8 of 40). The rank rule at two rungs alone keeps about one trial in η² = 9, and
fewer when the first trials happen to be the best: 36 of 40 trials of the guide's example
were stopped. Each full run it keeps costs a large study as much as a small one: on the
multi-fidelity benchmark (8 tasks, 10 seeds) the mean normalized regret at 10 / 30 / 100
full evaluations' worth was 0.096 / 0.046 / 0.018 before the rule, 0.096 / 0.049 / 0.018
with ``min_completed`` 3, 0.099 / 0.051 / 0.020 with 5, and 0.120 / 0.054 / 0.017 when the
first five trials were simply never stopped (exploration then ended after 34 lcbench trials
instead of 84). Set ``min_completed`` higher for more full results in a small study.

**Several objectives**: there is no single curve for the model, so every trial is judged as
in the exploration phase, by MO-ASHA's rank rule (non-dominated sorting, then crowding
distance; :mod:`.multi`) from the second rung up to ``max_budget / reduction_factor``, with
the same ``min_completed`` guarantee. Only trials that report every objective's value
(:func:`~tuneful.schedulers.multi.report_values`) are judged; one number per step
(``trial.report``) leaves the trial alone, as with no scheduler.

When the full budget leaves too few rungs, trials start at the highest rung that is left.
The full budget is ``max_budget`` when given, else the longest completed curve; trials
created before any trial completed explore from the second rung like the others (a trial
placed before anything was reported records no bracket and is read as in that one).
Measurements behind the choices: docs/benchmarks.md, "Multi-fidelity".
"""

from __future__ import annotations

import math
from typing import Any

from tuneful._validation import check_int
from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.base import Decision
from tuneful.schedulers.curve import CurvePredictor
from tuneful.schedulers.halving import hyperband_brackets
from tuneful.schedulers.multi import values_at

__all__ = ["AutoScheduler", "MIN_COMPLETED"]

#: How many full results the default keeps for a study to compare (see the module doc).
MIN_COMPLETED = 3


class AutoScheduler(CurvePredictor):
    """The fidelity-aware default (``scheduler="auto"``); settings as
    :class:`~tuneful.schedulers.curve.CurvePredictor`, with ``quantile`` 0.5 and ``delta``
    0.01 by default, and:

    Args:
        min_completed: a study keeps at least ``min(min_completed, ceil(n / η))`` of its n
            finished trials complete: a trial that fails its rung goes on while stopping it
            would break that.
    """

    name = "auto"
    multi_objective = True

    def __init__(
        self,
        *,
        quantile: float = 0.5,
        delta: float = 0.01,
        min_completed: int = MIN_COMPLETED,
        **settings: Any,
    ) -> None:
        super().__init__(quantile=quantile, delta=delta, **settings)
        self.min_completed = check_int(
            self.name, "min_completed", min_completed, minimum=0, error=SchedulerError
        )

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
        yet; new trials start at the second rung, later ones at the third). Always, with
        several objectives: the model does not apply, the rank rule judges every trial."""
        if len(history.directions) > 1:
            return True
        return _completed(history, self.min_curves) < self.min_curves

    def rungs(self, trial: TrialRecord, history: History) -> list[int]:
        """The trial's rungs up to ``max_budget / reduction_factor``."""
        rungs = super().rungs(trial, history)
        full = self.max_budget_of(history)
        if full is None:
            return rungs
        return [rung for rung in rungs if rung * self.reduction_factor <= full]

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        """As :class:`~tuneful.schedulers.curve.CurvePredictor`; with several objectives, a
        trial that reports one number per step (``trial.report``) rather than every
        objective's (:func:`~tuneful.schedulers.multi.report_values`) is left alone: the
        default does not fail an objective written for no early stopping."""
        if len(history.directions) > 1 and any(
            values_at(trial, rung) is None for rung in self.new_rungs(trial, history)
        ):
            return None
        return super().decide(trial, history)

    def keep_reason(self, history: History) -> str | None:
        """Why a trial that failed its rung goes on: stopping it would leave fewer than
        ``min(min_completed, ceil(n / reduction_factor))`` of the n finished trials complete."""
        completed = finished = 0
        for other in history.trials:
            if other.state is TrialState.COMPLETE:
                completed += 1
                finished += 1
            elif other.state is TrialState.PRUNED:
                finished += 1
        needed = min(self.min_completed, math.ceil((finished + 1) / self.reduction_factor))
        if completed >= needed:
            return None
        return (
            f"kept: {completed} of {finished} finished trials have completed; at least "
            f"{needed} must before another trial is stopped"
        )


def _completed(history: History, enough: int) -> int:
    """The number of COMPLETE trials, counted up to ``enough``."""
    completed = 0
    for trial in history.trials:
        if completed >= enough:
            break
        if trial.state is TrialState.COMPLETE:
            completed += 1
    return completed
