"""``TunefulSearchCV(partial_fit_iterations=N)``: trials stopped between ``partial_fit`` passes.

Each fold keeps its own model; an iteration is one ``partial_fit`` pass over every fold's
training data (in parallel over the folds), then each model is scored on its fold's test data
and the trial reports the mean test score at step = iterations done. A trial the scheduler
stops trains no further and is told PRUNED; its ``cv_results_`` row has NaN test scores (its
models were not trained to the end: its curve is in the study). A trial that finishes has, as
its fold scores, those after the N-th pass.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import delayed
from sklearn.base import clone, is_classifier
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from tuneful.integrations._sklearn_folds import (
    Candidate,
    FoldJob,
    finish,
    not_run,
    objective_score,
    report,
)

__all__ = ["partial_batch", "refit_partial"]


@dataclass
class _Step:
    """One fold after one partial_fit pass."""

    model: Any
    fit_time: float
    score_time: float
    test_scores: Any = None
    train_scores: Any = None
    error: str | None = None


def _classes(estimator: Any, y: Any) -> np.ndarray | None:
    """All classes, which a classifier's first partial_fit must be told."""
    return np.unique(y) if y is not None and is_classifier(estimator) else None


def _pass(model: Any, X: Any, y: Any, fit_params: dict[str, Any], classes: Any) -> None:
    extra = {"classes": classes} if classes is not None else {}
    if y is None:
        model.partial_fit(X, **extra, **fit_params)
    else:
        model.partial_fit(X, y, **extra, **fit_params)


def _score(job: FoldJob, model: Any, indices: Any, train: Any) -> Any:
    X, y = _safe_split(model, job.X, job.y, indices, train)
    params = _check_method_params(job.X, job.score_params, indices)
    if y is None:
        return job.scorer(model, X, **params)
    return job.scorer(model, X, y, **params)


def _step(job: FoldJob, model: Any, k: int, classes: Any) -> _Step:
    """One partial_fit pass of fold ``k``'s model, then its scores (error_score on failure)."""
    train, test = job.splits[k]
    X_train, y_train = _safe_split(model, job.X, job.y, train)
    start = time.time()
    try:
        _pass(model, X_train, y_train, _check_method_params(job.X, job.fit_params, train), classes)
    except Exception:
        if job.error_score == "raise":
            raise
        failed = time.time() - start
        return _Step(model, failed, 0.0, job.error_score, job.error_score, traceback.format_exc())
    fit_time = time.time() - start
    test_scores = _score(job, model, test, train)
    score_time = time.time() - start - fit_time
    train_scores = _score(job, model, train, None) if job.return_train_score else None
    return _Step(model, fit_time, score_time, test_scores, train_scores)


def partial_batch(
    job: FoldJob, parallel: Any, iterations: int
) -> Callable[[list[Candidate]], None]:
    """The function that runs a batch of trials, each fold by ``partial_fit`` passes."""
    classes = _classes(job.estimator, job.y)

    def run(batch: list[Candidate]) -> None:
        for candidate in batch:
            _run_trial(candidate, job, parallel, iterations, classes)

    return run


def _run_trial(
    candidate: Candidate, job: FoldJob, parallel: Any, iterations: int, classes: Any
) -> None:
    models = [clone(job.estimator).set_params(**candidate.params) for _ in job.splits]
    fit_times = np.zeros(job.n_splits)
    steps: list[_Step] = []
    for iteration in range(1, iterations + 1):
        steps = parallel(delayed(_step)(job, model, k, classes) for k, model in enumerate(models))
        models = [step.model for step in steps]
        fit_times += [step.fit_time for step in steps]
        errors = [step.error for step in steps if step.error is not None]
        if errors:
            candidate.error = errors[0]
            break  # a model that failed to train cannot go on; the trial fails
        scores = [objective_score(step.test_scores, job.objective) for step in steps]
        if not all(np.isfinite(scores)):
            candidate.error = f"a fold's test score is not finite: {scores}"
            break
        report(candidate, iteration, float(np.mean(scores)))
        if candidate.trial.should_stop() and iteration < iterations:
            candidate.state = "PRUNED"
            candidate.trial.study.tell(candidate.trial, state="PRUNED")
            break
    candidate.outs = [_out(job, k, step, fit_times[k]) for k, step in enumerate(steps)]
    if candidate.state == "PRUNED":
        candidate.outs = [not_run(out, job.splits[k][1]) for k, out in enumerate(candidate.outs)]
        return
    finish(candidate, job)


def _out(job: FoldJob, k: int, step: _Step, fit_time: float) -> dict[str, Any]:
    """The fold's result in ``_fit_and_score``'s format."""
    out = {
        "fit_error": step.error,
        "test_scores": step.test_scores,
        "n_test_samples": len(job.splits[k][1]),
        "fit_time": float(fit_time),
        "score_time": step.score_time,
    }
    if job.return_train_score:
        out["train_scores"] = step.train_scores
    return out


def refit_partial(
    estimator: Any, X: Any, y: Any, iterations: int, fit_params: dict[str, Any]
) -> None:
    """Train ``estimator`` on all the data with ``iterations`` partial_fit passes."""
    classes = _classes(estimator, y)
    for _ in range(iterations):
        _pass(estimator, X, y, fit_params, classes)
