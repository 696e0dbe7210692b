"""Connecting to a relational storage: its URL checked, its engine made, and for SQLite the
file itself (opened read-only when asked, watched for being deleted or replaced, and what a
damaged file looks like).

Every message shows the URL through :func:`~tuneful.storage.urls.redact_url`, and text from
SQLAlchemy or a driver through :func:`~tuneful.storage.urls.scrub`: a password never leaves.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tuneful.errors import StorageError
from tuneful.storage.files import WatchedFile
from tuneful.storage.urls import redact_url, scrub

__all__ = ["SQLiteFile", "parse_url", "pick_driver", "make_engine", "failure_kind", "dumps"]

_TRANSIENT_MARKERS = ("database is locked", "database table is locked", "busy", "deadlock")

# PostgreSQL error codes worth a retry: serialization failure, deadlock, lock not available,
# too many connections, and the server shutting down, crashing or still starting.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"})


def dumps(value: Any) -> str:
    """JSON for a stored column: compact, and no NaN or infinity (not JSON)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def failure_kind(error: DBAPIError) -> str | None:
    """How a failed statement may be retried: ``"retry"`` (nothing was written),
    ``"lost"`` (the connection was lost: the write may have committed), or None (do not
    retry: the error is the caller's)."""
    if error.connection_invalidated:
        return "lost"
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate is not None:
        if sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03"):
            return "lost"
        return "retry" if sqlstate in _RETRY_SQLSTATES else None
    text = str(error.orig if error.orig is not None else error).lower()
    if any(marker in text for marker in _TRANSIENT_MARKERS):
        return "retry"
    if not isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return None
    module = type(error.orig).__module__ if error.orig is not None else ""
    # psycopg reports a refused or dropped connection without an error code.
    return "lost" if module.startswith("psycopg") else None


_URL_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user@host:port/db"
)


def parse_url(url: str) -> sa.engine.URL:
    """The SQLAlchemy URL of an SQLite or PostgreSQL storage.

    Raises:
        StorageError: naming the (redacted) URL and the form expected: an unparsable URL,
            a port that is not a number, an SQLite URL with a user, password or host, or
            another database.
    """
    shown = redact_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except ValueError as exc:  # sa.exc.ArgumentError is a ValueError too
        if "int()" in str(exc):
            reason = "its port is not a number"
        else:
            reason = scrub(str(exc), url).splitlines()[0]
        raise StorageError(
            f"storage URL {shown!r} is not a database URL ({reason}): expected {_URL_FORMS}"
        ) from None
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise StorageError(
            f"storage URL {shown!r}: port {parsed.port} is out of range: expected 1 to 65535"
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.username or parsed.password or parsed.host or parsed.port:
            raise StorageError(
                f"storage URL {shown!r}: an SQLite URL names a file, not a user, password or "
                "host: expected sqlite:///relative/path.db (three slashes) or "
                "sqlite:////absolute/path.db"
            )
    elif backend != "postgresql":
        raise StorageError(
            f"storage URL {shown!r}: {backend!r} databases are not supported: expected {_URL_FORMS}"
        )
    return parsed


def pick_driver(url: sa.engine.URL) -> sa.engine.URL:
    """``postgresql://`` means psycopg 3 (SQLAlchemy's own default is psycopg2)."""
    if url.get_backend_name() != "postgresql":
        return url
    if url.get_driver_name() in ("psycopg2", "psycopg") and "+" not in url.drivername:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            shown = redact_url(url.render_as_string(hide_password=False))
            raise StorageError(
                f"storage {shown!r}: PostgreSQL needs psycopg 3: pip install 'tuneful[postgres]'"
            ) from None
        return url.set(drivername="postgresql+psycopg")
    return url


class SQLiteFile(WatchedFile):
    """The file of an SQLite storage (see :class:`~tuneful.storage.files.WatchedFile`)."""

    def connect_read_only(self, timeout: float) -> sqlite3.Connection:
        """A connection that cannot write (``mode=ro``): works on a read-only file or folder.

        A WAL-mode file in a folder this process cannot write is opened ``immutable`` (SQLite
        cannot create the shared-memory file it reads WAL through); it is then read as it was.
        """
        uri = f"file:{quote(self.path)}?mode=ro"
        connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        except sqlite3.OperationalError:
            connection.close()
            if os.access(os.path.dirname(self.path), os.W_OK):
                raise
            uri += "&immutable=1"
            connection = sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
        return connection

    def enable_wal(self, engine: Engine) -> None:
        """Switch the file to WAL mode (kept in the file), so readers never wait for writers.

        Done once the file is known to be tuneful's, never on a file only read. Switching
        needs a moment of exclusive access: processes opening a new file at once may wait.
        """
        for attempt in range(200):
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                return
            except sa.exc.OperationalError:
                if attempt == 199:
                    raise
                time.sleep(0.05)

    def damage(self, message: str) -> str | None:
        """One line saying the file is damaged or read-only, when SQLite's ``message`` says
        so; else None."""
        lowered = message.lower()
        if "file is not a database" in lowered:
            return (
                f"storage file {self.path} is not an SQLite database (damaged, encrypted or "
                "another kind of file): point --storage at a tuneful database"
            )
        if "malformed" in lowered or "disk image" in lowered or "corrupt" in lowered:
            return (
                f"storage file {self.path} is damaged ({message}): restore it from a backup, "
                f"or try `sqlite3 {self.path} .recover`"
            )
        if "readonly database" in lowered:
            return (
                f"cannot write storage file {self.path}: the file or its folder is read-only "
                "(to only read it, open it with open_storage(url, read_only=True))"
            )
        return None


def make_engine(
    parsed: sa.engine.URL,
    url: str,
    *,
    file: SQLiteFile | None,
    read_only: bool,
    busy_timeout: float,
    pool_size: int,
) -> Engine:
    """The engine of a storage: every connection in autocommit mode (writes open their own
    transactions); SQLite's waits ``busy_timeout`` on a locked file; PostgreSQL's pooled."""
    if parsed.get_backend_name() == "sqlite":
        options: dict[str, Any] = {
            "isolation_level": "AUTOCOMMIT",  # writes issue BEGIN IMMEDIATE themselves
            "connect_args": {"timeout": busy_timeout, "check_same_thread": False},
        }
        if file is None:
            options["poolclass"] = sa.pool.StaticPool  # one in-memory database
        elif read_only:
            options["creator"] = lambda: file.connect_read_only(busy_timeout)
            parsed = sa.engine.make_url("sqlite://")
        engine = sa.create_engine(parsed, **options)
        busy_ms = int(busy_timeout * 1000)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    parsed = pick_driver(parsed)
    try:
        return sa.create_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_recycle=1800,
            isolation_level="AUTOCOMMIT",  # writes open their own transactions
            connect_args={"connect_timeout": 10},
        )
    except Exception as exc:  # a missing driver, typically
        driver = parsed.get_driver_name()
        raise StorageError(
            f"cannot open storage {redact_url(url)!r}: its driver {driver!r} cannot be loaded "
            f"({scrub(str(exc), url)}): install it, or use postgresql:// "
            "(psycopg 3: pip install 'tuneful[postgres]')"
        ) from None
