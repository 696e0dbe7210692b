"""Several worker processes on one storage (every registered scheme that processes share:
SQLite, PostgreSQL, the journal file), and durability when a process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import tuneful
from tuneful.records import TrialState

SPACE = tuneful.Space(x=tuneful.Float(-1.0, 1.0), k=tuneful.Categorical(["a", "b", "c"]))


def test_eight_processes_lose_nothing(shared_url: str) -> None:
    url = shared_url
    # random search: the point is the storage, and distinct draws show distinct random streams
    study = tuneful.create_study("par", space=SPACE, storage=url, seed=0, optimizer="random")

    def objective(trial: tuneful.Trial) -> float:
        trial.report(step=0, value=1.0)
        trial.set_user_attr("pid", os.getpid())
        time.sleep(0.005)
        return trial.params["x"] ** 2

    study.optimize(objective, n_trials=400, n_jobs=8, show_progress_bar=False)
    trials = tuneful.load_study("par", storage=url).trials
    assert [t.number for t in trials] == list(range(400))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.intermediate == {0: 1.0} for t in trials)
    assert len({t.user_attrs["pid"] for t in trials}) > 1  # really several processes
    # distinct suggestions: the per-trial random streams do not collide across workers
    assert len({t.params["x"] for t in trials}) == 400


def test_worker_process_error_propagates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'err.db'}"
    study = tuneful.create_study("err", space=SPACE, storage=url)

    def objective(trial: tuneful.Trial) -> float:
        raise KeyError("not caught")

    try:
        study.optimize(objective, n_trials=4, n_jobs=2, catch=ValueError, show_progress_bar=False)
    except KeyError as exc:
        assert "not caught" in str(exc)
    else:  # pragma: no cover - must raise
        raise AssertionError("the worker's exception did not propagate")
    assert all(t.state is TrialState.FAIL for t in study.trials)


WORKER = textwrap.dedent(
    """
    import sys, time
    import tuneful
    url = sys.argv[1]
    space = tuneful.Space(x=tuneful.Float(0.0, 1.0))
    study = tuneful.create_study(
        "durable", space=space, storage=url, seed=1, load_if_exists=True,
        retries=1, heartbeat_interval=0.2, grace_period=1.0,
    )
    def objective(trial):
        if trial.number == 5:
            print("HANG", flush=True)
            time.sleep(600)
        return trial.params["x"]
    study.optimize(objective, n_trials=20, show_progress_bar=False)
    """
)


def test_sigkill_loses_nothing_told_and_recovers(tmp_path: Path, shared_url: str) -> None:
    url = shared_url
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    proc = subprocess.Popen([sys.executable, str(script), url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "HANG"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    study = tuneful.load_study("durable", storage=url)
    before = study.trials
    assert [t.state for t in before[:5]] == [TrialState.COMPLETE] * 5
    assert before[5].state is TrialState.RUNNING
    hung_params = before[5].params

    time.sleep(1.3)  # past the grace period: the killed worker's trial is stale
    study.optimize(lambda t: t.params["x"], n_trials=3, show_progress_bar=False)
    after = study.trials
    assert after[5].state is TrialState.FAIL and "heartbeat" in (after[5].error or "")
    retry = [t for t in after if t.system_attrs.get("retry_of") == 5]
    assert len(retry) == 1 and retry[0].params == hung_params
    assert retry[0].state is TrialState.COMPLETE
    assert [t.number for t in after] == list(range(len(after)))
    assert not [t for t in after if t.state is TrialState.RUNNING]
    # nothing told before the kill was lost or changed
    for old, new in zip(before[:5], after[:5], strict=True):
        assert old == new


INDEPENDENT = textwrap.dedent(
    """
    import sys
    import tuneful
    space = tuneful.Space(x=tuneful.Float(0.0, 1.0))
    study = tuneful.create_study(
        "shared", space=space, storage=sys.argv[1], seed=2, load_if_exists=True
    )
    if len(sys.argv) > 2:  # the study's size, reached together
        study.optimize(lambda t: t.params["x"], max_trials=int(sys.argv[2]),
                       show_progress_bar=False)
    else:
        study.optimize(lambda t: t.params["x"], n_trials=25, show_progress_bar=False)
    """
)


def test_independent_scripts_share_a_new_file(tmp_path: Path) -> None:
    """Eight scripts that start together on a file that does not exist yet."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = tmp_path / "independent.py"
    script.write_text(INDEPENDENT)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert b"locked" not in err
    trials = tuneful.load_study("shared", storage=url).trials
    assert [t.number for t in trials] == list(range(200))
    assert all(t.state is TrialState.COMPLETE for t in trials)


def test_independent_workers_stop_together_at_max_trials(tmp_path: Path, shared_url: str) -> None:
    """Four scripts that each run until the study holds 90 trials: exactly 90, no gap."""
    script = tmp_path / "independent.py"
    script.write_text(INDEPENDENT)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), shared_url, "90"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    trials = tuneful.load_study("shared", storage=shared_url).trials
    assert [t.number for t in trials] == list(range(90))
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert len({t.worker for t in trials}) > 1
