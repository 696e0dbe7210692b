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
first generation whose completed members changed. A generation whose records are the very
ones (or equal ones) seen on the last call is recognised by one list comparison, so a call
that only adds trials to the last generations touches the others at C speed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tuneful._validation import check_int, check_number
from tuneful.errors import OptimizerError
from tuneful.optimizers._nsga import Population, Variation, merge, offspring, survivors, tournament
from tuneful.optimizers.base import Capabilities, Optimizer, check_supported
from tuneful.optimizers.random import SobolOptimizer
from tuneful.records import History, TrialRecord, TrialState
from tuneful.space import Categorical, Space

__all__ = ["NSGAIIOptimizer"]


def _same(old: TrialRecord, new: TrialRecord) -> bool:
    return new is old or (
        new.number == old.number
        and new.values == old.values
        and new.constraints == old.constraints
        and new.params == old.params
    )


@dataclass(eq=False)
class _Chain:
    """Rebuilt populations of one space and seed (a cache, never state): ``parents[j]`` is
    ``P_{j+1}``, built from ``consumed[j]``, the COMPLETE members of generation j, which were
    picked from ``raw[j]``, generation j's records as the history held them. ``seen`` is the
    last history's trial list and ``table`` those records by number."""

    space: Space
    directions: tuple[str, ...]
    consumed: list[list[TrialRecord]] = field(default_factory=list)
    parents: list[Population] = field(default_factory=list)
    raw: list[list[TrialRecord | None]] = field(default_factory=list)
    seen: list[TrialRecord] = field(default_factory=list)
    table: list[TrialRecord | None] = field(default_factory=list)


class NSGAIIOptimizer(Optimizer):
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
        self.seed = check_int("nsga2", "seed", seed, allow_none=True, error=err)
        self.population_size = int(
            check_int("nsga2", "population_size", population_size, minimum=2, error=err)
        )
        self.crossover_prob = float(
            check_number(
                "nsga2", "crossover_prob", crossover_prob, low=0, high=1,
                low_inclusive=True, high_inclusive=True, error=err,
            )
        )  # fmt: skip
        self.eta_c = float(check_number("nsga2", "eta_c", eta_c, low=0, error=err))
        probability = check_number(
            "nsga2", "mutation_prob", mutation_prob, low=0, high=1,
            low_inclusive=True, high_inclusive=True, allow_none=True, error=err,
        )  # fmt: skip
        self.mutation_prob = None if probability is None else float(probability)
        self.eta_m = float(check_number("nsga2", "eta_m", eta_m, low=0, error=err))
        self._lock = threading.Lock()  # threads of one study share the cache
        self._chain: _Chain | None = None
        self._sobol: dict[int, SobolOptimizer] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "population_size": self.population_size,
            "crossover_prob": self.crossover_prob,
            "eta_c": self.eta_c,
            "mutation_prob": self.mutation_prob,
            "eta_m": self.eta_m,
        }

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        space = history.space
        if space.dim == 0:
            return np.empty((n, 0))
        check_supported(self, directions=history.directions, space=space)
        seed = self._seed(history)
        first = history.number if history.number is not None else history.n_trials
        variation = self._variation(space)
        points = np.empty((n, space.dim))
        with self._lock:
            for i in range(n):
                number = first + i
                parents = self._parents(history, number // self.population_size)
                if len(parents) == 0:
                    points[i] = self._sobol_point(history, seed, number)
                    continue
                a = parents.x[tournament(parents, rng)]
                b = parents.x[tournament(parents, rng)]
                points[i] = offspring(a, b, variation, rng)
        return points

    def population(self, history: History, generation: int) -> list[int]:
        """The trial numbers of ``P_generation``, the parents of generation ``generation``
        as the history stands (empty for generation 0), for inspection."""
        check_supported(self, directions=history.directions, space=history.space)
        with self._lock:
            return [int(k) for k in self._parents(history, generation).numbers]

    def _seed(self, history: History) -> int:
        if self.seed is not None:
            return self.seed
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

    def _parents(self, history: History, generation: int) -> Population:
        """``P_generation`` (module docstring, step 2), continuing the cached chain from the
        first generation whose COMPLETE members differ from those it consumed."""
        space, size = history.space, self.population_size
        chain = self._chain
        if (
            chain is None
            or chain.directions != history.directions
            or not (chain.space is space or chain.space == space)
        ):
            chain = self._chain = _Chain(space, tuple(history.directions))
        table = _table(chain, history.trials)
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in history.directions])
        previous = Population.empty(space.dim, len(signs))
        for j in range(generation):
            raw = table[j * size : (j + 1) * size]
            if j < len(chain.raw) and raw == chain.raw[j]:  # the same records: C-speed check
                previous = chain.parents[j]
                continue
            members = [
                record
                for record in raw
                if record is not None
                and record.state is TrialState.COMPLETE
                and record.values is not None
            ]
            if j < len(chain.consumed) and _all_same(chain.consumed[j], members):
                chain.raw[j] = raw
                previous = chain.parents[j]
                continue
            del chain.consumed[j:], chain.parents[j:], chain.raw[j:]
            previous = survivors(merge(previous, _evaluated(space, members, signs)), size)
            chain.consumed.append(members)
            chain.parents.append(previous)
            chain.raw.append(raw)
        return previous

    def _sobol_point(self, history: History, seed: int, number: int) -> np.ndarray:
        sobol = self._sobol.get(seed)
        if sobol is None:
            sobol = self._sobol[seed] = SobolOptimizer(seed=seed)
        at = History(history.space, history.directions, [], number=number, seed=seed)
        return sobol.suggest(at, 1, np.random.default_rng(0))[0]


def _all_same(old: list[TrialRecord], new: list[TrialRecord]) -> bool:
    return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))


def _table(chain: _Chain, trials: list[TrialRecord]) -> list[TrialRecord | None]:
    """``trials`` by number, reusing the chain's table when ``trials`` extends the list seen
    on the last call (one list comparison) and the new records carry the next numbers."""
    seen, k = chain.seen, len(chain.seen)
    if (
        k
        and len(trials) >= k
        and len(chain.table) == k
        and trials[:k] == seen
        and all(record.number == k + i for i, record in enumerate(trials[k:]))
    ):
        table = chain.table + list(trials[k:])
    else:
        table = _by_number(trials)
    chain.seen, chain.table = list(trials), table
    return table


def _by_number(trials: list[TrialRecord]) -> list[TrialRecord | None]:
    """Records indexed by trial number (None for a number the history lacks)."""
    if all(record.number == i for i, record in enumerate(trials)):
        return list(trials)
    table: list[TrialRecord | None] = [None] * (1 + max(r.number for r in trials))
    for record in trials:
        table[record.number] = record
    return table


def _evaluated(space: Space, records: list[TrialRecord], signs: np.ndarray) -> Population:
    """The COMPLETE ``records`` as a population (ranks and crowding set by selection)."""
    if not records:
        return Population.empty(space.dim, len(signs))
    return Population(
        numbers=np.array([r.number for r in records], dtype=int),
        x=np.asarray(space.encode_lenient([r.params for r in records]), dtype=float),
        y=np.array([r.values for r in records], dtype=float).reshape(len(records), -1) * signs,
        violation=np.array([r.violation for r in records], dtype=float),
        rank=np.zeros(len(records), dtype=int),
        crowding=np.zeros(len(records)),
    )
