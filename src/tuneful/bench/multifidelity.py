"""Multi-fidelity benchmark cells: a budget of cost instead of a number of evaluations.

A multi-fidelity cell runs until its cumulative cost reaches the budget, counted in
full-fidelity evaluations' worth (:mod:`tuneful.bench.fidelity` says how each task prices an
evaluation). The optimizer labels of such a benchmark are:

- ``<optimizer>+<scheduler>`` (``auto+auto``, ``random+asha``, ``tpe+hyperband``,
  ``auto+curve``): a tuneful study with that optimizer and that scheduler, whose
  ``min_budget`` / ``max_budget`` are the task's integer budgets. Its objective iterates
  ``trial.budgets()``, evaluates the task at each budget and reports the primary metric
  there (in the study's direction); ``tuneful.Pruned`` ends it early;
- a plain tuneful optimizer (``auto``, ``random``): full fidelity only, no scheduler;
- a peer adapter: a multi-fidelity peer (``optuna-tpe-hyperband``, ``smac-mf``, ``dehb``)
  with its own scheduling, or a black-box peer (``optuna-tpe``) at full fidelity.

What a cell records, per trial: the user attributes ``cost`` (what it paid, in full
evaluations' worth), ``budget`` (the largest budget it was evaluated at) and, when that is the
full budget, ``metrics`` (every task metric at full fidelity). A trial that stopped earlier
(pruned by a scheduler, or a peer's low-fidelity evaluation) is PRUNED; its cost counts, its
loss does not: in :func:`mf_run` traces only full-fidelity results have a loss, so anytime
regret against cost is what a user would see. The study's ``bench`` attribute says
``mode: multi-fidelity`` and records the task's :class:`FidelityPlan` (its cost unit
included).

Resuming works as for black-box cells: a tuneful cell continues (a trial that an
interruption cut short is failed, not counted, and its configuration evaluated again); a
peer's cell restarts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import tuneful
from tuneful.bench.adapters.base import Adapter, MultiFidelityAdapter
from tuneful.bench.budget import BudgetExhausted, parse_budget
from tuneful.bench.cells import (
    TUNEFUL_PREFIX,
    Cell,
    bench_attrs,
    open_cell_study,
    record_test_score,
    study_name,
    tuneful_name,
)
from tuneful.bench.fidelity import FidelityPlan, fidelity_plan
from tuneful.bench.results import Run, run_of_cell
from tuneful.bench.session import FidelitySession, record_cost
from tuneful.bench.tasks.base import Task
from tuneful.errors import SpecError, did_you_mean
from tuneful.records import TrialState
from tuneful.storage import Storage, open_storage

__all__ = [
    "MODE",
    "Setup",
    "parse_label",
    "run_mf_cell",
    "mf_run",
]

#: The ``mode`` a multi-fidelity cell records in its ``bench`` attribute.
MODE = "multi-fidelity"
SEPARATOR = "+"
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


@dataclass(frozen=True)
class Setup:
    """What an optimizer label means in a multi-fidelity benchmark.

    Attributes:
        label: the label as written.
        optimizer: the tuneful optimizer's registry name (None for a peer).
        scheduler: the tuneful scheduler's name (None: full fidelity, or a peer).
        adapter: the peer adapter (None for tuneful).
    """

    label: str
    optimizer: str | None = None
    scheduler: str | None = None
    adapter: Adapter | None = None

    @property
    def multi_fidelity(self) -> bool:
        """Whether the setup evaluates below full fidelity."""
        return self.scheduler is not None or isinstance(self.adapter, MultiFidelityAdapter)


def _schedulers() -> list[str]:
    from tuneful.schedulers import available_schedulers

    return [name for name in available_schedulers() if name != "none"]


def parse_label(label: str) -> Setup:
    """The setup an optimizer label names (see the module docstring).

    Raises:
        SpecError: an unknown optimizer, scheduler or peer; the message names the bad part
            and lists the valid ones.
    """
    from tuneful.bench.adapters import get_adapter, peer_adapters
    from tuneful.optimizers import available_optimizers

    if not isinstance(label, str) or not label:
        raise SpecError(f"optimizer label {label!r}: expected a string such as 'auto+asha'")
    if SEPARATOR not in label:
        name = tuneful_name(label)
        if name is not None:
            return Setup(label, optimizer=name)
        return Setup(label, adapter=get_adapter(label))
    head, _, scheduler = label.partition(SEPARATOR)
    optimizers = [n for n in available_optimizers() if n != "external"]
    schedulers = _schedulers()
    if SEPARATOR in scheduler or not head or not scheduler:
        raise SpecError(
            f"optimizer label {label!r}: expected '<optimizer>+<scheduler>' such as "
            f"'auto+asha' (optimizers: {', '.join(optimizers)}; schedulers: "
            f"{', '.join(schedulers)})"
        )
    optimizer = tuneful_name(head)
    if optimizer is None:
        bare = head.removeprefix(TUNEFUL_PREFIX)
        peer = " (peers bring their own scheduling: name them alone)" * (bare in peer_adapters())
        raise SpecError(
            f"optimizer label {label!r}: {head!r} is not a tuneful optimizer{peer}"
            f"{did_you_mean(bare, optimizers)} (optimizers: {', '.join(optimizers)})"
        )
    if scheduler not in schedulers:
        raise SpecError(
            f"optimizer label {label!r}: {scheduler!r} is not a scheduler"
            f"{did_you_mean(scheduler, schedulers)} (schedulers: {', '.join(schedulers)}; "
            f"for full fidelity write {head!r} alone)"
        )
    return Setup(label, optimizer=optimizer, scheduler=scheduler)


# -- tuneful's setups ---------------------------------------------------------------------
class _Objective:
    """A tuneful study's objective on a multi-fidelity task."""

    def __init__(self, session: FidelitySession, scheduled: bool) -> None:
        self.session = session
        self.scheduled = scheduled

    def __call__(self, trial: tuneful.Trial) -> float:
        plan, task = self.session.plan, self.session.task
        evaluated: list[tuple[int, dict[str, float]]] = []
        budgets = trial.budgets(plan.max_budget) if self.scheduled else iter([plan.max_budget])
        value = float("nan")
        try:
            for budget in budgets:
                metrics = task.evaluate(trial.params, plan.value(budget))
                evaluated.append((budget, {k: float(v) for k, v in metrics.items()}))
                value = evaluated[-1][1][task.primary.name]
                if self.scheduled:
                    trial.report(step=budget, value=value)  # may raise tuneful.Pruned
        except Exception as exc:  # Pruned included: what was evaluated was paid for
            if not isinstance(exc, tuneful.Pruned):
                trial.set_user_attr("evaluation_error", f"{type(exc).__name__}: {exc}")
            self.session.spent += record_cost(trial, plan, evaluated)
            raise
        self.session.spent += record_cost(trial, plan, evaluated)
        return value


