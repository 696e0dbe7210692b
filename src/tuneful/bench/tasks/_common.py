"""What every task family shares: the error type, optional imports, the data folder."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from tuneful.errors import MissingDependencyError, TunefulError

__all__ = ["TaskError", "DATA_DIR_ENV", "require", "resolve_data_dir"]

#: Environment variable naming the benchmark data folder when ``data_dir`` is not given.
DATA_DIR_ENV = "TUNEFUL_DATA_DIR"


class TaskError(TunefulError, ValueError):
    """A task id that does not parse or names nothing, missing data, or a bad fidelity."""


def require(module: str, pip_name: str, purpose: str) -> ModuleType:
    """Import an optional package, or say how to install it.

    Raises:
        MissingDependencyError: the package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the optional package {pip_name!r} ({exc}); install it with "
            f"`pip install {pip_name}` or `pip install 'tuneful[bench]'`"
        ) from None


def resolve_data_dir(data_dir: str | os.PathLike[str] | None, user: str) -> Path:
    """The benchmark data folder: ``data_dir`` if given, else ``$TUNEFUL_DATA_DIR``.

    Args:
        data_dir: the folder, or None.
        user: who needs it, for messages (``"task 'yahpo/lcbench/3945'"``).

    Raises:
        TaskError: neither is set, or the folder does not exist.
    """
    if data_dir is None:
        from_env = os.environ.get(DATA_DIR_ENV)
        if not from_env:
            raise TaskError(
                f"{user}: no benchmark data folder given; pass data_dir=... or set the "
                f"environment variable {DATA_DIR_ENV} to it"
            )
        data_dir, origin = from_env, f"${DATA_DIR_ENV}"
    else:
        origin = "data_dir"
    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise TaskError(f"{user}: {origin}={str(folder)!r} is not a folder")
    return folder
