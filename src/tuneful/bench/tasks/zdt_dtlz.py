"""ZDT and DTLZ: the classic multi-objective test problems, with their known Pareto fronts.

Task ids:

- ``zdt/zdt{1,2,3,4,6}/d{2..1000}``: Zitzler, Deb & Thiele (2000), 2 objectives ``f1``,
  ``f2``; the usual dimensions are 30 for ZDT1-3 and 10 for ZDT4 and ZDT6. The space is
  [0, 1]^d (floats ``x0`` ... ``x{d-1}``), except ZDT4's ``x1`` ... ``x{d-1}`` in [-5, 5].
  With ``g`` of the variables after the first, ``f2 = g h(f1, g)``; the front is ``g = 1``:
  ZDT1 and ZDT4 ``f2 = 1 - sqrt(f1)`` (ZDT4 has 21^(d-1) local fronts), ZDT2
  ``f2 = 1 - f1^2``, ZDT3 ``f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)`` (five disconnected
  pieces), ZDT6 ``f2 = 1 - f1^2`` for ``f1`` in [0.2808, 1] (a front sampled unevenly).
- ``dtlz/dtlz{1,2,7}/d{d}/m{2,3}``: Deb, Thiele, Laumanns & Zitzler (2005), ``m`` objectives
  ``f1`` ... ``f{m}`` over [0, 1]^d, ``d >= m``; the first ``m - 1`` variables place a point
  along the front, the last ``k = d - m + 1`` set its distance ``g`` (usual ``k``: 5 for
  DTLZ1, 10 for DTLZ2, 20 for DTLZ7). Fronts: DTLZ1 the simplex ``sum f = 0.5`` (with
  11^k - 1 local fronts), DTLZ2 the sphere ``sum f^2 = 1``, DTLZ7 ``2^(m-1)`` disconnected
  pieces of ``f_m = 2m - sum_i f_i (1 + sin(3 pi f_i))``.

Every objective is minimized; its ``optimum`` is its least value on the front (the ideal
point). Each task carries what a multi-objective benchmark measures against:
:meth:`ClassicTask.pareto_front` samples the known front (for IGD), ``reference_point`` is
the front's nadir pushed out by 10 % of its range, rounded up to 4 decimals, and
``max_hypervolume`` is the front's hypervolume for it: in closed form for ZDT1, ZDT2, ZDT4,
ZDT6, DTLZ1 and DTLZ2, by a one-dimensional integral on 10^6 points for ZDT3 and DTLZ7. Both
are also in ``metadata``.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError
from tuneful.bench.tasks.base import Objective, Task
from tuneful.space import Float, Space

__all__ = ["ClassicTask", "load_zdt", "load_dtlz", "zdt", "dtlz", "ZDT_PROBLEMS", "DTLZ_PROBLEMS"]

ZDT_PROBLEMS = (1, 2, 3, 4, 6)
DTLZ_PROBLEMS = (1, 2, 7)
MAX_DIMENSION = 1000
DTLZ_OBJECTIVES = (2, 3)
_FINE = 1_000_001  # grid points of the one-dimensional integrals and piece searches

_CITATIONS = {
    "zdt": "Zitzler, E., Deb, K., & Thiele, L. (2000). Comparison of Multiobjective "
    "Evolutionary Algorithms: Empirical Results. Evolutionary Computation, 8(2), 173-195.",
    "dtlz": "Deb, K., Thiele, L., Laumanns, M., & Zitzler, E. (2005). Scalable Test Problems "
    "for Evolutionary Multiobjective Optimization. In Evolutionary Multiobjective "
    "Optimization (pp. 105-145). Springer.",
}


def zdt(problem: int, x: np.ndarray) -> np.ndarray:
    """ZDT ``problem``'s objectives at the rows of ``x``, shape (n, d) -> (n, 2)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    first, rest = x[:, 0], x[:, 1:]
    if problem == 4:
        g = 1.0 + 10.0 * rest.shape[1] + np.sum(rest**2 - 10.0 * np.cos(4.0 * np.pi * rest), 1)
    elif problem == 6:
        g = 1.0 + 9.0 * np.mean(rest, axis=1) ** 0.25
    else:
        g = 1.0 + 9.0 * np.mean(rest, axis=1)
    f1 = 1.0 - np.exp(-4.0 * first) * np.sin(6.0 * np.pi * first) ** 6 if problem == 6 else first
    ratio = f1 / g
    if problem in (1, 4):
        h = 1.0 - np.sqrt(ratio)
    elif problem in (2, 6):
        h = 1.0 - ratio**2
    else:  # 3
        h = 1.0 - np.sqrt(ratio) - ratio * np.sin(10.0 * np.pi * f1)
    return np.column_stack([f1, g * h])


