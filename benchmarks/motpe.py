"""Multi-objective TPE: tuneful's ``tpe`` beside Optuna's TPESampler and NSGAIISampler.

Tasks (all minimized):

- ``zdt1``, ``zdt2``, ``zdt3``: ZDT in 8 variables (convex, concave, disconnected fronts);
- ``dtlz2-m2``, ``dtlz2-m3``: DTLZ2 in 6 and 7 variables with 2 and 3 objectives;
  (the ZDT and DTLZ tasks of :mod:`tuneful.bench.tasks.zdt_dtlz`, with their reference
  point and the hypervolume of their true front);
- ``binh-korn`` and ``c2-dtlz2``: the constrained two-objective tasks of
  ``benchmarks/constrained.py`` (c-TPE for tuneful, ``constraints_func`` for Optuna); the
  front's hypervolume is measured on a dense set of feasible points (a 801 x 801 grid for
  Binh-Korn, the g = 0 curve for C2-DTLZ2).

Optimizers: tuneful's ``tpe`` and ``nsga2``, ``random``, and Optuna's ``TPESampler()`` (its
multi-objective defaults: independent TPE, gamma ``ceil(0.1 n)``, non-dominated ranks with
the last front cut by greedy hypervolume subset selection) and ``NSGAIISampler()``, seeded.
Each runs every task once for the largest budget and ``--seeds`` seeds (default 5); the
budgets (``--budgets``, default 50 100 300) are read off the same runs.

Reported: the normalized hypervolume (of the feasible points, over the true front's) mean
over the seeds per task and budget, the mean over tasks, and per task which optimizer leads
at the largest budget. ``--overhead`` measures instead the optimizer time per trial of
``tpe`` and Optuna's ``TPESampler`` on ZDT1 (8 variables) and DTLZ2 with 3 objectives up to
``--overhead-trials`` (default 1,000): the mean over the 100 trials before trial 300 and
before the end.

Usage::

    python benchmarks/motpe.py --jobs 2 --json motpe.json   # about 8 min
    python benchmarks/motpe.py --seeds 2 --tasks zdt1 binh-korn
    python benchmarks/motpe.py --overhead
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import tuneful
from tuneful._pareto import hypervolume
from tuneful.bench.tasks.zdt_dtlz import ClassicTask, dtlz, zdt

Evaluation = tuple[tuple[float, ...], tuple[float, ...]]

_spec = importlib.util.spec_from_file_location(
    "constrained_tasks", Path(__file__).with_name("constrained.py")
)
assert _spec is not None and _spec.loader is not None
constrained = importlib.util.module_from_spec(_spec)
sys.modules["constrained_tasks"] = constrained
_spec.loader.exec_module(constrained)


@dataclass(frozen=True)
class Task:
    bounds: tuple[tuple[float, float], ...]
    function: Callable[[np.ndarray], Evaluation]
    objectives: int
    reference: tuple[float, ...]
    max_hypervolume: float


def classic(name: str, dimension: int, objectives: int) -> Task:
    task = ClassicTask(name, dimension, objectives)
    number = task.number

    def function(x: np.ndarray) -> Evaluation:
        f = (
            zdt(number, x[None, :])
            if name.startswith("zdt")
            else dtlz(number, x[None, :], objectives)
        )
        return tuple(float(v) for v in f[0]), ()

    bounds = tuple((float(d.low), float(d.high)) for d in task.space.values())  # type: ignore[attr-defined]
    return Task(bounds, function, objectives, task.reference_point, task.max_hypervolume)


def feasible_hypervolume(
    points: np.ndarray, function: Callable[[np.ndarray], Evaluation], reference: tuple[float, ...]
) -> float:
    evaluations = [function(x) for x in points]
    y = np.array([v for v, c in evaluations if all(ci <= 0 for ci in c)])
    return hypervolume(y, np.array(reference))


def constrained_task(name: str) -> Task:
    base = constrained.TASKS[name]
    if name == "binh-korn":
        a, b = np.meshgrid(np.linspace(0, 5, 801), np.linspace(0, 3, 801))
        points = np.column_stack([a.ravel(), b.ravel()])
    else:
        t = np.linspace(0, 1, 20001)
        points = np.column_stack([t] + [np.full_like(t, 0.5)] * 5)
    best = feasible_hypervolume(points, base.function, base.reference)
    return Task(base.bounds, base.function, 2, base.reference, best)


def task_table() -> dict[str, Callable[[], Task]]:
    return {
        "zdt1": lambda: classic("zdt1", 8, 2),
        "zdt2": lambda: classic("zdt2", 8, 2),
        "zdt3": lambda: classic("zdt3", 8, 2),
        "dtlz2-m2": lambda: classic("dtlz2", 6, 2),
        "dtlz2-m3": lambda: classic("dtlz2", 7, 3),
        "binh-korn": lambda: constrained_task("binh-korn"),
        "c2-dtlz2": lambda: constrained_task("c2-dtlz2"),
    }


OPTIMIZERS = ("tpe", "nsga2", "random", "optuna-tpe", "optuna-nsga2")


def run_tuneful(name: str, task: Task, trials: int, seed: int) -> list[Evaluation]:
    space = tuneful.Space(
        {f"x{i}": tuneful.Float(lo, hi) for i, (lo, hi) in enumerate(task.bounds)}
    )
    study = tuneful.create_study(
        space=space, directions=["minimize"] * task.objectives, storage="memory://",
        optimizer=name, seed=seed,
    )  # fmt: skip
    out = []
    for _ in range(trials):
        trial = study.ask()
        values, cons = task.function(np.array(list(trial.params.values()), float))
        study.tell(trial, list(values), constraints=list(cons) or None)
        out.append((values, cons))
    return out


def run_optuna(name: str, task: Task, trials: int, seed: int) -> list[Evaluation]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    constrained_task = any(task.function(np.array([lo for lo, _ in task.bounds]))[1])

    def constraints(frozen: Any) -> Sequence[float]:
        return frozen.user_attrs["constraints"]

    func = constraints if constrained_task else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func: deprecated in favour of set_constraint
        sampler = (
            optuna.samplers.TPESampler(seed=seed, constraints_func=func)
            if name == "optuna-tpe"
            else optuna.samplers.NSGAIISampler(seed=seed, constraints_func=func)
        )
        study = optuna.create_study(directions=["minimize"] * task.objectives, sampler=sampler)
    out = []
    for _ in range(trials):
        trial = study.ask()
        x = np.array(
            [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(task.bounds)]
        )
        values, cons = task.function(x)
        trial.set_user_attr("constraints", list(cons))
        study.tell(trial, list(values))
        out.append((values, cons))
    return out


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, int, list[Evaluation]]:
    optimizer, task_name, trials, seed = args
    task = task_table()[task_name]()
    runner = run_optuna if optimizer.startswith("optuna") else run_tuneful
    return optimizer, task_name, seed, runner(optimizer, task, trials, seed)


def normalized_hypervolume(task: Task, run: list[Evaluation], budget: int) -> float:
    y = np.array([v for v, c in run[:budget] if all(ci <= 0 for ci in c)]).reshape(
        -1, task.objectives
    )
    return hypervolume(y, np.array(task.reference)) / task.max_hypervolume


def comparison(args: argparse.Namespace) -> dict[str, Any]:
    budget = max(args.budgets)
    jobs = [
        (o, t, budget, s) for t in args.tasks for o in args.optimizers for s in range(args.seeds)
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(cell, jobs))
    tasks = {name: task_table()[name]() for name in args.tasks}
    table: dict[str, Any] = {}
    for optimizer, task_name, _seed, run in done:
        for b in args.budgets:
            value = normalized_hypervolume(tasks[task_name], run, b)
            table.setdefault(task_name, {}).setdefault(str(b), {}).setdefault(optimizer, []).append(
                value
            )
    return {"budgets": args.budgets, "seeds": args.seeds, "table": table}


def print_tables(results: dict[str, Any]) -> None:
    table, budgets = results["table"], results["budgets"]
    optimizers = list(next(iter(next(iter(table.values())).values())))
    for b in budgets:
        print(f"\nnormalized hypervolume at {b} trials (mean over {results['seeds']} seeds)")
        print(f"| task | {' | '.join(optimizers)} |")
        print("|---" * (len(optimizers) + 1) + "|")
        means: dict[str, list[float]] = {o: [] for o in optimizers}
        for task_name, by_budget in table.items():
            row = {o: statistics.fmean(v) for o, v in by_budget[str(b)].items()}
            for o in optimizers:
                means[o].append(row[o])
            print(f"| {task_name} | {' | '.join(f'{row[o]:.3f}' for o in optimizers)} |")
        print(f"| mean | {' | '.join(f'{statistics.fmean(means[o]):.3f}' for o in optimizers)} |")
    b = str(max(budgets))
    for task_name, by_budget in table.items():
        tpe, other = by_budget[b].get("tpe"), by_budget[b].get("optuna-tpe")
        if tpe and other:
            wins = sum(a > c for a, c in zip(tpe, other, strict=True))
            print(f"{task_name}: tpe beats optuna-tpe on {wins}/{len(tpe)} seeds at {b} trials")


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for task_name in ("zdt1", "dtlz2-m3"):
        task = task_table()[task_name]()
        for name in ("tpe", "optuna-tpe"):
            stamps: list[float] = []

            def clocked(
                x: np.ndarray, _stamps: list[float] = stamps, _t: Task = task
            ) -> Evaluation:
                _stamps.append(time.perf_counter())
                return _t.function(x)

            timed = Task(
                task.bounds, clocked, task.objectives, task.reference, task.max_hypervolume
            )
            runner = run_optuna if name.startswith("optuna") else run_tuneful
            runner(name, timed, args.overhead_trials, 0)
            gaps = np.diff(stamps)
            out[f"{task_name} {name}"] = row = {
                f"ms_per_trial_{end}": 1000 * float(np.mean(gaps[end - 101 : end - 1]))
                for end in (300, args.overhead_trials)
                if end <= len(stamps)
            }
            print(task_name, name, {k: round(v, 1) for k, v in row.items()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(task_table()))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS))
    parser.add_argument("--budgets", nargs="+", type=int, default=[50, 100, 300])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--overhead-trials", type=int, default=1000)
    args = parser.parse_args()
    results = overhead(args) if args.overhead else comparison(args)
    if not args.overhead:
        print_tables(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
