"""The study facade: create/load/delete, ask/tell, best trial, enqueue, define-by-run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tuneful
from tuneful.errors import (
    DuplicateStudyError,
    OptimizerError,
    SpaceError,
    StudyError,
    StudyNotFoundError,
    TrialError,
)
from tuneful.records import TrialState
from tuneful.storage import MemoryStorage

SPACE = tuneful.Space(
    lr=tuneful.Float(1e-5, 1e-1, log=True),
    layers=tuneful.Int(1, 8),
    optimizer=tuneful.Categorical(["adam", "sgd"]),
    momentum=tuneful.Float(0.0, 0.99, when={"optimizer": "sgd"}),
)


def test_create_load_list_delete(storage_url: str) -> None:
    study = tuneful.create_study("s", space=SPACE, storage=storage_url, seed=5)
    assert study.name == "s" and study.direction == "minimize" and study.seed == 5
    storage = study.storage  # memory:// is per object: reuse it
    with pytest.raises(DuplicateStudyError, match="'s'"):
        tuneful.create_study("s", space=SPACE, storage=storage)
    same = tuneful.create_study("s", space=SPACE, storage=storage, load_if_exists=True)
    assert same.space == SPACE
    loaded = tuneful.load_study("s", storage=storage)
    assert loaded.space == SPACE and loaded.seed == 5
    assert loaded.optimizer.name == study.optimizer.name
    assert [s.name for s in tuneful.list_studies(storage=storage)] == ["s"]
    tuneful.delete_study("s", storage=storage)
    with pytest.raises(StudyNotFoundError):
        tuneful.load_study("s", storage=storage)


def test_ask_tell_and_best(storage_url: str) -> None:
    study = tuneful.create_study("s", space=SPACE, storage=storage_url, direction="maximize")
    values = []
    for i in range(6):
        trial = study.ask()
        assert trial.number == i
        assert set(trial.params) == set(SPACE.active_names(trial.params))
        record = study.tell(trial, float(i % 4))
        assert record.state is TrialState.COMPLETE
        values.append(float(i % 4))
    assert study.best_value == 3.0
    assert study.best_trial.number == 3  # earliest among ties
    assert study.best_params == study.trials[3].params
    by_number = study.tell(study.ask().number, 0.5)
    assert by_number.values == (0.5,)


def test_tell_rejects_bad_values_by_failing_the_trial() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    for bad in (float("nan"), math.inf, None, "0.3", [1.0, 2.0]):
        trial = study.ask()
        with pytest.warns(UserWarning, match="failed"):
            record = study.tell(trial, bad)
        assert record.state is TrialState.FAIL
        assert record.error
    with pytest.raises(StudyError, match="no completed trial"):
        _ = study.best_trial


def test_tell_twice_and_unknown_trial() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    study.tell(trial, 1.0)
    with pytest.raises(TrialError, match="already COMPLETE"):
        study.tell(trial, 2.0)
    with pytest.raises(TrialError):
        study.tell(42, 1.0)
    trial = study.ask()
    assert study.tell(trial, state="PRUNED").state is TrialState.PRUNED
    with pytest.raises(TrialError, match="expected COMPLETE"):
        study.tell(study.ask(), state="RUNNING")


def test_enqueue_validates_and_is_used_first(storage_url: str) -> None:
    study = tuneful.create_study(space=SPACE, storage=storage_url, seed=1)
    with pytest.raises(SpaceError, match="layers"):
        study.enqueue({"layers": 99})
    with pytest.raises(SpaceError, match="momentum"):
        study.enqueue({"optimizer": "adam", "momentum": 0.5})  # inactive
    full = {"lr": 0.01, "layers": 3, "optimizer": "sgd", "momentum": 0.9}
    study.enqueue(full)
    study.enqueue({"optimizer": "sgd"})  # partial: the rest is proposed
    first = study.ask()
    assert first.params == full
    second = study.ask()
    assert second.params["optimizer"] == "sgd" and "momentum" in second.params
    assert study.trials[first.number].system_attrs.get("enqueued") is True


def test_seeded_studies_are_reproducible() -> None:
    def run(seed: int) -> list[dict]:
        study = tuneful.create_study(space=SPACE, storage="memory://", seed=seed)
        study.optimize(lambda t: t.params["layers"], n_trials=8, show_progress_bar=False)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_multi_objective_stores_vectors_and_pareto_front() -> None:
    study = tuneful.create_study(
        space=SPACE, storage="memory://", directions=["minimize", "maximize"]
    )
    points = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (0.5, 0.5)]
    for point in points:
        study.tell(study.ask(), values=point)
    front = {t.values for t in study.best_trials}
    assert front == {(1.0, 1.0), (2.0, 3.0), (0.5, 0.5)}
    with pytest.raises(StudyError, match="objectives"):
        _ = study.best_trial
    wrong = study.ask()
    with pytest.warns(UserWarning):
        assert study.tell(wrong, 1.0).state is TrialState.FAIL


def test_define_by_run_records_params_and_distributions(storage_url: str) -> None:
    study = tuneful.create_study(storage=storage_url, seed=2)

    def objective(trial: tuneful.Trial) -> float:
        x = trial.suggest_float("x", -2.0, 2.0)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        n = trial.suggest_int("n", 1, 5, log=True)
        if kind == "b":
            x += trial.suggest_float("shift", 0.0, 1.0)
        return x * x + n

    study.optimize(objective, n_trials=15, show_progress_bar=False)
    trials = study.trials
    assert len(trials) == 15 and all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        assert -2.0 <= t.params["x"] <= 2.0 and 1 <= t.params["n"] <= 5
        assert ("shift" in t.params) == (t.params["kind"] == "b")
        assert t.distributions["x"]["type"] == "float"
    reloaded = tuneful.load_study(study.name, storage=study.storage)
    assert [t.params for t in reloaded.trials] == [t.params for t in trials]


def test_define_by_run_with_enqueued_values() -> None:
    study = tuneful.create_study(storage="memory://")
    study.enqueue({"x": 0.25})
    trial = study.ask()
    assert trial.suggest_float("x", 0.0, 1.0) == 0.25
    with pytest.raises(SpaceError):
        study.enqueue([("x", 1)])  # type: ignore[arg-type]


def test_user_attrs_and_reports(storage_url: str) -> None:
    study = tuneful.create_study(space=SPACE, storage=storage_url)
    study.set_user_attr("dataset", "digits")
    trial = study.ask()
    trial.report(step=0, value=0.5)
    trial.report(step=1, value=0.25)
    trial.set_user_attr("note", {"k": [1, 2]})
    with pytest.raises(TrialError, match="JSON"):
        trial.set_user_attr("bad", object())
    with pytest.raises(TrialError, match="finite"):
        trial.report(step=2, value=float("nan"))
    with pytest.raises(TrialError, match="step"):
        trial.report(step=-1, value=0.1)
    study.tell(trial, 0.25)
    record = study.trials[0]
    assert record.intermediate == {0: 0.5, 1: 0.25}
    assert record.user_attrs == {"note": {"k": [1, 2]}}
    assert study.user_attrs == {"dataset": "digits"}


def test_to_dataframe() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    study.optimize(lambda t: t.params["layers"] * 1.0, n_trials=5, show_progress_bar=False)
    frame = study.to_dataframe()
    assert len(frame) == 5
    assert {"number", "state", "value", "params_lr", "params_layers", "duration"} <= set(frame)
    assert frame["value"].tolist() == [t.value for t in study.trials]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"direction": "up"}, "direction='up'"),
        ({"directions": []}, "directions"),
        ({"direction": "minimize", "directions": ["minimize"]}, "not both"),
        ({"optimizer": "nope"}, "optimizer='nope'"),
        ({"seed": "x"}, "seed='x'"),
        ({"retries": -1}, "retries=-1"),
        ({"heartbeat_interval": 0}, "heartbeat_interval=0"),
        ({"space": 3}, "space=3"),
    ],
)
def test_create_study_rejects_bad_arguments(kwargs: dict, match: str) -> None:
    kwargs.setdefault("space", SPACE)
    with pytest.raises((StudyError, OptimizerError, SpaceError), match=match):
        tuneful.create_study(storage="memory://", **kwargs)


def test_space_given_as_spec_dict() -> None:
    study = tuneful.create_study(
        storage="memory://",
        space={
            "x": {"type": "float", "low": 0, "high": 1},
            "k": {"type": "int", "low": 1, "high": 3},
        },
    )
    trial = study.ask()
    assert 0 <= trial.params["x"] <= 1 and trial.params["k"] in (1, 2, 3)
    assert isinstance(study.space, tuneful.Space)


def test_history_view_for_optimizers() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", direction="maximize")
    for v in (1.0, 2.0):
        study.tell(study.ask(), v)
    pending = study.ask()
    study.engine.refresh()
    history = study.engine.history(SPACE, None)
    assert history.X.shape == (2, SPACE.dim)
    np.testing.assert_array_equal(history.y[:, 0], [-1.0, -2.0])  # oriented to minimize
    assert [t.number for t in history.pending] == [pending.number]
    assert history.X_pending.shape == (1, SPACE.dim)


def test_enqueue_user_attrs_belong_to_the_trial() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    number = study.enqueue({"optimizer": "adam"}, user_attrs={"source": "paper"})
    assert study.trials[number].user_attrs == {"source": "paper"}
    assert study.ask().record().user_attrs == {"source": "paper"}


@pytest.mark.parametrize("args", [(0.873, 3), (3, 0.873), (2, 5)])
def test_report_positional_optuna_order_is_refused(args: tuple[float, float]) -> None:
    """Optuna's report(value, step) and the reverse read alike: both orders fail loudly."""
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    with pytest.raises(TrialError, match=r"by keyword.*step=epoch, value=metric"):
        trial.report(*args)
    assert study.get_trial(trial.number).intermediate == {}


