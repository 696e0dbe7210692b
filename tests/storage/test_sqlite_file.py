"""The SQLite file under misuse: read without writing, another application's file, a file
deleted while a study runs, damaged records and damaged files."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import pytest

import tuneful
from tuneful.errors import CorruptDataWarning, StorageError, StudyNotFoundError
from tuneful.records import TrialState
from tuneful.storage import open_storage

SPACE = {"x": {"type": "float", "low": 0, "high": 1}}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def _optuna_like(path: Path) -> Path:
    """A file of another application: its own tables, rollback journal."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT)")
        conn.execute("CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, study_id INTEGER)")
        conn.execute("INSERT INTO studies VALUES (1, 'theirs')")
    return path


def _tuneful_file(path: Path, trials: int = 3) -> Path:
    study = tuneful.create_study("s", space=SPACE, storage=f"sqlite:///{path}", seed=0)
    study.optimize(lambda trial: trial.params["x"], n_trials=trials, show_progress_bar=False)
    study.storage.close()
    return path


# -- reading never writes ------------------------------------------------------------------------
def test_read_only_open_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nothing-here.db"
    storage = open_storage(f"sqlite:///{path}", read_only=True)
    assert storage.list_studies() == []
    with pytest.raises(StudyNotFoundError, match="'s'"):
        storage.get_study("s")
    assert not path.exists()


def test_read_only_open_of_another_applications_file_changes_nothing(tmp_path: Path) -> None:
    path = _optuna_like(tmp_path / "optuna.db")
    before = _digest(path)
    storage = open_storage(f"sqlite:///{path}", read_only=True)
    assert storage.list_studies() == []  # read as an empty storage
    with pytest.raises(StudyNotFoundError):
        storage.get_study("theirs")
    assert storage.read_events(1) == [] and storage.count_trials(1) == {}
    storage.close()
    assert _digest(path) == before
    assert _journal_mode(path) == "delete"
    assert _tables(path) == {"studies", "trials"}


def test_read_only_storage_reads_studies_and_refuses_writes(tmp_path: Path) -> None:
    path = _tuneful_file(tmp_path / "runs.db")
    before = _digest(path)
    storage = open_storage(f"sqlite:///{path}", read_only=True)
    info = storage.get_study("s")
    assert [s.name for s in storage.list_studies()] == ["s"]
    assert storage.count_trials(info.id) == {"COMPLETE": 3}
    assert len(tuneful.load_study("s", storage=storage).trials) == 3
    with pytest.raises(StorageError, match="opened read-only"):
        storage.create_trial(info.id, state=TrialState.RUNNING)
    with pytest.raises(StorageError, match="opened read-only"):
        storage.delete_study("s")
    storage.close()
    assert _digest(path) == before


