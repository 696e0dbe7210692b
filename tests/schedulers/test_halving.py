"""Rung and bracket arithmetic of successive halving, ASHA and Hyperband against tables
worked out by hand (and Li et al. 2018, Table 1)."""

from __future__ import annotations

import pytest

import tuneful
from tuneful.errors import SchedulerError
from tuneful.schedulers import ASHA, Hyperband, hyperband_brackets, rung_budgets, value_at
from tuneful.schedulers.halving import _interleave


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((1, 3, 81), {}, [1, 3, 9, 27]),
        ((1, 3, 52), {}, [1, 3, 9, 27]),
        ((1, 3, 52), {"start": 2}, [9, 27]),
        ((1, 2, 16), {}, [1, 2, 4, 8]),
        ((3, 3, 100), {}, [3, 9, 27, 81]),
        ((3, 3, 100), {"start": 1}, [9, 27, 81]),
        ((2, 1.5, 10), {}, [2, 3, 4, 7]),  # rounded, strictly increasing: 2, 3, 4.5->4, 6.75
        ((5, 3, 5), {}, []),
        ((1, 3, 81), {"start": 4}, []),
    ],
)
def test_rung_budgets(args, kwargs, expected):
    assert rung_budgets(*args, **kwargs) == expected


def test_rung_budgets_without_a_full_budget_are_unbounded():
    budgets = rung_budgets(1, 3, None)
    assert budgets[:5] == [1, 3, 9, 27, 81]
    assert len(budgets) > 30


def test_hyperband_brackets_match_li_et_al_table_1():
    # R = 81, η = 3: n = 81, 34, 15, 8, 5 configurations starting at r = 1, 3, 9, 27, 81.
    assert hyperband_brackets(1, 81, 3) == [(1, 81), (3, 34), (9, 15), (27, 8), (81, 5)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((1, 27, 3), [(1, 27), (3, 12), (9, 6), (27, 4)]),
        ((1, 52, 3), [(1, 27), (3, 12), (9, 6), (27, 4)]),  # s_max = floor(log3 52) = 3
        ((1, 8, 2), [(1, 8), (2, 6), (4, 4), (8, 4)]),
        ((10, 10, 3), [(10, 1)]),
    ],
)
def test_hyperband_brackets_by_hand(args, expected):
    assert hyperband_brackets(*args) == expected


def test_interleave_spreads_each_bracket_by_its_weight():
    assert _interleave([3, 1]) == [0, 0, 1, 0]
    cycle = _interleave([81, 34, 15, 8, 5])
    assert [cycle.count(i) for i in range(5)] == [81, 34, 15, 8, 5]
    # The least frequent bracket appears in the first fifth of the cycle already.
    assert 4 in cycle[: len(cycle) // 5]


def test_hyperband_assigns_brackets_by_trial_number_and_judges_within_them():
    scheduler = Hyperband(min_budget=1, max_budget=27)
    assert [b for b, _ in scheduler.brackets] == [1, 3, 9, 27]
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}},
        storage="memory://",
        scheduler=scheduler,
        seed=0,
    )
    for _ in range(12):
        trial = study.ask()
        bracket = trial.record().system_attrs["bracket"]
        assert bracket == scheduler.bracket_for(trial.number)
        first = trial.budget
        assert first == [1, 3, 9, 27][bracket]
        study.tell(trial, 0.0)


def _rung_study(scheduler):
    return tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}},
        storage="memory://",
        scheduler=scheduler,
        seed=0,
    )


def test_asha_rank_rule_table():
    # Values at rung 1 arrive in this order (minimize). With η = 3 a trial goes on when it
    # is among the best max(1, n // 3) of the n trials at the rung so far (itself included):
    #   value  5  3  8  1  9  2  7  4  6
    #   n      1  2  3  4  5  6  7  8  9
    #   keep   1  1  1  1  1  2  2  2  3
    #   better 0  0  2  0  4  1  4  3  5
    #   passes T  T  F  T  F  T  F  F  F
    study = _rung_study(ASHA(min_budget=1, max_budget=9))
    passes = []
    for value in [5, 3, 8, 1, 9, 2, 7, 4, 6]:
        trial = study.ask()
        trial.report(step=1, value=value)
        passes.append(not trial.should_stop())
        record = trial.record().system_attrs["rung_1"]
        assert record["value"] == value
        study.tell(trial, state="PRUNED") if trial.should_stop() else study.tell(trial, value)
    assert passes == [True, True, False, True, False, True, False, False, False]


