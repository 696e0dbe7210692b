"""PostgreSQL storage (``postgresql://user:password@host/db``), through psycopg 3
(``pip install 'tuneful[postgres]'``).

Connections come from a pool, and every write first locks its study's row, so that a
study's events commit in the order of their ids (an incremental reader never finds a smaller
id appear after a larger one). Transient failures are retried until ``busy_timeout``:
serialization failures and deadlocks, and lost connections (a server restart, a dropped
link). A connection lost while committing leaves the writer unsure whether its write landed;
each write therefore tags its events with a random token, and its retry first looks the
token up: found, the write had landed and is not repeated.

The hot writes (a new trial, an event on a running trial, its finish) are each one statement
run on psycopg's connection directly: one round trip, atomic without BEGIN and COMMIT
(:mod:`tuneful.storage.sql_schema` holds them).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from tuneful.records import TrialState
from tuneful.storage.base import SCHEMA_VERSION, Storage
from tuneful.storage.log import NEW, Entry
from tuneful.storage.sql import SQLLog
from tuneful.storage.sql_engine import dumps
from tuneful.storage.sql_schema import (
    PG_APPEND,
    PG_CREATE,
    PG_FINISH,
    PG_READ_EVENTS,
    SQL_LOCK_STUDY_FOR_UPDATE,
)

__all__ = ["PostgreSQLLog", "PostgreSQLStorage", "upgrade_postgresql"]


class PostgreSQLLog(SQLLog):
    """The event log in a PostgreSQL database (see :class:`~tuneful.storage.sql.SQLLog`)."""

    tokens = True
    lock_statement = SQL_LOCK_STUDY_FOR_UPDATE

    def before_create(self, conn: Connection) -> None:
        # concurrent first opens must not race on CREATE TABLE
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(7262707)"))

    def storable(self, name: str) -> bool:
        return "\x00" not in name  # PostgreSQL text holds no NUL

    def read_rows(self, conn: Connection, parameters: Mapping[str, Any]) -> Sequence[Any]:
        return self._pg(conn, PG_READ_EVENTS, parameters)

    def append(self, study_id: int, entry: Entry) -> int | None:
        """The hot writes in one statement each; the others in a transaction."""
        if entry.retry is None and entry.stale_before is None:
            if entry.trial == NEW:
                return self._create_one_statement(study_id, entry)
            if isinstance(entry.trial, int) and entry.when is TrialState.RUNNING:
                if entry.state is None:
                    return self._one_statement(
                        PG_APPEND, study_id, entry.trial, entry.payload, kind=entry.kind
                    )
                if entry.state is not TrialState.RUNNING and entry.kind == "finished":
                    return self._one_statement(
                        PG_FINISH, study_id, entry.trial, entry.payload, state=entry.state.value
                    )
        return super().append(study_id, entry)

    def _create_one_statement(self, study_id: int, entry: Entry) -> int | None:
        # The parameters are kept only with the number they were drafted for (if any).
        drafted = dumps(dict(entry.drafted if entry.drafted is not None else entry.payload))
        bare = dumps(dict(entry.payload))
        state = (entry.state or TrialState.RUNNING).value

        def create(conn: Connection) -> int | None:
            rows = self._pg(
                conn,
                PG_CREATE,
                {
                    "study_id": study_id,
                    "limit": entry.limit,
                    "state": state,
                    "heartbeat_at": time.time() if entry.monitored else None,
                    "expected": entry.expected,
                    "drafted": drafted,
                    "payload": bare,
                    "time": time.time(),
                    "token": self._token(),
                },
            )
            if rows:
                return int(rows[0][0])
            self.lock_study(conn, study_id)  # raises when the study is gone
            return None  # the limit was reached

        return self._write(create, landed=lambda number: number, single=True)

    def _one_statement(
        self,
        statement: str,
        study_id: int,
        number: int,
        payload: Mapping[str, Any],
        **values: Any,
    ) -> int | None:
        """Run a one-statement write on a RUNNING trial: its number, or None when the trial
        is not RUNNING."""
        text = dumps(dict(payload))

        def write(conn: Connection) -> int | None:
            parameters = {"study_id": study_id, "number": number, "payload": text}
            parameters.update(values, time=time.time(), token=self._token())
            return number if self._pg(conn, statement, parameters) else None

        return self._write(write, landed=lambda _number: number, single=True)

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


class PostgreSQLStorage(Storage):
    """Studies in a PostgreSQL database (it must exist; the tables are created on first use).

    Args:
        url: ``postgresql://user:password@host:port/database`` (``postgres://`` too).
        read_only: only read: create no table; a database without tuneful's tables reads as
            empty.
        options: ``busy_timeout``, ``pool_size``, ``upgrade``, ``allow_foreign_tables``
            (see :class:`~tuneful.storage.sql.SQLLog`).
    """

    log: PostgreSQLLog

    def __init__(self, url: str, *, read_only: bool = False, **options: object) -> None:
        super().__init__(PostgreSQLLog(url, read_only=read_only, **options))  # type: ignore[arg-type]


def upgrade_postgresql(url: str) -> tuple[int, int]:
    """Migrate the database at ``url`` to this release's layout: (found, now). Safe to run
    from several processes at once (the upgrade holds a lock)."""
    log = PostgreSQLLog(url, upgrade=True)
    log.close()
    return log.found_version, SCHEMA_VERSION
