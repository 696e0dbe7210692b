"""TunefulSearchCV against the real scikit-learn: estimator checks, GridSearchCV parity,
pruning between folds and partial_fit passes, errors, multi-metric scoring, storage."""

from __future__ import annotations

import pickle
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("sklearn")

from joblib import parallel_config  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import FitFailedWarning  # noqa: E402
from sklearn.linear_model import Ridge, SGDClassifier  # noqa: E402
from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import tuneful  # noqa: E402
from tuneful.errors import MissingDependencyError, SpaceError, StudyError  # noqa: E402
from tuneful.integrations.sklearn import TunefulSearchCV  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "sklearn.md"


def _iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


# -- scikit-learn's estimator checks -------------------------------------------------------
_CHECKED = [
    TunefulSearchCV(
        Ridge(),
        {"alpha": tuneful.Float(0.1, 1.0)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    ),
    TunefulSearchCV(
        GaussianNB(),
        {"var_smoothing": tuneful.Float(1e-10, 1e-8, log=True)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
    ),
    TunefulSearchCV(
        Pipeline([("pca", PCA()), ("ridge", Ridge())]),
        {"ridge__alpha": tuneful.Float(0.1, 1.0)},
        n_trials=2,
        cv=2,
        error_score="raise",
        random_state=0,
        scheduler="asha",
    ),
]

# The check GridSearchCV is expected to fail in scikit-learn's own test suite: a regressor
# given a column y warns inside _fit_and_score, and the check wants one warning at fit.
_REGRESSOR_FAILURES = {
    "check_supervised_y_2d": "DataConversionWarning not caught (as GridSearchCV)"
}


def _expected_failures(search: Any) -> dict[str, str]:
    return {} if is_classifier(search) else _REGRESSOR_FAILURES


@parametrize_with_checks(_CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def _means(search: Any) -> dict[str, float]:
    """Mean test score by candidate (its parameters as a key)."""
    results = search.cv_results_
    return {
        repr(sorted(params.items())): float(mean)
        for params, mean in zip(results["params"], results["mean_test_score"], strict=True)
    }


# -- parity with GridSearchCV --------------------------------------------------------------
def test_grid_optimizer_matches_gridsearchcv_on_an_enumerable_grid() -> None:
    X, y = _iris()
    grid = {"max_depth": [1, 2, 3], "criterion": ["gini", "entropy"]}
    reference = GridSearchCV(DecisionTreeClassifier(random_state=0), grid, cv=3).fit(X, y)
    search = TunefulSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": tuneful.Int(1, 3), "criterion": tuneful.Categorical(["gini", "entropy"])},
        n_trials=6,
        cv=3,
        optimizer="grid",
        random_state=0,
    ).fit(X, y)
    assert search.best_score_ == pytest.approx(reference.best_score_)
    assert search.cv_results_["mean_test_score"][search.best_index_] == search.best_score_
    assert _means(search) == pytest.approx(_means(reference))
    assert set(reference.cv_results_) <= set(search.cv_results_)
    assert isinstance(search.cv_results_["param_max_depth"], np.ma.MaskedArray)


# -- pruning -------------------------------------------------------------------------------
def test_asha_prunes_after_the_first_folds_and_records_pruned_trials() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        KNeighborsClassifier(),
        {
            "n_neighbors": tuneful.Int(1, 60),
            "weights": tuneful.Categorical(["uniform", "distance"]),
        },
        n_trials=12,
        cv=5,
        scheduler="asha",
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    states = list(results["trial_state"])
    assert len(states) == 12 and "PRUNED" in states and "COMPLETE" in states
    pruned = [t for t in search.study_.trials if t.state == tuneful.TrialState.PRUNED]
    assert pruned and all(1 <= len(t.intermediate) < 5 for t in pruned)
    for row, state in enumerate(states):
        number = results["trial_number"][row]
        curve = search.study_.get_trial(number).intermediate
        assert results["n_steps"][row] == len(curve)
        if state == "PRUNED":
            assert np.isnan(results["mean_test_score"][row])
            assert results["rank_test_score"][row] == results["rank_test_score"].max()
            ran = [results[f"split{k}_test_score"][row] for k in range(len(curve))]
            assert np.mean(ran) == pytest.approx(curve[len(curve)])  # running mean reported
            assert np.isfinite(results["mean_fit_time"][row])
        else:
            assert results["mean_test_score"][row] == pytest.approx(curve[5])
    assert results["trial_state"][search.best_index_] == "COMPLETE"
    assert search.best_score_ == pytest.approx(search.study_.best_value)


def test_partial_fit_iterations_report_each_pass_and_prune() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    search = TunefulSearchCV(
        SGDClassifier(random_state=0),
        {"alpha": tuneful.Float(1e-6, 10.0, log=True)},
        n_trials=8,
        cv=3,
        scheduler="asha",
        partial_fit_iterations=9,
        random_state=0,
    ).fit(X, y)
    trials = search.study_.trials
    pruned = [t for t in trials if t.state == tuneful.TrialState.PRUNED]
    complete = [t for t in trials if t.state == tuneful.TrialState.COMPLETE]
    assert pruned and complete
    assert all(sorted(t.intermediate) == list(range(1, 10)) for t in complete)
    assert all(len(t.intermediate) < 9 for t in pruned)
    rows = search.cv_results_["trial_state"] == "PRUNED"
    assert np.isnan(search.cv_results_["mean_test_score"][rows]).all()
    assert search.best_score_ == pytest.approx(search.study_.best_value)
    assert search.best_estimator_.predict(X[:5]).shape == (5,)


def test_partial_fit_iterations_need_an_estimator_with_partial_fit() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": tuneful.Int(1, 5)},
        n_trials=2,
        partial_fit_iterations=3,
    )
    with pytest.raises(StudyError, match="KNeighborsClassifier has no partial_fit"):
        search.fit(X, y)


# -- estimator protocol --------------------------------------------------------------------
def test_clone_get_params_and_set_params_round_trip() -> None:
    space = {"n_neighbors": tuneful.Int(1, 10)}
    search = TunefulSearchCV(
        KNeighborsClassifier(), space, n_trials=3, scheduler="median", storage="memory://"
    )
    params = search.get_params()
    assert params["n_trials"] == 3 and params["scheduler"] == "median"
    assert params["estimator__n_neighbors"] == 5
    copy = clone(search)
    assert copy.get_params()["space"] == space and copy.get_params()["n_trials"] == 3
    search.set_params(n_trials=4, estimator__weights="distance", optimizer="random")
    assert search.n_trials == 4 and search.estimator.weights == "distance"
    assert search.optimizer == "random"


def test_predictions_are_delegated_to_the_refitted_best_estimator() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        GaussianNB(),
        {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)},
        n_trials=3,
        cv=3,
        random_state=1,
    ).fit(X, y)
    best = search.best_estimator_
    assert best.get_params()["var_smoothing"] == search.best_params_["var_smoothing"]
    np.testing.assert_array_equal(search.predict(X), best.predict(X))
    np.testing.assert_allclose(search.predict_proba(X), best.predict_proba(X))
    assert search.score(X, y) == best.score(X, y)
    np.testing.assert_array_equal(search.classes_, [0, 1, 2])
    assert search.n_features_in_ == 4 and search.n_splits_ == 3 and search.refit_time_ >= 0
    assert search.multimetric_ is False and callable(search.scorer_)


