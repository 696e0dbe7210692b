"""The Weights & Biases tracker against the real library in offline mode, read back from the
run files W&B writes (its transaction log: a LevelDB-style log of protobuf records)."""

from __future__ import annotations

import importlib
import json
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.errors import MissingDependencyError, StudyError

wandb = pytest.importorskip("wandb")
from wandb.proto import wandb_internal_pb2  # noqa: E402

from tuneful.integrations.wandb import WandbCallback  # noqa: E402

FAILING = {2, 7}
SECRET = "local-0123456789abcdef0123456789abcdef01234567"


def _objective(trial: tuneful.Trial) -> float:
    """A curve that ends at x + 1/9; trials 2 and 7 fail; ASHA stops the worse ones."""
    if trial.number in FAILING:
        raise RuntimeError(f"trial {trial.number} ran out of memory")
    trial.set_user_attr("seed", 7)
    for step in range(1, 10):
        trial.report(step=step, value=trial.params["x"] + 1.0 / step)
    return trial.params["x"] + 1.0 / 9


def _study() -> tuneful.Study:
    return tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0), layers=tuneful.Int(1, 4)),
        storage="memory://",
        optimizer="random",
        scheduler={"name": "asha", "settings": {"max_budget": 9}},
        seed=1,
    )


@pytest.fixture(autouse=True)
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """W&B offline, silent, writing only under tmp_path, with a (fake) API key around.

    W&B reads its environment once per process (``wandb.setup``): torn down around each
    test so that each reads its own."""
    wandb.teardown()
    for variable, value in {
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "WANDB_DIR": str(tmp_path),
        "WANDB_CONFIG_DIR": str(tmp_path / "config"),
        "WANDB_CACHE_DIR": str(tmp_path / "cache"),
        "WANDB_DATA_DIR": str(tmp_path / "data"),
        "WANDB_API_KEY": SECRET,
    }.items():
        monkeypatch.setenv(variable, value)
    yield tmp_path
    wandb.teardown()


def _records(path: Path) -> Iterator[Any]:
    """The protobuf records of a W&B transaction log (``run-<id>.wandb``): a 7-byte header,
    then 32 KiB blocks of chunks (checksum u32, length u16, type u8: 1 full, 2 first,
    3 middle, 4 last)."""
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    position, block, pending = 7, 32768, b""
    while position + 7 <= len(data):
        room = block - position % block
        if room < 7:  # a block's tail too short for a chunk header is padding
            position += room
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if kind == 0 and length == 0:  # padding at the end of a block
            position += room
            continue
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def _key(item: Any) -> str:
    return item.key or ".".join(item.nested_key)


def _read_runs(root: Path) -> dict[str, dict[str, Any]]:
    """Each offline run under ``root`` by its display name: run settings, config, history
    (step -> {key: value}), summary and exit code."""
    wandb.teardown()  # W&B's service writes the logs behind finish(): wait for it
    runs: dict[str, dict[str, Any]] = {}
    for path in sorted(root.glob("wandb/offline-run-*/run-*.wandb")):
        run: dict[str, Any] = {"history": {}, "summary": {}, "exit_code": None}
        for record in _records(path):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run["run"] = record.run
                run["config"] = {
                    _key(u): json.loads(u.value_json)
                    for u in record.run.config.update
                    if _key(u) != "_wandb"
                }
            elif kind == "history":
                row = {_key(i): json.loads(i.value_json) for i in record.history.item}
                run["history"][record.history.step.num] = row
            elif kind == "summary":
                run["summary"].update(
                    {_key(u): json.loads(u.value_json) for u in record.summary.update}
                )
            elif kind == "exit":
                run["exit_code"] = record.exit.exit_code
        runs.setdefault(run["run"].display_name, run)
    return runs


