"""``tuneful db upgrade``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

import tuneful


def test_db_upgrade(cli: Callable[..., Any], one_line_error: Callable[..., str]) -> None:
    tuneful.create_study("s", space=tuneful.Space(x=tuneful.Float(0, 1)), storage="old.db")
    engine = sa.create_engine("sqlite:///old.db")
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_tuneful_events_token"))
        conn.execute(sa.text("ALTER TABLE tuneful_events DROP COLUMN token"))
        conn.execute(sa.text("ALTER TABLE tuneful_studies DROP COLUMN token"))
        conn.execute(sa.text("UPDATE tuneful_meta SET value = '1'"))
    engine.dispose()
    one_line_error(cli("ls", "--storage", "old.db"), "tuneful db upgrade")
    result = cli("db", "upgrade", "--storage", "old.db")
    assert result.returncode == 0, result.stderr
    assert "schema version 1 -> 2" in result.stdout
    assert "already current" in cli("db", "upgrade", "--storage", "old.db").stdout
    assert "s" in cli("ls", "--storage", "old.db").stdout
    one_line_error(cli("db", "upgrade", "--storage", "missing.db"), "does not exist")
    one_line_error(cli("db", "upgrade", "--storage", "memory://"), "has no schema")
    assert tuneful.load_study("s", storage="old.db").trials == []


def test_a_database_that_is_not_there_is_one_line(
    cli: Callable[..., Any], one_line_error: Callable[..., str], postgres_url: str
) -> None:
    server = postgres_url.rsplit("/", 1)[0].replace("postgres@", "postgres:secret@")
    error = one_line_error(cli("ls", "--storage", f"{server}/nosuchdb"), "cannot open storage")
    assert "nosuchdb" in error and "does not exist" in error
    assert "secret" not in error  # the password is masked


BAD_SECRET_STORAGES = [
    "postgresq://alice:S3cret@db/hpo",  # a misspelt scheme
    "postgresql+psycopg2://alice:S3cret@db/hpo",  # a driver that may not be installed
    "mysql://alice:S3cret@db/hpo",
    "postgresql://alice:S3cret@db:notaport/hpo",  # a port that is not a number
]


@pytest.mark.parametrize("url", BAD_SECRET_STORAGES)
@pytest.mark.parametrize("command", [["ls"], ["db", "upgrade"], ["show", "s"], ["worker", "s"]])
def test_storage_errors_never_show_the_password(
    cli: Callable[..., Any], url: str, command: list[str]
) -> None:
    result = cli(*command, "--storage", url)
    text = result.stdout + result.stderr
    assert result.returncode != 0
    assert "S3cret" not in text
    assert "Traceback" not in text
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_a_password_in_tuneful_storage_is_never_shown(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEFUL_STORAGE", "postgresq://alice:S3cret@db/hpo")
    result = cli("ls")
    assert result.returncode == 2 and "S3cret" not in result.stderr
    assert "alice:***@db" in result.stderr


def test_an_unexpected_error_is_one_line_unless_tuneful_debug(
    cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneful.cli import main, studies

    tuneful.create_study("s", space=tuneful.Space(x=tuneful.Float(0, 1)), storage="a.db")

    def broken(**_kwargs: Any) -> None:
        raise RuntimeError("something no message was written for")

    monkeypatch.setattr(studies, "list_studies", broken)
    result = cli("ls", "--storage", "a.db")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "RuntimeError: something no message" in lines[0]
    assert "TUNEFUL_DEBUG=1" in lines[0]
    monkeypatch.setenv("TUNEFUL_DEBUG", "1")
    with pytest.raises(RuntimeError, match="something no message"):
        main(["ls", "--storage", "a.db"])
