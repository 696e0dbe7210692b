"""Statistics and report sections in cost units (multi-fidelity benchmarks)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tuneful.bench.costs import lead_probability, regret_at_costs, speedups
from tuneful.bench.report import write_report
from tuneful.bench.results import Run
from tuneful.bench.stats import anytime_curves

NAN = math.nan


def _runs() -> list[Run]:
    """Two tasks; 'mf' evaluates cheaply with many NaN (partial) losses, 'ff' at cost 1."""
    runs = []
    for task in ("t1", "t2"):
        for seed in range(3):
            ff = 5.0 - np.arange(10) * 0.3
            runs.append(Run("ff", task, seed, ff, np.ones(10), budget=10))
            losses = np.array([NAN, NAN, 4.0, NAN, NAN, 2.0, NAN, 1.0])
            costs = np.array([0.2, 0.2, 1.0, 0.2, 0.2, 1.0, 0.2, 1.0])
            runs.append(
                Run("mf", task, seed, losses + 0.1 * seed, costs, budget=10, meta={"partial": 5})
            )
    return runs


def test_regret_at_costs_matches_anytime_curves_at_fractions() -> None:
    runs = _runs()
    table = regret_at_costs(runs, costs=(1, 3, 10))
    curves = anytime_curves(runs, fractions=[0.1, 0.3, 1.0])
    np.testing.assert_allclose(table.values, curves.values)
    assert table.ranked_tasks == ("t1", "t2")
    # mf reaches 1.0 + 0.1 seed at cumulative cost 2.8 < 3: better than ff's 5 - 0.3 * 2
    assert table.mean_rank[1].tolist() == [2.0, 1.0]


def test_regret_at_costs_checks_the_costs() -> None:
    with pytest.raises(ValueError, match="increasing"):
        regret_at_costs(_runs(), costs=(3, 1))
    with pytest.raises(ValueError, match=">= 0"):
        regret_at_costs(_runs(), costs=(-1, 3))


def _one_step(name: str, task: str, seed: int, loss: float) -> Run:
    return Run(name, task, seed, np.array([loss]), np.ones(1), budget=1)


def test_lead_probability_resamples_each_optimizer_s_seeds() -> None:
    # 'a' is better than 'b' on every seed of t1; on t2 the two cross: a 1 vs b 0 on seed 0,
    # a 0 vs b 1 on seed 1. The reference range of each task spans 0..3.
    runs = []
    for seed, (a2, b2) in enumerate(((1.0, 0.0), (0.0, 1.0))):
        runs += [_one_step("a", "t1", seed, 0.0), _one_step("b", "t1", seed, 2.0)]
        runs += [_one_step("a", "t2", seed, a2), _one_step("b", "t2", seed, b2)]
    runs += [_one_step("c", t, s, 3.0) for t in ("t1", "t2") for s in (0, 1)]
    table = regret_at_costs(runs, costs=(1,))
    lead = lead_probability(table, n_bootstrap=4000, seed=1)
    assert lead.shape == (1, 3) and lead.sum() == pytest.approx(1.0)
    # On t2 each of a and b resamples a mean of 0, 1/2 or 1 (probabilities 1/4, 1/2, 1/4),
    # independently. a is first on t1 every time, so it leads unless b is strictly better on
    # t2 (probability (1 - 3/8) / 2 = 5/16); then both have mean rank 1.5 and share the lead.
    assert lead[0, 0] == pytest.approx(1 - 5 / 32, abs=0.02)
    assert lead[0, 1] == pytest.approx(5 / 32, abs=0.02)
    assert lead[0, 2] == 0.0
    # the same seed gives the same answer; a single resample is allowed
    np.testing.assert_array_equal(lead, lead_probability(table, n_bootstrap=4000, seed=1))
    assert lead_probability(table, n_bootstrap=1).sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="n_bootstrap=0"):
        lead_probability(table, n_bootstrap=0)


def test_lead_probability_with_fewer_seeds_and_no_ranked_task() -> None:
    # 'few' ran one seed (always 0.5), 'many' two seeds (0 and 1): many's resampled mean is
    # 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4; a tie (0.5) shares the lead
    runs = [_one_step("few", "t", 0, 0.5), _one_step("many", "t", 0, 0.0)]
    runs += [_one_step("many", "t", 1, 1.0)]
    lead = lead_probability(regret_at_costs(runs, costs=(1,)), n_bootstrap=4000, seed=2)
    assert lead[0].tolist() == pytest.approx([0.25 + 0.25, 0.25 + 0.25], abs=0.03)
    # an optimizer without runs on the only task: nothing is ranked
    runs.append(_one_step("elsewhere", "u", 0, 1.0))
    assert np.isnan(lead_probability(regret_at_costs(runs, costs=(1,)))).all()


def test_speedup_is_budget_over_the_cost_of_reaching_the_baseline() -> None:
    runs = [
        Run("base", "t", 0, np.array([3.0, 2.0, 2.0, 2.0]), np.ones(4), budget=4),
        Run("base", "t", 1, np.array([3.0, 3.0, 3.0, 2.0]), np.ones(4), budget=4),
        # seed 0 reaches 2.0 at cost 0.5, seed 1 at cost 1.0: the mean reaches 2.0 at 1.0
        Run("mf", "t", 0, np.array([NAN, 2.0]), np.array([0.25, 0.25]), budget=4),
        Run("mf", "t", 1, np.array([NAN, 2.0]), np.array([0.5, 0.5]), budget=4),
        Run("never", "t", 0, np.array([3.0]), np.array([4.0]), budget=4),
        Run("never", "t", 1, np.array([3.0]), np.array([4.0]), budget=4),
    ]
    result = speedups(runs, baseline="base")
    assert result.optimizers == ("base", "mf", "never")
    # the range is [2, 3]: base ends at regret 0 on both seeds
    assert result.target.tolist() == [0.0]
    assert result.cost[:, 0].tolist()[:2] == [4.0, 1.0]
    assert result.speedup[1, 0] == 4.0 and result.speedup[0, 0] == 1.0
    assert math.isnan(result.speedup[2, 0])
    means, counts = result.geometric_mean()
    assert means[1] == pytest.approx(4.0) and counts.tolist() == [1, 1, 0]
    assert math.isnan(means[2])
    with pytest.raises(ValueError, match="nobody"):
        speedups(runs, baseline="nobody")


def test_report_has_the_cost_sections(tmp_path: Path) -> None:
    path = write_report(
        _runs(),
        tmp_path / "report",
        plots=False,
        cost_budgets=(1, 3, 10),
        speedup_baseline="ff",
        log_cost=True,
    )
    text = path.read_text(encoding="utf-8")
    assert "## What the budget bought" in text
    assert "| mf | multi-fidelity | 8.0 | 3.0 |" in text
    assert "rank @ 3" in text and "first @ 3" in text and "### At cost 10" in text
    assert "## Speed-up over ff" in text and "geometric mean" in text
    # partial evaluations are not failures
    assert "| mf | — | — | — | — | — | 6 | 0 / 48 |" in text
    with pytest.raises(ValueError, match="speedup_baseline 'nobody'"):
        write_report(
            _runs(), tmp_path / "r2", plots=False, cost_budgets=(1,), speedup_baseline="nobody"
        )


def test_report_without_cost_budgets_is_unchanged(tmp_path: Path) -> None:
    text = write_report(_runs(), tmp_path / "plain", plots=False).read_text(encoding="utf-8")
    assert "What the budget bought" not in text and "Speed-up" not in text
