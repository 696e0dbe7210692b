"""Expected hypervolume improvement (EHVI) of independent GP posteriors, exact, in log space.

For minimization with a front P (non-dominated points) and a reference point r, the region
that P does not dominate inside ``{z <= r}`` is cut into disjoint boxes ``[l_b, u_b]`` (lower
corners may be -inf). The hypervolume improvement of a new point y is the volume of that
region that y dominates:

    HVI(y) = sum_b prod_j (u_bj - max(l_bj, y_j))^+

With independent Gaussian objectives ``Y_j ~ N(mu_j, sigma_j^2)`` (one GP per objective) the
expectation of every product factorizes, and each factor is a difference of two expected
improvements (Yang, Emmerich, Deutz & Bäck 2019, "Efficient computation of expected
hypervolume improvement using box decomposition algorithms", J. Global Optim. 75; the
decomposition BoTorch's ``ExpectedHypervolumeImprovement`` uses, Daulton, Balandat & Bakshy
2020):

    E[(u - max(l, Y))^+] = psi(u) - psi(l),   psi(b) = E[(b - Y)^+] = sigma h((b - mu) / sigma)

with h of :mod:`~tuneful.optimizers._gp_acquisition` (psi(-inf) = 0). EHVI is then exact for
any number of objectives; only the number of boxes grows.

Box decomposition (:func:`non_dominated_boxes`): the grid of the front's coordinates cuts
the first m - 1 objectives into cells; over each cell the non-dominated region is an
interval ``(-inf, t)`` in the last objective, t the lowest last objective among the points
that dominate the cell's lower corner in the first m - 1 (r_m when none does), because the
non-dominated region is closed downwards. That gives ``(k + 1)^(m - 1)`` boxes for k points:
the k + 1 vertical strips of the textbook 2-D formula for two objectives. Past
``_MAX_BOXES`` boxes the front is cut to the points of a greedy hypervolume subset (which
over-credits the region of the points left out, slightly).

Like log EI, the value is computed as ``log EHVI`` (a log-sum-exp over boxes of sums of
``log(psi(u) - psi(l))``) so that it and its gradient stay finite far from the front.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_ndtr

from tuneful._pareto import greedy_hypervolume_subset, pareto_front_mask
from tuneful.optimizers._gp_acquisition import log_h

__all__ = ["non_dominated_boxes", "log_ehvi", "HypervolumeTerm"]

_MAX_BOXES = 4096
_CHUNK = 256  # points scored at once (memory: points x boxes per array)
_LOG_INV_SQRT2PI = -0.5 * math.log(2.0 * math.pi)
_LOG_TINY = -1e4  # log of a factor treated as zero (no gradient)
_LOG_RATIO = 50.0  # cap of log |d factor / factor| where a factor's box is a sliver


def non_dominated_boxes(front: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint boxes (lower, upper), each (B, m), whose union is the part of ``{z <= r}``
    that no point of ``front`` weakly dominates (see the module docstring)."""
    front = np.asarray(front, dtype=np.float64).reshape(-1, reference.size)
    front = front[np.all(front < reference, axis=1)]
    m = reference.size
    if front.shape[0]:
        front = front[pareto_front_mask(front)]
        front = np.unique(front, axis=0)
    most = max(int(_MAX_BOXES ** (1.0 / max(m - 1, 1))) - 1, 1)
    if front.shape[0] > most:
        front = front[np.sort(greedy_hypervolume_subset(front, most, reference))]
    if m == 1:
        top = float(np.min(front[:, 0])) if front.shape[0] else float(reference[0])
        return np.full((1, 1), -np.inf), np.array([[top]])
    edges = [
        np.concatenate([[-np.inf], np.unique(front[:, j]), [reference[j]]]) for j in range(m - 1)
    ]
    grids = np.meshgrid(*[np.arange(e.size - 1) for e in edges], indexing="ij")
    cells = np.column_stack([g.ravel() for g in grids])
    lower = np.column_stack([edges[j][cells[:, j]] for j in range(m - 1)])
    upper = np.column_stack([edges[j][cells[:, j] + 1] for j in range(m - 1)])
    dominating = np.all(front[None, :, : m - 1] <= lower[:, None, :], axis=2)
    top = np.min(np.where(dominating, front[None, :, m - 1], reference[m - 1]), axis=1)
    lower = np.column_stack([lower, np.full(lower.shape[0], -np.inf)])
    upper = np.column_stack([upper, top])
    keep = np.all(upper > lower, axis=1)
    return lower[keep], upper[keep]


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for x <= 0 (-inf at 0)."""
    x = np.minimum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_factor(
    mean: np.ndarray, sigma: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log E[(high - max(low, Y))^+] for Y ~ N(mean, sigma^2), points (n, 1) x boxes (B,),
    and its derivatives in the mean and in sigma, each (n, B)."""
    z_high = (high[None, :] - mean) / sigma
    bounded = np.isfinite(low)
    z_low = (np.where(bounded, low, 0.0)[None, :] - mean) / sigma
    log_psi_high = np.log(sigma) + log_h(z_high)
    log_psi_low = np.where(bounded, np.log(sigma) + log_h(z_low), -np.inf)
    with np.errstate(invalid="ignore"):
        value = log_psi_high + _log1mexp(log_psi_low - log_psi_high)
        vanishing = ~(value > _LOG_TINY)  # equal psi's (rounding): a factor of ~0
        value = np.where(vanishing, _LOG_TINY, value)
        log_cdf_high, log_cdf_low = log_ndtr(z_high), np.where(bounded, log_ndtr(z_low), -np.inf)
        log_mass = log_cdf_high + _log1mexp(log_cdf_low - log_cdf_high)
        log_pdf_high = _LOG_INV_SQRT2PI - 0.5 * z_high * z_high
        log_pdf_low = np.where(bounded, _LOG_INV_SQRT2PI - 0.5 * z_low * z_low, -np.inf)
        d_mean = -np.exp(np.minimum(log_mass - value, _LOG_RATIO))
        d_sigma = np.exp(np.minimum(log_pdf_high - value, _LOG_RATIO)) - np.exp(
            np.minimum(log_pdf_low - value, _LOG_RATIO)
        )
    d_mean = np.where(vanishing, 0.0, d_mean)
    d_sigma = np.where(vanishing, 0.0, d_sigma)
    return value, np.nan_to_num(d_mean), np.nan_to_num(d_sigma)


