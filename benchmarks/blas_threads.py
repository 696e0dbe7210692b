"""Wall time of ``optimize(n_jobs=k)`` on the README's example: does k use k cores?

Each worker process of ``optimize(n_jobs=k)`` caps its BLAS / OpenMP thread pools at
cores // k threads (tuneful/execution/lifetime.py) unless the user set a limit in the
environment. Without the cap each worker starts one BLAS thread per core, and k workers on a
machine of k cores run slower than one. Configurations, each in a fresh Python process on a
fresh SQLite file, 60 trials of the README's "In Python" example (the default optimizer,
whose Gaussian process is the BLAS user):

- ``n_jobs=1``;
- ``n_jobs=2``: capped by tuneful (no thread variable set);
- ``n_jobs=2, OMP_NUM_THREADS=<cores>``: a limit set by the user is obeyed, which here
  reproduces the uncapped pools of earlier releases;
- ``n_jobs=1, OMP_NUM_THREADS=1``: the single worker on one BLAS thread.

Usage::

    python benchmarks/blas_threads.py                  # 60 trials, 3 repeats
    python benchmarks/blas_threads.py --trials 60 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tuneful.execution.lifetime import THREAD_VARIABLES


def one(n_jobs: int, trials: int) -> float:
    """Run the README example once; its wall time in seconds."""
    import tuneful

    space = tuneful.Space(
        lr=tuneful.Float(1e-5, 1e-1, log=True),
        layers=tuneful.Int(1, 8),
        optimizer=tuneful.Categorical(["adam", "sgd"]),
        momentum=tuneful.Float(0.0, 0.99, when={"optimizer": "sgd"}),
    )

    def objective(trial: tuneful.Trial) -> float:
        cfg = trial.params
        loss = (cfg["lr"] - 0.01) ** 2 + 0.01 * cfg["layers"]
        if cfg["optimizer"] == "sgd":
            loss += (cfg["momentum"] - 0.9) ** 2
        return float(loss)

    with tempfile.TemporaryDirectory() as folder:
        study = tuneful.create_study("toy", space=space, storage=f"sqlite:///{folder}/t.db", seed=0)
        start = time.perf_counter()
        study.optimize(objective, n_trials=trials, n_jobs=n_jobs, show_progress_bar=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # n_jobs, in a child
    args = parser.parse_args()
    if args.one is not None:
        print(one(args.one, args.trials))
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    configurations = [
        ("n_jobs=1", 1, {}),
        ("n_jobs=2 (capped)", 2, {}),
        (f"n_jobs=2, OMP_NUM_THREADS={cores} (uncapped)", 2, {"OMP_NUM_THREADS": str(cores)}),
        ("n_jobs=1, OMP_NUM_THREADS=1", 1, {"OMP_NUM_THREADS": "1"}),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in configurations}
    for _ in range(args.repeats):
        for label, jobs, extra in configurations:  # interleaved: load drifts hit all alike
            env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
            env.update(extra)
            command = [sys.executable, __file__, "--one", str(jobs), "--trials", str(args.trials)]
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            times[label].append(float(done.stdout.strip().splitlines()[-1]))
    base = statistics.median(times["n_jobs=1"])
    print(f"{args.trials} trials of the README example, {cores} cores, {args.repeats} repeats")
    print(f"{'configuration':<42} {'median s':>9} {'runs':>24} {'/ n_jobs=1':>11}")
    for label, values in times.items():
        median = statistics.median(values)
        runs = " ".join(f"{v:.2f}" for v in values)
        print(f"{label:<42} {median:>9.2f} {runs:>24} {median / base:>10.2f}x")


if __name__ == "__main__":
    main()
