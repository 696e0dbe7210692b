"""Studies the dashboard's tests read, of every kind, written through the storage API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tuneful
from tuneful.records import TrialState
from tuneful.storage import Storage

SPACE = tuneful.Space(
    x=tuneful.Float(-5.0, 5.0),
    lr=tuneful.Float(1e-4, 1.0, log=True),
    opt=tuneful.Categorical(["adam", "sgd"]),
)
#: A study name a careless page would run as markup.
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_ERROR = "ValueError: <script>window.pwned = 1</script> boom"


def write_trial(
    storage: Storage,
    study_id: int,
    params: Mapping[str, Any],
    *,
    state: TrialState = TrialState.COMPLETE,
    values: Sequence[float] | None = None,
    curve: Sequence[float] = (),
    user_attrs: Mapping[str, Any] | None = None,
    system_attrs: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> int:
    """One trial written through the storage API, as a worker would leave it."""
    number = storage.create_trial(
        study_id,
        state=TrialState.RUNNING,
        params=params,
        user_attrs=user_attrs,
        system_attrs={"optimizer": "tpe", **(system_attrs or {})},
        worker="test-worker",
    )
    for step, value in enumerate(curve):
        storage.append(study_id, number, "reported", {"step": step, "value": value})
    if state is not TrialState.RUNNING:
        storage.finish_trial(study_id, number, state=state, values=values, error=error)
    return number


def fill_single(storage: Storage, name: str = "single", n: int = 30) -> int:
    """Study ``name``: completed, pruned (with the scheduler's reasons), failed, running."""
    tuneful.create_study(name, space=SPACE, storage=storage, seed=0)
    study_id = storage.get_study(name).id
    for i in range(n):
        x = -5.0 + 10.0 * i / max(1, n - 1)
        params = {"x": x, "lr": 10 ** (-4 + 4 * (i % 7) / 6), "opt": "adam" if i % 2 else "sgd"}
        value = (x - 1.0) ** 2
        if i % 10 == 3:
            pruned = {"step": 2, "rung": 0, "reason": "worse than the median of rung 0"}
            rung = {"passed": False, "rank": 5, "of": 6, "keep": 2}
            write_trial(
                storage,
                study_id,
                params,
                state=TrialState.PRUNED,
                curve=[value + 3, value + 2, value + 1],
                system_attrs={"pruned": pruned, "rung_0": rung},
            )
        elif i % 10 == 7:
            write_trial(storage, study_id, params, state=TrialState.FAIL, error=HOSTILE_ERROR)
        else:
            write_trial(
                storage,
                study_id,
                params,
                values=[value],
                curve=[value + 2, value + 1, value],
                user_attrs={"note": f"run {i}"},
            )
    write_trial(storage, study_id, {"x": 0.5, "lr": 0.01, "opt": "adam"}, state=TrialState.RUNNING)
    return study_id


def fill_multi(storage: Storage, name: str = HOSTILE_NAME, n: int = 12) -> int:
    """A two-objective study whose name is markup."""
    tuneful.create_study(
        name, space=SPACE, directions=["minimize", "maximize"], storage=storage, seed=0
    )
    study_id = storage.get_study(name).id
    for i in range(n):
        x = -5.0 + 10.0 * i / (n - 1)
        write_trial(storage, study_id, {"x": x, "lr": 0.01, "opt": "adam"}, values=[x * x, x + 5.0])
    return study_id
