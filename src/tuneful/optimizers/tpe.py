"""Tree-structured Parzen estimator (TPE) with joint kernels and native conditional spaces.

The algorithm (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization", Sec. 4;
multivariate kernels as in Falkner et al. 2018, "BOHB", Sec. 3.2, and Optuna's multivariate
TPE; component roles from Watanabe 2023, "Tree-Structured Parzen Estimator: Understanding
Its Algorithm Components", arXiv:2304.11127):

1. Start-up: while fewer than ``n_startup`` trials are complete, propose scrambled Sobol
   points indexed by the trial number (:class:`~tuneful.optimizers.random.SobolOptimizer`),
   so parallel workers take distinct, evenly spread points.
2. Split the n completed trials by value: the best ``n_good = min(ceil(gamma n), max_good)``
   form the good set, the rest the bad set (Optuna's default quantile rule,
   ``min(ceil(0.1 n), 25)``; with several objectives ``ceil(0.1 n)``, uncapped, as Optuna's
   and below). Pending trials (RUNNING/WAITING with parameters) join the bad
   set: a constant liar that says "this point is taken" (Ginsbourger et al. 2010).
3. Group the encoded columns by their activation condition (``when``): columns in a group
   are active together (:mod:`~tuneful.optimizers._activation`). For each group fit two
   Parzen estimators (:mod:`~tuneful.optimizers._parzen`) on the trials where that group
   was active: l from the good ones, g from the bad ones. Inactive columns are never
   imputed; a group that no good trial activated is modelled by the uniform prior alone.
4. Draw ``n_candidates`` configurations from l by walking the tree: sample the root group,
   read which child groups the sampled parents activate, sample each active child group
   from its own l, and so on down. Score each candidate by

       log l(x) - log g(x) = sum over its active groups G of log l_G(x_G) - log g_G(x_G)

   and propose the best (maximizing l/g maximizes expected improvement, Bergstra et al.
   2011, Sec. 4.1) whose configuration was not tried and is not pending: in a discrete
   branch l can keep pointing at one tried configuration, so the next best candidate is
   taken instead (the best one regardless, once all candidates were tried). For ``n > 1``
   points in one call, each proposal joins the bad set as a pending point before the next
   is drawn.

Multi-objective studies take MOTPE's good set (Ozaki et al. 2020, "Multiobjective
Tree-Structured Parzen Estimator for Computationally Expensive Optimization Problems",
GECCO, Sec. 3; Ozaki et al. 2022, JAIR 73, Sec. 3.2): whole Pareto fronts (Deb et al.
2002's fast non-dominated sort, :mod:`tuneful._pareto`), best first, while they fit, and
the front that does not fit cut by greedy hypervolume subset selection, so the good set
spreads along the front (:mod:`~tuneful.optimizers._motpe`). No weights the user did not
ask for, and every good trial's kernel weighs the same: weighting them by hypervolume
contribution (the papers' Sec. 3.3) lost hypervolume on ZDT and DTLZ in
``benchmarks/motpe.py``, and Optuna 5 dropped it too.

Constraints (a history with :attr:`~tuneful.records.History.has_constraints`) switch to
c-TPE (Watanabe & Hutter 2023, "c-TPE: Tree-structured Parzen Estimator with Inequality
Constraints for Expensive Hyperparameter Optimization", IJCAI, Sec. 4): the objective and
each constraint get their own split, l and g (:func:`_constrained_split`: the objective's
good set is taken among the feasible trials; constraint i's good set is the trials that
satisfy it, its gamma the satisfied share). Candidates are drawn from every part's l and
ranked by the product over parts of the gamma-relative density ratios (the paper's Eq. 6,
constrained probability of improvement under independence)::

    a(x) = prod_p 1 / (gamma_p + (1 - gamma_p) g_p(x) / l_p(x))

A constraint every trial satisfies has gamma 1, a constant factor, and is left out; without
constraints nothing of this runs (the proposals are the plain TPE's, bit for bit).

Encoding every trial on each call costs milliseconds at a thousand trials, so the
optimizer memoizes each trial's encoded row by trial number (checked against the record's
parameters): a cache, never state: a fresh optimizer rebuilds it from the history.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from tuneful._pareto import non_dominated_sort
from tuneful._validation import check_flag, check_int, check_number
from tuneful.errors import OptimizerError
from tuneful.optimizers._activation import ActivationGroups
from tuneful.optimizers._motpe import good_rows
from tuneful.optimizers._parzen import ParzenEstimator
from tuneful.optimizers.base import Capabilities, Optimizer, config_key
from tuneful.optimizers.random import SobolOptimizer
from tuneful.records import History, TrialRecord, TrialState, feasibility_ranked
from tuneful.space import Space

__all__ = ["TPEOptimizer"]


class TPEOptimizer(Optimizer):
    """Tree-structured Parzen estimator over the encoded cube, conditional spaces included.

    Args:
        seed: seeds the start-up Sobol sequence (the study's seed when built by name; the
            history's seed when None).
        n_startup: complete trials before the model is used; until then, Sobol points.
        gamma: the good set is the best ``ceil(gamma * n)`` of n complete trials ...
        max_good: ... but at most this many (None, the default: 25 with one objective, no
            cap with several, as Optuna).
        n_candidates: configurations drawn from l(x) per proposal; the best l/g wins.
        prior_weight: weight of the uniform prior component, in observations.
        bandwidth_factor: scales Scott's rule for the Gaussian kernels' bandwidths (1, the
            default: Scott). Narrower kernels (0.3) gained a little on smooth BBOB functions
            but stalled on YAHPO lcbench (mean best accuracy on task 34539 over 5 seeds:
            97.7 % at 0.3, 99.04 % at 1), see ``_parzen.scott_bandwidths``.
        min_bandwidth: smallest kernel bandwidth, as a fraction of the unit cube.
        multivariate: joint kernels over each group of columns (True) or one independent
            estimator per column (the original TPE); None, the default: joint with one
            objective, independent with several (as Optuna; independent kernels gained
            hypervolume on ZDT1, DTLZ2 and C2-DTLZ2, ``benchmarks/motpe.py``).
        constant_liar: count pending trials (and earlier points of a batch) as bad.

    Raises:
        OptimizerError: a setting is out of range.

    Example:
        >>> import tuneful
        >>> from tuneful.optimizers.tpe import TPEOptimizer
        >>> space = tuneful.Space(x=tuneful.Float(-5, 5), y=tuneful.Float(-5, 5))
        >>> study = tuneful.create_study(
        ...     space=space, storage="memory://", optimizer=TPEOptimizer(seed=0), seed=0)
        >>> study.optimize(
        ...     lambda t: t.params["x"] ** 2 + t.params["y"] ** 2,
        ...     n_trials=40, show_progress_bar=False)
        >>> study.best_value < 1.0
        True
    """

    name = "tpe"
    # several objectives: ranked by Pareto front (see the module docstring)
    capabilities = Capabilities(
        multi_objective=True, constraints=True, conditional=True, define_by_run=True, batch=True
    )

    def __init__(
        self,
        *,
        seed: int | None = None,
        n_startup: int = 10,
        gamma: float = 0.1,
        max_good: int | None = None,
        n_candidates: int = 24,
        prior_weight: float = 1.0,
        bandwidth_factor: float = 1.0,
        min_bandwidth: float = 0.01,
        multivariate: bool | None = None,
        constant_liar: bool = True,
    ) -> None:
        self.seed = seed
        self.n_startup = _int("n_startup", n_startup, 0)
        self.gamma = _fraction("gamma", gamma)
        self.max_good = None if max_good is None else _int("max_good", max_good, 1)
        self.n_candidates = _int("n_candidates", n_candidates, 1)
        self.prior_weight = check_number(
            "tpe",
            "prior_weight",
            prior_weight,
            low=0,
            expected="a number > 0",
            error=OptimizerError,
        )
        self.bandwidth_factor = _fraction("bandwidth_factor", bandwidth_factor)
        self.min_bandwidth = _fraction("min_bandwidth", min_bandwidth)
        self.multivariate = (
            None
            if multivariate is None
            else check_flag("tpe", "multivariate", multivariate, error=OptimizerError)
        )
        self.constant_liar = check_flag("tpe", "constant_liar", constant_liar, error=OptimizerError)
        self._lock = threading.Lock()  # threads of one study share this object's caches
        self._sobol: dict[int | None, SobolOptimizer] = {}
        self._rows: _EncodedRows | None = None
        self._groups: tuple[bool, ActivationGroups] | None = None
        self._fits: tuple[ActivationGroups | None, dict[bytes, list[ParzenEstimator]]] = (None, {})

    def settings(self) -> dict[str, Any]:
        return {
            "n_startup": self.n_startup,
            "gamma": self.gamma,
            "max_good": self.max_good,
            "n_candidates": self.n_candidates,
            "prior_weight": self.prior_weight,
            "bandwidth_factor": self.bandwidth_factor,
            "min_bandwidth": self.min_bandwidth,
            "multivariate": self.multivariate,
            "constant_liar": self.constant_liar,
        }

    # -- suggest -------------------------------------------------------------------------
    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        space = history.space
        if space.dim == 0:
            return np.empty((n, 0))
        completed, pending = _completed_and_pending(history.trials)
        if len(completed) < self.n_startup:
            return self._startup(history, n, rng)
        with self._lock:
            X, X_pending, taken = self._encoded(space, completed, pending)
            joint = self.multivariate
            if joint is None:  # joint with one objective, independent with several (as Optuna)
                joint = len(history.directions) == 1
            groups = self._activation_groups(space, joint)
        if history.has_constraints:
            parts = _constrained_split(completed, history.directions, self.gamma, self.max_good)
            numbers = np.array([t.number for t in completed], dtype=np.int64)
            return self._suggest_constrained(groups, parts, numbers, X, X_pending, n, rng, taken)
        y = _oriented_values(completed, history.directions)
        n_good = _n_good(self.gamma, self.max_good, y.shape)
        if y.shape[1] == 1:
            order = np.argsort(_scalarize(y), kind="stable")
            good, bad = X[order[:n_good]], X[order[n_good:]]
        else:  # several objectives: fronts, the last one cut by hypervolume
            rows = good_rows(y, n_good)
            good, bad = X[rows], np.delete(X, rows, axis=0)
        if self.constant_liar:
            bad = np.concatenate([bad, X_pending])
        good_models = self._fit(groups, good)
        points = np.empty((n, space.dim))
        for i in range(n):
            bad_models = self._fit(groups, bad)
            point, active = self._propose(groups, good_models, bad_models, rng, taken)
            points[i] = point
            if self.constant_liar and i + 1 < n:  # the batch's earlier points are pending
                bad = np.concatenate([bad, np.where(active, point, np.nan)[None, :]])
        return points

    def _startup(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        seed = self.seed if self.seed is not None else history.seed
        with self._lock:
            sobol = self._sobol.get(seed)
            if sobol is None:
                sobol = self._sobol[seed] = SobolOptimizer(seed=seed)
            return sobol.suggest(history, n, rng)

    def _encoded(
        self, space: Space, completed: list[TrialRecord], pending: list[TrialRecord]
    ) -> tuple[np.ndarray, np.ndarray, set[int]]:
        """Encoded rows of the completed and pending trials, and the hashes of their
        configurations (what is tried or in flight)."""
        if self._rows is None or not _same(self._rows.space, space):
            self._rows = _EncodedRows(space)
        rows = self._rows
        return rows.encode(completed), rows.encode(pending), rows.keys((*completed, *pending))

    def _activation_groups(self, space: Space, joint: bool) -> ActivationGroups:
        cached = self._groups
        if cached is None or not _same(cached[1].space, space) or cached[0] is not joint:
            self._groups = cached = (joint, ActivationGroups(space, joint=joint))
        return cached[1]

    def _fit(self, groups: ActivationGroups, X: np.ndarray) -> list[ParzenEstimator]:
        """One estimator per group, from the rows of X where that group is active."""
        observed = groups.observed(X)
        return [
            ParzenEstimator(
                X[observed[:, g]][:, list(group.columns)],
                [groups.columns[j] for j in group.columns],
                prior_weight=self.prior_weight,
                bandwidth_factor=self.bandwidth_factor,
                min_bandwidth=self.min_bandwidth,
            )
            for g, group in enumerate(groups.groups)
        ]

    def _propose(
        self,
        groups: ActivationGroups,
        good: list[ParzenEstimator],
        bad: list[ParzenEstimator],
        rng: np.random.Generator,
        taken: set[int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Draw candidates from l walking the tree; return the best l/g that is not in
        ``taken`` (the best overall when every candidate is) and its active mask; its
        configuration joins ``taken``."""
        candidates, active = self._draw(groups, good, rng)
        score = _log_ratio(groups, good, bad, candidates, active)
        best = _pick(groups.space, candidates, score, taken)
        return candidates[best], active[best]

    def _draw(
        self, groups: ActivationGroups, models: list[ParzenEstimator], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n_candidates`` configurations from the estimators ``models`` (one per group),
        walking the tree: sample the root group, then each child group where its parents'
        sampled values activate it. Returns them and their active masks."""
        c = self.n_candidates
        candidates = np.full((c, groups.space.dim), 0.5)  # inactive columns stay at 0.5
        active = np.zeros((c, groups.space.dim), dtype=bool)
        memo: dict[str, np.ndarray] = {}
        for g, group in enumerate(groups.groups):  # parents' groups first
            rows = groups.group_active(g, candidates, memo)
            count = int(rows.sum())
            if count == 0:
                continue
            columns = np.array(group.columns)
            candidates[np.ix_(rows, columns)] = models[g].sample(rng, count)  # x_G ~ l_G
            active[np.ix_(rows, columns)] = True
        return candidates, active

    # -- c-TPE ---------------------------------------------------------------------------
    def _suggest_constrained(
        self,
        groups: ActivationGroups,
        parts: list[tuple[np.ndarray, np.ndarray]],
        numbers: np.ndarray,
        X: np.ndarray,
        X_pending: np.ndarray,
        n: int,
        rng: np.random.Generator,
        taken: set[int],
    ) -> np.ndarray:
        """c-TPE (see :func:`_constrained_split` and :meth:`_propose_constrained`): the
        objective's split and one per constraint, each with its own l and g. Pending trials
        (and a batch's earlier points) join the objective's bad set, as without constraints."""
        with self._lock:
            if self._fits[0] is not groups:
                self._fits = (groups, {})
            cache = self._fits[1]
        used: dict[bytes, list[ParzenEstimator]] = {}
        fitted = []
        for p, (good, bad) in enumerate(parts):
            X_bad = X[bad]
            if p == 0 and self.constant_liar and len(X_pending):
                X_bad = np.concatenate([X_bad, X_pending])
                bad_models = self._fit(groups, X_bad)
            else:
                bad_models = self._fit_rows(groups, X, numbers, bad, cache, used)
            good_models = self._fit_rows(groups, X, numbers, good, cache, used)
            fitted.append(_Part(len(good), good_models, bad_models, X_bad))
        with self._lock:
            self._fits = (groups, used)  # the next call, one trial on, reuses most of these
        points = np.empty((n, groups.space.dim))
        for i in range(n):
            point, active = self._propose_constrained(groups, fitted, rng, taken)
            points[i] = point
            if self.constant_liar and i + 1 < n:  # the batch's earlier points are pending
                objective = fitted[0]
                X_bad = np.concatenate([objective.X_bad, np.where(active, point, np.nan)[None]])
                fitted[0] = _Part(objective.n_good, objective.good, self._fit(groups, X_bad), X_bad)
        return points

    def _fit_rows(
        self,
        groups: ActivationGroups,
        X: np.ndarray,
        numbers: np.ndarray,
        rows: np.ndarray,
        cache: dict[bytes, list[ParzenEstimator]],
        used: dict[bytes, list[ParzenEstimator]],
    ) -> list[ParzenEstimator]:
        """:meth:`_fit` of the completed trials ``rows``, memoized by their trial numbers
        (a cache, never state: the same trials give the same estimators). From one call to
        the next a constraint's split gains one trial, on one side: the other side's
        estimators are reused."""
        key = numbers[rows].tobytes()
        models = cache.get(key) or used.get(key) or self._fit(groups, X[rows])
        used[key] = models
        return models

    def _propose_constrained(
        self,
        groups: ActivationGroups,
        fitted: list[_Part],
        rng: np.random.Generator,
        taken: set[int],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Watanabe & Hutter (2023), Eq. (6): candidates drawn from every part's l (the
        objective's, then each constraint's), ranked by the product over parts of the
        gamma-relative density ratios, ``sum_p -log(gamma_p + (1 - gamma_p) g_p / l_p)``,
        with ``gamma_p`` the part's share of good observations. A part whose every
        observation is good (a constraint no trial violated) contributes 0 and is skipped."""
        draws = [self._draw(groups, part.good, rng) for part in fitted]
        candidates = np.concatenate([d[0] for d in draws])
        active = np.concatenate([d[1] for d in draws])
        score = np.zeros(len(candidates))
        for part in fitted:
            gamma = _share(part.n_good, len(part.X_bad))
            log_ratio = _log_ratio(groups, part.good, part.bad, candidates, active)
            score -= np.logaddexp(math.log(gamma), math.log1p(-gamma) - log_ratio)
        best = _pick(groups.space, candidates, score, taken)
        return candidates[best], active[best]


def _log_ratio(
    groups: ActivationGroups,
    good: list[ParzenEstimator],
    bad: list[ParzenEstimator],
    candidates: np.ndarray,
    active: np.ndarray,
) -> np.ndarray:
    """``log l(x) - log g(x)``: the sum over each candidate's active groups G of
    ``log l_G(x_G) - log g_G(x_G)``."""
    score = np.zeros(len(candidates))
    for g, group in enumerate(groups.groups):
        columns = np.array(group.columns)
        rows = active[:, columns[0]]  # a group's columns are active together
        if not rows.any():
            continue
        x = candidates[np.ix_(rows, columns)]
        score[rows] += good[g].log_pdf(x) - bad[g].log_pdf(x)
    return score


def _pick(space: Space, candidates: np.ndarray, score: np.ndarray, taken: set[int]) -> int:
    """The index of the best-scored candidate whose configuration is not in ``taken`` (the
    best overall when all are); its configuration joins ``taken``."""
    order = np.argsort(-score, kind="stable")
    best = int(order[0])
    for index in order:  # in a continuous space the first candidate is new
        key = hash(config_key(space.decode(candidates[index][None, :])[0]))
        if key not in taken:
            best = int(index)
            break
    else:
        key = hash(config_key(space.decode(candidates[best][None, :])[0]))
    taken.add(key)
    return best


def _share(n_good: int, n_bad: int) -> float:
    """gamma of a part, kept inside (0, 1) so both logs stay finite."""
    return min(max(n_good / max(n_good + n_bad, 1), 1e-12), 1.0 - 1e-12)


def _same(cached: Space, space: Space) -> bool:
    return cached is space or cached == space


# -- observations --------------------------------------------------------------------------


class _EncodedRows:
    """Encoded rows of trials and hashes of their configurations, memoized by trial number
    and checked against their params.

    A hash stands for its configuration: a collision (odds ~n/2^64) would only make a TPE
    candidate give way to the next best one."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self._matrix = np.empty((64, space.dim))
        self._slots: dict[int, tuple[Mapping[str, Any], int, int]] = {}

    def encode(self, records: list[TrialRecord]) -> np.ndarray:
        """(len(records), dim), NaN where a parameter is inactive."""
        slots = self._slots
        stale = []
        for record in records:
            hit = slots.get(record.number)
            if hit is None or (hit[0] is not record.params and hit[0] != record.params):
                stale.append(record)
        if stale:
            encoded = self.space.encode_lenient([r.params for r in stale])
            free = len(slots)
            if free + len(stale) > len(self._matrix):
                grown = np.empty((2 * (free + len(stale)), self.space.dim))
                grown[:free] = self._matrix[:free]
                self._matrix = grown
            for row, record in zip(encoded, stale, strict=True):
                old = slots.get(record.number)
                slot = free if old is None else old[1]
                free += old is None
                self._matrix[slot] = row
                key = hash(config_key(record.params))
                slots[record.number] = (record.params, slot, key)
        index = [slots[record.number][1] for record in records]
        return self._matrix[index]

    def keys(self, records: tuple[TrialRecord, ...]) -> set[int]:
        """Configuration hashes of records already passed to :meth:`encode`."""
        slots = self._slots
        return {slots[record.number][2] for record in records}


def _completed_and_pending(
    trials: list[TrialRecord],
) -> tuple[list[TrialRecord], list[TrialRecord]]:
    completed, pending = [], []
    for trial in trials:
        state = trial.state
        if state is TrialState.COMPLETE:
            if trial.values is not None:
                completed.append(trial)
        elif (state is TrialState.RUNNING or state is TrialState.WAITING) and trial.params:
            pending.append(trial)
    return completed, pending


def _oriented_values(completed: list[TrialRecord], directions: tuple[str, ...]) -> np.ndarray:
    """(n, n_objectives), lower is better (as ``History.y``)."""
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    values = np.array([t.values for t in completed], dtype=float)
    return values.reshape(len(completed), len(directions)) * signs


def _n_good(gamma: float, max_good: int | None, shape: tuple[int, ...]) -> int:
    """``ceil(gamma n)`` of n trials, at most ``max_good`` (None: 25 with one objective, no
    cap with several)."""
    n, m = shape
    cap = max_good if max_good is not None else (25 if m == 1 else n)
    return min(math.ceil(gamma * n), cap)


def _scalarize(y: np.ndarray) -> np.ndarray:
    """One score per trial, lower is better: the value, or for several objectives the
    Pareto front index plus a tie-break in [0, 1) (the mean normalized rank; c-TPE's ranking
    while no trial is feasible)."""
    n, m = y.shape
    if m == 1:
        return y[:, 0]
    front = non_dominated_sort(y)
    ranks = np.argsort(np.argsort(y, axis=0, kind="stable"), axis=0, kind="stable")
    return front + ranks.mean(axis=1) / n


class _Part(NamedTuple):
    """One part of c-TPE's acquisition: its good count, l and g per group, g's rows."""

    n_good: int
    good: list[ParzenEstimator]
    bad: list[ParzenEstimator]
    X_bad: np.ndarray


def _constrained_split(
    completed: list[TrialRecord],
    directions: tuple[str, ...],
    gamma: float,
    max_good: int | None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """c-TPE's splits of the completed trials (Watanabe & Hutter 2023, Sec. 4): (good, bad)
    row indices for the objective(s), then for each constraint some trial violates.

    - The objective: the best ``n_good`` trials (:func:`_n_good`) are good, but never an
      infeasible trial while some trial is feasible: the good set is at most the feasible
      trials, taken as without constraints (the value; several objectives: fronts, the
      last cut by hypervolume, :func:`~tuneful.optimizers._motpe.good_rows`). With none
      feasible, the least violating are good (ranked by
      :func:`~tuneful.records.feasibility_ranked`, several objectives scalarized by
      :func:`_scalarize`).
    - Constraint i: good are the trials that satisfy it (value <= 0), so its gamma is the
      satisfied share; when no trial satisfies it, the one closest to satisfying it is good
      (the paper's reference implementation: at least one good observation), which draws
      the search towards the feasible region. Trials told without this constraint (earlier
      ones, before constraints were told) are left out of its split. A constraint every
      trial satisfies has gamma 1: its density ratio is constant and it is left out.
    """
    n = len(completed)
    y = _oriented_values(completed, directions)
    C = _constraint_matrix(completed)
    violations = np.where(C > 0.0, C, 0.0).sum(axis=1)  # TrialRecord.violation; NaN: not told
    n_good = _n_good(gamma, max_good, y.shape)
    feasible = np.flatnonzero(violations <= 0.0)
    if len(feasible):
        n_good = min(n_good, len(feasible))
    if y.shape[1] > 1 and len(feasible):  # fronts among the feasible trials
        good = feasible[good_rows(y[feasible], n_good)]
        parts = [(good, np.setdiff1d(np.arange(n), good))]
    else:
        order = np.argsort(_scalarize(feasibility_ranked(y, violations)), kind="stable")
        parts = [(order[:n_good], order[n_good:])]
    for i in range(C.shape[1]):
        known = np.flatnonzero(~np.isnan(C[:, i]))
        values = C[known, i]
        satisfied = values <= 0.0
        if satisfied.all():
            continue
        if not satisfied.any():
            satisfied[np.argmin(values)] = True
        parts.append((known[satisfied], known[~satisfied]))
    return parts


def _constraint_matrix(completed: list[TrialRecord]) -> np.ndarray:
    """(n, n_constraints) constraint values, NaN where a trial was told fewer (or none)."""
    told = [t.constraints for t in completed]
    try:  # the common case: every trial told the same number of constraints
        C = np.array(told, dtype=float)
        if C.ndim == 2:
            return C
    except (TypeError, ValueError):  # None among them, or tuples of different lengths
        pass
    width = max(len(c or ()) for c in told)
    C = np.full((len(told), width), np.nan)
    for row, constraints in enumerate(told):
        if constraints:
            C[row, : len(constraints)] = constraints
    return C


# -- validation ----------------------------------------------------------------------------


def _int(key: str, value: Any, minimum: int) -> int:
    return int(check_int("tpe", key, value, minimum=minimum, error=OptimizerError))


def _fraction(key: str, value: Any) -> float:
    return float(
        check_number("tpe", key, value, low=0, high=1, high_inclusive=True, error=OptimizerError)
    )
