"""Parzen estimators over columns of the encoded unit cube: the densities TPE compares.

A :class:`ParzenEstimator` is a mixture of product kernels, one component per observation
plus a uniform prior component (Bergstra et al. 2011, "Algorithms for Hyper-Parameter
Optimization", Sec. 4; joint kernels across dimensions as in Falkner et al. 2018, "BOHB",
Sec. 3.2)::

    p(x) = sum_i pi k_i(x) + pi_0 u(x),   k_i(x) = prod_j k_ij(x_j),   u(x) = prod_j u_j(x_j),
    pi = 1 / (n + w_0),   pi_0 = w_0 / (n + w_0)   (w_0: the prior's weight)

Kernels by column type (:class:`Column`):

- continuous: a Gaussian N(mu_ij, sigma_j^2) truncated to [0, 1] (a density);
- discrete numeric (ints, step floats): the same truncated Gaussian integrated over the
  level's cell of [0, 1] (a probability per level; the cells tile [0, 1], so the
  levels' probabilities sum to one);
- categorical: Aitchison & Aitken (1976): probability 1 - lambda on the observed choice and
  lambda / (k - 1) on each other one.

The prior component is uniform on the cube: density 1 on a continuous column, the cell
width on a discrete one (1 / k for categoricals and evenly spaced levels).

Also here: the truncated standard normal's log-mass, log-density and inverse-CDF sampling,
accurate in both tails (:func:`log_gauss_mass`, :func:`truncnorm_log_pdf`,
:func:`truncnorm_sample`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import erf, log_ndtr, ndtri_exp

__all__ = [
    "Column",
    "ParzenEstimator",
    "log_gauss_mass",
    "truncnorm_log_pdf",
    "truncnorm_sample",
    "scott_bandwidths",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_EXP_FLOOR = -700.0


# -- the truncated normal ------------------------------------------------------------------


def log_gauss_mass(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(Phi(b) - Phi(a))`` elementwise for ``a <= b``, accurate in both tails.

    Intervals in the upper tail are mirrored to the lower one (``Phi(b) - Phi(a) =
    Phi(-a) - Phi(-b)``). An interval that straddles 0 has mass ``(erf(b/√2) - erf(a/√2))/2``,
    a sum of two non-negative terms; one inside the lower tail has mass
    ``Phi(b) (1 - Phi(a)/Phi(b))``, computed from ``log_ndtr`` without cancellation.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    if a.size and a.max() <= 0 < b.min():  # every interval straddles 0: kernels centred in [0, 1]
        with np.errstate(divide="ignore"):
            return np.log(0.5 * (erf(b * _SQRT_HALF) - erf(a * _SQRT_HALF)))
    upper = a > 0
    low = np.where(upper, -b, a)
    high = np.where(upper, -a, b)
    straddle = high > 0  # low <= 0 < high
    with np.errstate(divide="ignore"):
        if straddle.all():  # the common case in TPE: the kernel centre lies inside [0, 1]
            return np.log(0.5 * (erf(high * _SQRT_HALF) - erf(low * _SQRT_HALF)))
        out = np.empty(a.shape)
        out[straddle] = np.log(
            0.5 * (erf(high[straddle] * _SQRT_HALF) - erf(low[straddle] * _SQRT_HALF))
        )
        tail = ~straddle  # low < high <= 0
        log_high, log_low = log_ndtr(high[tail]), log_ndtr(low[tail])
        out[tail] = log_high + np.log(-np.expm1(log_low - log_high))
    return out


def truncnorm_log_pdf(
    x: np.ndarray, mu: np.ndarray, sigma: np.ndarray, low: float, high: float
) -> np.ndarray:
    """Log-density of N(mu, sigma^2) truncated to [low, high] at x (-inf outside)."""
    x, mu, sigma = (np.asarray(v, dtype=float) for v in (x, mu, sigma))
    z = (x - mu) / sigma
    log_mass = log_gauss_mass((low - mu) / sigma, (high - mu) / sigma)
    density = -0.5 * z * z - np.log(sigma) - _LOG_SQRT_2PI - log_mass
    return np.where((x >= low) & (x <= high), density, -np.inf)


def truncnorm_sample(
    mu: np.ndarray, sigma: np.ndarray, low: float, high: float, u: np.ndarray
) -> np.ndarray:
    """Inverse-CDF draws from N(mu, sigma^2) truncated to [low, high]; u ~ U[0, 1).

    With standardized bounds a, b and mass M = Phi(b) - Phi(a), the draw is z with
    Phi(z) = Phi(a) + u M, equivalently 1 - Phi(z) = Phi(-b) + (1 - u) M. Whichever side is
    below 1/2 is inverted in log space (``ndtri_exp``), so neither tail loses precision.
    """
    mu, sigma, u = (np.asarray(v, dtype=float) for v in (mu, sigma, u))
    a, b = (low - mu) / sigma, (high - mu) / sigma
    log_mass = log_gauss_mass(a, b)
    with np.errstate(divide="ignore"):
        log_below = np.logaddexp(log_ndtr(a), np.log(u) + log_mass)  # log Phi(z)
        log_above = np.logaddexp(log_ndtr(-b), np.log1p(-u) + log_mass)  # log(1 - Phi(z))
    below = log_below < log_above
    z = np.empty(below.shape)
    z[below] = ndtri_exp(log_below[below])  # each draw inverts only the side it needs
    z[~below] = -ndtri_exp(log_above[~below])
    return np.clip(mu + sigma * z, low, high)


# -- columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """How one encoded column is modelled (the encoding conventions of :mod:`tuneful.space`).

    Attributes:
        kind: ``"continuous"``, ``"levels"`` (ints and step floats: level i is the cell
            [i/k, (i+1)/k]), ``"log_int"`` (log-scaled ints: value v is the cell
            [enc(v - 1/2), enc(v + 1/2)]) or ``"categorical"`` (like levels).
        n_levels: k, the number of levels (0 for continuous).
        origin, width: ``log_int`` only: v encodes to (log v - origin) / width.
        low, high: ``log_int`` only: the integer bounds.
    """

    kind: str
    n_levels: int = 0
    origin: float = 0.0
    width: float = 1.0
    low: int = 0
    high: int = 0

    def level_index(self, u: np.ndarray) -> np.ndarray:
        """Encoded values -> the index of the level they decode to (int64)."""
        if self.kind == "log_int":
            return self._log_int_values(u) - self.low
        k = self.n_levels
        return np.minimum(np.floor(np.clip(u, 0.0, 1.0) * k), k - 1).astype(np.int64)

    def cells(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Encoded values -> (lower edge, upper edge, representative) of their level's cell."""
        if self.kind == "log_int":
            v = self._log_int_values(u).astype(float)
            lower = np.maximum((np.log(v - 0.5) - self.origin) / self.width, 0.0)
            upper = np.minimum((np.log(v + 0.5) - self.origin) / self.width, 1.0)
            return lower, upper, (np.log(v) - self.origin) / self.width
        k = self.n_levels
        i = self.level_index(u).astype(float)
        return i / k, (i + 1.0) / k, (i + 0.5) / k

    def _log_int_values(self, u: np.ndarray) -> np.ndarray:
        # decode as tuneful.space does: clip exp(origin + u width) to [low, high], round half up
        x = np.clip(np.exp(self.origin + u * self.width), self.low, self.high)
        x = np.where(u >= 1.0, self.high, np.where(u <= 0.0, self.low, x))
        return np.floor(x + 0.5).astype(np.int64)


