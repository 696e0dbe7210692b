"""A Markdown report of a benchmark: what was compared, ranks and tests, per-task tables,
win/tie/loss against a baseline, anytime ranks, with PNG figures beside it.

Example:
    >>> import numpy as np
    >>> from tuneful.bench.results import Run
    >>> runs = [Run(name, task, seed, np.random.default_rng(seed).random(10) + shift,
    ...             np.ones(10), budget=10)
    ...         for name, shift in (("a", 0.0), ("b", 0.1), ("c", 0.2))
    ...         for task in ("t1", "t2") for seed in range(3)]
    >>> path = write_report(runs, "report_folder", baseline="a", plots=False)  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

import tuneful.viz.bench as figures
from tuneful.bench.cost_report import cost_sections
from tuneful.bench.mo_report import hypervolume_section
from tuneful.bench.results import Run
from tuneful.bench.stats import (
    Curves,
    FriedmanResult,
    NemenyiResult,
    RankSummary,
    TaskSummary,
    anytime_curves,
    final_summary,
    friedman_test,
    mean_ranks,
    nanmean,
    nemenyi,
    rank_over_time,
    win_tie_loss,
)
from tuneful.bench.tables import DASH, escape_cell, format_number, format_rank, format_table
from tuneful.errors import MissingDependencyError, did_you_mean
from tuneful.viz.bench import ReportImages

__all__ = ["write_report"]


def _image(alt: str, relative: str) -> str:
    return f"![{alt}]({quote(relative)})"


def _compact(mapping: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in mapping.items())


def _describe_optimizer(run: Run) -> dict[str, Any]:
    described = run.meta.get("optimizer")
    return dict(described) if isinstance(described, Mapping) else {}


def _optimizer_section(runs: Sequence[Run], curves: Curves) -> list[str]:
    rows, varying = [], []
    for name in curves.optimizers:
        own = [r for r in runs if r.optimizer == name]
        descriptions = [_describe_optimizer(r) for r in own]
        first = descriptions[0]
        if any(d != first for d in descriptions[1:]):
            varying.append(name)
        settings = first.get("settings")
        defaults = first.get("defaults")
        # runs of a multi-fidelity benchmark have no loss below full fidelity: not failures
        failed = sum(int(np.isnan(r.losses).sum()) - int(r.meta.get("partial", 0)) for r in own)
        evaluations = sum(r.losses.size for r in own)
        rows.append(
            [
                name,
                first.get("name", DASH),
                first.get("package") or DASH,
                first.get("version") or DASH,
                f"`{_compact(settings)}`" if isinstance(settings, Mapping) and settings else DASH,
                DASH if defaults is None else ("yes" if defaults else "no"),
                len(own),
                f"{failed} / {evaluations}",
            ]
        )
    header = ["label", "name", "package", "version", "settings", "defaults", "runs", "failed"]
    lines = ["### Optimizers", "", format_table(header, rows), ""]
    if varying:
        lines += [
            f"Runs of {', '.join(varying)} record different optimizer descriptions; "
            "the table shows the first run's.",
            "",
        ]
    return lines


def _task_details(run: Run) -> dict[str, Any]:
    """The objective, its direction and the task's metadata, as far as the run records them."""
    details = {key: run.meta[key] for key in ("objective", "direction") if run.meta.get(key)}
    if run.points is not None:  # every objective is in the hypervolume section
        details = {"objectives": int(run.points.shape[1])}
    for key in ("task", "task_metadata"):
        if isinstance(run.meta.get(key), Mapping):
            details.update(run.meta[key])
    # Long references go to the citations list at the end of the report, not the table.
    for key in _REFERENCE_KEYS:
        details.pop(key, None)
    return details


_REFERENCE_KEYS = ("citation", "source", "fixed")


def _citations_section(runs: Sequence[Run]) -> list[str]:
    """Each distinct citation of the tasks' data, once."""
    seen: dict[str, None] = {}
    for run in runs:
        metadata = run.meta.get("task_metadata")
        if not isinstance(metadata, Mapping):
            continue
        cited = metadata.get("citation")
        for item in cited if isinstance(cited, list | tuple) else [cited]:
            if isinstance(item, str) and item:
                seen.setdefault(item, None)
    if not seen:
        return []
    return ["## Citations of the tasks", "", *[f"- {escape_cell(text)}" for text in seen], ""]


