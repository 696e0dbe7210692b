"""``load_task``: from a task id to a ready :class:`~tuneful.bench.tasks.base.Task`."""

from __future__ import annotations

import os

from tuneful.bench.tasks._common import TaskError, resolve_data_dir
from tuneful.bench.tasks.base import Task
from tuneful.errors import did_you_mean

__all__ = ["load_task", "FAMILIES", "check_task_id"]

#: Task family -> the shape of its ids.
FAMILIES: dict[str, str] = {
    "bbob": "bbob/f{1..24}/d{2..40}/i{instance}",
    "yahpo": "yahpo/{scenario}/{instance}",
    "steplaw": "steplaw/dense/N{N}/D{D}",
    "sklearn": "sklearn/{svm|gb|mlp}/{digits|breast_cancer|wine}",
    "zdt": "zdt/zdt{1,2,3,4,6}/d{2..1000}",
    "dtlz": "dtlz/dtlz{1,2,7}/d{d}/m{2,3}",
    "bbob-biobj": "bbob-biobj/f{1..55}/d{2,3,5,10,20,40}/i{1..15}",
    "yahpo-mo": "yahpo-mo/{lcbench|rbv2_xgboost}/{instance}",
}
OBJECTIVE_SEPARATOR = ":"


def load_task(
    task_id: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    objective: str | None = None,
) -> Task:
    """Build the benchmark task that ``task_id`` names.

    Task ids (see each family's module for details):

    - ``bbob/f{1..24}/d{2..40}/i{instance}``: a COCO BBOB function (needs ``cocoex``);
    - ``yahpo/{scenario}/{instance}``: a YAHPO Gym surrogate read from
      ``<data_dir>/yahpo/<scenario>/`` (needs ``onnxruntime``);
    - ``steplaw/dense/N{N}/D{D}``: a Step Law LLM grid, from
      ``<data_dir>/steplaw/dense_lr_bs_loss.csv`` or
      ``<data_dir>/../datasets/steplaw/dense_lr_bs_loss.csv``;
    - ``sklearn/{svm|gb|mlp}/{digits|breast_cancer|wine}``: real cross-validated training
      (needs ``scikit-learn``);
    - ``zdt/zdt{1,2,3,4,6}/d{d}`` and ``dtlz/dtlz{1,2,7}/d{d}/m{2,3}``: the classic
      multi-objective test problems, with their known fronts (numpy only);
    - ``bbob-biobj/f{1..55}/d{d}/i{1..15}``: a COCO bi-objective function (needs ``cocoex``);
    - ``yahpo-mo/{lcbench|rbv2_xgboost}/{instance}``: a YAHPO surrogate with a quality and
      a resource optimized together.

    Any id may carry a constraint, ``<id>@<metric><=<bound>`` (e.g.
    ``zdt/zdt1/d10@f1<=0.5``): see :mod:`tuneful.bench.tasks.multiobjective`.

    Any id may end in ``:<objective>`` to make that objective the primary one, e.g.
    ``yahpo/rbv2_xgboost/1111:auc``; ``objective=`` does the same. The returned task's ``id``
    is canonical (``N2.15e8`` becomes ``N214663680``) and keeps the suffix when the primary
    objective is not the default one. Heavy things (models, tables, datasets) are loaded once
    per process and shared by the tasks that use them.

    Args:
        task_id: the id, as above.
        data_dir: the benchmark data folder (e.g. the repository's ``shared/benchmarks``);
            default: the environment variable ``TUNEFUL_DATA_DIR``. Only YAHPO and Step Law
            tasks read it.
        objective: the name of the objective to make primary.

    Raises:
        TaskError: a malformed or unknown id, an unknown objective, missing data files.
        MissingDependencyError: the family's optional package is not installed.

    Example:
        >>> task = load_task("bbob/f1/d2/i1")  # doctest: +SKIP
        >>> task.evaluate({"x0": 0.0, "x1": 0.0})["value"] >= task.primary.optimum  # doctest: +SKIP
        True
    """
    if not isinstance(task_id, str):
        raise TaskError(f"task id {task_id!r}: expected a string such as 'bbob/f1/d2/i1'")
    base_id, separator, suffix = task_id.partition(OBJECTIVE_SEPARATOR)
    if separator:
        if not suffix:
            raise TaskError(f"task id {task_id!r}: nothing follows {OBJECTIVE_SEPARATOR!r}")
        if objective is not None and objective != suffix:
            raise TaskError(
                f"task id {task_id!r} names objective {suffix!r} but objective={objective!r}"
            )
        objective = suffix
    task = _build_constrained(base_id, data_dir)
    if objective is not None:
        _make_primary(task, objective)
    return task


