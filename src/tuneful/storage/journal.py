"""A storage in one JSON-lines file (``journal:///path/to/studies.jsonl``) that the
processes of one machine share through a file lock.

The file starts with the line ``{"tuneful_journal": 1}``; every other line is one record of
:mod:`tuneful.storage.mirror` (a study created or deleted, an event with its id, a
heartbeat). Each process replays the file into a :class:`~tuneful.storage.mirror.Mirror` and
then reads only what was appended since, from the byte offset where it stopped.

- **Writes** take an exclusive ``flock`` on the file, read what other processes appended,
  check the write's conditions against that state (the trial's state, the next number, the
  limit), append the write's lines with one ``write`` and ``fsync`` them before the lock is
  released: a write that returned survives the process being killed and the machine losing
  power, as on a database server with its defaults; one that failed (a full disk) is cut
  off before the lock is released, so it never half lands. (Batching the fsyncs would need writes
  to wait for one another; heartbeats alone are not synced: one lost to a power cut only
  makes a trial look stale sooner.) The lines of one write that logs several events carry
  ``"more": true`` except the last, and are applied only together.
- **Reads** take a shared lock, so they never see a write half done.
- **A torn write** (the process, or the machine, stopped in the middle of one) is an
  incomplete last line or write: readers leave it out and report it once with a
  :class:`~tuneful.errors.CorruptDataWarning`; the next writer cuts it off (it was never
  acknowledged). A damaged line elsewhere is skipped and reported the same way.
- The file being deleted or replaced while it is open is an error, as for SQLite; so is a
  file that is not a journal (it is never written to).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tuneful.errors import StorageError
from tuneful.storage.base import Storage
from tuneful.storage.files import WatchedFile
from tuneful.storage.log import Entry, Event, LogBase, SkippedEvent, StudyInfo
from tuneful.storage.mirror import Mirror, Record
from tuneful.storage.urls import redact_url

__all__ = ["JournalLog", "JournalStorage", "HEADER", "journal_path"]

#: The first line of every journal file.
HEADER = {"tuneful_journal": 1}
_HEADER_LINE = json.dumps(HEADER).encode() + b"\n"


def journal_path(url: str) -> str:
    """The file of ``journal:///relative/path.jsonl`` or ``journal:////absolute/path``."""
    path = url.split("://", 1)[1] if "://" in url else url
    if url.startswith("journal:") and not path.startswith("/"):
        raise StorageError(
            f"storage URL {redact_url(url)!r}: a journal URL names a file: expected "
            "journal:///relative/path.jsonl (three slashes) or journal:////absolute/path.jsonl"
        )
    return path[1:] if url.startswith("journal:") else path


def _line(record: Mapping[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), allow_nan=False).encode() + b"\n"


