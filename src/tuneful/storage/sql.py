"""Relational event logs through SQLAlchemy Core: what SQLite and PostgreSQL share.

Layout (schema version :data:`~tuneful.storage.base.SCHEMA_VERSION`):

- ``tuneful_meta`` (key, value): the schema version.
- ``tuneful_studies``: one row per study, with ``next_number``, the trial-number counter.
- ``tuneful_trials``: the trial index used for concurrency control (state, heartbeat).
- ``tuneful_events``: the append-only log that trials are replayed from; ``token`` marks
  the events of one write (see below).

Every write is one short transaction, retried until ``busy_timeout`` while the database is
locked, busy or unreachable. A backend whose connection can be lost while committing
(PostgreSQL) tags each write's events with a random token, and a retry first looks the token
up: found, the write had landed and is not repeated, so no event is written twice or lost.

:class:`SQLLog` implements the :class:`~tuneful.storage.log.EventLog` primitive with one
transaction per write; :mod:`tuneful.storage.sqlite` and :mod:`tuneful.storage.postgresql`
set what differs (how a write begins, whether writes carry tokens, PostgreSQL's one-statement
hot writes).

Older layouts are upgraded by ``tuneful db upgrade`` (``upgrade=True``); opening one
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

from tuneful.errors import CorruptDataWarning, StorageError, StudyNotFoundError
from tuneful.records import TrialState
from tuneful.storage.log import NEW, OLDEST, Entry, Event, LogBase, SkippedEvent, StudyInfo
from tuneful.storage.sql_engine import (
    SQLiteFile,
    dumps,
    failure_kind,
    make_engine,
    parse_url,
)
from tuneful.storage.sql_schema import (
    ALLOW_FOREIGN_TABLES_ENV,
    SQL_BUMP_NUMBER,
    SQL_FIND_TOKEN,
    SQL_INSERT_EVENT,
    SQL_INSERT_TRIAL,
    SQL_LOCK_STUDY,
    SQL_OLDEST,
    SQL_READ_EVENTS,
    SQL_SET_STATE,
    SQL_SET_STATE_BEAT,
    SQL_SET_STATE_STALE,
    SQL_STALE,
    SQL_TRIAL_EVENTS,
    SQL_TRIAL_STATE,
    check_version,
    create_or_check,
    events_table,
    meta_table,
    stored_version,
    studies_table,
    trials_table,
)
from tuneful.storage.urls import redact_url, scrub

__all__ = ["SQLLog"]

T = TypeVar("T")


def _allowed_by_environment() -> bool:
    return os.environ.get(ALLOW_FOREIGN_TABLES_ENV, "").strip().lower() in ("1", "true", "yes")


def _landed(number: int | None) -> int:
    """The result of a write a lost connection hid: its first event's trial number."""
    return 0 if number is None else number


