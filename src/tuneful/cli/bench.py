"""``tuneful bench``: run optimizers on benchmark tasks, report, select task subsets."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tuneful.cli.output import (
    display_storage,
    resolve_storage,
    shown,
    sqlite_file,
    stderr,
    stdout,
    write_output,
)
from tuneful.errors import SpecError, StudyNotFoundError
from tuneful.storage import Storage
from tuneful.storage.urls import MASK, has_password

__all__ = ["bench_group"]

DEFAULT_BENCH_STORAGE = "sqlite:///tuneful-bench.db"

_storage = click.option(
    "--storage",
    metavar="URL",
    default=DEFAULT_BENCH_STORAGE,
    show_default=True,
    help="Where the benchmark's studies live.",
)
_name = click.option(
    "--name", default="bench", show_default=True, help="The benchmark's name (study prefix)."
)


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _read_storage(storage: str, name: str) -> Storage:
    """The benchmark's storage opened to read (an SQLite file that is not there is an error,
    not a new empty database)."""
    from tuneful.cli.studies import open_for_reading

    url = resolve_storage(storage)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StudyNotFoundError(
            f"no benchmark named {name!r}: {path} does not exist (pass --storage URL)"
        )
    return open_for_reading(url)


@click.group("bench")
def bench_group() -> None:
    """Benchmark optimizers on BBOB, YAHPO Gym, Step Law and scikit-learn tasks."""


@bench_group.command("run")
@click.option("--suite", help="A named suite (see `tuneful bench suites`) or a YAML file.")
@click.option("--tasks", help="Comma-separated task ids (instead of or besides --suite).")
@click.option(
    "--optimizers",
    required=True,
    help="Comma-separated: tuneful optimizers (auto, random, sobol, ...) and peers "
    "(optuna-tpe, smac-hpo, hyperopt, ...).",
)
@click.option("--seeds", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--budget", default="20+40sqrt(d)", show_default=True, help="Evaluations per run.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--data-dir", type=click.Path(file_okay=False), help="Benchmark data folder.")
@click.option("--no-progress", is_flag=True, help="Do not draw the progress bar.")
@click.option(
    "--multi-fidelity",
    is_flag=True,
    help="Budget in full-fidelity evaluations' worth of cost; labels such as auto+asha "
    "(optimizer+scheduler) and multi-fidelity peers (optuna-tpe-hyperband, smac-mf, dehb).",
)
@_storage
@_name
def run_command(
    suite: str | None,
    tasks: str | None,
    optimizers: str,
    seeds: int,
    budget: str,
    jobs: int,
    data_dir: str | None,
    no_progress: bool,
    multi_fidelity: bool,
    storage: str,
    name: str,
) -> None:
    """Run every optimizer on every task with each seed; resumes an interrupted run."""
    from tuneful.bench import Benchmark, load_suite

    task_ids = (load_suite(suite) if suite else []) + _split(tasks)
    if not task_ids:
        raise SpecError("bench run: name the tasks with --suite or --tasks")
    bench = Benchmark(
        name,
        tasks=task_ids,
        optimizers=_split(optimizers),
        seeds=seeds,
        budget=budget,
        storage=storage,
        data_dir=data_dir,
        multi_fidelity=multi_fidelity,
    )
    for label, reason in bench.availability().items():
        if reason is not None:
            stderr.print(f"[yellow]unavailable[/]: {shown(label)}: {shown(reason)}")
    cells = bench.cells()
    stderr.print(
        f"Benchmark {shown(repr(name))}: {len(task_ids)} tasks x "
        f"{len(bench.optimizers)} optimizers x {len(bench.seeds)} seeds = {len(cells)} runs, "
        f"budget {shown(budget)}, "
        f"in {shown(display_storage(storage))}"
    )
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=stderr,
        disable=no_progress,
    )
    with progress:
        bar = progress.add_task("runs", total=len(cells), last="")

        def advance(cell: object, status: str) -> None:
            progress.update(bar, advance=1, last=shown(f"{status}: {cell}"))

        outcome = bench.run(jobs=jobs, on_cell=advance)
    stdout.print(
        f"ran {len(outcome.ran)}, already done {len(outcome.skipped)}, failed "
        f"{len(outcome.failed)}, unavailable optimizers {len(outcome.unavailable)}"
    )
    for cell, reason in outcome.failed.items():
        what = f"{cell.optimizer} {cell.task} seed {cell.seed}: {reason}"
        stderr.print(f"[red]failed[/]: {shown(what)}")
    note = f"   (write the password in place of {MASK})" if has_password(storage) else ""
    command = (
        f"tuneful bench report --name {shlex.quote(name)} "
        f"--storage {shlex.quote(display_storage(storage))} --out DIR{note}"
    )
    stdout.print(f"Report: {shown(command)}")
    if outcome.failed:
        raise SystemExit(1)


@bench_group.command("report")
@click.option("--out", "folder", required=True, type=click.Path(file_okay=False))
@click.option("--baseline", help="Optimizer to compare every other one against (win/tie/loss).")
@click.option("--title", default=None)
@click.option("--no-plots", is_flag=True, help="Write the Markdown only.")
@click.option("--optimizers", help="Report only these optimizers (comma-separated).")
@click.option(
    "--cost-budgets",
    "--budgets",
    "cost_budgets",
    help="Comma-separated budgets at which to rank the optimizers, read from the same runs: "
    "evaluations for a black-box benchmark (e.g. 50,100,300), full-fidelity evaluations' "
    "worth of cost for a multi-fidelity one.",
)
@click.option(
    "--speedup-baseline",
    help="Optimizer whose final regret the others' speed-up is measured against.",
)
@click.option("--log-cost", is_flag=True, help="Draw incumbent curves on a log cost axis.")
@_storage
@_name
def report_command(
    folder: str,
    baseline: str | None,
    title: str | None,
    no_plots: bool,
    optimizers: str | None,
    cost_budgets: str | None,
    speedup_baseline: str | None,
    log_cost: bool,
    storage: str,
    name: str,
) -> None:
    """Write report.md (ranks, Friedman/Nemenyi, per-task tables) and PNG plots."""
    from tuneful.bench import load_runs
    from tuneful.bench.report import write_report

    runs = load_runs(_read_storage(storage, name), name)
    if optimizers:
        wanted = _split(optimizers)
        missing = sorted(set(wanted) - {r.optimizer for r in runs})
        if missing:
            raise SpecError(
                f"bench report --optimizers: no runs of {', '.join(missing)} in benchmark {name!r}"
            )
        runs = [r for r in runs if r.optimizer in wanted]
    path = write_report(
        runs,
        folder,
        baseline=baseline,
        title=title or f"Benchmark {name}",
        plots=False if no_plots else None,
        cost_budgets=_costs(cost_budgets),
        speedup_baseline=speedup_baseline,
        log_cost=log_cost,
    )
    stdout.print(f"Wrote {shown(path)} ({len(runs)} runs)")


def _costs(text: str | None) -> list[float] | None:
    if not text:
        return None
    costs = []
    for item in _split(text):
        try:
            value = float(item)
        except ValueError:
            value = float("nan")
        if not value > 0:
            raise SpecError(f"--cost-budgets: {item!r} is not a positive number")
        costs.append(value)
    return costs


@bench_group.command("subset")
@click.option(
    "--optimizers",
    required=True,
    help="The behaviourally different optimizers whose results place each task.",
)
@click.option("--dev", "m_dev", required=True, type=click.IntRange(min=1))
@click.option("--test", "m_test", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--seed", default=0, show_default=True)
@click.option("--out-dev", type=click.Path(dir_okay=False), help="Write the dev suite (YAML).")
@click.option("--out-test", type=click.Path(dir_okay=False), help="Write the test suite (YAML).")
@click.option("--force", is_flag=True, help="Replace --out-dev / --out-test files that exist.")
@_storage
@_name
def subset_command(
    optimizers: str,
    m_dev: int,
    m_test: int,
    seed: int,
    out_dev: str | None,
    out_test: str | None,
    force: bool,
    storage: str,
    name: str,
) -> None:
    """Pick a dev subset of the benchmark's tasks (minimal star discrepancy), then a
    disjoint test subset."""
    from tuneful.bench import load_runs
    from tuneful.bench.subset import dev_test_split, select_subset, star_discrepancy, task_points

    tasks, points = task_points(load_runs(_read_storage(storage, name), name), _split(optimizers))
    if m_dev + m_test > len(tasks):
        raise SpecError(
            f"subset --dev {m_dev} --test {m_test}: the benchmark has only {len(tasks)} tasks"
        )
    if m_test:
        dev, test = dev_test_split(points, m_dev, m_test, seed=seed)
    else:
        dev, test = select_subset(points, m_dev, seed=seed), []
    for label, chosen, out in (("dev", dev, out_dev), ("test", test, out_test)):
        if not chosen:
            continue
        ids = [tasks[i] for i in chosen]
        discrepancy = star_discrepancy(points[chosen])
        stdout.print(f"{label} ({len(ids)} tasks, star discrepancy {discrepancy:.4f}):")
        for task_id in ids:
            stdout.print(f"  {shown(task_id)}")
        if out:
            document = {
                "description": f"{label} subset of benchmark {name} (seed {seed})",
                "tasks": ids,
            }
            text = yaml.safe_dump(document, sort_keys=False)
            write_output(Path(out), text, storage_url=resolve_storage(storage), force=force)


@bench_group.command("suites")
@click.argument("suite", required=False)
def suites_command(suite: str | None) -> None:
    """List the named suites, or the task ids of one suite."""
    from tuneful.bench import list_suites, load_suite

    if suite:
        for task_id in load_suite(suite):
            stdout.print(shown(task_id))
        return
    table = Table("suite", "tasks", "description")
    for name, description in list_suites().items():
        table.add_row(shown(name), str(len(load_suite(name))), shown(description))
    stdout.print(table)


@bench_group.command("optimizers")
def optimizers_command() -> None:
    """The optimizers a benchmark can name, and whether each can run here."""
    from tuneful.bench.adapters import MultiObjectiveAdapter, get_adapter, peer_adapters
    from tuneful.optimizers import available_optimizers, make_optimizer

    table = Table("name", "kind", "objectives", "status")
    for name in available_optimizers():
        if name != "external":
            several = type(make_optimizer(name, seed=0)).capabilities.multi_objective
            table.add_row(name, "tuneful", "several" if several else "one", "ok")
    for name in peer_adapters():
        adapter = get_adapter(name)
        reason = adapter.unavailable_reason()
        status = "ok" if reason is None else f"unavailable: {reason}"
        several = isinstance(adapter, MultiObjectiveAdapter)
        table.add_row(shown(name), "peer", "several" if several else "one", shown(status))
    stdout.print(table)
