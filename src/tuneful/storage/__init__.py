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

#: The relational schemes (``postgres`` is read as ``postgresql``; a ``+driver`` may follow).
_SQL_SCHEMES = ("sqlite", "postgresql", "postgres")
_MEMORY_FORMS = ("memory://", "memory", ":memory:")
_EXPECTED = "memory://, sqlite:///path.db, a path ending in .db, or postgresql://user@host/db"


def open_storage(
    storage: str | os.PathLike[str] | Storage | None = None,
    *,
    read_only: bool = False,
    allow_foreign_tables: bool = False,
) -> Storage:
    """Return a storage object for a URL, a path, an existing storage, or the default.

    Args:
        storage: ``memory://``, ``sqlite:///path.db`` (or a path ending in ``.db``),
            ``postgresql://user:password@host/db``, a :class:`Storage` (returned as it
            is), or None: ``$TUNEFUL_STORAGE``, else ``sqlite:///tuneful.db``.
        read_only: only read (for listing, showing, exporting): no file or table is
            created, nothing is migrated and an SQLite file's journal mode is left alone;
            the file is opened ``mode=ro``, so a read-only file or folder works. A storage
            without tuneful's tables, or an SQLite file that does not exist, reads as empty
            (no studies; loading one is :class:`~tuneful.errors.StudyNotFoundError`). Every
            write raises :class:`~tuneful.errors.StorageError`.
        allow_foreign_tables: let tuneful add its tables to a database that already holds
            other tables (also ``TUNEFUL_ALLOW_FOREIGN_TABLES=1``). Without it, opening such a
            database to write, say Optuna's ``optuna.db``, is refused with a StorageError
            naming the tables: it is most likely a mistake.

    Raises:
        StorageError: the URL is malformed or its scheme unknown, the database cannot be
            opened, or it belongs to another application. No message shows the password.

    Example:
        >>> storage = open_storage("memory://")
        >>> storage.list_studies()
        []
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        storage = os.environ.get("TUNEFUL_STORAGE", DEFAULT_STORAGE)
    url = os.fspath(storage)
    if url in _MEMORY_FORMS:
        return MemoryStorage(read_only=read_only)
    from tuneful.storage.sql import SQLStorage  # SQLAlchemy is imported only when needed

    return SQLStorage(_sql_url(url), read_only=read_only, allow_foreign_tables=allow_foreign_tables)


def upgrade_storage(storage: str | os.PathLike[str]) -> tuple[int, int]:
    """Migrate a relational storage to this release's schema: (version found, version now).

    Raises:
        StorageError: not a relational storage, an SQLite file that does not exist, or the
            database cannot be reached.
    """
    url = _sql_url(os.fspath(storage))
    from tuneful.storage.sql import upgrade_schema

    return upgrade_schema(url)


def _sql_url(url: str) -> str:
    """A relational storage URL in SQLAlchemy's form (plain paths and ``postgres://``).

    Raises:
        StorageError: naming the URL (its password masked) and the forms expected.
    """
    from tuneful.storage.urls import redact_url

    shown = redact_url(url)
    if url in _MEMORY_FORMS:
        raise StorageError(f"storage {shown!r} lives in one process: it has no schema")
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if "://" in url else ""
    if not scheme:
        if url.endswith((".db", ".sqlite", ".sqlite3")):
            return "sqlite:///" + url
        raise StorageError(f"storage {shown!r} is not a URL: expected {_EXPECTED}")
    if scheme == "memory":
        raise StorageError(
            f"storage {shown!r}: memory storage takes no path or options: expected 'memory://'"
        )
    if scheme not in _SQL_SCHEMES:
        raise StorageError(
            f"storage {shown!r} has unknown scheme {scheme!r}: expected one of the schemes "
            f"memory, sqlite, postgresql ({_EXPECTED})"
        )
    if scheme == "postgres":
        url = "postgresql" + url[len("postgres") :]
    return url
