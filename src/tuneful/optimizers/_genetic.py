"""What NSGA-II and NSGA-III share as optimizers: generations laid over trial numbers, each
trial the child of two parents drawn from the replayed population, the first generation
Sobol points; the variation settings and the lock around the cached chain."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from tuneful.optimizers._nsga import Population, Variation, checked_variation, offspring
from tuneful.optimizers._nsga_replay import Replay
from tuneful.optimizers.base import Optimizer, check_supported
from tuneful.records import History
from tuneful.space import Categorical, Space

__all__ = ["GenerationalOptimizer"]


class GenerationalOptimizer(Optimizer):
    """A genetic optimizer replayed from the history. Subclasses give the population size
    for a history (:meth:`size`), the parents of a generation (:meth:`_parents`) and the
    tournament that picks a parent (:attr:`_tournament`)."""

    _tournament: Callable[[Population, np.random.Generator], int]

    def _init_variation(
        self,
        seed: int | None,
        crossover_prob: float,
        eta_c: float,
        mutation_prob: float | None,
        eta_m: float,
    ) -> None:
        self.seed = seed
        self.crossover_prob, self.eta_c, self.mutation_prob, self.eta_m = checked_variation(
            self.name, crossover_prob, eta_c, mutation_prob, eta_m
        )
        self._lock = threading.Lock()  # threads of one study share the cache
        self._replay = Replay()

    def size(self, n_objectives: int) -> int:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def _parents(self, history: History, generation: int, seed: int) -> Population:
        raise NotImplementedError  # pragma: no cover - every subclass has one

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        space = history.space
        if space.dim == 0:
            return np.empty((n, 0))
        check_supported(self, directions=history.directions, space=space)
        seed = self._seed(history)
        first = history.number if history.number is not None else history.n_trials
        variation = self._variation(space)
        size = self.size(len(history.directions))
        pick = type(self)._tournament
        points = np.empty((n, space.dim))
        with self._lock:
            for i in range(n):
                number = first + i
                parents = self._parents(history, number // size, seed)
                if len(parents) == 0:
                    points[i] = self._replay.sobol_point(history, seed, number)
                    continue
                a = parents.x[pick(parents, rng)]
                b = parents.x[pick(parents, rng)]
                points[i] = offspring(a, b, variation, rng)
        return points

    def population(self, history: History, generation: int) -> list[int]:
        """The trial numbers of ``P_generation``, the parents of generation ``generation``
        as the history stands (empty for generation 0), for inspection."""
        check_supported(self, directions=history.directions, space=history.space)
        with self._lock:
            parents = self._parents(history, generation, self._seed(history))
            return [int(k) for k in parents.numbers]

    def _seed(self, history: History) -> int:
        if self.seed is not None:
            return int(self.seed)
        return int(history.seed) if history.seed is not None else 0

    def _variation(self, space: Space) -> Variation:
        names = space.encoded_names
        categorical = np.array([isinstance(space[name], Categorical) for name in names])
        return Variation(
            categorical=categorical,
            crossover_prob=self.crossover_prob,
            eta_c=self.eta_c,
            mutation_prob=self.mutation_prob if self.mutation_prob is not None else 1 / len(names),
            eta_m=self.eta_m,
        )
