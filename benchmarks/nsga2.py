"""NSGA-II: tuneful's ``optimizer="nsga2"`` beside Optuna's ``NSGAIISampler`` (defaults).

Problems (all minimized, variables in [0, 1]): ZDT1 and ZDT2 (Zitzler, Deb & Thiele 2000)
with 2 objectives in ``--dim`` variables, and DTLZ2 (Deb et al. 2002) with 3 objectives in
``--dim`` variables. Each library runs each problem for ``--trials`` evaluations and
``--seeds`` seeds, ask + tell in a plain loop on an in-memory study, both with population 50
(either's default). Reported: the final hypervolume, mean +- sd over seeds, from the
reference point (1.1, 1.1) for ZDT and (1.1, 1.1, 1.1) for DTLZ2; and the optimizer time per
trial (the loop's time over the trials; the objectives cost microseconds). Study creation is
outside the timed region; one short untimed study per library first pays for imports.

Usage::

    python benchmarks/nsga2.py                        # 1000 trials x 5 seeds, d = 10
    python benchmarks/nsga2.py --trials 300 --seeds 3 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tuneful
from tuneful._pareto import hypervolume

Problem = Callable[[np.ndarray], tuple[float, ...]]


def zdt1(x: np.ndarray) -> tuple[float, ...]:
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - float(np.sqrt(x[0] / g)))


def zdt2(x: np.ndarray) -> tuple[float, ...]:
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - float(x[0] / g) ** 2)


def dtlz2(x: np.ndarray) -> tuple[float, ...]:
    r = 1.0 + float(np.sum((x[2:] - 0.5) ** 2))
    a, b = x[0] * np.pi / 2, x[1] * np.pi / 2
    return r * np.cos(a) * np.cos(b), r * np.cos(a) * np.sin(b), r * np.sin(a)


PROBLEMS: dict[str, tuple[Problem, int]] = {
    "ZDT1": (zdt1, 2),
    "ZDT2": (zdt2, 2),
    "DTLZ2": (dtlz2, 3),
}


def run_tuneful(problem: Problem, m: int, dim: int, trials: int, seed: int) -> tuple[Any, float]:
    space = tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(dim)})
    study = tuneful.create_study(
        space=space, directions=["minimize"] * m, storage="memory://", optimizer="nsga2",
        seed=seed,
    )  # fmt: skip
    names = [f"x{i}" for i in range(dim)]
    values = []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        y = problem(np.array([trial.params[k] for k in names]))
        study.tell(trial, list(y))
        values.append(y)
    return np.array(values), (time.perf_counter() - start) / trials


def run_optuna(problem: Problem, m: int, dim: int, trials: int, seed: int) -> tuple[Any, float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["minimize"] * m, sampler=optuna.samplers.NSGAIISampler(seed=seed)
    )
    dists = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dim)}
    values = []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(dists)
        y = problem(np.array([trial.params[f"x{i}"] for i in range(dim)]))
        study.tell(trial, list(y))
        values.append(y)
    return np.array(values), (time.perf_counter() - start) / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    runners = {"tuneful nsga2": run_tuneful, "optuna NSGAIISampler": run_optuna}
    for runner in runners.values():  # imports and first calls, untimed
        runner(zdt1, 2, 3, 5, 0)
    rows = []
    print(f"{args.trials} trials, {args.seeds} seeds, d = {args.dim}")
    print(f"{'problem':7} {'library':22} {'hypervolume':>18} {'ms / trial':>11}")
    for name, (problem, m) in PROBLEMS.items():
        reference = np.full(m, 1.1)
        for library, runner in runners.items():
            volumes, times = [], []
            for seed in range(args.seeds):
                y, per_trial = runner(problem, m, args.dim, args.trials, seed)
                volumes.append(hypervolume(y, reference))
                times.append(per_trial)
            mean, sd = statistics.mean(volumes), statistics.pstdev(volumes)
            ms = 1000 * statistics.mean(times)
            print(f"{name:7} {library:22} {mean:>10.4f} +- {sd:.4f} {ms:>11.2f}")
            rows.append(
                {"problem": name, "library": library, "hypervolume": volumes, "seconds": times}
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"args": vars(args), "rows": rows}, out, indent=1)


if __name__ == "__main__":
    main()
