"""BBOB: the 24 noiseless COCO test functions, evaluated by ``cocoex``.

Task id ``bbob/f{function}/d{dimension}/i{instance}``, e.g. ``bbob/f8/d5/i1``: function 1-24,
dimension 2-40, instance >= 1. The space is [-5, 5]^d (floats ``x0`` ... ``x{d-1}``) and
the single objective ``value`` is minimized; its ``optimum`` is the instance's f_opt, so the
regret ``value - optimum`` is exact.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError, require
from tuneful.bench.tasks.base import Objective, Task
from tuneful.space import Float, Space

__all__ = ["BbobTask", "load_bbob", "BBOB_GROUPS"]

FUNCTIONS = range(1, 25)
#: COCO's bbob suite goes up to 40 dimensions; below 2, most functions are undefined.
DIMENSIONS = range(2, 41)
MAX_INSTANCE = 2**31 - 1

#: The five BBOB function groups, by function number.
BBOB_GROUPS: dict[str, tuple[int, ...]] = {
    "separable": (1, 2, 3, 4, 5),
    "low or moderate conditioning": (6, 7, 8, 9),
    "high conditioning, unimodal": (10, 11, 12, 13, 14),
    "multimodal, adequate global structure": (15, 16, 17, 18, 19),
    "multimodal, weak global structure": (20, 21, 22, 23, 24),
}

_CITATION = (
    "Hansen, N., Auger, A., Ros, R., Mersmann, O., Tusar, T., & Brockhoff, D. (2021). "
    "COCO: A platform for comparing continuous optimizers in a black-box setting. "
    "Optimization Methods and Software, 36(1), 114-144."
)


@functools.lru_cache(maxsize=512)
def _problem(function: int, dimension: int, instance: int) -> Any:
    """The cocoex problem, built once per process (they cannot be pickled)."""
    cocoex = require("cocoex", "coco-experiment", "BBOB tasks")
    return cocoex.BareProblem("bbob", function, dimension, instance)


class BbobTask(Task):
    """One BBOB function instance in one dimension."""

    def __init__(self, function: int, dimension: int, instance: int) -> None:
        problem = _problem(function, dimension, instance)
        super().__init__(
            id=f"bbob/f{function}/d{dimension}/i{instance}",
            space=Space({f"x{j}": Float(-5.0, 5.0) for j in range(dimension)}),
            objectives=(Objective("value", "minimize", float(problem.best_value())),),
            metadata={
                "family": "bbob",
                "function": function,
                "dimension": dimension,
                "instance": instance,
                "group": next(g for g, fs in BBOB_GROUPS.items() if function in fs),
                "citation": _CITATION,
            },
        )
        self.function, self.dimension, self.instance = function, dimension, instance

    def __reduce__(self) -> tuple[Any, ...]:
        return (BbobTask, (self.function, self.dimension, self.instance))

    @property
    def best_point(self) -> dict[str, float]:
        """The configuration where ``value`` equals the optimum."""
        best = _problem(self.function, self.dimension, self.instance).best_parameter()
        return {f"x{j}": float(v) for j, v in enumerate(best)}

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """``{"value": f(x)}`` for ``x = (config["x0"], ..., config["x{d-1}"])``.

        Raises:
            SpaceError: ``config`` is not a point of the space.
            TaskError: a fidelity was given (BBOB tasks have none).
        """
        if fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        values = self.space.validate(config)
        x = np.fromiter(values.values(), dtype=np.float64, count=self.dimension)
        problem = _problem(self.function, self.dimension, self.instance)
        return {"value": float(problem(x))}


def load_bbob(task_id: str, parts: list[str]) -> BbobTask:
    """Build the task for ``bbob/f{f}/d{d}/i{i}`` (``parts`` is the id split at ``/``)."""
    expected = "expected 'bbob/f{1..24}/d{2..40}/i{instance >= 1}', e.g. 'bbob/f8/d5/i1'"
    if len(parts) != 4:
        raise TaskError(f"task id {task_id!r}: {expected}")
    numbers = []
    for part, letter in zip(parts[1:], "fdi", strict=True):
        if len(part) < 2 or part[0] != letter or not part[1:].isdigit():
            raise TaskError(f"task id {task_id!r}: bad part {part!r}; {expected}")
        numbers.append(int(part[1:]))
    function, dimension, instance = numbers
    if function not in FUNCTIONS:
        raise TaskError(f"task id {task_id!r}: function f{function} is not 1-24; {expected}")
    if dimension not in DIMENSIONS:
        raise TaskError(f"task id {task_id!r}: dimension d{dimension} is not 2-40; {expected}")
    if not 1 <= instance <= MAX_INSTANCE:
        raise TaskError(f"task id {task_id!r}: instance i{instance} is not >= 1; {expected}")
    return BbobTask(function, dimension, instance)
