"""What the command line prints: consoles, one-line errors, numbers, storage locations."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
import sys
import tempfile
import unicodedata
import urllib.parse
import warnings
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from tuneful.errors import TunefulError
from tuneful.records import TrialRecord, TrialState
from tuneful.storage import DEFAULT_STORAGE
from tuneful.storage.urls import MASK, has_password, redact_url

__all__ = [
    "stdout",
    "stderr",
    "error_line",
    "without_passwords",
    "printable",
    "shown",
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
    "write_output",
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


# Characters a terminal acts on instead of showing: C0/C1 controls (ESC starts the sequences
# that clear the screen, retitle the window or write a link) and the bidirectional overrides
# that make text read differently from what it holds.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text: object, *, newlines: bool = False) -> str:
    """Stored or foreign text made safe to print: every control character shown as an
    escape (``\\x1b``), so a study name, a parameter value or a program's error text can
    neither move the cursor, clear the screen nor retitle the terminal.

    With ``newlines``, line breaks (and tabs) are kept, for multi-line text such as a stored
    traceback; otherwise they are shown as ``\\n`` too.
    """
    value = str(text)
    if value.isprintable():  # the usual case: nothing to do
        return value
    kept = "\n\t" if newlines else ""
    return "".join(
        _visible(char)
        if char not in kept and (unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS)
        else char
        for char in value
    )


def shown(text: object, *, newlines: bool = False) -> str:
    """:func:`printable` text escaped for rich markup (for ``stdout.print`` / tables)."""
    return escape(printable(text, newlines=newlines))


# The passwords of the storage URLs this process was given (--storage, $TUNEFUL_STORAGE, a
# spec's storage), so that an error message quoting a URL in any form never shows them.
_PASSWORDS: set[str] = set()
_SHORTEST_MASKED = 4  # a shorter password would mask ordinary words; the URL itself is masked


def _remember_password(url: str) -> None:
    if not has_password(url):
        return
    _PASSWORDS.add(url)
    try:
        parts = urllib.parse.urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        found = []
    query = url.partition("?")[2]
    found += [v for k, v in urllib.parse.parse_qsl(query) if k.lower() in ("password", "pwd")]
    for password in found:
        for form in {password, urllib.parse.unquote(password)}:
            if len(form) >= _SHORTEST_MASKED:
                _PASSWORDS.add(form)


def without_passwords(text: str) -> str:
    """``text`` with every storage URL this process was given redacted, and their
    passwords masked wherever else they appear."""
    for secret in sorted(_PASSWORDS, key=len, reverse=True):  # whole URLs first
        if secret in text:
            text = text.replace(secret, redact_url(secret) if "://" in secret else MASK)
    return text


def error_line(message: str) -> str:
    """A message folded onto one line, for ``error: ...``: control characters escaped,
    passwords masked."""
    folded = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return printable(without_passwords(folded))


class _OneLineHandler(logging.Handler):
    """Shows a log record as one ``warning:`` line (its first line only)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().splitlines()
        except Exception:  # a malformed record must not break the run
            return
        level = "warning" if record.levelno >= logging.WARNING else "note"
        stderr.print(f"[yellow]{level}:[/] {shown(without_passwords(text[0] if text else ''))}")


def _show_warning(message: Warning | str, *_args: Any, **_kwargs: Any) -> None:
    first = str(message).splitlines()
    stderr.print(f"[yellow]warning:[/] {shown(without_passwords(first[0] if first else ''))}")


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


