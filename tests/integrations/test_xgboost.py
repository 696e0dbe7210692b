"""The XGBoost pruning callback against the real library, on a small breast-cancer split."""

from __future__ import annotations

import copy
import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.errors import MissingDependencyError, TrialError

xgb = pytest.importorskip("xgboost")
datasets = pytest.importorskip("sklearn.datasets")

from tuneful.integrations.xgboost import TunefulPruningCallback  # noqa: E402

ROUNDS = 27


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x, y = datasets.load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))[:300]
    x, y = x[order], y[order]
    return x[:200], y[:200], x[200:], y[200:]


def _space() -> tuneful.Space:
    return tuneful.Space(eta=tuneful.Float(1e-3, 1.0, log=True), max_depth=tuneful.Int(1, 3))


def _asha_study() -> tuneful.Study:
    return tuneful.create_study(
        space=_space(),
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
    dtrain = xgb.DMatrix(x_train, label=y_train)
    dvalid = xgb.DMatrix(x_valid, label=y_valid)

    def objective(trial: tuneful.Trial) -> float:
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1}
        params.update(trial.params)
        history: dict[str, Any] = {}
        xgb.train(
            params,
            dtrain,
            num_boost_round=ROUNDS,
            evals=[(dvalid, "eval")],
            evals_result=history,
            verbose_eval=False,
            callbacks=[TunefulPruningCallback(trial, "eval-logloss")],
        )
        return float(history["eval"]["logloss"][-1])

    study = _asha_study()
    study.optimize(objective, n_trials=10, show_progress_bar=False)
    _assert_pruned_with_curves(study)
    best = study.best_trial
    assert best.value == pytest.approx(best.intermediate[ROUNDS])


def test_sklearn_api_prunes_with_pair_key(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data

    def objective(trial: tuneful.Trial) -> float:
        model = xgb.XGBClassifier(
            n_estimators=ROUNDS,
            eval_metric="logloss",
            n_jobs=1,
            callbacks=[TunefulPruningCallback(trial, ("validation_0", "logloss"))],
            learning_rate=trial.params["eta"],
            max_depth=trial.params["max_depth"],
        )
        model.fit(x_train, y_train, eval_set=[(x_valid, y_valid)], verbose=False)
        return float(model.evals_result()["validation_0"]["logloss"][-1])

    study = _asha_study()
    study.optimize(objective, n_trials=10, show_progress_bar=False)
    _assert_pruned_with_curves(study)


def test_cv_reports_the_mean_over_folds(data: Any) -> None:
    x_train, y_train, _, _ = data
    study = tuneful.create_study(space=_space(), storage="memory://", scheduler="none", seed=0)
    trial = study.ask({"eta": 0.3, "max_depth": 2})
    table = xgb.cv(
        {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1},
        xgb.DMatrix(x_train, label=y_train),
        num_boost_round=5,
        nfold=3,
        seed=0,
        callbacks=[TunefulPruningCallback(trial, "test-logloss")],
    )
    curve = trial.record().intermediate
    assert sorted(curve) == [1, 2, 3, 4, 5]
    assert [curve[s] for s in range(1, 6)] == pytest.approx(list(table["test-logloss-mean"]))


def test_ask_tell_trial_raises_pruned_when_stopped(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    dtrain = xgb.DMatrix(x_train, label=y_train)
    dvalid = xgb.DMatrix(x_valid, label=y_valid)
    study = _asha_study()
    states = []
    for _ in range(8):
        trial = study.ask()
        params = {"objective": "binary:logistic", "eval_metric": "logloss", "nthread": 1}
        callback = TunefulPruningCallback(trial, "eval-logloss")
        try:
            xgb.train(
                params | trial.params,
                dtrain,
                ROUNDS,
                evals=[(dvalid, "eval")],
                verbose_eval=False,
                callbacks=[callback],
            )
        except tuneful.Pruned:
            assert trial.should_stop()
            study.tell(trial, state="PRUNED")
        else:
            study.tell(trial, trial.record().intermediate[ROUNDS])
        states.append(study.get_trial(trial.number).state.value)
    assert "PRUNED" in states and "COMPLETE" in states


def test_unknown_key_names_it_and_lists_the_available_ones(data: Any) -> None:
    x_train, y_train, x_valid, y_valid = data
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    trial = study.ask()
    with pytest.raises(TrialError) as info:
        xgb.train(
            {"eval_metric": "logloss", "nthread": 1},
            xgb.DMatrix(x_train, label=y_train),
            num_boost_round=3,
            evals=[(xgb.DMatrix(x_valid, label=y_valid), "eval")],
            verbose_eval=False,
            callbacks=[TunefulPruningCallback(trial, "validation_0-auc")],
        )
    message = str(info.value)
    assert "'validation_0-auc'" in message and "'eval-logloss'" in message


@pytest.mark.parametrize("key", ["", ("eval",), 3, ("eval", "")])
def test_malformed_key_is_refused(key: Any) -> None:
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    with pytest.raises(TrialError, match="observation_key"):
        TunefulPruningCallback(study.ask(), key)


def test_not_a_trial_is_refused() -> None:
    with pytest.raises(TrialError, match="tuneful.Trial"):
        TunefulPruningCallback("trial", "eval-logloss")  # type: ignore[arg-type]


def test_copied_callback_reports_to_the_same_trial() -> None:
    study = tuneful.create_study(space=_space(), storage="memory://", seed=0)
    callback = TunefulPruningCallback(study.ask(), "eval-logloss")
    assert copy.deepcopy(callback) is callback


def test_docs_example_runs_and_prunes() -> None:
    study = _run_doc_example("xgboost")["study"]
    assert len(study.trials) == 12
    assert study.get_trials(["PRUNED"]) and study.get_trials(["COMPLETE"])


def test_missing_xgboost_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xgboost", None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.xgboost")
    with pytest.raises(MissingDependencyError, match=r"tuneful\[xgboost\]"):
        importlib.import_module("tuneful.integrations.xgboost")


def _run_doc_example(name: str) -> dict[str, Any]:
    """Run the example marked ``<!-- example: NAME -->`` in the integration's docs page."""
    page = Path(__file__).parents[2] / "docs" / "integrations" / "xgboost-lightgbm.md"
    text = page.read_text(encoding="utf-8")
    code = text.split(f"<!-- example: {name} -->\n```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(code, str(page), "exec"), namespace)
    return namespace
