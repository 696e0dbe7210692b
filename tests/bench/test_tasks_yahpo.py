"""YAHPO Gym tasks: the surrogate reproduces yahpo-gym's outputs, and the space is faithful."""

from __future__ import annotations

import json
import pickle
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tuneful.bench.tasks import Fidelity, TaskError, load_task
from tuneful.bench.tasks._configspace import read_conditions, read_hyperparameters
from tuneful.errors import SpaceError
from tuneful.space import Categorical, Float, Int

pytest.importorskip("onnxruntime")


@pytest.fixture
def shipped(data_dir: Path) -> Path:
    """The data folder, when it holds the lcbench and rbv2_xgboost scenarios."""
    for scenario in ("lcbench", "rbv2_xgboost"):
        if not (data_dir / "yahpo" / scenario / "meta.json").is_file():
            pytest.skip(f"YAHPO data not found at {data_dir / 'yahpo' / scenario}")
    return data_dir


def _read(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text())


def _reference(folder: Path) -> list[dict[str, Any]]:
    lines = (folder / "reference.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_reference_row_is_reproduced(data_dir: Path, yahpo_scenario: str) -> None:
    folder = data_dir / "yahpo" / yahpo_scenario
    if not (folder / "reference.jsonl").is_file():
        pytest.skip(f"{folder} has no reference.jsonl")
    meta = _read(folder, "meta.json")
    fidelity_params = meta["fidelity_params"]
    rows = _reference(folder)
    by_instance: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_instance[str(row["instance"])].append(row)
    checked = 0
    for instance, group in by_instance.items():
        task = load_task(f"yahpo/{yahpo_scenario}/{instance}", data_dir)
        expected = np.array([[row["result"][y] for y in meta["y_names"]] for row in group])
        # the surrogate on the configurations exactly as written
        raw = task.evaluate_raw([row["config"] for row in group])  # type: ignore[attr-defined]
        got = np.array([[out[y] for y in meta["y_names"]] for out in raw])
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=0)
        # the same rows through the task's own path: search-space config + fidelity
        fixed = dict(task.fixed)  # type: ignore[attr-defined]
        for row, want in zip(group, expected, strict=True):
            config = dict(row["config"])
            for name in [meta.get("instance_names"), *fidelity_params]:
                config.pop(name, None)
            fidelity = row["config"][task.fidelity.name] if task.fidelity else None
            extra = {name: row["config"][name] for name in fidelity_params[1:]}
            task.fixed = {**fixed, **extra}  # type: ignore[attr-defined]
            result = task.evaluate(config, fidelity=fidelity)
            np.testing.assert_allclose(
                [result[y] for y in meta["y_names"]], want, rtol=1e-4, atol=0
            )
            checked += 1
    assert checked == len(rows) > 0


def test_space_follows_config_space_json(data_dir: Path, yahpo_scenario: str) -> None:
    folder = data_dir / "yahpo" / yahpo_scenario
    meta = _read(folder, "meta.json")
    document = _read(folder, "config_space.json")
    task = load_task(f"yahpo/{yahpo_scenario}/{meta['instances'][0]}", data_dir)
    excluded = {meta["instance_names"], *meta["fidelity_params"]}
    names = [h["name"] for h in document["hyperparameters"] if h["name"] not in excluded]
    assert sorted(task.space.names) == sorted(names)
    for entry in document["hyperparameters"]:
        if entry["name"] in excluded:
            continue
        param = task.space[entry["name"]]
        if entry["type"] == "uniform_float":
            assert isinstance(param, Float)
            assert (param.low, param.high, param.log) == (
                entry["lower"],
                entry["upper"],
                entry["log"],
            )
        elif entry["type"] == "uniform_int":
            assert isinstance(param, Int)
            assert (param.low, param.high, param.log) == (
                entry["lower"],
                entry["upper"],
                entry["log"],
            )
        else:
            assert isinstance(param, Categorical)
            assert list(param.choices) == entry["choices"]
    for condition in document["conditions"]:
        values = condition.get("values") or [condition["value"]]
        when = task.space[condition["child"]].when
        assert sorted(map(str, when[condition["parent"]])) == sorted(map(str, values))


