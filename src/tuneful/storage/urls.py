"""Storage URLs as they may be shown or kept: never with their password.

A URL such as ``postgresql://alice:S3cret@db/hpo`` is needed in full to connect, and only
there. Everything that prints, logs or stores a URL goes through :func:`redact_url` (to show
it) or :func:`strip_password` (to keep it, e.g. in a study's attributes).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

__all__ = ["redact_url", "strip_password", "has_password", "scrub", "MASK"]

#: What stands for a password in a URL that is shown.
MASK = "***"

# scheme://user:password@rest -- the split SQLAlchemy makes (a password runs to the last
# '@' before the host; a user name has no ':' or '/').
_CREDENTIALS = re.compile(r"^(?P<head>[^:/?#]+://[^:/@]*):(?P<password>.*)@(?P<rest>[^@]*)$", re.S)
# ...?password=... in the query string (libpq and SQLAlchemy both accept it).
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|pwd)=)(?P<value>[^&#]*)", re.I)


def _replace(url: str, password: str | None) -> str:
    match = _CREDENTIALS.match(url)
    if match is not None:
        head, rest = match.group("head"), match.group("rest")
        url = f"{head}@{rest}" if password is None else f"{head}:{password}@{rest}"
    if password is None:
        kept = _QUERY_PASSWORD.sub(lambda m: "?" if m.group("key")[0] == "?" else "", url)
        return kept.replace("?&", "?").rstrip("?")
    return _QUERY_PASSWORD.sub(lambda m: m.group("key") + password, url)


def redact_url(url: str) -> str:
    """The URL with its password, if any, replaced by ``***`` (for messages and tables).

    >>> redact_url("postgresql://alice:S3cret@db/hpo")
    'postgresql://alice:***@db/hpo'
    >>> redact_url("sqlite:///tuneful.db")
    'sqlite:///tuneful.db'
    """
    return _replace(str(url), MASK)


def strip_password(url: str) -> str:
    """The URL without its password (for what is stored: a reader must bring their own).

    >>> strip_password("postgresql://alice:S3cret@db/hpo?sslmode=require&password=x")
    'postgresql://alice@db/hpo?sslmode=require'
    """
    return _replace(str(url), None)


def has_password(url: str) -> bool:
    """Whether the URL carries a password (in its credentials or its query string)."""
    text = str(url)
    return _CREDENTIALS.match(text) is not None or _QUERY_PASSWORD.search(text) is not None


def _passwords(url: str) -> set[str]:
    """Every password a URL carries, as written and as decoded (a driver may echo either)."""
    found: list[str] = []
    match = _CREDENTIALS.match(url)
    if match is not None:
        found.append(match.group("password"))
    found.extend(m.group("value") for m in _QUERY_PASSWORD.finditer(url))
    decoded = {form for text in found for form in (text, unquote(text), unquote_plus(text))}
    return {text for text in decoded if text}


def scrub(text: str, url: str) -> str:
    """``text`` (say, a database driver's error message) with the URL shown redacted and
    every password of ``url`` masked wherever else it appears.

    >>> url = "postgresql://alice:S3cret@db/hpo"
    >>> scrub(f"cannot open {url} (password 'S3cret' rejected)", url)
    "cannot open postgresql://alice:***@db/hpo (password '***' rejected)"
    """
    url = str(url)
    text = str(text).replace(url, redact_url(url))
    for password in sorted(_passwords(url), key=len, reverse=True):
        text = text.replace(password, MASK)
    return text
