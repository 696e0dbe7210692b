"""Random search and scrambled Sobol quasi-random search."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.optimizers.base import Capabilities, Optimizer
from tuneful.records import History

if TYPE_CHECKING:
    from scipy.stats import qmc

__all__ = ["RandomOptimizer", "SobolOptimizer"]


class RandomOptimizer(Optimizer):
    """Independent uniform samples in the encoded cube: log-uniform where ``log=True``,
    uniform over levels for integers and categoricals, conditions respected on decoding."""

    name = "random"
    capabilities = Capabilities(
        multi_objective=True, constraints=True, conditional=True, define_by_run=True, batch=True
    )

    def __init__(self, *, seed: int | None = None) -> None:
        del seed  # randomness comes from the per-trial generator

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, history.space.dim))


class SobolOptimizer(Optimizer):
    """Scrambled Sobol points (Owen scrambling), one per trial number.

    The point for trial ``k`` is the ``k``-th point of one scrambled sequence fixed by the
    study's seed, so a resumed study continues the sequence and parallel workers take
    distinct points. Balance is best when trial counts are powers of two.
    """

    name = "sobol"
    capabilities = Capabilities(
        multi_objective=True, constraints=True, conditional=True, define_by_run=True, batch=True
    )

    def __init__(self, *, seed: int | None = None, scramble: bool = True) -> None:
        self.seed = seed
        self.scramble = scramble
        self._engine: qmc.Sobol | None = None
        self._engine_dim = -1
        self._position = 0

    def settings(self) -> dict[str, Any]:
        return {"scramble": self.scramble}

    def _points(self, dim: int, start: int, n: int) -> np.ndarray:
        if self._engine is None or self._engine_dim != dim or self._position > start:
            from scipy.stats import qmc  # imported on first use: scipy.stats is slow to import

            self._engine = qmc.Sobol(dim, scramble=self.scramble, seed=self.seed)
            self._engine_dim = dim
            self._position = 0
        if start > self._position:
            self._engine.fast_forward(start - self._position)
        self._position = start + n
        with warnings.catch_warnings():  # scipy warns when n is not a power of two
            warnings.simplefilter("ignore", UserWarning)
            return self._engine.random(n)

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        dim = history.space.dim
        if dim == 0:
            return np.empty((n, 0))
        start = history.number if history.number is not None else history.n_trials
        return self._points(dim, start, n)
