"""The report's sections in cost units, for multi-fidelity benchmarks: what each optimizer
spent its budget on, ranks and regret at fixed costs, and speed-ups over a baseline.

:func:`tuneful.bench.report.write_report` adds them when given ``cost_budgets`` (and
``speedup_baseline``); the statistics are those of :mod:`tuneful.bench.costs`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from tuneful.bench.costs import CostTable, SpeedUp, lead_probability, regret_at_costs, speedups
from tuneful.bench.results import Run
from tuneful.bench.tables import DASH, format_number, format_rank, format_table

__all__ = ["cost_sections"]


def _cost_label(cost: float) -> str:
    return f"{cost:g}"


def _spending_section(runs: Sequence[Run]) -> list[str]:
    """Per optimizer: evaluations per run, how many reached full fidelity, cost spent."""
    rows = []
    for name in sorted({r.optimizer for r in runs}):
        own = [r for r in runs if r.optimizer == name]
        evaluations = np.mean([r.losses.size for r in own])
        full = np.mean([np.isfinite(r.losses).sum() for r in own])
        spent = np.mean([r.costs.sum() for r in own])
        mode = "multi-fidelity" if any(int(r.meta.get("partial", 0)) for r in own) else "full"
        rows.append(
            [name, mode, f"{evaluations:.1f}", f"{full:.1f}", format_number(float(spent), 4)]
        )
    header = ["optimizer", "fidelities", "evaluations / run", "at full fidelity", "cost / run"]
    return [
        "## What the budget bought",
        "",
        "Costs are in full-fidelity evaluations' worth (1.0 = one evaluation at full fidelity; "
        "for time-priced tasks, the median full-fidelity time of a fixed random sample). An "
        "evaluation stopped below full fidelity costs what it ran but has no loss: only "
        "full-fidelity results count for the incumbent. Means over runs:",
        "",
        format_table(header, rows, align=["left", "left", "right", "right", "right"]),
        "",
    ]


def _rank_section(table: CostTable) -> list[str]:
    labels = [_cost_label(c) for c in table.costs]
    order = np.argsort(table.mean_rank[-1], kind="stable")
    columns = [table.tasks.index(t) for t in table.ranked_tasks]
    lead = lead_probability(table)
    rows = []
    for o in order:
        ranks = [format_rank(float(r)) for r in table.mean_rank[:, o]]
        firsts = [f"{100 * p:.0f} %" if math.isfinite(p) else DASH for p in lead[:, o]]
        regrets = [
            format_number(float(np.mean(table.mean[o, columns, c]))) if columns else DASH
            for c in range(table.costs.size)
        ]
        rows.append([table.optimizers[o], *ranks, *firsts, *regrets])
    header = [
        "optimizer",
        *(f"rank @ {label}" for label in labels),
        *(f"first @ {label}" for label in labels),
        *(f"regret @ {label}" for label in labels),
    ]
    lines = [
        "## Ranks and regret at fixed costs",
        "",
        f"At each cost (in full-fidelity evaluations' worth), optimizers are ranked on each of "
        f"the {len(table.ranked_tasks)} tasks where all ran by mean normalized regret over "
        "seeds; the table gives the mean rank over tasks, how often the optimizer has the best "
        "mean rank when each optimizer's seeds are resampled on every task (*first*, 2,000 "
        "bootstrap resamples; ties share), and the mean normalized regret (over seeds, then "
        "tasks). Sorted by the rank at the largest cost.",
        "",
        format_table(header, rows, align=["left"] + ["right"] * (len(header) - 1)),
        "",
    ]
    dropped = [t for t in table.tasks if t not in table.ranked_tasks]
    if dropped:
        lines += [f"Left out (some optimizer has no run there): {', '.join(dropped)}.", ""]
    return lines


def _per_task_section(table: CostTable) -> list[str]:
    lines = ["## Normalized regret per task at fixed costs", ""]
    lines += [
        "Mean over seeds at each cost; lowest per task and cost in bold.",
        "",
    ]
    for c, cost in enumerate(table.costs):
        rows = []
        for t, task in enumerate(table.tasks):
            means = table.mean[:, t, c]
            best = np.nanmin(means) if np.isfinite(means).any() else math.nan
            cells: list[object] = [task]
            for value in means:
                text = format_number(float(value))
                cells.append(f"**{text}**" if math.isfinite(value) and value == best else text)
            rows.append(cells)
        lines += [
            f"### At cost {_cost_label(cost)}",
            "",
            format_table(
                ["task", *table.optimizers],
                rows,
                align=["left"] + ["right"] * len(table.optimizers),
            ),
            "",
        ]
    return lines


def _speedup_section(result: SpeedUp) -> list[str]:
    means, counts = result.geometric_mean()
    others = [o for o, name in enumerate(result.optimizers) if name != result.baseline]
    rows: list[list[object]] = []
    for t, task in enumerate(result.tasks):
        cells: list[object] = [task, format_number(float(result.target[t]))]
        for o in others:
            value = float(result.speedup[o, t])
            cells.append(f"{value:.2f}×" if math.isfinite(value) else "< 1")
        rows.append(cells)
    summary: list[object] = [
        "geometric mean",
        DASH,
        *(
            f"{means[o]:.2f}× ({counts[o]}/{len(result.tasks)})"
            if math.isfinite(means[o])
            else f"{DASH} (0/{len(result.tasks)})"
            for o in others
        ),
    ]
    rows.append(summary)
    names = [result.optimizers[o] for o in others]
    return [
        f"## Speed-up over {result.baseline}",
        "",
        f"Per task, the target is {result.baseline}'s mean normalized regret (over seeds) at "
        f"the full budget; an optimizer's speed-up is the budget divided by the least cost at "
        'which its own mean incumbent regret reaches that target ("< 1": not within the '
        "budget). The last row is the geometric mean over the tasks where the target was "
        "reached (how many in parentheses).",
        "",
        format_table(
            ["task", f"target ({result.baseline})", *names],
            rows,
            align=["left", "right"] + ["right"] * len(names),
        ),
        "",
    ]


def cost_sections(
    runs: Sequence[Run], cost_budgets: Sequence[float], speedup_baseline: str | None
) -> list[str]:
    """The Markdown lines of the cost sections (see the module docstring).

    Raises:
        ValueError: bad costs, or a baseline that is not among the optimizers.
    """
    table = regret_at_costs(runs, cost_budgets)
    lines = [*_spending_section(runs), *_rank_section(table), *_per_task_section(table)]
    if speedup_baseline is not None:
        lines += _speedup_section(speedups(runs, baseline=speedup_baseline))
    return lines
