"""Log expected improvement and its maximization over the encoded cube.

For minimization with incumbent ``best``, posterior mean ``mu`` and deviation ``sigma``:

    EI(x) = sigma h(z),   z = (best - mu) / sigma,   h(z) = phi(z) + z Phi(z)

EI underflows to exactly 0 (and its gradient with it) once z < -38 or so, which leaves a
gradient method stranded on flat ground far from the data. LogEI (Ament, Daulton, Eriksson,
Balandat & Bakshy 2023, "Unexpected improvements to expected improvement for Bayesian
optimization", eq. 9) evaluates ``log h`` with three branches that stay accurate to the far
tail:

    log h(z) = log(phi(z) + z Phi(z))                                   z > -1
             = -z^2/2 - c1 + log1mexp(log(erfcx(-z/sqrt 2) |z|) + c2)   z_tail < z <= -1
             = -z^2/2 - c1 - 2 log|z|                                   z <= z_tail

with ``c1 = log(2 pi) / 2``, ``c2 = log(pi / 2) / 2``. The paper puts ``z_tail`` at
``-1/sqrt(eps)``; in float64 the middle branch computes ``1 - q`` with ``q = 1 - 1/z^2 + ...``
and so loses ``eps z^2`` of its accuracy (it returns NaN near -1/sqrt(eps)), while the
asymptote is off by ``3/z^2``. The two errors cross at ``|z| = (3/eps)^(1/4) ~ 1.1e4``, where
both are ~3e-8: that is where this module switches (BoTorch, in float64, switches at -1e6).
Its derivative is
``d log h / dz = Phi(z) / h(z) = exp(log Phi(z) - log h(z))`` (because ``h' = Phi``), also
finite everywhere.

The maximizer follows the usual recipe (BoTorch's ``optimize_acqf``; Balandat et al. 2020):
score many quasi-random points, the best observed points and perturbations of them, then
polish the top few with L-BFGS-B on the continuous columns, all starts at once, and a
coordinate search over the levels of the discrete columns.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import erfcx, log_ndtr, ndtr

from tuneful.optimizers._gp_inputs import InputMap
from tuneful.optimizers._gp_model import GaussianProcess

__all__ = [
    "log_h",
    "log_expected_improvement",
    "log_probability_below",
    "ConstraintModel",
    "JointTerm",
    "maximize_log_ei",
]

_C1 = 0.5 * math.log(2.0 * math.pi)
_C2 = 0.5 * math.log(0.5 * math.pi)
_TAIL = -((3.0 / np.finfo(np.float64).eps) ** 0.25)  # see the module docstring
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOCAL_SIGMAS = (0.01, 0.05, 0.2)  # perturbation scales around the best points (unit cube)
_MAX_ITERATIONS = 100
_DISCRETE_SWEEPS = 2


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for x < 0 without cancellation (Mächler 2012)."""
    out = np.empty_like(x)
    near = x > -math.log(2.0)
    out[near] = np.log(-np.expm1(x[near]))
    out[~near] = np.log1p(-np.exp(x[~near]))
    return out


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(phi(z) + z Phi(z))``, accurate for every finite z (see the module docstring)."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    upper = z > -1.0
    tail = z <= _TAIL
    middle = ~upper & ~tail
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu * zu) * _INV_SQRT2PI + zu * ndtr(zu))
    zm = z[middle]
    out[middle] = (
        -0.5 * zm * zm - _C1 + _log1mexp(np.log(erfcx(-zm / math.sqrt(2.0)) * np.abs(zm)) + _C2)
    )
    zt = z[tail]
    out[tail] = -0.5 * zt * zt - _C1 - 2.0 * np.log(np.abs(zt))
    return out