def _task_section(runs: Sequence[Run], curves: Curves) -> list[str]:
    rows = []
    for t, task in enumerate(curves.tasks):
        own = [r for r in runs if r.task == task]
        reference = curves.ranges[task]
        optimum = own[0].optimum if all(r.optimum is not None for r in own) else None
        details = _task_details(own[0])
        rows.append(
            [
                task,
                len(own),
                len({r.seed for r in own}),
                f"{float(curves.budgets[t]):g}",
                DASH if optimum is None else f"{optimum:.6g}",
                f"{reference.low:.6g}" if reference.source != "none" else DASH,
                f"{reference.high:.6g}" if reference.source != "none" else DASH,
                reference.source,
                _compact(details) if details else DASH,
            ]
        )
    header = ["task", "runs", "seeds", "budget", "optimum", "low", "high", "low from", "details"]
    return ["### Tasks", "", format_table(header, rows), ""]


def _normalization_note() -> list[str]:
    return [
        "Losses are oriented so that lower is better. On each task a loss maps to "
        "(loss − low) / (high − low): *high* is the largest loss any run of the task saw, "
        "*low* the known optimum when every run states one, else the smallest loss seen "
        "(all optimizers, all seeds; failures ignored). A degenerate range maps to 0. "
        "Normalized regret is the normalized incumbent (best so far); it is 1.0 until a "
        "run's first successful evaluation. Final values are taken at the task's full "
        "budget, counting evaluations whose cumulative cost fits in it; AUC is the area "
        "under the regret-versus-cost step function divided by the budget.",
        "",
    ]


def _rank_section(
    runs_ranked: RankSummary,
    friedman: FriedmanResult,
    post_hoc: NemenyiResult,
    summary: TaskSummary,
    image: str | None,
) -> list[str]:
    order = np.argsort(runs_ranked.mean, kind="stable")
    level = round(runs_ranked.confidence * 100)
    mean_regret = np.full(len(summary.optimizers), np.nan)
    if runs_ranked.tasks:
        columns = [summary.tasks.index(t) for t in runs_ranked.tasks]
        mean_regret = summary.mean[:, columns].mean(axis=1)
    rows = [
        [
            position + 1,
            runs_ranked.optimizers[i],
            format_rank(float(runs_ranked.mean[i])),
            f"[{format_rank(float(runs_ranked.ci_low[i]))}, "
            f"{format_rank(float(runs_ranked.ci_high[i]))}]",
            format_number(float(mean_regret[i])),
        ]
        for position, i in enumerate(order)
    ]
    header = ["#", "optimizer", "mean rank", f"{level}% CI", "mean final regret"]
    lines = [
        "## Ranking across tasks",
        "",
        f"Optimizers are ranked on each task by mean final normalized regret over seeds "
        f"(1 = best, ties share the average rank); the interval is a {level}% bootstrap over "
        f"the {len(runs_ranked.tasks)} tasks.",
        "",
        format_table(header, rows, align=["right", "left", "right", "center", "right"]),
        "",
    ]
    if runs_ranked.dropped:
        lines += [
            f"Left out of the ranking (some optimizer has no run there): "
            f"{', '.join(runs_ranked.dropped)}.",
            "",
        ]
    if math.isnan(friedman.statistic):
        lines += [f"Friedman test: not applicable ({friedman.note}).", ""]
    else:
        verdict = "differ" if friedman.pvalue < post_hoc.alpha else "show no significant difference"
        lines += [
            f"Friedman test over N = {friedman.n} tasks and k = {friedman.k} optimizers: "
            f"χ² = {friedman.statistic:.3f}, p = {friedman.pvalue:.3g}; at α = "
            f"{post_hoc.alpha:g} the optimizers' ranks {verdict}.",
            "",
        ]
    if math.isfinite(post_hoc.cd):
        groups = "; ".join("{" + ", ".join(g) + "}" for g in post_hoc.cliques)
        lines += [
            f"Nemenyi post-hoc test: critical difference CD = {post_hoc.cd:.3f} "
            f"(q_α = {post_hoc.q_alpha:.3f}). Mean ranks closer than CD are not significantly "
            "different; "
            + (f"groups that cannot be told apart: {groups}." if groups else "every pair differs."),
            "",
        ]
    if image:
        lines += [_image("critical-difference diagram", image), ""]
    return lines


