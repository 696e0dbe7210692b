"""A run whose first trials all fail with the same error stops with RepeatedFailureError."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tuneful
from tuneful.errors import RepeatedFailureError, StudyError
from tuneful.execution.failfast import error_signature
from tuneful.execution.runner import run_optimization
from tuneful.records import TrialState

SPACE = tuneful.Space(x=tuneful.Float(0.0, 1.0))
SRC = Path(__file__).resolve().parents[2] / "src"


def broken(trial: tuneful.Trial) -> float:
    import sklearn_missing  # type: ignore[import-not-found]  # noqa: F401

    return 0.0


def run(study: tuneful.Study, objective: object, **options: object) -> None:
    settings: dict[str, object] = {
        "n_trials": 40,
        "timeout": None,
        "n_jobs": 1,
        "catch": (Exception,),
        "callbacks": [],
        "show_progress_bar": False,
    }
    settings.update(options)
    run_optimization(study.engine, objective, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_broken_objective_stops_the_run_after_five_identical_failures(
    tmp_path: Path, storage: str, n_jobs: int
) -> None:
    url = "memory://" if storage == "memory" else f"sqlite:///{tmp_path / 'f.db'}"
    study = tuneful.create_study("broken", space=SPACE, storage=url, seed=0)
    with pytest.raises(RepeatedFailureError) as info:
        study.optimize(broken, n_trials=40, n_jobs=n_jobs, show_progress_bar=False)
    message = str(info.value)
    assert "ModuleNotFoundError: No module named 'sklearn_missing'" in message
    assert "failed with the same error and none completed" in message
    assert "fail_fast=False" in message and "tuneful show broken" in message
    trials = (
        tuneful.load_study("broken", storage=url).trials if storage == "sqlite" else (study.trials)
    )
    # five, plus at most one trial per other worker that was already running: all recorded
    assert 5 <= len(trials) <= 5 + n_jobs - 1
    assert all(t.state is TrialState.FAIL for t in trials)
    assert all("Traceback" in (t.error or "") for t in trials)


def test_fail_fast_false_runs_on_through_failures() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    run(study, broken, n_trials=8, fail_fast=False)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 8


def test_fail_fast_takes_a_threshold_and_refuses_nonsense() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    with pytest.raises(RepeatedFailureError, match="after 2 trials failed"):
        run(study, broken, n_trials=8, fail_fast=2)
    assert len(study.trials) == 2
    with pytest.raises(StudyError, match="fail_fast=0"):
        run(study, broken, fail_fast=0)


def test_a_completed_trial_disarms_fail_fast() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)

    def first_works(trial: tuneful.Trial) -> float:
        if trial.number == 0:
            return 1.0
        raise ValueError("the same error every time")

    run(study, first_works, n_trials=10)
    assert len(study.trials) == 10


def test_different_errors_do_not_stop_the_run() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)

    def varied(trial: tuneful.Trial) -> float:
        raise ValueError(f"error {trial.number % 3}")

    run(study, varied, n_trials=12)
    assert len(study.trials) == 12


def test_runs_of_fewer_trials_than_the_threshold_end_normally() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    run(study, broken, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 3


def test_earlier_failures_of_the_study_do_not_count() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    run(study, broken, n_trials=4)
    run(study, broken, n_trials=4)  # 8 failures in the study, 4 in this run
    assert len(study.trials) == 8


def test_error_signature_takes_the_last_exception_of_a_chain() -> None:
    text = (
        "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nKeyError: 'a'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        'Traceback (most recent call last):\n  File "a.py", line 3, in f\n    g()\n'
        "tuneful.errors.CommandError: command exited with code 1: boom\n--- last 2 lines\nx\n"
    )
    assert error_signature(text) == "CommandError: command exited with code 1: boom"
    assert error_signature("objective returned nan; expected a finite number") == (
        "objective returned nan; expected a finite number"
    )


@pytest.mark.parametrize("flags", [(), ("--no-fail-fast",)])
def test_tuneful_run_stops_a_spec_whose_program_always_crashes(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    spec = {
        "name": "crash",
        "command": "python -c 'import sklearn_missing' {x}",
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "metric": {"json_key": "loss"},
        "direction": "minimize",
        "n_trials": 7,
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    env = dict(os.environ, PYTHONPATH=str(SRC))
    env.pop("TUNEFUL_STORAGE", None)
    done = subprocess.run(
        [sys.executable, "-m", "tuneful.cli", "run", "spec.yaml", "--no-progress", *flags],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    trials = tuneful.load_study("crash", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").trials
    if flags:  # told to run on: every trial is run, and the run ends as a failed one
        assert [t.state for t in trials] == [TrialState.FAIL] * 7
        return
    error = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1, done.stderr
    assert "5 trials failed with the same error" in error[0]
    assert "command exited with code 1: ModuleNotFoundError: No module named" in error[0]
    assert "--no-fail-fast" in error[0]
    assert [t.state for t in trials] == [TrialState.FAIL] * 5


def test_an_objective_returning_a_huge_int_fails_its_trial_and_the_run_goes_on() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    study.optimize(lambda t: 10**400 if t.number == 0 else 1.0, n_trials=3, show_progress_bar=False)
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.FAIL] + [TrialState.COMPLETE] * 2
    assert "beyond the float64 range" in (trials[0].error or "")
