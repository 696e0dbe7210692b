"""The objective as a surface over two parameters, interpolated from the trials where both
are active: what a contour plot draws.

The interpolation works on each parameter's own scale (log for a log parameter, through
:meth:`Column.unit`) and never between the choices of a categorical parameter:

- two numeric parameters: piecewise-linear over the Delaunay triangulation of the trials
  (``scipy.interpolate.griddata``), blank outside their convex hull; nearest trial when
  they are too few or on a line for triangles;
- a categorical and a numeric one: for each choice, linear along the numeric parameter
  between the trials of that choice, blank beyond them;
- two categorical ones: the mean of each cell, blank where no trial is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import griddata

from tuneful.analysis.trials import Column, TrialTable

__all__ = ["Surface", "value_surface"]


@dataclass(frozen=True)
class Surface:
    """An interpolated objective over a grid.

    Attributes:
        x / y: the grid's coordinates: a numeric parameter's values (evenly spaced on its
            scale, so geometrically on a log scale), a categorical one's choice indices.
        z: the objective, shape (len(y), len(x)); ``NaN`` where nothing is known.
        rows: which rows of the table have both parameters active and a finite objective.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    rows: np.ndarray


def _grid(column: Column, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """(coordinates, their unit positions) along one parameter."""
    if column.is_categorical:
        k = len(column.choices)
        return np.arange(k, dtype=float), (np.arange(k) + 0.5) / k
    assert column.low is not None and column.high is not None
    unit = np.linspace(0.0, 1.0, resolution)
    if column.log:
        low, high = np.log(column.low), np.log(column.high)
        return np.exp(low + unit * (high - low)), unit
    return column.low + unit * (column.high - column.low), unit


def value_surface(
    table: TrialTable, a: str, b: str, *, objective: int = 0, resolution: int = 50
) -> Surface:
    """The objective over parameters ``a`` (x) and ``b`` (y) of ``table`` (see the module
    docstring for how it is interpolated)."""
    cx, cy = table.columns[a], table.columns[b]
    values = table.objective(objective)
    rows = cx.active & cy.active & np.isfinite(values)
    gx, ux = _grid(cx, resolution)
    gy, uy = _grid(cy, resolution)
    px, py, v = cx.unit()[rows], cy.unit()[rows], values[rows]
    z = np.full((len(gy), len(gx)), np.nan)
    if v.size == 0:
        return Surface(gx, gy, z, rows)
    if cx.is_categorical and cy.is_categorical:
        ix, iy = cx.values[rows].astype(int), cy.values[rows].astype(int)
        sums = np.zeros_like(z)
        counts = np.zeros_like(z)
        np.add.at(sums, (iy, ix), v)
        np.add.at(counts, (iy, ix), 1)
        with np.errstate(invalid="ignore"):
            z = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    elif cx.is_categorical:
        z = _per_choice(cx.values[rows].astype(int), py, v, uy, len(gx)).T
    elif cy.is_categorical:
        z = _per_choice(cy.values[rows].astype(int), px, v, ux, len(gy))
    else:
        mesh_x, mesh_y = np.meshgrid(ux, uy)
        points = np.column_stack([px, py])
        try:
            z = griddata(points, v, (mesh_x, mesh_y), method="linear")
        except Exception:  # too few points, or all on a line: no triangles to interpolate in
            z = griddata(points, v, (mesh_x, mesh_y), method="nearest")
    return Surface(gx, gy, z, rows)


def _per_choice(
    choice: np.ndarray, position: np.ndarray, v: np.ndarray, grid: np.ndarray, k: int
) -> np.ndarray:
    """Rows: one per choice; columns: the numeric grid. Linear between the trials of each
    choice (duplicates averaged), blank beyond them."""
    z = np.full((k, len(grid)), np.nan)
    for c in range(k):
        mine = choice == c
        if not mine.any():
            continue
        xs, inverse = np.unique(position[mine], return_inverse=True)
        means = np.bincount(inverse, weights=v[mine]) / np.bincount(inverse)
        if len(xs) == 1:
            z[c, int(np.argmin(np.abs(grid - xs[0])))] = means[0]
            continue
        inside = (grid >= xs[0]) & (grid <= xs[-1])
        z[c, inside] = np.interp(grid[inside], xs, means)
    return z
