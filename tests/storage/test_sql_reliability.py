"""The relational backends under failure: old schemas, lost connections, a restarted server."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

import tuneful
from tuneful.errors import SchemaVersionError, StorageError
from tuneful.records import TrialState
from tuneful.storage import SCHEMA_VERSION, open_storage, upgrade_storage
from tuneful.storage.postgresql import PostgreSQLStorage
from tuneful.storage.sql_engine import failure_kind, pick_driver
from tuneful.storage.sqlite import SQLiteStorage

SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres-server"


def _execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(pick_driver(sa.engine.make_url(url)))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def _make_version_1(url: str) -> None:
    """Turn a current database into the layout of schema version 1 (no write tokens)."""
    _execute(
        url,
        "DROP INDEX ix_tuneful_events_token",
        "ALTER TABLE tuneful_events DROP COLUMN token",
        "ALTER TABLE tuneful_studies DROP COLUMN token",
        "UPDATE tuneful_meta SET value = '1' WHERE key = 'schema_version'",
    )


def test_an_old_schema_is_refused_then_upgraded_in_place(sql_url: str) -> None:
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}}, storage=sql_url, name="old", seed=0
    )
    study.optimize(lambda trial: trial.params["x"], n_trials=5, show_progress_bar=False)
    before = [(t.number, t.params, t.value) for t in study.trials]
    open_storage(sql_url).close()  # type: ignore[attr-defined]
    _make_version_1(sql_url)

    with pytest.raises(SchemaVersionError, match="version 1, older .* `tuneful db upgrade"):
        open_storage(sql_url)
    assert upgrade_storage(sql_url) == (1, SCHEMA_VERSION)
    assert upgrade_storage(sql_url) == (SCHEMA_VERSION, SCHEMA_VERSION)  # idempotent

    again = tuneful.load_study("old", storage=sql_url)
    assert [(t.number, t.params, t.value) for t in again.trials] == before
    again.optimize(lambda trial: trial.params["x"], n_trials=2, show_progress_bar=False)
    assert [t.number for t in again.trials] == list(range(7))


def test_failures_are_classified_by_sqlstate() -> None:
    class Raw(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            super().__init__(f"sqlstate {sqlstate}")
            self.sqlstate = sqlstate

    def wrapped(sqlstate: str | None, **kw: Any) -> DBAPIError:
        return sa.exc.OperationalError("COMMIT", {}, Raw(sqlstate), **kw)

    assert failure_kind(wrapped("40001")) == "retry"  # serialization failure
    assert failure_kind(wrapped("40P01")) == "retry"  # deadlock
    assert failure_kind(wrapped("08006")) == "lost"  # connection failure
    assert failure_kind(wrapped("57P01")) == "lost"  # server shutting down
    assert failure_kind(wrapped("23505")) is None  # unique violation: the caller's problem
    assert failure_kind(wrapped(None, connection_invalidated=True)) == "lost"


class _LoseConnectionAfterCommit:
    """Wraps an engine: the next ``arm`` writes commit, then report a lost connection."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine
        self.armed = 0

    def connect(self) -> Any:
        real = self.engine.connect()
        outer = self

        class Guard:
            def __enter__(self) -> sa.engine.Connection:
                return real.__enter__()

            def __exit__(self, kind: Any, error: Any, trace: Any) -> bool | None:
                real.__exit__(kind, error, trace)
                if kind is None and outer.armed:
                    outer.armed -= 1
                    raise sa.exc.OperationalError(
                        "COMMIT",
                        {},
                        Exception("server closed the connection unexpectedly"),
                        connection_invalidated=True,
                    )
                return None

        return Guard()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def test_a_write_whose_commit_was_hidden_is_not_repeated(postgres_url: str) -> None:
    storage = PostgreSQLStorage(postgres_url)
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    flaky = _LoseConnectionAfterCommit(storage.log.engine)
    storage.log.engine = flaky  # type: ignore[assignment]

    flaky.armed = 1
    number = storage.create_trial(sid, state=TrialState.RUNNING, params={"x": 1})
    flaky.armed = 1
    storage.append(sid, number, "reported", {"step": 1, "value": 2.0})
    flaky.armed = 1
    storage.finish_trial(sid, number, state=TrialState.COMPLETE, values=[1.5])
    flaky.armed = 1
    assert storage.create_trial(sid, state=TrialState.WAITING) == number + 1
    flaky.armed = 1
    assert storage.claim_trial(sid, worker="w") == number + 1
    flaky.armed = 1
    info = storage.create_study("t", directions=["minimize"], space=None, settings={})
    assert info.name == "t"

    kinds = [(e.number, e.kind) for e in storage.read_events(sid)]
    assert kinds == [
        (0, "created"),
        (0, "reported"),
        (0, "finished"),
        (1, "created"),
        (1, "started"),
    ]
    assert storage.count_trials(sid) == {"COMPLETE": 1, "RUNNING": 1}


