"""The Hydra sweeper: the override grammar as tuneful parameters, and real ``--multirun``
sweeps of a tiny Hydra app run as a subprocess, checked in their SQLite study."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

pytest.importorskip("hydra")

import tuneful
from tuneful.errors import SpaceError, StudyError
from tuneful.integrations.hydra import (
    TunefulSweep,
    current_trial,
    override_value,
    sweep_space,
)
from tuneful.space import Categorical, Float, Int

SRC = Path(tuneful.__file__).resolve().parents[1]
DOCS = SRC.parent / "docs" / "integrations" / "hydra.md"


# -- the space -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("interval(0.1, 0.5)", Float(0.1, 0.5)),
        ("interval(1, 10)", Float(1.0, 10.0)),
        ("tag(log, interval(1e-4, 1e-1))", Float(1e-4, 1e-1, log=True)),
        ("tag(int, interval(16, 256))", Int(16, 256)),
        ("tag(int, log, interval(16, 256))", Int(16, 256, log=True)),
        ("range(1, 4)", Int(1, 3)),
        ("range(0, 10, 2)", Int(0, 8, step=2)),
        ("range(10, 0, -2)", Int(2, 10, step=2)),
        ("shuffle(range(1, 4))", Int(1, 3)),
        ("range(0, 1, 0.25)", Float(0.0, 0.75, step=0.25)),
        ("choice(relu, tanh)", Categorical(["relu", "tanh"])),
        ("relu,tanh", Categorical(["relu", "tanh"])),
        ("choice(1, 2.5, true, 'x')", Categorical([1, 2.5, True, "x"])),
    ],
)
def test_override_grammar_maps_to_the_parameter(entry: str, expected: object) -> None:
    assert sweep_space({"p": entry}, []).space["p"] == expected


def test_native_spec_entries_and_plain_values() -> None:
    searched = sweep_space(
        {
            "opt": "choice(adam, sgd)",
            "momentum": {"type": "float", "low": 0.0, "high": 0.9, "when": {"opt": "sgd"}},
            "model.width": {"type": "int", "low": 8, "high": 64, "log": True},
            "epochs": 3,
            "name": "run one",
        },
        [],
    )
    assert searched.space["momentum"] == Float(0.0, 0.9, when={"opt": "sgd"})
    assert searched.space["model.width"] == Int(8, 64, log=True)
    assert searched.space.is_conditional
    assert set(searched.fixed) == {"epochs=3", "name=run one"}  # a string is grammar


def test_command_line_sweep_replaces_the_config_entry_and_a_value_fixes_it() -> None:
    searched = sweep_space(
        {"lr": "interval(0.1, 0.5)", "layers": "range(1, 4)"},
        ["lr=tag(log, interval(0.001, 0.01))", "layers=2", "+extra=choice(a, b)", "db=mysql"],
    )
    assert dict(searched.space) == {
        "lr": Float(0.001, 0.01, log=True),
        "extra": Categorical(["a", "b"]),
    }
    assert searched.keys == {"lr": "lr", "extra": "+extra"}
    assert set(searched.fixed) == {"layers=2", "db=mysql"}


@pytest.mark.parametrize(
    ("params", "arguments", "message"),
    [
        ({"c": "glob(*)"}, [], "'c': 'c=glob(*)' is a Glob sweep, which tuneful cannot search"),
        ({"lr": "tag(lg, interval(0.1, 1))"}, [], "unknown tag 'lg'"),
        ({"x": "choice([1, 2], [3])"}, [], "is not a scalar"),
        ({"x": "interval(1, 0)"}, [], "'x'"),
        ({"x": "tag(log, interval(0, 1))"}, [], "log=True needs low > 0"),
        ({"x": "tag(log, range(1, 9))"}, [], "tag(log, range(...)) is not a log scale"),
        ({"x": "range(1, 2)"}, [], "holds 1 value(s)"),
        ({"x": "interval(0, "}, [], "hydra.sweeper.params.x: cannot parse"),
        ({"x": {"type": "flaot", "low": 0, "high": 1}}, [], "hydra.sweeper.params.x"),
        ({"x": [1, 2]}, [], "is not a sweep"),
        ({"x": 3}, [], "nothing to search"),
        ({}, ["x=interval(a, b)"], "command-line overrides"),
    ],
)
def test_bad_sweep_param_is_a_clear_error(
    params: dict[str, object], arguments: list[str], message: str
) -> None:
    with pytest.raises(SpaceError, match=re.escape(message)):
        sweep_space(params, arguments)


@pytest.mark.parametrize(
    "value", [0.001, 1e-07, 3, True, None, "relu", "1", "true", "x y", "it's", "a\\b", "a\\"]
)
def test_override_value_reads_back_as_the_same_value(value: object) -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    (override,) = OverridesParser.create().parse_overrides([f"k={override_value(value)}"])
    assert override.value() == value and type(override.value()) is type(value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_trials": 0}, "hydra.sweeper.n_trials=0"),
        ({"n_jobs": 1.5}, "hydra.sweeper.n_jobs=1.5"),
        ({"direction": "minimise"}, "'minimise' is not 'minimize' or 'maximize'"),
        ({"direction": []}, "hydra.sweeper.direction=[]"),
        ({"directions": ["maximise"]}, "hydra.sweeper.directions: 'maximise' is not"),
        ({"direction": "minimize", "directions": ["minimize"]}, "not both"),
        ({"fail_fast": -1}, "hydra.sweeper.fail_fast=-1"),
        ({"storage": ""}, "hydra.sweeper.storage=''"),
        ({"params": ["lr"]}, "hydra.sweeper.params=['lr']"),
    ],
)
def test_bad_sweeper_option_names_it(options: dict[str, object], message: str) -> None:
    with pytest.raises(StudyError, match=re.escape(message)):
        TunefulSweep(**options)  # type: ignore[arg-type]


def test_plugin_schema_sweep_options_and_documentation_agree() -> None:
    import dataclasses
    import inspect

    from hydra_plugins.tuneful_sweeper.tuneful_sweeper import TunefulSweeperConf
    from tuneful.integrations.hydra import SWEEPER_OPTIONS

    schema = {f.name for f in dataclasses.fields(TunefulSweeperConf)} - {"_target_"}
    accepted = set(inspect.signature(TunefulSweep).parameters)
    assert schema == accepted == set(SWEEPER_OPTIONS)
    documented = set(re.findall(r"^\| `(\w+)` \|", DOCS.read_text(), flags=re.M))
    assert set(SWEEPER_OPTIONS) <= documented


def test_current_trial_is_none_outside_a_sweep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNEFUL_HYDRA_STUDY", raising=False)
    assert current_trial() is None


# -- real sweeps -----------------------------------------------------------------------------
APP = """
import math

