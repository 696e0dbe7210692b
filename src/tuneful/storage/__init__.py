"""Durable record of studies and trials. ``open_storage(url)`` picks the backend.

URLs: ``memory://`` (this process only), ``sqlite:///path.db`` (the default is
``sqlite:///tuneful.db`` in the working directory), ``postgresql://...`` (through
SQLAlchemy; needs a driver). A plain path ending in ``.db`` is read as an SQLite file.
"""

from __future__ import annotations

import os

from tuneful.errors import StorageError
from tuneful.storage.base import SCHEMA_VERSION, Event, Storage, StudyInfo
from tuneful.storage.memory import MemoryStorage

__all__ = [
    "Storage",
    "StudyInfo",
    "Event",
    "MemoryStorage",
    "SCHEMA_VERSION",
    "DEFAULT_STORAGE",
    "open_storage",
    "upgrade_storage",
]

DEFAULT_STORAGE = "sqlite:///tuneful.db"

_SQL_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql")


def open_storage(storage: str | os.PathLike[str] | Storage | None = None) -> Storage:
    """Return a storage object for a URL, a path, an existing storage, or the default.

    Raises:
        StorageError: the URL's scheme is unknown or the database cannot be opened.
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        storage = os.environ.get("TUNEFUL_STORAGE", DEFAULT_STORAGE)
    url = os.fspath(storage)
    if url in ("memory://", "memory", ":memory:"):
        return MemoryStorage()
    from tuneful.storage.sql import SQLStorage  # SQLAlchemy is imported only when needed

    return SQLStorage(_sql_url(url))


def upgrade_storage(storage: str | os.PathLike[str]) -> tuple[int, int]:
    """Migrate a relational storage to this release's schema: (version found, version now).

    Raises:
        StorageError: not a relational storage, an SQLite file that does not exist, or the
            database cannot be reached.
    """
    url = _sql_url(os.fspath(storage))
    if url.startswith("sqlite:"):
        path = url.split(":///", 1)[-1].partition("?")[0]
        if path not in ("", ":memory:") and not os.path.exists(path):
            raise StorageError(f"storage {url!r}: {path} does not exist")
    from tuneful.storage.sql import upgrade_schema

    return upgrade_schema(url)


def _sql_url(url: str) -> str:
    """A relational storage URL in SQLAlchemy's form (plain paths and ``postgres://``)."""
    if url in ("memory://", "memory", ":memory:"):
        raise StorageError(f"storage {url!r} lives in one process: it has no schema")
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    if not scheme:
        if url.endswith((".db", ".sqlite", ".sqlite3")):
            url = "sqlite:///" + url
            scheme = "sqlite"
        else:
            raise StorageError(
                f"storage {url!r} is not a URL: expected memory://, sqlite:///path.db or "
                "postgresql://user@host/db"
            )
    if scheme not in _SQL_SCHEMES:
        raise StorageError(
            f"storage {url!r} has unknown scheme {scheme!r}: expected memory, sqlite or postgresql"
        )
    if scheme == "postgres":
        url = "postgresql" + url[len("postgres") :]
    return url
