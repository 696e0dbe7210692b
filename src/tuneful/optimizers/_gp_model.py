"""Gaussian-process regression for the GP optimizer (Rasmussen & Williams 2006, ch. 2 and 5).

Model, on standardized outputs y (see :mod:`tuneful.optimizers.gp`):

    f ~ GP(0, s * k(x, x')),   y = f(x) + e,   e ~ N(0, noise)
    k(x, x') = (1 + sqrt(5) r + 5/3 r^2) exp(-sqrt(5) r)          Matérn-5/2 (R&W eq. 4.17)
    r^2 = sum_f ((phi_f(x) - phi_f(x')) / l_owner(f))^2           ARD, features of _gp_inputs

Hyperparameters ``theta = (log l_1..l_D, log s, log noise)`` are the maximum a posteriori
estimate: the log marginal likelihood (R&W eq. 5.8) plus the log prior densities

    l_j   ~ LogNormal(sqrt(2) + log(D) / 2, sqrt(3))    Hvarfner, Hellsten & Nardi 2024,
                                                        "Vanilla Bayesian optimization
                                                        performs great in high dimensions";
                                                        BoTorch's default since v0.12
    noise ~ LogNormal(-4, 1)                            BoTorch's default since v0.12
    s     ~ Gamma(2, 0.15)                              BoTorch's outputscale prior before
                                                        v0.12 (Balandat et al. 2020)

(densities of l, noise and s themselves, as gpytorch evaluates them, so the lengthscale prior's
mode is exp(mu - sigma^2)), maximized with L-BFGS-B on analytic gradients (R&W eq. 5.9).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack, solve_triangular
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

__all__ = [
    "Hyperparameters",
    "GaussianProcess",
    "matern52",
    "kernel",
    "squared_differences",
    "log_posterior",
    "fit_hyperparameters",
    "default_starts",
    "prior_mode",
]

_LOG_2PI = math.log(2.0 * math.pi)
_LENGTHSCALE_SIGMA = math.sqrt(3.0)
_NOISE_MU, _NOISE_SIGMA = -4.0, 1.0
_SIGNAL_SHAPE, _SIGNAL_RATE = 2.0, 0.15
# bounds of theta: lengthscales in [0.01, 100] (the cube has width 1), signal variance in
# [0.01, 100] and noise in [1e-6, 1] (outputs are standardized)
_LOG_LENGTHSCALE_BOUNDS = (math.log(1e-2), math.log(1e2))
_LOG_SIGNAL_BOUNDS = (math.log(1e-2), math.log(1e2))
_LOG_NOISE_BOUNDS = (math.log(1e-6), 0.0)
_FAILED = 1e25  # objective value where the kernel matrix is not numerically positive definite


def matern52(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Matérn-5/2 correlation and its derivative in r^2, elementwise.

    With ``t = sqrt(5 r^2)``: ``k = (1 + t + t^2 / 3) exp(-t)`` and
    ``dk/d(r^2) = -5/6 (1 + t) exp(-t)`` (finite at r = 0, unlike dk/dr).
    """
    t = np.sqrt(5.0 * np.maximum(r2, 0.0))
    decay = np.exp(-t)
    k = (1.0 + t + t * t / 3.0) * decay
    return k, (-5.0 / 6.0) * (1.0 + t) * decay


def kernel(
    features_a: np.ndarray, features_b: np.ndarray, owner: np.ndarray, hyper: Hyperparameters
) -> np.ndarray:
    """Signal covariance ``s k(x_a, x_b)`` between two sets of features, shape (m_a, m_b)."""
    scale = 1.0 / hyper.lengthscales[owner]
    r2 = cdist(np.asarray(features_a) * scale, np.asarray(features_b) * scale, "sqeuclidean")
    return hyper.signal * matern52(r2)[0]


@dataclass(frozen=True)
class Hyperparameters:
    """Kernel hyperparameters: lengthscales (D,), signal variance ``s`` and noise variance."""

    lengthscales: np.ndarray
    signal: float
    noise: float

    def vector(self) -> np.ndarray:
        """``theta = (log l, log s, log noise)``, shape (D + 2,)."""
        return np.concatenate(
            [np.log(self.lengthscales), [math.log(self.signal)], [math.log(self.noise)]]
        )

    @classmethod
    def from_vector(cls, theta: np.ndarray) -> Hyperparameters:
        theta = np.asarray(theta, dtype=np.float64)
        return cls(np.exp(theta[:-2]), float(math.exp(theta[-2])), float(math.exp(theta[-1])))


def prior_mode(dim: int) -> Hyperparameters:
    """Where the prior density of each hyperparameter peaks."""
    mu = math.sqrt(2.0) + 0.5 * math.log(dim)
    return Hyperparameters(
        np.full(dim, math.exp(mu - _LENGTHSCALE_SIGMA**2)),
        (_SIGNAL_SHAPE - 1.0) / _SIGNAL_RATE,
        math.exp(_NOISE_MU - _NOISE_SIGMA**2),
    )


