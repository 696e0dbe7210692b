"""``tuneful ls``, ``show``, ``export`` and ``delete``."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
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


def _define_by_run(url: str) -> tuneful.Study:
    study = tuneful.create_study("dbr", storage=url, seed=0)

    def objective(trial: tuneful.Trial) -> float:
        rate = trial.suggest_float("alpha_rate", 0.0, 1.0)
        depth = trial.suggest_int("beta_depth", 1, 4)
        return rate + depth

    study.optimize(objective, n_trials=5, show_progress_bar=False)
    return study


def test_show_and_export_list_each_define_by_run_parameter_once(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'dbr.db'}"
    _define_by_run(url)
    shown = cli("show", "dbr", "--storage", url)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("alpha_rate") == 1 and shown.stdout.count("beta_depth") == 1
    exported = cli("export", "dbr", "--storage", url)
    header = exported.stdout.splitlines()[0].split(",")
    assert header.count("params.alpha_rate") == 1 and header.count("params.beta_depth") == 1
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 5 and all(len(row) == len(header) for row in rows)


def test_export_refuses_to_overwrite_the_storage_file(
    cli: Callable[..., Any], storage: str, tmp_path: Path, one_line_error: Callable[..., str]
) -> None:
    database = tmp_path / "studies.db"
    before = database.read_bytes()
    for target, extra in (
        ("studies.db", ()),
        (str(database), ("--force",)),
        ("./studies.db-wal", ("--force",)),
    ):
        error = one_line_error(
            cli("export", "single", "--storage", storage, "--output", target, *extra),
            "the storage's own file",
        )
        assert "destroy" in error
    assert database.read_bytes() == before
    assert [s.name for s in tuneful.list_studies(storage=storage)] == ["single", "pair"]


def test_export_refuses_to_overwrite_a_file_without_force(
    cli: Callable[..., Any], storage: str, tmp_path: Path, one_line_error: Callable[..., str]
) -> None:
    target = tmp_path / "notes.csv"
    target.write_text("precious\n")
    one_line_error(
        cli("export", "single", "--storage", storage, "--output", str(target)), "--force"
    )
    assert target.read_text() == "precious\n"
    result = cli("export", "single", "--storage", storage, "--output", str(target), "--force")
    assert result.returncode == 0, result.stderr
    assert target.read_text().startswith("number,state,value")
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ls_counts_running_and_waiting_trials(cli: Callable[..., Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    study = tuneful.create_study("live", space=SPACE, storage=url, seed=0)
    study.optimize(lambda t: t.params["x"] ** 2, n_trials=2, show_progress_bar=False)
    study.ask()  # running: asked, not told
    study.enqueue({"x": 0.5, "kind": "a"})  # waiting
    result = cli("ls", "--storage", url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    row = next(line for line in lines if line.startswith("│") and "live" in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    counts = dict(zip(columns, cells, strict=True))
    assert counts["trials"] == "4"
    assert (counts["complete"], counts["running"], counts["waiting"]) == ("2", "1", "1")
    assert counts["pruned"] == counts["fail"] == "0"


def test_stored_text_cannot_send_terminal_escapes(cli: Callable[..., Any], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'evil.db'}"
    name = "evil\x1b[2J"
    study = tuneful.create_study("evil-to-be", storage=url, seed=0)

    def objective(trial: tuneful.Trial) -> float:
        trial.suggest_categorical("title\x1b]0;owned\x07", ["\x1b[31mred", "plain"])
        trial.set_user_attr("note", "\x9b2Jcsi")
        if trial.number == 1:
            raise ValueError("boom\x1b[2J\rover")
        return float(trial.number)

    study.optimize(objective, n_trials=3, show_progress_bar=False, catch=(ValueError,))
    # New names may not hold control characters; one written by an older release or another
    # tool must still be shown safely.
    with sqlite3.connect(tmp_path / "evil.db") as conn:
        conn.execute("UPDATE tuneful_studies SET name = ? WHERE name = 'evil-to-be'", (name,))
    outputs = [
        cli("ls", "--storage", url),
        cli("show", name, "--storage", url),
        cli("show", name, "--storage", url, "--trial", "0"),
        cli("show", name, "--storage", url, "--trial", "1"),
        cli("show", "evil", "--storage", url),  # the error lists the stored names
        cli("delete", name, "--storage", url),  # the refusal names the study
    ]
    for result in outputs:
        text = result.stdout + result.stderr
        assert text.strip()
        for char in ("\x1b", "\x07", "\x9b", "\r"):
            assert char not in text, (char, text)
    assert "evil\\x1b[2J" in outputs[0].stdout
    assert "title\\x1b]0;owned\\x07" in outputs[1].stdout
    assert "ValueError: boom\\x1b[2J" in outputs[1].stdout
    assert "\\x9b2Jcsi" in outputs[2].stdout


def test_ls_of_a_missing_file_creates_nothing(cli: Callable[..., Any], tmp_path: Path) -> None:
    for target in ("nothere.db", "sqlite:///sub/nothere.db", f"sqlite:///{tmp_path}/x.sqlite"):
        result = cli("ls", "--storage", target)
        assert result.returncode == 0 and "does not exist" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_read_commands_leave_another_applications_database_alone(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    before = path.read_bytes()
    cli("ls", "--storage", str(path))
    cli("show", "x", "--storage", str(path))
    cli("export", "x", "--storage", str(path))
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert tables == {"notes"} and mode == "delete"
    assert path.read_bytes() == before


def test_read_commands_work_in_a_read_only_folder(
    cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    database = folder / "studies.db"
    with sqlite3.connect(tmp_path / "studies.db") as source, sqlite3.connect(database) as copy:
        source.backup(copy)  # the whole database, including what is still in its WAL file
    url = f"sqlite:///{database}"
    folder.chmod(0o555)
    try:
        assert cli("ls", "--storage", url).returncode == 0
        result = cli("show", "single", "--storage", url)
        assert result.returncode == 0, result.stderr
        assert cli("export", "single", "--storage", url).returncode == 0
    finally:
        folder.chmod(0o755)


def test_export_to_a_terminal_escapes_control_characters(
    cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    url = f"sqlite:///{tmp_path / 'evil.db'}"
    study = tuneful.create_study("evil", storage=url, seed=0)
    study.optimize(
        lambda t: float(len(t.suggest_categorical("c", ["\x1b]0;owned\x07", "b"]))),
        n_trials=4,
        show_progress_bar=False,
    )
    piped = cli("export", "evil", "--storage", url)
    assert "\x1b]0;owned\x07" in piped.stdout  # into a pipe or a file: the data as stored
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    shown = cli("export", "evil", "--storage", url)
    assert "\x1b" not in shown.stdout and "\\x1b]0;owned\\x07" in shown.stdout
