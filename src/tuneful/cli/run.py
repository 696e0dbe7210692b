"""``tuneful run SPEC`` (tune a program described by a YAML spec) and ``tuneful demo``."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tuneful import create_study, load_study
from tuneful.cli.output import (
    display_storage,
    error_summary,
    format_number,
    format_param,
    look_commands,
    plural,
    resolve_storage,
    shown,
    state_counts,
    stderr,
    stdout,
)
from tuneful.errors import SpecError, StudyNotFoundError
from tuneful.execution.command import CommandObjective
from tuneful.execution.dask import DaskExecutor
from tuneful.optimizers import make_optimizer
from tuneful.records import TrialRecord, TrialState
from tuneful.schedulers import make_scheduler
from tuneful.spec import RunSpec, load_spec
from tuneful.storage.urls import strip_password
from tuneful.study import Study, no_feasible_message

__all__ = ["run_command", "demo_command", "RUN_ATTR", "stored_run"]

_INTERRUPTED = 130

#: The study attribute where ``tuneful run`` leaves its spec and goal for ``tuneful worker``.
RUN_ATTR = "tuneful.run"


class MetricNeverPrintedError(SpecError):
    """The program runs but never prints the spec's metric: the spec is wrong, stop early."""


class _StopWhenMetricMissing:
    """A callback that stops the run when a trial's program exited 0 without printing the
    metric and no trial of the study has completed yet (so the spec's metric is wrong)."""

    def __init__(self, objective: CommandObjective) -> None:
        self._objective = objective

    def __call__(self, study: Study, record: TrialRecord) -> None:
        if record.state is not TrialState.FAIL:
            return
        reason = self._objective.metric_missing(record.number)
        if reason is None or any(t.state is TrialState.COMPLETE for t in study.trials):
            return
        key = "constraints" if "never printed the constraint" in reason else "metric"
        raise MetricNeverPrintedError(
            f"trial {record.number}: {reason}; check `{key}` in the spec (the run stopped; the "
            "trial is recorded as failed)"
        )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    names = [n for n in dict.fromkeys([*old, *new]) if old.get(n) != new.get(n)]
    return ", ".join(names)


def _open_study(spec: RunSpec, url: str, seed: int | None) -> tuple[Study, bool]:
    """The spec's study: created, or loaded when it exists and matches the spec."""
    try:
        study = load_study(spec.name, storage=url)
    except StudyNotFoundError:
        study = None
    if study is None:
        created = create_study(
            spec.name,
            space=spec.space,
            directions=spec.directions,
            storage=url,
            optimizer=spec.optimizer,
            scheduler=spec.scheduler,
            seed=seed,
            retries=spec.retries,
            load_if_exists=True,  # another process may create it at the same moment
        )
        return created, True
    where = f"study {spec.name!r} already exists in {display_storage(url)}"
    fix = f"use another name, or delete it first (tuneful delete {shlex.quote(spec.name)})"
    if study.space is None or study.space != spec.space:
        stored = {} if study.space is None else study.space.to_dict()
        changed = _differences(stored, spec.space.to_dict())
        raise SpecError(f"{where} with a different space (differs in: {changed}); {fix}")
    if study.directions != spec.directions:
        raise SpecError(
            f"{where} with directions {list(study.directions)}, not {list(spec.directions)}; {fix}"
        )
    if seed is not None and seed != study.seed:
        raise SpecError(f"{where} with seed {study.seed}, not {seed}; drop the seed or {fix}")
    if spec.optimizer is not None:
        optimizer = make_optimizer(spec.optimizer, seed=study.seed)
        stored_optimizer = study.settings.get("optimizer")
        if not optimizer.same_as(stored_optimizer):  # a version change only warns
            wanted = optimizer.describe()
            raise SpecError(
                f"{where} with optimizer {stored_optimizer}, not {wanted}; drop `optimizer` "
                f"or {fix}"
            )
    if spec.scheduler is not None:
        scheduler = make_scheduler(spec.scheduler)
        stored_scheduler = study.settings.get("scheduler")
        if not scheduler.same_as(stored_scheduler):
            wanted = scheduler.describe()
            raise SpecError(
                f"{where} with scheduler {stored_scheduler}, not {wanted}; drop `scheduler` "
                f"or {fix}"
            )
    return study, False


def stored_run(
    data: Mapping[str, Any], base: Path, total: int | None, budget: float | None
) -> dict[str, Any]:
    """What ``tuneful run`` keeps in the study's ``tuneful.run`` attribute: the spec as read
    (its storage URL without a password: anyone who can read the study can read this), the
    folder its relative paths start at, and the goal."""
    spec = dict(data)
    if isinstance(spec.get("storage"), str):
        spec["storage"] = strip_password(spec["storage"])
    return {"spec": spec, "base": str(base), "n_trials": total, "timeout": budget}