class SQLLog(LogBase):
    """The event log in a relational database named by an SQLAlchemy URL.

    Args:
        url: the database (see :mod:`tuneful.storage.sqlite`, :mod:`tuneful.storage.postgresql`).
        busy_timeout: seconds a write keeps retrying while the database is locked, busy or
            unreachable before it fails with :class:`~tuneful.errors.StorageError`.
        pool_size: connections kept open per process (PostgreSQL).
        upgrade: migrate an older schema to this release's instead of refusing it.
        read_only: only read: create no file and no table, never change the journal mode
            or migrate. A database without tuneful's tables reads as an empty storage.
        allow_foreign_tables: add tuneful's tables to a database that already holds other
            tables. Without it (or ``TUNEFUL_ALLOW_FOREIGN_TABLES=1``) opening such a
            database to write is refused: it is most likely another application's (say,
            Optuna's ``optuna.db``). A database that already has tuneful's tables is opened
            whatever else it holds.

    Raises:
        StorageError: a malformed URL, a missing folder or driver, a database that cannot be
            reached, a damaged file, or another application's database (see above).
        SchemaVersionError: the layout is older or newer than this release's.
    """

    #: How a write transaction begins.
    begin = "BEGIN"
    #: Whether writes tag their events with a token (when a lost connection can hide a commit).
    tokens = False
    #: Whether the write transaction alone serializes a study's writers (no row lock needed).
    serialized = False
    #: The statement that reads (and on servers locks) a study's row: its next trial number.
    lock_statement = SQL_LOCK_STUDY

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
        self.file = self.open_file(parsed, read_only=read_only, upgrade=upgrade)
        self.engine = make_engine(
            parsed,
            url,
            file=self.file,
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
            self.engine.dispose()
            raise

    # -- what a database sets -------------------------------------------------------------
    def open_file(
        self, parsed: sa.engine.URL, *, read_only: bool, upgrade: bool
    ) -> SQLiteFile | None:
        """The database's file, checked before the engine is made (None: a server's)."""
        return None

    def before_create(self, conn: Connection) -> None:
        """Run first in the transaction that may create the tables."""

    def storable(self, name: str) -> bool:
        """Whether a study can have this name here."""
        return True

    def read_rows(self, conn: Connection, parameters: Mapping[str, Any]) -> Sequence[Any]:
        """The rows (id, number, kind, payload, time) of a study's events after an id."""
        return conn.execute(SQL_READ_EVENTS, parameters).all()

    def _check_fork(self) -> None:
        # Connections must not cross a fork: a child process gets a fresh pool.
        if os.getpid() != self._pid:
            self.engine.dispose(close=False)
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
        ``single``: ``work`` is one statement, atomic by itself, and runs without BEGIN and
        COMMIT (one round trip instead of three). ``patience``: seconds
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
        if self.file is not None:
            self.file.check()
        delay = 0.005
        deadline = time.monotonic() + (self._busy_timeout if patience is None else patience)
        token = uuid.uuid4().hex if write and self.tokens else None
        unsure = False  # a previous attempt may have committed
        while True:
            try:
                with self.engine.connect() as conn:
                    if not write:
                        return work(conn)
                    if unsure:
                        row = conn.execute(SQL_FIND_TOKEN, {"token": token}).first()
                        if row is not None:  # it had landed: do not write it again
                            return landed(row[0]) if landed is not None else None  # type: ignore[return-value]
                    if single:
                        return self._tagged(work, conn, token)
                    conn.exec_driver_sql(self.begin)
                    try:
                        result = self._tagged(work, conn, token)
                    except BaseException:
                        with contextlib.suppress(DBAPIError):  # the connection may be gone
                            conn.exec_driver_sql("ROLLBACK")
                        raise
                    conn.exec_driver_sql("COMMIT")
                if self.file is not None:
                    self.file.check()
                return result
            except DBAPIError as exc:
                failure = failure_kind(exc)
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
        damage = self.file.damage(text) if self.file is not None else None
        return StorageError(damage or f"cannot {action} storage {self._shown!r}: {text}")

    def _tagged(self, work: Callable[[Connection], T], conn: Connection, token: str | None) -> T:
        """``work`` with its events tagged by ``token``."""
        self._writing.token = token
        try:
            return work(conn)
        finally:
            self._writing.token = None

    def _ensure_schema(self, *, upgrade: bool, allow_foreign: bool) -> int:
        """Create the tables when missing; check (or upgrade) the layout's version."""

        def create(conn: Connection) -> int:
            self.before_create(conn)
            return create_or_check(conn, self._shown, upgrade=upgrade, allow_foreign=allow_foreign)

        try:
            # A server that cannot be reached when the storage is opened is more likely a
            # wrong URL than a restart: say so after a few seconds, not after busy_timeout.
            version = self._write(create, patience=min(self._busy_timeout, 5.0))
            if self.file is not None:
                self.file.enable_wal(self.engine)
        except StorageError as exc:  # say what was being done: opening it
            raise StorageError(str(exc).replace("cannot write", "cannot open", 1)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise self._error(exc, "open") from None
        if self.file is not None:
            self.file.remember()
        check_version(version, self._shown, upgrade=upgrade)
        return version

    def _tables_found(self) -> bool:
        """Whether tuneful's tables exist (a read-only storage looks until they do)."""
        if self._has_tables:
            return True
        if self.file is not None and not self.file.exists():
            return False

        def look(conn: Connection) -> int | None:
            if not sa.inspect(conn).has_table(meta_table.name):
                return None
            return stored_version(conn)

        try:
            # As when opening to write: an unreachable server is more likely a wrong URL.
            version = self._read(look, patience=min(self._busy_timeout, 5.0))
        except StorageError as exc:
            raise StorageError(str(exc).replace("cannot read", "cannot open", 1)) from None
        if version is None:
            return False
        check_version(version, self._shown, upgrade=False)
        if self.file is not None:
            self.file.remember()
        self.found_version = version
        self._has_tables = True
        return True

    def close(self) -> None:
        self.engine.dispose()

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
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo | None:
        def insert(conn: Connection) -> StudyInfo | None:
            token = self._token()
            taken = conn.execute(
                sa.select(studies_table).where(studies_table.c.name == name)
            ).first()
            if taken is not None and token is not None and taken.token == token:
                return self._info(taken)  # this very write, landed before a lost connection
            if taken is not None:
                return None
            try:
                conn.execute(
                    studies_table.insert().values(
                        name=name,
                        directions=dumps(list(directions)),
                        space=None if space is None else dumps(space),
                        settings=dumps(dict(settings)),
                        created_at=time.time(),
                        next_number=0,
                        token=token,
                    )
                )
            except IntegrityError:  # created by another process since the look above
                return None
            row = conn.execute(sa.select(studies_table).where(studies_table.c.name == name)).one()
            return self._info(row)

        return self._write(insert)

    def get_study(self, name: str) -> StudyInfo | None:
        if not self._tables_found() or not self.storable(name):
            return None
        query = sa.select(studies_table).where(studies_table.c.name == name)
        row = self._read(lambda conn: conn.execute(query).first())
        return None if row is None else self._info(row)

    def delete_study(self, name: str) -> bool:
        if not self.storable(name):
            return False

        def delete(conn: Connection) -> bool:
            row = conn.execute(
                sa.select(studies_table.c.id).where(studies_table.c.name == name)
            ).first()
            if row is None:
                return False
            for table in (events_table, trials_table):
                conn.execute(table.delete().where(table.c.study_id == row.id))
            conn.execute(studies_table.delete().where(studies_table.c.id == row.id))
            return True

        return self._write(delete)

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

    def trial_state(self, study_id: int, number: int) -> str | None:
        if not self._tables_found():
            return None
        parameters = {"study_id": study_id, "number": number}
        row = self._read(lambda conn: conn.execute(SQL_TRIAL_STATE, parameters).first())
        return None if row is None else str(row[0])

    # -- events ----------------------------------------------------------------------------
    def _log(
        self, conn: Connection, study_id: int, number: int | None, kind: str, payload: Any
    ) -> None:
        conn.execute(
            SQL_INSERT_EVENT,
            {
                "study_id": study_id,
                "number": number,
                "kind": kind,
                "payload": dumps(payload),
                "time": time.time(),
                "token": self._token(),
            },
        )

    def lock_study(self, conn: Connection, study_id: int) -> int:
        """Take the study's row (serializing its writers) and return its next trial number.

        On SQLite, ``BEGIN IMMEDIATE`` already holds the database's write lock; on other
        databases the row lock orders a study's events by commit, so that a reader that saw
        event id N never later finds a smaller id appear.
        """
        row = conn.execute(self.lock_statement, {"study_id": study_id}).first()
        if row is None:
            raise StudyNotFoundError(f"no study with id {study_id} in {self._shown} (deleted?)")
        return int(row[0])

    def _create(
        self,
        conn: Connection,
        study_id: int,
        number: int,
        payload: Mapping[str, Any],
        heartbeat_at: float | None,
    ) -> int:
        """Add trial ``number`` (the study's next, its row locked) and log its creation."""
        conn.execute(SQL_BUMP_NUMBER, {"study_id": study_id})
        conn.execute(
            SQL_INSERT_TRIAL,
            {
                "study_id": study_id,
                "number": number,
                "state": payload["state"],
                "heartbeat_at": heartbeat_at,
            },
        )
        self._log(conn, study_id, number, "created", payload)
        return number

    def append(self, study_id: int, entry: Entry) -> int | None:
        return self._write(lambda conn: self._append(conn, study_id, entry), landed=_landed)

    def _append(self, conn: Connection, study_id: int, entry: Entry) -> int | None:
        """Write ``entry`` in the open transaction; None (nothing written) when refused."""
        if entry.trial == NEW:
            number = self.lock_study(conn, study_id)
            if entry.limit is not None and number >= entry.limit:
                return None
            beat = time.time() if entry.monitored else None
            return self._create(conn, study_id, number, entry.payload_for(number), beat)
        if entry.trial is None:
            self.lock_study(conn, study_id)
            self._log(conn, study_id, None, entry.kind, entry.payload)
            return 0
        if not self.serialized or entry.trial == OLDEST or entry.retry is not None:
            self.lock_study(conn, study_id)
        target = self._target(conn, study_id, entry)
        if target is None or not self._change(conn, study_id, target, entry):
            return None
        self._log(conn, study_id, target, entry.kind, entry.payload)
        if entry.retry is not None:
            rows = conn.execute(SQL_TRIAL_EVENTS, {"study_id": study_id, "number": target}).all()
            retry = entry.retry(target, self._events(study_id, rows))
            if retry is not None:
                self._create(conn, study_id, self.lock_study(conn, study_id), retry, None)
        return target

    def _target(self, conn: Connection, study_id: int, entry: Entry) -> int | None:
        if entry.trial != OLDEST:
            return int(entry.trial)  # type: ignore[arg-type]
        when = None if entry.when is None else entry.when.value
        row = conn.execute(SQL_OLDEST, {"study_id": study_id, "when": when}).first()
        return None if row is None else int(row[0])

    def _change(self, conn: Connection, study_id: int, number: int, entry: Entry) -> bool:
        """Check the entry's conditions on trial ``number`` and change its state: whether
        they held (one conditional UPDATE when the state changes)."""
        where = {"study_id": study_id, "number": number}
        if entry.state is None or entry.when is None:
            row = conn.execute(SQL_TRIAL_STATE, where).first()
            if row is None or (entry.when is not None and row[0] != entry.when.value):
                return False
            if entry.state is None and entry.stale_before is None:
                return True
            current = str(row[0])
        else:
            current = entry.when.value
        new = current if entry.state is None else entry.state.value
        parameters = {**where, "state": new, "when": current}
        if entry.stale_before is not None:
            statement, parameters["cutoff"] = SQL_SET_STATE_STALE, entry.stale_before
        elif entry.state is TrialState.RUNNING:
            statement = SQL_SET_STATE_BEAT
            parameters["beat"] = time.time() if entry.monitored else None
        else:
            statement = SQL_SET_STATE
        return bool(conn.execute(statement, parameters).rowcount == 1)

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
                self.skip(SkippedEvent(row[0], study_id, row[1], str(row[2]), reason))
        return events

    def read_events(self, study_id: int, after: int) -> list[Event]:
        if not self._tables_found():
            return []
        parameters = {"study_id": study_id, "after": after}
        rows = self._read(lambda conn: self.read_rows(conn, parameters))
        return self._events(study_id, rows)

    # -- liveness ------------------------------------------------------------------------
    def heartbeat(self, study_id: int, numbers: Sequence[int], now: float) -> None:
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

    def stale_trials(self, study_id: int, cutoff: float) -> list[int]:
        parameters = {"study_id": study_id, "cutoff": cutoff}
        rows = self._read(lambda conn: conn.execute(SQL_STALE, parameters).all())
        return [int(row[0]) for row in rows]
