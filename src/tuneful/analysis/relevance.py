"""A quick screen of which parameters a study's objective varies with: cheap enough to order
the axes of a plot over tens of thousands of trials, where the importance of
:mod:`tuneful.analysis.importance` would fit a model.

For each parameter, over the trials where it is active: the trials are cut into up to ten
bins of the parameter (one per choice for a categorical one, equal counts along a numeric
one) and the score is the share of the variance of the objective's ranks that the bins'
means explain (the correlation ratio η², in [0, 1]). Ranks make it blind to the objective's
scale and outliers; bins let it see a bump in the middle that a correlation would miss.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from tuneful.analysis.trials import Column, TrialTable

__all__ = ["relevance", "ranked_params"]

_MAX_BINS = 10
_PER_BIN = 5


def relevance(table: TrialTable, *, objective: int = 0) -> dict[str, float]:
    """The η² score of each column of ``table`` (see the module docstring); 0 where fewer
    than 4 trials have the parameter active and a finite value."""
    y_all = table.objective(objective, minimize=True)
    return {name: _score(column, y_all) for name, column in table.columns.items()}


def ranked_params(table: TrialTable, *, objective: int = 0) -> list[str]:
    """The parameters of ``table``, highest :func:`relevance` first (ties in table order)."""
    scores = relevance(table, objective=objective)
    order = list(table.columns)
    return sorted(order, key=lambda name: (-scores[name], order.index(name)))


def _score(column: Column, y_all: np.ndarray) -> float:
    rows = column.active & np.isfinite(y_all)
    if rows.sum() < 4:
        return 0.0
    y = rankdata(y_all[rows])
    x = column.values[rows]
    if column.is_categorical:
        bins = x.astype(int)
    else:
        count = int(min(_MAX_BINS, max(2, rows.sum() // _PER_BIN)))
        bins = np.minimum((rankdata(x, method="min") - 1) * count // len(x), count - 1)
        bins = bins.astype(int)
    total = float(((y - y.mean()) ** 2).sum())
    if total <= 0:
        return 0.0
    sums = np.bincount(bins, weights=y)
    counts = np.bincount(bins)
    used = counts > 0
    means = sums[used] / counts[used]
    between = float((counts[used] * (means - y.mean()) ** 2).sum())
    return between / total
