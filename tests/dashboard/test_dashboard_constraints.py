"""A study with constraints on the dashboard: the best is a feasible trial, the rows and the
opened trial say which trials are feasible."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.dashboard.app import create_app
from tuneful.dashboard.live import LiveStorage
from tuneful.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")


def _client(tmp_path: Path, told: list[tuple[float, list[float]]], n_objectives: int = 1) -> Any:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    study = tuneful.create_study(
        "constrained",
        space=tuneful.Space(x=tuneful.Float(0, 1)),
        storage=url,
        directions=["minimize"] * n_objectives,
        optimizer="random",
    )
    for value, constraints in told:
        trial = study.ask()
        values = value if n_objectives == 1 else (value, -value)
        study.tell(trial, values, constraints=constraints)
    live = LiveStorage(open_storage(url, read_only=True), interval=0.0)
    return starlette_testclient.TestClient(create_app(live))


def test_summary_best_is_the_best_feasible_value(tmp_path: Path) -> None:
    client = _client(tmp_path, [(3.0, [-1.0]), (0.5, [2.0]), (1.0, [0.0])])
    summary = client.get("/api/studies").json()["studies"][0]
    assert summary["best"] == [1.0]  # 0.5 violates its constraint
    assert summary["constrained"] is True and summary["n_feasible"] == 2


def test_summary_with_no_feasible_trial_has_no_best(tmp_path: Path) -> None:
    client = _client(tmp_path, [(3.0, [1.0]), (0.5, [2.0])], n_objectives=2)
    summary = client.get("/api/studies").json()["studies"][0]
    assert summary["best"] is None and summary["pareto_size"] == 0
    assert summary["n_feasible"] == 0


def test_rows_and_detail_say_which_trials_are_feasible(tmp_path: Path) -> None:
    client = _client(tmp_path, [(3.0, [-1.0, 0.0]), (0.5, [2.0, 0.5])])
    rows = client.get("/api/trials", params={"study": "constrained"}).json()["rows"]
    by_number = {r["number"]: r for r in rows}
    assert by_number[0]["feasible"] is True and by_number[0]["violation"] == 0.0
    assert by_number[1]["feasible"] is False and by_number[1]["violation"] == 2.5
    assert by_number[1]["constraints"] == [2.0, 0.5]
    detail = client.get("/api/trial", params={"study": "constrained", "number": 1}).json()
    assert detail["constraints"] == [2.0, 0.5] and detail["feasible"] is False


def test_unconstrained_rows_have_no_feasibility(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'u.db'}"
    study = tuneful.create_study("plain", space=tuneful.Space(x=tuneful.Float(0, 1)), storage=url)
    study.tell(study.ask(), 1.0)
    live = LiveStorage(open_storage(url, read_only=True), interval=0.0)
    client = starlette_testclient.TestClient(create_app(live))
    row = client.get("/api/trials", params={"study": "plain"}).json()["rows"][0]
    assert row["feasible"] is None and row["constraints"] is None
    summary = client.get("/api/studies").json()["studies"][0]
    assert summary["constrained"] is False
