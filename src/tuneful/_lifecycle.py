"""Studies in storage: create, open, delete and list them (``tuneful.create_study`` and
friends; :mod:`tuneful.study` re-exports them beside :class:`~tuneful.study.Study`)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.errors import SpaceError, StudyError
from tuneful.optimizers import Optimizer, make_optimizer
from tuneful.records import StudySummary
from tuneful.schedulers import Scheduler, make_scheduler
from tuneful.space import Space
from tuneful.storage import Storage, open_storage
from tuneful.storage.base import check_study_name

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = [
    "create_study",
    "load_study",
    "delete_study",
    "list_studies",
    "DEFAULT_HEARTBEAT_INTERVAL",
]

_DIRECTIONS = ("minimize", "maximize")
#: Seconds between heartbeats of a worker's running trials.
DEFAULT_HEARTBEAT_INTERVAL = 10.0


def _check_directions(direction: str | None, directions: Sequence[str] | None) -> tuple[str, ...]:
    if direction is not None and directions is not None:
        raise StudyError("pass either direction= or directions=, not both")
    chosen = [direction or "minimize"] if directions is None else list(directions)
    if not chosen:
        raise StudyError("directions=[]: expected at least one 'minimize' or 'maximize'")
    for item in chosen:
        if item not in _DIRECTIONS:
            raise StudyError(f"direction={item!r}: expected 'minimize' or 'maximize'")
    return tuple(chosen)


def _as_space(space: Space | Mapping[str, Any] | None) -> Space | None:
    if space is None or isinstance(space, Space):
        return space
    if isinstance(space, Mapping):
        return Space.from_dict(dict(space))
    raise SpaceError(f"space={space!r}: expected a tuneful.Space or a mapping in the spec format")


def _default_name() -> str:
    return f"study-{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def create_study(
    name: str | None = None,
    *,
    space: Space | Mapping[str, Any] | None = None,
    direction: str | None = None,
    directions: Sequence[str] | None = None,
    storage: str | os.PathLike[str] | Storage | None = None,
    optimizer: str | dict[str, Any] | Optimizer | None = None,
    scheduler: str | dict[str, Any] | Scheduler | None = None,
    seed: int | None = None,
    load_if_exists: bool = False,
    retries: int = 0,
    heartbeat_interval: float | None = DEFAULT_HEARTBEAT_INTERVAL,
    grace_period: float | None = None,
) -> Study:
    """Create a study in storage (``./tuneful.db`` unless told otherwise).

    Args:
        name: unique within the storage; generated when omitted.
        space: a :class:`tuneful.Space` (or its spec dict); None for define-by-run.
        direction / directions: "minimize" (default) or "maximize", one per objective.
        storage: ``sqlite:///file.db``, ``memory://``, a path ending in .db, or a Storage.
        optimizer: a registry name ("auto", "random", "sobol", "grid", ...), a dict
            ``{"name": ..., "settings": {...}}`` or an :class:`Optimizer`.
        scheduler: when to stop trials early (see :mod:`tuneful.schedulers`): "auto" (the
            default for one objective: acts only when the objective reports a curve),
            "none", "median", "asha", "hyperband", "curve", a dict ``{"name": ...,
            "settings": {...}}`` or a :class:`~tuneful.schedulers.Scheduler`.
        seed: makes the study reproducible; drawn at random (and stored) when omitted.
        load_if_exists: return the existing study of that name instead of failing.
        retries: how many times a trial whose worker died is re-enqueued.
        heartbeat_interval: seconds between a worker's heartbeats (None: no heartbeats,
            so trials of dead workers are never failed automatically).
        grace_period: seconds without a heartbeat before a trial is failed (default 4x the
            interval).

    Raises:
        DuplicateStudyError: the name is taken and ``load_if_exists`` is false.
        StudyError / SpaceError / OptimizerError: invalid arguments.

    Example:
        >>> import tuneful
        >>> study = tuneful.create_study(
        ...     "demo", space=tuneful.Space(x=tuneful.Float(0, 1)), storage="memory://")
        >>> study.direction
        'minimize'
    """
    from tuneful.errors import DuplicateStudyError
    from tuneful.study import Study

    chosen_directions = _check_directions(direction, directions)
    chosen_space = _as_space(space)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise StudyError(f"seed={seed!r}: expected an int")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise StudyError(f"retries={retries!r}: expected a non-negative int")
    for label, seconds in (
        ("heartbeat_interval", heartbeat_interval),
        ("grace_period", grace_period),
    ):
        if seconds is not None and not (isinstance(seconds, int | float) and seconds > 0):
            raise StudyError(f"{label}={seconds!r}: expected a positive number of seconds or None")
    chosen_seed = int(seed) if seed is not None else secrets.randbelow(2**31)
    built = make_optimizer(optimizer, seed=chosen_seed)
    if scheduler is None:
        scheduler = "auto" if len(chosen_directions) == 1 else "none"
    built_scheduler = make_scheduler(scheduler)
    if built_scheduler.active and len(chosen_directions) != 1:
        raise StudyError(
            f"scheduler={built_scheduler.name!r}: schedulers judge one reported value; this "
            f"study has {len(chosen_directions)} objectives (use scheduler='none')"
        )
    # Checked before the storage is opened, so that a bad name creates no file.
    study_name = check_study_name(name if name is not None else _default_name())
    backend = open_storage(storage)
    settings = {
        "optimizer": built.describe(),
        "scheduler": built_scheduler.describe(),
        "seed": chosen_seed,
        "retries": retries,
        "heartbeat_interval": heartbeat_interval,
        "grace_period": grace_period,
    }
    try:
        info = backend.create_study(
            study_name,
            directions=chosen_directions,
            space=None if chosen_space is None else chosen_space.to_dict(),
            settings=settings,
        )
    except DuplicateStudyError:
        if not load_if_exists:
            raise
        return load_study(study_name, storage=backend, optimizer=optimizer)
    return Study(info, backend, built, built_scheduler)


def load_study(
    name: str,
    *,
    storage: str | os.PathLike[str] | Storage | None = None,
    optimizer: str | dict[str, Any] | Optimizer | None = None,
    scheduler: str | dict[str, Any] | Scheduler | None = None,
) -> Study:
    """Open an existing study. Its optimizer and scheduler are rebuilt from what was stored
    unless given.

    Raises:
        StudyNotFoundError: no study of that name in the storage.
    """
    from tuneful.study import Study

    backend = open_storage(storage)
    info = backend.get_study(name)
    seed = int(info.settings["seed"])
    stored = info.settings.get("optimizer")
    built = make_optimizer(optimizer if optimizer is not None else stored, seed=seed)
    # Studies created before schedulers existed have none.
    stored_scheduler = info.settings.get("scheduler") or "none"
    chosen = make_scheduler(scheduler if scheduler is not None else stored_scheduler)
    return Study(info, backend, built, chosen)


def delete_study(name: str, *, storage: str | os.PathLike[str] | Storage | None = None) -> None:
    """Delete a study and all its trials."""
    open_storage(storage).delete_study(name)


def list_studies(*, storage: str | os.PathLike[str] | Storage | None = None) -> list[StudySummary]:
    """A summary of every study in the storage, oldest first."""
    from tuneful.study import Study

    backend = open_storage(storage)
    summaries = []
    for info in backend.list_studies():
        study = Study(info, backend, make_optimizer("random", seed=0))
        summaries.append(study.summary())
    return summaries
