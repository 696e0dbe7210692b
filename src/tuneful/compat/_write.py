"""Writing a trial that already ran elsewhere into a tuneful study, with its own outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuneful.records import TrialState
from tuneful.storage import Storage

__all__ = ["FinishedTrial", "write_trial"]


@dataclass(frozen=True)
class FinishedTrial:
    """A trial as another tuner recorded it: what :func:`write_trial` stores.

    ``distributions`` are tuneful parameter specs (``Float(...).to_dict()``); ``state`` is
    COMPLETE, PRUNED, FAIL or WAITING (WAITING: queued, to be run by tuneful).
    """

    state: TrialState
    params: Mapping[str, Any] = field(default_factory=dict)
    distributions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    values: Sequence[float] | None = None
    intermediate: Mapping[int, float] = field(default_factory=dict)
    user_attrs: Mapping[str, Any] = field(default_factory=dict)
    system_attrs: Mapping[str, Any] = field(default_factory=dict)
    constraints: Sequence[float] | None = None
    error: str | None = None


def write_trial(storage: Storage, study_id: int, trial: FinishedTrial) -> int:
    """Append ``trial`` to the study through the storage's event API; returns its number.

    The trial is created RUNNING (unmonitored: no heartbeat fails it), given its parameters
    with their definitions, its curve, and finished with its state, values and constraints,
    so that it reads back as the tuner recorded it. A WAITING trial is only queued.
    """
    if trial.state is TrialState.WAITING:
        return storage.create_trial(
            study_id,
            state=TrialState.WAITING,
            params=dict(trial.params),
            system_attrs=dict(trial.system_attrs),
            user_attrs=dict(trial.user_attrs),
        )
    number = storage.create_trial(
        study_id,
        state=TrialState.RUNNING,
        system_attrs=dict(trial.system_attrs),
        user_attrs=dict(trial.user_attrs),
    )
    if trial.params:
        payload = {"params": dict(trial.params), "distributions": dict(trial.distributions)}
        storage.append(study_id, number, "params", payload)
    for step, value in sorted(trial.intermediate.items()):
        storage.append(study_id, number, "reported", {"step": int(step), "value": float(value)})
    storage.finish_trial(
        study_id,
        number,
        state=trial.state,
        values=None if trial.values is None else [float(v) for v in trial.values],
        error=trial.error,
        constraints=None if trial.constraints is None else [float(c) for c in trial.constraints],
    )
    return number
