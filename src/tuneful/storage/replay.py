"""Rebuild trial records from a study's event log, incrementally.

A :class:`StudyReplica` remembers the id of the last event it applied; ``apply`` takes only
the events that are new, so a worker pays for what changed since its last look. An event
whose payload does not fit its kind (a damaged or hand-edited log) is skipped, reported once
with a :class:`~tuneful.errors.CorruptDataWarning` and listed in
:attr:`StudyReplica.skipped_events`: the rest of the study stays readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tuneful.records import TrialRecord, TrialState
from tuneful.storage.log import Event, SkippedEvent, warn_skipped

__all__ = ["StudyReplica"]


@dataclass
class _TrialDraft:
    number: int
    state: TrialState
    params: dict[str, Any] = field(default_factory=dict)
    values: tuple[float, ...] | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)
    worker: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    constraints: tuple[float, ...] | None = None

    def freeze(self) -> TrialRecord:
        return TrialRecord(
            number=self.number,
            state=self.state,
            params=dict(self.params),
            values=self.values,
            intermediate=dict(self.intermediate),
            user_attrs=dict(self.user_attrs),
            system_attrs=dict(self.system_attrs),
            distributions=dict(self.distributions),
            worker=self.worker,
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=self.error,
            constraints=self.constraints,
        )


def _apply_one(drafts: dict[int, _TrialDraft], event: Event) -> _TrialDraft | None:
    """Apply one event; a payload that does not fit raises (KeyError, TypeError, ValueError,
    AttributeError) before anything is changed."""
    payload = event.payload
    if event.kind == "created":
        if event.number is None:
            raise ValueError("a 'created' event without a trial number")
        state = TrialState(payload["state"])
        draft = _TrialDraft(
            number=event.number,
            state=state,
            params=dict(payload.get("params") or {}),
            system_attrs=dict(payload.get("system_attrs") or {}),
            user_attrs=dict(payload.get("user_attrs") or {}),
            distributions=dict(payload.get("distributions") or {}),
            worker=payload.get("worker"),
            created_at=event.time,
            started_at=event.time if state is TrialState.RUNNING else None,
        )
        drafts[event.number] = draft
        return draft
    if event.number is None:
        return None
    found = drafts.get(event.number)
    if found is None:  # log written by a newer release or truncated by hand: skip
        return None
    draft = found
    if event.kind == "started":
        worker = payload.get("worker")
        draft.state = TrialState.RUNNING
        draft.worker = worker
        draft.started_at = event.time
    elif event.kind == "params":
        params, distributions = dict(payload.get("params") or {}), payload.get("distributions")
        distributions = dict(distributions or {})
        draft.params.update(params)
        draft.distributions.update(distributions)
    elif event.kind == "reported":
        step, value = int(payload["step"]), float(payload["value"])
        draft.intermediate[step] = value
    elif event.kind in ("user_attr", "system_attr"):
        key, value = payload["key"], payload["value"]
        attrs = draft.user_attrs if event.kind == "user_attr" else draft.system_attrs
        attrs[key] = value  # an unhashable key raises here, before anything changed
    elif event.kind == "finished":
        state = TrialState(payload["state"])
        values = payload.get("values")
        finals = None if values is None else tuple(float(v) for v in values)
        told = payload.get("constraints")  # absent in logs written before constraints
        limits = None if told is None else tuple(float(c) for c in told)
        draft.state, draft.values, draft.error = state, finals, payload.get("error")
        draft.constraints = limits
        draft.finished_at = event.time
    return draft


class StudyReplica:
    """A process-local copy of a study's trials, kept current by replaying new events."""

    def __init__(self) -> None:
        self.last_event_id = 0
        self._drafts: dict[int, _TrialDraft] = {}
        self._frozen: list[TrialRecord | None] = []  # index = trial number
        self._dirty: set[int] = set()
        self._waiting: set[int] = set()
        self._holes = 0  # numbers seen in events whose creation was not (yet) seen
        self._view: list[TrialRecord] | None = None  # trials_view(), until the next change
        self.study_attrs: dict[str, Any] = {}
        self.version = 0  # bumped whenever anything changes
        self.has_reports = False  # whether any trial reported a learning-curve point
        #: Events left out because their payload did not fit their kind, oldest first.
        self.skipped_events: list[SkippedEvent] = []

    def apply(self, events: Iterable[Event]) -> int:
        """Apply events newer than the last one seen; returns how many were applied."""
        applied = 0
        for event in events:
            if event.id <= self.last_event_id:
                continue
            self.last_event_id = event.id
            applied += 1
            try:
                if event.kind == "study_attr":
                    key, value = event.payload["key"], event.payload["value"]
                    self.study_attrs[key] = value
                    continue
                draft = _apply_one(self._drafts, event)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self._skip(event, exc)
                continue
            if event.kind == "reported":
                self.has_reports = True
            if draft is not None:
                self._dirty.add(draft.number)
                if draft.state is TrialState.WAITING:
                    self._waiting.add(draft.number)
                else:
                    self._waiting.discard(draft.number)
        if applied:
            self.version += 1
        return applied

    def _skip(self, event: Event, error: Exception) -> None:
        reason = f"its payload does not fit its kind ({type(error).__name__}: {error})"
        skipped = SkippedEvent(event.id, None, event.number, str(event.kind), reason)
        self.skipped_events.append(skipped)
        warn_skipped(skipped, "study log")

    def __len__(self) -> int:
        return len(self._drafts)

    def _thaw(self) -> None:
        for number in sorted(self._dirty):
            while len(self._frozen) <= number:
                self._frozen.append(None)
                self._holes += 1
            if self._frozen[number] is None:
                self._holes -= 1
            self._frozen[number] = self._drafts[number].freeze()
        self._dirty.clear()
        self._view = None

    def trial(self, number: int) -> TrialRecord:
        if self._dirty:
            self._thaw()
        record = self._frozen[number]
        if record is None:
            raise KeyError(number)
        return record

    def trials(self) -> list[TrialRecord]:
        """All trials, by number (a new list)."""
        return list(self.trials_view())

    def trials_view(self) -> list[TrialRecord]:
        """All trials, by number: one list shared by every call until the replica changes,
        which callers must not modify (a study's asks read it several times per trial)."""
        if self._dirty:
            self._thaw()
        if self._view is None:
            if self._holes:
                self._view = [t for t in self._frozen if t is not None]
            else:
                self._view = list(self._frozen)  # type: ignore[arg-type]
        return self._view

    def state_of(self, number: int) -> TrialState | None:
        draft = self._drafts.get(number)
        return None if draft is None else draft.state

    def has_waiting(self) -> bool:
        return bool(self._waiting)
