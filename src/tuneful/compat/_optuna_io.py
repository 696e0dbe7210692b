"""Copying studies from an Optuna storage into tuneful's, and back.

Optuna is read and written through its own public API (``optuna.load_study``,
``Study.add_trials``); tuneful is written through its storage's event API
(:func:`tuneful.compat._write.write_trial`), so each trial keeps its state, values, curve and
attributes. What tuneful has no field for travels in the trial's ``system_attrs["optuna"]``
(Optuna's own system attributes, its start and end times, a state tuneful does not keep) and
comes back out on export.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tuneful._extras import require
from tuneful._lifecycle import create_study, load_study
from tuneful.compat._distributions import distribution_args, spec_of
from tuneful.compat._write import FinishedTrial, write_trial
from tuneful.errors import DuplicateStudyError, StorageError, StudyError, StudyNotFoundError
from tuneful.records import TrialRecord, TrialState
from tuneful.space import Space
from tuneful.storage import Storage, open_storage
from tuneful.storage.urls import redact_url

__all__ = ["import_study", "export_study", "optuna_study_names"]

#: Key of ``TrialRecord.system_attrs`` holding what only Optuna records.
META = "optuna"
_TUNEFUL_PREFIX = "tuneful:"
_CONSTRAINTS = "constraints"


def _optuna(feature: str) -> Any:
    return require("optuna", "optuna", feature)


def _quiet(optuna: Any) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///") :])
    return None


def _check_optuna_storage(url: str, *, must_exist: bool) -> None:
    """Refuse a URL that is not an Optuna RDB storage before Optuna opens it (Optuna creates
    its tables in any database it is pointed at).

    Raises:
        StorageError: a missing SQLite file (when ``must_exist``), or a database that holds
            tables but not Optuna's.
    """
    if not isinstance(url, str) or "://" not in url:
        raise StorageError(
            f"Optuna storage {url!r}: expected a database URL such as sqlite:///optuna.db or "
            "postgresql://user@host/db"
        )
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        if must_exist:
            raise StorageError(f"Optuna storage {url!r}: {path} does not exist")
        return
    sqlalchemy = require("sqlalchemy", "optuna", "an Optuna storage")
    engine = sqlalchemy.create_engine(url)
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
    except Exception as exc:
        raise StorageError(f"Optuna storage {redact_url(url)!r}: cannot be read: {exc}") from None
    finally:
        engine.dispose()
    if tables and not {"studies", "trials", "version_info"} <= tables:
        raise StorageError(
            f"{redact_url(url)!r} is not an Optuna storage (its tables: {sorted(tables)[:6]}; "
            "Optuna's include 'studies', 'trials' and 'version_info'); a tuneful study is "
            "opened with tuneful.load_study"
        )
    if must_exist and not tables:
        raise StorageError(f"Optuna storage {redact_url(url)!r} holds no study")


def optuna_study_names(url: str) -> list[str]:
    """The names of the studies in an Optuna storage."""
    _check_optuna_storage(url, must_exist=True)
    optuna = _optuna("tuneful import optuna")
    _quiet(optuna)
    return list(optuna.get_all_study_names(storage=url))


# -- Optuna -> tuneful -------------------------------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _split_system_attrs(attrs: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Optuna system attributes: tuneful's own (written back on export), and the rest."""
    own = {k[len(_TUNEFUL_PREFIX) :]: v for k, v in attrs.items() if k.startswith(_TUNEFUL_PREFIX)}
    rest = {
        k: v
        for k, v in attrs.items()
        if not k.startswith(_TUNEFUL_PREFIX)
        and k != _CONSTRAINTS
        and not k.startswith(_CONSTRAINTS + ":")
        and k != "fail_reason"
    }
    return own, rest


def _constraints_of(trial: Any) -> dict[str, float]:
    """A trial's constraints by name: Optuna 5's ``constraints``, or the list that earlier
    releases keep in ``system_attrs["constraints"]`` (named "0", "1", ...)."""
    named = getattr(trial, "constraints", None)
    if isinstance(named, Mapping):
        return {str(k): float(v) for k, v in named.items()}
    listed = trial.system_attrs.get(_CONSTRAINTS) or []
    return {str(i): float(v) for i, v in enumerate(listed)}


