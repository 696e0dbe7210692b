"""Real training: scikit-learn classifiers tuned by cross-validation on bundled datasets.

Task id ``sklearn/{model}/{dataset}``: model ``svm`` (SVC), ``gb``
(HistGradientBoostingClassifier) or ``mlp`` (MLPClassifier); dataset ``digits``,
``breast_cancer`` or ``wine`` (shipped with scikit-learn, nothing is downloaded).

The honest protocol: each dataset is split once into train (75 %) and test (25 %),
stratified, with a fixed seed. :meth:`SklearnTask.evaluate` returns the 3-fold stratified
cross-validation accuracy on the train split (``cv_accuracy``, primary, maximized) and
``cv_error`` = 1 - accuracy; :meth:`SklearnTask.test_evaluate` fits on the whole train split
and scores the held-out split (``test_accuracy``, ``test_error``). Both report the wall time
in ``seconds`` (the task's cost; noisy). Every random choice is seeded, so an evaluation is
deterministic up to floating-point threading effects; numeric libraries run on one thread.
Model sizes and iteration caps keep one evaluation around a second or less on digits.
"""

from __future__ import annotations

import contextlib
import functools
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError, require
from tuneful.bench.tasks.base import Objective, Task
from tuneful.space import Categorical, Float, Int, Space

__all__ = ["SklearnTask", "load_sklearn", "MODELS", "DATASETS"]

SEED = 0
TEST_FRACTION = 0.25
CV_FOLDS = 3

#: Dataset name -> scikit-learn loader function (bundled data only).
DATASETS: dict[str, str] = {
    "digits": "load_digits",
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
}


def _svm_space() -> Space:
    return Space(
        C=Float(1e-3, 1e3, log=True),
        gamma=Float(1e-4, 10.0, log=True),
        kernel=Categorical(["rbf", "poly"]),
        degree=Int(2, 5, when={"kernel": "poly"}),
    )


def _svm(config: Mapping[str, Any]) -> Any:
    pipeline = require("sklearn.pipeline", "scikit-learn", "scikit-learn tasks")
    preprocessing = require("sklearn.preprocessing", "scikit-learn", "scikit-learn tasks")
    svm = require("sklearn.svm", "scikit-learn", "scikit-learn tasks")
    model = svm.SVC(
        C=config["C"],
        gamma=config["gamma"],
        kernel=config["kernel"],
        degree=config.get("degree", 3),
        max_iter=100_000,  # bounds the time of badly conditioned poly kernels
    )
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)


def _gb_space() -> Space:
    return Space(
        learning_rate=Float(0.01, 1.0, log=True),
        max_leaf_nodes=Int(4, 32, log=True),
        min_samples_leaf=Int(1, 64, log=True),
        l2_regularization=Float(1e-6, 10.0, log=True),
    )


def _gb(config: Mapping[str, Any]) -> Any:
    ensemble = require("sklearn.ensemble", "scikit-learn", "scikit-learn tasks")
    return ensemble.HistGradientBoostingClassifier(
        learning_rate=config["learning_rate"],
        max_leaf_nodes=config["max_leaf_nodes"],
        min_samples_leaf=config["min_samples_leaf"],
        l2_regularization=config["l2_regularization"],
        max_iter=20,
        max_bins=32,  # with max_iter and max_leaf_nodes, keeps a digits evaluation near 1 s
        early_stopping=False,
        random_state=SEED,
    )


def _mlp_space() -> Space:
    return Space(
        hidden_units=Int(16, 256, log=True),
        alpha=Float(1e-6, 1e-1, log=True),
        learning_rate_init=Float(1e-4, 1e-1, log=True),
    )


def _mlp(config: Mapping[str, Any]) -> Any:
    pipeline = require("sklearn.pipeline", "scikit-learn", "scikit-learn tasks")
    preprocessing = require("sklearn.preprocessing", "scikit-learn", "scikit-learn tasks")
    neural = require("sklearn.neural_network", "scikit-learn", "scikit-learn tasks")
    model = neural.MLPClassifier(
        hidden_layer_sizes=(config["hidden_units"],),
        alpha=config["alpha"],
        learning_rate_init=config["learning_rate_init"],
        max_iter=30,
        random_state=SEED,
    )
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)


#: Model name -> (search space, estimator for a configuration, description).
MODELS: dict[str, tuple[Callable[[], Space], Callable[[Mapping[str, Any]], Any], str]] = {
    "svm": (_svm_space, _svm, "SVC on standardized features; degree only for the poly kernel"),
    "gb": (_gb_space, _gb, "HistGradientBoostingClassifier, 20 iterations, 32 bins"),
    "mlp": (_mlp_space, _mlp, "MLPClassifier, one hidden layer, 30 epochs of adam"),
}


