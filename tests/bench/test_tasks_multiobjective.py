"""Multi-objective tasks: bbob-biobj, yahpo-mo, constrained ids, and the multi-objective suites."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from tuneful.bench.suites import list_suites, load_suite
from tuneful.bench.tasks import TaskError, load_task

SUITES_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"


def test_bbob_biobj_task_evaluates_cocos_function() -> None:
    cocoex = pytest.importorskip("cocoex")
    task = load_task("bbob-biobj/f4/d3/i2")
    assert task.multi_objective and [o.name for o in task.optimized] == ["f1", "f2"]
    assert task.space.dim == 3 and task.max_hypervolume is None
    suite = cocoex.Suite("bbob-biobj", "instances: 2", "function_indices: 4 dimensions: 3")
    problem = suite.get_problem(0)
    assert task.reference_point == pytest.approx(tuple(problem.largest_fvalues_of_interest))
    x = np.array([0.5, -1.0, 2.0])
    result = task.evaluate({"x0": 0.5, "x1": -1.0, "x2": 2.0})
    np.testing.assert_allclose([result["f1"], result["f2"]], problem(x))
    copy = pickle.loads(pickle.dumps(task))
    assert copy.evaluate({"x0": 0.5, "x1": -1.0, "x2": 2.0}) == result


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("bbob-biobj/f56/d2/i1", "not 1-55"),
        ("bbob-biobj/f1/d4/i1", "not one of COCO's"),
        ("bbob-biobj/f1/d2/i16", "not 1-15"),
        ("bbob-biobj/f1/d2", "expected 'bbob-biobj/"),
    ],
)
def test_bbob_biobj_bad_ids(task_id: str, message: str) -> None:
    pytest.importorskip("cocoex")
    with pytest.raises(TaskError, match=message):
        load_task(task_id)


def test_yahpo_mo_optimizes_accuracy_against_a_resource(data_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    expected = {"lcbench": ("val_accuracy", "time"), "rbv2_xgboost": ("acc", "timepredict")}
    for scenario, instance in (("lcbench", "3945"), ("rbv2_xgboost", "1049")):
        if not (data_dir / "yahpo" / scenario).is_dir():
            continue
        task = load_task(f"yahpo-mo/{scenario}/{instance}", data_dir)
        assert task.id == f"yahpo-mo/{scenario}/{instance}"
        assert tuple(o.name for o in task.optimized) == expected[scenario]
        assert [o.direction for o in task.optimized] == ["maximize", "minimize"]
        assert task.reference_point is None and task.max_hypervolume is None
        single = load_task(f"yahpo/{scenario}/{instance}", data_dir)
        config = single.space.sample(np.random.default_rng(0), n=1)[0]
        assert task.evaluate(config) == single.evaluate(config)
        copy = pickle.loads(pickle.dumps(task))
        assert copy.id == task.id and copy.n_optimized == 2


def test_yahpo_mo_unknown_scenario(data_dir: Path) -> None:
    with pytest.raises(TaskError, match="lcbench: val_accuracy vs time"):
        load_task("yahpo-mo/iaml_glmnet/1489", data_dir)


def test_constrained_id_adds_a_constraint_and_drops_the_known_hypervolume() -> None:
    task = load_task("zdt/zdt1/d4@f1<=0.5")
    assert task.id == "zdt/zdt1/d4@f1<=0.5"
    (constraint,) = task.constraints
    assert (constraint.metric, constraint.bound) == ("f1", 0.5)
    assert constraint.value({"f1": 0.75}) == pytest.approx(0.25)
    assert task.reference_point == load_task("zdt/zdt1/d4").reference_point
    assert task.max_hypervolume is None and task.multi_objective
    point = {f"x{j}": 0.25 for j in range(4)}
    assert task.evaluate(point) == load_task("zdt/zdt1/d4").evaluate(point)


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("zdt/zdt1/d4@f1<0.5", "bad constraint"),
        ("zdt/zdt1/d4@f1<=abc", "bad constraint"),
        ("zdt/zdt1/d4@memory<=3", "does not report"),
    ],
)
def test_constrained_bad_ids(task_id: str, message: str) -> None:
    with pytest.raises(TaskError, match=message):
        load_task(task_id)


def test_multi_objective_suites_are_valid(data_dir: Path) -> None:
    pytest.importorskip("cocoex")
    pytest.importorskip("onnxruntime")
    assert "mo-small" in list_suites()
    pool = load_suite("mo-small")
    dev = load_suite(SUITES_DIR / "mo-dev.yaml")
    test = load_suite(SUITES_DIR / "mo-test.yaml")
    assert len(pool) == len(set(pool)) == 51
    assert len(dev) >= 12 and len(test) >= 8
    assert set(dev) <= set(pool) and set(test) <= set(pool) and set(dev).isdisjoint(test)
    families = {task_id.split("/")[0] for task_id in dev}
    assert families == {"zdt", "dtlz", "bbob-biobj", "yahpo-mo"}
    assert any("@" in task_id for task_id in dev)
    for task_id in pool:
        task = load_task(task_id, data_dir)
        assert task.id == task_id and task.multi_objective
