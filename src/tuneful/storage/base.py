"""The storage protocol: a study is an append-only log of events plus a small trial index.

Every backend stores, per study, an ordered event log (``created``, ``started``, ``params``,
``reported``, ``user_attr``, ``system_attr``, ``finished``, ``study_attr``) and a trial index
(state, worker, heartbeat) that serves as the concurrency control: trial numbers are
allocated by the backend inside a transaction, a WAITING trial is claimed by exactly one
worker, a RUNNING trial is finished exactly once. Processes rebuild trials by replaying the
log from the last event id they saw (:mod:`tuneful.storage.replay`).
"""

from __future__ import annotations

import abc
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneful.errors import CorruptDataWarning, StorageError, StudyError, TrialLimitReached
from tuneful.records import TrialState
from tuneful.storage.urls import redact_url

__all__ = [
    "Event",
    "StudyInfo",
    "Storage",
    "SCHEMA_VERSION",
    "EVENT_KINDS",
    "MAX_STUDY_NAME_LENGTH",
    "SkippedEvent",
    "check_limit",
    "check_study_name",
    "stale_reason",
    "warn_skipped",
]

#: Version of the persisted layout. Bumped on any change a reader must know about
#: (2: each event records the token of the write that logged it).
SCHEMA_VERSION = 2

EVENT_KINDS = (
    "created",
    "started",
    "params",
    "reported",
    "user_attr",
    "system_attr",
    "finished",
    "study_attr",
)


#: The longest study name, in characters, on every backend (the relational column holds 512).
MAX_STUDY_NAME_LENGTH = 255


def _shorten(text: str, keep: int = 40) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text)} characters)"


def check_study_name(name: object) -> str:
    """Return ``name`` if every backend can store it as a study name, else raise.

    A name is 1 to :data:`MAX_STUDY_NAME_LENGTH` characters, not only blanks, without control
    characters (NUL, newline, tab, ...) or unpaired surrogates: PostgreSQL refuses NUL and
    long values, and a name must print on one line of a table.

    Raises:
        StudyError: naming the (shortened) value and the rule it breaks.
    """
    if not isinstance(name, str) or not name.strip():
        raise StudyError(f"study name {name!r}: expected a non-empty string")
    if len(name) > MAX_STUDY_NAME_LENGTH:
        raise StudyError(
            f"study name {_shorten(name)!r} has {len(name)} characters: expected at most "
            f"{MAX_STUDY_NAME_LENGTH}"
        )
    for position, char in enumerate(name):
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise StudyError(
                f"study name {_shorten(name)!r} holds the control character {char!r} at "
                f"position {position}: expected printable characters only (no NUL, newline "
                "or tab)"
            )
    return name


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


def stale_reason(grace: float) -> str:
    """The error recorded on a trial failed for want of heartbeats."""
    return (
        f"worker stopped heartbeating: no sign of life for {grace:g} s "
        "(process killed or machine lost)"
    )


def check_limit(count: int, limit: int | None) -> None:
    """Raise :class:`~tuneful.errors.TrialLimitReached` when ``count`` trials reach ``limit``."""
    if limit is not None and count >= limit:
        raise TrialLimitReached(f"the study holds {count} trials, its limit is {limit}")


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