def test_refit_false_keeps_the_scores_but_no_estimator() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        GaussianNB(),
        {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)},
        n_trials=2,
        cv=2,
        refit=False,
    ).fit(X, y)
    assert hasattr(search, "best_params_") and not hasattr(search, "best_estimator_")
    with pytest.raises(AttributeError):
        search.predict(X)


def test_conditional_parameters_are_left_unset_when_inactive() -> None:
    X, y = _iris()
    space = tuneful.Space(
        weights=tuneful.Categorical(["uniform", "distance"]),
        p=tuneful.Int(1, 2, when={"weights": "distance"}),
    )
    search = TunefulSearchCV(KNeighborsClassifier(), space, n_trials=6, cv=2, optimizer="grid").fit(
        X, y
    )
    results = search.cv_results_
    for row, params in enumerate(results["params"]):
        assert ("p" in params) == (params["weights"] == "distance")
        assert bool(results["param_p"].mask[row]) == ("p" not in params)
    assert len(results["params"]) == 3  # uniform; distance with p=1, p=2


def test_n_jobs_fits_folds_in_parallel_with_the_same_scores() -> None:
    X, y = _iris()
    kwargs: dict[str, Any] = {"n_trials": 4, "cv": 4, "optimizer": "grid"}
    space = {"n_neighbors": tuneful.Categorical([1, 5, 15, 45])}
    one = TunefulSearchCV(KNeighborsClassifier(), space, **kwargs).fit(X, y)
    with parallel_config(backend="threading"):
        two = TunefulSearchCV(KNeighborsClassifier(), space, n_jobs=2, **kwargs).fit(X, y)
        pruned = TunefulSearchCV(
            KNeighborsClassifier(), space, n_jobs=2, scheduler="asha", **kwargs
        ).fit(X, y)
    assert _means(two) == pytest.approx(_means(one))
    assert len(pruned.cv_results_["params"]) == 4
    assert pruned.best_score_ == pytest.approx(one.best_score_)


