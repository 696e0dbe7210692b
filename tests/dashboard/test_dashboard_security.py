"""Who may read the dashboard: the token, loopback, and what refuses to start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tuneful.cli import main
from tuneful.dashboard.app import create_app
from tuneful.dashboard.live import LiveStorage
from tuneful.dashboard.security import DashboardError, check_exposure, is_loopback
from tuneful.dashboard.server import LOOPBACK_HOSTS, bind, prepare
from tuneful.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")
TOKEN = "s3cret-token"


@pytest.fixture
def guarded(storage_url: str) -> Any:
    live = LiveStorage(open_storage(storage_url, read_only=True), interval=0.0)
    yield starlette_testclient.TestClient(create_app(live, token=TOKEN), follow_redirects=False)
    live.close()


def test_a_request_without_the_token_gets_401(guarded: Any) -> None:
    for url in ("/", "/api/studies", "/static/app.js", "/api/trials?study=single"):
        response = guarded.get(url)
        assert response.status_code == 401, url
        assert "single" not in response.text


def test_a_wrong_token_gets_403_in_every_form(guarded: Any) -> None:
    assert guarded.get("/api/studies?token=nope").status_code == 403
    assert guarded.get("/api/studies", headers={"Authorization": "Bearer nope"}).status_code == 403
    guarded.cookies.set("tuneful_dashboard_token", "nope")
    assert guarded.get("/api/studies").status_code == 403


def test_the_token_in_the_address_sets_an_http_only_cookie_and_leaves_the_address(
    guarded: Any,
) -> None:
    first = guarded.get(f"/?token={TOKEN}")
    assert first.status_code == 303 and first.headers["location"] == "/"
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert guarded.get("/api/studies").status_code == 200  # the cookie now


def test_a_bearer_header_is_accepted(guarded: Any) -> None:
    response = guarded.get("/api/studies", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200


def test_loopback_without_token_answers_only_loopback_host_names(storage_url: str) -> None:
    live = LiveStorage(open_storage(storage_url, read_only=True), interval=0.0)
    app = create_app(live, allowed_hosts=LOOPBACK_HOSTS)
    client = starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8080")
    assert client.get("/api/studies").status_code == 200
    rebound = starlette_testclient.TestClient(app, base_url="http://evil.example:8080")
    assert rebound.get("/api/studies").status_code == 403
    live.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("myhost", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_rules() -> None:
    assert check_exposure("127.0.0.1", None) is None
    assert check_exposure("127.0.0.1", "abc") == "abc"
    generated = check_exposure("0.0.0.0", None)
    assert generated is not None and len(generated) >= 32
    assert check_exposure("0.0.0.0", "abc") == "abc"
    with pytest.raises(DashboardError, match="refuses to serve it without a token"):
        check_exposure("0.0.0.0", None, no_token=True)
    with pytest.raises(DashboardError, match="non-empty"):
        check_exposure("127.0.0.1", "  ")


def test_non_loopback_without_token_refuses_to_start_from_the_command_line(
    storage_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--storage", storage_url, "--host", "0.0.0.0", "--no-token"])
    assert exited.value.code == 2
    assert "without a token" in capsys.readouterr().err


def test_a_port_in_use_is_one_clear_error(storage_url: str) -> None:
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    with pytest.raises(DashboardError, match=f"port {port} on 127.0.0.1 is in use"):
        prepare(storage_url, port=port)
    taken.close()


def test_a_missing_sqlite_file_is_refused_before_serving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--storage", f"sqlite:///{tmp_path / 'none.db'}"])
    assert exited.value.code == 2 and "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def _wait_for_line(process: subprocess.Popen[str], needle: str, seconds: float) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if needle in line:
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"no {needle!r} in {lines!r}")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_the_command_prints_its_address_hides_the_password_and_stops_on_a_signal(
    storage_url: str, stop: signal.Signals
) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "tuneful.cli", "dashboard", "--storage", storage_url]
    process = subprocess.Popen(
        [*command, "--port", "0", "--host", "0.0.0.0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        line = _wait_for_line(process, "Serving", 60)
        assert "?token=" in line  # a token was made up and printed with the address
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"GET /api/studies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.1 401")
        process.send_signal(stop)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
