"""Weights & Biases: log every finished trial of a study as a W&B run, grouped under the
study, with its parameters (config), values and state (summary) and learning curve (history).

Example::

    from tuneful.integrations.wandb import WandbCallback

    tracker = WandbCallback(project="churn", mode="offline")   # sync later: wandb sync
    study.optimize(objective, n_trials=50, callbacks=[tracker])  # each trial as it ends
    tracker.log_study(study)   # or afterwards: every finished trial
"""

from __future__ import annotations

from collections.abc import Sequence
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

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["WandbCallback"]

_NAME = "WandbCallback"
_wandb = require("wandb", "wandb", "tuneful.integrations.wandb")

_MODES = ("online", "offline", "disabled")
#: How much of a failed trial's traceback the summary keeps (its end).
_ERROR_LENGTH = 5000


class WandbCallback:
    """Log each finished trial as a W&B run; a callback for ``study.optimize``.

    Each trial becomes a run named ``trial-<number>`` in the group ``group`` (the study's
    name by default), job type ``trial``: its parameters are the run's config; its values
    (``metric_names``), state, number and study, why it stopped (``pruned``) or failed
    (``error``, the traceback's end) and its user attributes (``user_attr.<key>``) are the
    summary; its learning curve is the history of the metric ``curve``, one point per
    reported step. Its state is also a run tag; a FAIL trial's run exits with code 1.

    The run's id is made from the project, the study's name and the trial's number, so
    logging a trial again (:meth:`log_study` over a study already logged, a study run by
    ``tuneful run`` or by workers elsewhere) resumes the same W&B run instead of adding one;
    an offline log made twice holds two copies that ``wandb sync`` merges into that run.
    Within one callback object a trial is logged once.

    The callback never sees an API key: W&B reads its own login (``wandb login``,
    ``WANDB_API_KEY``), and nothing from it is written to the study.

    Args:
        project: the W&B project (None: W&B's default, ``WANDB_PROJECT``).
        entity: the team or user owning the project (None: W&B's default).
        group: the runs' group (None: the study's name).
        mode: ``"online"``, ``"offline"`` (written under ``dir``; ``wandb sync`` uploads
            it) or ``"disabled"``; None: W&B's default (``WANDB_MODE``, else online).
        metric_names: the values' names, one per objective (default ``value``, or
            ``value_0``, ``value_1``, ... with several objectives).
        tags: tags added to every run.
        dir: where W&B writes its files (None: W&B's default, ``WANDB_DIR`` or ``./wandb``).

    Raises:
        StudyError: ``mode``, ``metric_names`` or ``tags`` malformed; ``metric_names`` not
            one per objective (when logging).
        MissingDependencyError: wandb is not installed (``pip install 'tuneful[wandb]'``).
    """

    def __init__(
        self,
        project: str | None = None,
        *,
        entity: str | None = None,
        group: str | None = None,
        mode: str | None = None,
        metric_names: Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        dir: str | None = None,  # noqa: A002 - wandb.init's own name for it
    ) -> None:
        if mode is not None and mode not in _MODES:
            raise StudyError(f"{_NAME} mode={mode!r}: expected one of {list(_MODES)} or None")
        for label, value in (("project", project), ("entity", entity), ("group", group)):
            if value is not None and not (isinstance(value, str) and value):
                raise StudyError(f"{_NAME} {label}={value!r}: expected a non-empty string")
        if tags is not None and (
            isinstance(tags, str) or not all(isinstance(t, str) and t for t in tags)
        ):
            raise StudyError(f"{_NAME} tags={tags!r}: expected a list of non-empty strings")
        self._project = project
        self._entity = entity
        self._group = group
        self._mode = mode
        self._metric_names = check_metric_names(_NAME, metric_names)
        self._tags = list(tags or [])
        self._dir = dir
        self._logged: set[tuple[str, int]] = set()

    def __repr__(self) -> str:
        return f"WandbCallback(project={self._project!r}, mode={self._mode!r})"

    def __call__(self, study: Study, trial: TrialRecord) -> None:
        """Log ``trial`` (``study.optimize`` calls this as each trial ends)."""
        self.log_trial(study, trial)

    def log_trial(self, study: Study, trial: TrialRecord) -> str | None:
        """Log one finished trial; its run's id, or None when it is not finished or this
        callback logged it before."""
        if not trial.state.is_finished or (study.name, trial.number) in self._logged:
            return None
        names = metric_names_for(_NAME, self._metric_names, study)
        run_id = self._log(study, names, trial)
        self._logged.add((study.name, trial.number))
        return run_id

    def log_study(self, study: Study) -> list[str]:
        """Log every finished trial of ``study`` this callback has not logged; the runs' ids."""
        metric_names_for(_NAME, self._metric_names, study)  # refuse before the first run
        logged = (self.log_trial(study, trial) for trial in finished(study.trials))
        return [run_id for run_id in logged if run_id is not None]

    def run_id(self, study: Study, number: int) -> str:
        """The W&B run id of trial ``number`` of ``study``."""
        return f"tuneful-{study_key(study)[:12]}-{number}"

    def _log(self, study: Study, names: list[str], trial: TrialRecord) -> str:
        run_id = self.run_id(study, trial.number)
        run = _wandb.init(
            project=self._project,
            entity=self._entity,
            group=self._group or study.name,
            job_type="trial",
            name=f"trial-{trial.number}",
            id=run_id,
            resume="allow",
            config=dict(trial.params),
            tags=[trial.state.value, *self._tags],
            mode=self._mode,
            dir=self._dir,
            reinit="create_new",  # never finishes a run the user has open
            settings=_wandb.Settings(console="off", x_disable_stats=True, save_code=False),
        )
        try:
            for step, value in sorted(trial.intermediate.items()):
                run.log({CURVE: value}, step=step)
            run.summary.update(_summary(study, names, trial))
        finally:
            run.finish(exit_code=1 if trial.state is TrialState.FAIL else 0)
        return run_id


def _summary(study: Study, names: list[str], trial: TrialRecord) -> dict[str, Any]:
    summary: dict[str, Any] = {
        **value_metrics(names, trial),
        "state": trial.state.value,
        "trial_number": trial.number,
        "study": study.name,
        "directions": list(study.directions),
    }
    if trial.error is not None:
        summary["error"] = json_text(trial.error, _ERROR_LENGTH)
    if "pruned" in trial.system_attrs:
        summary["pruned"] = trial.system_attrs["pruned"]
    for key, value in trial.user_attrs.items():
        summary[f"user_attr.{key}"] = value
    return summary
