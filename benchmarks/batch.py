"""Batch asks: four trials in flight at a time against one at a time, at equal evaluations.

For each task and seed the optimizer runs the task's budget (20 + 40 sqrt(d)) twice on an
in-memory study: sequentially (ask, tell) and in batches (ask four, then tell the four), so
that every suggestion in a batch sees the other three as pending trials. Reported per task:
the mean final best value of each mode, the paired Wilcoxon signed-rank p-value over seeds
(a small p would say the modes differ), the number of seeds where batches did better, and
the number of duplicate configurations proposed within any study (must be 0).

Usage::

    python benchmarks/batch.py                          # auto, 10 seeds, the default tasks
    python benchmarks/batch.py --optimizer tpe --seeds 5 --tasks bbob/f8/d5/i1
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from scipy.stats import wilcoxon

import tuneful
from tuneful.bench.budget import parse_budget
from tuneful.bench.tasks import load_task

TASKS = [
    "bbob/f1/d5/i1",
    "bbob/f8/d5/i1",
    "bbob/f15/d5/i1",
    "bbob/f21/d10/i1",
    "yahpo/lcbench/3945",
    "yahpo/rbv2_xgboost/1049",
]


def run(task_id: str, optimizer: str, seed: int, batch: int, data_dir: str | None):
    task = load_task(task_id, data_dir=data_dir)
    budget = parse_budget("20+40sqrt(d)", task.dim)
    study = tuneful.create_study(
        space=task.space,
        direction=task.primary.direction,
        storage="memory://",
        optimizer=optimizer,
        seed=seed,
    )
    while len(study.trials) < budget:
        trials = [study.ask() for _ in range(min(batch, budget - len(study.trials)))]
        for trial in trials:
            study.tell(trial, task.evaluate(trial.params)[task.primary.name])
    configs = [tuple(sorted(t.params.items())) for t in study.trials]
    sign = 1.0 if task.primary.direction == "minimize" else -1.0
    return sign * study.best_value, len(configs) - len(set(configs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizer", default="auto")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--data-dir", default=os.environ.get("TUNEFUL_DATA_DIR"))
    args = parser.parse_args()
    print(
        f"optimizer {args.optimizer}, batches of {args.batch} vs sequential, "
        f"{args.seeds} seeds; values oriented so that lower is better\n"
    )
    print("| task | sequential mean | batch mean | Wilcoxon p | batch better | duplicates |")
    print("|---|---|---|---|---|---|")
    total_duplicates = 0
    for task_id in args.tasks.split(","):
        results = {1: [], args.batch: []}
        duplicates = 0
        for seed in range(args.seeds):
            for mode in results:
                best, repeated = run(task_id, args.optimizer, seed, mode, args.data_dir)
                results[mode].append(best)
                duplicates += repeated
        seq, bat = np.array(results[1]), np.array(results[args.batch])
        differ = seq != bat
        p = float(wilcoxon(seq[differ], bat[differ]).pvalue) if differ.sum() >= 2 else 1.0
        total_duplicates += duplicates
        print(
            f"| {task_id} | {seq.mean():.6g} | {bat.mean():.6g} | {p:.2f} | "
            f"{int((bat < seq).sum())}/{args.seeds} | {duplicates} |",
            flush=True,
        )
    print(f"\nduplicate configurations in all studies: {total_duplicates}")


if __name__ == "__main__":
    main()