def test_fidelity_and_fixed_values(data_dir: Path, yahpo_scenario: str) -> None:
    folder = data_dir / "yahpo" / yahpo_scenario
    meta = _read(folder, "meta.json")
    hypers = {h["name"]: h for h in _read(folder, "config_space.json")["hyperparameters"]}
    instance = meta["instances"][0]
    task = load_task(f"yahpo/{yahpo_scenario}/{instance}", data_dir)
    budget = hypers[meta["fidelity_params"][0]]
    assert task.fidelity == Fidelity(
        budget["name"],
        budget["lower"],
        budget["upper"],
        budget["type"] == "uniform_int",
        budget["log"],
    )
    assert task.fixed[meta["instance_names"]] == instance  # type: ignore[attr-defined]
    for name in meta["fidelity_params"][1:]:  # e.g. rbv2's repl: fixed at its upper bound
        assert task.fixed[name] == hypers[name]["upper"]  # type: ignore[attr-defined]
    assert task.cost == meta["runtime_name"]
    names = [o.name for o in task.objectives]
    assert sorted(names) == sorted(meta["y_names"])
    directions = dict(zip(meta["y_names"], meta["y_minimize"], strict=True))
    for objective in task.objectives:
        assert (objective.direction == "minimize") == directions[objective.name]
        assert objective.optimum is None
    assert task.metadata["citation"] == meta["citation"]

    config = task.space.defaults()
    full = task.evaluate(config)
    assert full == task.evaluate(config, fidelity=task.fidelity.high)
    assert full != task.evaluate(config, fidelity=task.fidelity.low)
    with pytest.raises(TaskError, match="outside|not a number"):
        task.evaluate(config, fidelity=task.fidelity.high * 2)


def test_default_objectives_and_costs(shipped: Path) -> None:
    lcbench = load_task("yahpo/lcbench/3945", shipped)
    assert (lcbench.primary.name, lcbench.primary.direction) == ("val_accuracy", "maximize")
    assert lcbench.cost == "time"
    assert lcbench.fidelity == Fidelity("epoch", 1, 52, integer=True, log=False)
    assert "OpenML_task_id" not in lcbench.space and "epoch" not in lcbench.space
    xgboost = load_task("yahpo/rbv2_xgboost/1111", shipped)
    assert (xgboost.primary.name, xgboost.primary.direction) == ("acc", "maximize")
    assert xgboost.cost == "timetrain"
    assert xgboost.fidelity is not None and xgboost.fidelity.name == "trainsize"
    assert xgboost.fixed == {"task_id": "1111", "repl": 10}  # type: ignore[attr-defined]
    for name in ("task_id", "trainsize", "repl"):
        assert name not in xgboost.space


def test_integer_fidelity_must_be_whole(shipped: Path) -> None:
    task = load_task("yahpo/lcbench/3945", shipped)
    config = task.space.defaults()
    assert task.evaluate(config, fidelity=10.0) == task.evaluate(config, fidelity=10)
    with pytest.raises(TaskError, match="whole number"):
        task.evaluate(config, fidelity=10.5)


def test_xgboost_conditional_space(shipped: Path) -> None:
    task = load_task("yahpo/rbv2_xgboost/1111", shipped)
    booster = task.space["booster"]
    assert isinstance(booster, Categorical)
    assert set(booster.choices) == {"gblinear", "gbtree", "dart"}
    for name in ("eta", "gamma", "max_depth", "min_child_weight", "colsample_bytree"):
        assert task.space[name].when == {"booster": ("dart", "gbtree")}
    for name in ("rate_drop", "skip_drop"):
        assert task.space[name].when == {"booster": ("dart",)}
    assert task.space["nrounds"] == Int(7, 2981, log=True, default=144)
    eta = task.space["eta"]
    assert isinstance(eta, Float) and eta.log and isinstance(task.space["max_depth"], Int)

    rng = np.random.default_rng(0)
    samples = task.space.sample(rng, n=60)
    linear = next(c for c in samples if c["booster"] == "gblinear")
    assert "eta" not in linear and "rate_drop" not in linear
    # inactive parameters reach the model as 0 and '#na#', as in yahpo-gym
    row = {**linear, "task_id": "1111", "trainsize": 0.5, "repl": 10}
    via_task = task.evaluate(linear, fidelity=0.5)
    assert task.evaluate_raw([row])[0] == via_task  # type: ignore[attr-defined]
    zeros = {**row, "eta": 0.0, "max_depth": 0, "rate_drop": 0.0}
    assert task.evaluate_raw([zeros])[0] == via_task  # type: ignore[attr-defined]
    with pytest.raises(SpaceError, match="inactive"):
        task.evaluate({**linear, "eta": 0.1})
    dart = next(c for c in samples if c["booster"] == "dart")
    assert {"eta", "rate_drop", "skip_drop"} <= set(dart)
    assert task.evaluate(dart) != task.evaluate({**dart, "rate_drop": 1 - dart["rate_drop"]})


