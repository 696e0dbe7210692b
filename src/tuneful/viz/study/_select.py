"""What every plot kind of a study shares: reading the studies it was given, the clear
errors for nothing to plot, sampling a large study down to what a figure can draw, colours
and markers, axes for parameters, hover text."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.analysis.trials import Column, StudyData, as_study_data
from tuneful.errors import StudyError
from tuneful.records import TrialRecord, TrialState
from tuneful.viz.study.figure import Axis

if TYPE_CHECKING:
    from tuneful.study import Study

#: One colour per study when several are compared (matplotlib's tab10, which plotly knows too).
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
#: One colour per trial state, the same in every kind.
STATE_COLORS = {
    TrialState.COMPLETE: "#1f77b4",
    TrialState.PRUNED: "#ff7f0e",
    TrialState.FAIL: "#d62728",
    TrialState.RUNNING: "#2ca02c",
    TrialState.WAITING: "#7f7f7f",
}
STATE_SYMBOLS = {
    TrialState.COMPLETE: "circle",
    TrialState.PRUNED: "circle-open",
    TrialState.FAIL: "x",
    TrialState.RUNNING: "diamond",
    TrialState.WAITING: "square",
}
#: The kinds that draw several studies on one figure.
COMPARING = ("history", "edf", "pareto", "hypervolume")


def read_studies(studies: Any) -> list[StudyData]:
    """``studies`` (a study, a :class:`StudyData` or a sequence of them) as a list."""
    if isinstance(studies, (list, tuple)):
        found = [as_study_data(s) for s in studies]
    else:
        found = [as_study_data(studies)]
    if not found:
        raise StudyError("no study given: pass a study, or a list of studies to compare")
    return found


def one_study(kind: str, studies: Study | StudyData | Sequence[Study | StudyData]) -> StudyData:
    """The single study a kind that cannot compare draws.

    Raises:
        StudyError: several studies were given; the message names the kinds that compare.
    """
    found = read_studies(studies)
    if len(found) > 1:
        raise StudyError(
            f"the {kind!r} plot draws one study at a time, got {len(found)} "
            f"({', '.join(repr(s.name) for s in found)}); the kinds that compare several "
            f"studies on one figure are {', '.join(COMPARING)}"
        )
    return found[0]


def nothing_to_plot(study: StudyData, what: str = "completed trial") -> StudyError:
    """The error for a study without what a plot needs."""
    return StudyError(f"study {study.name!r} has no {what} yet: nothing to plot")


def check_objective(study: StudyData, objective: int) -> None:
    if not isinstance(objective, int) or not 0 <= objective < study.n_objectives:
        raise StudyError(
            f"objective={objective!r} is out of range: study {study.name!r} has "
            f"{study.n_objectives} objective(s), numbered from 0"
        )


def check_cap(max_trials: int | None, default: int) -> int:
    if max_trials is None:
        return default
    if isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < 1:
        raise StudyError(f"max_trials={max_trials!r}: expected a positive int, or None")
    return max_trials


def sample(
    n: int,
    cap: int,
    *,
    keep: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Indices of at most ``cap`` of ``n`` rows, sorted: every ``keep`` row first (as many
    as fit), the rest drawn at random; with ``groups`` (a label per row), each group keeps
    at least its share or a tenth of the room, whichever is smaller, so rare states stay
    visible. Deterministic for a seed."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    must = np.flatnonzero(keep) if keep is not None else np.empty(0, dtype=int)
    if len(must) >= cap:
        return np.sort(rng.choice(must, size=cap, replace=False))
    chosen = set(must.tolist())
    room = cap - len(must)
    rest = np.setdiff1d(np.arange(n), must)
    if groups is not None:
        for label in np.unique(groups[rest]):
            members = rest[groups[rest] == label]
            floor = min(len(members), max(1, room // 10))
            chosen.update(rng.choice(members, size=floor, replace=False).tolist())
    left = np.setdiff1d(rest, np.fromiter(chosen, dtype=int, count=len(chosen)))
    extra = cap - len(chosen)
    if extra > 0 and len(left):
        chosen.update(rng.choice(left, size=min(extra, len(left)), replace=False).tolist())
    return np.sort(np.fromiter(chosen, dtype=int, count=len(chosen)))[:cap]


def sampled_note(shown: int, total: int, what: str = "trials", kept: str = "") -> str:
    """``"showing 2,000 of 50,000 trials, sampled (every incumbent kept)"``."""
    text = f"showing {shown:,} of {total:,} {what}, sampled"
    return f"{text} ({kept})" if kept else text


def number_text(value: Any) -> str:
    """A number as a plot writes it: 4 significant digits, ints as they are."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            return str(value)
        return f"{float(value):.4g}"
    return str(value)


