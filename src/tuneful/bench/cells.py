"""A benchmark cell (optimizer, task, seed) and what its study records about it.

Both kinds of cells, black-box (:mod:`tuneful.bench.runner`) and multi-fidelity
(:mod:`tuneful.bench.multifidelity`), live in the study ``bench/<run>/<optimizer>/<task>/seed<s>``
(:func:`study_name`), describe themselves in the study's user attribute ``bench``
(:func:`bench_attrs`), score their incumbent once on held-out data (:func:`record_test_score`)
and resume alike (:func:`open_cell_study`): a finished cell is skipped, a tuneful optimizer's
cell continues where it stopped (its proposals depend only on the history) after queuing again
what an interruption cut short (:func:`retry_interrupted`), and a peer's unfinished cell
restarts from scratch (a peer's internal state cannot be rebuilt from the history).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tuneful
from tuneful.bench.adapters.base import Adapter
from tuneful.bench.tasks.base import Task
from tuneful.errors import StudyNotFoundError
from tuneful.optimizers import available_optimizers
from tuneful.records import TrialState
from tuneful.storage import Storage

__all__ = [
    "Cell",
    "TUNEFUL_PREFIX",
    "study_name",
    "tuneful_name",
    "bench_attrs",
    "record_test_score",
    "retry_interrupted",
    "open_cell_study",
]

#: Optimizer labels may name tuneful's optimizers explicitly: ``tuneful:random``.
TUNEFUL_PREFIX = "tuneful:"

#: The user attribute of a trial that evaluates again an interrupted trial (its number).


@dataclass(frozen=True)
class Cell:
    """One (optimizer, task, seed) run of a benchmark."""

    optimizer: str
    task: str
    seed: int


def study_name(run: str, cell: Cell) -> str:
    """The study that holds ``cell`` of benchmark ``run``."""
    return f"bench/{run}/{cell.optimizer}/{cell.task}/seed{cell.seed}"


def tuneful_name(label: str) -> str | None:
    """The registry name of the tuneful optimizer that ``label`` names, or None (a peer)."""
    name = label[len(TUNEFUL_PREFIX) :] if label.startswith(TUNEFUL_PREFIX) else label
    return name if name in available_optimizers() and name != "external" else None


def _describe(label: str, proposer: str | Adapter, seed: int) -> dict[str, Any]:
    if isinstance(proposer, Adapter):
        return {**proposer.describe(), "label": label}
    optimizer = tuneful.optimizers.make_optimizer(proposer, seed=seed)
    return {
        "label": label,
        "name": optimizer.name,
        "package": "tuneful",
        "version": tuneful.__version__,
        "settings": optimizer.settings(),
        "defaults": True,
    }


def bench_attrs(
    task: Task, cell: Cell, run: str, budget: int, expression: str, proposer: Any
) -> dict[str, Any]:
    """The study attribute ``bench``: what the cell is (task, optimizer, seed, budget, ...)."""
    primary = task.primary
    return {
        "run": run,
        "task": task.id,
        "optimizer": cell.optimizer,
        "optimizer_info": _describe(cell.optimizer, proposer, cell.seed),
        "seed": cell.seed,
        "budget": budget,
        "budget_expression": expression,
        "objective": primary.name,
        "direction": primary.direction,
        "optimum": primary.optimum,
        "cost": task.cost,
        "dim": task.dim,
        "task_metadata": {k: v for k, v in task.metadata.items() if _json_safe(v)},
        **(_multi_objective_attrs(task) if task.multi_objective or task.constraints else {}),
    }


def _multi_objective_attrs(task: Task) -> dict[str, Any]:
    """What a multi-objective or constrained cell adds: every optimized objective, its
    direction, the constraints, the task's reference point and maximum hypervolume."""
    return {
        "objectives": [o.name for o in task.optimized],
        "directions": [o.direction for o in task.optimized],
        "constraints": [f"{c.metric} <= {c.bound:g}" for c in task.constraints],
        "reference_point": None if task.reference_point is None else list(task.reference_point),
        "max_hypervolume": task.max_hypervolume,
    }


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def record_test_score(study: tuneful.Study, task: Task) -> None:
    """The honest protocol: the incumbent's score on held-out data, measured once."""
    try:
        best = study.best_trial
    except ValueError:
        return
    test = task.test_evaluate(best.params)
    if test is not None:
        study.set_user_attr("test_metrics", {"trial": best.number, **test})


def retry_interrupted(study: tuneful.Study, paid: Callable[[tuneful.TrialRecord], bool]) -> None:
    """Fail the trials a killed run left RUNNING; the study's ``retries`` queue them again.

    A cell's study is created with ``retries=1``: a trial that Ctrl-C or SIGTERM cut short is
    failed and queued again (once) by ``optimize`` itself, and one whose process was killed
    is found RUNNING here (a benchmark is run by one process at a time, so it belongs to a run
    that died) and failed through :meth:`~tuneful.Study.fail_trial`, which queues it again the
    same way. The copy is evaluated first (``system_attrs["retry_of"]`` names the trial it
    repeats), so the resumed cell proposes what an uninterrupted one would have. A trial whose
    evaluation was ``paid`` for (its metrics or cost were recorded) is failed without a retry:
    running it again would count its cost twice.
    """
    for trial in study.get_trials(states=[TrialState.RUNNING]):
        if paid(trial):
            study.tell(trial.number, state=TrialState.FAIL, error="the benchmark run stopped")
        else:
            study.fail_trial(trial.number, "the benchmark run stopped")


def open_cell_study(
    name: str,
    backend: Storage,
    *,
    finished: Callable[[tuneful.Study], bool],
    restart: bool,
    paid: Callable[[tuneful.TrialRecord], bool],
    create: Callable[[], tuneful.Study],
) -> tuneful.Study | None:
    """The cell's study ``name``, ready to run; None when it is ``finished`` already.

    Args:
        restart: an unfinished study is deleted and created again (a peer's cell) instead of
            continued (its interrupted trials queued again, see :func:`retry_interrupted`).
        paid: whether a trial was evaluated (see :func:`retry_interrupted`).
        create: makes the study (and records what the cell is) when there is none.
    """
    try:
        study = tuneful.load_study(name, storage=backend)
    except StudyNotFoundError:
        return create()
    if finished(study):
        return None
    if restart:
        tuneful.delete_study(name, storage=backend)
        return create()
    retry_interrupted(study, paid)
    return study
