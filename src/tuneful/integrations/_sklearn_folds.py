"""The trials of a ``TunefulSearchCV`` search, fold by fold, through a tuneful study.

Each fold is fitted and scored by scikit-learn's own ``_fit_and_score``, the function
``GridSearchCV`` runs, so that a fold's scores, timings, ``error_score`` handling and fit
warnings are those of scikit-learn. What differs is the order: ``GridSearchCV`` evaluates
every fold of every candidate in one parallel call, which leaves nothing to stop. Here a batch
of trials runs in waves, one fold per wave when the study has a scheduler, and after each wave
a trial reports its running mean test score at step = folds done; a trial its scheduler stops
runs no more folds and is told PRUNED.

A fit that fails (``error_score`` a number) fails the trial in the study, but its other folds
still run, so that its row of ``cv_results_`` is the one ``GridSearchCV`` would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import delayed
from sklearn.base import clone
from sklearn.model_selection._validation import _fit_and_score

from tuneful.errors import SearchExhausted
from tuneful.study import Study
from tuneful.trial import Trial

__all__ = ["Candidate", "FoldJob", "objective_score", "run_search"]


@dataclass
class FoldJob:
    """What every fold of a search shares (arguments of ``_fit_and_score``)."""

    estimator: Any
    X: Any
    y: Any
    splits: list[tuple[Any, Any]]
    scorer: Any
    fit_params: dict[str, Any]
    score_params: dict[str, Any]
    return_train_score: bool
    error_score: Any
    verbose: int
    objective: str | None  # the metric a multi-metric search maximizes (None: one metric)

    @property
    def n_splits(self) -> int:
        return len(self.splits)


@dataclass
class Candidate:
    """One trial of the search and its folds' results (``_fit_and_score`` dicts)."""

    trial: Trial
    outs: list[Any]  # per fold: a _fit_and_score dict (None while not run)
    state: str = "RUNNING"
    error: str | None = None
    steps: int = 0  # folds (or partial_fit iterations) reported
    curve: list[float] = field(default_factory=list)

    @property
    def params(self) -> dict[str, Any]:
        return self.trial.params


def objective_score(scores: Any, objective: str | None) -> float:
    """The score the study maximizes from a fold's test scores (a float or a dict)."""
    if isinstance(scores, dict):
        key = objective if objective in scores else next(iter(scores))
        return float(scores[key])
    return float(scores)


def run_search(
    study: Study,
    n_trials: int,
    timeout: float | None,
    width: int,
    run_batch: Callable[[list[Candidate]], None],
) -> list[Candidate]:
    """Ask trials ``width`` at a time and run each batch, until ``n_trials`` trials ran,
    ``timeout`` seconds passed or the optimizer has nothing left to propose (a grid)."""
    done: list[Candidate] = []
    start = time.monotonic()
    while len(done) < n_trials:
        if timeout is not None and time.monotonic() - start >= timeout:
            break
        batch: list[Candidate] = []
        try:
            for _ in range(min(width, n_trials - len(done))):
                batch.append(Candidate(study.ask(), []))
        except SearchExhausted:
            if not batch:
                break
        try:
            run_batch(batch)
        except BaseException as exc:
            for candidate in batch:
                if candidate.state == "RUNNING":
                    study.tell(candidate.trial, state="FAIL", error=f"{type(exc).__name__}: {exc}")
            raise
        done.extend(batch)
    return done


