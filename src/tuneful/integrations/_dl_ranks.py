"""What the deep-learning callbacks share: checking the trial and the metric, reporting from
one process, and telling every process of a distributed run the same decision.

In a run over several processes (DDP, FSDP, DeepSpeed, ...) every process evaluates and calls
the callback, but only global rank 0 holds the trial and writes to the study: it reports the
metric and asks the scheduler. The decision then goes to every rank through the framework's
broadcast, so that all of them stop at the same step; a rank that stopped alone would leave the
others waiting forever in their next collective operation. When rank 0 fails to report (the
storage cannot be written, the value is NaN), the others learn that too, and stop with an error
naming rank 0's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from tuneful.errors import MetricNotFoundError, TrialError, did_you_mean
from tuneful.trial import Pruned, Trial

__all__ = ["check_trial", "metric_value", "report_on_rank_zero", "pruned_message"]

#: What rank 0 sends the other ranks: ("go" | "stop" | "error", the reason).
Outcome = tuple[str, str]


def check_trial(trial: Any, callback: str, *, distributed: bool) -> Trial | None:
    """``trial`` when it is a tuneful Trial (or None, allowed on ranks other than 0).

    Raises:
        TrialError: anything else, e.g. an Optuna trial passed on by a ported script.
    """
    if trial is None or isinstance(trial, Trial):
        return trial
    hint = (
        " (an Optuna trial: tuneful's callback takes the trial study.optimize gives the "
        "objective, or study.ask())"
        if type(trial).__module__.startswith("optuna")
        else ""
    )
    where = "; None is accepted only on ranks other than 0" if distributed else ""
    raise TrialError(
        f"{callback}(trial={type(trial).__name__} object): expected a tuneful.Trial{hint}{where}"
    )


def metric_value(metrics: Any, key: str, *, where: str) -> Any:
    """The number logged under ``key``, as a float (tensors and numpy scalars included).

    Raises:
        MetricNotFoundError: ``key`` was not logged; the message names what was.
    """
    if key not in metrics:
        logged = sorted(str(name) for name in metrics)
        raise MetricNotFoundError(
            f"metric {key!r} was not logged {where}; logged: {logged}{did_you_mean(key, logged)}"
        )
    value = metrics[key]
    if hasattr(value, "item"):  # a tensor or a numpy scalar
        value = value.item()
    return value  # trial.report refuses what is not a finite number


def report_on_rank_zero(
    trial: Trial | None,
    *,
    is_rank_zero: bool,
    step: int,
    value: float,
    broadcast: Callable[[Outcome], Outcome] | None,
) -> str | None:
    """Report ``value`` at ``step`` on rank 0; return None to go on, or, when the scheduler
    stopped the trial, its reason: the same answer on every rank.

    ``broadcast`` sends rank 0's outcome to every rank and returns it (None in a run of one
    process). Rank 0 reports whether ``report`` raises :class:`Pruned` (``study.optimize``) or
    not (ask and tell): the answer is ``trial.should_stop()`` either way.

    Raises:
        TrialError: rank 0 holds no trial.
        RuntimeError: on the other ranks, when rank 0 failed (rank 0 raises its own error).
    """
    outcome: Outcome = ("go", "")
    failure: BaseException | None = None
    if is_rank_zero:
        try:
            if trial is None:
                raise TrialError(
                    "the callback on global rank 0 has trial=None: rank 0 reports to the "
                    "study and needs the trial (None is for the other ranks)"
                )
            outcome = _report(trial, step, value)
        except Exception as exc:
            failure = exc
            outcome = ("error", f"{type(exc).__name__}: {exc}")
    if broadcast is not None:
        outcome = broadcast(outcome)
    if failure is not None:
        raise failure
    if outcome[0] == "error":
        raise RuntimeError(
            f"rank 0 could not report to the study, so every rank stops: {outcome[1]}"
        )
    return outcome[1] if outcome[0] == "stop" else None


def _report(trial: Trial, step: int, value: float) -> Outcome:
    # study.optimize's trials raise Pruned here; every rank stops later, at the same point
    with contextlib.suppress(Pruned):
        trial.report(step=step, value=value)
    if not trial.should_stop():
        return ("go", "")
    reason = trial.record().system_attrs.get("pruned")
    text = reason.get("reason", "") if isinstance(reason, dict) else ""
    return ("stop", str(text))


def pruned_message(trial: Trial | None, step: int, reason: str) -> str:
    """The message of the :class:`Pruned` a callback raises."""
    who = "the trial" if trial is None else f"trial {trial.number}"
    return f"{who} stopped by the study's scheduler at step {step}" + (
        f": {reason}" if reason else ""
    )
