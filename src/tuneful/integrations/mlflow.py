"""MLflow: log every finished trial of a study as an MLflow run, nested under a run for the
study, with its parameters, values, learning curve, state and attributes.

Example::

    from tuneful.integrations.mlflow import MLflowCallback

    tracker = MLflowCallback(tracking_uri="sqlite:///mlflow.db")
    study.optimize(objective, n_trials=50, callbacks=[tracker])   # each trial as it ends
    tracker.log_study(study)   # or afterwards: every finished trial not logged yet
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tuneful._extras import require
from tuneful.errors import StudyError
from tuneful.integrations._tracking import (
    CURVE,
    check_metric_names,
    finished,
    json_text,
    metric_names_for,
    study_key,
    value_metrics,
)
from tuneful.records import TrialRecord, TrialState
from tuneful.storage.urls import redact_url

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["MLflowCallback"]

_NAME = "MLflowCallback"
_FEATURE = "tuneful.integrations.mlflow"
_tracking = require("mlflow.tracking", "mlflow", _FEATURE)
_entities = require("mlflow.entities", "mlflow", _FEATURE)
_exceptions = require("mlflow.exceptions", "mlflow", _FEATURE)

#: MLflow's limits: a tag's value, and entities in one ``log_batch``.
_TAG_LENGTH = 5000
_BATCH = 100
#: The schemes of MLflow's database stores.
_DATABASES = ("sqlite", "postgresql", "mysql", "mssql")
#: How a trial's state reads as an MLflow run status (a stopped trial was "killed").
_STATUS = {
    TrialState.COMPLETE: "FINISHED",
    TrialState.PRUNED: "KILLED",
    TrialState.FAIL: "FAILED",
}


class MLflowCallback:
    """Log each finished trial as an MLflow run; a callback for ``study.optimize``.

    Each trial becomes a run named ``trial-<number>`` holding its parameters (MLflow params),
    its values (metrics named ``metric_names``), its learning curve (the metric ``curve``,
    one point per reported step), its state and number (tags ``tuneful.state``,
    ``tuneful.trial_number``), its user attributes (tags ``user_attr.<key>``, JSON), why it
    stopped (``tuneful.pruned``) or failed (``tuneful.error``, the traceback's end), and its
    start and end times. The run's status is FINISHED, KILLED (pruned) or FAILED.

    A trial already logged in the experiment is not logged again, so :meth:`log_study` can
    be run over a study any number of times, including one run by ``tuneful run`` or by
    workers on other machines, and several workers may log to one experiment: the study's
    run is the earliest one, and a worker that created a second one deletes it.

    Args:
        tracking_uri: where MLflow stores runs (None: MLflow's default, ``MLFLOW_TRACKING_URI``
            or ``./mlruns``). Offline: ``sqlite:///mlflow.db``; MLflow 3 refuses a file store
            (``file:///...``) unless ``MLFLOW_ALLOW_FILE_STORE=true``.
        experiment: the experiment's name (None: the study's name); created when missing.
        metric_names: the values' metric names, one per objective (default ``value``, or
            ``value_0``, ``value_1``, ... with several objectives).
        nested: whether trial runs are nested under a run for the study (named after it,
            tagged ``tuneful.role=study``); False logs them side by side.
        tags: tags added to every run (e.g. ``{"team": "vision"}``).

    Raises:
        StudyError: ``metric_names`` malformed, or (when logging) not one per objective;
            ``experiment`` or ``tags`` malformed.
        MissingDependencyError: MLflow is not installed (``pip install 'tuneful[mlflow]'``).
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        experiment: str | None = None,
        metric_names: Sequence[str] | None = None,
        nested: bool = True,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        if experiment is not None and not (isinstance(experiment, str) and experiment):
            raise StudyError(f"{_NAME} experiment={experiment!r}: expected a non-empty string")
        if tags is not None and not (
            isinstance(tags, Mapping)
            and all(isinstance(k, str) and k and isinstance(v, str) for k, v in tags.items())
        ):
            raise StudyError(f"{_NAME} tags={tags!r}: expected a mapping of strings to strings")
        self._tracking_uri = tracking_uri
        self._experiment = experiment
        self._metric_names = check_metric_names(_NAME, metric_names)
        self._nested = bool(nested)
        self._tags = dict(tags or {})
        self._client: Any = None
        self._client_pid: int | None = None
        #: (process, study) -> (experiment id, study run id): a cache, never state.
        self._homes: dict[tuple[int, str], tuple[str, str | None]] = {}

    def __repr__(self) -> str:
        uri = None if self._tracking_uri is None else redact_url(self._tracking_uri)
        return f"MLflowCallback(tracking_uri={uri!r}, experiment={self._experiment!r})"

    def __getstate__(self) -> dict[str, Any]:
        # A worker process gets the settings, never the parent's client and connections.
        return {**self.__dict__, "_client": None, "_client_pid": None, "_homes": {}}

    # -- public ---------------------------------------------------------------------------
    def __call__(self, study: Study, trial: TrialRecord) -> None:
        """Log ``trial`` (``study.optimize`` calls this as each trial ends)."""
        self.log_trial(study, trial)

    def log_trial(self, study: Study, trial: TrialRecord) -> str | None:
        """Log one finished trial; its run's id, or None when it is not finished or was
        logged before."""
        if not trial.state.is_finished:
            return None
        names = metric_names_for(_NAME, self._metric_names, study)
        experiment_id, parent = self._home(study)
        if self._logged(study, experiment_id, parent, trial.number):
            return None
        return self._log(study, experiment_id, parent, names, trial)

    def log_study(self, study: Study) -> list[str]:
        """Log every finished trial of ``study`` not logged yet; the new runs' ids."""
        names = metric_names_for(_NAME, self._metric_names, study)
        experiment_id, parent = self._home(study)
        done = self._logged_numbers(study, experiment_id, parent)
        return [
            self._log(study, experiment_id, parent, names, trial)
            for trial in finished(study.trials)
            if trial.number not in done
        ]

    # -- where the runs go ----------------------------------------------------------------
    def _mlflow(self) -> Any:
        """This process's client (a forked worker makes its own)."""
        if self._client is None or self._client_pid != os.getpid():
            uri = self._tracking_uri or _tracking.get_tracking_uri()
            if uri.split(":", 1)[0].split("+", 1)[0] in _DATABASES:
                # MLflow's database stores need alembic, which mlflow-skinny leaves out.
                require("alembic", "mlflow", f"{_NAME} with a database store ({uri.split(':')[0]})")
            self._client = _tracking.MlflowClient(tracking_uri=self._tracking_uri)
            self._client_pid = os.getpid()
        return self._client

    def _home(self, study: Study) -> tuple[str, str | None]:
        """The experiment's id and the study's run id (None when not nested)."""
        key = (os.getpid(), study.name)
        if key not in self._homes:
            self._homes[key] = self._find_home(study)
        return self._homes[key]

    def _find_home(self, study: Study) -> tuple[str, str | None]:
        client = self._mlflow()
        name = self._experiment or study.name
        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                experiment_id = client.create_experiment(name)
            except _exceptions.MlflowException:
                found = client.get_experiment_by_name(name)  # another worker created it
                if found is None:
                    raise
                experiment_id = found.experiment_id
        else:
            experiment_id = found.experiment_id
        if found is not None and found.lifecycle_stage != "active":
            raise StudyError(
                f"{_NAME}: MLflow experiment {name!r} is deleted; restore it, or pass "
                "another experiment="
            )
        return experiment_id, self._study_run(study, experiment_id) if self._nested else None

    def _study_run(self, study: Study, experiment_id: str) -> str:
        """The study's run: the earliest tagged as such; created when there is none."""
        client = self._mlflow()
        query = f"tags.`tuneful.study_key` = '{study_key(study)}' and tags.`tuneful.role` = 'study'"
        runs = self._search(experiment_id, query)
        if runs:
            return _earliest(runs)
        tags = {
            **self._tags,
            "mlflow.runName": study.name,
            "tuneful.role": "study",
            "tuneful.study": study.name,
            "tuneful.study_key": study_key(study),
            "tuneful.directions": ",".join(study.directions),
            "tuneful.storage": study.storage_url,
        }
        mine = client.create_run(experiment_id, tags=tags).info.run_id
        client.set_terminated(mine, "FINISHED")  # a container: its trials have the times
        winner = _earliest(self._search(experiment_id, query))
        if winner != mine:  # another worker created it at the same time: keep theirs
            client.delete_run(mine)
        return winner

    def _search(self, experiment_id: str, query: str) -> list[Any]:
        client = self._mlflow()
        runs: list[Any] = []
        token = None
        while True:
            page = client.search_runs(
                [experiment_id], filter_string=query, max_results=1000, page_token=token
            )
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def _trial_query(self, study: Study, parent: str | None) -> str:
        query = f"tags.`tuneful.study_key` = '{study_key(study)}' and tags.`tuneful.role` = 'trial'"
        if parent is not None:
            query += f" and tags.`mlflow.parentRunId` = '{parent}'"
        return query

    def _logged(self, study: Study, experiment_id: str, parent: str | None, number: int) -> bool:
        query = self._trial_query(study, parent) + f" and tags.`tuneful.trial_number` = '{number}'"
        return bool(self._search(experiment_id, query))

    def _logged_numbers(self, study: Study, experiment_id: str, parent: str | None) -> set[int]:
        runs = self._search(experiment_id, self._trial_query(study, parent))
        return {int(run.data.tags["tuneful.trial_number"]) for run in runs}

    # -- one trial ------------------------------------------------------------------------
    def _log(
        self,
        study: Study,
        experiment_id: str,
        parent: str | None,
        names: list[str],
        trial: TrialRecord,
    ) -> str:
        client = self._mlflow()
        tags = {**self._tags, **_trial_tags(study, trial)}
        if parent is not None:
            tags["mlflow.parentRunId"] = parent
        start = _ms(trial.started_at or trial.created_at)
        run_id: str = client.create_run(experiment_id, start_time=start, tags=tags).info.run_id
        end = _ms(trial.finished_at) or start
        metrics = [
            _entities.Metric(key, value, end, 0)
            for key, value in value_metrics(names, trial).items()
        ]
        metrics += [
            _entities.Metric(CURVE, value, end, step)
            for step, value in sorted(trial.intermediate.items())
        ]
        params = [
            _entities.Param(_key(key), json_text(value, 6000))
            for key, value in trial.params.items()
        ]
        for i in range(0, max(len(metrics), len(params)), _BATCH):
            client.log_batch(run_id, metrics=metrics[i : i + _BATCH], params=params[i : i + _BATCH])
        client.set_terminated(run_id, _STATUS[trial.state], end_time=end)
        return run_id


def _trial_tags(study: Study, trial: TrialRecord) -> dict[str, str]:
    tags = {
        "mlflow.runName": f"trial-{trial.number}",
        "tuneful.role": "trial",
        "tuneful.study": study.name,
        "tuneful.study_key": study_key(study),
        "tuneful.trial_number": str(trial.number),
        "tuneful.state": trial.state.value,
    }
    if trial.error is not None:
        tags["tuneful.error"] = json_text(trial.error, _TAG_LENGTH)
    if "pruned" in trial.system_attrs:
        tags["tuneful.pruned"] = json_text(trial.system_attrs["pruned"], _TAG_LENGTH)
    for key, value in trial.user_attrs.items():
        tags[_key(f"user_attr.{key}")] = json_text(value, _TAG_LENGTH)
    return tags


def _earliest(runs: list[Any]) -> str:
    first = min(runs, key=lambda run: (run.info.start_time, run.info.run_id))
    return str(first.info.run_id)


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else int(seconds * 1000)


def _key(name: str) -> str:
    """``name`` as MLflow accepts a key: letters, digits, ``_ - . / :`` and spaces (a
    report_values attribute ``objectives@3`` becomes ``objectives_3``)."""
    return re.sub(r"[^\w\-./: ]", "_", name)
