"""Parameter types of a search space: ``Float``, ``Int``, ``Categorical`` and ``Fixed``.

Each parameter is a frozen dataclass, validated when it is built. It checks and normalizes
one value (:meth:`Parameter.coerce`), writes itself as a plain dict in the YAML spec shape
(:meth:`Parameter.to_dict`), and carries a :class:`Codec` that says how its values map to
its column of the unit cube (conventions and vectorized math in :mod:`tuneful.space`).

Users import these names from :mod:`tuneful.space`; this module is private.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeAlias

import numpy as np

from tuneful._encoding import MAX_INT, MAX_LEVELS, Codec, _Grid
from tuneful.errors import SpaceError, did_you_mean

__all__ = ["Parameter", "Float", "Int", "Categorical", "Fixed", "Scalar", "Condition", "Codec"]

Scalar: TypeAlias = str | int | float | bool | None
"""A value a categorical choice, a fixed value or a condition may take."""

Condition: TypeAlias = dict[str, tuple[Scalar, ...]]
"""A normalized ``when``: parent name -> the parent values under which the child is active."""

MAX_LOG_INT = 2**40  # beyond this, neighbouring ints of a log scale share one float64 u


def describe(value: Any) -> str:
    """``repr`` with the type, for error messages: ``'3' (str)``."""
    return f"{value!r} ({type(value).__name__})"


def value_key(value: Any) -> tuple[bool, Any]:
    """A hashable key under which ``True`` and ``1`` differ but ``1`` and ``1.0`` match."""
    return (type(value) is bool, value)


def _plain(value: Any) -> Any:
    """A numpy scalar as the matching Python scalar; anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _order_key(value: Scalar) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    return (2, value) if isinstance(value, (int, float)) else (3, value)


def _scalar(value: Any, what: str) -> Scalar:
    value = _plain(value)
    if value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpaceError(f"{what}={value!r} must be finite")
        return value
    raise SpaceError(f"{what}={describe(value)} must be a str, int, float, bool or None")


def _number(value: Any, what: str, owner: str) -> float:
    value = _plain(value)
    if isinstance(value, bool):
        raise SpaceError(f"{owner}: {what}={value!r} must be a number, not a bool")
    if not isinstance(value, (int, float)):
        raise SpaceError(f"{owner}: {what}={describe(value)} must be a number")
    number = _float(value)
    if not math.isfinite(number):
        why = "is beyond float64" if isinstance(value, int) else "must be a finite number"
        raise SpaceError(f"{owner}: {what}={value!r} {why}")
    return number


