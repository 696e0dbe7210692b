"""No process of a run outlives it: trial programs when tuneful is terminated or killed,
worker processes when their parent is killed; worker processes cap their BLAS threads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

import tuneful
from tuneful.records import TrialState

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX process groups and signals")

SRC = Path(__file__).resolve().parents[2] / "src"

SLEEPER = textwrap.dedent(
    """
    import os, sys, time
    with open(os.path.join(sys.argv[1], str(os.getpid())), "w"):
        pass
    time.sleep(120)
    """
)


def env() -> dict[str, str]:
    variables = dict(os.environ, PYTHONPATH=str(SRC))
    variables.pop("TUNEFUL_STORAGE", None)
    return variables


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:  # a zombie is gone for our purpose
            return not any(
                line.split()[1:2] == ["Z"] for line in status if line.startswith("State")
            )
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def wait_for(condition: object, deadline: float = 30.0) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def pids_in(folder: Path, count: int) -> list[int]:
    assert wait_for(lambda: len(list(folder.iterdir())) >= count), "the programs never started"
    return [int(p.name) for p in folder.iterdir()]


def start_run(tmp_path: Path, command: str) -> subprocess.Popen[str]:
    (tmp_path / "pids").mkdir()
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    (tmp_path / "wrapper.sh").write_text(f'{sys.executable} sleeper.py "$@"\n')
    spec = {
        "name": "sleepy",
        "command": command,
        "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
        "metric": {"json_key": "loss"},
        "direction": "minimize",
        "n_trials": 3,
        "seed": 0,
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return subprocess.Popen(
        [sys.executable, "-m", "tuneful.cli", "run", "spec.yaml", "--no-progress"],
        cwd=tmp_path,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_of_tuneful_run_stops_the_program_and_fails_its_trial(tmp_path: Path) -> None:
    run = start_run(tmp_path, "python sleeper.py pids {x}")
    (pid,) = pids_in(tmp_path / "pids", 1)
    run.send_signal(signal.SIGTERM)
    _, err = run.communicate(timeout=60)
    assert run.returncode not in (0, None, -signal.SIGTERM), err
    assert wait_for(lambda: not alive(pid)), "the trial's program outlived tuneful"
    (trial,) = tuneful.load_study("sleepy", storage=f"sqlite:///{tmp_path / 'tuneful.db'}").trials
    assert trial.state is TrialState.FAIL and trial.error == "interrupted (SIGTERM)"


@pytest.mark.parametrize("command", ["python sleeper.py pids {x}", "sh wrapper.sh pids {x}"])
def test_sigkill_of_tuneful_run_kills_the_program(tmp_path: Path, command: str) -> None:
    run = start_run(tmp_path, command)
    (pid,) = pids_in(tmp_path / "pids", 1)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    # a shell's child too: the guardian kills the program's whole process group
    assert wait_for(lambda: not alive(pid)), "the trial's program outlived a killed tuneful"


OPTIMIZE = textwrap.dedent(
    """
    import os, sys, time
    import tuneful
    folder = sys.argv[2]
    study = tuneful.create_study(
        "orphans", space=tuneful.Space(x=tuneful.Float(0.0, 1.0)), storage=sys.argv[1], seed=0
    )
    def objective(trial):
        open(os.path.join(folder, str(os.getpid())), "w").close()
        time.sleep(0.5)
        return trial.params["x"]
    study.optimize(objective, n_jobs=2, timeout=600, show_progress_bar=False)
    """
)


def test_workers_stop_when_the_optimize_process_is_killed(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    script = tmp_path / "optimize.py"
    script.write_text(OPTIMIZE)
    url = f"sqlite:///{tmp_path / 'o.db'}"
    parent = subprocess.Popen([sys.executable, str(script), url, str(tmp_path / "pids")], env=env())
    workers = pids_in(tmp_path / "pids", 2)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    assert wait_for(lambda: not any(alive(pid) for pid in workers)), "workers outlived it"
    trials = tuneful.load_study("orphans", storage=url).trials
    # a worker that notices fails its running trial as interrupted; none is left RUNNING
    # except one whose worker was stopped hard, which the heartbeat check fails later
    assert all(t.state is not TrialState.RUNNING or t.error is None for t in trials)


def record_threads(trial: tuneful.Trial) -> float:
    import threadpoolctl

    blas = [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
    trial.set_user_attr("omp", os.environ.get("OMP_NUM_THREADS"))
    trial.set_user_attr("blas", blas)
    return 0.0


def test_worker_processes_cap_their_blas_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("threadpoolctl")
    import numpy  # noqa: F401  # loaded before the fork, as in any real run

    from tuneful.execution.lifetime import THREAD_VARIABLES, _cores

    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)), storage=f"sqlite:///{tmp_path / 't.db'}"
    )
    study.optimize(record_threads, n_trials=4, n_jobs=2, show_progress_bar=False)
    cap = max(1, _cores() // 2)
    for trial in study.trials:
        assert trial.user_attrs["omp"] == str(cap)
        assert all(n == cap for n in trial.user_attrs["blas"]), trial.user_attrs


def test_a_thread_limit_the_user_set_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)), storage=f"sqlite:///{tmp_path / 't.db'}"
    )
    study.optimize(record_threads, n_trials=2, n_jobs=2, show_progress_bar=False)
    assert {t.user_attrs["omp"] for t in study.trials} == {"3"}