# -- bandwidths ----------------------------------------------------------------------------


def scott_bandwidths(
    observations: np.ndarray,
    prior_weight: float,
    *,
    dim: int,
    factor: float,
    min_bandwidth: float,
) -> np.ndarray:
    """Per-column bandwidths by a scaled Scott's rule, ``factor s_j n^(-1/(dim + 4))``,
    clipped to [min_bandwidth, 1].

    ``s_j`` is the standard deviation of column j over the observations and the prior
    component, taken as one more pseudo-observation of weight ``prior_weight``
    (uniform on [0, 1]: mean 1/2, variance 1/12). With few observations the prior keeps the
    kernels wide; as they accumulate the spread of the data takes over. Scott's rule
    (``factor=1``) is tuned to a Gaussian target and over-smooths peaked, multimodal ones
    (Silverman 1986, Sec. 3.4), which TPE's good set is; ``factor < 1`` narrows it.

    Args:
        observations: (n, p) values in [0, 1].
        dim: the dimension of the joint kernel (Scott's exponent).

    Returns:
        (p,) bandwidths.
    """
    n, p = observations.shape
    total = n + prior_weight
    mean = (observations.sum(axis=0) + 0.5 * prior_weight) / total
    spread = ((observations - mean) ** 2).sum(axis=0) + prior_weight * (1 / 12 + (0.5 - mean) ** 2)
    std = np.sqrt(spread / total)
    scott = factor * std * max(n, 1) ** (-1.0 / (dim + 4))
    return np.clip(scott, min_bandwidth, 1.0).reshape(p)


