"""Constraints on the command line: the spec's ``constraints: {json_keys: [...]}``, read from
the program's JSON output, shown by ``tuneful show`` and written by ``tuneful export``."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import tuneful
from tuneful import TrialState
from tuneful.errors import SpecError
from tuneful.spec import parse_spec

#: loss = x^2 + y^2; "need" = 1 - x (feasible when x >= 1); "extra" = y - 2 (always <= 0);
#: BROKEN selects what goes wrong: a missing key or a value that is not a number.
PROGRAM = """\
import json, sys
x, y, broken = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
out = {"loss": x * x + y * y, "need": 1 - x + float(sys.argv[4]), "extra": y - 2}
if broken == "missing":
    del out["need"]
elif broken == "text":
    out["need"] = "abc"
print(json.dumps(out))
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    (tmp_path / "prog.py").write_text(PROGRAM)

    def write_spec(broken: str = "none", shift: float = 0.0, **changes: Any) -> Path:
        spec: dict[str, Any] = {
            "name": "con",
            "command": f"python prog.py {{x}} {{y}} {broken} {shift}",
            "space": {
                "x": {"type": "float", "low": -3, "high": 3},
                "y": {"type": "float", "low": -1, "high": 1},
            },
            "metric": {"json_key": "loss"},
            "constraints": {"json_keys": ["need", "extra"]},
            "optimizer": "random",
            "seed": 0,
            "n_trials": 12,
            "storage": "c.db",
        }
        spec.update(changes)
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(spec))
        return path

    return write_spec


def _parse(tmp_path: Path, **changes: Any) -> Any:
    data = {
        "name": "s",
        "command": "python prog.py {x}",
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "metric": {"json_key": "loss"},
        "optimizer": "random",
        **changes,
    }
    (tmp_path / "prog.py").write_text("")
    return parse_spec(data, base=tmp_path)


def test_the_spec_reads_its_constraint_keys(tmp_path: Path) -> None:
    spec = _parse(tmp_path, constraints={"json_keys": ["mem", "lat.p99"]})
    assert spec.constraint_names == ["mem", "lat.p99"]
    assert _parse(tmp_path).constraint_names == []


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        (["mem"], r"constraints: expected a mapping like \{json_keys: \[memory_over_gb"),
        ({"json_key": ["mem"]}, r"constraints: unknown key 'json_key' \(expected json_keys\)"),
        ({"json_keys": []}, r"constraints json_keys=\[\]: expected a non-empty list of JSON"),
        ({"json_keys": None}, r"constraints json_keys=None: expected a non-empty list"),
        ({"json_keys": ["mem", 3]}, r"constraints json_keys: 3 is not a non-empty string"),
        ({"json_keys": ["mem", "mem"]}, r"constraints json_keys: 'mem' is named twice"),
    ],
)
def test_a_bad_constraints_key_is_a_spec_error(
    tmp_path: Path, constraints: Any, message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        _parse(tmp_path, constraints=constraints)


def test_an_optimizer_blind_to_constraints_is_refused_up_front(tmp_path: Path) -> None:
    with pytest.raises(
        SpecError,
        match=r"constraints with optimizer: optimizer 'grid' does not handle "
        r"constraints, which this study needs: optimizers that handle constraints: auto, "
        r"cmaes, gp, nsga2, nsga3, random, sobol, tpe",
    ):
        _parse(tmp_path, constraints={"json_keys": ["mem"]}, optimizer="grid")
    _parse(tmp_path, constraints={"json_keys": ["mem"]}, optimizer=None)  # auto models them


def test_run_stores_the_printed_constraints(
    cli: Callable[..., Any], write: Callable[..., Path], tmp_path: Path
) -> None:
    result = cli("run", str(write()), "--no-progress")
    assert result.returncode == 0, result.stderr
    study = tuneful.load_study("con", storage=f"sqlite:///{tmp_path / 'c.db'}")
    trials = study.trials
    assert all(t.state is TrialState.COMPLETE for t in trials)
    for t in trials:
        assert t.constraints == pytest.approx((1 - t.params["x"], t.params["y"] - 2))
    feasible = [t for t in trials if t.feasible]
    assert 0 < len(feasible) < len(trials)
    assert f"Feasible (need, extra <= 0): {len(feasible)} of 12 completed trials" in result.stdout
    best = min(feasible, key=lambda t: t.values[0])  # type: ignore[index]
    assert f"(trial {best.number}, minimize)" in result.stdout
    assert "need (constraint)" in result.stdout


def test_a_missing_constraint_key_fails_the_trial_and_stops_the_run(
    cli: Callable[..., Any], write: Callable[..., Path], tmp_path: Path
) -> None:
    result = cli("run", str(write(broken="missing")), "--no-progress")
    assert result.returncode != 0
    assert "never printed the constraint json_key 'need'" in result.stderr
    assert "check `constraints` in the spec" in result.stderr
    study = tuneful.load_study("con", storage=f"sqlite:///{tmp_path / 'c.db'}")
    first = study.trials[0]
    assert first.state is TrialState.FAIL
    assert 'a JSON line such as {"need": 0.9}' in (first.error or "")


def test_a_constraint_that_is_not_a_number_fails_the_trial(
    cli: Callable[..., Any], write: Callable[..., Path], tmp_path: Path
) -> None:
    cli("run", str(write(broken="text")), "--no-progress", "--n-trials", "2")
    study = tuneful.load_study("con", storage=f"sqlite:///{tmp_path / 'c.db'}")
    first = study.trials[0]
    assert first.state is TrialState.FAIL
    assert "the constraint json_key 'need' is 'abc', not a number" in (first.error or "")


def test_show_and_export_list_constraints_and_feasibility(
    cli: Callable[..., Any], write: Callable[..., Path]
) -> None:
    assert cli("run", str(write()), "--no-progress").returncode == 0
    shown = cli("show", "con", "--storage", "c.db")
    assert shown.returncode == 0, shown.stderr
    assert "constraints" in shown.stdout and "feasible" in shown.stdout
    assert "feasible)" in shown.stdout  # "Best 10 of 12 completed trials (k feasible)"

    exported = cli("export", "con", "--storage", "c.db", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {"constraints.0", "constraints.1", "feasible"} <= set(rows[0])
    for row in rows:
        need = 1 - float(row["params.x"])
        assert float(row["constraints.0"]) == pytest.approx(need)
        assert row["feasible"] == ("true" if need <= 0 else "false")

    as_json = json.loads(cli("export", "con", "--storage", "c.db", "--format", "json").stdout)
    assert all(len(t["constraints"]) == 2 for t in as_json)
    assert {t["feasible"] for t in as_json} == {True, False}


def test_show_says_when_no_trial_is_feasible(
    cli: Callable[..., Any], write: Callable[..., Path]
) -> None:
    result = cli("run", str(write(shift=10.0)), "--no-progress", "--n-trials", "3")
    assert "no feasible trial among 3 completed: the smallest violation is trial" in result.stdout
    shown = cli("show", "con", "--storage", "c.db")
    assert shown.returncode == 0, shown.stderr
    assert "no feasible trial among 3 completed" in shown.stdout
    assert " no (violation " in shown.stdout
    listed = cli("ls", "--storage", "c.db")
    assert listed.returncode == 0, listed.stderr
    trial = cli("show", "con", "--storage", "c.db", "--trial", "0")
    assert "constraints (<= 0 satisfied):" in trial.stdout and "feasible: no" in trial.stdout
