"""Studies, their logs and trial indexes held in this process, changed only by records.

A record is a plain dict, one per change (the form a journal file keeps, one per line):

- ``{"op": "study", "id", "name", "directions", "space", "settings", "created_at"}``;
- ``{"op": "delete", "study"}``;
- ``{"op": "event", "id", "study", "number", "kind", "payload", "time"}``, with ``"state"``
  (the trial's new state) and ``"beat"`` (its heartbeat time, None: not monitored) when the
  event changes them; a ``created`` event adds the trial;
- ``{"op": "beat", "study", "numbers", "time"}``: the trials' worker is alive.

:meth:`Mirror.plan` turns an :class:`~tuneful.storage.log.Entry` into the records that write
it, or None when its conditions do not hold, without changing anything; :meth:`Mirror.apply`
applies a record. The memory backend and the journal file share it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneful.errors import StudyNotFoundError
from tuneful.records import TrialState
from tuneful.storage.log import NEW, Entry, Event, StudyInfo

__all__ = ["Mirror", "Record"]

Record = dict[str, Any]
_RUNNING = TrialState.RUNNING.value
_STATES = {state: state.value for state in TrialState}  # faster than .value on a hot path


@dataclass
class _Slot:
    state: str
    heartbeat_at: float | None  # None: not monitored


@dataclass
class _Study:
    info: StudyInfo
    events: list[Event] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)


class Mirror:
    """Every study of a storage, as its records built them."""

    def __init__(self, where: str) -> None:
        self.where = where  # the storage, as messages name it
        self.by_name: dict[str, _Study] = {}
        self.by_id: dict[int, _Study] = {}
        self.last_study_id = 0
        self.last_event_id = 0

    # -- reading -------------------------------------------------------------------------
    def study(self, study_id: int) -> _Study:
        data = self.by_id.get(study_id)
        if data is None:
            raise StudyNotFoundError(f"no study with id {study_id} in {self.where} (deleted?)")
        return data

    def get_study(self, name: str) -> StudyInfo | None:
        data = self.by_name.get(name)
        return None if data is None else data.info

    def list_studies(self) -> list[StudyInfo]:
        return sorted((d.info for d in self.by_name.values()), key=lambda info: info.id)

    def count_trials(self, study_id: int) -> dict[str, int]:
        counts: dict[str, int] = {}
        for slot in self.study(study_id).slots:
            counts[slot.state] = counts.get(slot.state, 0) + 1
        return counts

    def trial_state(self, study_id: int, number: int) -> str | None:
        slots = self.study(study_id).slots
        return slots[number].state if 0 <= number < len(slots) else None

    def read_events(self, study_id: int, after: int) -> list[Event]:
        events = self.study(study_id).events
        start = len(events)  # a reader mostly asks for the few newest: look from the end
        while start and events[start - 1].id > after:
            start -= 1
        return events[start:]

    def stale_trials(self, study_id: int, cutoff: float) -> list[int]:
        return [
            number
            for number, slot in enumerate(self.study(study_id).slots)
            if slot.state == _RUNNING
            and slot.heartbeat_at is not None
            and slot.heartbeat_at < cutoff
        ]

    # -- planning ------------------------------------------------------------------------
    def plan_study(
        self,
        name: str,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
        now: float,
    ) -> Record | None:
        """The record creating a study, or None when the name is taken."""
        if name in self.by_name:
            return None
        return {
            "op": "study",
            "id": self.last_study_id + 1,
            "name": name,
            "directions": list(directions),
            "space": space,
            "settings": dict(settings),
            "created_at": now,
        }

    def plan(self, study_id: int, entry: Entry, now: float) -> tuple[int, list[Record]] | None:
        """The trial number and the records that write ``entry``; None when refused.

        (States compare as strings: :class:`~tuneful.records.TrialState` is a ``str``.)
        """
        data = self.study(study_id)
        slots = data.slots
        trial = entry.trial
        if trial.__class__ is int:
            number: int = trial
        elif trial == NEW:
            number = len(slots)
            if entry.limit is not None and number >= entry.limit:
                return None
            state = _STATES[entry.state or TrialState.RUNNING]
            beat = now if entry.monitored else None
            payload = entry.payload_for(number)
            return number, [self._event(study_id, 1, number, "created", payload, now, state, beat)]
        elif trial is None:
            return 0, [self._event(study_id, 1, None, entry.kind, entry.payload, now)]
        else:  # OLDEST
            number = next((n for n, s in enumerate(slots) if s.state == entry.when), -1)
        if not 0 <= number < len(slots) or not _holds(slots[number], entry):
            return None
        record = self._event(study_id, 1, number, entry.kind, entry.payload, now)
        if entry.state is not None:
            record["state"] = _STATES[entry.state]
            if entry.state is TrialState.RUNNING:
                record["beat"] = now if entry.monitored else None
        records = [record]
        if entry.retry is not None:
            events = [e for e in data.events if e.number == number] + [_as_event(record)]
            retry = entry.retry(number, events)
            if retry is not None:
                state = str(retry["state"])
                records.append(
                    self._event(study_id, 2, len(slots), "created", retry, now, state, None)
                )
        return number, records

    def _event(
        self,
        study_id: int,
        offset: int,
        number: int | None,
        kind: str,
        payload: Mapping[str, Any],
        now: float,
        *effects: Any,
    ) -> Record:
        record: Record = {
            "op": "event",
            "id": self.last_event_id + offset,
            "study": study_id,
            "number": number,
            "kind": kind,
            "payload": payload,
            "time": now,
        }
        if effects:
            record["state"], record["beat"] = effects
        return record

    # -- applying ------------------------------------------------------------------------
    def apply(self, record: Mapping[str, Any]) -> None:
        """Apply one record; a record that does not fit raises (KeyError, TypeError,
        ValueError, AttributeError) before anything is changed."""
        op = record["op"]
        if op == "event":
            self._apply_event(record, None)
        elif op == "beat":
            data = self.by_id.get(int(record["study"]))
            when = float(record["time"])
            slots = data.slots if data is not None else []
            for number in record["numbers"]:
                slot = slots[number] if 0 <= number < len(slots) else None
                if slot is not None and slot.state == _RUNNING and slot.heartbeat_at is not None:
                    slot.heartbeat_at = when
        elif op == "study":
            info = StudyInfo(
                id=int(record["id"]),
                name=str(record["name"]),
                directions=tuple(str(d) for d in record["directions"]),
                space=record["space"],
                settings=dict(record["settings"]),
                created_at=float(record["created_at"]),
            )
            self.by_name[info.name] = self.by_id[info.id] = _Study(info)
            self.last_study_id = max(self.last_study_id, info.id)
        elif op == "delete":
            data = self.by_id.pop(int(record["study"]), None)
            if data is not None:
                del self.by_name[data.info.name]
        else:
            raise ValueError(f"unknown record {op!r}")

    def apply_planned(self, records: Sequence[Record]) -> None:
        """Apply records that :meth:`plan` just made (trusted: nothing is checked)."""
        for record in records:
            if record["op"] != "event":
                self.apply(record)
                continue
            data = self.by_id[record["study"]]
            number = record["number"]
            event = Event(record["id"], number, record["kind"], record["payload"], record["time"])
            self.last_event_id = event.id
            if number is not None:
                if event.kind == "created":
                    data.slots.append(_Slot(record["state"], record["beat"]))
                elif "state" in record:
                    slot = data.slots[number]
                    slot.state = record["state"]
                    slot.heartbeat_at = record.get("beat", slot.heartbeat_at)
            data.events.append(event)

    def _apply_event(self, record: Mapping[str, Any], event: Event | None = None) -> None:
        event = _as_event(record) if event is None else event
        self.last_event_id = max(self.last_event_id, event.id)
        data = self.by_id.get(int(record["study"]))
        if data is None:  # the study was deleted since
            return
        number = event.number
        if number is not None:
            if event.kind == "created":
                if number != len(data.slots):
                    raise ValueError(f"trial {number} created as trial {len(data.slots)}")
                data.slots.append(_Slot(str(record["state"]), record["beat"]))
            elif not 0 <= number < len(data.slots):
                raise ValueError(f"an event of trial {number}, which was never created")
            else:
                slot = data.slots[number]
                slot.state = str(record.get("state", slot.state))
                slot.heartbeat_at = record.get("beat", slot.heartbeat_at)
        data.events.append(event)


def _holds(slot: _Slot, entry: Entry) -> bool:
    """Whether an existing trial meets the entry's conditions."""
    if entry.when is not None and slot.state != entry.when:
        return False
    if entry.stale_before is not None:
        return slot.heartbeat_at is not None and slot.heartbeat_at < entry.stale_before
    return True


def _as_event(record: Mapping[str, Any]) -> Event:
    payload = record["payload"]
    if not isinstance(payload, dict):
        raise TypeError(f"a payload that is a {type(payload).__name__}, not an object")
    number = record["number"]
    return Event(
        int(record["id"]),
        None if number is None else int(number),
        str(record["kind"]),
        payload,
        float(record["time"]),
    )