def _remember_run(study: Study, spec: RunSpec, total: int | None, budget: float | None) -> None:
    """Store the spec and the goal in the study, so ``tuneful worker`` can join it."""
    if spec.data is None:
        return
    run = stored_run(spec.data, spec.path.resolve().parent, total, budget)
    if study.user_attrs.get(RUN_ATTR) != run:
        try:
            study.set_user_attr(RUN_ATTR, run)
        except (TypeError, ValueError) as exc:  # a YAML value JSON cannot hold
            raise SpecError(f"the spec cannot be stored with the study: {exc}") from None


def _dask_executor(address: str | None, resources: str | None) -> DaskExecutor | None:
    """``--dask`` and ``--dask-resources`` as an executor (None without ``--dask``)."""
    if address is None:
        if resources is not None:
            raise SpecError("--dask-resources needs --dask ADDRESS")
        return None
    amounts: dict[str, float] = {}
    for item in (resources or "").split(","):
        if not item.strip():
            continue
        name, _, amount = item.partition("=")
        try:
            amounts[name.strip()] = float(amount)
        except ValueError:
            raise SpecError(
                f"--dask-resources {resources!r}: expected NAME=AMOUNT,... such as GPU=1"
            ) from None
    return DaskExecutor(address, resources=amounts)


def _print_summary(study: Study, spec: RunSpec) -> bool:
    """The end-of-run report on stdout; whether any trial of the study has completed."""
    trials = study.trials
    stdout.print()
    stdout.print(
        f"[bold]Study {shown(study.name)}[/]: {plural(len(trials), 'trial')} "
        f"({state_counts(trials)})"
    )
    completed = [t for t in trials if t.state is TrialState.COMPLETE]
    feasible = [t for t in completed if t.feasible]
    if completed and spec.constraint_names:
        stdout.print(
            f"Feasible ({shown(', '.join(spec.constraint_names))} <= 0): {len(feasible)} of "
            f"{plural(len(completed), 'completed trial')}"
        )
    if completed and not feasible:
        stdout.print(f"[yellow]{shown(no_feasible_message(study.name, completed))}[/]")
    elif completed:
        metrics = spec.metric_names
        if len(study.directions) == 1:
            best = study.best_trial
            stdout.print(
                f"Best {shown(metrics[0])}: [bold]{format_number(best.value)}[/] "
                f"(trial {best.number}, {study.direction})"
            )
            table = Table(show_header=False, box=None, padding=(0, 2, 0, 2))
            for key, value in best.params.items():
                table.add_row(shown(key), shown(format_param(value)))
            for key, value in zip(spec.constraint_names, best.constraints or (), strict=False):
                table.add_row(shown(f"{key} (constraint)"), format_number(value))
            stdout.print(table)
        else:
            front = study.best_trials
            heading = ", ".join(
                f"{m} ({d})" for m, d in zip(metrics, study.directions, strict=True)
            )
            stdout.print(f"Pareto front of {shown(heading)}: {len(front)} trial(s)")
            for trial in front[:5]:
                values = ", ".join(format_number(v) for v in trial.values or ())
                params = " ".join(f"{k}={format_param(v)}" for k, v in trial.params.items())
                stdout.print(f"  trial {trial.number}: {values}  {shown(params)}")
    failed = [t for t in trials if t.state is TrialState.FAIL]
    if failed:
        last = failed[-1]
        stdout.print(f"Last failure (trial {last.number}): {shown(error_summary(last.error))}")
    stdout.print(f"Stored in {shown(display_storage(study.storage_url))}. Look at it with:")
    for command in look_commands(study.name, study.storage.url):
        stdout.print(f"  {shown(command)}")
    return bool(completed)


