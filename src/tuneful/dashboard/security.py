"""Who may read the dashboard: loopback by default, a token anywhere else.

The rules, checked before the server starts (:func:`check_exposure`):

- bound to a loopback address (``127.0.0.1``, ``::1``, ``localhost``), no token is needed
  (one may still be given, and is then required);
- bound to any other address, a token is required: the one given, else a fresh
  ``secrets.token_urlsafe(24)``; disabling the token there refuses to start.

A request shows the token as ``?token=...`` (once: the answer sets an HttpOnly, SameSite
cookie and sends the browser to the same address without it), as the cookie, or as
``Authorization: Bearer ...``. Without one it gets 401, with a wrong one 403. On loopback
without a token, a request whose ``Host`` is not a loopback name is refused (403): a web page
elsewhere cannot reach the dashboard by pointing its own host name at 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from tuneful.errors import TunefulError

__all__ = [
    "DashboardError",
    "COOKIE",
    "check_exposure",
    "is_loopback",
    "new_token",
    "TokenGuard",
]

#: The cookie that carries the token after the first visit.
COOKIE = "tuneful_dashboard_token"
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class DashboardError(TunefulError, ValueError):
    """The dashboard cannot start as asked (an exposed host without a token, a bad port)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def new_token() -> str:
    """A fresh random token (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def check_exposure(host: str, token: str | None, *, no_token: bool = False) -> str | None:
    """The token the server will require on ``host``: ``token``, a new one, or None.

    Raises:
        DashboardError: a token disabled (``no_token``) on a host that is not loopback, or
            a token given and disabled at once, or an empty token.
    """
    if token is not None and not token.strip():
        raise DashboardError("token '': expected a non-empty token (or leave --token out)")
    if no_token and token is not None:
        raise DashboardError("--token and --no-token were both given: expected one of them")
    if is_loopback(host):
        return token
    if no_token:
        raise DashboardError(
            f"host {host!r} is reachable from other machines: the dashboard refuses to serve "
            "it without a token (drop --no-token, or bind to 127.0.0.1)"
        )
    return token if token is not None else new_token()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class TokenGuard:
    """ASGI middleware: every HTTP request shows the token (or is refused, see module).

    Args:
        app: the application behind the guard.
        token: the token required, or None for none.
        allowed_hosts: the ``Host`` names accepted (None: any); the server passes the
            loopback names when it runs on loopback without a token.
    """

    def __init__(
        self, app: ASGIApp, *, token: str | None, allowed_hosts: tuple[str, ...] | None = None
    ) -> None:
        self.app = app
        self.token = token
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed_hosts is not None and not self._host_allowed(scope):
            await _refuse(send, 403, "this dashboard answers to its loopback address only")
            return
        if self.token is None:
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(bytes(scope.get("query_string", b"")).decode("latin-1")))
        shown = query.get("token")
        if shown is not None:
            if not secrets.compare_digest(shown.encode(), self.token.encode()):
                await _refuse(send, 403, "wrong token")
                return
            await self._welcome(scope, send, query)
            return
        given = _cookie(scope, COOKIE)
        authorization = _header(scope, b"authorization") or ""
        if authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if given is None:
            await _refuse(send, 401, "a token is required: open the address the server printed")
            return
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            await _refuse(send, 403, "wrong token")
            return
        await self.app(scope, receive, send)

    def _host_allowed(self, scope: Scope) -> bool:
        host = (_header(scope, b"host") or "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in (self.allowed_hosts or ())

    async def _welcome(self, scope: Scope, send: Send, query: dict[str, str]) -> None:
        """Set the cookie and send the browser to the same address without the token, so
        that it leaves the address bar, the history and later requests."""
        rest = {k: v for k, v in query.items() if k != "token"}
        location = scope.get("root_path", "") + scope["path"]
        if rest:
            location += "?" + urlencode(rest)
        cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
        headers = [
            (b"location", location.encode("latin-1")),
            (b"set-cookie", cookie.encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


async def _refuse(send: Send, status: int, message: str) -> None:
    body = ('{"error": "' + message + '"}').encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
