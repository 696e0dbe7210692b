"""Statistics in cost units, for multi-fidelity benchmarks: regret and ranks at fixed costs,
and the speed-up of each optimizer over a baseline.

The conventions are those of :mod:`tuneful.bench.stats` (each task's reference range over
every run; normalized regret of the incumbent, 1.0 before the first full-fidelity result; the
value at cost c is the one after the last evaluation whose cumulative cost is <= c), with
costs given in absolute units rather than as fractions of each task's budget: in a
multi-fidelity benchmark 1.0 is one full-fidelity evaluation's worth, so "regret at 10" reads
"after ten full evaluations' worth of compute".

Example:
    >>> import numpy as np
    >>> from tuneful.bench.results import Run
    >>> runs = [Run("slow", "t", 0, np.array([3.0, 2.0, 1.0]), np.ones(3), budget=3),
    ...         Run("fast", "t", 0, np.array([np.nan, 1.0]), np.array([0.5, 0.5]), budget=3)]
    >>> speedups(runs, baseline="slow").speedup.tolist()  # (optimizer, task): fast, slow
    [[3.0], [1.0]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from tuneful.bench.results import Run
from tuneful.bench.stats import (
    TaskRange,
    check_runs,
    nanmean,
    rank_matrix,
    regret_at,
    run_regret,
    task_budgets,
    task_ranges,
)

__all__ = ["CostTable", "SpeedUp", "lead_probability", "regret_at_costs", "speedups"]

# A mean incumbent counts as reaching the target within this slack (float sums of regrets).
_TARGET_SLACK = 1e-12


@dataclass(frozen=True)
class CostTable:
    """Normalized regret and ranks at fixed costs.

    Attributes:
        optimizers: (o,) sorted labels. tasks: (t,) sorted ids. costs: (c,) the costs.
        values: (o, t, s, c) each run's regret at each cost; NaN where no run has that cell.
        mean: (o, t, c) mean over seeds (NaN where the optimizer has no run on the task).
        ranked_tasks: the tasks where every optimizer has a run (the ranks use these only).
        mean_rank: (c, o) mean over the ranked tasks of each optimizer's rank by ``mean``
            (1 = lowest regret, ties share the average rank); NaN without ranked tasks.
    """

    optimizers: tuple[str, ...]
    tasks: tuple[str, ...]
    costs: np.ndarray
    values: np.ndarray
    mean: np.ndarray
    ranked_tasks: tuple[str, ...]
    mean_rank: np.ndarray


@dataclass(frozen=True)
class SpeedUp:
    """How much sooner each optimizer's mean incumbent reaches the baseline's final regret.

    Attributes:
        baseline: the optimizer whose final regret is the target.
        optimizers: (o,) sorted labels. tasks: (t,) sorted ids.
        budgets: (t,) each task's budget (see :func:`tuneful.bench.stats.task_budgets`).
        target: (t,) the baseline's mean regret over seeds at the budget.
        cost: (o, t) the least cost at which the optimizer's mean regret over seeds is <=
            the target; NaN when it never is within the budget (or has no run there).
        speedup: (o, t) ``budget / cost``; NaN where ``cost`` is.
    """

    baseline: str
    optimizers: tuple[str, ...]
    tasks: tuple[str, ...]
    budgets: np.ndarray
    target: np.ndarray
    cost: np.ndarray
    speedup: np.ndarray

    def geometric_mean(self) -> tuple[np.ndarray, np.ndarray]:
        """Per optimizer: the geometric mean speed-up over the tasks where the target was
        reached, and on how many tasks it was; shapes (o,) and (o,)."""
        reached = np.isfinite(self.speedup)
        counts = reached.sum(axis=1)
        logs = np.where(reached, np.log(np.where(reached, self.speedup, 1.0)), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, np.exp(logs.sum(axis=1) / np.maximum(counts, 1)), np.nan)
        return means, counts


def _index(runs: Sequence[Run]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
    return (
        tuple(sorted({r.optimizer for r in runs})),
        tuple(sorted({r.task for r in runs})),
        tuple(sorted({r.seed for r in runs})),
    )


def _cost_grid(costs: Iterable[float]) -> np.ndarray:
    grid = np.asarray(list(costs), dtype=float).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"costs must be finite and >= 0, got {grid.tolist()}")
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"costs must be strictly increasing, got {grid.tolist()}")
    return grid


def regret_at_costs(runs: Sequence[Run], costs: Iterable[float] = (10, 30, 100)) -> CostTable:
    """Each run's normalized regret at the given cumulative costs; means and mean ranks.

    Raises:
        ValueError: no runs, two runs for one cell, a bad cost, costs not increasing.
    """
    check_runs(runs)
    grid = _cost_grid(costs)
    ranges = task_ranges(runs)
    optimizers, tasks, seeds = _index(runs)
    values = np.full((len(optimizers), len(tasks), len(seeds), grid.size), np.nan)
    for run in runs:
        cell = (
            optimizers.index(run.optimizer),
            tasks.index(run.task),
            seeds.index(run.seed),
        )
        values[cell] = regret_at(run.cumulative_cost, run_regret(run, ranges[run.task]), grid)
    mean = nanmean(values, axis=2)  # (o, t, c)
    complete = ~np.isnan(mean).any(axis=(0, 2))
    ranked = tuple(t for t, ok in zip(tasks, complete, strict=True) if ok)
    mean_rank = np.full((grid.size, len(optimizers)), np.nan)
    if ranked:
        for c in range(grid.size):
            mean_rank[c] = rank_matrix(mean[:, complete, c].T).mean(axis=0)
    return CostTable(optimizers, tasks, grid, values, mean, ranked, mean_rank)


def lead_probability(table: CostTable, *, n_bootstrap: int = 2000, seed: int = 0) -> np.ndarray:
    """How sure each optimizer's lead is: per cost, the share of bootstrap resamples in which
    it has the best mean rank over the ranked tasks; shape (c, o), rows summing to 1.

    A resample draws, for every optimizer and task independently, as many seeds as it ran
    there, with replacement, from its own runs (so an optimizer with fewer seeds is resampled
    from fewer), then ranks as :func:`regret_at_costs` does. Optimizers that share the best
    mean rank share the resample. A high share says the order at the top would survive other
    seeds; it says nothing about other tasks. All NaN when no task is ranked.

    Raises:
        ValueError: ``n_bootstrap`` < 1.
    """
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap={n_bootstrap!r}: expected an int >= 1")
    n_opt, n_cost = len(table.optimizers), table.costs.size
    if not table.ranked_tasks:
        return np.full((n_cost, n_opt), np.nan)
    rng = np.random.default_rng(seed)
    columns = [table.tasks.index(t) for t in table.ranked_tasks]
    means = np.empty((n_bootstrap, len(columns), n_opt, n_cost))  # (b, t, o, c)
    for j, t in enumerate(columns):
        for o in range(n_opt):
            cell = table.values[o, t]  # (s, c)
            own = cell[~np.isnan(cell).all(axis=1)]
            picks = rng.integers(0, own.shape[0], size=(n_bootstrap, own.shape[0]))
            means[:, j, o, :] = own[picks].mean(axis=1)
    ranks = stats.rankdata(means, axis=2)  # average ranks of ties, as rank_matrix
    mean_rank = ranks.mean(axis=1)  # (b, o, c)
    best = np.isclose(mean_rank, mean_rank.min(axis=1, keepdims=True), rtol=0.0, atol=1e-12)
    share = best / best.sum(axis=1, keepdims=True)
    return share.mean(axis=0).T  # (c, o)


def speedups(runs: Sequence[Run], *, baseline: str) -> SpeedUp:
    """The cost at which each optimizer's mean incumbent (over seeds) first reaches the
    baseline's mean final regret, and ``budget / cost``, per task.

    The mean incumbent is a step function of cost that can only change at a cumulative cost
    of one of the optimizer's runs, so it is evaluated exactly there. An optimizer that matches
    the baseline on its first evaluation at cost c has speed-up budget / c; the baseline itself
    gets >= 1 (its mean may reach its final value before the budget).

    Raises:
        ValueError: ``baseline`` is not among the optimizers, or the runs are malformed.
    """
    check_runs(runs)
    optimizers, tasks, _ = _index(runs)
    if baseline not in optimizers:
        raise ValueError(f"baseline {baseline!r} is not among the optimizers {list(optimizers)}")
    ranges = task_ranges(runs)
    budgets = task_budgets(runs)
    grouped: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        grouped.setdefault((run.optimizer, run.task), []).append(run)
    target = np.full(len(tasks), np.nan)
    cost = np.full((len(optimizers), len(tasks)), np.nan)
    for t, task in enumerate(tasks):
        budget = budgets[task]
        base = grouped.get((baseline, task))
        if not base:
            continue
        finals = [regret_at(r.cumulative_cost, run_regret(r, ranges[task]), np.array([budget]))[0]
                  for r in base]  # fmt: skip
        target[t] = float(np.mean(finals))
        for o, name in enumerate(optimizers):
            own = grouped.get((name, task))
            if own:
                cost[o, t] = _first_reach(own, ranges[task], budget, target[t])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.array([budgets[task] for task in tasks])[None, :] / cost
    return SpeedUp(
        baseline=baseline,
        optimizers=optimizers,
        tasks=tasks,
        budgets=np.array([budgets[task] for task in tasks]),
        target=target,
        cost=cost,
        speedup=np.where(np.isfinite(cost) & (cost > 0), ratio, np.nan),
    )


def _first_reach(runs: Sequence[Run], task_range: TaskRange, budget: float, target: float) -> float:
    """The least cumulative cost <= budget at which the mean regret over ``runs`` <= target."""
    regrets = [run_regret(r, task_range) for r in runs]
    points = np.unique(np.concatenate([r.cumulative_cost for r in runs]))
    points = points[points <= budget * (1 + 1e-9)]
    if points.size == 0:
        return math.nan
    mean = np.mean(
        [regret_at(r.cumulative_cost, g, points) for r, g in zip(runs, regrets, strict=True)],
        axis=0,
    )
    hits = np.flatnonzero(mean <= target + _TARGET_SLACK)
    return float(points[hits[0]]) if hits.size else math.nan
