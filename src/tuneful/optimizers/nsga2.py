"""NSGA-II over the encoded cube, its populations replayed from the history.

The algorithm is NSGA-II of Deb, Pratap, Agarwal & Meyarivan (2002), "A Fast and Elitist
Multiobjective Genetic Algorithm: NSGA-II" (IEEE TEC 6(2)), with the constrained domination
of its Sec. VI-A; the operators (ranking, survivor selection, tournament, SBX and polynomial
mutation per column kind) are in :mod:`~tuneful.optimizers._nsga`. With one objective it is
an elitist genetic algorithm (fronts are then levels of the value).

Generations are laid over trial numbers, and every population is rebuilt from the history,
never stored:

1. Generation g holds trials ``g P .. (g + 1) P - 1`` for the population size P. Generation 0
   is the start: scrambled Sobol points by trial number (as
   :class:`~tuneful.optimizers.random.SobolOptimizer`, with the optimizer's seed).
2. The parents of generation g >= 1 are ``P_g = survivors(P_{g-1} + Q_{g-1}, P)`` with
   ``P_0`` empty and ``Q_{g-1}`` the COMPLETE members of generation g - 1: the elitist
   selection of the paper (fronts under constrained domination, the last one cut by crowding
   distance). FAIL and PRUNED members do not enter; an enqueued or hand-fixed trial enters
   like any other member of its generation. Constraint values come from each record
   (``TrialRecord.violation``; no constraints told counts as feasible).
3. Trial t of generation g >= 1: two binary tournaments on ``P_g`` (crowded comparison) pick
   the parents, and crossover and mutation make the child, every draw from the trial's own
   generator (the ``rng`` of ``suggest``; with ``n > 1`` the points draw from it in turn).
   When ``P_g`` is empty (nothing of the earlier generations completed) the trial takes the
   Sobol point of its number instead.
4. Pending trials (asynchronous workers): ``P_g`` uses the members of generation g - 1 that
   are COMPLETE when the trial is suggested; members still running do not wait to be
   counted. When they finish, the next call's replay counts them in ``P_g`` (and so in every
   later population): the populations are a function of the history alone, and a trial's
   proposal depends only on what had finished when it was asked. Sequential studies never
   see a partial generation, so their run is exactly the generational algorithm of the paper.

A resumed study therefore proposes what an uninterrupted one would. Rebuilding every
population on each call costs O(n) selections; the optimizer keeps the chain of rebuilt
populations with the records each consumed (a cache, never state) and continues from the
first generation whose completed members changed (:mod:`~tuneful.optimizers._nsga_replay`).
"""

from __future__ import annotations

from typing import Any

from tuneful._validation import check_int
from tuneful.errors import OptimizerError
from tuneful.optimizers._genetic import GenerationalOptimizer
from tuneful.optimizers._nsga import (
    Population,
    survivors,
    tournament,
)
from tuneful.optimizers.base import Capabilities
from tuneful.records import History

__all__ = ["NSGAIIOptimizer"]


class NSGAIIOptimizer(GenerationalOptimizer):
    """NSGA-II with constrained domination, replayed from the history (see the module).

    Args:
        seed: seeds the first generation's Sobol points (the study's seed when built by
            name; the history's seed when None). Variation draws from each trial's generator.
        population_size: P, the trials per generation and the parents kept. At least 2.
        crossover_prob: probability that the two parents of a child cross.
        eta_c: SBX distribution index (larger keeps children nearer their parents).
        mutation_prob: per-column mutation probability; None for 1 / (number of columns).
        eta_m: polynomial-mutation distribution index.

    Raises:
        OptimizerError: a setting is out of range.

    Example:
        >>> import tuneful
        >>> space = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
        >>> study = tuneful.create_study(
        ...     space=space, directions=["minimize", "minimize"], storage="memory://",
        ...     optimizer=NSGAIIOptimizer(seed=0, population_size=20), seed=0)
        >>> study.optimize(
        ...     lambda t: (t.params["x"], (1 + t.params["y"]) * (1 - t.params["x"] ** 0.5)),
        ...     n_trials=200, show_progress_bar=False)
        >>> len(study.best_trials) >= 10
        True
    """

    name = "nsga2"
    _tournament = staticmethod(tournament)
    # 2: crossover and mutation on Python floats, whose powers can differ from numpy's
    # vectorized ones in the last bit
    version = 2
    capabilities = Capabilities(
        multi_objective=True, constraints=True, conditional=True, define_by_run=True, batch=True
    )

    def __init__(
        self,
        *,
        seed: int | None = None,
        population_size: int = 50,
        crossover_prob: float = 0.9,
        eta_c: float = 20.0,
        mutation_prob: float | None = None,
        eta_m: float = 20.0,
    ) -> None:
        err = OptimizerError
        self.population_size = int(
            check_int("nsga2", "population_size", population_size, minimum=2, error=err)
        )
        checked = check_int("nsga2", "seed", seed, allow_none=True, error=err)
        self._init_variation(checked, crossover_prob, eta_c, mutation_prob, eta_m)

    def settings(self) -> dict[str, Any]:
        return {
            "population_size": self.population_size,
            "crossover_prob": self.crossover_prob,
            "eta_c": self.eta_c,
            "mutation_prob": self.mutation_prob,
            "eta_m": self.eta_m,
        }

    def size(self, n_objectives: int) -> int:
        """P, whatever the number of objectives."""
        del n_objectives
        return self.population_size

    def _parents(self, history: History, generation: int, seed: int) -> Population:
        """``P_generation`` (module docstring, step 2), from the cached chain (the seed does
        not matter to NSGA-II's selection)."""
        del seed
        return self._replay.parents(history, generation, self.population_size, _survivors)


def _survivors(pool: Population, size: int, generation: int) -> Population:
    """NSGA-II's selection (the generation does not matter to it)."""
    del generation
    return survivors(pool, size)
