"""BBOB tasks: the same numbers as cocoex, exact optima, clear id errors."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from tuneful.bench.tasks import TaskError, load_task
from tuneful.errors import MissingDependencyError, SpaceError
from tuneful.space import Float

cocoex = pytest.importorskip("cocoex")


@pytest.mark.parametrize(
    ("function", "dimension", "instance"), [(1, 2, 1), (8, 5, 3), (15, 10, 1), (24, 3, 7)]
)
def test_values_and_optimum_match_cocoex(function: int, dimension: int, instance: int) -> None:
    task = load_task(f"bbob/f{function}/d{dimension}/i{instance}")
    problem = cocoex.BareProblem("bbob", function, dimension, instance)
    assert task.id == f"bbob/f{function}/d{dimension}/i{instance}"
    assert task.space.names == tuple(f"x{j}" for j in range(dimension))
    assert all(p == Float(-5.0, 5.0) for p in task.space.values())
    assert task.fidelity is None and task.cost is None
    (objective,) = task.objectives
    assert (objective.name, objective.direction) == ("value", "minimize")
    assert objective.optimum is not None and objective.optimum == problem.best_value()

    best = task.best_point  # type: ignore[attr-defined]
    assert task.evaluate(best)["value"] == pytest.approx(problem.best_value(), abs=1e-12)
    rng = np.random.default_rng(function)
    for config in task.space.sample(rng, n=5):
        x = np.array([config[f"x{j}"] for j in range(dimension)])
        value = task.evaluate(config)["value"]
        assert value == problem(x)
        assert value >= objective.optimum  # regret is never negative


def test_pickled_task_evaluates_the_same() -> None:
    task = load_task("bbob/f3/d2/i1")
    copy = pickle.loads(pickle.dumps(task))
    config = {"x0": 1.5, "x1": -2.0}
    assert copy.id == task.id and copy.evaluate(config) == task.evaluate(config)


def test_leading_zeros_give_the_canonical_id() -> None:
    assert load_task("bbob/f01/d02/i01").id == "bbob/f1/d2/i1"


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("bbob/f25/d2/i1", "function f25 is not 1-24"),
        ("bbob/f0/d2/i1", "function f0 is not 1-24"),
        ("bbob/f1/d1/i1", "dimension d1 is not 2-40"),
        ("bbob/f1/d41/i1", "dimension d41 is not 2-40"),
        ("bbob/f1/d2/i0", "instance i0 is not >= 1"),
        ("bbob/f1/d2", "expected 'bbob/f"),
        ("bbob/x1/d2/i1", "bad part 'x1'"),
        ("bbob/f1/dd/i1", "bad part 'dd'"),
        ("bbob/f1/d2/i-1", "bad part 'i-1'"),
    ],
)
def test_malformed_ids_are_named(task_id: str, message: str) -> None:
    with pytest.raises(TaskError, match=message) as info:
        load_task(task_id)
    assert repr(task_id) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_family_lists_the_shapes() -> None:
    with pytest.raises(TaskError, match="unknown family 'bbb'; did you mean 'bbob'") as info:
        load_task("bbb/f1/d2/i1")
    for shape in ("bbob/f{1..24}", "yahpo/{scenario}", "steplaw/dense", "sklearn/"):
        assert shape in str(info.value)
    with pytest.raises(TaskError, match="expected a string"):
        load_task(3)  # type: ignore[arg-type]


def test_bad_configs_and_fidelity() -> None:
    task = load_task("bbob/f1/d2/i1")
    with pytest.raises(SpaceError, match="x1"):
        task.evaluate({"x0": 0.0})
    with pytest.raises(SpaceError, match="x0"):
        task.evaluate({"x0": 6.0, "x1": 0.0})
    with pytest.raises(TaskError, match="no fidelity"):
        task.evaluate({"x0": 0.0, "x1": 0.0}, fidelity=0.5)
    assert task.test_evaluate({"x0": 0.0, "x1": 0.0}) is None


def test_objective_suffix() -> None:
    assert load_task("bbob/f1/d2/i1:value").id == "bbob/f1/d2/i1"
    with pytest.raises(TaskError, match="no objective 'loss'"):
        load_task("bbob/f1/d2/i1:loss")
    with pytest.raises(TaskError, match="nothing follows"):
        load_task("bbob/f1/d2/i1:")
    with pytest.raises(TaskError, match="but objective='other'"):
        load_task("bbob/f1/d2/i1:value", objective="other")


def test_missing_cocoex_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cocoex", None)  # makes `import cocoex` fail
    with pytest.raises(MissingDependencyError, match="pip install coco-experiment"):
        load_task("bbob/f2/d39/i99")
