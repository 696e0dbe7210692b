"""XGBoost: a training callback that reports the evaluation metric after every boosting round
and stops the training of a trial that the study's scheduler stops.

Example::

    import xgboost as xgb
    from tuneful.integrations.xgboost import TunefulPruningCallback

    def objective(trial):
        params = {"objective": "binary:logistic", "eval_metric": "logloss", **trial.params}
        booster = xgb.train(
            params, dtrain, num_boost_round=100, evals=[(dvalid, "eval")],
            callbacks=[TunefulPruningCallback(trial, "eval-logloss")],
        )
        return booster.best_score   # or the metric recomputed on the validation set
"""

from __future__ import annotations

from typing import Any

from tuneful._extras import require
from tuneful.errors import TrialError
from tuneful.integrations._boosting import check_trial, missing_metric, report_round
from tuneful.trial import Trial

xgb = require("xgboost", "xgboost", "tuneful.integrations.xgboost")
_TrainingCallback: Any = xgb.callback.TrainingCallback

__all__ = ["TunefulPruningCallback"]

_NAME = "TunefulPruningCallback"


class TunefulPruningCallback(_TrainingCallback):
    """Report ``observation_key`` after each boosting round; stop the trial when told.

    The step of each report is the number of boosting rounds trained so far (1 after the
    first round), so a scheduler's budgets are numbers of rounds. When the scheduler stops the
    trial the callback raises :class:`tuneful.Pruned`, which ends the training; in
    ``study.optimize`` the trial is recorded PRUNED with its curve (with ask and tell, catch
    it and ``study.tell(trial, state="PRUNED")``).

    Works with ``xgb.train`` and ``xgb.cv`` (the mean over folds is reported) and with the
    scikit-learn API (``XGBClassifier(callbacks=[...])``; a copy of the estimator, as
    ``sklearn.base.clone`` makes, reports to the same trial).

    Args:
        trial: the trial the objective received.
        observation_key: which evaluation result to report: ``"<data>-<metric>"`` as XGBoost
            prints it (``"validation_0-logloss"`` for the scikit-learn API's first
            ``eval_set``, ``"eval-auc"`` for ``evals=[(dvalid, "eval")]``, ``"test-logloss"``
            under ``xgb.cv``), or a pair ``("eval", "auc")``. Its direction must be the
            study's (``logloss`` with ``direction="minimize"``, ``auc`` with ``"maximize"``).

    Raises:
        TrialError: ``trial`` is not a tuneful Trial, ``observation_key`` is neither a string
            nor a pair of strings, or (during training) it is not among the evaluation results
            (the message lists those that are).
    """

    def __init__(self, trial: Trial, observation_key: str | tuple[str, str]) -> None:
        super().__init__()
        self._trial = check_trial(trial, _NAME)
        self._key = _check_key(observation_key)

    def __deepcopy__(self, memo: dict[int, Any]) -> TunefulPruningCallback:
        # A copied estimator (sklearn's clone) must still report to the live trial, which
        # cannot be copied: the callback holds no state of its own, so the copy is itself.
        return self

    def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
        """Report the metric of round ``epoch`` (0-based) at step ``epoch + 1``."""
        report_round(self._trial, epoch + 1, self._latest(evals_log))
        return False

    def _latest(self, evals_log: Any) -> float:
        """The key's latest value in ``evals_log`` ({data: {metric: [value or (mean, std)]}})."""
        for data, metrics in evals_log.items():
            for metric, history in metrics.items():
                if self._key in ((data, metric), f"{data}-{metric}") and history:
                    latest = history[-1]
                    return float(latest[0] if isinstance(latest, tuple) else latest)
        available = [
            f"{data}-{metric}" for data, metrics in evals_log.items() for metric in metrics
        ]
        raise missing_metric(_NAME, f"observation_key={self._key!r}", available)


def _check_key(key: Any) -> str | tuple[str, str]:
    if isinstance(key, str) and key:
        return key
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) and k for k in key):
        return (key[0], key[1])
    raise TrialError(
        f"{_NAME} observation_key={key!r}: expected '<data>-<metric>' (e.g. "
        "'validation_0-logloss') or a pair ('<data>', '<metric>')"
    )
