"""SQLite storage (``sqlite:///path.db``): one file that the processes of a machine share.

Every write is one short transaction that starts with ``BEGIN IMMEDIATE``, so writers queue
on the database lock instead of failing to upgrade a read lock (and no study row needs
locking); the database runs in WAL mode so readers never wait for writers, with
``synchronous=NORMAL``: a committed write survives the writing process being killed. The
file is watched: deleted or replaced while open is an error, not a silent loss.
"""

from __future__ import annotations

import os

import sqlalchemy as sa

from tuneful.errors import StorageError
from tuneful.storage.base import SCHEMA_VERSION, Storage
from tuneful.storage.sql import SQLLog
from tuneful.storage.sql_engine import SQLiteFile

__all__ = ["SQLiteLog", "SQLiteStorage", "upgrade_sqlite"]


class SQLiteLog(SQLLog):
    """The event log in an SQLite database (see :class:`~tuneful.storage.sql.SQLLog`)."""

    begin = "BEGIN IMMEDIATE"
    serialized = True

    def open_file(
        self, parsed: sa.engine.URL, *, read_only: bool, upgrade: bool
    ) -> SQLiteFile | None:
        if parsed.get_backend_name() != "sqlite":
            raise StorageError(f"storage {self._shown!r} is not an SQLite URL")
        database = parsed.database or ""
        if database in ("", ":memory:"):
            return None
        file = SQLiteFile(database)
        if not read_only:
            folder = os.path.dirname(file.path)
            if not os.path.isdir(folder):
                raise StorageError(f"storage URL {self._shown!r}: folder {folder!r} does not exist")
            if upgrade and not file.exists():
                raise StorageError(f"storage {self._shown!r}: {file.path} does not exist")
        return file


class SQLiteStorage(Storage):
    """Studies in an SQLite file (``sqlite:///path.db``, created on first use).

    Args:
        url: ``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``.
        read_only: only read: create no file, never change the journal mode or migrate (the
            file is opened ``mode=ro``, so a read-only file or folder works); a file without
            tuneful's tables, or none, reads as empty.
        options: ``busy_timeout``, ``upgrade``, ``allow_foreign_tables``
            (see :class:`~tuneful.storage.sql.SQLLog`).

    Example:
        >>> storage = SQLiteStorage("sqlite:///:memory:")
        >>> storage.create_study("s", directions=["minimize"], space=None, settings={}).name
        's'
    """

    log: SQLiteLog

    def __init__(self, url: str, *, read_only: bool = False, **options: object) -> None:
        super().__init__(SQLiteLog(url, read_only=read_only, **options))  # type: ignore[arg-type]


def upgrade_sqlite(url: str) -> tuple[int, int]:
    """Migrate the SQLite file at ``url`` to this release's layout: (found, now)."""
    log = SQLiteLog(url, upgrade=True)
    log.close()
    return log.found_version, SCHEMA_VERSION
