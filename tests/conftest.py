from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own folder, so the default ./tuneful.db never leaks."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUNEFUL_STORAGE", raising=False)


@pytest.fixture(params=["memory", "sqlite"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage backend, for the conformance suite."""
    if request.param == "memory":
        return "memory://"
    return f"sqlite:///{tmp_path / 'studies.db'}"


def pytest_report_header(config: pytest.Config) -> str:
    return f"tuneful tests; cpu count {os.cpu_count()}"
