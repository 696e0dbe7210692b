from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tuneful.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in its own folder, so the default ./tuneful.db never leaks."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUNEFUL_STORAGE", raising=False)


#: A PostgreSQL database the tests may wipe (``scripts/postgres-server start`` prints one;
#: .ci/run starts it). Without it the PostgreSQL cases are skipped.
POSTGRES_URL = os.environ.get("TUNEFUL_TEST_POSTGRES")


@pytest.fixture
def postgres_url() -> str:
    """The test database, emptied of tuneful's tables; skips the test without one."""
    return _fresh_postgres()


def _fresh_postgres() -> str:
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set TUNEFUL_TEST_POSTGRES (scripts/postgres-server)")
    import sqlalchemy as sa

    from tuneful.storage.sql import _pick_driver

    engine = sa.create_engine(_pick_driver(sa.engine.make_url(POSTGRES_URL)))
    with engine.begin() as conn:
        for table in ("tuneful_events", "tuneful_trials", "tuneful_studies", "tuneful_meta"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage backend, for the conformance suite."""
    if request.param == "memory":
        return "memory://"
    if request.param == "postgresql":
        return _fresh_postgres()
    return f"sqlite:///{tmp_path / 'studies.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The relational backends, for the tests of several processes on one database."""
    if request.param == "postgresql":
        return _fresh_postgres()
    return f"sqlite:///{tmp_path / 'studies.db'}"


def pytest_report_header(config: pytest.Config) -> str:
    return f"tuneful tests; cpu count {os.cpu_count()}"


# -- the command line, in this process (tests/cli has the subprocess forms) -----------------
@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run the command line in this process (faster than a subprocess): cli("ls", ...)."""

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:
            code = 0
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def _check_one_line_error(result: Result, *fragments: str, alone: bool = True) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines, result.stdout
    assert not alone or len(lines) == 1, result.stderr
    error = lines[-1]
    assert error.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in error, error
    return error


@pytest.fixture
def one_line_error() -> Callable[..., str]:
    """Check a result: exit 2, an ``error: ...`` line last on stderr naming the fragments,
    no traceback; with ``alone`` (the default) nothing else on stderr. Returns the line."""
    return _check_one_line_error
