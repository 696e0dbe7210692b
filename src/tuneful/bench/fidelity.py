"""How a task's fidelity becomes integer budgets, and what an evaluation at a budget costs.

Multi-fidelity benchmark cells spend a budget of *cost*, measured in full-fidelity
evaluations' worth: 1.0 is what one evaluation at full fidelity costs (on average, for time
costs), so a budget of 100 buys 100 full evaluations, or many more cheap ones. Schedulers and
peers see the fidelity as integer budgets ``min_budget..max_budget`` (see
:class:`FidelityPlan`); the task sees ``fidelity = budget * scale``.

Two cost models, chosen per task (:func:`fidelity_plan`):

- **Resumable, priced by a cumulative time metric** (YAHPO ``lcbench``): the budget is the
  epoch (1-52) and the surrogate's ``time`` is the cumulative training time up to that epoch
  (it rises with the epoch for every configuration), so a trial trained to epoch ``e`` costs
  ``time(e)`` however many times it was judged on the way. The time of one full-fidelity
  evaluation varies with the configuration, so the unit is fixed per task: the median of
  ``time(52)`` over :data:`UNIT_SAMPLE` configurations drawn at random with seed
  :data:`UNIT_SEED` (deterministic, computed once per process and recorded in each cell).
- **Not resumable, priced in fidelity units** (YAHPO ``rbv2_*``): the budget is the training
  set in percent (3-100, ``trainsize = budget / 100``); a model trained on part of the data
  cannot be grown to more of it, so every evaluation starts from scratch and costs its
  ``trainsize``, and a trial judged at 3, 9, 27, 81 and 100 pays 2.2. The surrogate's
  ``timetrain`` is not used: it is not monotone in ``trainsize`` (for some configurations the
  surrogate predicts more time on 3 % of the data than on all of it), so it would reward
  whatever a surrogate artefact makes cheap.

Other tasks declare their model in ``task.metadata["multi_fidelity"]``, a mapping with the
keys of :class:`FidelityPlan` that are not derived (``min_budget``, ``max_budget``, ``scale``,
``resumable``, ``cost_metric``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from tuneful.bench.tasks.base import Task
from tuneful.errors import SpecError

__all__ = ["FidelityPlan", "fidelity_plan", "UNIT_SAMPLE", "UNIT_SEED"]

#: Configurations drawn to fix a time-priced task's cost unit, and their seed.
UNIT_SAMPLE = 500
UNIT_SEED = 0

#: (task id, cost metric, full fidelity) -> cost unit, computed once per process.
_UNITS: dict[tuple[str, str, float], float] = {}

#: YAHPO scenario -> its cost model (see the module docstring).
_SCENARIOS: dict[str, dict[str, Any]] = {
    "lcbench": {"scale": 1.0, "resumable": True, "cost_metric": "time"},
    "rbv2_*": {"scale": 0.01, "resumable": False, "cost_metric": None},
}


@dataclass(frozen=True)
class FidelityPlan:
    """A task's fidelity as integer budgets, and its cost model.

    Attributes:
        task: the task id.
        fidelity: the task's fidelity parameter (``epoch``, ``trainsize``).
        min_budget, max_budget: the integer budgets schedulers and peers may ask for;
            ``max_budget`` is full fidelity.
        scale: ``fidelity = budget * scale`` (1 for epochs, 0.01 for percent of the data).
        resumable: a trial run to budget b and then to b' > b pays only for b' (training
            continues); otherwise each evaluation starts over and pays for its budget.
        cost_metric: the task metric that prices an evaluation (cumulative in the budget for
            a resumable fidelity), or None to price it by ``budget / max_budget``.
        unit: what one full-fidelity evaluation costs in ``cost_metric`` units (1.0 for
            fidelity units); costs are divided by it.
    """

    task: str
    fidelity: str
    min_budget: int
    max_budget: int
    scale: float
    resumable: bool
    cost_metric: str | None
    unit: float = 1.0

    def value(self, budget: int) -> float:
        """The task's fidelity value at an integer ``budget``.

        Raises:
            SpecError: the budget is not an int in [min_budget, max_budget].
        """
        if isinstance(budget, bool) or not isinstance(budget, int | np.integer):
            raise SpecError(f"{self.task}: budget={budget!r}: expected an int")
        if not self.min_budget <= budget <= self.max_budget:
            raise SpecError(
                f"{self.task}: budget={budget} is outside [{self.min_budget}, {self.max_budget}]"
            )
        return round(int(budget) * self.scale, 10)  # 3 * 0.01 is 0.03, not 0.030000000000000002

    def nearest_budget(self, proposed: float) -> int:
        """The integer budget nearest to a real one a peer proposes, within the range."""
        budget = int(round(float(proposed)))
        return min(max(budget, self.min_budget), self.max_budget)

    def cost(self, budget: int, metrics: Mapping[str, float]) -> float:
        """The cost of training to ``budget`` from scratch, whose metrics are ``metrics``."""
        if self.cost_metric is None:
            return budget / self.max_budget
        return float(metrics[self.cost_metric]) / self.unit

    def trial_cost(self, evaluated: Sequence[tuple[int, Mapping[str, float]]]) -> float:
        """What a trial evaluated at the (budget, metrics) pairs in ``evaluated`` paid.

        Resumable: the cost of its largest budget; otherwise the sum over its evaluations.
        """
        if not evaluated:
            return 0.0
        if self.resumable:
            budget, metrics = max(evaluated, key=lambda pair: pair[0])
            return self.cost(budget, metrics)
        return float(sum(self.cost(budget, metrics) for budget, metrics in evaluated))

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-safe data (recorded with each multi-fidelity cell)."""
        return asdict(self)


