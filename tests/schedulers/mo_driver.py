"""Multi-objective trials run against a scheduler the way the engine runs them: every report
is stored (the vector as ``report_values`` stores it), the scheduler judges the trial on the
history, and its decision's attributes are recorded on the trial. Records are replaced, never
mutated, as the storage's replica does. Workers take turns one budget at a time, so rungs
fill asynchronously as under ASHA with several workers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import Decision, Scheduler
from tuneful.schedulers.multi import objectives_key

#: (params, step) -> the objective vector at that step.
Curve = Callable[[dict[str, float], int], Sequence[float]]


class Driver:
    def __init__(self, scheduler: Scheduler, directions: Sequence[str]) -> None:
        self.scheduler = scheduler
        self.directions = tuple(directions)
        self.records: list[TrialRecord] = []
        self.spent = 0  # steps trained, over all trials

    def history(self, number: int | None = None) -> History:
        return History(None, self.directions, list(self.records), number=number)

    def _replace(self, number: int, **changes: Any) -> TrialRecord:
        record = dataclasses.replace(self.records[number], **changes)
        self.records[number] = record
        return record

    def create(self, params: dict[str, float]) -> int:
        number = len(self.records)
        attrs = self.scheduler.assign(self.history(number))
        self.records.append(
            TrialRecord(number, TrialState.RUNNING, params=params, system_attrs=dict(attrs))
        )
        return number

    def budget(self, number: int, max_budget: int) -> int:
        found = self.scheduler.budget(self.records[number], self.history(number))
        return max_budget if found is None else min(found, max_budget)

    def report(
        self,
        number: int,
        step: int,
        values: Sequence[float],
        constraints: Sequence[float] | None = None,
    ) -> Decision | None:
        old = self.records[number]
        self.spent += step - (old.last_step or 0)
        point: dict[str, Any] = {"values": [float(v) for v in values]}
        if constraints is not None:
            point["constraints"] = [float(c) for c in constraints]
        record = self._replace(
            number,
            intermediate={**old.intermediate, step: float(values[0])},
            user_attrs={**old.user_attrs, objectives_key(step): point},
        )
        decision = self.scheduler.decide(record, self.history(number))
        if decision is not None:
            record = self._replace(number, system_attrs={**record.system_attrs, **decision.attrs})
            if decision.stop:
                self._replace(number, state=TrialState.PRUNED)
        return decision

    def complete(self, number: int, values: Sequence[float]) -> None:
        self._replace(number, state=TrialState.COMPLETE, values=tuple(float(v) for v in values))


def run(
    scheduler: Scheduler,
    directions: Sequence[str],
    curve: Curve,
    *,
    max_budget: int,
    seed: int,
    n_trials: int | None = None,
    total_budget: int | None = None,
    workers: int = 1,
    dim: int = 2,
) -> Driver:
    """Random configurations in [0, 1]^dim until ``n_trials`` were created or
    ``total_budget`` steps were trained; ``workers`` trials advance in turn."""
    rng = np.random.default_rng(seed)
    driver = Driver(scheduler, directions)
    active: list[int] = []

    def more() -> bool:
        if n_trials is not None:
            return len(driver.records) < n_trials
        return total_budget is not None and driver.spent < total_budget

    while active or more():
        while len(active) < workers and more():
            params = {f"x{i}": float(v) for i, v in enumerate(rng.random(dim))}
            active.append(driver.create(params))
        number = active.pop(0)
        budget = driver.budget(number, max_budget)
        params = dict(driver.records[number].params)
        decision = driver.report(number, budget, curve(params, budget))
        if decision is not None and decision.stop:
            continue
        if budget >= max_budget:
            driver.complete(number, curve(params, max_budget))
        else:
            active.append(number)
    return driver


def toy_curve(params: dict[str, float], step: int) -> list[float]:
    """A ZDT1-like pair of minimized objectives whose learning curves fall towards their
    finals; x1 sets the distance to the front, x0 the place along it, x2 (when present) how
    slowly the curve converges."""
    a, q = params["x0"], params["x1"]
    g = 1.0 + 4.0 * q
    final = np.array([a, g * (1.0 - np.sqrt(a / g))])
    slow = 0.5 + params.get("x2", 0.5)
    return list(final + slow * np.exp(-step / 8.0) * np.array([1.0, 2.0]))
