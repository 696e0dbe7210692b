"""Kernel inputs of the GP optimizer: encoded points of a space -> Euclidean features.

The GP works in the encoded unit cube of :mod:`tuneful.space`, one lengthscale per encoded
column. Each column becomes one or more *features*, and the kernel sees the squared distance

    r^2(x, x') = sum_f ((phi_f(x) - phi_f(x')) / l_owner(f))^2

where ``owner(f)`` is the column feature ``f`` belongs to. Because ``r^2`` is a squared
Euclidean distance between feature vectors, the Matérn kernel built on it stays positive
definite whatever the mix of columns:

- continuous and ordinal columns (floats, ints, step floats): the encoded value ``u``;
- categorical columns (k levels, ``u = (i + 0.5) / k``): a one-hot vector scaled by
  ``1 / sqrt(2)``, so two different levels are at squared distance exactly 1 (the Hamming
  or overlap kernel of e.g. Ru et al. 2020, "Bayesian optimisation over multiple continuous
  and categorical inputs"), whatever their order;
- conditional columns (NaN = inactive): an inactive value is imputed at the centre 0.5 and a
  flag feature is set to 1 (a categorical gets an extra "inactive" level instead). Two inactive
  values coincide; an active and an inactive value are at squared distance 1 to 1.25, about
  the width of the whole range, so the GP treats the two branches as unrelated unless the
  fitted lengthscale says the column does not matter.

Discrete columns are never relaxed: candidates are snapped to their levels before the
acquisition sees them, and a local search over levels replaces gradient steps there.
"""

from __future__ import annotations

import math

import numpy as np

from tuneful.space import Int, Space

__all__ = ["InputMap"]

_ALL_LEVELS = 32  # discrete columns with at most this many levels are searched exhaustively
_HALF_SQRT2 = math.sqrt(0.5)