def params_text(params: Mapping[str, Any], limit: int = 8) -> str:
    parts = [f"{k}={number_text(v)}" for k, v in list(params.items())[:limit]]
    if len(params) > limit:
        parts.append(f"... ({len(params) - limit} more)")
    return "<br>".join(parts)


def trial_hover(trial: TrialRecord, extra: str = "") -> str:
    """A trial's hover text: its number and state, values, parameters."""
    head = f"trial {trial.number} ({trial.state.value.lower()})"
    lines = [head]
    if trial.values:
        lines.append("value " + ", ".join(number_text(v) for v in trial.values))
    if extra:
        lines.append(extra)
    if trial.params:
        lines.append(params_text(trial.params))
    return "<br>".join(lines)


def value_title(study: StudyData, objective: int) -> str:
    """The name of objective ``objective`` on an axis."""
    if study.n_objectives == 1:
        return "value" if study.directions[0] == "minimize" else "value (maximize)"
    return f"objective {objective} ({study.directions[objective]})"


def best_bright(direction: str) -> str:
    """The colour scale that makes the best values bright: viridis ends in yellow."""
    return "viridis_r" if direction == "minimize" else "viridis"


def param_axis(column: Column) -> Axis:
    """The axis a parameter's values are drawn on: log for a log parameter, category with
    its choices for a categorical one."""
    if column.is_categorical:
        return Axis(
            column.name, "category", tuple(column.label(i) for i in range(len(column.choices)))
        )
    return Axis(column.name, "log" if column.log else "linear", integer=column.kind == "int")


def unit_ticks(column: Column, count: int = 5) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Ticks on the [0, 1] scale of ``column.unit()``, labelled with the values they stand
    for: the choices, powers of ten on a log scale, round numbers otherwise."""
    if column.is_categorical:
        k = len(column.choices)
        return tuple((i + 0.5) / k for i in range(k)), tuple(column.label(i) for i in range(k))
    assert column.low is not None and column.high is not None
    low, high = column.low, column.high
    if column.log:
        values = _log_ticks(low, high, count)
        span = math.log(high) - math.log(low)
        positions = [(math.log(v) - math.log(low)) / span for v in values]
    else:
        values = round_ticks(low, high, count)
        positions = [(v - low) / (high - low) for v in values]
    return tuple(positions), tuple(number_text(v) for v in values)


def _log_ticks(low: float, high: float, count: int) -> list[float]:
    first, last = math.ceil(math.log10(low) - 1e-9), math.floor(math.log10(high) + 1e-9)
    decades = [10.0**e for e in range(first, last + 1)]
    if len(decades) >= 2:
        stride = max(1, -(-len(decades) // count))
        return decades[::stride]
    return round_ticks(low, high, count)


def round_ticks(low: float, high: float, count: int) -> list[float]:
    if high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks or [low, high]


def finite_rows(values: np.ndarray) -> np.ndarray:
    """Rows of a (n, k) matrix whose values are all finite."""
    return np.all(np.isfinite(values), axis=1) if values.size else np.zeros(len(values), bool)
