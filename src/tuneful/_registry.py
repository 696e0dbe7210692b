"""Building a component (an optimizer, a scheduler) from what a user or a stored study names:
a registry name, a ``{"name": ..., "settings": {...}, "version": 1}`` dict, or the object
itself."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast

from tuneful._validation import check_int
from tuneful.errors import VersionChangedWarning

__all__ = ["build", "Component"]

T = TypeVar("T")


class Component:
    """What optimizers and schedulers share: a registry ``name``, the JSON-safe ``settings``
    that rebuild them and the ``version`` of their algorithm, recorded with a study by
    :meth:`describe`.

    When to bump ``version`` (by one): when a change makes the component decide differently
    for the same history, settings and seed: another rule or constant inside the algorithm,
    another default for a setting that ``settings()`` does not record, another order of
    draws from a random generator. A study resumed after such a change continues on another
    path than the one it began on, and the stored description says so: rebuilding it warns
    (:class:`~tuneful.errors.VersionChangedWarning`). Do not bump it for changes that leave
    every decision as it was: refactoring, speed, messages, a new setting whose default keeps
    the old behaviour (``settings()`` records it).
    """

    name: ClassVar[str] = "component"
    #: The algorithm's version; see the class docstring for when to bump it.
    version: ClassVar[int] = 1

    def settings(self) -> dict[str, Any]:
        """JSON-safe constructor arguments: with ``name`` they rebuild this component."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Identity recorded with the study: name, settings and the algorithm's version."""
        return {"name": self.name, "settings": self.settings(), "version": self.version}

    def same_as(self, description: Any) -> bool:
        """Whether ``description`` (as :meth:`describe` writes it, or as a study stored it
        before descriptions had a version) names this component with the same settings. The
        version is not compared: rebuilding a description of another version warns instead.
        """
        if not isinstance(description, Mapping):
            return False
        given = {"name": self.name, "settings": self.settings()}
        stored = {"name": description.get("name"), "settings": description.get("settings") or {}}
        return _plain(stored) == _plain(given)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings().items())
        return f"{type(self).__name__}({args})"


def build(
    spec: Any,
    *,
    kind: str,
    base: type,
    registry: Mapping[str, Callable[..., T]],
    error: type[Exception],
    default: str,
    example: str,
    **arguments: Any,
) -> T:
    """The component ``spec`` names (``default`` when None); ``arguments`` go to its factory
    with the settings.

    Raises:
        error: ``spec`` has the wrong shape, names no registered component, or its settings
            are not accepted; the message names ``kind`` and the value.
    """
    if isinstance(spec, base):
        return cast(T, spec)
    version: int | None = None  # the stored description's; None when not built from one
    if spec is None:
        spec = default
    if isinstance(spec, str):
        name, settings = spec, {}
    elif isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        name, settings = spec["name"], dict(spec.get("settings") or {})
        # a description stored before components had versions is of version 1
        version = check_int(kind, "version", spec.get("version", 1), minimum=1, error=error)
    else:
        raise error(
            f"{kind}={spec!r}: expected a name such as {example!r}, {_article(base.__name__)} "
            "object, or a dict {'name': ..., 'settings': {...}}"
        )
    factory = registry.get(name)
    if factory is None:
        raise error(f"{kind}={name!r} is unknown: expected one of {', '.join(sorted(registry))}")
    try:
        built = factory(**arguments, **settings)
    except TypeError as exc:
        raise error(f"{kind} {name!r} does not accept settings {settings}: {exc}") from None
    if version is not None:
        _warn_if_changed(kind, name, version, getattr(built, "version", 1))
    return built


def _warn_if_changed(kind: str, name: str, stored: int, current: int) -> None:
    if stored == current:
        return
    warnings.warn(
        VersionChangedWarning(
            f"{kind} {name!r} was described at version {stored} of its algorithm and this "
            f"release has version {current}: a resumed study may propose differently from "
            f"the one that began it. Pass {kind}= to choose the {kind} explicitly and silence "
            "this warning"
        ),
        stacklevel=4,
    )


def _plain(value: Any) -> Any:
    """A description as it reads back from storage (tuples as lists, ...)."""
    return json.loads(json.dumps(value, default=repr))


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"
