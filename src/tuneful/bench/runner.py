"""Run N optimizers on M tasks with S seeds; every run is an ordinary study in storage.

A cell (optimizer, task, seed) lives in the study ``bench/<run>/<optimizer>/<task>/seed<s>``.
The study's user attribute ``bench`` says what the cell is (task, optimizer name, version and
settings, seed, budget, objective, direction, optimum, cost metric); each evaluated trial
carries the task's metrics in its user attribute ``metrics``. Interrupted benchmarks resume:
finished cells are skipped, cells of tuneful's optimizers continue where they stopped (their
proposals depend only on the history), and a peer's unfinished cell restarts from scratch
(a peer's internal state cannot be rebuilt from the history).

A multi-fidelity benchmark (``multi_fidelity=True``) spends a budget of cost rather than a
number of evaluations, and takes labels such as ``auto+asha``: see
:mod:`tuneful.bench.multifidelity`. Black-box cells run without a scheduler
(``scheduler="none"``), whatever the study default is.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tuneful
from tuneful.bench.adapters.base import Adapter, MultiObjectiveAdapter
from tuneful.bench.budget import BudgetExhausted, parse_budget
from tuneful.bench.cells import (
    Cell,
    bench_attrs,
    open_cell_study,
    record_test_score,
    study_name,
    tuneful_name,
)
from tuneful.bench.hypervolume import with_hv_regret
from tuneful.bench.multifidelity import MODE, SEPARATOR, mf_run
from tuneful.bench.results import Run, run_of_cell
from tuneful.bench.tasks.base import Task
from tuneful.errors import SpecError, StudyNotFoundError
from tuneful.records import TrialState
from tuneful.storage import MemoryStorage, Storage, open_storage

__all__ = ["Benchmark", "BenchmarkOutcome", "run_cell", "load_runs", "resolve_optimizer"]


@dataclass
class BenchmarkOutcome:
    """What ``Benchmark.run`` did: cells run, skipped (already done), failed, unavailable."""

    ran: list[Cell] = field(default_factory=list)
    skipped: list[Cell] = field(default_factory=list)
    failed: dict[Cell, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)


def resolve_optimizer(label: str) -> str | Adapter:
    """A tuneful optimizer's registry name, or the peer adapter for ``label``.

    Raises:
        SpecError: neither a tuneful optimizer nor a known peer adapter.
    """
    name = tuneful_name(label)
    if name is not None:
        return name
    from tuneful.bench.adapters import get_adapter

    if isinstance(label, str) and SEPARATOR in label:
        raise SpecError(
            f"optimizer label {label!r} names a scheduler: such labels run only in a "
            "multi-fidelity benchmark (Benchmark(..., multi_fidelity=True))"
        )
    return get_adapter(label)


def multi_objective_adapters() -> list[str]:
    """The peer adapters that optimize several objectives."""
    from tuneful.bench.adapters import multi_objective_adapters as names

    return names()


def _evaluated(trial: tuneful.TrialRecord) -> bool:
    """Whether the task evaluated the trial (it has metrics or an evaluation error)."""
    return "metrics" in trial.user_attrs or "evaluation_error" in trial.user_attrs


def _evaluations(study: tuneful.Study) -> list[tuneful.TrialRecord]:
    """Trials that were evaluated (finished with metrics or an evaluation error)."""
    return [
        t
        for t in study.trials
        if t.state in (TrialState.COMPLETE, TrialState.FAIL) and _evaluated(t)
    ]


class _Recorder:
    """Evaluates configurations on the task and records each as a trial of the study: every
    optimized objective, and the constraint values when the task has constraints."""

    def __init__(self, study: tuneful.Study, task: Task, budget: int) -> None:
        self.study = study
        self.task = task
        self.budget = budget
        self.count = len(_evaluations(study))
        self.sign = 1.0 if task.primary.direction == "minimize" else -1.0

    def _metrics(self, trial: tuneful.Trial) -> dict[str, float]:
        try:
            metrics = self.task.evaluate(trial.params)
        except Exception as exc:
            trial.set_user_attr("evaluation_error", f"{type(exc).__name__}: {exc}")
            raise
        clean = {k: float(v) for k, v in metrics.items()}
        trial.set_user_attr("metrics", clean)
        if self.task.cost is not None and self.task.cost in clean:
            trial.set_user_attr("cost", clean[self.task.cost])
        if self.task.constraints:
            trial.set_constraints([c.value(clean) for c in self.task.constraints])
        self.count += 1
        return clean

    def measure(self, trial: tuneful.Trial) -> float | tuple[float, ...]:
        """Evaluate ``trial.params``, attach the metrics and constraints, return the value
        (a tuple of the optimized objectives for a multi-objective task)."""
        clean = self._metrics(trial)
        if self.task.multi_objective:
            return tuple(clean[o.name] for o in self.task.optimized)
        return clean[self.task.primary.name]

    def _record(self, config: Mapping[str, Any]) -> tuple[float | tuple[float, ...], list[float]]:
        if self.count >= self.budget:
            raise BudgetExhausted(f"budget of {self.budget} evaluations spent")
        trial = self.study.ask(fixed_params=dict(config))
        try:
            value = self.measure(trial)
        except Exception as exc:
            self.study.tell(trial, state=TrialState.FAIL, error=traceback.format_exc())
            self.count += 1
            raise RuntimeError(f"task {self.task.id} failed on {dict(config)}: {exc}") from exc
        metrics = trial.user_attrs["metrics"]
        constraints = [c.value(metrics) for c in self.task.constraints]
        with warnings.catch_warnings():  # the peer, not the study's optimizer, honours them
            warnings.filterwarnings("ignore", "optimizer 'external' does not take constraints")
            self.study.tell(trial, value, constraints=constraints or None)
        return value, constraints

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None) -> float:
        """The peers' callback: record one evaluation, return its loss."""
        value, _ = self._record(config)
        assert not isinstance(value, tuple)
        return self.sign * value

    def evaluate_objectives(self, config: Mapping[str, Any]) -> tuple[list[float], list[float]]:
        """The multi-objective peers' callback: record one evaluation, return its optimized
        objectives (in the task's directions) and its constraint values (<= 0 satisfied)."""
        value, constraints = self._record(config)
        return list(value) if isinstance(value, tuple) else [value], constraints


