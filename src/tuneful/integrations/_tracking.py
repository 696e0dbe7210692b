"""What the experiment-tracker callbacks (MLflow, Weights & Biases) share: which trials to log,
the names of their values, and attributes shortened to what a tracker stores."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tuneful.errors import StudyError
from tuneful.records import TrialRecord

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = [
    "CURVE",
    "check_metric_names",
    "finished",
    "json_text",
    "metric_names_for",
    "study_key",
    "value_metrics",
]

#: The metric under which a trial's learning curve (``trial.report``) is logged, by step.
CURVE = "curve"


def check_metric_names(callback: str, names: Sequence[str] | None) -> tuple[str, ...] | None:
    """``names`` as a tuple, or StudyError unless they are distinct non-empty strings."""
    if names is None:
        return None
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise StudyError(
            f"{callback} metric_names={names!r}: expected a list of non-empty strings, one "
            "per objective, e.g. ['accuracy']"
        )
    chosen = tuple(names)
    if len(set(chosen)) != len(chosen) or CURVE in chosen or not chosen:
        raise StudyError(
            f"{callback} metric_names={names!r}: expected distinct names, at least one, other "
            f"than {CURVE!r} (the learning curve's name)"
        )
    return chosen


def metric_names_for(callback: str, names: tuple[str, ...] | None, study: Study) -> list[str]:
    """The names of the study's values: ``names``, or ``value`` (``value_0``, ``value_1``,
    ... with several objectives).

    Raises:
        StudyError: ``names`` has not one name per objective of the study.
    """
    count = len(study.directions)
    if names is None:
        return ["value"] if count == 1 else [f"value_{i}" for i in range(count)]
    if len(names) != count:
        raise StudyError(
            f"{callback} metric_names={list(names)!r}: study {study.name!r} has {count} "
            f"objective(s) {list(study.directions)}; give one name per objective"
        )
    return list(names)


def value_metrics(names: list[str], trial: TrialRecord) -> dict[str, float]:
    """The trial's values by name (empty unless it completed)."""
    if trial.values is None:
        return {}
    return dict(zip(names, trial.values, strict=True))


def finished(trials: Sequence[TrialRecord]) -> list[TrialRecord]:
    """The trials that have an outcome to log: COMPLETE, PRUNED or FAIL."""
    return [t for t in trials if t.state.is_finished]


def study_key(study: Study) -> str:
    """A short hex digest of the study's name: safe inside a tracker's query or run id."""
    return hashlib.sha1(study.name.encode("utf-8")).hexdigest()[:16]


def json_text(value: Any, limit: int) -> str:
    """``value`` as text at most ``limit`` characters long (JSON unless a string); a
    longer one keeps its end, where a traceback says what went wrong."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) <= limit:
        return text
    return "..." + text[-(limit - 3) :]