def test_each_trial_is_a_run_grouped_under_the_study(offline: Path) -> None:
    study = _study()
    tracker = WandbCallback(project="churn", mode="offline", tags=["baseline"])
    study.optimize(_objective, n_trials=10, callbacks=[tracker], show_progress_bar=False)
    assert {t.state.value for t in study.trials} == {"COMPLETE", "PRUNED", "FAIL"}

    runs = _read_runs(offline)
    assert sorted(runs) == sorted(f"trial-{n}" for n in range(10))
    for record in study.trials:
        run = runs[f"trial-{record.number}"]
        assert run["run"].project == "churn"
        assert run["run"].run_group == study.name
        assert run["run"].job_type == "trial"
        assert run["run"].run_id == tracker.run_id(study, record.number)
        assert list(run["run"].tags) == [record.state.value, "baseline"]
        assert run["config"] == dict(record.params)
        curve = {step: row["curve"] for step, row in run["history"].items()}
        assert curve == pytest.approx(dict(record.intermediate))
        summary = run["summary"]
        assert summary["state"] == record.state.value
        assert summary["trial_number"] == record.number
        assert summary["study"] == study.name
        assert run["exit_code"] == (1 if record.state.value == "FAIL" else 0)
        if record.state.value == "COMPLETE":
            assert summary["value"] == pytest.approx(record.value)
        else:
            assert "value" not in summary
        if record.state.value == "FAIL":
            assert "ran out of memory" in summary["error"]
        else:
            assert summary["user_attr.seed"] == 7
        if record.state.value == "PRUNED":
            assert summary["pruned"]["reason"]
            assert max(record.intermediate) < 9


def test_log_study_logs_each_trial_once_under_stable_ids(offline: Path) -> None:
    study = _study()
    study.optimize(_objective, n_trials=8, show_progress_bar=False)
    tracker = WandbCallback(project="churn")  # offline through WANDB_MODE
    ids = tracker.log_study(study)
    assert len(ids) == 8
    assert tracker.log_study(study) == []
    assert tracker.log_trial(study, study.trials[0]) is None
    assert [WandbCallback(project="churn").run_id(study, n) for n in range(8)] == ids
    assert len(_read_runs(offline)) == 8


def test_several_objectives_take_their_metric_names(offline: Path) -> None:
    study = tuneful.create_study(
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)),
        directions=["minimize", "maximize"],
        storage="memory://",
        seed=0,
    )
    study.optimize(
        lambda t: (t.params["x"], 2 * t.params["x"]), n_trials=1, show_progress_bar=False
    )
    WandbCallback(project="p", metric_names=["error", "speed"]).log_study(study)
    summary = _read_runs(offline)["trial-0"]["summary"]
    x = study.trials[0].params["x"]
    assert (summary["error"], summary["speed"]) == pytest.approx((x, 2 * x))


def test_an_open_run_of_the_user_stays_open(offline: Path) -> None:
    study = _study()
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    mine = wandb.init(project="mine", name="mine", reinit="create_new")
    WandbCallback(project="p").log_study(study)
    mine.log({"still": 1})  # raises when the run was finished
    mine.finish()
    assert _read_runs(offline)["mine"]["history"][0]["still"] == 1


def test_the_api_key_is_written_nowhere(offline: Path) -> None:
    study = _study()
    study.optimize(
        _objective, n_trials=3, callbacks=[WandbCallback(project="p")], show_progress_bar=False
    )
    assert len(_read_runs(offline)) == 3
    for path in offline.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in json.dumps([t.to_dict() for t in study.trials])
    assert SECRET not in json.dumps(study.user_attrs)


def test_metric_names_not_one_per_objective_are_refused(offline: Path) -> None:
    study = _study()
    study.optimize(_objective, n_trials=1, show_progress_bar=False)
    with pytest.raises(StudyError, match="1 objective"):
        WandbCallback(project="p", metric_names=["a", "b"]).log_study(study)
    assert _read_runs(offline) == {}


@pytest.mark.parametrize(
    "settings",
    [{"mode": "offline-ish"}, {"tags": "baseline"}, {"project": ""}, {"metric_names": ["curve"]}],
)
def test_malformed_settings_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(StudyError, match=next(iter(settings))):
        WandbCallback(**settings)


def test_docs_example_runs(offline: Path) -> None:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(_doc_example("wandb"), "trackers.md", "exec"), namespace)
    states = [t.state.value for t in namespace["study"].trials]
    runs = _read_runs(offline)
    assert [runs[f"trial-{n}"]["summary"]["state"] for n in range(10)] == states
    assert "PRUNED" in states


def test_missing_wandb_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.wandb")
    with pytest.raises(MissingDependencyError, match=r"tuneful\[wandb\]"):
        importlib.import_module("tuneful.integrations.wandb")


def _doc_example(name: str) -> str:
    """The example marked ``<!-- example: NAME -->`` in the trackers' docs page."""
    page = Path(__file__).parents[2] / "docs" / "integrations" / "trackers.md"
    text = page.read_text(encoding="utf-8")
    return text.split(f"<!-- example: {name} -->\n```python\n", 1)[1].split("```", 1)[0]
