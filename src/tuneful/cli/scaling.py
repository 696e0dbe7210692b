"""``tuneful scaling predict`` (a published law's optimum) and ``tuneful scaling fit`` (a law
fitted to your runs, with the loss gaps that say how well it lands)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tuneful.analysis.scaling import (
    DEFAULT_COLUMNS,
    GridGap,
    LawFit,
    Prediction,
    ScalingError,
    UnidentifiedLawError,
    deepseek_llm,
    dense_params,
    fit,
    grid_gaps,
    leave_one_scale_out,
    published_law,
    published_point,
    read_header,
    read_runs,
    steplaw,
    summarize_gaps,
)
from tuneful.cli.output import shown, stdout

__all__ = ["scaling_group"]


@click.group("scaling")
def scaling_group() -> None:
    """Optimal learning rate and batch size across model and data scales (Step Law)."""


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScalingError(f"{name} {text!r}: expected a number such as 7e9") from None


def _prediction_lines(p: Prediction) -> list[str]:
    lines = [f"learning rate  {p.learning_rate:.4g}"]
    if p.learning_rate_interval is not None:
        lo, hi = p.learning_rate_interval
        lines[-1] += f"   (95 %: {lo:.4g} – {hi:.4g})"
    lines.append(f"batch size     {p.batch_tokens:,.0f} tokens")
    if p.batch_tokens_interval is not None:
        lo, hi = p.batch_tokens_interval
        lines[-1] += f"   (95 %: {lo:,.0f} – {hi:,.0f})"
    if p.batch_sequences is not None:
        lines.append(f"               {p.batch_sequences:,.1f} sequences of {p.seq_len} tokens")
    return lines


@scaling_group.command("predict")
@click.option("--params", "params_text", metavar="N", help="Non-embedding parameters, e.g. 7e9.")
@click.option("--layers", type=click.IntRange(min=1), help="Or count N from the shape: layers,")
@click.option("--hidden", type=click.IntRange(min=1), help="hidden size,")
@click.option("--ffn-hidden", type=click.IntRange(min=1), help="feed-forward hidden size.")
@click.option("--tokens", "tokens_text", metavar="D", required=True, help="Training tokens.")
@click.option("--seq-len", type=click.IntRange(min=1), help="Tokens per sequence.")
@click.option(
    "--law",
    type=click.Choice(["steplaw", "deepseek-llm", "all"]),
    default="steplaw",
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def predict_command(
    params_text: str | None,
    layers: int | None,
    hidden: int | None,
    ffn_hidden: int | None,
    tokens_text: str,
    seq_len: int | None,
    law: str,
    as_json: bool,
) -> None:
    """The published optimum learning rate and batch size for N parameters and D tokens."""
    shape = [layers, hidden, ffn_hidden]
    if params_text is None and None in shape:
        raise ScalingError("give --params N, or --layers, --hidden and --ffn-hidden")
    if params_text is not None and any(v is not None for v in shape):
        raise ScalingError("give --params or the shape (--layers ...), not both")
    if params_text is not None:
        n = _number(params_text, "--params")
    else:
        n = float(dense_params(layers, hidden, ffn_hidden))  # type: ignore[arg-type]
    d = _number(tokens_text, "--tokens")
    laws = {"steplaw": steplaw, "deepseek-llm": deepseek_llm}
    chosen = list(laws) if law == "all" else [law]
    predictions = [laws[name](n, d, seq_len) for name in chosen]
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in predictions], indent=2))
        return
    for p in predictions:
        title = "Step Law" if p.law == "steplaw" else "DeepSeek LLM (C = 6·N·D)"
        click.echo(f"{title}, N = {n:.4g} non-embedding parameters, D = {d:.4g} tokens:")
        for line in _prediction_lines(p):
            click.echo(f"  {line}")


def _columns(items: tuple[str, ...]) -> dict[str, str]:
    chosen = {}
    for item in items:
        role, _, name = item.partition("=")
        if not name:
            raise ScalingError(
                f"--column {item!r}: expected ROLE=NAME, roles {', '.join(DEFAULT_COLUMNS)}"
            )
        chosen[role.strip()] = name
    return chosen


def _gap_table(gaps: dict[str, list[GridGap]]) -> Table:
    held_out = {(g.n, g.d): g for g in gaps["leave_one_scale_out"]}
    table = Table(title="Loss gap of the run nearest each law's point to the grid's best")
    headings = ("N", "D", "best loss", "Step Law", "refit", "refit without it", "DeepSeek LLM")
    for heading in headings:
        table.add_column(heading, justify="right")
    rows = zip(gaps["published"], gaps["refit"], gaps["deepseek_llm"], strict=True)
    for pub, ref, other in rows:
        out = held_out.get((pub.n, pub.d))
        table.add_row(
            f"{pub.n:.4g}",
            f"{pub.d:.4g}",
            f"{pub.best_loss:.4f}",
            f"{pub.gap:.3%}",
            f"{ref.gap:.3%}",
            "–" if out is None else f"{out.gap:.3%}",
            f"{other.gap:.3%}",
        )
    order = ("published", "refit", "leave_one_scale_out", "deepseek_llm")
    sums = [summarize_gaps(gaps[name]) for name in order]
    table.add_row(
        "median", "", "", *(f"{s['median']:.3%}" if s else "–" for s in sums), style="bold"
    )
    return table


def _fit_json(law: LawFit, gaps: dict[str, list[GridGap]], predictions: list[Prediction]) -> str:
    def rows(items: list[GridGap]) -> list[dict[str, Any]]:
        return [g.__dict__ for g in items]

    return json.dumps(
        {
            "formula": law.formula(),
            "coefficients": law.coefficients(),
            "intervals": law.intervals(),
            "level": law.level,
            "tolerance": law.tolerance,
            "runs": law.n_runs,
            "plateau_runs": law.n_plateau,
            "grids": law.n_grids,
            "published": published_law().coefficients(),
            "gaps": {name: rows(items) for name, items in gaps.items()},
            "gap_summary": {name: summarize_gaps(items) for name, items in gaps.items()},
            "predictions": [p.to_dict() for p in predictions],
        },
        indent=2,
    )


@scaling_group.command("fit")
@click.argument("csv_file", metavar="RUNS.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--column",
    "column_items",
    multiple=True,
    metavar="ROLE=NAME",
    help="Column names (roles n, d, lr, bs, loss; default N, D, lr, bs, 'smooth loss').",
)
@click.option(
    "--tokens-per-unit",
    type=click.FloatRange(min=0, min_open=True),
    default=2048,
    show_default=True,
    help="Tokens per unit of the batch-size column (1 if it counts tokens).",
)
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.0025, show_default=True)
@click.option("--bootstrap", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--predict", "targets", multiple=True, metavar="N,D", help="Predict at a scale.")
@click.option("--seq-len", type=click.IntRange(min=1), help="Tokens per sequence, for --predict.")
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), help="Write figures.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def fit_command(
    csv_file: Path,
    column_items: tuple[str, ...],
    tokens_per_unit: float,
    tolerance: float,
    bootstrap: int,
    seed: int,
    targets: tuple[str, ...],
    seq_len: int | None,
    plots: Path | None,
    as_json: bool,
) -> None:
    """Fit lr* = a·N^α·D^β and B* = b·D^γ to the runs in RUNS.csv (Step Law's procedure)."""
    columns = _columns(column_items)
    runs = read_runs(csv_file, columns=columns, tokens_per_unit=tokens_per_unit)
    try:
        law = fit(runs, tolerance=tolerance, n_bootstrap=bootstrap, seed=seed)
    except UnidentifiedLawError as exc:
        raise _with_column_hint(exc, csv_file, columns) from None
    predictions = []
    for target in targets:
        n_text, _, d_text = target.partition(",")
        n, d = _number(n_text, "--predict N"), _number(d_text, "--predict D")
        predictions.append(law.predict(n, d, seq_len))
    gaps = {
        "published": grid_gaps(runs, published_point),
        "refit": grid_gaps(runs, law.point),
        "leave_one_scale_out": leave_one_scale_out(runs, tolerance=tolerance),
        "deepseek_llm": grid_gaps(runs, _deepseek_point),
    }
    if plots is not None:
        _write_plots(plots, runs, law)
    if as_json:
        click.echo(_fit_json(law, gaps, predictions))
        return
    intervals = law.intervals()
    c = law.coefficients()
    stdout.print(
        f"Fitted on {law.n_plateau} plateau runs (within {law.tolerance:.2%} of their grid's "
        f"best) of {law.n_runs}, over {law.n_grids} scales; {bootstrap} bootstrap resamples"
    )
    stdout.print(f"  {law.formula()}")
    if intervals:
        stdout.print(
            "  95 % intervals: "
            + ", ".join(f"{k} {lo:.4g} – {hi:.4g}" for k, (lo, hi) in intervals.items())
        )
    pub = published_law().coefficients()
    shift = ", ".join(f"{k} {c[k] - pub[k]:+.3f}" for k in ("alpha", "beta", "gamma"))
    stdout.print(
        f"Published Step Law: lr* = {pub['a']:.3g} * N^{pub['alpha']:.3f} * D^{pub['beta']:.3f}; "
        f"B* = {pub['b']:.3g} * D^{pub['gamma']:.3f} tokens (refit − published: {shift})"
    )
    stdout.print(_gap_table(gaps))
    for p in predictions:
        stdout.print(f"At N = {p.n_params:.4g}, D = {p.n_tokens:.4g}:")
        for line in _prediction_lines(p):
            stdout.print(f"  {line}")
        region = law.plateau(p.n_params, p.n_tokens)
        lo, hi = region["learning_rate"]
        blo, bhi = region["batch_tokens"]
        stdout.print(
            f"  plateau        lr {lo:.4g} – {hi:.4g}, batch {blo:,.0f} – {bhi:,.0f} tokens"
        )
    if plots is not None:
        stdout.print(f"Figures in {shown(plots)}")


def _with_column_hint(
    error: UnidentifiedLawError, path: Path, columns: dict[str, str]
) -> ScalingError:
    """The error, naming the file's columns that may count active parameters when N is
    the quantity that barely varies."""
    if error.quantity != "N":
        return error
    header = read_header(path)
    used = columns.get("n", DEFAULT_COLUMNS["n"])
    active = [name for name in header if "activ" in name.lower() and name != used]
    if not active:
        return error
    names = ", ".join(repr(name) for name in active)
    return ScalingError(f"{error} — this file has {names}: --column n={active[0]!r}?")


def _deepseek_point(n: float, d: float) -> tuple[float, float]:
    p = deepseek_llm(n, d)
    return p.learning_rate, p.batch_tokens


def _write_plots(folder: Path, runs: Any, law: LawFit) -> None:
    from tuneful.viz.scaling import plot_fit, plot_grid

    folder.mkdir(parents=True, exist_ok=True)
    plot_fit(runs, law, folder / "fit.png", published=published_law())
    for n, d in runs.grids():
        points = {"published law": published_point(n, d), "refit law": law.point(n, d)}
        plot_grid(
            runs, n, d, points, folder / f"grid_N{n:.4g}_D{d:.4g}.png", tolerance=law.tolerance
        )
