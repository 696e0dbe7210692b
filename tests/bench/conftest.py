"""Where the benchmark data is: ``$TUNEFUL_DATA_DIR``, else the repository's shared folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_BENCHMARKS = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"


def benchmark_data_dir() -> Path | None:
    """``$TUNEFUL_DATA_DIR`` if set, else ``../shared/benchmarks`` next to the repository."""
    from_env = os.environ.get("TUNEFUL_DATA_DIR")
    folder = Path(from_env) if from_env else SHARED_BENCHMARKS
    return folder if folder.is_dir() else None


@pytest.fixture
def data_dir() -> Path:
    """The benchmark data folder; the test is skipped when there is none."""
    folder = benchmark_data_dir()
    if folder is None:
        pytest.skip(f"benchmark data not found at {SHARED_BENCHMARKS}; set TUNEFUL_DATA_DIR")
    return folder


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``yahpo_scenario`` over the YAHPO scenarios present in the data folder."""
    if "yahpo_scenario" not in metafunc.fixturenames:
        return
    folder = benchmark_data_dir()
    root = (folder or SHARED_BENCHMARKS) / "yahpo"
    scenarios = sorted(p.name for p in root.glob("*") if (p / "meta.json").is_file())
    if scenarios:
        metafunc.parametrize("yahpo_scenario", scenarios)
    else:
        reason = f"YAHPO data not found at {root}; set TUNEFUL_DATA_DIR"
        metafunc.parametrize("yahpo_scenario", [pytest.param(None, marks=pytest.mark.skip(reason))])
