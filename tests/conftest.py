from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tuneful.cli import main
from tuneful.storage import registered_schemes

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

    from tuneful.storage.sql_engine import pick_driver

    engine = sa.create_engine(pick_driver(sa.engine.make_url(POSTGRES_URL)))
    with engine.begin() as conn:
        for table in ("tuneful_events", "tuneful_trials", "tuneful_studies", "tuneful_meta"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    engine.dispose()
    return POSTGRES_URL


#: How the tests make a fresh storage URL of each registered scheme (a new backend adds its own).
TEST_URLS: dict[str, Callable[[Path], str]] = {
    "memory": lambda _folder: "memory://",
    "sqlite": lambda folder: f"sqlite:///{folder / 'studies.db'}",
    "postgresql": lambda _folder: _fresh_postgres(),
    "journal": lambda folder: f"journal:///{folder / 'studies.jsonl'}",
}


def _test_url(scheme: str, folder: Path) -> str:
    make = TEST_URLS.get(scheme)
    if make is None:
        pytest.fail(f"storage scheme {scheme!r} is registered but tests/conftest.py has no URL")
    return make(folder)


@pytest.fixture(params=registered_schemes())
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every registered storage backend, for the conformance suite."""
    return _test_url(request.param, tmp_path)


@pytest.fixture(params=registered_schemes(shared=True))
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every registered backend that several processes can share (files, servers)."""
    return _test_url(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The relational backends, for their own tests (schemas, lost connections)."""
    return _test_url(request.param, tmp_path)


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