def _restart_server(outage: float) -> None:
    """Stop the server (clients lose their connections), wait, start it again."""
    subprocess.run([str(SERVER_SCRIPT), "stop"], check=True, timeout=120)
    time.sleep(outage)
    subprocess.run([str(SERVER_SCRIPT), "start"], check=True, timeout=120, capture_output=True)


@pytest.mark.skipif(
    os.environ.get("TUNEFUL_TEST_POSTGRES_RESTART") != "1",
    reason="needs a server this test may restart (TUNEFUL_TEST_POSTGRES_RESTART=1)",
)
def test_a_study_survives_a_server_restart(postgres_url: str) -> None:
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}},
        storage=postgres_url,
        name="restart",
        optimizer="random",
        seed=0,
    )
    told: list[int] = []

    def objective(trial: tuneful.Trial) -> float:
        time.sleep(0.01)
        trial.report(step=1, value=trial.params["x"])
        return trial.params["x"]

    def run() -> None:
        study.optimize(
            objective,
            n_trials=120,
            show_progress_bar=False,
            callbacks=[lambda _study, record: told.append(record.number)],
        )

    worker = threading.Thread(target=run)
    worker.start()
    while len(told) < 20:
        time.sleep(0.01)
    _restart_server(outage=2.0)
    worker.join(timeout=180)
    assert not worker.is_alive()

    trials = tuneful.load_study("restart", storage=postgres_url).trials
    assert [t.number for t in trials] == list(range(120))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert sorted(told) == list(range(120))
    assert all(t.intermediate == {1: t.value} for t in trials)


def test_a_full_disk_stops_the_study_with_a_clear_error(tmp_path: Path) -> None:
    """SQLite's "database or disk is full" (SQLITE_FULL), caused by capping the file's size:
    the study stops with the storage's error and keeps everything told before."""
    url = f"sqlite:///{tmp_path / 'full.db'}"
    study = tuneful.create_study(
        "full",
        space={"x": {"type": "float", "low": 0, "high": 1}},
        storage=url,
        seed=0,
        optimizer="random",
    )

    def objective(trial: tuneful.Trial) -> float:
        trial.set_user_attr("notes", "x" * 20_000)  # every trial grows the file
        return trial.params["x"]

    study.optimize(objective, n_trials=3, show_progress_bar=False)
    before = study.trials
    storage = study.storage
    assert isinstance(storage, SQLiteStorage)
    pages = storage.log._read(lambda conn: conn.exec_driver_sql("PRAGMA page_count").scalar())

    @sa.event.listens_for(storage.log.engine, "connect")
    def _cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages) + 2}")

    storage.log.engine.dispose()  # the next connections are capped
    with pytest.raises(StorageError, match="database or disk is full"):
        study.optimize(objective, n_trials=50, show_progress_bar=False)

    after = tuneful.load_study("full", storage=url).trials
    assert after[: len(before)] == before  # nothing told was lost or changed
    assert len(after) <= len(before) + 2