@functools.cache
def _split(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test): one stratified split per dataset and process."""
    datasets = require("sklearn.datasets", "scikit-learn", "scikit-learn tasks")
    selection = require("sklearn.model_selection", "scikit-learn", "scikit-learn tasks")
    X, y = getattr(datasets, DATASETS[dataset])(return_X_y=True)
    parts = selection.train_test_split(X, y, test_size=TEST_FRACTION, stratify=y, random_state=SEED)
    for array in parts:
        array.setflags(write=False)
    return parts[0], parts[1], parts[2], parts[3]


class SklearnTask(Task):
    """One scikit-learn model tuned on one bundled dataset (see the module docstring)."""

    def __init__(self, model: str, dataset: str) -> None:
        space, _, description = MODELS[model]
        X_train, X_test, y_train, _ = _split(dataset)
        super().__init__(
            id=f"sklearn/{model}/{dataset}",
            space=space(),
            objectives=(
                Objective("cv_accuracy", "maximize"),
                Objective("cv_error", "minimize"),
            ),
            cost="seconds",
            metadata={
                "family": "sklearn",
                "model": model,
                "model_description": description,
                "dataset": dataset,
                "train_size": len(y_train),
                "test_size": len(X_test),
                "features": X_train.shape[1],
                "classes": len(np.unique(y_train)),
                "cv_folds": CV_FOLDS,
                "seed": SEED,
            },
        )
        self.model, self.dataset = model, dataset

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.model, self.dataset, self.id, self.objectives))

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """3-fold cross-validation accuracy of ``config`` on the train split.

        Raises:
            SpaceError: ``config`` is not a valid configuration of ``space``.
            TaskError: a fidelity was given (these tasks have none).
        """
        values = self._check(config, fidelity)
        selection = require("sklearn.model_selection", "scikit-learn", "scikit-learn tasks")
        X_train, _, y_train, _ = _split(self.dataset)
        folds = selection.StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED)
        start = time.perf_counter()
        with _quiet_single_thread():
            scores = selection.cross_val_score(
                MODELS[self.model][1](values), X_train, y_train, cv=folds
            )
        accuracy = float(np.mean(scores))
        seconds = time.perf_counter() - start
        return {"cv_accuracy": accuracy, "cv_error": 1.0 - accuracy, "seconds": seconds}

    def test_evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """Accuracy on the held-out split after fitting ``config`` on the whole train split."""
        values = self._check(config, fidelity)
        X_train, X_test, y_train, y_test = _split(self.dataset)
        start = time.perf_counter()
        with _quiet_single_thread():
            estimator = MODELS[self.model][1](values).fit(X_train, y_train)
            accuracy = float(np.mean(estimator.predict(X_test) == y_test))
        seconds = time.perf_counter() - start
        return {"test_accuracy": accuracy, "test_error": 1.0 - accuracy, "seconds": seconds}

    def _check(self, config: Mapping[str, Any], fidelity: float | None) -> dict[str, Any]:
        if fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        return self.space.validate(config)


@contextlib.contextmanager
def _quiet_single_thread() -> Iterator[None]:
    """Silence convergence warnings (capped iterations are the point) and use one thread."""
    threadpoolctl = require("threadpoolctl", "threadpoolctl", "scikit-learn tasks")
    exceptions = require("sklearn.exceptions", "scikit-learn", "scikit-learn tasks")
    with threadpoolctl.threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore", exceptions.ConvergenceWarning)
        yield


def _rebuild(
    model: str, dataset: str, task_id: str, objectives: tuple[Objective, ...]
) -> SklearnTask:
    task = SklearnTask(model, dataset)
    task.id, task.objectives = task_id, objectives  # as load_task(objective=...) left them
    return task


def load_sklearn(task_id: str, parts: list[str]) -> SklearnTask:
    """Build the task for ``sklearn/{model}/{dataset}``."""
    expected = (
        f"expected 'sklearn/{{model}}/{{dataset}}' with model in {list(MODELS)} and dataset "
        f"in {list(DATASETS)}, e.g. 'sklearn/svm/wine'"
    )
    if len(parts) != 3:
        raise TaskError(f"task id {task_id!r}: {expected}")
    model, dataset = parts[1], parts[2]
    if model not in MODELS:
        raise TaskError(f"task id {task_id!r}: unknown model {model!r}; {expected}")
    if dataset not in DATASETS:
        raise TaskError(f"task id {task_id!r}: unknown dataset {dataset!r}; {expected}")
    return SklearnTask(model, dataset)
