"""The tree of a conditional space as groups of encoded columns that are active together.

Every parameter's ``when`` names its parents and the values under which it is active, so two
parameters with the same ``when`` are active in exactly the same configurations. TPE groups
the encoded columns by their ``when`` (the root group: the unconditional ones) and models
each group jointly, from the trials where the group was active. :class:`ActivationGroups`
holds that grouping, parents before children, and tells for a batch of encoded points which
groups are active, vectorized, from the levels their parents' columns decode to (the same
rule as :meth:`tuneful.space.Space.decode`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tuneful.optimizers._parzen import Column
from tuneful.space import Categorical, Fixed, Float, Int, Space

__all__ = ["ActivationGroups", "Group", "columns_of"]


def columns_of(space: Space) -> list[Column]:
    """How each encoded column of ``space`` is modelled, in ``space.encoded_names`` order."""
    columns = []
    for name in space.encoded_names:
        param = space[name]
        if isinstance(param, Categorical):
            columns.append(Column("categorical", n_levels=len(param.choices)))
        elif isinstance(param, Int) and param.log:
            origin = float(np.log(param.low - 0.5))
            width = float(np.log(param.high + 0.5)) - origin
            columns.append(
                Column(
                    "log_int",
                    n_levels=param.n_levels,
                    origin=origin,
                    width=width,
                    low=param.low,
                    high=param.high,
                )
            )
        elif param.n_levels > 0:
            columns.append(Column("levels", n_levels=param.n_levels))
        else:
            columns.append(Column("continuous"))
    return columns


def _key(value: Any) -> tuple[bool, Any]:
    return (type(value) is bool, value)  # True and 1 differ, 1 and 1.0 match


@dataclass(frozen=True)
class Group:
    """Encoded columns that share one ``when`` and so are active together.

    Attributes:
        columns: indices of the encoded columns, ascending.
        names: their parameter names.
        when: the shared condition (empty for the root group).
    """

    columns: tuple[int, ...]
    names: tuple[str, ...]
    when: tuple[tuple[str, tuple[Any, ...]], ...]


class ActivationGroups:
    """The column groups of a space, parents' groups before their children's.

    Args:
        space: the search space.
        joint: group columns by condition (True) or give every column its own group.
    """

    def __init__(self, space: Space, *, joint: bool = True) -> None:
        self.space = space
        self.columns = columns_of(space)
        self._index = {name: j for j, name in enumerate(space.encoded_names)}
        members: dict[Any, list[str]] = {}
        for name in space.encoded_names:  # parents come before children in this order
            when = tuple(space[name].when.items())
            key = tuple((p, tuple(_key(v) for v in vs)) for p, vs in when) if joint else name
            members.setdefault(key, []).append(name)
        self.groups = tuple(
            Group(
                columns=tuple(self._index[n] for n in names),
                names=tuple(names),
                when=tuple(space[names[0]].when.items()),
            )
            for names in members.values()
        )
        # allowed level indices of each (parent, values) test, built once
        self._allowed: dict[tuple[str, str], np.ndarray | bool] = {}
        for name in space.names:
            for parent, values in space[name].when.items():
                self._allowed[(name, parent)] = self._allowed_levels(parent, values)

    def _allowed_levels(self, parent: str, values: Sequence[Any]) -> np.ndarray | bool:
        param = self.space[parent]
        keys = {_key(v) for v in values}
        if isinstance(param, Fixed):
            return _key(param.value) in keys
        if isinstance(param, Categorical):
            return np.array([i for i, c in enumerate(param.choices) if _key(c) in keys], int)
        if isinstance(param, Int):
            ints = sorted({int(param.coerce(v)) for v in values})
            return np.array([(v - param.low) // param.step for v in ints], dtype=np.int64)
        raise TypeError(  # Space refuses conditions on a Float parent
            f"condition on {parent!r} ({type(param).__name__}), expected {Categorical}, "
            f"{Int} or {Fixed}: not {Float}"
        )

    def active(self, points: np.ndarray) -> np.ndarray:
        """Which groups are active at each point: (c, dim) -> bool (c, n_groups).

        A column's value is read only where its parameter is active, so columns of
        inactive parameters may hold anything.
        """
        memo: dict[str, np.ndarray] = {}
        result = np.ones((points.shape[0], len(self.groups)), dtype=bool)
        for g, group in enumerate(self.groups):
            if group.when:
                result[:, g] = self._name_active(group.names[0], points, memo)
        return result

    def group_active(self, g: int, points: np.ndarray, memo: dict[str, np.ndarray]) -> np.ndarray:
        """Whether group ``g`` is active at each point, from its ancestors' columns only."""
        group = self.groups[g]
        if not group.when:
            return np.ones(points.shape[0], dtype=bool)
        return self._name_active(group.names[0], points, memo)

    def _name_active(self, name: str, points: np.ndarray, memo: dict[str, np.ndarray]) -> Any:
        if name in memo:
            return memo[name]
        active = np.ones(points.shape[0], dtype=bool)
        for parent in self.space[name].when:
            allowed = self._allowed[(name, parent)]
            active &= self._name_active(parent, points, memo)
            if isinstance(allowed, (bool, np.bool_)):
                active &= bool(allowed)
            else:
                j = self._index[parent]
                active &= np.isin(self.columns[j].level_index(points[:, j]), allowed)
        memo[name] = active
        return active

    def observed(self, X: np.ndarray) -> np.ndarray:
        """Which groups each encoded row has active (no NaN among their columns).

        Returns:
            bool (n, n_groups).
        """
        present = ~np.isnan(X)
        return np.stack(
            [present[:, list(group.columns)].all(axis=1) for group in self.groups], axis=1
        ).reshape(X.shape[0], len(self.groups))
