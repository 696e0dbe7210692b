"""Errors a user can cause. Each names what was wrong, the value, and what was expected.

Every class subclasses ``ValueError`` or ``RuntimeError`` so callers that only know the
builtins still catch them; the command line prints them without a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "TunefulError",
    "SpaceError",
    "StudyError",
    "StudyNotFoundError",
    "DuplicateStudyError",
    "TrialError",
    "StorageError",
    "SchemaVersionError",
    "SpecError",
    "OptimizerError",
    "SchedulerError",
    "SearchExhausted",
    "CommandError",
    "CommandTimeoutError",
    "MetricNotFoundError",
    "MissingDependencyError",
    "CorruptDataWarning",
    "RepeatedFailureError",
    "MetricValueError",
    "VersionChangedWarning",
    "did_you_mean",
]


class TunefulError(Exception):
    """Base class of every error tuneful raises on purpose."""


class SpaceError(TunefulError, ValueError):
    """An invalid search space, parameter definition or configuration."""


class StudyError(TunefulError, ValueError):
    """A study was used in a way that cannot work (wrong direction, bad value, ...)."""


class StudyNotFoundError(StudyError, LookupError):
    """No study of that name exists in the storage."""


class DuplicateStudyError(StudyError):
    """A study of that name already exists in the storage."""


class TrialError(TunefulError, ValueError):
    """A trial was told, reported or suggested in a way its state does not allow."""


class StorageError(TunefulError, RuntimeError):
    """The storage cannot be opened, written or read."""


class SchemaVersionError(StorageError):
    """The storage was written by a schema version this release cannot read."""


class SpecError(TunefulError, ValueError):
    """A command-line spec (YAML) is malformed."""


class OptimizerError(TunefulError, ValueError):
    """An unknown optimizer name or invalid optimizer settings."""


class SchedulerError(TunefulError, ValueError):
    """A scheduler name or setting is invalid (names the setting and the value)."""


class SearchExhausted(TunefulError, RuntimeError):
    """The optimizer has nothing left to propose (every grid point was tried)."""


class TrialLimitReached(SearchExhausted):
    """The study already holds the number of trials it was asked to reach
    (``optimize(max_trials=...)``), counted over every worker on its storage."""


class CommandError(TunefulError, RuntimeError):
    """A trial's command failed: it could not start, exited non-zero or printed no metric."""


class CommandTimeoutError(CommandError):
    """A trial's command ran past its timeout and was killed."""


class MetricNotFoundError(CommandError):
    """A trial's command finished without printing its metric."""


class MissingDependencyError(TunefulError, ImportError):
    """An optional package that this feature needs is not installed."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for a close option, else ``""`` (for error messages)."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class CorruptDataWarning(UserWarning):
    """Records in a storage that cannot be read were skipped (the message names them);
    the rest of the study was read."""


class RepeatedFailureError(TunefulError, RuntimeError):
    """The first trials of a run all failed with the same error and none completed, so the
    run stopped instead of spending its budget on a broken objective (``fail_fast``)."""


class MetricValueError(CommandError):
    """A trial's program printed its metric, but as something that is not a finite number
    (``nan``, ``inf``, ``1e999``, an integer too large for a float). The trial fails with this
    one-line reason; no traceback is stored, since none would say more."""


class VersionChangedWarning(UserWarning):
    """A stored optimizer or scheduler description names another version of its algorithm
    than this release's: the component is rebuilt, but a resumed study may propose or stop
    trials differently from the one that began it. The message names the component and both
    versions; passing the component explicitly (``load_study(..., optimizer=...)``) silences
    it."""
