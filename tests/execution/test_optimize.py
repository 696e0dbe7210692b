"""The managed loop: objective outcomes, limits, callbacks, interruption."""

from __future__ import annotations

import time
from typing import Any

import pytest

import tuneful
from tuneful.errors import StudyError
from tuneful.records import TrialState

SPACE = tuneful.Space(x=tuneful.Float(-1.0, 1.0), k=tuneful.Int(0, 3))


def _study(**kwargs: object) -> tuneful.Study:
    return tuneful.create_study(space=SPACE, storage="memory://", seed=0, **kwargs)  # type: ignore[arg-type]


def test_exceptions_fail_the_trial_and_the_study_goes_on() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        if trial.number % 2:
            raise RuntimeError(f"diverged at trial {trial.number}")
        return trial.params["x"] ** 2

    study.optimize(objective, n_trials=6, show_progress_bar=False)
    states = [t.state for t in study.trials]
    assert states == [TrialState.COMPLETE, TrialState.FAIL] * 3
    failed = study.trials[1]
    assert "Traceback" in (failed.error or "") and "diverged at trial 1" in (failed.error or "")


def test_catch_narrows_what_is_absorbed() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        if trial.number == 0:
            raise ValueError("absorbed")
        raise KeyError("propagates")

    with pytest.raises(KeyError, match="propagates"):
        study.optimize(objective, n_trials=5, catch=ValueError, show_progress_bar=False)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert "propagates" in (study.trials[1].error or "")


@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        (float("nan"), "nan"),
        (float("inf"), "inf"),
        (None, "None"),
        ("0.5", "str"),
        ((1.0, 2.0), "2 value"),
    ],
)
def test_bad_return_values_fail_with_a_reason(returned: object, reason: str) -> None:
    study = _study()
    study.optimize(lambda t: returned, n_trials=1, show_progress_bar=False)
    trial = study.trials[0]
    assert trial.state is TrialState.FAIL
    assert reason in (trial.error or "")


def test_numpy_scalars_are_accepted() -> None:
    import numpy as np

    study = _study()
    study.optimize(lambda t: np.float32(0.5), n_trials=1, show_progress_bar=False)
    assert study.best_value == 0.5


def test_pruned_is_recorded_with_its_curve() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        trial.report(step=0, value=3.0)
        raise tuneful.Pruned()

    study.optimize(objective, n_trials=2, show_progress_bar=False)
    assert all(t.state is TrialState.PRUNED and t.intermediate == {0: 3.0} for t in study.trials)


def test_keyboard_interrupt_marks_the_trial_failed_and_stops() -> None:
    study = _study()

    def objective(trial: tuneful.Trial) -> float:
        if trial.number == 2:
            raise KeyboardInterrupt
        return 1.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=10, show_progress_bar=False)
    trials = study.trials
    assert len(trials) == 3
    assert trials[2].state is TrialState.FAIL and "interrupted" in (trials[2].error or "")
    assert not [t for t in trials if t.state is TrialState.RUNNING]


def test_an_interrupted_trial_is_queued_again_per_the_study_retries() -> None:
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)), storage="memory://", seed=0, retries=1
    )

    def interrupted_once(trial: tuneful.Trial) -> float:
        if trial.number == 1:
            raise KeyboardInterrupt
        return trial.params["x"]

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted_once, n_trials=5, show_progress_bar=False)
    cut, copy = study.trials[1:]
    assert cut.state is TrialState.FAIL and cut.error == "interrupted (KeyboardInterrupt)"
    assert copy.state is TrialState.WAITING and copy.params == cut.params
    assert copy.system_attrs["retry_of"] == 1
    study.optimize(interrupted_once, n_trials=1, show_progress_bar=False)
    rerun = study.trials[2]  # the copy runs first, to completion
    assert rerun.state is TrialState.COMPLETE and rerun.params == cut.params


def test_an_interrupted_trial_is_not_queued_again_without_retries() -> None:
    study = _study()

    def interrupted(trial: tuneful.Trial) -> float:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted, n_trials=5, show_progress_bar=False)
    assert [t.state for t in study.trials] == [TrialState.FAIL]


def test_timeout_and_callbacks() -> None:
    study = _study()
    seen: list[int] = []

    def objective(trial: tuneful.Trial) -> float:
        time.sleep(0.02)
        return 0.0

    study.optimize(
        objective,
        timeout=0.3,
        callbacks=[lambda s, record: seen.append(record.number)],
        show_progress_bar=False,
    )
    assert 3 <= len(study.trials) < 30
    assert seen == [t.number for t in study.trials]


def test_threads_for_memory_storage() -> None:
    study = _study()
    study.optimize(lambda t: t.params["x"], n_trials=40, n_jobs=4, show_progress_bar=False)
    numbers = [t.number for t in study.trials]
    assert numbers == list(range(40))
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_progress_bar_renders(capsys: pytest.CaptureFixture[str]) -> None:
    study = _study(direction="maximize")
    study.optimize(lambda t: t.params["x"], n_trials=5, show_progress_bar=True)
    err = capsys.readouterr().err
    assert "5/5" in err and "best" in err


def test_grid_search_stops_when_exhausted() -> None:
    space = tuneful.Space(a=tuneful.Categorical(["p", "q"]), b=tuneful.Int(1, 3))
    study = tuneful.create_study(space=space, storage="memory://", optimizer="grid")
    study.optimize(lambda t: t.params["b"], n_trials=50, show_progress_bar=False)
    assert sorted((t.params["a"], t.params["b"]) for t in study.trials) == [
        (a, b) for a in "pq" for b in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_trials": -1}, "n_trials=-1"),
        ({"n_trials": 1.5}, "n_trials=1.5"),
        ({"timeout": 0}, "timeout=0"),
        ({"n_jobs": 0}, "n_jobs=0"),
        ({"catch": 3}, "catch=3"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(StudyError, match=match):
        _study().optimize(lambda t: 0.0, **kwargs)


def test_objective_must_be_callable() -> None:
    with pytest.raises(StudyError, match="callable"):
        _study().optimize(3, n_trials=1)  # type: ignore[arg-type]


def test_an_unexpected_error_from_tell_fails_the_trial_instead_of_leaving_it_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)), storage="memory://", seed=0
    )
    real_tell = study.engine.tell  # what the loop tells through
    calls = []

    def tell(trial: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 1:  # the first outcome cannot be stored
            raise OverflowError("int too large to convert to float")
        return real_tell(trial, *args, **kwargs)

    monkeypatch.setattr(study.engine, "tell", tell)
    study.optimize(lambda t: 1.0, n_trials=2, show_progress_bar=False)
    trials = study.trials
    assert [t.state for t in trials] == [tuneful.TrialState.FAIL, tuneful.TrialState.COMPLETE]
    assert "OverflowError: int too large" in (trials[0].error or "")