def _spent(study: tuneful.Study) -> float:
    return float(sum(_cost(t) for t in _counted(study.trials)))


def _cost(trial: tuneful.TrialRecord) -> float:
    return float(trial.user_attrs.get("cost", 0.0))


def _paid(trial: tuneful.TrialRecord) -> bool:
    """Whether the trial was paid for (an interrupted trial has no ``cost``)."""
    return "cost" in trial.user_attrs


def _counted(trials: list[tuneful.TrialRecord]) -> list[tuneful.TrialRecord]:
    """Finished trials that were paid for."""
    return [t for t in trials if t.state in _FINISHED and _paid(t)]


def _scheduler_spec(setup: Setup, plan: FidelityPlan) -> str | dict[str, Any]:
    if setup.scheduler is None:
        return "none"
    settings = {"min_budget": plan.min_budget, "max_budget": plan.max_budget}
    return {"name": setup.scheduler, "settings": settings}


def run_mf_cell(
    cell: Cell,
    *,
    run: str,
    budget: str | int,
    storage: str | Storage,
    data_dir: str | None,
) -> str:
    """Run (or finish) one multi-fidelity cell; returns "ran" or "skipped".

    Raises:
        SpecError: a bad label, or a task without a multi-fidelity cost model.
        RuntimeError: a peer stopped before the budget was spent.
    """
    from tuneful.bench.tasks import load_task

    task = load_task(cell.task, data_dir=data_dir)
    setup = parse_label(cell.optimizer)
    plan = fidelity_plan(task)
    total = parse_budget(budget, task.dim)
    backend = open_storage(storage)
    name = study_name(run, cell)

    def create() -> tuneful.Study:
        study = tuneful.create_study(
            name,
            space=task.space,
            direction=task.primary.direction,
            storage=backend,
            optimizer=setup.optimizer or "external",
            scheduler=_scheduler_spec(setup, plan),
            seed=cell.seed,
            heartbeat_interval=None,
            retries=1,  # an interrupted evaluation is run again, once
        )
        proposer = setup.adapter if setup.adapter is not None else setup.optimizer
        attrs = bench_attrs(task, cell, run, total, str(budget), proposer)
        attrs.update(mode=MODE, fidelity=plan.describe(), scheduler=study.scheduler.describe())
        study.set_user_attr("bench", attrs)
        return study

    study = open_cell_study(
        name,
        backend,
        finished=lambda study: _spent(study) >= total,
        restart=setup.adapter is not None,
        paid=_paid,
        create=create,
    )
    if study is None:
        return "skipped"
    spent = _spent(study)
    session = FidelitySession(study, task, plan, float(total), spent)
    if setup.adapter is not None:
        _run_peer(setup.adapter, task, cell.seed, session)
    else:
        objective = _Objective(session, scheduled=setup.scheduler is not None)
        while session.spent < session.budget:
            study.optimize(objective, n_trials=1, catch=(), show_progress_bar=False)
    record_test_score(study, task)
    return "ran"


