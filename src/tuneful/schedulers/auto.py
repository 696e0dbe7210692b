"""The default scheduler: learning-curve prediction with a successive-halving start.

Used when a study names no scheduler. It does nothing for objectives that never report; for
those that do, it judges trials at rungs ``min_budget * 3**k`` below the full budget (inferred
from the longest completed curve unless given): by successive halving's rank rule until ten
trials have completed, then by the learning-curve model (stop when P(final beats the best) <
0.05). Measurements behind the choice: docs/benchmarks.md, "Multi-fidelity".
"""

from __future__ import annotations

from tuneful.schedulers.curve import CurvePredictor

__all__ = ["AutoScheduler"]


class AutoScheduler(CurvePredictor):
    """The fidelity-aware default (``scheduler="auto"``); settings as
    :class:`~tuneful.schedulers.curve.CurvePredictor`."""

    name = "auto"
