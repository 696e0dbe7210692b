"""Statistics over benchmark runs, after carps: normalize each task's losses to [0, 1], follow
the incumbent over the budget, rank the optimizers per task and test the ranks.

Conventions every function here follows:

* **Reference range of a task.** "Seen" means over every evaluation of every run of the task
  (all optimizers, all seeds; NaN failures ignored). ``high`` is the largest loss seen.
  ``low`` is the task's known optimum when every run of the task states one (or the smallest
  loss seen, should one be lower), otherwise the smallest loss seen. A loss maps to
  ``(loss - low) / (high - low)``; a degenerate range (``high == low``) maps every loss to 0.
  Hypervolume regrets (:mod:`tuneful.bench.hypervolume`) are in [0, 1] already: range [0, 1].
* **Normalized regret** of a run after evaluation i is its normalized incumbent (the best
  loss among evaluations 1..i). Until the run's first successful evaluation it is 1.0: a run
  that has found nothing scores as badly as the worst evaluation anybody saw.
* **Budget of a task**: the largest of its runs' budgets, where a run without one counts its
  total cost. The anytime curve at budget b is the regret after the last evaluation whose
  cumulative cost is <= b, so 1.0 before the first evaluation completes.

Example:
    >>> import numpy as np
    >>> from tuneful.bench.results import Run
    >>> runs = [Run("a", "t", 0, np.array([3.0, 1.0]), np.ones(2)),
    ...         Run("b", "t", 0, np.array([2.0, 2.0]), np.ones(2))]
    >>> curves = anytime_curves(runs, fractions=[0.5, 1.0])
    >>> curves.values[:, 0, 0, :].tolist()  # (optimizer, fraction) on task t, seed 0
    [[1.0, 0.0], [0.5, 0.5]]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as scipy_stats

from tuneful.bench.results import Run

__all__ = [
    "RunKey",
    "TaskRange",
    "Curves",
    "TaskSummary",
    "RankSummary",
    "FriedmanResult",
    "NemenyiResult",
    "RankOverTime",
    "Comparison",
    "WinTieLoss",
    "check_runs",
    "task_ranges",
    "run_regret",
    "normalized_regret",
    "regret_at",
    "nanmean",
    "task_budgets",
    "anytime_curves",
    "final_summary",
    "rank_matrix",
    "mean_ranks",
    "friedman_test",
    "critical_difference",
    "nemenyi",
    "cliques",
    "rank_over_time",
    "ecdf",
    "win_tie_loss",
]

#: ``(optimizer, task, seed)``: one cell of a benchmark.
RunKey = tuple[str, str, int]

# Cumulative costs are float sums (ten evaluations of cost 0.1 add up to 0.9999999999999999);
# an evaluation counts at budget b when its cumulative cost is within this relative slack.
_COST_SLACK = 1e-9


@dataclass(frozen=True)
class TaskRange:
    """The losses that map to 0 (``low``) and 1 (``high``) on one task.

    ``source`` says where ``low`` came from: ``"optimum"``, ``"observed"`` (smallest loss
    seen), ``"hypervolume"`` (a hypervolume regret) or ``"none"`` (nothing succeeded: NaN).
    """

    task: str
    low: float
    high: float
    source: str

    def normalize(self, losses: np.ndarray) -> np.ndarray:
        """Losses of shape (n,) mapped to [0, 1]; NaN stays NaN."""
        losses = np.asarray(losses, dtype=float)
        if self.source == "none":
            return np.full(losses.shape, np.nan)
        span = self.high - self.low
        if span <= 0:
            return np.where(np.isnan(losses), np.nan, 0.0)
        return np.clip((losses - self.low) / span, 0.0, 1.0)


@dataclass(frozen=True)
class Curves:
    """Anytime normalized regret of every run on one grid of budget fractions.

    Attributes:
        optimizers, tasks, seeds: (o,), (t,), (s,) labels, ids, every seed; all sorted.
        fractions: (f,) fractions of each task's budget.
        values: (o, t, s, f) regret at each fraction; NaN where no run has that cell.
        final: (o, t, s) regret at the full budget.
        auc: (o, t, s) area under the regret step function over [0, budget], divided by the
            budget, so in [0, 1] (0 when a zero-cost first evaluation hit the best loss).
        budgets: (t,) each task's budget.
        ranges: each task's reference range.
    """

    optimizers: tuple[str, ...]
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    fractions: np.ndarray
    values: np.ndarray
    final: np.ndarray
    auc: np.ndarray
    budgets: np.ndarray
    ranges: Mapping[str, TaskRange] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSummary:
    """Final normalized regret per (optimizer, task) over seeds; arrays of shape (o, t).

    ``std`` uses ddof=1 and ``stderr = std / sqrt(n_seeds)``; both are NaN with one seed.
    ``mean`` is NaN where the optimizer has no run on the task.
    """

    optimizers: tuple[str, ...]
    tasks: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    stderr: np.ndarray
    n_seeds: np.ndarray


@dataclass(frozen=True)
class RankSummary:
    """Ranks of the optimizers per task (1 = lowest mean final regret) and their means.

    Attributes:
        tasks: (t,) the tasks ranked: those where every optimizer has a result.
        dropped: tasks left out because some optimizer has no run there.
        ranks: (t, o) average ranks (ties share the mean of their positions).
        mean: (o,) mean rank over tasks; ci_low, ci_high: (o,) percentile bootstrap interval
            over tasks at ``confidence``.
    """

    optimizers: tuple[str, ...]
    tasks: tuple[str, ...]
    dropped: tuple[str, ...]
    ranks: np.ndarray
    mean: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float


@dataclass(frozen=True)
class FriedmanResult:
    """Friedman's test that all optimizers rank alike; NaN with ``note`` when not applicable."""

    statistic: float
    pvalue: float
    k: int
    n: int
    note: str = ""


