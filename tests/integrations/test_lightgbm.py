"""The LightGBM pruning callback against the real library, on a small breast-cancer split."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.errors import MissingDependencyError, TrialError

lgb = pytest.importorskip("lightgbm")
datasets = pytest.importorskip("sklearn.datasets")

from tuneful.integrations.lightgbm import TunefulPruningCallback  # noqa: E402

ROUNDS = 27
BASE = {"objective": "binary", "metric": "binary_logloss", "verbose": -1, "num_threads": 1}


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = datasets.load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:300]
    x, y = x[order], y[order]
    return x[:200], y[:200], x[200:], y[200:]


def _space() -> tuneful.Space:
    return tuneful.Space(
        learning_rate=tuneful.Float(1e-3, 1.0, log=True), num_leaves=tuneful.Int(2, 8)
    )


def _asha_study(direction: str = "minimize") -> tuneful.Study:
    return tuneful.create_study(
        space=_space(),
        direction=direction,
        storage="memory://",
        optimizer="random",
        scheduler={"name": "asha", "settings": {"max_budget": ROUNDS}},
        seed=3,
    )


def _assert_pruned_with_curves(study: tuneful.Study) -> None:
    pruned = study.get_trials(["PRUNED"])
    complete = study.get_trials(["COMPLETE"])
    assert pruned and complete
    for record in pruned:
        steps = sorted(record.intermediate)
        assert steps == list(range(1, len(steps) + 1))  # one report per boosting round
        assert steps[-1] < ROUNDS  # its training ended early
        assert "pruned" in record.system_attrs
    for record in complete:
        assert sorted(record.intermediate) == list(range(1, ROUNDS + 1))


def test_train_prunes_and_records_curves(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data

    def objective(trial: tuneful.Trial) -> float:
        train_set = lgb.Dataset(x_train, label=y_train)
        valid_set = lgb.Dataset(x_valid, label=y_valid, reference=train_set)
        booster = lgb.train(
            BASE | trial.params,
            train_set,
            num_boost_round=ROUNDS,
            valid_sets=[valid_set],
            callbacks=[TunefulPruningCallback(trial, "binary_logloss")],
        )
        return float(booster.best_score["valid_0"]["binary_logloss"])

    study = _asha_study()
    study.optimize(objective, n_trials=10, show_progress_bar=False)
    _assert_pruned_with_curves(study)
    best = study.best_trial
    assert best.value == pytest.approx(best.intermediate[ROUNDS])


def test_sklearn_api_prunes_with_named_eval_set(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data

    def objective(trial: tuneful.Trial) -> float:
        model = lgb.LGBMClassifier(n_estimators=ROUNDS, verbose=-1, n_jobs=1, **trial.params)
        model.fit(
            x_train,
            y_train,
            eval_X=(x_valid,),
            eval_y=(y_valid,),
            eval_names=["holdout"],
            eval_metric="auc",
            callbacks=[TunefulPruningCallback(trial, "auc", valid_name="holdout")],
        )
        return float(model.evals_result_["holdout"]["auc"][-1])

    study = _asha_study("maximize")
    study.optimize(objective, n_trials=10, show_progress_bar=False)
    _assert_pruned_with_curves(study)


def test_cv_reports_the_mean_over_folds(data: Any) -> None:
    x_train, y_train, _, _ = data
    study = tuneful.create_study(space=_space(), storage="memory://", scheduler="none", seed=0)
    trial = study.ask({"learning_rate": 0.3, "num_leaves": 4})
    table = lgb.cv(
        BASE | trial.params,
        lgb.Dataset(x_train, label=y_train),
        num_boost_round=5,
        nfold=3,
        seed=0,
        callbacks=[TunefulPruningCallback(trial, "binary_logloss")],
    )
    curve = trial.record().intermediate
    assert sorted(curve) == [1, 2, 3, 4, 5]
    expected = list(table["valid binary_logloss-mean"])
    assert [curve[s] for s in range(1, 6)] == pytest.approx(expected)


def test_early_stopping_round_is_on_the_curve(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    study = tuneful.create_study(space=_space(), storage="memory://", scheduler="none", seed=0)
    trial = study.ask({"learning_rate": 1.0, "num_leaves": 8})
    train_set = lgb.Dataset(x_train, label=y_train)
    booster = lgb.train(
        BASE | trial.params,
        train_set,
        num_boost_round=200,
        valid_sets=[lgb.Dataset(x_valid, label=y_valid, reference=train_set)],
        callbacks=[
            TunefulPruningCallback(trial, "binary_logloss"),
            lgb.early_stopping(2, verbose=False),
        ],
    )
    curve = trial.record().intermediate
    assert max(curve) == booster.best_iteration + 2 < 200


def test_ask_tell_trial_raises_pruned_when_stopped(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    study = _asha_study()
    states = []
    for _ in range(8):
        trial = study.ask()
        train_set = lgb.Dataset(x_train, label=y_train)
        valid_set = lgb.Dataset(x_valid, label=y_valid, reference=train_set)
        callback = TunefulPruningCallback(trial, "binary_logloss")
        try:
            lgb.train(
                BASE | trial.params, train_set, ROUNDS, valid_sets=[valid_set], callbacks=[callback]
            )
        except tuneful.Pruned:
            assert trial.should_stop()
            study.tell(trial, state="PRUNED")
        else:
            study.tell(trial, trial.record().intermediate[ROUNDS])
        states.append(study.get_trial(trial.number).state.value)
    assert "PRUNED" in states and "COMPLETE" in states


def test_unknown_metric_names_it_and_lists_the_available_ones(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    train_set = lgb.Dataset(x_train, label=y_train)
    with pytest.raises(TrialError) as info:
        lgb.train(
            BASE,
            train_set,
            num_boost_round=3,
            valid_sets=[lgb.Dataset(x_valid, label=y_valid, reference=train_set)],
            callbacks=[TunefulPruningCallback(study.ask(), "auc")],
        )
    message = str(info.value)
    assert "valid_0's auc" in message and "valid_0's binary_logloss" in message


def test_metric_maximized_in_a_minimizing_study_is_refused(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    train_set = lgb.Dataset(x_train, label=y_train)
    with pytest.raises(TrialError, match="maximizes 'auc'.*direction='maximize'"):
        lgb.train(
            BASE | {"metric": "auc"},
            train_set,
            num_boost_round=3,
            valid_sets=[lgb.Dataset(x_valid, label=y_valid, reference=train_set)],
            callbacks=[TunefulPruningCallback(study.ask(), "auc")],
        )


@pytest.mark.parametrize(("metric", "valid_name"), [("", None), (3, None), ("auc", "")])
def test_malformed_names_are_refused(metric: Any, valid_name: Any) -> None:
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    with pytest.raises(TrialError, match="expected a non-empty string"):
        TunefulPruningCallback(study.ask(), metric, valid_name=valid_name)


def test_docs_example_runs_and_prunes() -> None:
    study = _run_doc_example("lightgbm")["study"]
    assert len(study.trials) == 12
    assert study.get_trials(["PRUNED"]) and study.get_trials(["COMPLETE"])


def test_missing_lightgbm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.lightgbm")
    with pytest.raises(MissingDependencyError, match=r"tuneful\[lightgbm\]"):
        importlib.import_module("tuneful.integrations.lightgbm")


def _run_doc_example(name: str) -> dict[str, Any]:
    """Run the example marked ``<!-- example: NAME -->`` in the integration's docs page."""
    page = Path(__file__).parents[2] / "docs" / "integrations" / "xgboost-lightgbm.md"
    text = page.read_text(encoding="utf-8")
    code = text.split(f"<!-- example: {name} -->\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, str(page), "exec"), namespace)
    return namespace
