"""Trial programs die with the process that started them, even one killed with SIGKILL.

A trial's program runs in its own session (so that timeouts, pruning and Ctrl-C can kill its
whole process group), which also means nothing kills it when tuneful itself is killed. Two
guards:

- Linux: the program's first process gets ``PR_SET_PDEATHSIG`` = SIGTERM (set between fork
  and exec), so the kernel signals it the moment the thread that started it exits.
- Every POSIX system: a small guardian process (one per process that runs programs, started
  with the first program, in its own session so terminal signals miss it) holds the read
  end of a pipe and the list of the running programs' process groups. When tuneful dies, for
  whatever reason, the pipe closes and the guardian sends each group SIGTERM, then SIGKILL
  after ``kill_grace`` seconds. This also reaches the program's own children (a shell
  script's commands), which the death signal does not.

On Windows neither exists: a program outlives a killed tuneful there.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import IO

from tuneful.execution.lifetime import set_parent_death_signal

__all__ = ["ProgramGuardian", "GUARDIAN", "preexec_die_with_parent"]

logger = logging.getLogger("tuneful")

#: The guardian's program: "+PGID GRACE" registers a group, "-PGID" forgets it; at the end of
#: its input each group still registered gets SIGTERM, then SIGKILL once its grace is over.
_GUARDIAN_CODE = """
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
groups = {}
for line in sys.stdin:
    word = line.split()
    if len(word) == 2 and word[0].startswith("+"):
        groups[int(word[0][1:])] = float(word[1])
    elif len(word) == 1 and word[0].startswith("-"):
        groups.pop(int(word[0][1:]), None)
def alive(group):
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
for group in groups:
    try:
        os.killpg(group, signal.SIGTERM)
    except OSError:
        pass
deadline = time.monotonic() + max(groups.values(), default=0.0)
while any(alive(g) for g in groups) and time.monotonic() < deadline:
    time.sleep(0.05)
for group in groups:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
"""


class ProgramGuardian:
    """This process's guardian (see the module docstring); started on first use, and again in
    a forked child, which must not share its parent's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._owner = 0

    def _pipe(self) -> IO[str] | None:
        if os.name != "posix":
            return None
        if self._process is None or self._owner != os.getpid() or self._process.poll() is not None:
            if self._process is not None and self._owner != os.getpid() and self._process.stdin:
                with contextlib.suppress(OSError):  # the parent's guardian: not ours to feed
                    os.close(self._process.stdin.fileno())
            try:
                self._process = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", _GUARDIAN_CODE],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as exc:
                logger.warning("cannot start the guardian of trial programs: %s", exc)
                self._process = None
                return None
            self._owner = os.getpid()
        return self._process.stdin

    def _send(self, line: str) -> None:
        with self._lock:
            pipe = self._pipe()
            if pipe is None:
                return
            try:
                pipe.write(line + "\n")
                pipe.flush()
            except (OSError, ValueError) as exc:  # it died: the next program starts another
                logger.warning("the guardian of trial programs is gone: %s", exc)

    def guard(self, group: int, grace: float) -> None:
        """Kill process group ``group`` if this process dies before :meth:`release`."""
        self._send(f"+{group} {grace:g}")

    def release(self, group: int) -> None:
        self._send(f"-{group}")

    def close(self) -> None:
        """End the guardian (at exit: nothing is registered then, so it kills nothing)."""
        with self._lock:
            process, self._process = self._process, None
            if process is None or self._owner != os.getpid():
                return
            with contextlib.suppress(OSError, ValueError):
                if process.stdin is not None:
                    process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=2.0)

    @property
    def pid(self) -> int | None:
        """The guardian's pid, when one runs for this process."""
        process = self._process
        return process.pid if process is not None and self._owner == os.getpid() else None


GUARDIAN = ProgramGuardian()
atexit.register(GUARDIAN.close)


def preexec_die_with_parent(parent: int) -> None:
    """Run between fork and exec: SIGTERM this program when its parent thread exits (Linux),
    and do not start at all when the parent died already."""
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)
