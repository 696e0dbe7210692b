"""Step Law tasks: grid lookup, snapping to measured runs, optima, errors."""

from __future__ import annotations

import csv
import math
import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tuneful.bench.tasks import TaskError, load_task, steplaw_grids
from tuneful.errors import SpaceError

GRID = "steplaw/dense/N214663680/D4000000000"


@pytest.fixture
def steplaw_dir(data_dir: Path) -> Path:
    csv_path = data_dir.parent / "datasets" / "steplaw" / "dense_lr_bs_loss.csv"
    if not (data_dir / "steplaw").is_dir() and not csv_path.is_file():
        pytest.skip(f"Step Law data not found at {csv_path}; set TUNEFUL_DATA_DIR")
    return data_dir


def _runs(data_dir: Path) -> dict[tuple[int, int], list[dict[str, Any]]]:
    path = data_dir / "steplaw" / "dense_lr_bs_loss.csv"
    if not path.is_file():
        path = data_dir.parent / "datasets" / "steplaw" / "dense_lr_bs_loss.csv"
    grids: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            grids[(int(row["N"]), int(row["D"]))].append(row)
    return grids


def test_grids_are_listed(steplaw_dir: Path) -> None:
    grids = steplaw_grids(steplaw_dir)
    assert grids == sorted(_runs(steplaw_dir))
    assert len(grids) == 17
    assert (214663680, 4000000000) in grids


def test_optimum_is_the_grid_minimum(steplaw_dir: Path) -> None:
    for (n, d), runs in _runs(steplaw_dir).items():
        task = load_task(f"steplaw/dense/N{n}/D{d}", steplaw_dir)
        smooth = min(float(r["smooth loss"]) for r in runs)
        assert task.objectives[0].name == "smooth_loss"
        assert task.objectives[0].optimum == smooth
        assert task.objectives[1].optimum == min(float(r["loss"]) for r in runs)
        assert task.fidelity is None
        best = task.metadata["best"]
        assert task.evaluate(best)["smooth_loss"] == smooth


def test_space_is_the_measured_range(steplaw_dir: Path) -> None:
    runs = _runs(steplaw_dir)[(214663680, 4000000000)]
    task = load_task(GRID, steplaw_dir)
    lr, bs = task.space["learning_rate"], task.space["batch_size"]
    assert (lr.low, lr.high, lr.log) == (  # type: ignore[attr-defined]
        min(float(r["lr"]) for r in runs),
        max(float(r["lr"]) for r in runs),
        True,
    )
    assert (bs.low, bs.high, bs.log) == (  # type: ignore[attr-defined]
        min(int(r["bs"]) for r in runs),
        max(int(r["bs"]) for r in runs),
        True,
    )
    assert task.metadata["model"] == {"h": 960, "ffnh": 9368, "numh": 15, "numl": 7}


def test_every_measured_point_returns_its_run(steplaw_dir: Path) -> None:
    runs = _runs(steplaw_dir)[(214663680, 4000000000)]
    task = load_task(GRID, steplaw_dir)
    for run in runs:
        config = {"learning_rate": float(run["lr"]), "batch_size": int(run["bs"])}
        result = task.evaluate(config)
        assert result["smooth_loss"] == float(run["smooth loss"])
        assert result["loss"] == float(run["loss"])
        assert (result["grid_learning_rate"], result["grid_batch_size"]) == (
            float(run["lr"]),
            float(run["bs"]),
        )


def test_points_snap_to_the_nearest_run_in_normalized_log_space(steplaw_dir: Path) -> None:
    runs = _runs(steplaw_dir)[(214663680, 4000000000)]
    task = load_task(GRID, steplaw_dir)
    log_lr = np.log([float(r["lr"]) for r in runs])
    log_bs = np.log([float(r["bs"]) for r in runs])

    def expected(config: dict[str, Any]) -> float:
        u = (math.log(config["learning_rate"]) - log_lr.min()) / np.ptp(log_lr)
        v = (math.log(config["batch_size"]) - log_bs.min()) / np.ptp(log_bs)
        distance = ((log_lr - log_lr.min()) / np.ptp(log_lr) - u) ** 2 + (
            (log_bs - log_bs.min()) / np.ptp(log_bs) - v
        ) ** 2
        return float(runs[int(np.argmin(distance))]["smooth loss"])

    for config in task.space.sample(np.random.default_rng(0), n=200):
        assert task.evaluate(config)["smooth_loss"] == expected(config)
    # a small step away from a measured point comes back to it
    assert task.evaluate({"learning_rate": 0.0029, "batch_size": 130}) == task.evaluate(
        {"learning_rate": 0.002762, "batch_size": 128}
    )


def test_scientific_forms_match_within_one_percent(steplaw_dir: Path) -> None:
    task = load_task("steplaw/dense/N2.15e8/D4e9", steplaw_dir)
    assert task.id == GRID
    assert load_task("steplaw/dense/N1.07e9/D5.69e10", steplaw_dir).id == (
        "steplaw/dense/N1073741824/D56900000000"
    )
    copy = pickle.loads(pickle.dumps(task))
    config = {"learning_rate": 0.001, "batch_size": 64}
    assert copy.evaluate(config) == task.evaluate(config)


@pytest.mark.parametrize(
    ("task_id", "message"),
    [
        ("steplaw/dense/N2.0e8/D4e9", r"no Step Law grid within 1 % of N=2e\+08"),
        ("steplaw/dense/N214663680/D5e9", "no Step Law grid within 1 %"),
        ("steplaw/moe/N214663680/D4e9", "only 'dense' grids"),
        ("steplaw/dense/N214663680", "expected 'steplaw/dense/N"),
        ("steplaw/dense/Nbig/D4e9", "positive numbers"),
        ("steplaw/dense/D4e9/N214663680", "positive numbers"),
    ],
)
def test_wrong_grids_are_named(steplaw_dir: Path, task_id: str, message: str) -> None:
    with pytest.raises(TaskError, match=message) as info:
        load_task(task_id, steplaw_dir)
    if "within" in message:
        assert "N214663680/D4000000000 (N2.15e+08/D4e+09)" in str(info.value)


def test_missing_data_lists_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match="not found; looked at") as info:
        load_task(GRID, tmp_path)
    assert str(tmp_path / "steplaw" / "dense_lr_bs_loss.csv") in str(info.value)
    assert str(tmp_path.parent / "datasets" / "steplaw" / "dense_lr_bs_loss.csv") in str(info.value)


def test_bad_configs(steplaw_dir: Path) -> None:
    task = load_task(GRID, steplaw_dir)
    with pytest.raises(SpaceError, match="learning_rate"):
        task.evaluate({"learning_rate": 1.0, "batch_size": 64})
    with pytest.raises(TaskError, match="no fidelity"):
        task.evaluate({"learning_rate": 0.001, "batch_size": 64}, fidelity=1)
