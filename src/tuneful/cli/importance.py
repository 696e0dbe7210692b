"""``tuneful importance``: which parameters of a study matter, as a table or as JSON."""

from __future__ import annotations

import json
import sys

import click
from rich.table import Table

from tuneful.analysis.importance import METHODS, Importance, importance
from tuneful.analysis.trials import StudyData
from tuneful.cli.output import printable, shown, stdout
from tuneful.cli.studies import open_study, share_bar

__all__ = ["importance_command", "print_importance"]

#: Pairs the table lists (the JSON has them all).
SHOWN_PAIRS = 5
_MAX_BAR = 50


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def _table(rows: list[tuple[str, float, float]], title: str, label: str) -> Table:
    """A table of ``(name, share, std)`` rows with a bar each, fitted to the console."""
    width = stdout.width
    name_width = min(max([len(label), *(len(name) for name, _, _ in rows)]), max(width // 3, 10))
    # borders and padding take 10 columns; share and ± take 8 and 7
    bar_width = max(min(width - name_width - 10 - 8 - 7 - 4, _MAX_BAR), 5)
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column(label, overflow="fold", max_width=name_width)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("±", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, min_width=bar_width)
    for name, share, std in rows:
        table.add_row(shown(name), _percent(share), _percent(std), share_bar(share, bar_width))
    return table


def print_importance(result: Importance) -> None:
    """The shares as a table with bars, fANOVA's top pairs below, then the notes."""
    title = (
        f"Importance in study {shown(result.study)} ({result.label}, objective "
        f"{result.objective}, {result.n_trials} trials)"
    )
    rows = [(printable(p), result.shares[p], result.std.get(p, 0.0)) for p in result.params]
    stdout.print(_table(rows, title, "parameter"))
    if result.pairs:
        pairs = list(result.pairs.items())[:SHOWN_PAIRS]
        pair_rows = [
            (f"{printable(a)} × {printable(b)}", share, result.pair_std.get((a, b), 0.0))
            for (a, b), share in pairs
        ]
        more = f", {SHOWN_PAIRS} of {len(result.pairs)}" if len(result.pairs) > SHOWN_PAIRS else ""
        stdout.print(_table(pair_rows, f"Interactions of pairs{more}", "pair"))
    if result.method == "fanova":
        rest = 1.0 - sum(result.shares.values()) - sum(result.pairs.values())
        stdout.print(f"Higher-order interactions and what the pairs left out: {_percent(rest)}")
    for note in result.notes:
        stdout.print(f"note: {shown(note)}")


@click.command("importance")
@click.argument("study_name", metavar="STUDY")
@click.option(
    "--storage",
    metavar="URL",
    help="Storage URL (default: $TUNEFUL_STORAGE, else sqlite:///tuneful.db).",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="fanova",
    show_default=True,
    help="fanova: share of the variance over the whole space (a random forest; needs "
    "scikit-learn). ped-anova: what sets the best 10 % of trials apart (fast, no extra).",
)
@click.option(
    "--objective",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Which objective to explain, numbered from 0.",
)
@click.option("--params", metavar="A,B", help="Rank only these parameters (comma-separated).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def importance_command(
    study_name: str,
    storage: str | None,
    method: str,
    objective: int,
    params: str | None,
    seed: int,
    as_json: bool,
) -> None:
    """Which parameters of a study matter: each one's share of the objective's variation,
    with its uncertainty (over the forest's trees, or bootstrap), and, for fANOVA, the pairs
    that interact. Conditional parameters count only where they are active."""
    study = open_study(study_name, storage, read_only=True)
    names = [p.strip() for p in params.split(",") if p.strip()] if params is not None else None
    result = importance(
        StudyData.of(study), method=method, params=names, objective=objective, seed=seed
    )
    if as_json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        return
    print_importance(result)