def check_task_id(task_id: str) -> None:
    """Check the family of ``task_id`` without loading anything (for suite files).

    Raises:
        TaskError: not a string, or an unknown family.
    """
    if not isinstance(task_id, str):
        raise TaskError(f"task id {task_id!r}: expected a string such as 'bbob/f1/d2/i1'")
    family = task_id.split("/", 1)[0]
    if family not in FAMILIES:
        raise _unknown_family(task_id, family)


def _build_constrained(task_id: str, data_dir: str | os.PathLike[str] | None) -> Task:
    from tuneful.bench.tasks.multiobjective import CONSTRAINT_MARK, constrain

    base_id, mark, constraint = task_id.partition(CONSTRAINT_MARK)
    task = _build(base_id, data_dir)
    for text in constraint.split(CONSTRAINT_MARK) if mark else []:
        task = constrain(task, task_id, text, [o.name for o in task.objectives])
    return task


def _build(task_id: str, data_dir: str | os.PathLike[str] | None) -> Task:
    parts = task_id.split("/")
    family = parts[0]
    if family == "bbob":
        from tuneful.bench.tasks.bbob import load_bbob

        return load_bbob(task_id, parts)
    if family == "yahpo":
        from tuneful.bench.tasks.yahpo import load_yahpo

        return load_yahpo(task_id, parts, resolve_data_dir(data_dir, f"task {task_id!r}"))
    if family == "steplaw":
        from tuneful.bench.tasks.steplaw import load_steplaw

        return load_steplaw(task_id, parts, data_dir)
    if family == "sklearn":
        from tuneful.bench.tasks.sklearn_cv import load_sklearn

        return load_sklearn(task_id, parts)
    if family == "bbob-biobj":
        from tuneful.bench.tasks.bbob_biobj import load_bbob_biobj

        return load_bbob_biobj(task_id, parts)
    if family == "yahpo-mo":
        from tuneful.bench.tasks.multiobjective import load_yahpo_mo

        return load_yahpo_mo(task_id, parts, resolve_data_dir(data_dir, f"task {task_id!r}"))
    if family in ("zdt", "dtlz"):
        from tuneful.bench.tasks.zdt_dtlz import load_dtlz, load_zdt

        return load_zdt(task_id, parts) if family == "zdt" else load_dtlz(task_id, parts)
    raise _unknown_family(task_id, family)


def _unknown_family(task_id: str, family: str) -> TaskError:
    shapes = "; ".join(FAMILIES.values())
    return TaskError(
        f"task id {task_id!r}: unknown family {family!r}{did_you_mean(family, FAMILIES)}; "
        f"task ids look like: {shapes}"
    )


def _make_primary(task: Task, name: str) -> None:
    names = [o.name for o in task.objectives]
    if name not in names:
        raise TaskError(
            f"task {task.id!r} has no objective {name!r}{did_you_mean(name, names)} "
            f"(objectives: {names})"
        )
    if name == names[0] and not task.multi_objective:
        return
    chosen = task.objectives[names.index(name)]
    task.objectives = (chosen, *(o for o in task.objectives if o is not chosen))
    task.id = f"{task.id}{OBJECTIVE_SEPARATOR}{name}"
    # one objective chosen: a single-objective task, without a front to measure
    task.n_optimized, task.reference_point, task.max_hypervolume = 1, None, None