@pytest.mark.parametrize("number", [14.9, 0.0, True, "0"])
def test_tell_refuses_a_trial_number_that_is_not_an_int(number: object) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    with pytest.raises(TrialError, match="expected a trial number"):
        study.tell(number, 1.0)  # type: ignore[arg-type]
    assert study.tell(np.int64(trial.number), 1.0).state is TrialState.COMPLETE


@pytest.mark.parametrize("state", ["PRUNED", "pruned", "FAIL"])
def test_tell_refuses_a_value_with_a_pruned_or_failed_state(state: str) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    with pytest.raises(TrialError, match=r"takes no value.*report\(step=..., value=...\) first"):
        study.tell(trial, 5.0, state=state)
    assert study.get_trial(trial.number).state is TrialState.RUNNING  # may be told again
    assert study.tell(trial, state=state).state is TrialState(state.upper())


def test_tell_refuses_mixed_arguments() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    trial = study.ask()
    with pytest.raises(TrialError, match="not both"):
        study.tell(trial, 1.0, values=[1.0])
    with pytest.raises(TrialError, match="error= is kept only for state='FAIL'"):
        study.tell(trial, 1.0, error="why")
    with pytest.raises(TrialError, match="expected COMPLETE, PRUNED or FAIL"):
        study.tell(trial, state="done")
    assert study.get_trial(trial.number).state is TrialState.RUNNING


