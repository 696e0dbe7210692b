"""The populations of NSGA-II and NSGA-III, replayed from a history's trial numbers.

Generation g holds trials ``g P .. (g + 1) P - 1``; the parents of generation g >= 1 are
``P_g = select(P_{g-1} + Q_{g-1}, P, g - 1)`` with ``P_0`` empty and ``Q_{g-1}`` the COMPLETE
members of generation g - 1 (steps 1-4 of :mod:`~tuneful.optimizers.nsga2`; the selection is
NSGA-II's or NSGA-III's). Nothing here is state: :class:`Replay` keeps the chain of rebuilt
populations with the records each consumed (a cache) and continues from the first
generation whose completed members changed. A generation whose records are the very ones
(or equal ones) seen on the last call is recognised by one list comparison, so a call that
only adds trials to the last generation touches the earlier ones at C speed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tuneful.optimizers._nsga import Population, merge
from tuneful.optimizers.random import SobolOptimizer
from tuneful.records import History, TrialRecord, TrialState
from tuneful.space import Space

__all__ = ["Replay", "Select"]

#: ``select(pool, size, generation)``: the next parents from the pool built for generation
#: ``generation + 1`` (a pure function of its arguments).
Select = Callable[[Population, int, int], Population]


@dataclass(eq=False)
class _Chain:
    """Rebuilt populations of one space, directions and key (a cache, never state):
    ``parents[j]`` is ``P_{j+1}``, built from ``consumed[j]``, the COMPLETE members of
    generation j, which were picked from ``raw[j]``, generation j's records as the history
    held them. ``seen`` is the last history's trial list and ``table`` its records by
    number; the first ``checked`` generations matched ``table`` on the last call."""

    space: Space
    directions: tuple[str, ...]
    key: object
    consumed: list[list[TrialRecord]] = field(default_factory=list)
    parents: list[Population] = field(default_factory=list)
    raw: list[list[TrialRecord | None]] = field(default_factory=list)
    seen: list[TrialRecord] = field(default_factory=list)
    table: list[TrialRecord | None] = field(default_factory=list)
    checked: int = 0


class Replay:
    """The cached chain of populations of one optimizer (see the module docstring)."""

    def __init__(self) -> None:
        self._chain: _Chain | None = None
        self._sobol: dict[int, SobolOptimizer] = {}

    def parents(
        self, history: History, generation: int, size: int, select: Select, key: object = None
    ) -> Population:
        """``P_generation`` of the history; ``key`` names what else ``select`` depends on
        (a seed, reference points): a different key rebuilds the chain."""
        space = history.space
        chain = self._chain
        if (
            chain is None
            or chain.directions != history.directions
            or chain.key != key
            or not (chain.space is space or chain.space == space)
        ):
            chain = self._chain = _Chain(space, tuple(history.directions), key)
        chain.space = space  # an equal space: the identity check is enough next time
        known = _extends(chain, history.trials)  # records that are those of the last call
        table = chain.table
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in history.directions])
        previous = Population.empty(space.dim, len(signs))
        start = min(chain.checked, known // size, generation)  # whole and unchanged since
        if start:
            previous = chain.parents[start - 1]
        for j in range(start, generation):
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
            previous = select(merge(previous, _evaluated(space, members, signs)), size, j)
            chain.consumed.append(members)
            chain.parents.append(previous)
            chain.raw.append(raw)
        chain.checked = generation
        return previous

    def sobol_point(self, history: History, seed: int, number: int) -> np.ndarray:
        """The scrambled Sobol point of trial ``number`` (seeded with ``seed``)."""
        sobol = self._sobol.get(seed)
        if sobol is None:
            sobol = self._sobol[seed] = SobolOptimizer(seed=seed)
        at = History(history.space, history.directions, [], number=number, seed=seed)
        return sobol.suggest(at, 1, np.random.default_rng(0))[0]


def _same(old: TrialRecord, new: TrialRecord) -> bool:
    return new is old or (
        new.number == old.number
        and new.values == old.values
        and new.constraints == old.constraints
        and new.params == old.params
    )


def _all_same(old: list[TrialRecord], new: list[TrialRecord]) -> bool:
    return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))


def _extends(chain: _Chain, trials: list[TrialRecord]) -> int:
    """Set the chain's table to ``trials`` by number; return how many leading records are
    those of the last call's table (all of them when ``trials`` extends the list seen then,
    by one list comparison, and the new records carry the next numbers; else 0)."""
    seen, k = chain.seen, len(chain.seen)
    if (
        k
        and len(trials) >= k
        and len(chain.table) == k
        and trials[:k] == seen
        and all(record.number == k + i for i, record in enumerate(trials[k:]))
    ):
        chain.table = chain.table + list(trials[k:])
    else:
        chain.table, k = _by_number(trials), 0
    chain.seen = list(trials)
    return k


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