def test_groups_go_to_the_splitter() -> None:
    X, y = _iris()
    groups = np.arange(len(y)) % 3
    search = TunefulSearchCV(
        GaussianNB(),
        {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)},
        n_trials=2,
        cv=GroupKFold(n_splits=3),
    ).fit(X, y, groups=groups)
    assert search.n_splits_ == 3
    with pytest.raises(ValueError, match="groups"):
        TunefulSearchCV(
            GaussianNB(),
            {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)},
            n_trials=1,
            cv=GroupKFold(n_splits=3),
        ).fit(X, y)


# -- failures ------------------------------------------------------------------------------
class _Fragile(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; its fit raises when ``fail``."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def fit(self, X: Any, y: Any) -> _Fragile:
        if self.fail:
            raise RuntimeError("fragile fit failed on purpose")
        values, counts = np.unique(y, return_counts=True)
        self.classes_ = values
        self.majority_ = values[np.argmax(counts)]
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.full(len(X), self.majority_)


def test_error_score_number_fails_the_trial_not_the_search() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        _Fragile(),
        {"fail": tuneful.Categorical([False, True])},
        n_trials=2,
        cv=3,
        optimizer="grid",
        error_score=-1.0,
    )
    with pytest.warns(FitFailedWarning, match="fragile fit failed"):
        search.fit(X, y)
    results = search.cv_results_
    failed = [row for row, p in enumerate(results["params"]) if p["fail"]]
    assert len(failed) == 1 and results["trial_state"][failed[0]] == "FAIL"
    assert results["split0_test_score"][failed[0]] == -1.0
    assert results["mean_test_score"][failed[0]] == -1.0  # as GridSearchCV: error_score counts
    trial = search.study_.get_trial(int(results["trial_number"][failed[0]]))
    assert trial.state == tuneful.TrialState.FAIL and "fragile fit failed" in (trial.error or "")
    assert search.best_params_ == {"fail": False}


def test_error_score_raise_propagates_and_fails_the_trial() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        _Fragile(fail=True),
        {"fail": tuneful.Categorical([True])},
        n_trials=1,
        cv=2,
        error_score="raise",
        storage="memory://",
    )
    with pytest.raises(RuntimeError, match="fragile fit failed"):
        search.fit(X, y)
    (trial,) = search.study_.trials
    assert trial.state == tuneful.TrialState.FAIL and "fragile fit failed" in (trial.error or "")


def test_every_fit_failing_raises_as_gridsearchcv_does() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        _Fragile(fail=True), {"fail": tuneful.Categorical([True])}, n_trials=1, cv=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitFailedWarning)
        with pytest.raises(ValueError, match="All the 2 fits failed"):
            search.fit(X, y)


# -- multi-metric --------------------------------------------------------------------------
def test_multimetric_scoring_maximizes_the_refit_metric() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": tuneful.Int(1, 40)},
        n_trials=5,
        cv=3,
        scoring={"acc": "accuracy", "bal": "balanced_accuracy"},
        refit="bal",
        return_train_score=True,
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert search.multimetric_ and set(search.scorer_) == {"acc", "bal"}
    for key in ("mean_test_acc", "mean_test_bal", "rank_test_bal", "split2_train_acc"):
        assert key in results
    assert search.best_score_ == results["mean_test_bal"][search.best_index_]
    values = {t.number: t.value for t in search.study_.trials}
    for row, number in enumerate(results["trial_number"]):
        assert values[number] == pytest.approx(results["mean_test_bal"][row])


def test_multimetric_without_a_refit_name_is_refused_like_gridsearchcv() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": tuneful.Int(1, 40)},
        n_trials=2,
        scoring=["accuracy", "balanced_accuracy"],
    )
    with pytest.raises(ValueError, match="refit must be set to a scorer key"):
        search.fit(X, y)
    search.set_params(refit=False).fit(X, y)
    assert not hasattr(search, "best_index_") and "mean_test_accuracy" in search.cv_results_


