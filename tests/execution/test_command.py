"""The command objective: templating, environment, metrics, failures, timeouts."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.errors import SpecError
from tuneful.execution.command import (
    CommandError,
    CommandObjective,
    CommandTimeoutError,
    MetricNotFoundError,
    MetricSpec,
    format_value,
    param_env_name,
)

SPACE = {
    "lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True},
    "layers": {"type": "int", "low": 1, "high": 8},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
    "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"optimizer": "sgd"}},
    "net.dropout": {"type": "float", "low": 0.0, "high": 0.5},
}
SGD = {"lr": 0.001, "layers": 3, "optimizer": "sgd", "momentum": 0.9, "net.dropout": 0.25}
ADAM = {"lr": 1e-05, "layers": 2, "optimizer": "adam", "net.dropout": 0.0}


def objective(command: Any, **kwargs: Any) -> CommandObjective:
    kwargs.setdefault("metric", {"json_key": "acc"})
    kwargs.setdefault("space", SPACE)
    return CommandObjective(command, **kwargs)


def script(tmp_path: Path, body: str, name: str = "prog.py") -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def trial_for(params: dict[str, Any], space: Any = SPACE) -> tuneful.Trial:
    study = tuneful.create_study("t", space=space, storage="memory://", seed=0)
    study.enqueue(params)
    return study.ask()


# -- templating ------------------------------------------------------------------------------
def test_placeholders_take_values_and_groups_drop_with_inactive_params() -> None:
    command = "python --lr {lr} --layers={layers} [--momentum {momentum}] --drop {net.dropout}"
    obj = objective(command)
    words = obj.argv(SGD)[1:]
    assert words == ["--lr", "0.001", "--layers=3", "--momentum", "0.9", "--drop", "0.25"]
    assert obj.argv(ADAM)[1:] == ["--lr", "1e-05", "--layers=2", "--drop", "0.0"]


def test_single_word_group_and_bare_brackets() -> None:
    obj = objective("python [--momentum={momentum}] [ --opt {optimizer} {momentum} ] end")
    assert obj.argv(SGD)[1:] == ["--momentum=0.9", "--opt", "sgd", "0.9", "end"]
    assert obj.argv(ADAM)[1:] == ["end"]


def test_escaped_braces_and_brackets_are_literal() -> None:
    obj = objective(["python", "{{'lr': {lr}}}", "[[1,2]]", "{ layers }"])
    assert obj.argv(SGD)[1:] == ["{'lr': 0.001}", "[1,2]", "3"]


def test_values_are_formatted_in_full_precision() -> None:
    assert format_value(0.1 + 0.2) == "0.30000000000000004"
    assert format_value(1e-5) == "1e-05"
    assert format_value(True) == "true" and format_value(False) == "false"
    assert format_value(None) == "" and format_value(7) == "7" and format_value("a b") == "a b"


def test_inactive_parameter_outside_a_group_fails_the_trial() -> None:
    obj = objective("python --momentum {momentum}")
    assert obj.conditional_outside_groups == ("momentum",)
    with pytest.raises(CommandError, match="'momentum' is inactive.*bracket"):
        obj.argv(ADAM)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("train --lr {lrr}", r"placeholder \{lrr\} names no parameter.*did you mean 'lr'"),
        ("train [--momentum {momentum}", "never closed"),
        ("train [--a [{lr}] ]", "cannot nest"),
        ("train [--verbose]", "names no parameter"),
        ("[python {lr}]", "program"),
        ("", "empty"),
        ("train 'unclosed {lr}", "cannot be split"),
        ("no-such-program-xyz {lr}", "not found on PATH"),
        ("./missing.sh {lr}", "not found"),
    ],
)
def test_malformed_commands_are_spec_errors(command: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        CommandObjective(
            command.replace("train", sys.executable) if command.startswith("train") else command,
            metric={"json_key": "acc"},
            space=SPACE,
        )


def test_a_program_named_by_a_placeholder_is_checked_at_trial_time() -> None:
    space = {"prog": {"type": "categorical", "choices": ["no-such-program-xyz"]}}
    obj = CommandObjective("{prog}", metric={"json_key": "acc"}, space=space)
    with pytest.raises(CommandError, match="not found"):
        obj.argv({"prog": "no-such-program-xyz"})


def test_python_is_the_running_interpreter() -> None:
    assert objective("python -V").argv({})[0] == sys.executable


def test_relative_files_resolve_against_base_dir(tmp_path: Path) -> None:
    (tmp_path / "train.py").write_text("")
    workdir = tmp_path / "runs"
    workdir.mkdir()
    obj = objective("python train.py --lr {lr} out", workdir=workdir, base_dir=tmp_path)
    assert obj.argv(SGD)[1:] == [str(tmp_path / "train.py"), "--lr", "0.001", "out"]


def test_metric_specs_are_validated() -> None:
    for bad in ({}, {"json_key": "a", "regex": "b"}, {"regex": "("}, {"json_key": ""}, "acc"):
        with pytest.raises(SpecError):
            MetricSpec.from_dict(bad)
    with pytest.raises(SpecError, match="did you mean 'regex'"):
        MetricSpec.from_dict({"regexp": "a"})


# -- environment -----------------------------------------------------------------------------
def test_parameters_are_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEFUL_PARAM_MOMENTUM", "stale")
    obj = objective("python -V", env={"DATA": "/data/{optimizer}", "N": 3})
    env = obj.environment(ADAM, trial_number=4, study="s")
    assert env["TUNEFUL_PARAM_LR"] == "1e-05"
    assert env["TUNEFUL_PARAM_NET_DROPOUT"] == "0.0"
    assert "TUNEFUL_PARAM_MOMENTUM" not in env  # inactive, and not inherited
    assert json.loads(env["TUNEFUL_PARAMS"]) == ADAM
    assert env["TUNEFUL_TRIAL_NUMBER"] == "4" and env["TUNEFUL_STUDY"] == "s"
    assert env["DATA"] == "/data/adam" and env["N"] == "3"
    assert param_env_name("a.b-c") == "TUNEFUL_PARAM_A_B_C"


def test_parameters_sharing_an_environment_name_are_a_spec_error() -> None:
    space = {
        "a.b": {"type": "int", "low": 0, "high": 1},
        "a_b": {"type": "int", "low": 0, "high": 1},
    }
    with pytest.raises(SpecError, match="share the environment variable TUNEFUL_PARAM_A_B"):
        CommandObjective("python -V", metric={"json_key": "x"}, space=space)


def test_the_program_sees_its_environment_and_arguments(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import json, os, sys\n"
        "print(json.dumps({'argv': sys.argv[1:], 'acc': 1,"
        " 'env': {k: v for k, v in os.environ.items() if k.startswith('TUNEFUL')}}))\n",
    )
    obj = objective(f"python {program} --lr {{lr}} [--momentum {{momentum}}]")
    trial = trial_for(SGD)
    assert obj(trial) == 1.0
    assert trial.user_attrs["exit_code"] == 0
    assert f"{program} --lr 0.001 --momentum 0.9" in trial.user_attrs["command"]


# -- running ---------------------------------------------------------------------------------
def test_json_metric_takes_the_last_line_and_reports_the_curve(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import json\n"
        "for step in range(4):\n"
        "    print(json.dumps({'step': step, 'acc': step / 10}))\n"
        "print('noise {not json')\n"
        "print(json.dumps({'acc': 0.75, 'other': {'deep': 2}}))\n",
    )
    obj = objective(f"python {program}")
    trial = trial_for(ADAM)
    assert obj(trial) == 0.75
    assert dict(trial.record().intermediate) == {0: 0.0, 1: 0.1, 2: 0.2, 3: 0.3}
    nested = objective(f"python {program}", metric={"json_key": "other.deep"})
    assert nested(trial_for(ADAM)) == 2.0


def test_regex_metric_takes_the_last_match(tmp_path: Path) -> None:
    program = script(tmp_path, "print('epoch 1 acc=0.5')\nprint('epoch 2 acc=0.625 (best)')\n")
    grouped = objective(f"python {program}", metric={"regex": r"acc=([0-9.]+)"})
    assert grouped(trial_for(ADAM)) == 0.625
    whole = objective(f"python {program}", metric={"regex": r"0\.6\d+"})
    assert whole(trial_for(ADAM)) == 0.625


def test_several_metrics_give_several_values(tmp_path: Path) -> None:
    program = script(tmp_path, "import json\nprint(json.dumps({'acc': 0.9, 'ms': 12}))\n")
    obj = objective(f"python {program}", metric=[{"json_key": "acc"}, {"json_key": "ms"}])
    assert obj(trial_for(ADAM)) == (0.9, 12.0)


def test_non_zero_exit_fails_with_the_stderr_tail(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import sys\n"
        "for i in range(40):\n"
        "    print(f'log line {i}', file=sys.stderr)\n"
        "print('ValueError: lr too high', file=sys.stderr)\n"
        "sys.exit(3)\n",
    )
    with pytest.raises(CommandError) as caught:
        objective(f"python {program}")(trial_for(ADAM))
    message = str(caught.value)
    assert message.startswith("command exited with code 3: ValueError: lr too high")
    assert "log line 39" in message and "log line 5\n" not in message  # the tail only


def test_metric_never_printed_names_what_was_expected(tmp_path: Path) -> None:
    program = script(tmp_path, "import json\nprint(json.dumps({'accuracy': 0.9}))\n")
    obj = objective(f"python {program}")
    trial = trial_for(ADAM)
    expected = "never printed the metric json_key 'acc'"
    with pytest.raises(MetricNotFoundError, match=expected) as caught:
        obj(trial)
    assert '{"accuracy": 0.9}' in str(caught.value)
    assert obj.metric_missing(trial.number) is not None
    assert obj.metric_missing(trial.number + 1) is None


def test_a_metric_that_is_not_a_number_fails(tmp_path: Path) -> None:
    program = script(tmp_path, "import json\nprint(json.dumps({'acc': 'high'}))\n")
    with pytest.raises(CommandError, match="'high', not a number"):
        objective(f"python {program}")(trial_for(ADAM))


def test_large_output_on_both_pipes_does_not_block(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import sys\n"
        "chunk = 'x' * 1000\n"
        "for i in range(3000):\n"
        "    sys.stdout.write(chunk + '\\n'); sys.stderr.write(chunk + '\\n')\n"
        "print('{\"acc\": 0.5}')\n",
    )
    assert objective(f"python {program}", timeout=60)(trial_for(ADAM)) == 0.5


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    program = script(
        tmp_path,
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        'print(\'{"step": 0, "acc": 0.1}\', flush=True)\n'
        "time.sleep(60)\n",
    )
    obj = objective(f"python {program}", timeout=1.0, kill_grace=1.0)
    trial = trial_for(ADAM)
    with pytest.raises(CommandTimeoutError, match="timed out after 1 s"):
        obj(trial)
    child = int(pid_file.read_text())
    for _ in range(50):  # the child is reaped by init shortly after the kill
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
    assert dict(trial.record().intermediate) == {0: 0.1}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is as good as dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return True


class _StoppingTrial:
    """A stand-in trial whose scheduler wants it stopped after the first report."""

    number = 0
    params: dict[str, Any] = ADAM
    study = None

    def __init__(self) -> None:
        self.reports: list[tuple[int, float]] = []

    def report(self, step: int, value: float) -> None:
        self.reports.append((step, value))

    def should_stop(self) -> bool:
        return True

    def set_user_attr(self, key: str, value: Any) -> None:
        pass


def test_a_trial_told_to_stop_kills_the_program_and_is_pruned(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import time\nfor step in range(100):\n"
        '    print(\'{"step": %d, "acc": 0.5}\' % step, flush=True)\n    time.sleep(0.5)\n',
    )
    trial = _StoppingTrial()
    with pytest.raises(tuneful.Pruned):
        objective(f"python {program}")(trial)  # type: ignore[arg-type]
    assert trial.reports == [(0, 0.5)]


def test_study_optimize_with_parallel_workers(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "import json, os\n"
        "params = json.loads(os.environ['TUNEFUL_PARAMS'])\n"
        "print(json.dumps({'acc': params['layers'] + params['lr']}))\n",
    )
    study = tuneful.create_study(
        "cmd", space=SPACE, storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize"
    )
    study.optimize(objective(f"python {program}"), n_trials=6, n_jobs=2, show_progress_bar=False)
    trials = study.trials
    assert [t.state for t in trials] == [tuneful.TrialState.COMPLETE] * 6
    for t in trials:
        assert t.value == pytest.approx(t.params["layers"] + t.params["lr"])


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ('{"acc": 1e999}', "is inf, not a finite number"),
        ('{"acc": NaN}', "is nan, not a finite number"),
        ('{"acc": "inf"}', "is 'inf', not a finite number"),
        ('{"acc": ' + "1" * 400 + "}", "too large for a float"),
    ],
)
def test_a_metric_that_is_not_a_finite_number_fails_in_one_line(
    tmp_path: Path, printed: str, expected: str
) -> None:
    program = script(tmp_path, f"print({printed!r})\n")
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    study.optimize(objective(f"python {program}", space=None), n_trials=1, show_progress_bar=False)
    (trial,) = study.trials
    assert trial.state is tuneful.TrialState.FAIL
    error = trial.error or ""
    assert expected in error and "json_key 'acc'" in error, error
    assert "\n" not in error and "Traceback" not in error and len(error) < 200


def test_a_huge_learning_curve_point_is_skipped(tmp_path: Path) -> None:
    program = script(
        tmp_path,
        "print('{\"step\": 0, \"acc\": ' + '1' * 400 + '}')\n"
        'print(\'{"step": 1, "acc": 0.5}\')\n',
    )
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=0)
    study.optimize(objective(f"python {program}"), n_trials=1, show_progress_bar=False)
    (trial,) = study.trials
    assert trial.state is tuneful.TrialState.COMPLETE and trial.value == 0.5
    assert dict(trial.intermediate) == {1: 0.5}


def test_a_storage_password_in_the_environment_does_not_reach_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TUNEFUL_STORAGE", "postgresql://tuner:s3cret@db:5432/studies")
    env = objective(["python", "-c", "pass"]).environment(ADAM)
    assert "TUNEFUL_STORAGE" not in env and "s3cret" not in repr(env)
    monkeypatch.setenv("TUNEFUL_STORAGE", "sqlite:///studies.db")  # no secret: kept
    assert objective(["python", "-c", "pass"]).environment(ADAM)["TUNEFUL_STORAGE"] == (
        "sqlite:///studies.db"
    )