@dataclass(frozen=True)
class NemenyiResult:
    """Nemenyi's critical difference and the groups of optimizers it cannot tell apart.

    ``cliques`` are maximal runs of optimizers, in mean-rank order, whose mean ranks all lie
    within less than ``cd`` of each other (only groups of two or more; the lines of a
    critical-difference diagram).
    """

    cd: float
    q_alpha: float
    alpha: float
    k: int
    n: int
    cliques: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class RankOverTime:
    """Mean rank over tasks at each budget fraction; ``mean_rank`` has shape (f, o)."""

    optimizers: tuple[str, ...]
    fractions: np.ndarray
    mean_rank: np.ndarray


@dataclass(frozen=True)
class Comparison:
    """One optimizer against the baseline on one task (seeds' final regrets)."""

    optimizer: str
    task: str
    outcome: str  # "win", "tie" or "loss"
    pvalue: float
    mean: float
    baseline_mean: float


@dataclass(frozen=True)
class WinTieLoss:
    """Outcomes against ``baseline``: ``counts[optimizer] = (wins, ties, losses)``."""

    baseline: str
    alpha: float
    counts: Mapping[str, tuple[int, int, int]]
    details: tuple[Comparison, ...]


def check_runs(runs: Sequence[Run]) -> None:
    """ValueError unless ``runs`` hold one run per (optimizer, task, seed), costs finite >= 0."""
    if not runs:
        raise ValueError("no runs given; expected at least one Run")
    seen: set[RunKey] = set()
    for run in runs:
        key = (run.optimizer, run.task, run.seed)
        if key in seen:
            raise ValueError(f"two runs for optimizer/task/seed {key}; expected one per cell")
        seen.add(key)
        if run.costs.size and not (np.all(np.isfinite(run.costs)) and np.all(run.costs >= 0)):
            raise ValueError(
                f"run {key} has a negative or non-finite cost {run.costs.tolist()}; "
                "expected finite costs >= 0"
            )


def task_ranges(runs: Sequence[Run]) -> dict[str, TaskRange]:
    """Each task's reference range (see the module docstring for the convention).

    Raises:
        ValueError: runs of one task state different optima.
    """
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task, []).append(run)
    ranges: dict[str, TaskRange] = {}
    for task, task_runs in sorted(by_task.items()):
        if all(r.normalized for r in task_runs):
            ranges[task] = TaskRange(task, 0.0, 1.0, "hypervolume")
            continue
        losses = np.concatenate([r.losses for r in task_runs])
        losses = losses[np.isfinite(losses)]
        optima = [r.optimum for r in task_runs]
        known = all(o is not None for o in optima)
        if known:
            values = np.array(optima, dtype=float)
            if not np.allclose(values, values[0]):
                raise ValueError(
                    f"runs of task {task!r} state different optima {sorted(set(values))}; "
                    "expected one optimum per task"
                )
        if losses.size == 0:
            ranges[task] = TaskRange(task, math.nan, math.nan, "none")
            continue
        low = float(losses.min())
        if known:
            low = min(low, float(np.min(values)))
        ranges[task] = TaskRange(task, low, float(losses.max()), "optimum" if known else "observed")
    return ranges


