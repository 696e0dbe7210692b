"""Which columns of the encoded cube CMA-ES models, and how the others are drawn.

CMA-ES (:mod:`~tuneful.optimizers.cma`) models the unconditional numeric columns of the space
(Floats and Ints without ``when=``), each bounded to [0, 1]. A discrete one (an Int, a Float
with a step) has levels of width 1/k: under CMA-ES with margin (Hamano et al. 2022,
arXiv:2205.13482) its bounds are the centres of the first and last levels and its level width
goes to ``cmaes.CMAwM`` as a step. A log-scaled Int has levels of unequal widths in the cube:
it is modelled as continuous.

Categorical and conditional columns are not modelled: for each suggestion each is drawn,
independently and with the trial's generator, from the good trials (the best quarter of the
last 2 lambda completed trials where the column was active): with probability 1 / (g + 1)
uniformly, else as the value of one of those g trials picked at random (a level for
categorical and integer columns; a value perturbed by Gaussian noise of scale ``sigma0`` for
continuous ones).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tuneful.records import History, feasibility_ranked
from tuneful.space import Int, Space

__all__ = ["ColumnLayout", "draw_others", "is_log_int"]

_GOOD_FRACTION = 0.25  # columns CMA-ES does not model are drawn from the best quarter


class ColumnLayout:
    """The split of a space's encoded columns between CMA-ES and the per-column draws.

    Attributes:
        columns: indices of the unconditional numeric columns (CMA-ES's dimensions).
        others: indices of categorical and conditional columns, drawn per column.
        steps: per modelled column, the level width 1/k of a discrete column, else 0.
        bounds: per modelled column, (low, high) for CMA-ES, shape (len(columns), 2): the
            centres of the first and last level for discrete columns under a margin, else
            (0, 1).
        margin: whether runs use CMA-ES with margin.
        discrete: whether every modelled column is discrete (draws may repeat a
            configuration; with a continuous one they practically never do).
        delegated: whether the space goes to TPE (more other columns than modelled ones).
    """

    def __init__(self, space: Space, with_margin: bool | str) -> None:
        self.space = space
        modelled: list[int] = []
        steps: list[float] = []
        for j, name in enumerate(space.encoded_names):
            param = space[name]
            if param.when or space.is_categorical[j]:
                continue
            levels = int(space.n_levels[j])
            modelled.append(j)  # log-scaled Ints have levels of unequal widths: continuous
            steps.append(1.0 / levels if levels >= 2 and not is_log_int(space, j) else 0.0)
        self.columns = np.array(modelled, dtype=np.intp)
        self.others = np.setdiff1d(np.arange(space.dim), self.columns).astype(np.intp)
        self.continuous_others = np.array(  # columns drawn with noise rather than as levels
            [space.n_levels[j] == 0 or is_log_int(space, j) for j in self.others], dtype=bool
        )
        self.steps = np.array(steps, dtype=float)
        discrete = bool((self.steps > 0).any())
        self.margin = discrete if with_margin == "auto" else bool(with_margin)
        half = self.steps / 2 if self.margin else np.zeros(len(steps))
        self.bounds = np.column_stack([half, 1.0 - half])
        self.discrete = bool(np.all(space.n_levels[self.columns] > 0))
        self.delegated = len(modelled) == 0 or len(modelled) < self.others.size

    def encode(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Modelled columns of configurations, shape (len(params), len(columns)), NaN where
        a value is missing or invalid."""
        return self.space.encode_lenient(params)[:, self.columns]

    def canonical(self, draws: np.ndarray) -> np.ndarray:
        """What draws (m, len(columns)) encode to once decoded: comparable with ``encode``."""
        full = np.full((len(draws), self.space.dim), 0.5)
        full[:, self.columns] = draws
        return self.encode(self.space.decode(full))


def is_log_int(space: Space, column: int) -> bool:
    param = space[space.encoded_names[column]]
    return isinstance(param, Int) and param.log


def draw_others(
    history: History,
    layout: ColumnLayout,
    sigma0: float,
    window: int,
    rng: np.random.Generator,
    count: int,
) -> np.ndarray:
    """Draws of the categorical and conditional columns, shape (count, len(layout.others)).

    Per column, from the best quarter of the last ``window`` completed trials where it is
    active (feasible trials before those that violate their constraints): with probability
    1 / (g + 1) uniform, else one of those g trials' value (continuous columns: plus
    Gaussian noise of scale ``sigma0``).
    """
    X = np.asarray(history.X)[:, layout.others]
    y = feasibility_ranked(history.y, history.violations)[:, 0]  # infeasible last
    out = np.empty((count, layout.others.size))
    for j in range(layout.others.size):
        active = np.flatnonzero(~np.isnan(X[:, j]))[-window:]  # completed in number order
        best = active[np.argsort(y[active], kind="stable")]
        good = X[best[: math.ceil(_GOOD_FRACTION * len(best))], j]
        pick = rng.integers(0, len(good) + 1, size=count)  # len(good): the uniform prior
        uniform = rng.random(count)
        if len(good) == 0:
            out[:, j] = uniform
            continue
        values = good[np.minimum(pick, len(good) - 1)]
        if layout.continuous_others[j]:
            values = np.clip(values + sigma0 * rng.standard_normal(count), 0.0, 1.0)
        out[:, j] = np.where(pick == len(good), uniform, values)
    return out
