"""SQLite specifics: the file, schema version, bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import tuneful
from tuneful.errors import SchemaVersionError, StorageError, StudyError
from tuneful.storage import MemoryStorage, open_storage
from tuneful.storage.base import SCHEMA_VERSION


def test_default_is_sqlite_file_in_cwd(tmp_path: Path) -> None:
    storage = open_storage()
    assert storage.url == "sqlite:///tuneful.db"
    storage.create_study("s", directions=["minimize"], space=None, settings={})
    assert (tmp_path / "tuneful.db").exists()


def test_plain_path_and_memory() -> None:
    assert open_storage("runs.db").url == "sqlite:///runs.db"
    assert isinstance(open_storage("memory://"), MemoryStorage)


@pytest.mark.parametrize("url", ["ftp://x/y", "no-scheme-here", "redis://localhost"])
def test_bad_urls_name_the_url(url: str) -> None:
    with pytest.raises(StorageError, match="expected"):
        open_storage(url)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(f"sqlite:///{tmp_path}/nope/x.db")


def test_schema_version_is_recorded_and_checked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/v.db"
    open_storage(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        version = conn.execute(sa.text("select value from tuneful_meta")).scalar_one()
        assert int(version) == SCHEMA_VERSION
        conn.execute(sa.text("update tuneful_meta set value = '999'"))
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="999"):
        open_storage(url)


def test_a_bad_study_name_creates_no_storage_file(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="control character"):
        tuneful.create_study("a\x00b", storage=f"sqlite:///{tmp_path}/new.db")
    assert not (tmp_path / "new.db").exists()