def test_read_only_storage_sees_tables_created_after_it_opened(tmp_path: Path) -> None:
    path = tmp_path / "later.db"
    reader = open_storage(f"sqlite:///{path}", read_only=True)
    assert reader.list_studies() == []
    _tuneful_file(path)
    assert [s.name for s in reader.list_studies()] == ["s"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes any folder")
def test_read_only_folder_can_be_listed_and_shown(tmp_path: Path) -> None:
    folder = tmp_path / "frozen"
    folder.mkdir()
    path = _tuneful_file(folder / "runs.db")
    folder.chmod(0o555)
    try:
        storage = open_storage(f"sqlite:///{path}", read_only=True)
        assert [s.name for s in storage.list_studies()] == ["s"]
        assert len(tuneful.load_study("s", storage=storage).trials) == 3
    finally:
        folder.chmod(0o755)


def test_opening_another_applications_file_to_write_is_refused(tmp_path: Path) -> None:
    path = _optuna_like(tmp_path / "optuna.db")
    before = _digest(path)
    with pytest.raises(StorageError, match=r"not tuneful's \(studies, trials\).*allow_foreign"):
        open_storage(f"sqlite:///{path}")
    with pytest.raises(StorageError, match="not tuneful's"):
        tuneful.create_study("mine", space=SPACE, storage=f"sqlite:///{path}")
    assert _digest(path) == before
    assert _journal_mode(path) == "delete"
    assert _tables(path) == {"studies", "trials"}


def test_foreign_tables_are_allowed_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _optuna_like(tmp_path / "shared.db")
    storage = open_storage(f"sqlite:///{path}", allow_foreign_tables=True)
    storage.create_study("mine", directions=["minimize"], space=None, settings={})
    storage.close()
    assert {"studies", "trials", "tuneful_studies"} <= _tables(path)
    assert [s.name for s in open_storage(f"sqlite:///{path}").list_studies()] == ["mine"]

    other = _optuna_like(tmp_path / "other.db")
    monkeypatch.setenv("TUNEFUL_ALLOW_FOREIGN_TABLES", "1")
    open_storage(f"sqlite:///{other}").close()
    assert "tuneful_meta" in _tables(other)


# -- the file deleted or replaced while a study runs ---------------------------------------------
def test_a_deleted_storage_file_stops_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    storage = open_storage(f"sqlite:///{path}")
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    number = storage.create_trial(sid, state=TrialState.RUNNING)
    os.remove(path)
    with pytest.raises(StorageError, match="was deleted while this process had it open"):
        storage.finish_trial(sid, number, state=TrialState.COMPLETE, values=[1.0])
    with pytest.raises(StorageError, match="was deleted"):
        storage.create_trial(sid, state=TrialState.RUNNING)


def test_a_replaced_storage_file_stops_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    storage = open_storage(f"sqlite:///{path}")
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    _tuneful_file(tmp_path / "other.db")
    os.replace(tmp_path / "other.db", path)
    with pytest.raises(StorageError, match="was replaced by another file"):
        storage.create_trial(sid, state=TrialState.RUNNING)


def test_a_study_whose_file_is_deleted_fails_instead_of_finishing_ok(tmp_path: Path) -> None:
    path = tmp_path / "study.db"
    study = tuneful.create_study("s", space=SPACE, storage=f"sqlite:///{path}", seed=0)
    study.optimize(lambda trial: trial.params["x"], n_trials=2, show_progress_bar=False)
    os.remove(path)
    with pytest.raises(StorageError, match="the trials written since are in the lost file"):
        study.optimize(lambda trial: trial.params["x"], n_trials=2, show_progress_bar=False)
    with pytest.raises(StorageError, match="was deleted"):
        study.ask()


# -- damaged records and damaged files ----------------------------------------------------------
def _damage_event(path: Path, kind: str, number: int, payload: str) -> int:
    with sqlite3.connect(path) as conn:
        (event_id,) = conn.execute(
            "SELECT id FROM tuneful_events WHERE kind = ? AND number = ?", (kind, number)
        ).fetchone()
        conn.execute("UPDATE tuneful_events SET payload = ? WHERE id = ?", (payload, event_id))
    return int(event_id)


def test_a_corrupt_event_is_skipped_and_reported(tmp_path: Path) -> None:
    path = _tuneful_file(tmp_path / "runs.db")
    bad = _damage_event(path, "finished", 1, "{not json")
    with pytest.warns(CorruptDataWarning, match=f"event {bad} \\('finished' of trial 1"):
        study = tuneful.load_study("s", storage=f"sqlite:///{path}")
        trials = study.trials
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.RUNNING,
        TrialState.COMPLETE,
    ]
    assert trials[0].value is not None and trials[2].value is not None
    skipped = study.storage.skipped_events(study.engine.study_id)
    assert [(e.id, e.kind, e.number) for e in skipped] == [(bad, "finished", 1)]
    assert "cannot be read" in skipped[0].reason


def test_an_event_whose_payload_does_not_fit_its_kind_is_skipped(tmp_path: Path) -> None:
    path = _tuneful_file(tmp_path / "runs.db")
    bad = _damage_event(path, "finished", 0, '{"state": "EXPLODED"}')
    storage = open_storage(f"sqlite:///{path}", read_only=True)
    with pytest.warns(CorruptDataWarning, match=f"event {bad}"):
        study = tuneful.load_study("s", storage=storage)
        trials = study.trials
    assert trials[0].state is TrialState.RUNNING and trials[0].value is None
    assert trials[1].state is TrialState.COMPLETE
    assert [e.id for e in study.engine.replica.skipped_events] == [bad]


def _garble_middle(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as file:
        file.seek(size // 3)
        file.write(os.urandom(size // 3))


def test_garbage_in_the_middle_of_the_file_is_a_storage_error(tmp_path: Path) -> None:
    path = _tuneful_file(tmp_path / "runs.db", trials=60)
    _garble_middle(path)
    with pytest.raises(
        StorageError, match=f"storage file {path} is (damaged|not an SQLite)"
    ) as caught:
        study = tuneful.load_study("s", storage=f"sqlite:///{path}")
        assert study.trials
        study.optimize(lambda trial: trial.params["x"], n_trials=60, show_progress_bar=False)
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 200)
    before = _digest(path)
    with pytest.raises(StorageError, match=f"storage file {path} is not an SQLite database"):
        open_storage(f"sqlite:///{path}", read_only=read_only)
    assert _digest(path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes any file")
def test_a_read_only_file_opened_to_write_says_how_to_read_it(tmp_path: Path) -> None:
    path = _tuneful_file(tmp_path / "runs.db")
    path.chmod(0o444)
    with pytest.raises(StorageError, match="read-only.*open_storage\\(url, read_only=True\\)"):
        tuneful.create_study("new", space=SPACE, storage=f"sqlite:///{path}")
    assert [s.name for s in open_storage(f"sqlite:///{path}", read_only=True).list_studies()] == [
        "s"
    ]