def test_objective_override_and_pickling(shipped: Path) -> None:
    task = load_task("yahpo/rbv2_xgboost/1111:auc", shipped)
    assert task.id == "yahpo/rbv2_xgboost/1111:auc"
    assert task.primary.name == "auc" and len(task.objectives) == 9
    same = load_task("yahpo/rbv2_xgboost/1111", shipped, objective="auc")
    assert same.objectives == task.objectives and same.id == task.id
    assert load_task("yahpo/rbv2_xgboost/1111", shipped, objective="acc").id == (
        "yahpo/rbv2_xgboost/1111"
    )
    copy = pickle.loads(pickle.dumps(task))
    assert (copy.id, copy.objectives) == (task.id, task.objectives)
    config = task.space.defaults()
    assert copy.evaluate(config) == task.evaluate(config)
    # the model is opened once per process and shared
    assert copy._scenario is task._scenario  # type: ignore[attr-defined]
    with pytest.raises(TaskError, match="no objective 'aucc'.*did you mean 'auc'"):
        load_task("yahpo/rbv2_xgboost/1111:aucc", shipped)


def test_bad_ids_and_missing_data(
    shipped: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(TaskError, match="'999' is not an instance of lcbench"):
        load_task("yahpo/lcbench/999", shipped)
    with pytest.raises(TaskError, match="no YAHPO scenario folder.*lcbench"):
        load_task("yahpo/lcbnch/3945", shipped)
    with pytest.raises(TaskError, match=r"expected 'yahpo/\{scenario\}/\{instance\}'"):
        load_task("yahpo/lcbench", shipped)
    monkeypatch.delenv("TUNEFUL_DATA_DIR", raising=False)
    with pytest.raises(TaskError, match="TUNEFUL_DATA_DIR"):
        load_task("yahpo/lcbench/3945")
    monkeypatch.setenv("TUNEFUL_DATA_DIR", str(shipped))
    assert load_task("yahpo/lcbench/3945").id == "yahpo/lcbench/3945"
    with pytest.raises(TaskError, match="scenarios under.*none"):
        load_task("yahpo/lcbench/3945", tmp_path)


def test_any_scenario_laid_out_alike_loads(shipped: Path, tmp_path: Path) -> None:
    """Nothing keys on the scenario's name: a copy under another name works the same."""
    source = shipped / "yahpo" / "rbv2_xgboost"
    (tmp_path / "yahpo").mkdir()
    shutil.copytree(source, tmp_path / "yahpo" / "my_scenario")
    copy = load_task("yahpo/my_scenario/1111", tmp_path)
    original = load_task("yahpo/rbv2_xgboost/1111", shipped)
    assert copy.space == original.space
    config = original.space.defaults()
    assert copy.evaluate(config, fidelity=0.25) == original.evaluate(config, fidelity=0.25)


def test_configspace_reader_conditions() -> None:
    document: dict[str, Any] = {
        "hyperparameters": [
            {"name": "learner", "type": "categorical", "choices": ["svm", "tree"]},
            {"name": "kernel", "type": "categorical", "choices": ["linear", "radial"]},
            {"name": "gamma", "type": "uniform_float", "lower": 1e-3, "upper": 1.0, "log": True},
            {"name": "seed", "type": "constant", "value": 3},
        ],
        "conditions": [
            {"child": "kernel", "parent": "learner", "type": "EQ", "value": "svm"},
            {
                "type": "AND",
                "conditions": [
                    {"child": "gamma", "parent": "learner", "type": "EQ", "value": "svm"},
                    {"child": "gamma", "parent": "kernel", "type": "IN", "values": ["radial"]},
                ],
            },
        ],
        "forbiddens": [],
    }
    hypers = read_hyperparameters(document, "test")
    assert hypers["seed"].choices == (3,)
    assert read_conditions(document, "test") == {
        "kernel": {"learner": ["svm"]},
        "gamma": {"learner": ["svm"], "kernel": ["radial"]},
    }
    either = {"type": "OR", "conditions": document["conditions"][1]["conditions"]}
    with pytest.raises(TaskError, match="'OR'"):
        read_conditions({**document, "conditions": [either]}, "test")
    with pytest.raises(TaskError, match="forbidden"):
        read_conditions({**document, "forbiddens": [{"type": "EQUALS"}]}, "test")
    with pytest.raises(TaskError, match="normal_float"):
        read_hyperparameters({"hyperparameters": [{"name": "x", "type": "normal_float"}]}, "t")
