"""GP-BO with several objectives: EHVI against ParEGO, MO-TPE, NSGA-II and Optuna's TPE.

Tasks (all minimized; the ZDT/DTLZ tasks of :mod:`tuneful.bench.tasks.zdt_dtlz`, with their
reference point and the hypervolume of their true front): ``zdt/zdt1/d5``,
``zdt/zdt2/d5``, ``zdt/zdt3/d5``, ``dtlz/dtlz2/d5/m2``, ``dtlz/dtlz2/d6/m3`` (``--tasks``).

Optimizers (``--optimizers``): ``gp-ehvi`` and ``gp-parego`` (tuneful's ``GPOptimizer``
with ``multi_objective="ehvi"`` / ``"parego"``), tuneful's ``tpe`` (MO-TPE) and ``nsga2``,
``random``, and ``optuna-tpe`` (Optuna's ``TPESampler()`` with its multi-objective
defaults), all seeded. Each runs every task once for the largest budget and ``--seeds``
seeds; the budgets (``--budgets``, default 30 50 100) are read off the same runs.

Reported: the normalized hypervolume (over the true front's) mean over the seeds per task
and budget, the mean over tasks, the seeds each GP variant wins against each other
optimizer, and the optimizer seconds per trial (over all trials, and over the last 50).

Usage::

    python benchmarks/gp_multiobjective.py --json gp_mo.json            # ~10 min, 2 cores
    python benchmarks/gp_multiobjective.py --seeds 5 --budgets 30 50 100 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import tuneful
from tuneful.analysis.indicators import hypervolume
from tuneful.bench.tasks.zdt_dtlz import ClassicTask
from tuneful.optimizers import GPOptimizer

TASKS = {
    "zdt/zdt1/d5": ("zdt1", 5, 2),
    "zdt/zdt2/d5": ("zdt2", 5, 2),
    "zdt/zdt3/d5": ("zdt3", 5, 2),
    "dtlz/dtlz2/d5/m2": ("dtlz2", 5, 2),
    "dtlz/dtlz2/d6/m3": ("dtlz2", 6, 3),
}
OPTIMIZERS = ("gp-ehvi", "gp-parego", "tpe", "nsga2", "random", "optuna-tpe")


def _optimizer(name: str, seed: int) -> Any:
    if name.startswith("gp-"):
        return GPOptimizer(seed=seed, multi_objective=name[3:])
    return name


def run_tuneful(name: str, task: ClassicTask, trials: int, seed: int) -> tuple[list, list[float]]:
    directions = ["minimize"] * task.n_objectives
    study = tuneful.create_study(
        space=task.space, directions=directions, storage="memory://",
        optimizer=_optimizer(name, seed), seed=seed,
    )  # fmt: skip
    values, asking = [], []
    for _ in range(trials):
        start = time.perf_counter()
        trial = study.ask()
        asking.append(time.perf_counter() - start)
        result = task.evaluate(trial.params)
        values.append([result[f"f{i + 1}"] for i in range(task.n_objectives)])
        study.tell(trial, values[-1])
    return values, asking


def run_optuna(task: ClassicTask, trials: int, seed: int) -> tuple[list, list[float]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = optuna.create_study(
            directions=["minimize"] * task.n_objectives,
            sampler=optuna.samplers.TPESampler(seed=seed),
        )
    values, asking = [], []
    for _ in range(trials):
        start = time.perf_counter()
        trial = study.ask()
        config = {name: trial.suggest_float(name, 0.0, 1.0) for name in task.space}
        asking.append(time.perf_counter() - start)
        result = task.evaluate(config)
        values.append([result[f"f{i + 1}"] for i in range(task.n_objectives)])
        study.tell(trial, values[-1])
    return values, asking


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, int, list, list[float]]:
    optimizer, task_id, trials, seed = args
    task = ClassicTask(*TASKS[task_id])
    if optimizer == "optuna-tpe":
        values, per_trial = run_optuna(task, trials, seed)
    else:
        values, per_trial = run_tuneful(optimizer, task, trials, seed)
    return optimizer, task_id, seed, values, per_trial


def comparison(args: argparse.Namespace) -> dict[str, Any]:
    budget = max(args.budgets)
    jobs = [
        (o, t, budget, s) for t in args.tasks for o in args.optimizers for s in range(args.seeds)
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(cell, jobs))
    table: dict[str, Any] = {}
    seconds: dict[str, list[float]] = {}
    late: dict[str, list[float]] = {}
    for optimizer, task_id, _seed, values, per_trial in done:
        task = ClassicTask(*TASKS[task_id])
        seconds.setdefault(optimizer, []).append(statistics.fmean(per_trial))
        late.setdefault(optimizer, []).append(statistics.fmean(per_trial[-50:]))
        for b in args.budgets:
            volume = hypervolume(values[:b], reference=list(task.reference_point))
            normalized = volume / task.max_hypervolume
            by_budget = table.setdefault(task_id, {}).setdefault(str(b), {})
            by_budget.setdefault(optimizer, []).append(normalized)
    return {
        "budgets": args.budgets,
        "seeds": args.seeds,
        "table": table,
        "seconds_per_trial": {o: statistics.fmean(v) for o, v in seconds.items()},
        "seconds_per_trial_last_50": {o: statistics.fmean(v) for o, v in late.items()},
    }


def print_tables(results: dict[str, Any]) -> None:
    table, budgets = results["table"], results["budgets"]
    optimizers = list(next(iter(next(iter(table.values())).values())))
    for b in budgets:
        print(f"\nnormalized hypervolume at {b} trials (mean over {results['seeds']} seeds)\n")
        print(f"| task | {' | '.join(optimizers)} |")
        print("|---" * (len(optimizers) + 1) + "|")
        means: dict[str, list[float]] = {o: [] for o in optimizers}
        for task_id, by_budget in table.items():
            row = {o: statistics.fmean(v) for o, v in by_budget[str(b)].items()}
            for o in optimizers:
                means[o].append(row[o])
            print(f"| {task_id} | {' | '.join(f'{row[o]:.3f}' for o in optimizers)} |")
        print(f"| mean | {' | '.join(f'{statistics.fmean(means[o]):.3f}' for o in optimizers)} |")
    print("\nseeds won (all tasks) by each GP variant, per budget:\n")
    for gp in [o for o in optimizers if o.startswith("gp-")]:
        for other in [o for o in optimizers if o != gp]:
            wins = []
            for b in budgets:
                pairs = [
                    (a, c)
                    for by_budget in table.values()
                    for a, c in zip(by_budget[str(b)][gp], by_budget[str(b)][other], strict=True)
                ]
                wins.append(f"{sum(a > c for a, c in pairs)}/{len(pairs)} at {b}")
            print(f"- {gp} vs {other}: {', '.join(wins)}")
    print("\noptimizer seconds per trial, all trials / the last 50 (mean over runs):")
    for o, s in results["seconds_per_trial"].items():
        print(f"- {o}: {s:.3f} / {results['seconds_per_trial_last_50'][o]:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--optimizers", nargs="+", default=list(OPTIMIZERS), choices=OPTIMIZERS)
    parser.add_argument("--budgets", nargs="+", type=int, default=[30, 50, 100])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = comparison(args)
    print_tables(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
