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