def _run_peer(adapter: Adapter, task: Task, seed: int, session: FidelitySession) -> None:
    with contextlib.suppress(BudgetExhausted):
        if isinstance(adapter, MultiFidelityAdapter):
            adapter.run_multi_fidelity(task, seed=seed, session=session)
        else:
            full = session.plan.max_budget
            # A black-box peer: full fidelity only; its budget in evaluations is generous,
            # the session's cost ends the run.
            evaluations = max(1, int(np.ceil(session.budget * 10)))
            adapter.run(
                task,
                budget=evaluations,
                seed=seed,
                evaluate=lambda config, fidelity=None: session.evaluate(config, full),
            )
    if session.spent < session.budget:
        raise RuntimeError(
            f"{adapter.name} stopped after spending {session.spent:.4g} of a cost budget of "
            f"{session.budget:g}"
        )


def mf_run(study: tuneful.Study, attrs: Mapping[str, Any]) -> Run:
    """A multi-fidelity cell's trace: one entry per paid trial, in order; the loss only of
    trials that reached full fidelity (NaN otherwise), the cost of every one."""
    sign = 1.0 if attrs["direction"] == "minimize" else -1.0
    full = int(attrs["fidelity"]["max_budget"])
    trials = _counted(study.trials)
    losses, costs = [], []
    for trial in trials:
        reached = trial.user_attrs.get("budget") == full
        values = trial.values if trial.state is TrialState.COMPLETE else None
        losses.append(sign * values[0] if reached and values else np.nan)
        costs.append(_cost(trial))
    spent = float(np.sum(costs))
    partial = sum(t.user_attrs.get("budget") != full for t in trials)
    return run_of_cell(
        attrs,
        study.user_attrs.get("test_metrics"),
        losses,
        costs,
        complete=spent >= float(attrs["budget"]),
        mode=MODE,
        fidelity=attrs.get("fidelity"),
        scheduler=attrs.get("scheduler"),
        partial=partial,
    )
