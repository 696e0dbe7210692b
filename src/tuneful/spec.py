"""The run spec: a study of a program, in YAML. Read it, check all of it up front, build the
command objective. ``tuneful run`` reads it from a file and stores it with the study;
``tuneful worker`` reads it back from there to join the study.

Example spec::

    name: mlp-digits
    command: python train.py --lr {lr} --layers {layers} [--momentum {momentum}]
    space:
      lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
      layers: {type: int, low: 1, high: 8}
      optimizer: {type: categorical, choices: [adam, sgd]}
      momentum: {type: float, low: 0.0, high: 0.99, when: {optimizer: sgd}}
    metric: {json_key: val_acc}
    direction: maximize
    n_trials: 50

Relative paths (the program, files named in the command, ``workdir``, an SQLite
``storage``) are relative to the spec's folder.

This module sits beside the study: it imports the space, the command objective, the optimizer
and scheduler registries (to check their names), ``errors`` and ``_yaml``; never a face.
"""

from __future__ import annotations

import os
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tuneful._validation import is_int, is_real
from tuneful._yaml import read_yaml
from tuneful.errors import OptimizerError, SchedulerError, SpaceError, SpecError, did_you_mean
from tuneful.execution.command import CommandObjective, MetricSpec, param_env_name
from tuneful.execution.metrics import constraint_keys
from tuneful.optimizers import check_supported, make_optimizer
from tuneful.schedulers import make_scheduler
from tuneful.space import Space

__all__ = ["SPEC_KEYS", "RunSpec", "load_spec", "parse_spec", "code_placeholders"]

#: Every key a spec may hold, with what it means.
SPEC_KEYS: dict[str, str] = {
    "name": "the study's name (required)",
    "command": "the program to run per trial, with {param} placeholders (required)",
    "space": "the search space, parameter name -> {type: ..., ...} (required)",
    "metric": "{json_key: KEY} or {regex: PATTERN}, or a list of them (required)",
    "direction": "minimize (default) or maximize",
    "directions": "one direction per metric, for several metrics",
    "constraints": "{json_keys: [KEY, ...]}: printed values that must be <= 0 (feasible)",
    "n_trials": "the number of trials the study should reach",
    "n_jobs": "trials run at once (worker processes; default 1)",
    "timeout": "seconds after which no new trial starts",
    "trial_timeout": "seconds after which a trial's program is killed",
    "storage": "storage URL (default ./tuneful.db or $TUNEFUL_STORAGE)",
    "optimizer": "optimizer name (auto, random, sobol, grid) or {name: ..., settings: {...}}",
    "scheduler": "early stopping of trials that print a curve: auto (default), none, median, "
    "asha, hyperband, curve, or {name: ..., settings: {...}}",
    "seed": "the study's random seed (an int)",
    "retries": "times a trial whose worker died is tried again (default 0)",
    "env": "extra environment variables for the program, NAME -> value",
    "workdir": "the program's working directory (default: the spec's folder)",
}
_REQUIRED = ("name", "command", "space", "metric")


@dataclass(frozen=True)
class RunSpec:
    """A checked spec. ``storage`` is None when the spec names none."""

    path: Path
    name: str
    space: Space
    objective: CommandObjective
    directions: tuple[str, ...]
    n_trials: int | None = None
    n_jobs: int = 1
    timeout: float | None = None
    storage: str | None = None
    optimizer: str | dict[str, Any] | None = None
    seed: int | None = None
    retries: int = 0
    scheduler: str | dict[str, Any] | None = None
    #: The spec as read (YAML mapping), stored with the study for ``tuneful worker``.
    data: Mapping[str, Any] | None = None

    @property
    def constraint_names(self) -> list[str]:
        """The JSON keys of the spec's constraints (empty without constraints)."""
        return list(self.objective.constraint_keys)

    @property
    def metric_names(self) -> list[str]:
        """How each metric is named in messages: its JSON key, or "value" for a regex."""
        return [m.json_key or "value" for m in self.objective.metrics]


def load_spec(path: str | Path) -> RunSpec:
    """Read and check a spec file.

    Raises:
        SpecError: the file cannot be read, is not YAML, or any part of it is invalid; the
            message names the key and what was expected.
    """
    spec_path = Path(path)
    try:
        text = spec_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file") from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        data = read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"invalid YAML{where}: {problem}") from None
    return parse_spec(data, base=spec_path.resolve().parent, path=spec_path)


