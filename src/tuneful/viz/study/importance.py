"""Which parameters matter (``importance``): one bar per parameter with its uncertainty,
from :func:`tuneful.analysis.importance.importance`, and fANOVA's largest pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from tuneful.analysis.importance import Importance
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.viz.study._select import check_objective, nothing_to_plot, one_study
from tuneful.viz.study.figure import Axis, FigureData, Panel, StudyFigure, Trace

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = ["plot_importance"]

_PARAM_COLOR = "#1f77b4"
_PAIR_COLOR = "#ff7f0e"


def plot_importance(
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
    method: str = "fanova",
    importance: Importance | None = None,
    pairs: int = 5,
) -> StudyFigure:
    """Horizontal bars of each parameter's importance, most important on top, with error
    bars (the estimate's standard deviation), and the ``pairs`` largest interactions.

    Args:
        params: the parameters to assess (default: all).
        method: ``"fanova"`` or ``"ped-anova"`` (see :mod:`tuneful.analysis.importance`).
        importance: a result computed already (the study is then only named in the title).
        pairs: how many pairwise interactions to draw, when the method gives them.

    Raises:
        StudyError: several studies; no completed trial; what the importance method raises.
    """
    study = one_study("importance", studies)
    check_objective(study, objective)
    if importance is None:
        from tuneful.analysis.importance import importance as compute

        if not any(t.state.value == "COMPLETE" for t in study.trials):
            raise nothing_to_plot(study)
        importance = compute(study, method=method, params=params, objective=objective)
    if not importance.params:
        raise StudyError(f"study {study.name!r}: the importance names no parameter to plot")
    top_pairs = list(importance.pairs.items())[: max(0, pairs)]
    labels = list(importance.params) + [f"{a} × {b}" for (a, b), _ in top_pairs]
    labels.reverse()  # parameters above pairs, the most important at the top (rows count up)
    k_pairs = len(top_pairs)
    n = len(labels)
    params_at = np.arange(n - 1, n - 1 - len(importance.params), -1, dtype=float)
    traces = [
        Trace(
            "bar",
            "parameter",
            np.array([importance.shares[p] for p in importance.params]),
            params_at,
            error=np.array([importance.std.get(p, 0.0) for p in importance.params]),
            color=_PARAM_COLOR,
            hover=tuple(
                f"{p}: {importance.shares[p]:.3g} ± {importance.std.get(p, 0.0):.2g}"
                for p in importance.params
            ),
        )
    ]
    if k_pairs:
        traces.append(
            Trace(
                "bar",
                "pair (interaction)",
                np.array([v for _, v in top_pairs]),
                np.arange(k_pairs - 1, -1, -1, dtype=float),
                error=np.array([importance.pair_std.get(key, 0.0) for key, _ in top_pairs]),
                color=_PAIR_COLOR,
                hover=tuple(f"{a} × {b}: {v:.3g}" for (a, b), v in top_pairs),
            )
        )
    what = "share of the variance" if importance.method == "fanova" else "importance"
    panel = Panel(
        Axis(what, range=(0.0, _upper(importance, top_pairs))), Axis("", "category", tuple(labels))
    )
    notes = (f"{importance.method} over {importance.n_trials:,} trials", *importance.notes)
    data = FigureData((panel,), tuple(traces), notes, size=(7.0, max(2.6, 0.38 * n + 1.4)))
    title = f"Parameter importance ({importance.method}): study {study.name!r}"
    return StudyFigure("importance", title, data)


def _upper(importance: Importance, pairs: list[tuple[tuple[str, str], float]]) -> float:
    tops = [importance.shares[p] + importance.std.get(p, 0.0) for p in importance.params]
    tops += [v + importance.pair_std.get(k, 0.0) for k, v in pairs]
    return max(max(tops, default=0.0) * 1.08, 1e-9)
