"""fANOVA: how much of a random forest's variance each parameter and each pair explain.

Hutter, Hoos and Leyton-Brown, "An efficient approach for assessing hyperparameter
importance", ICML 2014. A regression forest is fitted to the trials (parameters in the unit
cube, see ``_inputs``); each tree is a function ``f`` constant on the boxes of its leaves. Over
the uniform measure on the cube, the functional ANOVA decomposition (the paper's section 3)
writes

    f(x) = f_0 + Σ_j f_j(x_j) + Σ_{j<k} f_jk(x_j, x_k) + ...,

with ``f_U(x_U) = E[f | x_U] - Σ_{W ⊊ U} f_W``; the variance of ``f`` splits into the
variances ``V_U`` of the components. For one tree these are exact sums over its leaves
(section 4): with leaf ``l`` holding the box ``B_l`` (widths ``w_lj``, volume ``|B_l|``)
and the value ``v_l``,

    E[f | x_j] = Σ_l v_l |B_l| / w_lj · 1[x_j ∈ B_lj],

a step function over the tree's split points on ``j``; its variance is ``V_j``. The pair's
``E[f | x_j, x_k]`` is the same sum over the grid of both split sets, and
``V_jk = Var E[f | x_j, x_k] - V_j - V_k`` is their interaction. Here each step function is
built with one cumulative sum of a difference array (a leaf adds its weight where its
interval starts and removes it where it ends), so a tree costs ``O(leaves + cuts)`` per
parameter and ``O(leaves + cuts_j · cuts_k)`` per pair.

A parameter's share is ``V_j / Var f`` for each tree; the reported share is the mean over the
trees and its uncertainty their standard deviation.

Categorical parameters are encoded as the index of their cell; the order of the choices is
arbitrary, but a fully grown tree can cut any cells apart, and a split that falls inside a cell
never observed is moved to the cell's edge, so that a choice is never split in two.

Conditional parameters: where a parameter is inactive, its position is drawn uniformly at
random (a fresh draw per trial, independent of the objective). The forest then cannot use it
to tell one branch from another, and a tree's ``E[f | x_C]`` holds only what the value of
``C`` changes where ``C`` is active. If a branch parameter ``model`` switches ``C`` on over a
fraction ``p`` of the cube (``p = ½`` for one choice of two) and ``C`` moves the objective by
``g(C)`` there, then ``V_C = p² Var g`` and ``V_{model × C} = p (1 - p) Var g``: together
``C``'s whole effect where active, weighted by ``p``. The variance between the branches stays
with ``model``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tuneful.analysis.importance._inputs import Estimate, Inputs
from tuneful.errors import MissingDependencyError

__all__ = ["DEFAULT_TREES", "PAIR_PARAMS", "PAIR_CELLS", "estimate", "TreeANOVA", "imputed"]

#: Trees in the forest (Optuna's fANOVA uses 64 too).
DEFAULT_TREES = 64
#: The forest is fitted on at most this many trials, sampled at random (a note says so):
#: the shares of a 50,000-trial study move by less than their spread, and the fit takes
#: seconds instead of half a minute.
DEFAULT_MAX_TRIALS = 10_000
#: Pairs are measured among this many parameters at most, the forest's most used.
PAIR_PARAMS = 6
#: Grid cells the pairs of all trees may fill (each pair of each tree fills the grid of both
#: parameters' split points); beyond it, pairs come from the first trees only, never fewer
#: than ``MIN_PAIR_TREES``. About a second on one core; it binds past a few thousand trials.
PAIR_CELLS = 150_000_000
MIN_PAIR_TREES = 8
_MAX_DEPTH = 64


def _forest(n_trees: int, seed: int) -> Any:
    try:
        from sklearn.ensemble import RandomForestRegressor
    except ImportError:
        raise MissingDependencyError(
            "fANOVA needs scikit-learn's random forest: pip install 'tuneful[importance]' "
            "(or use method='ped-anova', which needs nothing more)"
        ) from None
    return RandomForestRegressor(
        n_estimators=n_trees,
        max_depth=_MAX_DEPTH,
        min_samples_split=2,
        min_samples_leaf=1,
        max_features=1.0,  # bagging only: a subset of features spreads credit onto noise
        bootstrap=True,
        random_state=seed,
        n_jobs=1,
    )


def imputed(inputs: Inputs, rng: np.random.Generator) -> np.ndarray:
    """The positions with every inactive one drawn uniformly: a continuous parameter
    anywhere in [0, 1], a discrete one at the centre of a random cell."""
    x = inputs.unit.copy()
    for j, cells in enumerate(inputs.cells):
        missing = np.isnan(x[:, j])
        if not missing.any():
            continue
        if cells:
            x[missing, j] = (rng.integers(cells, size=int(missing.sum())) + 0.5) / cells
        else:
            x[missing, j] = rng.uniform(size=int(missing.sum()))
    return x


class TreeANOVA:
    """The functional ANOVA of one tree over the unit cube: built from the tree's leaves,
    ``lower``/``upper`` ``(n_leaves, n_params)`` box corners and ``value`` ``(n_leaves,)``."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray, value: np.ndarray) -> None:
        self.widths = upper - lower
        self.volume = np.prod(self.widths, axis=1)
        self.value = value
        self.mean = float(self.volume @ value)
        #: ``Var f``
        self.total = float(self.volume @ value**2) - self.mean**2
        # each axis: its split points (0 and 1 included), and each leaf's first and
        # past-last interval on it
        self.axes = []
        for j in range(lower.shape[1]):
            cuts = np.unique(np.concatenate([lower[:, j], upper[:, j], [0.0, 1.0]]))
            self.axes.append(
                (cuts, np.searchsorted(cuts, lower[:, j]), np.searchsorted(cuts, upper[:, j]))
            )

    @classmethod
    def of(cls, tree: Any, n_params: int, categorical_cells: dict[int, int]) -> TreeANOVA:
        """From a fitted scikit-learn tree (``estimator.tree_``), walking its partition level
        by level (all the nodes of one depth at once)."""
        feature, left, right = tree.feature, tree.children_left, tree.children_right
        threshold = np.clip(np.asarray(tree.threshold, dtype=float), 0.0, 1.0)
        for j, cells in categorical_cells.items():
            here = feature == j
            threshold[here] = np.round(threshold[here] * cells) / cells
        lower = np.zeros((tree.node_count, n_params))
        upper = np.ones((tree.node_count, n_params))
        frontier = np.array([0])
        while frontier.size:
            split = frontier[left[frontier] >= 0]
            f, t = feature[split], threshold[split]
            low_child, high_child = left[split], right[split]
            for child in (low_child, high_child):
                lower[child] = lower[split]
                upper[child] = upper[split]
            # x_f <= t goes left: the left box ends at t, the right one starts there
            upper[low_child, f] = np.minimum(upper[split, f], t)
            lower[high_child, f] = np.maximum(lower[split, f], t)
            frontier = np.concatenate([low_child, high_child])
        leaf = left < 0
        value = np.asarray(tree.value, dtype=float).reshape(tree.node_count, -1)[:, 0]
        return cls(lower[leaf], upper[leaf], value[leaf])

    def _weight(self, width: np.ndarray) -> np.ndarray:
        # v_l |B_l| / width; a leaf of zero width has zero volume: it weighs nothing
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(width > 0, self.value * self.volume / width, 0.0)

    def singles(self) -> np.ndarray:
        """``V_j = Var E[f | x_j]`` of every parameter ``(n_params,)``."""
        found = np.zeros(len(self.axes))
        for j, (cuts, first, past) in enumerate(self.axes):
            weight = self._weight(self.widths[:, j])
            steps = np.bincount(first, weight, len(cuts)) - np.bincount(past, weight, len(cuts))
            marginal = np.cumsum(steps)[:-1]
            found[j] = np.diff(cuts) @ marginal**2 - self.mean**2
        return np.maximum(found, 0.0)

    def grid_cells(self, pairs: list[tuple[int, int]]) -> int:
        """The cells :meth:`interactions` fills for ``pairs`` (what it costs)."""
        return sum(len(self.axes[j][0]) * len(self.axes[k][0]) for j, k in pairs)

    def interactions(self, pairs: list[tuple[int, int]], singles: np.ndarray) -> np.ndarray:
        """``V_jk = Var E[f | x_j, x_k] - V_j - V_k`` of each pair ``(n_pairs,)``."""
        found = np.zeros(len(pairs))
        for p, (j, k) in enumerate(pairs):
            weight = self._weight(self.widths[:, j] * self.widths[:, k])
            second = _joint_second_moment(self.axes[j], self.axes[k], weight)
            found[p] = second - self.mean**2 - singles[j] - singles[k]
        return found


