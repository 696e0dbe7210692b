"""The trial table every analysis and study plot reads: kinds, scales, inactive cells."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tuneful as tf
from tuneful.analysis.trials import StudyData, as_study_data, trial_table
from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState

SPACE = tf.Space(
    {
        "model": tf.Categorical(["svm", "rf"]),
        "C": tf.Float(1e-3, 1e3, log=True, when={"model": "svm"}),
        "depth": tf.Int(1, 10, when={"model": "rf"}),
        "tag": tf.Fixed("v1"),
    }
)


def _conditional_study() -> tf.Study:
    study = tf.create_study(space=SPACE, storage="memory://", seed=3)
    study.optimize(lambda t: t.params.get("C", 1.0) + t.params.get("depth", 0), n_trials=12)
    return study


def test_conditional_parameters_are_nan_where_their_branch_was_not_taken() -> None:
    table = trial_table(_conditional_study())
    model, c, depth = (table.columns[k] for k in ("model", "C", "depth"))
    svm = model.values == 0
    assert np.array_equal(c.active, svm)
    assert np.array_equal(depth.active, ~svm)
    assert list(table.columns) == ["model", "C", "depth"]  # fixed parameters have no column


def test_unit_scale_follows_log_ints_and_categorical_cells() -> None:
    table = trial_table(_conditional_study())
    c, depth, model = table.columns["C"], table.columns["depth"], table.columns["model"]
    i = int(np.flatnonzero(c.active)[0])
    expected = (math.log(c.values[i]) - math.log(1e-3)) / (math.log(1e3) - math.log(1e-3))
    assert c.unit()[i] == pytest.approx(expected)
    j = int(np.flatnonzero(depth.active)[0])
    assert depth.unit()[j] == pytest.approx((depth.values[j] - 1) / 9)
    assert set(np.round(model.unit(), 6)) <= {0.25, 0.75}
    assert c.log and not depth.log and model.is_categorical


def test_define_by_run_studies_take_definitions_from_their_trials() -> None:
    study = tf.create_study(storage="memory://", seed=0)

    def objective(trial: tf.Trial) -> float:
        x = trial.suggest_float("x", 1e-3, 1.0, log=True)
        trial.suggest_categorical("flag", [True, 1, "a"])
        return x

    study.optimize(objective, n_trials=6)
    table = trial_table(study)
    assert table.columns["x"].log
    flag = table.columns["flag"]
    assert flag.choices == (True, 1, "a")
    # True and 1 are different choices: each raw value maps back to its own index
    for raw, index in zip(flag.raw, flag.values, strict=True):
        assert flag.choices[int(index)] == raw and type(flag.choices[int(index)]) is type(raw)


def test_parameters_without_a_definition_are_read_off_their_values() -> None:
    trials = (
        TrialRecord(0, TrialState.COMPLETE, params={"lr": 0.1, "opt": "adam"}, values=(1.0,)),
        TrialRecord(1, TrialState.COMPLETE, params={"lr": 0.3, "opt": "sgd"}, values=(2.0,)),
    )
    table = trial_table(StudyData("hand", ("minimize",), trials))
    assert table.columns["lr"].kind == "float"
    assert (table.columns["lr"].low, table.columns["lr"].high) == (0.1, 0.3)
    assert table.columns["opt"].choices == ("adam", "sgd")


def test_states_pick_the_rows_and_values_stay_aligned() -> None:
    study = tf.create_study(space=tf.Space({"x": tf.Float(0, 1)}), storage="memory://", seed=1)
    for i in range(4):
        trial = study.ask()
        if i == 2:
            study.tell(trial, state="FAIL")
        else:
            study.tell(trial, trial.params["x"] * 10)
    done = trial_table(study)
    assert list(done.numbers) == [0, 1, 3]
    assert np.allclose(done.values[:, 0], done.columns["x"].values * 10)
    everything = trial_table(study, states=["COMPLETE", "FAIL"])
    assert len(everything) == 4 and math.isnan(everything.values[2, 0])


def test_maximized_objectives_are_negated_only_when_asked() -> None:
    data = StudyData(
        "max", ("maximize",), (TrialRecord(0, TrialState.COMPLETE, params={}, values=(3.0,)),)
    )
    table = trial_table(data)
    assert table.objective(0)[0] == 3.0 and table.objective(0, minimize=True)[0] == -3.0
    with pytest.raises(StudyError, match="objective=1 is out of range"):
        table.objective(1)


def test_unknown_params_and_states_are_refused_with_what_exists() -> None:
    study = _conditional_study()
    with pytest.raises(StudyError, match=r"\['nope'\] are not parameters.*'C'"):
        trial_table(study, params=["C", "nope"])
    with pytest.raises(StudyError, match="expected some of"):
        trial_table(study, states=["DONE"])


def test_study_data_is_a_snapshot_of_the_study() -> None:
    study = _conditional_study()
    data = as_study_data(study)
    assert as_study_data(data) is data
    study.optimize(lambda t: 1.0, n_trials=1)
    assert len(data.trials) == 12 and len(study.trials) == 13
