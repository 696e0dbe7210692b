"""Hydra sweeper: ``python train.py --multirun hydra/sweeper=tuneful`` tunes with tuneful.

The sweeper (registered by the ``hydra_plugins.tuneful_sweeper`` plugin, which holds only
the registration) asks the study for a batch of ``n_jobs`` trials, turns each trial's
parameters into Hydra overrides, runs the batch through the configured launcher (basic,
joblib, submitit, ...) and tells the study what each job returned. Everything here runs in
the process that sweeps; only :func:`current_trial` runs inside a job.

The search space comes from ``hydra.sweeper.params`` and from sweep overrides on the command
line (the command line wins). Each entry is either Hydra's override grammar, as Hydra's
Optuna sweeper reads it::

    lr: tag(log, interval(1e-4, 1e-1))   # Float(1e-4, 1e-1, log=True)
    units: tag(int, interval(16, 256))   # Int(16, 256)
    layers: range(1, 4)                  # Int(1, 3): Hydra's range excludes its end
    act: choice(relu, tanh)              # Categorical(["relu", "tanh"])

or tuneful's own spec shape (:meth:`tuneful.Space.from_dict`), conditions included::

    momentum: {type: float, low: 0.0, high: 0.99, when: {opt: sgd}}

A plain value (``epochs: 3``) is not searched: every job gets it as an override.

Jobs return their objective: a number, or a sequence of numbers for several objectives. A
job that raises fails its trial (the error is stored) and the sweep goes on; a job that
raises :class:`tuneful.Pruned` (see :func:`current_trial`) is recorded as pruned.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuneful._extras import require
from tuneful._lifecycle import create_study, load_study
from tuneful.errors import RepeatedFailureError, SpaceError, StudyError, did_you_mean
from tuneful.execution.failfast import FailFast, check_fail_fast
from tuneful.records import TrialState
from tuneful.space import Categorical, Float, Int, Parameter, Space
from tuneful.storage import redact_url
from tuneful.study import Study
from tuneful.trial import Pruned, Trial

__all__ = [
    "SWEEPER_OPTIONS",
    "SweepSpace",
    "TunefulSweep",
    "current_trial",
    "override_value",
    "parameter_from_override",
    "sweep_space",
]

#: The sweeper's options (``hydra.sweeper.<option>``), with what each means.
SWEEPER_OPTIONS: dict[str, str] = {
    "params": "the search space: name -> override grammar string, spec mapping or fixed value",
    "n_trials": "trials this sweep runs (default 20)",
    "n_jobs": "trials launched together, one launcher call per batch (default 1)",
    "direction": "minimize (default) or maximize, or a list of them for several objectives",
    "directions": "one direction per objective (the same as a list given as direction)",
    "storage": "storage URL (default ./tuneful.db or $TUNEFUL_STORAGE)",
    "study_name": "the study's name (default: the Hydra job's name); an existing study of "
    "that name is continued",
    "optimizer": "optimizer name (auto, random, tpe, ...) or {name: ..., settings: {...}}",
    "scheduler": "early stopping for jobs that report with current_trial(): auto (default), "
    "none, median, asha, hyperband, ...",
    "seed": "the study's random seed",
    "fail_fast": "stop once this many trials failed with the same error and none completed "
    "(default 5; false: never)",
}

# Environment variables through which a job finds its trial (see current_trial).
_STUDY_ENV = "TUNEFUL_HYDRA_STUDY"
_TRIAL_ENV = "TUNEFUL_HYDRA_TRIAL"
_STORAGE_ENV = "TUNEFUL_HYDRA_STORAGE"

_log = logging.getLogger(__name__)
_ACTIVE: dict[str, Study] = {}  # the studies being swept in this process, by name
_TAGS = ("log", "int")
_BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-./]*")
_QUOTE_ESCAPES = re.compile(r"(\\*)('|$)")
_KEYWORDS = {"true", "false", "null", "inf", "nan"}


def _feature() -> str:
    return "the tuneful Hydra sweeper"


# -- the search space ------------------------------------------------------------------------
def _override_parser() -> Any:
    parser_module = require("hydra.core.override_parser.overrides_parser", "hydra", _feature())
    return parser_module.OverridesParser.create()


def _numbers(name: str, what: str, *values: Any) -> None:
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpaceError(f"sweep parameter {name!r}: {what} bound {value!r} is not a number")


def _from_interval(name: str, sweep: Any, tags: set[str]) -> Parameter:
    _numbers(name, "interval", sweep.start, sweep.end)
    log = "log" in tags
    if "int" in tags:
        low, high = float(sweep.start), float(sweep.end)
        if not (low.is_integer() and high.is_integer()):
            raise SpaceError(
                f"sweep parameter {name!r}: tag(int, interval({sweep.start}, {sweep.end})) "
                "needs whole-number bounds"
            )
        return Int(int(low), int(high), log=log)
    return Float(float(sweep.start), float(sweep.end), log=log)


def _from_range(name: str, sweep: Any, tags: set[str]) -> Parameter:
    _numbers(name, "range", sweep.start, sweep.stop, sweep.step)
    if "log" in tags:
        raise SpaceError(
            f"sweep parameter {name!r}: tag(log, range(...)) is not a log scale; use "
            "tag(log, interval(low, high)) (add the tag int for integers)"
        )
    values = list(sweep.range())
    if len(values) < 2:
        raise SpaceError(
            f"sweep parameter {name!r}: range({sweep.start}, {sweep.stop}, {sweep.step}) holds "
            f"{len(values)} value(s); Hydra's range excludes its end, so give at least two"
        )
    start, step = sweep.start, sweep.step
    if all(isinstance(v, int) for v in (start, sweep.stop, step)):
        return Int(int(min(values)), int(max(values)), step=abs(int(step)))
    last = float(start) + (len(values) - 1) * float(step)  # FloatRange yields Decimals
    low, high = sorted((float(start), last))
    return Float(low, high, step=abs(float(step)))


def _from_choice(name: str, sweep: Any) -> Parameter:
    for value in sweep.list:
        if isinstance(value, list | dict | Mapping) or hasattr(value, "list"):
            raise SpaceError(
                f"sweep parameter {name!r}: choice value {value!r} is not a scalar (a string, "
                "number or bool); a list or mapping cannot be a categorical choice"
            )
    return Categorical(list(sweep.list))


def parameter_from_override(override: Any) -> Parameter:
    """The tuneful parameter for one parsed Hydra sweep override (``interval``, ``range``,
    ``choice`` or a simple ``a,b,c`` list, with the tags ``log`` and ``int``).

    Raises:
        SpaceError: a sweep tuneful cannot search (``glob``, a tag other than log/int, a
            choice of lists), or bounds the parameter refuses; the message names it.
    """
    name = str(override.key_or_group)
    sweep = override.value()
    tags = set(getattr(sweep, "tags", set()))
    unknown = sorted(tags - set(_TAGS))
    if unknown:
        raise SpaceError(
            f"sweep parameter {name!r}: unknown tag {unknown[0]!r} in {override.input_line!r} "
            f"(tags the sweeper reads: {', '.join(_TAGS)})"
        )
    kind = type(sweep).__name__
    try:
        if kind == "IntervalSweep":
            return _from_interval(name, sweep, tags)
        if kind == "RangeSweep":
            return _from_range(name, sweep, tags)
        if kind == "ChoiceSweep":
            if tags:
                raise SpaceError(
                    f"sweep parameter {name!r}: tag(s) {sorted(tags)} on a choice mean nothing"
                )
            return _from_choice(name, sweep)
    except SpaceError as exc:
        message = str(exc)
        if message.startswith("sweep parameter"):
            raise
        raise SpaceError(f"sweep parameter {name!r} ({override.input_line!r}): {message}") from None
    raise SpaceError(
        f"sweep parameter {name!r}: {override.input_line!r} is a {kind} sweep, which tuneful "
        "cannot search; use interval(low, high), range(start, stop[, step]) or choice(a, b, ...)"
    )


@dataclass(frozen=True)
class SweepSpace:
    """What the sweep searches and what every job gets as it is.

    ``keys`` holds the override key of each parameter (``+name`` when the command line added
    it); ``fixed`` the overrides passed unchanged to every job.
    """

    space: Space
    keys: dict[str, str] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()


def _config_entry(parser: Any, name: str, entry: Any) -> tuple[Parameter | None, str | None]:
    """A ``hydra.sweeper.params`` entry as (parameter, None) or (None, fixed override)."""
    if isinstance(entry, Mapping):
        try:
            return Parameter.from_dict(dict(entry)), None
        except SpaceError as exc:
            raise SpaceError(f"hydra.sweeper.params.{name}: {exc}") from None
    if isinstance(entry, str):
        line = f"{name}={entry}"
        try:
            (override,) = parser.parse_overrides([line])
        except Exception as exc:  # Hydra's OverrideParseException and friends
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SpaceError(
                f"hydra.sweeper.params.{name}: cannot parse {entry!r}: {first}"
            ) from None
        if override.is_sweep_override():
            return parameter_from_override(override), None
        return None, line
    if entry is None or isinstance(entry, bool | int | float):
        return None, f"{name}={override_value(entry)}"
    raise SpaceError(
        f"hydra.sweeper.params.{name}: {entry!r} is not a sweep (e.g. 'interval(0, 1)'), a "
        "spec mapping ({type: float, low: 0, high: 1}) or a plain value"
    )


def sweep_space(params: Mapping[str, Any] | None, arguments: Sequence[str]) -> SweepSpace:
    """The space from ``hydra.sweeper.params`` and the command-line ``arguments``.

    A sweep on the command line (``lr=interval(0.01, 0.1)``) replaces the entry of the same
    name in ``params``; a plain command-line value (``epochs=3``) fixes it.

    Raises:
        SpaceError: an entry cannot be parsed or searched, or nothing is searched.
    """
    parser = _override_parser()
    parameters: dict[str, Parameter] = {}
    keys: dict[str, str] = {}
    fixed: dict[str, str] = {}
    for name, entry in (params or {}).items():
        parameter, line = _config_entry(parser, str(name), entry)
        if parameter is not None:
            parameters[str(name)], keys[str(name)] = parameter, str(name)
        elif line is not None:
            fixed[str(name)] = line
    try:
        overrides = parser.parse_overrides(list(arguments))
    except Exception as exc:
        raise SpaceError(f"command-line overrides: {str(exc).splitlines()[0]}") from None
    for override in overrides:
        name = str(override.key_or_group)
        parameters.pop(name, None), keys.pop(name, None), fixed.pop(name, None)
        if override.is_sweep_override():
            parameters[name] = parameter_from_override(override)
            keys[name] = str(override.get_key_element())
        else:
            fixed[name] = str(override.input_line)
    if not parameters:
        raise SpaceError(
            "the tuneful sweeper has nothing to search: give hydra.sweeper.params (e.g. lr: "
            "'tag(log, interval(1e-4, 1e-1))') or a sweep override such as lr='interval(0, 1)'"
        )
    try:
        space = Space(parameters)
    except SpaceError as exc:
        raise SpaceError(f"hydra.sweeper.params: {exc}") from None
    return SweepSpace(space=space, keys=keys, fixed=tuple(fixed.values()))


def override_value(value: Any) -> str:
    """``value`` written so that Hydra's override parser reads it back as the same value.

    >>> override_value(0.001), override_value("relu"), override_value("1"), override_value(None)
    ('0.001', 'relu', "'1'", 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if _BARE.fullmatch(text) and text.lower() not in _KEYWORDS:
        return text
    # Hydra's quoted strings: a backslash is literal unless it precedes a quote (or the end).
    return "'" + _QUOTE_ESCAPES.sub(_escape_quote, text) + "'"


def _escape_quote(match: re.Match[str]) -> str:
    return match.group(1) * 2 + ("\\'" if match.group(2) else "")


# -- the sweep -------------------------------------------------------------------------------
def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StudyError(f"hydra.sweeper.{key}={value!r}: expected a positive integer")
    return value


def _directions(direction: Any, directions: Any) -> list[str]:
    if direction is not None and directions is not None:
        raise StudyError("hydra.sweeper: give direction or directions, not both")
    key = "direction" if directions is None else "directions"
    chosen = directions if directions is not None else direction
    chosen = "minimize" if chosen is None else chosen
    given = [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(given, Sequence) or not given:
        raise StudyError(
            f"hydra.sweeper.{key}={chosen!r}: expected minimize, maximize or a list of "
            "them (one per objective)"
        )
    for item in given:
        if item not in ("minimize", "maximize"):
            hint = did_you_mean(str(item), ["minimize", "maximize"])
            raise StudyError(f"hydra.sweeper.{key}: {item!r} is not 'minimize' or 'maximize'{hint}")
    return [str(item) for item in given]


def _absolute_storage(storage: str | None) -> str | None:
    """``storage`` with a relative SQLite path made absolute, so that jobs that change their
    working directory (``hydra.job.chdir``) open the same file."""
    if storage is None:
        storage = os.environ.get("TUNEFUL_STORAGE")
    if storage is None:
        return f"sqlite:///{Path('tuneful.db').resolve()}"
    prefix = "sqlite:///"
    if storage.startswith(prefix):
        path, _, query = storage[len(prefix) :].partition("?")
        if path and path != ":memory:" and not os.path.isabs(path):
            return f"{prefix}{Path(path).resolve()}" + (f"?{query}" if query else "")
    elif "://" not in storage and storage.endswith((".db", ".sqlite", ".sqlite3")):
        return f"{prefix}{Path(storage).resolve()}"
    return storage


class TunefulSweep:
    """The sweeper's logic, apart from Hydra's plugin class: checks the options when built,
    then :meth:`run` tunes through a launcher. Options as in :data:`SWEEPER_OPTIONS`.

    Raises:
        StudyError: an option is invalid (the message names ``hydra.sweeper.<option>``).
    """

    def __init__(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        n_trials: int = 20,
        n_jobs: int = 1,
        direction: str | Sequence[str] | None = None,
        directions: Sequence[str] | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        optimizer: str | Mapping[str, Any] | None = None,
        scheduler: str | Mapping[str, Any] | None = None,
        seed: int | None = None,
        fail_fast: bool | int = True,
    ) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise StudyError(
                f"hydra.sweeper.params={params!r}: expected a mapping name -> search space"
            )
        self.params = dict(params or {})
        self.n_trials = _positive_int("n_trials", n_trials)
        self.n_jobs = _positive_int("n_jobs", n_jobs)
        self.directions = _directions(direction, directions)
        if storage is not None and (not isinstance(storage, str) or not storage):
            raise StudyError(f"hydra.sweeper.storage={storage!r}: expected a storage URL")
        self.storage = storage
        if study_name is not None and (not isinstance(study_name, str) or not study_name):
            raise StudyError(f"hydra.sweeper.study_name={study_name!r}: expected a name")
        self.study_name = study_name
        self.optimizer = dict(optimizer) if isinstance(optimizer, Mapping) else optimizer
        self.scheduler = dict(scheduler) if isinstance(scheduler, Mapping) else scheduler
        self.seed = seed
        try:
            self.fail_fast = check_fail_fast(fail_fast)
        except StudyError as exc:
            raise StudyError(f"hydra.sweeper.{exc}") from None

    def open_study(self, space: Space, job_name: str) -> Study:
        """Create the study, or continue the one of that name when its space and directions
        match (rerunning a sweep adds ``n_trials`` trials to it)."""
        return create_study(
            self.study_name or job_name,
            space=space,
            directions=self.directions,
            storage=_absolute_storage(self.storage),
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            seed=self.seed,
            load_if_exists=True,
        )

    def run(
        self,
        arguments: Sequence[str],
        *,
        launcher: Any,
        config: Any,
        validate: Any = None,
    ) -> Study:
        """Tune: ``n_trials`` trials in batches of ``n_jobs``, each batch one
        ``launcher.launch`` call; ``validate(batch)`` checks a batch's overrides first
        (Hydra's ``Sweeper.validate_batch_is_legal``). Returns the study.

        Raises:
            SpaceError: the space in ``params`` and ``arguments`` is invalid.
            RepeatedFailureError: ``fail_fast`` trials failed with one error, none completed.
        """
        searched = sweep_space(self.params, arguments)
        study = self.open_study(searched.space, str(config.hydra.job.name))
        watch = FailFast(self.fail_fast, first_number=len(study.trials))
        _ACTIVE[study.name] = study  # jobs run in this process find it (see current_trial)
        try:
            job_index = 0
            while job_index < self.n_trials:
                size = min(self.n_jobs, self.n_trials - job_index)
                trials = [study.ask() for _ in range(size)]
                returns = self._launch(study, searched, trials, launcher, validate, job_index)
                job_index += size
                for trial, job in zip(trials, returns, strict=True):
                    _check(watch, study, _tell(study, trial, job))
        finally:
            _ACTIVE.pop(study.name, None)
        _write_results(study, Path(str(config.hydra.sweep.dir)))
        return study

    def _launch(
        self,
        study: Study,
        searched: SweepSpace,
        trials: list[Trial],
        launcher: Any,
        validate: Any,
        job_index: int,
    ) -> Sequence[Any]:
        batch = [self._overrides(study, searched, trial) for trial in trials]
        try:
            if validate is not None:
                validate(batch)
            return launcher.launch(batch, initial_job_idx=job_index)
        except BaseException as exc:  # a bad override, Ctrl-C: no trial stays RUNNING
            for trial in trials:
                study.fail_trial(trial, f"the sweep stopped: {type(exc).__name__}: {exc}")
            raise

    def _overrides(self, study: Study, searched: SweepSpace, trial: Trial) -> list[str]:
        lines = list(searched.fixed)
        for name, value in trial.params.items():
            lines.append(f"{searched.keys[name]}={override_value(value)}")
        env = {_STUDY_ENV: study.name, _TRIAL_ENV: str(trial.number)}
        url = study.storage.url
        if redact_url(url) == url:  # never write a password into each job's overrides.yaml
            env[_STORAGE_ENV] = url
        lines += [f"++hydra.job.env_set.{key}={override_value(text)}" for key, text in env.items()]
        return lines


def _check(watch: FailFast, study: Study, record: Any) -> None:
    shown = record.values if record.state is TrialState.COMPLETE else ""
    _log.info("trial %d %s %s", record.number, record.state.value, shown or "")
    try:
        watch.check(study.engine, record)
    except RepeatedFailureError as exc:
        raise RepeatedFailureError(
            f"{exc}\nWith the Hydra sweeper: hydra.sweeper.fail_fast=false."
        ) from None


def _tell(study: Study, trial: Trial, job: Any) -> Any:
    """Record what a job returned: its value(s), PRUNED when it raised Pruned, FAIL when it
    raised anything else (Hydra's JobReturn raises the job's exception on access)."""
    try:
        result = job.return_value
    except Pruned:
        return study.tell(trial, state="PRUNED")
    except Exception as exc:  # the job's own exception, whatever it is
        return study.tell(trial, state="FAIL", error=f"{type(exc).__name__}: {exc}")
    if hasattr(result, "tolist") and callable(result.tolist):  # numpy arrays and scalars
        result = result.tolist()
    if isinstance(result, Sequence) and not isinstance(result, str):  # ListConfig too
        return study.tell(trial, values=list(result))
    return study.tell(trial, result)


def _write_results(study: Study, folder: Path) -> None:
    """``optimization_results.yaml`` in the sweep folder: the study and its best trial(s)."""
    import yaml

    completed = study.get_trials(states=[TrialState.COMPLETE])
    summary: dict[str, Any] = {"study": study.name, "storage": study.storage_url}
    if completed and len(study.directions) == 1:
        best = study.best_trial
        summary.update(best_trial=best.number, best_params=best.params, best_value=best.value)
    elif completed:
        summary["best_trials"] = [
            {"number": t.number, "params": t.params, "values": list(t.values or ())}
            for t in study.best_trials
        ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "optimization_results.yaml").write_text(yaml.safe_dump(summary, sort_keys=False))


# -- inside a job ----------------------------------------------------------------------------
def current_trial() -> Trial | None:
    """The trial this Hydra job runs, for reporting a learning curve so that the study's
    scheduler can stop it early; None outside a tuneful sweep.

    ``trial.report(step=, value=)`` raises :class:`tuneful.Pruned` when the scheduler stops
    the trial; let it propagate out of the task function and the sweeper records the trial
    as PRUNED with its curve. A job run by another process (joblib, submitit) opens the
    study from its storage, which must then be one that process can reach (SQLite,
    PostgreSQL, a journal file; not ``memory://``).

    Raises:
        StudyError: the job runs in another process and the study is in ``memory://``.

    Example (the task function of ``train.py``)::

        @hydra.main(config_path="conf", config_name="config", version_base=None)
        def train(cfg):
            trial = current_trial()
            for epoch in range(cfg.epochs):
                loss = fit_one_epoch(cfg)
                if trial is not None:
                    trial.report(step=epoch, value=loss)
            return loss
    """
    name, number = os.environ.get(_STUDY_ENV), os.environ.get(_TRIAL_ENV)
    if not name or not number:
        return None
    study = _ACTIVE.get(name)
    if study is None:  # a job in another process (joblib, submitit, ...)
        storage = os.environ.get(_STORAGE_ENV) or _configured_storage()
        if storage is not None and storage.startswith("memory://"):
            raise StudyError(
                f"current_trial(): study {name!r} is in memory:// storage, which this job's "
                "process cannot see; give hydra.sweeper.storage a file or database (e.g. "
                "sqlite:///tuneful.db) to report from jobs that run in other processes"
            )
        study = load_study(name, storage=storage)
    trial = study.engine.resume(int(number))
    trial.raise_when_stopped = True
    return trial


def _configured_storage() -> str | None:
    """``hydra.sweeper.storage`` of the running job (its URL holds a password, so the
    sweeper did not pass it on)."""
    core = require("hydra.core.hydra_config", "hydra", _feature())
    return _absolute_storage(core.HydraConfig.get().sweeper.get("storage"))