def _positive(data: Mapping[str, Any], key: str, kind: type, default: Any = None) -> Any:
    value = data.get(key, default)
    if value is None:
        return default
    ok = is_real(value) if kind is float else is_int(value)
    if not ok or not value > 0:
        what = "a positive integer" if kind is int else "a positive number of seconds"
        raise SpecError(f"{key}: {value!r} is not {what}")
    return kind(value)


def _directions(data: Mapping[str, Any], n_metrics: int) -> tuple[str, ...]:
    if "direction" in data and "directions" in data:
        raise SpecError("give direction or directions, not both")
    raw = data["directions"] if "directions" in data else [data.get("direction", "minimize")]
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"directions: expected a list like [maximize, minimize], got {raw!r}")
    for item in raw:
        if item not in ("minimize", "maximize"):
            key = "directions" if "directions" in data else "direction"
            hint = did_you_mean(str(item), ["minimize", "maximize"])
            raise SpecError(f"{key}: {item!r} is not 'minimize' or 'maximize'{hint}")
    if len(raw) != n_metrics:
        raise SpecError(
            f"{len(raw)} direction(s) for {n_metrics} metric(s): give one direction per metric"
        )
    return tuple(raw)


def _metrics(value: Any) -> list[MetricSpec]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise SpecError("metric: the list is empty")
    return [MetricSpec.from_dict(item) for item in items]


def _constraints(
    data: Mapping[str, Any], directions: Sequence[str], space: Space
) -> tuple[str, ...]:
    """The spec's constraint keys (empty without ``constraints``), checked, and its optimizer
    checked to take them into account (``auto`` when the spec names none)."""
    if data.get("constraints") is None:
        return ()
    keys = constraint_keys(data["constraints"])
    optimizer = data.get("optimizer") or "auto"
    try:
        check_supported(
            make_optimizer(optimizer, seed=0), directions=directions, space=space, constraints=True
        )
    except OptimizerError as exc:
        named = "" if data.get("optimizer") else " (the default)"
        raise SpecError(f"constraints with optimizer{named}: {exc}") from None
    return keys


def _env(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"env: expected a mapping NAME -> value, got {value!r}")
    for key, item in value.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise SpecError(f"env: {key!r} is not a valid variable name")
        if not (item is None or isinstance(item, str | int | float | bool)):
            raise SpecError(f"env {key}: {item!r} is not a string or a number")
    return dict(value)


# Programs whose -c (or -e) argument is code: a value templated into it is run as code.
_INTERPRETERS = {
    **dict.fromkeys(("sh", "bash", "zsh", "dash", "ksh", "ash", "fish"), "c"),
    **dict.fromkeys(("python", "python3", "pwsh"), "c"),
    **dict.fromkeys(("perl", "ruby", "node"), "e"),
}
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


def code_placeholders(words: Sequence[str], names: Sequence[str]) -> list[tuple[str, str]]:
    """(program, parameter) for each parameter templated into code a program runs: the
    script of ``sh -c SCRIPT``, ``bash -c``, ``python -c``, ``perl -e`` and the like."""
    found: list[tuple[str, str]] = []
    for index, word in enumerate(words):
        program = Path(word).name
        flag = _INTERPRETERS.get(program)
        if flag is None:
            continue
        for option_index in range(index + 1, len(words) - 1):
            option = words[option_index]
            if not option.startswith("-") or option.startswith("--"):
                break
            if flag in option[1:]:
                script = words[option_index + 1]
                used = [m.group(1).strip() for m in _PLACEHOLDER.finditer(script) if m.group(1)]
                found += [(program, name) for name in dict.fromkeys(used) if name in names]
                break
    return found


def _warn_code_placeholders(command: str | list[str], names: Sequence[str]) -> None:
    try:
        words = shlex.split(command) if isinstance(command, str) else command
    except ValueError:
        return  # CommandObjective says what is wrong with it
    for program, name in code_placeholders(words, names):
        warnings.warn(
            f"command: {{{name}}} is inside the code that `{program}` runs, so its value is run "
            f"as code, not passed as data; give it as a word of its own (--{name} {{{name}}}) "
            f"or read ${param_env_name(name)} in the script",
            UserWarning,
            stacklevel=4,
        )


def _strategies(data: Mapping[str, Any]) -> tuple[Any, Any]:
    """The spec's optimizer and scheduler as given (None when not), checked."""
    optimizer = data.get("optimizer")
    if optimizer is not None:
        try:
            make_optimizer(optimizer, seed=0)
        except OptimizerError as exc:
            raise SpecError(f"optimizer: {exc}") from None
    scheduler = data.get("scheduler")
    if scheduler is not None:
        try:
            make_scheduler(scheduler)
        except SchedulerError as exc:
            raise SpecError(f"scheduler: {exc}") from None
    return optimizer, scheduler


