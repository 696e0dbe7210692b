"""The page's figures and importance, drawn by :mod:`tuneful.viz.study` and computed by
:mod:`tuneful.analysis.importance`, kept until the studies they show change.

The dashboard draws nothing itself: a figure is ``viz.study.plot(...).to_json()``, the same
plotly figure ``tuneful plot`` writes, sent as it is for plotly.js to render. Its notes (what
was sampled or left out, and why) go with it and are shown under the figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tuneful.dashboard.live import LiveStudy
from tuneful.errors import StudyError

__all__ = ["PlotRequest", "kinds", "figure_json", "importance_of"]


def _viz() -> ModuleType:
    from tuneful.viz import study

    return study


def kinds() -> tuple[str, ...]:
    """The plot kinds the page offers."""
    return tuple(_viz().KINDS)


def _int(query: Mapping[str, str], key: str, default: int | None) -> int | None:
    raw = query.get(key, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise StudyError(f"{key} {raw!r}: expected a whole number >= 0")
    return int(raw)


@dataclass(frozen=True)
class PlotRequest:
    """Which figure: its kind, parameters, objective and the most trials it draws."""

    kind: str
    params: tuple[str, ...] | None
    objective: int
    max_trials: int | None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> PlotRequest:
        """A request from URL parameters (``kind``, ``params=a,b``, ``objective``,
        ``max_trials``: at most this many trials drawn, sampled as the figure's notes say;
        none: the kind's own default, which keeps a study of 50k trials quick to draw).

        Raises:
            StudyError: a value not of its form, naming it.
        """
        kind = query.get("kind", "").strip()
        known = kinds()
        if kind not in known:
            expected = ", ".join(known) if known else "none are available here"
            raise StudyError(f"plot kind {kind!r}: expected one of {expected}")
        names = tuple(p.strip() for p in query.get("params", "").split(",") if p.strip())
        max_trials = _int(query, "max_trials", None)
        if max_trials == 0:
            raise StudyError("max_trials '0': expected at least 1 (or none: the kind's default)")
        return cls(
            kind=kind,
            params=names if names and "params" in _viz().plot_options(kind) else None,
            objective=_int(query, "objective", 0) or 0,
            max_trials=max_trials,
        )


def figure_json(studies: Sequence[LiveStudy], request: PlotRequest) -> str:
    """``{"figure": plotly JSON, "notes": [...], "kind": ...}`` as JSON text.

    Raises:
        StudyError: nothing to plot (an empty study, no completed trial, an unknown
            parameter), or several studies for a kind that draws one.
    """
    comparing = _viz().COMPARING
    if len(studies) > 1 and request.kind not in comparing:
        raise StudyError(
            f"plot kind {request.kind!r} draws one study: compare studies with "
            f"{', '.join(comparing)}"
        )
    first, others = studies[0], studies[1:]
    key = ("plot", request, tuple((s.name, s.version) for s in others))
    return first.cached(key, lambda: _draw(studies, request))


def _draw(studies: Sequence[LiveStudy], request: PlotRequest) -> str:
    viz = _viz()
    data = [s.data() for s in studies]
    figure = viz.plot(
        request.kind,
        data if len(data) > 1 else data[0],
        params=list(request.params) if request.params else None,
        objective=request.objective,
        max_trials=request.max_trials,
    )
    notes = [str(note) for note in getattr(figure.data, "notes", ())]
    return (
        '{"kind":'
        + json.dumps(request.kind)
        + ',"notes":'
        + json.dumps(notes)
        + ',"versions":'
        + json.dumps([s.version for s in studies])
        + ',"figure":'
        + figure.to_json()
        + "}"
    )


def importance_of(live: LiveStudy, method: str, objective: int) -> dict[str, Any]:
    """The importance of each parameter of the study (``Importance.to_dict()``).

    Raises:
        StudyError: an unknown method, or too few completed trials.
        NotImplementedError: importance is not available in this release.
    """
    from tuneful.analysis.importance import METHODS, importance

    if method not in METHODS:
        raise StudyError(f"importance method {method!r}: expected one of {', '.join(METHODS)}")

    def compute() -> dict[str, Any]:
        result = importance(live.data(), method=method, objective=objective)
        return {**result.to_dict(), "version": live.version}

    return live.cached(("importance", method, objective), compute)