def resolve_storage(url: str | None) -> str:
    """The storage URL to use: ``url``, else ``$TUNEFUL_STORAGE``, else ``./tuneful.db``.

    A password in the URL is remembered so that no error message of this process shows it.
    """
    if url is None:
        url = os.environ.get("TUNEFUL_STORAGE") or DEFAULT_STORAGE
    _remember_password(url)
    return url


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite storage URL (None for other storages)."""
    path = _sqlite_path(url)
    return None if path is None else Path(path)


def display_storage(url: str) -> str:
    """The URL as it may be shown: a database password masked (``***``), an SQLite file
    below the working directory shown relative to it, control characters escaped."""
    path = _sqlite_path(url)
    if path is None or not os.path.isabs(path):
        return printable(redact_url(url))
    try:
        relative = Path(path).relative_to(Path.cwd().resolve())
    except ValueError:
        return printable(url)
    return printable(f"sqlite:///{relative}" + (f"?{url.partition('?')[2]}" if "?" in url else ""))


def storage_flag(url: str) -> str:
    """`` --storage URL`` when ``url`` is not what the commands use by default, else "".

    A URL with a password is never written into a command: the commands then read it from
    ``$TUNEFUL_STORAGE`` (see :func:`look_commands`).
    """
    if url == resolve_storage(None):
        return ""
    if has_password(url):
        return ' --storage "$TUNEFUL_STORAGE"'
    shown_url = display_storage(url)
    default = display_storage(resolve_storage(None))
    return "" if shown_url == default else f" --storage {shlex.quote(shown_url)}"


def look_commands(name: str, url: str) -> list[str]:
    """Commands that show a study: ``tuneful show``, ``tuneful plot`` (an offline page of its
    history), ``tuneful dashboard`` and ``tuneful export``.

    ``url`` is the full storage URL. When it holds a password that ``$TUNEFUL_STORAGE`` does
    not already provide, the first line says to export it (the password is not printed).
    """
    flag = storage_flag(url)
    quoted = shlex.quote(name)
    setup = []
    if flag and has_password(url):
        setup.append(
            f"export TUNEFUL_STORAGE={shlex.quote(display_storage(url))}"
            f"   # write the password in place of {MASK}"
        )
    return [
        *setup,
        f"tuneful show {quoted}{flag}",
        f"tuneful plot {quoted} --kind history --output {shlex.quote(name + '-history.html')}"
        f"{flag}   # pip install 'tuneful[viz]'",
        f"tuneful dashboard{flag}   # pip install 'tuneful[dashboard]'",
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


# -- files the command line writes -----------------------------------------------------------
#: The files of an SQLite database besides the main one (write-ahead log, shared memory,
#: rollback journal).
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class OutputError(TunefulError, ValueError):
    """An output file the command will not write (it is the storage, or it exists)."""


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _check_output(path: Path, storage_url: str | None, force: bool) -> None:
    database = sqlite_file(storage_url) if storage_url else None
    if database is not None:
        for candidate in (database, *(Path(f"{database}{s}") for s in _SQLITE_SIDE_FILES)):
            if _same_file(path, candidate):
                raise OutputError(
                    f"--output {printable(path)} is the storage's own file "
                    f"({printable(candidate)}): writing it would destroy every study in it; "
                    "choose another file"
                )
    if path.is_dir():
        raise OutputError(f"--output {printable(path)} is a folder: expected a file")
    if path.exists() and not force:
        raise OutputError(
            f"--output {printable(path)} exists: pass --force to replace it, or choose another file"
        )


def write_output(
    path: Path, text: str, *, storage_url: str | None = None, force: bool = False
) -> None:
    """Write ``text`` to ``path`` whole or not at all: through a temporary file in the same
    folder, renamed over ``path`` once complete (so an interrupted or failed write never
    leaves half a file, and never an empty one).

    Raises:
        OutputError: ``path`` is a file of the SQLite storage ``storage_url`` (always), or it
            exists and ``force`` is not given, or it cannot be written.
    """
    _check_output(path, storage_url, force)
    folder = path.parent if str(path.parent) else Path(".")
    temporary: Path | None = None
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
        with tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            dir=folder,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
            newline="",
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # A temporary file is private (0600); the result gets the usual permissions.
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {printable(path)}: {exc.strerror or exc}") from None
        raise


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
