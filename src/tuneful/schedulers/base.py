"""What a scheduler is: at ``ask`` it places a trial (its bracket, its first budget); at each
``report`` it decides whether the trial goes on.

Budgets are integer steps of the learning curve the objective reports (epochs, iterations,
percent of the training set, ...). Rung schedulers judge a trial when its curve first reaches
a rung budget ``min_budget * η**k`` below ``max_budget``; the budgets a trial is run to are
those rungs, then ``max_budget``.

A scheduler is a pure function of the history, like an optimizer: every decision is computed
from the trials in storage and recorded there as a system attribute of the trial
(``rung_<budget>``: what was compared and whether it passed; ``pruned``: why it was stopped),
so any number of workers share one bracket state, a resumed study keeps its brackets, and
``tuneful show STUDY --trial N`` says why trial N was stopped.
"""

from __future__ import annotations

import abc
import bisect
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from tuneful._registry import Component, build
from tuneful._validation import check_int, check_number
from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers.decision import Decision
from tuneful.schedulers.multi import ahead_of, check_vector, pareto_positions, values_at

__all__ = [
    "Decision",
    "Scheduler",
    "NoScheduler",
    "RungScheduler",
    "rung_budgets",
    "value_at",
    "register_scheduler",
    "available_schedulers",
    "make_scheduler",
]

#: The largest budget a rung grid is extended to when ``max_budget`` is not known.
_UNBOUNDED = 2**62


def sign_of(history: History) -> float:
    """+1 when the study minimizes, -1 when it maximizes (schedulers compare ``sign * v``)."""
    return 1.0 if history.directions[0] == "minimize" else -1.0


def value_at(trial: TrialRecord, budget: int) -> float | None:
    """The trial's curve value at ``budget``: the value reported at the largest step
    <= ``budget`` (or, for a curve whose first report came later, that first report),
    provided the trial has reported a step >= ``budget`` (it was trained that far); None
    otherwise."""
    curve = trial.intermediate
    if not curve:
        return None
    last = max(curve)
    if last < budget:
        return None
    below = [step for step in curve if step <= budget]
    return float(curve[max(below)] if below else curve[min(curve)])


def rung_budgets(
    min_budget: int, reduction_factor: float, max_budget: int | None, *, start: int = 0
) -> list[int]:
    """Rung budgets ``round(min_budget * η**k)`` for k >= ``start``, strictly increasing and
    below ``max_budget`` (to a very large bound when it is None).

    Example:
        >>> rung_budgets(1, 3, 81)
        [1, 3, 9, 27]
        >>> rung_budgets(1, 3, 52, start=2)
        [9, 27]
    """
    limit = _UNBOUNDED if max_budget is None else max_budget
    budgets: list[int] = []
    k = start
    while True:
        budget = int(round(min_budget * reduction_factor**k))
        if budget >= limit:
            return budgets
        if not budgets or budget > budgets[-1]:
            budgets.append(budget)
        k += 1