def dtlz(problem: int, x: np.ndarray, m: int) -> np.ndarray:
    """DTLZ ``problem``'s ``m`` objectives at the rows of ``x``, shape (n, d) -> (n, m)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    position, distance = x[:, : m - 1], x[:, m - 1 :]
    k = distance.shape[1]
    if problem == 7:
        g = 1.0 + 9.0 / k * np.sum(distance, axis=1)
        h = m - np.sum(position / (1.0 + g[:, None]) * (1.0 + np.sin(3.0 * np.pi * position)), 1)
        return np.column_stack([position, (1.0 + g) * h])
    if problem == 1:
        shifted = distance - 0.5
        g = 100.0 * (k + np.sum(shifted**2 - np.cos(20.0 * np.pi * shifted), axis=1))
        keep, drop, scale = position, 1.0 - position, 0.5 * (1.0 + g)
    else:  # 2
        g = np.sum((distance - 0.5) ** 2, axis=1)
        angle = 0.5 * np.pi * position
        keep, drop, scale = np.cos(angle), np.sin(angle), 1.0 + g
    columns = []
    for i in range(m):  # f_i = scale * prod_{j < m-1-i} keep_j * (drop_{m-1-i} unless i = 0)
        column = scale * np.prod(keep[:, : m - 1 - i], axis=1)
        columns.append(column * drop[:, m - 1 - i] if i else column)
    return np.column_stack(columns)


def _pieces(curve: Callable[[np.ndarray], np.ndarray], high: float = 1.0) -> np.ndarray:
    """Where ``curve`` sets a new record on a fine grid of [0, high]: the values of ``t`` at
    which nothing smaller has a curve as large (the efficient part of a 1-D trade-off)."""
    t = np.linspace(0.0, high, _FINE)
    value = curve(t)
    record = np.maximum.accumulate(value)
    return np.concatenate([[True], value[1:] > record[:-1]])


def _zdt3_gain(t: np.ndarray) -> np.ndarray:
    return np.sqrt(t) + t * np.sin(10.0 * np.pi * t)  # f2 = 1 - gain(f1) on the front


def _dtlz7_gain(t: np.ndarray) -> np.ndarray:
    return t * (1.0 + np.sin(3.0 * np.pi * t))  # f_m = 2m - sum_i gain(f_i) on the front


@functools.lru_cache(maxsize=1)
def _zdt6_low() -> float:
    """The least f1 of ZDT6, ``1 - max_x exp(-4x) sin^6(6 pi x)`` (about 0.2807753)."""
    x = np.linspace(0.0, 1.0 / 6.0, _FINE)  # the maximum lies in the first hump
    return float(1.0 - np.max(np.exp(-4.0 * x) * np.sin(6.0 * np.pi * x) ** 6))


@functools.lru_cache(maxsize=4)
def _efficient(name: str) -> np.ndarray:
    """The fine grid's efficient ``t`` of ZDT3's or DTLZ7's one-dimensional trade-off."""
    gain = _zdt3_gain if name == "zdt3" else _dtlz7_gain
    return np.linspace(0.0, 1.0, _FINE)[_pieces(gain)]


def _spread(values: np.ndarray, points: int) -> np.ndarray:
    """``points`` of the sorted ``values``, evenly spaced by index (all when fewer)."""
    if points >= len(values):
        return values
    return values[np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))]


def _lattice(m: int, points: int) -> np.ndarray:
    """The Das & Dennis (1998) simplex lattice with the fewest divisions H giving at least
    ``points`` points: every w >= 0 with sum 1 and every w_i a multiple of 1/H."""
    h = 1
    while math.comb(h + m - 1, m - 1) < points:
        h += 1
    rows = []
    for bars in itertools.combinations(range(h + m - 1), m - 1):  # stars and bars
        edges = (-1, *bars, h + m - 1)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(m)])
    return np.array(rows, dtype=float) / h


