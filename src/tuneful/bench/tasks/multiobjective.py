"""Multi-objective YAHPO tasks and constrained variants of any task.

- ``yahpo-mo/{scenario}/{instance}``: a YAHPO Gym surrogate with two objectives optimized
  together, a quality and a resource (:data:`YAHPO_PAIRS`): lcbench ``val_accuracy``
  (maximize) against ``time`` (minimize), rbv2_xgboost ``acc`` (maximize) against
  ``timepredict`` (minimize). The other outputs are recorded as before. The true front is
  unknown, so ``reference_point`` and ``max_hypervolume`` are None: a benchmark report
  derives both from the union of every run's points.
- ``{task id}@{metric}<={bound}``: the task with one constraint, ``metric <= bound``, on
  any metric it reports, e.g. ``yahpo-mo/rbv2_xgboost/1049@memory<=1500`` or
  ``zdt/zdt1/d10@f1<=0.5``. A constraint that cuts into the front makes the task's known
  maximum hypervolume wrong, so a constrained task keeps its reference point and drops
  ``max_hypervolume``. Quote such ids in a shell (``<`` redirects).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tuneful.bench.tasks._common import TaskError
from tuneful.bench.tasks.base import Constraint, Task

__all__ = ["YAHPO_PAIRS", "ConstrainedTask", "load_yahpo_mo", "constrain", "CONSTRAINT_MARK"]

#: Scenario -> the two objectives a ``yahpo-mo`` task optimizes together.
YAHPO_PAIRS: dict[str, tuple[str, str]] = {
    "lcbench": ("val_accuracy", "time"),
    "rbv2_xgboost": ("acc", "timepredict"),
}
#: What separates a task id from its constraint: ``<id>@<metric><=<bound>``.
CONSTRAINT_MARK = "@"
_LESS_EQUAL = "<="


def load_yahpo_mo(task_id: str, parts: list[str], data_dir: Path) -> Task:
    """Build the task for ``yahpo-mo/{scenario}/{instance}`` from ``<data_dir>/yahpo/``."""
    from tuneful.bench.tasks.yahpo import load_yahpo

    pairs = ", ".join(f"{k}: {a} vs {b}" for k, (a, b) in YAHPO_PAIRS.items())
    expected = f"expected 'yahpo-mo/{{scenario}}/{{instance}}' for a scenario with a pair ({pairs})"
    if len(parts) != 3 or parts[1] not in YAHPO_PAIRS:
        raise TaskError(f"task id {task_id!r}: {expected}")
    task = load_yahpo(f"yahpo/{parts[1]}/{parts[2]}", ["yahpo", *parts[1:]], data_dir)
    pair = YAHPO_PAIRS[parts[1]]
    chosen = tuple(next(o for o in task.objectives if o.name == name) for name in pair)
    task.objectives = (*chosen, *(o for o in task.objectives if o.name not in pair))
    task.id, task.n_optimized = task_id, 2
    task.metadata = {**task.metadata, "family": "yahpo-mo", "optimized": list(pair)}
    return task


class ConstrainedTask(Task):
    """``base`` with one more constraint, ``metric <= bound`` (see the module docstring)."""

    def __init__(self, base: Task, constraint: Constraint) -> None:
        super().__init__(
            id=f"{base.id}{CONSTRAINT_MARK}{constraint.metric}{_LESS_EQUAL}{constraint.bound:g}",
            space=base.space,
            objectives=base.objectives,
            fidelity=base.fidelity,
            cost=base.cost,
            metadata={
                **base.metadata,
                "constraint": f"{constraint.metric} <= {constraint.bound:g}",
            },
            n_optimized=base.n_optimized,
            constraints=(*base.constraints, constraint),
            reference_point=base.reference_point,
            max_hypervolume=None,
        )
        self.base = base

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """The base task's metrics (the constraint's metric among them)."""
        return self.base.evaluate(config, fidelity)

    def test_evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float] | None:
        return self.base.test_evaluate(config, fidelity)


def constrain(base: Task, task_id: str, text: str, metrics: list[str]) -> ConstrainedTask:
    """``base`` constrained by ``text`` (``<metric><=<bound>``) from id ``task_id``.

    Args:
        metrics: the names ``base.evaluate`` reports, to check the metric against.

    Raises:
        TaskError: ``text`` is not ``<metric><=<number>``, or names an unknown metric.
    """
    expected = (
        f"expected '<task id>{CONSTRAINT_MARK}<metric>{_LESS_EQUAL}<bound>', "
        "e.g. 'zdt/zdt1/d10@f1<=0.5'"
    )
    metric, separator, bound_text = text.partition(_LESS_EQUAL)
    try:
        bound = float(bound_text)
    except ValueError:
        bound = float("nan")
    if not separator or not metric or bound != bound or abs(bound) == float("inf"):
        raise TaskError(f"task id {task_id!r}: bad constraint {text!r}; {expected}")
    if metric not in metrics:
        raise TaskError(
            f"task id {task_id!r}: constraint on {metric!r}, which task {base.id!r} does not "
            f"report (metrics: {metrics})"
        )
    return ConstrainedTask(base, Constraint(metric, bound))
