"""Trials as Dask tasks on a ``distributed.LocalCluster``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.errors import StudyError
from tuneful.records import TrialState

distributed = pytest.importorskip("distributed")

SPACE = tuneful.Space(x=tuneful.Float(-1.0, 1.0))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes, one thread each, each holding one 'GPU'."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        resources={"GPU": 1},
        dashboard_address=None,
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def test_trials_run_as_tasks_and_report(client: Any, sql_url: str) -> None:
    study = tuneful.create_study(
        "dask", space=SPACE, storage=sql_url, seed=0, scheduler="none", optimizer="random"
    )

    def objective(trial: tuneful.Trial) -> float:
        worker = distributed.get_worker()
        trial.set_user_attr("pid", os.getpid())
        trial.set_user_attr("resources", dict(worker.state.total_resources))
        for step in range(3):
            trial.report(step=step, value=trial.params["x"] + 1.0 / (step + 1))
        return trial.params["x"] ** 2

    told: list[int] = []
    study.optimize(
        objective,
        n_trials=12,
        executor=tuneful.DaskExecutor(client, resources={"GPU": 1}),
        callbacks=[lambda _study, record: told.append(record.number)],
        show_progress_bar=False,
    )
    trials = tuneful.load_study("dask", storage=sql_url).trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.value == pytest.approx(t.params["x"] ** 2) for t in trials)
    assert all(sorted(t.intermediate) == [0, 1, 2] for t in trials)
    pids = {t.user_attrs["pid"] for t in trials}
    assert os.getpid() not in pids and len(pids) == 2  # both workers ran trials
    assert all(t.user_attrs["resources"] == {"GPU": 1} for t in trials)
    assert all(t.system_attrs["dask_worker"].startswith("tcp://") for t in trials)
    assert sorted(told) == list(range(12))


def test_a_lost_worker_fails_its_trial_once_and_it_is_retried(client: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lost.db'}"
    study = tuneful.create_study(
        "lost", space=SPACE, storage=url, seed=0, retries=1, optimizer="random"
    )
    marker = tmp_path / "killed"

    def objective(trial: tuneful.Trial) -> float:
        if trial.number == 2 and not marker.exists():
            marker.touch()
            os._exit(1)  # the worker process dies mid-trial
        return trial.params["x"]

    study.optimize(
        objective, n_trials=6, executor=tuneful.DaskExecutor(client), show_progress_bar=False
    )
    trials = tuneful.load_study("lost", storage=url).trials
    seen = [(t.number, t.state.value, t.error, t.system_attrs) for t in trials]
    lost = trials[2]
    assert lost.state is TrialState.FAIL and "Dask worker" in (lost.error or ""), seen
    retries = [t for t in trials if t.system_attrs.get("retry_of") == 2]
    assert len(retries) == 1 and retries[0].params == lost.params, seen
    assert retries[0].state is TrialState.COMPLETE, seen
    assert not [t for t in trials if t.state is TrialState.RUNNING], seen
    # n_trials counts the trials this call started, the retry among them
    assert len(trials) == 6 and sum(t.state is TrialState.COMPLETE for t in trials) == 5, seen


def test_an_uncaught_exception_propagates_and_nothing_stays_running(
    client: Any, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'err.db'}"
    study = tuneful.create_study("err", space=SPACE, storage=url, optimizer="random")

    def objective(trial: tuneful.Trial) -> float:
        raise KeyError("not caught")

    with pytest.raises(KeyError, match="not caught"):
        study.optimize(
            objective,
            n_trials=4,
            catch=ValueError,
            executor=tuneful.DaskExecutor(client),
            show_progress_bar=False,
        )
    trials = tuneful.load_study("err", storage=url).trials
    assert trials and all(t.state is TrialState.FAIL for t in trials)


def test_bad_executor_arguments_are_clear(client: Any) -> None:
    with pytest.raises(StudyError, match="resources=.*'GPU': -1"):
        tuneful.DaskExecutor(client, resources={"GPU": -1})
    with pytest.raises(StudyError, match="max_in_flight=0"):
        tuneful.DaskExecutor(client, max_in_flight=0)
    with pytest.raises(StudyError, match="address=3"):
        tuneful.DaskExecutor(3)
    study = tuneful.create_study(space=SPACE, storage="memory://")
    with pytest.raises(StudyError, match="memory:// storage .* Dask workers cannot reach"):
        study.optimize(lambda t: 0.0, n_trials=1, executor=tuneful.DaskExecutor(client))
    with pytest.raises(StudyError, match="n_jobs=2 with executor"):
        study.optimize(lambda t: 0.0, n_trials=1, n_jobs=2, executor=tuneful.DaskExecutor(client))
