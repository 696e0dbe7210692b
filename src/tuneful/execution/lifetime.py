"""How long the processes of a run live, and how many threads they use.

- SIGTERM stops a run as Ctrl-C does (:func:`sigterm_as_interrupt`): the running trial is
  failed as interrupted and its program stopped, instead of the process vanishing with the
  trial RUNNING and the program left behind.
- A worker process dies with the process that started it: on Linux the kernel sends it
  SIGTERM when its parent dies (``PR_SET_PDEATHSIG``); everywhere, a thread polls
  ``os.getppid()`` each second and does the same (:func:`die_with_parent`).
- k worker processes on a machine of n cores cap their BLAS / OpenMP pools at n // k threads
  each (:func:`thread_cap`, :func:`limit_threads`), unless the user set a limit in the
  environment: k processes each starting a thread per core run slower than one.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from types import FrameType

__all__ = [
    "Terminated",
    "sigterm_as_interrupt",
    "handle_sigterm_as_interrupt",
    "set_parent_death_signal",
    "die_with_parent",
    "thread_cap",
    "limit_threads",
    "THREAD_VARIABLES",
]

logger = logging.getLogger("tuneful")

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
#: Seconds a worker whose parent is gone waits for its trial to stop before it exits anyway.
_ORPHAN_GRACE = 10.0

#: The variables that size BLAS and OpenMP thread pools; a user who sets any of them is obeyed.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled everywhere as an interrupt (the trial fails, the run stops)."""

    def __init__(self) -> None:
        super().__init__("SIGTERM")


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise Terminated()


def handle_sigterm_as_interrupt() -> None:
    """From now on SIGTERM raises :class:`Terminated` in this process's main thread (for the
    worker processes of a run, which are tuneful's own)."""
    signal.signal(signal.SIGTERM, _raise_terminated)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` in the main thread.

    Only when called from the main thread and SIGTERM has its default action (a handler the
    program installed itself is left alone).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def set_parent_death_signal(signum: int) -> bool:
    """Linux: have the kernel send ``signum`` to this process when the thread that started it
    exits. False elsewhere, or when prctl fails."""
    if _LIBC is None:
        return False
    return bool(_LIBC.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0)


def die_with_parent(parent: int) -> None:
    """In a worker process: stop (SIGTERM, so the running trial fails as interrupted) when
    ``parent`` is gone; exit after a grace period if the trial does not stop."""
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        logger.warning("the process that started this worker is gone: stopping")
        with contextlib.suppress(OSError):
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(_ORPHAN_GRACE)
        os._exit(1)

    threading.Thread(target=watch, name="tuneful-parent-watch", daemon=True).start()


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def thread_cap(jobs: int) -> int | None:
    """Threads each of ``jobs`` worker processes may use: cores // jobs, at least 1; None
    when the user set a limit (one of THREAD_VARIABLES) or there is one job."""
    if jobs <= 1 or any(os.environ.get(name) for name in THREAD_VARIABLES):
        return None
    return max(1, _cores() // jobs)


def limit_threads(cap: int) -> None:
    """In a worker process: BLAS / OpenMP pools of ``cap`` threads.

    The environment variables reach libraries loaded later and the programs this process
    starts; threadpoolctl (when installed) resizes the pools of those already loaded, which
    is every one a forked worker inherits.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(cap)
    try:
        import threadpoolctl
    except ImportError:
        return
    try:
        threadpoolctl.threadpool_limits(limits=cap)
    except Exception as exc:  # a library it cannot drive must not stop the worker
        logger.debug("threadpoolctl could not limit threads: %s", exc)