def _joint_second_moment(
    axis_j: tuple[np.ndarray, np.ndarray, np.ndarray],
    axis_k: tuple[np.ndarray, np.ndarray, np.ndarray],
    weight: np.ndarray,
) -> float:
    """``E[E[f | x_j, x_k]^2]``: the joint marginal on the grid of both axes' intervals, made
    from a 2-D difference array (+ at each box's corner where both intervals start, - where
    one ends, + where both do) summed along both axes, squared and integrated."""
    (cuts_j, first_j, past_j), (cuts_k, first_k, past_k) = axis_j, axis_k
    rows, cols = len(cuts_j), len(cuts_k)
    corners = np.concatenate(
        [
            first_j * cols + first_k,
            past_j * cols + first_k,
            first_j * cols + past_k,
            past_j * cols + past_k,
        ]
    )
    signed = np.concatenate([weight, -weight, -weight, weight])
    grid = np.bincount(corners, signed, rows * cols).reshape(rows, cols)
    np.cumsum(grid, axis=0, out=grid)
    np.cumsum(grid, axis=1, out=grid)
    np.square(grid, out=grid)
    # the last row and column (past the last cut) are zero: give them no width
    width_j = np.append(np.diff(cuts_j), 0.0)
    width_k = np.append(np.diff(cuts_k), 0.0)
    return float(width_j @ grid @ width_k)