def _converted(trial: Any) -> FinishedTrial:
    """One Optuna FrozenTrial as tuneful writes it."""
    state = trial.state.name
    own, rest = _split_system_attrs(trial.system_attrs)
    meta: dict[str, Any] = {
        "datetime_start": _iso(trial.datetime_start),
        "datetime_complete": _iso(trial.datetime_complete),
    }
    if rest:
        meta["system_attrs"] = rest
    distributions = {name: spec_of(name, d) for name, d in trial.distributions.items()}
    values = None if trial.values is None else [float(v) for v in trial.values]
    error = trial.system_attrs.get("fail_reason")
    if state == "RUNNING":
        meta["state"] = state
        state, error = "FAIL", "RUNNING in Optuna when the study was imported"
    if state != "COMPLETE" and values is not None:
        meta["values"] = values  # Optuna may keep a value for a pruned trial; tuneful does not
        values = None
    if values is not None and not all(math.isfinite(v) for v in values):
        meta["values"], meta["state"] = [repr(v) for v in values], state
        state, values = "FAIL", None
        error = "its value is not finite (tuneful records such a trial as failed)"
    curve = {int(s): float(v) for s, v in trial.intermediate_values.items()}
    odd = {str(s): repr(v) for s, v in curve.items() if not math.isfinite(v)}
    if odd:
        meta["intermediate_nonfinite"] = odd
    named = _constraints_of(trial)
    if named and list(named) != [str(i) for i in range(len(named))]:
        meta["constraint_names"] = list(named)
    params = dict(trial.params)
    if state == "WAITING":  # enqueued: Optuna keeps the parameters to try aside
        params = {**(trial.system_attrs.get("fixed_params") or {}), **params}
    return FinishedTrial(
        state=TrialState(state),
        params=params,
        distributions=distributions,
        values=values,
        intermediate={s: v for s, v in curve.items() if math.isfinite(v)},
        user_attrs=dict(trial.user_attrs),
        system_attrs={**own, META: meta},
        constraints=list(named.values()) or None,
        error=None if state != "FAIL" else error,
    )


def _read_optuna(url: str, name: str) -> tuple[Any, list[FinishedTrial]]:
    optuna = _optuna("tuneful import optuna")
    _quiet(optuna)
    names = optuna.get_all_study_names(storage=url)
    if name not in names:
        raise StudyNotFoundError(
            f"no Optuna study named {name!r} in {redact_url(url)} (studies there: "
            f"{sorted(names) or 'none'})"
        )
    source = optuna.load_study(study_name=name, storage=url)
    trials = []
    for trial in source.get_trials(deepcopy=False):
        try:
            trials.append(_converted(trial))
        except ValueError as exc:  # SpaceError and friends
            raise StudyError(f"Optuna study {name!r}, trial {trial.number}: {exc}") from None
    return source, trials


def _target(storage: str | os.PathLike[str] | Storage | None) -> Storage:
    return storage if isinstance(storage, Storage) else open_storage(storage)


def import_study(
    source: str,
    study: str,
    *,
    storage: str | os.PathLike[str] | Storage | None = None,
    name: str | None = None,
) -> str:
    """Copy Optuna study ``study`` from the Optuna storage ``source`` (a database URL such as
    ``sqlite:///optuna.db``) into tuneful's ``storage`` as ``name`` (default: its own name).

    Each trial keeps its number, state, parameters (with their distributions as tuneful
    parameters), value(s), intermediate values (its curve), user attributes and constraints;
    the study keeps its directions and user attributes. Optuna's trial system attributes and
    start/end times are kept in ``trial.system_attrs["optuna"]``. A RUNNING trial is recorded
    as FAIL (its worker is not tuneful's), a WAITING one stays queued, a COMPLETE one with an
    infinite value is recorded as FAIL; what they were is kept in ``system_attrs["optuna"]``.

    Returns:
        The name of the new tuneful study.

    Raises:
        StudyNotFoundError: no such Optuna study (the message lists those there).
        DuplicateStudyError: the tuneful storage already has a study of that name.
        StorageError: ``source`` is not an Optuna storage.
        MissingDependencyError: Optuna is not installed.
    """
    _check_optuna_storage(source, must_exist=True)
    original, trials = _read_optuna(source, study)
    backend = _target(storage)
    new_name = name if name is not None else study
    directions = [d.name.lower() for d in original.directions]
    try:
        created = create_study(new_name, storage=backend, directions=directions)
    except DuplicateStudyError:
        raise DuplicateStudyError(
            f"a study named {new_name!r} already exists in {redact_url(backend.url)}: import "
            "under another name (--name NEW / name=...) or delete that study first"
        ) from None
    try:
        for key, value in original.user_attrs.items():
            created.set_user_attr(key, value)
        study_id = backend.get_study(new_name).id
        for trial in trials:
            write_trial(backend, study_id, trial)
    except BaseException:
        backend.delete_study(new_name)  # never leave half a study behind
        raise
    return new_name


