"""Run the dashboard: open the storage read-only, bind the socket, serve with uvicorn.

The socket is bound here, before uvicorn starts, so that a port in use is one clear error and
``--port 0`` serves on a free port whose address is printed. uvicorn stops on Ctrl-C and
SIGTERM: it stops taking connections, lets the requests in flight finish (the page's polls
take milliseconds), and returns; the storage is closed after it. No process or thread is left.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tuneful.dashboard.app import create_app, import_starlette, plotly_script
from tuneful.dashboard.live import DEFAULT_INTERVAL, LiveStorage
from tuneful.dashboard.security import DashboardError, check_exposure, is_loopback
from tuneful.errors import MissingDependencyError
from tuneful.storage import Storage, open_storage

__all__ = ["Dashboard", "prepare", "bind", "LOOPBACK_HOSTS"]

#: The ``Host`` names a loopback dashboard answers to.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _import_uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError(
            "the dashboard needs starlette and uvicorn: pip install 'tuneful[dashboard]'"
        ) from None
    return uvicorn


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one).

    Raises:
        DashboardError: the port is in use, the address is not this machine's, or the host
            name does not resolve.
    """
    if not 0 <= port <= 65535:
        raise DashboardError(f"port {port}: expected 0 to 65535 (0 picks a free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise DashboardError(f"host {host!r}: cannot resolve it ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DashboardError(
                f"port {port} on {host} is in use: pick another with --port (0 picks a free one)"
            ) from None
        raise DashboardError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


@dataclass
class Dashboard:
    """A dashboard ready to serve: its socket bound, its storage open read-only.

    Attributes:
        url: the address to open (with ``?token=...`` when a token is required).
        token: the token required, or None.
    """

    live: LiveStorage
    sock: socket.socket
    url: str
    token: str | None
    app: Any
    _server: Any = None

    def serve(self, *, on_started: Callable[[], None] | None = None) -> None:
        """Serve until Ctrl-C or SIGTERM (or :meth:`stop`), then close everything."""
        uvicorn = _import_uvicorn()
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", timeout_notify=5
        )
        self._server = uvicorn.Server(config)
        if on_started is not None:
            threading.Thread(target=self._notify, args=(on_started,), daemon=True).start()
        try:
            self._server.run(sockets=[self.sock])
        finally:
            self.sock.close()
            self.live.close()

    def _notify(self, callback: Callable[[], None]) -> None:
        while self._server is not None and not self._server.started:
            if self._server.should_exit:
                return
            threading.Event().wait(0.02)
        callback()

    def stop(self) -> None:
        """Ask the server to stop (from another thread); :meth:`serve` then returns."""
        if self._server is not None:
            self._server.should_exit = True


def prepare(
    storage: str | Storage,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    token: str | None = None,
    no_token: bool = False,
    interval: float = DEFAULT_INTERVAL,
) -> Dashboard:
    """Check the exposure, open the storage read-only and bind the socket.

    Args:
        storage: a URL (opened with ``read_only=True``) or a storage already opened so.
        host / port: where to listen (port 0: a free one).
        token: the token to require; on a host other than loopback a new one when None.
        no_token: serve without a token (refused unless ``host`` is loopback).
        interval: the shortest time between two reads of one study's new events.

    Raises:
        DashboardError: an exposed host without a token, a port in use.
        MissingDependencyError: starlette, uvicorn or plotly is missing.
        StorageError: the storage cannot be opened.
    """
    required = check_exposure(host, token, no_token=no_token)
    import_starlette()
    _import_uvicorn()
    plotly_script()
    backend = storage if isinstance(storage, Storage) else open_storage(storage, read_only=True)
    live = LiveStorage(backend, interval=interval)
    allowed = LOOPBACK_HOSTS if is_loopback(host) and required is None else None
    app = create_app(live, token=required, allowed_hosts=allowed)
    sock = bind(host, port)
    shown_host = host if ":" not in host else f"[{host.strip('[]')}]"
    if host in ("0.0.0.0", "::"):
        shown_host = socket.gethostname()
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    if required is not None:
        url += f"?token={quote(required)}"
    return Dashboard(live, sock, url, required, app)
