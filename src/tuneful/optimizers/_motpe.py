"""Multi-objective TPE's split: which trials are good.

Ozaki, Tanigaki, Watanabe & Onishi (2020), "Multiobjective Tree-Structured Parzen Estimator
for Computationally Expensive Optimization Problems" (GECCO), Sec. 3, and Ozaki et al.
(2022), "Multiobjective Tree-Structured Parzen Estimator" (JAIR 73), Sec. 3.2-3.3:

1. The good set: whole non-dominated fronts (:func:`tuneful._pareto.non_dominated_sort`),
   best first, while they fit in ``n_good``; the front that does not fit is cut to the
   remaining places by greedy hypervolume subset selection
   (:func:`tuneful._pareto.greedy_hypervolume_subset`), so the good set spreads along the
   front rather than bunching where the trials are dense.
2. The papers also weight each good trial's kernel in l(x) by its hypervolume contribution
   (Ozaki et al. 2022, Sec. 3.3). Not here: on ZDT1/ZDT3 and DTLZ2 with 2 and 3 objectives
   (``benchmarks/motpe.py``'s tasks, 300 trials) contribution weights with a floor of 0.1
   lost 0.057 of normalized hypervolume on average (5 seeds) and with a floor of 0.5 were
   within noise (+0.011 over 10 seeds, two tasks up, two down), at the cost of a
   leave-one-out hypervolume per good trial; Optuna 5 weighs every good trial the same too.

The reference point of the subset selection is the cut front's worst point pushed out by a
tenth of its range in each objective (by 1 where the range is 0): invariant to shifting and
scaling an objective, which Optuna's ``1.1 * worst`` is not. Pure functions of the values: the same
history gives the same split.
"""

from __future__ import annotations

import numpy as np

from tuneful._pareto import greedy_hypervolume_subset, non_dominated_sort


def reference_point(y: np.ndarray) -> np.ndarray:
    """The worst point of ``y`` (n, m) pushed out by a tenth of the range (1 where 0)."""
    worst, best = y.max(axis=0), y.min(axis=0)
    spread = worst - best
    return worst + np.where(spread > 0, 0.1 * spread, 1.0)


def good_rows(y: np.ndarray, n_good: int) -> np.ndarray:
    """Row indices of the ``n_good`` good trials among ``y`` (n, m), lower is better: whole
    fronts, then the last one's greedy hypervolume subset (in the order picked)."""
    n_good = min(max(n_good, 0), len(y))
    front = non_dominated_sort(y)
    order = np.argsort(front, kind="stable")  # by front, then by row
    fits = front[order[n_good - 1]] if n_good else -1  # the front that has to be cut
    whole = order[front[order] < fits]
    if len(whole) == n_good:
        return whole
    cut = np.flatnonzero(front == fits)
    picked = greedy_hypervolume_subset(y[cut], n_good - len(whole), reference_point(y[cut]))
    return np.concatenate([whole, cut[picked]])