def known_front(name: str, m: int, points: int) -> np.ndarray:
    """About ``points`` points of the true Pareto front of problem ``name`` (``"zdt1"``,
    ``"dtlz2"``, ...) with ``m`` objectives, sorted by the first objective."""
    if name.startswith("zdt"):
        if name == "zdt3":
            f1 = _spread(_efficient("zdt3"), points)
            return np.column_stack([f1, 1.0 - _zdt3_gain(f1)])
        f1 = np.linspace(_zdt6_low() if name == "zdt6" else 0.0, 1.0, points)
        f2 = 1.0 - np.sqrt(f1) if name in ("zdt1", "zdt4") else 1.0 - f1**2
        return np.column_stack([f1, f2])
    if name == "dtlz7":
        per_axis = max(2, math.ceil(points ** (1.0 / (m - 1))))
        axis = _spread(_efficient("dtlz7"), per_axis)
        grid = np.array(list(itertools.product(axis, repeat=m - 1)))
        return np.column_stack([grid, 2.0 * m - np.sum(_dtlz7_gain(grid), axis=1)])
    weights = _lattice(m, points)
    front = 0.5 * weights if name == "dtlz1" else weights / np.linalg.norm(weights, axis=1)[:, None]
    return front[np.lexsort(front.T[::-1])]


def _ideal_and_nadir(name: str, m: int) -> tuple[np.ndarray, np.ndarray]:
    if name == "zdt3":
        t = _efficient("zdt3")
        f2 = 1.0 - _zdt3_gain(t)
        return np.array([0.0, f2.min()]), np.array([t.max(), 1.0])
    if name == "zdt6":
        low = _zdt6_low()
        return np.array([low, 0.0]), np.array([1.0, 1.0 - low**2])
    if name == "dtlz7":
        t = _efficient("dtlz7")
        last = 2.0 * m - (m - 1) * _dtlz7_gain(t).max()
        return np.append(np.zeros(m - 1), last), np.append(np.full(m - 1, t.max()), 2.0 * m)
    top = 0.5 if name == "dtlz1" else 1.0
    return np.zeros(m), np.full(m, top)


def _max_hypervolume(name: str, reference: np.ndarray) -> float:
    """The hypervolume of the whole true front for ``reference`` (see the module docstring)."""
    r = reference
    m = len(r)
    if name in ("zdt1", "zdt4"):
        return float(r[0] * r[1] - 1.0 / 3.0)  # minus the area under f2 = 1 - sqrt(f1)
    if name == "zdt2":
        return float(r[0] * r[1] - 2.0 / 3.0)
    if name == "zdt6":
        a = _zdt6_low()  # area under 1 - f1^2 on [a, 1] is (1 - a) - (1 - a^3) / 3
        return float((r[0] - a) * r[1] - ((1.0 - a) - (1.0 - a**3) / 3.0))
    if name == "dtlz1":  # the box minus the simplex sum f < 0.5
        return float(np.prod(r) - 0.5**m / math.factorial(m))
    if name == "dtlz2":  # the box minus the unit ball's positive part
        ball = math.pi ** (m / 2) / math.gamma(m / 2 + 1) / 2**m
        return float(np.prod(r) - ball)
    gain = _zdt3_gain if name == "zdt3" else _dtlz7_gain
    t = np.linspace(0.0, 1.0, _FINE)
    best = np.maximum.accumulate(gain(t))  # the best gain with the coordinate <= t
    if name == "zdt3":  # the area over f2 = 1 - best(f1), out to r
        inside = t <= r[0]
        beyond = max(0.0, float(r[0]) - 1.0) * best[-1]
        return float(r[0] * (r[1] - 1.0) + np.trapezoid(best[inside], t[inside]) + beyond)
    # DTLZ7: f_m's floor over the box is 2m - sum_i best(f_i), separable in the f_i
    inside = t <= r[0]
    side = float(r[0])
    integral = float(np.trapezoid(best[inside], t[inside])) + max(0.0, side - 1.0) * best[-1]
    return float(side ** (m - 1) * (r[-1] - 2.0 * m) + (m - 1) * integral * side ** (m - 2))