def _log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """Log prior density and its gradient in theta."""
    dim = theta.size - 2
    log_l, log_s, log_noise = theta[:-2], theta[-2], theta[-1]
    mu = math.sqrt(2.0) + 0.5 * math.log(dim)
    # log LogNormal(x; mu, sigma) = -(log x - mu)^2 / (2 sigma^2) - log x + const
    z = (log_l - mu) / _LENGTHSCALE_SIGMA
    value = float(np.sum(-0.5 * z * z - log_l))
    grad = np.empty_like(theta)
    grad[:-2] = -z / _LENGTHSCALE_SIGMA - 1.0
    zn = (log_noise - _NOISE_MU) / _NOISE_SIGMA
    value += -0.5 * zn * zn - log_noise
    grad[-1] = -zn / _NOISE_SIGMA - 1.0
    # log Gamma(x; a, b) = (a - 1) log x - b x + const
    s = math.exp(log_s)
    value += (_SIGNAL_SHAPE - 1.0) * log_s - _SIGNAL_RATE * s
    grad[-2] = (_SIGNAL_SHAPE - 1.0) - _SIGNAL_RATE * s
    return value, grad


def squared_differences(features: np.ndarray, owner: np.ndarray, dim: int) -> np.ndarray:
    """Per-column squared feature differences of all pairs, shape (n, n, dim).

    ``r^2 = squared_differences(...) @ (1 / l^2)``: computed once per fit, so that each
    evaluation of the likelihood costs one matrix-vector product to build the distances.
    """
    diff = features[:, None, :] - features[None, :, :]
    diff *= diff
    starts = np.searchsorted(owner, np.arange(dim))
    return np.add.reduceat(diff, starts, axis=2)


def _cholesky(K: np.ndarray) -> np.ndarray | None:
    factor, info = lapack.dpotrf(K, lower=1, clean=1)
    return factor if info == 0 else None


def log_posterior(
    theta: np.ndarray, differences: np.ndarray, y: np.ndarray, *, with_prior: bool = True
) -> tuple[float, np.ndarray]:
    """Log marginal likelihood (+ log prior) and its gradient in theta.

    Args:
        theta: ``(log l, log s, log noise)``, shape (D + 2,).
        differences: ``squared_differences`` of the training features, (n, n, D).
        y: standardized outputs, shape (n,).

    With ``K = s k + noise I``, ``alpha = K^-1 y`` and ``W = alpha alpha^T - K^-1``
    (R&W eq. 5.9): ``d/dtheta = 1/2 tr(W dK/dtheta)``, where ``dK/dlog s = s k``,
    ``dK/dlog noise = noise I`` and ``dK/dlog l_j = s k'(r^2) (-2 d_j / l_j^2)``.
    """
    n, _, dim = differences.shape
    inv_l2 = np.exp(-2.0 * theta[:dim])
    signal, noise = math.exp(theta[dim]), math.exp(theta[dim + 1])
    flat = differences.reshape(n * n, dim)
    k, dk = matern52((flat @ inv_l2).reshape(n, n))
    K = signal * k
    K[np.diag_indices(n)] += noise
    factor = _cholesky(K)
    if factor is None:
        return -_FAILED, np.zeros_like(theta)
    alpha, _ = lapack.dpotrs(factor, y, lower=1)
    inverse, _ = lapack.dpotri(factor, lower=1)
    inverse = np.tril(inverse)
    inverse += np.tril(inverse, -1).T
    value = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(factor)))) - 0.5 * n * _LOG_2PI
    W = np.outer(alpha, alpha)
    W -= inverse
    grad = np.empty_like(theta)
    grad[:dim] = -signal * ((W * dk).reshape(-1) @ flat) * inv_l2
    grad[dim] = 0.5 * signal * float(np.sum(W * k))
    grad[dim + 1] = 0.5 * noise * float(np.trace(W))
    if with_prior:
        prior_value, prior_grad = _log_prior(theta)
        value += prior_value
        grad += prior_grad
    return value, grad


def _bounds(dim: int) -> list[tuple[float, float]]:
    return [_LOG_LENGTHSCALE_BOUNDS] * dim + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]


def default_starts(dim: int) -> list[Hyperparameters]:
    """Deterministic starting points of a fit without a warm start.

    The prior mode (short lengthscales, little noise), and a smooth, noisier model: the two
    basins in which a marginal likelihood's local optima usually lie.
    """
    mode = prior_mode(dim)
    smooth = Hyperparameters(np.full(dim, 4.0 * mode.lengthscales[0]), 1.0, 0.05)
    return [Hyperparameters(mode.lengthscales, 1.0, 1e-3), smooth]


