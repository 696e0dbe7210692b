"""Frozen trial records, trial states and the read-only history optimizers receive."""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

__all__ = [
    "TrialState",
    "TrialRecord",
    "StudySummary",
    "History",
    "is_finite_number",
    "short_repr",
    "as_finite_float",
    "pareto_front",
    "feasibility_ranked",
]


class TrialState(str, enum.Enum):
    """Where a trial is in its life. ``WAITING`` trials were enqueued and not yet started."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def is_finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

    def __str__(self) -> str:
        return self.value


def _timestamp(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc)


@dataclass(frozen=True)
class TrialRecord:
    """One trial as the storage knows it. Immutable: a newer state is a newer record.

    Attributes:
        number: position of the trial in its study, unique and gap-free from 0.
        state: the trial's :class:`TrialState`.
        params: the configuration (inactive conditional parameters absent).
        values: objective values (one per direction) once COMPLETE, else None.
        intermediate: learning curve reported with ``trial.report`` (step -> value).
        user_attrs: attributes set with ``trial.set_user_attr``.
        system_attrs: bookkeeping tuneful keeps (retry links, optimizer used, ...).
        distributions: per-parameter definitions of define-by-run trials (spec dicts).
        worker: identifier of the process that ran the trial.
        started_at / finished_at: POSIX seconds.
        error: traceback or reason for FAIL trials.
        constraints: constraint values told with the trial (a value <= 0 is satisfied), or
            None when none were told.
    """

    number: int
    state: TrialState
    params: Mapping[str, Any] = field(default_factory=dict)
    values: tuple[float, ...] | None = None
    intermediate: Mapping[int, float] = field(default_factory=dict)
    user_attrs: Mapping[str, Any] = field(default_factory=dict)
    system_attrs: Mapping[str, Any] = field(default_factory=dict)
    distributions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    worker: str | None = None
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    constraints: tuple[float, ...] | None = None

    @property
    def feasible(self) -> bool:
        """Whether every constraint is satisfied (value <= 0); True when none were told."""
        return self.constraints is None or all(c <= 0.0 for c in self.constraints)

    @property
    def violation(self) -> float:
        """The total amount by which constraints are violated (0.0 when feasible)."""
        if self.constraints is None:
            return 0.0
        return float(sum(max(c, 0.0) for c in self.constraints))

    @property
    def value(self) -> float | None:
        """The single objective value (None unless COMPLETE). Multi-objective: use ``values``."""
        if self.values is None:
            return None
        if len(self.values) != 1:
            raise ValueError(
                f"trial {self.number} has {len(self.values)} values; use .values for "
                "multi-objective studies"
            )
        return self.values[0]

    @property
    def duration(self) -> float | None:
        """Seconds between start and finish, when both are known."""
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    @property
    def datetime_start(self) -> datetime | None:
        return _timestamp(self.started_at)

    @property
    def datetime_complete(self) -> datetime | None:
        return _timestamp(self.finished_at)

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate) if self.intermediate else None

    def to_row(self, n_objectives: int) -> dict[str, Any]:
        """A flat row for ``Study.to_dataframe``: value(s), params_*, user_attrs_*, ..."""
        row: dict[str, Any] = {"number": self.number, "state": self.state.value}
        if n_objectives == 1:
            row["value"] = self.values[0] if self.values else None
        else:
            for i in range(n_objectives):
                row[f"values_{i}"] = self.values[i] if self.values else None
        for prefix, mapping in (
            ("params", self.params),
            ("user_attrs", self.user_attrs),
            ("system_attrs", self.system_attrs),
        ):
            row.update({f"{prefix}_{key}": value for key, value in mapping.items()})
        if self.constraints is not None:
            row.update({f"constraints_{i}": c for i, c in enumerate(self.constraints)})
            row["feasible"] = self.feasible
        row["datetime_start"] = self.datetime_start
        row["datetime_complete"] = self.datetime_complete
        row["duration"] = self.duration
        row["worker"] = self.worker
        row["error"] = self.error
        return row

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (used by exports)."""
        return {
            "number": self.number,
            "state": self.state.value,
            "params": dict(self.params),
            "values": None if self.values is None else list(self.values),
            "constraints": None if self.constraints is None else list(self.constraints),
            "feasible": None if self.constraints is None else self.feasible,
            "intermediate": {str(k): v for k, v in sorted(self.intermediate.items())},
            "user_attrs": dict(self.user_attrs),
            "system_attrs": dict(self.system_attrs),
            "worker": self.worker,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": self.duration,
            "error": self.error,
        }


@dataclass(frozen=True)
class StudySummary:
    """A line of ``list_studies``: name, directions and counts by state."""

    name: str
    directions: tuple[str, ...]
    created_at: float
    n_trials: int
    counts: Mapping[str, int]
    best_values: tuple[float, ...] | None = None


