"""Commands that read or remove stored studies: ``ls``, ``show``, ``export``, ``delete``;
the sparkline and bars ``show`` and ``importance`` draw in the terminal."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import math
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tuneful import delete_study, list_studies, load_study
from tuneful.analysis.importance import importance
from tuneful.analysis.trials import StudyData
from tuneful.cli.output import (
    display_storage,
    error_summary,
    format_number,
    format_param,
    format_seconds,
    format_time,
    printable,
    resolve_storage,
    shown,
    sqlite_file,
    state_counts,
    stderr,
    stdout,
    write_output,
)
from tuneful.errors import StudyError, StudyNotFoundError, TunefulError, did_you_mean
from tuneful.records import TrialRecord, TrialState
from tuneful.storage import Storage, open_storage
from tuneful.study import Study, no_feasible_message

__all__ = [
    "ls_command",
    "show_command",
    "export_command",
    "delete_command",
    "open_study",
    "sparkline",
    "share_bar",
]

_storage_option = click.option(
    "--storage",
    metavar="URL",
    help="Storage URL (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)


def open_for_reading(url: str) -> Storage:
    """The storage opened only to read: an SQLite file in read-only mode, so that looking
    at a storage never creates tables, never changes the file's journal mode and works in a
    folder one may not write to."""
    return open_storage(url, read_only=True)


def open_study(name: str, storage: str | None, *, read_only: bool = False) -> Study:
    """Load a study, with a helpful message when it is not there; ``read_only`` for the
    commands that only look."""
    url = resolve_storage(storage)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StudyNotFoundError(
            f"no study named {name!r}: {path} does not exist (pass --storage URL, or set "
            "TUNEFUL_STORAGE)"
        )
    backend: str | Storage = open_for_reading(url) if read_only else url
    try:
        return load_study(name, storage=backend)
    except StudyNotFoundError:
        names = [s.name for s in list_studies(storage=backend)]
        hint = did_you_mean(name, names)
        known = f" (studies there: {', '.join(names)})" if names and len(names) <= 10 else ""
        raise StudyNotFoundError(
            f"no study named {name!r} in {display_storage(url)}{hint}{known}"
        ) from None


def _direction_text(directions: tuple[str, ...]) -> str:
    return ", ".join(directions)


_LS_COLUMNS = (
    "name",
    "directions",
    "trials",
    "complete",
    "pruned",
    "fail",
    "running",
    "waiting",
    "best",
    "created",
)
_LS_COUNTED = ("COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING")


@click.command("ls")
@_storage_option
def ls_command(storage: str | None) -> None:
    """List the studies in a storage, with their trials by state (running ones included)."""
    url = resolve_storage(storage)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        stdout.print(f"No studies: {shown(path)} does not exist.")
        return
    summaries = list_studies(storage=open_for_reading(url))
    if not summaries:
        stdout.print(f"No studies in {shown(display_storage(url))}.")
        return
    table = Table(title=f"Studies in {shown(display_storage(url))}", title_justify="left")
    for column in _LS_COLUMNS:
        justify = "left" if column in ("name", "directions", "created") else "right"
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for summary in summaries:
        counts = summary.counts
        best = (
            ", ".join(format_number(v) for v in summary.best_values) if summary.best_values else "-"
        )
        table.add_row(
            shown(summary.name),
            shown(_direction_text(summary.directions)),
            str(summary.n_trials),
            *(str(counts.get(state, 0)) for state in _LS_COUNTED),
            best,
            format_time(summary.created_at),
        )
    stdout.print(table)


def _best(study: Study, top: int) -> tuple[list[TrialRecord], str]:
    """The trials ``show`` lists, and a title for them. With constraints, feasible trials
    come first; a single objective's list goes on with the least violating ones."""
    completed = [t for t in study.trials if t.state is TrialState.COMPLETE and t.values]
    feasible = sum(t.feasible for t in completed)
    counted = f" ({feasible} feasible)" if any(t.constraints is not None for t in completed) else ""
    if len(study.directions) == 1:
        sign = 1.0 if study.direction == "minimize" else -1.0
        ranked = sorted(
            completed,
            key=lambda t: (t.violation, sign * t.values[0], t.number),  # type: ignore[index]
        )
        shown_count = min(top, len(ranked))
        return ranked[:top], f"Best {shown_count} of {len(completed)} completed trials{counted}"
    front = sorted(study.best_trials, key=lambda t: (t.values or (), t.number))
    return front[:top], f"Pareto front: {len(front)} trial(s), showing {min(top, len(front))}"


