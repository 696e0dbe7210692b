"""Per-trial overhead of ask + tell with random search: tuneful beside Optuna.

The objective is a 10-D quadratic (sum of squares of x0..x9, each in [-5, 5]), so the time
measured is the library's own: drawing parameters, recording the trial, recording its value.
Each case runs ``--trials`` ask/tell pairs in a plain loop on a fresh study:

- tuneful ``memory://`` and tuneful SQLite (a new file in a temporary folder),
- tuneful's journal file (``journal:///...``, a new file in a temporary folder),
- Optuna ``InMemoryStorage``, Optuna ``RDBStorage("sqlite:///...")`` and Optuna's journal
  file (``JournalStorage(JournalFileBackend(path))``, Optuna >= 4), with
  ``RandomSampler(seed=0)``, ``study.ask()``, ten ``trial.suggest_float`` and
  ``study.tell``.

Study creation is outside the timed region; every ask/tell pair is timed on its own with
``time.perf_counter``. Reported per case: the mean cost per trial over all trials and over the
last 100 (growth with the number of trials shows there), as the median of ``--repeat`` runs.
The cases are interleaved within each repeat, in alternating order, so slow drift of a noisy
machine hits both libraries alike.

Usage::

    python benchmarks/overhead.py                      # 1,000 trials, 3 repeats
    python benchmarks/overhead.py --trials 2000 --repeat 5 --json overhead.json
    python benchmarks/overhead.py --only tuneful-sqlite  # one case (e.g. under cProfile)
    python benchmarks/overhead.py --only tuneful-sqlite --only optuna-sqlite-wal

The last case, not run by default, opens Optuna's SQLite file with tuneful's settings (WAL
journal, ``synchronous=NORMAL``) instead of SQLite's defaults (rollback journal, ``FULL``,
an fsync per commit), to separate the cost of durability from the cost of the code.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

DIM = 10
LOW, HIGH = -5.0, 5.0
NAMES = [f"x{i}" for i in range(DIM)]
TAIL = 100

#: tuneful's targets for the mean ask + tell cost, in ms per trial.
TARGETS_MS = {"memory": 0.3, "sqlite": 3.0, "journal": 3.0}


def quadratic(params: dict[str, float]) -> float:
    return sum(params[name] ** 2 for name in NAMES)


# -- the cases ---------------------------------------------------------------------------------
def run_tuneful(storage: str, n_trials: int) -> list[float]:
    import tuneful

    space = tuneful.Space(**{name: tuneful.Float(LOW, HIGH) for name in NAMES})
    folder = tempfile.mkdtemp(prefix="tuneful-bench-")
    try:
        url = {
            "memory": "memory://",
            "sqlite": f"sqlite:///{folder}/tuneful.db",
            "journal": f"journal:///{folder}/tuneful.jsonl",
        }[storage]
        study = tuneful.create_study(
            "overhead", space=space, storage=url, optimizer="random", seed=0
        )
        times = []
        clock = time.perf_counter
        for _ in range(n_trials):
            start = clock()
            trial = study.ask()
            study.tell(trial, quadratic(trial.params))
            times.append(clock() - start)
        study.storage.close()
        return times
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _sqlite_like_tuneful(engine: Any) -> None:
    """Open every new connection of ``engine`` in WAL mode with ``synchronous=NORMAL``,
    the settings tuneful uses, instead of SQLite's defaults (rollback journal, FULL)."""
    import sqlalchemy as sa

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    engine.dispose()  # connections opened before the listener are dropped