def log_expected_improvement(
    mean: np.ndarray, variance: np.ndarray, best: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log EI for minimization, and its derivatives in the mean and in the variance.

    Returns:
        (log EI, d log EI / d mean, d log EI / d variance), each shaped like ``mean``.
    """
    sigma = np.sqrt(variance)
    z = (best - mean) / sigma
    value = log_h(z)
    slope = np.exp(log_ndtr(z) - value)  # d log h / dz
    # log EI = log h(z) + log sigma;  dz/dmean = -1/sigma;  dz/dsigma = -z/sigma
    d_mean = -slope / sigma
    d_variance = (1.0 - slope * z) / (2.0 * variance)
    return value + np.log(sigma), d_mean, d_variance


def log_probability_below(
    mean: np.ndarray, variance: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log P(f <= threshold) under N(mean, variance), and its derivatives in the mean and in
    the variance (Gardner et al. 2014: the probability that a constraint is satisfied)."""
    sigma = np.sqrt(variance)
    z = (threshold - mean) / sigma
    value = log_ndtr(z)
    slope = np.exp(-0.5 * z * z - value) * _INV_SQRT2PI  # d log Phi / dz
    return value, -slope / sigma, -slope * z / (2.0 * variance)


@dataclass(frozen=True)
class ConstraintModel:
    """A GP of one constraint's values (standardized) and the threshold it must stay under
    (0 in the standardized units)."""

    gp: GaussianProcess
    threshold: float


@dataclass(frozen=True)
class JointTerm:
    """A log acquisition of several GPs' posteriors at once (log EHVI of one GP per
    objective): ``function(means, variances)``, each (n, k) for the k GPs, returns the value
    (n,) and its derivatives in the means and in the variances, each (n, k)."""

    gps: tuple[GaussianProcess, ...]
    function: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


class _Acquisition:
    """log EI of one GP at encoded points (or a joint term of several GPs in its place), plus
    the log probability that every constraint model is satisfied (EI x P(feasible), Gardner
    et al. 2014; the probability alone while ``best`` is None: no trial is feasible yet),
    with the bookkeeping of inactive columns."""

    def __init__(
        self,
        gp: GaussianProcess,
        inputs: InputMap,
        best: float | None,
        constraints: Sequence[ConstraintModel] = (),
        joint: JointTerm | None = None,
    ) -> None:
        self.gp, self.inputs, self.best = gp, inputs, best
        self.constraints = tuple(constraints)
        self.joint = joint
        self.columns = inputs.continuous_columns
        self.gradient_features = inputs.value_feature[self.columns]

    def values(self, X: np.ndarray) -> np.ndarray:
        """The acquisition at snapped points (m, dim) without NaN."""
        if X.shape[0] == 0:
            return np.empty(0)
        features = self.inputs.features(self.inputs.mark_inactive(X))
        total = np.zeros(X.shape[0])
        if self.joint is not None:
            posteriors = [gp.predict(features) for gp in self.joint.gps]
            means = np.column_stack([p[0] for p in posteriors])
            variances = np.column_stack([p[1] for p in posteriors])
            total += self.joint.function(means, variances)[0]
        elif self.best is not None:
            mean, variance = self.gp.predict(features)
            total += log_expected_improvement(mean, variance, self.best)[0]
        for model in self.constraints:
            mean, variance = model.gp.predict(features)
            total += log_probability_below(mean, variance, model.threshold)[0]
        return total

    def _value_and_gradient(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The acquisition at features and its gradient in the continuous columns."""
        value = np.zeros(features.shape[0])
        grad = np.zeros((features.shape[0], self.columns.size))
        terms: list[tuple[GaussianProcess, Any]] = []
        if self.joint is not None:
            self._add_joint(features, value, grad)
        elif self.best is not None:
            best = self.best
            terms.append((self.gp, lambda m, v: log_expected_improvement(m, v, best)))
        for model in self.constraints:
            terms.append((model.gp, lambda m, v, t=model.threshold: log_probability_below(m, v, t)))
        for gp, term in terms:
            mean, variance, d_mean, d_variance = gp.predict_with_gradients(
                features, self.gradient_features
            )
            part, g_mean, g_variance = term(mean, variance)
            value += part
            grad += g_mean[:, None] * d_mean + g_variance[:, None] * d_variance
        return value, grad

    def _add_joint(self, features: np.ndarray, value: np.ndarray, grad: np.ndarray) -> None:
        """Adds the joint term and its gradient (chain rule through every GP) in place."""
        assert self.joint is not None
        posteriors = [
            gp.predict_with_gradients(features, self.gradient_features) for gp in self.joint.gps
        ]
        means = np.column_stack([p[0] for p in posteriors])
        variances = np.column_stack([p[1] for p in posteriors])
        part, g_means, g_variances = self.joint.function(means, variances)
        value += part
        for j, (_, _, d_mean, d_variance) in enumerate(posteriors):
            grad += g_means[:, j, None] * d_mean + g_variances[:, j, None] * d_variance

    def polish(self, X: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """L-BFGS-B on the continuous columns of every row at once (discrete ones fixed).

        The rows' objectives are independent, so their sum has a block-diagonal Hessian and
        one quasi-Newton run serves all starts. A row keeps its start if it got worse.
        """
        if self.columns.size == 0 or X.shape[0] == 0:
            return X, values
        rows, columns = X.shape[0], self.columns
        inactive = np.isnan(self.inputs.mark_inactive(X))
        frozen = inactive[:, columns]

        def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
            points = X.copy()
            points[:, columns] = flat.reshape(rows, columns.size)
            points[inactive] = np.nan
            value, grad = self._value_and_gradient(self.inputs.features(points))
            grad[frozen] = 0.0
            return -float(value.sum()), -grad.reshape(-1)

        start = X[:, columns].reshape(-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * start.size,
                options={"maxiter": _MAX_ITERATIONS},
            )
        moved = X.copy()
        moved[:, columns] = np.clip(result.x, 0.0, 1.0).reshape(rows, columns.size)
        moved_values = self.values(moved)
        better = moved_values > values
        return np.where(better[:, None], moved, X), np.where(better, moved_values, values)

    def search_levels(
        self, X: np.ndarray, values: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """Coordinate search over the levels of discrete columns, a few sweeps.

        Returns the points, their values, and whether any point changed.
        """
        X, values = X.copy(), values.copy()
        changed = False
        for _ in range(_DISCRETE_SWEEPS):
            improved = False
            for j in rng.permutation(self.inputs.discrete_columns).tolist():
                choices = [self.inputs.level_choices(float(x), j) for x in X[:, j]]
                variants = np.repeat(X, [c.size for c in choices], axis=0)
                variants[:, j] = np.concatenate(choices)
                scores = self.values(variants)
                offset = 0
                for row, options in enumerate(choices):
                    block = scores[offset : offset + options.size]
                    top = int(np.argmax(block))
                    if block[top] > values[row] + 1e-12 * abs(values[row]):
                        X[row, j], values[row] = options[top], block[top]
                        improved = True
                    offset += options.size
            changed |= improved
            if not improved:
                break
        return X, values, changed


def _candidates(
    inputs: InputMap,
    anchors: np.ndarray,
    rng: np.random.Generator,
    n_candidates: int,
) -> np.ndarray:
    """Scrambled Sobol points, the anchors, and Gaussian perturbations of the anchors."""
    from scipy.stats import qmc

    dim = inputs.dim
    sobol = qmc.Sobol(dim, scramble=True, seed=rng)
    with warnings.catch_warnings():  # n need not be a power of two
        warnings.simplefilter("ignore", UserWarning)
        points = [sobol.random(n_candidates)]
    if anchors.shape[0]:
        filled = np.where(np.isnan(anchors), rng.random(anchors.shape), anchors)
        points.append(filled)
        for sigma in _LOCAL_SIGMAS:
            local = filled + sigma * rng.standard_normal(filled.shape)
            # a discrete column changes to a random level with probability 1 / dim
            redraw = rng.random(filled.shape) < 1.0 / dim
            redraw[:, inputs.continuous] = False
            local[redraw] = rng.random(int(redraw.sum()))
            points.append(local)
    return inputs.snap(np.vstack(points))


def maximize_log_ei(
    gp: GaussianProcess,
    inputs: InputMap,
    best: float | None,
    rng: np.random.Generator,
    *,
    anchors: np.ndarray,
    n_candidates: int,
    n_restarts: int,
    constraints: Sequence[ConstraintModel] = (),
    joint: JointTerm | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points ranked by log EI, best first: the polished restarts, then the raw candidates.

    Args:
        gp: the posterior to score against (fantasies included).
        inputs: the space's input map.
        best: the incumbent (lowest standardized output among the feasible trials); None
            when no trial is feasible: the probability of feasibility alone is maximized.
        rng: randomness of the raw candidates and of the coordinate order.
        anchors: encoded points to start near (the best observed), shape (a, dim), NaN ok.
        n_candidates: number of Sobol points scored.
        n_restarts: number of top points polished.
        constraints: the constraint models; log P(feasible) is added to log EI.
        joint: a term of several GPs scored in place of log EI (``gp`` and ``best`` then
            serve nothing); None: log EI.

    Returns:
        points (k, dim) in [0, 1] without NaN, discrete columns on their levels, and their
        log EI values (k,), sorted by decreasing value. Callers take the first they can use.
    """
    acquisition = _Acquisition(gp, inputs, best, constraints, joint)
    raw = _candidates(inputs, anchors, rng, n_candidates)
    raw_values = acquisition.values(raw)
    order = np.argsort(-raw_values, kind="stable")
    _, first = np.unique(raw[order], axis=0, return_index=True)
    top = order[np.sort(first)[:n_restarts]]
    X, values = acquisition.polish(raw[top], raw_values[top])
    if inputs.discrete_columns.size:
        X, values, changed = acquisition.search_levels(X, values, rng)
        if changed:
            X, values = acquisition.polish(X, values)
    points = np.vstack([X, raw])
    scores = np.concatenate([values, raw_values])
    ranked = np.argsort(-scores, kind="stable")
    return points[ranked], scores[ranked]
