"""Draw a :class:`~tuneful.viz.study.figure.StudyFigure` with matplotlib: a static figure
for PNG and SVG, made without pyplot (headless, nothing left registered)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.errors import MissingDependencyError
from tuneful.viz._figure import DPI

if TYPE_CHECKING:
    from tuneful.viz.study.figure import Axis, Panel, StudyFigure, Trace

_MARKERS = {
    "circle": "o",
    "circle-open": "o",
    "x": "x",
    "diamond": "D",
    "square": "s",
    "triangle-up": "^",
    "star": "*",
}


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "static plots need matplotlib: pip install 'tuneful[viz]'"
        ) from None
    return matplotlib, Figure


def render(figure: StudyFigure) -> Any:
    """The matplotlib figure of ``figure``."""
    _, figure_class = _matplotlib()
    data = figure.data
    canvas = figure_class(figsize=data.inches, dpi=DPI, layout="constrained")
    canvas.suptitle(figure.title, x=0.01, ha="left", fontsize=11)
    scale: tuple[Any, str] | None = None
    drawn: list[Any] = []
    for index, panel in enumerate(data.panels):
        position = (data.rows, data.columns, index + 1)
        if panel.is_3d:
            axes = canvas.add_subplot(*position, projection="3d")
        else:
            axes = canvas.add_subplot(*position)
        traces = data.traces_on(index)
        if any(t.kind == "parallel" for t in traces):
            for trace in traces:
                _parallel(canvas, axes, trace)
            continue
        drawn.append(axes)
        for trace in traces:
            shown = _draw(axes, trace)
            if shown is not None and trace.colorbar is not None and scale is None:
                scale = (shown, trace.colorbar)
        _decorate(axes, panel, multiple=len(data.panels) > 1)
        if any(t.show_legend and t.name for t in traces) and len(data.panels) == 1:
            axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if scale is not None:  # one colour bar for every panel that shares it
        canvas.colorbar(scale[0], ax=drawn, label=scale[1], shrink=0.9)
    if data.notes:
        canvas.text(0.01, 0.0, "\n".join(data.notes), fontsize=8, color="#555", va="top")
    return canvas


def save(canvas: Any, path: Path, kind: str) -> None:
    canvas.savefig(path, format=kind, dpi=DPI, bbox_inches="tight")


def _size(trace: Trace) -> float:
    return (trace.size * 0.8) ** 2


def _colors(trace: Trace) -> dict[str, Any]:
    if trace.color_values is not None:
        return {"c": trace.color_values, "cmap": trace.colorscale}
    return {"color": trace.color}


def _draw(axes: Any, trace: Trace) -> Any:
    if trace.kind in ("scatter", "scatter3d"):
        return _scatter(axes, trace)
    if trace.kind == "bar":
        axes.barh(
            trace.y,
            trace.x,
            left=trace.base if trace.base is not None else 0.0,
            xerr=trace.error,
            color=trace.color,
            alpha=trace.opacity,
            height=0.7,
            label=trace.name if trace.show_legend else None,
            error_kw={"ecolor": "#333", "capsize": 3, "elinewidth": 1},
        )
        return None
    if trace.kind in ("contour", "heatmap"):
        z = np.ma.masked_invalid(np.asarray(trace.z, dtype=float))
        if z.count() == 0:
            return None
        if trace.kind == "heatmap":
            return axes.pcolormesh(trace.x, trace.y, z, shading="nearest", cmap=trace.colorscale)
        return axes.contourf(trace.x, trace.y, z, levels=14, cmap=trace.colorscale)
    raise ValueError(f"unknown trace kind {trace.kind!r}")


def _scatter(axes: Any, trace: Trace) -> Any:
    label = trace.name if trace.show_legend else None
    if "lines" in trace.mode and trace.kind == "scatter":
        with_markers = "markers" in trace.mode
        axes.plot(
            trace.x,
            trace.y,
            color=trace.color,
            drawstyle="steps-post" if trace.line_shape == "hv" else "default",
            linewidth=1.0 if with_markers else 1.6,
            alpha=trace.opacity,
            label=label,
            marker=_MARKERS.get(trace.symbol, "o") if with_markers else None,
            markersize=trace.size * 0.7,
        )
        return None
    coordinates = [trace.x, trace.y] + ([trace.z] if trace.kind == "scatter3d" else [])
    marker = _MARKERS.get(trace.symbol, "o")
    keywords: dict[str, Any] = {"s": _size(trace), "alpha": trace.opacity, "marker": marker}
    if trace.symbol.endswith("-open"):
        keywords.update(facecolors="none", edgecolors=trace.color, linewidths=1.2)
    else:
        keywords.update(_colors(trace))
        if marker != "x":
            keywords.update(linewidths=0)
    return axes.scatter(*coordinates, label=label, **keywords)


def _decorate(axes: Any, panel: Panel, *, multiple: bool) -> None:
    if multiple and panel.title:
        axes.set_title(panel.title, fontsize=9)
    _axis(axes, "x", panel.x)
    _axis(axes, "y", panel.y)
    if panel.z is not None:
        _axis(axes, "z", panel.z)
    if not panel.is_3d:
        axes.grid(True, color="#e5e5e5", linewidth=0.6)
        axes.set_axisbelow(True)
    axes.tick_params(labelsize=8)


def _axis(axes: Any, which: str, axis: Axis) -> None:
    getattr(axes, f"set_{which}label")(axis.title, fontsize=9)
    if axis.type == "category":
        k = len(axis.categories)
        getattr(axes, f"set_{which}ticks")(range(k))
        longest = max((len(c) for c in axis.categories), default=0)
        rotation = 30 if which == "x" and (longest * k > 40) else 0
        style = {"rotation": rotation, "ha": "right"} if rotation else {}
        getattr(axes, f"set_{which}ticklabels")(axis.categories, **style)
        getattr(axes, f"set_{which}lim")(-0.5, k - 0.5)
        return
    if axis.type == "log" and which != "z":
        getattr(axes, f"set_{which}scale")("log")
    elif axis.integer:
        from matplotlib.ticker import MaxNLocator

        getattr(axes, f"{which}axis").set_major_locator(MaxNLocator(integer=True))
    if axis.range is not None:
        getattr(axes, f"set_{which}lim")(*axis.range)


def _parallel(canvas: Any, axes: Any, trace: Trace) -> None:
    """Parallel coordinates: one vertical axis per dimension, a line per trial through its
    positions, coloured by value; an inactive value sits in the band under its axis."""
    matplotlib, _ = _matplotlib()
    from matplotlib.collections import LineCollection

    dims = trace.dimensions
    positions = np.column_stack([d.values for d in dims])  # (n_trials, n_dimensions)
    x = np.arange(len(dims), dtype=float)
    segments = [np.column_stack([x, row]) for row in positions]
    colour = trace.color_values if trace.color_values is not None else np.zeros(len(positions))
    finite = colour[np.isfinite(colour)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    norm = matplotlib.colors.Normalize(low, high if high > low else low + 1.0)
    lines = LineCollection(
        segments, array=colour, cmap=trace.colorscale, norm=norm, linewidths=0.8, alpha=0.55
    )
    axes.add_collection(lines)
    canvas.colorbar(lines, ax=axes, label=trace.colorbar or "", shrink=0.9)
    any_inactive = any(d.inactive.any() for d in dims)
    for i, dim in enumerate(dims):
        axes.plot([i, i], [0.0, 1.0], color="#444", linewidth=0.9, zorder=0)
        for position, label in zip(dim.tick_positions, dim.tick_labels, strict=True):
            axes.text(i - 0.04, position, label, fontsize=7, ha="right", va="center")
        if dim.inactive.any():
            axes.text(
                i - 0.04,
                dims[0].INACTIVE,
                "inactive",
                fontsize=7,
                ha="right",
                va="center",
                color="#777",
                style="italic",
            )
        axes.text(
            i,
            1.04,
            _short(dim.label),
            fontsize=8,
            ha="center",
            va="bottom",
            rotation=20 if len(dims) > 6 else 0,
        )
    axes.set_xlim(-0.6, len(dims) - 0.6)
    axes.set_ylim(dims[0].INACTIVE - 0.06 if any_inactive else -0.05, 1.1)
    axes.set_axis_off()


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
