"""``tuneful ls``, ``show``, ``export`` and ``delete``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.records import TrialState

SPACE = tuneful.Space(
    x=tuneful.Float(-2.0, 2.0),
    kind=tuneful.Categorical(["a", "b"]),
    scale=tuneful.Float(0.1, 10.0, log=True, when={"kind": "b"}),
)


def objective(trial: tuneful.Trial) -> float:
    params = trial.params
    if params["x"] > 1.5:
        raise ValueError("x is too large")
    trial.report(step=0, value=1.0)
    trial.set_user_attr("note", "ok")
    return params["x"] ** 2 + params.get("scale", 0.0)


@pytest.fixture
def storage(tmp_path: Path) -> str:
    """A storage holding study 'single' (12 trials, some failed) and a two-objective one."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    study = tuneful.create_study("single", space=SPACE, storage=url, seed=3)
    study.optimize(objective, n_trials=12, show_progress_bar=False)
    both = tuneful.create_study(
        "pair", space=SPACE, directions=["minimize", "maximize"], storage=url, seed=4
    )
    both.optimize(
        lambda t: (t.params["x"] ** 2, t.params["x"]), n_trials=8, show_progress_bar=False
    )
    return url


def test_ls_lists_the_studies(cli: Callable[..., Any], storage: str) -> None:
    result = cli("ls", "--storage", storage)
    assert result.returncode == 0, result.stderr
    assert "single" in result.stdout and "pair" in result.stdout
    assert "minimize, maximize" in result.stdout
    best = tuneful.load_study("single", storage=storage).best_value
    assert f"{best:.6g}" in result.stdout


def test_ls_without_a_database_creates_nothing(cli: Callable[..., Any], tmp_path: Path) -> None:
    result = cli("ls")
    assert result.returncode == 0 and "No studies" in result.stdout
    assert not (tmp_path / "tuneful.db").exists()


def test_show_lists_the_best_trials(cli: Callable[..., Any], storage: str) -> None:
    result = cli("show", "single", "--storage", storage, "--top", "3")
    assert result.returncode == 0, result.stderr
    study = tuneful.load_study("single", storage=storage)
    for label in ("directions", "minimize", "optimizer", "seed", "3", "storage"):
        assert label in result.stdout
    assert "Best 3 of" in result.stdout
    assert f"{study.best_value:.6g}" in result.stdout
    assert "Last failure" in result.stdout and "ValueError: x is too large" in result.stdout


def test_show_one_trial_in_full(cli: Callable[..., Any], storage: str) -> None:
    study = tuneful.load_study("single", storage=storage)
    failed = next(t for t in study.trials if t.state is tuneful.TrialState.FAIL)
    result = cli("show", "single", "--storage", storage, "--trial", str(failed.number))
    assert result.returncode == 0
    assert "FAIL" in result.stdout and "Traceback" in result.stdout  # the stored error text
    assert f"proposed by: {failed.system_attrs['optimizer']}" in result.stdout


def test_show_a_pareto_front(cli: Callable[..., Any], storage: str) -> None:
    result = cli("show", "pair", "--storage", storage)
    assert result.returncode == 0, result.stderr
    front = tuneful.load_study("pair", storage=storage).best_trials
    assert f"Pareto front: {len(front)} trial(s)" in result.stdout


def test_show_a_missing_study_suggests_a_name(
    cli: Callable[..., Any], storage: str, one_line_error: Callable[..., str]
) -> None:
    error = one_line_error(cli("show", "singel", "--storage", storage), "singel")
    assert "did you mean 'single'" in error
    one_line_error(cli("show", "single"), "does not exist")  # ./tuneful.db


def test_export_csv(storage: str, run_cli: Callable[..., Any]) -> None:
    result = run_cli("export", "single", "--format", "csv", "--storage", storage)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    trials = tuneful.load_study("single", storage=storage).trials
    assert len(rows) == len(trials)
    assert {"number", "state", "value", "params.x", "params.kind", "params.scale"} <= set(rows[0])
    for row, trial in zip(rows, trials, strict=True):
        assert float(row["params.x"]) == trial.params["x"]  # full precision
        assert row["params.scale"] == (
            "" if "scale" not in trial.params else repr(trial.params["scale"])
        )
        assert row["state"] == trial.state.value
        assert row["value"] == ("" if trial.value is None else repr(trial.value))
        assert row["system_attrs.optimizer"] == trial.system_attrs["optimizer"]  # auto's pick
    # The objective reports a curve, so auto treats it as a multi-fidelity study: the Sobol
    # start-up, then the GP on the best-observed budget.
    assert {row["system_attrs.optimizer"] for row in rows} <= {"sobol", "gp"}
    assert rows[0]["system_attrs.optimizer"] == "sobol"


def test_export_json_to_a_file(cli: Callable[..., Any], storage: str, tmp_path: Path) -> None:
    out = tmp_path / "trials.json"
    result = cli("export", "single", "--output", str(out), "--storage", storage)
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    trials = tuneful.load_study("single", storage=storage).trials
    assert data == [json.loads(json.dumps(t.to_dict())) for t in trials]


def test_export_multi_objective_csv(cli: Callable[..., Any], storage: str) -> None:
    result = cli("export", "pair", "--format", "csv", "--storage", storage)
    header = result.stdout.splitlines()[0].split(",")
    assert "values.0" in header and "values.1" in header


def test_delete_needs_yes_without_a_terminal(
    storage: str, run_cli: Callable[..., Any], one_line_error: Callable[..., str]
) -> None:
    one_line_error(run_cli("delete", "single", "--storage", storage), "--yes")
    assert "single" in [s.name for s in tuneful.list_studies(storage=storage)]
    result = run_cli("delete", "single", "--storage", storage, "--yes")
    assert result.returncode == 0, result.stderr
    assert "Deleted study single" in result.stdout
    assert [s.name for s in tuneful.list_studies(storage=storage)] == ["pair"]


def test_show_explains_a_model_decision(cli: Callable[..., Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    study = tuneful.create_study(
        "curves",
        space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
        storage=url,
        scheduler={"name": "curve", "settings": {"max_budget": 9, "min_curves": 4}},
        seed=0,
    )

    def objective(trial: tuneful.Trial) -> float:
        x = trial.params["x"]
        for budget in trial.budgets():
            trial.report(step=budget, value=x + 1.0 / budget)
        return x + 1.0 / 9

    study.optimize(objective, n_trials=40, show_progress_bar=False)
    by_model = [
        t
        for t in study.trials
        if t.state is TrialState.PRUNED
        and t.system_attrs[f"rung_{t.system_attrs['pruned']['rung']}"]["rule"] == "model"
    ]
    assert by_model
    shown = cli("show", "curves", "--trial", str(by_model[0].number), "--storage", url)
    assert shown.returncode == 0, shown.stderr
    assert "predicted final" in shown.stdout and "leave-one-out error" in shown.stdout
    assert "stopped at step" in shown.stdout