def pareto_front(records: list[TrialRecord], directions: tuple[str, ...]) -> list[TrialRecord]:
    """The feasible records (with values) that no other feasible record dominates (no worse on
    every objective and better on one), in order: the first front of
    :func:`tuneful._pareto.pareto_front_mask`. Records whose constraints are violated are
    left out (empty when none is feasible)."""
    import numpy as np

    from tuneful._pareto import pareto_front_mask

    records = [t for t in records if t.feasible]
    if not records:
        return []
    signs = np.array([1.0 if d == "minimize" else -1.0 for d in directions])
    y = np.array([t.values for t in records], dtype=float).reshape(len(records), -1) * signs
    kept = pareto_front_mask(y)
    return [t for t, keep in zip(records, kept, strict=True) if keep]


def feasibility_ranked(y: Any, violations: Any) -> Any:
    """Values for an optimizer that ranks trials, with constraints (Deb's rules): feasible
    rows (violation 0) keep their values; each infeasible row ranks after every feasible
    one, by its violation alone: the worst feasible value of each column (0 when none is
    feasible) plus the violation.

    Args:
        y: values oriented for minimization, shape (n, n_objectives).
        violations: each row's total violation (>= 0), shape (n,).

    Returns:
        A new array of y's shape; ``y`` itself (a copy) when every row is feasible.
    """
    import numpy as np

    ranked = np.array(y, dtype=float)
    broken = np.asarray(violations, dtype=float) > 0.0
    if not broken.any():
        return ranked
    worst = ranked[~broken].max(axis=0) if (~broken).any() else np.zeros(ranked.shape[1])
    ranked[broken] = worst + np.asarray(violations, dtype=float)[broken, None]
    return ranked


def is_finite_number(value: Any) -> bool:
    """True for real numbers (not bool) that are finite (see :func:`as_finite_float`)."""
    return as_finite_float(value)[1] is None


def as_finite_float(value: Any) -> tuple[float, None] | tuple[None, str]:
    """``(float(value), None)`` for a real number that is a finite float, else ``(None, why)``.

    Accepted: int, float, numpy integers and floats (float128 included), 0-d numeric arrays,
    ``fractions.Fraction``, ``decimal.Decimal`` and other objects that convert with ``float()``
    (a 0-d tensor). Refused: bools, strings, complex numbers, arrays of several numbers, NaN,
    infinities and numbers beyond the float range (``10**400``). ``why`` does not repeat the
    value: callers name it (``short_repr``).
    """
    if type(value) is float:  # the common case, answered without the checks below
        return (value, None) if math.isfinite(value) else (None, "not a finite number")
    import numpy as np

    kind = type(value).__name__
    if isinstance(value, bool | np.bool_ | str | bytes):
        return None, f"a {kind} is not a number"
    if isinstance(value, complex | np.complexfloating):
        return None, "a complex number, not a real one"
    if isinstance(value, np.ndarray) and (value.ndim != 0 or value.dtype.kind not in "iuf"):
        return None, f"an array of shape {value.shape} ({value.dtype}), not one real number"
    if not isinstance(value, numbers.Real | Decimal | np.ndarray) and not hasattr(
        value, "__float__"
    ):
        return None, f"a {kind} is not a number"
    try:
        number = float(value)
    except OverflowError:
        return None, "beyond the float64 range (|x| < 1.8e308)"
    except (TypeError, ValueError, ArithmeticError) as exc:
        return None, f"a {kind} that does not convert to a float ({exc})"
    if math.isnan(number) or (not math.isfinite(number) and isinstance(value, float | np.floating)):
        return None, "not a finite number"
    if not math.isfinite(number):
        return None, "beyond the float64 range (|x| < 1.8e308)"
    return number, None


def short_repr(value: Any) -> str:
    """``repr`` for a message, shortened (``10**400`` would print 401 digits)."""
    if isinstance(value, int) and value.bit_length() > 200:
        sign = "-" if value < 0 else ""
        return f"{sign}10**{math.log10(abs(value)):.0f} (an int)"
    try:
        text = repr(value)
    except ValueError:  # Python refuses to print ints of more than 4300 digits
        text = f"a {type(value).__name__}"
    return text if len(text) <= 60 else f"{text[:40]}...{text[-12:]}"