def _declared(task: Task) -> Mapping[str, Any] | None:
    declared = task.metadata.get("multi_fidelity")
    if isinstance(declared, Mapping):
        return declared
    scenario = task.metadata.get("scenario")
    if task.metadata.get("family") != "yahpo" or not isinstance(scenario, str):
        return None
    if scenario in _SCENARIOS:
        return _SCENARIOS[scenario]
    if scenario.startswith("rbv2_"):
        return _SCENARIOS["rbv2_*"]
    return None


def fidelity_plan(task: Task) -> FidelityPlan:
    """The integer budgets and the cost model of ``task`` (see the module docstring).

    Raises:
        SpecError: the task has no fidelity, or no known cost model.
    """
    if task.fidelity is None:
        raise SpecError(
            f"task {task.id!r} has no fidelity; multi-fidelity cells need one (YAHPO "
            "lcbench or rbv2_* tasks)"
        )
    declared = _declared(task)
    if declared is None:
        raise SpecError(
            f"task {task.id!r}: no multi-fidelity cost model is known for it (known: YAHPO "
            f"{sorted(_SCENARIOS)}; a task declares one in metadata['multi_fidelity'])"
        )
    scale = float(declared.get("scale", 1.0))
    axis = task.fidelity
    plan = FidelityPlan(
        task=task.id,
        fidelity=axis.name,
        min_budget=int(declared.get("min_budget", math.ceil(axis.low / scale - 1e-9))),
        max_budget=int(declared.get("max_budget", math.floor(axis.high / scale + 1e-9))),
        scale=scale,
        resumable=bool(declared.get("resumable", False)),
        cost_metric=declared.get("cost_metric"),
    )
    if plan.cost_metric is None:
        return plan
    return FidelityPlan(**{**asdict(plan), "unit": cost_unit(task, plan)})


def cost_unit(task: Task, plan: FidelityPlan) -> float:
    """The median full-fidelity ``cost_metric`` over a fixed random sample of ``task``.

    Raises:
        SpecError: the median is not a positive number.
    """
    key = (task.id, plan.cost_metric or "", plan.value(plan.max_budget))
    if key not in _UNITS:
        rng = np.random.default_rng(UNIT_SEED)
        configs = task.space.sample(rng, UNIT_SAMPLE)
        costs = [task.evaluate(config, key[2])[key[1]] for config in configs]
        _UNITS[key] = float(np.median(costs))
    unit = _UNITS[key]
    if not (math.isfinite(unit) and unit > 0):
        raise SpecError(
            f"task {task.id!r}: the median full-fidelity {plan.cost_metric!r} is {unit}; "
            "expected a positive cost unit"
        )
    return unit
