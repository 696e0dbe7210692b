"""Throughput of several worker processes on one study: tuneful beside Optuna.

The objective sleeps ``--sleep`` seconds (default 20 ms; 0 for a trivial objective) and
returns the 10-D quadratic (x0..x9 in [-5, 5]); random search throughout. For each process
count k in ``--jobs``, on a fresh study each time:

- tuneful: ``study.optimize(objective, n_trials=N, n_jobs=k)`` on an SQLite file (k worker
  processes, forked; with k = 1 the loop runs in the calling process);
- Optuna, SQLite: ``RDBStorage("sqlite:///...")``; k forked processes, each running
  ``optuna.load_study(...).optimize(objective, n_trials=N // k)`` with ``RandomSampler``;
- Optuna, journal: the same on ``JournalStorage(JournalFileBackend(path))``;
- with ``--postgres URL`` (a server where the URL's user may create databases; e.g. the one
  ``scripts/postgres-server start`` prints), ``tuneful-postgres`` and ``optuna-postgres``:
  the same on a database created for the run and dropped after it (tuneful through psycopg 3,
  Optuna's ``RDBStorage`` through SQLAlchemy with the same driver).

Throughput is N / wall time, measured from just before the first process starts to just
after the last one is joined (process start-up included; study creation not). Afterwards
each storage is read back: it must hold exactly N finished trials numbered 0..N-1, and a
WARNING line is printed otherwise. An exception raised inside an Optuna worker (SQLite's
"database is locked", typically) is counted and the worker resumes with its remaining
trials, up to a bound, instead of bringing the benchmark down.

Usage::

    python benchmarks/parallel.py                       # 800 trials, 1, 4 and 8 processes
    python benchmarks/parallel.py --trials 400 --jobs 1,8 --json parallel.json
    python benchmarks/parallel.py --postgres "$(scripts/postgres-server start)" \
        --trials 2000 --jobs 8,16 --sleep 0
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from overhead import HIGH, LOW, NAMES, environment, quadratic  # noqa: E402

SLEEP_S = 0.020  # the default; --sleep changes it
#: Optuna's published throughput at 8 processes, 20 ms objective, trials per second.
OPTUNA_PUBLISHED_8 = {"sqlite": 17.5, "journal": 70.0}
#: Exceptions one Optuna worker may absorb before it gives up on its remaining trials.
MAX_WORKER_ERRORS = 50
STUDY = "parallel"
CASES = ("tuneful-sqlite", "optuna-sqlite", "optuna-journal")
POSTGRES_CASES = ("tuneful-postgres", "optuna-postgres")
ALL_CASES = CASES + POSTGRES_CASES


# -- PostgreSQL: a database per run ------------------------------------------------------------
class FreshDatabase:
    """``with FreshDatabase(server_url) as url``: a new, empty database on that server."""

    def __init__(self, server_url: str) -> None:
        import sqlalchemy as sa

        self._sa = sa
        base = sa.engine.make_url(server_url)
        if base.drivername in ("postgresql", "postgres"):
            base = base.set(drivername="postgresql+psycopg")
        self._base = base
        self.name = f"bench_{os.getpid()}_{time.monotonic_ns()}"

    def _admin(self) -> Any:
        return self._sa.create_engine(self._base, isolation_level="AUTOCOMMIT")

    def __enter__(self) -> str:
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(self._sa.text(f'CREATE DATABASE "{self.name}"'))
        engine.dispose()
        return self._base.set(database=self.name).render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        engine = self._admin()
        with engine.connect() as conn:
            conn.execute(self._sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()


# -- tuneful -----------------------------------------------------------------------------------
def tuneful_objective(trial: Any) -> float:
    if SLEEP_S:
        time.sleep(SLEEP_S)
    return quadratic(trial.params)


def run_tuneful(url: str, n_trials: int, jobs: int) -> dict[str, Any]:
    import tuneful

    space = tuneful.Space(**{name: tuneful.Float(LOW, HIGH) for name in NAMES})
    study = tuneful.create_study(STUDY, space=space, storage=url, optimizer="random", seed=0)
    errors: list[str] = []
    start = time.perf_counter()
    try:
        study.optimize(tuneful_objective, n_trials=n_trials, n_jobs=jobs, show_progress_bar=False)
    except Exception as exc:  # reported, not fatal: the check below says what was lost
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    wall = time.perf_counter() - start
    study.storage.close()

    check = tuneful.load_study(STUDY, storage=url)
    trials = check.trials
    states = Counter(t.state.value for t in trials)
    numbers = [t.number for t in trials]
    params = [tuple(t.params.get(name) for name in NAMES) for t in trials]
    check.storage.close()
    return {
        "wall_s": wall,
        "states": dict(states),
        "numbers": numbers,
        "params": params,
        "errors": errors,
    }


# -- Optuna ------------------------------------------------------------------------------------
def optuna_objective(trial: Any) -> float:
    params = {name: trial.suggest_float(name, LOW, HIGH) for name in NAMES}
    if SLEEP_S:
        time.sleep(SLEEP_S)
    return quadratic(params)


def _optuna_storage(kind: str, location: str) -> Any:
    import optuna

    if kind == "sqlite":
        return optuna.storages.RDBStorage(f"sqlite:///{location}")
    if kind == "postgres":
        return optuna.storages.RDBStorage(location)
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    return JournalStorage(JournalFileBackend(location))


def _summarize(exc: BaseException) -> str:
    """One line: the exception and, when it wraps another (a driver error), that one too."""

    def line(error: BaseException) -> str:
        text = str(error).strip().splitlines()
        return f"{type(error).__name__}: {text[0] if text else ''}"

    summary = line(exc)
    cause = exc.__cause__ or exc.__context__
    seen = 0
    while cause is not None and seen < 3:
        summary += f" <- {line(cause)}"
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return summary[:400]


def _optuna_worker(kind: str, location: str, quota: int, seed: int, results: Any) -> None:
    """One Optuna worker process: run ``quota`` trials, absorbing and counting exceptions."""
    done = 0
    errors: list[str] = []
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)

        def count(_study: Any, _trial: Any) -> None:
            nonlocal done
            done += 1

        study = None
        while study is None and len(errors) < MAX_WORKER_ERRORS:
            try:
                study = optuna.load_study(
                    study_name=STUDY,
                    storage=_optuna_storage(kind, location),
                    sampler=optuna.samplers.RandomSampler(seed=seed),
                )
            except Exception as exc:
                errors.append(_summarize(exc))
                time.sleep(0.05)
        while study is not None and done < quota and len(errors) < MAX_WORKER_ERRORS:
            try:
                study.optimize(optuna_objective, n_trials=quota - done, callbacks=[count])
            except Exception as exc:
                errors.append(_summarize(exc))
    except BaseException as exc:  # report whatever happened; never hang the parent
        errors.append(_summarize(exc) + "\n" + traceback.format_exc(limit=3))
    finally:
        results.put({"pid": os.getpid(), "done": done, "errors": errors})
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def run_optuna(kind: str, location: str, n_trials: int, jobs: int) -> dict[str, Any]:
    """``location``: the SQLite file, the journal file, or the PostgreSQL URL."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = _optuna_storage(kind, location)
    optuna.create_study(
        study_name=STUDY, storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    if kind in ("sqlite", "postgres"):
        storage.engine.dispose()  # no open connection crosses the fork
    del storage

    quotas = [n_trials // jobs + (1 if i < n_trials % jobs else 0) for i in range(jobs)]
    context = multiprocessing.get_context("fork")
    results = context.SimpleQueue()
    workers = [
        context.Process(target=_optuna_worker, args=(kind, location, quota, i, results))
        for i, quota in enumerate(quotas)
    ]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    reports = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - start

    errors = [e for report in reports for e in report["errors"]]
    check = optuna.load_study(study_name=STUDY, storage=_optuna_storage(kind, location))
    trials = check.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    numbers = [t.number for t in trials]
    params = [tuple(t.params.get(name) for name in NAMES) for t in trials]
    return {
        "wall_s": wall,
        "states": dict(states),
        "numbers": numbers,
        "params": params,
        "errors": errors,
        "exit_codes": [w.exitcode for w in workers],
    }


# -- checks and reporting ----------------------------------------------------------------------
def check(case: str, jobs: int, result: dict[str, Any], n_trials: int) -> list[str]:
    """Warning lines for anything but exactly ``n_trials`` COMPLETE trials numbered 0..N-1
    (and for configurations drawn twice, which independent random draws never repeat)."""
    warnings = []
    numbers = result.pop("numbers")
    params = [p for p in result.pop("params") if None not in p]
    result["repeated_configurations"] = len(params) - len(set(params))
    states = result["states"]
    complete = states.get("COMPLETE", 0)
    duplicates = len(numbers) - len(set(numbers))
    result["complete"] = complete
    result["total"] = len(numbers)
    result["duplicate_numbers"] = duplicates
    result["numbers_contiguous"] = sorted(set(numbers)) == list(range(len(set(numbers))))
    if complete != n_trials or len(numbers) != n_trials:
        warnings.append(
            f"WARNING {case} with {jobs} process(es): {complete} COMPLETE of {len(numbers)} "
            f"stored trials, expected exactly {n_trials} (states: {states})"
        )
    if duplicates:
        warnings.append(f"WARNING {case} with {jobs} process(es): {duplicates} duplicate numbers")
    if result["repeated_configurations"]:
        warnings.append(
            f"WARNING {case} with {jobs} process(es): "
            f"{result['repeated_configurations']} configurations drawn more than once"
        )
    if not result["numbers_contiguous"]:
        warnings.append(f"WARNING {case} with {jobs} process(es): trial numbers have gaps")
    if result["errors"]:
        kinds = Counter(e.split("\n")[0] for e in result["errors"])
        for text, count in kinds.most_common(3):
            warnings.append(f"WARNING {case} with {jobs} process(es): {count}× {text}")
    return warnings


def _rates(runs: list[dict[str, Any]] | None, n_trials: int) -> list[float]:
    return [n_trials / run["wall_s"] for run in runs or [] if run["wall_s"] > 0]


def _fmt(rates: list[float]) -> str:
    if not rates:
        return "–"
    text = f"{statistics.median(rates):.1f}"
    if len(rates) > 1:
        text += f" ({min(rates):.0f}–{max(rates):.0f})"
    return text


def _ratio(a: list[float], b: list[float]) -> str:
    if not a or not b:
        return "–"
    return f"{statistics.median(a) / statistics.median(b):.2f}×"


def markdown(
    results: dict[int, dict[str, list[dict[str, Any]]]], n_trials: int, repeat: int
) -> str:
    how = f"median (min–max) of {repeat} runs" if repeat > 1 else "one run"
    lines = [
        f"{n_trials} trials in all, objective sleeps {SLEEP_S * 1000:.0f} ms, random search; "
        f"trials per second, {how} (wall time includes process start)",
        "",
    ]
    if any(case in POSTGRES_CASES for cases in results.values() for case in cases):
        lines += _postgres_table(results, n_trials) + ["", "SQLite and the journal file:", ""]
    lines += [
        "| processes | sleep-only bound | tuneful SQLite | Optuna SQLite | Optuna journal "
        "| tuneful / Optuna SQLite | tuneful / Optuna journal "
        "| COMPLETE (tuneful / SQLite / journal) | Optuna errors (SQLite / journal) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for jobs, cases in results.items():
        if not any(case in CASES for case in cases):
            continue
        rates = {case: _rates(cases.get(case), n_trials) for case in CASES}

        def complete(case: str, cases: dict[str, list[dict[str, Any]]] = cases) -> str:
            if case not in cases:
                return "–"
            runs = cases[case]
            if all(run["complete"] == run["total"] == n_trials for run in runs):
                return str(n_trials)
            # Show every run when any of them stored more, fewer or unfinished trials.
            return (
                "["
                + "; ".join(
                    str(run["complete"])
                    + ("" if run["total"] == run["complete"] else f" of {run['total']}")
                    for run in runs
                )
                + "]"
            )

        def errors(case: str, cases: dict[str, list[dict[str, Any]]] = cases) -> str:
            if case not in cases:
                return "–"
            return str(sum(len(run["errors"]) for run in cases[case]))

        mine = rates["tuneful-sqlite"]
        bound = f"{jobs / SLEEP_S:.0f}" if SLEEP_S else "–"
        lines.append(
            f"| {jobs} | {bound} | {_fmt(mine)} | {_fmt(rates['optuna-sqlite'])} "
            f"| {_fmt(rates['optuna-journal'])} | {_ratio(mine, rates['optuna-sqlite'])} "
            f"| {_ratio(mine, rates['optuna-journal'])} "
            f"| {complete('tuneful-sqlite')} / {complete('optuna-sqlite')} / "
            f"{complete('optuna-journal')} "
            f"| {errors('optuna-sqlite')} / {errors('optuna-journal')} |"
        )
    return "\n".join(lines)


def _complete_text(runs: list[dict[str, Any]], n_trials: int) -> str:
    if all(run["complete"] == run["total"] == n_trials for run in runs):
        return str(n_trials)
    return "[" + "; ".join(f"{run['complete']} of {run['total']}" for run in runs) + "]"


def _postgres_table(
    results: dict[int, dict[str, list[dict[str, Any]]]], n_trials: int
) -> list[str]:
    lines = [
        "PostgreSQL (and, for the ratio, the best of Optuna's storages in the same run):",
        "",
        "| processes | tuneful PostgreSQL | Optuna PostgreSQL | Optuna SQLite | Optuna journal "
        "| tuneful / Optuna's best | COMPLETE (tuneful / Optuna PostgreSQL) "
        "| errors (tuneful / Optuna PostgreSQL) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for jobs, cases in results.items():
        if "tuneful-postgres" not in cases:
            continue
        rates = {case: _rates(cases.get(case), n_trials) for case in ALL_CASES}
        optuna_best = max(
            (rates[c] for c in ("optuna-postgres", "optuna-sqlite", "optuna-journal") if rates[c]),
            key=statistics.median,
            default=[],
        )

        def complete(case: str, cases: dict[str, list[dict[str, Any]]] = cases) -> str:
            return _complete_text(cases[case], n_trials) if case in cases else "–"

        def errors(case: str, cases: dict[str, list[dict[str, Any]]] = cases) -> str:
            return str(sum(len(run["errors"]) for run in cases[case])) if case in cases else "–"

        lines.append(
            f"| {jobs} | {_fmt(rates['tuneful-postgres'])} | {_fmt(rates['optuna-postgres'])} "
            f"| {_fmt(rates['optuna-sqlite'])} | {_fmt(rates['optuna-journal'])} "
            f"| {_ratio(rates['tuneful-postgres'], optuna_best)} "
            f"| {complete('tuneful-postgres')} / {complete('optuna-postgres')} "
            f"| {errors('tuneful-postgres')} / {errors('optuna-postgres')} |"
        )
    return lines


def run_case(case: str, n_trials: int, jobs: int, postgres: str | None) -> dict[str, Any]:
    """One measurement of ``case`` on fresh storage (a temporary folder or database)."""
    library, kind = case.split("-", 1)
    folder = tempfile.mkdtemp(prefix="bench-parallel-")
    try:
        if kind == "postgres":
            assert postgres is not None
            with FreshDatabase(postgres) as url:
                if library == "tuneful":
                    return run_tuneful(url, n_trials, jobs)
                return run_optuna("postgres", url, n_trials, jobs)
        if library == "tuneful":
            return run_tuneful(f"sqlite:///{folder}/tuneful.db", n_trials, jobs)
        name = "optuna.db" if kind == "sqlite" else "optuna.journal"
        return run_optuna(kind, os.path.join(folder, name), n_trials, jobs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    global SLEEP_S
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=800, help="trials in all (default 800)")
    parser.add_argument(
        "--jobs", default="1,4,8", help="comma-separated process counts (default 1,4,8)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per case; the median is reported (default 1)"
    )
    parser.add_argument("--json", metavar="PATH", help="also write every measurement here")
    parser.add_argument(
        "--only", action="append", choices=ALL_CASES, help="run only this case (may be repeated)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run the PostgreSQL cases on this server"
    )
    parser.add_argument(
        "--sleep", type=float, default=SLEEP_S, help="seconds the objective sleeps (default 0.02)"
    )
    args = parser.parse_args(argv)
    SLEEP_S = args.sleep
    if args.only and any(c in POSTGRES_CASES for c in args.only) and not args.postgres:
        parser.error("the PostgreSQL cases need --postgres URL")
    try:
        jobs_list = [int(j) for j in args.jobs.split(",") if j.strip()]
    except ValueError:
        parser.error(f"--jobs {args.jobs!r}: expected comma-separated integers")
    if args.trials < 1 or args.repeat < 1 or not jobs_list or min(jobs_list) < 1:
        parser.error("--trials, --repeat and every --jobs entry must be positive")
    if len(set(jobs_list)) != len(jobs_list):
        parser.error(f"--jobs {args.jobs!r}: a process count appears twice (use --repeat)")
    if "fork" not in multiprocessing.get_all_start_methods():
        parser.error("this benchmark needs the 'fork' start method (Linux or macOS)")

    cases = args.only or list(CASES) + (list(POSTGRES_CASES) if args.postgres else [])
    env = environment()
    print(
        f"# {env['date']} · {env['cpus']} CPUs ({env['cpu_model']}) · Python {env['python']} · "
        f"tuneful {env['tuneful']} ({env['tuneful_commit'] or env['tuneful_source']}) · "
        f"optuna {env['optuna']}",
        file=sys.stderr,
    )
    results: dict[int, dict[str, list[dict[str, Any]]]] = {
        jobs: {case: [] for case in cases} for jobs in jobs_list
    }
    warnings: list[str] = []
    round_index = 0
    for r in range(args.repeat):
        for jobs in jobs_list:
            # Alternate the order of the libraries from one round to the next.
            order = cases if round_index % 2 == 0 else cases[::-1]
            round_index += 1
            for case in order:
                result = run_case(case, args.trials, jobs, args.postgres)
                found = check(case, jobs, result, args.trials)
                warnings.extend(found)
                results[jobs][case].append(result)
                print(
                    f"  repeat {r + 1}/{args.repeat} {jobs} process(es) {case:15s} "
                    f"{args.trials / result['wall_s']:7.1f} trials/s "
                    f"({result['wall_s']:6.2f} s; states {result['states']}; "
                    f"{len(result['errors'])} error(s))",
                    file=sys.stderr,
                    flush=True,
                )
                for line in found:
                    print("  " + line, file=sys.stderr, flush=True)

    print(markdown(results, args.trials, args.repeat))
    for line in warnings:
        print(line)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "benchmark": "parallel",
                    "environment": env,
                    "trials": args.trials,
                    "repeat": args.repeat,
                    "sleep_s": SLEEP_S,
                    "optuna_published_8_processes": OPTUNA_PUBLISHED_8,
                    "results": {str(k): v for k, v in results.items()},
                    "warnings": warnings,
                },
                handle,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
