"""NSGA-III over the encoded cube, its populations replayed from the history.

The algorithm is NSGA-III of Deb & Jain (2014), "An Evolutionary Many-Objective Optimization
Algorithm Using Reference-Point-Based Nondominated Sorting Approach, Part I" (IEEE TEC
18(4)), with the constraint handling of Part II (Jain & Deb 2014): NSGA-II's elitist
generations whose last front is cut by niching around structured reference points instead
of by crowding distance. Its selection (reference points, normalization, association,
niching) is in :mod:`~tuneful.optimizers._nsga3`; ranking and variation (SBX, polynomial
mutation) are NSGA-II's (:mod:`~tuneful.optimizers._nsga`).

Generations are laid over trial numbers and every population is rebuilt from the history,
never stored, exactly as for :class:`~tuneful.optimizers.nsga2.NSGAIIOptimizer` (steps 1-4
of :mod:`~tuneful.optimizers.nsga2`): generation 0 is scrambled Sobol points, the parents of
generation g >= 1 are ``P_g = select(P_{g-1} + Q_{g-1})``, pending members join when they
finish. Two things differ:

1. The selection is NSGA-III's; its random tie-breaks draw from a generator seeded with
   (seed, g), so ``P_g`` is still a function of the history and the seed.
2. Parents are picked as in the paper: uniformly at random, or by the smaller constraint
   violation when either of two uniformly drawn members is infeasible (Part II), from the
   trial's own generator.

Defaults follow the paper: reference points from the number of objectives (12 divisions
for 3, Table I), population the smallest multiple of 4 not below their count (and at
least 24, which matters for one and two objectives), SBX with
probability 1 and index 30, polynomial mutation with index 20 and probability 1 / columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuneful._validation import check_int
from tuneful.errors import OptimizerError
from tuneful.optimizers._genetic import GenerationalOptimizer
from tuneful.optimizers._nsga import (
    Population,
    feasibility_tournament,
)
from tuneful.optimizers._nsga3 import das_dennis, default_reference_points, select
from tuneful.optimizers.base import Capabilities
from tuneful.records import History

__all__ = ["NSGAIIIOptimizer"]

_MASK_64 = (1 << 64) - 1
_SMALLEST = 24  # the least default population: one or two objectives have few points


class NSGAIIIOptimizer(GenerationalOptimizer):
    """NSGA-III with constrained domination, replayed from the history (see the module).

    Args:
        seed: seeds the first generation's Sobol points and the niching's tie-breaks (the
            study's seed when built by name; the history's seed when None).
        population_size: P, the trials per generation and the parents kept (at least 2);
            None for the smallest multiple of 4 not below the number of reference points,
            and at least 24 (one objective has one reference point, two have 13).
        divisions: p, the Das-Dennis divisions of each objective (C(M + p - 1, p) reference
            points for M objectives); None for the paper's choice by M.
        reference_points: explicit reference points instead, one row per point and one
            column per objective, in normalized objective space (non-negative, not all 0).
        crossover_prob: probability that the two parents of a child cross.
        eta_c: SBX distribution index.
        mutation_prob: per-column mutation probability; None for 1 / (number of columns).
        eta_m: polynomial-mutation distribution index.

    Raises:
        OptimizerError: a setting is out of range, or both ``divisions`` and
            ``reference_points`` are given.

    Example:
        >>> import tuneful
        >>> space = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
        >>> study = tuneful.create_study(
        ...     space=space, directions=["minimize", "minimize"], storage="memory://",
        ...     optimizer=NSGAIIIOptimizer(seed=0, divisions=15), seed=0)
        >>> study.optimize(
        ...     lambda t: (t.params["x"], (1 + t.params["y"]) * (1 - t.params["x"] ** 0.5)),
        ...     n_trials=200, show_progress_bar=False)
        >>> len(study.best_trials) >= 10
        True
    """

    name = "nsga3"
    _tournament = staticmethod(feasibility_tournament)
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
        population_size: int | None = None,
        divisions: int | None = None,
        reference_points: Any = None,
        crossover_prob: float = 1.0,
        eta_c: float = 30.0,
        mutation_prob: float | None = None,
        eta_m: float = 20.0,
    ) -> None:
        err, name = OptimizerError, "nsga3"
        checked = check_int(name, "seed", seed, allow_none=True, error=err)
        size = check_int(name, "population_size", population_size, minimum=2, allow_none=True,
                         error=err)  # fmt: skip
        self.population_size = None if size is None else int(size)
        count = check_int(name, "divisions", divisions, minimum=1, allow_none=True, error=err)
        self.divisions = None if count is None else int(count)
        self.reference_points = _checked_points(reference_points)
        if self.divisions is not None and self.reference_points is not None:
            raise OptimizerError(
                "nsga3: divisions and reference_points were both given; expected one of them"
            )
        self._init_variation(checked, crossover_prob, eta_c, mutation_prob, eta_m)
        self._references: dict[int, np.ndarray] = {}  # by number of objectives (a cache)

    def settings(self) -> dict[str, Any]:
        points = self.reference_points
        return {
            "population_size": self.population_size,
            "divisions": self.divisions,
            "reference_points": None if points is None else points.tolist(),
            "crossover_prob": self.crossover_prob,
            "eta_c": self.eta_c,
            "mutation_prob": self.mutation_prob,
            "eta_m": self.eta_m,
        }

    def references(self, n_objectives: int) -> np.ndarray:
        """The reference points for ``n_objectives`` objectives, one row each.

        Raises:
            OptimizerError: explicit reference points have another number of columns.
        """
        if self.reference_points is not None:
            if self.reference_points.shape[1] != n_objectives:
                raise OptimizerError(
                    f"nsga3: reference_points have {self.reference_points.shape[1]} columns; "
                    f"this study has {n_objectives} objectives, expected one column each"
                )
            return self.reference_points
        points = self._references.get(n_objectives)
        if points is None:
            if self.divisions is not None:
                points = das_dennis(n_objectives, self.divisions)
            else:
                points = default_reference_points(n_objectives)
            self._references[n_objectives] = points
        return points

    def size(self, n_objectives: int) -> int:
        """P for ``n_objectives`` objectives (the setting, or the paper's rule)."""
        if self.population_size is not None:
            return self.population_size
        return max(_SMALLEST, -(-len(self.references(n_objectives)) // 4) * 4)

    def _parents(self, history: History, generation: int, seed: int) -> Population:
        """``P_generation``, from the cached chain (keyed by the seed of the tie-breaks)."""
        references = self.references(len(history.directions))

        def niched(pool: Population, size: int, j: int) -> Population:
            rng = np.random.default_rng([seed & _MASK_64, j])
            return select(pool, size, references, rng)

        size = self.size(len(history.directions))
        return self._replay.parents(history, generation, size, niched, key=seed)


def _checked_points(points: Any) -> np.ndarray | None:
    """Explicit reference points as a float array, or None.

    Raises:
        OptimizerError: not a non-empty table of finite, non-negative numbers, each row
            with a positive entry.
    """
    if points is None:
        return None
    try:
        array = np.array(points, dtype=float)
    except (TypeError, ValueError):
        array = np.empty(0)
    if (
        array.ndim != 2
        or array.size == 0
        or not np.all(np.isfinite(array))
        or np.any(array < 0)
        or np.any(array.sum(axis=1) <= 0)
    ):
        raise OptimizerError(
            f"nsga3: reference_points={points!r} is not accepted; expected a non-empty list of "
            "rows (one per point, one column per objective) of finite numbers >= 0, each row "
            "with a positive entry"
        )
    return array