def _check_objectives(cell: Cell, task: Task, proposer: str | Adapter) -> None:
    """SpecError when a single-objective peer meets a multi-objective task."""
    single = isinstance(proposer, Adapter) and not isinstance(proposer, MultiObjectiveAdapter)
    if task.multi_objective and single:
        raise SpecError(
            f"optimizer {cell.optimizer!r} optimizes one objective; task {task.id!r} has "
            f"{task.n_optimized} (multi-objective peers: {multi_objective_adapters()})"
        )


def run_cell(
    cell: Cell,
    *,
    run: str,
    budget: str | int,
    storage: str | Storage,
    data_dir: str | None,
    multi_fidelity: bool = False,
) -> str:
    """Run (or finish) one cell; returns "ran" or "skipped". Used by worker processes too."""
    from tuneful.bench.tasks import load_task

    if multi_fidelity:
        from tuneful.bench.multifidelity import run_mf_cell

        return run_mf_cell(cell, run=run, budget=budget, storage=storage, data_dir=data_dir)
    task = load_task(cell.task, data_dir=data_dir)
    proposer = resolve_optimizer(cell.optimizer)
    total = parse_budget(budget, task.dim)
    backend = open_storage(storage)
    name = study_name(run, cell)

    _check_objectives(cell, task, proposer)

    def create() -> tuneful.Study:
        study = tuneful.create_study(
            name,
            space=task.space,
            directions=[o.direction for o in task.optimized],
            storage=backend,
            optimizer=proposer if isinstance(proposer, str) else "external",
            scheduler="none",
            seed=cell.seed,
            heartbeat_interval=None,
            retries=1,  # an interrupted evaluation is run again, once
        )
        study.set_user_attr("bench", bench_attrs(task, cell, run, total, str(budget), proposer))
        return study

    study = open_cell_study(
        name,
        backend,
        finished=lambda study: len(_evaluations(study)) >= total,
        restart=isinstance(proposer, Adapter),
        paid=_evaluated,
        create=create,
    )
    if study is None:
        return "skipped"
    recorder = _Recorder(study, task, total)
    if isinstance(proposer, MultiObjectiveAdapter) and task.multi_objective:
        with contextlib.suppress(BudgetExhausted):
            proposer.run_multi_objective(
                task, budget=total, seed=cell.seed, evaluate=recorder.evaluate_objectives
            )
        if recorder.count < total:
            raise RuntimeError(
                f"{cell.optimizer} stopped after {recorder.count} of {total} evaluations"
            )
    elif isinstance(proposer, Adapter):
        with contextlib.suppress(BudgetExhausted):
            proposer.run(task, budget=total, seed=cell.seed, evaluate=recorder.evaluate)
        if recorder.count < total:
            raise RuntimeError(
                f"{cell.optimizer} stopped after {recorder.count} of {total} evaluations"
            )
    else:
        study.optimize(
            recorder.measure,
            n_trials=total - recorder.count,
            catch=(),
            show_progress_bar=False,
        )
    record_test_score(study, task)
    return "ran"


