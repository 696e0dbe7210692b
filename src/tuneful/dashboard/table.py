"""A study's trials as the page's table reads them: filtered, sorted and paged on the server,
so a study of 50k trials sends the browser one page of rows, never the whole study.

Filters (all optional, combined with *and*):

- ``states``: trial states to keep (``COMPLETE,PRUNED``);
- ``value_min`` / ``value_max``: the objective's value range (trials without a value drop);
- ``q``: words on the parameters, each of which must hold: ``lr<0.01``, ``layers>=3``,
  ``optimizer=adam`` (a comparison on one parameter: numbers compare as numbers, anything
  else as text), or plain text found in any ``name=value`` of the trial (case-insensitive).

Sort keys: ``number``, ``state``, ``value`` (objective 0; ``value.1`` for the second),
``duration``, ``started``, ``finished``, ``worker``, ``param.NAME``. Missing values (a running
trial's value, an inactive parameter) sort last whichever the order.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState

__all__ = ["TrialQuery", "jsonable", "proposer", "trial_row", "trial_detail", "select", "MAX_PAGE"]

#: The most rows one page may hold.
MAX_PAGE = 500
_STATES = {state.value for state in TrialState}
_TERM = re.compile(r"^(?P<name>[^<>=!\s]+)\s*(?P<op><=|>=|!=|<|>|=)\s*(?P<value>.+)$")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "=": operator.eq,
    "!=": operator.ne,
}


def jsonable(value: Any) -> Any:
    """``value`` as strict JSON holds it: NaN and infinities as the strings ``"nan"``,
    ``"inf"``, ``"-inf"``; tuples as lists; keys as strings; anything else as its repr."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(value)
    return jsonable(number)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise StudyError(f"{what} {text!r}: expected a number") from None


@dataclass(frozen=True)
class TrialQuery:
    """One request for a page of the trial table (see module for the forms)."""

    sort: str = "number"
    descending: bool = False
    states: tuple[str, ...] = ()
    value_min: float | None = None
    value_max: float | None = None
    objective: int = 0
    text: str = ""
    offset: int = 0
    limit: int = 50

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> TrialQuery:
        """A query from URL parameters.

        Raises:
            StudyError: a parameter that is not of its form, naming it and the value.
        """
        states = tuple(s.strip().upper() for s in query.get("states", "").split(",") if s.strip())
        unknown = [s for s in states if s not in _STATES]
        if unknown:
            raise StudyError(
                f"states {','.join(unknown)!r}: expected some of {', '.join(sorted(_STATES))}"
            )
        bounds = {}
        for key in ("value_min", "value_max"):
            raw = query.get(key, "").strip()
            bounds[key] = _number(raw, key) if raw else None
        numbers = {}
        for key, default in (("offset", 0), ("limit", 50), ("objective", 0)):
            raw = query.get(key, "").strip()
            numbers[key] = int(_number(raw, key)) if raw else default
            if numbers[key] < 0:
                raise StudyError(f"{key} {raw!r}: expected a number >= 0")
        order = query.get("order", "asc")
        if order not in ("asc", "desc"):
            raise StudyError(f"order {order!r}: expected 'asc' or 'desc'")
        return cls(
            sort=query.get("sort", "number") or "number",
            descending=order == "desc",
            states=states,
            value_min=bounds["value_min"],
            value_max=bounds["value_max"],
            objective=numbers["objective"],
            text=query.get("q", "").strip(),
            offset=numbers["offset"],
            limit=max(1, min(MAX_PAGE, numbers["limit"])),
        )

    def order_key(self) -> tuple[Any, ...]:
        """What decides the rows' order, whatever the page (a cache key)."""
        return (
            self.sort,
            self.descending,
            self.states,
            self.value_min,
            self.value_max,
            self.objective,
            self.text,
        )


def _value(trial: TrialRecord, objective: int) -> float | None:
    if trial.values is None or objective >= len(trial.values):
        return None
    value = trial.values[objective]
    return value if math.isfinite(value) else None


def _matcher(text: str) -> Callable[[TrialRecord], bool]:
    """A test of one trial's parameters for the words of ``text`` (see module)."""
    tests: list[Callable[[TrialRecord], bool]] = []
    for word in text.split():
        match = _TERM.match(word)
        if match is None:
            tests.append(_contains(word.lower()))
            continue
        name, op, wanted = match["name"], _OPERATORS[match["op"]], match["value"]
        tests.append(_comparison(name, op, wanted))
    return lambda trial: all(test(trial) for test in tests)


def _contains(needle: str) -> Callable[[TrialRecord], bool]:
    def test(trial: TrialRecord) -> bool:
        return any(needle in f"{k}={v}".lower() for k, v in trial.params.items())

    return test


def _comparison(
    name: str, op: Callable[[Any, Any], bool], wanted: str
) -> Callable[[TrialRecord], bool]:
    try:
        number: float | None = float(wanted)
    except ValueError:
        number = None

    def test(trial: TrialRecord) -> bool:
        if name not in trial.params:
            return False
        value = trial.params[name]
        if number is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            return bool(op(float(value), number))
        return bool(op(str(value).lower(), wanted.lower()))

    return test