_SQLITE = "sqlite:///"
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


def _beside(url: str, base: Path) -> str:
    """The storage URL with a relative SQLite path taken relative to ``base``.

    >>> _beside("sqlite:///runs/t.db?timeout=5", Path("/specs"))
    'sqlite:////specs/runs/t.db?timeout=5'
    >>> _beside("t.db", Path("/specs")), _beside("memory://", Path("/specs"))
    ('sqlite:////specs/t.db', 'memory://')
    """
    if url.startswith(_SQLITE):
        path, _, query = url[len(_SQLITE) :].partition("?")
        if path in ("", ":memory:"):
            return url
    elif "://" not in url and url.endswith(_SQLITE_SUFFIXES):
        path, query = url, ""
    else:
        return url
    if os.path.isabs(path):
        return url
    return f"{_SQLITE}{(base / path).resolve()}" + (f"?{query}" if query else "")


def _workdir(data: Mapping[str, Any], base: Path) -> Path:
    if data.get("workdir") is None:
        return base
    if not isinstance(data["workdir"], str):
        raise SpecError(f"workdir: {data['workdir']!r} is not a path")
    workdir = (base / Path(data["workdir"]).expanduser()).resolve()
    if not workdir.is_dir():
        raise SpecError(f"workdir: {str(workdir)!r} is not an existing folder")
    return workdir


def _command(data: Mapping[str, Any], space: Space) -> str | list[str]:
    command = data["command"]
    if not isinstance(command, str) and not (
        isinstance(command, list) and all(isinstance(word, str | int | float) for word in command)
    ):
        raise SpecError(f"command: expected a string or a list of words, got {command!r}")
    if isinstance(command, list):
        command = [str(word) for word in command]
    _warn_code_placeholders(command, list(space.names))
    return command


def parse_spec(data: Any, *, base: Path, path: Path | None = None) -> RunSpec:
    """Check a spec already read from YAML; ``base`` is the folder relative paths start at.

    Raises:
        SpecError: as :func:`load_spec`.
    """
    if data is None:
        raise SpecError("the spec is empty")
    if not isinstance(data, Mapping):
        raise SpecError(f"expected a mapping of keys (name, command, ...), got {data!r}")
    for key in data:
        if key not in SPEC_KEYS:
            hint = did_you_mean(str(key), list(SPEC_KEYS))
            raise SpecError(f"unknown key {key!r}{hint} (keys: {', '.join(SPEC_KEYS)})")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise SpecError(f"missing required key(s): {', '.join(missing)}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"name: expected a non-empty string, got {name!r}")
    if not isinstance(data["space"], Mapping) or not data["space"]:
        raise SpecError("space: expected a mapping of parameters, e.g. lr: {type: float, ...}")
    try:
        space = Space.from_dict(data["space"])
    except SpaceError as exc:
        raise SpecError(f"space: {exc}") from None
    metrics = _metrics(data["metric"])
    directions = _directions(data, len(metrics))
    constraints = _constraints(data, directions, space)
    n_trials = _positive(data, "n_trials", int)
    n_jobs = _positive(data, "n_jobs", int, 1)
    timeout = _positive(data, "timeout", float)
    trial_timeout = _positive(data, "trial_timeout", float)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SpecError(f"seed: {seed!r} is not an integer")
    retries = data.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SpecError(f"retries: {retries!r} is not a non-negative integer")
    optimizer, scheduler = _strategies(data)
    storage = data.get("storage")
    if storage is not None:
        if not isinstance(storage, str) or not storage:
            raise SpecError(f"storage: {storage!r} is not a storage URL")
        storage = _beside(storage, base)
    workdir = _workdir(data, base)
    objective = CommandObjective(
        _command(data, space),
        metric=metrics,
        space=space,
        timeout=trial_timeout,
        env=_env(data.get("env")),
        workdir=workdir,
        base_dir=base,
        constraints=constraints or None,
    )
    return RunSpec(
        path=path if path is not None else base,
        name=name,
        space=space,
        objective=objective,
        directions=directions,
        n_trials=n_trials,
        n_jobs=n_jobs,
        timeout=timeout,
        storage=storage,
        optimizer=optimizer,
        seed=seed,
        retries=retries,
        scheduler=scheduler,
        data=dict(data),
    )
