"""The relational layout (schema version :data:`~tuneful.storage.base.SCHEMA_VERSION`) and
the statements on the hot path; :mod:`tuneful.storage.sql` describes the tables and runs them
(:mod:`tuneful.storage.postgresql` runs the PostgreSQL ones).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from tuneful.errors import SchemaVersionError, StorageError
from tuneful.storage.base import SCHEMA_VERSION

__all__ = [
    "metadata",
    "meta_table",
    "studies_table",
    "trials_table",
    "events_table",
    "migrate",
    "ALLOW_FOREIGN_TABLES_ENV",
    "check_version",
    "stored_version",
    "create_or_check",
    "SQL_LOCK_STUDY",
    "SQL_LOCK_STUDY_FOR_UPDATE",
    "SQL_BUMP_NUMBER",
    "SQL_INSERT_TRIAL",
    "SQL_INSERT_EVENT",
    "SQL_FIND_TOKEN",
    "SQL_TRIAL_STATE",
    "SQL_SET_STATE",
    "SQL_SET_STATE_BEAT",
    "SQL_SET_STATE_STALE",
    "SQL_OLDEST",
    "SQL_STALE",
    "SQL_READ_EVENTS",
    "SQL_TRIAL_EVENTS",
    "PG_CREATE",
    "PG_FINISH",
    "PG_APPEND",
    "PG_READ_EVENTS",
]

metadata = sa.MetaData()

meta_table = sa.Table(
    "tuneful_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
studies_table = sa.Table(
    "tuneful_studies",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(512), nullable=False, unique=True),
    sa.Column("directions", sa.Text, nullable=False),
    sa.Column("space", sa.Text, nullable=True),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("next_number", sa.Integer, nullable=False, default=0),
    sa.Column("token", sa.String(32), nullable=True),  # schema 2: the write that created it
)
trials_table = sa.Table(
    "tuneful_trials",
    metadata,
    sa.Column("study_id", sa.Integer, sa.ForeignKey("tuneful_studies.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=True),  # NULL: not monitored
    sa.Index("ix_tuneful_trials_state", "study_id", "state"),
)
events_table = sa.Table(
    "tuneful_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("study_id", sa.Integer, sa.ForeignKey("tuneful_studies.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("time", sa.Float, nullable=False),
    sa.Column("token", sa.String(32), nullable=True),  # schema 2: the write that logged it
    sa.Index("ix_tuneful_events_study", "study_id", "id"),
    sa.Index("ix_tuneful_events_trial", "study_id", "number"),
    sa.Index("ix_tuneful_events_token", "token"),
)

# Hot-path statements, written once: text() statements skip SQLAlchemy's per-call
# statement construction and cache-key work, which would cost more than SQLite itself.
SQL_LOCK_STUDY = sa.text("SELECT next_number FROM tuneful_studies WHERE id = :study_id")
SQL_LOCK_STUDY_FOR_UPDATE = sa.text(
    "SELECT next_number FROM tuneful_studies WHERE id = :study_id FOR UPDATE"
)
SQL_BUMP_NUMBER = sa.text(
    "UPDATE tuneful_studies SET next_number = next_number + 1 WHERE id = :study_id"
)
SQL_INSERT_TRIAL = sa.text(
    "INSERT INTO tuneful_trials (study_id, number, state, heartbeat_at) "
    "VALUES (:study_id, :number, :state, :heartbeat_at)"
)
SQL_INSERT_EVENT = sa.text(
    "INSERT INTO tuneful_events (study_id, number, kind, payload, time, token) "
    "VALUES (:study_id, :number, :kind, :payload, :time, :token)"
)
SQL_FIND_TOKEN = sa.text(
    "SELECT number FROM tuneful_events WHERE token = :token ORDER BY id LIMIT 1"
)
SQL_TRIAL_STATE = sa.text(
    "SELECT state FROM tuneful_trials WHERE study_id = :study_id AND number = :number"
)
SQL_SET_STATE = sa.text(
    "UPDATE tuneful_trials SET state = :state "
    "WHERE study_id = :study_id AND number = :number AND state = :when"
)
SQL_SET_STATE_BEAT = sa.text(
    "UPDATE tuneful_trials SET state = :state, heartbeat_at = :beat "
    "WHERE study_id = :study_id AND number = :number AND state = :when"
)
SQL_SET_STATE_STALE = sa.text(
    "UPDATE tuneful_trials SET state = :state "
    "WHERE study_id = :study_id AND number = :number AND state = :when "
    "AND heartbeat_at < :cutoff"
)
SQL_OLDEST = sa.text(
    "SELECT number FROM tuneful_trials WHERE study_id = :study_id AND state = :when "
    "ORDER BY number LIMIT 1"
)
SQL_STALE = sa.text(
    "SELECT number FROM tuneful_trials WHERE study_id = :study_id AND state = 'RUNNING' "
    "AND heartbeat_at < :cutoff ORDER BY number"
)
SQL_READ_EVENTS = sa.text(
    "SELECT id, number, kind, payload, time FROM tuneful_events "
    "WHERE study_id = :study_id AND id > :after ORDER BY id"
)
SQL_TRIAL_EVENTS = sa.text(
    "SELECT id, number, kind, payload, time FROM tuneful_events "
    "WHERE study_id = :study_id AND number = :number ORDER BY id"
)

# PostgreSQL's hot statements run on psycopg's connection directly (their parameters in its
# %(name)s style): SQLAlchemy's execution layer would cost about as much CPU as the rest of
# the trial. The writes are each one statement (one round trip, atomic without BEGIN/COMMIT).
# Each first locks its study's row, which orders the study's event ids by commit; a trial's
# state is re-checked on the latest row version (an UPDATE, or FOR UPDATE), so a write racing
# a finish sees the finish.
PG_CREATE = (
    "WITH s AS ("
    " UPDATE tuneful_studies SET next_number = next_number + 1"
    " WHERE id = %(study_id)s AND (CAST(%(limit)s AS INTEGER) IS NULL"
    " OR next_number < CAST(%(limit)s AS INTEGER))"
    " RETURNING next_number - 1 AS number"
    "), t AS ("
    " INSERT INTO tuneful_trials (study_id, number, state, heartbeat_at)"
    " SELECT %(study_id)s, number, %(state)s, %(heartbeat_at)s FROM s"
    ") INSERT INTO tuneful_events (study_id, number, kind, payload, time, token)"
    " SELECT %(study_id)s, number, 'created',"
    " CASE WHEN number = CAST(%(expected)s AS INTEGER) THEN %(drafted)s ELSE %(payload)s END,"
    " %(time)s, %(token)s FROM s RETURNING number"
)
PG_FINISH = (
    "WITH s AS (SELECT id FROM tuneful_studies WHERE id = %(study_id)s FOR UPDATE),"
    " u AS ("
    " UPDATE tuneful_trials SET state = %(state)s"
    " WHERE study_id = (SELECT id FROM s) AND number = %(number)s AND state = 'RUNNING'"
    " RETURNING number"
    ") INSERT INTO tuneful_events (study_id, number, kind, payload, time, token)"
    " SELECT %(study_id)s, number, 'finished', %(payload)s, %(time)s, %(token)s FROM u RETURNING id"
)
PG_APPEND = (
    "WITH s AS (SELECT id FROM tuneful_studies WHERE id = %(study_id)s FOR UPDATE),"
    " r AS ("
    " SELECT number FROM tuneful_trials"
    " WHERE study_id = (SELECT id FROM s) AND number = %(number)s AND state = 'RUNNING'"
    " FOR UPDATE"
    ") INSERT INTO tuneful_events (study_id, number, kind, payload, time, token)"
    " SELECT %(study_id)s, number, %(kind)s, %(payload)s, %(time)s, %(token)s FROM r RETURNING id"
)

PG_READ_EVENTS = (
    "SELECT id, number, kind, payload, time FROM tuneful_events "
    "WHERE study_id = %(study_id)s AND id > %(after)s ORDER BY id"
)


def migrate(conn: Connection, version: int) -> None:
    """Bring a schema of ``version`` to :data:`SCHEMA_VERSION`, in the caller's transaction."""
    if version < 1:
        raise SchemaVersionError(f"schema version {version} is not one tuneful ever wrote")
    if version < 2:  # 1 -> 2: events carry the token of the write that logged them
        conn.execute(sa.text("ALTER TABLE tuneful_studies ADD COLUMN token VARCHAR(32)"))
        conn.execute(sa.text("ALTER TABLE tuneful_events ADD COLUMN token VARCHAR(32)"))
        conn.execute(sa.text("CREATE INDEX ix_tuneful_events_token ON tuneful_events (token)"))
    conn.execute(
        meta_table.update()
        .where(meta_table.c.key == "schema_version")
        .values(value=str(SCHEMA_VERSION))
    )


