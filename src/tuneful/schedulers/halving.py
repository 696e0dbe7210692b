"""Successive halving, asynchronously (ASHA), and Hyperband's brackets of it.

Li et al. 2020 ("A system for massively parallel hyperparameter tuning"): a trial is judged
when its curve reaches a rung ``r_k = min_budget * η**k``; it goes on when it ranks among the
best ``floor(n / η)`` (at least one) of the n trials that have reached that rung so far, and
is stopped otherwise. Decisions never wait for a rung to fill, so workers are never idle; the
first trials at a rung pass easily, later ones face the full comparison.

Li et al. 2018 ("Hyperband"): several brackets of successive halving that start at different
budgets, ``min_budget * η**s`` for s = 0..s_max, hedge against a too aggressive first rung.
Each new trial joins a bracket in proportion to the number of configurations Hyperband gives
it, and is only compared with trials of its own bracket.

Both accept studies with several objectives: the trials at a rung are then ordered by
non-dominated sorting and crowding distance, MO-ASHA (Schmucker et al. 2021; see
:mod:`.multi`), and the objective reports each rung's vector with
:func:`~tuneful.schedulers.multi.report_values`.
"""

from __future__ import annotations

import math
from typing import Any

from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord
from tuneful.schedulers.base import Decision, RungScheduler

__all__ = ["ASHA", "Hyperband", "hyperband_brackets", "bracket_cycle"]


class ASHA(RungScheduler):
    """Asynchronous successive halving (``scheduler="asha"``).

    Args:
        min_budget: the first rung, a step the objective reports.
        max_budget: the full budget (None: the longest curve of a completed trial).
        reduction_factor: η; a trial passes a rung when among the best 1/η there.

    Example:
        >>> import tuneful
        >>> def objective(trial):
        ...     for epoch in trial.budgets(27):
        ...         trial.report(step=epoch, value=trial.params["x"] / epoch)
        ...     return trial.params["x"] / 27
        >>> study = tuneful.create_study(space={"x": {"type": "float", "low": 0, "high": 1}},
        ...     storage="memory://", scheduler="asha", seed=0)
        >>> study.optimize(objective, n_trials=20, show_progress_bar=False)
        >>> sorted({t.state.value for t in study.trials})
        ['COMPLETE', 'PRUNED']
    """

    name = "asha"
    multi_objective = True

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        return self.halving_decision(trial, history)


def hyperband_brackets(
    min_budget: int, max_budget: int, reduction_factor: float
) -> list[tuple[int, int]]:
    """Hyperband's brackets as (first budget, number of configurations), from the most
    aggressive (starting at ``min_budget``) to the one that runs every trial in full.

    With R = max/min and s_max = floor(log_η R), the bracket that halves s times gets
    n = ceil((s_max + 1) / (s + 1) * η**s) configurations (Li et al. 2018, Algorithm 1).

    Example:
        >>> hyperband_brackets(1, 81, 3)   # Li et al. 2018, Table 1
        [(1, 81), (3, 34), (9, 15), (27, 8), (81, 5)]
    """
    ratio = max_budget / min_budget
    s_max = int(math.floor(math.log(ratio, reduction_factor) + 1e-9)) if ratio > 1 else 0
    brackets = []
    for halvings in range(s_max, -1, -1):
        first = int(round(min_budget * reduction_factor ** (s_max - halvings)))
        count = math.ceil((s_max + 1) / (halvings + 1) * reduction_factor**halvings)
        brackets.append((min(first, max_budget), count))
    return brackets


def bracket_cycle(counts: tuple[int, ...]) -> list[int]:
    """The cycle of brackets trial numbers walk through (cached: it only depends on the
    bracket sizes)."""
    if counts not in _CYCLES:
        _CYCLES[counts] = _interleave(list(counts))
    return _CYCLES[counts]


_CYCLES: dict[tuple[int, ...], list[int]] = {}


def _interleave(weights: list[int]) -> list[int]:
    """A cycle of sum(weights) indices, each i appearing weights[i] times, spread out
    (smooth weighted round robin: the index furthest behind its share goes next)."""
    total = sum(weights)
    credit = [0] * len(weights)
    order = []
    for _ in range(total):
        for i, weight in enumerate(weights):
            credit[i] += weight
        pick = max(range(len(weights)), key=lambda i: (credit[i], -i))
        credit[pick] -= total
        order.append(pick)
    return order


class Hyperband(ASHA):
    """Hyperband over asynchronous successive halving (``scheduler="hyperband"``).

    Args:
        min_budget: the first rung of the most aggressive bracket.
        max_budget: the full budget (required: the brackets depend on it).
        reduction_factor: η.

    Each trial records its bracket (``system_attrs["bracket"]``: bracket s starts at
    ``min_budget * η**s``) when it is created; trial number k takes the k-th entry of a cycle
    in which each bracket appears as often as Hyperband sizes it.
    """

    name = "hyperband"

    def __init__(
        self,
        *,
        min_budget: int = 1,
        max_budget: int | None = None,
        reduction_factor: float = 3,
    ) -> None:
        super().__init__(
            min_budget=min_budget, max_budget=max_budget, reduction_factor=reduction_factor
        )
        if self.max_budget is None:
            raise SchedulerError(
                "hyperband: max_budget=None: expected the full budget as an int (Hyperband's "
                "brackets are built from min_budget to max_budget)"
            )
        self.brackets = hyperband_brackets(self.min_budget, self.max_budget, self.reduction_factor)
        self._cycle = bracket_cycle(tuple(count for _, count in self.brackets))

    def bracket_for(self, number: int) -> int:
        """The bracket of trial ``number``."""
        return self._cycle[number % len(self._cycle)]

    def assign(self, history: History) -> dict[str, Any]:
        number = history.number if history.number is not None else history.n_trials
        return {"bracket": self.bracket_for(number)}