def _constraint_cells(trial: TrialRecord) -> list[str]:
    """``show``'s constraints and feasible cells of a trial."""
    if trial.constraints is None:
        return ["-", "-"]
    values = ", ".join(format_number(c) for c in trial.constraints)
    return [values, "yes" if trial.feasible else f"no (violation {format_number(trial.violation)})"]


def _show_trial(study: Study, number: int) -> None:
    trial = study.get_trial(number)
    stdout.print(f"[bold]Trial {trial.number}[/] of study {shown(study.name)}: {trial.state.value}")
    if trial.values is not None:
        stdout.print(f"values: {', '.join(format_number(v) for v in trial.values)}")
    if trial.constraints is not None:
        cells = _constraint_cells(trial)
        stdout.print(f"constraints (<= 0 satisfied): {cells[0]}; feasible: {cells[1]}")
    for key, value in trial.params.items():
        stdout.print(f"  {shown(key)} = {shown(format_param(value))}")
    if trial.intermediate:
        curve = ", ".join(f"{s}: {format_number(v)}" for s, v in sorted(trial.intermediate.items()))
        stdout.print(f"learning curve: {curve}")
    for key, value in trial.user_attrs.items():
        stdout.print(f"{shown(key)}: {shown(format_param(value))}")
    if "optimizer" in trial.system_attrs:
        stdout.print(f"proposed by: {shown(trial.system_attrs['optimizer'])}")
    _show_judgements(trial)
    stdout.print(f"started {format_time(trial.started_at)}, took {format_seconds(trial.duration)}")
    if trial.error:
        stdout.print("error:")
        stdout.print(shown(trial.error.rstrip(), newlines=True))


def _show_judgements(trial: TrialRecord) -> None:
    """What the scheduler decided at each rung, and why it stopped the trial."""
    attrs = trial.system_attrs
    if "bracket" in attrs:
        stdout.print(f"bracket: {shown(attrs['bracket'])}")
    rungs = sorted(
        (int(key[5:]), value)
        for key, value in attrs.items()
        if key.startswith("rung_") and key[5:].isdigit() and isinstance(value, dict)
    )
    for rung, record in rungs:
        verdict = "passed" if record.get("passed") else "stopped"
        if record.get("rule") == "model":
            detail = (
                f"predicted final {format_number(record['predicted'])} ± "
                f"{format_number(record['std'])}, P(better than "
                f"{format_number(record['incumbent'])}) = {record['p_improve']:.3g}; model of "
                f"{record.get('n_curves')} curves, leave-one-out error "
                f"{format_number(record.get('loo_rmse', float('nan')))}"
            )
        elif record.get("rule") == "none":
            detail = "too few completed curves for the model; not judged"
        else:
            detail = (
                f"rank {record.get('rank')} of {record.get('of')}, best {record.get('keep')} go on"
            )
        if record.get("kept"):
            detail += f"; {record['kept']}"
        stdout.print(f"rung {rung}: {verdict} ({shown(detail)})")
    pruned = attrs.get("pruned")
    if isinstance(pruned, dict):
        step, reason = pruned.get("step"), pruned.get("reason")
        stdout.print(f"stopped at step {shown(step)}: {shown(reason)}")