@click.command("run")
@click.argument("spec_file", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--storage", metavar="URL", help="Storage URL (overrides the spec's).")
@click.option(
    "--n-trials",
    type=click.IntRange(min=1),
    help="Number of trials the study should reach (overrides the spec's n_trials).",
)
@click.option("--n-jobs", type=click.IntRange(min=1), help="Trials run at once.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds after which no new trial starts.",
)
@click.option("--seed", type=int, help="Seed of a new study.")
@click.option(
    "--dask",
    "dask_address",
    metavar="ADDRESS",
    help="Run the trials as tasks on this Dask scheduler (tcp://host:8786).",
)
@click.option(
    "--dask-resources",
    metavar="NAME=AMOUNT,...",
    help="Dask worker resources each trial needs, e.g. GPU=1.",
)
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar.")
@click.option(
    "--no-fail-fast",
    is_flag=True,
    help="Run on even when the first 5 trials all fail with the same error.",
)
@click.pass_context
def run_command(
    ctx: click.Context,
    spec_file: Path,
    storage: str | None,
    n_trials: int | None,
    n_jobs: int | None,
    timeout: float | None,
    seed: int | None,
    dask_address: str | None,
    dask_resources: str | None,
    no_progress: bool,
    no_fail_fast: bool,
) -> None:
    """Tune the program described by the YAML file SPEC.

    Each trial runs the spec's command with parameters filled in and reads the metric from
    its output. An existing study of the spec's name is continued until it has n_trials
    trials. Exits 1 when no trial of the study has completed.
    """
    try:
        spec = load_spec(spec_file)
        if spec.storage is not None and storage is not None:
            resolve_storage(spec.storage)  # its password is masked in messages too
        url = resolve_storage(storage if storage is not None else spec.storage)
        total = n_trials if n_trials is not None else spec.n_trials
        jobs = n_jobs if n_jobs is not None else spec.n_jobs
        budget = timeout if timeout is not None else spec.timeout
        if total is None and budget is None:
            raise SpecError(
                "give n_trials or timeout (in the spec, or as --n-trials / --timeout) so the "
                "run knows when to stop"
            )
        study, created = _open_study(spec, url, seed if seed is not None else spec.seed)
    except SpecError as exc:
        raise SpecError(f"{spec_file}: {exc}") from None
    executor = _dask_executor(dask_address, dask_resources)
    _remember_run(study, spec, total, budget)
    started = sum(1 for t in study.trials if t.state is not TrialState.WAITING)
    remaining = None if total is None else max(0, total - started)
    where = display_storage(study.storage_url)
    _announce(study, spec, created, started, where)
    if remaining == 0:
        stderr.print(
            f"The study already has {plural(started, 'trial')} (n_trials={total}): nothing to "
            "run; raise --n-trials to run more."
        )
    else:
        plan = "until the timeout" if remaining is None else plural(remaining, "trial")
        if executor is not None:
            stderr.print(f"Running {plan} on the Dask cluster at {shown(str(dask_address))}")
            jobs = 1
        else:
            stderr.print(f"Running {plan}, {plural(jobs, 'job')} at a time")
        try:
            study.optimize(
                spec.objective,
                n_trials=remaining,
                max_trials=total,  # exact when `tuneful worker`s run the study too
                timeout=budget,
                n_jobs=jobs,
                executor=executor,
                callbacks=[_StopWhenMetricMissing(spec.objective)],
                show_progress_bar=False if no_progress else None,
                fail_fast=not no_fail_fast,
            )
        except MetricNeverPrintedError as exc:
            raise SpecError(f"{spec_file}: {exc}") from None
        except KeyboardInterrupt:
            stderr.print(
                f"Interrupted. The study is saved in {shown(where)}; run the same command "
                "again to continue it."
            )
            ctx.exit(_INTERRUPTED)
    if not _print_summary(study, spec):
        ctx.exit(1)


def _announce(study: Study, spec: RunSpec, created: bool, started: int, where: str) -> None:
    """Say which study runs where, and warn of conditional parameters outside a group."""
    goal = ", ".join(f"{d} {m}" for d, m in zip(study.directions, spec.metric_names, strict=True))
    if created:
        stderr.print(f"Study [bold]{shown(study.name)}[/] in {shown(where)} ({shown(goal)})")
    else:
        stderr.print(
            f"Continuing study [bold]{shown(study.name)}[/] in {shown(where)} "
            f"({plural(started, 'trial')} so far; {shown(goal)})"
        )
    for name in spec.objective.conditional_outside_groups:
        stderr.print(
            f"[yellow]warning:[/] {shown(repr(name))} is conditional but used outside a [...] "
            "group in the command: trials where it is inactive will fail"
        )


@click.command("demo")
@click.option("--storage", metavar="URL", help="Storage URL (default ./tuneful.db).")
@click.option(
    "--n-trials",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Trials to run (added to the study when it exists).",
)
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar.")
@click.pass_context
def demo_command(ctx: click.Context, storage: str | None, n_trials: int, no_progress: bool) -> None:
    """Tune a support-vector classifier on scikit-learn's digits (a real study, ~10 s).

    The best configuration found by 3-fold cross-validation on the training split is then
    scored once on the held-out test split. The study is kept, so running the demo again
    continues it.
    """
    from tuneful.demo import STUDY_NAME, run_demo

    url = resolve_storage(storage)
    stderr.print(
        f"Tuning an SVC on the digits data set: {n_trials} trials, 3-fold cross-validation, "
        f"study {STUDY_NAME!r} in {shown(display_storage(url))}"
    )
    try:
        result = run_demo(storage=url, n_trials=n_trials, show_progress_bar=not no_progress)
    except KeyboardInterrupt:
        stderr.print("Interrupted. The study is saved; run the demo again to continue it.")
        ctx.exit(_INTERRUPTED)
    study = result.study
    params = "  ".join(f"{k}={format_param(v)}" for k, v in result.best_params.items())
    stdout.print()
    stdout.print(
        f"[bold]Study {shown(study.name)}[/]: {plural(len(study.trials), 'trial')} "
        f"({state_counts(study.trials)})"
    )
    stdout.print(
        f"Best cross-validation accuracy: [bold]{result.best_cv_accuracy:.4f}[/] "
        f"(trial {result.best_number}, on {result.n_train} training images)"
    )
    stdout.print(f"Best params: {shown(params)}")
    stdout.print(
        f"Test accuracy of that configuration: [bold]{result.test_accuracy:.4f}[/] "
        f"(on {result.n_test} held-out images, used once)"
    )
    stdout.print(f"Stored in {shown(display_storage(study.storage_url))}. Look at it with:")
    for command in look_commands(study.name, study.storage.url):
        stdout.print(f"  {shown(command)}")
