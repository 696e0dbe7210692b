"""``tuneful plot``: draw a stored study (or several, compared) to an HTML page, a PNG or
an SVG."""

from __future__ import annotations

from pathlib import Path

import click

from tuneful.cli.output import shown, stderr, stdout
from tuneful.cli.studies import open_study
from tuneful.errors import StudyError

__all__ = ["plot_command"]

#: The kinds, as in :data:`tuneful.viz.study.KINDS` (repeated so that ``--help`` does not
#: import the plotting code; a test keeps the two equal).
KINDS = (
    "history",
    "parallel",
    "slice",
    "contour",
    "importance",
    "curves",
    "edf",
    "pareto",
    "hypervolume",
    "timeline",
)


def _names(text: str | None, option: str) -> list[str] | None:
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise StudyError(f"{option} {text!r}: expected names separated by commas, like a,b")
    return names


def _indices(text: str | None) -> list[int] | None:
    names = _names(text, "--objectives")
    if names is None:
        return None
    if not all(n.isdigit() for n in names):
        raise StudyError(f"--objectives {text!r}: expected objective numbers like 0,1 or 0,1,2")
    return [int(n) for n in names]


@click.command("plot")
@click.argument("study_names", nargs=-1, required=True, metavar="STUDY [STUDY ...]")
@click.option(
    "--storage",
    metavar="URL",
    help="Storage URL (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)
@click.option("--kind", required=True, type=click.Choice(KINDS), help="Which plot.")
@click.option(
    "--params",
    metavar="A,B",
    help="Parameters to draw (parallel, slice, contour: exactly two, importance).",
)
@click.option(
    "--objective",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Which objective, numbered from 0.",
)
@click.option(
    "--objectives",
    metavar="I,J[,K]",
    help="pareto: the two or three objectives; hypervolume: which (default all).",
)
@click.option(
    "--method",
    type=click.Choice(["fanova", "ped-anova"]),
    help="importance: how it is computed (default fanova).",
)
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    metavar="N",
    help="Draw at most N trials (each kind samples a large study by default).",
)
@click.option(
    "--output",
    "-o",
    required=True,
    metavar="FILE",
    help="Where to write: FILE.html (interactive, works offline), .png or .svg.",
)
def plot_command(
    study_names: tuple[str, ...],
    storage: str | None,
    kind: str,
    params: str | None,
    objective: int,
    objectives: str | None,
    method: str | None,
    max_trials: int | None,
    output: str,
) -> None:
    """Draw STUDY's KIND plot to FILE; history, edf, pareto and hypervolume compare several
    studies.

    Example: tuneful plot mlp-digits --kind history --output history.html
    """
    from tuneful.viz.study import plot
    from tuneful.viz.study.figure import check_suffix

    check_suffix(output)
    options: dict[str, object] = {}
    if objectives is not None:
        options["objectives"] = _indices(objectives)
    if method is not None:
        options["method"] = method
    studies = [open_study(name, storage, read_only=True) for name in study_names]
    figure = plot(
        kind,
        studies if len(studies) > 1 else studies[0],
        params=_names(params, "--params"),
        objective=objective,
        max_trials=max_trials,
        **options,
    )
    path = figure.save(Path(output))
    for note in figure.notes:
        stderr.print(f"note: {shown(note)}")
    stdout.print(f"Wrote the {kind} plot of {', '.join(map(repr, study_names))} to {shown(path)}")