def run_regret(run: Run, task_range: TaskRange) -> np.ndarray:
    """(n,) the run's normalized regret after each evaluation, 1.0 before the first success."""
    normalized = task_range.normalize(run.incumbent)
    return np.where(np.isnan(normalized), 1.0, normalized)


def normalized_regret(
    runs: Sequence[Run], *, ranges: Mapping[str, TaskRange] | None = None
) -> dict[RunKey, np.ndarray]:
    """Normalized regret after each evaluation of each run.

    Returns:
        ``{(optimizer, task, seed): array of shape (n,)}``, values in [0, 1], 1.0 until the
        run's first successful evaluation.
    """
    check_runs(runs)
    ranges = task_ranges(runs) if ranges is None else ranges
    return {(r.optimizer, r.task, r.seed): run_regret(r, ranges[r.task]) for r in runs}


def task_budgets(runs: Sequence[Run]) -> dict[str, float]:
    """Each task's budget: the largest run budget, a run without one counting its total cost."""
    budgets: dict[str, float] = {}
    for run in runs:
        own = run.budget if run.budget is not None else float(np.sum(run.costs))
        budgets[run.task] = max(budgets.get(run.task, 0.0), float(own))
    return budgets


def regret_at(cumulative: np.ndarray, regret: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Regret after the last evaluation with cumulative cost <= each budget in ``at`` (m,)."""
    slack = _COST_SLACK * np.maximum(np.abs(at), 1.0)
    done = np.searchsorted(cumulative, at + slack, side="right")
    padded = np.concatenate([[1.0], regret])
    return padded[done]


def _area(cumulative: np.ndarray, regret: np.ndarray, budget: float) -> float:
    """Area under the regret step function over [0, budget], divided by the budget."""
    if budget <= 0:
        return float(regret[-1]) if regret.size else 1.0
    starts = np.concatenate([[0.0], np.minimum(cumulative, budget)])
    widths = np.diff(np.concatenate([starts, [budget]]))
    heights = np.concatenate([[1.0], regret])
    return float(np.sum(heights * widths) / budget)


def _fraction_grid(fractions: Iterable[float] | None) -> np.ndarray:
    if fractions is None:
        return np.linspace(0.0, 1.0, 51)[1:]
    grid = np.asarray(list(fractions), dtype=float).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError(f"fractions must be finite and >= 0, got {grid.tolist()}")
    if np.any(np.diff(grid) <= 0):
        raise ValueError(f"fractions must be strictly increasing, got {grid.tolist()}")
    return grid


def anytime_curves(runs: Sequence[Run], fractions: Iterable[float] | None = None) -> Curves:
    """Normalized regret of every run at fractions of its task's budget, final value and AUC.

    Args:
        runs: the runs; one per (optimizer, task, seed).
        fractions: (f,) strictly increasing fractions of the budget; default 0.02, 0.04, ... 1.

    Raises:
        ValueError: no runs, two runs for one cell, a negative or non-finite cost.
    """
    check_runs(runs)
    grid = _fraction_grid(fractions)
    ranges = task_ranges(runs)
    budgets = task_budgets(runs)
    optimizers = tuple(sorted({r.optimizer for r in runs}))
    tasks = tuple(sorted({r.task for r in runs}))
    seeds = tuple(sorted({r.seed for r in runs}))
    o_index = {name: i for i, name in enumerate(optimizers)}
    t_index = {name: i for i, name in enumerate(tasks)}
    s_index = {seed: i for i, seed in enumerate(seeds)}
    shape = (len(optimizers), len(tasks), len(seeds))
    values = np.full((*shape, grid.size), np.nan)
    final = np.full(shape, np.nan)
    auc = np.full(shape, np.nan)
    for run in runs:
        cell = (o_index[run.optimizer], t_index[run.task], s_index[run.seed])
        budget = budgets[run.task]
        regret = run_regret(run, ranges[run.task])
        cumulative = run.cumulative_cost
        values[cell] = regret_at(cumulative, regret, grid * budget)
        final[cell] = regret_at(cumulative, regret, np.array([budget]))[0]
        auc[cell] = _area(cumulative, regret, budget)
    return Curves(
        optimizers=optimizers,
        tasks=tasks,
        seeds=seeds,
        fractions=grid,
        values=values,
        final=final,
        auc=auc,
        budgets=np.array([budgets[t] for t in tasks]),
        ranges=ranges,
    )


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` ignoring NaN; NaN (without a warning) where all are NaN."""
    present = ~np.isnan(values)
    count = present.sum(axis=axis)
    total = np.where(present, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def final_summary(curves: Curves) -> TaskSummary:
    """Mean, std and standard error over seeds of the final normalized regret."""
    final = curves.final
    n_seeds = (~np.isnan(final)).sum(axis=2)
    mean = nanmean(final, axis=2)
    deviation = np.where(np.isnan(final), 0.0, final - mean[:, :, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (deviation**2).sum(axis=2) / (n_seeds - 1)
        std = np.where(n_seeds > 1, np.sqrt(variance), np.nan)
        stderr = std / np.sqrt(n_seeds)
    return TaskSummary(curves.optimizers, curves.tasks, mean, std, stderr, n_seeds)


def rank_matrix(scores: np.ndarray, *, tolerance: float = 0.0) -> np.ndarray:
    """Rank each row of ``scores`` (t, o), lowest score = rank 1, ties sharing average ranks.

    Two scores tie when they differ by at most ``tolerance``; ties chain (sorted scores
    a <= b <= c with b - a and c - b within the tolerance all tie). With tolerance 0 this is
    ``scipy.stats.rankdata(row, method="average")``.

    Raises:
        ValueError: scores contain NaN, or the tolerance is negative.
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; rank only tasks where every optimizer has a result")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    ranks = np.empty_like(scores)
    for row, values in enumerate(scores):
        order = np.argsort(values, kind="stable")
        ordered = values[order]
        start = 0
        for end in range(1, len(ordered) + 1):
            if end == len(ordered) or ordered[end] - ordered[end - 1] > tolerance:
                ranks[row, order[start:end]] = (start + end + 1) / 2  # mean of start+1..end
                start = end
    return ranks


def mean_ranks(
    summary: TaskSummary,
    *,
    tolerance: float = 0.0,
    confidence: float = 0.95,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> RankSummary:
    """Rank the optimizers on each task by mean final regret; mean rank with a bootstrap CI.

    The interval resamples tasks with replacement ``n_bootstrap`` times (seeded, so the same
    inputs give the same interval) and takes percentiles of the mean rank.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    complete = ~np.isnan(summary.mean).any(axis=0)
    tasks = tuple(t for t, ok in zip(summary.tasks, complete, strict=True) if ok)
    dropped = tuple(t for t, ok in zip(summary.tasks, complete, strict=True) if not ok)
    k = len(summary.optimizers)
    if not tasks:
        empty = np.full(k, np.nan)
        return RankSummary(
            summary.optimizers, (), dropped, np.empty((0, k)), empty, empty, empty, confidence
        )
    ranks = rank_matrix(summary.mean[:, complete].T, tolerance=tolerance)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(tasks), size=(n_bootstrap, len(tasks)))
    boot = ranks[picks].mean(axis=1)  # (n_bootstrap, o)
    tail = (1 - confidence) / 2 * 100
    return RankSummary(
        optimizers=summary.optimizers,
        tasks=tasks,
        dropped=dropped,
        ranks=ranks,
        mean=ranks.mean(axis=0),
        ci_low=np.percentile(boot, tail, axis=0),
        ci_high=np.percentile(boot, 100 - tail, axis=0),
        confidence=confidence,
    )


def friedman_test(ranks: RankSummary) -> FriedmanResult:
    """Friedman's chi-square test over the rank table (tasks are blocks).

    Calls ``scipy.stats.friedmanchisquare`` on the ranks, which re-ranks them unchanged, so
    ties declared by a rank tolerance count as ties here too. Needs k >= 3 optimizers and
    N >= 2 tasks; otherwise statistic and p-value are NaN and ``note`` says why.
    """
    n, k = ranks.ranks.shape
    if k < 3:
        note = f"the Friedman test needs at least 3 optimizers, got {k}" + (
            "; compare two with win_tie_loss or a Wilcoxon signed-rank test" if k == 2 else ""
        )
        return FriedmanResult(math.nan, math.nan, k, n, note)
    if n < 2:
        return FriedmanResult(math.nan, math.nan, k, n, f"needs at least 2 tasks, got {n}")
    if np.all(ranks.ranks == (k + 1) / 2):
        return FriedmanResult(0.0, 1.0, k, n, "every optimizer ties on every task")
    result = scipy_stats.friedmanchisquare(*ranks.ranks.T)
    return FriedmanResult(float(result.statistic), float(result.pvalue), k, n)


def critical_difference(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Nemenyi's critical difference for k optimizers on n tasks: ``(cd, q_alpha)``.

    ``q_alpha = studentized_range.ppf(1 - alpha, k, inf) / sqrt(2)`` and
    ``cd = q_alpha * sqrt(k (k + 1) / (6 n))`` (Demšar 2006). Both NaN when k < 2 or n < 1.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if k < 2 or n < 1:
        return math.nan, math.nan
    q_alpha = float(scipy_stats.studentized_range.ppf(1 - alpha, k, np.inf)) / math.sqrt(2)
    return q_alpha * math.sqrt(k * (k + 1) / (6 * n)), q_alpha


def cliques(
    optimizers: Sequence[str], mean_rank: np.ndarray, cd: float
) -> tuple[tuple[str, ...], ...]:
    """Maximal groups (two or more, in mean-rank order) whose mean ranks differ by < ``cd``."""
    mean_rank = np.asarray(mean_rank, dtype=float)
    if math.isnan(cd) or len(optimizers) < 2:
        return ()
    order = np.argsort(mean_rank, kind="stable")
    ordered = mean_rank[order]
    groups: list[tuple[str, ...]] = []
    previous_end = -1
    for start in range(len(order)):
        end = start
        while end + 1 < len(order) and ordered[end + 1] - ordered[start] < cd:
            end += 1
        if end > start and end > previous_end:
            groups.append(tuple(optimizers[i] for i in order[start : end + 1]))
        previous_end = max(previous_end, end)
    return tuple(groups)


def nemenyi(ranks: RankSummary, alpha: float = 0.05) -> NemenyiResult:
    """Nemenyi's post-hoc test on the mean ranks: critical difference and cliques."""
    n, k = ranks.ranks.shape
    cd, q_alpha = critical_difference(k, n, alpha)
    return NemenyiResult(cd, q_alpha, alpha, k, n, cliques(ranks.optimizers, ranks.mean, cd))


def rank_over_time(curves: Curves, *, tolerance: float = 0.0) -> RankOverTime:
    """Mean rank (over tasks where every optimizer has a run) at each budget fraction.

    At each fraction the optimizers are ranked per task by their mean regret over seeds.
    """
    means = nanmean(curves.values, axis=2)  # (o, t, f)
    complete = ~np.isnan(means).any(axis=(0, 2))
    result = np.full((curves.fractions.size, len(curves.optimizers)), np.nan)
    if complete.any():
        for f in range(curves.fractions.size):
            scores = means[:, complete, f].T
            result[f] = rank_matrix(scores, tolerance=tolerance).mean(axis=0)
    return RankOverTime(curves.optimizers, curves.fractions, result)


def ecdf(curves: Curves) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Empirical CDF of the final normalized regret of each optimizer's runs (all tasks, seeds).

    Returns:
        ``{optimizer: (x, y)}``, x (m,) the sorted final regrets, y (m,) = (1..m) / m.
    """
    result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i, name in enumerate(curves.optimizers):
        values = np.sort(curves.final[i][~np.isnan(curves.final[i])])
        result[name] = (values, np.arange(1, values.size + 1) / max(values.size, 1))
    return result


def win_tie_loss(curves: Curves, baseline: str, *, alpha: float = 0.05) -> WinTieLoss:
    """Compare every optimizer with ``baseline`` on each task.

    The seeds' final normalized regrets of the two are compared with a two-sided
    Mann-Whitney U test: p < alpha and a lower mean is a win, p < alpha and a higher mean a
    loss, anything else a tie. Tasks where either has no run are skipped.

    Raises:
        ValueError: ``baseline`` is not one of the optimizers.
    """
    if baseline not in curves.optimizers:
        raise ValueError(
            f"baseline {baseline!r} is not among the optimizers {list(curves.optimizers)}"
        )
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    base = curves.optimizers.index(baseline)
    counts: dict[str, tuple[int, int, int]] = {}
    details: list[Comparison] = []
    for i, name in enumerate(curves.optimizers):
        if i == base:
            continue
        tally = {"win": 0, "tie": 0, "loss": 0}
        for j, task in enumerate(curves.tasks):
            ours = curves.final[i, j][~np.isnan(curves.final[i, j])]
            theirs = curves.final[base, j][~np.isnan(curves.final[base, j])]
            if ours.size == 0 or theirs.size == 0:
                continue
            pvalue = float(scipy_stats.mannwhitneyu(ours, theirs, alternative="two-sided").pvalue)
            mean, base_mean = float(ours.mean()), float(theirs.mean())
            outcome = "tie"
            if pvalue < alpha and mean < base_mean:
                outcome = "win"
            elif pvalue < alpha and mean > base_mean:
                outcome = "loss"
            tally[outcome] += 1
            details.append(Comparison(name, task, outcome, pvalue, mean, base_mean))
        counts[name] = (tally["win"], tally["tie"], tally["loss"])
    return WinTieLoss(baseline, alpha, counts, tuple(details))