def fold_batch(job: FoldJob, parallel: Any, pruning: bool) -> Callable[[list[Candidate]], None]:
    """The function that runs a batch of trials over the folds (one fold a wave when
    ``pruning``, else every fold in one wave)."""
    folds = list(range(job.n_splits))
    waves = [[k] for k in folds] if pruning else [folds]

    def run(batch: list[Candidate]) -> None:
        for candidate in batch:
            candidate.outs = [None] * job.n_splits
        live = list(batch)
        for wave in waves:
            tasks = [(candidate, k) for candidate in live for k in wave]
            outs = parallel(
                delayed(_fit_and_score)(
                    clone(job.estimator),
                    job.X,
                    job.y,
                    **_fold_arguments(job, candidate.params, k),
                )
                for candidate, k in tasks
            )
            for (candidate, k), out in zip(tasks, outs, strict=True):
                candidate.outs[k] = out
            for candidate in live:
                _judge(candidate, job, wave[-1] + 1)
            live = [candidate for candidate in live if candidate.state == "RUNNING"]
        for candidate in live:
            finish(candidate, job)

    return run


def _fold_arguments(job: FoldJob, params: dict[str, Any], k: int) -> dict[str, Any]:
    train, test = job.splits[k]
    return {
        "scorer": job.scorer,
        "train": train,
        "test": test,
        "verbose": job.verbose,
        "parameters": params,
        "fit_params": job.fit_params,
        "score_params": job.score_params,
        "return_train_score": job.return_train_score,
        "return_n_test_samples": True,
        "return_times": True,
        "return_parameters": False,
        "split_progress": (k, job.n_splits),
        "error_score": job.error_score,
    }


def _judge(candidate: Candidate, job: FoldJob, folds_done: int) -> None:
    """After a wave: note a failed fit, or report the running mean and stop when told."""
    outs = [out for out in candidate.outs[:folds_done] if out is not None]
    failed = [out["fit_error"] for out in outs if out["fit_error"] is not None]
    if failed and candidate.error is None:
        candidate.error = str(failed[0])
    if candidate.error is not None:
        return  # a failed trial reports nothing more; its other folds still run
    scores = [objective_score(out["test_scores"], job.objective) for out in outs]
    if not all(np.isfinite(scores)):
        candidate.error = f"a fold's test score is not finite: {scores}"
        return
    for step in range(candidate.steps + 1, folds_done + 1):
        report(candidate, step, float(np.mean(scores[:step])))
    if candidate.trial.should_stop() and folds_done < job.n_splits:
        prune(candidate, job)


def report(candidate: Candidate, step: int, value: float) -> None:
    """Report ``value`` at ``step`` (the trial's report does not raise outside optimize)."""
    candidate.trial.report(step=step, value=value)
    candidate.steps = step
    candidate.curve.append(value)


def prune(candidate: Candidate, job: FoldJob) -> None:
    """Tell the trial PRUNED and stand in for the folds it did not run (NaN scores)."""
    candidate.state = "PRUNED"
    candidate.trial.study.tell(candidate.trial, state="PRUNED")
    template = next(out for out in candidate.outs if out is not None)
    candidate.outs = [
        out if out is not None else not_run(template, job.splits[k][1])
        for k, out in enumerate(candidate.outs)
    ]


def not_run(template: dict[str, Any], test: Sequence[int]) -> dict[str, Any]:
    """A ``_fit_and_score`` result for a fold a pruned trial did not run: NaN scores and
    times, no fit error (it did not fail)."""

    def nan_like(scores: Any) -> Any:
        return {key: np.nan for key in scores} if isinstance(scores, dict) else np.nan

    out = {
        "fit_error": None,
        "test_scores": nan_like(template["test_scores"]),
        "n_test_samples": len(test),
        "fit_time": np.nan,
        "score_time": np.nan,
    }
    if "train_scores" in template:
        out["train_scores"] = nan_like(template["train_scores"])
    return out


def finish(candidate: Candidate, job: FoldJob) -> None:
    """Tell a trial that ran every fold: FAIL with its fit error, or its mean test score."""
    study = candidate.trial.study
    if candidate.error is not None:
        candidate.state = "FAIL"
        study.tell(candidate.trial, state="FAIL", error=candidate.error)
        return
    candidate.state = "COMPLETE"
    study.tell(candidate.trial, candidate.curve[-1])
