"""The command objective: one subprocess per trial, parameters in its arguments and
environment, the metric read from what it prints.

Templating rules (for each word of the command, after a shell-like split; no shell runs):

- ``{name}`` is replaced by the value of parameter ``name`` (names may hold dots, dashes,
  ...; spaces around the name are ignored). ``{{`` and ``}}`` stand for literal braces.
- Values: floats as ``repr`` (full precision: ``0.001``, ``1e-05``), bools as ``true`` /
  ``false``, None as the empty string, everything else as ``str``.
- The words from one starting with ``[`` to one ending with ``]`` form a group, e.g.
  ``[--momentum {momentum}]``: it is left out when a parameter it names is inactive in the
  trial, and kept without its brackets otherwise. A group must name a parameter; groups do
  not nest. ``[[`` at the start and ``]]`` at the end of a word stand for literal brackets.
- A parameter used outside a group that is inactive in a trial fails that trial.
- The program ``python`` (or ``python3``) is the interpreter running tuneful, so the program
  sees the same packages; give a path to use another one.

Every parameter is also in the environment: ``TUNEFUL_PARAM_<NAME>`` (upper case, other
characters than letters and digits as ``_``; unset when inactive), ``TUNEFUL_PARAMS`` (all of
them as JSON), ``TUNEFUL_TRIAL_NUMBER`` and ``TUNEFUL_STUDY``. ``PYTHONUNBUFFERED=1`` is set
unless given, so that Python programs print as they go.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuneful.errors import (
    CommandError,
    CommandTimeoutError,
    MetricNotFoundError,
    MetricValueError,
    SpecError,
    did_you_mean,
)
from tuneful.execution.metrics import MISSING, MetricSpec, constraint_keys, metric_reason
from tuneful.execution.process import ProgramRun
from tuneful.space import Space
from tuneful.storage.urls import has_password
from tuneful.trial import Trial

__all__ = [
    "CommandObjective",
    "MetricSpec",
    "CommandError",
    "CommandTimeoutError",
    "MetricNotFoundError",
    "format_value",
    "param_env_name",
]

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")


def format_value(value: Any) -> str:
    """A parameter value as it appears in a command (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def param_env_name(name: str) -> str:
    """``TUNEFUL_PARAM_<NAME>``: upper case, other characters than letters and digits as _."""
    return "TUNEFUL_PARAM_" + re.sub(r"[^0-9A-Za-z]", "_", name).upper()


# -- templates -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Word:
    template: str
    names: tuple[str, ...]  # parameters it names
    group: int | None  # its bracket group, None outside groups


def _names_in(template: str) -> tuple[str, ...]:
    return tuple(m.group(1).strip() for m in _PLACEHOLDER.finditer(template) if m.group(1))


def _substitute(template: str, params: Mapping[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)[0]  # "{{" -> "{", "}}" -> "}"
        return format_value(params[match.group(1).strip()])

    return _PLACEHOLDER.sub(replace, template)


def _parse_words(words: Sequence[str]) -> list[_Word]:
    """Find the bracket groups of a command's words (see the module docstring)."""
    parsed: list[_Word] = []
    group: int | None = None
    n_groups, opened_by = 0, ""
    for word in words:
        text, opens, closes = word, False, False
        if text.startswith("[["):
            text = text[1:]
        elif text.startswith("["):
            if group is not None:
                raise SpecError(
                    f"command: bracket groups cannot nest ({word!r} inside the group opened by "
                    f"{opened_by!r}); write [[ for a literal ["
                )
            opens, text = True, text[1:]
            group, n_groups, opened_by = n_groups, n_groups + 1, word
        if text.endswith("]]"):
            text = text[:-1]
        elif text.endswith("]") and group is not None:
            closes, text = True, text[:-1]
        if text or not (opens or closes):  # a bare "[" or "]" is not a word
            parsed.append(_Word(text, _names_in(text), group))
        if closes:
            group = None
    if group is not None:
        raise SpecError(f"command: the bracket group opened by {opened_by!r} is never closed")
    for index in range(n_groups):
        members = [w.template for w in parsed if w.group == index]
        if not any(_names_in(text) for text in members):
            raise SpecError(
                f"command: the bracket group [{' '.join(members)}] names no parameter; write "
                "[[ and ]] for literal brackets"
            )
    if parsed and parsed[0].group is not None:
        raise SpecError("command: the program (first word) cannot be inside a bracket group")
    return parsed


# -- the objective ---------------------------------------------------------------------------
class CommandObjective:
    """Runs a program per trial and returns the metric it printed (see the module docstring).

    A non-zero exit code, a timeout or a metric never printed raises :class:`CommandError`,
    which fails the trial; the message ends with the last lines of stderr and stdout.

    Args:
        command: a command line (split like a shell would) or its words.
        metric: where the value is read (a :class:`MetricSpec` or its dict); a list gives
            one value per objective of a multi-objective study. Learning-curve points come
            from the first.
        constraints: JSON keys whose printed values are the trial's constraints (each
            satisfied when <= 0), as a list or the spec's ``{json_keys: [...]}``; read as a
            metric's ``json_key`` is, and given with ``trial.set_constraints``.
        space: when given, placeholders are checked against it up front.
        timeout: seconds before a trial's program (its whole process group) is killed.
        env: extra environment variables; values may hold placeholders.
        workdir: the program's working directory (default: the current one).
        base_dir: where relative paths in the command are found (default: workdir). When it
            differs from workdir, words naming a file in it are passed as absolute paths.
        kill_grace: seconds between SIGTERM and SIGKILL.

    Raises:
        SpecError: a malformed command or metric, a placeholder naming no parameter of
            ``space``, a program that cannot be found.

    Example:
        >>> import sys
        >>> objective = CommandObjective(
        ...     [sys.executable, "-c", "print({{'loss': {x} ** 2}})"],
        ...     metric={"json_key": "loss"}, space={"x": {"type": "float", "low": -2, "high": 2}})
        >>> objective.argv({"x": 0.5})[1:]
        ['-c', "print({'loss': 0.5 ** 2})"]
    """

    def __init__(
        self,
        command: str | Sequence[str],
        *,
        metric: MetricSpec | Mapping[str, Any] | Sequence[MetricSpec | Mapping[str, Any]],
        space: Space | Mapping[str, Any] | None = None,
        timeout: float | None = None,
        env: Mapping[str, Any] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        kill_grace: float = 5.0,
        constraints: Sequence[str] | Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(command, str):
            try:
                words = shlex.split(command)
            except ValueError as exc:
                raise SpecError(f"command {command!r} cannot be split into words: {exc}") from None
        elif isinstance(command, Sequence) and all(isinstance(w, str) for w in command):
            words = list(command)
        else:
            raise SpecError(f"command={command!r}: expected a string or a list of strings")
        if not words:
            raise SpecError("command is empty")
        several = isinstance(metric, Sequence) and not isinstance(metric, str)
        self.metrics = tuple(
            MetricSpec.from_dict(m)
            for m in (metric if several else [metric])  # type: ignore[union-attr]
        )
        if not self.metrics:
            raise SpecError("metric: the list of metrics is empty")
        if constraints is not None and not isinstance(constraints, Mapping):
            constraints = {"json_keys": list(constraints)}
        self.constraint_keys = () if constraints is None else constraint_keys(constraints)
        #: What each stdout line is read for: the metrics, then the constraints.
        self.readers = self.metrics + tuple(MetricSpec(json_key=k) for k in self.constraint_keys)
        for label, seconds in (("timeout", timeout), ("kill_grace", kill_grace)):
            number = isinstance(seconds, int | float) and not isinstance(seconds, bool)
            if seconds is not None and not (number and seconds > 0):
                raise SpecError(f"{label}={seconds!r}: expected a positive number of seconds")
        self.timeout = None if timeout is None else float(timeout)
        self.kill_grace = float(kill_grace)
        self.workdir = None if workdir is None else Path(workdir).resolve()
        if self.workdir is not None and not self.workdir.is_dir():
            raise SpecError(f"workdir {str(self.workdir)!r} is not an existing folder")
        self.base_dir = self.workdir if base_dir is None else Path(base_dir).resolve()
        if not isinstance(env, Mapping | None):
            raise SpecError(f"env={env!r}: expected a mapping NAME -> value")
        self.env = {str(k): format_value(v) for k, v in (env or {}).items()}
        self._words = _parse_words(words)
        self.space = (
            Space.from_dict(space)
            if isinstance(space, Mapping) and not isinstance(space, Space)
            else space
        )
        if self.space is not None:
            self._check_names(self.space)
        first = self._words[0]
        self._program = None if first.names else self._resolve(first.template)
        self._absolutize_files()
        self._metric_missing: dict[int, str] = {}

    # -- checks made once ----------------------------------------------------------------
    @property
    def placeholders(self) -> tuple[str, ...]:
        """Every parameter name the command and env use, in order of appearance."""
        names = [n for w in self._words for n in w.names]
        names += [n for value in self.env.values() for n in _names_in(value)]
        return tuple(dict.fromkeys(names))

    @property
    def conditional_outside_groups(self) -> tuple[str, ...]:
        """Conditional parameters used outside bracket groups: trials where one is inactive
        fail."""
        if self.space is None:
            return ()
        used = [n for w in self._words if w.group is None for n in w.names]
        used += [n for value in self.env.values() for n in _names_in(value)]
        return tuple(n for n in dict.fromkeys(used) if self.space[n].when)

    def _check_names(self, space: Space) -> None:
        for name in self.placeholders:
            if name not in space:
                raise SpecError(
                    f"command: placeholder {{{name}}} names no parameter of the space "
                    f"(parameters: {', '.join(space.names)}; write {{{{ and }}}} for literal "
                    f"braces){did_you_mean(name, space.names)}"
                )
        owners: dict[str, str] = {}
        for name in space.names:
            variable = param_env_name(name)
            if variable in owners:
                raise SpecError(
                    f"parameters {owners[variable]!r} and {name!r} would share the environment "
                    f"variable {variable}; rename one of them"
                )
            owners[variable] = name

    def _resolve(self, program: str) -> str:
        """The program's path; SpecError when it cannot be found."""
        if program in ("python", "python3"):
            return sys.executable
        base = self.base_dir or Path.cwd()
        if os.sep in program or (os.altsep is not None and os.altsep in program):
            path = Path(program).expanduser()
            path = path if path.is_absolute() else base / path
            if not path.is_file():
                raise SpecError(f"command: program {program!r} not found ({path} does not exist)")
            if not os.access(path, os.X_OK):
                raise SpecError(
                    f"command: program {program!r} is not executable (chmod +x {path}, or run "
                    "it with its interpreter, e.g. python script.py)"
                )
            return str(path)
        found = shutil.which(program, path=self.env.get("PATH", os.environ.get("PATH")))
        if found is None:
            local = (base / program).is_file()
            hint = f"; to run the file in {base}, write ./{program}" if local else ""
            raise SpecError(f"command: program {program!r} not found on PATH{hint}")
        return found

    def _absolutize_files(self) -> None:
        base = self.base_dir
        if base is None or base == (self.workdir or Path.cwd().resolve()):
            return
        for i, word in enumerate(self._words[1:], start=1):
            text = word.template
            if word.names or not text or text.startswith("-") or Path(text).is_absolute():
                continue
            if (base / text).is_file():
                escaped = str(base / text).replace("{", "{{").replace("}", "}}")
                self._words[i] = _Word(escaped, (), word.group)

    # -- one trial -----------------------------------------------------------------------
    def argv(self, params: Mapping[str, Any]) -> list[str]:
        """The command's words for these parameters (inactive parameters absent).

        Raises:
            CommandError: a parameter used outside a bracket group is inactive.
        """
        dropped = {w.group for w in self._words if any(n not in params for n in w.names)}
        words = []
        for word in self._words:
            if word.group is not None and word.group in dropped:
                continue
            for name in word.names:
                if name not in params:
                    raise CommandError(
                        f"parameter {name!r} is inactive in this trial but the command uses it "
                        f"outside a bracket group (in {word.template!r}); put the option in "
                        f"brackets, e.g. [--{name} {{{name}}}]"
                    )
            words.append(_substitute(word.template, params))
        if self._program is not None:
            words[0] = self._program
        else:
            try:
                words[0] = self._resolve(words[0])
            except SpecError as exc:
                raise CommandError(str(exc)) from None
        return words

    def environment(
        self,
        params: Mapping[str, Any],
        *,
        trial_number: int | None = None,
        study: str | None = None,
    ) -> dict[str, str]:
        """The program's environment: this process's (less a $TUNEFUL_STORAGE that holds a
        password), ``env``, and the TUNEFUL_* variables."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEFUL_PARAM")}
        if has_password(env.get("TUNEFUL_STORAGE", "")):  # the database password stays here
            del env["TUNEFUL_STORAGE"]
        for key, value in self.env.items():
            for name in _names_in(value):
                if name not in params:
                    raise CommandError(
                        f"parameter {name!r} is inactive in this trial but env {key} uses it"
                    )
            env[key] = _substitute(value, params)
        for name, value in params.items():
            env[param_env_name(name)] = format_value(value)
        env["TUNEFUL_PARAMS"] = json.dumps(dict(params))
        if trial_number is not None:
            env["TUNEFUL_TRIAL_NUMBER"] = str(trial_number)
        if study is not None:
            env["TUNEFUL_STUDY"] = study
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def metric_missing(self, number: int) -> str | None:
        """For a trial run in this process: one line saying so if its program exited 0 but
        never printed the metric, else None."""
        return self._metric_missing.get(number)

    def __call__(self, trial: Trial) -> float | tuple[float, ...]:
        params = trial.params
        argv = self.argv(params)
        study = getattr(trial, "study", None)
        env = self.environment(
            params, trial_number=trial.number, study=getattr(study, "name", None)
        )
        trial.set_user_attr("command", shlex.join(argv))
        run = ProgramRun(self, trial)
        returncode = run.execute(argv, env)
        trial.set_user_attr("exit_code", returncode)
        if returncode != 0:
            killed = ""
            if returncode < 0:
                with contextlib.suppress(ValueError):
                    killed = f" (killed by {signal.Signals(-returncode).name})"
            raise CommandError(
                f"command exited with code {returncode}{killed}{run.last_stderr_line()}"
                f"{run.tails()}"
            )
        count = len(self.metrics)
        values = [
            self._read(trial.number, run, metric, raw, "metric")
            for metric, raw in zip(self.metrics, run.last_values[:count], strict=True)
        ]
        if self.constraint_keys:
            told = zip(self.readers[count:], run.last_values[count:], strict=True)
            trial.set_constraints(
                [self._read(trial.number, run, c, raw, "constraint") for c, raw in told]
            )
        return values[0] if len(values) == 1 else tuple(values)

    def _read(self, number: int, run: ProgramRun, metric: MetricSpec, raw: Any, what: str) -> float:
        """The printed value of a metric or a constraint, as a finite float.

        Raises:
            MetricNotFoundError: the program never printed it.
            MetricValueError: what it printed is not a finite number.
        """
        if raw is MISSING:
            last = run.stdout_tail[-1][:200] if run.stdout_tail else ""
            summary = (
                f"the command finished (exit code 0) but never printed the {what} "
                f"{metric.describe()}"
            )
            self._metric_missing[number] = f"{summary} (last line of stdout: {last!r})"
            expected = (
                f'a JSON line such as {{"{metric.json_key}": 0.9}}'
                if metric.json_key is not None
                else f"a line matching {metric.regex!r}"
            )
            raise MetricNotFoundError(f"{summary}: expected {expected} on stdout{run.tails()}")
        value, reason = metric_reason(metric.describe(), raw, what)
        if value is None:
            raise MetricValueError(reason)
        return value
