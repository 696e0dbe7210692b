"""What the XGBoost and LightGBM pruning callbacks share: report one boosting round's metric
and stop training when the study's scheduler stops the trial."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tuneful.errors import TrialError
from tuneful.trial import Pruned, Trial

__all__ = ["check_trial", "report_round", "missing_metric"]


def check_trial(trial: Any, callback: str) -> Trial:
    """``trial`` if it is a live :class:`~tuneful.trial.Trial`, else TrialError."""
    if not isinstance(trial, Trial):
        raise TrialError(
            f"{callback} trial={trial!r}: expected the tuneful.Trial the objective receives"
        )
    return trial


def report_round(trial: Trial, rounds: int, value: float) -> None:
    """Report ``value`` at step ``rounds`` (boosting rounds trained so far) and raise
    :class:`~tuneful.trial.Pruned` when the scheduler stops the trial.

    In ``study.optimize`` the report raises by itself; an ask/tell trial's report does not,
    so the stop is raised here too: the training loop must end either way.
    """
    trial.report(step=rounds, value=value)
    if trial.should_stop():
        raise Pruned(f"trial {trial.number} stopped after boosting round {rounds}")


def missing_metric(callback: str, wanted: str, available: Iterable[str]) -> TrialError:
    """The error for a metric that the evaluation results do not contain."""
    shown = sorted(set(available))
    listed = ", ".join(repr(name) for name in shown) if shown else "none"
    return TrialError(
        f"{callback}: {wanted} is not among this training's evaluation results "
        f"(available: {listed}); pass one of them, and give the training a validation set "
        "and an eval metric that produce it"
    )
