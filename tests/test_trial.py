"""The trial handle: suggestions checked against their definitions, values checked as finite
floats, and Optuna's names answered with tuneful's."""

from __future__ import annotations

import decimal
import fractions
import math
import warnings
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.errors import SpaceError, TrialError
from tuneful.records import TrialState, as_finite_float
from tuneful.trial import check_values

SPACE = tuneful.Space(
    x=tuneful.Float(0.0, 1.0),
    n=tuneful.Int(1, 8),
    kind=tuneful.Categorical(["a", "b"]),
    shift=tuneful.Float(0.0, 2.0, when={"kind": "b"}),
)


def _declared_trial(**fixed: Any) -> tuple[tuneful.Study, tuneful.Trial]:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    return study, study.ask(fixed or None)


# -- suggestions in a study with a declared space -----------------------------------------


def test_suggest_with_another_range_than_the_declared_space_is_refused() -> None:
    _, trial = _declared_trial()
    with pytest.raises(SpaceError, match=r"'x'.*Float\(5.0, 6.0\).*Float\(0.0, 1.0\)"):
        trial.suggest_float("x", 5, 6)
    with pytest.raises(SpaceError, match=r"'n'.*Float\(1.0, 8.0\).*Int\(1, 8\)"):
        trial.suggest_float("n", 1, 8)


def test_suggest_as_the_declared_space_defines_returns_the_trials_value() -> None:
    _, trial = _declared_trial(kind="a")
    assert trial.suggest_float("x", 0, 1) == trial.params["x"]
    assert trial.suggest_int("n", 1, 8) == trial.params["n"]
    assert trial.suggest_categorical("kind", ["a", "b"]) == "a"


def test_suggest_of_a_name_the_declared_space_lacks_is_refused() -> None:
    study, trial = _declared_trial()
    with pytest.raises(SpaceError, match=r"'y' is not in the study's space.*without space="):
        trial.suggest_float("y", 0, 1)
    assert "y" not in study.get_trial(trial.number).params


def test_suggest_of_a_declared_parameter_inactive_in_the_trial_is_refused() -> None:
    study, trial = _declared_trial(kind="a")
    with pytest.raises(SpaceError, match=r"'shift' is inactive"):
        trial.suggest_float("shift", 0.0, 2.0)
    assert "shift" not in study.get_trial(trial.number).params


# -- define-by-run ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "again",
    [
        lambda t: t.suggest_float("a", 0, 2),
        lambda t: t.suggest_float("a", 0, 1, log=False, step=0.5),
        lambda t: t.suggest_categorical("a", ["p", "q"]),
        lambda t: t.suggest_int("a", 0, 1),
    ],
)
def test_suggest_same_name_twice_in_a_trial_with_another_definition_is_refused(again) -> None:  # noqa: ANN001
    study = tuneful.create_study(storage="memory://", seed=0)
    trial = study.ask()
    trial.suggest_float("a", 0, 1)
    with pytest.raises(SpaceError, match=r"'a' is suggested twice.*first Float\(0.0, 1.0\)"):
        again(trial)


def test_suggest_same_name_twice_with_the_same_definition_returns_the_first_value() -> None:
    study = tuneful.create_study(storage="memory://", seed=0)
    trial = study.ask()
    first = trial.suggest_float("a", 0, 1)
    assert trial.suggest_float("a", 0.0, 1.0) == first


def test_suggest_range_may_change_across_trials_and_the_optimizer_follows_the_latest() -> None:
    study = tuneful.create_study(storage="memory://", seed=0, optimizer="random")
    for _ in range(3):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("lr", 1e-5, 1e-1, log=True))
    trial = study.ask()
    lr = trial.suggest_float("lr", 1e-3, 1e-2, log=True)
    study.tell(trial, lr)
    assert 1e-3 <= lr <= 1e-2
    study.engine.refresh()
    latest = study.engine.dynamic_space()
    assert latest is not None and latest["lr"] == tuneful.Float(1e-3, 1e-2, log=True)
    following = study.ask()  # proposed by the optimizer in the new range, not drawn at random
    value = following.suggest_float("lr", 1e-3, 1e-2, log=True)
    assert following._proposal is not None and value == following._proposal[1]["lr"]


def test_suggest_with_bad_bounds_names_the_parameter() -> None:
    trial = tuneful.create_study(storage="memory://").ask()
    with pytest.raises(SpaceError, match=r"parameter 'lr': Float: low=1.0 must be less"):
        trial.suggest_float("lr", 1, 0)
    with pytest.raises(SpaceError, match=r"parameter 'n': Int: log=True needs low >= 1"):
        trial.suggest_int("n", 0, 8, log=True)
    with pytest.raises(SpaceError, match=r"parameter 'c': Categorical: choices=\[\] is empty"):
        trial.suggest_categorical("c", [])


