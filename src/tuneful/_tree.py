"""The tree structure of a space: conditions, activity, topological order, cycles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuneful._parameters import Float, Parameter, value_key
from tuneful.errors import SpaceError, did_you_mean

__all__ = ["Conditions", "holds", "activity", "check_conditions", "topological_order"]

#: Per parameter: (parent, allowed value keys) pairs that must all hold for it to be active.
Conditions = tuple[tuple[str, frozenset[tuple[bool, Any]]], ...]


def holds(conditions: Conditions, values: Mapping[str, Any]) -> bool:
    """Whether every parent is present in ``values`` with an allowed value."""
    for parent, allowed in conditions:
        if parent not in values:
            return False
        value = values[parent]
        if (type(value) is bool, value) not in allowed:
            return False
    return True


def activity(conditions: Conditions, values: Mapping[str, Any], unknown: set[str]) -> bool | None:
    """True: known active; False: known inactive; None: depends on a missing parent."""
    state: bool | None = True
    for parent, allowed in conditions:
        if parent in values:
            value = values[parent]
            if (type(value) is bool, value) not in allowed:
                return False
        elif parent in unknown:
            state = None
        else:
            return False
    return state


def check_conditions(params: Mapping[str, Parameter]) -> dict[str, Conditions]:
    """Check every ``when`` against its parents; returns parent -> allowed value keys."""
    allowed: dict[str, Conditions] = {}
    for name, param in params.items():
        conditions = []
        for parent, values in param.when.items():
            if parent not in params:
                hint = did_you_mean(parent, params)
                raise SpaceError(
                    f"parameter {name!r}: condition on unknown parameter {parent!r} "
                    f"(parameters: {list(params)}){hint}"
                )
            parent_param = params[parent]
            if isinstance(parent_param, Float):
                raise SpaceError(
                    f"parameter {name!r}: condition on {parent!r}, a Float; conditions need a "
                    "Categorical, Int or Fixed parent (equality on floats is meaningless)"
                )
            keys = set()
            for value in values:
                try:
                    keys.add(value_key(parent_param.coerce(value)))
                except SpaceError as exc:
                    raise SpaceError(
                        f"parameter {name!r}: condition value {value!r} is not a value of "
                        f"{parent!r} ({exc})"
                    ) from None
            conditions.append((parent, frozenset(keys)))
        allowed[name] = tuple(conditions)
    return allowed


def topological_order(params: Mapping[str, Parameter]) -> list[str]:
    """Parents before children; otherwise insertion order. Raises SpaceError on a cycle."""
    remaining = list(params)
    placed: set[str] = set()
    order: list[str] = []
    while remaining:
        for name in remaining:
            if all(parent in placed for parent in params[name].when):
                break
        else:
            raise _cycle_error(params, remaining)
        remaining.remove(name)
        placed.add(name)
        order.append(name)
    return order


def _cycle_error(params: Mapping[str, Parameter], remaining: list[str]) -> SpaceError:
    pending = set(remaining)
    path = [remaining[0]]
    while True:
        parent = next(p for p in params[path[-1]].when if p in pending)
        if parent in path:
            cycle = path[path.index(parent) :] + [parent]
            break
        path.append(parent)
    first = cycle[0]
    return SpaceError(
        f"parameter {first!r}: conditions form a cycle {' -> '.join(map(repr, cycle))} "
        f"(each arrow points to the parent named in when=; {first!r} has "
        f"when={params[first].when!r})"
    )
