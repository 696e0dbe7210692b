"""Figures of benchmark statistics: critical-difference diagram, incumbent curves per
task, rank over time, ECDF of final regret; and the set of them a report links to.

Each function takes results from :mod:`tuneful.bench.stats` and a path, writes one image (SVG
when the path ends in ``.svg``, else PNG) and returns the path. matplotlib is an optional
extra, imported on first use (see :mod:`tuneful.viz._figure`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tuneful.bench.stats import (
    Curves,
    NemenyiResult,
    RankOverTime,
    RankSummary,
    ecdf,
    rank_over_time,
)
from tuneful.viz._figure import new_figure, save_figure

__all__ = [
    "plot_critical_difference",
    "plot_incumbent_curves",
    "plot_rank_over_time",
    "plot_ecdf",
    "optimizer_colors",
    "ReportImages",
    "draw_report_figures",
]


def _figure(width: float, height: float) -> Any:
    return new_figure(width, height, what="benchmark plots")


def optimizer_colors(optimizers: Sequence[str]) -> dict[str, str]:
    """A fixed colour per optimizer (by position in the sorted list), shared by every plot."""
    palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    return {name: palette[i % len(palette)] for i, name in enumerate(sorted(optimizers))}


def plot_critical_difference(ranks: RankSummary, nemenyi: NemenyiResult, path: str | Path) -> Path:
    """Critical-difference diagram: mean ranks on an axis, the CD bar, cliques joined.

    The better half of the optimizers (lower mean rank) is labelled on the left, the rest on
    the right; a thick line joins each group that the Nemenyi test cannot tell apart.
    """
    order = np.argsort(ranks.mean, kind="stable")
    names = [ranks.optimizers[i] for i in order]
    values = [float(ranks.mean[i]) for i in order]
    k = len(names)
    low, high = 1, max(k, 2)
    left = names[: (k + 1) // 2]
    right = names[(k + 1) // 2 :]
    rows = max(len(left), len(right))
    clique_depth = 0.25 + 0.18 * len(nemenyi.cliques)
    bottom = -(clique_depth + 0.35 * rows + 0.3)
    figure = _figure(8.0, 1.6 + 0.45 * rows + 0.2 * len(nemenyi.cliques))
    axes = figure.add_subplot(1, 1, 1)
    axes.set_axis_off()
    pad = 0.45 * (high - low) + 0.5
    axes.set_xlim(low - pad, high + pad)
    axes.set_ylim(bottom, 1.3)
    axes.hlines(0, low, high, color="black", linewidth=1.2)
    for tick in range(low, high + 1):
        axes.vlines(tick, 0, 0.12, color="black", linewidth=1)
        axes.text(tick, 0.18, str(tick), ha="center", va="bottom", fontsize=9)
    axes.text((low + high) / 2, 0.5, "mean rank (lower is better)", ha="center", fontsize=9)
    if np.isfinite(nemenyi.cd):
        axes.hlines(0.95, low, low + nemenyi.cd, color="black", linewidth=2)
        axes.vlines([low, low + nemenyi.cd], 0.88, 1.02, color="black", linewidth=1)
        axes.text(low + nemenyi.cd / 2, 1.06, f"CD = {nemenyi.cd:.2f}", ha="center", fontsize=9)
    for row, group in enumerate(nemenyi.cliques):
        spots = [values[names.index(name)] for name in group]
        y = -0.2 - 0.18 * row
        axes.hlines(y, min(spots) - 0.03, max(spots) + 0.03, color="black", linewidth=4)
    colors = optimizer_colors(ranks.optimizers)
    for side, members in (("left", left), ("right", right)):
        for row, name in enumerate(members if side == "left" else members[::-1]):
            rank = values[names.index(name)]
            y = -(clique_depth + 0.35 * row + 0.15)
            end = low - 0.1 if side == "left" else high + 0.1
            axes.plot([rank, rank, end], [0, y, y], color=colors[name], linewidth=1.2)
            axes.text(
                end + (-0.05 if side == "left" else 0.05),
                y,
                f"{name} ({rank:.2f})",
                ha="right" if side == "left" else "left",
                va="center",
                fontsize=9,
            )
    axes.set_title(
        f"Critical difference (Nemenyi, alpha = {nemenyi.alpha:g}, "
        f"{nemenyi.n} tasks, {nemenyi.k} optimizers)",
        fontsize=10,
    )
    return save_figure(figure, path)


def _scale(axes: Any, values: np.ndarray, log: bool | None, axis: str = "y") -> None:
    """Symmetric log scale when asked, or (auto) when the positive values span over two
    decades; linear below the smallest positive value, so zeros stay on the plot."""
    values = values[np.isfinite(values)]
    positive = values[values > 0]
    if log is None:
        log = positive.size > 0 and positive.max() / positive.min() > 100
    if log:
        floor = max(float(positive.min()) if positive.size else 1e-3, 1e-8)
        setter = axes.set_yscale if axis == "y" else axes.set_xscale
        setter("symlog", linthresh=floor)


def plot_incumbent_curves(
    curves: Curves,
    task: str,
    path: str | Path,
    *,
    center: str = "median",
    log: bool | None = None,
    log_cost: bool = False,
) -> Path:
    """Normalized regret of the incumbent against cost on one task, one line per optimizer.

    Args:
        center: ``"median"`` over seeds with the interquartile band, or ``"mean"`` with a
            band of one standard deviation.
        log: a symmetric-log y axis (linear near 0, where the best run ends); None picks it
            when the plotted curves span more than two decades.
        log_cost: a logarithmic cost axis, from the smallest cost on the grid.

    Raises:
        ValueError: unknown task or center.
    """
    if task not in curves.tasks:
        raise ValueError(f"task {task!r} is not among {list(curves.tasks)}")
    if center not in ("median", "mean"):
        raise ValueError(f"center must be 'median' or 'mean', got {center!r}")
    t = curves.tasks.index(task)
    budget = float(curves.budgets[t])
    x = curves.fractions * budget
    figure = _figure(6.5, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    colors = optimizer_colors(curves.optimizers)
    centers = []
    for o, name in enumerate(curves.optimizers):
        block = curves.values[o, t]  # (s, f)
        block = block[~np.isnan(block).any(axis=1)]
        if block.shape[0] == 0:
            continue
        if center == "median":
            middle = np.median(block, axis=0)
            lower, upper = np.percentile(block, [25, 75], axis=0)
        else:
            middle = block.mean(axis=0)
            spread = block.std(axis=0, ddof=1) if block.shape[0] > 1 else np.zeros_like(middle)
            lower, upper = np.clip(middle - spread, 0, 1), np.clip(middle + spread, 0, 1)
        centers.append(middle)
        label = f"{name} ({block.shape[0]} seeds)"
        axes.plot(x, middle, drawstyle="steps-post", color=colors[name], label=label)
        axes.fill_between(x, lower, upper, step="post", color=colors[name], alpha=0.2)
    _scale(axes, np.concatenate(centers) if centers else np.array([]), log)
    band = "interquartile range" if center == "median" else "± 1 std"
    axes.set_title(f"{task}: {center} incumbent over seeds ({band})", fontsize=10)
    axes.set_xlabel(f"cumulative cost (budget {budget:g})")
    axes.set_ylabel("normalized regret")
    if log_cost and budget > 0:
        axes.set_xscale("log")
        axes.set_xlim(float(x[0]), budget)
    else:
        axes.set_xlim(0, budget if budget > 0 else 1)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def plot_rank_over_time(rank_over_time: RankOverTime, path: str | Path) -> Path:
    """Mean rank over tasks at each fraction of the budget, one line per optimizer."""
    figure = _figure(6.5, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    colors = optimizer_colors(rank_over_time.optimizers)
    for o, name in enumerate(rank_over_time.optimizers):
        axes.plot(
            rank_over_time.fractions,
            rank_over_time.mean_rank[:, o],
            color=colors[name],
            label=name,
            linewidth=1.5,
        )
    k = len(rank_over_time.optimizers)
    axes.set_ylim(0.9, max(k, 2) + 0.1)
    axes.set_xlim(0, float(rank_over_time.fractions.max()))
    axes.set_title("Mean rank over tasks during the run", fontsize=10)
    axes.set_xlabel("fraction of the budget")
    axes.set_ylabel("mean rank (lower is better)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    return save_figure(figure, path)


def plot_ecdf(
    ecdfs: Mapping[str, tuple[np.ndarray, np.ndarray]],
    path: str | Path,
    *,
    log: bool | None = None,
) -> Path:
    """ECDF of the final normalized regret: the share of runs at or below each regret.

    The x axis ends just past the largest regret plotted, so that runs bunched near 0 stay
    readable.

    Args:
        log: a symmetric-log x axis; None picks it when the regrets span over two decades.
    """
    figure = _figure(6.5, 4.0)
    axes = figure.add_subplot(1, 1, 1)
    colors = optimizer_colors(list(ecdfs))
    regrets = np.concatenate([x for x, _ in ecdfs.values()]) if ecdfs else np.array([])
    right = float(regrets.max()) * 1.05 if regrets.size and regrets.max() > 0 else 1.0
    for name, (x, y) in ecdfs.items():
        if x.size == 0:
            continue
        xs = np.concatenate([[0.0], x, [right]])
        ys = np.concatenate([[0.0], y, [1.0]])
        axes.plot(xs, ys, drawstyle="steps-post", color=colors[name], label=f"{name} ({x.size})")
    _scale(axes, regrets, log, axis="x")
    axes.set_xlim(0, right)
    axes.set_ylim(0, 1.02)
    axes.set_title("ECDF of final normalized regret (runs: tasks x seeds)", fontsize=10)
    axes.set_xlabel("final normalized regret")
    axes.set_ylabel("fraction of runs")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    return save_figure(figure, path)


@dataclass(frozen=True)
class ReportImages:
    """A report's figures, as paths relative to its folder (None or empty: not drawn).

    Attributes:
        curves: per task, its incumbent curves.
    """

    critical_difference: str | None = None
    rank_over_time: str | None = None
    ecdf: str | None = None
    curves: dict[str, str] = field(default_factory=dict)


def draw_report_figures(
    curves: Curves,
    ranks: RankSummary,
    nemenyi: NemenyiResult,
    folder: Path,
    *,
    tolerance: float,
    log_cost: bool,
) -> ReportImages:
    """Draw every figure of a report into ``folder`` (the rank figures only when some task
    was ranked); see :func:`tuneful.bench.report.write_report`."""
    difference = over_time = None
    if ranks.tasks:
        difference, over_time = "critical_difference.png", "rank_over_time.png"
        plot_critical_difference(ranks, nemenyi, folder / difference)
        plot_rank_over_time(rank_over_time(curves, tolerance=tolerance), folder / over_time)
    plot_ecdf(ecdf(curves), folder / "ecdf.png")
    per_task: dict[str, str] = {}
    taken: set[str] = set()
    for task in curves.tasks:
        relative = f"curves/{_file_name(task, taken)}.png"
        plot_incumbent_curves(curves, task, folder / relative, log_cost=log_cost)
        per_task[task] = relative
    return ReportImages(difference, over_time, "ecdf.png", per_task)


def _file_name(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "task"
    name, count = base, 1
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    taken.add(name)
    return name
