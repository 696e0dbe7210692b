"""The primitive every backend implements: a study's event log with guarded appends.

A backend (:class:`EventLog`) stores studies and, per study, an ordered log of events that
processes replay into trials (:mod:`tuneful.storage.replay`), plus the small trial index that
the conditions of a write are checked against (each trial's state, and its last heartbeat).
It knows nothing of what the events mean: :class:`~tuneful.storage.base.Storage` decides
which conditions guard which operation and builds every payload, once for all backends.

A write is one :class:`Entry`: an event to append under conditions that the backend checks
in the same transaction (or under the same lock) as the append, atomically:

- ``trial=N, when=S``: only if trial N is in state S (``stale_before``: and it is monitored
  and its last heartbeat is older than that time);
- ``trial=NEW``: the event creates the next trial, numbered by the backend; ``limit``: only
  if the study holds fewer trials; ``expected``/``drafted``: the payload drafted for the
  number the writer expected is logged only if that is the number allocated;
- ``trial=OLDEST, when=S``: on the lowest-numbered trial in state S, if any;
- ``state``: the trial index takes that state (``monitored``: with a heartbeat from now);
- ``retry``: after the event, a function of the trial's events gives the ``created`` payload
  of a WAITING trial appended in the same write (or None).

A backend that can lose a connection without knowing whether a write committed tags the
events of each write with a random token and, before retrying, looks the token up: a write
found in the log is not repeated (each write lands exactly once).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from tuneful.errors import CorruptDataWarning, StorageError
from tuneful.records import TrialState
from tuneful.storage.urls import redact_url

__all__ = [
    "Event",
    "StudyInfo",
    "SkippedEvent",
    "Entry",
    "EventLog",
    "LogBase",
    "NEW",
    "OLDEST",
    "warn_skipped",
]

#: ``Entry.trial``: the event creates the study's next trial.
NEW: Final = "new"
#: ``Entry.trial``: the event lands on the lowest-numbered trial in state ``Entry.when``.
OLDEST: Final = "oldest"


@dataclass(frozen=True)
class Event:
    """One entry of a study's log. ``number`` is None for study-level events."""

    id: int
    number: int | None
    kind: str
    payload: Mapping[str, Any]
    time: float


@dataclass(frozen=True)
class StudyInfo:
    """What a backend knows about a study apart from its log."""

    id: int
    name: str
    directions: tuple[str, ...]
    space: Mapping[str, Any] | None
    settings: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(frozen=True)
class SkippedEvent:
    """A stored event that could not be read and was left out of the study's trials."""

    id: int
    study_id: int | None
    number: int | None
    kind: str
    reason: str

    def describe(self) -> str:
        trial = "" if self.number is None else f" of trial {self.number}"
        study = "" if self.study_id is None else f" of study id {self.study_id}"
        return f"event {self.id} ({self.kind!r}{trial}{study}): {self.reason}"


def warn_skipped(skipped: SkippedEvent, where: str) -> None:
    """Warn (:class:`~tuneful.errors.CorruptDataWarning`) that an event was skipped."""
    warnings.warn(
        f"{where}: skipped unreadable {skipped.describe()}; the rest of the study was read",
        CorruptDataWarning,
        stacklevel=3,
    )


#: Of a write that ends a trial: the trial's number and events -> a retry's payload, or None.
Retry = Callable[[int, Sequence[Event]], Mapping[str, Any] | None]


@dataclass(slots=True)
class Entry:
    """One event to append to a study's log and the conditions it lands under (see the
    module docstring). ``payload`` is logged as given; a backend never changes it, nor the
    entry (not frozen only because a frozen dataclass is slow to build, on the hot path)."""

    kind: str
    payload: Mapping[str, Any]
    trial: int | Literal["new", "oldest"] | None = None
    when: TrialState | None = None
    stale_before: float | None = None
    limit: int | None = None
    expected: int | None = None
    drafted: Mapping[str, Any] | None = None
    state: TrialState | None = None
    monitored: bool = False
    retry: Retry | None = None

    def payload_for(self, number: int) -> Mapping[str, Any]:
        """The payload to log when the new trial gets ``number``."""
        if self.drafted is not None and number == self.expected:
            return self.drafted
        return self.payload


class EventLog(Protocol):
    """What a backend implements. Studies: ``create_study`` returns None when the name is
    taken, ``get_study`` None when absent, ``delete_study`` False when absent. ``append``
    returns the number of the trial the event landed on (0 for a study event), or None when
    a condition did not hold (nothing was written). Names and payloads are checked above."""

    url: str
    read_only: bool

    def create_study(
        self,
        name: str,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo | None: ...

    def get_study(self, name: str) -> StudyInfo | None: ...

    def delete_study(self, name: str) -> bool: ...

    def list_studies(self) -> list[StudyInfo]: ...

    def count_trials(self, study_id: int) -> dict[str, int]: ...

    def trial_state(self, study_id: int, number: int) -> str | None: ...

    def append(self, study_id: int, entry: Entry) -> int | None: ...

    def read_events(self, study_id: int, after: int) -> list[Event]: ...

    def heartbeat(self, study_id: int, numbers: Sequence[int], now: float) -> None: ...

    def stale_trials(self, study_id: int, cutoff: float) -> list[int]: ...

    def skipped_events(self, study_id: int | None) -> list[SkippedEvent]: ...

    def close(self) -> None: ...


class LogBase:
    """What backends share: refusing writes when read-only, and remembering (and warning
    once about) events they could not read."""

    url: str
    read_only: bool

    def check_writable(self, action: str) -> None:
        """Raise :class:`~tuneful.errors.StorageError` when opened read-only."""
        if self.read_only:
            raise StorageError(
                f"storage {redact_url(self.url)!r} was opened read-only: cannot {action} "
                "(open it with open_storage(url) to write)"
            )

    def skipped_events(self, study_id: int | None) -> list[SkippedEvent]:
        found: dict[object, SkippedEvent] = self.__dict__.get("_skipped", {})
        events = sorted(found.values(), key=lambda e: e.id)
        return [e for e in events if study_id in (None, e.study_id)]

    def skip(self, skipped: SkippedEvent, key: object = None) -> None:
        """Record ``skipped`` (under ``key``, default its id) and warn the first time."""
        found: dict[object, SkippedEvent] = self.__dict__.setdefault("_skipped", {})
        key = skipped.id if key is None else key
        if key not in found:
            found[key] = skipped
            warn_skipped(skipped, f"storage {redact_url(self.url)!r}")