class Scheduler(Component, abc.ABC):
    """When to stop a trial, and to what budgets to run it. Subclasses set ``name`` and
    implement :meth:`decide`; see the module docstring for the model."""

    name: ClassVar[str] = "scheduler"
    #: False for the scheduler that never stops anything ("none").
    active: bool = True
    #: Whether the scheduler judges studies with several objectives (MO-ASHA's rank rule).
    multi_objective: ClassVar[bool] = False
    #: Why a single-objective scheduler cannot judge several objectives (for the error).
    single_objective_why: ClassVar[str] = "it judges one reported value"

    def check_directions(self, directions: Sequence[str]) -> None:
        """Refuse a study with several objectives unless the scheduler can judge them.

        Raises:
            SchedulerError: the scheduler is active, judges one objective, and ``directions``
                has several; the message names the scheduler and what to use instead.
        """
        if self.active and len(directions) > 1 and not self.multi_objective:
            raise SchedulerError(
                f"scheduler={self.name!r} cannot judge a study with {len(directions)} "
                f"objectives: {self.single_objective_why}; use scheduler='asha' or "
                "'hyperband' (ranked by non-dominated sorting, MO-ASHA), 'auto', or 'none'"
            )

    def assign(self, history: History) -> dict[str, Any]:
        """System attributes of the trial ``history.number`` at creation (e.g. its bracket)."""
        return {}

    def max_budget_of(self, history: History) -> int | None:
        """The full budget: the configured one, else the largest step a COMPLETE trial
        reported (None before any did)."""
        return _inferred_max(history.trials)

    def rungs(self, trial: TrialRecord, history: History) -> list[int]:
        """Budgets at which ``trial`` is judged, increasing (all below the full budget)."""
        return []

    def budget(self, trial: TrialRecord, history: History) -> int | None:
        """The budget ``trial`` runs to before its next judgement: its next rung above what it
        has reported, else the full budget (None when not known)."""
        last = trial.last_step
        for rung in self.rungs(trial, history):
            if last is None or rung > last:
                return rung
        return self.max_budget_of(history)

    @abc.abstractmethod
    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        """Judge ``trial`` after a report (its record includes the report): a
        :class:`~tuneful.schedulers.decision.Decision` to go on, stop, or exploit another
        trial's checkpoint. None: nothing to decide at this step (the trial goes on, nothing
        is recorded)."""

    def model_budgets(self, history: History) -> list[int]:
        """Budgets at which optimizers may model the objective (see :mod:`._view`)."""
        full = self.max_budget_of(history)
        return [*rung_budgets(1, 3, full), *([] if full is None else [full])]


class NoScheduler(Scheduler):
    """Never stops a trial (``scheduler="none"``)."""

    name = "none"
    active = False

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        return None

    def max_budget_of(self, history: History) -> int | None:
        return None


def _inferred_max(trials: Sequence[TrialRecord]) -> int | None:
    best: int | None = None
    for trial in trials:
        if trial.state is TrialState.COMPLETE and trial.intermediate:
            last = max(trial.intermediate)
            best = last if best is None else max(best, last)
    return best


