"""NSGA-II and NSGA-III: tuneful's ``nsga2`` and ``nsga3`` beside Optuna's ``NSGAIISampler``
and ``NSGAIIISampler`` (each with its defaults).

Problems (all minimized, variables in [0, 1], ``--dim`` of them): for NSGA-II, ZDT1 and ZDT2
(Zitzler, Deb & Thiele 2000) with 2 objectives and DTLZ2 (Deb et al. 2002) with 3; for
NSGA-III, DTLZ2 and DTLZ1 with 3 objectives. Each library runs each problem for ``--trials``
evaluations and ``--seeds`` seeds, ask + tell in a plain loop on an in-memory study. NSGA-II:
population 50 on both sides (either's default). NSGA-III: tuneful's default (91 reference
points from 12 divisions, population 92, Deb & Jain 2014 Table I) and Optuna's (10 points
from 3 divisions, population 50). Reported: the final hypervolume over every trial, mean +-
sd over seeds, from the reference point 1.1 in every objective (DTLZ1: 0.55, its front
being the simplex of sum 0.5); the loop's time per trial (the objectives cost microseconds);
and, for tuneful, the part of it spent in the optimizer's ``suggest`` (the rest is the
engine: storage, history, decoding). Study creation is outside the timed region; one short
untimed study per library first pays for imports.

Usage::

    python benchmarks/nsga2.py                        # 1000 trials x 5 seeds, d = 10
    python benchmarks/nsga2.py --trials 300 --seeds 3 --json out.json
    python benchmarks/nsga2.py --only nsga3 --trials 5000 --dim 7 --seeds 3
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
import warnings
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


def dtlz1(x: np.ndarray) -> tuple[float, ...]:
    d = x[2:] - 0.5
    g = 100.0 * (len(d) + float(np.sum(d**2 - np.cos(20.0 * np.pi * d))))
    s = 0.5 * (1.0 + g)
    return s * x[0] * x[1], s * x[0] * (1.0 - x[1]), s * (1.0 - x[0])


# name: (objectives, reference point's value in each objective, "nsga2" or "nsga3")
PROBLEMS: dict[str, tuple[Problem, int, float, str]] = {
    "ZDT1": (zdt1, 2, 1.1, "nsga2"),
    "ZDT2": (zdt2, 2, 1.1, "nsga2"),
    "DTLZ2": (dtlz2, 3, 1.1, "nsga2"),
    "DTLZ2 m3": (dtlz2, 3, 1.1, "nsga3"),
    "DTLZ1 m3": (dtlz1, 3, 0.55, "nsga3"),
}

Run = tuple[Any, float, float]  # objective values, loop seconds / trial, optimizer s / trial


def run_tuneful(
    problem: Problem,
    m: int,
    dim: int,
    trials: int,
    seed: int,
    algorithm: str = "nsga2",
    settings: dict[str, Any] | None = None,
) -> Run:
    space = tuneful.Space({f"x{i}": tuneful.Float(0.0, 1.0) for i in range(dim)})
    study = tuneful.create_study(
        space=space, directions=["minimize"] * m, storage="memory://",
        optimizer={"name": algorithm, "settings": settings or {}}, seed=seed,
    )  # fmt: skip
    optimizer, spent = study.optimizer, [0.0]
    suggest = optimizer.suggest

    def timed(*args: Any, **kwargs: Any) -> Any:
        begin = time.perf_counter()
        try:
            return suggest(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - begin

    optimizer.suggest = timed  # type: ignore[method-assign]
    names = [f"x{i}" for i in range(dim)]
    values = []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask()
        y = problem(np.array([trial.params[k] for k in names]))
        study.tell(trial, list(y))
        values.append(y)
    return np.array(values), (time.perf_counter() - start) / trials, spent[0] / trials


def run_optuna(
    problem: Problem, m: int, dim: int, trials: int, seed: int, algorithm: str = "nsga2"
) -> Run:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    samplers = {"nsga2": optuna.samplers.NSGAIISampler, "nsga3": optuna.samplers.NSGAIIISampler}
    study = optuna.create_study(directions=["minimize"] * m, sampler=samplers[algorithm](seed=seed))
    dists = {f"x{i}": optuna.distributions.FloatDistribution(0.0, 1.0) for i in range(dim)}
    values = []
    start = time.perf_counter()
    for _ in range(trials):
        trial = study.ask(dists)
        y = problem(np.array([trial.params[f"x{i}"] for i in range(dim)]))
        study.tell(trial, list(y))
        values.append(y)
    return np.array(values), (time.perf_counter() - start) / trials, float("nan")


LIBRARIES = {
    "nsga2": {"tuneful nsga2": run_tuneful, "optuna NSGAIISampler": run_optuna},
    "nsga3": {
        "tuneful nsga3": run_tuneful,
        "tuneful nsga3 p=3 N=52": functools.partial(
            run_tuneful, settings={"divisions": 3, "population_size": 52}
        ),
        "optuna NSGAIIISampler": run_optuna,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--json", default=None)
    parser.add_argument("--only", choices=sorted(LIBRARIES), default=None)
    args = parser.parse_args()
    for algorithm in LIBRARIES:  # imports and first calls, untimed
        for runner in LIBRARIES[algorithm].values():
            runner(zdt1, 2, 3, 5, 0, algorithm)
    rows = []
    print(f"{args.trials} trials, {args.seeds} seeds, d = {args.dim}")
    header = f"{'problem':9} {'library':23} {'hypervolume':>18} {'ms / trial':>11}"
    print(f"{header} {'in suggest':>11}")
    for name, (problem, m, corner, algorithm) in PROBLEMS.items():
        if args.only and algorithm != args.only:
            continue
        reference = np.full(m, corner)
        for library, runner in LIBRARIES[algorithm].items():
            volumes, times, inside = [], [], []
            for seed in range(args.seeds):
                y, per_trial, suggesting = runner(
                    problem, m, args.dim, args.trials, seed, algorithm
                )
                volumes.append(hypervolume(y, reference))
                times.append(per_trial)
                inside.append(suggesting)
            mean, sd = statistics.mean(volumes), statistics.pstdev(volumes)
            ms, ms_in = 1000 * statistics.mean(times), 1000 * statistics.mean(inside)
            print(f"{name:9} {library:23} {mean:>10.4f} +- {sd:.4f} {ms:>11.3f} {ms_in:>11.3f}")
            rows.append(
                {"problem": name, "library": library, "hypervolume": volumes, "seconds": times,
                 "suggest_seconds": inside}
            )  # fmt: skip
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"args": vars(args), "rows": rows}, out, indent=1)


if __name__ == "__main__":
    main()
