"""Constraints: tuneful's optimizers beside Optuna's constrained samplers, and TPE's overhead.

Tasks (all minimized; a constraint is satisfied when <= 0):

- ``branin-disc``: Branin on [-5, 10] x [0, 15] subject to (x1 - 2.5)^2 + (x2 - 7.5)^2 <= 50
  (Gardner et al. 2014, Sec. 5); optimum 0.397887 (one of Branin's three minima is inside).
- ``gardner``: Gardner et al. (2014)'s toy, cos(2 x1) cos(x2) + sin(x1) on [0, 6]^2 subject
  to cos(x1) cos(x2) - sin(x1) sin(x2) <= 0.5 (two feasible bands): optimum -2 at
  (3 pi / 2, 0), inside a band (a dense grid's best feasible value is printed with the tables).
- ``sphere5-ball``: sum((x_i - 1.5)^2) on [-2, 2]^5 subject to |x|^2 <= 1 (0.5 % of the box
  feasible; the unconstrained optimum is not): optimum 5 (1.5 - 1/sqrt 5)^2 = 5.5426.
- ``binh-korn``: Binh & Korn (1997), two objectives, two constraints; hypervolume from
  (140, 50).
- ``c2-dtlz2``: C2-DTLZ2 (Jain & Deb 2014) with 2 objectives in 6 variables and r = 0.2:
  the DTLZ2 front cut to five feasible arcs; hypervolume from (1.1, 1.1).

Optimizers: tuneful's ``tpe`` (c-TPE), ``gp`` (one objective: a GP per constraint, EI times
the probability of feasibility), ``nsga2`` (constrained domination), ``cmaes`` (one
objective: infeasible members ranked by violation), ``random``, ``auto`` (the default: the
GP with constraints for one objective, TPE for two), and Optuna's
``TPESampler(constraints_func=...)`` and ``NSGAIISampler(constraints_func=...)`` (defaults
otherwise, seeded). Each runs every task for the largest budget (``--budgets``, default
50 and 100 for one objective, ``--mo-budgets`` 100 and 300 for two) and ``--seeds`` seeds
(default 10), ask + tell on an in-memory study; the budgets are read off the same runs.

Reported at each budget: the share of runs that found a feasible point; for one objective
the best feasible value, for two the hypervolume of the feasible points (0 with none), mean
+- sd over the runs that found one (single objective) or over all runs (hypervolume).

``--overhead`` measures instead the optimizer time per trial of constrained TPE at 1,000
trials (10 floats in [-5, 5], the sphere, two constraints) beside Optuna's constrained
``TPESampler`` in the same run: the total, and the mean over the last 100 trials.

Usage::

    python benchmarks/constrained.py --jobs 2 --json constrained.json    # about 6 min
    python benchmarks/constrained.py --seeds 3 --tasks gardner binh-korn  # a quick look
    python benchmarks/constrained.py --overhead --json overhead.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

import tuneful
from tuneful._pareto import hypervolume

Evaluation = tuple[tuple[float, ...], tuple[float, ...]]


@dataclass(frozen=True)
class Task:
    bounds: tuple[tuple[float, float], ...]
    function: Callable[[np.ndarray], Evaluation]
    objectives: int = 1
    reference: tuple[float, ...] = ()


def branin_disc(x: np.ndarray) -> Evaluation:
    a, b = float(x[0]), float(x[1])
    f = (b - 5.1 / (4 * math.pi**2) * a * a + 5 / math.pi * a - 6) ** 2
    f += 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10
    return (f,), ((a - 2.5) ** 2 + (b - 7.5) ** 2 - 50.0,)


def gardner(x: np.ndarray) -> Evaluation:
    a, b = float(x[0]), float(x[1])
    f = math.cos(2 * a) * math.cos(b) + math.sin(a)
    return (f,), (math.cos(a) * math.cos(b) - math.sin(a) * math.sin(b) - 0.5,)


def sphere5_ball(x: np.ndarray) -> Evaluation:
    return (float(np.sum((x - 1.5) ** 2)),), (float(np.sum(x * x)) - 1.0,)


def binh_korn(x: np.ndarray) -> Evaluation:
    a, b = float(x[0]), float(x[1])
    f = (4 * a * a + 4 * b * b, (a - 5) ** 2 + (b - 5) ** 2)
    return f, ((a - 5) ** 2 + b * b - 25.0, 7.7 - (a - 8) ** 2 - (b + 3) ** 2)


def c2_dtlz2(x: np.ndarray, r: float = 0.2) -> Evaluation:
    g = float(np.sum((x[1:] - 0.5) ** 2))
    f = np.array([math.cos(x[0] * math.pi / 2), math.sin(x[0] * math.pi / 2)]) * (1 + g)
    m = len(f)
    near_axis = min((f[i] - 1) ** 2 + float(np.sum(np.delete(f, i) ** 2)) - r * r for i in range(m))
    near_centre = float(np.sum((f - 1 / math.sqrt(m)) ** 2)) - r * r
    return (float(f[0]), float(f[1])), (min(near_axis, near_centre),)


TASKS = {
    "branin-disc": Task(((-5.0, 10.0), (0.0, 15.0)), branin_disc),
    "gardner": Task(((0.0, 6.0), (0.0, 6.0)), gardner),
    "sphere5-ball": Task(((-2.0, 2.0),) * 5, sphere5_ball),
    "binh-korn": Task(((0.0, 5.0), (0.0, 3.0)), binh_korn, 2, (140.0, 50.0)),
    "c2-dtlz2": Task(((0.0, 1.0),) * 6, c2_dtlz2, 2, (1.1, 1.1)),
}
TUNEFUL = ("tpe", "gp", "nsga2", "cmaes", "random", "auto")
OPTUNA = ("optuna-tpe", "optuna-nsga2")


def run_tuneful(name: str, task: Task, trials: int, seed: int) -> list[Evaluation]:
    bounds = enumerate(task.bounds)
    space = tuneful.Space({f"x{i}": tuneful.Float(lo, hi) for i, (lo, hi) in bounds})
    study = tuneful.create_study(
        space=space, directions=["minimize"] * task.objectives, storage="memory://",
        optimizer=name, seed=seed,
    )  # fmt: skip
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # auto: "does not take constraints into account"
        for _ in range(trials):
            trial = study.ask()
            values, constraints = task.function(np.array(list(trial.params.values()), float))
            study.tell(trial, list(values), constraints=list(constraints) or None)
            out.append((values, constraints))
    return out


def run_optuna(name: str, task: Task, trials: int, seed: int) -> list[Evaluation]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def constraints(frozen: Any) -> Sequence[float]:
        return frozen.user_attrs["constraints"]

    samplers = {
        "optuna-tpe": lambda: optuna.samplers.TPESampler(seed=seed, constraints_func=constraints),
        "optuna-nsga2": lambda: optuna.samplers.NSGAIISampler(
            seed=seed, constraints_func=constraints
        ),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constraints_func is experimental
        study = optuna.create_study(
            directions=["minimize"] * task.objectives, sampler=samplers[name]()
        )
    out = []
    for _ in range(trials):
        trial = study.ask()
        bounds = enumerate(task.bounds)
        x = np.array([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in bounds])
        values, cons = task.function(x)
        trial.set_user_attr("constraints", list(cons))
        study.tell(trial, list(values))
        out.append((values, cons))
    return out


def cell(args: tuple[str, str, int, int]) -> tuple[str, str, int, list[Evaluation]]:
    optimizer, task_name, trials, seed = args
    task = TASKS[task_name]
    runner = run_optuna if optimizer.startswith("optuna") else run_tuneful
    return optimizer, task_name, seed, runner(optimizer, task, trials, seed)


def measure(task: Task, run: list[Evaluation], budget: int) -> tuple[bool, float]:
    """(found a feasible point, best feasible value or feasible hypervolume) after budget."""
    feasible = [values for values, cons in run[:budget] if all(c <= 0 for c in cons)]
    if task.objectives == 1:
        return bool(feasible), min((v[0] for v in feasible), default=math.inf)
    y = np.array(feasible, dtype=float).reshape(-1, task.objectives)
    return bool(feasible), float(hypervolume(y, np.array(task.reference)))


def summarize(task: Task, runs: list[list[Evaluation]], budget: int) -> dict[str, Any]:
    found, scores = zip(*(measure(task, run, budget) for run in runs), strict=True)
    kept = scores if task.objectives > 1 else [s for s, ok in zip(scores, found, strict=True) if ok]
    return {
        "feasible_share": sum(found) / len(runs),
        "mean": statistics.fmean(kept) if kept else None,
        "sd": statistics.stdev(kept) if len(kept) > 1 else 0.0 if kept else None,
    }


def grid_optimum(task: Task, points: int = 801) -> float:
    axes = [np.linspace(lo, hi, points) for lo, hi in task.bounds]
    best = math.inf
    for a in axes[0]:
        for b in axes[1]:
            (value,), cons = task.function(np.array([a, b]))
            if all(c <= 0 for c in cons):
                best = min(best, value)
    return best


def comparison(args: argparse.Namespace) -> dict[str, Any]:
    jobs = []
    for task_name in args.tasks:
        task = TASKS[task_name]
        budgets = args.budgets if task.objectives == 1 else args.mo_budgets
        for optimizer in (*TUNEFUL, *OPTUNA):
            if optimizer in ("cmaes", "gp") and task.objectives > 1:
                continue
            jobs += [(optimizer, task_name, max(budgets), seed) for seed in range(args.seeds)]
    start = time.perf_counter()
    runs: dict[tuple[str, str], list[list[Evaluation]]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for optimizer, task_name, _, run in pool.map(cell, jobs, chunksize=1):
            runs.setdefault((task_name, optimizer), []).append(run)
    results: dict[str, Any] = {"seconds": time.perf_counter() - start, "tasks": {}}
    for task_name in args.tasks:
        task = TASKS[task_name]
        budgets = args.budgets if task.objectives == 1 else args.mo_budgets
        table = {
            optimizer: {str(b): summarize(task, task_runs, b) for b in budgets}
            for (name, optimizer), task_runs in runs.items()
            if name == task_name
        }
        results["tasks"][task_name] = table
    if "gardner" in args.tasks:
        results["gardner_grid_optimum"] = grid_optimum(TASKS["gardner"])
    return results


def print_tables(results: dict[str, Any], args: argparse.Namespace) -> None:
    for task_name, table in results["tasks"].items():
        task = TASKS[task_name]
        budgets = args.budgets if task.objectives == 1 else args.mo_budgets
        measure_name = "best feasible value" if task.objectives == 1 else "feasible hypervolume"
        print(f"\n### {task_name} ({measure_name}, mean ± sd; feasible share of runs)\n")
        print("| optimizer | " + " | ".join(f"{b} trials" for b in budgets) + " |")
        print("|---" * (len(budgets) + 1) + "|")
        for optimizer, row in table.items():
            cells = []
            for b in budgets:
                r = row[str(b)]
                shown = "—" if r["mean"] is None else f"{r['mean']:.4g} ± {r['sd']:.2g}"
                cells.append(f"{shown} ({r['feasible_share']:.0%})")
            print(f"| {optimizer} | " + " | ".join(cells) + " |")
    if "gardner_grid_optimum" in results:
        optimum = results["gardner_grid_optimum"]
        print(f"\ngardner: best feasible value on an 801 x 801 grid {optimum:.4f}")
    print(f"\n{results['seconds']:.0f} s with {args.jobs} processes")


# -- overhead ------------------------------------------------------------------------------


def overhead_problem(x: np.ndarray) -> Evaluation:
    return (float(np.sum(x * x)),), (float(np.sum(x)) - 1.0, float(x[0] ** 2 + x[1] ** 2) - 4.0)


OVERHEAD = Task(((-5.0, 5.0),) * 10, overhead_problem)


def timed(
    runner: Callable[..., list[Evaluation]], name: str, trials: int, constrained: bool = True
) -> list[float]:
    """Per-trial wall times of one run (the objective costs microseconds)."""
    stamps: list[float] = []

    def clocked(x: np.ndarray) -> Evaluation:
        stamps.append(time.perf_counter())
        values, constraints = overhead_problem(x)
        return values, constraints if constrained else ()

    start = time.perf_counter()
    runner(name, Task(OVERHEAD.bounds, clocked), trials, 0)
    stamps.append(time.perf_counter())
    return list(np.diff([start, *stamps[:-1]])) + [stamps[-1] - stamps[-2]]


def overhead(args: argparse.Namespace) -> dict[str, Any]:
    run_tuneful("tpe", OVERHEAD, 20, 0)  # imports and first calls, untimed
    run_optuna("optuna-tpe", OVERHEAD, 20, 0)
    out = {}
    for label, runner, name, constrained in (
        ("tuneful tpe (c-TPE)", run_tuneful, "tpe", True),
        ("optuna TPESampler(constraints_func)", run_optuna, "optuna-tpe", True),
        ("tuneful tpe, no constraints", run_tuneful, "tpe", False),
    ):
        per_trial = timed(runner, name, args.overhead_trials, constrained)
        out[label] = {
            "total_s": float(sum(per_trial)),
            "mean_ms": 1e3 * float(np.mean(per_trial)),
            "last100_ms": 1e3 * float(np.mean(per_trial[-100:])),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budgets", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--mo-budgets", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--overhead-trials", type=int, default=1000)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.overhead:
        results = overhead(args)
        print("| optimizer | total (s) | per trial (ms) | last 100 trials (ms) |")
        print("|---|---|---|---|")
        for label, r in results.items():
            print(f"| {label} | {r['total_s']:.1f} | {r['mean_ms']:.1f} | {r['last100_ms']:.1f} |")
    else:
        results = comparison(args)
        print_tables(results, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