# -- rung schedulers ----------------------------------------------------------------------
class RungScheduler(Scheduler):
    """Shared by schedulers that judge trials at rungs ``min_budget * η**k``.

    Args:
        min_budget: the first rung (a step the objective reports), >= 1.
        max_budget: the full budget; None infers it from the longest completed curve.
        reduction_factor: η, the ratio of successive rungs; a trial passes a rung when it is
            among the best 1/η of the trials that reached it.
    """

    def __init__(
        self,
        *,
        min_budget: int = 1,
        max_budget: int | None = None,
        reduction_factor: float = 3,
    ) -> None:
        self.min_budget = check_int(
            self.name, "min_budget", min_budget, minimum=1, error=SchedulerError
        )
        self.max_budget = check_int(
            self.name, "max_budget", max_budget, minimum=1, allow_none=True, error=SchedulerError
        )
        if self.max_budget is not None and self.max_budget < self.min_budget:
            raise SchedulerError(
                f"{self.name}: max_budget={max_budget!r} is below min_budget={min_budget!r}"
            )
        self.reduction_factor = check_number(
            self.name, "reduction_factor", reduction_factor, low=1.0, error=SchedulerError
        )
        self._index = _RungIndex()
        self._index_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Sent to worker processes without its cache and lock (rebuilt from the history).
        state = dict(self.__dict__)
        state["_index"] = _RungIndex()
        del state["_index_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._index_lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        return {
            "min_budget": self.min_budget,
            "max_budget": self.max_budget,
            "reduction_factor": self.reduction_factor,
        }

    def max_budget_of(self, history: History) -> int | None:
        return self.max_budget if self.max_budget is not None else _inferred_max(history.trials)

    def bracket_of(self, trial: TrialRecord) -> int:
        return int(trial.system_attrs.get("bracket", 0))

    def rungs(self, trial: TrialRecord, history: History) -> list[int]:
        return rung_budgets(
            self.min_budget,
            self.reduction_factor,
            self.max_budget_of(history),
            start=self.bracket_of(trial),
        )

    def model_budgets(self, history: History) -> list[int]:
        full = self.max_budget_of(history)
        grid = rung_budgets(self.min_budget, self.reduction_factor, full)
        return [*grid, *([] if full is None else [full])]

    def new_rungs(self, trial: TrialRecord, history: History) -> list[int]:
        """Rungs the trial's curve has reached and that were not judged yet, increasing."""
        last = trial.last_step
        if last is None:
            return []
        return [
            rung
            for rung in self.rungs(trial, history)
            if rung <= last and f"rung_{rung}" not in trial.system_attrs
        ]

    def rank_rule(self, trial: TrialRecord, history: History, rung: int) -> tuple[bool, dict]:
        """Successive halving's test at ``rung``: does the trial rank among the best
        ``max(1, floor(n / η))`` of the n trials of its bracket that reached the rung (failed
        and waiting trials left out)?"""
        own = value_at(trial, rung)
        assert own is not None  # the trial reached the rung: new_rungs checked it
        sign = sign_of(history)
        with self._index_lock:
            values = self._index.sync(self, history, sign).values(self.bracket_of(trial), rung)
            better = bisect.bisect_left(values, sign * own)
            count = len(values)
        keep = max(1, int(count // self.reduction_factor))
        passed = better < keep
        record = {"value": own, "rank": better + 1, "of": count, "keep": keep, "passed": passed}
        return passed, record

    def pareto_rank_rule(
        self, trial: TrialRecord, history: History, rung: int
    ) -> tuple[bool, dict]:
        """MO-ASHA's test at ``rung`` (see :mod:`.multi`): does the trial rank among the best
        ``max(1, floor(n / η))`` of the n trials of its bracket at the rung, ordered by
        non-dominated front (feasible trials first), then by decreasing crowding distance?"""
        n_objectives = len(history.directions)
        own = check_vector(self.name, trial, rung, values_at(trial, rung), n_objectives)
        bracket = self.bracket_of(trial)
        points, violations = [own[0]], [_violation(own[1])]
        for other in history.trials:
            if (
                other.number == trial.number
                or other.state in (TrialState.FAIL, TrialState.WAITING)
                or self.bracket_of(other) != bracket
            ):
                continue
            found = values_at(other, rung)
            if found is not None and len(found[0]) == n_objectives:
                points.append(found[0])
                violations.append(_violation(found[1]))
        signs = np.array([1.0 if d == "minimize" else -1.0 for d in history.directions])
        fronts, crowding = pareto_positions(
            np.asarray(points, dtype=float) * signs, np.asarray(violations)
        )
        better = ahead_of(0, fronts, crowding)
        count = len(points)
        keep = max(1, int(count // self.reduction_factor))
        passed = better < keep
        distance = float(crowding[0])
        record = {
            "values": list(own[0]),
            "front": int(fronts[0]) + 1,
            "crowding": distance if math.isfinite(distance) else None,
            "feasible": violations[0] <= 0,
            "rank": better + 1,
            "of": count,
            "keep": keep,
            "passed": passed,
        }
        return passed, record

    def judge_rank(self, trial: TrialRecord, history: History, rung: int) -> tuple[bool, dict]:
        """The rank rule for the study: successive halving's with one objective, MO-ASHA's
        (``rule`` "pareto") with several."""
        if len(history.directions) > 1:
            passed, record = self.pareto_rank_rule(trial, history, rung)
            record["rule"] = "pareto"
        else:
            passed, record = self.rank_rule(trial, history, rung)
            record["rule"] = "rank"
        return passed, record

    def rank_reason(self, rung: int, record: dict, note: str = "") -> str:
        """One sentence on a failed rank judgement at ``rung``; ``note`` replaces the
        "(η = ...)" at the end of the one-objective sentence."""
        note = note or f"η = {self.reduction_factor:g}"
        if record["rule"] != "pareto":
            return (
                f"at rung {rung} its value {record['value']:.6g} ranked {record['rank']} of "
                f"{record['of']}; only the best {record['keep']} go on ({note})"
            )
        where = f"front {record['front']}"
        if not record["feasible"]:
            where += ", infeasible"
        elif record["crowding"] is not None:
            where += f", crowding distance {record['crowding']:.3g}"
        return (
            f"rank {record['rank']} of {record['of']} at rung {rung} by non-dominated sorting "
            f"({where}); only the best {record['keep']} go on ({note}): stopped"
        )

    def halving_decision(self, trial: TrialRecord, history: History) -> Decision | None:
        """Judge every newly reached rung with the rank rule; stop at the first failed one."""
        attrs: dict[str, Any] = {}
        for rung in self.new_rungs(trial, history):
            passed, record = self.judge_rank(trial, history, rung)
            attrs[f"rung_{rung}"] = record
            if not passed:
                reason = self.rank_reason(rung, record)
                attrs["pruned"] = {"step": trial.last_step, "rung": rung, "reason": reason}
                return Decision.stop_now(reason, attrs=attrs)
        if not attrs:
            return None
        return Decision.go_on("passed every rung reached", attrs=attrs)


def _violation(constraints: tuple[float, ...] | None) -> float:
    return 0.0 if constraints is None else float(sum(max(c, 0.0) for c in constraints))


class _RungIndex:
    """Per (bracket, rung): the sorted oriented values of the trials that reached it.

    A cache of what the history says, kept in step with it by record identity (the study's
    replica keeps a trial's record object until the trial changes), so a judgement costs a
    scan of the trial list and a binary search instead of recomputing every curve.
    """

    def __init__(self) -> None:
        self._seen: dict[int, TrialRecord] = {}
        self._entries: dict[int, list[tuple[tuple[int, int], float]]] = {}
        self._sorted: dict[tuple[int, int], list[float]] = {}
        self._sign = 0.0

    def sync(self, scheduler: RungScheduler, history: History, sign: float) -> _RungIndex:
        if sign != self._sign or len(history.trials) < len(self._seen):
            self.__init__()  # type: ignore[misc]  # another study: start over
            self._sign = sign
        for trial in history.trials:
            if self._seen.get(trial.number) is trial:
                continue
            self._seen[trial.number] = trial
            for key, value in self._entries.pop(trial.number, []):
                column = self._sorted[key]
                del column[bisect.bisect_left(column, value)]
            entries = self._entries_of(scheduler, trial, sign)
            if entries:
                self._entries[trial.number] = entries
                for key, value in entries:
                    bisect.insort(self._sorted.setdefault(key, []), value)
        return self

    @staticmethod
    def _entries_of(
        scheduler: RungScheduler, trial: TrialRecord, sign: float
    ) -> list[tuple[tuple[int, int], float]]:
        last = trial.last_step
        if last is None or trial.state in (TrialState.FAIL, TrialState.WAITING):
            return []
        bracket = scheduler.bracket_of(trial)
        grid = rung_budgets(
            scheduler.min_budget, scheduler.reduction_factor, last + 1, start=bracket
        )
        entries = []
        for rung in grid:
            value = value_at(trial, rung)
            if value is not None:
                entries.append(((bracket, rung), sign * value))
        return entries

    def values(self, bracket: int, rung: int) -> list[float]:
        return self._sorted.get((bracket, rung), [])


# -- registry ----------------------------------------------------------------------------
_REGISTRY: dict[str, Callable[..., Scheduler]] = {}


def register_scheduler(name: str, factory: Callable[..., Scheduler]) -> None:
    """Make ``scheduler=name`` work in ``create_study``. ``factory(**settings)``."""
    _REGISTRY[name] = factory


def available_schedulers() -> list[str]:
    """Names accepted by ``create_study(scheduler=...)``."""
    return sorted(_REGISTRY)


def make_scheduler(spec: str | Mapping[str, Any] | Scheduler | None) -> Scheduler:
    """Build a scheduler from a registry name, a ``{"name", "settings"}`` dict or an object
    (None: ``"auto"``).

    Raises:
        SchedulerError: the name is not registered or a setting is not accepted.
    """
    return build(
        spec,
        kind="scheduler",
        base=Scheduler,
        registry=_REGISTRY,
        error=SchedulerError,
        default="auto",
        example="asha",
    )