class ClassicTask(Task):
    """One ZDT or DTLZ problem in one dimension (see the module docstring)."""

    def __init__(self, name: str, dimension: int, objectives: int) -> None:
        family = "zdt" if name.startswith("zdt") else "dtlz"
        self.name, self.dimension, self.n_objectives = name, dimension, objectives
        self.number = int(name[len(family) :])
        ideal, nadir = _ideal_and_nadir(name, objectives)
        reference = np.ceil((nadir + 0.1 * (nadir - ideal)) * 1e4 - 1e-6) / 1e4
        reference_point = tuple(float(v) for v in reference)
        max_hypervolume = _max_hypervolume(name, reference)
        low_rest = -5.0 if name == "zdt4" else 0.0
        high_rest = 5.0 if name == "zdt4" else 1.0
        space = {"x0": Float(0.0, 1.0)}
        space.update({f"x{j}": Float(low_rest, high_rest) for j in range(1, dimension)})
        task_id = (
            f"zdt/{name}/d{dimension}"
            if family == "zdt"
            else (f"dtlz/{name}/d{dimension}/m{objectives}")
        )
        super().__init__(
            id=task_id,
            space=Space(space),
            objectives=tuple(
                Objective(f"f{i + 1}", "minimize", float(ideal[i])) for i in range(objectives)
            ),
            metadata={
                "family": family,
                "problem": name,
                "dimension": dimension,
                "objectives": objectives,
                "reference_point": list(reference_point),
                "max_hypervolume": max_hypervolume,
                "citation": _CITATIONS[family],
            },
            n_optimized=objectives,
            reference_point=reference_point,
            max_hypervolume=max_hypervolume,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (ClassicTask, (self.name, self.dimension, self.n_objectives))

    def pareto_front(self, points: int = 1000) -> np.ndarray:
        """About ``points`` points of the known Pareto front, shape (n, objectives), sorted
        by ``f1``: evenly spread in ``f1`` for ZDT (ZDT3: over its pieces), a simplex
        lattice for DTLZ1 and DTLZ2, a grid over the pieces for DTLZ7.

        Raises:
            TaskError: ``points`` is not an int >= 2.
        """
        if isinstance(points, bool) or not isinstance(points, int) or points < 2:
            raise TaskError(f"task {self.id!r}: points={points!r}: expected an int >= 2")
        return known_front(self.name, self.n_objectives, points)

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """``{"f1": ..., "f2": ...}`` at ``x = (config["x0"], ..., config["x{d-1}"])``.

        Raises:
            SpaceError: ``config`` is not a point of the space.
            TaskError: a fidelity was given (these tasks have none).
        """
        if fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        values = self.space.validate(config)
        x = np.fromiter(values.values(), dtype=np.float64, count=self.dimension)[None, :]
        if self.name.startswith("zdt"):
            f = zdt(self.number, x)[0]
        else:
            f = dtlz(self.number, x, self.n_objectives)[0]
        return {f"f{i + 1}": float(v) for i, v in enumerate(f)}


def _number_part(task_id: str, part: str, letter: str, expected: str) -> int:
    if len(part) < 2 or part[0] != letter or not part[1:].isdigit():
        raise TaskError(f"task id {task_id!r}: bad part {part!r}; {expected}")
    return int(part[1:])


def _problem_part(
    task_id: str, part: str, family: str, known: tuple[int, ...], expected: str
) -> int:
    number = part[len(family) :]
    if not part.startswith(family) or not number.isdigit() or int(number) not in known:
        names = ", ".join(f"{family}{k}" for k in known)
        raise TaskError(
            f"task id {task_id!r}: unknown problem {part!r} (one of {names}); {expected}"
        )
    return int(number)


def load_zdt(task_id: str, parts: list[str]) -> ClassicTask:
    """Build the task for ``zdt/zdt{n}/d{d}`` (``parts`` is the id split at ``/``)."""
    expected = "expected 'zdt/zdt{1,2,3,4,6}/d{2..1000}', e.g. 'zdt/zdt1/d30'"
    if len(parts) != 3:
        raise TaskError(f"task id {task_id!r}: {expected}")
    number = _problem_part(task_id, parts[1], "zdt", ZDT_PROBLEMS, expected)
    dimension = _number_part(task_id, parts[2], "d", expected)
    if not 2 <= dimension <= MAX_DIMENSION:
        raise TaskError(f"task id {task_id!r}: dimension d{dimension} is not 2-1000; {expected}")
    return ClassicTask(f"zdt{number}", dimension, 2)


def load_dtlz(task_id: str, parts: list[str]) -> ClassicTask:
    """Build the task for ``dtlz/dtlz{n}/d{d}/m{m}``."""
    expected = "expected 'dtlz/dtlz{1,2,7}/d{m..1000}/m{2,3}', e.g. 'dtlz/dtlz2/d12/m3'"
    if len(parts) != 4:
        raise TaskError(f"task id {task_id!r}: {expected}")
    number = _problem_part(task_id, parts[1], "dtlz", DTLZ_PROBLEMS, expected)
    dimension = _number_part(task_id, parts[2], "d", expected)
    m = _number_part(task_id, parts[3], "m", expected)
    if m not in DTLZ_OBJECTIVES:
        raise TaskError(f"task id {task_id!r}: m{m} objectives is not 2 or 3; {expected}")
    if not m <= dimension <= MAX_DIMENSION:
        raise TaskError(
            f"task id {task_id!r}: dimension d{dimension} is not {m}-1000 (at least one "
            f"variable per objective); {expected}"
        )
    return ClassicTask(f"dtlz{number}", dimension, m)
