"""Learning-curve predictor for early stopping (Baker et al. 2017, "Accelerating neural
architecture search using performance prediction", arXiv:1705.10823).

Baker et al.'s sequential regression models predict a run's final validation value from the
first tau points of its learning curve and its hyperparameters, one model per observed length
tau, trained on the curves of completed runs. Their features, reproduced here, are

    x = [y_1..y_tau,  y'_1..y'_{tau-1},  y''_1..y''_{tau-2},  configuration]

(values, first and second differences). They use nu-SVR with an RBF kernel; here the regressor
is RBF kernel ridge regression (the same function class, with a closed-form fit), its length
scale and ridge chosen by exact leave-one-out error, and the uncertainty Baker et al. take from
an ensemble comes from a bootstrap ensemble of such models. A run is stopped when the
probability that its final value beats the incumbent is below a threshold Delta: see
:func:`probability_of_improvement`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve, eigh
from scipy.spatial.distance import cdist
from scipy.special import ndtr

from tuneful._validation import check_int

__all__ = ["CurveModel", "probability_of_improvement"]

_INACTIVE_FILL = 0.5  # inactive hyperparameters sit mid-cube; the indicator column tells them apart
_LENGTH_FACTORS = np.geomspace(0.125, 32.0, 9)  # times sqrt(n_features), standardized features
_RIDGES = np.geomspace(1e-6, 1.0, 7)  # on standardized targets, unit kernel diagonal
_MIN_STD = 1e-6  # predictive std floor, in units of the target scale
_MIN_SCALE = 1e-12  # a feature or target spread below this counts as constant


def _rbf(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
    """k(a, b) = exp(-|a - b|^2 / (2 l^2)), shape (len(a), len(b))."""
    return np.exp(-0.5 * cdist(a, b, "sqeuclidean") / length_scale**2)


def _curve_features(curves: np.ndarray) -> np.ndarray:
    """Baker et al.'s curve features: values, first and (tau >= 3) second differences."""
    parts = [curves, np.diff(curves, n=1, axis=1)]
    if curves.shape[1] >= 3:
        parts.append(np.diff(curves, n=2, axis=1))
    return np.hstack(parts)