def _per_task_section(summary: TaskSummary, curve_images: Mapping[str, str]) -> list[str]:
    rows = []
    for t, task in enumerate(summary.tasks):
        means = summary.mean[:, t]
        best = np.nanmin(means) if np.isfinite(means).any() else math.nan
        cells: list[object] = [task]
        for o in range(len(summary.optimizers)):
            mean = float(means[o])
            text = format_number(mean)
            if math.isfinite(float(summary.stderr[o, t])):
                text += f" ± {format_number(float(summary.stderr[o, t]))}"
            if math.isfinite(mean) and mean == best:
                text = f"**{text}**"
            cells.append(text)
        if curve_images:
            cells.append(f"[curves]({quote(curve_images[task])})" if task in curve_images else "")
        rows.append(cells)
    header = ["task", *summary.optimizers] + (["plot"] if curve_images else [])
    return [
        "## Final normalized regret per task",
        "",
        "Mean ± standard error over seeds (no ± with a single seed); lowest mean in bold.",
        "",
        format_table(
            header,
            rows,
            align=["left"] + ["right"] * len(summary.optimizers) + ["left"] * bool(curve_images),
        ),
        "",
    ]


def _lower_share(curves: Curves, name: str, baseline: str) -> list[str]:
    """On how many tasks (as %) ``name``'s mean final regret is below / equal to
    ``baseline``'s, over the tasks where both have one."""
    mean = nanmean(curves.final, axis=2)
    own, other = mean[curves.optimizers.index(name)], mean[curves.optimizers.index(baseline)]
    both = ~np.isnan(own) & ~np.isnan(other)
    if not both.any():
        return [DASH, DASH]
    lower, equal = own[both] < other[both], np.isclose(own[both], other[both], rtol=0, atol=1e-12)
    return [f"{100 * np.mean(lower & ~equal):.0f} %", f"{100 * np.mean(equal):.0f} %"]


def _win_tie_loss_section(curves: Curves, baseline: str | None, alpha: float) -> list[str]:
    lines = [f"## Win / tie / loss against {baseline or 'a baseline'}", ""]
    if baseline is None:
        return lines + ["No baseline chosen; pass `baseline=` to compare against one.", ""]
    result = win_tie_loss(curves, baseline, alpha=alpha)
    lines += [
        f"Per task, each optimizer's final normalized regrets over seeds against {baseline}'s: "
        f"two-sided Mann-Whitney U test, α = {alpha:g}. Significant with a lower mean is a win, "
        "with a higher mean a loss, otherwise a tie.",
        "",
    ]
    count_rows = [
        [name, *result.counts[name], *_lower_share(curves, name, baseline)]
        for name in result.counts
    ]
    header = ["optimizer", "wins", "ties", "losses", "lower mean", "equal mean"]
    lines += [
        "*lower mean* / *equal mean*: the share of tasks where the optimizer's mean final "
        f"regret over seeds is lower than / equal to {baseline}'s, without a test.",
        "",
        format_table(header, count_rows, align=["left"] + ["right"] * 5),
        "",
    ]
    others = list(result.counts)
    if others:
        detail = {(c.optimizer, c.task): c for c in result.details}
        rows = []
        for task in curves.tasks:
            cells: list[object] = [task]
            for name in others:
                c = detail.get((name, task))
                cells.append(DASH if c is None else f"{c.outcome} (p = {c.pvalue:.2g})")
            rows.append(cells)
        lines += [format_table(["task", *others], rows), ""]
    return lines


def _held_out_section(runs: Sequence[Run]) -> list[str]:
    """The honest protocol's numbers: each run's incumbent scored once on held-out data."""
    scores: dict[tuple[str, str], dict[str, list[float]]] = {}
    for run in runs:
        test = run.meta.get("test_metrics")
        if not isinstance(test, Mapping):
            continue
        for metric, value in test.items():
            if metric != "trial" and isinstance(value, int | float):
                scores.setdefault((run.task, metric), {}).setdefault(run.optimizer, []).append(
                    float(value)
                )
    if not scores:
        return []
    optimizers = sorted({opt for per in scores.values() for opt in per})
    rows = []
    for (task, metric), per in sorted(scores.items()):
        cells = []
        for optimizer in optimizers:
            values = per.get(optimizer)
            cells.append(DASH if not values else format_number(float(np.mean(values))))
        rows.append([task, metric, *cells])
    return [
        "## Held-out test scores",
        "",
        "Each run's incumbent (chosen on the tuning objective) scored once on data the "
        "optimizer never saw; mean over seeds.",
        "",
        format_table(["task", "metric", *optimizers], rows),
        "",
    ]