def _sync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournalLog(LogBase):
    """The event log of :class:`JournalStorage` (see the module docstring)."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.url = url
        self.read_only = read_only
        self.file = WatchedFile(journal_path(url))
        self._shown = redact_url(url)
        self._threads = threading.Lock()  # flock does not exclude threads sharing one fd
        self._fd: int | None = None
        self._pid = os.getpid()
        self._reset()
        if not read_only:
            folder = os.path.dirname(self.file.path)
            if not os.path.isdir(folder):
                raise StorageError(f"storage URL {self._shown!r}: folder {folder!r} does not exist")
        with self._locked(exclusive=not read_only):
            pass  # opens (or creates) the file and reads it

    def _reset(self) -> None:
        self._mirror = Mirror(self._shown)
        self._offset = 0  # bytes of whole writes read so far
        self._lines = 0  # lines in them

    # -- the file ------------------------------------------------------------------------
    def _open(self) -> int | None:
        """The file's descriptor (opened once per process); None while a read-only storage
        finds no file."""
        if self._fd is not None and self._pid == os.getpid():
            return self._fd
        if self._fd is not None:  # a forked child: its own descriptor, or flock is shared
            os.close(self._fd)
            self._fd, self._pid = None, os.getpid()
        if self.read_only and not self.file.exists():
            return None
        flags = os.O_RDONLY if self.read_only else os.O_RDWR | os.O_APPEND | os.O_CREAT
        try:
            fd = os.open(self.file.path, flags, 0o644)
        except OSError as exc:
            raise StorageError(f"cannot open storage {self._shown!r}: {exc.strerror}") from None
        if not self.file.remembered:
            self.file.remember(fd)
        self._fd = fd
        return fd

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[int | None]:
        """Hold the file's lock, with every write of other processes read."""
        with self._threads:
            fd = self._open()
            if fd is None:
                yield None
                return
            self.file.check()
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                self._catch_up(fd, exclusive)
                yield fd
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _catch_up(self, fd: int, exclusive: bool) -> None:
        """Apply the whole writes appended since the last look; a torn one at the end is
        reported (and, by a writer, cut off)."""
        size = os.fstat(fd).st_size
        if size < self._offset:  # cut off since by a writer: only ever a torn tail
            self._reset()
        base = self._offset
        data = os.pread(fd, size - base, base) if size > base else b""
        if base == 0 and data:
            if not data.startswith(_HEADER_LINE[: len(data)]):
                self._refuse(data)
            if not data.startswith(_HEADER_LINE):  # a torn header: nothing was written
                self._torn(fd, size, exclusive)
                return
            base = self._offset = len(_HEADER_LINE)
            data, self._lines = data[base:], 1
        pending: list[tuple[int, Record | None]] = []
        start = done = 0
        while (end := data.find(b"\n", start)) >= 0:
            number = self._lines + len(pending) + 1
            record = self._parse(data[start:end], number)
            start = end + 1
            pending.append((number, record))
            if record is None or not record.get("more"):
                self._apply(pending)
                self._lines += len(pending)
                pending, done = [], start
        self._offset = base + done
        if done < len(data):
            self._torn(fd, size, exclusive)

    def _parse(self, raw: bytes, number: int) -> Record | None:
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
            return record
        except ValueError as exc:
            reason = f"line {number} of {self.file.path} cannot be read ({exc})"
            self.skip(SkippedEvent(number, None, None, "unreadable line", reason), ("line", number))
            return None

    def _apply(self, lines: Sequence[tuple[int, Record | None]]) -> None:
        """Apply the records of one write, skipping (and reporting) one that does not fit."""
        for number, record in lines:
            if record is None:
                continue
            try:
                self._mirror.apply(record)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                if isinstance(record.get("id"), int):
                    self._mirror.last_event_id = max(self._mirror.last_event_id, record["id"])
                reason = f"line {number} of {self.file.path} does not fit ({exc})"
                study, event = record.get("study"), record.get("id")
                study = study if isinstance(study, int) else None
                event = event if isinstance(event, int) else number
                kind = str(record.get("kind", record.get("op")))
                self.skip(SkippedEvent(event, study, None, kind, reason), ("line", number))

    def _torn(self, fd: int, size: int, exclusive: bool) -> None:
        """A write cut short (its process or machine stopped): never acknowledged."""
        torn = size - self._offset
        reason = (
            f"the last {torn} bytes of {self.file.path} are a write cut short (its process "
            "was killed while writing, or the machine stopped); "
            + ("they were removed" if exclusive else "they are left out")
        )
        self.skip(SkippedEvent(self._lines + 1, None, None, "torn write", reason), ("torn", size))
        if exclusive:
            os.ftruncate(fd, self._offset)

    def _refuse(self, data: bytes) -> None:
        first = data.split(b"\n", 1)[0][:60]
        raise StorageError(
            f"storage file {self.file.path} is not a tuneful journal (its first line is "
            f"{first.decode(errors='replace')!r}, not {_HEADER_LINE.decode().strip()}): "
            "point --storage at a journal of its own"
        )

    def _write(self, fd: int, records: Sequence[Record], *, sync: bool = True) -> None:
        """Append the records of one write (under the exclusive lock) and apply them."""
        lines = [_line({**r, "more": True}) for r in records[:-1]] + [_line(records[-1])]
        data = b"".join(lines)
        if self._offset == 0:  # a new (or emptied) file
            data = _HEADER_LINE + data
        try:
            written = 0
            while written < len(data):
                written += os.write(fd, data[written:])
            if sync:
                os.fsync(fd)
        except BaseException as exc:  # a full disk, say: the write must not half land
            os.ftruncate(fd, self._offset)
            if isinstance(exc, OSError):
                raise StorageError(
                    f"cannot write storage {self._shown!r}: {exc.strerror or exc} (nothing of "
                    "this write was kept)"
                ) from None
            raise
        if self._offset == 0:  # the new file's name, on disk too
            _sync_folder(os.path.dirname(self.file.path))
        self._mirror.apply_planned(records)
        self._offset += len(data)
        self._lines += len(records) + (1 if self._lines == 0 else 0)

    # -- the log -------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo | None:
        with self._locked(exclusive=True) as fd:
            assert fd is not None
            record = self._mirror.plan_study(name, directions, space, settings, time.time())
            if record is None:
                return None
            self._write(fd, [record])
            return self._mirror.by_id[record["id"]].info

    def get_study(self, name: str) -> StudyInfo | None:
        with self._locked(exclusive=False):
            return self._mirror.get_study(name)

    def delete_study(self, name: str) -> bool:
        with self._locked(exclusive=True) as fd:
            assert fd is not None
            info = self._mirror.get_study(name)
            if info is not None:
                self._write(fd, [{"op": "delete", "study": info.id}])
            return info is not None

    def list_studies(self) -> list[StudyInfo]:
        with self._locked(exclusive=False):
            return self._mirror.list_studies()

    def count_trials(self, study_id: int) -> dict[str, int]:
        with self._locked(exclusive=False):
            known = study_id in self._mirror.by_id
            return self._mirror.count_trials(study_id) if known else {}

    def trial_state(self, study_id: int, number: int) -> str | None:
        with self._locked(exclusive=False):
            known = study_id in self._mirror.by_id
            return self._mirror.trial_state(study_id, number) if known else None

    def append(self, study_id: int, entry: Entry) -> int | None:
        with self._locked(exclusive=True) as fd:
            assert fd is not None
            planned = self._mirror.plan(study_id, entry, time.time())
            if planned is None:
                return None
            number, records = planned
            self._write(fd, records)
            return number

    def read_events(self, study_id: int, after: int) -> list[Event]:
        with self._locked(exclusive=False):
            if study_id not in self._mirror.by_id:
                return []
            return self._mirror.read_events(study_id, after)

    def heartbeat(self, study_id: int, numbers: Sequence[int], now: float) -> None:
        with self._locked(exclusive=True) as fd:
            assert fd is not None
            self._mirror.study(study_id)  # a deleted study is an error
            record = {"op": "beat", "study": study_id, "numbers": list(numbers), "time": now}
            self._write(fd, [record], sync=False)

    def stale_trials(self, study_id: int, cutoff: float) -> list[int]:
        with self._locked(exclusive=False):
            if study_id not in self._mirror.by_id:
                return []
            return self._mirror.stale_trials(study_id, cutoff)

    def close(self) -> None:
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None


class JournalStorage(Storage):
    """Studies in one JSON-lines file shared by the processes of one machine.

    Args:
        url: ``journal:///relative/path.jsonl`` or ``journal:////absolute/path.jsonl`` (or a
            plain path ending in ``.jsonl``); the file is created on first use.
        read_only: only read: no file is created (a missing one reads as empty) and every
            write raises :class:`~tuneful.errors.StorageError`.

    Raises:
        StorageError: the folder does not exist, the file cannot be opened, or it is not a
            journal.
    """

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        super().__init__(JournalLog(url, read_only=read_only))
