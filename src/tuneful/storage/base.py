"""Storage: the rules of a study's trials, written once above every backend.

Every backend stores, per study, an ordered event log (``created``, ``started``, ``params``,
``reported``, ``user_attr``, ``system_attr``, ``finished``, ``study_attr``) and a small trial
index (state, heartbeat): the :class:`~tuneful.storage.log.EventLog` primitive, whose appends
land only under the conditions they carry. :class:`Storage` says which conditions guard which
operation and builds every payload:

- a new trial is numbered by the backend in the write that logs it (``limit``: only while the
  study holds fewer trials; drafted parameters kept only with the number they were drawn for);
- a WAITING trial is claimed by exactly one worker (the oldest first);
- events are logged on a RUNNING trial only, and a RUNNING trial is finished exactly once;
- a trial whose worker stopped heartbeating (or was lost) is failed once, and re-enqueued in
  the same write while its chain of retries is shorter than ``retries``.

Processes rebuild trials by replaying the log from the last event id they saw
(:mod:`tuneful.storage.replay`).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tuneful.errors import (
    DuplicateStudyError,
    StorageError,
    StudyError,
    StudyNotFoundError,
    TrialError,
    TrialLimitReached,
)
from tuneful.records import TrialState
from tuneful.storage.log import (
    NEW,
    OLDEST,
    Entry,
    Event,
    EventLog,
    SkippedEvent,
    StudyInfo,
    warn_skipped,
)
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
    "params_of",
    "retry_of",
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


def params_of(events: Iterable[Event]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Params, distributions and system attrs of one trial, from its own events."""
    params: dict[str, Any] = {}
    distributions: dict[str, Any] = {}
    system_attrs: dict[str, Any] = {}
    for event in events:
        payload: Mapping[str, Any] = event.payload
        if event.kind in ("created", "params"):
            params.update(payload.get("params") or {})
            distributions.update(payload.get("distributions") or {})
        if event.kind == "created":
            system_attrs.update(payload.get("system_attrs") or {})
        elif event.kind == "system_attr":
            system_attrs[payload["key"]] = payload["value"]
    return params, distributions, system_attrs


def retry_of(number: int, events: Iterable[Event], retries: int) -> dict[str, Any] | None:
    """The ``created`` payload re-enqueuing a failed trial, or None once retries are spent."""
    params, distributions, system_attrs = params_of(events)
    attempt = int(system_attrs.get("retry_count", 0))
    if attempt >= retries:
        return None
    return {
        "state": TrialState.WAITING.value,
        "params": params,
        "distributions": distributions,
        "system_attrs": {
            "retry_of": number,
            "retry_count": attempt + 1,
            "first_attempt": system_attrs.get("first_attempt", number),
        },
    }