_SPARKS = "▁▂▃▄▅▆▇█"
_EIGHTHS = "▏▎▍▌▋▊▉█"
#: Characters in ``show``'s sparkline of the best value so far.
SPARK_WIDTH = 40
#: Parameters ``show`` ranks by importance.
SHOW_TOP = 5
_LOG_SPAN = 100.0  # a positive incumbent falling over more than this ratio is drawn on a log scale


def sparkline(values: Sequence[float | None], *, log: bool = False) -> str:
    """One character per value, ``▁`` for the lowest to ``█`` for the highest (on a log
    scale with ``log``); a blank where a value is None."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    scaled = [math.log(v) if log else v for v in known]
    low, high = min(scaled), max(scaled)
    chars = []
    for value in values:
        if value is None:
            chars.append(" ")
            continue
        level = ((math.log(value) if log else value) - low) / (high - low) if high > low else 0
        chars.append(_SPARKS[min(int(level * len(_SPARKS)), len(_SPARKS) - 1)])
    return "".join(chars)


def share_bar(share: float, width: int) -> str:
    """``share`` of 1 as a bar of at most ``width`` cells, drawn to an eighth of a cell."""
    eighths = round(max(0.0, min(share, 1.0)) * width * 8)
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest - 1] if rest else "")


def _incumbent_line(data: StudyData) -> str | None:
    """The best value so far over the trial numbers, as a sparkline (one objective)."""
    if data.n_objectives != 1 or not data.trials:
        return None
    sign = -1.0 if data.directions[0] == "maximize" else 1.0
    n = max(t.number for t in data.trials) + 1
    best: list[float | None] = [None] * n
    for trial in data.trials:
        value = trial.values[0] if trial.values else None
        if (
            trial.state is TrialState.COMPLETE
            and value is not None
            and math.isfinite(value)
            and trial.feasible  # a trial that violates its constraints is no incumbent
        ):
            best[trial.number] = value
    running: float | None = None
    for number, value in enumerate(best):  # best so far, in trial-number order
        if value is not None and (running is None or sign * value < sign * running):
            running = value
        best[number] = running
    if running is None:
        return None
    first = next(v for v in best if v is not None)
    log = first > 0 and running > 0 and max(first, running) / min(first, running) > _LOG_SPAN
    text = f"{format_number(first)} → {format_number(running)}  (trials 0-{n - 1}"
    text += ", log scale)" if log else ")"
    # as wide as SPARK_WIDTH when the line fits the terminal, narrower when not
    width = max(min(n, SPARK_WIDTH, stdout.width - len("best so far    ") - len(text)), 8)
    # a column per trial, or the incumbent at the end of each of `width` equal spans
    columns = [best[min(math.ceil((c + 1) * n / width), n) - 1] for c in range(width)]
    return f"[bold]best so far[/]  {sparkline(columns, log=log)}  {text}"


def _show_importance(data: StudyData) -> None:
    """The most important parameters, by fANOVA when scikit-learn is there."""
    method = "fanova" if importlib.util.find_spec("sklearn") is not None else "ped-anova"
    try:
        result = importance(data, method=method, pairs=False)
    except TunefulError as exc:  # too few trials, no parameter: say so, show the rest
        stdout.print(f"[bold]Importance[/]: not measured: {shown(exc)}")
        return
    which = "objective 0, " if data.n_objectives > 1 else ""
    stdout.print(
        f"[bold]Top parameters[/] ({result.label}, {which}{result.n_trials} trials; "
        f"tuneful importance {shown(shlex.quote(data.name))} for more):"
    )
    top = result.top(SHOW_TOP)
    name_width = min(max(len(printable(name)) for name in top), max(stdout.width // 3, 8))
    bar_width = max(min(stdout.width - name_width - 24, 30), 5)
    for name in top:
        label = printable(name)[:name_width].ljust(name_width)
        share = f"{100 * result.shares[name]:5.1f} % ± {100 * result.std[name]:4.1f}"
        stdout.print(f"  {escape(label)}  {share}  {share_bar(result.shares[name], bar_width)}")


@click.command("show")
@click.argument("study_name", metavar="STUDY")
@_storage_option
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many of the best trials to list.",
)
@click.option(
    "--trial",
    "trial_number",
    type=click.IntRange(min=0),
    metavar="N",
    help="Show trial N in full instead (params, curve, error text).",
)
def show_command(study_name: str, storage: str | None, top: int, trial_number: int | None) -> None:
    """Show a study: its settings and its best trials (the Pareto front for several
    objectives)."""
    study = open_study(study_name, storage, read_only=True)
    if trial_number is not None:
        _show_trial(study, trial_number)
        return
    settings = study.settings
    optimizer = settings.get("optimizer") or {}
    optimizer_text = str(optimizer.get("name", "?"))
    if optimizer.get("settings"):
        optimizer_text += " " + json.dumps(optimizer["settings"])
    header = Table(show_header=False, box=None, padding=(0, 2, 0, 0))
    for key, value in (
        ("study", study.name),
        ("directions", _direction_text(study.directions)),
        ("optimizer", optimizer_text),
        ("seed", str(study.seed)),
        ("storage", display_storage(study.storage_url)),
        ("trials", f"{len(study.trials)} ({state_counts(study.trials)})"),
    ):
        header.add_row(f"[bold]{key}[/]", shown(value))
    stdout.print(header)
    stdout.print()
    data = StudyData.of(study)
    incumbent = _incumbent_line(data)
    if incumbent is not None:
        stdout.print(incumbent)
    _show_importance(data)
    stdout.print()
    trials, title = _best(study, top)
    completed = [t for t in study.trials if t.state is TrialState.COMPLETE and t.values]
    if completed and not any(t.feasible for t in completed):
        stdout.print(f"[yellow]{shown(no_feasible_message(study.name, completed))}[/]")
    if not trials:
        stdout.print("No completed trial yet." if not completed else "No feasible trial.")
    else:
        constrained = any(t.constraints is not None for t in trials)
        names = _param_names(study, trials)
        table = Table(title=title, title_justify="left")
        table.add_column("trial", justify="right", overflow="fold")
        values = (
            ["value"]
            if len(study.directions) == 1
            else [f"value {i} ({d})" for i, d in enumerate(study.directions)]
        )
        for label in values:
            table.add_column(label, justify="right", overflow="fold")
        if constrained:
            table.add_column("constraints", justify="right", overflow="fold")
            table.add_column("feasible", overflow="fold")
        for name in names:
            table.add_column(shown(name), overflow="fold")
        table.add_column("time", justify="right", overflow="fold")
        for trial in trials:
            table.add_row(
                str(trial.number),
                *(format_number(v) for v in trial.values or ()),
                *(_constraint_cells(trial) if constrained else ()),
                *(
                    shown(format_param(trial.params[n])) if n in trial.params else "-"
                    for n in names
                ),
                format_seconds(trial.duration),
            )
        stdout.print(table)
    failed = [t for t in study.trials if t.state is TrialState.FAIL]
    if failed:
        last = failed[-1]
        stdout.print(
            f"Last failure (trial {last.number}): {shown(error_summary(last.error))}\n"
            f"Full error text: tuneful show {shown(shlex.quote(study.name))} --trial {last.number}"
        )


def _iso(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _param_names(study: Study, trials: list[TrialRecord]) -> list[str]:
    """The study's parameters in space order, then those only trials name (define-by-run),
    each once."""
    names = list(study.space.names) if study.space is not None else []
    return list(dict.fromkeys([*names, *(n for t in trials for n in t.params)]))


def _constraint_row(trial: TrialRecord, count: int) -> list[Any]:
    """A CSV row's constraints.i cells and its feasible cell (none when ``count`` is 0)."""
    if not count:
        return []
    if trial.constraints is None:
        return [""] * (count + 1)
    return [*trial.constraints, _cell(trial.feasible)]