def _float(value: int | float) -> float:
    """``float(value)``; an int beyond the float64 range gives an infinity of its sign."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _integer(value: Any, what: str, owner: str) -> int:
    value = _plain(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpaceError(f"{owner}: {what}={describe(value)} must be an int")
    if abs(value) > MAX_INT:
        raise SpaceError(f"{owner}: {what}={value!r} must be within +-2**53")
    return int(value)


def _normalize_when(when: Mapping[str, Any] | None, owner: str) -> Condition:
    """``when`` as parent -> sorted tuple of distinct values, parents sorted by name."""
    if when is None:
        return {}
    if not isinstance(when, Mapping):
        raise SpaceError(f"{owner}: when={describe(when)} must be a mapping parent -> value(s)")
    normalized: Condition = {}
    for parent, raw in when.items():
        if not isinstance(parent, str) or not parent:
            raise SpaceError(f"{owner}: when key {parent!r} must be a parameter name (a str)")
        if isinstance(raw, np.ndarray):
            raw = raw.tolist()
        items = list(raw) if isinstance(raw, (set, frozenset, list, tuple)) else [raw]
        if not items:
            raise SpaceError(f"{owner}: when={{{parent!r}: {raw!r}}} lists no values")
        distinct: dict[tuple[bool, Any], Scalar] = {}
        for item in items:
            scalar = _scalar(item, f"{owner}: when[{parent!r}] value")
            distinct.setdefault(value_key(scalar), scalar)
        normalized[parent] = tuple(sorted(distinct.values(), key=_order_key))
    return {parent: normalized[parent] for parent in sorted(normalized)}


def _typed(value: Any) -> Any:
    """A structural-equality key for a field value (``True`` and ``1`` differ)."""
    if isinstance(value, dict):
        return tuple((k, tuple(value_key(v) for v in vs)) for k, vs in value.items())
    if isinstance(value, tuple):
        return tuple(value_key(v) for v in value)
    return value_key(value)


# -- parameters ------------------------------------------------------------------------------


class Parameter:
    """Base class of ``Float``, ``Int``, ``Categorical`` and ``Fixed``.

    Attributes:
        when: the normalized condition, parent name -> tuple of values (empty: always active).
    """

    type_name: ClassVar[str] = ""
    is_categorical: ClassVar[bool] = False
    _positional: ClassVar[tuple[str, ...]] = ()
    _omitted: ClassVar[dict[str, Any]] = {}  # options left out of to_dict/repr at these values
    when: Condition
    _codec: Codec | None

    def coerce(self, value: Any) -> Any:
        """Check one value and return it normalized (plain Python type, snapped to a step).

        Raises:
            SpaceError: the value has the wrong type, is out of range or off the grid.
        """
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a valid value of this parameter."""
        try:
            self.coerce(value)
        except SpaceError:
            return False
        return True

    def default_value(self) -> Any:
        """``default`` if given, else the midpoint (geometric when log) or the first choice."""
        raise NotImplementedError

    @property
    def n_levels(self) -> int:
        """Distinct encoded levels: 0 for a continuous float, 1 for ``Fixed``."""
        return 1 if self._codec is None else self._codec.n_levels

    def _options(self) -> dict[str, Any]:
        """Fields that differ from their defaults, in declaration order."""
        options: dict[str, Any] = {}
        for field in fields(self):  # type: ignore[arg-type]
            key, value = field.name, getattr(self, field.name)
            omitted = self._omitted
            if key not in omitted or _typed(value) != _typed(omitted[key]):
                options[key] = value
        return options

    def to_dict(self) -> dict[str, Any]:
        """This parameter in the spec shape, e.g. ``{"type": "int", "low": 1, "high": 8}``."""
        spec: dict[str, Any] = {"type": self.type_name}
        for key, value in self._options().items():
            if key == "when":
                value = {k: (vs[0] if len(vs) == 1 else list(vs)) for k, vs in value.items()}
            spec[key] = list(value) if isinstance(value, tuple) else value
        return spec

    @staticmethod
    def from_dict(spec: Mapping[str, Any]) -> Parameter:
        """Build a parameter from the spec shape (numeric strings such as "1e-5" accepted).

        Raises:
            SpaceError: unknown type or option, missing option, invalid value.
        """
        if not isinstance(spec, Mapping):
            raise SpaceError(f"expected a mapping with a 'type' key, got {describe(spec)}")
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in _SPEC_TYPES:
            hint = did_you_mean(kind, _SPEC_TYPES) if isinstance(kind, str) else ""
            raise SpaceError(
                f"type={kind!r} is not a parameter type (expected one of "
                f"{sorted(_SPEC_TYPES)}){hint}"
            )
        cls = _SPEC_TYPES[kind]
        allowed = [f.name for f in fields(cls)]  # type: ignore[arg-type]
        options = {key: value for key, value in spec.items() if key != "type"}
        for key in options:
            if key not in allowed:
                hint = did_you_mean(key, allowed) if isinstance(key, str) else ""
                raise SpaceError(
                    f"unknown option {key!r} for type {kind!r} (expected some of {allowed}){hint}"
                )
        for key in cls._positional:
            if key not in options:
                raise SpaceError(f"type {kind!r} needs the option {key!r}")
        if kind in ("float", "int"):
            for key in ("low", "high", "step", "default"):
                if isinstance(options.get(key), str):
                    options[key] = _parse_number(options[key], key, kind)
        return cls(**options)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Parameter):
            return NotImplemented
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return tuple(_typed(getattr(self, f.name)) for f in fields(self))  # type: ignore[arg-type]

    def __repr__(self) -> str:
        parts = [
            repr(list(v) if isinstance(v, tuple) else v) if k in self._positional else f"{k}={v!r}"
            for k, v in self._options().items()
        ]
        return f"{type(self).__name__}({', '.join(parts)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Parameter.from_dict, (self.to_dict(),))


