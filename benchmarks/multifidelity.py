"""The multi-fidelity benchmark: tuneful's schedulers beside full-fidelity search and the peers.

Each cell spends a budget of cost, counted in full-fidelity evaluations' worth (default 100;
see ``tuneful.bench.fidelity`` for how lcbench and rbv2 evaluations are priced), on one task
of ``benchmarks/suites/mf.yaml`` with one seed. Optimizers (labels of
``tuneful.bench.multifidelity``):

- ``auto+auto``: tuneful's default multi-fidelity setup; ``auto``, ``random``: full fidelity;
- ``random+asha``, ``auto+hyperband``, ``auto+curve``: tuneful's schedulers;
- ``optuna-tpe-hyperband``, ``smac-mf``, ``dehb``: the peers, each with its defaults (DEHB
  from ``$TUNEFUL_DEHB_PYTHON``, default ``.venv-dehb/bin/python`` when that exists; it pins
  numpy<2). SMAC's facade refits its random forest at every ask (about a minute per cell),
  so its seeds are set apart: ``--smac-seeds`` (default 10, as ``--seeds``; fewer for a
  quick look).

Results go to an SQLite file (``bench-results/mf.db``); the run resumes where it stopped.
The report (``bench-results/report-mf/report.md``) ranks the optimizers at 10, 30 and 100 %
of the budget, draws regret against cumulative cost, and gives each setup's speed-up over
full-fidelity random search. ``timings.md`` beside it lists each cell's wall time (from its
trials' timestamps).

Usage::

    python benchmarks/multifidelity.py                      # the whole run, 2 processes
    python benchmarks/multifidelity.py --seeds 1 --smac-seeds 1 --jobs 1 --name mf-timing
    python benchmarks/multifidelity.py --report-only
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tuneful
from tuneful.bench import Benchmark, load_runs, load_suite, study_name
from tuneful.bench.cells import Cell
from tuneful.bench.report import write_report
from tuneful.bench.tables import format_table

REPOSITORY = Path(__file__).resolve().parents[1]
OPTIMIZERS = (
    "auto+auto",
    "auto",
    "random",
    "random+asha",
    "auto+hyperband",
    "auto+curve",
    "optuna-tpe-hyperband",
    "dehb",
)
SLOW = ("smac-mf",)


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", default="mf", help="benchmark name in the storage")
    parser.add_argument("--db", default=str(REPOSITORY / "bench-results" / "mf.db"))
    parser.add_argument("--suite", default=str(REPOSITORY / "benchmarks" / "suites" / "mf.yaml"))
    parser.add_argument("--tasks", help="comma-separated task ids instead of the suite")
    parser.add_argument(
        "--optimizers", default=",".join(OPTIMIZERS), help="labels run with --seeds seeds"
    )
    parser.add_argument("--slow", default=",".join(SLOW), help="labels run with --smac-seeds")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--smac-seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100, help="full evaluations' worth")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data-dir", default=os.environ.get("TUNEFUL_DATA_DIR"))
    parser.add_argument("--report", default=str(REPOSITORY / "bench-results" / "report-mf"))
    parser.add_argument("--report-only", action="store_true")
    return parser.parse_args(argv)


def _labels(text: str) -> list[str]:
    return [label for label in text.split(",") if label]


def _cell_seconds(storage: str, name: str, cell: Cell) -> float | None:
    """A cell's wall time: from its first trial's start to its last trial's end."""
    try:
        study = tuneful.load_study(study_name(name, cell), storage=storage, optimizer="random")
    except tuneful.errors.StudyNotFoundError:
        return None
    starts = [t.started_at for t in study.trials if t.started_at is not None]
    ends = [t.finished_at for t in study.trials if t.finished_at is not None]
    return max(ends) - min(starts) if starts and ends else None


def _timings(storage: str, name: str, benches: Sequence[Benchmark]) -> str:
    """A Markdown table: per optimizer, median / max cell seconds over the cells run."""
    rows = []
    for bench in benches:
        for label in bench.optimizers:
            seconds = [
                s
                for cell in bench.cells()
                if cell.optimizer == label and (s := _cell_seconds(storage, name, cell)) is not None
            ]
            if seconds:
                rows.append(
                    [
                        label,
                        len(seconds),
                        f"{np.median(seconds):.1f}",
                        f"{np.max(seconds):.1f}",
                        f"{np.sum(seconds) / 60:.1f}",
                    ]
                )
    header = ["optimizer", "cells", "median s / cell", "max s / cell", "total min"]
    return format_table(header, rows, align=["left"] + ["right"] * 4)


class _Progress:
    """Prints one line per finished cell: count, elapsed seconds, status, cell."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.started = total, 0, time.perf_counter()

    def __call__(self, cell: Cell, status: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        print(
            f"[{self.done}/{self.total} {elapsed:7.0f}s] {status:7s} {cell.optimizer} "
            f"{cell.task} seed {cell.seed}",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    dehb_python = REPOSITORY / ".venv-dehb" / "bin" / "python"
    if not os.environ.get("TUNEFUL_DEHB_PYTHON") and dehb_python.is_file():
        os.environ["TUNEFUL_DEHB_PYTHON"] = str(dehb_python)
    data_dir = args.data_dir or str(REPOSITORY.parent / "shared" / "benchmarks")
    tasks = args.tasks.split(",") if args.tasks else load_suite(args.suite)
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{args.db}"
    groups = [(_labels(args.optimizers), args.seeds), (_labels(args.slow), args.smac_seeds)]
    benches = [
        Benchmark(
            args.name,
            tasks=tasks,
            optimizers=labels,
            seeds=seeds,
            budget=args.budget,
            storage=storage,
            data_dir=data_dir,
            multi_fidelity=True,
        )
        for labels, seeds in groups
        if labels and seeds > 0
    ]
    if not args.report_only:
        for bench in benches:
            progress = _Progress(len(bench.cells()))
            outcome = bench.run(jobs=args.jobs, on_cell=progress)
            for label, reason in outcome.unavailable.items():
                print(f"skipped {label}: {reason}", flush=True)
            for cell, error in outcome.failed.items():
                print(f"FAILED {cell}: {error}", flush=True)
    runs = load_runs(storage, args.name)
    budgets = [args.budget * f for f in (0.1, 0.3, 1.0)]
    path = write_report(
        runs,
        args.report,
        baseline="random",
        title=f"Multi-fidelity benchmark ({args.budget} full evaluations' worth per cell)",
        cost_budgets=budgets,
        speedup_baseline="random" if any(r.optimizer == "random" for r in runs) else None,
        log_cost=True,
    )
    timings = _timings(storage, args.name, benches)
    (Path(args.report) / "timings.md").write_text(
        f"# Wall time per cell\n\nFrom each cell's trial timestamps; `{' '.join(sys.argv)}`"
        f"\n\n{timings}\n",
        encoding="utf-8",
    )
    print(timings)
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
