"""A dashboard served in a background thread and a headless Chromium to look at it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneful.dashboard.server import Dashboard, prepare

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@contextmanager
def served(storage_url: str, **options: Any) -> Iterator[Dashboard]:
    """The dashboard of ``storage_url`` on a free loopback port, until the block ends."""
    dashboard = prepare(storage_url, port=0, interval=0.2, **options)
    started = threading.Event()
    thread = threading.Thread(target=dashboard.serve, kwargs={"on_started": started.set})
    thread.start()
    try:
        if not started.wait(30):
            raise RuntimeError("the dashboard did not start within 30 s")
        yield dashboard
    finally:
        dashboard.stop()
        thread.join(30)


@dataclass
class Watched:
    """A page and every problem it showed: console errors, failed or refused requests."""

    page: Any
    problems: list[str] = field(default_factory=list)


@contextmanager
def browser(user_data: Path, *, width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A fresh headless Chromium context (its own profile folder; no network beyond it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": width, "height": height},
            env={**os.environ, "HOME": str(user_data)},
        )
        try:
            yield context
        finally:
            context.close()


def watch(page: Any) -> Watched:
    watched = Watched(page)
    page.on(
        "console",
        lambda m: (
            watched.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") and "deprecat" not in m.text.lower()
            else None
        ),
    )
    page.on("pageerror", lambda e: watched.problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: watched.problems.append(f"failed: {r.url} {r.failure}"))
    page.on(
        "response",
        lambda r: watched.problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
    )
    return watched


def wait_until(page: Any, expression: str, timeout_ms: int) -> None:
    """Poll ``expression`` in the page until it is truthy. (Playwright's wait_for_function
    evaluates a string in the page, which the dashboard's Content-Security-Policy forbids;
    ``page.evaluate`` goes through the browser's debugging protocol and is allowed.)"""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_ms} ms: {expression}")
        time.sleep(0.05)