def fit_hyperparameters(
    features: np.ndarray,
    owner: np.ndarray,
    y: np.ndarray,
    starts: list[Hyperparameters],
    *,
    max_iterations: int = 200,
) -> Hyperparameters:
    """MAP hyperparameters: L-BFGS-B from each start, the best end point wins.

    Args:
        features: training features, shape (n, n_features).
        owner: column of each feature, shape (n_features,), sorted.
        y: standardized outputs, shape (n,).
        starts: starting points (at least one); evaluated in order, ties go to the first.
    """
    dim = len(starts[0].lengthscales)
    differences = squared_differences(features, owner, dim)
    bounds = _bounds(dim)
    low = np.array([b[0] for b in bounds])
    high = np.array([b[1] for b in bounds])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = log_posterior(theta, differences, y)
        return -value, -grad

    best_theta, best_value = None, math.inf
    for start in starts:
        theta0 = np.clip(start.vector(), low, high)
        result = minimize(
            objective,
            theta0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iterations},
        )
        theta = np.clip(result.x, low, high)
        value = float(result.fun)
        if value < best_value:
            best_theta, best_value = theta, value
    if best_theta is None:  # every start failed: fall back to the first start
        best_theta = np.clip(starts[0].vector(), low, high)
    return Hyperparameters.from_vector(best_theta)


class GaussianProcess:
    """The posterior of f given (features, y) under fixed hyperparameters.

    Args:
        features: training features, shape (n, n_features).
        owner: column of each feature, shape (n_features,).
        y: standardized outputs, shape (n,).
        hyper: kernel hyperparameters.
    """

    def __init__(
        self, features: np.ndarray, owner: np.ndarray, y: np.ndarray, hyper: Hyperparameters
    ) -> None:
        self.features = np.asarray(features, dtype=np.float64)
        self.owner = owner
        self.y = np.asarray(y, dtype=np.float64)
        self.hyper = hyper
        self.scale = 1.0 / hyper.lengthscales[owner]  # per feature
        self.scaled = self.features * self.scale
        n = self.y.size
        k, _ = matern52(cdist(self.scaled, self.scaled, "sqeuclidean"))
        K = hyper.signal * k
        K[np.diag_indices(n)] += hyper.noise
        factor = _cholesky(K)
        jitter = 1e-8 * hyper.signal
        while factor is None and jitter <= hyper.signal:  # rounding: add a little to the diagonal
            K[np.diag_indices(n)] += jitter
            factor = _cholesky(K)
            jitter *= 10.0
        if factor is None:
            raise np.linalg.LinAlgError("the GP kernel matrix is not positive definite")
        self.factor = factor
        self.alpha, _ = lapack.dpotrs(factor, self.y, lower=1)

    def condition_on(self, features: np.ndarray, y: np.ndarray) -> GaussianProcess:
        """The posterior after also observing ``y`` at ``features`` (same hyperparameters)."""
        return GaussianProcess(
            np.vstack([self.features, features]),
            self.owner,
            np.concatenate([self.y, np.asarray(y, dtype=np.float64).reshape(-1)]),
            self.hyper,
        )

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of f (noise excluded) at features (m, n_features).

        ``mean = k_* alpha``, ``var = s - v^T v`` with ``v = L^-1 k_*`` (R&W eq. 2.25-2.26).
        """
        mean, variance, _, _ = self._predict(features, None)
        return mean, variance

    def predict_with_gradients(
        self, features: np.ndarray, gradient_features: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean (m,), variance (m,) and their gradients (m, G) in some features.

        Args:
            features: query features, shape (m, n_features).
            gradient_features: feature indices to differentiate by, shape (G,).

        With scaled features ``z = phi / l``,
        ``d k(x, x_b) / d phi_g = s k'(r^2) 2 (z_g - z_bg) / l_g``; the mean's gradient is
        ``dk_*^T alpha`` and the variance's ``-2 dk_*^T K^-1 k_*``.
        """
        mean, variance, d_mean, d_variance = self._predict(features, gradient_features)
        if d_mean is None or d_variance is None:  # unreachable: gradients were asked for
            raise RuntimeError("gradients were not computed")
        return mean, variance, d_mean, d_variance

    def _predict(
        self, features: np.ndarray, gradient_features: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        scaled = np.asarray(features, dtype=np.float64) * self.scale
        k, dk = matern52(cdist(scaled, self.scaled, "sqeuclidean"))
        signal = self.hyper.signal
        cross = signal * k  # (m, n)
        mean = cross @ self.alpha
        v = solve_triangular(self.factor, cross.T, lower=True, check_finite=False)
        variance = np.maximum(signal - np.einsum("ij,ij->j", v, v), 1e-12 * signal)
        if gradient_features is None:
            return mean, variance, None, None
        w = solve_triangular(self.factor, v, lower=True, trans=1, check_finite=False)  # K^-1 k
        g = np.asarray(gradient_features, dtype=np.int64)
        scale = 2.0 * signal * self.scale[g]
        z, z_train = scaled[:, g], self.scaled[:, g]
        weights = dk * self.alpha  # (m, n)
        d_mean = scale * (z * weights.sum(axis=1)[:, None] - weights @ z_train)
        weights = dk * w.T
        d_variance = -2.0 * scale * (z * weights.sum(axis=1)[:, None] - weights @ z_train)
        return mean, variance, d_mean, d_variance
