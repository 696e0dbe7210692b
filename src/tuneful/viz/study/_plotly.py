"""Draw a :class:`~tuneful.viz.study.figure.StudyFigure` with plotly: an interactive figure
(hover text, zoom, legend toggles; brushing on parallel coordinates)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.errors import MissingDependencyError

if TYPE_CHECKING:
    from tuneful.viz.study.figure import Axis, Dimension, FigureData, Panel, StudyFigure, Trace

_PX_PER_INCH = 100


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise MissingDependencyError(
            "interactive plots need plotly: pip install 'tuneful[viz]'"
        ) from None
    return go


def render(figure: StudyFigure) -> Any:
    """The plotly figure of ``figure``."""
    go = _plotly()
    data = figure.data
    if any(t.kind == "parallel" for t in data.traces):
        fig = go.Figure([_parallel(go, t) for t in data.traces])
    else:
        fig = _subplots(data)
        colorbar_shown = False
        for trace in data.traces:
            drawn = _trace(go, trace, show_scale=not colorbar_shown)
            colorbar_shown = colorbar_shown or _has_scale(trace)
            if data.panels[trace.panel].is_3d:
                fig.add_trace(drawn)
            else:
                row, col = _cell(data, trace.panel)
                fig.add_trace(drawn, row=row, col=col)
        for index, panel in enumerate(data.panels):
            _axes(fig, data, index, panel)
    _layout(fig, figure)
    return fig


def _subplots(data: FigureData) -> Any:
    from plotly.subplots import make_subplots

    kind = "scene" if any(p.is_3d for p in data.panels) else "xy"
    specs = [[{"type": kind} for _ in range(data.columns)] for _ in range(data.rows)]
    titles = [p.title for p in data.panels] if len(data.panels) > 1 else None
    return make_subplots(
        rows=data.rows,
        cols=data.columns,
        specs=specs,
        subplot_titles=titles,
        horizontal_spacing=min(0.12, 0.5 / max(1, data.columns)) if data.columns > 1 else 0.05,
        vertical_spacing=min(0.18, 0.6 / max(1, data.rows)) if data.rows > 1 else 0.1,
    )


def _cell(data: FigureData, panel: int) -> tuple[int, int]:
    return panel // data.columns + 1, panel % data.columns + 1


def _has_scale(trace: Trace) -> bool:
    return trace.colorbar is not None and (
        trace.color_values is not None or trace.kind == "contour"
    )


def _marker(trace: Trace, show_scale: bool) -> dict[str, Any]:
    marker: dict[str, Any] = {"symbol": trace.symbol, "size": trace.size, "opacity": trace.opacity}
    if trace.color_values is not None:
        marker.update(
            color=_list(trace.color_values),
            colorscale="Viridis",
            reversescale=trace.colorscale.endswith("_r"),
            showscale=show_scale and trace.colorbar is not None,
        )
        if trace.colorbar is not None:
            marker["colorbar"] = {"title": {"text": trace.colorbar}}
    elif trace.color is not None:
        marker["color"] = trace.color
        if trace.symbol.endswith("-open") or trace.symbol == "x":
            marker["line"] = {"color": trace.color, "width": 1.5}
    return marker


def _common(trace: Trace) -> dict[str, Any]:
    common: dict[str, Any] = {"name": trace.name, "showlegend": trace.show_legend}
    if trace.legend_group is not None:
        common["legendgroup"] = trace.legend_group
    if trace.hover is not None:
        common["text"] = list(trace.hover)
        common["hovertemplate"] = "%{text}<extra></extra>"
    return common


def _trace(go: Any, trace: Trace, *, show_scale: bool) -> Any:
    common = _common(trace)
    if trace.kind == "scatter":
        line = {"shape": trace.line_shape}
        if trace.color is not None:
            line["color"] = trace.color
        return go.Scatter(
            x=_list(trace.x),
            y=_list(trace.y),
            mode=trace.mode,
            marker=_marker(trace, show_scale),
            line=line,
            **common,
        )
    if trace.kind == "scatter3d":
        return go.Scatter3d(
            x=_list(trace.x),
            y=_list(trace.y),
            z=_list(trace.z if trace.z is not None else []),
            mode="markers",
            marker=_marker(trace, show_scale),
            **common,
        )
    if trace.kind == "bar":
        error = None
        if trace.error is not None:
            error = {"type": "data", "array": _list(trace.error), "visible": True}
        return go.Bar(
            x=_list(trace.x),
            y=_list(trace.y),
            base=_list(trace.base) if trace.base is not None else None,
            orientation="h",
            width=0.7,
            marker={"color": trace.color, "opacity": trace.opacity},
            error_x=error,
            **common,
        )
    if trace.kind in ("heatmap", "contour"):
        grid = {
            "x": _list(trace.x),
            "y": _list(trace.y),
            "z": [_list(row) for row in (trace.z if trace.z is not None else [])],
            "colorscale": "Viridis",
            "reversescale": trace.colorscale.endswith("_r"),
            "showscale": show_scale,
            "colorbar": {"title": {"text": trace.colorbar or ""}},
            "hoverinfo": "x+y+z",
            "name": trace.name,
            "showlegend": False,
        }
        if trace.kind == "heatmap":
            return go.Heatmap(**grid)
        return go.Contour(
            **grid, connectgaps=False, contours={"coloring": "heatmap"}, line={"width": 0.5}
        )
    raise ValueError(f"unknown trace kind {trace.kind!r}")


def _parallel(go: Any, trace: Trace) -> Any:
    values = trace.color_values if trace.color_values is not None else np.zeros(len(trace))
    return go.Parcoords(
        dimensions=[_dimension(d) for d in trace.dimensions],
        line={
            "color": _list(values),
            "colorscale": "Viridis",
            "reversescale": trace.colorscale.endswith("_r"),
            "showscale": True,
            "colorbar": {"title": {"text": trace.colorbar or ""}},
        },
        labelangle=-20,
        labelside="top",
    )


def _dimension(dimension: Dimension) -> dict[str, Any]:
    positions, labels = list(dimension.tick_positions), list(dimension.tick_labels)
    low = 0.0
    if dimension.inactive.any():
        positions.append(dimension.INACTIVE)
        labels.append("inactive")
        low = dimension.INACTIVE - 0.05
    return {
        "label": dimension.label,
        "values": _list(dimension.values),
        "range": [low, 1.0],
        "tickvals": positions,
        "ticktext": labels,
    }


def _axis_settings(axis: Axis) -> dict[str, Any]:
    settings: dict[str, Any] = {"title": {"text": axis.title}}
    if axis.type == "category":
        k = len(axis.categories)
        settings.update(
            type="linear",
            tickmode="array",
            tickvals=list(range(k)),
            ticktext=list(axis.categories),
            range=[-0.5, k - 0.5],
        )
    else:
        settings["type"] = axis.type
        if axis.integer and axis.type == "linear":
            settings["tickformat"] = "d"
        if axis.range is not None:
            low, high = axis.range
            if axis.type == "log":
                low, high = math.log10(low), math.log10(high)
            settings["range"] = [low, high]
    return settings


def _axes(fig: Any, data: FigureData, index: int, panel: Panel) -> None:
    if panel.is_3d:
        assert panel.z is not None
        scene = {
            "xaxis": _axis_settings(panel.x),
            "yaxis": _axis_settings(panel.y),
            "zaxis": _axis_settings(panel.z),
        }
        fig.update_layout(scene=scene)
        return
    row, col = _cell(data, index)
    fig.update_xaxes(_axis_settings(panel.x), row=row, col=col)
    fig.update_yaxes(_axis_settings(panel.y), row=row, col=col)


def _layout(fig: Any, figure: StudyFigure) -> None:
    data = figure.data
    _, height = data.inches
    bottom = 60 + 18 * len(data.notes)
    fig.update_layout(
        title={"text": figure.title, "x": 0.01, "xanchor": "left"},
        height=int(height * _PX_PER_INCH),
        template="plotly_white",
        margin={"l": 60, "r": 30, "t": 70, "b": bottom + 30},
        legend={"itemsizing": "constant"},
        barmode="overlay",
    )
    if data.notes:
        fig.add_annotation(
            text="<br>".join(data.notes),
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            yshift=-bottom,
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font={"size": 11, "color": "#555"},
            align="left",
        )


def _list(values: Any) -> list[Any]:
    """Values as a JSON-ready list: NaN becomes None, which breaks a line."""
    array = np.asarray(values)
    if array.dtype.kind == "f":
        return [None if not math.isfinite(v) else float(v) for v in array.tolist()]
    listed: list[Any] = array.tolist()
    return listed