def _pair_candidates(inputs: Inputs, used: np.ndarray) -> tuple[list[tuple[int, int]], str]:
    d = len(inputs.names)
    if d < 2:
        return [], ""
    chosen = sorted(np.argsort(-used, kind="stable")[:PAIR_PARAMS].tolist())
    pairs = [(a, b) for i, a in enumerate(chosen) for b in chosen[i + 1 :]]
    note = ""
    if d > PAIR_PARAMS:
        names = ", ".join(str(inputs.names[j]) for j in chosen)
        note = (
            f"pairs measured among the {PAIR_PARAMS} parameters the forest uses most "
            f"({names}), not all {d}"
        )
    return pairs, note


def _sampled(inputs: Inputs, max_trials: int | None, seed: int) -> tuple[Inputs, str]:
    """At most ``max_trials`` of the trials, drawn at random without replacement."""
    n = len(inputs.y)
    if max_trials is None or n <= max_trials:
        return inputs, ""
    keep = np.sort(np.random.default_rng([seed, n]).choice(n, size=max_trials, replace=False))
    kept = replace(inputs, unit=inputs.unit[keep], y=inputs.y[keep])
    return kept, f"the forest was fitted on {max_trials:,} of the {n:,} trials, sampled at random"


def estimate(
    inputs: Inputs,
    *,
    seed: int = 0,
    n_trees: int = DEFAULT_TREES,
    pairs: bool = True,
    max_trials: int | None = DEFAULT_MAX_TRIALS,
) -> Estimate:
    """Each parameter's share of the forest's variance (mean ± std over its trees), and
    (with ``pairs``) the interaction share of pairs among the most used parameters; the
    forest sees at most ``max_trials`` trials (None: all).

    Raises:
        MissingDependencyError: scikit-learn is not installed.
    """
    inputs, sample_note = _sampled(inputs, max_trials, seed)
    forest = _forest(n_trees, seed)
    forest.fit(imputed(inputs, np.random.default_rng(seed)), inputs.y)
    chosen, pair_note = (
        _pair_candidates(inputs, np.asarray(forest.feature_importances_)) if pairs else ([], "")
    )
    categorical = {
        j: cells
        for j, (cells, c) in enumerate(zip(inputs.cells, inputs.categorical, strict=True))
        if c
    }
    d = len(inputs.names)
    singles: list[np.ndarray] = []
    interactions: list[np.ndarray] = []
    cells = 0
    for estimator in forest.estimators_:
        tree = TreeANOVA.of(estimator.tree_, d, categorical)
        if tree.total <= 0.0:  # a constant tree explains nothing and says nothing
            continue
        single = tree.singles()
        singles.append(single / tree.total)
        if chosen and (cells < PAIR_CELLS or len(interactions) < MIN_PAIR_TREES):
            cells += tree.grid_cells(chosen)
            interactions.append(tree.interactions(chosen, single) / tree.total)
    notes = [note for note in (sample_note, pair_note) if note]
    if not singles:
        notes.append("the objective is constant over these trials: nothing to explain")
        return Estimate(np.zeros(d), np.zeros(d), {}, tuple(notes))
    if chosen and len(interactions) < len(singles):
        notes.append(
            f"pair shares from the first {len(interactions)} of {len(singles)} trees "
            "(their grids grow with the trials)"
        )
    share, pair_share = np.array(singles), np.array(interactions)
    pair_result = {
        pair: (float(pair_share[:, p].mean()), float(pair_share[:, p].std()))
        for p, pair in enumerate(chosen)
    }
    return Estimate(share.mean(axis=0), share.std(axis=0), pair_result, tuple(notes))
