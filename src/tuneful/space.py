"""Typed, conditional search spaces and their encoding to the unit cube.

A :class:`Space` maps names to parameters (:class:`Float`, :class:`Int`,
:class:`Categorical`, :class:`Fixed`). A parameter with ``when={"parent": value}`` is active
only when its parent is active and takes one of the listed values, so a space is a tree.

Optimizers never see user types: they work in the encoded cube, one column per non-fixed
parameter (``encoded_names``), values in [0, 1], NaN where a parameter is inactive.

Encoding conventions (optimizers rely on them):

- ``Float`` without step: ``u = (x - low) / (high - low)``, on ``log(x)`` when ``log=True``.
  Encoding steps u by a few ulps when needed so that ``decode(encode(x)) == x`` exactly
  wherever float64 allows (always for values that came out of a decode).
- ``Int``, ``Float`` with step, ``Categorical`` (k levels or choices): level i <-> the cell
  centre ``u = (i + 0.5) / k``; decoding takes ``i = min(floor(u * k), k - 1)``.
- ``Int`` with ``log=True``: with ``a = log(low - 0.5)`` and ``b = log(high + 0.5) - a``,
  ``u`` decodes to ``round(exp(a + u * b))`` clipped to [low, high], and v encodes to
  ``(log(v) - a) / b``. Uniform u then gives each int the log-measure of [v - 0.5, v + 0.5].
- ``Fixed`` has no column; decoded configs carry its value whenever it is active.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import yaml

from tuneful._encoding import Columns, read_only, unit_clip
from tuneful._parameters import (
    Categorical,
    Condition,
    Fixed,
    Float,
    Int,
    Parameter,
    Scalar,
)
from tuneful._tree import (
    Conditions,
    activity,
    check_conditions,
    holds,
    topological_order,
)
from tuneful._yaml import read_yaml
from tuneful.errors import SpaceError, did_you_mean

__all__ = [
    "Space",
    "Parameter",
    "Float",
    "Int",
    "Categorical",
    "Fixed",
    "Scalar",
    "Condition",
    "read_yaml",
]

_NOT_FIXED = object()  # marks a plan entry whose parameter is not Fixed


# name, coerce, conditions, fixed value (or _NOT_FIXED), encoded column (or -1)
_Step = tuple[str, Callable[[Any], Any], Conditions, Any, int]


class _SpecDumper(yaml.SafeDumper):
    """SafeDumper that quotes strings such as ``"1e-5"``, which :func:`read_yaml` reads as
    floats."""


_SpecDumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class Space(Mapping[str, Parameter]):
    """A search space: an ordered, immutable mapping name -> parameter.

    Args:
        mapping: parameters by name (any non-empty string, e.g. ``"num.impute"``).
        **params: more parameters by keyword; a name given twice is an error.

    Raises:
        SpaceError: a value is not a parameter, a condition names an unknown parameter, a
            Float, or a value the parent never takes, or conditions form a cycle.

    Example:
        >>> import numpy as np
        >>> from tuneful.space import Categorical, Float, Int, Space
        >>> space = Space(
        ...     lr=Float(1e-5, 1e-1, log=True),
        ...     layers=Int(1, 8),
        ...     optimizer=Categorical(["adam", "sgd"]),
        ...     momentum=Float(0.0, 0.99, when={"optimizer": "sgd"}),
        ... )
        >>> space.encoded_names
        ('lr', 'layers', 'optimizer', 'momentum')
        >>> X = space.encode([{"lr": 0.001, "layers": 3, "optimizer": "adam"}])
        >>> X.shape, bool(np.isnan(X[0, 3]))
        ((1, 4), True)
        >>> configs = space.sample(np.random.default_rng(0), n=100)
        >>> space.decode(space.encode(configs)) == configs
        True
        >>> Space.from_yaml(space.to_yaml()) == space
        True
    """

    def __init__(
        self, mapping: Mapping[str, Parameter] | None = None, /, **params: Parameter
    ) -> None:
        given: dict[str, Parameter] = {}
        if mapping is not None:
            if not isinstance(mapping, Mapping):
                raise SpaceError(f"Space: expected a mapping name -> parameter, got {mapping!r}")
            given.update(mapping)
        for name, param in params.items():
            if name in given:
                raise SpaceError(f"parameter {name!r} is given twice (mapping and keyword)")
            given[name] = param
        for name, param in given.items():
            if not isinstance(name, str) or not name:
                raise SpaceError(f"parameter name {name!r} must be a non-empty string")
            if not isinstance(param, Parameter):
                raise SpaceError(
                    f"parameter {name!r}: got {param!r} ({type(param).__name__}), expected a "
                    "Float, Int, Categorical or Fixed"
                )
        allowed = check_conditions(given)
        self._params: dict[str, Parameter] = {n: given[n] for n in topological_order(given)}
        self._names = tuple(self._params)
        self._encoded_names = tuple(n for n, p in self._params.items() if not isinstance(p, Fixed))
        column = {name: j for j, name in enumerate(self._encoded_names)}
        self._columns = Columns(
            [self._params[n]._codec for n in self._encoded_names]  # type: ignore[misc]
        )
        self._plan: tuple[_Step, ...] = tuple(
            (
                name,
                param.coerce,
                allowed[name],
                param.value if isinstance(param, Fixed) else _NOT_FIXED,
                column.get(name, -1),
            )
            for name, param in self._params.items()
        )
        self._conditional = any(p.when for p in self._params.values())
        # Unconditional spaces validate a complete config with one flat loop.
        self._flat = None if self._conditional else tuple((s[0], s[1]) for s in self._plan)
        encoded = [self._params[n] for n in self._encoded_names]
        self._is_categorical = read_only([p.is_categorical for p in encoded], bool)
        self._n_levels = read_only([p.n_levels for p in encoded], np.int64)
        self._conditional_mask = read_only([bool(p.when) for p in encoded], bool)
        defaults: dict[str, Any] = {}
        for name, _, conditions, _, _ in self._plan:
            if holds(conditions, defaults):
                defaults[name] = self._params[name].default_value()
        self._defaults = defaults

    # -- mapping protocol --------------------------------------------------------------------
    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._params[name]
        except KeyError:
            known = list(self._names)
            raise KeyError(f"no parameter named {name!r}; parameters: {known}") from None

    def __len__(self) -> int:
        return len(self._params)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._params

    def __eq__(self, other: object) -> bool:
        """Same names in the same order, with equal parameters."""
        if not isinstance(other, Space):
            return NotImplemented
        return list(self._params.items()) == list(other._params.items())

    def __hash__(self) -> int:
        return hash(tuple(self._params.items()))

    def __repr__(self) -> str:
        if all(n.isidentifier() and not keyword.iskeyword(n) for n in self._names):
            return "Space(" + ", ".join(f"{n}={p!r}" for n, p in self._params.items()) + ")"
        return f"Space({self._params!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Space, (dict(self._params),))

    # -- structure ---------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        """All parameter names, parents before children, otherwise in insertion order."""
        return self._names

    @property
    def encoded_names(self) -> tuple[str, ...]:
        """Names of the encoded columns: every non-Fixed parameter, in ``names`` order."""
        return self._encoded_names

    @property
    def dim(self) -> int:
        """Number of encoded columns."""
        return len(self._encoded_names)

    @property
    def is_conditional(self) -> bool:
        """Whether any parameter has a ``when`` condition."""
        return self._conditional

    @property
    def is_categorical(self) -> np.ndarray:
        """Per encoded column, whether it is a Categorical; bool array, shape (dim,)."""
        return self._is_categorical

    @property
    def n_levels(self) -> np.ndarray:
        """Per encoded column, the number of levels (0: continuous float); shape (dim,)."""
        return self._n_levels

    @property
    def conditional_mask(self) -> np.ndarray:
        """Per encoded column, whether its parameter has a condition; bool array, (dim,)."""
        return self._conditional_mask

    # -- configurations ----------------------------------------------------------------------
    def validate(self, config: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Check a configuration and return it normalized (plain Python values).

        Fixed parameters may be left out: they are filled in when active.

        Args:
            config: name -> value.
            partial: allow active parameters to be missing; a parameter whose parent is
                missing is accepted (its activity is unknown), but anything given must be
                valid and not inactive given the other values.

        Returns:
            The configuration in ``names`` order, values normalized (numpy scalars to Python,
            3.0 -> 3 for ints, step floats snapped to their grid).

        Raises:
            SpaceError: unknown names, bad values, inactive parameters given, or (unless
                ``partial``) active parameters missing.
        """
        return self._walk(config, strict=True)[0] if partial else self._normalize(config)

    def active_names(self, config: Mapping[str, Any]) -> list[str]:
        """Names known to be active for a possibly partial configuration, in ``names`` order.

        A parameter whose parent is missing (or has an invalid value) is not listed. Values
        are not validated here; use :meth:`validate` for that.
        """
        return self._walk(config, strict=False)[1]

    def defaults(self) -> dict[str, Any]:
        """The default configuration: each active parameter's ``default_value()``."""
        return dict(self._defaults)

    # -- encoding ----------------------------------------------------------------------------
    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Configurations -> encoded points, shape (n, dim), float64, NaN where inactive.

        Raises:
            SpaceError: a configuration is invalid (see :meth:`validate`); the message names
                the configuration's index, the parameter and the value.
        """
        if isinstance(configs, Mapping):
            raise SpaceError("encode() takes a sequence of configs; wrap a single one in a list")
        rows: list[dict[str, Any]] = []
        for i, config in enumerate(configs):
            try:
                rows.append(self._normalize(config))
            except SpaceError as exc:
                raise SpaceError(f"configs[{i}]: {exc}") from None
        return self._columns.encode(rows, self._encoded_names, not self._conditional)

    def encode_lenient(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Like :meth:`encode`, but never raises for a configuration's content.

        A column is NaN where its parameter is missing, inactive, or has an invalid value;
        unknown names are ignored. For records that may predate a change of space.
        """
        rows = [self._walk(config, strict=False)[0] for config in configs]
        return self._columns.encode(rows, self._encoded_names, False)

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Encoded points, shape (n, dim) or (dim,), -> configurations (plain Python values).

        Values are clipped to [0, 1]; inactive parameters are left out (their column is
        ignored, NaN or not); active Fixed parameters are included.

        Raises:
            SpaceError: wrong shape, or NaN in the column of an active parameter.
        """
        try:
            points = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise SpaceError(f"decode: X is not a numeric array ({exc})") from None
        if points.ndim == 1:
            points = points.reshape(1, -1)
        if points.ndim != 2 or points.shape[1] != self.dim:
            raise SpaceError(
                f"decode: expected an array of shape (n, {self.dim}), got {np.shape(X)}"
            )
        n = points.shape[0]
        missing = np.isnan(points)
        unit = unit_clip(np.where(missing, 0.5, points))
        columns = self._columns.decode(unit)
        if not self._names:
            return [{} for _ in range(n)]
        if not self._conditional:
            if missing.any():
                row, j = np.argwhere(missing)[0]
                raise SpaceError(
                    f"decode: parameter {self._encoded_names[j]!r} is NaN in row {row} "
                    "but is active there"
                )
            by_name = [
                columns[col] if col >= 0 else [fixed] * n for _, _, _, fixed, col in self._plan
            ]
            names = self._names
            return [dict(zip(names, row, strict=True)) for row in zip(*by_name, strict=True)]
        nan_rows = missing.tolist()
        configs = []
        for i in range(n):
            config: dict[str, Any] = {}
            nan_row = nan_rows[i]
            for name, _, conditions, fixed, col in self._plan:
                if conditions and not holds(conditions, config):
                    continue
                if col < 0:
                    config[name] = fixed
                elif nan_row[col]:
                    raise SpaceError(
                        f"decode: parameter {name!r} is NaN in row {i} but is active there"
                    )
                else:
                    config[name] = columns[col][i]
            configs.append(config)
        return configs

    def sample(self, rng: np.random.Generator, n: int = 1) -> list[dict[str, Any]]:
        """Draw ``n`` configurations: uniform in the encoded cube, then decoded.

        Log scales, steps and conditions are respected; inactive parameters are absent.
        """
        return self.decode(self._uniform(rng, n))

    def sample_encoded(self, rng: np.random.Generator, n: int = 1) -> np.ndarray:
        """``encode(sample(rng, n))``: shape (n, dim), NaN in inactive columns."""
        rows = self.decode(self._uniform(rng, n))
        return self._columns.encode(rows, self._encoded_names, not self._conditional)

    def sample_parameter(self, name: str, rng: np.random.Generator) -> Any:
        """Draw one value of parameter ``name``, uniform in its encoding.

        Conditions are ignored; a Fixed parameter returns its value without drawing.
        """
        param = self[name]
        if isinstance(param, Fixed):
            return param.value
        j = self._encoded_names.index(name)
        unit = np.full((1, self.dim), 0.5)
        unit[0, j] = rng.random()
        return self._columns.decode(unit)[j][0]

    def _uniform(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if not isinstance(rng, np.random.Generator):
            raise SpaceError(f"rng={rng!r}: expected a numpy.random.Generator")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise SpaceError(f"n={n!r}: expected an int >= 0")
        return rng.random((int(n), self.dim))

    # -- serialization -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The space in the spec shape: name -> ``{"type": ..., ...}`` (JSON-safe)."""
        return {name: param.to_dict() for name, param in self._params.items()}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Space:
        """Build a space from the spec shape (what :meth:`to_dict` writes, or a YAML spec).
        Entries may also be parameters themselves (``{"x": Float(0, 1)}``).

        Raises:
            SpaceError: not a mapping, unknown type or option (named with the parameter),
                invalid values.
        """
        if not isinstance(spec, Mapping):
            raise SpaceError(f"expected a mapping name -> parameter spec, got {spec!r}")
        params: dict[str, Parameter] = {}
        for name, entry in spec.items():
            if isinstance(entry, Parameter):
                params[name] = entry
                continue
            try:
                params[name] = Parameter.from_dict(entry)
            except SpaceError as exc:
                raise SpaceError(f"parameter {name!r}: {exc}") from None
        return cls(params)

    def to_json(self, *, indent: int | None = None) -> str:
        """The spec as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Space:
        """Build a space from JSON text in the spec shape."""
        try:
            spec = json.loads(text, object_pairs_hook=_unique_keys)
        except (TypeError, ValueError) as exc:
            raise SpaceError(f"invalid JSON space spec: {exc}") from None
        return cls.from_dict(spec)

    def to_yaml(self) -> str:
        """The spec as YAML text, one flow mapping per parameter."""
        return yaml.dump(
            self.to_dict(), Dumper=_SpecDumper, sort_keys=False, default_flow_style=None
        )

    @classmethod
    def from_yaml(cls, text: str) -> Space:
        """Build a space from YAML text in the spec shape (``1e-5`` reads as a float)."""
        try:
            spec = read_yaml(text)
        except yaml.YAMLError as exc:
            raise SpaceError(f"invalid YAML space spec: {exc}") from None
        if spec is None:
            raise SpaceError("the YAML space spec is empty (expected a mapping of parameters)")
        return cls.from_dict(spec)

    # -- internals ---------------------------------------------------------------------------
    def _normalize(self, config: Mapping[str, Any]) -> dict[str, Any]:
        if type(config) is not dict and not isinstance(config, Mapping):
            raise SpaceError(f"a config must be a mapping name -> value, got {config!r}")
        out: dict[str, Any] = {}
        if self._flat is not None and len(config) == len(self._flat):
            name = ""
            try:
                for name, coerce in self._flat:
                    out[name] = coerce(config[name])
            except KeyError:
                out = {}  # a name is missing: the walk below says which
            except SpaceError as exc:
                raise SpaceError(f"parameter {name!r}: {exc}") from None
            else:
                return out
        given = 0
        for name, coerce, conditions, fixed, _ in self._plan:
            active = True
            for parent, allowed in conditions:  # inlined holds: this loop is hot
                if parent not in out or (type(out[parent]) is bool, out[parent]) not in allowed:
                    active = False
                    break
            if name in config:
                given += 1
                if not active:
                    raise self._inactive_error(name, config[name], out)
                try:
                    out[name] = coerce(config[name])
                except SpaceError as exc:
                    raise SpaceError(f"parameter {name!r}: {exc}") from None
            elif active:
                if fixed is _NOT_FIXED:
                    raise SpaceError(f"parameter {name!r} is active but missing from the config")
                out[name] = fixed
        if given != len(config):
            raise self._unknown_error(config)
        return out

    def _walk(self, config: Mapping[str, Any], *, strict: bool) -> tuple[dict[str, Any], list[str]]:
        """Walk a possibly partial config; returns (normalized values, names known active).

        A parameter is known active, known inactive, or unknown (a parent is missing or
        unknown). ``strict`` raises for unknown names, bad values and parameters given while
        known inactive; otherwise those are left out.
        """
        if not isinstance(config, Mapping):
            raise SpaceError(f"a config must be a mapping name -> value, got {config!r}")
        out: dict[str, Any] = {}
        unknown: set[str] = set()
        active: list[str] = []
        given = 0
        for name, coerce, conditions, fixed, _ in self._plan:
            state = activity(conditions, out, unknown)
            if state:
                active.append(name)
            if name in config and (strict or state is not False):
                given += 1
                if state is False:
                    raise self._inactive_error(name, config[name], out)
                try:
                    out[name] = coerce(config[name])
                    continue
                except SpaceError as exc:
                    if strict:
                        raise SpaceError(f"parameter {name!r}: {exc}") from None
            elif state and fixed is not _NOT_FIXED:
                out[name] = fixed
                continue
            if state is not False:
                unknown.add(name)
        if strict and given != len(config):
            raise self._unknown_error(config)
        return out, active

    def _inactive_error(self, name: str, value: Any, known: Mapping[str, Any]) -> SpaceError:
        when = self._params[name].when
        parents = ", ".join(f"{p}={known[p]!r}" if p in known else f"{p} inactive" for p in when)
        return SpaceError(
            f"parameter {name!r} is inactive (condition when={when!r} does not hold: "
            f"{parents}) but the config gives {name}={value!r}"
        )

    def _unknown_error(self, config: Mapping[str, Any]) -> SpaceError:
        extra = [key for key in config if key not in self._params]
        hint = did_you_mean(extra[0], self._names) if isinstance(extra[0], str) else ""
        return SpaceError(
            f"unknown parameter {extra[0]!r} in the config (parameters: {list(self._names)}){hint}"
        )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing a key given twice (JSON keeps the last silently)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result
