"""LightGBM: a callback that reports a validation metric after every boosting round and stops
the training of a trial that the study's scheduler stops.

Example::

    import lightgbm as lgb
    from tuneful.integrations.lightgbm import TunefulPruningCallback

    def objective(trial):
        params = {"objective": "binary", "metric": "binary_logloss", "verbose": -1,
                  **trial.params}
        booster = lgb.train(
            params, train_set, num_boost_round=100, valid_sets=[valid_set],
            callbacks=[TunefulPruningCallback(trial, "binary_logloss")],
        )
        return booster.best_score["valid_0"]["binary_logloss"]
"""

from __future__ import annotations

from typing import Any

from tuneful._extras import require
from tuneful.errors import TrialError
from tuneful.integrations._boosting import check_trial, missing_metric, report_round
from tuneful.trial import Trial

lgb = require("lightgbm", "lightgbm", "tuneful.integrations.lightgbm")

__all__ = ["TunefulPruningCallback"]

_NAME = "TunefulPruningCallback"


class TunefulPruningCallback:
    """Report ``metric`` on ``valid_name`` after each boosting round; stop the trial when told.

    The step of each report is the number of boosting rounds trained so far (1 after the
    first round), so a scheduler's budgets are numbers of rounds. When the scheduler stops the
    trial the callback raises :class:`tuneful.Pruned`, which ends the training; in
    ``study.optimize`` the trial is recorded PRUNED with its curve (with ask and tell, catch
    it and ``study.tell(trial, state="PRUNED")``).

    Works with ``lgb.train``, ``lgb.cv`` (which reports the mean over folds) and the
    scikit-learn API (``LGBMClassifier().fit(..., eval_X=..., eval_y=..., callbacks=[...])``).

    Args:
        trial: the trial the objective received.
        metric: the metric's name as LightGBM reports it (``"binary_logloss"``, ``"auc"``,
            ``"l2"``, ...). LightGBM knows whether it is maximized; it must agree with the
            study's direction (the first one, with several objectives).
        valid_name: the validation set's name: None for LightGBM's default name (``"valid_0"``
            for the first of ``valid_sets`` or ``eval_X``, ``"valid"`` under ``lgb.cv``),
            or the name given in ``valid_names`` / ``eval_names``.

    Raises:
        TrialError: ``trial`` is not a tuneful Trial, ``metric`` or ``valid_name`` is not a
            non-empty string; during training: the metric is not among the evaluation
            results (the message lists those that are), or it is maximized while the study
            minimizes (or the reverse).
    """

    def __init__(self, trial: Trial, metric: str, valid_name: str | None = None) -> None:
        self._trial = check_trial(trial, _NAME)
        for label, value in (("metric", metric), ("valid_name", valid_name)):
            if not (isinstance(value, str) and value) and not (
                label == "valid_name" and value is None
            ):
                raise TrialError(f"{_NAME} {label}={value!r}: expected a non-empty string")
        self._metric = metric
        self._valid_name = valid_name
        # LightGBM runs callbacks by ``order`` (read from the instance): after its logging
        # and recording ones (10, 20), before early stopping (30), so that the round that
        # ends training by early stopping is on the curve too.
        self.order = 25

    def __call__(self, env: Any) -> None:
        """Report the metric of round ``env.iteration`` (0-based) at step ``iteration + 1``."""
        results = env.evaluation_result_list or []
        # lgb.cv's results carry a fifth field, the spread over folds; their set is "valid".
        under_cv = bool(results) and len(results[0]) == 5
        valid = self._valid_name or ("valid" if under_cv else "valid_0")
        for result in results:
            if result[0] == valid and result[1] == self._metric:
                self._check_direction(bool(result[3]))
                report_round(self._trial, env.iteration + 1, float(result[2]))
                return
        available = [f"{result[0]}'s {result[1]}" for result in results]
        raise missing_metric(_NAME, f"{valid}'s {self._metric}", available)

    def _check_direction(self, maximized: bool) -> None:
        direction = self._trial.study.directions[0]
        if maximized != (direction == "maximize"):
            raise TrialError(
                f"{_NAME}: LightGBM {'maximizes' if maximized else 'minimizes'} "
                f"{self._metric!r} but the study {self._trial.study.name!r} is to {direction} "
                "it: the scheduler would stop the best trials; create the study with "
                f"direction={'maximize' if maximized else 'minimize'!r} or report another metric"
            )