def _parse_number(text: str, key: str, kind: str) -> float | int:
    try:
        return int(text) if kind == "int" and text.strip().lstrip("+-").isdigit() else float(text)
    except ValueError:
        raise SpaceError(f"{key}={text!r} is not a number") from None


def _set(obj: Parameter, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True, eq=False, repr=False, init=False)
class Float(Parameter):
    """A real number in [low, high]: uniform, log-uniform (``log=True``) or on a grid (``step``).

    Raises:
        SpaceError: low >= high, non-finite bounds, log with low <= 0, log with step, step <= 0,
            step not dividing high - low, default outside the range.
    """

    type_name: ClassVar[str] = "float"
    _positional: ClassVar[tuple[str, ...]] = ("low", "high")
    _omitted: ClassVar[dict[str, Any]] = {"log": False, "step": None, "default": None, "when": {}}
    low: float
    high: float
    log: bool
    step: float | None
    default: float | None
    when: Condition

    def __init__(
        self,
        low: float,
        high: float,
        *,
        log: bool = False,
        step: float | None = None,
        default: float | None = None,
        when: Mapping[str, Any] | None = None,
    ) -> None:
        lo, hi = _number(low, "low", "Float"), _number(high, "high", "Float")
        if not lo < hi:
            raise SpaceError(f"Float: low={lo!r} must be less than high={hi!r}")
        if not math.isfinite(hi - lo):
            raise SpaceError(f"Float: high - low = {hi!r} - ({lo!r}) overflows float64 to inf")
        if not isinstance(log, (bool, np.bool_)):
            raise SpaceError(f"Float: log={describe(log)} must be True or False")
        if log and lo <= 0:
            raise SpaceError(f"Float: log=True needs low > 0, got low={lo!r}")
        grid: _Grid | None = None
        if step is not None:
            if log:
                raise SpaceError(f"Float: log=True and step={step!r} cannot be combined")
            width = _number(step, "step", "Float")
            if width <= 0:
                raise SpaceError(f"Float: step={width!r} must be > 0")
            grid = _Grid(lo, hi, width)
            codec = Codec(
                "levels", lo, hi, n_levels=grid.n_levels, stride=width, values=grid.levels
            )
        else:
            codec = Codec("log" if log else "linear", lo, hi)
        _set(
            self,
            low=lo,
            high=hi,
            log=bool(log),
            step=None if grid is None else grid.step,
            default=None,
            when=_normalize_when(when, "Float"),
            _codec=codec,
            _grid=grid,
        )
        if default is not None:
            number = _number(default, "default", "Float")
            try:
                _set(self, default=self.coerce(number))
            except SpaceError as exc:
                raise SpaceError(f"Float: default={default!r} is invalid: {exc}") from None

    def coerce(self, value: Any) -> float:
        """Check one value; returns a float (on the grid when ``step`` is set)."""
        kind = type(value)
        if kind is float:
            x = value
        elif kind is int:
            x = _float(value)
        else:
            plain = _plain(value)
            if isinstance(plain, bool) or not isinstance(plain, (int, float)):
                raise SpaceError(f"got {describe(value)}, expected {self._expected()}")
            x = _float(plain)
        if not self.low <= x <= self.high:
            raise SpaceError(f"got {value!r}, expected {self._expected()}")
        grid: _Grid | None = self._grid  # type: ignore[attr-defined]
        return x if grid is None else grid.snap(x)

    def _expected(self) -> str:
        scale = " (log scale)" if self.log else ""
        grid = "" if self.step is None else f" on the grid {self.low!r} + i * {self.step!r}"
        return f"a float in [{self.low!r}, {self.high!r}]{grid}{scale}"

    def default_value(self) -> float:
        grid: _Grid | None = self._grid  # type: ignore[attr-defined]
        if self.default is not None:
            return self.default
        if grid is not None:
            return grid.level((grid.n_levels - 1) // 2)
        if self.log:
            middle = 10.0 ** (0.5 * (math.log10(self.low) + math.log10(self.high)))
        else:
            middle = 0.5 * self.low + 0.5 * self.high
        return min(max(middle, self.low), self.high)


@dataclass(frozen=True, eq=False, repr=False, init=False)
class Int(Parameter):
    """An integer in [low, high] (both included): uniform, log-uniform or every ``step``.

    Raises:
        SpaceError: low >= high, non-int bounds, log with low <= 0 or with step > 1,
            step < 1 or not dividing high - low, default outside the range.
    """

    type_name: ClassVar[str] = "int"
    _positional: ClassVar[tuple[str, ...]] = ("low", "high")
    _omitted: ClassVar[dict[str, Any]] = {"log": False, "step": 1, "default": None, "when": {}}
    low: int
    high: int
    log: bool
    step: int
    default: int | None
    when: Condition

    def __init__(
        self,
        low: int,
        high: int,
        *,
        log: bool = False,
        step: int = 1,
        default: int | None = None,
        when: Mapping[str, Any] | None = None,
    ) -> None:
        lo, hi = _integer(low, "low", "Int"), _integer(high, "high", "Int")
        if not lo < hi:
            raise SpaceError(f"Int: low={lo!r} must be less than high={hi!r}")
        if not isinstance(log, (bool, np.bool_)):
            raise SpaceError(f"Int: log={describe(log)} must be True or False")
        stride = _integer(step, "step", "Int")
        if stride < 1:
            raise SpaceError(f"Int: step={stride!r} must be >= 1")
        if (hi - lo) % stride:
            raise SpaceError(
                f"Int: step={stride!r} does not divide high - low = {hi - lo} "
                f"(expected high = low + a multiple of step, e.g. {hi - (hi - lo) % stride})"
            )
        n_levels = (hi - lo) // stride + 1
        if log:
            if lo <= 0:
                raise SpaceError(f"Int: log=True needs low >= 1, got low={lo!r}")
            if stride != 1:
                raise SpaceError(f"Int: log=True and step={stride!r} cannot be combined")
            if hi > MAX_LOG_INT:
                raise SpaceError(f"Int: log=True supports high <= 2**40, got high={hi!r}")
            codec = Codec("log_int", lo, hi, n_levels=n_levels)
        else:
            if n_levels > MAX_LEVELS:
                raise SpaceError(f"Int: [{lo}, {hi}] has {n_levels} levels, more than 2**50")

            def values(indices: list[int]) -> list[Any]:
                return [lo + i * stride for i in indices]

            codec = Codec("levels", lo, hi, n_levels=n_levels, stride=stride, values=values)
        _set(
            self,
            low=lo,
            high=hi,
            log=bool(log),
            step=stride,
            default=None,
            when=_normalize_when(when, "Int"),
            _codec=codec,
        )
        if default is not None:
            try:
                _set(self, default=self.coerce(default))
            except SpaceError as exc:
                raise SpaceError(f"Int: default={default!r} is invalid: {exc}") from None

    def _expected(self) -> str:
        grid = f" on the grid {self.low} + i * {self.step}" if self.step != 1 else ""
        return f"an int in [{self.low}, {self.high}]{grid}"

    def coerce(self, value: Any) -> int:
        """Check one value; returns an int (3.0 and numpy ints are accepted)."""
        if type(value) is int:
            v = value
        else:
            plain = _plain(value)
            if isinstance(plain, float) and plain.is_integer():
                plain = int(plain)
            if isinstance(plain, bool) or not isinstance(plain, int):
                raise SpaceError(f"got {describe(value)}, expected {self._expected()}")
            v = int(plain)
        if not self.low <= v <= self.high or (v - self.low) % self.step:
            raise SpaceError(f"got {value!r}, expected {self._expected()}")
        return v

    def default_value(self) -> int:
        if self.default is not None:
            return self.default
        if self.log:
            return min(max(round(math.sqrt(self.low) * math.sqrt(self.high)), self.low), self.high)
        return self.low + ((self.high - self.low) // self.step // 2) * self.step


@dataclass(frozen=True, eq=False, repr=False, init=False)
class Categorical(Parameter):
    """One of a list of choices (str, int, float, bool or None); ``True`` and ``1`` differ.

    ``default=None`` means "no default" (the first choice is used); list None first to make
    it the default.

    Raises:
        SpaceError: empty choices, duplicate choices, choices of other types, default not a
            choice.
    """

    type_name: ClassVar[str] = "categorical"
    is_categorical: ClassVar[bool] = True
    _positional: ClassVar[tuple[str, ...]] = ("choices",)
    _omitted: ClassVar[dict[str, Any]] = {"default": None, "when": {}}
    choices: tuple[Scalar, ...]
    default: Scalar
    when: Condition

    def __init__(
        self,
        choices: Iterable[Scalar],
        *,
        default: Scalar = None,
        when: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(choices, (str, bytes, Mapping)) or not isinstance(choices, Iterable):
            raise SpaceError(f"Categorical: choices={describe(choices)} must be a list of values")
        options = tuple(_scalar(choice, "Categorical: choice") for choice in choices)
        if not options:
            raise SpaceError("Categorical: choices=[] is empty (expected at least one choice)")
        positions: dict[tuple[bool, Any], int] = {}
        for i, choice in enumerate(options):
            if value_key(choice) in positions:
                raise SpaceError(
                    f"Categorical: choice {choice!r} appears twice in {list(options)!r}"
                )
            positions[value_key(choice)] = i
        plain = {choice: i for i, choice in enumerate(options)}

        def indices(choices: list[Any]) -> list[int]:
            if len(plain) == len(options):  # no True/1 pair: the choices themselves are keys
                return list(map(plain.__getitem__, choices))
            return [positions[(type(v) is bool, v)] for v in choices]

        def values(indices: list[int]) -> list[Any]:
            return list(map(options.__getitem__, indices))

        codec = Codec(
            "levels", 0, len(options) - 1, n_levels=len(options), indices=indices, values=values
        )
        _set(
            self,
            choices=options,
            default=None,
            when=_normalize_when(when, "Categorical"),
            _codec=codec,
            _positions=positions,
        )
        if default is not None:
            try:
                _set(self, default=self.coerce(default))
            except SpaceError as exc:
                raise SpaceError(f"Categorical: default={default!r} is invalid: {exc}") from None

    def coerce(self, value: Any) -> Scalar:
        """Check one value; returns the matching choice (1.0 matches 1, True does not)."""
        positions: dict[tuple[bool, Any], int] = self._positions  # type: ignore[attr-defined]
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            i = positions.get((kind is bool, value))
        else:
            try:
                i = positions.get(value_key(_plain(value)))
            except TypeError:  # unhashable
                i = None
        if i is None:
            raise SpaceError(f"got {describe(value)}, expected one of {list(self.choices)!r}")
        return self.choices[i]

    def default_value(self) -> Scalar:
        return self.choices[0] if self.default is None else self.default


@dataclass(frozen=True, eq=False, repr=False, init=False)
class Fixed(Parameter):
    """A constant (str, int, float, bool or None): present in configs, absent from encodings."""

    type_name: ClassVar[str] = "fixed"
    _positional: ClassVar[tuple[str, ...]] = ("value",)
    _omitted: ClassVar[dict[str, Any]] = {"when": {}}
    value: Scalar
    when: Condition

    def __init__(self, value: Scalar, *, when: Mapping[str, Any] | None = None) -> None:
        _set(
            self,
            value=_scalar(value, "Fixed: value"),
            when=_normalize_when(when, "Fixed"),
            _codec=None,
        )

    def coerce(self, value: Any) -> Scalar:
        """Check one value; returns the fixed value when ``value`` equals it."""
        if type(value) is type(self.value) and value == self.value:
            return self.value
        try:
            same = value_key(_plain(value)) == value_key(self.value)
        except TypeError:
            same = False
        if not same:
            raise SpaceError(f"got {describe(value)}, expected the fixed value {self.value!r}")
        return self.value

    def default_value(self) -> Scalar:
        return self.value


_SPEC_TYPES: dict[str, type[Parameter]] = {
    "float": Float,
    "int": Int,
    "categorical": Categorical,
    "fixed": Fixed,
}