def _mean_over_seeds_then_tasks(values: np.ndarray) -> np.ndarray:
    """(o, t, s, f) -> (o, f), skipping missing (NaN) cells."""
    masked = np.ma.masked_invalid(values)
    return np.ma.filled(masked.mean(axis=2).mean(axis=1), np.nan)


def _anytime_section(
    curves: Curves,
    fractions: Sequence[float],
    tolerance: float,
    image: str | None,
    ranked_tasks: Sequence[str],
) -> list[str]:
    over_time = rank_over_time(curves, tolerance=tolerance)
    picks = [int(np.argmin(np.abs(curves.fractions - f))) for f in fractions]
    labels = [f"{curves.fractions[p]:.0%}" for p in picks]
    # mean over seeds first, then over tasks, so every task weighs the same; only the
    # ranked tasks (every optimizer ran them), so that the rows are comparable
    columns = [curves.tasks.index(t) for t in ranked_tasks] or list(range(len(curves.tasks)))
    means = _mean_over_seeds_then_tasks(curves.values[:, columns])  # (o, f)
    aucs = _mean_over_seeds_then_tasks(curves.auc[:, columns, :, None])[:, 0]  # (o,)
    rank_rows, regret_rows = [], []
    for o, name in enumerate(curves.optimizers):
        rank_rows.append([name, *(format_rank(float(over_time.mean_rank[p, o])) for p in picks)])
        regret_rows.append(
            [name, *(format_number(float(means[o, p])) for p in picks), format_number(aucs[o])]
        )
    align = ["left"] + ["right"] * len(picks)
    lines = [
        "## Anytime performance",
        "",
        "Mean rank over tasks at fractions of each task's budget:",
        "",
        format_table(["optimizer", *labels], rank_rows, align=align),
        "",
        "Mean normalized regret (over seeds, then the ranked tasks) at the same fractions, "
        "and the mean normalized area under the regret curve (lower is better):",
        "",
        format_table(["optimizer", *labels, "AUC"], regret_rows, align=[*align, "right"]),
        "",
    ]
    if image:
        lines += [_image("mean rank over time", image), ""]
    return lines


def _plots_available(plots: bool | None) -> bool:
    if plots is None:
        return find_spec("matplotlib") is not None
    if plots and find_spec("matplotlib") is None:
        raise MissingDependencyError("the report's plots need matplotlib: pip install matplotlib")
    return bool(plots)


def _cost_sections(
    runs: Sequence[Run], cost_budgets: Sequence[float] | None, baseline: str | None
) -> list[str]:
    if cost_budgets is None:
        return []
    return cost_sections(runs, cost_budgets, baseline)


def _analyse(
    runs: Sequence[Run],
    fractions: Sequence[float],
    *,
    log_cost: bool,
    tolerance: float,
    n_bootstrap: int,
    seed: int,
) -> tuple[Curves, TaskSummary, RankSummary]:
    """Every run's anytime curve, the final regret over seeds, and the mean ranks."""
    dense = np.geomspace(1e-3, 1, 61) if log_cost else np.empty(0)
    grid = np.unique(np.concatenate([np.linspace(0, 1, 51)[1:], dense, fractions]))
    curves = anytime_curves(runs, fractions=grid)
    summary = final_summary(curves)
    ranked = mean_ranks(summary, tolerance=tolerance, n_bootstrap=n_bootstrap, seed=seed)
    return curves, summary, ranked


def _check_arguments(
    runs: Sequence[Run], baseline: str | None, budget_fractions: Sequence[float]
) -> list[float]:
    """The budget fractions as floats, once the runs, baseline and fractions are checked."""
    if not runs:
        raise ValueError("no runs given; the report needs at least one Run")
    _check_baseline("baseline", baseline, runs)
    chosen = [float(f) for f in budget_fractions]
    if not chosen or any(not 0 < f <= 1 for f in chosen):
        raise ValueError(f"budget_fractions must lie in (0, 1], got {list(budget_fractions)}")
    return chosen


def _check_baseline(argument: str, name: str | None, runs: Sequence[Run]) -> None:
    optimizers = sorted({r.optimizer for r in runs})
    if name is not None and name not in optimizers:
        raise ValueError(
            f"{argument} {name!r} is not among the optimizers {optimizers}"
            f"{did_you_mean(name, optimizers)}"
        )


