"""scikit-learn: ``TunefulSearchCV``, a search estimator whose candidates a tuneful study
proposes, and whose weak candidates a tuneful scheduler stops after their first folds.

Example:
    >>> import tuneful
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from tuneful.integrations.sklearn import TunefulSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = TunefulSearchCV(
    ...     LogisticRegression(max_iter=500),
    ...     {"C": tuneful.Float(1e-3, 1e2, log=True)},
    ...     n_trials=8, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> sorted(search.best_params_)
    ['C']
    >>> len(search.cv_results_["params"]), search.study_.direction
    (8, 'maximize')

Design. The class derives from scikit-learn's ``BaseSearchCV``, as ``GridSearchCV`` does, and
so inherits what makes a search an estimator: ``predict``/``predict_proba``/
``decision_function``/``transform``/``score`` delegation to ``best_estimator_``, ``classes_``,
``n_features_in_``, tags, metadata routing, the scorer and refit checks, and the exact
``cv_results_`` format (``_format_results``). It replaces ``fit``: the base class evaluates
whole candidates (every fold) in one call through ``_run_search(evaluate_candidates)``, which
leaves a scheduler nothing to stop. Here the folds run in waves (see ``_sklearn_folds``), each
fold through scikit-learn's own ``_fit_and_score``, and each trial reports its running mean
test score after each fold. These are scikit-learn internals (``BaseSearchCV``'s helpers,
``_fit_and_score``); the tests run against the installed scikit-learn.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from tuneful._extras import require

require("sklearn", "sklearn", "TunefulSearchCV")  # one line naming the extra when missing

from joblib import Parallel, effective_n_jobs  # noqa: E402
from sklearn.base import clone, is_classifier  # noqa: E402
from sklearn.metrics._scorer import _check_multimetric_scoring  # noqa: E402
from sklearn.model_selection import check_cv  # noqa: E402
from sklearn.model_selection._search import BaseSearchCV  # noqa: E402
from sklearn.model_selection._validation import (  # noqa: E402
    _insert_error_scores,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils.validation import _check_method_params, indexable  # noqa: E402

from tuneful._lifecycle import create_study, load_study  # noqa: E402
from tuneful.errors import StudyError  # noqa: E402
from tuneful.integrations._sklearn_folds import (  # noqa: E402
    Candidate,
    FoldJob,
    fold_batch,
    run_search,
)
from tuneful.integrations._sklearn_partial import partial_batch, refit_partial  # noqa: E402
from tuneful.integrations._sklearn_space import (  # noqa: E402
    check_count,
    check_timeout,
    scheduler_spec,
    search_space,
    seed_of,
)
from tuneful.study import Study  # noqa: E402

__all__ = ["TunefulSearchCV"]


class TunefulSearchCV(BaseSearchCV):
    """Search ``estimator``'s hyperparameters over a tuneful ``space`` by cross-validation.

    A drop-in for ``GridSearchCV``/``RandomizedSearchCV``: the same ``fit``, ``best_*_``
    attributes, ``cv_results_`` and delegation; the candidates come from a tuneful study
    (direction "maximize": scikit-learn scores are greater-is-better), kept as ``study_``.

    Args:
        estimator: a scikit-learn estimator (or pipeline); cloned for every fit.
        space: a :class:`tuneful.Space`, or a dict name -> tuneful parameter (names as
            ``set_params`` takes them, e.g. ``"clf__C"``); conditional parameters (``when=``)
            are left unset (the estimator's default) when inactive.
        n_trials: how many trials (candidates) to run, pruned and failed ones included.
        cv, scoring, refit, n_jobs, verbose, pre_dispatch, error_score, return_train_score:
            as in ``GridSearchCV``. A multi-metric search maximizes the metric ``refit``
            names (the first one when ``refit`` is False or a callable).
        optimizer: the study's optimizer ("auto", "tpe", "random", "grid", ...).
        scheduler: None (every fold of every trial) or a scheduler ("asha", "median",
            "hyperband", a dict or object) that stops trials after their first folds (or
            partial_fit iterations); its ``max_budget`` is set to the number of steps.
        partial_fit_iterations: None, or N: train each fold's model with N calls of
            ``partial_fit`` (one pass over the fold's training data each), reporting the mean
            test score after each; the refit makes N passes over all the data.
        storage: where the study lives (``sqlite:///search.db``, ...; default ``memory://``).
        study_name: the study's name (generated when None; an existing name is an error).
        random_state: the study's seed (an int, a RandomState or None).
        timeout: seconds after which no new trial starts.
    """

    _study: Study | None  # None after unpickling: reopened from storage_url_ when asked for
    study_name_: str
    storage_url_: str

    def __init__(
        self,
        estimator: Any,
        space: Any,
        *,
        n_trials: int = 10,
        cv: Any = None,
        scoring: Any = None,
        refit: Any = True,
        n_jobs: int | None = None,
        verbose: int = 0,
        pre_dispatch: Any = "2*n_jobs",
        error_score: Any = np.nan,
        return_train_score: bool = False,
        optimizer: Any = "auto",
        scheduler: Any = None,
        partial_fit_iterations: int | None = None,
        storage: str | None = None,
        study_name: str | None = None,
        random_state: Any = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.space = space
        self.n_trials = n_trials
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.partial_fit_iterations = partial_fit_iterations
        self.storage = storage
        self.study_name = study_name
        self.random_state = random_state
        self.timeout = timeout

    # -- the study -----------------------------------------------------------------------
    @property
    def study_(self) -> Study:
        """The study the last ``fit`` ran (reopened from its storage after unpickling; a
        ``memory://`` study lives only in the process that ran it)."""
        if "_study" not in self.__dict__:
            raise AttributeError("study_: this TunefulSearchCV is not fitted yet; call fit")
        if self._study is None:
            if self.storage_url_.startswith("memory:"):
                raise AttributeError(
                    f"study_: study {self.study_name_!r} was in memory:// storage, which is "
                    "not pickled; pass storage='sqlite:///search.db' to keep it"
                )
            self._study = load_study(self.study_name_, storage=self.storage_url_)
        return self._study

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # may be our own __dict__
        if "_study" in state:
            state["_study"] = None  # open storage handles do not pickle; reopened on use
        return state

    def _create_study(self, space: Any, n_steps: int) -> Study:
        storage = "memory://" if self.storage is None else self.storage
        study = create_study(
            self.study_name,
            space=space,
            direction="maximize",
            storage=storage,
            optimizer=self.optimizer,
            scheduler=scheduler_spec(self.scheduler, n_steps),
            seed=seed_of(self.random_state),
        )
        self._study = study
        self.study_name_ = study.name
        self.storage_url_ = storage if isinstance(storage, str) else study.storage_url
        return study

    # -- fit -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, groups: Any = None, **params: Any) -> TunefulSearchCV:
        """Run the search: ``n_trials`` trials, each cross-validated; then refit the best.

        ``groups`` goes to the CV splitter; other ``params`` to the estimator's ``fit`` (and
        the scorer), split with the folds, as in ``GridSearchCV.fit``.

        Raises:
            SpaceError: ``space`` is not a tuneful space (Optuna distributions, lists and
                scipy.stats distributions are named with the tuneful parameter to write).
            StudyError: a bad ``n_trials``/``partial_fit_iterations``/``random_state``/
                ``timeout``, or
                ``partial_fit_iterations`` for an estimator without ``partial_fit``.
            ValueError: as ``GridSearchCV`` (every fit failed, bad scoring or refit).
        """
        space = search_space(self.space)
        n_trials = check_count("n_trials", self.n_trials)
        timeout = check_timeout(self.timeout)
        iterations = self.partial_fit_iterations
        if iterations is not None:
            iterations = check_count("partial_fit_iterations", iterations)
        if iterations is not None and not hasattr(self.estimator, "partial_fit"):
            raise StudyError(
                f"TunefulSearchCV partial_fit_iterations={iterations}: "
                f"{type(self.estimator).__name__} has no partial_fit; leave it None to "
                "stop trials between folds instead"
            )
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        if groups is not None:
            params["groups"] = groups
        params = _check_method_params(X, params=params)
        routed = self._get_routed_params_for_fit(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        splits = list(cv.split(X, y, **routed.splitter.split))
        self.n_splits_ = len(splits)
        job = FoldJob(
            estimator=clone(self.estimator),
            X=X,
            y=y,
            splits=splits,
            scorer=scorers,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            return_train_score=self.return_train_score,
            error_score=self.error_score,
            verbose=self.verbose,
            objective=self.refit if isinstance(self.refit, str) else None,
        )
        study = self._create_study(space, iterations or self.n_splits_)
        candidates = self._search(study, job, (n_trials, timeout), iterations)
        results = self._results(candidates, job)
        self._select_best(results, refit_metric, candidates)
        if self.refit:
            self._refit(job, iterations, routed.estimator.fit)
        if isinstance(self.scoring, list | tuple | dict):
            scorers = _check_multimetric_scoring(self.estimator, self.scoring)
        self.scorer_ = scorers
        self.cv_results_ = results
        return self

    def _search(
        self, study: Study, job: FoldJob, limits: tuple[int, float | None], iterations: int | None
    ) -> list[Candidate]:
        n_trials, timeout = limits
        pruning = self.scheduler is not None and self.scheduler != "none"
        width = max(1, effective_n_jobs(self.n_jobs)) if pruning else 1
        if self.verbose > 0:
            print(
                f"Fitting {job.n_splits} folds for each of up to {n_trials} candidates, "
                f"totalling up to {job.n_splits * n_trials} fits"
            )
        with Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch) as parallel:
            if iterations is None:
                batch = fold_batch(job, parallel, pruning)
            else:
                batch = partial_batch(job, parallel, iterations)
                width = 1
            candidates = run_search(study, n_trials, timeout, width, batch)
        if not candidates:
            raise ValueError(
                "No fits were performed: the optimizer proposed no candidate (a grid already "
                "tried in this study) or timeout ran out before the first trial"
            )
        return candidates

    def _results(self, candidates: list[Candidate], job: FoldJob) -> dict[str, Any]:
        """``cv_results_`` as ``BaseSearchCV`` formats it, with one row per trial and three
        more keys: ``trial_number``, ``trial_state`` and ``n_steps`` (folds, or partial_fit
        iterations, reported before the trial ended)."""
        outs = [out for candidate in candidates for out in candidate.outs]
        ran = [out for out in outs if np.isfinite(out["fit_time"])]
        _warn_or_raise_about_fit_failures(ran, self.error_score)
        if callable(self.scoring):
            _insert_error_scores(outs, self.error_score)
        self.multimetric_ = isinstance(outs[0]["test_scores"], dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(outs[0]["test_scores"])
        more = {
            "trial_number": [c.trial.number for c in candidates],
            "trial_state": [c.state for c in candidates],
            "n_steps": [c.steps for c in candidates],
        }
        with warnings.catch_warnings():
            if all(c.state != "FAIL" for c in candidates):
                # NaN means come from pruned trials (folds not run), not from failures
                warnings.filterwarnings("ignore", message="One or more of the .* non-finite")
            results: dict[str, Any] = self._format_results(
                [c.params for c in candidates], job.n_splits, outs, more
            )
        for key in ("fit_time", "score_time"):
            times = np.array([[out[key] for out in c.outs] for c in candidates], dtype=np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a row of NaN (never here)
                results[f"mean_{key}"] = np.nanmean(times, axis=1)
                results[f"std_{key}"] = np.nanstd(times, axis=1)
        return results

    def _select_best(
        self, results: dict[str, Any], refit_metric: Any, candidates: list[Candidate]
    ) -> None:
        if self.multimetric_ and self.refit is False:
            return  # as GridSearchCV: no best_* without a metric to choose by
        metric = self.refit if self.multimetric_ else refit_metric
        if not callable(self.refit) and all(c.state != "COMPLETE" for c in candidates):
            raise ValueError(
                f"no trial of study {self.study_name_!r} completed ({len(candidates)} "
                "pruned or failed): nothing to select; run more trials or a gentler scheduler"
            )
        self.best_index_ = self._select_best_index(self.refit, metric, results)
        if not callable(self.refit):
            self.best_score_ = results[f"mean_test_{metric}"][self.best_index_]
        self.best_params_ = results["params"][self.best_index_]

    def _refit(self, job: FoldJob, iterations: int | None, fit_params: dict[str, Any]) -> None:
        estimator = clone(job.estimator).set_params(**clone(self.best_params_, safe=False))
        start = time.time()
        if iterations is not None:
            refit_partial(estimator, job.X, job.y, iterations, fit_params)
        elif job.y is not None:
            estimator.fit(job.X, job.y, **fit_params)
        else:
            estimator.fit(job.X, **fit_params)
        self.refit_time_ = time.time() - start
        self.best_estimator_ = estimator
        if hasattr(estimator, "feature_names_in_"):
            self.feature_names_in_ = estimator.feature_names_in_
