"""Benchmark suites: named suites, YAML suite files, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneful.bench.suites import SUITES, list_suites, load_suite
from tuneful.bench.tasks import load_task, steplaw_grids
from tuneful.errors import SpecError


def test_named_suites_are_listed() -> None:
    listed = list_suites()
    for name in ("bbob-small", "yahpo-lcbench", "yahpo-xgboost", "steplaw", "sklearn-small"):
        assert name in listed and listed[name]
    assert listed == {name: suite["description"] for name, suite in SUITES.items()}


def test_bbob_small_covers_every_group_in_three_dimensions() -> None:
    pytest.importorskip("cocoex")
    task_ids = load_suite("bbob-small")
    assert len(task_ids) == len(set(task_ids)) == 30
    tasks = [load_task(task_id) for task_id in task_ids]
    assert {t.metadata["dimension"] for t in tasks} == {2, 5, 10}
    assert len({t.metadata["group"] for t in tasks}) == 5
    assert all(t.id == task_id for t, task_id in zip(tasks, task_ids, strict=True))


def test_data_suites_load(data_dir: Path) -> None:
    pytest.importorskip("onnxruntime")
    for name, scenario in (("yahpo-lcbench", "lcbench"), ("yahpo-xgboost", "rbv2_xgboost")):
        if not (data_dir / "yahpo" / scenario).is_dir():
            continue
        task_ids = load_suite(name)
        assert len(task_ids) == 8
        assert [load_task(task_id, data_dir).id for task_id in task_ids] == task_ids
    csv_path = data_dir.parent / "datasets" / "steplaw" / "dense_lr_bs_loss.csv"
    if csv_path.is_file():
        expected = [f"steplaw/dense/N{n}/D{d}" for n, d in steplaw_grids(data_dir)]
        assert load_suite("steplaw") == expected


def test_sklearn_small_ids_load() -> None:
    pytest.importorskip("sklearn")
    task_ids = load_suite("sklearn-small")
    assert len(task_ids) == 9
    assert [load_task(task_id).id for task_id in task_ids] == task_ids


def test_yaml_suite_with_tasks_and_includes(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("tasks:\n  - bbob/f1/d2/i1\n  - sklearn/svm/wine\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "description: mine\n"
        "include: [sklearn-small, base.yaml]\n"
        "tasks:\n  - yahpo/lcbench/3945\n  - bbob/f1/d2/i1\n"
    )
    task_ids = load_suite(suite)
    assert task_ids == [
        *SUITES["sklearn-small"]["tasks"],
        "bbob/f1/d2/i1",
        "yahpo/lcbench/3945",
    ]
    assert load_suite(str(suite)) == task_ids


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tasks: [bbob/f1/d2/i1]\ninclude: [bbob-smal]\n", "unknown suite 'bbob-smal'.*did you"),
        ("task: [bbob/f1/d2/i1]\n", "unknown key 'task'; did you mean 'tasks'"),
        ("tasks: bbob/f1/d2/i1\n", "'tasks' must be a list of strings"),
        ("tasks: [bobb/f1/d2/i1]\n", "unknown family 'bobb'"),
        ("- bbob/f1/d2/i1\n", "expected a mapping"),
        ("description: nothing\n", "neither 'tasks' nor 'include'"),
        ("tasks: [unclosed\n", "cannot read suite file"),
    ],
)
def test_bad_yaml_suites(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_suite(path)


def test_unknown_suite_names_and_cycles(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="unknown suite 'steplw'; did you mean 'steplaw'") as info:
        load_suite("steplw")
    assert "bbob-small" in str(info.value)
    (tmp_path / "a.yaml").write_text("include: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("include: [a.yaml]\n")
    with pytest.raises(SpecError, match="include each other"):
        load_suite(tmp_path / "a.yaml")
