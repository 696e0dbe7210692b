"""The studies of one storage, kept current from their event logs: what the server reads.

Each study the page looks at has one :class:`LiveStudy`: a
:class:`~tuneful.storage.replay.StudyReplica` plus what the page asks of it (which trials
changed since a version, a summary, a :class:`~tuneful.analysis.trials.StudyData`).
:meth:`LiveStudy.refresh` reads only the events after the last one applied, and at most once
per ``interval`` seconds however many browsers ask: a thousand polling pages cost the
storage one small query per study per interval, never a re-read of the whole study.

Storage objects are not shared between threads without a lock: every read of the storage
goes through :class:`LiveStorage`'s one lock (reads are small and rare, see above).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tuneful.analysis.trials import StudyData
from tuneful.errors import SpaceError, StudyNotFoundError
from tuneful.records import TrialRecord, TrialState, pareto_front
from tuneful.space import Space
from tuneful.storage import Storage, StudyInfo
from tuneful.storage.replay import StudyReplica
from tuneful.storage.urls import redact_url

__all__ = ["LiveStorage", "LiveStudy", "Changes", "DEFAULT_INTERVAL"]

#: The shortest time, in seconds, between two reads of one study's new events.
DEFAULT_INTERVAL = 0.5
#: How many versions of "which trials changed" a study remembers; a page further behind
#: reloads its view instead of patching it.
_KEPT_VERSIONS = 2000


@dataclass(frozen=True)
class Changes:
    """What changed in a study after version ``since``.

    Attributes:
        version: the study's version now (pass it as ``since`` next time).
        numbers: the trials that changed (created, started, reported, finished, ...).
        reset: True when ``since`` is too old (or from another server run) to tell: the
            page should reload its view of the study.
    """

    version: int
    numbers: tuple[int, ...]
    reset: bool


def _space_of(info: StudyInfo) -> Space | None:
    if not info.space:
        return None
    try:
        return Space.from_dict(info.space)
    except (SpaceError, TypeError, ValueError):  # a space this release cannot read
        return None


@dataclass
class LiveStudy:
    """One study's replica and the bookkeeping the page asks of it (see module)."""

    info: StudyInfo
    lock: threading.RLock = field(default_factory=threading.RLock)
    replica: StudyReplica = field(default_factory=StudyReplica)
    last_activity: float | None = None
    refreshed_at: float = -math.inf
    space: Space | None = None
    _changed: list[tuple[int, frozenset[int]]] = field(default_factory=list)
    _cache: dict[Any, tuple[int, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.space = _space_of(self.info)

    @property
    def name(self) -> str:
        return self.info.name

    def strategy(self, role: str) -> str | None:
        """The name of the study's ``role`` (``"optimizer"`` or ``"scheduler"``), as stored."""
        stored = self.info.settings.get(role)
        if isinstance(stored, dict):
            stored = stored.get("name")
        return stored if isinstance(stored, str) else None

    @property
    def version(self) -> int:
        return self.replica.version

    def apply(self, events: list[Any]) -> None:
        """Apply new events and remember which trials they touched, at the new version."""
        if not events:
            return
        with self.lock:
            applied = self.replica.apply(events)
        if applied:
            numbers = frozenset(e.number for e in events if e.number is not None)
            self._changed.append((self.replica.version, numbers))
            del self._changed[:-_KEPT_VERSIONS]
            self.last_activity = max(e.time for e in events)

    def changes_since(self, since: int) -> Changes:
        """The trials changed after version ``since`` (``reset`` when it cannot tell)."""
        version = self.version
        if since == version:
            return Changes(version, (), False)
        oldest = self._changed[0][0] if self._changed else version + 1
        if since > version or since < oldest - 1:
            return Changes(version, (), True)
        numbers: set[int] = set()
        for at, touched in reversed(self._changed):
            if at <= since:
                break
            numbers |= touched
        return Changes(version, tuple(sorted(numbers)), False)

    def trials(self) -> list[TrialRecord]:
        """Every trial by number (a list shared until the next change: do not modify)."""
        with self.lock:
            return self.replica.trials_view()

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept until the study changes (plots, summaries, sorted orders).

        A cache, never state. ``compute`` runs without the lock (a plot of a big study may
        take a while and must not hold up the pages that only poll), so it must read the
        study through :meth:`data` or :meth:`trials`, which take their snapshot under it.
        """
        version = self.version  # read first: a value is never labelled newer than its data
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = compute()
        with self.lock:
            if len(self._cache) > 64:
                self._cache = {k: v for k, v in self._cache.items() if v[0] == self.version}
            self._cache[key] = (version, value)
        return value

    def data(self) -> StudyData:
        """The study as plots and importance read it, at this version."""
        return self.cached(
            "data",
            lambda: StudyData(self.name, self.info.directions, tuple(self.trials()), self.space),
        )

    def summary(self) -> dict[str, Any]:
        """Name, directions, trials by state, best value(s) among the feasible trials (with
        how many are feasible when the study has constraints), last activity, version."""
        return self.cached("summary", self._summary)

    def _summary(self) -> dict[str, Any]:
        trials = self.trials()
        counts = {state.value: 0 for state in TrialState}
        for trial in trials:
            counts[trial.state.value] += 1
        complete = [t for t in trials if t.state is TrialState.COMPLETE and t.values]
        feasible = [t for t in complete if t.feasible]  # the best is a feasible trial
        best: list[float] | None = None
        front = 0
        if feasible and len(self.info.directions) == 1:
            pick = min if self.info.directions[0] == "minimize" else max
            best = [pick(t.values[0] for t in feasible)]  # type: ignore[index]
        elif feasible:
            front = len(pareto_front(feasible, self.info.directions))
        return {
            "name": self.name,
            "directions": list(self.info.directions),
            "n_trials": len(trials),
            "counts": counts,
            "best": best,
            "pareto_size": front,
            "constrained": any(t.constraints is not None for t in complete),
            "n_feasible": len(feasible),
            "created_at": self.info.created_at or None,
            "last_activity": self.last_activity,
            "version": self.version,
            "params": list(self.parameter_names()),
            "optimizer": self.strategy("optimizer"),
            "scheduler": self.strategy("scheduler"),
        }

    def parameter_names(self) -> list[str]:
        """Every parameter's name: the space's, then any others the trials hold."""
        return self.cached("params", self._parameter_names)

    def _parameter_names(self) -> list[str]:
        names: dict[str, None] = dict.fromkeys(self.space or ())
        for trial in self.trials():
            for name in trial.params:
                names.setdefault(name, None)
        return list(names)


class LiveStorage:
    """Every study of a read-only storage, each refreshed from its new events on demand.

    Args:
        storage: a storage opened with ``read_only=True`` (refused otherwise: the dashboard
            never writes).
        interval: the shortest time between two reads of one study's new events.
        clock: seconds, monotonic (tests pass their own).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not storage.read_only:
            raise ValueError(f"the dashboard reads {storage!r} only: open it with read_only=True")
        self.storage = storage
        self.interval = interval
        self.clock = clock
        self.shown_url = redact_url(storage.url)
        self._lock = threading.RLock()
        self._studies: dict[str, LiveStudy] = {}
        self._listed: list[StudyInfo] = []
        self._listed_at = -math.inf

    def infos(self) -> list[StudyInfo]:
        """The storage's studies, oldest first (listed again at most once per interval)."""
        with self._lock:
            now = self.clock()
            if now - self._listed_at >= self.interval:
                self._listed = self.storage.list_studies()
                self._listed_at = now
            return list(self._listed)

    def study(self, name: str) -> LiveStudy:
        """The study named ``name``, with the events logged since the last look applied.

        Raises:
            StudyNotFoundError: no such study (it may have been deleted meanwhile).
        """
        with self._lock:
            live = self._studies.get(name)
            if live is None:
                info = self.storage.get_study(name)  # StudyNotFoundError names the storage
                live = self._studies[name] = LiveStudy(info)
            self._refresh(live)
            return live

    def studies(self) -> list[LiveStudy]:
        """Every study, each refreshed (see :meth:`study`); deleted ones are dropped."""
        with self._lock:
            names = [info.name for info in self.infos()]
            for gone in set(self._studies) - set(names):
                del self._studies[gone]
            found = []
            for name in names:
                try:
                    found.append(self.study(name))
                except StudyNotFoundError:  # deleted between the listing and the read
                    continue
            return found

    def _refresh(self, live: LiveStudy) -> None:
        now = self.clock()
        if now - live.refreshed_at < self.interval:
            return
        events = self.storage.read_events(live.info.id, after=live.replica.last_event_id)
        live.apply(events)
        live.refreshed_at = now

    def close(self) -> None:
        with self._lock:
            self.storage.close()
