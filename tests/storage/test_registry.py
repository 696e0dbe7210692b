"""open_storage dispatches through the registry of schemes."""

from __future__ import annotations

import re

import pytest

import tuneful.storage
from tuneful.errors import StorageError
from tuneful.storage import (
    MemoryStorage,
    Storage,
    open_storage,
    register_storage,
    registered_schemes,
    upgrade_storage,
)


def test_the_built_in_schemes_are_registered() -> None:
    assert registered_schemes() == ["memory", "sqlite", "postgresql", "journal"]
    assert registered_schemes(shared=True) == ["sqlite", "postgresql", "journal"]


def test_an_unknown_scheme_lists_every_registered_one() -> None:
    with pytest.raises(StorageError) as caught:
        open_storage("mysql://u@db/x")
    listed = ", ".join(registered_schemes())
    assert f"unknown scheme 'mysql': expected one of the schemes {listed} (" in str(caught.value)


def test_a_registered_scheme_is_opened_and_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tuneful.storage, "_SCHEMES", dict(tuneful.storage._SCHEMES))
    opened: list[tuple[str, bool]] = []

    def factory(url: str, *, read_only: bool, allow_foreign_tables: bool) -> Storage:
        opened.append((url, read_only))
        return MemoryStorage(read_only=read_only)

    register_storage("kv", factory, example="kv://bucket", suffixes=(".kv",))
    assert isinstance(open_storage("kv+fast://bucket", read_only=True), MemoryStorage)
    assert isinstance(open_storage("runs.kv"), MemoryStorage)
    assert opened == [("kv+fast://bucket", True), ("kv:///runs.kv", False)]
    with pytest.raises(StorageError, match=re.escape("memory, sqlite, postgresql, journal, kv (")):
        open_storage("nope://x")
    with pytest.raises(StorageError, match="has no schema to upgrade"):
        upgrade_storage("kv://bucket")


@pytest.mark.parametrize("url", ["memory://", "journal:///runs.jsonl"])
def test_storages_without_a_schema_have_nothing_to_upgrade(url: str) -> None:
    with pytest.raises(StorageError, match="has no schema"):
        upgrade_storage(url)
