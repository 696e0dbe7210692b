"""Optimizer time per trial: tuneful's model-based optimizers beside Optuna's, same run.

Every case is ask + tell in a plain loop on an in-memory study, 10 float parameters in
[-5, 5], objective the sum of squares (so almost all of the time is the optimizer's):

=============  ==========================================  =====================================
pair           tuneful                                     Optuna
=============  ==========================================  =====================================
tpe            ``optimizer="tpe"``, ``--tpe-trials``        ``TPESampler(seed=0)``
gp             ``optimizer="gp"``, ``--gp-trials``          ``GPSampler(seed=0)`` (needs torch)
auto           ``optimizer="auto"`` (the default), 1,000    Optuna's default sampler
               trials: Sobol, GP to 200, then CMA-ES       (``TPESampler``), 1,000 trials
=============  ==========================================  =====================================

Study creation is outside the timed region, and each library runs a short untimed study of
every kind first (imports and first calls). Reported per case (median over ``--repeat``
rounds, the cases interleaved in alternating order so that a noisy machine's drift hits both
libraries alike): the total time, the mean per trial, and the mean over the last 100 trials
(the cost at that size of history). The ratio column is tuneful / Optuna.

Usage::

    python benchmarks/optimizer_overhead.py                 # all pairs, 3 rounds
    python benchmarks/optimizer_overhead.py --pairs tpe --repeat 5 --json out.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tuneful

DIM = 10
NAMES = [f"x{i}" for i in range(DIM)]
TAIL = 100


def sphere(params: dict[str, float]) -> float:
    return float(sum(params[name] ** 2 for name in NAMES))


def run_tuneful(optimizer: str, n_trials: int) -> np.ndarray:
    space = tuneful.Space(**{name: tuneful.Float(-5.0, 5.0) for name in NAMES})
    study = tuneful.create_study(space=space, storage="memory://", optimizer=optimizer, seed=0)
    times = np.empty(n_trials)
    for i in range(n_trials):
        start = time.perf_counter()
        trial = study.ask()
        study.tell(trial, sphere(trial.params))
        times[i] = time.perf_counter() - start
    return times


def run_optuna(sampler_name: str, n_trials: int) -> np.ndarray:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=0),
        "gp": lambda: optuna.samplers.GPSampler(seed=0),
        "default": lambda: None,
    }[sampler_name]()
    # sampler None: whatever optuna.create_study() picks by default
    study = optuna.create_study(sampler=sampler)
    times = np.empty(n_trials)
    for i in range(n_trials):
        start = time.perf_counter()
        trial = study.ask()
        params = {name: trial.suggest_float(name, -5.0, 5.0) for name in NAMES}
        study.tell(trial, sphere(params))
        times[i] = time.perf_counter() - start
    return times


def pairs(args: argparse.Namespace) -> dict[str, tuple[int, Callable[[], Any], Callable[[], Any]]]:
    return {
        "tpe": (
            args.tpe_trials,
            lambda: run_tuneful("tpe", args.tpe_trials),
            lambda: run_optuna("tpe", args.tpe_trials),
        ),
        "gp": (
            args.gp_trials,
            lambda: run_tuneful("gp", args.gp_trials),
            lambda: run_optuna("gp", args.gp_trials),
        ),
        "auto": (
            args.auto_trials,
            lambda: run_tuneful("auto", args.auto_trials),
            lambda: run_optuna("default", args.auto_trials),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="tpe,gp,auto")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tpe-trials", type=int, default=1000)
    parser.add_argument("--gp-trials", type=int, default=200)
    parser.add_argument("--auto-trials", type=int, default=1000)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    chosen = {k: v for k, v in pairs(args).items() if k in args.pairs.split(",")}
    if "gp" in chosen and importlib.util.find_spec("torch") is None:
        print(
            "skipping the gp pair: Optuna's GPSampler needs torch "
            "(pip install torch==2.13.0 greenlet)",
            file=sys.stderr,
        )
        del chosen["gp"]
    figures: dict[str, dict[str, list[np.ndarray]]] = {
        k: {"tuneful": [], "optuna": []} for k in chosen
    }
    # warm-up: imports and first-call costs are paid before anything is timed
    run_tuneful("auto", 15)
    for key in chosen:
        run_optuna({"auto": "default"}.get(key, key), 15)
    for round_ in range(args.repeat):
        for key, (_, ours, theirs) in chosen.items():
            order = [("tuneful", ours), ("optuna", theirs)]
            for side, call in order if round_ % 2 == 0 else order[::-1]:
                figures[key][side].append(call())
                print(
                    f"round {round_ + 1} {key} {side}: {figures[key][side][-1].sum():.2f} s",
                    flush=True,
                )
    print(f"\nPython {platform.python_version()}, {args.repeat} rounds, medians\n")
    print(
        "| pair | trials | tuneful total s | Optuna total s | ratio | tuneful last-100 ms "
        "| Optuna last-100 ms | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    out: dict[str, Any] = {}
    for key, (n, _, _) in chosen.items():
        row: dict[str, float] = {}
        for side in ("tuneful", "optuna"):
            runs = figures[key][side]
            row[f"{side}_total_s"] = statistics.median(float(t.sum()) for t in runs)
            row[f"{side}_tail_ms"] = statistics.median(1000 * float(t[-TAIL:].mean()) for t in runs)
        out[key] = {"trials": n, **row}
        print(
            f"| {key} | {n} | {row['tuneful_total_s']:.2f} | {row['optuna_total_s']:.2f} | "
            f"{row['tuneful_total_s'] / row['optuna_total_s']:.2f} | "
            f"{row['tuneful_tail_ms']:.1f} | {row['optuna_tail_ms']:.1f} | "
            f"{row['tuneful_tail_ms'] / row['optuna_tail_ms']:.2f} |"
        )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(out, handle, indent=2)


if __name__ == "__main__":
    main()
