"""Optimizers and schedulers record their algorithm's version; a stored description of
another version is rebuilt with a warning."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import tuneful
from tuneful.errors import OptimizerError, SchedulerError, VersionChangedWarning
from tuneful.optimizers import TPEOptimizer, available_optimizers, make_optimizer
from tuneful.schedulers import available_schedulers, make_scheduler

SPACE = tuneful.Space(x=tuneful.Float(0, 1))


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("name", available_optimizers())
def test_an_optimizer_description_carries_its_version_and_rebuilds_silently(
    name: str, no_warnings: None
) -> None:
    optimizer = make_optimizer(name, seed=0)
    described = optimizer.describe()
    assert described == {
        "name": name,
        "settings": optimizer.settings(),
        "version": type(optimizer).version,
    }
    assert isinstance(described["version"], int) and described["version"] >= 1
    stored = json.loads(json.dumps(described))
    assert make_optimizer(stored, seed=0).describe() == described


@pytest.mark.parametrize("name", available_schedulers())
def test_a_scheduler_description_carries_its_version_and_rebuilds_silently(
    name: str, no_warnings: None
) -> None:
    settings = {"max_budget": 9} if name == "hyperband" else {}
    scheduler = make_scheduler({"name": name, "settings": settings})
    described = scheduler.describe()
    assert described["version"] == type(scheduler).version >= 1
    stored = json.loads(json.dumps(described))
    assert make_scheduler(stored).describe() == described


def test_a_description_stored_without_a_version_is_version_one(no_warnings: None) -> None:
    rebuilt = make_optimizer({"name": "tpe", "settings": {"n_startup": 5}}, seed=0)
    assert rebuilt.describe()["version"] == 1 and rebuilt.settings()["n_startup"] == 5
    assert make_scheduler({"name": "asha", "settings": {}}).describe()["version"] == 1


def test_another_version_warns_naming_the_component_and_both_versions() -> None:
    stored = {"name": "tpe", "settings": {}, "version": 2}
    with pytest.warns(VersionChangedWarning) as caught:
        rebuilt = make_optimizer(stored, seed=0)
    assert isinstance(rebuilt, TPEOptimizer)
    message = str(caught[0].message)
    assert "optimizer 'tpe'" in message
    assert "version 2" in message and "version 1" in message
    assert "may propose differently" in message and "Pass optimizer=" in message
    with pytest.warns(VersionChangedWarning, match=r"scheduler 'asha'.*Pass scheduler="):
        make_scheduler({"name": "asha", "settings": {}, "version": 3})


def test_a_bumped_class_version_warns_for_an_old_description(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(TPEOptimizer, "version", 2)
    assert TPEOptimizer().describe()["version"] == 2
    with pytest.warns(VersionChangedWarning, match="version 1 of its algorithm.*version 2"):
        make_optimizer({"name": "tpe", "settings": {}}, seed=0)  # stored before versions


def test_a_name_or_an_object_never_warns(
    monkeypatch: pytest.MonkeyPatch, no_warnings: None
) -> None:
    monkeypatch.setattr(TPEOptimizer, "version", 2)
    make_optimizer("tpe", seed=0)
    make_optimizer(TPEOptimizer(), seed=0)


@pytest.mark.parametrize("version", [0, "1", 1.0, True, None])
def test_a_malformed_version_is_refused(version: object) -> None:
    with pytest.raises(OptimizerError, match=rf"optimizer: version={version!r}: expected an int"):
        make_optimizer({"name": "tpe", "settings": {}, "version": version}, seed=0)
    with pytest.raises(SchedulerError, match=rf"scheduler: version={version!r}"):
        make_scheduler({"name": "asha", "settings": {}, "version": version})


def test_a_resumed_study_warns_when_its_optimizer_changed_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    study = tuneful.create_study("v", space=SPACE, storage=url, optimizer="tpe", seed=0)
    assert study.settings["optimizer"]["version"] == 1
    monkeypatch.setattr(TPEOptimizer, "version", 2)
    with pytest.warns(VersionChangedWarning, match="optimizer 'tpe'.*version 1.*version 2"):
        tuneful.load_study("v", storage=url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tuneful.load_study("v", storage=url, optimizer="tpe")  # chosen explicitly: silent


def test_same_as_compares_name_and_settings_not_the_version() -> None:
    optimizer = TPEOptimizer(n_startup=5)
    described = optimizer.describe()
    assert optimizer.same_as(described)
    assert optimizer.same_as({"name": "tpe", "settings": described["settings"]})  # old study
    assert optimizer.same_as({**described, "version": 7})
    assert not optimizer.same_as({**described, "settings": {"n_startup": 6}})
    assert not optimizer.same_as({"name": "gp", "settings": described["settings"]})
    assert not optimizer.same_as("tpe")
    scheduler = make_scheduler("asha")
    assert scheduler.same_as(json.loads(json.dumps(scheduler.describe())))