class Storage:
    """Studies and their trials over one backend's :class:`~tuneful.storage.log.EventLog`.

    Methods that change a trial raise :class:`tuneful.errors.TrialError` when the trial's
    state does not allow the change (finishing a finished trial, reporting to a trial that
    is not running), so two workers can never both finish one trial.
    """

    def __init__(self, log: EventLog) -> None:
        self.log = log

    @property
    def url(self) -> str:
        """The full URL, password included: only for reopening the storage. Show it with
        :func:`~tuneful.storage.urls.redact_url` (``repr()`` does)."""
        return self.log.url

    @url.setter
    def url(self, value: str) -> None:
        self.log.url = value

    @property
    def read_only(self) -> bool:
        """Opened with ``read_only=True``: every write raises :class:`StorageError`."""
        return self.log.read_only

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"{type(self).__name__}({redact_url(self.url)!r}{mode})"

    def check_writable(self, action: str) -> None:
        """Raise :class:`StorageError` when the storage was opened read-only."""
        if self.log.read_only:
            raise StorageError(
                f"storage {redact_url(self.url)!r} was opened read-only: cannot {action} "
                "(open it with open_storage(url) to write)"
            )

    def skipped_events(self, study_id: int | None = None) -> list[SkippedEvent]:
        """Events this storage object found unreadable (damaged payloads) and left out of
        what :meth:`read_events` returned, oldest first; only ``study_id``'s when given.
        Each was also reported once with a :class:`~tuneful.errors.CorruptDataWarning`."""
        return self.log.skipped_events(study_id)

    def close(self) -> None:
        """Release connections. The object must not be used afterwards."""
        self.log.close()

    # -- studies -------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        *,
        directions: Sequence[str],
        space: Mapping[str, Any] | None,
        settings: Mapping[str, Any],
    ) -> StudyInfo:
        """Create a study; :class:`DuplicateStudyError` if the name is taken."""
        check_study_name(name)
        self.check_writable("create a study")
        info = self.log.create_study(name, list(directions), space, dict(settings))
        if info is None:
            raise DuplicateStudyError(
                f"a study named {name!r} already exists in {redact_url(self.url)}; "
                "load it with load_study or pass load_if_exists=True"
            )
        return info

    def get_study(self, name: str) -> StudyInfo:
        """Look a study up by name; :class:`StudyNotFoundError` if absent."""
        info = self.log.get_study(name)
        if info is None:
            raise StudyNotFoundError(f"no study named {name!r} in {redact_url(self.url)}")
        return info

    def delete_study(self, name: str) -> None:
        """Remove a study and all its trials; :class:`StudyNotFoundError` if absent."""
        self.check_writable("delete a study")
        if not self.log.delete_study(name):
            raise StudyNotFoundError(f"no study named {name!r} in {redact_url(self.url)}")

    def list_studies(self) -> list[StudyInfo]:
        """All studies, oldest first."""
        return self.log.list_studies()

    def count_trials(self, study_id: int) -> dict[str, int]:
        """Number of trials per state name (cheap: reads the trial index only)."""
        return self.log.count_trials(study_id)

    def read_events(self, study_id: int, after: int = 0) -> list[Event]:
        """Events of a study with id greater than ``after``, in log order."""
        return self.log.read_events(study_id, after)

    def set_study_attr(self, study_id: int, key: str, value: Any) -> None:
        """Log a study-level user attribute."""
        self.check_writable("set a study attribute")
        self.log.append(study_id, Entry("study_attr", {"key": key, "value": value}))

    # -- trials --------------------------------------------------------------------------
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
        trials, checked in the same write (:class:`~tuneful.errors.TrialLimitReached`
        otherwise): any number of workers stop at exactly ``limit``.

        With ``expected_number``, ``params`` are stored only if the allocated number is that
        one: a caller that drew parameters for the number it expected (the random stream of
        a trial depends on its number) learns from the returned number whether they stuck.

        ``state`` is RUNNING (the caller runs it now) or WAITING (enqueued). A ``monitored``
        trial is expected to heartbeat and is failed by :meth:`fail_stale_trials` when it
        stops; trials of ask/tell users are not monitored.
        """
        self.check_writable("create a trial")
        payload: dict[str, Any] = {"state": state.value, "worker": worker}
        if system_attrs:
            payload["system_attrs"] = dict(system_attrs)
        if user_attrs:
            payload["user_attrs"] = dict(user_attrs)
        drafted = {**payload, "params": dict(params)} if params else None
        if drafted is not None and expected_number is None:
            payload, drafted = drafted, None  # kept whatever the number
        entry = Entry(
            "created",
            payload,
            trial=NEW,
            limit=limit,
            expected=expected_number,
            drafted=drafted,
            state=state,
            monitored=monitored,
        )
        number = self.log.append(study_id, entry)
        if number is None:  # refused: the limit was reached, or the study is gone
            check_limit(sum(self.log.count_trials(study_id).values()), limit)
            raise StudyNotFoundError(
                f"no study with id {study_id} in {redact_url(self.url)} (deleted?)"
            )
        return number

    def claim_trial(self, study_id: int, *, worker: str, monitored: bool = False) -> int | None:
        """Move the oldest WAITING trial to RUNNING for ``worker``; None if there is none."""
        self.check_writable("claim a trial")
        entry = Entry(
            "started",
            {"worker": worker},
            trial=OLDEST,
            when=TrialState.WAITING,
            state=TrialState.RUNNING,
            monitored=monitored,
        )
        return self.log.append(study_id, entry)

    def append(self, study_id: int, number: int, kind: str, payload: Mapping[str, Any]) -> None:
        """Log an event on a RUNNING trial (``params``, ``reported``, ``user_attr``, ...)."""
        self.check_writable(f"record {kind!r}")
        entry = Entry(kind, dict(payload), trial=number, when=TrialState.RUNNING)
        if self.log.append(study_id, entry) is None:
            raise self._state_error(study_id, number, f"record {kind!r}")

    def finish_trial(
        self,
        study_id: int,
        number: int,
        *,
        state: TrialState,
        values: Sequence[float] | None = None,
        error: str | None = None,
        constraints: Sequence[float] | None = None,
    ) -> None:
        """Move a RUNNING trial to a finished state and log it, exactly once.

        ``constraints`` (checked finite floats) join the payload only when given, so that a
        study without constraints logs what it always did; logs without them read as None.
        """
        self.check_writable("finish a trial")
        payload: dict[str, Any] = {
            "state": state.value,
            "values": None if values is None else list(values),
            "error": error,
        }
        if constraints is not None:
            payload["constraints"] = [float(c) for c in constraints]
        entry = Entry("finished", payload, trial=number, when=TrialState.RUNNING, state=state)
        if self.log.append(study_id, entry) is None:
            raise self._state_error(study_id, number, "finish it again")

    def _state_error(self, study_id: int, number: int, action: str) -> TrialError:
        state = self.log.trial_state(study_id, number)
        if state is None:
            return TrialError(f"study id {study_id} has no trial number {number}")
        if state == TrialState.RUNNING.value:
            return TrialError(f"trial {number} is RUNNING but could not {action}")
        return TrialError(f"trial {number} is already {state}, not RUNNING: cannot {action}")

    # -- liveness ------------------------------------------------------------------------
    def heartbeat(self, study_id: int, numbers: Sequence[int]) -> None:
        """Record that the worker running these trials is alive."""
        self.check_writable("record a heartbeat")
        if numbers:
            self.log.heartbeat(study_id, list(numbers), time.time())

    def fail_stale_trials(self, study_id: int, *, grace: float, retries: int) -> list[int]:
        """Fail RUNNING trials whose last heartbeat is older than ``grace`` seconds.

        In the same write, each failed trial is re-enqueued (a WAITING copy of its
        parameters) while its chain of retries is shorter than ``retries``. Exactly one
        caller fails a given trial. Returns the numbers that were failed.
        """
        self.check_writable("fail stale trials")
        cutoff = time.time() - grace
        failed = []
        for number in self.log.stale_trials(study_id, cutoff):  # a cheap read, mostly empty
            if self._fail(study_id, number, stale_reason(grace), retries, stale_before=cutoff):
                failed.append(number)
        return failed

    def fail_trial(self, study_id: int, number: int, *, error: str, retries: int) -> bool:
        """Fail a RUNNING trial whose worker was lost, re-enqueued as
        :meth:`fail_stale_trials` does, in one write. Returns False (and writes nothing)
        when the trial is no longer RUNNING: someone else finished or failed it."""
        self.check_writable("fail a trial")
        if self._fail(study_id, number, error, retries):
            return True
        if self.log.trial_state(study_id, number) is None:
            raise TrialError(f"study id {study_id} has no trial number {number}")
        return False

    def _fail(
        self,
        study_id: int,
        number: int,
        error: str,
        retries: int,
        *,
        stale_before: float | None = None,
    ) -> bool:
        """Fail RUNNING trial ``number`` (and re-enqueue it per ``retries``) in one write."""

        def retry(failed: int, events: Sequence[Event]) -> Mapping[str, Any] | None:
            return retry_of(failed, events, retries)

        entry = Entry(
            "finished",
            {"state": TrialState.FAIL.value, "values": None, "error": error},
            trial=number,
            when=TrialState.RUNNING,
            stale_before=stale_before,
            state=TrialState.FAIL,
            retry=retry,
        )
        return self.log.append(study_id, entry) is not None