class InputMap:
    """Features, level snapping and activity of the encoded points of one space.

    Attributes:
        dim: number of encoded columns (= number of lengthscales).
        owner: for each feature, the column it belongs to; shape (n_features,), sorted.
        continuous: columns optimized by gradient steps (floats without step); shape (dim,).
        value_feature: for each column, the index of its value feature (-1 for categoricals).
    """

    def __init__(self, space: Space) -> None:
        self.space = space
        self.dim = space.dim
        self.n_levels = np.asarray(space.n_levels, dtype=np.int64)
        self.categorical = np.asarray(space.is_categorical, dtype=bool)
        self.conditional = np.asarray(space.conditional_mask, dtype=bool)
        self.continuous = self.n_levels == 0
        self.discrete_columns = np.flatnonzero(~self.continuous)
        self.continuous_columns = np.flatnonzero(self.continuous)
        # log-scale ints: u <-> round(exp(a + u * b)), see tuneful.space
        self.log_int = np.zeros(self.dim, dtype=bool)
        self.low = np.zeros(self.dim)
        self.high = np.zeros(self.dim)
        for j, name in enumerate(space.encoded_names):
            param = space[name]
            if isinstance(param, Int) and param.log:
                self.log_int[j] = True
                self.low[j], self.high[j] = param.low, param.high
        self.log_origin = np.where(self.log_int, np.log(np.maximum(self.low - 0.5, 0.5)), 0.0)
        self.log_width = np.where(self.log_int, np.log(self.high + 0.5) - self.log_origin, 1.0)
        owner: list[int] = []
        self.value_feature = np.full(self.dim, -1, dtype=np.int64)
        for j in range(self.dim):
            if self.categorical[j]:
                width = int(self.n_levels[j]) + int(self.conditional[j])
                owner.extend([j] * width)
            else:
                self.value_feature[j] = len(owner)
                owner.extend([j] * (1 + int(self.conditional[j])))
        self.owner = np.asarray(owner, dtype=np.int64)
        self.n_features = len(owner)
        self.first_feature = np.searchsorted(self.owner, np.arange(self.dim))
        names = set(space.encoded_names)
        parents = {p for n in space.encoded_names for p in space[n].when if p in names}
        self.parent_columns = np.array(
            [j for j, n in enumerate(space.encoded_names) if n in parents], dtype=np.int64
        )

    # -- features ----------------------------------------------------------------------------
    def features(self, X: np.ndarray) -> np.ndarray:
        """Encoded points (m, dim), NaN where inactive -> features (m, n_features)."""
        X = np.asarray(X, dtype=np.float64).reshape(-1, self.dim)
        m = X.shape[0]
        inactive = np.isnan(X)
        out = np.zeros((m, self.n_features))
        for j in range(self.dim):
            start = self.first_feature[j]
            if self.categorical[j]:
                k = int(self.n_levels[j])
                level = self.level_index(X[:, j], j)
                level = np.where(inactive[:, j], k, level)  # the "inactive" slot
                if not self.conditional[j]:
                    level = np.minimum(level, k - 1)  # NaN in an unconditional column
                out[np.arange(m), start + level] = _HALF_SQRT2
            else:
                out[:, start] = np.where(inactive[:, j], 0.5, X[:, j])
                if self.conditional[j]:
                    out[:, start + 1] = inactive[:, j]
        return out

    def level_index(self, u: np.ndarray, j: int) -> np.ndarray:
        """Level index ``min(floor(u * k), k - 1)`` of a levels column (NaN -> 0)."""
        k = int(self.n_levels[j])
        safe = np.nan_to_num(np.asarray(u, dtype=np.float64), nan=0.0)
        return np.clip(np.floor(safe * k), 0, k - 1).astype(np.int64)

    # -- discrete columns --------------------------------------------------------------------
    def snap(self, X: np.ndarray) -> np.ndarray:
        """Points with every discrete column moved to the encoding of its level (copy)."""
        X = np.clip(np.asarray(X, dtype=np.float64), 0.0, 1.0)
        for j in self.discrete_columns.tolist():
            X[:, j] = self._snap_column(X[:, j], j)
        return X

    def _snap_column(self, u: np.ndarray, j: int) -> np.ndarray:
        if self.log_int[j]:
            value = np.exp(self.log_origin[j] + u * self.log_width[j])
            whole = np.clip(np.floor(value + 0.5), self.low[j], self.high[j])
            return self._log_int_encoding(whole, j)
        k = int(self.n_levels[j])
        return (self.level_index(u, j) + 0.5) / k

    def _log_int_encoding(self, whole: np.ndarray, j: int) -> np.ndarray:
        return np.clip((np.log(whole) - self.log_origin[j]) / self.log_width[j], 0.0, 1.0)

    def level_choices(self, u: float, j: int) -> np.ndarray:
        """Encoded values to try for column ``j`` in a local search from value ``u``.

        All levels when there are at most 32 (every categorical level is one step away from
        every other); otherwise the current level +- 1, 2, 4, ... levels, so that a few sweeps
        can cross a long integer range.
        """
        k = int(self.n_levels[j])
        if self.log_int[j]:  # levels are the integers low..high themselves
            first, last = self.low[j], self.high[j]
            current = float(self._snap_column(np.array([u]), j)[0])
            current = float(
                np.floor(np.exp(self.log_origin[j] + current * self.log_width[j]) + 0.5)
            )
        else:
            first, last = 0.0, k - 1.0
            current = float(self.level_index(np.array([u]), j)[0])
        if k <= _ALL_LEVELS:
            levels = np.arange(first, last + 1.0)
        else:
            steps = 2.0 ** np.arange(int(math.log2(last - first)) + 1)
            around = np.concatenate([current - steps, [current], current + steps])
            levels = np.unique(np.clip(around, first, last))
        if self.log_int[j]:
            return self._log_int_encoding(levels, j)
        return (levels + 0.5) / k

    # -- conditions --------------------------------------------------------------------------
    def mark_inactive(self, X: np.ndarray) -> np.ndarray:
        """Snapped points (m, dim) without NaN -> a copy with NaN where a column is inactive.

        Activity depends only on the parents' columns, so each distinct combination of parent
        values is decoded once.
        """
        X = np.array(X, dtype=np.float64)
        if not self.space.is_conditional or X.shape[0] == 0:
            return X
        parents = X[:, self.parent_columns]
        combos, inverse = np.unique(parents, axis=0, return_inverse=True)
        probe = np.full((combos.shape[0], self.dim), 0.5)
        probe[:, self.parent_columns] = combos
        probe = self.snap(probe)
        pattern = np.isnan(self.space.encode_lenient(self.space.decode(probe)))
        X[pattern[np.asarray(inverse).reshape(-1)]] = np.nan
        return X
