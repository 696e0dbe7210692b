"""Running one trial's program: both pipes read at once, metrics read as lines arrive,
the whole process group killed on timeout, pruning or Ctrl-C."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from tuneful.errors import CommandError, CommandTimeoutError
from tuneful.execution.guardian import GUARDIAN, preexec_die_with_parent
from tuneful.execution.metrics import MISSING, as_number, json_object
from tuneful.trial import Pruned, Trial

if TYPE_CHECKING:
    from tuneful.execution.command import CommandObjective

__all__ = ["ProgramRun"]

_TAIL_LINES = 20  # lines of stderr and stdout kept for error messages
_MAX_LINE_BYTES = 1 << 20  # a longer line is read in pieces
LINE_SHOWN = 500  # characters of one output line shown in an error message


class ProgramRun:
    """One execution of the program: reads both pipes at once, reads metrics and reports
    learning-curve points as lines arrive, enforces the timeout."""

    def __init__(self, objective: CommandObjective, trial: Trial) -> None:
        self._objective = objective
        self._trial = trial
        self.last_values: list[Any] = [MISSING] * len(objective.readers)
        self.stdout_tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self.stderr_tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._lines: queue.Queue[str | None] = queue.Queue()

    def _keep_stderr(self, line: str | None) -> None:
        if line is not None:
            self.stderr_tail.append(line)

    def _handle(self, line: str) -> None:
        self.stdout_tail.append(line)
        parsed = json_object(line)
        for i, metric in enumerate(self._objective.readers):
            found = metric.read(line, parsed)
            if found is None:
                continue
            raw, step = found
            self.last_values[i] = raw
            value = as_number(raw)
            if i == 0 and step is not None and value is not None and math.isfinite(value):
                self._trial.report(step=step, value=value)  # may raise Pruned
                if self._trial.should_stop():
                    raise Pruned()

    def execute(self, argv: list[str], env: dict[str, str]) -> int:
        """Run the program to its end; its exit code. Kills it on timeout, Pruned, Ctrl-C."""
        objective = self._objective
        posix = os.name == "posix"
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=objective.workdir,
                env=env,
                start_new_session=posix,  # its own process group, to kill it all
                preexec_fn=functools.partial(preexec_die_with_parent, os.getpid())
                if posix
                else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else None
            raise CommandError(f"cannot start {argv[0]!r}: {reason or exc}") from None
        if posix:  # killed with this process, even by SIGKILL (see guardian.py)
            GUARDIAN.guard(process.pid, objective.kill_grace)
        try:
            return self._supervise(process)
        finally:
            if posix:
                GUARDIAN.release(process.pid)

    def _supervise(self, process: subprocess.Popen[bytes]) -> int:
        objective = self._objective
        sinks = ((process.stdout, self._lines.put), (process.stderr, self._keep_stderr))
        readers = [threading.Thread(target=_pump, args=sink, daemon=True) for sink in sinks]
        for reader in readers:
            reader.start()
        try:
            timed_out = self._read_until_done(process)
            if timed_out:
                _terminate(process, objective.kill_grace)
            returncode = process.wait()
        except BaseException:  # Pruned or Ctrl-C: the program must not outlive its trial
            _terminate(process, objective.kill_grace)
            raise
        finally:
            readers[1].join(timeout=2.0)
            if readers[1].is_alive():  # a child left behind holds stderr open
                _signal_group(process, signal.SIGKILL)
                readers[1].join(timeout=1.0)
        if timed_out:
            raise CommandTimeoutError(
                f"command timed out after {objective.timeout:g} s and was killed{self.tails()}"
            )
        return returncode

    def _read_until_done(self, process: subprocess.Popen[bytes]) -> bool:
        """Handle stdout lines until it closes; True when the timeout came first."""
        timeout = self._objective.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        exited_at: float | None = None
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return True
            wait = 0.05 if deadline is None else min(0.05, deadline - now)
            try:
                line = self._lines.get(timeout=wait)
            except queue.Empty:
                if process.poll() is None:
                    continue
                exited_at = now if exited_at is None else exited_at
                if now - exited_at > 4.0:
                    return False  # a process outside the group holds stdout: stop reading
                if now - exited_at > 2.0:
                    _signal_group(process, signal.SIGKILL)  # children left behind hold stdout
                continue
            if line is None:
                break
            self._handle(line)
        if deadline is None:
            return False
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return True
        return False

    def last_stderr_line(self) -> str:
        for line in reversed(self.stderr_tail):
            if line.strip():
                return f": {line.strip()[:LINE_SHOWN]}"
        return ""

    def tails(self) -> str:
        parts = []
        for label, tail in (("stderr", self.stderr_tail), ("stdout", self.stdout_tail)):
            if tail:
                text = "\n".join(line[:LINE_SHOWN] for line in tail)
                parts.append(f"\n--- last {len(tail)} line(s) of {label} ---\n{text}")
        return "".join(parts)


def _pump(stream: IO[bytes] | None, sink: Callable[[str | None], None]) -> None:
    """Hand each line of ``stream`` to ``sink``, then None at its end."""
    assert stream is not None
    try:
        for raw in iter(lambda: stream.readline(_MAX_LINE_BYTES), b""):
            sink(raw.decode("utf-8", "replace").rstrip("\r\n"))
    except (OSError, ValueError):  # the pipe was closed under us
        pass
    finally:
        with contextlib.suppress(OSError):
            stream.close()
        sink(None)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    if os.name != "posix":
        with contextlib.suppress(OSError):
            process.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _terminate(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM the process group, SIGKILL it after ``grace`` seconds, reap the process."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    _signal_group(process, signal.SIGKILL)  # members of the group that outlived the leader
