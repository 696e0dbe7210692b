"""``tuneful demo``: a real (small) study on scikit-learn's digits."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.demo import SPACE, STUDY_NAME


def test_demo_runs_a_few_trials_and_continues(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    pytest.importorskip("sklearn")
    url = f"sqlite:///{tmp_path / 'd.db'}"
    result = run_cli("demo", "--n-trials", "3", "--no-progress", "--storage", url)
    assert result.returncode == 0, result.stderr
    assert "Best cross-validation accuracy" in result.stdout
    assert "Test accuracy of that configuration" in result.stdout
    assert f"tuneful show {STUDY_NAME} --storage" in result.stdout
    study = tuneful.load_study(STUDY_NAME, storage=url)
    assert study.space == SPACE and study.directions == ("maximize",)
    assert [t.state for t in study.trials] == [tuneful.TrialState.COMPLETE] * 3
    assert all(0.0 < (t.value or 0.0) <= 1.0 for t in study.trials)

    from tuneful.demo import run_demo

    again = run_demo(storage=url, n_trials=2, show_progress_bar=False)
    assert len(again.study.trials) == 5
    assert 0.0 < again.test_accuracy <= 1.0
    assert again.best_params == dict(again.study.best_params)


def test_demo_without_scikit_learn_is_a_one_line_error(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "sklearn.py").write_text("raise ImportError('blocked for this test')\n")
    result = run_cli("demo", "--n-trials", "1", "--no-progress", extra_path=str(blocker))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: the demo needs scikit-learn")
    assert "pip install" in result.stderr and "Traceback" not in result.stderr
    assert "'tuneful[demo]'" in result.stderr.strip().splitlines()[-1]  # which extra, one line


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_demo_installs_only_the_demo_extra() -> None:
    demo = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "-e '.[demo]'" in demo and ".[dev]" not in demo
    assert "tuneful demo" in demo
    test = subprocess.run(
        ["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "-e '.[dev]'" in test


def test_the_dev_extra_includes_the_demo_extra() -> None:
    tomllib = pytest.importorskip("tomllib")

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["demo"] == ["scikit-learn>=1.3"]
    assert any(item.startswith("tuneful[") and "demo" in item for item in extras["dev"])