class CurveModel:
    """Predicts the final value of a learning curve from its first τ points and the
    configuration (Baker et al. 2017), with uncertainty from a bootstrap ensemble.

    Args:
        n_members: Bootstrap members of the ensemble (>= 1).
        seed: Seed of the bootstrap resampling; ``fit`` on the same data gives the same model.

    Example:
        >>> import numpy as np
        >>> t = np.arange(1, 21)
        >>> rates = np.linspace(0.1, 0.5, 30)[:, None]
        >>> full = 0.2 + np.exp(-rates * t)
        >>> model = CurveModel(n_members=5).fit(full[:, :4], rates, full[:, -1])
        >>> mean, std = model.predict(full[:2, :4], rates[:2])
        >>> mean.shape, bool((std > 0).all())
        ((2,), True)
    """

    def __init__(self, *, n_members: int = 10, seed: int = 0) -> None:
        self._n_members = check_int(None, "n_members", n_members, minimum=1, error=ValueError)
        self._seed = check_int(None, "seed", seed, error=ValueError)
        self._fitted = False
        self._n_train = 0
        self._tau = 0
        self._n_configs = 0

    @property
    def n_train(self) -> int:
        """Number of completed curves the model was fitted on (0 before ``fit``)."""
        return self._n_train

    def fit(self, curves: np.ndarray, configs: np.ndarray, finals: np.ndarray) -> CurveModel:
        """Fit on completed curves.

        Args:
            curves: (n, τ) values at the first τ decision points of n completed curves.
            configs: (n, p) encoded hyperparameters in [0, 1], NaN for inactive ones (p may
                be 0).
            finals: (n,) the final values.

        Returns:
            The model itself.

        Raises:
            ValueError: On mismatched shapes, n < 2, non-finite curves or finals, infinite
                configs; the message names the argument and the shape or value.
        """
        curves, configs = self._check_inputs(curves, configs, fitting=True)
        finals = np.asarray(finals, dtype=float)
        n = curves.shape[0]
        if finals.shape != (n,):
            raise ValueError(f"finals must have shape ({n},) to match curves, got {finals.shape}")
        if not np.isfinite(finals).all():
            raise ValueError(f"finals must be finite, got {finals[~np.isfinite(finals)][:3]}")
        if n < 2:
            raise ValueError(f"curves must hold at least 2 completed curves, got n={n}")
        self._tau, self._n_configs, self._n_train = curves.shape[1], configs.shape[1], n
        # inactive hyperparameters: a 0/1 indicator for each column that has NaNs in training
        self._nan_columns = np.flatnonzero(np.isnan(configs).any(axis=0))
        raw = self._raw_features(curves, configs)
        self._x_mean = raw.mean(axis=0)
        spread = raw.std(axis=0)
        self._x_scale = np.where(spread > _MIN_SCALE, spread, 1.0)  # constant columns become 0
        x = (raw - self._x_mean) / self._x_scale
        self._y_mean = float(finals.mean())
        spread_y = float(finals.std())
        self._y_scale = spread_y if spread_y > _MIN_SCALE else max(abs(self._y_mean), 1.0)
        y = (finals - self._y_mean) / self._y_scale
        self._select_hyperparameters(x, y)
        # bootstrap ensemble with the chosen hyperparameters, Baker et al.'s ensemble of SRMs
        rng = np.random.default_rng(self._seed)
        self._members: list[tuple[np.ndarray, np.ndarray]] = []
        for _ in range(self._n_members):
            # the sample's distinct rows: repeats would only re-weight them and make K singular
            rows = np.unique(rng.integers(0, n, size=n))
            if rows.size < 2:
                rows = np.arange(n)
            gram = _rbf(x[rows], x[rows], self._length_scale)
            gram[np.diag_indices_from(gram)] += self._ridge
            alpha = cho_solve(cho_factor(gram, lower=True), y[rows])
            self._members.append((x[rows], alpha))
        self._fitted = True
        return self

    def predict(self, curves: np.ndarray, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predict the finals of partial curves.

        Args:
            curves: (m, τ) the first τ values, τ as in ``fit``.
            configs: (m, p) encoded hyperparameters, p as in ``fit``.

        Returns:
            (mean (m,), std (m,)) of the predicted finals; std > 0 always. The std combines
            the ensemble's spread with the chosen model's leave-one-out residual variance.
        """
        if not self._fitted:
            raise RuntimeError("CurveModel.predict was called before fit")
        curves, configs = self._check_inputs(curves, configs, fitting=False)
        x = (self._raw_features(curves, configs) - self._x_mean) / self._x_scale
        outputs = np.stack([_rbf(x, rows, self._length_scale) @ a for rows, a in self._members])
        mean = outputs.mean(axis=0)
        variance = outputs.var(axis=0) + self._loo_mse + _MIN_STD**2  # ~ N(mean, var) per run
        return self._y_mean + self._y_scale * mean, self._y_scale * np.sqrt(variance)

    def describe(self) -> dict[str, Any]:
        """JSON-safe summary: chosen length scale and ridge, LOO RMSE (target units), sizes."""
        if not self._fitted:
            return {"fitted": False, "n_train": 0, "tau": None, "n_members": self._n_members}
        return {
            "fitted": True,
            "length_scale": float(self._length_scale),
            "ridge": float(self._ridge),
            "loo_rmse": float(math.sqrt(self._loo_mse) * self._y_scale),
            "n_train": int(self._n_train),
            "tau": int(self._tau),
            "n_configs": int(self._n_configs),
            "n_members": int(self._n_members),
            "seed": int(self._seed),
        }

    def _check_inputs(
        self, curves: np.ndarray, configs: np.ndarray, *, fitting: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        curves = np.asarray(curves, dtype=float)
        configs = np.asarray(configs, dtype=float)
        if curves.ndim != 2 or curves.shape[1] < 1:
            raise ValueError(f"curves must have shape (n, tau) with tau >= 1, got {curves.shape}")
        if not fitting and curves.shape[1] != self._tau:
            raise ValueError(f"curves must have tau={self._tau} columns, got {curves.shape}")
        if not np.isfinite(curves).all():
            raise ValueError(f"curves must be finite, got {curves[~np.isfinite(curves)][:3]}")
        if configs.ndim == 1 and configs.size == 0:
            configs = configs.reshape(curves.shape[0], 0)
        p = configs.shape[1] if configs.ndim == 2 else -1
        if configs.ndim != 2 or configs.shape[0] != curves.shape[0]:
            raise ValueError(f"configs must have shape ({curves.shape[0]}, p), got {configs.shape}")
        if not fitting and p != self._n_configs:
            raise ValueError(f"configs must have p={self._n_configs} columns, got {configs.shape}")
        if np.isinf(configs).any():
            raise ValueError(f"configs must be finite or NaN, got {configs[np.isinf(configs)][:3]}")
        return curves, configs

    def _raw_features(self, curves: np.ndarray, configs: np.ndarray) -> np.ndarray:
        inactive = np.isnan(configs)
        filled = np.where(inactive, _INACTIVE_FILL, configs)
        indicators = inactive[:, self._nan_columns].astype(float)
        return np.hstack([_curve_features(curves), filled, indicators])

    def _select_hyperparameters(self, x: np.ndarray, y: np.ndarray) -> None:
        """Length scale and ridge minimizing the exact leave-one-out error of KRR.

        With G = K + lambda I and alpha = G^{-1} y, the LOO residual of point i is
        e_i = alpha_i / [G^{-1}]_ii (e.g. Rifkin & Lippert 2007); one eigendecomposition of K
        per length scale gives every ridge on the grid.
        """
        base = math.sqrt(max(x.shape[1], 1))
        best = (math.inf, 1.0, 1.0)
        for factor in _LENGTH_FACTORS:
            length_scale = float(factor * base)
            eigenvalues, vectors = eigh(_rbf(x, x, length_scale))
            eigenvalues = np.clip(eigenvalues, 0.0, None)  # K is PSD; round-off can dip below
            projected = vectors.T @ y
            for ridge in _RIDGES:
                inverse = 1.0 / (eigenvalues + ridge)
                alpha = vectors @ (inverse * projected)
                diagonal = (vectors**2) @ inverse
                mse = float(np.mean((alpha / diagonal) ** 2))
                if mse < best[0] - 1e-12:
                    best = (mse, length_scale, float(ridge))
        self._loo_mse, self._length_scale, self._ridge = best


def probability_of_improvement(
    mean: np.ndarray, std: np.ndarray | float, incumbent: float
) -> np.ndarray:
    """P(final < incumbent) under N(mean, std²) — values are oriented for minimization.

    Baker et al. stop a run when this probability falls below a threshold Delta.

    Args:
        mean: Predicted finals, any shape.
        std: Their standard deviations, broadcastable with ``mean``, finite and > 0.
        incumbent: The best final value so far (``inf`` when there is none: probability 1).

    Returns:
        Phi((incumbent - mean) / std), the shape of ``mean`` and ``std`` broadcast.
    """
    mean = np.asarray(mean, dtype=float)
    std = np.asarray(std, dtype=float)
    if math.isnan(incumbent):
        raise ValueError(f"incumbent must not be NaN, got {incumbent!r}")
    if not np.isfinite(mean).all():
        raise ValueError(f"mean must be finite, got {mean[~np.isfinite(mean)][:3]}")
    if not (np.isfinite(std) & (std > 0)).all():
        raise ValueError(
            f"std must be finite and > 0, got {std[~(np.isfinite(std) & (std > 0))][:3]}"
        )
    return np.asarray(ndtr((incumbent - mean) / std))
