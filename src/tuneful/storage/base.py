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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneful.errors import TrialLimitReached
from tuneful.records import TrialState

__all__ = [
    "Event",
    "StudyInfo",
    "Storage",
    "SCHEMA_VERSION",
    "EVENT_KINDS",
    "check_limit",
    "stale_reason",
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

    url: str

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
