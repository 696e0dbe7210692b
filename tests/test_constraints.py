"""Constraints told with trials: checked, stored, and counted by the best trial and the front."""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful import TrialState
from tuneful.errors import StudyError, TrialError
from tuneful.records import History, TrialRecord, feasibility_ranked, pareto_front
from tuneful.storage.log import Event
from tuneful.storage.replay import StudyReplica

SPACE = tuneful.Space(x=tuneful.Float(-2, 2))


def _study(
    optimizer: str = "random", directions: list[str] | None = None, **kwargs: Any
) -> tuneful.Study:
    return tuneful.create_study(
        space=SPACE,
        storage="memory://",
        seed=0,
        optimizer=optimizer,
        directions=directions,
        **kwargs,
    )


def _tell(study: tuneful.Study, value: Any, constraints: Any = None) -> TrialRecord:
    return study.tell(study.ask(), value, constraints=constraints)


# -- tell ------------------------------------------------------------------------------------
def test_tell_stores_the_constraints_with_the_trial() -> None:
    study = _study()
    record = _tell(study, 1.0, [0.5, -1])
    assert record.constraints == (0.5, -1.0)
    assert study.trials[0].constraints == (0.5, -1.0)
    assert not record.feasible and record.violation == 0.5


def test_numpy_and_integer_constraints_are_stored_as_floats() -> None:
    study = _study()
    record = _tell(study, 1.0, np.array([0, -3]))
    assert record.constraints == (0.0, -3.0) and record.feasible


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ([float("nan")], r"trial 0 constraint 0 = nan: not a finite number"),
        ([0.0, float("inf")], r"trial 0 constraint 1 = inf: not a finite number"),
        (["1.0"], r"trial 0 constraint 0 = '1.0': a str is not a number"),
        ([True], r"trial 0 constraint 0 = True: a bool is not a number"),
        (0.5, r"trial 0 constraints=0.5: expected a list of numbers"),
        ("abc", r"trial 0 constraints='abc': expected a list of numbers"),
        ([], r"trial 0 constraints=\[\]: expected at least one value"),
    ],
)
def test_bad_constraints_are_refused_and_the_trial_stays_running(
    constraints: Any, message: str
) -> None:
    study = _study()
    trial = study.ask()
    with pytest.raises(TrialError, match=message):
        study.tell(trial, 1.0, constraints=constraints)
    assert study.trials[0].state is TrialState.RUNNING
    study.tell(trial, 1.0, constraints=[0.0])  # told again, right this time
    assert study.trials[0].constraints == (0.0,)


def test_a_different_count_is_refused_naming_both_counts() -> None:
    study = _study()
    _tell(study, 1.0, [0.0, 0.0])
    with pytest.raises(
        TrialError,
        match=r"trial 1 was told 3 constraint value\(s\); every "
        r"completed trial of this study carries 2 \(fixed by its first",
    ):
        _tell(study, 1.0, [0.0, 0.0, 0.0])
    with pytest.raises(TrialError, match=r"trial 1 was told no constraint values; .* carries 2"):
        study.tell(1, 1.0)


def test_constraints_in_a_study_whose_first_trial_had_none_are_refused() -> None:
    study = _study()
    _tell(study, 1.0)
    with pytest.raises(TrialError, match=r"told 1 constraint value\(s\); .* carries none"):
        _tell(study, 1.0, [0.0])


