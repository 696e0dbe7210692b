"""A background thread that keeps a worker's running trials alive in storage."""

from __future__ import annotations

import logging
import threading

from tuneful.storage import Storage

__all__ = ["Heartbeat"]

logger = logging.getLogger("tuneful")


class Heartbeat:
    """Beats every ``interval`` seconds for the trials registered with :meth:`watch`.

    Use as a context manager around a worker's loop. A failed beat is logged and retried at
    the next interval: a brief storage outage must not kill the worker.
    """

    def __init__(self, storage: Storage, study_id: int, interval: float | None) -> None:
        self._storage = storage
        self._study_id = study_id
        self._interval = interval
        self._numbers: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, number: int) -> None:
        with self._lock:
            self._numbers.add(number)

    def forget(self, number: int) -> None:
        with self._lock:
            self._numbers.discard(number)

    def _run(self) -> None:
        assert self._interval is not None
        while not self._stop.wait(self._interval):
            with self._lock:
                numbers = sorted(self._numbers)
            if not numbers:
                continue
            try:
                self._storage.heartbeat(self._study_id, numbers)
            except Exception as exc:  # keep beating; the next beat may get through
                logger.warning("heartbeat for trials %s failed: %s", numbers, exc)

    def __enter__(self) -> Heartbeat:
        if self._interval is not None:
            self._thread = threading.Thread(target=self._run, name="tuneful-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
