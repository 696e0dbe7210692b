"""The plots of a study: each kind a function taking a study (or several, to compare) and
giving a :class:`StudyFigure`, drawn interactively with plotly or statically with matplotlib
(``pip install 'tuneful[viz]'``, imported when a figure is first drawn).

Kinds (:data:`KINDS`): ``history`` (each trial's value and the incumbent), ``parallel``
(parallel coordinates), ``slice`` (value against each parameter), ``contour`` (the value over
a pair), ``importance`` (bars with error bars), ``curves`` (learning curves with the
scheduler's stops), ``edf`` (the empirical distribution of values), ``pareto`` (the front
over 2 or 3 objectives), ``hypervolume`` (the feasible front's hypervolume after each trial)
and ``timeline`` (trials per worker over time). ``history``, ``edf``, ``pareto`` and
``hypervolume`` compare several studies on one figure.

Every kind draws a conditional parameter only where it is active, a log parameter on a log
axis and a categorical one with its choices; a study too large to draw whole is sampled
(keeping the incumbents, the front, the failures) and the figure says so in its notes.

What lives where (in parentheses, what it imports):

- ``figure`` the figure as data (:class:`FigureData`: panels, axes, traces, notes) and
  :class:`StudyFigure` (``errors``);
- ``_select`` what the kinds share: reading the studies, sampling, colours, parameter axes,
  hover text (``analysis.trials``, ``records``, ``figure``);
- ``_plotly`` / ``_matplotlib`` the two renderers (``figure``; ``viz._figure``);
- ``history`` ``plot_history``, ``plot_edf`` (``analysis.progress``);
- ``params`` ``plot_parallel``, ``plot_slice``, ``plot_contour`` (``analysis.trials``,
  ``analysis.relevance``, ``analysis.surface``);
- ``importance`` ``plot_importance`` (``analysis.importance``);
- ``curves`` ``plot_curves``; ``pareto`` ``plot_pareto`` (``analysis.front``);
  ``hypervolume`` ``plot_hypervolume`` (``analysis.indicators``); ``timeline``
  ``plot_timeline``.

Example:
    >>> from tuneful.viz.study import plot
    >>> plot("history", study).save("history.html")             # doctest: +SKIP
    >>> plot("contour", study, params=["lr", "depth"]).save("lr-depth.png")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tuneful.errors import StudyError, did_you_mean
from tuneful.viz.study._select import COMPARING
from tuneful.viz.study.curves import plot_curves
from tuneful.viz.study.figure import (
    SUFFIXES,
    Axis,
    Dimension,
    FigureData,
    Panel,
    StudyFigure,
    Trace,
)
from tuneful.viz.study.history import plot_edf, plot_history
from tuneful.viz.study.hypervolume import plot_hypervolume
from tuneful.viz.study.importance import plot_importance
from tuneful.viz.study.params import plot_contour, plot_parallel, plot_slice
from tuneful.viz.study.pareto import plot_pareto
from tuneful.viz.study.timeline import plot_timeline

if TYPE_CHECKING:
    from tuneful.analysis.trials import StudyData
    from tuneful.study import Study

__all__ = [
    "KINDS",
    "COMPARING",
    "plot_options",
    "SUFFIXES",
    "plot",
    "plot_history",
    "plot_parallel",
    "plot_slice",
    "plot_contour",
    "plot_importance",
    "plot_curves",
    "plot_edf",
    "plot_pareto",
    "plot_hypervolume",
    "plot_timeline",
    "StudyFigure",
    "FigureData",
    "Panel",
    "Axis",
    "Trace",
    "Dimension",
]

KINDS = (
    "history",
    "parallel",
    "slice",
    "contour",
    "importance",
    "curves",
    "edf",
    "pareto",
    "hypervolume",
    "timeline",
)

_PLOTS: dict[str, Callable[..., StudyFigure]] = {
    "history": plot_history,
    "parallel": plot_parallel,
    "slice": plot_slice,
    "contour": plot_contour,
    "importance": plot_importance,
    "curves": plot_curves,
    "edf": plot_edf,
    "pareto": plot_pareto,
    "hypervolume": plot_hypervolume,
    "timeline": plot_timeline,
}


def plot_options(kind: str) -> frozenset[str]:
    """The keyword options :func:`plot` takes for ``kind`` (``params``, ``max_trials``, ...).

    Raises:
        StudyError: an unknown kind.
    """
    if kind not in _PLOTS:
        raise StudyError(
            f"unknown plot kind {kind!r}{did_you_mean(kind, KINDS)} (the kinds: {', '.join(KINDS)})"
        )
    return frozenset(inspect.signature(_PLOTS[kind]).parameters) - {"studies"}


def plot(
    kind: str,
    studies: Study | StudyData | Sequence[Study | StudyData],
    *,
    params: Sequence[str] | None = None,
    objective: int = 0,
    max_trials: int | None = None,
    **options: Any,
) -> StudyFigure:
    """The ``kind`` plot of ``studies`` (one of :data:`KINDS`; see each ``plot_<kind>``).

    Args:
        kind: which plot.
        studies: a study or :class:`~tuneful.analysis.trials.StudyData`, or a sequence of
            them for the kinds that compare (``history``, ``edf``, ``pareto``, ``hypervolume``).
        params: the parameters, for ``parallel``, ``slice``, ``contour`` and ``importance``.
        objective: which objective, for the kinds that draw one.
        max_trials: at most this many trials drawn (each kind has its default).
        options: the kind's own options (``log_y``, ``objectives``, ``method``, ...).

    Raises:
        StudyError: an unknown kind, an option the kind does not take, or what the kind
            raises (no trial to plot, several studies for a kind that draws one, ...).
    """
    accepted = plot_options(kind)
    function = _PLOTS[kind]
    given = dict(options)
    if max_trials is not None:
        given["max_trials"] = max_trials
    if params is not None:
        given["params"] = list(params)
    if objective != 0:
        given["objective"] = objective
    refused = sorted(set(given) - accepted)
    if refused:
        raise StudyError(
            f"the {kind!r} plot takes no {', '.join(refused)} option (it takes "
            f"{', '.join(sorted(accepted))})"
        )
    return function(studies, **given)