def test_define_by_run_first_trial_records_that_it_was_drawn_at_random() -> None:
    study = tuneful.create_study(storage="memory://", seed=0)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, show_progress_bar=False)
    first, second = study.trials
    assert first.system_attrs["optimizer"] == "random"
    assert second.system_attrs["optimizer"] != "random"  # the optimizer proposed it


# -- values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [1, 0.5, np.float32(0.5), np.int64(3), np.longdouble(0.25), np.array(0.5)]
    + [fractions.Fraction(1, 3), decimal.Decimal("0.1")],
)
def test_real_numbers_that_are_finite_floats_are_accepted(value: Any) -> None:
    number, reason = as_finite_float(value)
    assert reason is None and number == pytest.approx(float(value))


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (10**400, "beyond the float64 range"),
        (-(10**400), "beyond the float64 range"),
        (fractions.Fraction(10**400, 3), "beyond the float64 range"),
        (decimal.Decimal("1e400"), "beyond the float64 range"),
        (decimal.Decimal("NaN"), "not a finite number"),
        (decimal.Decimal("sNaN"), "does not convert"),
        (np.longdouble("1e4000"), "not a finite number"),
        (math.inf, "not a finite number"),
        (True, "bool is not a number"),
        ("0.5", "str is not a number"),
        (1j, "complex"),
        (np.array([0.5]), "array of shape"),
        (None, "not a number"),
    ],
)
def test_values_that_are_not_finite_floats_are_refused_with_the_reason(
    value: Any, why: str
) -> None:
    number, reason = as_finite_float(value)
    assert number is None and reason is not None and why in reason


def test_objective_returning_10_to_the_400_fails_its_trial_with_the_reason() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    study.optimize(lambda t: 10**400, n_trials=1, show_progress_bar=False)
    record = study.trials[0]
    assert record.state is TrialState.FAIL
    assert record.error is not None and "10**400" in record.error and "float64" in record.error


def test_tell_10_to_the_400_fails_the_trial_instead_of_raising() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    with pytest.warns(UserWarning, match="beyond the float64 range"):
        record = study.tell(trial, 10**400)
    assert record.state is TrialState.FAIL


def test_multi_objective_values_as_a_numpy_array_are_accepted() -> None:
    assert check_values(np.array([1.0, 2.0]), 2) == ((1.0, 2.0), None)
    assert check_values(np.float64(1.5), 1) == ((1.5,), None)


@pytest.mark.parametrize(
    ("value", "why"),
    [(10**400, "float64 range"), ("0.5", "str"), (math.nan, "finite"), (True, "bool")],
)
def test_report_refuses_values_that_are_not_finite_floats(value: Any, why: str) -> None:
    trial = tuneful.create_study(space=SPACE, storage="memory://").ask()
    with pytest.raises(TrialError, match=why):
        trial.report(step=1, value=value)
    assert trial.record().intermediate == {}


@pytest.mark.parametrize("step", [math.inf, math.nan, 1.5, -1, True, "3"])
def test_report_refuses_steps_that_are_not_non_negative_integers(step: Any) -> None:
    trial = tuneful.create_study(space=SPACE, storage="memory://").ask()
    with pytest.raises(TrialError, match="step="):
        trial.report(step=step, value=0.5)


def test_report_accepts_integral_float_and_numpy_steps() -> None:
    trial = tuneful.create_study(space=SPACE, storage="memory://").ask()
    trial.report(step=2.0, value=0.5)
    trial.report(step=np.int64(3), value=np.float32(0.25))
    assert trial.record().intermediate == {2: 0.5, 3: 0.25}


# -- Optuna's names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("suggest_uniform", r"suggest_float\(name, low, high\)"),
        ("suggest_loguniform", "log=True"),
        ("suggest_discrete_uniform", "step=q"),
        ("should_prune", r"should_stop\(\)"),
    ],
)
def test_optuna_trial_names_point_to_tuneful_calls(name: str, hint: str) -> None:
    trial = tuneful.create_study(space=SPACE, storage="memory://").ask()
    with pytest.raises(AttributeError, match=hint):
        getattr(trial, name)
    assert not hasattr(trial, "no_such_thing")


def test_optuna_study_names_point_to_tuneful_calls() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    with pytest.raises(AttributeError, match=r"to_dataframe\(\)"):
        study.trials_dataframe()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hasattr(study, "no_such_thing")
