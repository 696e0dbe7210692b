"""Fixtures of the dashboard's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dashboard_studies import fill_multi, fill_single

from tuneful.storage import open_storage


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: runs a real headless Chromium")


@pytest.fixture
def storage_url(tmp_path: Path) -> Iterator[str]:
    """An SQLite file with study 'single' (30 trials of every state) and a two-objective
    study named :data:`HOSTILE_NAME`."""
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    storage = open_storage(url)
    fill_single(storage)
    fill_multi(storage)
    storage.close()
    yield url
