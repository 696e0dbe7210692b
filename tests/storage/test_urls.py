"""Storage URLs are shown and kept without their password."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

import tuneful
from tuneful.errors import StorageError
from tuneful.storage import open_storage, sql_engine, upgrade_storage
from tuneful.storage.postgresql import PostgreSQLStorage
from tuneful.storage.sqlite import SQLiteStorage
from tuneful.storage.urls import has_password, redact_url, scrub, strip_password

SECRET = "S3cret"


@pytest.mark.parametrize(
    ("url", "shown", "kept"),
    [
        (
            "postgresql://alice:S3cret@db/hpo",
            "postgresql://alice:***@db/hpo",
            "postgresql://alice@db/hpo",
        ),
        (
            "postgresql+psycopg2://alice:S3cret@db:5432/hpo",
            "postgresql+psycopg2://alice:***@db:5432/hpo",
            "postgresql+psycopg2://alice@db:5432/hpo",
        ),
        (
            "postgresq://alice:S3cret@db/hpo",
            "postgresq://alice:***@db/hpo",
            "postgresq://alice@db/hpo",
        ),
        (
            "postgresql://alice:p@S3cret@db/hpo",
            "postgresql://alice:***@db/hpo",
            "postgresql://alice@db/hpo",
        ),
        (
            "postgresql://db/hpo?password=S3cret&sslmode=require",
            "postgresql://db/hpo?password=***&sslmode=require",
            "postgresql://db/hpo?sslmode=require",
        ),
        (
            "postgresql://db/hpo?sslmode=require&PASSWORD=S3cret",
            "postgresql://db/hpo?sslmode=require&PASSWORD=***",
            "postgresql://db/hpo?sslmode=require",
        ),
        ("sqlite:///tuneful.db", "sqlite:///tuneful.db", "sqlite:///tuneful.db"),
        ("sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db", "sqlite:////tmp/a:b@c.db"),
        ("postgresql://alice@db/hpo", "postgresql://alice@db/hpo", "postgresql://alice@db/hpo"),
    ],
)
def test_password_masked_when_shown_and_dropped_when_kept(url: str, shown: str, kept: str) -> None:
    assert redact_url(url) == shown
    assert strip_password(url) == kept
    assert has_password(url) == (SECRET in url)


def test_study_repr_and_storage_url_hide_the_password() -> None:
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0, "high": 1}}, storage="memory://"
    )
    study.storage.url = "postgresql://alice:S3cret@db/hpo"  # as a PostgreSQL storage has it
    assert SECRET not in repr(study)
    assert SECRET not in study.storage_url
    assert study.storage_url == "postgresql://alice:***@db/hpo"


# -- no message from the storage layer shows a password ---------------------------------------
LEAKY_URLS = [
    "postgresq://alice:S3cret@db/hpo",  # a misspelt scheme
    "mysql://alice:S3cret@db/hpo",  # a database tuneful does not support
    "postgresql+psycopg2://alice:S3cret@db/hpo",  # a driver that is not installed
    "postgresql://alice:S3cret@db:abc/hpo",  # a port that is not a number
    "postgresql://alice:S3cret@db:99999999/hpo",  # a port out of range
    "sqlite://alice:S3cret@/x.db",  # credentials on an SQLite URL
    "memory://alice:S3cret@x",  # a memory storage with a path
    "redis://db/hpo?password=S3cret",  # a password in the query string
]


@pytest.mark.parametrize("url", LEAKY_URLS)
@pytest.mark.parametrize("opener", ["open", "open_read_only", "upgrade"])
def test_storage_errors_never_show_the_password(url: str, opener: str) -> None:
    if "psycopg2" in url and importlib.util.find_spec("psycopg2") is not None:
        pytest.skip("psycopg2 is installed here")
    with pytest.raises(StorageError) as caught:
        if opener == "upgrade":
            upgrade_storage(url)
        else:
            open_storage(url, read_only=opener == "open_read_only")
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert redact_url(url).split("?")[0] in str(caught.value)  # the URL is named, masked
    context = caught.value.__context__
    assert caught.value.__cause__ is None and (context is None or caught.value.__suppress_context__)


def test_an_unreachable_server_error_hides_the_password() -> None:
    url = "postgresql://alice:S3cret@127.0.0.1:1/hpo?connect_timeout=1"
    with pytest.raises(StorageError, match="cannot open storage") as caught:
        PostgreSQLStorage(url, busy_timeout=0.5)
    assert SECRET not in str(caught.value)


def test_the_command_line_upgrade_hides_the_password(cli: Callable[..., Any]) -> None:
    result = cli("db", "upgrade", "--storage", "postgresq://alice:S3cret@db/hpo")
    assert result.returncode != 0
    assert "unknown scheme" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_database_errors_are_rewrapped_without_the_password() -> None:
    storage = SQLiteStorage("sqlite:///:memory:")
    storage.url = "postgresql://alice:S3cret@db/hpo"  # as a PostgreSQL storage keeps it
    echoed = Exception(f"cannot reach {storage.url}: password 'S3cret' rejected")
    error = storage.log._error(DBAPIError("SELECT 1", {}, echoed), "read")
    assert isinstance(error, StorageError)
    assert SECRET not in str(error) and "alice:***@db" in str(error)


def test_a_driver_error_that_echoes_the_url_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://alice:S3cret@db/hpo"

    def failing(parsed: Any, **options: Any) -> Any:
        raise RuntimeError(f"no engine for {url} (password S3cret)")

    monkeypatch.setattr(sql_engine.sa, "create_engine", failing)
    with pytest.raises(StorageError) as caught:
        open_storage(url)
    assert SECRET not in str(caught.value) and "alice:***@db" in str(caught.value)


def test_a_storage_repr_hides_the_password() -> None:
    storage = open_storage("memory://")
    storage.url = "postgresql://alice:S3cret@db/hpo"
    assert SECRET not in repr(storage)
    assert repr(storage) == "MemoryStorage('postgresql://alice:***@db/hpo')"
    assert repr(open_storage("sqlite:///x.db", read_only=True)) == (
        "SQLiteStorage('sqlite:///x.db', read_only=True)"
    )


def test_scrub_masks_each_form_of_the_password() -> None:
    url = "postgresql://alice:S3%40cret@db/hpo"
    text = f"{url} said: password S3@cret or S3%40cret is wrong"
    assert scrub(text, url) == "postgresql://alice:***@db/hpo said: password *** or *** is wrong"


# -- malformed URLs: one line naming the URL and what is expected ---------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://x", "memory storage takes no path or options: expected 'memory://'"),
        ("postgresql://u@db:abc/x", "its port is not a number"),
        ("sqlite://user:pw@/x.db", "an SQLite URL names a file"),
        ("sqlite://runs.db", "three slashes"),
        ("mysql://u@db/x", "unknown scheme 'mysql': expected one of the schemes memory, sqlite"),
    ],
)
def test_malformed_storage_urls_are_storage_errors(url: str, expected: str) -> None:
    with pytest.raises(StorageError, match=re.escape(expected)):
        open_storage(url)
