"""Names a script ported from Optuna reaches for, and what to write in tuneful instead.

A missing attribute or an unknown keyword is still an error; these tables only make its
message say where the feature lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuneful.errors import StudyError, did_you_mean

__all__ = ["missing_attribute", "refuse_keywords"]

_ATTRIBUTES: dict[str, dict[str, str]] = {
    "Trial": {
        "suggest_uniform": "trial.suggest_float(name, low, high)",
        "suggest_loguniform": "trial.suggest_float(name, low, high, log=True)",
        "suggest_discrete_uniform": "trial.suggest_float(name, low, high, step=q)",
        "should_prune": (
            "trial.should_stop() (in study.optimize, trial.report(step=, value=) raises "
            "tuneful.Pruned by itself)"
        ),
        "set_system_attr": "trial.set_user_attr(key, value)",
        "distributions": "trial.record().distributions",
        "intermediate_values": "trial.record().intermediate",
    },
    "Study": {
        "trials_dataframe": "study.to_dataframe()",
        "enqueue_trial": "study.enqueue(params)",
        "study_name": "study.name",
        "set_system_attr": "study.set_user_attr(key, value)",
        "system_attrs": "study.settings",
        "stop": (
            "optimize(n_trials=..., timeout=... or max_trials=...) to bound a run (a study "
            "has no stop())"
        ),
        "sampler": "study.optimizer",
        "pruner": "study.scheduler",
    },
}

_KEYWORDS = {
    "study_name": "name",
    "sampler": "optimizer",
    "pruner": "scheduler",
}


def missing_attribute(owner: str, name: str) -> AttributeError:
    """The AttributeError for ``owner.name``, with the tuneful spelling of an Optuna name."""
    hint = _ATTRIBUTES.get(owner, {}).get(name)
    message = f"{owner!r} object has no attribute {name!r}"
    if hint is not None:
        message += f"; in tuneful use {hint}"
    return AttributeError(message)


def refuse_keywords(function: str, given: Mapping[str, Any], accepted: list[str]) -> None:
    """Raise StudyError for keywords ``function`` does not take, naming tuneful's own."""
    if not given:
        return
    key = next(iter(given))
    if key in _KEYWORDS:
        hint = f"; tuneful calls it {_KEYWORDS[key]}= (Optuna's {key}=)"
    else:
        hint = did_you_mean(key, accepted)
    raise StudyError(f"{function}() got an unexpected keyword argument {key!r}{hint}")