import hydra

from tuneful.integrations.hydra import current_trial


def loss_of(cfg):
    return (math.log10(cfg.lr) + 2.5) ** 2 + 0.1 * cfg.layers + (0.3 if cfg.act == "tanh" else 0)


@hydra.main(config_path=".", config_name="config", version_base=None)
def main(cfg):
    trial = current_trial()
    if trial.number == 3:
        raise RuntimeError("diverged")
    loss = loss_of(cfg)
    for step in range(1, 4):
        # from trial 7 on, curves far above the median of the earlier ones
        trial.report(step=step, value=loss * (4 - step) + (100.0 if trial.number >= 7 else 0.0))
    if cfg.get("objectives", 1) == 2:
        return [loss, float(cfg.layers)]
    return loss


if __name__ == "__main__":
    main()
"""

CONFIG = """
defaults:
  - override hydra/sweeper: tuneful
  - _self_
lr: 0.01
layers: 1
act: relu
hydra:
  sweeper:
    storage: sqlite:///study.db
    study_name: sweep
    n_trials: 10
    n_jobs: 2
    seed: 0
    scheduler: {name: median, settings: {n_startup_trials: 2}}
    params:
      lr: tag(log, interval(1e-4, 1e-1))
      layers: range(1, 4)
      act: choice(relu, tanh)