def test_asha_maximize_is_the_mirror_image():
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}},
        storage="memory://",
        scheduler=ASHA(min_budget=1, max_budget=9),
        direction="maximize",
        seed=0,
    )
    passes = []
    for value in [-5, -3, -8, -1, -9, -2, -7, -4, -6]:
        trial = study.ask()
        trial.report(step=1, value=value)
        passes.append(not trial.should_stop())
        study.tell(trial, state="PRUNED")
    assert passes == [True, True, False, True, False, True, False, False, False]


def test_asha_judges_each_rung_once_and_all_rungs_crossed_by_a_sparse_report():
    study = _rung_study(ASHA(min_budget=1, max_budget=27))
    first = study.ask()
    assert first.budget == 1
    first.report(step=10, value=0.5)  # crosses rungs 1, 3 and 9 at once
    attrs = first.record().system_attrs
    assert {"rung_1", "rung_3", "rung_9"} <= set(attrs)
    assert attrs["rung_3"]["value"] == 0.5  # nothing reported before: the first report
    assert first.budget == 27
    first.report(step=11, value=0.4)  # no new rung: nothing recorded again
    assert first.record().system_attrs["rung_9"] == attrs["rung_9"]


def test_value_at_uses_the_last_report_not_after_the_budget():
    record = tuneful.TrialRecord(
        number=0, state=tuneful.TrialState.RUNNING, intermediate={1: 0.9, 4: 0.5, 10: 0.2}
    )
    assert value_at(record, 1) == 0.9
    assert value_at(record, 3) == 0.9
    assert value_at(record, 9) == 0.5
    assert value_at(record, 10) == 0.2
    assert value_at(record, 11) is None  # not trained that far
    late = tuneful.TrialRecord(
        number=1, state=tuneful.TrialState.RUNNING, intermediate={5: 0.7, 9: 0.6}
    )
    assert value_at(late, 1) == 0.7  # first reported after the budget


def test_budgets_walk_the_rungs_then_the_full_budget():
    study = _rung_study(ASHA(min_budget=1, max_budget=20))
    trial = study.ask()
    seen = []
    for budget in trial.budgets():
        seen.append(budget)
        trial.report(step=budget, value=1.0)
    assert seen == [1, 3, 9, 20]


def test_budgets_need_a_report_before_the_next_one():
    study = _rung_study(ASHA(min_budget=1, max_budget=20))
    trial = study.ask()
    budgets = trial.budgets()
    assert next(budgets) == 1
    with pytest.raises(tuneful.errors.TrialError, match=r"report at step 1"):
        next(budgets)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"name": "asha", "settings": {"min_budget": 0}}, r"asha: min_budget=0: expected an int"),
        ({"name": "asha", "settings": {"reduction_factor": 1}}, r"reduction_factor=1"),
        ({"name": "asha", "settings": {"min_budget": 5, "max_budget": 2}}, r"max_budget=2"),
        ({"name": "hyperband", "settings": {}}, r"hyperband: max_budget=None"),
        ({"name": "asha", "settings": {"eta": 3}}, r"does not accept settings"),
        ("nosuch", r"scheduler='nosuch' is unknown: expected one of .*asha"),
        (3, r"scheduler=3: expected a name"),
    ],
)
def test_bad_settings_name_the_value(spec, match):
    with pytest.raises(SchedulerError, match=match):
        tuneful.create_study(
            space={"x": {"type": "float", "low": 0, "high": 1}}, storage="memory://", scheduler=spec
        )