def test_tell_refuses_a_trial_of_another_study() -> None:
    one = tuneful.create_study("one", space=SPACE, storage="memory://")
    other = tuneful.create_study("other", space=SPACE, storage=one.storage)
    other.ask()
    trial = one.ask()
    with pytest.raises(TrialError, match="belongs to study 'one'"):
        other.tell(trial, 1.0)
    assert other.get_trial(0).state is TrialState.RUNNING


def test_multi_objective_best_value_points_to_the_pareto_front() -> None:
    study = tuneful.create_study(
        space=SPACE, storage="memory://", directions=["minimize", "maximize"]
    )
    study.tell(study.ask(), values=[1.0, 2.0])
    for name in ("best_value", "best_trial", "best_params"):
        with pytest.raises(StudyError, match=r"study.best_trials is the Pareto front"):
            getattr(study, name)
    assert len(study.best_trials) == 1


def test_fail_trial_fails_a_running_trial_and_queues_it_again_per_retries() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0, retries=1)
    trial = study.ask()
    assert study.fail_trial(trial, "the run was killed") is True
    failed, copy = study.trials
    assert failed.state is TrialState.FAIL and failed.error == "the run was killed"
    assert copy.state is TrialState.WAITING and copy.params == failed.params
    again = study.ask()  # the copy, then its own retry is not queued: retries are spent
    assert again.number == copy.number and again.params == trial.params
    assert study.fail_trial(again.number, "killed again") is True
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]


def test_fail_trial_of_a_finished_trial_writes_nothing() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", retries=3)
    trial = study.ask()
    study.tell(trial, 1.0)
    assert study.fail_trial(trial.number, "late") is False
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]


@pytest.mark.parametrize(
    ("trial", "error", "match"),
    [
        (0, "", "non-empty string"),
        (0, None, "non-empty string"),
        (7, "gone", "no trial number 7"),
        (1.5, "gone", "expected a trial number"),
    ],
)
def test_fail_trial_refuses_bad_arguments(trial: object, error: object, match: str) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    study.ask()
    with pytest.raises(TrialError, match=match):
        study.fail_trial(trial, error)  # type: ignore[arg-type]
    assert study.trials[0].state is TrialState.RUNNING


def test_fail_trial_refuses_a_trial_of_another_study() -> None:
    storage = MemoryStorage()
    study = tuneful.create_study("a", space=SPACE, storage=storage)
    other = tuneful.create_study("b", space=SPACE, storage=storage)
    with pytest.raises(TrialError, match="belongs to study 'b'"):
        study.fail_trial(other.ask(), "gone")


def test_trial_study_is_the_study_the_user_holds() -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://")
    assert study.ask().study is study
    seen: list[object] = []
    study.optimize(lambda t: seen.append(t.study) or 0.0, n_trials=1, show_progress_bar=False)
    assert seen == [study]