# -- the estimator -------------------------------------------------------------------------


class ParzenEstimator:
    """A mixture of product kernels over m columns, fitted to n observations.

    Every observation's kernel has weight 1, the prior component ``prior_weight``.

    Args:
        observations: (n, m) encoded values, none NaN (n may be 0: the prior alone).
        columns: the m columns' descriptions.
        prior_weight: weight of the uniform prior component, in observations.
        bandwidth_factor: scales Scott's rule (see :func:`scott_bandwidths`).
        min_bandwidth: lower clip of the Gaussian bandwidths, in the unit cube.
    """

    def __init__(
        self,
        observations: np.ndarray,
        columns: Sequence[Column],
        *,
        prior_weight: float = 1.0,
        bandwidth_factor: float = 1.0,
        min_bandwidth: float = 0.01,
    ) -> None:
        n, m = observations.shape
        if m != len(columns):
            raise ValueError(f"observations have {m} columns, columns describe {len(columns)}")
        self.n_observations, self.dim = n, m
        self.columns = tuple(columns)
        mixture = np.append(np.ones(n), prior_weight)
        self.weights = mixture / mixture.sum()  # (n + 1,): observations, then the prior
        with np.errstate(divide="ignore"):
            self._log_weights = np.log(self.weights)
        kinds = [c.kind for c in columns]
        self._continuous = [j for j, kind in enumerate(kinds) if kind == "continuous"]
        self._discrete = [j for j, kind in enumerate(kinds) if kind in ("levels", "log_int")]
        self._categorical = [  # a single choice carries no information: left at 0.5
            j for j, c in enumerate(columns) if c.kind == "categorical" and c.n_levels > 1
        ]
        self._gaussian = self._continuous + self._discrete  # columns with Gaussian kernels

        # Gaussian kernels: centres mu (n, p), bandwidths sigma (p,), log-masses on [0, 1]
        self._mu = observations[:, self._gaussian]
        self._sigma = scott_bandwidths(
            self._mu,
            prior_weight,
            dim=max(m, 1),
            factor=bandwidth_factor,
            min_bandwidth=min_bandwidth,
        )
        self._log_norm = log_gauss_mass(-self._mu / self._sigma, (1.0 - self._mu) / self._sigma)
        n_cont = len(self._continuous)
        scaled = self._mu[:, :n_cont] / self._sigma[:n_cont]
        self._scaled_mu = scaled  # (n, c): continuous centres over bandwidths
        self._continuous_const = (  # (n,): every term of the log-density without x
            -0.5 * np.sum(scaled * scaled, axis=1)
            - np.sum(np.log(self._sigma[:n_cont]))
            - n_cont * _LOG_SQRT_2PI
            - np.sum(self._log_norm[:, :n_cont], axis=1)
        )

        # Aitchison-Aitken kernels: the prior's share spread evenly over each kernel's
        # choices, eps = prior_weight / (n + 1) per choice, gives
        # lambda = (k - 1) eps / (1 + k eps), which shrinks as observations accumulate.
        eps = prior_weight / (n + 1)
        self._levels = np.empty((n, len(self._categorical)), dtype=np.int64)
        self._move = np.empty(len(self._categorical))  # lambda
        for c, j in enumerate(self._categorical):
            k = columns[j].n_levels
            self._levels[:, c] = columns[j].level_index(observations[:, j])
            self._move[c] = (k - 1) * eps / (1.0 + k * eps)
        with np.errstate(divide="ignore"):
            self._log_keep = np.log1p(-self._move)
            self._log_other = np.log(self._move) - np.log(
                [columns[j].n_levels - 1.0 for j in self._categorical]
            )

    @property
    def bandwidths(self) -> dict[int, float]:
        """Gaussian bandwidth of each continuous or discrete column, by column index."""
        return {j: float(s) for j, s in zip(self._gaussian, self._sigma, strict=True)}

    def component_log_pdf(self, points: np.ndarray) -> np.ndarray:
        """Log-density of each observation's kernel at each point, shape (c, n)."""
        c, n = points.shape[0], self.n_observations
        n_cont = len(self._continuous)
        if n_cont:
            # sum_j ((x_j - mu_ij) / sigma_j)^2 as one matrix product: |x/s|^2 - 2 x/s.mu/s + ..
            # (in place: a fresh (c, n) temporary per term cost more than the arithmetic)
            x = points[:, self._continuous] / self._sigma[:n_cont]
            out = x @ self._scaled_mu.T
            out += -0.5 * np.sum(x * x, axis=1, keepdims=True)
            out += self._continuous_const
        else:
            out = np.zeros((c, n))
        for d, j in enumerate(self._discrete):
            col = n_cont + d
            lower, upper, _ = self.columns[j].cells(points[:, j])
            # the kernels' masses on each distinct cell among the points: (cells, n)
            _, first, inverse = np.unique(lower, return_index=True, return_inverse=True)
            mu, sigma = self._mu[:, col], self._sigma[col]
            mass = log_gauss_mass(
                (lower[first, None] - mu) / sigma, (upper[first, None] - mu) / sigma
            )
            out += mass[inverse.reshape(-1)] - self._log_norm[:, col]
        for k, j in enumerate(self._categorical):
            level = self.columns[j].level_index(points[:, j])
            same = level[:, None] == self._levels[None, :, k]
            out += np.where(same, self._log_keep[k], self._log_other[k])
        return out

    def prior_log_pdf(self, points: np.ndarray) -> np.ndarray:
        """Log-density of the uniform prior component at each point, shape (c,)."""
        out = np.zeros(points.shape[0])
        for j in self._discrete:
            lower, upper, _ = self.columns[j].cells(points[:, j])
            out += np.log(upper - lower)
        for j in self._categorical:
            out -= math.log(self.columns[j].n_levels)
        return out

    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        """Log-density of the mixture at each point: (c, m) -> (c,).

        Densities on continuous columns, probabilities on discrete ones, so two estimators
        over the same columns are comparable (TPE takes their ratio).
        """
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        prior = self._log_weights[-1] + self.prior_log_pdf(points)
        if self.n_observations == 0:
            return prior
        terms = self.component_log_pdf(points)
        terms += self._log_weights[:-1]
        top = np.maximum(terms.max(axis=1), prior)  # log-sum-exp over the n + 1 components
        terms -= top[:, None]
        # far kernels add nothing to a sum >= 1, but exp(< -708) is subnormal and slow: a
        # floor at -700 (exp = 1e-304) keeps exp on normal numbers without changing the sum
        np.maximum(terms, _EXP_FLOOR, out=terms)
        total = np.exp(terms, out=terms).sum(axis=1) + np.exp(prior - top)
        return top + np.log(total)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` points, shape (size, m); discrete columns hold level centres."""
        n, m = self.n_observations, self.dim
        component = rng.choice(n + 1, size=size, p=self.weights)  # n: the prior
        prior = component == n
        obs = np.minimum(component, max(n - 1, 0))
        out = np.full((size, m), 0.5)
        u = rng.random((size, len(self._gaussian)))
        if self._gaussian:
            if n:
                # x ~ N(mu_i, sigma^2) truncated to [0, 1], i the drawn component
                drawn = truncnorm_sample(self._mu[obs], self._sigma, 0.0, 1.0, u)
                u = np.where(prior[:, None], u, drawn)  # x ~ U[0, 1] for the prior
            out[:, self._gaussian] = u
        for j in self._discrete:
            out[:, j] = self.columns[j].cells(out[:, j])[2]
        v = rng.random((size, len(self._categorical)))
        for c, j in enumerate(self._categorical):
            k = self.columns[j].n_levels
            level = np.minimum(np.floor(v[:, c] * k), k - 1).astype(np.int64)  # prior: uniform
            if n:
                # kernel: keep the observed level w.p. 1 - lambda, else one of the k - 1 others
                move = self._move[c]
                observed = self._levels[obs, c]
                beyond = np.clip((v[:, c] - (1.0 - move)) / max(move, 1e-300), 0.0, 1.0)
                other = np.minimum(np.floor(beyond * (k - 1)), k - 2).astype(np.int64)
                moved = np.where(v[:, c] < 1.0 - move, observed, other + (other >= observed))
                level = np.where(prior, level, moved)
            out[:, j] = (level + 0.5) / k
        return out
