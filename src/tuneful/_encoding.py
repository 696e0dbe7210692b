"""Vectorized encoding of a space's columns to the unit cube and back (see tuneful.space)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tuneful.errors import SpaceError

__all__ = ["Columns", "Codec", "read_only", "unit_clip", "MAX_INT", "MAX_LEVELS"]

NUDGES = 16  # ulp steps tried to make a continuous value decode back exactly
MAX_LEVELS = 2**50  # beyond this, (i + 0.5) / k no longer decodes back to i in float64
MAX_INT = 2**53  # ints above this are not exact as float64


def _decimals(x: float) -> int:
    exponent = Decimal(repr(x)).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 99


# -- codecs ----------------------------------------------------------------------------------


class Codec:
    """How one parameter maps to its encoded column; the math lives in :mod:`tuneful.space`.

    Attributes:
        kind: ``"linear"`` / ``"log"`` (continuous float), ``"log_int"``, or ``"levels"``
            (ints, step floats and categoricals: level i <-> u = (i + 0.5) / n_levels).
        origin, width: the affine map to [0, 1], on the log scale for ``log``/``log_int``.
        stride: ``levels`` only: level i stands for the number origin + i * stride.
        indices: ``levels`` of a categorical only: list of choices -> list of level indices.
        values: ``levels`` only: list of level indices -> list of values.
    """

    __slots__ = (
        "kind",
        "low",
        "high",
        "origin",
        "width",
        "stride",
        "n_levels",
        "indices",
        "values",
    )

    def __init__(
        self,
        kind: str,
        low: float,
        high: float,
        *,
        n_levels: int = 0,
        stride: float = 1.0,
        indices: Callable[[list[Any]], list[int]] | None = None,
        values: Callable[[list[int]], list[Any]] | None = None,
    ) -> None:
        self.kind, self.low, self.high, self.n_levels = kind, low, high, n_levels
        self.stride, self.indices, self.values = stride, indices, values
        if kind == "log":
            self.origin = math.log(low)
            self.width = math.log(high) - self.origin
        elif kind == "log_int":
            self.origin = math.log(low - 0.5)
            self.width = math.log(high + 0.5) - self.origin
        else:
            self.origin, self.width = low, high - low


class _Grid:
    """The levels low + i * step of a step float.

    When low, high and step are short decimals (0.1, 1e-3, ...), level i is the integer
    (L + i * S) divided by 10**d, the float nearest the decimal: 0.3, not 0.30000000000000004.
    """

    def __init__(self, low: float, high: float, step: float) -> None:
        self.low, self.high, self.step = low, high, step
        self.scale = 0  # 10**d when the exact decimal grid applies, else 0
        self.first = self.stride = 0
        digits = max(_decimals(low), _decimals(high), _decimals(step))
        if digits <= 22:
            first, last, stride = (int(Decimal(repr(v)).scaleb(digits)) for v in (low, high, step))
            if max(abs(first), abs(last)) < MAX_INT and (last - first) % stride == 0:
                self.scale, self.first, self.stride = 10**digits, first, stride
                self.n_levels = (last - first) // stride + 1
        if not self.scale:
            ratio = (high - low) / step
            whole = round(ratio)
            if whole < 1 or abs(ratio - whole) > 1e-9 * max(1.0, ratio):
                raise SpaceError(
                    f"Float: step={step!r} does not divide high - low = {high - low!r} into "
                    f"whole steps (expected (high - low) / step to be an integer, got {ratio!r})"
                )
            self.n_levels = whole + 1
        magnitude = math.ulp(max(abs(low), abs(high)))
        if self.n_levels > MAX_LEVELS or step < 1024 * magnitude:
            raise SpaceError(
                f"Float: step={step!r} is too fine ({self.n_levels} levels; at most 2**50, "
                "each far wider than the float64 spacing of the bounds)"
            )
        self.tolerance = max(1e-9 * step, 8 * magnitude)
        # Small grids keep their levels in a list: decoding is then a lookup.
        self.table = [self.level(i) for i in range(self.n_levels)] if self.n_levels <= 2**14 else []

    def level(self, i: int) -> float:
        if self.scale:
            x = (self.first + i * self.stride) / self.scale
        else:
            x = self.high if i == self.n_levels - 1 else self.low + i * self.step
        return min(max(x, self.low), self.high)

    def index(self, x: float) -> int:
        return min(max(round((x - self.low) / self.step), 0), self.n_levels - 1)

    def levels(self, indices: list[int]) -> list[Any]:
        return list(map(self.table.__getitem__ if self.table else self.level, indices))

    def snap(self, x: float) -> float:
        """The grid value x stands for; SpaceError when x is off the grid."""
        i = round((x - self.low) / self.step)
        if 0 <= i < len(self.table) and self.table[i] == x:
            return self.table[i]  # already a grid value: the common case, kept fast
        snapped = self.level(self.index(x))
        if abs(x - snapped) > self.tolerance:
            raise SpaceError(
                f"got {x!r}, expected a value on the grid {self.low!r} + i * {self.step!r} "
                f"(nearest: {snapped!r})"
            )
        return snapped


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
