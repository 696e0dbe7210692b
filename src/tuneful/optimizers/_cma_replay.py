"""The state of a CMA-ES search, replayed from a history's trial numbers.

Runs and generations are laid over trial numbers (steps 1-5 of the walk in
:mod:`~tuneful.optimizers.cma`): after ``n_startup`` Sobol trials, generation g of run r is
the next lambda_r = lambda_0 * 2^r trial numbers; its members' points are the draws of the
run's CMA object reseeded for (r, g); it is told once every member is finished, members that
violate their constraints ranked after every feasible one by violation, failed and pruned
members ranked last with the generation's worst value; and an IPOP restart (Auger &
Hansen 2005) begins the next run at a uniformly random mean with twice the population when
``should_stop()`` says so. Nothing here is stored: :class:`Replay` rebuilds it all from the
records, and is continued rather than rebuilt while the history only grows.
"""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import numpy as np

from tuneful.optimizers._cma_columns import ColumnLayout
from tuneful.records import TrialRecord, TrialState, feasibility_ranked, is_finite_number

__all__ = ["Replay", "generation_seed", "by_number"]

_MASK_64 = (1 << 64) - 1


def generation_seed(seed: int, run: int, generation: int) -> int:
    """The seed of the CMA generator for generation ``generation`` of run ``run``."""
    entropy = [seed & _MASK_64, 0, run, generation]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


