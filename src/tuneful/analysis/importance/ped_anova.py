"""PED-ANOVA: which parameters set the best trials apart, from two densities per parameter.

Watanabe, Bansal and Hutter, "PED-ANOVA: efficiently quantifying hyperparameter importance in
arbitrary subspaces", IJCAI 2023. Take the trials in the best ``γ`` quantile (the region; γ = 1:
all trials) and, among them, the best ``γ'`` (the top). With ``b(x) = 1[f(x) is in the top]``
over the region, the marginal of parameter ``d`` is

    b_d(x_d) = P(top | x_d) = (γ'/γ) p_top(x_d) / p_region(x_d),

and its variance over the region (the paper's main theorem) is

    Var b_d = (γ'/γ)² · PD(p_top ‖ p_region),   PD(p ‖ q) = ∫ p(x)² / q(x) dx - 1,

the Pearson divergence between the parameter's density among the top trials and among the
region's. A parameter whose values look the same among the best trials as among all of them
does not matter there; one the best trials crowd into a corner of does. The shares are these
variances normalized to sum to 1, so they rank the parameters *within the top quantile*
(local importance) rather than over the whole space.

The densities are 1-D Parzen estimates on the unit scale with Scott's bandwidth
(``σ n^(-1/5)``), computed on a grid of ``GRID`` cells (a discrete int: its own values), so a
density costs one histogram and one ``GRID × GRID`` product whatever the number of trials;
a categorical parameter's density is its choices' frequencies. Each density is mixed with the
uniform one at the weight of one trial (a prior), so no ratio divides by zero.

Conditional parameters: a parameter's two densities are over the trials where it is active.
If ``q'`` of the top trials and ``q`` of the region's have it active, the chance of the top
given its value, over the region where it is active, is ``(γ'/γ)(q'/q) p'_top / p'_region``;
its variance there, weighted by the share ``q`` of the region it holds, is

    (γ'/γ)² (q'² / q) · PD(p'_top ‖ p'_region),

which is the unconditional formula when ``q = q' = 1``. Which branch the best trials took is
the branch parameter's importance, not that of the parameters inside the branch: a parameter
never active among the top trials gets no importance at all.

The uncertainty is the standard deviation of the shares over bootstrap resamples of the
trials (the quantiles re-taken in each).
"""

from __future__ import annotations

import numpy as np

from tuneful.analysis.importance._inputs import Estimate, Inputs, top_count

__all__ = ["GRID", "DEFAULT_BOOTSTRAP", "estimate", "pearson_divergence"]

#: Cells of the grid a continuous parameter's density is computed on.
GRID = 100
#: Bootstrap resamples behind the uncertainty.
DEFAULT_BOOTSTRAP = 30
_PRIOR_WEIGHT = 1.0  # trials' worth of the uniform density mixed into each estimate


class _Axis:
    """Where one parameter's density lives: ``points`` in [0, 1] (grid cell centres, or the
    centres of its discrete cells) and whether values are smoothed across them."""

    def __init__(self, cells: int, categorical: bool) -> None:
        size = cells if cells else GRID
        self.points = (np.arange(size) + 0.5) / size
        self.smooth = not categorical
        # the distance between every two points, for the kernels
        self.gaps = self.points[:, None] - self.points[None, :]

    def density(self, positions: np.ndarray) -> np.ndarray:
        """A probability over the points: a Parzen estimate of ``positions`` (a histogram
        for a categorical), mixed with the uniform density at the weight of one trial."""
        size = len(self.points)
        index = np.clip((positions * size).astype(int), 0, size - 1)
        counts = np.bincount(index, minlength=size).astype(float)
        n = len(positions)
        if self.smooth and n > 0:
            # Scott's rule; never narrower than a cell, so one value still spreads
            bandwidth = max(float(np.std(positions)) * n ** (-0.2), 1.0 / size)
            kernel = np.exp(-0.5 * (self.gaps / bandwidth) ** 2)
            kernel /= kernel.sum(axis=0, keepdims=True)  # each trial's mass stays in [0, 1]
            counts = kernel @ counts
        return (counts + _PRIOR_WEIGHT / size) / (n + _PRIOR_WEIGHT)


def pearson_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """``PD(p ‖ q) = Σ p² / q - 1`` for two probabilities over the same points."""
    return max(float(np.sum(p * p / q)) - 1.0, 0.0)


def _variances(
    inputs: Inputs, axes: list[_Axis], rows: np.ndarray, top_quantile: float, region: float
) -> np.ndarray:
    """Each parameter's ``(q'²/q) PD`` over the trials ``rows`` (a resample)."""
    y = inputs.y[rows]
    order = rows[np.argsort(y, kind="stable")]
    n_region = top_count(len(rows), region)
    n_top = min(top_count(len(rows), top_quantile), n_region - 1)
    region_rows, top_rows = order[:n_region], order[:n_top]
    found = np.zeros(len(axes))
    for j, axis in enumerate(axes):
        top = inputs.unit[top_rows, j]
        top = top[~np.isnan(top)]
        within = inputs.unit[region_rows, j]
        within = within[~np.isnan(within)]
        if not len(top) or not len(within):
            continue
        share_top, share_region = len(top) / n_top, len(within) / n_region
        divergence = pearson_divergence(axis.density(top), axis.density(within))
        found[j] = share_top**2 / share_region * divergence
    return found


def _normalized(variances: np.ndarray) -> np.ndarray:
    total = variances.sum()
    return variances / total if total > 0 else np.zeros_like(variances)


def estimate(
    inputs: Inputs,
    *,
    seed: int = 0,
    top_quantile: float = 0.1,
    region_quantile: float = 1.0,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
) -> Estimate:
    """Each parameter's share of the local importance within the best ``region_quantile``
    of the trials, judged by the best ``top_quantile`` (see the module)."""
    if np.ptp(inputs.y) == 0:
        zeros = np.zeros(len(inputs.names))
        return Estimate(zeros, zeros, {}, ("the objective is constant over these trials",))
    axes = [_Axis(c, cat) for c, cat in zip(inputs.cells, inputs.categorical, strict=True)]
    n = len(inputs)
    everything = np.arange(n)
    shares = _normalized(_variances(inputs, axes, everything, top_quantile, region_quantile))
    rng = np.random.default_rng(seed)
    resampled = [
        _normalized(
            _variances(inputs, axes, rng.integers(n, size=n), top_quantile, region_quantile)
        )
        for _ in range(n_bootstrap)
    ]
    std = np.std(resampled, axis=0) if resampled else np.zeros_like(shares)
    notes = [
        f"importance within the best {region_quantile:.0%} of the trials, judged by the best "
        f"{top_count(n, top_quantile)} ({top_quantile:.0%})"
    ]
    return Estimate(shares, std, {}, tuple(notes))
