"""bbob-biobj: COCO's 55 bi-objective functions, evaluated by ``cocoex``.

Task id ``bbob-biobj/f{function}/d{dimension}/i{instance}``, e.g. ``bbob-biobj/f4/d5/i1``:
function 1-55, dimension 2, 3, 5, 10, 20 or 40, instance 1-15 (the instances COCO defines
for the suite). Each function pairs two BBOB functions (Brockhoff et al. 2022); both
objectives ``f1`` and ``f2`` are minimized over [-5, 5]^d (floats ``x0`` ... ``x{d-1}``), the
box of the ``bbob`` tasks, where both single-objective optima of every function lie (COCO
lets a solver search [-100, 100]^d, which a budget of a few hundred evaluations cannot).

COCO measures a bi-objective run by the hypervolume of its points after normalizing each
objective by the ideal and the nadir point, with the nadir as reference point. A hypervolume
*ratio* does not change under that affine normalization, so the task's ``reference_point`` is
the nadir in raw values (cocoex's ``largest_fvalues_of_interest``) and the hypervolume regret
``(best - HV) / best`` is COCO's up to the best value: COCO's best-known hypervolumes ship
with its post-processing data rather than with ``cocoex``, so ``max_hypervolume`` is None and
a benchmark report measures against the union of every run's non-dominated points.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError, require
from tuneful.bench.tasks.base import Objective, Task
from tuneful.space import Float, Space

__all__ = ["BiobjTask", "load_bbob_biobj"]

FUNCTIONS = range(1, 56)
DIMENSIONS = (2, 3, 5, 10, 20, 40)
INSTANCES = range(1, 16)

_CITATION = (
    "Brockhoff, D., Auger, A., Hansen, N., & Tusar, T. (2022). Using well-understood "
    "single-objective functions in multiobjective black-box optimization test suites. "
    "Evolutionary Computation, 30(2), 165-193."
)


@functools.lru_cache(maxsize=256)
def _problem(function: int, dimension: int, instance: int) -> tuple[Any, Any]:
    """The cocoex suite and problem, built once per process (they cannot be pickled); the
    suite is kept with the problem, which it owns."""
    cocoex = require("cocoex", "coco-experiment", "bbob-biobj tasks")
    suite = cocoex.Suite(
        "bbob-biobj",
        f"instances: {instance}",
        f"function_indices: {function} dimensions: {dimension}",
    )
    return suite, suite.get_problem(0)


class BiobjTask(Task):
    """One bbob-biobj function instance in one dimension."""

    def __init__(self, function: int, dimension: int, instance: int) -> None:
        _, problem = _problem(function, dimension, instance)
        nadir = tuple(float(v) for v in problem.largest_fvalues_of_interest)
        super().__init__(
            id=f"bbob-biobj/f{function}/d{dimension}/i{instance}",
            space=Space({f"x{j}": Float(-5.0, 5.0) for j in range(dimension)}),
            objectives=(Objective("f1", "minimize"), Objective("f2", "minimize")),
            metadata={
                "family": "bbob-biobj",
                "function": function,
                "dimension": dimension,
                "instance": instance,
                "coco_id": str(problem.id),
                "reference_point": list(nadir),
                "citation": _CITATION,
            },
            n_optimized=2,
            reference_point=nadir,
        )
        self.function, self.dimension, self.instance = function, dimension, instance

    def __reduce__(self) -> tuple[Any, ...]:
        return (BiobjTask, (self.function, self.dimension, self.instance))

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """``{"f1": ..., "f2": ...}`` at ``x = (config["x0"], ..., config["x{d-1}"])``.

        Raises:
            SpaceError: ``config`` is not a point of the space.
            TaskError: a fidelity was given (these tasks have none).
        """
        if fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        values = self.space.validate(config)
        x = np.fromiter(values.values(), dtype=np.float64, count=self.dimension)
        f = _problem(self.function, self.dimension, self.instance)[1](x)
        return {"f1": float(f[0]), "f2": float(f[1])}


def load_bbob_biobj(task_id: str, parts: list[str]) -> BiobjTask:
    """Build the task for ``bbob-biobj/f{f}/d{d}/i{i}`` (``parts``: the id split at ``/``)."""
    expected = (
        "expected 'bbob-biobj/f{1..55}/d{2,3,5,10,20,40}/i{1..15}', e.g. 'bbob-biobj/f4/d5/i1'"
    )
    if len(parts) != 4:
        raise TaskError(f"task id {task_id!r}: {expected}")
    numbers = []
    for part, letter in zip(parts[1:], "fdi", strict=True):
        if len(part) < 2 or part[0] != letter or not part[1:].isdigit():
            raise TaskError(f"task id {task_id!r}: bad part {part!r}; {expected}")
        numbers.append(int(part[1:]))
    function, dimension, instance = numbers
    if function not in FUNCTIONS:
        raise TaskError(f"task id {task_id!r}: function f{function} is not 1-55; {expected}")
    if dimension not in DIMENSIONS:
        raise TaskError(
            f"task id {task_id!r}: dimension d{dimension} is not one of COCO's; {expected}"
        )
    if instance not in INSTANCES:
        raise TaskError(f"task id {task_id!r}: instance i{instance} is not 1-15; {expected}")
    return BiobjTask(function, dimension, instance)