# -- storage -------------------------------------------------------------------------------
def test_sqlite_storage_keeps_the_study_for_load_study_and_unpickling(tmp_path: Path) -> None:
    X, y = _iris()
    url = f"sqlite:///{tmp_path / 'search.db'}"
    search = TunefulSearchCV(
        GaussianNB(),
        {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)},
        n_trials=3,
        cv=2,
        storage=url,
        study_name="nb",
        random_state=0,
    ).fit(X, y)
    study = tuneful.load_study("nb", storage=url)
    assert len(study.trials) == 3 and study.direction == "maximize"
    assert study.best_value == pytest.approx(search.best_score_)
    restored = pickle.loads(pickle.dumps(search))
    assert [t.number for t in restored.study_.trials] == [0, 1, 2]
    with pytest.raises(tuneful.errors.DuplicateStudyError):
        clone(search).fit(X, y)  # a new fit makes a new study: the name is taken


def test_memory_study_is_not_pickled_and_says_so() -> None:
    X, y = _iris()
    search = TunefulSearchCV(
        GaussianNB(), {"var_smoothing": tuneful.Float(1e-10, 1e-6, log=True)}, n_trials=1, cv=2
    ).fit(X, y)
    restored = pickle.loads(pickle.dumps(search))
    np.testing.assert_array_equal(restored.predict(X), search.predict(X))
    assert len(search.study_.trials) == 1  # pickling leaves the original's study open
    with pytest.raises(AttributeError, match="memory:// storage, which is not pickled"):
        restored.study_  # noqa: B018


# -- what is refused -----------------------------------------------------------------------
def test_optuna_distributions_are_refused_naming_the_tuneful_parameter() -> None:
    distributions = pytest.importorskip("optuna.distributions")
    X, y = _iris()
    space = {"C": distributions.FloatDistribution(1e-3, 10.0, log=True)}
    with pytest.raises(SpaceError, match=re.escape("tuneful.Float(0.001, 10.0, log=True)")):
        TunefulSearchCV(GaussianNB(), space).fit(X, y)
    space = {"k": distributions.IntDistribution(1, 9, step=2)}
    with pytest.raises(SpaceError, match=re.escape("tuneful.Int(1, 9, step=2)")):
        TunefulSearchCV(GaussianNB(), space).fit(X, y)
    space = {"w": distributions.CategoricalDistribution(["a", "b"])}
    with pytest.raises(SpaceError, match=re.escape("tuneful.Categorical(['a', 'b'])")):
        TunefulSearchCV(GaussianNB(), space).fit(X, y)


def test_lists_and_scipy_distributions_are_refused() -> None:
    X, y = _iris()
    with pytest.raises(SpaceError, match=re.escape("tuneful.Categorical([1, 5, 9])")):
        TunefulSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 5, 9]}).fit(X, y)
    stats = pytest.importorskip("scipy.stats")
    with pytest.raises(SpaceError, match="scipy.stats distribution"):
        TunefulSearchCV(GaussianNB(), {"var_smoothing": stats.loguniform(1e-9, 1e-6)}).fit(X, y)
    with pytest.raises(SpaceError, match="list of grids"):
        TunefulSearchCV(GaussianNB(), [{"var_smoothing": tuneful.Float(0.1, 1)}]).fit(X, y)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("n_trials", 0),
        ("n_trials", 2.5),
        ("partial_fit_iterations", 0),
        ("random_state", "x"),
        ("timeout", -1),
    ],
)
def test_bad_counts_and_seeds_are_refused_naming_the_option(option: str, value: Any) -> None:
    X, y = _iris()
    search = TunefulSearchCV(SGDClassifier(), {"alpha": tuneful.Float(1e-5, 1.0, log=True)})
    search.set_params(**{option: value})
    with pytest.raises(StudyError, match=f"TunefulSearchCV {option}="):
        search.fit(X, y)


def test_missing_sklearn_raises_missing_dependency_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    for name in [m for m in sys.modules if m.startswith("tuneful.integrations.")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'tuneful[sklearn]'")):
        import tuneful.integrations.sklearn  # noqa: F401


# -- the documentation's example ---------------------------------------------------------
def test_the_documented_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102
    search = namespace["search"]
    assert "PRUNED" in set(search.cv_results_["trial_state"])
