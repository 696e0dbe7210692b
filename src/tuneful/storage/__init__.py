"""Durable record of studies and trials. ``open_storage(url)`` picks the backend by the URL's
scheme, from the schemes registered with :func:`register_storage`:

- ``memory://``: this process only;
- ``sqlite:///path.db`` (the default is ``sqlite:///tuneful.db`` in the working directory; a
  plain path ending in ``.db`` too): one file shared by the processes of a machine;
- ``postgresql://user:password@host/db``: a server (through SQLAlchemy and psycopg 3);
- ``journal:///path.jsonl`` (a plain path ending in ``.jsonl`` too): one JSON-lines file
  shared by the processes of a machine through a file lock.

A backend implements the small :class:`~tuneful.storage.log.EventLog` primitive;
:class:`Storage` keeps the rules of trials above it, once for all backends.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tuneful.errors import StorageError
from tuneful.storage.base import SCHEMA_VERSION, Event, Storage, StudyInfo
from tuneful.storage.memory import MemoryStorage
from tuneful.storage.urls import redact_url

__all__ = [
    "Storage",
    "StudyInfo",
    "Event",
    "MemoryStorage",
    "SCHEMA_VERSION",
    "DEFAULT_STORAGE",
    "StorageFactory",
    "open_storage",
    "register_storage",
    "registered_schemes",
    "upgrade_storage",
]

DEFAULT_STORAGE = "sqlite:///tuneful.db"

_MEMORY_FORMS = ("memory://", "memory", ":memory:")
_ALIASES = {"postgres": "postgresql"}


class StorageFactory(Protocol):
    """Opens a storage from its full URL (the scheme already checked)."""

    def __call__(self, url: str, *, read_only: bool, allow_foreign_tables: bool) -> Storage: ...


@dataclass(frozen=True)
class _Scheme:
    factory: StorageFactory
    example: str
    suffixes: tuple[str, ...]
    upgrade: Callable[[str], tuple[int, int]] | None
    shared: bool


_SCHEMES: dict[str, _Scheme] = {}


def register_storage(
    scheme: str,
    factory: StorageFactory,
    *,
    example: str | None = None,
    suffixes: tuple[str, ...] = (),
    upgrade: Callable[[str], tuple[int, int]] | None = None,
    shared: bool = True,
) -> None:
    """Make ``open_storage`` open URLs of ``scheme`` (``scheme://...`` or ``scheme+driver://``)
    with ``factory``.

    Args:
        scheme: the URL's scheme, lower case (registering it again replaces it).
        factory: ``factory(url, read_only=..., allow_foreign_tables=...)`` -> a Storage.
        example: a URL shown in messages (default ``scheme://...``).
        suffixes: plain paths ending so are opened as ``scheme:///path``.
        upgrade: ``upgrade(url) -> (version found, version now)`` for ``tuneful db upgrade``.
        shared: whether the processes of one machine can share a storage of this scheme
            (``memory://`` cannot).
    """
    _SCHEMES[scheme.lower()] = _Scheme(
        factory, example or f"{scheme}://...", tuple(suffixes), upgrade, shared
    )


def registered_schemes(*, shared: bool | None = None) -> list[str]:
    """The registered schemes, in registration order; only those that processes can (or
    cannot) share when ``shared`` is given."""
    return [name for name, s in _SCHEMES.items() if shared in (None, s.shared)]


def _expected() -> str:
    examples = [s.example for s in _SCHEMES.values()]
    return ", ".join(examples[:-1]) + f" or {examples[-1]}" if len(examples) > 1 else examples[0]


def _resolve(url: str) -> tuple[_Scheme, str]:
    """The registered scheme of a URL or plain path, and the URL in full.

    Raises:
        StorageError: naming the URL (its password masked) and the forms expected.
    """
    shown = redact_url(url)
    if url in _MEMORY_FORMS:
        return _SCHEMES["memory"], "memory://"
    if "://" not in url:
        for name, scheme in _SCHEMES.items():
            if scheme.suffixes and url.endswith(scheme.suffixes):
                return scheme, f"{name}:///{url}"
        raise StorageError(f"storage {shown!r} is not a URL: expected {_expected()}")
    name = url.split(":", 1)[0].split("+", 1)[0].lower()
    if name in _ALIASES:
        url, name = _ALIASES[name] + url[len(name) :], _ALIASES[name]
    if name not in _SCHEMES:
        raise StorageError(
            f"storage {shown!r} has unknown scheme {name!r}: expected one of the schemes "
            f"{', '.join(_SCHEMES)} ({_expected()})"
        )
    return _SCHEMES[name], url


def open_storage(
    storage: str | os.PathLike[str] | Storage | None = None,
    *,
    read_only: bool = False,
    allow_foreign_tables: bool = False,
) -> Storage:
    """Return a storage object for a URL, a path, an existing storage, or the default.

    Args:
        storage: ``memory://``, ``sqlite:///path.db`` (or a path ending in ``.db``),
            ``postgresql://user:password@host/db``, ``journal:///path.jsonl`` (or a path
            ending in ``.jsonl``), a URL of another registered scheme, a :class:`Storage`
            (returned as it is), or None: ``$TUNEFUL_STORAGE``, else ``sqlite:///tuneful.db``.
        read_only: only read (for listing, showing, exporting): no file or table is
            created, nothing is migrated and an SQLite file's journal mode is left alone;
            the file is opened ``mode=ro``, so a read-only file or folder works. A storage
            without tuneful's tables, or a file that does not exist, reads as empty (no
            studies; loading one is :class:`~tuneful.errors.StudyNotFoundError`). Every
            write raises :class:`~tuneful.errors.StorageError`.
        allow_foreign_tables: let tuneful add its tables to a database that already holds
            other tables (also ``TUNEFUL_ALLOW_FOREIGN_TABLES=1``). Without it, opening such a
            database to write, say Optuna's ``optuna.db``, is refused with a StorageError
            naming the tables: it is most likely a mistake.

    Raises:
        StorageError: the URL is malformed or its scheme unknown, the database cannot be
            opened, or it belongs to another application. No message shows the password.

    Example:
        >>> storage = open_storage("memory://")
        >>> storage.list_studies()
        []
    """
    if isinstance(storage, Storage):
        return storage
    if storage is None:
        storage = os.environ.get("TUNEFUL_STORAGE", DEFAULT_STORAGE)
    scheme, url = _resolve(os.fspath(storage))
    return scheme.factory(url, read_only=read_only, allow_foreign_tables=allow_foreign_tables)


def upgrade_storage(storage: str | os.PathLike[str]) -> tuple[int, int]:
    """Migrate a relational storage to this release's schema: (version found, version now).

    Raises:
        StorageError: a storage without a schema, an SQLite file that does not exist, or the
            database cannot be reached.
    """
    scheme, url = _resolve(os.fspath(storage))
    if scheme.upgrade is None:
        raise StorageError(
            f"storage {redact_url(url)!r} has no schema to upgrade (only "
            f"{', '.join(n for n, s in _SCHEMES.items() if s.upgrade)} storages have one)"
        )
    return scheme.upgrade(url)


# -- the built-in schemes (each backend's module is imported only when it is used) -----------
def _memory(url: str, *, read_only: bool, allow_foreign_tables: bool) -> Storage:
    if url not in _MEMORY_FORMS:
        raise StorageError(
            f"storage {redact_url(url)!r}: memory storage takes no path or options: "
            "expected 'memory://'"
        )
    return MemoryStorage(read_only=read_only)


def _sqlite(url: str, **options: Any) -> Storage:
    from tuneful.storage.sqlite import SQLiteStorage

    return SQLiteStorage(url, **options)


def _upgrade_sqlite(url: str) -> tuple[int, int]:
    from tuneful.storage.sqlite import upgrade_sqlite

    return upgrade_sqlite(url)


def _postgresql(url: str, **options: Any) -> Storage:
    from tuneful.storage.postgresql import PostgreSQLStorage

    return PostgreSQLStorage(url, **options)


def _upgrade_postgresql(url: str) -> tuple[int, int]:
    from tuneful.storage.postgresql import upgrade_postgresql

    return upgrade_postgresql(url)


def _journal(url: str, *, read_only: bool, allow_foreign_tables: bool) -> Storage:
    from tuneful.storage.journal import JournalStorage

    return JournalStorage(url, read_only=read_only)


register_storage("memory", _memory, example="memory://", shared=False)
register_storage(
    "sqlite",
    _sqlite,
    example="sqlite:///path.db, a path ending in .db",
    suffixes=(".db", ".sqlite", ".sqlite3"),
    upgrade=_upgrade_sqlite,
)
register_storage(
    "postgresql", _postgresql, example="postgresql://user@host/db", upgrade=_upgrade_postgresql
)
register_storage(
    "journal",
    _journal,
    example="journal:///path.jsonl, a path ending in .jsonl",
    suffixes=(".jsonl",),
)