class Benchmark:
    """N optimizers × M tasks × S seeds, each cell a study in ``storage``.

    Args:
        name: the benchmark's name (its studies are ``bench/<name>/...``).
        tasks: task ids (see :func:`tuneful.bench.load_task`).
        optimizers: tuneful optimizer names (``auto``, ``random``, ``sobol``, ...; also
            ``tuneful:<name>``) and peer adapters (``optuna-tpe``, ``smac-hpo``, ...).
        seeds: a count (seeds 0..n-1) or explicit seeds.
        budget: evaluations per cell, or an expression of the dimension ``d``; in a
            multi-fidelity benchmark, the cost per cell in full-fidelity evaluations' worth.
        storage: where the studies live.
        data_dir: benchmark data folder (default: ``TUNEFUL_DATA_DIR``).
        multi_fidelity: spend a budget of cost, with labels such as ``auto+asha`` and
            multi-fidelity peers (see :mod:`tuneful.bench.multifidelity`); every task needs
            a fidelity.
    """

    def __init__(
        self,
        name: str,
        *,
        tasks: Sequence[str],
        optimizers: Sequence[str],
        seeds: int | Sequence[int] = 10,
        budget: str | int = "20+40sqrt(d)",
        storage: str | Storage | None = None,
        data_dir: str | None = None,
        multi_fidelity: bool = False,
    ) -> None:
        if not tasks:
            raise SpecError("benchmark tasks: expected at least one task id")
        if not optimizers:
            raise SpecError("benchmark optimizers: expected at least one optimizer")
        self.name = name
        self.tasks = list(tasks)
        self.optimizers = list(optimizers)
        self.seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
        if not self.seeds:
            raise SpecError(f"seeds={seeds!r}: expected at least one seed")
        parse_budget(budget, 1)  # fail early on a malformed expression
        self.budget = budget
        self.data_dir = data_dir
        self.multi_fidelity = bool(multi_fidelity)
        self._check_tasks()
        self.storage = open_storage(storage)

    def _check_tasks(self) -> None:
        """Load every task once, so a wrong id or missing data fails before any run."""
        from tuneful.bench.tasks import load_task

        for task_id in self.tasks:
            task = load_task(task_id, data_dir=self.data_dir)
            if self.multi_fidelity:
                from tuneful.bench.fidelity import fidelity_plan

                fidelity_plan(task)

    def availability(self) -> dict[str, str | None]:
        """Per optimizer: None when it can run here, else why not."""
        reasons: dict[str, str | None] = {}
        for label in self.optimizers:
            if self.multi_fidelity:
                from tuneful.bench.multifidelity import parse_label

                adapter = parse_label(label).adapter
                reasons[label] = None if adapter is None else adapter.unavailable_reason()
                continue
            proposer = resolve_optimizer(label)
            reasons[label] = (
                proposer.unavailable_reason() if isinstance(proposer, Adapter) else None
            )
        return reasons

    def cells(self) -> list[Cell]:
        return [
            Cell(optimizer, task, seed)
            for task in self.tasks
            for seed in self.seeds
            for optimizer in self.optimizers
        ]

    def run(
        self, *, jobs: int = 1, on_cell: Callable[[Cell, str], None] | None = None
    ) -> BenchmarkOutcome:
        """Run every cell not yet done. ``on_cell(cell, status)`` reports progress."""
        outcome = BenchmarkOutcome()
        reasons = self.availability()
        outcome.unavailable = {k: v for k, v in reasons.items() if v is not None}
        cells = [c for c in self.cells() if c.optimizer not in outcome.unavailable]
        arguments: dict[str, Any] = {
            "run": self.name,
            "budget": self.budget,
            "storage": self.storage,
            "data_dir": self.data_dir,
            "multi_fidelity": self.multi_fidelity,
        }
        if jobs > 1:
            if isinstance(self.storage, MemoryStorage):
                raise SpecError(
                    "jobs > 1 needs a storage that worker processes share (sqlite:///...), "
                    "not memory://"
                )
            self.storage.close()  # worker processes open their own connections
            arguments["storage"] = self.storage.url

        def settle(cell: Cell, status: str) -> None:
            if status == "ran":
                outcome.ran.append(cell)
            elif status == "skipped":
                outcome.skipped.append(cell)
            else:
                outcome.failed[cell] = status
            if on_cell is not None:
                on_cell(cell, "failed" if cell in outcome.failed else status)

        if jobs <= 1:
            for cell in cells:
                settle(cell, _guarded(cell, arguments))
            return outcome
        context = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = {pool.submit(_guarded, cell, arguments): cell for cell in cells}
            try:
                for future in concurrent.futures.as_completed(futures):
                    settle(futures[future], future.result())
            except KeyboardInterrupt:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return outcome