def run_optuna(storage: str, n_trials: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folder = tempfile.mkdtemp(prefix="optuna-bench-")
    try:
        if storage == "memory":
            backend: Any = optuna.storages.InMemoryStorage()
        elif storage == "journal":
            from optuna.storages.journal import JournalFileBackend

            path = os.path.join(folder, "optuna.journal")
            backend = optuna.storages.JournalStorage(JournalFileBackend(path))
        else:
            backend = optuna.storages.RDBStorage(f"sqlite:///{folder}/optuna.db")
            if storage == "sqlite-wal":
                _sqlite_like_tuneful(backend.engine)
        study = optuna.create_study(
            study_name="overhead",
            storage=backend,
            sampler=optuna.samplers.RandomSampler(seed=0),
        )
        times = []
        clock = time.perf_counter
        for _ in range(n_trials):
            start = clock()
            trial = study.ask()
            params = {name: trial.suggest_float(name, LOW, HIGH) for name in NAMES}
            study.tell(trial, quadratic(params))
            times.append(clock() - start)
        if storage not in ("memory", "journal"):
            backend.engine.dispose()
        return times
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CASES: dict[str, Callable[[int], list[float]]] = {
    "tuneful-memory": lambda n: run_tuneful("memory", n),
    "optuna-memory": lambda n: run_optuna("memory", n),
    "tuneful-sqlite": lambda n: run_tuneful("sqlite", n),
    "optuna-sqlite": lambda n: run_optuna("sqlite", n),
    "tuneful-journal": lambda n: run_tuneful("journal", n),
    "optuna-journal": lambda n: run_optuna("journal", n),
    # Not run by default: Optuna's SQLite with tuneful's journal and sync settings.
    "optuna-sqlite-wal": lambda n: run_optuna("sqlite-wal", n),
}
DEFAULT_CASES = [
    "tuneful-memory",
    "optuna-memory",
    "tuneful-sqlite",
    "optuna-sqlite",
    "tuneful-journal",
    "optuna-journal",
]


# -- environment -------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def _git_commit(folder: str) -> str | None:
    """The commit of the checkout holding ``folder``, with ``+dirty`` if src/ has edits."""
    try:
        run = subprocess.run
        commit = run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = run(
            ["git", "status", "--porcelain", "--", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def environment() -> dict[str, Any]:
    import tuneful

    source = os.path.dirname(os.path.abspath(tuneful.__file__))
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "tuneful": tuneful.__version__,
        "tuneful_source": source,
        "tuneful_commit": _git_commit(source),
        "optuna": _version("optuna"),
        "sqlalchemy": _version("sqlalchemy"),
        "numpy": _version("numpy"),
    }


# -- reporting ---------------------------------------------------------------------------------
def _ms(seconds: float) -> float:
    return seconds * 1000.0


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.1f}×"


def markdown(results: dict[str, dict[str, float]], n_trials: int, repeat: int) -> str:
    tail = min(TAIL, n_trials)
    lines = [
        f"ask + tell, random search, 10-D quadratic, {n_trials} trials, "
        f"median of {repeat} run(s); ms per trial",
        "",
        f"| storage | tuneful mean | tuneful last {tail} | Optuna mean | Optuna last {tail} "
        f"| Optuna / tuneful (mean) | Optuna / tuneful (last {tail}) | tuneful target (mean) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = (
        ("memory", "memory", "in memory"),
        ("sqlite", "sqlite", "SQLite"),
        ("sqlite", "sqlite-wal", "SQLite, Optuna in WAL + synchronous=NORMAL"),
        ("journal", "journal", "journal file"),
    )
    for storage, peer_storage, label in rows:
        mine = results.get(f"tuneful-{storage}")
        peer = results.get(f"optuna-{peer_storage}")
        if peer_storage != storage and peer is None:
            continue
        if mine is None and peer is None:
            continue
        t_mean = mine["mean_ms"] if mine else None
        t_tail = mine["tail_ms"] if mine else None
        o_mean = peer["mean_ms"] if peer else None
        o_tail = peer["tail_ms"] if peer else None
        target = TARGETS_MS[storage]
        if t_mean is None:
            verdict = f"≤ {target} ms"
        else:
            verdict = f"≤ {target} ms: {'met' if t_mean <= target else 'MISSED'}"
        lines.append(
            f"| {label} | {_fmt(t_mean)} | {_fmt(t_tail)} | {_fmt(o_mean)} | {_fmt(o_tail)} "
            f"| {_ratio(o_mean, t_mean)} | {_ratio(o_tail, t_tail)} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000, help="trials per run (default 1000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per case; the median is reported (default 3)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every measurement here")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(CASES),
        help="run only this case (may be repeated)",
    )
    args = parser.parse_args(argv)
    if args.trials < 1 or args.repeat < 1:
        parser.error("--trials and --repeat must be positive")

    names = args.only or DEFAULT_CASES
    env = environment()
    print(
        f"# {env['date']} · {env['cpus']} CPUs ({env['cpu_model']}) · Python {env['python']} · "
        f"tuneful {env['tuneful']} ({env['tuneful_commit'] or env['tuneful_source']}) · "
        f"optuna {env['optuna']}",
        file=sys.stderr,
    )
    tail = min(TAIL, args.trials)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for r in range(args.repeat):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times = CASES[name](args.trials)
            run = {
                "mean_ms": _ms(statistics.fmean(times)),
                "tail_ms": _ms(statistics.fmean(times[-tail:])),
                "first_ms": _ms(statistics.fmean(times[:tail])),
                "total_s": sum(times),
            }
            runs[name].append(run)
            print(
                f"  repeat {r + 1}/{args.repeat} {name:15s} mean {run['mean_ms']:8.3f} ms  "
                f"first {tail} {run['first_ms']:8.3f} ms  last {tail} {run['tail_ms']:8.3f} ms  "
                f"total {run['total_s']:6.2f} s",
                file=sys.stderr,
                flush=True,
            )

    results = {
        name: {
            key: statistics.median(run[key] for run in case_runs)
            for key in ("mean_ms", "first_ms", "tail_ms", "total_s")
        }
        for name, case_runs in runs.items()
    }
    print(markdown(results, args.trials, args.repeat))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "benchmark": "overhead",
                    "environment": env,
                    "trials": args.trials,
                    "repeat": args.repeat,
                    "tail": tail,
                    "targets_ms": TARGETS_MS,
                    "median": results,
                    "runs": runs,
                },
                handle,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
