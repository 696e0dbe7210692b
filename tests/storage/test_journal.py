"""The journal file (``journal:///path.jsonl``) under misuse: torn writes, damaged lines,
another application's file, a file deleted while open, reading without writing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

import tuneful
from tuneful.errors import CorruptDataWarning, StorageError, StudyNotFoundError
from tuneful.records import TrialState
from tuneful.storage import Storage, journal, open_storage
from tuneful.storage.journal import HEADER

SPACE = {"x": {"type": "float", "low": 0, "high": 1}}


def _url(path: Path) -> str:
    return f"journal:///{path}"


def _journal(path: Path, trials: int = 3) -> Path:
    study = tuneful.create_study("s", space=SPACE, storage=_url(path), seed=0)
    study.optimize(lambda trial: trial.params["x"], n_trials=trials, show_progress_bar=False)
    study.storage.close()
    return path


def _states(storage: Storage) -> list[TrialState]:
    return [t.state for t in tuneful.load_study("s", storage=storage).trials]


def test_a_plain_path_ending_in_jsonl_is_a_journal(tmp_path: Path) -> None:
    path = _journal(tmp_path / "runs.jsonl")
    storage = open_storage(str(path))
    assert storage.url == f"journal:///{path}"
    assert json.loads(path.read_text().splitlines()[0]) == HEADER
    assert _states(storage) == [TrialState.COMPLETE] * 3


def test_a_journal_url_with_two_slashes_says_how_to_write_it() -> None:
    with pytest.raises(StorageError, match="three slashes"):
        open_storage("journal://runs.jsonl")


def test_a_torn_last_write_is_left_out_reported_and_cut_off_by_the_next_writer(
    tmp_path: Path,
) -> None:
    path = _journal(tmp_path / "runs.jsonl")
    whole = path.read_bytes()
    with open(path, "ab") as file:  # a process killed in the middle of its write
        file.write(b'{"op":"event","id":99,"study":1,"number":3,"kind":"crea')
    with pytest.warns(CorruptDataWarning, match="write cut short"):
        reader = open_storage(_url(path), read_only=True)
        assert _states(reader) == [TrialState.COMPLETE] * 3
    assert [e.kind for e in reader.skipped_events()] == ["torn write"]
    assert path.read_bytes().startswith(whole)  # a reader changes nothing

    with pytest.warns(CorruptDataWarning, match="they were removed"):
        writer = open_storage(_url(path))
    assert path.read_bytes() == whole
    sid = writer.get_study("s").id
    number = writer.create_trial(sid, state=TrialState.RUNNING)
    assert number == 3
    writer.finish_trial(sid, number, state=TrialState.COMPLETE, values=[0.5])
    assert _states(open_storage(_url(path))) == [TrialState.COMPLETE] * 4


def test_a_write_of_several_lines_lands_whole_or_not_at_all(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    storage = open_storage(_url(path))
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    number = storage.create_trial(sid, state=TrialState.RUNNING, params={"x": 0.5})
    before = path.read_bytes()
    assert storage.fail_trial(sid, number, error="lost", retries=1)  # fail + retry: two lines
    lines = path.read_bytes()[len(before) :].splitlines(keepends=True)
    assert len(lines) == 2 and json.loads(lines[0])["more"] is True
    path.write_bytes(before + lines[0])  # the second line never reached the file

    with pytest.warns(CorruptDataWarning, match="write cut short"):
        again = open_storage(_url(path), read_only=True)
        assert again.count_trials(sid) == {"RUNNING": 1}  # neither the failure nor its retry


def test_a_damaged_line_is_skipped_and_reported(tmp_path: Path) -> None:
    path = _journal(tmp_path / "runs.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    finished = [i for i, line in enumerate(lines) if '"kind":"finished"' in line]
    lines[finished[1]] = "{not json\n"
    path.write_text("".join(lines))
    with pytest.warns(CorruptDataWarning, match=f"line {finished[1] + 1} of"):
        study = tuneful.load_study("s", storage=_url(path))
        states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.RUNNING, TrialState.COMPLETE]
    assert [e.kind for e in study.storage.skipped_events()] == ["unreadable line"]


def test_an_event_whose_record_does_not_fit_is_skipped(tmp_path: Path) -> None:
    path = _journal(tmp_path / "runs.jsonl")
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if '"kind":"finished"' in line)
    record = json.loads(lines[at])
    record["payload"] = [1, 2]
    lines[at] = json.dumps(record) + "\n"
    path.write_text("".join(lines))
    with pytest.warns(CorruptDataWarning, match=f"event {record['id']}"):
        assert _states(open_storage(_url(path), read_only=True))[0] is TrialState.RUNNING


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_a_journal_is_refused_and_left_alone(
    tmp_path: Path, read_only: bool
) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text('{"message": "my own log"}\n' * 20)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(StorageError, match="is not a tuneful journal"):
        open_storage(_url(path), read_only=read_only)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_read_only_open_of_a_missing_journal_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nothing.jsonl"
    storage = open_storage(_url(path), read_only=True)
    assert storage.list_studies() == [] and storage.read_events(1) == []
    with pytest.raises(StudyNotFoundError):
        storage.get_study("s")
    with pytest.raises(StorageError, match="opened read-only"):
        storage.create_study("s", directions=["minimize"], space=None, settings={})
    assert not path.exists()
    _journal(path)  # a reader sees a journal created after it opened
    assert [s.name for s in storage.list_studies()] == ["s"]


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(_url(tmp_path / "nope" / "runs.jsonl"))


@pytest.mark.parametrize("how", ["deleted", "replaced by another file"])
def test_a_journal_deleted_or_replaced_while_open_stops_the_next_write(
    tmp_path: Path, how: str
) -> None:
    path = tmp_path / "runs.jsonl"
    storage = open_storage(_url(path))
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    number = storage.create_trial(sid, state=TrialState.RUNNING)
    if how == "deleted":
        os.remove(path)
    else:
        os.replace(_journal(tmp_path / "other.jsonl"), path)
    with pytest.raises(StorageError, match=f"was {how} while this process had it open"):
        storage.finish_trial(sid, number, state=TrialState.COMPLETE, values=[1.0])


def test_a_value_that_is_not_json_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    storage = open_storage(_url(path))
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    number = storage.create_trial(sid, state=TrialState.RUNNING)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        storage.append(sid, number, "reported", {"step": 0, "value": float("nan")})
    assert path.read_bytes() == before
    storage.append(sid, number, "reported", {"step": 0, "value": 1.0})
    assert [e.kind for e in open_storage(_url(path)).read_events(sid)] == ["created", "reported"]


def test_a_write_that_fails_on_a_full_disk_is_cut_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "runs.jsonl"
    storage = open_storage(_url(path))
    sid = storage.create_study("s", directions=["minimize"], space=None, settings={}).id
    number = storage.create_trial(sid, state=TrialState.RUNNING)
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "fsync", full)
    with pytest.raises(StorageError, match="No space left on device.*nothing of this write"):
        storage.finish_trial(sid, number, state=TrialState.COMPLETE, values=[1.0])
    assert path.read_bytes() == before
    monkeypatch.undo()
    storage.finish_trial(sid, number, state=TrialState.COMPLETE, values=[1.0])
    assert open_storage(_url(path)).count_trials(sid) == {"COMPLETE": 1}
