"""What the command line prints: consoles, one-line errors, numbers, storage locations."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from tuneful.records import TrialRecord, TrialState
from tuneful.storage import DEFAULT_STORAGE

__all__ = [
    "stdout",
    "stderr",
    "error_line",
    "short_warnings",
    "format_number",
    "format_param",
    "format_seconds",
    "format_time",
    "error_summary",
    "resolve_storage",
    "display_storage",
    "storage_flag",
    "sqlite_file",
    "look_commands",
    "state_counts",
    "plural",
]


def _console(*, to_stderr: bool) -> Console:
    stream = sys.stderr if to_stderr else sys.stdout
    # Into a file or a pipe, tables get room instead of being cut to 80 columns.
    width = None if stream is None or stream.isatty() else _FILE_WIDTH
    return Console(stderr=to_stderr, width=width, highlight=False, soft_wrap=True)


_FILE_WIDTH = 200
#: Results go to stdout; progress, notes and errors to stderr.
stdout = _console(to_stderr=False)
stderr = _console(to_stderr=True)

_STATE_ORDER = (
    TrialState.COMPLETE,
    TrialState.PRUNED,
    TrialState.FAIL,
    TrialState.RUNNING,
    TrialState.WAITING,
)


def error_line(message: str) -> str:
    """A message folded onto one line, for ``error: ...``."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


class _OneLineHandler(logging.Handler):
    """Shows a log record as one ``warning:`` line (its first line only)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().splitlines()
        except Exception:  # a malformed record must not break the run
            return
        level = "warning" if record.levelno >= logging.WARNING else "note"
        stderr.print(f"[yellow]{level}:[/] {escape(text[0] if text else '')}")


def _show_warning(message: Warning | str, *_args: Any, **_kwargs: Any) -> None:
    first = str(message).splitlines()
    stderr.print(f"[yellow]warning:[/] {escape(first[0] if first else '')}")


@contextlib.contextmanager
def short_warnings() -> Iterator[None]:
    """While inside: the library's warnings and log records print as one short line each."""
    logger = logging.getLogger("tuneful")
    handler = _OneLineHandler(logging.WARNING)
    propagate, show = logger.propagate, warnings.showwarning
    logger.addHandler(handler)
    logger.propagate = False
    warnings.showwarning = _show_warning
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        warnings.showwarning = show


def format_number(value: float | None) -> str:
    """Six significant digits; "-" for None."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.6g}"


def format_param(value: Any) -> str:
    """A parameter value for a table: floats to six significant digits."""
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def format_seconds(seconds: float | None) -> str:
    """A duration: ``4.2 s``, ``3 min 5 s``, ``2 h 10 min``; "-" for None."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


def format_time(seconds: float | None) -> str:
    """POSIX seconds as local ``YYYY-MM-DD HH:MM``."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def error_summary(text: str | None) -> str:
    """The line of a stored error that says what went wrong (a traceback's last exception
    line, without the module path; otherwise the first line)."""
    if not text:
        return ""
    lines = text.splitlines()
    if lines and lines[0].startswith("Traceback"):
        candidates = [line for line in lines[1:] if line and not line[0].isspace() and ": " in line]
        for line in candidates:
            name, _, message = line.partition(": ")
            if name.replace(".", "").replace("_", "").isalnum():
                return f"{name.rsplit('.', 1)[-1]}: {message}"
    return lines[0] if lines else ""


def _sqlite_path(url: str) -> str | None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :].split("?", 1)[0]
        return None if path in ("", ":memory:") else path
    if "://" not in url and url.endswith((".db", ".sqlite", ".sqlite3")):
        return url
    return None


def resolve_storage(url: str | None, base: Path | None = None) -> str:
    """The storage URL to use: ``url``, else ``$TUNEFUL_STORAGE``, else ``./tuneful.db``.

    A relative SQLite path in ``url`` is taken relative to ``base`` when given.
    """
    if url is None:
        return os.environ.get("TUNEFUL_STORAGE") or DEFAULT_STORAGE
    path = _sqlite_path(url)
    if base is not None and path is not None and not os.path.isabs(path):
        query = url.partition("?")[2] if url.startswith("sqlite:") else ""
        return f"sqlite:///{(base / path).resolve()}" + (f"?{query}" if query else "")
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite storage URL (None for other storages)."""
    path = _sqlite_path(url)
    return None if path is None else Path(path)


def display_storage(url: str) -> str:
    """The URL, with an SQLite file below the working directory shown relative to it, and
    a database password masked."""
    path = _sqlite_path(url)
    if path is None and "@" in url and "://" in url:
        import sqlalchemy as sa

        try:
            return sa.engine.make_url(url).render_as_string(hide_password=True)
        except sa.exc.ArgumentError:
            return url
    if path is None or not os.path.isabs(path):
        return url
    try:
        relative = Path(path).relative_to(Path.cwd().resolve())
    except ValueError:
        return url
    return f"sqlite:///{relative}" + (f"?{url.partition('?')[2]}" if "?" in url else "")


def storage_flag(url: str) -> str:
    """`` --storage URL`` when ``url`` is not what the commands use by default, else ""."""
    shown = display_storage(url)
    default = display_storage(resolve_storage(None))
    return "" if shown == default else f" --storage {shlex.quote(shown)}"


def look_commands(name: str, url: str) -> list[str]:
    """Commands that show a study: ``tuneful show`` and ``tuneful export``."""
    flag = storage_flag(url)
    quoted = shlex.quote(name)
    return [
        f"tuneful show {quoted}{flag}",
        f"tuneful export {quoted} --format csv --output {shlex.quote(name + '.csv')}{flag}",
    ]


def plural(count: int, noun: str) -> str:
    """``1 trial``, ``3 trials``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def state_counts(counts: Mapping[str, int] | Iterable[TrialRecord]) -> str:
    """``28 complete, 2 fail`` from a mapping state -> count or from trials."""
    if not isinstance(counts, Mapping):
        tally: dict[str, int] = {}
        for trial in counts:
            tally[trial.state.value] = tally.get(trial.state.value, 0) + 1
        counts = tally
    parts = [
        f"{counts[state.value]} {state.value.lower()}"
        for state in _STATE_ORDER
        if counts.get(state.value)
    ]
    return ", ".join(parts) if parts else "no trials"