class Replay:
    """CMA-ES runs replayed over a history's trial numbers (see the module docstring).

    Args:
        cmaes: the ``cmaes`` module.
        layout: the columns CMA-ES models.
        seed: the seed of every generation's generator.
        sign: +1 to minimize the first objective, -1 to maximize it.
        sigma0, popsize, restart, n_startup: the optimizer's settings.
    """

    def __init__(
        self,
        cmaes: ModuleType,
        layout: ColumnLayout,
        seed: int,
        sign: float,
        *,
        sigma0: float,
        popsize: int | None,
        restart: str | None,
        n_startup: int,
    ) -> None:
        self.cmaes = cmaes
        self.layout = layout
        self.seed = seed
        self.sign = sign
        self.sigma0 = sigma0
        self.base_popsize = popsize
        self.restart = restart
        self.n_startup = n_startup
        self.consumed: list[TrialRecord] = []  # every record before ``start``, by number
        self.start = self.n_startup
        self.started = False
        self.run = 0
        self.generation = 0
        self.popsize = 0
        self._first_popsize = 0
        self._cma: Any = None
        self._told: list[np.ndarray] = []  # this generation's draws, as told
        self._evaluated: list[np.ndarray] = []  # ... as proposed (discretized under a margin)
        self._canonical: list[np.ndarray] = []  # ... as their decoded configurations encode

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self._cma.mean)

    def consumed_prefix_of(self, table: list[TrialRecord | None]) -> bool:
        """Whether ``table`` begins with the records this replay has consumed."""
        if len(table) < len(self.consumed):
            return False
        for old, new in zip(self.consumed, table, strict=False):
            if new is old:
                continue
            if (
                new is None
                or new.state is not old.state
                or new.values != old.values
                or new.constraints != old.constraints
                or new.params != old.params
            ):
                return False
        return True

    def advance(self, table: list[TrialRecord | None]) -> None:
        """Tell every generation whose members are all finished in ``table``."""
        if not self.started:
            head = all_finished(table[: self.n_startup], self.n_startup)
            if head is None:
                return
            self._begin_run(0, self._startup_mean(head))
            self.consumed.extend(head)
        while True:
            members = all_finished(table[self.start : self.start + self.popsize], self.popsize)
            if members is None:
                return
            self._tell(members)
            self.consumed.extend(members)

    def point(self, k: int) -> np.ndarray:
        """The current generation's k-th draw, as proposed (modelled columns)."""
        self._draw(k + 1)
        return self._evaluated[k]

    def resample(self, seed: int, count: int) -> np.ndarray:
        """``count`` further draws from the current distribution, as proposed (modelled
        columns), shape (count, len(columns)): a copy of the run's CMA object reseeded with
        ``seed`` draws them, so the generation's own draws are left as they are."""
        cma = copy.deepcopy(self._cma)
        cma.reseed_rng(seed)
        draws = [cma.ask()[0] if self.layout.margin else cma.ask() for _ in range(count)]
        return np.array(draws, dtype=float).reshape(count, len(self.layout.columns))

    def _begin_run(self, run: int, mean: np.ndarray) -> None:
        cmaes, layout = self.cmaes, self.layout
        popsize = None  # run 0 without a popsize setting: cmaes's default
        if run > 0 or self.base_popsize is not None:
            popsize = (self.base_popsize or self._first_popsize) * 2**run  # IPOP doubling
        seed = generation_seed(self.seed, run, 0)
        if layout.margin:
            self._cma = cmaes.CMAwM(
                mean=mean,
                sigma=self.sigma0,
                bounds=layout.bounds.copy(),
                steps=layout.steps.copy(),
                seed=seed,
                population_size=popsize,
            )
        else:
            self._cma = cmaes.CMA(
                mean=mean,
                sigma=self.sigma0,
                bounds=layout.bounds.copy(),
                seed=seed,
                population_size=popsize,
            )
        self.started = True
        self.run = run
        self.popsize = int(self._cma.population_size)
        if run == 0:
            self._first_popsize = self.popsize
        self.generation = 0
        self._new_generation()

    def _new_generation(self) -> None:
        self._told, self._evaluated, self._canonical = [], [], []
        self._cma.reseed_rng(generation_seed(self.seed, self.run, self.generation))

    def _draw(self, count: int) -> None:
        """Extend this generation's draws to ``count``, continuing its generator."""
        fresh = []
        while len(self._told) < count:
            if self.layout.margin:
                evaluated, told = self._cma.ask()  # x ~ N(m, sigma^2 C), then discretized
            else:
                evaluated = told = self._cma.ask()  # x ~ N(m, sigma^2 C), resampled in bounds
            self._told.append(np.asarray(told, dtype=float))
            self._evaluated.append(np.asarray(evaluated, dtype=float))
            fresh.append(self._evaluated[-1])
        if fresh:
            self._canonical.extend(self.layout.canonical(np.array(fresh)))

    def _tell(self, members: list[TrialRecord]) -> None:
        self._draw(self.popsize)
        encoded = self.layout.encode([record.params for record in members])
        low, high = self.layout.bounds[:, 0], self.layout.bounds[:, 1]
        completed: list[tuple[np.ndarray, float]] = []
        violations: list[float] = []
        failed: list[np.ndarray] = []
        for k, record in enumerate(members):
            told = self._told[k]
            if np.array_equal(encoded[k], self._canonical[k]):
                x = told  # the member ran its own draw
            else:  # injected: its own point, a missing column taken from its draw
                x = np.where(np.isnan(encoded[k]), told, np.clip(encoded[k], low, high))
            value = self._value(record)
            if value is None:
                failed.append(x)
            else:
                completed.append((x, value))
                violations.append(record.violation)
        completed = self._feasibility_ranked(completed, violations)
        worst = max((value for _, value in completed), default=0.0)
        self._cma.tell(completed + [(x, worst) for x in failed])
        self.start += self.popsize
        if self.restart == "ipop" and self._cma.should_stop():
            rng = np.random.default_rng([self.seed & _MASK_64, 1, self.run + 1])
            self._begin_run(self.run + 1, low + (high - low) * rng.random(len(low)))
        else:
            self.generation += 1
            self._new_generation()

    @staticmethod
    def _feasibility_ranked(
        completed: list[tuple[np.ndarray, float]], violations: list[float]
    ) -> list[tuple[np.ndarray, float]]:
        """The completed members with the values CMA-ES ranks: infeasible members after every
        feasible one, by violation (:func:`~tuneful.records.feasibility_ranked`); unchanged
        when every member is feasible."""
        if not any(v > 0.0 for v in violations):
            return completed
        y = np.array([[value] for _, value in completed])
        ranked = feasibility_ranked(y, np.array(violations))[:, 0]
        return [(x, float(v)) for (x, _), v in zip(completed, ranked, strict=True)]

    def _value(self, record: TrialRecord) -> float | None:
        """The member's value for minimization; None for a failed or pruned member."""
        if record.state is not TrialState.COMPLETE or not record.values:
            return None
        value = record.values[0]
        return self.sign * float(value) if is_finite_number(value) else None

    def _startup_mean(self, head: list[TrialRecord]) -> np.ndarray:
        low, high = self.layout.bounds[:, 0], self.layout.bounds[:, 1]
        centre = (low + high) / 2
        scored = [
            (record.violation, value, record.number, record)
            for record in head
            if (value := self._value(record)) is not None
        ]
        if not scored:
            return centre
        # the best feasible member; without one, the least violating
        best = min(scored, key=lambda entry: entry[:3])[3]
        encoded = self.layout.encode([best.params])[0]
        return np.where(np.isnan(encoded), centre, np.clip(encoded, low, high))


def by_number(trials: list[TrialRecord]) -> list[TrialRecord | None]:
    """Records indexed by trial number (None for a number the history lacks)."""
    if all(record.number == i for i, record in enumerate(trials)):
        return list(trials)
    size = 1 + max((record.number for record in trials), default=-1)
    table: list[TrialRecord | None] = [None] * size
    for record in trials:
        table[record.number] = record
    return table


def all_finished(records: list[TrialRecord | None], count: int) -> list[TrialRecord] | None:
    """``records`` when there are ``count`` of them and all are finished, else None."""
    finished = [r for r in records if r is not None and r.state.is_finished]
    return finished if len(finished) == count else None
