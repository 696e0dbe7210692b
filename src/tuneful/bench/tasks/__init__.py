"""Benchmark tasks: COCO BBOB functions, YAHPO Gym surrogates, Step Law LLM grids, real
scikit-learn training, and multi-objective ones (ZDT and DTLZ in ``zdt_dtlz``, COCO's
bbob-biobj in ``bbob_biobj``, yahpo-mo and constrained ids in ``multiobjective``).
:func:`load_task` turns a task id into a :class:`Task`.

The packages each family needs (``cocoex``, ``onnxruntime``, ``scikit-learn``) are optional
extras, imported only when a task of that family is loaded.

Example:
    >>> from tuneful.bench.tasks import load_task
    >>> task = load_task("sklearn/svm/wine")  # doctest: +SKIP
    >>> task.primary.name, task.primary.direction  # doctest: +SKIP
    ('cv_accuracy', 'maximize')
"""

from __future__ import annotations

from tuneful.bench.tasks._common import DATA_DIR_ENV, TaskError
from tuneful.bench.tasks.base import Constraint, Fidelity, Objective, Task
from tuneful.bench.tasks.loader import FAMILIES, load_task
from tuneful.bench.tasks.steplaw import steplaw_grids

__all__ = [
    "Task",
    "Constraint",
    "Objective",
    "Fidelity",
    "TaskError",
    "load_task",
    "steplaw_grids",
    "FAMILIES",
    "DATA_DIR_ENV",
]