def _guarded(cell: Cell, arguments: dict[str, Any]) -> str:
    try:
        return run_cell(cell, **arguments)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def load_runs(storage: str | Storage | None, name: str) -> list[Run]:
    """Every cell of benchmark ``name`` found in ``storage``, as :class:`Run` traces.

    Raises:
        StudyNotFoundError: the storage holds no study of that benchmark.
    """
    backend = open_storage(storage)
    prefix = f"bench/{name}/"
    runs: list[Run] = []
    for info in backend.list_studies():
        if not info.name.startswith(prefix):
            continue
        study = tuneful.load_study(info.name, storage=backend, optimizer="random")
        attrs = study.user_attrs.get("bench")
        if not attrs:
            continue
        if attrs.get("mode") == MODE:
            runs.append(mf_run(study, attrs))
            continue
        runs.append(_black_box_run(study, attrs))
    if not runs:
        raise StudyNotFoundError(f"no benchmark named {name!r} in {backend.url}")
    return with_hv_regret(runs)


def _black_box_run(study: tuneful.Study, attrs: Mapping[str, Any]) -> Run:
    """A black-box cell's run: the primary loss of each evaluation (NaN for a failure or a
    constraint violation); for a multi-objective cell also every objective, oriented to
    minimize, and feasibility, which :func:`with_hv_regret` turns into its losses."""
    directions = attrs.get("directions") or [attrs["direction"]]
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    trials = _evaluations(study)[: int(attrs["budget"])]
    points = np.full((len(trials), len(signs)), np.nan)
    feasible = np.zeros(len(trials), dtype=bool)
    for i, trial in enumerate(trials):
        if trial.state is TrialState.COMPLETE and trial.values:
            points[i] = signs * np.asarray(trial.values, dtype=float)
            feasible[i] = trial.feasible
    losses = np.where(feasible, points[:, 0], np.nan)
    # Budgets count full-fidelity evaluations, so each one costs 1; the task's own
    # cost metric (e.g. a surrogate's runtime) stays in each trial's user attributes.
    costs = [1.0] * len(trials)
    several = len(signs) > 1
    return run_of_cell(
        attrs,
        study.user_attrs.get("test_metrics"),
        list(losses),
        costs,
        complete=len(trials) >= int(attrs["budget"]),
        points=points if several else None,
        feasible=feasible if several else None,
    )