def test_the_count_is_read_back_by_another_process_loading_the_study(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = tuneful.create_study("c", space=SPACE, storage=url, seed=0, optimizer="random")
    _tell(study, 1.0, [0.0, 1.0])
    again = tuneful.load_study("c", storage=url)
    with pytest.raises(TrialError, match=r"told 1 constraint value\(s\); .* carries 2"):
        _tell(again, 1.0, [0.0])


@pytest.mark.parametrize("state", ["PRUNED", "FAIL"])
def test_a_pruned_or_failed_trial_takes_no_constraints(state: str) -> None:
    study = _study()
    trial = study.ask()
    with pytest.raises(TrialError, match=f"a {state} trial takes no constraints"):
        study.tell(trial, state=state, constraints=[1.0])
    assert study.tell(trial, state=state).constraints is None


def test_a_value_that_fails_the_trial_keeps_no_constraints() -> None:
    study = _study()
    with pytest.warns(UserWarning, match="trial 0 failed"):
        record = _tell(study, float("nan"), [1.0])
    assert record.state is TrialState.FAIL and record.constraints is None


def test_tell_takes_the_constraints_set_on_the_trial() -> None:
    study = _study()
    trial = study.ask()
    trial.set_constraints([2.0])
    assert trial.constraints == (2.0,)
    assert study.tell(trial, 1.0).constraints == (2.0,)
    other = study.ask()
    other.set_constraints([2.0])
    assert study.tell(other, 1.0, constraints=[-1.0]).constraints == (-1.0,)  # given wins


@pytest.mark.parametrize("state", ["PRUNED", "fail"])
def test_a_trial_told_pruned_or_failed_drops_the_constraints_it_set(state: str) -> None:
    study = _study()
    trial = study.ask()
    trial.set_constraints([1.0])
    record = study.tell(trial, state=state)
    assert record.state.value == state.upper() and record.constraints is None


def test_set_constraints_checks_at_once() -> None:
    trial = _study().ask()
    with pytest.raises(TrialError, match="constraint 0 = nan"):
        trial.set_constraints([math.nan])


# -- the managed loop --------------------------------------------------------------------------
def test_optimize_stores_what_the_objective_set() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        trial.set_constraints([trial.params["x"] - 1.0])
        return trial.params["x"]

    study.optimize(objective, n_trials=6, show_progress_bar=False)
    for t in study.trials:
        assert t.constraints == (t.params["x"] - 1.0,)


def test_optimize_fails_a_trial_that_forgot_its_constraints() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        if trial.number != 1:
            trial.set_constraints([0.0])
        return 1.0

    study.optimize(objective, n_trials=3, show_progress_bar=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert "was told no constraint values" in (study.trials[1].error or "")


def test_optimize_keeps_no_constraints_of_a_pruned_trial() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        trial.set_constraints([1.0])
        raise tuneful.Pruned()

    study.optimize(objective, n_trials=1, show_progress_bar=False)
    record = study.trials[0]
    assert record.state is TrialState.PRUNED and record.constraints is None


def test_an_optimizer_that_ignores_constraints_is_named_in_a_warning() -> None:
    study = _study(optimizer="grid")
    with pytest.warns(
        UserWarning,
        match=r"optimizer 'grid' does not take constraints into "
        r"account: .* optimizers that do: auto, cmaes, gp, nsga2, nsga3, random, sobol, tpe",
    ):
        _tell(study, 1.0, [0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _tell(study, 1.0, [0.0])  # said once
        _tell(_study(), 1.0, [1.0])  # random takes them into account: nothing to say


# -- best trial, front, summary --------------------------------------------------------------
def test_best_trial_is_the_best_feasible_one() -> None:
    study = _study()
    _tell(study, 0.0, [1.0])  # best value, infeasible
    _tell(study, 2.0, [-1.0])
    _tell(study, 1.0, [0.0])  # 0 is satisfied
    assert study.best_trial.number == 2
    assert study.best_value == 1.0
    assert [t.number for t in study.best_trials] == [2]
    assert study.summary().best_values == (1.0,)


def test_best_trial_says_when_no_trial_is_feasible() -> None:
    study = _study()
    _tell(study, 0.0, [3.0, 1.0])
    _tell(study, 1.0, [0.5, -2.0])
    _tell(study, 2.0, [0.5, 0.0])  # same violation as trial 1: the earlier one is named
    with pytest.raises(
        StudyError,
        match=r"no feasible trial among 3 completed: the smallest violation is trial 1 "
        r"\(total 0.5; constraints \[0.5, -2\]",
    ):
        _ = study.best_trial
    assert study.best_trials == []
    assert study.summary().best_values is None


def test_pareto_front_counts_feasible_trials_only() -> None:
    study = _study(directions=["minimize", "minimize"])
    _tell(study, [0.0, 0.0], [1.0])  # would dominate everything
    _tell(study, [1.0, 2.0], [0.0])
    _tell(study, [2.0, 1.0], [-1.0])
    _tell(study, [3.0, 3.0], [-1.0])
    assert [t.number for t in study.best_trials] == [1, 2]


def test_pareto_front_function_leaves_out_infeasible_records() -> None:
    records = [
        TrialRecord(0, TrialState.COMPLETE, values=(0.0,), constraints=(1.0,)),
        TrialRecord(1, TrialState.COMPLETE, values=(1.0,)),
    ]
    assert [t.number for t in pareto_front(records, ("minimize",))] == [1]


# -- exports -----------------------------------------------------------------------------------
def test_to_dataframe_has_constraint_columns_and_feasibility() -> None:
    pytest.importorskip("pandas")
    study = _study()
    _tell(study, 1.0, [0.5, -1.0])
    _tell(study, 2.0, [-0.5, -1.0])
    frame = study.to_dataframe()
    assert list(frame["constraints_0"]) == [0.5, -0.5]
    assert list(frame["constraints_1"]) == [-1.0, -1.0]
    assert list(frame["feasible"]) == [False, True]


def test_to_dataframe_without_constraints_has_no_constraint_columns() -> None:
    pytest.importorskip("pandas")
    study = _study()
    _tell(study, 1.0)
    assert not [c for c in study.to_dataframe().columns if "constraint" in c or c == "feasible"]


def test_to_dict_carries_constraints_and_feasibility_as_json() -> None:
    study = _study()
    told = _tell(study, 1.0, [0.5])
    plain = _tell(_study(), 1.0)
    assert json.loads(json.dumps(told.to_dict()))["constraints"] == [0.5]
    assert told.to_dict()["feasible"] is False
    assert plain.to_dict()["constraints"] is None and plain.to_dict()["feasible"] is None


# -- replay ------------------------------------------------------------------------------------
def test_a_finished_event_without_constraints_replays_as_none() -> None:
    events = [
        Event(1, 0, "created", {"state": "RUNNING"}, 1.0),
        Event(2, 0, "finished", {"state": "COMPLETE", "values": [1.0], "error": None}, 2.0),
    ]
    replica = StudyReplica()
    replica.apply(events)
    assert replica.trial(0).constraints is None and replica.trial(0).feasible


def test_a_damaged_constraints_payload_is_skipped_with_a_warning() -> None:
    events = [
        Event(1, 0, "created", {"state": "RUNNING"}, 1.0),
        Event(2, 0, "finished", {"state": "COMPLETE", "values": [1.0], "constraints": 3}, 2.0),
    ]
    replica = StudyReplica()
    with pytest.warns(tuneful.errors.CorruptDataWarning):
        replica.apply(events)
    assert replica.trial(0).state is TrialState.RUNNING


# -- what optimizers see -------------------------------------------------------------------------
def _history(*rows: tuple[float, tuple[float, ...] | None]) -> History:
    trials = [
        TrialRecord(i, TrialState.COMPLETE, params={"x": 0.0}, values=(v,), constraints=c)
        for i, (v, c) in enumerate(rows)
    ]
    return History(SPACE, ("minimize",), trials)


def test_history_exposes_feasibility_and_violations() -> None:
    history = _history((1.0, (0.5, 1.0)), (2.0, (-1.0,)), (3.0, None))
    assert history.feasible.tolist() == [False, True, True]
    assert history.violations.tolist() == [1.5, 0.0, 0.0]
    assert history.has_constraints
    assert not _history((1.0, None)).has_constraints


def test_feasibility_ranked_puts_infeasible_rows_after_feasible_ones_by_violation() -> None:
    y = np.array([[0.0], [5.0], [3.0], [-1.0]])
    ranked = feasibility_ranked(y, np.array([2.0, 0.0, 0.0, 0.5]))
    assert ranked[:, 0].tolist() == [7.0, 5.0, 3.0, 5.5]
    order = np.argsort(ranked[:, 0]).tolist()
    assert order == [2, 1, 3, 0]  # feasible by value, then infeasible by violation
    none_feasible = feasibility_ranked(y[:2], np.array([2.0, 1.0]))
    assert none_feasible[:, 0].tolist() == [2.0, 1.0]


def test_feasibility_ranked_history_shows_infeasible_trials_ranked_last() -> None:
    history = _history((0.0, (1.0,)), (4.0, (-1.0,)))
    view = history.feasibility_ranked()
    assert [t.values for t in view.trials] == [(5.0,), (4.0,)]
    assert view.y[:, 0].tolist() == [5.0, 4.0]
    plain = _history((0.0, None))
    assert plain.feasibility_ranked() is plain