#: Set to 1 to let tuneful add its tables to a database that holds other tables.
ALLOW_FOREIGN_TABLES_ENV = "TUNEFUL_ALLOW_FOREIGN_TABLES"


def check_version(version: int, shown: str, *, upgrade: bool) -> None:
    """Refuse a layout newer than this release's, or older unless it is being upgraded."""
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"storage {shown!r} has schema version {version}, newer than this "
            f"release reads ({SCHEMA_VERSION}): upgrade tuneful"
        )
    if version < SCHEMA_VERSION and not upgrade:
        raise SchemaVersionError(
            f"storage {shown!r} has schema version {version}, older than this "
            f"release's ({SCHEMA_VERSION}): run `tuneful db upgrade --storage URL` once "
            "(stop the workers of older releases first)"
        )


def stored_version(conn: Connection) -> int:
    """The schema version recorded in the database (0: none)."""
    row = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).first()
    return int(row[0]) if row is not None else 0


def refuse_foreign_tables(conn: Connection, shown: str) -> None:
    """Refuse to add tuneful's tables beside another application's."""
    foreign = sorted(set(sa.inspect(conn).get_table_names()) - set(metadata.tables))
    if not foreign:
        return
    listed = ", ".join(foreign[:8]) + (f" and {len(foreign) - 8} more" if len(foreign) > 8 else "")
    raise StorageError(
        f"storage {shown!r} holds tables that are not tuneful's ({listed}): it looks "
        "like another application's database, and tuneful will not add its tables to it. "
        "Point --storage at a database of its own (say sqlite:///tuneful.db); to use this "
        "one anyway, pass open_storage(url, allow_foreign_tables=True) or set "
        f"{ALLOW_FOREIGN_TABLES_ENV}=1"
    )


def create_or_check(conn: Connection, shown: str, *, upgrade: bool, allow_foreign: bool) -> int:
    """In the caller's transaction: create the tables when missing (refusing another
    application's database unless ``allow_foreign``), else read (and, with ``upgrade``,
    migrate) the layout. Returns the version found."""
    if not sa.inspect(conn).has_table(meta_table.name):
        if not allow_foreign:
            refuse_foreign_tables(conn, shown)
        metadata.create_all(conn, checkfirst=True)
        conn.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return SCHEMA_VERSION
    version = stored_version(conn)
    if version < SCHEMA_VERSION and upgrade:
        migrate(conn, version)
    return version
