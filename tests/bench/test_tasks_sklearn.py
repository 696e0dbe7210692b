"""scikit-learn tasks: real cross-validated training and the held-out test protocol."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tuneful.bench.tasks import TaskError, load_task
from tuneful.errors import SpaceError

pytest.importorskip("sklearn")


def test_svm_on_wine_cross_validates_on_the_train_split() -> None:
    task = load_task("sklearn/svm/wine")
    assert task.id == "sklearn/svm/wine"
    assert [(o.name, o.direction) for o in task.objectives] == [
        ("cv_accuracy", "maximize"),
        ("cv_error", "minimize"),
    ]
    assert task.cost == "seconds" and task.fidelity is None
    meta = task.metadata
    assert meta["train_size"] + meta["test_size"] == 178  # every wine sample, once
    assert meta["test_size"] == 45 and meta["classes"] == 3 and meta["cv_folds"] == 3

    config = {"C": 10.0, "gamma": 0.01, "kernel": "rbf"}
    result = task.evaluate(config)
    assert set(result) == {"cv_accuracy", "cv_error", "seconds"}
    assert 0.8 < result["cv_accuracy"] <= 1.0
    assert result["cv_error"] == pytest.approx(1.0 - result["cv_accuracy"])
    assert result["seconds"] > 0
    # seeded: the same configuration scores the same
    assert task.evaluate(config)["cv_accuracy"] == result["cv_accuracy"]
    # a hopeless configuration scores worse
    assert task.evaluate({"C": 1e-3, "gamma": 1e-4, "kernel": "rbf"})["cv_accuracy"] < 0.6


def test_test_evaluate_scores_the_held_out_split() -> None:
    task = load_task("sklearn/svm/wine")
    config = {"C": 10.0, "gamma": 0.01, "kernel": "rbf"}
    held_out = task.test_evaluate(config)
    assert held_out is not None
    assert set(held_out) == {"test_accuracy", "test_error", "seconds"}
    # accuracy on 45 test samples is a multiple of 1/45
    assert held_out["test_accuracy"] * 45 == pytest.approx(round(held_out["test_accuracy"] * 45))
    assert held_out["test_accuracy"] > 0.8
    assert held_out["test_error"] == pytest.approx(1.0 - held_out["test_accuracy"])


def test_svm_degree_is_conditional_on_the_poly_kernel() -> None:
    task = load_task("sklearn/svm/breast_cancer")
    assert task.space["degree"].when == {"kernel": ("poly",)}
    assert task.space["C"].log and task.space["gamma"].log  # type: ignore[attr-defined]
    with pytest.raises(SpaceError, match="inactive"):
        task.evaluate({"C": 1.0, "gamma": 0.01, "kernel": "rbf", "degree": 3})
    result = task.evaluate({"C": 1.0, "gamma": 0.01, "kernel": "poly", "degree": 2})
    assert 0.5 < result["cv_accuracy"] <= 1.0


@pytest.mark.parametrize("model", ["gb", "mlp"])
def test_other_models_train_on_wine(model: str) -> None:
    task = load_task(f"sklearn/{model}/wine")
    config = task.space.sample(np.random.default_rng(0))[0]
    result = task.evaluate(config)
    assert 0.0 < result["cv_accuracy"] <= 1.0
    assert task.evaluate(config)["cv_accuracy"] == result["cv_accuracy"]


def test_pickled_task_keeps_its_objective_order() -> None:
    task = load_task("sklearn/svm/wine", objective="cv_error")
    assert task.id == "sklearn/svm/wine:cv_error"
    assert task.primary.name == "cv_error"
    copy = pickle.loads(pickle.dumps(task))
    assert (copy.id, copy.objectives) == (task.id, task.objectives)


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("sklearn/svc/wine", "unknown model 'svc'"),
        ("sklearn/svm/iris", "unknown dataset 'iris'"),
        ("sklearn/svm", "expected 'sklearn/"),
    ],
)
def test_bad_ids(task_id: str, message: str) -> None:
    with pytest.raises(TaskError, match=message) as info:
        load_task(task_id)
    assert "digits" in str(info.value) and "mlp" in str(info.value)


def test_fidelity_is_refused() -> None:
    task = load_task("sklearn/mlp/wine")
    with pytest.raises(TaskError, match="no fidelity"):
        task.evaluate(task.space.defaults(), fidelity=0.5)
