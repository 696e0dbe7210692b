"""The report's section on multi-objective tasks: what each hypervolume regret was measured
against (reference point, best hypervolume and where they came from), the constraints, and
how often each optimizer's evaluations were feasible."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tuneful.bench.results import Run
from tuneful.bench.tables import DASH, format_table

__all__ = ["hypervolume_section"]

_SOURCES = {
    "known": "the task's known front",
    "union": "union of every run's non-dominated feasible points",
}


def _point(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")" if values else DASH


def _task_rows(runs: Sequence[Run]) -> list[list[object]]:
    rows: list[list[object]] = []
    for task in sorted({r.task for r in runs}):
        first = next(r for r in runs if r.task == task)
        reference = first.meta.get("hypervolume", {})
        objectives = first.meta.get("objectives") or []
        directions = first.meta.get("directions") or []
        shown = [f"{o} ({d[:3]})" for o, d in zip(objectives, directions, strict=False)]
        rows.append(
            [
                task,
                ", ".join(shown) or DASH,
                "; ".join(first.meta.get("constraints") or []) or DASH,
                _point(reference.get("point") or ()),
                "task" if reference.get("point_source") == "task" else "worst seen + 10 %",
                f"{reference.get('best', float('nan')):.6g}",
                _SOURCES.get(str(reference.get("source")), DASH),
            ]
        )
    return rows


def _feasibility_rows(runs: Sequence[Run]) -> list[list[object]]:
    constrained = [r for r in runs if r.meta.get("constraints") and r.feasible is not None]
    rows: list[list[object]] = []
    for optimizer in sorted({r.optimizer for r in constrained}):
        share = [
            float(np.mean(np.asarray(r.feasible, float)))
            for r in constrained
            if r.optimizer == optimizer
        ]
        rows.append([optimizer, len(share), f"{100.0 * float(np.mean(share)):.1f} %"])
    return rows


def hypervolume_section(runs: Sequence[Run]) -> list[str]:
    """Markdown lines on the multi-objective runs; none when every run has one objective."""
    several = [r for r in runs if r.multi_objective]
    if not several:
        return []
    lines = [
        "### Multi-objective tasks: hypervolume regret",
        "",
        "On a task with several objectives a run's regret after i evaluations is "
        "(HV* − HV_i) / HV*, where HV_i is the hypervolume of its feasible points among the "
        "first i (objectives oriented to minimize; failures and constraint violations add "
        "nothing) and HV* the best hypervolume: that of the task's known front when it has "
        "one, else that of the union of every run's non-dominated feasible points in this "
        "benchmark (all optimizers, all seeds), so there the regret is relative to the best "
        "any compared optimizer found. It is in [0, 1] and enters the ranks, tests and "
        "tables like a normalized regret.",
        "",
        format_table(
            [
                "task",
                "objectives",
                "constraints",
                "reference point",
                "point from",
                "HV*",
                "HV* from",
            ],
            _task_rows(several),
        ),
        "",
    ]
    feasibility = _feasibility_rows(several)
    if feasibility:
        lines += [
            "Share of feasible evaluations on the constrained tasks, mean over runs:",
            "",
            format_table(["optimizer", "runs", "feasible"], feasibility),
            "",
        ]
    return lines
