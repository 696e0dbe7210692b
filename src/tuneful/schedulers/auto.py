"""The default scheduler: Hyperband's brackets, judged by learning-curve prediction.

Used when a study names no scheduler. It does nothing for objectives that never report. For
those that do:

- each new trial joins one of Hyperband's brackets (Li et al. 2018), which start at
  ``min_budget * 3**s``: the brackets that start late hedge against a first rung that says
  little about the final value (on YAHPO lcbench 7593 the first epoch's accuracy is even
  anti-correlated with the last one, and successive halving from epoch 1 alone stalls);
- within its bracket a trial is judged at each rung by successive halving's rank rule until
  ``min_curves`` trials have completed, then by the learning-curve model of Baker et al. 2017
  (:class:`~tuneful.schedulers.curve.CurvePredictor`): it stops when P(final beats the
  median of the completed trials) < ``delta`` (``quantile=0.5``). Baker et al. compare with
  the best; with a model-based optimizer that rule also stops the near-best proposals the
  optimizer needs to see in full, and on YAHPO (lcbench, rbv2_xgboost; 5 tasks, 3 seeds) the
  median bar cut the final regret at 100 full evaluations' worth from 0.066 to 0.041.

The full budget is ``max_budget`` when given, else the longest completed curve (trials
created before any trial completed start in the first bracket). Measurements behind the
choice: docs/benchmarks.md, "Multi-fidelity".
"""

from __future__ import annotations

from typing import Any

from tuneful.records import History
from tuneful.schedulers.curve import CurvePredictor
from tuneful.schedulers.halving import bracket_cycle, hyperband_brackets

__all__ = ["AutoScheduler"]


class AutoScheduler(CurvePredictor):
    """The fidelity-aware default (``scheduler="auto"``); settings as
    :class:`~tuneful.schedulers.curve.CurvePredictor`, with ``quantile`` 0.5 by default."""

    name = "auto"

    def __init__(self, *, quantile: float = 0.5, **settings: Any) -> None:
        super().__init__(quantile=quantile, **settings)

    def brackets(self, history: History) -> list[tuple[int, int]]:
        """Hyperband's brackets for the full budget known now (empty when none is)."""
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
        cycle = bracket_cycle(tuple(count for _, count in brackets))
        number = history.number if history.number is not None else history.n_trials
        return {"bracket": cycle[number % len(cycle)]}
