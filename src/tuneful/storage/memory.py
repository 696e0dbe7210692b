"""In-process storage (``memory://``): nothing persisted, shared by the threads of a process."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tuneful.storage.base import Storage
from tuneful.storage.log import Entry, Event, LogBase, StudyInfo
from tuneful.storage.mirror import Mirror

__all__ = ["MemoryLog", "MemoryStorage"]


class MemoryLog(LogBase):
    """The event log of :class:`MemoryStorage`: a :class:`~tuneful.storage.mirror.Mirror`
    changed under a lock."""

    def __init__(self, *, read_only: bool = False) -> None:
        self.url = "memory://"
        self.read_only = read_only
        self._lock = threading.RLock()
        self._mirror = Mirror("memory://")

    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo | None:
        with self._lock:
            record = self._mirror.plan_study(name, directions, space, settings, time.time())
            if record is None:
                return None
            self._mirror.apply(record)
            return self._mirror.by_id[record["id"]].info

    def get_study(self, name: str) -> StudyInfo | None:
        with self._lock:
            return self._mirror.get_study(name)

    def delete_study(self, name: str) -> bool:
        with self._lock:
            info = self._mirror.get_study(name)
            if info is not None:
                self._mirror.apply({"op": "delete", "study": info.id})
            return info is not None

    def list_studies(self) -> list[StudyInfo]:
        with self._lock:
            return self._mirror.list_studies()

    def count_trials(self, study_id: int) -> dict[str, int]:
        with self._lock:
            return self._mirror.count_trials(study_id)

    def trial_state(self, study_id: int, number: int) -> str | None:
        with self._lock:
            return self._mirror.trial_state(study_id, number)

    def append(self, study_id: int, entry: Entry) -> int | None:
        with self._lock:
            planned = self._mirror.plan(study_id, entry, time.time())
            if planned is None:
                return None
            number, records = planned
            self._mirror.apply_planned(records)
            return number

    def read_events(self, study_id: int, after: int) -> list[Event]:
        with self._lock:
            return self._mirror.read_events(study_id, after)

    def heartbeat(self, study_id: int, numbers: Sequence[int], now: float) -> None:
        with self._lock:
            self._mirror.study(study_id)  # a deleted study is an error
            self._mirror.apply({"op": "beat", "study": study_id, "numbers": numbers, "time": now})

    def stale_trials(self, study_id: int, cutoff: float) -> list[int]:
        with self._lock:
            return self._mirror.stale_trials(study_id, cutoff)

    def close(self) -> None:
        pass


class MemoryStorage(Storage):
    """Keeps every study in this process's memory; lost when the process exits.

    ``read_only=True`` gives an empty storage that refuses writes (each ``memory://``
    storage starts empty; the flag is honoured for the same behaviour as the other backends).
    """

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__(MemoryLog(read_only=read_only))
