"""Per-trial overhead as a study grows: tuneful on PostgreSQL to 50,000 trials, beside Optuna.

One process runs a trivial objective (the 10-D quadratic, no sleep) with random search, in
one study, on a database created for the run on ``--postgres`` (or any ``--storage`` URL);
the time of every finished trial is taken from the ``optimize`` callback. The figure is the
mean wall time per trial over the ``--window`` trials that end at each checkpoint (1k, 10k,
50k by default): what one more trial costs once the study holds that many. Optuna runs the
same on its ``RDBStorage`` (same server, same driver) to ``--optuna-trials`` (its per-trial
cost grows with the study, so a full 50k run would take hours here).

Usage::

    python benchmarks/growth.py --postgres "$(scripts/postgres-server start)"
    python benchmarks/growth.py --postgres URL --trials 12000 --checkpoints 1000,10000 \\
        --optuna-trials 2000 --json growth.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import HIGH, LOW, NAMES, environment, quadratic  # noqa: E402
from parallel import FreshDatabase  # noqa: E402


def _windows(stamps: list[float], checkpoints: list[int], window: int) -> dict[int, float]:
    """Mean seconds per trial over the ``window`` trials ending at each checkpoint."""
    out = {}
    for point in checkpoints:
        if point <= len(stamps) and point > window:
            out[point] = (stamps[point - 1] - stamps[point - 1 - window]) / window
    return out


def _blocks(stamps: list[float], start: float, block: int) -> list[float]:
    """Mean seconds per trial in consecutive blocks of ``block`` trials (the whole curve)."""
    edges = [start] + stamps[block - 1 :: block]
    return [(b - a) / block for a, b in zip(edges, edges[1:], strict=False)]


def run_tuneful(url: str, n_trials: int, chunk: Callable[[int], None]) -> tuple[list[float], float]:
    import tuneful

    space = tuneful.Space(**{name: tuneful.Float(LOW, HIGH) for name in NAMES})
    study = tuneful.create_study(
        "growth", space=space, storage=url, optimizer="random", seed=0, scheduler="none"
    )
    stamps: list[float] = []

    def stamp(_study: Any, _record: Any) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) % 1000 == 0:
            chunk(len(stamps))

    start = time.perf_counter()
    study.optimize(
        lambda trial: quadratic(trial.params),
        n_trials=n_trials,
        callbacks=[stamp],
        show_progress_bar=False,
    )
    study.storage.close()
    return stamps, start


def run_optuna(url: str, n_trials: int, chunk: Callable[[int], None]) -> tuple[list[float], float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.create_study(
        study_name="growth", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    stamps: list[float] = []

    def objective(trial: Any) -> float:
        return quadratic({name: trial.suggest_float(name, LOW, HIGH) for name in NAMES})

    def stamp(_study: Any, _trial: Any) -> None:
        stamps.append(time.perf_counter())
        if len(stamps) % 1000 == 0:
            chunk(len(stamps))

    start = time.perf_counter()
    study.optimize(objective, n_trials=n_trials, callbacks=[stamp])
    storage.engine.dispose()
    return stamps, start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--postgres", metavar="URL", help="server: a fresh database per library")
    where.add_argument("--storage", metavar="URL", help="use this (empty) storage as it is")
    parser.add_argument("--trials", type=int, default=50_000)
    parser.add_argument("--checkpoints", default="1000,10000,50000")
    parser.add_argument("--window", type=int, default=500)
    parser.add_argument("--optuna-trials", type=int, default=5000, help="0: skip Optuna")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    checkpoints = [int(c) for c in args.checkpoints.split(",") if c.strip()]
    env = environment()
    print(
        f"# {env['date']} · {env['cpus']} CPUs · Python {env['python']} · optuna {env['optuna']}",
        file=sys.stderr,
    )

    results: dict[str, Any] = {}
    cases = [("tuneful", run_tuneful, args.trials)]
    if args.optuna_trials > 0:
        cases.append(("optuna", run_optuna, args.optuna_trials))
    for name, runner, n_trials in cases:
        began = time.perf_counter()

        def chunk(done: int, name: str = name, began: float = began) -> None:
            print(
                f"  {name}: {done} trials, {time.perf_counter() - began:.0f} s",
                file=sys.stderr,
                flush=True,
            )

        if args.postgres:
            with FreshDatabase(args.postgres) as url:
                stamps, start = runner(url, n_trials, chunk)
        else:
            stamps, start = runner(args.storage, n_trials, chunk)
        results[name] = {
            "trials": len(stamps),
            "windows_ms": {
                k: v * 1000 for k, v in _windows(stamps, checkpoints, args.window).items()
            },
            "blocks_ms": [v * 1000 for v in _blocks(stamps, start, 1000)],
        }

    print(
        f"Per-trial wall time (ms), mean over the {args.window} trials ending at each "
        "checkpoint; one process, random search, trivial objective"
    )
    print()
    print("| trials in the study | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for point in checkpoints:
        cells = []
        for result in results.values():
            value = result["windows_ms"].get(point)
            cells.append("–" if value is None else f"{value:.2f}")
        print(f"| {point:,} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "benchmark": "growth",
                    "environment": env,
                    "window": args.window,
                    "results": results,
                },
                handle,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