def _sort_key(sort: str, objective: int) -> Callable[[TrialRecord], Any]:
    """A key giving ``(missing, value)``: missing values are told apart from present ones so
    that they can be put last in either order."""
    if sort == "number":
        return lambda t: (False, t.number)
    if sort == "state":
        return lambda t: (False, t.state.value)
    if sort == "worker":
        return lambda t: (t.worker is None, t.worker or "")
    if sort in ("duration", "started", "finished"):
        attribute = {"duration": "duration", "started": "started_at", "finished": "finished_at"}
        name = attribute[sort]
        return lambda t: (getattr(t, name) is None, getattr(t, name) or 0.0)
    if sort == "value" or sort.startswith("value."):
        index = objective if sort == "value" else int(_number(sort[6:], "sort"))
        return lambda t: (_value(t, index) is None, _value(t, index) or 0.0)
    if sort.startswith("param."):
        param = sort[6:]
        return lambda t: _param_key(t.params.get(param))
    raise StudyError(
        f"sort {sort!r}: expected number, state, value, value.N, duration, started, "
        "finished, worker or param.NAME"
    )


def _param_key(value: Any) -> tuple[bool, int, Any]:
    """Numbers before text, each in its own order; an inactive parameter last."""
    if value is None:
        return (True, 0, 0.0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        return (not math.isfinite(number), 0, number if math.isfinite(number) else 0.0)
    return (False, 1, str(value))


def select(trials: Sequence[TrialRecord], query: TrialQuery) -> list[int]:
    """The positions in ``trials`` of the rows ``query`` keeps, in its order (every page)."""
    states = set(query.states)
    keep = []
    matches = _matcher(query.text) if query.text else None
    ranged = query.value_min is not None or query.value_max is not None
    for position, trial in enumerate(trials):
        if states and trial.state.value not in states:
            continue
        if ranged:
            value = _value(trial, query.objective)
            if value is None:
                continue
            if query.value_min is not None and value < query.value_min:
                continue
            if query.value_max is not None and value > query.value_max:
                continue
        if matches is not None and not matches(trial):
            continue
        keep.append(position)
    key = _sort_key(query.sort, query.objective)
    keyed = [(key(trials[p]), p) for p in keep]
    present = [item for item in keyed if not item[0][0]]
    missing = [item for item in keyed if item[0][0]]
    present.sort(key=lambda item: (item[0], item[1]), reverse=query.descending)
    missing.sort(key=lambda item: item[1])
    return [p for _, p in present] + [p for _, p in missing]


def proposer(trial: TrialRecord, optimizer: str | None) -> str | None:
    """Who proposed the trial's parameters: what the optimizer recorded (``auto`` records
    its choice), a retry of an earlier trial, else the study's optimizer."""
    attrs = trial.system_attrs
    if "optimizer" in attrs:
        return str(attrs["optimizer"])
    if "retry_of" in attrs:
        return f"retry of trial {attrs['retry_of']}"
    return optimizer


def trial_row(trial: TrialRecord, optimizer: str | None = None) -> dict[str, Any]:
    """One row of the table: what the page shows of a trial without opening it
    (``optimizer``: the study's, named when the trial did not record its own)."""
    pruned = trial.system_attrs.get("pruned")
    return {
        "number": trial.number,
        "state": trial.state.value,
        "values": jsonable(trial.values),
        "params": jsonable(trial.params),
        "duration": jsonable(trial.duration),
        "started_at": jsonable(trial.started_at),
        "finished_at": jsonable(trial.finished_at),
        "worker": trial.worker,
        "optimizer": proposer(trial, optimizer),
        "pruned_step": jsonable(pruned.get("step")) if isinstance(pruned, Mapping) else None,
        "has_error": bool(trial.error),
        "constraints": jsonable(trial.constraints),
        "feasible": None if trial.constraints is None else trial.feasible,
        "violation": None if trial.constraints is None else jsonable(trial.violation),
    }


def _rungs(attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The scheduler's record of each rung the trial reached, by rung."""
    found = []
    for key, value in attrs.items():
        if key.startswith("rung_") and key[5:].isdigit() and isinstance(value, Mapping):
            found.append({"rung": int(key[5:]), **jsonable(value)})
    return sorted(found, key=lambda item: item["rung"])


def trial_detail(
    trial: TrialRecord,
    directions: Sequence[str],
    optimizer: str | None = None,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows of one opened trial."""
    attrs = trial.system_attrs
    pruned = attrs.get("pruned")
    return {
        **trial_row(trial, optimizer),
        "directions": list(directions),
        "intermediate": [[step, jsonable(v)] for step, v in sorted(trial.intermediate.items())],
        "user_attrs": jsonable(trial.user_attrs),
        "system_attrs": jsonable(attrs),
        "distributions": jsonable(trial.distributions),
        "created_at": jsonable(trial.created_at),
        "error": trial.error,
        "scheduler": {
            "name": scheduler,
            "pruned": jsonable(pruned) if isinstance(pruned, Mapping) else None,
            "bracket": jsonable(attrs.get("bracket")),
            "rungs": _rungs(attrs),
        },
    }
