"""Checks of settings and arguments, written once for every module that takes them.

Each check raises the error class its caller names (``OptimizerError``, ``SchedulerError``,
``SpecError``, ``ScalingError``, ...) with one message shape::

    tpe: n_startup=-1: expected an int >= 0
    asha: reduction_factor=1: expected a number in (1, inf)
    n_params=0: expected a positive number          (no owner)

that is: who takes the setting (when there is one), the setting and its bad value as
``repr`` (shortened when huge), and what was expected. Booleans are never numbers here,
though Python counts ``True`` as ``1``: a flag passed where a count belongs is a mistake.

Example:
    >>> from tuneful.errors import OptimizerError
    >>> check_int("tpe", "n_startup", 10, minimum=0, error=OptimizerError)
    10
    >>> check_int("tpe", "n_startup", -1, minimum=0, error=OptimizerError)
    Traceback (most recent call last):
    ...
    tuneful.errors.OptimizerError: tpe: n_startup=-1: expected an int >= 0
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, NoReturn

import numpy as np

from tuneful.records import short_repr

__all__ = [
    "is_int",
    "is_real",
    "check_int",
    "check_number",
    "check_flag",
    "check_choice",
    "refuse",
]


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), bools excluded."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (Python or numpy int or float; NaN and infinities
    included), bools excluded."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def refuse(
    owner: str | None, key: str, value: Any, expected: str, *, error: type[Exception]
) -> NoReturn:
    """Raise ``error`` with the shared message: ``owner: key=value: expected ...``."""
    raise error(f"{_named(owner, key, value)}: expected {expected}")


def check_int(
    owner: str | None,
    key: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
    error: type[Exception],
) -> Any:
    """``value`` as an ``int`` when it is an integer in [minimum, maximum] (bounds that are
    None are open); None when it is None and ``allow_none``.

    Raises:
        error: anything else; the message names ``owner``, ``key``, the value and the range.
    """
    if value is None and allow_none:
        return None
    if not is_int(value) or (minimum is not None and value < minimum):
        refuse(owner, key, value, _int_range(minimum, maximum, allow_none), error=error)
    if maximum is not None and value > maximum:
        refuse(owner, key, value, _int_range(minimum, maximum, allow_none), error=error)
    return int(value)


def check_number(
    owner: str | None,
    key: str,
    value: Any,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = False,
    high_inclusive: bool = False,
    allow_none: bool = False,
    expected: str | None = None,
    error: type[Exception],
) -> Any:
    """``value`` as a ``float`` when it is a real number in the interval from ``low`` to
    ``high`` (open ends unless ``*_inclusive``; NaN is never inside); None when it is None
    and ``allow_none``. ``expected`` words the requirement for the message (default: "a
    number in (low, high)").

    Raises:
        error: anything else; the message names ``owner``, ``key``, the value and the range.
    """
    if value is None and allow_none:
        return None
    if is_real(value):
        above = value >= low if low_inclusive else value > low
        below = value <= high if high_inclusive else value < high
        if above and below:
            return float(value)
    if expected is None:
        left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
        expected = f"a number in {left}{low}, {high}{right}"
        if allow_none:
            expected += " or None"
    refuse(owner, key, value, expected, error=error)


def check_flag(owner: str | None, key: str, value: Any, *, error: type[Exception]) -> bool:
    """``value`` as a ``bool`` when it is True or False (numpy bools included).

    Raises:
        error: anything else (``"yes"``, ``1``).
    """
    if not isinstance(value, bool | np.bool_):
        refuse(owner, key, value, "True or False", error=error)
    return bool(value)


def check_choice(
    owner: str | None, key: str, value: Any, choices: Collection[Any], *, error: type[Exception]
) -> Any:
    """``value`` when it is one of ``choices``.

    Raises:
        error: the message lists the choices.
    """
    if value not in choices:
        refuse(owner, key, value, "one of " + ", ".join(map(repr, choices)), error=error)
    return value


def _named(owner: str | None, key: str, value: Any) -> str:
    named = f"{key}={short_repr(value)}"
    return named if owner is None else f"{owner}: {named}"


def _int_range(minimum: int | None, maximum: int | None, allow_none: bool) -> str:
    if minimum is not None and maximum is not None:
        expected = f"an int in [{minimum}, {maximum}]"
    elif minimum is not None:
        expected = f"an int >= {minimum}"
    elif maximum is not None:
        expected = f"an int <= {maximum}"
    else:
        expected = "an int"
    return expected + (" or None" if allow_none else "")
