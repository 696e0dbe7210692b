"""The shared checks of settings: what they accept, what they refuse, and the message."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from tuneful._validation import (
    check_choice,
    check_flag,
    check_int,
    check_number,
    is_int,
    is_real,
    refuse,
)
from tuneful.errors import OptimizerError, SchedulerError, SpecError


@pytest.mark.parametrize("value", [0, -3, 2**70, np.int64(4), np.uint8(1)])
def test_integers_are_ints(value: Any) -> None:
    assert is_int(value) and is_real(value)


@pytest.mark.parametrize("value", [True, False, np.bool_(True), "1", 1.0, None, [1]])
def test_bools_strings_and_floats_are_not_ints(value: Any) -> None:
    assert not is_int(value)


@pytest.mark.parametrize("value", [0.5, -1e300, math.inf, math.nan, np.float32(2.0), 3])
def test_real_numbers_are_real(value: Any) -> None:
    assert is_real(value)


@pytest.mark.parametrize("value", [True, np.bool_(False), "0.5", 1j, None, np.array([1.0])])
def test_bools_strings_and_complex_numbers_are_not_real(value: Any) -> None:
    assert not is_real(value)


def test_check_int_returns_a_python_int_within_bounds() -> None:
    value = check_int("tpe", "n_startup", np.int64(3), minimum=0, maximum=3, error=OptimizerError)
    assert value == 3 and type(value) is int
    assert check_int("x", "k", None, allow_none=True, error=OptimizerError) is None


@pytest.mark.parametrize(
    ("value", "minimum", "maximum", "allow_none", "message"),
    [
        (-1, 0, None, False, "tpe: n_startup=-1: expected an int >= 0"),
        (2.5, 1, None, False, "tpe: n_startup=2.5: expected an int >= 1"),
        (True, 1, None, False, "tpe: n_startup=True: expected an int >= 1"),
        (9, 1, 8, False, r"tpe: n_startup=9: expected an int in \[1, 8\]"),
        (9, None, 8, False, "tpe: n_startup=9: expected an int <= 8"),
        ("3", None, None, False, "tpe: n_startup='3': expected an int$"),
        (0, 1, None, True, "tpe: n_startup=0: expected an int >= 1 or None"),
        (None, 1, None, False, "tpe: n_startup=None: expected an int >= 1"),
    ],
)
def test_check_int_names_the_owner_the_setting_the_value_and_the_range(
    value: Any, minimum: Any, maximum: Any, allow_none: bool, message: str
) -> None:
    with pytest.raises(OptimizerError, match=message):
        check_int(
            "tpe",
            "n_startup",
            value,
            minimum=minimum,
            maximum=maximum,
            allow_none=allow_none,
            error=OptimizerError,
        )


def test_the_error_class_is_the_callers() -> None:
    with pytest.raises(SchedulerError, match=r"^asha: min_budget=0: expected an int >= 1$"):
        check_int("asha", "min_budget", 0, minimum=1, error=SchedulerError)
    with pytest.raises(SpecError, match=r"^n_trials=0: expected an int >= 1$"):
        check_int(None, "n_trials", 0, minimum=1, error=SpecError)


@pytest.mark.parametrize(
    ("value", "kwargs", "accepted"),
    [
        (0.5, {"low": 0, "high": 1}, True),
        (1, {"low": 0, "high": 1}, False),
        (1, {"low": 0, "high": 1, "high_inclusive": True}, True),
        (0, {"low": 0, "high": 1}, False),
        (0, {"low": 0, "high": 1, "low_inclusive": True}, True),
        (math.inf, {"low": 0}, False),  # the default high is +inf, excluded
        (-math.inf, {}, False),
        (math.nan, {}, False),
        (np.float64(2.0), {"low": 1.0}, True),
        (True, {}, False),
        ("2", {}, False),
    ],
)
def test_check_number_interval(value: Any, kwargs: dict[str, Any], accepted: bool) -> None:
    if accepted:
        result = check_number("gp", "x", value, error=OptimizerError, **kwargs)
        assert result == float(value) and type(result) is float
    else:
        with pytest.raises(OptimizerError, match="gp: x="):
            check_number("gp", "x", value, error=OptimizerError, **kwargs)


def test_check_number_messages_show_the_interval_as_given() -> None:
    with pytest.raises(SchedulerError, match=r"^curve: quantile=1: expected a number in \[0, 1\)$"):
        check_number(
            "curve", "quantile", 1, low=0, high=1, low_inclusive=True, error=SchedulerError
        )
    with pytest.raises(OptimizerError, match=r"^tpe: gamma=0.0: expected a number in \(0, 1\]$"):
        check_number("tpe", "gamma", 0.0, low=0, high=1, high_inclusive=True, error=OptimizerError)
    with pytest.raises(OptimizerError, match=r"^n=-1: expected a positive number$"):
        check_number(None, "n", -1, low=0, expected="a positive number", error=OptimizerError)
    with pytest.raises(OptimizerError, match=r"expected a number in \(0, inf\) or None$"):
        check_number("x", "y", 0, low=0, allow_none=True, error=OptimizerError)
    assert check_number("x", "y", None, allow_none=True, error=OptimizerError) is None


def test_huge_values_are_shortened_in_messages() -> None:
    with pytest.raises(OptimizerError) as caught:
        check_int("tpe", "n_startup", -(10**400), minimum=0, error=OptimizerError)
    assert "10**400 (an int)" in str(caught.value) and len(str(caught.value)) < 100


def test_check_flag_accepts_only_true_and_false() -> None:
    assert check_flag("tpe", "multivariate", np.bool_(True), error=OptimizerError) is True
    for bad in ("yes", 1, None):
        with pytest.raises(OptimizerError, match=rf"tpe: multivariate={bad!r}: expected True"):
            check_flag("tpe", "multivariate", bad, error=OptimizerError)


def test_check_choice_lists_the_choices() -> None:
    assert check_choice("cmaes", "restart", None, ("ipop", None), error=OptimizerError) is None
    with pytest.raises(OptimizerError, match=r"restart='bipop': expected one of 'ipop', None"):
        check_choice("cmaes", "restart", "bipop", ("ipop", None), error=OptimizerError)
    with pytest.raises(OptimizerError, match=r"restart=\[\]"):  # unhashable values too
        check_choice("cmaes", "restart", [], ("ipop", None), error=OptimizerError)


def test_refuse_raises_the_shared_message() -> None:
    with pytest.raises(SpecError, match=r"^spec: key=3: expected a name$"):
        refuse("spec", "key", 3, "a name", error=SpecError)