class History:
    """The read-only view of a study that optimizers receive.

    Encoded arrays are computed on first access and cached, so an optimizer that ignores the
    history (random search) pays nothing for it.

    Attributes:
        space: the space configurations are encoded in (the study's, or for define-by-run
            studies the union of the parameters seen so far).
        directions: "minimize" / "maximize" per objective.
        trials: every trial of the study, by number.
        number: the number of the trial being suggested for (None when not known).
        seed: the study's seed.
        has_reports: whether any trial reported a curve point (computed when not given).
        fidelity: None, or for multi-fidelity studies the budget the trials are shown at:
            ``{"budget": b, "max_budget": B, "points": n}`` (see
            :func:`tuneful.schedulers.model_view`).
    """

    def __init__(
        self,
        space: Any,
        directions: tuple[str, ...],
        trials: list[TrialRecord],
        *,
        number: int | None = None,
        seed: int | None = None,
        has_reports: bool | None = None,
    ) -> None:
        self.space = space
        self._has_reports = has_reports
        self.directions = directions
        self.trials = trials
        self.number = number
        self.seed = seed
        self.fidelity: dict[str, Any] | None = None
        self._cache: dict[str, Any] = {}

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @property
    def has_reports(self) -> bool:
        """Whether any trial has reported a learning-curve point."""
        if self._has_reports is None:
            self._has_reports = any(t.intermediate for t in self.trials)
        return self._has_reports

    def _encode(self, records: list[TrialRecord]) -> Any:
        import numpy as np

        if not records:
            return np.empty((0, self.space.dim))
        return self.space.encode_lenient([r.params for r in records])

    @property
    def completed(self) -> list[TrialRecord]:
        if "completed" not in self._cache:
            self._cache["completed"] = [
                t for t in self.trials if t.state is TrialState.COMPLETE and t.values is not None
            ]
        return self._cache["completed"]

    @property
    def X(self) -> Any:  # noqa: N802 - the conventional name for design matrices
        """Encoded configurations of COMPLETE trials, shape (n_completed, dim)."""
        if "X" not in self._cache:
            self._cache["X"] = self._encode(self.completed)
        return self._cache["X"]

    @property
    def y(self) -> Any:
        """Values of COMPLETE trials oriented for minimization, shape (n_completed, n_obj)."""
        if "y" not in self._cache:
            import numpy as np

            signs = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
            values = np.array([t.values for t in self.completed], dtype=float).reshape(
                -1, len(self.directions)
            )
            self._cache["y"] = values * signs
        return self._cache["y"]

    @property
    def feasible(self) -> Any:
        """Whether each COMPLETE trial satisfies its constraints, shape (n_completed,) of
        bools, aligned with ``X`` and ``y``; all True in a study without constraints.

        Optimizers that read ``y`` without this mask rank infeasible trials by their values
        alone; those that declare ``capabilities.constraints`` rank them after every feasible
        one (by ``violations``)."""
        if "feasible" not in self._cache:
            import numpy as np

            self._cache["feasible"] = np.array([t.feasible for t in self.completed], dtype=bool)
        return self._cache["feasible"]

    @property
    def violations(self) -> Any:
        """Total constraint violation of each COMPLETE trial (sum of the positive constraint
        values; 0.0 when feasible), shape (n_completed,), aligned with ``y``."""
        if "violations" not in self._cache:
            import numpy as np

            self._cache["violations"] = np.array([t.violation for t in self.completed], dtype=float)
        return self._cache["violations"]

    def feasibility_ranked(self) -> History:
        """This history as an optimizer that ranks trials by value alone should see it under
        constraints: each infeasible COMPLETE trial's values replaced by
        :func:`feasibility_ranked`'s (after every feasible trial, by violation). Itself when
        no completed trial violates its constraints."""
        if not self.has_constraints or bool(self.feasible.all()):
            return self
        import dataclasses

        import numpy as np

        signs = np.array([1.0 if d == "minimize" else -1.0 for d in self.directions])
        ranked = feasibility_ranked(self.y, self.violations) * signs
        replaced = {
            t.number: dataclasses.replace(t, values=tuple(float(v) for v in row))
            for t, row, ok in zip(self.completed, ranked, self.feasible, strict=True)
            if not ok
        }
        trials = [replaced.get(t.number, t) for t in self.trials]
        view = History(
            self.space,
            self.directions,
            trials,
            number=self.number,
            seed=self.seed,
            has_reports=self._has_reports,
        )
        view.fidelity = self.fidelity
        return view

    @property
    def has_constraints(self) -> bool:
        """Whether any COMPLETE trial carries constraint values."""
        if "has_constraints" not in self._cache:
            self._cache["has_constraints"] = any(t.constraints is not None for t in self.completed)
        return bool(self._cache["has_constraints"])

    @property
    def pending(self) -> list[TrialRecord]:
        """RUNNING and WAITING trials that already have parameters."""
        if "pending" not in self._cache:
            self._cache["pending"] = [
                t
                for t in self.trials
                if t.state in (TrialState.RUNNING, TrialState.WAITING) and t.params
            ]
        return self._cache["pending"]

    @property
    def X_pending(self) -> Any:  # noqa: N802
        """Encoded configurations of pending trials, shape (n_pending, dim)."""
        if "X_pending" not in self._cache:
            self._cache["X_pending"] = self._encode(self.pending)
        return self._cache["X_pending"]

    @property
    def pruned(self) -> list[TrialRecord]:
        """PRUNED trials (with their learning curves in ``intermediate``)."""
        return [t for t in self.trials if t.state is TrialState.PRUNED]
