"""The MLflow tracker against the real library, with a local SQLite store read back with
MlflowClient."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.errors import MissingDependencyError, StudyError

pytest.importorskip("mlflow")
from mlflow.tracking import MlflowClient  # noqa: E402

from tuneful.integrations.mlflow import MLflowCallback  # noqa: E402

FAILING = {2, 7}


def _objective(trial: tuneful.Trial) -> float:
    """A curve that ends at x + 1/9; trials 2 and 7 fail; ASHA stops the worse ones."""
    if trial.number in FAILING:
        raise RuntimeError(f"trial {trial.number} ran out of memory")
    trial.set_user_attr("objectives@1", [trial.params["x"], 1.0])
    for step in range(1, 10):
        trial.report(step=step, value=trial.params["x"] + 1.0 / step)
    return trial.params["x"] + 1.0 / 9


def _study(storage: str = "memory://", name: str | None = None) -> tuneful.Study:
    return tuneful.create_study(
        name,
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0), layers=tuneful.Int(1, 4)),
        storage=storage,
        optimizer="random",
        scheduler={"name": "asha", "settings": {"max_budget": 9}},
        seed=1,
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module (MLflow builds its tables in seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _runs(client: Any, experiment: str) -> list[Any]:
    found = client.get_experiment_by_name(experiment)
    return list(client.search_runs([found.experiment_id], max_results=1000))


def _trial_runs(runs: list[Any]) -> dict[int, Any]:
    trials = [r for r in runs if r.data.tags.get("tuneful.role") == "trial"]
    by_number = {int(r.data.tags["tuneful.trial_number"]): r for r in trials}
    assert len(by_number) == len(trials)  # none logged twice
    return by_number


def test_each_trial_is_a_run_nested_under_the_study(store: str) -> None:
    study = _study()
    tracker = MLflowCallback(store, experiment="nested", tags={"team": "vision"})
    study.optimize(_objective, n_trials=10, callbacks=[tracker], show_progress_bar=False)
    states = {t.state.value for t in study.trials}
    assert states == {"COMPLETE", "PRUNED", "FAIL"}

    client = MlflowClient(store)
    runs = _runs(client, "nested")
    parents = [r for r in runs if r.data.tags.get("tuneful.role") == "study"]
    assert [p.data.tags["mlflow.runName"] for p in parents] == [study.name]
    trials = _trial_runs(runs)
    assert sorted(trials) == list(range(10))
    status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
    for record in study.trials:
        run = trials[record.number]
        tags = run.data.tags
        assert tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert tags["tuneful.state"] == record.state.value
        assert tags["team"] == "vision"
        assert run.info.status == status[record.state.value]
        assert run.data.params == {k: str(v) for k, v in record.params.items()}
        history = client.get_metric_history(run.info.run_id, "curve")
        assert {m.step: m.value for m in history} == pytest.approx(dict(record.intermediate))
        if record.state.value == "COMPLETE":
            assert run.data.metrics["value"] == pytest.approx(record.value)
        else:
            assert "value" not in run.data.metrics
        if record.state.value == "FAIL":
            assert "ran out of memory" in tags["tuneful.error"]
        else:
            assert tags["user_attr.objectives_1"] == f"[{record.params['x']}, 1.0]"
        if record.state.value == "PRUNED":
            assert "reason" in tags["tuneful.pruned"]
            assert max(record.intermediate) < 9


def test_log_study_logs_each_trial_once(store: str) -> None:
    study = _study()
    study.optimize(_objective, n_trials=8, show_progress_bar=False)
    tracker = MLflowCallback(store, experiment="afterwards")
    assert len(tracker.log_study(study)) == 8
    assert tracker.log_study(study) == []
    assert tracker.log_trial(study, study.trials[0]) is None
    study.optimize(_objective, n_trials=2, show_progress_bar=False)
    assert len(MLflowCallback(store, experiment="afterwards").log_study(study)) == 2
    assert sorted(_trial_runs(_runs(MlflowClient(store), "afterwards"))) == list(range(10))


def test_worker_processes_share_one_study_run(store: str, tmp_path: Path) -> None:
    study = _study(f"sqlite:///{tmp_path / 'study.db'}", name="workers")
    tracker = MLflowCallback(store)  # the experiment is named after the study
    study.optimize(_objective, n_trials=8, n_jobs=2, callbacks=[tracker], show_progress_bar=False)
    runs = _runs(MlflowClient(store), "workers")
    parents = [r for r in runs if r.data.tags.get("tuneful.role") == "study"]
    assert len(parents) == 1
    trials = _trial_runs(runs)
    assert sorted(trials) == [t.number for t in study.trials]
    assert {r.data.tags["mlflow.parentRunId"] for r in trials.values()} == {parents[0].info.run_id}


def test_not_nested_logs_side_by_side(store: str) -> None:
    study = _study()
    study.optimize(_objective, n_trials=3, show_progress_bar=False)
    MLflowCallback(store, experiment="flat", nested=False).log_study(study)
    runs = _runs(MlflowClient(store), "flat")
    assert len(runs) == 3
    assert all("mlflow.parentRunId" not in r.data.tags for r in runs)


def test_several_objectives_take_their_metric_names(store: str) -> None:
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)),
        directions=["minimize", "maximize"],
        storage="memory://",
        seed=0,
    )
    study.optimize(
        lambda t: (t.params["x"], 2 * t.params["x"]), n_trials=2, show_progress_bar=False
    )
    tracker = MLflowCallback(store, experiment="two", metric_names=["error", "speed"])
    tracker.log_study(study)
    for number, run in _trial_runs(_runs(MlflowClient(store), "two")).items():
        x = study.trials[number].params["x"]
        assert run.data.metrics == pytest.approx({"error": x, "speed": 2 * x})
    default = MLflowCallback(store, experiment="two-default")
    default.log_study(study)
    for run in _trial_runs(_runs(MlflowClient(store), "two-default")).values():
        assert set(run.data.metrics) == {"value_0", "value_1"}


def test_metric_names_not_one_per_objective_are_refused(store: str) -> None:
    study = _study()
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    tracker = MLflowCallback(store, experiment="mismatch", metric_names=["a", "b"])
    with pytest.raises(StudyError, match=r"metric_names=\['a', 'b'\].*1 objective"):
        tracker.log_study(study)


@pytest.mark.parametrize("names", ["accuracy", [""], ["a", "a"], ["curve"], []])
def test_malformed_metric_names_are_refused(names: Any) -> None:
    with pytest.raises(StudyError, match="metric_names"):
        MLflowCallback(metric_names=names)


def test_file_store_works_where_mlflow_allows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    study = _study()
    study.optimize(_objective, n_trials=3, callbacks=[MLflowCallback(uri)], show_progress_bar=False)
    assert sorted(_trial_runs(_runs(MlflowClient(uri), study.name))) == [0, 1, 2]


def test_repr_hides_a_password() -> None:
    tracker = MLflowCallback("https://alice:S3cret@mlflow.example.com")
    assert "S3cret" not in repr(tracker)


def test_deleted_experiment_is_refused(store: str) -> None:
    client = MlflowClient(store)
    client.delete_experiment(client.create_experiment("deleted"))
    study = _study()
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    with pytest.raises(StudyError, match="'deleted' is deleted"):
        MLflowCallback(store, experiment="deleted").log_study(study)


def test_docs_example_runs(store: str) -> None:
    code = _doc_example("mlflow").replace("sqlite:///mlflow.db", store)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, "trackers.md", "exec"), namespace)
    states = [t.state.value for t in namespace["study"].trials]
    trials = _trial_runs(_runs(MlflowClient(store), "quadratic"))
    assert [trials[n].data.tags["tuneful.state"] for n in range(10)] == states
    assert "PRUNED" in states


def test_database_store_without_alembic_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "alembic", None)
    study = _study()
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    tracker = MLflowCallback(f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(MissingDependencyError, match=r"needs alembic.*tuneful\[mlflow\]"):
        tracker.log_study(study)


def test_missing_mlflow_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.mlflow")
    with pytest.raises(MissingDependencyError, match=r"tuneful\[mlflow\]"):
        importlib.import_module("tuneful.integrations.mlflow")


def _doc_example(name: str) -> str:
    """The example marked ``<!-- example: NAME -->`` in the trackers' docs page."""
    page = Path(__file__).parents[2] / "docs" / "integrations" / "trackers.md"
    text = page.read_text(encoding="utf-8")
    return text.split(f"<!-- example: {name} -->\n```python\n", 1)[1].split("```", 1)[0]
