"""Reading a trial's metric from what its program prints: a JSON key or a regex."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneful.errors import SpecError, did_you_mean

__all__ = [
    "MetricSpec",
    "constraint_keys",
    "json_object",
    "as_number",
    "metric_reason",
    "shown",
    "MISSING",
]

MISSING = object()  # a metric's value was not found


@dataclass(frozen=True)
class MetricSpec:
    """Where a trial's value is read from stdout: exactly one of ``json_key`` or ``regex``.

    ``json_key``: the last stdout line that is a JSON object with this key (a dotted key also
    looks into nested objects) gives the value; such lines that also carry an integer
    ``step`` are learning-curve points. ``regex``: matched against each line; the last match
    gives the value, from group 1 or, without groups, the whole match.

    Example:
        >>> MetricSpec(json_key="val_acc").read('{"step": 2, "val_acc": 0.9}')
        (0.9, 2)
        >>> MetricSpec(regex=r"acc=([0-9.]+)").read("epoch 3 acc=0.75 loss=1.2")
        ('0.75', None)
    """

    json_key: str | None = None
    regex: str | None = None
    _pattern: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.json_key is None) == (self.regex is None):
            raise SpecError(
                "metric: give exactly one of json_key or regex "
                f"(got json_key={self.json_key!r}, regex={self.regex!r})"
            )
        for key, value in (("json_key", self.json_key), ("regex", self.regex)):
            if value is not None and (not isinstance(value, str) or not value):
                raise SpecError(f"metric {key}={value!r}: expected a non-empty string")
        if self.regex is not None:
            try:
                object.__setattr__(self, "_pattern", re.compile(self.regex))
            except re.error as exc:
                raise SpecError(
                    f"metric regex {self.regex!r} is not a valid regex: {exc}"
                ) from None

    @classmethod
    def from_dict(cls, spec: Any) -> MetricSpec:
        """Build from the spec shape ``{json_key: name}`` or ``{regex: pattern}``."""
        if isinstance(spec, MetricSpec):
            return spec
        if not isinstance(spec, Mapping):
            raise SpecError(
                "metric: expected a mapping like {json_key: val_acc} or "
                f"{{regex: 'acc=([0-9.]+)'}}, got {spec!r}"
            )
        for key in spec:
            if key not in ("json_key", "regex"):
                hint = did_you_mean(str(key), ["json_key", "regex"])
                raise SpecError(f"metric: unknown key {key!r} (expected json_key or regex){hint}")
        return cls(json_key=spec.get("json_key"), regex=spec.get("regex"))

    def describe(self) -> str:
        """``json_key 'val_acc'`` or ``regex 'acc=(...)'``."""
        if self.json_key is not None:
            return f"json_key {self.json_key!r}"
        return f"regex {self.regex!r}"

    def read(self, line: str, parsed: Any = MISSING) -> tuple[Any, int | None] | None:
        """The raw value this line gives and its learning-curve step, or None.

        ``parsed``: the line already decoded as JSON (decoded here when not given).
        """
        if self._pattern is not None:
            value = None
            for match in self._pattern.finditer(line):
                value = match.group(1) if self._pattern.groups else match.group(0)
            return None if value is None else (value, None)
        parsed = json_object(line) if parsed is MISSING else parsed
        if not isinstance(parsed, dict):
            return None
        assert self.json_key is not None
        value = _lookup(parsed, self.json_key)
        if value is MISSING:
            return None
        step = parsed.get("step")
        valid = isinstance(step, int) and not isinstance(step, bool) and step >= 0
        return value, step if valid else None


def constraint_keys(spec: Any) -> tuple[str, ...]:
    """The JSON keys a spec's ``constraints: {json_keys: [a, b]}`` names, checked.

    Each key is read as a metric's ``json_key`` is (the last stdout line that is a JSON
    object with that key; a dotted key looks into nested objects); its value is a constraint,
    satisfied when <= 0.

    Example:
        >>> constraint_keys({"json_keys": ["memory_over", "latency_over"]})
        ('memory_over', 'latency_over')

    Raises:
        SpecError: not a mapping with exactly ``json_keys``; the keys are not a non-empty
            list of distinct non-empty strings.
    """
    example = "{json_keys: [memory_over_gb, latency_over_ms]}"
    if not isinstance(spec, Mapping):
        raise SpecError(f"constraints: expected a mapping like {example}, got {spec!r}")
    for key in spec:
        if key != "json_keys":
            hint = did_you_mean(str(key), ["json_keys"])
            raise SpecError(
                f"constraints: unknown key {key!r} (expected json_keys){hint}, as in {example}"
            )
    keys = spec.get("json_keys")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys:
        raise SpecError(
            f"constraints json_keys={keys!r}: expected a non-empty list of JSON keys, as in "
            f"{example}"
        )
    for key in keys:
        if not isinstance(key, str) or not key:
            raise SpecError(f"constraints json_keys: {key!r} is not a non-empty string")
        if keys.count(key) > 1:
            raise SpecError(f"constraints json_keys: {key!r} is named twice")
    return tuple(keys)


def json_object(line: str) -> Any:
    """The line as a JSON object, or None."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _lookup(obj: dict[str, Any], key: str) -> Any:
    if key in obj:
        return obj[key]
    node: Any = obj
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def as_number(raw: Any) -> float | None:
    """A printed value as a float (maybe nan or infinite), or None when it is not a number
    or too large for a float (a JSON integer such as 10**400)."""
    if isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError, OverflowError):
        return None


def shown(raw: Any, limit: int = 60) -> str:
    """A printed value for a one-line message, cut to ``limit`` characters."""
    text = repr(raw) if isinstance(raw, str) else str(raw)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text)} characters)"


def metric_reason(label: str, raw: Any, what: str = "metric") -> tuple[float | None, str | None]:
    """(the value, None) for a finite number, else (None, a one-line reason to fail);
    ``what`` names the value read ("metric" or "constraint")."""
    number = as_number(raw)
    if number is None and isinstance(raw, int | float) and not isinstance(raw, bool):
        return None, f"the {what} {label} is {shown(raw)}, too large for a float"
    if number is None:
        return None, f"the {what} {label} is {shown(raw)}, not a number"
    if not math.isfinite(number):
        return None, f"the {what} {label} is {shown(raw)}, not a finite number"
    return number, None
