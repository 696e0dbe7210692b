"""Building a component (an optimizer, a scheduler) from what a user or a stored study names:
a registry name, a ``{"name": ..., "settings": {...}}`` dict, or the object itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar, cast

__all__ = ["build", "Component"]

T = TypeVar("T")


class Component:
    """What optimizers and schedulers share: a registry ``name`` and the JSON-safe
    ``settings`` that rebuild them, recorded with a study by :meth:`describe`."""

    name: ClassVar[str] = "component"

    def settings(self) -> dict[str, Any]:
        """JSON-safe constructor arguments: with ``name`` they rebuild this component."""
        return {}

    def describe(self) -> dict[str, Any]:
        """Identity recorded with the study: name and settings."""
        return {"name": self.name, "settings": self.settings()}

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
    if spec is None:
        spec = default
    if isinstance(spec, str):
        name, settings = spec, {}
    elif isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        name, settings = spec["name"], dict(spec.get("settings") or {})
    else:
        raise error(
            f"{kind}={spec!r}: expected a name such as {example!r}, {_article(base.__name__)} "
            "object, or a dict {'name': ..., 'settings': {...}}"
        )
    factory = registry.get(name)
    if factory is None:
        raise error(f"{kind}={name!r} is unknown: expected one of {', '.join(sorted(registry))}")
    try:
        return factory(**arguments, **settings)
    except TypeError as exc:
        raise error(f"{kind} {name!r} does not accept settings {settings}: {exc}") from None


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"
