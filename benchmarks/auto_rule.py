"""The measurements behind ``auto``'s hand-over: who should follow the GP in long runs.

At benchmark budgets (20 + 40 sqrt(d) evaluations) the GP leads (docs/benchmarks.md, section
3). This script asks what to do past them. Each candidate runs ``--trials`` evaluations on
each task and seed, and the script reports, at several checkpoints, the mean rank of each
candidate's best value so far over (task, seed) pairs (1 = best; ties share the mean rank)
and its optimizer time per trial (everything but the objective):

- ``auto``: Sobol, GP to trial 200, then CMA-ES from the incumbent (numeric spaces) or TPE;
- ``auto-tpe``: the same with TPE after the GP whatever the space;
- ``auto-s0.2``: CMA-ES after the GP with step size 0.2 instead of 0.1;
- ``gp``: the GP all along (capped at ``--gp-cap`` trials: its cost grows with the data);
- ``tpe``, ``cmaes``: each alone from the start.

Usage::

    python benchmarks/auto_rule.py                       # 1,000 trials, 3 seeds
    python benchmarks/auto_rule.py --trials 600 --seeds 2 --tasks bbob/f8/d10/i1
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any

import numpy as np
from scipy.stats import rankdata

import tuneful
from tuneful.bench.tasks import load_task

CANDIDATES: dict[str, Any] = {
    "auto": "auto",
    "auto-tpe": {"name": "auto", "settings": {"late": "tpe"}},
    "auto-s0.2": {"name": "auto", "settings": {"late_sigma0": 0.2}},
    "gp": "gp",
    "tpe": "tpe",
    "cmaes": "cmaes",
}
TASKS = [
    "bbob/f8/d10/i1",
    "bbob/f15/d5/i1",
    "bbob/f21/d10/i1",
    "yahpo/lcbench/7593",
    "yahpo/rbv2_xgboost/334",
]


def run(task_id: str, optimizer: Any, seed: int, n_trials: int, data_dir: str | None) -> dict:
    task = load_task(task_id, data_dir=data_dir)
    sign = 1.0 if task.primary.direction == "minimize" else -1.0
    study = tuneful.create_study(
        space=task.space,
        direction=task.primary.direction,
        storage="memory://",
        optimizer=optimizer,
        seed=seed,
    )
    best, spent_objective = np.inf, 0.0
    curve = np.empty(n_trials)
    start = time.perf_counter()
    for i in range(n_trials):
        trial = study.ask()
        t0 = time.perf_counter()
        value = task.evaluate(trial.params)[task.primary.name]
        spent_objective += time.perf_counter() - t0
        study.tell(trial, value)
        best = min(best, sign * value)
        curve[i] = best
    overhead = time.perf_counter() - start - spent_objective
    return {"curve": curve, "ms_per_trial": 1000 * overhead / n_trials}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--gp-cap", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--data-dir", default=os.environ.get("TUNEFUL_DATA_DIR"))
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args()
    names = args.candidates.split(",")
    checkpoints = [c for c in (50, 100, 200, 300, 400, 600, 1000) if c <= args.trials]
    results: dict[str, dict[str, Any]] = {name: {} for name in names}
    for task_id in args.tasks.split(","):
        for seed in range(args.seeds):
            for name in names:
                n = min(args.trials, args.gp_cap) if name == "gp" else args.trials
                out = run(task_id, CANDIDATES[name], seed, n, args.data_dir)
                results[name][f"{task_id}#{seed}"] = out
                print(
                    f"{task_id} seed {seed} {name}: best {out['curve'][-1]:.6g}, "
                    f"{out['ms_per_trial']:.1f} ms/trial",
                    flush=True,
                )
    print()
    print("mean rank of the best value so far (lower is better), over tasks x seeds")
    print("| candidate | " + " | ".join(str(c) for c in checkpoints) + " | ms/trial |")
    print("|---" * (len(checkpoints) + 2) + "|")
    keys = sorted(results[names[0]])
    table = {name: [] for name in names}
    for c in checkpoints:
        present = [name for name in names if all(len(results[name][k]["curve"]) >= c for k in keys)]
        ranks = np.array(
            [rankdata([results[name][k]["curve"][c - 1] for name in present]) for k in keys]
        )
        for name in names:
            table[name].append(
                f"{ranks[:, present.index(name)].mean():.2f}" if name in present else "—"
            )
    for name in names:
        cost = np.mean([results[name][k]["ms_per_trial"] for k in keys])
        print(f"| {name} | " + " | ".join(table[name]) + f" | {cost:.1f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    n: {
                        k: {"curve": v["curve"].tolist(), "ms_per_trial": v["ms_per_trial"]}
                        for k, v in r.items()
                    }
                    for n, r in results.items()
                },
                handle,
            )


if __name__ == "__main__":
    main()