def _intro(runs: Sequence[Run], curves: Curves) -> str:
    """What was compared, and which cells are missing or stopped early."""
    seeds = sorted({r.seed for r in runs})
    cells = len(curves.optimizers) * len(curves.tasks) * len(seeds)
    intro = (
        f"{len(curves.optimizers)} optimizers ({', '.join(curves.optimizers)}) on "
        f"{len(curves.tasks)} tasks with seeds {', '.join(map(str, seeds))}: {len(runs)} runs."
    )
    if cells > len(runs):
        intro += f" {cells - len(runs)} optimizer/task/seed cells have no run."
    stopped = sum(r.meta.get("complete") is False for r in runs)
    if stopped:
        intro += f" {stopped} runs stopped before spending their budget."
    return intro


def _figure_sections(images: ReportImages, drawn: bool) -> list[str]:
    """The regret distribution and the incumbent curves per task, or why there are none."""
    lines = ["## Distribution of final regret", ""]
    if images.ecdf:
        lines += [_image("ECDF of final normalized regret", images.ecdf), ""]
    if images.curves:
        lines += ["## Incumbent curves per task", ""]
        for task, relative in images.curves.items():
            lines += [
                f"### {escape_cell(task)}",
                "",
                _image(f"incumbent curves on {task}", relative),
                "",
            ]
    if not drawn:
        lines += ["Figures were not drawn (they need matplotlib: pip install matplotlib).", ""]
    return lines


def write_report(
    runs: Sequence[Run],
    folder: str | Path,
    *,
    baseline: str | None = None,
    title: str = "Benchmark report",
    alpha: float = 0.05,
    budget_fractions: Sequence[float] = (0.25, 0.5, 1.0),
    tolerance: float = 0.0,
    n_bootstrap: int = 2000,
    seed: int = 0,
    plots: bool | None = None,
    cost_budgets: Sequence[float] | None = None,
    speedup_baseline: str | None = None,
    log_cost: bool = False,
) -> Path:
    """Write ``report.md`` and its PNG figures into ``folder``; return the report's path.

    Args:
        runs: one Run per (optimizer, task, seed).
        baseline: the optimizer the win/tie/loss section compares against; none if None.
        alpha: significance level of the Friedman, Nemenyi and Mann-Whitney tests.
        budget_fractions: fractions in (0, 1] at which the anytime tables report.
        tolerance: final regrets closer than this tie when ranking.
        n_bootstrap, seed: the bootstrap of the mean-rank intervals.
        plots: draw the figures; None draws them when matplotlib is installed and otherwise
            says in the report that they were skipped.
        cost_budgets: absolute costs (in a multi-fidelity benchmark, full-fidelity
            evaluations' worth, e.g. ``(10, 30, 100)``) at which to add ranks and regret (see
            :mod:`tuneful.bench.cost_report`); None leaves those sections out.
        speedup_baseline: with ``cost_budgets``, the optimizer whose final regret the
            speed-up section measures the others against (e.g. ``"random"``).
        log_cost: draw the incumbent curves on a logarithmic cost axis (and sample them
            densely at small costs), for budgets spent in many cheap evaluations.

    Raises:
        ValueError: no runs, an unknown baseline, fractions outside (0, 1].
        MissingDependencyError: ``plots=True`` without matplotlib.
    """
    chosen = _check_arguments(runs, baseline, budget_fractions)
    draw = _plots_available(plots)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    _check_baseline("speedup_baseline", speedup_baseline, runs)
    curves, summary, ranked = _analyse(
        runs, chosen, log_cost=log_cost, tolerance=tolerance, n_bootstrap=n_bootstrap, seed=seed
    )
    friedman, post_hoc = friedman_test(ranked), nemenyi(ranked, alpha=alpha)
    images = ReportImages()
    if draw:
        images = figures.draw_report_figures(
            curves, ranked, post_hoc, target, tolerance=tolerance, log_cost=log_cost
        )
    lines = [
        f"# {title}",
        "",
        _intro(runs, curves),
        "",
        *_optimizer_section(runs, curves),
        *_task_section(runs, curves),
        *_normalization_note(),
        *hypervolume_section(runs),
        *_rank_section(ranked, friedman, post_hoc, summary, images.critical_difference),
        *_per_task_section(summary, images.curves),
        *_cost_sections(runs, cost_budgets, speedup_baseline),
        *_win_tie_loss_section(curves, baseline, alpha),
        *_held_out_section(runs),
        *_anytime_section(curves, chosen, tolerance, images.rank_over_time, ranked.tasks),
        *_figure_sections(images, draw),
        *_citations_section(runs),
    ]
    path = target / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
