"""``tuneful run SPEC`` through the real console command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import tuneful
from tuneful import TrialState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def expected_loss(params: dict[str, float | str]) -> float:
    loss = (float(params["x"]) - 1) ** 2 + (0.5 if params["kind"] == "b" else 0.0)
    return loss + float(params.get("penalty", 0.0))


def check_study(path: Path, n_trials: int) -> tuneful.Study:
    study = tuneful.load_study("quad", storage=f"sqlite:///{path}")
    trials = study.trials
    assert len(trials) == n_trials
    assert all(t.state is TrialState.COMPLETE for t in trials), [t.error for t in trials]
    for t in trials:  # the program got the right arguments, the value was read back
        assert t.value == pytest.approx(expected_loss(dict(t.params)))
        assert sorted(t.intermediate) == [0, 1, 2]
        assert ("--penalty" in t.user_attrs["command"]) == ("penalty" in t.params)
    assert study.best_value == min(t.value for t in trials if t.value is not None)
    return study


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_run_a_good_spec(
    write_spec: Callable[..., Path], tmp_path: Path, n_jobs: int, run_cli: Callable[..., Any]
) -> None:
    spec = write_spec(n_jobs=n_jobs)
    result = run_cli("run", str(spec), "--no-progress")
    assert result.returncode == 0, result.stderr
    study = check_study(tmp_path / "tuneful.db", 4)
    assert f"Best loss: {study.best_value:.6g}" in result.stdout
    assert "tuneful show quad" in result.stdout
    assert "4 complete" in result.stdout


def test_run_continues_an_existing_study(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec(n_trials=2)
    assert cli("run", str(spec)).returncode == 0
    result = cli("run", str(spec), "--n-trials", "5")
    assert result.returncode == 0, result.stderr
    assert "Continuing study quad" in result.stderr
    check_study(tmp_path / "tuneful.db", 5)
    again = cli("run", str(spec), "--n-trials", "5")
    assert again.returncode == 0 and "nothing to run" in again.stderr
    check_study(tmp_path / "tuneful.db", 5)


def test_run_refuses_to_continue_a_study_with_another_space(
    cli: Callable[..., Any], write_spec: Callable[..., Path], one_line_error: Callable[..., str]
) -> None:
    assert cli("run", str(write_spec(n_trials=1))).returncode == 0
    changed = write_spec(
        space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
        command=("python train.py --x {x} --kind a"),
    )
    one_line_error(cli("run", str(changed)), "different space", "differs in:", "x")


def test_storage_and_options_from_the_command_line(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec(n_trials=None, storage="sqlite:///in-spec.db")
    url = f"sqlite:///{tmp_path / 'other.db'}"
    result = cli("run", str(spec), "--storage", url, "--n-trials", "3", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "in-spec.db").exists()
    check_study(tmp_path / "other.db", 3)
    assert tuneful.load_study("quad", storage=url).seed == 5


def test_spec_storage_is_relative_to_the_spec(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = write_spec(storage="sqlite:///results.db", n_trials=1)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = cli("run", str(spec))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "results.db").exists()
    assert "--storage" in result.stdout  # the hint names the storage


# The main kinds, through the console command.
BAD_SPECS = [
    (dict(n_trails=3), ["unknown key 'n_trails'", "did you mean 'n_trials'"]),
    (
        dict(space={"x": {"type": "flot", "low": 0, "high": 1}}),
        ["space: parameter 'x'", "did you mean 'float'"],
    ),
    (dict(command="no-such-program-xyz --x {x}"), ["program 'no-such-program-xyz' not found"]),
    (dict(command="python train.py --x {xx} --kind {kind}"), ["placeholder {xx}", "'x'"]),
]
# More of them, in this process.
MORE_BAD_SPECS = [
    (dict(metric={"regex": "acc=(["}), ["not a valid regex"]),
    (dict(metric={"json_key": "loss", "regex": "x"}), ["exactly one of json_key or regex"]),
    (dict(metric=None), ["missing required key(s): metric"]),
    (dict(direction="maximise"), ["direction: 'maximise'"]),
    (dict(n_trials=0), ["n_trials: 0 is not a positive integer"]),
    (dict(n_jobs=-1), ["n_jobs"]),
    (dict(trial_timeout="soon"), ["trial_timeout"]),
    (dict(command="python train.py [--x {x}"), ["never closed"]),
    (dict(optimizer="tpe-nope"), ["optimizer"]),
]


@pytest.mark.parametrize(("changes", "fragments"), BAD_SPECS)
def test_bad_specs_fail_up_front_with_one_line(
    write_spec: Callable[..., Path],
    tmp_path: Path,
    changes: dict,
    fragments: list[str],
    run_cli: Callable[..., Any],
    one_line_error: Callable[..., str],
) -> None:
    spec = write_spec(**changes)
    one_line_error(run_cli("run", str(spec)), f"error: {spec}: ", *fragments)
    assert not (tmp_path / "tuneful.db").exists()  # nothing was created


@pytest.mark.parametrize(("changes", "fragments"), MORE_BAD_SPECS)
def test_more_bad_specs(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    changes: dict,
    fragments: list[str],
    one_line_error: Callable[..., str],
) -> None:
    spec = write_spec(**changes)
    one_line_error(cli("run", str(spec)), f"error: {spec}: ", *fragments)
    assert not (tmp_path / "tuneful.db").exists()


def test_invalid_yaml_and_missing_file(
    cli: Callable[..., Any], write_spec: Callable[..., Path], one_line_error: Callable[..., str]
) -> None:
    spec = write_spec("name: a\nspace: {x: {type: float\nmetric: x\n")
    one_line_error(cli("run", str(spec)), "invalid YAML at line")
    one_line_error(cli("run", "nowhere.yaml"), "nowhere.yaml: no such file")


def test_metric_never_printed_stops_the_run(
    write_spec: Callable[..., Path],
    tmp_path: Path,
    run_cli: Callable[..., Any],
    one_line_error: Callable[..., str],
) -> None:
    spec = write_spec(metric={"json_key": "val_acc"}, n_trials=5)
    result = run_cli("run", str(spec))
    error = one_line_error(result, "never printed the metric json_key 'val_acc'", alone=False)
    assert "trial 0" in error
    trials = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").trials
    assert [t.state for t in trials] == [TrialState.FAIL]


def test_failing_program_fails_its_trials_and_the_run_finishes(
    write_spec: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    (tmp_path / "crash.py").write_text(
        "import sys\nprint('loading data')\n"
        "print('ValueError: x is out of range', file=sys.stderr)\nsys.exit(1)\n"
    )
    spec = write_spec(command="python crash.py {x}", n_trials=2)
    result = run_cli("run", str(spec))
    assert result.returncode == 1  # no trial completed
    assert "Traceback" not in result.stdout + result.stderr
    assert "2 fail" in result.stdout
    assert "command exited with code 1: ValueError: x is out of range" in result.stdout
    trials = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 2
    for t in trials:
        assert "ValueError: x is out of range" in (t.error or "")
        assert t.user_attrs["exit_code"] == 1


def test_trial_timeout_kills_and_fails_the_trial(
    write_spec: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    (tmp_path / "slow.py").write_text(
        "import json, time\nprint(json.dumps({'step': 0, 'loss': 1.0}), flush=True)\n"
        "time.sleep(60)\n"
    )
    spec = write_spec(command="python slow.py {x}", n_trials=1, trial_timeout=1)
    result = run_cli("run", str(spec), timeout=50)
    assert result.returncode == 1
    (trial,) = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").trials
    assert trial.state is TrialState.FAIL
    assert "timed out after 1 s" in (trial.error or "")
    assert dict(trial.intermediate) == {0: 1.0}


def test_run_needs_a_budget(
    cli: Callable[..., Any], write_spec: Callable[..., Path], one_line_error: Callable[..., str]
) -> None:
    one_line_error(cli("run", str(write_spec(n_trials=None))), "n_trials or timeout")


def test_usage_errors_are_one_line(
    cli: Callable[..., Any], one_line_error: Callable[..., str]
) -> None:
    one_line_error(cli("run", "--n-trials", "0", "spec.yaml"), "--n-trials")
    one_line_error(cli("frobnicate"), "No such command")


def test_version_and_help(cli: Callable[..., Any], run_cli: Callable[..., Any]) -> None:
    version = run_cli("--version")  # python -m tuneful.cli works
    assert version.returncode == 0 and version.stdout.strip() == f"tuneful {tuneful.__version__}"
    result = cli("-h")
    assert result.returncode == 0
    for command in ("run", "ls", "show", "export", "delete", "demo"):
        assert command in result.stdout
    assert "--n-trials" in cli("run", "--help").stdout


def test_the_example_spec_runs(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    pytest.importorskip("sklearn")
    spec = yaml.safe_load((EXAMPLES / "mlp-digits.yaml").read_text())
    assert spec["name"] == "mlp-digits"
    url = f"sqlite:///{tmp_path / 'ex.db'}"
    result = run_cli("run", str(EXAMPLES / "mlp-digits.yaml"), "--n-trials", "2", "--storage", url)
    assert result.returncode == 0, result.stderr
    trials = tuneful.load_study("mlp-digits", storage=url).trials
    # The default scheduler may stop the second trial early: its program is killed then.
    assert trials[0].state is TrialState.COMPLETE
    assert trials[1].state in (TrialState.COMPLETE, TrialState.PRUNED)
    for trial in trials:
        if trial.state is TrialState.COMPLETE:
            assert 0.0 <= (trial.value or 0.0) <= 1.0 and len(trial.intermediate) == 15
        else:
            assert len(trial.intermediate) < 15 and "reason" in trial.system_attrs["pruned"]


def test_workdir_env_and_regex_metric(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "score.py").write_text(
        "import os, sys\n"
        "print('cwd', os.getcwd())\n"
        "x = float(os.environ['TUNEFUL_PARAM_X'])\n"
        "print(f\"score={x * float(os.environ['FACTOR'])} ({os.environ['TAG']})\")\n"
    )
    (tmp_path / "runs").mkdir()
    spec = write_spec(
        command="python tools/score.py {x}",
        space={"x": {"type": "float", "low": 1.0, "high": 2.0}},
        metric={"regex": r"score=([0-9.e-]+)"},
        env={"FACTOR": 3, "TAG": "x={x}"},
        workdir="runs",
        n_trials=2,
    )
    result = cli("run", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    study = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}")
    for trial in study.trials:
        assert trial.value == pytest.approx(3 * trial.params["x"])
        assert str(tmp_path / "tools" / "score.py") in trial.user_attrs["command"]
    assert "Best value:" in result.stdout


def test_several_metrics_make_a_multi_objective_study(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    one_line_error: Callable[..., str],
) -> None:
    (tmp_path / "two.py").write_text(
        "import json, sys\nx = float(sys.argv[1])\n"
        "print(json.dumps({'error': (x - 1) ** 2, 'cost': x}))\n"
    )
    spec = write_spec(
        command="python two.py {x}",
        space={"x": {"type": "float", "low": 0.0, "high": 2.0}},
        metric=[{"json_key": "error"}, {"json_key": "cost"}],
        direction=None,
        directions=["minimize", "minimize"],
        n_trials=4,
    )
    result = cli("run", str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Pareto front of error (minimize), cost (minimize)" in result.stdout
    study = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}")
    assert study.directions == ("minimize", "minimize")
    assert all(t.values == ((t.params["x"] - 1) ** 2, t.params["x"]) for t in study.trials)
    wrong = write_spec(metric=[{"json_key": "a"}, {"json_key": "b"}], n_trials=1)
    one_line_error(cli("run", str(wrong)), "1 direction(s) for 2 metric(s)")


def test_default_scheduler_kills_hopeless_programs_and_show_says_why(
    write_spec: Callable[..., Path], tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    (tmp_path / "curve.py").write_text(
        "import json, sys, time\n"
        "x = float(sys.argv[1])\n"
        "for step in range(1, 10):\n"
        "    print(json.dumps({'step': step, 'loss': x + 1.0 / step}), flush=True)\n"
        "    time.sleep(0.01)\n"
    )
    spec = write_spec(
        command="python curve.py {x}",
        space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
        n_trials=8,
        scheduler={"name": "asha", "settings": {"max_budget": 9}},
    )
    url = f"sqlite:///{tmp_path / 'k.db'}"
    result = run_cli("run", str(spec), "--no-progress", "--storage", url)
    assert result.returncode == 0, result.stderr
    trials = tuneful.load_study("quad", storage=url).trials
    pruned = [t for t in trials if t.state is TrialState.PRUNED]
    assert pruned, [t.state for t in trials]
    for trial in pruned:
        assert trial.last_step is not None and trial.last_step < 9
    shown = run_cli("show", "quad", "--trial", str(pruned[0].number), "--storage", url)
    assert shown.returncode == 0, shown.stderr
    assert "stopped at step" in shown.stdout and "rung 1:" in shown.stdout


# -- tuneful worker: joining a study that `tuneful run` started -----------------------


def test_workers_join_a_study_started_by_run(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    start_cli: Callable[..., subprocess.Popen[str]],
) -> None:
    spec = write_spec(n_trials=2)
    assert cli("run", str(spec)).returncode == 0
    workers = [
        start_cli("worker", "quad", "--no-progress", "--max-trials", "12", cwd=tmp_path)
        for _ in range(3)
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert "Worker joins study quad" in err and "holds 12 trials" in err
    study = check_study(tmp_path / "tuneful.db", 12)  # exactly 12: no overshoot
    assert [t.number for t in study.trials] == list(range(12))


def test_a_worker_stops_at_the_stored_goal(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    spec = write_spec(n_trials=3)
    assert cli("run", str(spec)).returncode == 0
    result = cli("worker", "quad", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "ran 0 trials" in result.stderr and "holds 3 trials (3 complete)" in result.stderr


def test_a_worker_runs_a_python_objective(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "objectives.py").write_text(
        "def square(trial):\n    return trial.params['x'] ** 2\n"
    )
    space = tuneful.Space(x=tuneful.Float(-1.0, 1.0))
    tuneful.create_study("quad", space=space, storage="sqlite:///tuneful.db", seed=0)
    result = cli("worker", "quad", "--objective", "objectives:square", "--max-trials", "5")
    assert result.returncode == 0, result.stderr
    trials = tuneful.load_study("quad", storage="sqlite:///tuneful.db").trials
    assert len(trials) == 5 and all(t.value == t.params["x"] ** 2 for t in trials)


def test_worker_errors_are_one_line(
    cli: Callable[..., Any], one_line_error: Callable[..., str], tmp_path: Path
) -> None:
    tuneful.create_study(
        "quad", space=tuneful.Space(x=tuneful.Float(0, 1)), storage="sqlite:///tuneful.db"
    )
    one_line_error(cli("worker", "quad"), "not started by `tuneful run`", "--objective")
    one_line_error(cli("worker", "quad", "--objective", "nomodule"), "expected MODULE:FUNCTION")
    one_line_error(cli("worker", "quad", "--objective", "nomodule:f"), "cannot import 'nomodule'")
    one_line_error(
        cli("worker", "quad", "--objective", "os:nothing_here"), "has no function 'nothing_here'"
    )
    (tmp_path / "constant_objective.py").write_text("def f(trial):\n    return 0.0\n")
    one_line_error(cli("worker", "quad", "--objective", "constant_objective:f"), "--max-trials")
    one_line_error(cli("worker", "nope"), "no study named 'nope'")


def test_run_on_a_dask_cluster(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    distributed = pytest.importorskip("distributed")
    spec = write_spec(n_trials=6)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        result = cli("run", str(spec), "--dask", address, "--dask-resources", "", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert f"on the Dask cluster at {address}" in result.stderr
    study = check_study(tmp_path / "tuneful.db", 6)
    assert all(t.system_attrs["dask_worker"] for t in study.trials)


def test_dask_options_are_checked(
    cli: Callable[..., Any], write_spec: Callable[..., Path], one_line_error: Callable[..., str]
) -> None:
    spec = str(write_spec())
    one_line_error(cli("run", spec, "--dask-resources", "GPU=1"), "needs --dask ADDRESS")
    one_line_error(
        cli("run", spec, "--dask", "tcp://127.0.0.1:1", "--dask-resources", "GPU"),
        "expected NAME=AMOUNT",
    )


def test_run_summary_shows_floats_to_six_significant_digits(
    cli: Callable[..., Any], write_spec: Callable[..., Path], tmp_path: Path
) -> None:
    result = cli("run", str(write_spec(n_trials=3)))
    assert result.returncode == 0, result.stderr
    best = tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").best_trial
    x = best.params["x"]
    assert len(repr(x)) > 8  # a float at full precision has more digits than the table shows
    assert f"{x:.6g}" in result.stdout and repr(x) not in result.stdout


def test_a_spec_with_a_key_given_twice_is_refused(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    one_line_error: Callable[..., str],
) -> None:
    good = write_spec().read_text()
    spec = write_spec(good + "n_trials: 40\n")
    error = one_line_error(cli("run", str(spec)), "duplicate key 'n_trials'", "line")
    assert "first given at line" in error
    nested = good.replace("  kind:\n", "  x: {type: int, low: 0, high: 3}\n  kind:\n", 1)
    assert nested != good
    one_line_error(cli("run", str(write_spec(nested))), "duplicate key 'x'")
    assert not (tmp_path / "tuneful.db").exists()


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (["sh", "-c", "python train.py --x {x}"], [("sh", "x")]),
        (["/bin/bash", "-ec", "echo {kind} {{x}}"], [("bash", "kind")]),
        (["env", "A=1", "zsh", "-l", "-c", "run {x} {x}"], [("zsh", "x")]),
        (["python", "-c", "print({x})"], [("python", "x")]),
        (["python", "train.py", "--x", "{x}"], []),
        (["sh", "script.sh", "{x}"], []),  # a script's argument is data
        (["sh", "-c", 'exec python train.py "$1"', "sh", "{x}"], []),  # the safe form
    ],
)
def test_code_placeholders_finds_parameters_inside_shell_code(
    words: list[str], found: list[tuple[str, str]]
) -> None:
    from tuneful.spec import code_placeholders

    assert code_placeholders(words, ["x", "kind"]) == found


def test_a_parameter_inside_sh_c_is_warned_about(
    cli: Callable[..., Any], write_spec: Callable[..., Path]
) -> None:
    spec = write_spec(
        command='sh -c "python train.py --x {x} --kind {kind} [--penalty {penalty}]"',
        n_trials=1,
    )
    result = cli("run", str(spec), "--no-progress")
    assert "warning: command: {x} is inside the code that `sh` runs" in result.stderr
    assert "$TUNEFUL_PARAM_X" in result.stderr
    quiet = write_spec(n_trials=1)
    assert "inside the code" not in cli("run", str(quiet), "--no-progress").stderr


def test_a_worker_takes_its_storage_from_its_own_command_line(
    cli: Callable[..., Any],
    write_spec: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    def copy(name: str) -> None:  # the database as another machine would see it
        with (
            sqlite3.connect(tmp_path / "first.db") as source,
            sqlite3.connect(tmp_path / name) as target,
        ):
            source.backup(target)

    spec = write_spec(n_trials=2, storage="sqlite:///first.db")
    assert cli("run", str(spec)).returncode == 0
    copy("copy.db")
    result = cli("worker", "quad", "--storage", "copy.db", "--max-trials", "3", "--no-progress")
    assert result.returncode == 0, result.stderr
    copy("env.db")
    monkeypatch.setenv("TUNEFUL_STORAGE", f"sqlite:///{tmp_path / 'env.db'}")
    result = cli("worker", "quad", "--max-trials", "4", "--no-progress")
    assert result.returncode == 0, result.stderr
    counts = {
        name: len(tuneful.load_study("quad", storage=f"sqlite:///{tmp_path / name}").trials)
        for name in ("first.db", "copy.db", "env.db")
    }
    assert counts == {"first.db": 2, "copy.db": 3, "env.db": 4}


# -- the spec format, below the command line ----------------------------------------------------
def test_spec_module_doctests() -> None:
    import doctest

    import tuneful.spec

    assert doctest.testmod(tuneful.spec, raise_on_error=False).failed == 0


@pytest.mark.parametrize(
    "module",
    ["tuneful.spec", "tuneful.analysis.scaling", "tuneful.viz.bench", "tuneful.viz.scaling"],
)
def test_library_modules_do_not_import_the_command_line(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "print(sorted(m for m in sys.modules if m.startswith(('tuneful.cli', 'click'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(Path(tuneful.__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_password_in_the_specs_storage_is_never_shown(
    cli: Callable[..., Any], write_spec: Callable[..., Path], one_line_error: Callable[..., str]
) -> None:
    spec = write_spec(storage="postgresq://alice:S3cret@db/hpo", n_trials=1)
    result = cli("run", str(spec))
    message = one_line_error(result, "postgresq")
    assert "S3cret" not in message and "S3cret" not in result.stdout
