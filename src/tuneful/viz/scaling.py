"""Figures of a scaling fit (matplotlib, from ``pip install 'tuneful[bench]'``).

- :func:`plot_grid`: one grid's loss over (learning rate, batch size), with the measured
  optimum, the plateau runs, and the points of the laws given;
- :func:`plot_fit`: the fitted η* against N (one line per D of the runs) and B* against D,
  over the plateau runs.

Each writes one image (SVG when the path ends in ``.svg``, else PNG) and returns its path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tuneful.analysis.scaling.fit import LawFit
from tuneful.analysis.scaling.runs import Runs, plateau_limit
from tuneful.viz._figure import colormap, new_figure, save_figure

__all__ = ["plot_grid", "plot_fit"]

_MARKERS = ("*", "P", "X", "D")


def _figure(width: float, height: float) -> Any:
    return new_figure(width, height, what="scaling plots")


def plot_grid(
    runs: Runs,
    n: float,
    d: float,
    points: Mapping[str, tuple[float, float]],
    path: str | os.PathLike[str],
    *,
    tolerance: float = 0.0025,
) -> Path:
    """Loss over (lr, batch size in tokens) for the grid (N, D): every run coloured by its
    loss, the plateau ringed, the best run and each law's point (label -> (η, B tokens))."""
    grid = runs.in_grid(n, d)
    lr, tokens, loss = runs.lr[grid], runs.batch_tokens[grid], runs.loss[grid]
    best = int(np.argmin(loss))
    plateau = loss <= plateau_limit(float(loss[best]), tolerance)
    figure = _figure(6.4, 4.8)
    axes = figure.add_subplot(1, 1, 1)
    # Colours span the best loss to 3 % above it: diverged runs would flatten the rest.
    top = min(float(loss.max()), plateau_limit(float(loss[best]), 0.03))
    shown = axes.scatter(
        lr,
        tokens,
        c=np.minimum(loss, top),
        cmap="viridis_r",
        s=60,
        zorder=2,
        vmin=float(loss[best]),
        vmax=top,
    )
    figure.colorbar(shown, ax=axes, label="final (smoothed) loss (clipped at +3 %)")
    axes.scatter(
        lr[plateau],
        tokens[plateau],
        s=160,
        facecolors="none",
        edgecolors="black",
        label=f"plateau (within {tolerance:.2%} of the best)",
        zorder=3,
    )
    axes.scatter(
        [lr[best]],
        [tokens[best]],
        marker="o",
        s=220,
        facecolors="none",
        edgecolors="red",
        linewidths=2,
        label="measured optimum",
        zorder=4,
    )
    for marker, (label, (p_lr, p_tokens)) in zip(_MARKERS, points.items(), strict=False):
        axes.scatter([p_lr], [p_tokens], marker=marker, s=200, color="red", label=label, zorder=5)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("batch size (tokens)")
    axes.set_title(f"N = {n:.3g}, D = {d:.3g}")
    axes.legend(fontsize=8, loc="best")
    figure.tight_layout()
    return save_figure(figure, path)


def plot_fit(
    runs: Runs, law: LawFit, path: str | os.PathLike[str], *, published: LawFit | None = None
) -> Path:
    """η* against N (a line per D among the runs) and B* against D, over the plateau runs."""
    figure = _figure(11, 4.5)
    plateau = runs.select(runs.plateau(law.tolerance))
    left, right = figure.subplots(1, 2)
    d_values = sorted(set(plateau.d.tolist()))
    colours = colormap("viridis")(np.linspace(0, 0.9, len(d_values)))
    n_line = np.geomspace(plateau.n.min() / 1.3, plateau.n.max() * 1.3, 50)
    for colour, d in zip(colours, d_values, strict=True):
        at = plateau.d == d
        left.scatter(plateau.n[at], plateau.lr[at], color=colour, s=18)
        left.plot(
            n_line, [law.point(n, d)[0] for n in n_line], color=colour, lw=1, label=f"D = {d:.2g}"
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("N (non-embedding parameters)")
    left.set_ylabel("learning rate")
    left.set_title("η*(N, D): plateau runs and the fitted law")
    left.legend(fontsize=6, ncol=2)
    d_line = np.geomspace(plateau.d.min() / 1.3, plateau.d.max() * 1.3, 50)
    right.scatter(plateau.d, plateau.batch_tokens, s=18, color="grey", label="plateau runs")
    right.plot(
        d_line, [law.point(plateau.n[0], d)[1] for d in d_line], color="black", label="fitted B*(D)"
    )
    if published is not None:
        right.plot(
            d_line,
            [published.point(plateau.n[0], d)[1] for d in d_line],
            "--",
            color="red",
            label="published B*(D)",
        )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("D (training tokens)")
    right.set_ylabel("batch size (tokens)")
    right.set_title("B*(D)")
    right.legend(fontsize=8)
    figure.tight_layout()
    return save_figure(figure, path)
