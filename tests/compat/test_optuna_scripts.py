"""Optuna example scripts run unchanged under Optuna and, with only the import line swapped,
under ``tuneful.compat.optuna``; each checks its own results with asserts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("optuna")

SCRIPTS = sorted((Path(__file__).parent / "optuna_scripts").glob("*.py"))
IMPORT = "import optuna"
SWAPPED = "import tuneful.compat.optuna as optuna"


def swapped(text: str) -> str:
    """The script with its one ``import optuna`` line changed, and nothing else."""
    lines = text.splitlines()
    assert lines.count(IMPORT) == 1, "each example imports optuna on one line of its own"
    assert sum("optuna" in line and "import" in line for line in lines) == 1
    return "\n".join(SWAPPED if line == IMPORT else line for line in lines) + "\n"


def run_script(path: Path, text: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    exec(compile(text, str(path), "exec"), namespace)  # noqa: S102 - our own examples
    return namespace


@pytest.fixture(autouse=True)
def _quiet_and_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # storage_resume writes its SQLite file here
    logging.getLogger("tuneful").setLevel(logging.ERROR)
    monkeypatch.setattr(sys, "argv", ["example"])


def test_there_are_enough_examples() -> None:
    assert len(SCRIPTS) >= 6


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_under_optuna(script: Path) -> None:
    namespace = run_script(script, script.read_text())
    assert namespace["result"]
    assert namespace["optuna"].__name__ == "optuna"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_example_runs_under_tuneful_with_the_import_swapped(script: Path) -> None:
    namespace = run_script(script, swapped(script.read_text()))
    assert namespace["result"]
    assert namespace["optuna"].__name__ == "tuneful.compat.optuna"
    study = namespace.get("study")
    if study is not None and script.stem != "storage_resume":
        assert type(study.native).__module__ == "tuneful.study"  # a real tuneful study


def test_the_porting_guide_example_runs() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "from-optuna.md").read_text()
    section = guide.split("## Running an Optuna script", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert code.startswith("import tuneful.compat.optuna as optuna")
    namespace = run_script(Path("from-optuna.md"), code)
    study = namespace["study"]
    assert len(study.trials) == 50
    assert study.get_trials(states=(namespace["optuna"].TrialState.PRUNED,))
    assert abs(study.best_params["x"] - 2) < 1.0