def _csv_text(study: Study, trials: list[TrialRecord]) -> str:
    params = _param_names(study, trials)
    attrs = list(dict.fromkeys(k for t in trials for k in t.user_attrs))
    system = list(dict.fromkeys(k for t in trials for k in t.system_attrs))
    n_values = len(study.directions)
    values = ["value"] if n_values == 1 else [f"values.{i}" for i in range(n_values)]
    n_constraints = max((len(t.constraints or ()) for t in trials), default=0)
    constraints = [f"constraints.{i}" for i in range(n_constraints)]
    header = [
        "number",
        "state",
        *values,
        *constraints,
        *(["feasible"] if n_constraints else []),
        *(f"params.{n}" for n in params),
        *(f"user_attrs.{k}" for k in attrs),
        *(f"system_attrs.{k}" for k in system),
        "started_at",
        "finished_at",
        "duration",
        "error",
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for t in trials:
        row_values = list(t.values) if t.values is not None else [""] * n_values
        writer.writerow(
            [
                t.number,
                t.state.value,
                *row_values,
                *_constraint_row(t, n_constraints),
                *(_cell(t.params.get(n)) for n in params),
                *(_cell(t.user_attrs.get(k)) for k in attrs),
                *(_cell(t.system_attrs.get(k)) for k in system),
                _iso(t.started_at),
                _iso(t.finished_at),
                _cell(t.duration),
                t.error or "",
            ]
        )
    return buffer.getvalue()


@click.command("export")
@click.argument("study_name", metavar="STUDY")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default=None,
    help="csv (params as params.<name> columns, constraints as constraints.<i> and "
    "feasible) or json (one object per trial); "
    "default: json when --output ends in .json, else csv.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout). An existing file is kept unless --force.",
)
@click.option("--force", is_flag=True, help="Replace the --output file when it exists.")
@_storage_option
def export_command(
    study_name: str, fmt: str | None, output: Path | None, force: bool, storage: str | None
) -> None:
    """Write every trial of a study as CSV or JSON.

    The file is written whole or not at all (through a temporary file in its folder); the
    storage's own files are never written over.
    """
    study = open_study(study_name, storage, read_only=True)
    if fmt is None:
        fmt = "json" if output is not None and output.suffix.lower() == ".json" else "csv"
    trials = study.trials
    if fmt == "json":
        text = json.dumps([t.to_dict() for t in trials], indent=2) + "\n"
    else:
        text = _csv_text(study, trials)
    if output is None:
        # Data as stored into a pipe; on a terminal, nothing it could act on.
        sys.stdout.write(printable(text, newlines=True) if sys.stdout.isatty() else text)
        return
    write_output(output, text, storage_url=study.storage.url, force=force)
    stderr.print(f"Wrote {len(trials)} trials of {shown(study.name)} to {shown(output)}")


@click.command("delete")
@click.argument("study_name", metavar="STUDY")
@_storage_option
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_command(study_name: str, storage: str | None, yes: bool) -> None:
    """Delete a study and all its trials."""
    study = open_study(study_name, storage)
    n_trials = len(study.trials)
    where = display_storage(study.storage_url)
    if not yes:
        if not sys.stdin.isatty():
            raise StudyError(
                f"not deleting study {study_name!r} without confirmation: pass --yes (stdin is "
                "not a terminal, so there is nobody to ask)"
            )
        question = printable(f"Delete study {study_name!r} and its {n_trials} trials from {where}?")
        if not click.confirm(question, default=False):
            stderr.print("Not deleted.")
            raise click.exceptions.Exit(1)
    delete_study(study_name, storage=study.storage)
    stdout.print(f"Deleted study {shown(study_name)} ({n_trials} trials) from {shown(where)}.")
