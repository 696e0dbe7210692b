"""Studies in storage: create, open, delete and list them (``tuneful.create_study`` and
friends). Each returns the face, :class:`~tuneful.study.Study`, over an engine."""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from tuneful._ported import refuse_keywords
from tuneful.errors import DuplicateStudyError, SpaceError, StudyError
from tuneful.execution.engine import DEFAULT_HEARTBEAT_INTERVAL, open_engine
from tuneful.optimizers import Optimizer, check_supported, make_optimizer
from tuneful.records import StudySummary
from tuneful.schedulers import Scheduler, make_scheduler
from tuneful.space import Space
from tuneful.storage import Storage, StudyInfo, open_storage
from tuneful.storage.base import check_study_name
from tuneful.study import Study

__all__ = [
    "create_study",
    "load_study",
    "delete_study",
    "list_studies",
    "DEFAULT_HEARTBEAT_INTERVAL",
]

_DIRECTIONS = ("minimize", "maximize")


def _check_directions(direction: str | None, directions: Sequence[str] | None) -> tuple[str, ...]:
    if direction is not None and directions is not None:
        raise StudyError("pass either direction= or directions=, not both")
    if isinstance(directions, str):
        raise StudyError(
            f"directions={directions!r} is one string: pass direction={directions!r}, or a "
            f"list such as directions=[{directions!r}, ...]"
        )
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


#: Seeds are ints in [0, MAX_SEED): numpy's generators take any non-negative int, and this
#: bound keeps a seed a 64-bit integer in every storage and export.
MAX_SEED = 2**63


def _check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer):
        raise StudyError(f"seed={seed!r}: expected an int in [0, 2**63) or None")
    if not 0 <= seed < MAX_SEED:
        raise StudyError(
            f"seed={seed!r}: expected an int in [0, 2**63) (random generators take "
            "non-negative seeds) or None"
        )
    return int(seed)


def _check_liveness(
    retries: Any, heartbeat_interval: Any, grace_period: Any
) -> tuple[int, float | None, float | None]:
    """``retries``, ``heartbeat_interval`` and ``grace_period`` checked together."""
    if isinstance(retries, bool) or not isinstance(retries, int | np.integer) or retries < 0:
        raise StudyError(f"retries={retries!r}: expected a non-negative int")
    for label, seconds in (
        ("heartbeat_interval", heartbeat_interval),
        ("grace_period", grace_period),
    ):
        if seconds is None:
            continue
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds <= threading.TIMEOUT_MAX
        ):
            raise StudyError(
                f"{label}={seconds!r}: expected a positive, finite number of seconds or None"
            )
    if grace_period is not None and heartbeat_interval is None:
        raise StudyError(
            f"grace_period={grace_period!r} with heartbeat_interval=None: without heartbeats "
            "no trial is ever failed as stale; drop grace_period or set heartbeat_interval"
        )
    if grace_period is not None and grace_period <= heartbeat_interval:
        raise StudyError(
            f"grace_period={grace_period!r} must be longer than heartbeat_interval="
            f"{heartbeat_interval!r}: a live worker's trials would be failed as stale between "
            "two heartbeats (the default is 4 intervals)"
        )
    return int(retries), heartbeat_interval, grace_period


def _build_scheduler(scheduler: Any, n_objectives: int) -> Scheduler:
    """The scheduler given (default: "auto", which judges several objectives by MO-ASHA's
    rank rule when the trials report a vector per step)."""
    default = "auto"
    return make_scheduler(scheduler if scheduler is not None else default)


