"""MO-ASHA against no early stopping and against ASHA on a random scalarization, by the
hypervolume of the Pareto front reached for a total training budget.

Problem: YAHPO Gym lcbench (``yahpo/lcbench/<id>``, the surrogate of real MLP training runs,
epochs 1-52), two objectives: maximize ``val_accuracy``, minimize ``time`` (the training
time to the epoch reached). Every method samples configurations at random (the scheduler is
what differs) and trains each one epoch by epoch as ``trial.budgets`` hands out budgets:

- ``none``: every trial trains the full 52 epochs;
- ``mo-asha``: ``ASHA(min_budget=1, max_budget=52, reduction_factor=3)`` on the study's two
  objectives, each rung's vector reported as ``report_values`` does (rungs 1, 3, 9, 27);
- ``scalar-asha``: the same ASHA on one objective, the weighted sum
  ``w * (1 - accuracy / 100) + (1 - w) * t`` with ``t`` the log training time scaled to
  [0, 1] over a random sample of the task, and ``w`` drawn uniformly per seed (random
  scalarization, the baseline of Schmucker et al. 2021).

Budget: the epochs trained by all trials together, read at 10, 20, 50 and 100 full trainings'
worth (520, 1040, 2600, 5200 epochs). Measure: the hypervolume of the completed trials' final
(accuracy, time), relative to that of 2000 random configurations trained in full (1.0: as
good as the front of 2000 full trainings); the reference point is (0 % accuracy, the
largest time in that sample). Trials run one at a time (one worker); the scheduler's
decisions are made as the study's engine makes them (every report judged on the history).

Usage::

    python benchmarks/mo_asha.py                      # 3 lcbench tasks x 5 seeds (about 3 min)
    python benchmarks/mo_asha.py --tasks 7593 --seeds 3 --json out.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tuneful.analysis.indicators import hypervolume
from tuneful.bench.tasks.loader import load_task
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import ASHA, NoScheduler, Scheduler
from tuneful.schedulers.multi import objectives_key

FULL = 52
DIRECTIONS = ("maximize", "minimize")
CHECKPOINTS = (10, 20, 50, 100)  # full trainings' worth of epochs


class Run:
    """Trials judged by ``scheduler`` exactly as the engine judges them: each report stored,
    the scheduler asked on the history, its attributes recorded (records replaced, never
    mutated)."""

    def __init__(self, scheduler: Scheduler, directions: tuple[str, ...]) -> None:
        self.scheduler = scheduler
        self.directions = directions
        self.records: list[TrialRecord] = []
        self.spent = 0
        self.finals: list[tuple[int, tuple[float, float]]] = []  # (epochs spent, vector)

    def history(self, number: int) -> History:
        return History(None, self.directions, list(self.records), number=number)

    def trial(
        self, judged: Callable[[int], tuple[float, ...]], truth: Callable[[int], Any]
    ) -> None:
        number = len(self.records)
        attrs = self.scheduler.assign(self.history(number))
        self.records.append(TrialRecord(number, TrialState.RUNNING, system_attrs=dict(attrs)))
        while True:
            record = self.records[number]
            found = self.scheduler.budget(record, self.history(number))
            budget = FULL if found is None else min(found, FULL)
            self.spent += budget - (record.last_step or 0)
            values = judged(budget)
            record = dataclasses.replace(
                record,
                intermediate={**record.intermediate, budget: values[0]},
                user_attrs={**record.user_attrs, objectives_key(budget): {"values": list(values)}},
            )
            decision = self.scheduler.decide(record, self.history(number))
            if decision is not None:
                record = dataclasses.replace(
                    record, system_attrs={**record.system_attrs, **decision.attrs}
                )
            if decision is not None and decision.stop:
                self.records[number] = dataclasses.replace(record, state=TrialState.PRUNED)
                return
            if budget >= FULL:
                self.records[number] = dataclasses.replace(
                    record, state=TrialState.COMPLETE, values=tuple(values)
                )
                self.finals.append((self.spent, truth(FULL)))
                return
            self.records[number] = record


def _vector(task: Any, config: dict[str, Any], epoch: int) -> tuple[float, float]:
    metrics = task.evaluate(config, epoch)
    return float(metrics["val_accuracy"]), float(metrics["time"])


def _method(
    name: str, task: Any, seed: int, scale: tuple[float, float], budget: int
) -> list[tuple[int, tuple[float, float]]]:
    rng = np.random.default_rng(seed)
    weight = float(np.random.default_rng(1000 + seed).random())
    low, high = scale
    if name == "none":
        run = Run(NoScheduler(), DIRECTIONS)
    elif name == "mo-asha":
        run = Run(ASHA(min_budget=1, max_budget=FULL, reduction_factor=3), DIRECTIONS)
    else:
        run = Run(ASHA(min_budget=1, max_budget=FULL, reduction_factor=3), ("minimize",))
    while run.spent < budget:
        config = task.space.sample(rng)[0]

        def truth(epoch: int, config: dict[str, Any] = config) -> tuple[float, float]:
            return _vector(task, config, epoch)

        def judged(epoch: int, config: dict[str, Any] = config) -> tuple[float, ...]:
            accuracy, seconds = _vector(task, config, epoch)
            if name != "scalar-asha":
                return accuracy, seconds
            scaled = (np.log(seconds) - low) / (high - low)
            return (weight * (1.0 - accuracy / 100.0) + (1.0 - weight) * scaled,)

        run.trial(judged, truth)
    return run.finals


def _relative(finals: list[tuple[int, tuple[float, float]]], until: int, ref, best) -> float:
    points = [vector for spent, vector in finals if spent <= until]
    if not points:
        return 0.0
    return hypervolume(points, ref, directions=DIRECTIONS) / best


def bench_task(task_id: str, seeds: int, data_dir: str) -> dict[str, Any]:
    task = load_task(f"yahpo/lcbench/{task_id}", data_dir)
    sample = [_vector(task, c, FULL) for c in task.space.sample(np.random.default_rng(99), 2000)]
    ref = [0.0, max(seconds for _, seconds in sample)]
    best = hypervolume(sample, ref, directions=DIRECTIONS)
    logs = np.log([seconds for _, seconds in sample])
    scale = (float(logs.min()), float(logs.max()))
    out: dict[str, Any] = {}
    for name in ("none", "mo-asha", "scalar-asha"):
        rows = []
        for seed in range(seeds):
            finals = _method(name, task, seed, scale, CHECKPOINTS[-1] * FULL)
            rows.append([_relative(finals, c * FULL, ref, best) for c in CHECKPOINTS])
        out[name] = rows
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["7593", "34539", "167149"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument(
        "--data-dir", default=os.environ.get("TUNEFUL_DATA_DIR", "../shared/benchmarks")
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    start = time.perf_counter()
    results = {task: bench_task(task, args.seeds, args.data_dir) for task in args.tasks}
    header = " | ".join(f"{c} full" for c in CHECKPOINTS)
    print(f"| task | method | {header} |")
    print("|---|---|" + "---|" * len(CHECKPOINTS))
    for task, methods in results.items():
        for name, rows in methods.items():
            cells = []
            for i in range(len(CHECKPOINTS)):
                column = [row[i] for row in rows]
                sd = statistics.stdev(column) if len(column) > 1 else 0.0
                cells.append(f"{statistics.mean(column):.3f} ± {sd:.3f}")
            print(f"| lcbench/{task} | {name} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"checkpoints": CHECKPOINTS, "results": results}, handle, indent=1)


if __name__ == "__main__":
    main()
