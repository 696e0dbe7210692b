"""In-process storage (``memory://``): nothing persisted, shared by the threads of a process."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneful.errors import DuplicateStudyError, StudyNotFoundError, TrialError
from tuneful.records import TrialState
from tuneful.storage.base import (
    Event,
    Storage,
    StudyInfo,
    check_limit,
    check_study_name,
    stale_reason,
)
from tuneful.storage.replay import retry_of

__all__ = ["MemoryStorage"]


@dataclass
class _TrialSlot:
    state: TrialState
    heartbeat_at: float | None  # None: not monitored


@dataclass
class _StudyData:
    info: StudyInfo
    events: list[Event] = field(default_factory=list)
    trials: list[_TrialSlot] = field(default_factory=list)
    events_by_trial: dict[int, list[Event]] = field(default_factory=dict)


class MemoryStorage(Storage):
    """Keeps every study in this process's memory; lost when the process exits.

    ``read_only=True`` gives an empty storage that refuses writes (each ``memory://``
    storage starts empty; the flag is honoured for the same behaviour as the other backends).
    """

    def __init__(self, *, read_only: bool = False) -> None:
        self.url = "memory://"
        self.read_only = read_only
        self._lock = threading.RLock()
        self._studies: dict[str, _StudyData] = {}
        self._by_id: dict[int, _StudyData] = {}
        self._next_study_id = 1
        self._next_event_id = 1

    # -- studies -------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        *,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo:
        check_study_name(name)
        self.check_writable("create a study")
        with self._lock:
            if name in self._studies:
                raise DuplicateStudyError(f"a study named {name!r} already exists in memory://")
            info = StudyInfo(
                id=self._next_study_id,
                name=name,
                directions=tuple(directions),
                space=space,
                settings=dict(settings),
                created_at=time.time(),
            )
            self._next_study_id += 1
            data = _StudyData(info)
            self._studies[name] = data
            self._by_id[info.id] = data
            return info

    def get_study(self, name: str) -> StudyInfo:
        with self._lock:
            data = self._studies.get(name)
            if data is None:
                raise StudyNotFoundError(f"no study named {name!r} in memory://")
            return data.info

    def delete_study(self, name: str) -> None:
        self.check_writable("delete a study")
        with self._lock:
            data = self._studies.pop(name, None)
            if data is None:
                raise StudyNotFoundError(f"no study named {name!r} in memory://")
            del self._by_id[data.info.id]

    def list_studies(self) -> list[StudyInfo]:
        with self._lock:
            return [d.info for d in self._studies.values()]

    def count_trials(self, study_id: int) -> dict[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for slot in self._study(study_id).trials:
                counts[slot.state.value] = counts.get(slot.state.value, 0) + 1
            return counts

    # -- trials --------------------------------------------------------------------------
    def _study(self, study_id: int) -> _StudyData:
        data = self._by_id.get(study_id)
        if data is None:
            raise StudyNotFoundError(f"no study with id {study_id} in memory:// (deleted?)")
        return data

    def _log(self, data: _StudyData, number: int | None, kind: str, payload: Mapping[str, Any]):
        event = Event(self._next_event_id, number, kind, payload, time.time())
        self._next_event_id += 1
        data.events.append(event)
        if number is not None:
            data.events_by_trial.setdefault(number, []).append(event)

    def _slot(self, data: _StudyData, number: int) -> _TrialSlot:
        if not 0 <= number < len(data.trials):
            raise TrialError(f"study {data.info.name!r} has no trial number {number}")
        return data.trials[number]

    def create_trial(
        self,
        study_id: int,
        *,
        state: TrialState,
        params: Mapping[str, Any] | None = None,
        system_attrs: Mapping[str, Any] | None = None,
        user_attrs: Mapping[str, Any] | None = None,
        worker: str | None = None,
        monitored: bool = False,
        expected_number: int | None = None,
        limit: int | None = None,
    ) -> int:
        payload: dict[str, Any] = {"state": state.value, "worker": worker}
        if system_attrs:
            payload["system_attrs"] = dict(system_attrs)
        if user_attrs:
            payload["user_attrs"] = dict(user_attrs)
        self.check_writable("create a trial")
        with self._lock:
            data = self._study(study_id)
            check_limit(len(data.trials), limit)
            if params and (expected_number is None or expected_number == len(data.trials)):
                payload["params"] = dict(params)
            return self._create(data, payload, monitored)

    def _create(self, data: _StudyData, payload: Mapping[str, Any], monitored: bool) -> int:
        number = len(data.trials)
        heartbeat = time.time() if monitored else None
        data.trials.append(_TrialSlot(TrialState(payload["state"]), heartbeat))
        self._log(data, number, "created", payload)
        return number

    def claim_trial(self, study_id: int, *, worker: str, monitored: bool = False) -> int | None:
        self.check_writable("claim a trial")
        with self._lock:
            data = self._study(study_id)
            for number, slot in enumerate(data.trials):
                if slot.state is TrialState.WAITING:
                    slot.state = TrialState.RUNNING
                    slot.heartbeat_at = time.time() if monitored else None
                    self._log(data, number, "started", {"worker": worker})
                    return number
            return None

    def append(self, study_id: int, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        self.check_writable(f"record {kind!r}")
        with self._lock:
            data = self._study(study_id)
            slot = self._slot(data, number)
            if slot.state is not TrialState.RUNNING:
                raise TrialError(
                    f"trial {number} of study {data.info.name!r} is {slot.state.value}, "
                    f"not RUNNING: cannot record {kind!r}"
                )
            self._log(data, number, kind, dict(payload))

    def finish_trial(
        self,
        study_id: int,
        number: int,
        *,
        state: TrialState,
        values: Sequence[float] | None = None,
        error: str | None = None,
    ) -> None:
        self.check_writable("finish a trial")
        with self._lock:
            data = self._study(study_id)
            slot = self._slot(data, number)
            if slot.state is not TrialState.RUNNING:
                raise TrialError(
                    f"trial {number} of study {data.info.name!r} is already {slot.state.value}; "
                    "a trial is finished once"
                )
            slot.state = state
            payload = {
                "state": state.value,
                "values": None if values is None else list(values),
                "error": error,
            }
            self._log(data, number, "finished", payload)

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        self.check_writable("set a study attribute")
        with self._lock:
            self._log(self._study(study_id), None, "study_attr", {"key": key, "value": value})

    def read_events(self, study_id: int, after: int = 0) -> list[Event]:
        with self._lock:
            events = self._study(study_id).events
            # event ids grow monotonically, so bisect on them
            lo, hi = 0, len(events)
            while lo < hi:
                mid = (lo + hi) // 2
                if events[mid].id <= after:
                    lo = mid + 1
                else:
                    hi = mid
            return events[lo:]

    # -- liveness ------------------------------------------------------------------------
    def heartbeat(self, study_id: int, numbers: Sequence[int]) -> None:
        self.check_writable("record a heartbeat")
        now = time.time()
        with self._lock:
            data = self._study(study_id)
            for number in numbers:
                slot = self._slot(data, number)
                if slot.state is TrialState.RUNNING and slot.heartbeat_at is not None:
                    slot.heartbeat_at = now

    def fail_stale_trials(self, study_id: int, *, grace: float, retries: int) -> list[int]:
        self.check_writable("fail stale trials")
        cutoff = time.time() - grace
        failed: list[int] = []
        with self._lock:
            data = self._study(study_id)
            for number, slot in enumerate(list(data.trials)):
                if (
                    slot.state is not TrialState.RUNNING
                    or slot.heartbeat_at is None
                    or slot.heartbeat_at >= cutoff
                ):
                    continue
                self._fail(data, number, stale_reason(grace), retries)
                failed.append(number)
        return failed

    def fail_trial(self, study_id: int, number: int, *, error: str, retries: int) -> bool:
        self.check_writable("fail a trial")
        with self._lock:
            data = self._study(study_id)
            if self._slot(data, number).state is not TrialState.RUNNING:
                return False
            self._fail(data, number, error, retries)
            return True

    def _fail(self, data: _StudyData, number: int, error: str, retries: int) -> None:
        data.trials[number].state = TrialState.FAIL
        self._log(data, number, "finished", {"state": "FAIL", "values": None, "error": error})
        retry = retry_of(number, data.events_by_trial.get(number, []), retries)
        if retry is not None:
            self._create(data, retry, False)