def _check_supported(
    optimizer: Optimizer,
    scheduler: Scheduler | None,
    *,
    directions: Sequence[str],
    space: Space | None,
) -> None:
    """Refuse a study its optimizer or scheduler cannot serve, before any trial runs.

    The one place where a study's components are checked against its directions and space
    (``create_study``, and ``load_study``): the optimizer's declared capabilities
    (:func:`~tuneful.optimizers.check_supported`), and a scheduler, which judges one reported
    value, needs a single objective.

    Raises:
        OptimizerError: the optimizer cannot serve the study (e.g. "gp" with 2 objectives).
        StudyError: the scheduler is active and the study has several objectives.
    """
    check_supported(optimizer, directions=directions, space=space)
    if scheduler is not None:
        scheduler.check_directions(directions)


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
    **unexpected: Any,
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
        seed: an int in [0, 2**63) that makes the study reproducible; drawn at random (and
            stored) when omitted.
        load_if_exists: return the existing study of that name instead of failing, when
            it matches what is given (see ``_check_same_study``); None (or, for
            ``retries``, ``heartbeat_interval`` and ``grace_period``, the default) means
            "as stored".
        retries: how many times a trial whose worker died is re-enqueued.
        heartbeat_interval: seconds between a worker's heartbeats (None: no heartbeats,
            so trials of dead workers are never failed automatically).
        grace_period: seconds without a heartbeat before a trial is failed (default 4x the
            interval; must be longer than the interval).

    Raises:
        DuplicateStudyError: the name is taken and ``load_if_exists`` is false.
        StudyError: invalid arguments (Optuna's ``study_name=``, ``sampler=``, ``pruner=``
            are named with tuneful's ``name=``, ``optimizer=``, ``scheduler=``), or
            ``load_if_exists`` found a study that differs from what is given.
        SpaceError / OptimizerError / SchedulerError: invalid space, optimizer, scheduler.

    Example:
        >>> import tuneful
        >>> study = tuneful.create_study(
        ...     "demo", space=tuneful.Space(x=tuneful.Float(0, 1)), storage="memory://")
        >>> study.direction
        'minimize'
    """
    refuse_keywords("create_study", unexpected, _CREATE_KEYWORDS)
    chosen_directions = _check_directions(direction, directions)
    given = _Given(
        space=_as_space(space),
        directions=None if direction is None and directions is None else chosen_directions,
        seed=_check_seed(seed),
        optimizer=optimizer,
        scheduler=scheduler,
        liveness=_check_liveness(retries, heartbeat_interval, grace_period),
    )
    return _create(name, chosen_directions, given, storage, load_if_exists)


def _create(
    name: str | None,
    directions: tuple[str, ...],
    given: _Given,
    storage: str | os.PathLike[str] | Storage | None,
    load_if_exists: bool,
) -> Study:
    """``create_study`` once its arguments are checked."""
    seed = given.seed if given.seed is not None else secrets.randbelow(2**31)
    built = make_optimizer(given.optimizer, seed=seed)
    built_scheduler = _build_scheduler(given.scheduler, len(directions))
    _check_supported(built, built_scheduler, directions=directions, space=given.space)
    # Checked before the storage is opened, so that a bad name creates no file.
    study_name = check_study_name(name if name is not None else _default_name())
    backend = open_storage(storage)
    try:
        info = backend.create_study(
            study_name,
            directions=directions,
            space=None if given.space is None else given.space.to_dict(),
            settings=_settings(built, built_scheduler, seed, given.liveness),
        )
    except DuplicateStudyError:
        if not load_if_exists:
            raise
        _check_same_study(backend.get_study(study_name), given)
        return load_study(
            study_name, storage=backend, optimizer=given.optimizer, scheduler=given.scheduler
        )
    return Study(info, backend, built, built_scheduler)


def _settings(
    optimizer: Optimizer,
    scheduler: Scheduler,
    seed: int,
    liveness: tuple[int, float | None, float | None],
) -> dict[str, Any]:
    """What a new study stores about how it runs."""
    return {
        "optimizer": optimizer.describe(),
        "scheduler": scheduler.describe(),
        "seed": seed,
        "retries": liveness[0],
        "heartbeat_interval": liveness[1],
        "grace_period": liveness[2],
    }


def _check_exists(name: str, storage: str | os.PathLike[str] | Storage | None) -> None:
    """Raise StudyNotFoundError when the study is not there, looking without writing: a
    mistyped path must not leave an empty database behind."""
    if isinstance(storage, Storage):
        return
    reader = open_storage(storage, read_only=True)
    try:
        reader.get_study(name)
    finally:
        reader.close()


def load_study(
    name: str,
    *,
    storage: str | os.PathLike[str] | Storage | None = None,
    optimizer: str | dict[str, Any] | Optimizer | None = None,
    scheduler: str | dict[str, Any] | Scheduler | None = None,
    **unexpected: Any,
) -> Study:
    """Open an existing study. Its optimizer and scheduler are rebuilt from what was stored
    unless given.

    Raises:
        StudyNotFoundError: no study of that name in the storage.
    """
    refuse_keywords("load_study", unexpected, ["name", "storage", "optimizer", "scheduler"])
    _check_exists(name, storage)
    backend = open_storage(storage)
    engine = open_engine(
        name, backend, optimizer=optimizer, scheduler=scheduler, face_factory=Study.over
    )
    _check_supported(
        engine.optimizer,
        engine.scheduler if scheduler is not None else None,  # the stored one passed before
        directions=engine.directions,
        space=engine.space,
    )
    study: Study = engine.face
    return study


def delete_study(name: str, *, storage: str | os.PathLike[str] | Storage | None = None) -> None:
    """Delete a study and all its trials.

    Raises:
        StudyNotFoundError: no study of that name in the storage (nothing is created).
    """
    _check_exists(name, storage)
    open_storage(storage).delete_study(name)


def list_studies(*, storage: str | os.PathLike[str] | Storage | None = None) -> list[StudySummary]:
    """A summary of every study in the storage, oldest first (read without writing: a
    missing file or another application's database lists nothing and is left untouched)."""
    backend = storage if isinstance(storage, Storage) else open_storage(storage, read_only=True)
    summaries = []
    for info in backend.list_studies():
        study = Study(info, backend, make_optimizer("random", seed=0))
        summaries.append(study.summary())
    return summaries


_CREATE_KEYWORDS = [
    "name",
    "space",
    "direction",
    "directions",
    "storage",
    "optimizer",
    "scheduler",
    "seed",
    "load_if_exists",
    "retries",
    "heartbeat_interval",
    "grace_period",
]


@dataclass(frozen=True)
class _Given:
    """What ``create_study(load_if_exists=True)`` was given; None: take the stored one."""

    space: Space | None
    directions: tuple[str, ...] | None
    seed: int | None
    optimizer: Any
    scheduler: Any
    liveness: tuple[int, float | None, float | None]


def _check_same_study(info: StudyInfo, given: _Given) -> None:
    """Refuse to load an existing study that differs from what ``create_study`` was given.

    Compared when given: the space (parameter by parameter), the direction(s), the seed, the
    optimizer and scheduler (as ``describe()`` writes them, with the stored seed: an explicit
    ``optimizer="tpe"`` on a study that ran "gp" is a mismatch; to switch this process's
    optimizer on purpose, use ``load_study(name, optimizer=...)``), and ``retries``,
    ``heartbeat_interval``, ``grace_period`` when they differ from their defaults.

    Raises:
        StudyError: what differs, stored value against given value.
    """
    stored = info.settings
    seed = int(stored["seed"])
    differences: list[str] = []
    if given.space is not None:
        differences += _space_differences(info.space, given.space)
    if given.directions is not None and tuple(given.directions) != tuple(info.directions):
        differences.append(
            f"directions: stored {list(info.directions)}, given {list(given.directions)}"
        )
    if given.seed is not None and given.seed != seed:
        differences.append(f"seed: stored {seed}, given {given.seed}")
    for key, spec, build in (
        ("optimizer", given.optimizer, lambda s: make_optimizer(s, seed=seed)),
        ("scheduler", given.scheduler, make_scheduler),
    ):
        if spec is None:
            continue
        old = stored.get(key) or "none"  # studies made before schedulers existed have none
        built = build(spec)
        theirs = _plain(build(old).describe() if isinstance(old, str) else old)
        if not built.same_as(theirs):  # name and settings; a version change only warns
            differences.append(_component_difference(key, theirs, _plain(built.describe())))
    defaults = (0, DEFAULT_HEARTBEAT_INTERVAL, None)
    for key, value, default in zip(
        ("retries", "heartbeat_interval", "grace_period"), given.liveness, defaults, strict=True
    ):
        old = stored.get(key, default)
        if value != default and value != old:
            differences.append(f"{key}: stored {old!r}, given {value!r}")
    if differences:
        raise StudyError(
            f"study {info.name!r} already exists with other settings, and load_if_exists=True "
            f"loads it only as it is: {'; '.join(differences)}. Leave out (None) what should "
            "be taken from the stored study, pick another name, or delete_study() it first"
        )


def _component_difference(key: str, stored: Any, given: Any) -> str:
    """``optimizer: stored 'gp', given 'tpe'``, or the settings that differ under one name."""
    if not (isinstance(stored, dict) and isinstance(given, dict)):
        return f"{key}: stored {stored}, given {given}"
    if stored.get("name") != given.get("name"):
        return f"{key}: stored {stored.get('name')!r}, given {given.get('name')!r}"
    old, new = stored.get("settings") or {}, given.get("settings") or {}
    changed = [
        f"{k} stored {old.get(k)!r}, given {new.get(k)!r}"
        for k in [*old, *(k for k in new if k not in old)]
        if old.get(k) != new.get(k)
    ]
    return f"{key} {given.get('name')!r} settings: {', '.join(changed)}"


def _space_differences(stored: Mapping[str, Any] | None, given: Space) -> list[str]:
    if stored is None:
        return ["space: the stored study has none (define-by-run), given one"]
    old = Space.from_dict(dict(stored))
    if old == given:
        return []
    changes = []
    for name in [*old.names, *(n for n in given.names if n not in old)]:
        if name not in given:
            changes.append(f"{name!r} only stored ({old[name]!r})")
        elif name not in old:
            changes.append(f"{name!r} only given ({given[name]!r})")
        elif old[name] != given[name]:
            changes.append(f"{name!r} stored {old[name]!r}, given {given[name]!r}")
    if not changes:
        changes.append(f"the order of the parameters: stored {list(old)}, given {list(given)}")
    return ["space: " + ", ".join(changes)]


def _plain(value: Any) -> Any:
    """A description as it reads back from storage (tuples as lists, ...)."""
    return json.loads(json.dumps(value, default=repr))