# -- tuneful -> Optuna -------------------------------------------------------------------------
def _when(meta: Mapping[str, Any], key: str, seconds: float | None) -> datetime | None:
    text = meta.get(key)
    if text is not None:
        return datetime.fromisoformat(text)
    return None if seconds is None else datetime.fromtimestamp(seconds)


def _distributions(optuna: Any, record: TrialRecord, space: Space | None) -> dict[str, Any]:
    found = {}
    for name, value in record.params.items():
        spec = record.distributions.get(name)
        if spec is None and space is not None and name in space:
            spec = space[name].to_dict()
        if spec is None:
            spec = {"type": "fixed", "value": value}
        kind, kwargs = distribution_args(name, spec, value)
        found[name] = getattr(optuna.distributions, kind)(**kwargs)
    return found


def _frozen(optuna: Any, record: TrialRecord, space: Space | None) -> Any:
    """The Optuna FrozenTrial of a tuneful trial."""
    meta = dict(record.system_attrs.get(META) or {})
    state = record.state.value
    values = None if record.values is None else list(record.values)
    if meta.get("state") == "RUNNING" or state == "RUNNING":
        state = "FAIL"  # a trial cannot be added to Optuna as RUNNING
    if values is None and "values" in meta and state == "PRUNED":
        values = [float(v) for v in meta["values"]]
    system_attrs = dict(meta.get("system_attrs") or {})
    for key, value in record.system_attrs.items():
        if key != META:
            system_attrs[_TUNEFUL_PREFIX + key] = value
    if record.constraints is not None and meta.get("constraint_names"):
        for key, value in zip(meta["constraint_names"], record.constraints, strict=False):
            system_attrs[f"{_CONSTRAINTS}:{key}"] = value  # Optuna 5's named constraints
    elif record.constraints is not None:
        system_attrs[_CONSTRAINTS] = list(record.constraints)  # what every Optuna reads
    if state == "FAIL" and record.error is not None:
        system_attrs["fail_reason"] = record.error
    curve = {int(s): float(v) for s, v in record.intermediate.items()}
    curve.update({int(s): float(v) for s, v in (meta.get("intermediate_nonfinite") or {}).items()})
    waiting = state == "WAITING"
    start = None
    if not waiting:
        start = _when(meta, "datetime_start", record.started_at or record.created_at)
    end = None if waiting else _when(meta, "datetime_complete", record.finished_at)
    if state in ("COMPLETE", "PRUNED", "FAIL") and end is None:
        end = start
    params, distributions = dict(record.params), _distributions(optuna, record, space)
    if waiting:  # Optuna runs a queued trial with its fixed_params
        system_attrs.setdefault("fixed_params", params)
        params, distributions = {}, {}
    return optuna.trial.FrozenTrial(
        number=record.number,
        state=getattr(optuna.trial.TrialState, state),
        value=None,
        values=values,
        datetime_start=start,
        datetime_complete=end,
        params=params,
        distributions=distributions,
        user_attrs=dict(record.user_attrs),
        system_attrs=system_attrs,
        intermediate_values=dict(sorted(curve.items())),
        trial_id=0,
    )


def export_study(
    study: str,
    to: str,
    *,
    storage: str | os.PathLike[str] | Storage | None = None,
    name: str | None = None,
) -> str:
    """Copy tuneful study ``study`` from ``storage`` into the Optuna storage ``to`` (a database
    URL, created when missing) as ``name`` (default: its own name): the reverse of
    :func:`import_study`, so that a study imported and exported comes back as it was.

    Returns:
        The name of the new Optuna study.

    Raises:
        StudyNotFoundError: no such tuneful study.
        DuplicateStudyError: the Optuna storage already has a study of that name.
        StorageError: ``to`` is a database that is not an Optuna storage.
        SpaceError: a parameter Optuna cannot store (e.g. a categorical choice that is a list).
    """
    source = load_study(study, storage=storage)
    _check_optuna_storage(to, must_exist=False)
    optuna = _optuna("tuneful export optuna")
    _quiet(optuna)
    new_name = name if name is not None else study
    if new_name in optuna.get_all_study_names(storage=to):
        raise DuplicateStudyError(
            f"the Optuna storage {redact_url(to)} already has a study named {new_name!r}: "
            "export under another name (--name NEW / name=...) or delete it there first"
        )
    space = source.space
    frozen = [_frozen(optuna, record, space) for record in source.trials]
    target = optuna.create_study(
        study_name=new_name, storage=to, directions=list(source.directions)
    )
    try:
        for key, value in source.user_attrs.items():
            target.set_user_attr(key, value)
        target.add_trials(frozen)
    except BaseException:
        optuna.delete_study(study_name=new_name, storage=to)
        raise
    return new_name