class Storage(abc.ABC):
    """Narrow protocol every backend implements; see the module docstring for the model.

    Methods that change a trial raise :class:`tuneful.errors.TrialError` when the trial's
    state does not allow the change (finishing a finished trial, reporting to a trial that
    is not running), so two workers can never both finish one trial.
    """

    #: The full URL, password included: only for reopening the storage. Show it with
    #: :func:`~tuneful.storage.urls.redact_url` (``repr()`` does).
    url: str
    #: Opened with ``read_only=True``: every write raises :class:`StorageError`.
    read_only: bool = False

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"{type(self).__name__}({redact_url(self.url)!r}{mode})"

    def check_writable(self, action: str) -> None:
        """Raise :class:`StorageError` when the storage was opened read-only."""
        if self.read_only:
            raise StorageError(
                f"storage {redact_url(self.url)!r} was opened read-only: cannot {action} "
                "(open it with open_storage(url) to write)"
            )

    def skipped_events(self, study_id: int | None = None) -> list[SkippedEvent]:
        """Events this storage object found unreadable (damaged payloads) and left out of
        what :meth:`read_events` returned, oldest first; only ``study_id``'s when given.
        Each was also reported once with a :class:`~tuneful.errors.CorruptDataWarning`."""
        found: dict[int, SkippedEvent] = getattr(self, "_skipped", {})
        return [e for _, e in sorted(found.items()) if study_id in (None, e.study_id)]

    def _skip(self, skipped: SkippedEvent) -> None:
        """Record (and warn, the first time) an event left out of :meth:`read_events`."""
        found: dict[int, SkippedEvent] = self.__dict__.setdefault("_skipped", {})
        if skipped.id not in found:
            found[skipped.id] = skipped
            warn_skipped(skipped, f"storage {redact_url(self.url)!r}")

    # -- studies -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_study(
        self,
        name: str,
        *,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo:
        """Create a study; :class:`DuplicateStudyError` if the name is taken."""

    @abc.abstractmethod
    def get_study(self, name: str) -> StudyInfo:
        """Look a study up by name; :class:`StudyNotFoundError` if absent."""

    @abc.abstractmethod
    def delete_study(self, name: str) -> None:
        """Remove a study and all its trials; :class:`StudyNotFoundError` if absent."""

    @abc.abstractmethod
    def list_studies(self) -> list[StudyInfo]:
        """All studies, oldest first."""

    @abc.abstractmethod
    def count_trials(self, study_id: int) -> dict[str, int]:
        """Number of trials per state name (cheap: reads the trial index only)."""

    # -- trials --------------------------------------------------------------------------
    @abc.abstractmethod
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
        """Allocate the next trial number and log its creation. Returns the number.

        With ``limit``, the trial is created only while the study holds fewer than ``limit``
        trials, checked in the same transaction (:class:`~tuneful.errors.TrialLimitReached`
        otherwise): any number of workers stop at exactly ``limit``.

        With ``expected_number``, ``params`` are stored only if the allocated number is that
        one: a caller that drew parameters for the number it expected (the random stream of
        a trial depends on its number) learns from the returned number whether they stuck.

        ``state`` is RUNNING (the caller runs it now) or WAITING (enqueued). A ``monitored``
        trial is expected to heartbeat and is failed by :meth:`fail_stale_trials` when it
        stops; trials of ask/tell users are not monitored.
        """

    @abc.abstractmethod
    def claim_trial(self, study_id: int, *, worker: str, monitored: bool = False) -> int | None:
        """Move the oldest WAITING trial to RUNNING for ``worker``; None if there is none."""

    @abc.abstractmethod
    def append(self, study_id: int, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        """Log an event on a RUNNING trial (``params``, ``reported``, ``user_attr``, ...)."""

    @abc.abstractmethod
    def finish_trial(
        self,
        study_id: int,
        number: int,
        *,
        state: TrialState,
        values: Sequence[float] | None = None,
        error: str | None = None,
    ) -> None:
        """Move a RUNNING trial to a finished state and log it, exactly once."""

    @abc.abstractmethod
    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        """Log a study-level user attribute."""

    @abc.abstractmethod
    def read_events(self, study_id: int, after: int = 0) -> list[Event]:
        """Events of a study with id greater than ``after``, in log order."""

    # -- liveness ------------------------------------------------------------------------
    @abc.abstractmethod
    def heartbeat(self, study_id: int, numbers: Sequence[int]) -> None:
        """Record that the worker running these trials is alive."""

    @abc.abstractmethod
    def fail_stale_trials(self, study_id: int, *, grace: float, retries: int) -> list[int]:
        """Fail RUNNING trials whose last heartbeat is older than ``grace`` seconds.

        In the same transaction, each failed trial is re-enqueued (a WAITING copy of its
        parameters) while its chain of retries is shorter than ``retries``. Exactly one
        caller fails a given trial. Returns the numbers that were failed.
        """

    @abc.abstractmethod
    def fail_trial(self, study_id: int, number: int, *, error: str, retries: int) -> bool:
        """Fail a RUNNING trial whose worker was lost, re-enqueued as
        :meth:`fail_stale_trials` does, in one transaction. Returns False (and writes
        nothing) when the trial is no longer RUNNING: someone else finished or failed it."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections. The object must not be used afterwards."""
