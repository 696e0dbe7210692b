"""Relational storage through SQLAlchemy Core: SQLite and PostgreSQL on one schema.

Layout (schema version :data:`~tuneful.storage.base.SCHEMA_VERSION`):

- ``tuneful_meta`` (key, value): the schema version.
- ``tuneful_studies``: one row per study, with ``next_number``, the trial-number counter.
- ``tuneful_trials``: the trial index used for concurrency control (state, heartbeat).
- ``tuneful_events``: the append-only log that trials are replayed from; ``token`` marks
  the events of one write (see below).

Every write is one short transaction. On SQLite it starts with ``BEGIN IMMEDIATE`` so
writers queue on the database lock instead of failing to upgrade a read lock, and the
database runs in WAL mode so readers never wait for writers; a committed write survives the
writing process being killed.

On PostgreSQL (psycopg 3, ``pip install 'tuneful[postgres]'``) connections come from a pool,
and every write first locks its study's row, so that a study's events commit in the order of
their ids (an incremental reader never finds a smaller id appear after a larger one).
Transient failures are retried until ``busy_timeout``: serialization failures and deadlocks,
and lost connections (a server restart, a dropped link). A connection lost while committing
leaves the writer unsure whether its write landed; each write therefore tags its events with
a random token, and its retry first looks the token up: found, the write had landed and is
not repeated, so no event is ever written twice or lost.

Older layouts are upgraded by ``tuneful db upgrade`` (:func:`upgrade_schema`); opening one
otherwise is a :class:`~tuneful.errors.SchemaVersionError` that says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from tuneful.errors import (
    CorruptDataWarning,
    DuplicateStudyError,
    SchemaVersionError,
    StorageError,
    StudyNotFoundError,
    TrialError,
)
from tuneful.records import TrialState
from tuneful.storage.base import (
    SCHEMA_VERSION,
    Event,
    SkippedEvent,
    Storage,
    StudyInfo,
    check_limit,
    check_study_name,
    stale_reason,
)
from tuneful.storage.replay import retry_of
from tuneful.storage.sql_engine import SQLiteFile, make_engine, parse_url, pick_driver
from tuneful.storage.sql_schema import (
    PG_APPEND,
    PG_CREATE,
    PG_FINISH,
    PG_READ_EVENTS,
    SQL_BUMP_NUMBER,
    SQL_FIND_TOKEN,
    SQL_FINISH,
    SQL_INSERT_EVENT,
    SQL_INSERT_TRIAL,
    SQL_LOCK_STUDY,
    SQL_LOCK_STUDY_FOR_UPDATE,
    SQL_READ_EVENTS,
    SQL_TRIAL_EVENTS,
    SQL_TRIAL_STATE,
    events_table,
    meta_table,
    metadata,
    migrate,
    studies_table,
    trials_table,
)
from tuneful.storage.urls import redact_url, scrub

__all__ = ["SQLStorage", "upgrade_schema"]

T = TypeVar("T")

_TRANSIENT_MARKERS = ("database is locked", "database table is locked", "busy", "deadlock")

# PostgreSQL error codes worth a retry: serialization failure, deadlock, lock not available,
# too many connections, and the server shutting down, crashing or still starting.
_RETRY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"})


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _failure(error: DBAPIError) -> str | None:
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


def _landed_number(number: int | None) -> int:
    if number is None:  # pragma: no cover - a trial's first event always has its number
        raise StorageError("a landed write has no trial number")
    return number


_pick_driver = pick_driver  # the name the test suite knows


def upgrade_schema(url: str) -> tuple[int, int]:
    """Migrate the database at ``url`` to this release's layout; returns (found, now).

    Safe to run again (a current schema is left alone) and from several processes at once
    (on PostgreSQL the upgrade holds a lock). Workers of an older release must be stopped:
    they refuse a newer schema when they next open the storage, not while they run.
    """
    storage = SQLStorage(url, upgrade=True)
    storage.close()
    return storage.found_version, SCHEMA_VERSION


def _allowed_by_environment() -> bool:
    return os.environ.get(ALLOW_FOREIGN_TABLES_ENV, "").strip().lower() in ("1", "true", "yes")


#: Set to 1 to let tuneful add its tables to a database that holds other tables.
ALLOW_FOREIGN_TABLES_ENV = "TUNEFUL_ALLOW_FOREIGN_TABLES"


class SQLStorage(Storage):
    """Storage in a relational database named by an SQLAlchemy URL.

    Args:
        url: ``sqlite:///path/to/file.db`` (created on first use) or
            ``postgresql://user:password@host:port/database`` (the database must exist; the
            tables are created on first use).
        busy_timeout: seconds a write keeps retrying while the database is locked, busy or
            unreachable before it fails with :class:`~tuneful.errors.StorageError`.
        pool_size: connections kept open per process (PostgreSQL).
        upgrade: migrate an older schema to this release's instead of refusing it.
        read_only: only read: create no file and no table, never change the journal mode
            or migrate (an SQLite file is opened ``mode=ro``, so a read-only file or folder
            works). A database without tuneful's tables (or an SQLite file that does not
            exist) reads as an empty storage; every write raises
            :class:`~tuneful.errors.StorageError`.
        allow_foreign_tables: add tuneful's tables to a database that already holds other
            tables. Without it (or ``TUNEFUL_ALLOW_FOREIGN_TABLES=1``) opening such a
            database to write is refused: it is most likely another application's (say,
            Optuna's ``optuna.db``). A database that already has tuneful's tables is opened
            whatever else it holds.

    Raises:
        StorageError: a malformed URL, a missing folder or driver, a database that cannot be
            reached, a damaged file, or another application's database (see above).
        SchemaVersionError: the layout is older or newer than this release's.

    Example:
        >>> storage = SQLStorage("sqlite:///:memory:")
        >>> storage.create_study("s", directions=["minimize"], space=None, settings={}).name
        's'
    """

    def __init__(
        self,
        url: str,
        *,
        busy_timeout: float = 60.0,
        pool_size: int = 4,
        upgrade: bool = False,
        read_only: bool = False,
        allow_foreign_tables: bool = False,
    ) -> None:
        self.url = url
        self.read_only = read_only
        self._shown = redact_url(url)
        self._pid = os.getpid()
        self._busy_timeout = busy_timeout
        self._writing = threading.local()  # .token: the write this thread is running
        self._has_tables = not read_only  # a read-only storage looks on each read until found
        #: The schema version found when opening (before any upgrade); 0 while a read-only
        #: storage has found no tuneful tables.
        self.found_version = 0
        if read_only and upgrade:
            raise StorageError(f"storage {self._shown!r}: cannot upgrade it read-only")
        parsed = parse_url(url)
        self._is_sqlite = parsed.get_backend_name() == "sqlite"
        database = (parsed.database or "") if self._is_sqlite else ""
        self._file = SQLiteFile(database) if database not in ("", ":memory:") else None
        if self._file is not None and not read_only:
            folder = os.path.dirname(self._file.path)
            if not os.path.isdir(folder):
                raise StorageError(f"storage URL {self._shown!r}: folder {folder!r} does not exist")
            if upgrade and not self._file.exists():
                raise StorageError(f"storage {self._shown!r}: {self._file.path} does not exist")
        self._engine = make_engine(
            parsed,
            url,
            file=self._file,
            read_only=read_only,
            busy_timeout=busy_timeout,
            pool_size=pool_size,
        )
        try:
            if read_only:
                self._tables_found()
            else:
                allow = allow_foreign_tables or _allowed_by_environment()
                self.found_version = self._ensure_schema(upgrade=upgrade, allow_foreign=allow)
        except BaseException:
            self._engine.dispose()
            raise

    def _check_fork(self) -> None:
        # Connections must not cross a fork: a child process gets a fresh pool.
        if os.getpid() != self._pid:
            self._engine.dispose(close=False)
            self._pid = os.getpid()

    def _token(self) -> str | None:
        return getattr(self._writing, "token", None)

    def _read(self, work: Callable[[Connection], T], *, patience: float | None = None) -> T:
        """Run ``work`` on a connection outside any write transaction."""
        return self._run(work, write=False, patience=patience)

    def _write(
        self,
        work: Callable[[Connection], T],
        landed: Callable[[int | None], T] | None = None,
        *,
        single: bool = False,
        patience: float | None = None,
    ) -> T:
        """Run ``work`` in one write transaction.

        ``landed`` gives the result of a write that a lost connection hid: called with the
        trial number of its first event when a retry finds that the write had committed.
        ``single``: on PostgreSQL, ``work`` is one statement, atomic by itself, and runs
        without BEGIN and COMMIT (one round trip instead of three). ``patience``: seconds
        to keep retrying (default ``busy_timeout``).
        """
        self.check_writable("write")
        return self._run(work, write=True, landed=landed, single=single, patience=patience)

    def _run(
        self,
        work: Callable[[Connection], T],
        *,
        write: bool,
        landed: Callable[[int | None], T] | None = None,
        single: bool = False,
        patience: float | None = None,
    ) -> T:
        """Run ``work``, retrying while the database is busy, locked or unreachable.

        Connections are in autocommit mode: a read is one statement, and a write opens its
        own transaction (``BEGIN IMMEDIATE`` on SQLite, which takes the write lock at once).
        An SQLite file is checked to be the one opened before and after: a write that went
        to a file deleted meanwhile is an error, not a silent loss.
        """
        self._check_fork()
        if self._file is not None:
            self._file.check()
        delay = 0.005
        deadline = time.monotonic() + (self._busy_timeout if patience is None else patience)
        token = uuid.uuid4().hex if write and not self._is_sqlite else None
        unsure = False  # a previous attempt may have committed
        while True:
            try:
                with self._engine.connect() as conn:
                    if not write:
                        return work(conn)
                    if unsure:
                        row = conn.execute(SQL_FIND_TOKEN, {"token": token}).first()
                        if row is not None:  # it had landed: do not write it again
                            return landed(row[0]) if landed is not None else None  # type: ignore[return-value]
                    if single and not self._is_sqlite:
                        return self._tagged(work, conn, token)
                    conn.exec_driver_sql("BEGIN IMMEDIATE" if self._is_sqlite else "BEGIN")
                    try:
                        result = self._tagged(work, conn, token)
                    except BaseException:
                        with contextlib.suppress(DBAPIError):  # the connection may be gone
                            conn.exec_driver_sql("ROLLBACK")
                        raise
                    conn.exec_driver_sql("COMMIT")
                if self._file is not None:
                    self._file.check()
                return result
            except DBAPIError as exc:
                failure = _failure(exc)
                if failure is None or time.monotonic() > deadline:
                    raise self._error(exc, "write" if write else "read") from None
                unsure = unsure or failure == "lost"
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 0.5)
            except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
                raise self._error(exc, "write" if write else "read") from None

    def _error(self, exc: Exception, action: str) -> StorageError:
        """The one-line :class:`StorageError` for a database error (password scrubbed)."""
        original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        text = " ".join(scrub(str(original), self.url).split())
        damage = self._file.damage(text) if self._file is not None else None
        return StorageError(damage or f"cannot {action} storage {self._shown!r}: {text}")

    def _tagged(self, work: Callable[[Connection], T], conn: Connection, token: str | None) -> T:
        """``work`` with its events tagged by ``token``."""
        self._writing.token = token
        try:
            return work(conn)
        finally:
            self._writing.token = None

    def _check_version(self, version: int, *, upgrade: bool) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"storage {self._shown!r} has schema version {version}, newer than this "
                f"release reads ({SCHEMA_VERSION}): upgrade tuneful"
            )
        if version < SCHEMA_VERSION and not upgrade:
            raise SchemaVersionError(
                f"storage {self._shown!r} has schema version {version}, older than this "
                f"release's ({SCHEMA_VERSION}): run `tuneful db upgrade --storage URL` once "
                "(stop the workers of older releases first)"
            )

    @staticmethod
    def _stored_version(conn: Connection) -> int:
        row = conn.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).first()
        return int(row[0]) if row is not None else 0

    def _refuse_foreign_tables(self, conn: Connection) -> None:
        """Refuse to add tuneful's tables beside another application's."""
        foreign = sorted(set(sa.inspect(conn).get_table_names()) - set(metadata.tables))
        if not foreign:
            return
        listed = ", ".join(foreign[:8]) + (
            f" and {len(foreign) - 8} more" if len(foreign) > 8 else ""
        )
        raise StorageError(
            f"storage {self._shown!r} holds tables that are not tuneful's ({listed}): it looks "
            "like another application's database, and tuneful will not add its tables to it. "
            "Point --storage at a database of its own (say sqlite:///tuneful.db); to use this "
            "one anyway, pass open_storage(url, allow_foreign_tables=True) or set "
            f"{ALLOW_FOREIGN_TABLES_ENV}=1"
        )

    def _ensure_schema(self, *, upgrade: bool, allow_foreign: bool) -> int:
        """Create the tables when missing; check (or upgrade) the layout's version."""

        def create(conn: Connection) -> int:
            if not self._is_sqlite:  # concurrent first opens must not race on CREATE TABLE
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7262707)"))
            if not sa.inspect(conn).has_table(meta_table.name):
                if not allow_foreign:
                    self._refuse_foreign_tables(conn)
                metadata.create_all(conn, checkfirst=True)
                conn.execute(
                    meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION))
                )
                return SCHEMA_VERSION
            version = self._stored_version(conn)
            if version < SCHEMA_VERSION and upgrade:
                migrate(conn, version)
            return version

        try:
            # A server that cannot be reached when the storage is opened is more likely a
            # wrong URL than a restart: say so after a few seconds, not after busy_timeout.
            version = self._write(create, patience=min(self._busy_timeout, 5.0))
            if self._file is not None:
                self._file.enable_wal(self._engine)
        except StorageError as exc:  # say what was being done: opening it
            raise StorageError(str(exc).replace("cannot write", "cannot open", 1)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc, "open") from None
        if self._file is not None:
            self._file.remember()
        self._check_version(version, upgrade=upgrade)
        return version

    def _tables_found(self) -> bool:
        """Whether tuneful's tables exist (a read-only storage looks until they do)."""
        if self._has_tables:
            return True
        if self._file is not None and not self._file.exists():
            return False

        def look(conn: Connection) -> int | None:
            if not sa.inspect(conn).has_table(meta_table.name):
                return None
            return self._stored_version(conn)

        try:
            # As when opening to write: an unreachable server is more likely a wrong URL.
            version = self._read(look, patience=min(self._busy_timeout, 5.0))
        except StorageError as exc:
            raise StorageError(str(exc).replace("cannot read", "cannot open", 1)) from None
        if version is None:
            return False
        self._check_version(version, upgrade=False)
        if self._file is not None:
            self._file.remember()
        self.found_version = version
        self._has_tables = True
        return True

    def close(self) -> None:
        self._engine.dispose()

    # -- studies -------------------------------------------------------------------------
    def _info(self, row: Any) -> StudyInfo:
        try:
            return StudyInfo(
                id=row.id,
                name=row.name,
                directions=tuple(json.loads(row.directions)),
                space=None if row.space is None else json.loads(row.space),
                settings=dict(json.loads(row.settings)),
                created_at=float(row.created_at),
            )
        except (TypeError, ValueError) as exc:
            raise StorageError(
                f"study {row.name!r} (id {row.id}) in {self._shown} is damaged: its stored "
                f"directions, space or settings cannot be read ({exc})"
            ) from None

    def create_study(
        self,
        name: str,
        *,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo:
        check_study_name(name)

        def insert(conn: Connection) -> StudyInfo:
            token = self._token()
            taken = conn.execute(
                sa.select(studies_table).where(studies_table.c.name == name)
            ).first()
            if taken is not None and token is not None and taken.token == token:
                return self._info(taken)  # this very write, landed before a lost connection
            if taken is not None:
                raise DuplicateStudyError(
                    f"a study named {name!r} already exists in {self._shown}; "
                    "load it with load_study or pass load_if_exists=True"
                )
            try:
                conn.execute(
                    studies_table.insert().values(
                        name=name,
                        directions=_dumps(list(directions)),
                        space=None if space is None else _dumps(space),
                        settings=_dumps(dict(settings)),
                        created_at=time.time(),
                        next_number=0,
                        token=token,
                    )
                )
            except IntegrityError:  # created by another process since the look above
                raise DuplicateStudyError(
                    f"a study named {name!r} already exists in {self._shown}"
                ) from None
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).one()
            return self._info(row)

        return self._write(insert)

    def _unstorable(self, name: str) -> bool:
        """Whether no study can have this name here (PostgreSQL text holds no NUL)."""
        return not self._is_sqlite and "\x00" in name

    def get_study(self, name: str) -> StudyInfo:
        if not self._tables_found() or self._unstorable(name):
            raise StudyNotFoundError(f"no study named {name!r} in {self._shown}")
        query = sa.select(studies_table).where(studies_table.c.name == name)
        row = self._read(lambda conn: conn.execute(query).first())
        if row is None:
            raise StudyNotFoundError(f"no study named {name!r} in {self._shown}")
        return self._info(row)

    def delete_study(self, name: str) -> None:
        self.check_writable("delete a study")
        if self._unstorable(name):
            raise StudyNotFoundError(f"no study named {name!r} in {self._shown}")

        def delete(conn: Connection) -> None:
            row = conn.execute(
                sa.select(studies_table.c.id).where(studies_table.c.name == name)
            ).first()
            if row is None:
                raise StudyNotFoundError(f"no study named {name!r} in {self._shown}")
            conn.execute(events_table.delete().where(events_table.c.study_id == row.id))
            conn.execute(trials_table.delete().where(trials_table.c.study_id == row.id))
            conn.execute(studies_table.delete().where(studies_table.c.id == row.id))

        self._write(delete)

    def list_studies(self) -> list[StudyInfo]:
        """All studies, oldest first; a damaged study row is left out with a warning."""
        if not self._tables_found():
            return []
        query = sa.select(studies_table).order_by(studies_table.c.id)
        rows = self._read(lambda conn: conn.execute(query).all())
        studies = []
        for row in rows:
            try:
                studies.append(self._info(row))
            except StorageError as exc:
                warnings.warn(f"{exc}; left out of the list", CorruptDataWarning, stacklevel=2)
        return studies

    def count_trials(self, study_id: int) -> dict[str, int]:
        if not self._tables_found():
            return {}
        query = (
            sa.select(trials_table.c.state, sa.func.count())
            .where(trials_table.c.study_id == study_id)
            .group_by(trials_table.c.state)
        )
        rows = self._read(lambda conn: conn.execute(query).all())
        return {state: int(count) for state, count in rows}

    # -- trials --------------------------------------------------------------------------
    def _log(
        self, conn: Connection, study_id: int, number: int | None, kind: str, payload: Any
    ) -> None:
        conn.execute(
            SQL_INSERT_EVENT,
            {
                "study_id": study_id,
                "number": number,
                "kind": kind,
                "payload": _dumps(payload),
                "time": time.time(),
                "token": self._token(),
            },
        )

    def _lock_study(self, conn: Connection, study_id: int) -> int:
        """Take the study's row (serializing its writers) and return its next trial number.

        On SQLite, ``BEGIN IMMEDIATE`` already holds the database's write lock; on other
        databases the row lock orders a study's events by commit, so that a reader that saw
        event id N never later finds a smaller id appear.
        """
        statement = SQL_LOCK_STUDY if self._is_sqlite else SQL_LOCK_STUDY_FOR_UPDATE
        row = conn.execute(statement, {"study_id": study_id}).first()
        if row is None:
            raise StudyNotFoundError(f"no study with id {study_id} in {self._shown} (deleted?)")
        return int(row[0])

    def _create(
        self, conn: Connection, study_id: int, payload: Mapping[str, Any], monitored: bool
    ) -> int:
        number = self._lock_study(conn, study_id)
        conn.execute(SQL_BUMP_NUMBER, {"study_id": study_id})
        conn.execute(
            SQL_INSERT_TRIAL,
            {
                "study_id": study_id,
                "number": number,
                "state": payload["state"],
                "heartbeat_at": time.time() if monitored else None,
            },
        )
        self._log(conn, study_id, number, "created", payload)
        return number

    def create_trial(
        self,
        study_id: int,
        *,
        state: TrialState,
        params: Mapping[str, Any] | None = None,
        system_attrs: Mapping[str, Any] | None = None,
        user_attrs: Mapping[str, Any] | None = None,
        worker: str | None = None,
        monitored: bool = False,
        expected_number: int | None = None,
        limit: int | None = None,
    ) -> int:
        payload: dict[str, Any] = {"state": state.value, "worker": worker}
        if system_attrs:
            payload["system_attrs"] = dict(system_attrs)
        if user_attrs:
            payload["user_attrs"] = dict(user_attrs)

        if not self._is_sqlite:
            return self._create_one_statement(
                study_id, payload, params, monitored, expected_number, limit
            )

        def create(conn: Connection) -> int:
            next_number = self._lock_study(conn, study_id)
            check_limit(next_number, limit)
            if params and expected_number in (None, next_number):
                payload["params"] = dict(params)
            return self._create(conn, study_id, payload, monitored)

        return self._write(create, landed=_landed_number)

    def _create_one_statement(
        self,
        study_id: int,
        payload: dict[str, Any],
        params: Mapping[str, Any] | None,
        monitored: bool,
        expected_number: int | None,
        limit: int | None,
    ) -> int:
        # The parameters are kept only with the number they were drafted for (if any).
        drafted = _dumps({**payload, "params": dict(params)}) if params else _dumps(payload)
        bare = drafted if expected_number is None else _dumps(payload)

        def create(conn: Connection) -> int:
            rows = self._pg(
                conn,
                PG_CREATE,
                {
                    "study_id": study_id,
                    "limit": limit,
                    "state": payload["state"],
                    "heartbeat_at": time.time() if monitored else None,
                    "expected": expected_number,
                    "drafted": drafted,
                    "payload": bare,
                    "time": time.time(),
                    "token": self._token(),
                },
            )
            if rows:
                return int(rows[0][0])
            check_limit(self._lock_study(conn, study_id), limit)  # raises when it was the limit
            raise StudyNotFoundError(f"no study with id {study_id} in {self._shown}")

        return self._write(create, landed=_landed_number, single=True)

    def claim_trial(self, study_id: int, *, worker: str, monitored: bool = False) -> int | None:
        def claim(conn: Connection) -> int | None:
            self._lock_study(conn, study_id)
            row = conn.execute(
                sa.select(trials_table.c.number)
                .where(trials_table.c.study_id == study_id)
                .where(trials_table.c.state == TrialState.WAITING.value)
                .order_by(trials_table.c.number)
                .limit(1)
            ).first()
            if row is None:
                return None
            number = int(row[0])
            conn.execute(
                trials_table.update()
                .where(trials_table.c.study_id == study_id)
                .where(trials_table.c.number == number)
                .values(
                    state=TrialState.RUNNING.value,
                    heartbeat_at=time.time() if monitored else None,
                )
            )
            self._log(conn, study_id, number, "started", {"worker": worker})
            return number

        return self._write(claim, landed=lambda number: number)

    def _state_error(self, conn: Connection, study_id: int, number: int, action: str) -> TrialError:
        row = conn.execute(SQL_TRIAL_STATE, {"study_id": study_id, "number": number}).first()
        if row is None:
            return TrialError(f"study id {study_id} has no trial number {number}")
        if row[0] == TrialState.RUNNING.value:
            return TrialError(f"trial {number} is RUNNING but could not {action}")
        return TrialError(f"trial {number} is already {row[0]}, not RUNNING: cannot {action}")

    def append(self, study_id: int, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        if not self._is_sqlite:
            return self._one_statement(
                PG_APPEND, study_id, number, f"record {kind!r}", kind=kind, payload=payload
            )

        def add(conn: Connection) -> None:
            row = conn.execute(SQL_TRIAL_STATE, {"study_id": study_id, "number": number}).first()
            if row is None or row[0] != TrialState.RUNNING.value:
                raise self._state_error(conn, study_id, number, f"record {kind!r}")
            self._log(conn, study_id, number, kind, dict(payload))

        self._write(add)

    def finish_trial(
        self,
        study_id: int,
        number: int,
        *,
        state: TrialState,
        values: Sequence[float] | None = None,
        error: str | None = None,
    ) -> None:
        payload = {
            "state": state.value,
            "values": None if values is None else list(values),
            "error": error,
        }

        if not self._is_sqlite:
            return self._one_statement(
                PG_FINISH, study_id, number, "finish it again", state=state.value, payload=payload
            )

        def finish(conn: Connection) -> None:
            changed = conn.execute(
                SQL_FINISH, {"state": state.value, "study_id": study_id, "number": number}
            ).rowcount
            if changed != 1:
                raise self._state_error(conn, study_id, number, "finish it again")
            self._log(conn, study_id, number, "finished", payload)

        self._write(finish)

    def _one_statement(
        self,
        statement: str,
        study_id: int,
        number: int,
        action: str,
        payload: Mapping[str, Any],
        **values: Any,
    ) -> None:
        """Run a one-statement trial write (PostgreSQL); a trial not RUNNING is an error."""
        text = _dumps(dict(payload))

        def write(conn: Connection) -> None:
            parameters = {"study_id": study_id, "number": number, "payload": text}
            parameters.update(values, time=time.time(), token=self._token())
            if not self._pg(conn, statement, parameters):
                raise self._state_error(conn, study_id, number, action)

        self._write(write, single=True)

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        def add(conn: Connection) -> None:
            self._lock_study(conn, study_id)
            self._log(conn, study_id, None, "study_attr", {"key": key, "value": value})

        self._write(add)

    def _events(self, study_id: int, rows: Sequence[Any]) -> list[Event]:
        """Events of rows (id, number, kind, payload, time); a row that cannot be decoded is
        left out and recorded (:meth:`~tuneful.storage.base.Storage.skipped_events`)."""
        events = []
        for row in rows:
            try:
                payload = json.loads(row[3])
                if not isinstance(payload, dict):
                    raise ValueError(f"a JSON {type(payload).__name__}, not an object")
                events.append(Event(row[0], row[1], str(row[2]), payload, float(row[4])))
            except (TypeError, ValueError) as exc:
                reason = f"its payload or time cannot be read ({exc})"
                self._skip(SkippedEvent(row[0], study_id, row[1], str(row[2]), reason))
        return events

    def read_events(self, study_id: int, after: int = 0) -> list[Event]:
        if not self._tables_found():
            return []
        parameters = {"study_id": study_id, "after": after}
        if self._is_sqlite:
            rows = self._read(lambda conn: conn.execute(SQL_READ_EVENTS, parameters).all())
        else:
            rows = self._read(lambda conn: self._pg(conn, PG_READ_EVENTS, parameters))
        return self._events(study_id, rows)

    @staticmethod
    def _pg(conn: Connection, statement: str, parameters: Mapping[str, Any]) -> list[Any]:
        """Run a hot statement on the psycopg connection under ``conn``; its rows.

        Errors come back wrapped as SQLAlchemy's (so ``_run`` sorts them as any other), and a
        connection psycopg found broken is dropped from the pool.
        """
        import psycopg

        raw = conn.connection.driver_connection
        assert raw is not None
        try:
            cursor = raw.execute(statement, parameters, prepare=True)
            return cursor.fetchall()  # every hot statement returns rows (RETURNING, SELECT)
        except psycopg.Error as exc:
            lost = bool(raw.broken or raw.closed)
            if lost:
                conn.invalidate()
            raise DBAPIError.instance(
                statement, dict(parameters), exc, psycopg.Error, connection_invalidated=lost
            ) from exc

    # -- liveness ------------------------------------------------------------------------
    def heartbeat(self, study_id: int, numbers: Sequence[int]) -> None:
        if not numbers:
            return
        now = time.time()

        def beat(conn: Connection) -> None:
            conn.execute(
                trials_table.update()
                .where(trials_table.c.study_id == study_id)
                .where(trials_table.c.number.in_(list(numbers)))
                .where(trials_table.c.state == TrialState.RUNNING.value)
                .where(trials_table.c.heartbeat_at.is_not(None))
                .values(heartbeat_at=now)
            )

        self._write(beat)

    def fail_stale_trials(self, study_id: int, *, grace: float, retries: int) -> list[int]:
        stale_query = (
            sa.select(trials_table.c.number)
            .where(trials_table.c.study_id == study_id)
            .where(trials_table.c.state == TrialState.RUNNING.value)
        )
        # Cheap read first: most of the time nothing is stale and no write lock is taken.
        cutoff = time.time() - grace
        probe = stale_query.where(trials_table.c.heartbeat_at < cutoff)
        if self._read(lambda conn: conn.execute(probe).first()) is None:
            return []

        def fail(conn: Connection) -> list[int]:
            self._lock_study(conn, study_id)
            cutoff = time.time() - grace
            numbers = [
                int(r[0])
                for r in conn.execute(
                    stale_query.where(trials_table.c.heartbeat_at < cutoff).order_by(
                        trials_table.c.number
                    )
                ).all()
            ]
            for number in numbers:
                self._fail(conn, study_id, number, stale_reason(grace), retries)
            return numbers

        return self._write(fail)

    def fail_trial(self, study_id: int, number: int, *, error: str, retries: int) -> bool:
        def fail(conn: Connection) -> bool:
            self._lock_study(conn, study_id)
            row = conn.execute(SQL_TRIAL_STATE, {"study_id": study_id, "number": number}).first()
            if row is None:
                raise TrialError(f"study id {study_id} has no trial number {number}")
            if row[0] != TrialState.RUNNING.value:
                return False
            self._fail(conn, study_id, number, error, retries)
            return True

        return self._write(fail, landed=lambda _number: True)

    def _fail(self, conn: Connection, study_id: int, number: int, error: str, retries: int) -> None:
        """Fail a RUNNING trial and re-enqueue it per ``retries`` (the caller holds the lock)."""
        conn.execute(
            trials_table.update()
            .where(trials_table.c.study_id == study_id)
            .where(trials_table.c.number == number)
            .values(state=TrialState.FAIL.value)
        )
        self._log(
            conn, study_id, number, "finished", {"state": "FAIL", "values": None, "error": error}
        )
        rows = conn.execute(SQL_TRIAL_EVENTS, {"study_id": study_id, "number": number}).all()
        retry = retry_of(number, self._events(study_id, rows), retries)
        if retry is not None:
            self._create(conn, study_id, retry, False)
