"""ZDT and DTLZ tasks: formulas at known points, their fronts, reference points and
hypervolumes, clear id errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tuneful._pareto import pareto_front_mask
from tuneful.analysis.front import front_mask
from tuneful.analysis.indicators import hypervolume, igd
from tuneful.bench.tasks import TaskError, load_task
from tuneful.bench.tasks.zdt_dtlz import ClassicTask, dtlz, zdt
from tuneful.errors import SpaceError
from tuneful.space import Float

ALL = [f"zdt/zdt{n}/d8" for n in (1, 2, 3, 4, 6)] + [
    f"dtlz/dtlz{n}/d7/m{m}" for n in (1, 2, 7) for m in (2, 3)
]


def config(task: ClassicTask, x: np.ndarray) -> dict[str, float]:
    return {f"x{j}": float(v) for j, v in enumerate(x)}


def test_zdt_at_known_points() -> None:
    t = np.linspace(0, 1, 7)
    on_front = np.column_stack([t, np.zeros((7, 29))])  # g = 1
    np.testing.assert_allclose(zdt(1, on_front), np.column_stack([t, 1 - np.sqrt(t)]))
    np.testing.assert_allclose(zdt(2, on_front), np.column_stack([t, 1 - t**2]))
    zdt3 = 1 - np.sqrt(t) - t * np.sin(10 * np.pi * t)
    np.testing.assert_allclose(zdt(3, on_front), np.column_stack([t, zdt3]))
    np.testing.assert_allclose(zdt(4, on_front[:, :10]), np.column_stack([t, 1 - np.sqrt(t)]))
    ones = np.ones((1, 30))  # g = 10: f2 = 10 (1 - sqrt(0.1)) for ZDT1
    np.testing.assert_allclose(zdt(1, ones), [[1.0, 10 * (1 - np.sqrt(0.1))]])
    np.testing.assert_allclose(zdt(2, ones), [[1.0, 10 * (1 - 0.01)]])
    # ZDT4 at x_i = 1: g = 1 + 10*9 + 9*(1 - 10) = 10
    np.testing.assert_allclose(zdt(4, np.ones((1, 10))), [[1.0, 10 * (1 - np.sqrt(0.1))]])
    # ZDT6 at x1 = 1/12: f1 = 1 - exp(-1/3); g = 1 + 9 * 0.5 ** 0.25 at x_i = 0.5
    x = np.array([[1 / 12] + [0.5] * 9])
    f1, g = 1 - np.exp(-1 / 3), 1 + 9 * 0.5**0.25
    np.testing.assert_allclose(zdt(6, x), [[f1, g * (1 - (f1 / g) ** 2)]])


@pytest.mark.parametrize("m", [2, 3])
def test_dtlz_at_known_points(m: int) -> None:
    rng = np.random.default_rng(m)
    position = rng.random((20, m - 1))
    half = np.hstack([position, np.full((20, 5), 0.5)])  # g = 0 for DTLZ1 and DTLZ2
    np.testing.assert_allclose(dtlz(1, half, m).sum(axis=1), 0.5)
    np.testing.assert_allclose(np.linalg.norm(dtlz(2, half, m), axis=1), 1.0)
    zero = np.hstack([position, np.zeros((20, 5))])  # g = 1 for DTLZ7
    last = 2 * (m - np.sum(position / 2 * (1 + np.sin(3 * np.pi * position)), axis=1))
    np.testing.assert_allclose(dtlz(7, zero, m), np.column_stack([position, last]))
    # DTLZ1 at x = 0: g = 100 (k + k (0.25 - cos(-10 pi))) = 100 * 5 * 0.25; f_m = 0.5 (1 + g)
    corner = dtlz(1, np.zeros((1, m + 4)), m)[0]
    np.testing.assert_allclose(corner, [0.0] * (m - 1) + [0.5 * (1 + 125.0)])
    # DTLZ2 with m = 3 at x1 = x2 = 0.5: f = (1/2, 1/2, sqrt(2)/2) times 1 + g
    if m == 3:
        np.testing.assert_allclose(dtlz(2, np.full((1, 3), 0.5), 3), [[0.5, 0.5, np.sqrt(0.5)]])


@pytest.mark.parametrize("task_id", ALL)
def test_evaluate_matches_the_formula_and_the_space(task_id: str) -> None:
    task = load_task(task_id)
    assert isinstance(task, ClassicTask) and task.id == task_id
    m = task.n_objectives
    assert [o.name for o in task.objectives] == [f"f{i + 1}" for i in range(m)]
    assert all(o.direction == "minimize" for o in task.objectives)
    rng = np.random.default_rng(0)
    for sample in task.space.sample(rng, n=5):
        x = np.array([sample[f"x{j}"] for j in range(task.dim)])
        expected = zdt(task.number, x) if task_id.startswith("zdt") else dtlz(task.number, x, m)
        result = task.evaluate(sample)
        assert list(result) == [f"f{i + 1}" for i in range(m)]
        np.testing.assert_allclose(list(result.values()), expected[0])
        assert all(result[o.name] >= o.optimum - 1e-9 for o in task.objectives)  # type: ignore[operator]


def test_zdt4_searches_a_wider_box() -> None:
    task = load_task("zdt/zdt4/d3")
    assert task.space["x0"] == Float(0.0, 1.0) and task.space["x2"] == Float(-5.0, 5.0)
    assert load_task("zdt/zdt1/d3").space["x2"] == Float(0.0, 1.0)


@pytest.mark.parametrize("task_id", ALL)
def test_the_sampled_front_is_on_the_front_and_non_dominated(task_id: str) -> None:
    task = load_task(task_id)
    assert isinstance(task, ClassicTask)
    front = task.pareto_front(300)
    assert 150 <= len(front) <= 400
    assert pareto_front_mask(front).all()
    assert np.all(np.diff(front[:, 0]) >= 0)  # sorted by f1
    ideal = np.array([o.optimum for o in task.objectives], dtype=float)
    np.testing.assert_allclose(front.min(axis=0), ideal, atol=2e-3)
    assert np.all(front < np.array(task.reference_point))
    # points made by the problem itself at g = optimal land on (near) the sampled front
    rng = np.random.default_rng(1)
    x = rng.random((50, task.dim))
    if task.name in ("zdt1", "zdt2", "zdt3", "zdt6", "zdt4"):
        x[:, 1:] = 0.0
    else:
        x[:, task.n_objectives - 1 :] = 0.0 if task.name == "dtlz7" else 0.5
    values = (
        zdt(task.number, x)
        if task.name.startswith("zdt")
        else dtlz(task.number, x, task.n_objectives)
    )
    dense = task.pareto_front(3_000)
    efficient = values[front_mask(np.vstack([dense, values]))[len(dense) :]]
    assert len(efficient) > 0  # those the known front does not dominate ...
    assert igd(dense, efficient) < 0.05  # ... and each lies near it


@pytest.mark.parametrize(
    ("task_id", "reference", "volume"),
    [
        ("zdt/zdt1/d30", (1.1, 1.1), 1.21 - 1 / 3),
        ("zdt/zdt2/d30", (1.1, 1.1), 1.21 - 2 / 3),
        ("zdt/zdt4/d10", (1.1, 1.1), 1.21 - 1 / 3),
        ("dtlz/dtlz1/d7/m3", (0.55, 0.55, 0.55), 0.55**3 - 0.5**3 / 6),
        ("dtlz/dtlz2/d12/m3", (1.1, 1.1, 1.1), 1.331 - np.pi / 6),
        ("dtlz/dtlz2/d11/m2", (1.1, 1.1), 1.21 - np.pi / 4),
    ],
)
def test_reference_point_and_max_hypervolume_in_closed_form(
    task_id: str, reference: tuple[float, ...], volume: float
) -> None:
    task = load_task(task_id)
    assert isinstance(task, ClassicTask)
    assert task.reference_point == reference
    assert task.max_hypervolume == pytest.approx(volume, rel=1e-12)
    assert task.metadata["reference_point"] == list(reference)
    assert task.metadata["max_hypervolume"] == task.max_hypervolume


@pytest.mark.parametrize("task_id", ALL)
def test_max_hypervolume_agrees_with_a_dense_front(task_id: str) -> None:
    task = load_task(task_id)
    assert isinstance(task, ClassicTask)
    dense = hypervolume(task.pareto_front(20_000), task.reference_point)
    tolerance = 2e-4 if task.n_objectives == 2 else 1e-2  # sampled fronts fall short a little
    assert dense <= task.max_hypervolume + 1e-9
    assert dense == pytest.approx(task.max_hypervolume, rel=tolerance)


def test_known_extremes_of_the_disconnected_fronts() -> None:
    zdt3 = load_task("zdt/zdt3/d30")
    assert zdt3.objectives[1].optimum == pytest.approx(-0.7733, abs=1e-4)
    assert zdt3.reference_point[0] == pytest.approx(0.8518 * 1.1, abs=2e-4)  # type: ignore[attr-defined]
    assert load_task("zdt/zdt6/d10").objectives[0].optimum == pytest.approx(0.2807753, abs=1e-6)
    assert load_task("dtlz/dtlz7/d22/m3").objectives[2].optimum == pytest.approx(2.6138, abs=1e-3)


def test_pickled_task_evaluates_the_same() -> None:
    task = load_task("dtlz/dtlz2/d5/m3")
    copy = pickle.loads(pickle.dumps(task))
    point = {f"x{j}": 0.3 for j in range(5)}
    assert copy.id == task.id and copy.evaluate(point) == task.evaluate(point)


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("zdt/zdt5/d30", "unknown problem 'zdt5'"),
        ("zdt/zdt1", "expected 'zdt/zdt"),
        ("zdt/zdt1/d1", "dimension d1 is not 2-1000"),
        ("zdt/zdt1/x3", "bad part 'x3'"),
        ("dtlz/dtlz3/d12/m3", "unknown problem 'dtlz3'"),
        ("dtlz/dtlz2/d12/m4", "m4 objectives is not 2 or 3"),
        ("dtlz/dtlz2/d2/m3", "dimension d2 is not 3-1000"),
        ("dtlz/dtlz2/d12", "expected 'dtlz/dtlz"),
    ],
)
def test_bad_ids_say_what_is_expected(task_id: str, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        load_task(task_id)


def test_bad_configs_fidelities_and_front_sizes() -> None:
    task = load_task("zdt/zdt1/d2")
    with pytest.raises(SpaceError):
        task.evaluate({"x0": 2.0, "x1": 0.0})
    with pytest.raises(TaskError, match="has no fidelity"):
        task.evaluate({"x0": 0.5, "x1": 0.0}, fidelity=1.0)
    with pytest.raises(TaskError, match="points=1"):
        task.pareto_front(1)  # type: ignore[attr-defined]
