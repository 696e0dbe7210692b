"""The operators of NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002, IEEE TEC 6(2)): ranking
under constrained domination, elitist survivor selection, binary tournament, simulated binary
crossover and polynomial mutation, over the encoded unit cube.

1. Constrained domination (Deb et al. 2002, Sec. VI-A): a feasible point beats an infeasible
   one; of two infeasible points the one with the smaller total violation wins; two feasible
   points compare by Pareto dominance. Ranking under it (:func:`ranks`): the feasible points
   take the fronts of the fast non-dominated sort (:func:`tuneful._pareto.non_dominated_sort`),
   the infeasible ones the fronts after them, one per distinct violation, smallest first.
2. Survivor selection (Sec. III-C, :func:`survivors`): fill the next population front by
   front; the front that does not fit is cut by crowding distance
   (:func:`tuneful._pareto.crowding_distance`, computed within each front), largest first,
   ties to the lower trial number.
3. Binary tournament (crowded comparison, Sec. III-B, :func:`tournament`): two members drawn
   uniformly; the lower rank wins, then the larger crowding distance, then the first drawn.
   NSGA-III's (Jain & Deb 2014, Part II, Sec. III, :func:`feasibility_tournament`): two
   members drawn uniformly; the smaller violation wins (a feasible one beats an infeasible
   one), else the first drawn, so that without constraints the choice is uniformly random
   (NSGA-III's random mating of Part I).
4. Variation (:func:`offspring`), per encoded column by its kind (:mod:`tuneful.space`'s
   encoding): numeric columns (Floats, Ints, step Floats, where levels are cells of [0, 1])
   by the bounded simulated binary crossover (SBX, Deb & Agrawal 1995) and polynomial
   mutation (Deb & Goyal 1996) as in Deb's reference implementation: with probability
   ``crossover_prob`` the two parents cross, each column with probability 1/2, and the child
   takes either of the two SBX values at random (per column); each numeric column then
   mutates with probability ``mutation_prob``. Categorical columns take the level of either
   parent (probability 1/2 each) and, with probability ``mutation_prob``, a uniformly random
   level instead. A column inactive (NaN) in one parent takes the other's value; inactive in
   both, a uniform value
   (it only matters where the child's own choices make it active).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuneful._pareto import crowding_distance, non_dominated_sort
from tuneful._validation import check_number
from tuneful.errors import OptimizerError

__all__ = [
    "Population",
    "ranks",
    "survivors",
    "tournament",
    "feasibility_tournament",
    "offspring",
    "Variation",
]

_EPS = 1e-14  # parents closer than this in a column do not cross in it (Deb's EPS)


@dataclass(frozen=True, eq=False)
class Population:
    """Evaluated trials as the selection sees them, one row each.

    Attributes:
        numbers: trial numbers, shape (k,).
        x: encoded points, shape (k, dim), NaN where inactive.
        y: objective values oriented for minimization, shape (k, n_objectives).
        violation: total constraint violation, 0 where feasible, shape (k,).
        rank: front index under constrained domination (0 best), shape (k,).
        crowding: crowding distance within the member's front, shape (k,).
    """

    numbers: np.ndarray
    x: np.ndarray
    y: np.ndarray
    violation: np.ndarray
    rank: np.ndarray
    crowding: np.ndarray

    def rows(self, order: np.ndarray, rank: np.ndarray, crowding: np.ndarray) -> Population:
        """The members at ``order``, with ``rank`` and ``crowding`` (given for the whole
        population) taken at the same rows."""
        return Population(
            numbers=self.numbers[order],
            x=self.x[order],
            y=self.y[order],
            violation=self.violation[order],
            rank=rank[order],
            crowding=crowding[order],
        )

    def __len__(self) -> int:
        return len(self.numbers)

    @staticmethod
    def empty(dim: int, n_objectives: int) -> Population:
        return Population(
            numbers=np.empty(0, dtype=int),
            x=np.empty((0, dim)),
            y=np.empty((0, n_objectives)),
            violation=np.empty(0),
            rank=np.empty(0, dtype=int),
            crowding=np.empty(0),
        )


def ranks(y: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """Front index of each point under constrained domination (see the module docstring)."""
    y = np.asarray(y, dtype=float)
    violation = np.asarray(violation, dtype=float)
    rank = np.zeros(len(y), dtype=int)
    feasible = violation <= 0.0
    if feasible.any():
        rank[feasible] = non_dominated_sort(y[feasible])
    if not feasible.all():
        after = int(rank[feasible].max()) + 1 if feasible.any() else 0
        levels, dense = np.unique(violation[~feasible], return_inverse=True)
        del levels
        rank[~feasible] = after + dense.reshape(-1)
    return rank


def survivors(pool: Population, size: int) -> Population:
    """The ``size`` best of ``pool`` by rank, the last front cut by crowding distance, with
    ranks and crowding distances recomputed over ``pool`` (Deb et al. 2002, Sec. III-C)."""
    if len(pool) == 0:
        return pool
    rank = ranks(pool.y, pool.violation)
    crowding = np.zeros(len(pool))
    for front in np.unique(rank):
        members = np.flatnonzero(rank == front)
        crowding[members] = crowding_distance(pool.y[members])
    # lexsort: last key first; rank ascending, crowding descending, number ascending
    order = np.lexsort((pool.numbers, -crowding, rank))[:size]
    order = np.sort(order)  # keep trial-number order among the survivors
    return pool.rows(order, rank, crowding)


def merge(first: Population, second: Population) -> Population:
    """The rows of both populations (ranks and crowding are recomputed by :func:`survivors`)."""
    return Population(
        numbers=np.concatenate([first.numbers, second.numbers]),
        x=np.vstack([first.x, second.x]),
        y=np.vstack([first.y, second.y]),
        violation=np.concatenate([first.violation, second.violation]),
        rank=np.concatenate([first.rank, second.rank]),
        crowding=np.concatenate([first.crowding, second.crowding]),
    )


def tournament(population: Population, rng: np.random.Generator) -> int:
    """The row of the winner of one binary tournament under the crowded comparison."""
    a, b = (int(i) for i in rng.integers(0, len(population), size=2))
    if population.rank[a] != population.rank[b]:
        return a if population.rank[a] < population.rank[b] else b
    return b if population.crowding[b] > population.crowding[a] else a


def feasibility_tournament(population: Population, rng: np.random.Generator) -> int:
    """The row of the winner of one binary tournament on violation alone (NSGA-III)."""
    a, b = (int(i) for i in rng.integers(0, len(population), size=2))
    return b if population.violation[b] < population.violation[a] else a


@dataclass(frozen=True)
class Variation:
    """The settings of the variation operators and which columns are categorical.

    Attributes:
        categorical: per encoded column, whether it is categorical, shape (dim,).
        crossover_prob: probability that two parents cross.
        eta_c: distribution index of SBX (larger: children nearer their parents).
        mutation_prob: per-column mutation probability.
        eta_m: distribution index of polynomial mutation.
    """

    categorical: np.ndarray
    crossover_prob: float
    eta_c: float
    mutation_prob: float
    eta_m: float


def offspring(
    parent_a: np.ndarray, parent_b: np.ndarray, variation: Variation, rng: np.random.Generator
) -> np.ndarray:
    """One child of two encoded parents: crossover then mutation (module docstring, step 4).

    The draws are the same in number and order whatever the parents, so a child is a pure
    function of its parents and ``rng``'s state. The columns are few and each is a handful
    of scalar operations, so they are computed one by one on Python floats (numpy's
    per-call cost would dominate); each formula is evaluated as the reference code does.
    """
    dim = parent_a.shape[0]
    fill_a, fill_b = rng.random((2, dim)).tolist()  # values for columns inactive in a parent
    cross = rng.random() < variation.crossover_prob
    per_column, sbx_u, which = rng.random((3, dim)).tolist()  # crosses?, SBX's u, which child
    mutates = (rng.random((dim,)) < variation.mutation_prob).tolist()
    mutation_u = rng.random((dim,)).tolist()
    levels = rng.random((dim,)).tolist()
    categorical = variation.categorical.tolist()
    eta_c, eta_m = variation.eta_c, variation.eta_m
    child = []
    for j, (a, b) in enumerate(zip(parent_a.tolist(), parent_b.tolist(), strict=True)):
        if a != a or b != b:  # NaN: inactive in a parent
            a, b = (
                a if a == a else (b if b == b else fill_a[j]),
                b if b == b else (a if a == a else fill_b[j]),
            )
        value = a
        if cross and per_column[j] < 0.5:
            if categorical[j]:
                value = b
            elif abs(a - b) > _EPS:
                value = _sbx(a, b, sbx_u[j], eta_c)[0 if which[j] < 0.5 else 1]
        if mutates[j]:
            value = levels[j] if categorical[j] else _polynomial(value, mutation_u[j], eta_m)
        child.append(value)
    return np.clip(np.array(child), 0.0, 1.0)


def _sbx(a: float, b: float, u: float, eta: float) -> tuple[float, float]:
    """Bounded SBX on [0, 1] (Deb's reference code): the two children, the one beyond the
    upper parent first."""
    low, high = min(a, b), max(a, b)
    gap = max(high - low, _EPS)
    power = 1.0 / (eta + 1.0)
    children = []
    for beta in (1.0 + 2.0 * (1.0 - high) / gap, 1.0 + 2.0 * low / gap):
        alpha = 2.0 - beta ** -(eta + 1.0)
        ua = u * alpha  # alpha is in [1, 2) and u in [0, 1): each branch's base is positive
        beta_q = (ua if u <= 1.0 / alpha else 1.0 / (2.0 - ua)) ** power
        children.append(beta_q * gap)
    upper = min(max(0.5 * ((low + high) + children[0]), 0.0), 1.0)
    lower = min(max(0.5 * ((low + high) + -children[1]), 0.0), 1.0)
    return upper, lower


def _polynomial(x: float, u: float, eta: float) -> float:
    """Bounded polynomial mutation on [0, 1] (Deb's reference code)."""
    power = 1.0 / (eta + 1.0)
    if u <= 0.5:
        root = (2.0 * u + (1.0 - 2.0 * u) * (1.0 - x) ** (eta + 1.0)) ** power
        return min(max(x + (root - 1.0), 0.0), 1.0)
    root = (2.0 * (1.0 - u) + 2.0 * (u - 0.5) * x ** (eta + 1.0)) ** power
    return min(max(x + (1.0 - root), 0.0), 1.0)


def checked_variation(
    name: str,
    crossover_prob: float,
    eta_c: float,
    mutation_prob: float | None,
    eta_m: float,
) -> tuple[float, float, float | None, float]:
    """The variation settings of the genetic optimizer ``name``, checked:
    ``(crossover_prob, eta_c, mutation_prob, eta_m)``.

    Raises:
        OptimizerError: a probability outside [0, 1] or a negative distribution index.
    """
    err = OptimizerError
    crossover = float(
        check_number(
            name, "crossover_prob", crossover_prob, low=0, high=1,
            low_inclusive=True, high_inclusive=True, error=err,
        )
    )  # fmt: skip
    probability = check_number(
        name, "mutation_prob", mutation_prob, low=0, high=1,
        low_inclusive=True, high_inclusive=True, allow_none=True, error=err,
    )  # fmt: skip
    return (
        crossover,
        float(check_number(name, "eta_c", eta_c, low=0, error=err)),
        None if probability is None else float(probability),
        float(check_number(name, "eta_m", eta_m, low=0, error=err)),
    )
