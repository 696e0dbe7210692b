"""A study's figure as data, drawn by two small renderers (plotly and matplotlib).

Each plot kind computes a :class:`FigureData` once: panels with their axes, traces with their
arrays, and notes for the reader. :class:`StudyFigure` wraps it with the two ways to draw it
(:meth:`~StudyFigure.to_plotly`, interactive; :meth:`~StudyFigure.to_matplotlib`, static) and
:meth:`~StudyFigure.save`, which picks one by the file's suffix.

Trace kinds and the fields they use:

- ``"scatter"``: ``x``, ``y``; ``mode`` (``"markers"``, ``"lines"``, ``"lines+markers"``),
  ``line_shape`` (``"linear"`` or ``"hv"``, a step after each point); ``NaN`` breaks a line;
- ``"scatter3d"``: ``x``, ``y``, ``z``;
- ``"bar"``: horizontal bars of length ``x`` at rows ``y``, starting at ``base`` (0 when
  None), with error bars ``error`` when given;
- ``"contour"``: a surface ``z`` of shape ``(len(y), len(x))`` over the grid ``x`` × ``y``;
- ``"heatmap"``: the same drawn as cells (when an axis is categorical: no blending between
  choices);
- ``"parallel"``: parallel coordinates over ``dimensions``, one line per trial, coloured by
  ``color_values``.

Colour: ``color`` (one CSS colour for the whole trace) or ``color_values`` (one number per
point, drawn through ``colorscale``, ``"viridis"`` or ``"viridis_r"``, with a colour bar
titled ``colorbar``). On a ``"category"`` axis the positions are choice indices 0..k-1 and
``categories`` holds their labels.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tuneful.errors import StudyError

__all__ = ["Axis", "Dimension", "Trace", "Panel", "FigureData", "StudyFigure", "SUFFIXES"]

#: What :meth:`StudyFigure.save` writes, by suffix.
SUFFIXES = (".html", ".png", ".svg")


@dataclass(frozen=True)
class Axis:
    """One axis: its title, its type (``"linear"``, ``"log"`` or ``"category"``), the labels
    of a category axis (positions 0..k-1), an optional fixed range, and whether its ticks
    are integers only."""

    title: str = ""
    type: str = "linear"
    categories: tuple[str, ...] = ()
    range: tuple[float, float] | None = None
    integer: bool = False


@dataclass(frozen=True)
class Dimension:
    """One axis of a parallel-coordinates trace.

    Attributes:
        label: the axis title (a parameter's name, or the objective).
        values: one position per trial, in [0, 1] on the parameter's own scale (log for a log
            parameter, the cell centre of a choice); :data:`INACTIVE` where the parameter is
            inactive, drawn in a band below the axis labelled ``"inactive"``.
        tick_positions / tick_labels: where to write which value (the values themselves, so
            a log axis reads 0.001, 0.01, ...).
    """

    label: str
    values: np.ndarray
    tick_positions: tuple[float, ...]
    tick_labels: tuple[str, ...]

    #: The position of an inactive value: below the axis, apart from every real value.
    INACTIVE = -0.15

    @property
    def inactive(self) -> np.ndarray:
        return self.values == self.INACTIVE


@dataclass(frozen=True)
class Trace:
    """One drawn series (see the module docstring for what each kind reads)."""

    kind: str
    name: str
    x: np.ndarray = field(default_factory=lambda: np.empty(0))
    y: np.ndarray = field(default_factory=lambda: np.empty(0))
    z: np.ndarray | None = None
    panel: int = 0
    mode: str = "markers"
    line_shape: str = "linear"
    color: str | None = None
    color_values: np.ndarray | None = None
    colorscale: str = "viridis"
    colorbar: str | None = None
    symbol: str = "circle"
    size: float = 6.0
    opacity: float = 1.0
    hover: tuple[str, ...] | None = None
    base: np.ndarray | None = None
    error: np.ndarray | None = None
    dimensions: tuple[Dimension, ...] = ()
    show_legend: bool = True
    legend_group: str | None = None
    numbers: np.ndarray | None = None  # the trial number of each point, where it has one

    def __len__(self) -> int:
        if self.kind == "parallel":
            return len(self.dimensions[0].values) if self.dimensions else 0
        return len(self.x)


@dataclass(frozen=True)
class Panel:
    """One set of axes; ``z`` only for a 3-D panel."""

    x: Axis
    y: Axis
    title: str = ""
    z: Axis | None = None

    @property
    def is_3d(self) -> bool:
        return self.z is not None


@dataclass(frozen=True)
class FigureData:
    """Everything a renderer draws: panels (laid out in ``columns`` columns), traces, notes.

    Attributes:
        panels: the axes, in reading order.
        traces: what is drawn, each on its ``panel``.
        notes: sentences the figure shows under its plot (sampling, trials left out).
        columns: how many panels per row.
        size: (width, height) in inches when a kind wants its own (None: from the grid).
    """

    panels: tuple[Panel, ...]
    traces: tuple[Trace, ...]
    notes: tuple[str, ...] = ()
    columns: int = 1
    size: tuple[float, float] | None = None

    def trace(self, name: str, panel: int | None = None) -> Trace:
        """The first trace called ``name`` (on ``panel`` when given)."""
        for trace in self.traces:
            if trace.name == name and (panel is None or trace.panel == panel):
                return trace
        names = sorted({t.name for t in self.traces})
        raise KeyError(f"no trace named {name!r} (traces: {names})")

    def traces_on(self, panel: int) -> list[Trace]:
        return [t for t in self.traces if t.panel == panel]

    @property
    def rows(self) -> int:
        return max(1, -(-len(self.panels) // max(1, self.columns)))

    @property
    def inches(self) -> tuple[float, float]:
        """The figure's size in inches (matplotlib's; plotly takes 100 pixels an inch)."""
        if self.size is not None:
            return self.size
        return 4.4 * self.columns + 1.2, 3.5 * self.rows + 0.8


@dataclass(frozen=True)
class StudyFigure:
    """A plot of one or several studies: its data, and the ways to draw and save it.

    Example:
        >>> from tuneful.viz.study import plot_history
        >>> figure = plot_history(study)                          # doctest: +SKIP
        >>> figure.save("history.html"); figure.save("history.png")  # doctest: +SKIP
    """

    kind: str
    title: str
    data: FigureData

    @property
    def notes(self) -> tuple[str, ...]:
        return self.data.notes

    def to_plotly(self) -> Any:
        """An interactive :class:`plotly.graph_objects.Figure`."""
        from tuneful.viz.study._plotly import render

        return render(self)

    def to_matplotlib(self) -> Any:
        """A :class:`matplotlib.figure.Figure`, made without pyplot (nothing registered)."""
        from tuneful.viz.study._matplotlib import render

        return render(self)

    def to_json(self) -> str:
        """The plotly figure as JSON (``Plotly.newPlot(div, fig.data, fig.layout)`` on a
        web page)."""
        text: str = self.to_plotly().to_json()
        return text

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the figure to ``path`` and return it: ``.html`` an interactive page that
        works offline (plotly.js inside it), ``.png`` or ``.svg`` a static image.

        Raises:
            StudyError: the suffix is none of ``.html``, ``.png``, ``.svg``.
        """
        target = Path(path)
        suffix = check_suffix(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".html":
            self.to_plotly().write_html(
                target, include_plotlyjs=True, full_html=True, include_mathjax=False
            )
            return target
        from tuneful.viz.study._matplotlib import save

        save(self.to_matplotlib(), target, suffix[1:])
        return target


def check_suffix(path: str | os.PathLike[str]) -> str:
    """The suffix of ``path`` (lower case) when a figure can be saved there.

    Raises:
        StudyError: any other suffix; the message lists the ones that work.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        raise StudyError(
            f"cannot save a plot as {str(path)!r}: the name must end in "
            f"{', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} (got {suffix or 'no suffix'!r})"
        )
    return suffix