def log_ehvi(
    means: np.ndarray, variances: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log EHVI at points with independent objectives N(means, variances), each (n, m), over
    the boxes (lower, upper) of :func:`non_dominated_boxes`.

    Returns:
        (log EHVI (n,), d/d means (n, m), d/d variances (n, m)).
    """
    n, m = means.shape
    value = np.empty(n)
    d_means, d_variances = np.empty((n, m)), np.empty((n, m))
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(start + _CHUNK, n))
        sigma = np.sqrt(variances[rows])
        total = np.zeros((sigma.shape[0], lower.shape[0]))
        parts = []
        for j in range(m):
            part = _log_factor(
                means[rows, j : j + 1], sigma[:, j : j + 1], lower[:, j], upper[:, j]
            )
            total += part[0]
            parts.append(part)
        peak = np.max(total, axis=1, keepdims=True)
        weights = np.exp(total - peak)
        mass = np.sum(weights, axis=1, keepdims=True)
        value[rows] = (peak + np.log(mass))[:, 0]
        weights /= mass
        for j, (_, d_mean, d_sigma) in enumerate(parts):
            d_means[rows, j] = np.sum(weights * d_mean, axis=1)
            d_variances[rows, j] = np.sum(weights * d_sigma, axis=1) / (2.0 * sigma[:, j])
    return value, d_means, d_variances


class HypervolumeTerm:
    """log EHVI over a front, as an acquisition term of several GPs' means and variances."""

    def __init__(self, front: np.ndarray, reference: np.ndarray) -> None:
        self.lower, self.upper = non_dominated_boxes(front, reference)

    def __call__(
        self, means: np.ndarray, variances: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return log_ehvi(means, variances, self.lower, self.upper)