"""


def _run(
    folder: Path, *arguments: str, script: str = "train.py"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("TUNEFUL_STORAGE", None)
    return subprocess.run(
        [sys.executable, script, "--multirun", *arguments],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _app(folder: Path, config: str = CONFIG) -> Path:
    (folder / "train.py").write_text(textwrap.dedent(APP))
    (folder / "config.yaml").write_text(textwrap.dedent(config))
    return folder


def _loss(params: dict[str, object]) -> float:
    lr, layers, act = params["lr"], params["layers"], params["act"]
    assert isinstance(lr, float) and isinstance(layers, int)
    return (math.log10(lr) + 2.5) ** 2 + 0.1 * layers + (0.3 if act == "tanh" else 0)


def test_multirun_tunes_and_records_values_failures_and_pruning(tmp_path: Path) -> None:
    result = _run(_app(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    study = tuneful.load_study("sweep", storage=f"sqlite:///{tmp_path / 'study.db'}")
    trials = study.trials
    assert len(trials) == 10
    for trial in trials:
        assert 1e-4 <= trial.params["lr"] <= 1e-1
        assert trial.params["layers"] in (1, 2, 3)
        assert trial.params["act"] in ("relu", "tanh")
    states = {t.number: t.state.value for t in trials}
    assert states[3] == "FAIL" and "RuntimeError: diverged" in (trials[3].error or "")
    pruned = [n for n, s in states.items() if s == "PRUNED"]
    assert {7, 8, 9} <= set(pruned)  # the median rule may stop an earlier one too
    for number in pruned:  # stopped at the step whose value was judged, curve kept
        curve = dict(trials[number].intermediate)
        assert curve and max(curve) < 3
    for number in (7, 8, 9):
        assert dict(trials[number].intermediate) == {
            1: pytest.approx(_loss(trials[number].params) * 3 + 100)
        }
    completed = [t for t in trials if t.state.value == "COMPLETE"]
    assert len(completed) == 10 - 1 - len(pruned) >= 4
    for trial in completed:  # the job saw the trial's parameters as its config
        assert trial.value == pytest.approx(_loss(trial.params))
        assert len(trial.intermediate) == 3
    best = min(completed, key=lambda t: t.value)
    assert study.best_trial.number == best.number
    (results,) = tmp_path.glob("multirun/*/*/optimization_results.yaml")
    summary = yaml.safe_load(results.read_text())
    assert summary["best_value"] == pytest.approx(best.value)
    assert summary["best_params"] == dict(best.params)


def test_multirun_with_two_objectives_continues_the_study(tmp_path: Path) -> None:
    config = CONFIG.replace("n_trials: 10", "n_trials: 4").replace("scheduler:", "# scheduler:")
    config = config.replace("seed: 0", "seed: 0\n    directions: [minimize, maximize]")
    config = config.replace(  # tuneful's own spec shape, read from Hydra's YAML
        "lr: tag(log, interval(1e-4, 1e-1))", "lr: {type: float, low: 1e-4, high: 1e-1, log: true}"
    )
    _app(tmp_path, config + "objectives: 2\n")
    (tmp_path / "train.py").write_text(
        (tmp_path / "train.py").read_text().replace("trial.number == 3", "False")
    )
    for _ in range(2):  # the second sweep adds its trials to the same study
        result = _run(tmp_path, "layers=range(1, 6)")
        assert result.returncode == 0, result.stderr[-3000:]
    study = tuneful.load_study("sweep", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert study.directions == ("minimize", "maximize")
    assert len(study.trials) == 8
    assert study.space is not None and study.space["lr"] == Float(1e-4, 1e-1, log=True)
    for trial in study.trials:
        assert trial.params["layers"] in range(1, 6)
        assert trial.values == (pytest.approx(_loss(trial.params)), float(trial.params["layers"]))
    assert study.best_trials


def test_bad_sweep_param_on_the_command_line_fails_the_sweep_clearly(tmp_path: Path) -> None:
    result = _run(_app(tmp_path), "lr=glob(*)")
    assert result.returncode != 0
    assert "'lr=glob(*)' is a Glob sweep, which tuneful cannot search" in result.stderr
    assert not (tmp_path / "study.db").exists() or not tuneful.list_studies(
        f"sqlite:///{tmp_path / 'study.db'}"
    )


def _docs_block(language: str, first_line: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), flags=re.S)
    (block,) = [b for b in blocks if b.startswith(first_line)]
    return block


def test_docs_example_runs_and_prunes(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(_docs_block("python", "# train.py"))
    (tmp_path / "config.yaml").write_text(_docs_block("yaml", "# config.yaml"))
    result = _run(tmp_path, "hydra.sweeper.n_trials=12")
    assert result.returncode == 0, result.stderr[-3000:]
    study = tuneful.load_study("train", storage=f"sqlite:///{tmp_path / 'tuneful.db'}")
    assert len(study.trials) == 12
    pruned = study.get_trials(states=["PRUNED"])
    assert pruned and all(t.intermediate for t in pruned)
    assert study.best_value < 1.0


def test_memory_storage_reports_from_jobs_in_the_sweeping_process(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text(_docs_block("python", "# train.py"))
    (tmp_path / "config.yaml").write_text(_docs_block("yaml", "# config.yaml"))
    result = _run(tmp_path, "hydra.sweeper.storage=memory://", "hydra.sweeper.n_trials=10")
    assert result.returncode == 0, result.stderr[-3000:]
    logged = result.stdout + result.stderr
    assert len(re.findall(r"trial \d+ (COMPLETE|PRUNED)", logged)) == 10
    assert re.search(r"trial \d+ PRUNED", logged)
    (results,) = tmp_path.glob("multirun/*/*/optimization_results.yaml")
    assert yaml.safe_load(results.read_text())["storage"] == "memory://"


def test_a_job_that_always_fails_stops_the_sweep_after_fail_fast_trials(tmp_path: Path) -> None:
    _app(tmp_path)
    (tmp_path / "train.py").write_text(
        (tmp_path / "train.py").read_text().replace("trial.number == 3", "True")
    )
    result = _run(tmp_path, "hydra.sweeper.fail_fast=3", "hydra.sweeper.n_jobs=1")
    assert result.returncode != 0
    assert (
        "RuntimeError: diverged" in result.stderr
        and "hydra.sweeper.fail_fast=false" in result.stderr
    )
    study = tuneful.load_study("sweep", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert [t.state.value for t in study.trials] == ["FAIL"] * 3


def test_joblib_launcher_jobs_in_other_processes_report_through_the_storage(
    tmp_path: Path,
) -> None:
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    _app(tmp_path, CONFIG.replace("n_trials: 10", "n_trials: 4"))
    (tmp_path / "train.py").write_text(
        (tmp_path / "train.py").read_text().replace("trial.number == 3", "False")
    )
    result = _run(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert result.returncode == 0, result.stderr[-3000:]
    study = tuneful.load_study("sweep", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert [t.state.value for t in study.trials] == ["COMPLETE"] * 4
    assert all(len(t.intermediate) == 3 for t in study.trials)  # reported from the workers
