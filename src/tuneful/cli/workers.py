"""``tuneful worker STUDY`` (join a study from any machine) and ``tuneful db`` (the storage).

A worker needs nothing but the study's storage: it loads the study (its space, optimizer and
scheduler are stored with it), takes its objective from the spec that ``tuneful run`` stored
there (or from ``--objective MODULE:FUNCTION``), and runs trials until the study holds its
goal of trials, the goal being checked in the same transaction that creates each trial, so
any number of workers stop together at exactly that many. Crashed workers' trials are failed
(and retried, when the study retries) by whichever worker notices their heartbeat stopped.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tuneful.cli.output import (
    display_storage,
    plural,
    resolve_storage,
    shown,
    state_counts,
    stderr,
)
from tuneful.cli.run import RUN_ATTR
from tuneful.cli.studies import open_study
from tuneful.errors import SpecError, StudyError
from tuneful.records import TrialState
from tuneful.spec import parse_spec
from tuneful.storage import upgrade_storage
from tuneful.study import Study

__all__ = ["worker_command", "db_group"]

_INTERRUPTED = 130


def _import_objective(target: str) -> Callable[..., Any]:
    """``package.module:function`` -> the function (the working directory is importable)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SpecError(f"--objective {target!r}: expected MODULE:FUNCTION, e.g. train:objective")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SpecError(f"--objective {target!r}: cannot import {module_name!r}: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise SpecError(
            f"--objective {target!r}: module {module_name!r} has no function {attribute!r}"
        )
    return function


def _stored_run(study: Study, base_dir: Path | None) -> tuple[Callable[..., Any], dict[str, Any]]:
    """The objective and goal ``tuneful run`` stored with the study."""
    run = study.user_attrs.get(RUN_ATTR)
    if not isinstance(run, dict) or not isinstance(run.get("spec"), dict):
        raise SpecError(
            f"study {study.name!r} was not started by `tuneful run` (it stores no spec): give "
            "the objective as --objective MODULE:FUNCTION"
        )
    stored_base = Path(run.get("base") or ".")
    base = base_dir if base_dir is not None else stored_base if stored_base.is_dir() else Path.cwd()
    # The worker's storage is its own (--storage or $TUNEFUL_STORAGE): the stored spec's
    # storage has no password, and may name a file on another machine.
    data = {key: value for key, value in run["spec"].items() if key != "storage"}
    try:
        spec = parse_spec(data, base=base.resolve())
    except SpecError as exc:
        raise SpecError(f"the spec stored with study {study.name!r}: {exc}") from None
    return spec.objective, run


@click.command("worker")
@click.argument("study_name", metavar="STUDY")
@click.option("--storage", metavar="URL", help="Storage URL (default: $TUNEFUL_STORAGE).")
@click.option(
    "--objective",
    metavar="MODULE:FUNCTION",
    help="A Python objective to run (default: the command of the study's stored spec).",
)
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    help="Stop when the study holds this many trials (default: the n_trials it was run with).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds after which this worker starts no new trial.",
)
@click.option("--n-jobs", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--base-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder the spec's relative paths start at (default: the spec's folder when it "
    "exists on this machine, else the working directory).",
)
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar.")
@click.option(
    "--no-fail-fast",
    is_flag=True,
    help="Run on even when the first 5 trials all fail with the same error.",
)
@click.pass_context
def worker_command(
    ctx: click.Context,
    study_name: str,
    storage: str | None,
    objective: str | None,
    max_trials: int | None,
    timeout: float | None,
    n_jobs: int,
    base_dir: Path | None,
    no_progress: bool,
    no_fail_fast: bool,
) -> None:
    """Join STUDY and run its trials until it holds its goal of trials.

    Start any number of workers, on any machines that reach the storage (PostgreSQL for
    several machines): they share the study through the database alone.
    """
    study = open_study(study_name, storage)
    if objective is not None:
        function = _import_objective(objective)
        run: dict[str, Any] = dict(study.user_attrs.get(RUN_ATTR) or {})
    else:
        function, run = _stored_run(study, base_dir)
    goal = max_trials if max_trials is not None else run.get("n_trials")
    budget = timeout if timeout is not None else run.get("timeout")
    if goal is None and budget is None:
        raise StudyError(
            f"study {study_name!r} has no goal of trials: give --max-trials N or --timeout S"
        )
    before = len(study.trials)
    where = display_storage(study.storage_url)
    goal_text = "until the timeout" if goal is None else f"until it holds {plural(goal, 'trial')}"
    stderr.print(
        f"Worker joins study [bold]{shown(study.name)}[/] in {shown(where)} "
        f"({plural(before, 'trial')} so far), {goal_text}, {plural(n_jobs, 'job')} at a time"
    )
    ran = 0

    def count(_study: Study, _record: Any) -> None:
        nonlocal ran
        ran += 1

    try:
        study.optimize(
            function,
            max_trials=goal,
            timeout=budget,
            n_jobs=n_jobs,
            callbacks=[count],
            show_progress_bar=False if no_progress else None,
            fail_fast=not no_fail_fast,
        )
    except KeyboardInterrupt:
        stderr.print(f"Interrupted after {plural(ran, 'trial')}; the study is saved.")
        ctx.exit(_INTERRUPTED)
    trials = study.trials
    stderr.print(
        f"Worker done: ran {plural(ran, 'trial')}; study {shown(study.name)} holds "
        f"{plural(len(trials), 'trial')} ({state_counts(trials)})"
    )
    if not any(t.state is TrialState.COMPLETE for t in trials):
        ctx.exit(1)


@click.group("db")
def db_group() -> None:
    """The storage itself: its schema version and upgrades."""


@db_group.command("upgrade")
@click.option("--storage", metavar="URL", help="Storage URL (default: $TUNEFUL_STORAGE).")
def db_upgrade_command(storage: str | None) -> None:
    """Bring the storage's tables to this release's schema (safe to run again).

    Stop the workers of older releases first.
    """
    url = resolve_storage(storage)
    found, now = upgrade_storage(url)
    where = display_storage(url)
    if found == now:
        click.echo(f"{where}: schema version {now}, already current")
    else:
        click.echo(f"{where}: schema version {found} -> {now}")
