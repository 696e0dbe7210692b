"""Vectorized encoding of a space's columns to the unit cube and back (see tuneful.space)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tuneful._parameters import Codec

__all__ = ["Columns", "read_only", "unit_clip"]

NUDGES = 16  # ulp steps tried to make a continuous value decode back exactly


def read_only(values: list[Any], dtype: type) -> np.ndarray:
    array: np.ndarray = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


def unit_clip(u: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(u, 0.0), 1.0)  # NaN stays NaN


class Columns:
    """Vectorized encode/decode of all encoded columns at once.

    Every step runs on the whole (n, dim) array with per-column constants and masks, so the
    cost of one call is a fixed, small number of numpy operations whatever the mix of types.
    """

    def __init__(self, codecs: Sequence[Codec]) -> None:
        def vector(values: list[Any]) -> np.ndarray:
            return np.array(values, dtype=np.float64).reshape(1, len(codecs))

        kinds = [codec.kind for codec in codecs]
        self.dim = len(codecs)
        self.kinds = kinds
        self.indices = [codec.indices for codec in codecs]
        self.values = [codec.values for codec in codecs]
        self.levels = vector([kind == "levels" for kind in kinds]).astype(bool)
        self.exp = vector([kind in ("log", "log_int") for kind in kinds]).astype(bool)
        self.round = vector([kind == "log_int" for kind in kinds]).astype(bool)
        self.continuous = vector([kind in ("linear", "log") for kind in kinds]).astype(bool)
        self.any_levels, self.any_exp = bool(self.levels.any()), bool(self.exp.any())
        self.any_round, self.any_continuous = bool(self.round.any()), bool(self.continuous.any())
        self.origin = vector([codec.origin for codec in codecs])
        # levels: (v - low) / stride is the level index; others: (t - origin) / width is u
        self.scale = vector([c.stride if c.kind == "levels" else c.width for c in codecs])
        self.width = vector([codec.width for codec in codecs])
        self.low, self.high = vector([c.low for c in codecs]), vector([c.high for c in codecs])
        self.k = vector([codec.n_levels if codec.kind == "levels" else 1 for codec in codecs])
        self.half = np.where(self.levels, 0.5, 0.0)

    def encode(
        self, rows: list[dict[str, Any]], names: tuple[str, ...], complete: bool
    ) -> np.ndarray:
        """Normalized configs -> (n, dim) array; NaN where a name is absent from a row."""
        nan = math.nan
        columns = []
        for name, indices in zip(names, self.indices, strict=True):
            if complete:
                column = [row[name] for row in rows]
            else:
                column = [row.get(name, nan) for row in rows]
            if indices is not None:  # categorical: choices -> indices, NaN kept
                present = [v for v in column if v is not nan]
                if len(present) == len(column):
                    column = indices(column)
                else:
                    found = iter(indices(present))
                    column = [nan if v is nan else next(found) for v in column]
            columns.append(column)
        x = np.array(columns, dtype=np.float64).reshape(self.dim, len(rows)).T
        t = np.log(x, out=x.copy(), where=self.exp) if self.any_exp else x
        a = (t - self.origin) / self.scale
        if self.any_levels:  # level i -> (i + 0.5) / k
            a = (np.rint(a, out=a, where=self.levels) + self.half) / self.k
        u = unit_clip(a)
        if self.any_continuous:
            self._nudge(u, x)
        return u

    def _nudge(self, u: np.ndarray, x: np.ndarray) -> None:
        """Step u by ulps towards the continuous values x until u decodes to x exactly.

        The decode is monotone in u, so values that came out of a decode always get back;
        others end within a few ulps.
        """
        exact = self.continuous & ~np.isnan(x)
        for _ in range(NUDGES):
            back = self._floats(u)
            off = (back != x) & exact
            if not off.any():
                return
            toward = np.where(back[off] < x[off], 2.0, -1.0)
            u[off] = unit_clip(np.nextafter(u[off], toward))

    def _floats(self, u: np.ndarray) -> np.ndarray:
        """u -> values of continuous and log-int columns (before rounding), in [low, high]."""
        y = self.origin + u * self.width
        if self.any_exp:
            np.exp(y, out=y, where=self.exp)
        x = np.minimum(np.maximum(y, self.low), self.high)
        x = np.where(u >= 1.0, self.high, x)
        return np.where(u <= 0.0, self.low, x)

    def decode(self, unit: np.ndarray) -> list[list[Any]]:
        """(n, dim) array in [0, 1] without NaN -> one list of plain values per column."""
        x = self._floats(unit)
        floats = x.T.tolist() if self.any_continuous else []
        ints: list[list[int]] = []
        if self.any_levels or self.any_round:
            whole = np.where(self.round, np.floor(x + 0.5), 0.0)
            if self.any_levels:  # u -> level min(floor(u * k), k - 1)
                level = np.minimum(np.floor(unit * self.k), self.k - 1)
                whole = np.where(self.levels, level, whole)
            ints = whole.astype(np.int64).T.tolist()
        columns: list[list[Any]] = []
        for j, kind in enumerate(self.kinds):
            if kind == "levels":
                columns.append(self.values[j](ints[j]))  # type: ignore[misc]
            else:
                columns.append(ints[j] if kind == "log_int" else floats[j])
        return columns
