"""Optional packages, imported when a feature first needs them.

Every integration and compatibility layer imports its framework through :func:`require`, so
that a missing package is one line naming the extra that installs it, not a traceback from
deep inside an import.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from tuneful.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``extra``.

    ``feature`` is what the user asked for, as the message should name it (e.g.
    ``"TunefulSearchCV"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and not module.startswith(exc.name.split(".")[0]):
            raise  # the package is there but one of its own dependencies is broken
        raise MissingDependencyError(
            f"{feature} needs {module.split('.')[0]}, which is not installed: "
            f"pip install 'tuneful[{extra}]'"
        ) from None
