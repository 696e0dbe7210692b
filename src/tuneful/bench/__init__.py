"""The benchmark harness: N optimizers on M tasks with S seeds, honest statistics, reports.

Runs are ordinary studies in storage (``bench/<name>/<optimizer>/<task>/seed<s>``), so a
benchmark resumes where it stopped and its runs can be browsed like any study.

Example:
    >>> from tuneful.bench import Benchmark, load_runs, write_report
    >>> bench = Benchmark(  # doctest: +SKIP
    ...     "demo", tasks=["bbob/f1/d2/i1"], optimizers=["random", "sobol"], seeds=3,
    ...     budget="20+40sqrt(d)", storage="sqlite:///bench.db")
    >>> outcome = bench.run()  # doctest: +SKIP
    >>> write_report(load_runs("sqlite:///bench.db", "demo"), "report/")  # doctest: +SKIP

What lives where, bottom up; a module imports only from the lines above it, never from its
own line or below (in parentheses, what it imports):

- ``tasks/`` the tasks (BBOB, YAHPO, Step Law, scikit-learn; the multi-objective ZDT,
  DTLZ, bbob-biobj, yahpo-mo and constrained ids) and their loader;
  ``results`` :class:`Run`, one cell's trace; ``budget`` budget expressions and
  ``BudgetExhausted``; ``tables`` Markdown tables and numbers. None imports another module
  of the harness (``tasks/`` only its own).
- ``hypervolume`` a multi-objective run's hypervolume regret, against the task's known
  front or the union of every run's points (``results``).
- ``suites`` named lists of task ids (imports ``tasks``); ``fidelity`` a task's integer
  budgets and cost model (``tasks``).
- ``session`` what a multi-fidelity peer sees of its cell: ``FidelitySession``,
  ``CurveTrial`` (``budget``, ``fidelity``, ``tasks``).
- ``adapters/`` the peers (Optuna, SMAC3, Hyperopt, DEHB) behind one interface
  (``tasks``, ``budget``; ``session`` and ``fidelity`` for type hints).
- ``cells`` a cell (optimizer, task, seed), its study's name and ``bench`` attribute, how it
  resumes (``adapters``, ``tasks``).
- ``multifidelity`` multi-fidelity cells: labels such as ``auto+asha``, cost budgets, their
  traces (``cells``, ``session``, ``fidelity``, ``adapters``, ``budget``, ``results``,
  ``tasks``).
- ``runner`` :class:`Benchmark`: black-box cells (several objectives and constraints
  included), the run over every cell, ``load_runs`` (``multifidelity``, ``hypervolume`` and
  everything above it).
- ``stats`` normalized regret, anytime curves, ranks and tests (``results``).
- ``costs`` the same at fixed costs (``stats``, ``results``); ``subset`` representative task
  subsets (``stats``, ``results``).
- ``cost_report`` the report's sections in cost units (``costs``, ``tables``, ``results``);
  ``mo_report`` its section on multi-objective tasks (``tables``, ``results``).
- ``report`` ``write_report`` (``cost_report``, ``mo_report``, ``viz.bench`` for the
  figures, ``stats``, ``tables``, ``results``).

This package's ``__init__`` gathers the public names; ``write_report`` is imported on first
use, so that running a benchmark never imports the plotting code.
"""

from __future__ import annotations

from tuneful.bench.budget import parse_budget
from tuneful.bench.cells import Cell, study_name
from tuneful.bench.results import Run
from tuneful.bench.runner import Benchmark, BenchmarkOutcome, load_runs
from tuneful.bench.suites import list_suites, load_suite
from tuneful.bench.tasks import Fidelity, Objective, Task, TaskError, load_task, steplaw_grids

__all__ = [
    "Benchmark",
    "BenchmarkOutcome",
    "Cell",
    "Run",
    "Task",
    "Objective",
    "Fidelity",
    "TaskError",
    "load_task",
    "load_suite",
    "list_suites",
    "steplaw_grids",
    "load_runs",
    "parse_budget",
    "study_name",
    "write_report",
]


def __getattr__(name: str) -> object:
    # The report pulls in plotting helpers: import it only when asked for.
    if name == "write_report":
        from tuneful.bench.report import write_report

        return write_report
    raise AttributeError(name)
