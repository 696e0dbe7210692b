"""Statistics over benchmark runs, checked against numbers worked out by hand and SciPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from tuneful.bench.results import Run
from tuneful.bench.stats import (
    TaskSummary,
    anytime_curves,
    cliques,
    critical_difference,
    ecdf,
    final_summary,
    friedman_test,
    mean_ranks,
    nemenyi,
    normalized_regret,
    rank_matrix,
    rank_over_time,
    task_budgets,
    task_ranges,
    win_tie_loss,
)

NAN = math.nan


def run(optimizer, task, seed, losses, costs=None, **kwargs) -> Run:
    losses = np.asarray(losses, dtype=float)
    costs = np.ones(losses.size) if costs is None else np.asarray(costs, dtype=float)
    return Run(optimizer, task, seed, losses, costs, **kwargs)


@pytest.fixture
def two_by_two() -> list[Run]:
    """2 tasks x 2 optimizers x 2 seeds.

    t1 has no optimum: low = 2 (smallest loss seen), high = 10 (largest), span 8.
    t2 states optimum 0 in every run: low = 0, high = 4 (largest loss seen).
    """
    return [
        run("A", "t1", 0, [10, 6, 4]),  # incumbent 10 6 4   -> 1, 0.5, 0.25
        run("A", "t1", 1, [NAN, 8, 2]),  # incumbent - 8 2   -> 1 (nothing yet), 0.75, 0
        run("B", "t1", 0, [6, 7, 5]),  # incumbent 6 6 5    -> 0.5, 0.5, 0.375
        run("B", "t1", 1, [NAN, NAN, NAN]),  # never succeeds -> 1, 1, 1
        run("A", "t2", 0, [4, 2], optimum=0.0),  # -> 1, 0.5
        run("A", "t2", 1, [3, 1], optimum=0.0),  # -> 0.75, 0.25
        run("B", "t2", 0, [2, 2], optimum=0.0),  # -> 0.5, 0.5
        run("B", "t2", 1, [4, 3], optimum=0.0),  # -> 1, 0.75
    ]


def test_task_ranges_observed_and_known_optimum(two_by_two: list[Run]) -> None:
    ranges = task_ranges(two_by_two)
    assert (ranges["t1"].low, ranges["t1"].high, ranges["t1"].source) == (2, 10, "observed")
    assert (ranges["t2"].low, ranges["t2"].high, ranges["t2"].source) == (0, 4, "optimum")


def test_normalized_regret_by_hand(two_by_two: list[Run]) -> None:
    regret = normalized_regret(two_by_two)
    expected = {
        ("A", "t1", 0): [1, 0.5, 0.25],
        ("A", "t1", 1): [1, 0.75, 0],
        ("B", "t1", 0): [0.5, 0.5, 0.375],
        ("B", "t1", 1): [1, 1, 1],
        ("A", "t2", 0): [1, 0.5],
        ("A", "t2", 1): [0.75, 0.25],
        ("B", "t2", 0): [0.5, 0.5],
        ("B", "t2", 1): [1, 0.75],
    }
    assert set(regret) == set(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(regret[key], values, err_msg=str(key))


def test_optimum_stated_by_only_some_runs_falls_back_to_observed() -> None:
    runs = [run("A", "t", 0, [3, 1], optimum=0.0), run("B", "t", 0, [5, 2])]
    assert task_ranges(runs)["t"].source == "observed"
    np.testing.assert_allclose(normalized_regret(runs)[("A", "t", 0)], [0.5, 0])


def test_loss_below_the_stated_optimum_keeps_regret_in_range() -> None:
    runs = [run("A", "t", 0, [3, -1], optimum=0.0), run("B", "t", 0, [5, 1], optimum=0.0)]
    assert task_ranges(runs)["t"].low == -1
    np.testing.assert_allclose(normalized_regret(runs)[("A", "t", 0)], [4 / 6, 0])


def test_different_optima_on_one_task_are_an_error() -> None:
    runs = [run("A", "t", 0, [3], optimum=0.0), run("B", "t", 0, [5], optimum=1.0)]
    with pytest.raises(ValueError, match="different optima"):
        task_ranges(runs)


def test_degenerate_range_maps_to_zero_after_first_success() -> None:
    runs = [run("A", "t", 0, [NAN, 5, 5]), run("B", "t", 0, [5, 5, 5])]
    regret = normalized_regret(runs)
    np.testing.assert_allclose(regret[("A", "t", 0)], [1, 0, 0])
    np.testing.assert_allclose(regret[("B", "t", 0)], [0, 0, 0])


def test_task_without_any_success_is_all_ones() -> None:
    runs = [run("A", "t", 0, [NAN, NAN]), run("B", "t", 0, [NAN])]
    assert task_ranges(runs)["t"].source == "none"
    np.testing.assert_allclose(normalized_regret(runs)[("A", "t", 0)], [1, 1])


def test_duplicate_cell_and_bad_costs_are_errors() -> None:
    with pytest.raises(ValueError, match="two runs"):
        normalized_regret([run("A", "t", 0, [1]), run("A", "t", 0, [2])])
    with pytest.raises(ValueError, match="cost"):
        anytime_curves([run("A", "t", 0, [1, 2], costs=[1, -1])])
    with pytest.raises(ValueError, match="no runs"):
        anytime_curves([])


def test_anytime_curve_steps_with_uneven_costs() -> None:
    # losses 5 3 4 1 at cumulative costs 2, 2.5, 4, 8 with budget 10; the range is [1, 5],
    # so the normalized incumbent after each evaluation is 1, 0.5, 0.5, 0.
    single = run("A", "t", 0, [5, 3, 4, 1], costs=[2, 0.5, 1.5, 4], budget=10)
    curves = anytime_curves([single], fractions=[0.1, 0.2, 0.25, 0.5, 0.79, 0.8, 1.0])
    # b = 1: nothing finished yet; b = 2: the first evaluation counts (cost <= b)
    np.testing.assert_allclose(curves.values[0, 0, 0], [1, 1, 0.5, 0.5, 0.5, 0, 0])
    assert curves.final[0, 0, 0] == 0
    # area: [0, 2) at 1, [2, 2.5) at 1, [2.5, 4) at .5, [4, 8) at .5, [8, 10) at 0 -> 5.25
    assert curves.auc[0, 0, 0] == pytest.approx(5.25 / 10)
    assert curves.budgets.tolist() == [10]


def test_evaluations_past_the_budget_do_not_count() -> None:
    curves = anytime_curves(
        [run("A", "t", 0, [3, 2, 1], budget=2), run("B", "t", 0, [3, 3, 3], budget=2)],
        fractions=[1.0],
    )
    # range [1, 3]: A's incumbent at budget 2 is 2 -> 0.5; the third evaluation is past it
    assert curves.final[0, 0, 0] == pytest.approx(0.5)


def test_float_cost_sums_reach_the_budget() -> None:
    ten = run("A", "t", 0, [*([2.0] * 9), 1.0], costs=[0.1] * 10, budget=1.0)
    other = run("B", "t", 0, [2.0], costs=[0.1], budget=1.0)
    assert anytime_curves([ten, other], fractions=[1.0]).final[0, 0, 0] == 0


def test_budget_defaults_to_the_largest_total_cost() -> None:
    runs = [run("A", "t", 0, [1, 2], costs=[1, 2]), run("B", "t", 0, [1], costs=[4])]
    assert task_budgets(runs) == {"t": 4.0}
    assert task_budgets([run("A", "t", 0, [1], budget=7), *runs[1:]]) == {"t": 7.0}


def test_final_summary_mean_std_and_standard_error(two_by_two: list[Run]) -> None:
    summary = final_summary(anytime_curves(two_by_two))
    assert summary.optimizers == ("A", "B") and summary.tasks == ("t1", "t2")
    # A on t2: finals 0.5 and 0.25
    assert summary.mean[0, 1] == pytest.approx(0.375)
    assert summary.std[0, 1] == pytest.approx(math.sqrt(2 * 0.125**2))
    assert summary.stderr[0, 1] == pytest.approx(0.125)
    # B on t1: finals 0.375 and 1 (never succeeded)
    assert summary.mean[1, 0] == pytest.approx(0.6875)
    assert summary.n_seeds.tolist() == [[2, 2], [2, 2]]


def test_rank_matrix_average_ties_match_scipy() -> None:
    scores = np.array([[0.1, 0.3, 0.1, 0.2], [0.4, 0.4, 0.4, 0.0]])
    ranks = rank_matrix(scores)
    np.testing.assert_array_equal(ranks, [[1.5, 4, 1.5, 3], [3, 3, 3, 1]])
    for row, expected in zip(scores, ranks, strict=True):
        np.testing.assert_array_equal(scipy_stats.rankdata(row), expected)


def test_rank_matrix_tolerance_chains_ties() -> None:
    scores = np.array([[0.10, 0.14, 0.18, 0.5]])
    np.testing.assert_array_equal(rank_matrix(scores), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(rank_matrix(scores, tolerance=0.05), [[2, 2, 2, 4]])
    with pytest.raises(ValueError, match="NaN"):
        rank_matrix(np.array([[0.1, NAN]]))


def _summary_from_scores(scores: np.ndarray) -> TaskSummary:
    """A TaskSummary whose means are ``scores`` (t, o), built from single-evaluation runs."""
    runs = []
    for t, row in enumerate(scores):
        for o, value in enumerate(row):
            # losses 0 and 1 in every task's extra runs pin the range to [0, 1]
            runs.append(run(f"o{o}", f"t{t}", 0, [value]))
        runs.append(run("pin", f"t{t}", 0, [0.0, 1.0]))
    summary = final_summary(anytime_curves(runs))
    keep = [i for i, name in enumerate(summary.optimizers) if name != "pin"]
    return TaskSummary(
        tuple(summary.optimizers[i] for i in keep),
        summary.tasks,
        summary.mean[keep],
        summary.std[keep],
        summary.stderr[keep],
        summary.n_seeds[keep],
    )


def test_mean_ranks_and_seeded_bootstrap() -> None:
    scores = np.array([[0.1, 0.2, 0.3], [0.1, 0.3, 0.2], [0.1, 0.2, 0.3], [0.2, 0.1, 0.3]])
    summary = _summary_from_scores(scores)
    ranked = mean_ranks(summary, seed=3)
    np.testing.assert_allclose(ranked.ranks, [[1, 2, 3], [1, 3, 2], [1, 2, 3], [2, 1, 3]])
    np.testing.assert_allclose(ranked.mean, [5 / 4, 8 / 4, 11 / 4])
    assert np.all(ranked.ci_low <= ranked.mean) and np.all(ranked.mean <= ranked.ci_high)
    again = mean_ranks(summary, seed=3)
    np.testing.assert_array_equal(again.ci_low, ranked.ci_low)
    np.testing.assert_array_equal(again.ci_high, ranked.ci_high)


def test_tasks_with_a_missing_optimizer_are_left_out_of_the_ranking() -> None:
    runs = [run("A", "t1", 0, [1]), run("B", "t1", 0, [2]), run("A", "t2", 0, [1])]
    ranked = mean_ranks(final_summary(anytime_curves(runs)))
    assert ranked.tasks == ("t1",) and ranked.dropped == ("t2",)


def test_friedman_statistic_by_hand_and_against_scipy() -> None:
    scores = np.array([[0.1, 0.2, 0.3], [0.1, 0.3, 0.2], [0.1, 0.2, 0.3], [0.2, 0.1, 0.3]])
    result = friedman_test(mean_ranks(_summary_from_scores(scores)))
    # rank sums R = 5, 8, 11 over N = 4 tasks, k = 3:
    # chi2 = 12 / (N k (k + 1)) * sum(R^2) - 3 N (k + 1) = 0.25 * 210 - 48 = 4.5
    assert result.statistic == pytest.approx(4.5)
    assert result.pvalue == pytest.approx(math.exp(-4.5 / 2))  # chi2 with 2 dof
    reference = scipy_stats.friedmanchisquare(*scores.T)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.pvalue == pytest.approx(reference.pvalue)
    assert (result.k, result.n) == (3, 4)


def test_friedman_needs_three_optimizers_and_handles_full_ties() -> None:
    two = friedman_test(mean_ranks(_summary_from_scores(np.array([[0.1, 0.2], [0.2, 0.1]]))))
    assert math.isnan(two.statistic) and math.isnan(two.pvalue)
    assert "at least 3 optimizers" in two.note
    tied = friedman_test(mean_ranks(_summary_from_scores(np.full((3, 3), 0.5))))
    assert (tied.statistic, tied.pvalue) == (0.0, 1.0)


@pytest.mark.parametrize(("k", "q_table"), [(3, 2.343), (4, 2.569)])
def test_nemenyi_critical_difference_matches_the_table(k: int, q_table: float) -> None:
    cd, q_alpha = critical_difference(k, 10, alpha=0.05)
    assert q_alpha == pytest.approx(q_table, abs=1e-3)
    assert cd == pytest.approx(q_alpha * math.sqrt(k * (k + 1) / 60))
    assert cd == pytest.approx(q_table * math.sqrt(k * (k + 1) / 60), abs=1e-3)


def test_cliques_by_hand() -> None:
    names = ["d", "a", "c", "b"]
    ranks = np.array([3.8, 1.0, 2.5, 1.5])
    assert cliques(names, ranks, 1.2) == (("a", "b"), ("b", "c"))
    assert cliques(names, ranks, 0.4) == ()
    assert cliques(names, ranks, 5.0) == (("a", "b", "c", "d"),)
    assert cliques(names, ranks, NAN) == ()


def test_nemenyi_on_a_rank_summary() -> None:
    scores = np.tile([0.1, 0.2, 0.3], (10, 1))
    result = nemenyi(mean_ranks(_summary_from_scores(scores)))
    assert (result.k, result.n) == (3, 10)
    assert result.cd == pytest.approx(critical_difference(3, 10)[0])
    # mean ranks 1, 2, 3 with CD ~ 1.048: neighbours join, the ends differ
    assert result.cliques == (("o0", "o1"), ("o1", "o2"))


def test_rank_over_time_follows_the_leader() -> None:
    # A is good early and stuck; B starts badly and ends best; on both tasks
    runs = []
    for task in ("t1", "t2"):
        runs.append(run("A", task, 0, [2, 2, 2, 2]))
        runs.append(run("B", task, 0, [5, 5, 1, 1]))
    over_time = rank_over_time(anytime_curves(runs, fractions=[0.25, 0.5, 0.75, 1.0]))
    np.testing.assert_array_equal(over_time.mean_rank, [[1, 2], [1, 2], [2, 1], [2, 1]])


def test_ecdf_of_final_regret(two_by_two: list[Run]) -> None:
    distribution = ecdf(anytime_curves(two_by_two))
    x, y = distribution["A"]  # finals: t1 0.25, 0; t2 0.5, 0.25
    np.testing.assert_allclose(x, [0, 0.25, 0.25, 0.5])
    np.testing.assert_allclose(y, [0.25, 0.5, 0.75, 1.0])


def test_win_tie_loss_on_a_clear_cut_case() -> None:
    runs = []
    for task in ("t1", "t2"):
        for seed in range(5):
            runs.append(run("base", task, seed, [5.0 + 0.1 * seed]))
            runs.append(run("good", task, seed, [1.0 + 0.1 * seed]))
            runs.append(run("bad", task, seed, [9.0 + 0.1 * seed]))
            runs.append(run("same", task, seed, [5.0 + 0.1 * seed]))
    result = win_tie_loss(anytime_curves(runs), "base")
    assert result.counts == {"bad": (0, 0, 2), "good": (2, 0, 0), "same": (0, 2, 0)}
    good = [c for c in result.details if c.optimizer == "good"]
    # all five below all five: exact two-sided p = 2 / C(10, 5)
    assert all(c.pvalue == pytest.approx(2 / 252) for c in good)
    assert all(c.mean < c.baseline_mean for c in good)
    with pytest.raises(ValueError, match="baseline"):
        win_tie_loss(anytime_curves(runs), "nobody")


def test_win_tie_loss_with_two_seeds_cannot_be_significant() -> None:
    runs = [run("base", "t", s, [5.0 + s]) for s in range(2)]
    runs += [run("good", "t", s, [1.0 + s]) for s in range(2)]
    assert win_tie_loss(anytime_curves(runs), "base").counts == {"good": (0, 1, 0)}
