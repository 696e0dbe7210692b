"""create_study / load_study: arguments that would poison a study are refused at creation, and
load_if_exists loads only a study that matches what is given."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.errors import OptimizerError, SchedulerError, StudyError, StudyNotFoundError
from tuneful.storage import MemoryStorage, Storage

SPACE = tuneful.Space(x=tuneful.Float(0.0, 1.0), n=tuneful.Int(1, 4))


def _existing(**kwargs: Any) -> Storage:
    study = tuneful.create_study("s", space=SPACE, storage="memory://", seed=1, **kwargs)
    return study.storage


# -- load_if_exists ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "match"),
    [
        (
            {"space": tuneful.Space(x=tuneful.Float(0.0, 2.0), n=tuneful.Int(1, 4))},
            r"space: 'x' stored Float\(0.0, 1.0\), given Float\(0.0, 2.0\)",
        ),
        ({"space": tuneful.Space(x=tuneful.Float(0.0, 1.0))}, r"'n' only stored"),
        ({"direction": "maximize"}, r"directions: stored \['minimize'\], given \['maximize'\]"),
        ({"directions": ["minimize", "minimize"]}, "directions: stored"),
        ({"seed": 2}, "seed: stored 1, given 2"),
        ({"optimizer": "tpe"}, "optimizer: stored 'auto', given 'tpe'"),
        (
            {"optimizer": {"name": "auto", "settings": {"gp_trials": 50}}},
            "optimizer 'auto' settings: gp_trials stored 200, given 50",
        ),
        ({"scheduler": "asha"}, "scheduler: stored 'auto', given 'asha'"),
        ({"retries": 2}, "retries: stored 0, given 2"),
        ({"heartbeat_interval": 5.0}, "heartbeat_interval: stored 10.0, given 5.0"),
    ],
)
def test_load_if_exists_with_a_different_definition_is_refused(given: dict, match: str) -> None:
    storage = _existing()
    with pytest.raises(StudyError, match=match):
        tuneful.create_study("s", storage=storage, load_if_exists=True, **given)


def test_load_if_exists_names_every_difference_at_once() -> None:
    storage = _existing()
    with pytest.raises(StudyError, match=r"directions: .*; seed: stored 1, given 7"):
        tuneful.create_study(
            "s", storage=storage, load_if_exists=True, direction="maximize", seed=7
        )


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"space": SPACE, "direction": "minimize", "seed": 1},
        {"space": SPACE.to_dict()},
        {"space": None, "seed": None},
        {"optimizer": "auto", "scheduler": "auto"},
        {"retries": 0, "heartbeat_interval": 10.0},
    ],
)
def test_load_if_exists_with_the_same_or_no_definition_loads(given: dict) -> None:
    storage = _existing()
    loaded = tuneful.create_study("s", storage=storage, load_if_exists=True, **given)
    assert loaded.space == SPACE and loaded.seed == 1 and loaded.directions == ("minimize",)


def test_load_if_exists_on_a_define_by_run_study_refuses_a_space() -> None:
    storage = tuneful.create_study("d", storage="memory://").storage
    with pytest.raises(StudyError, match="define-by-run"):
        tuneful.create_study("d", storage=storage, space=SPACE, load_if_exists=True)


def test_load_if_exists_uses_the_given_scheduler() -> None:
    storage = _existing(scheduler="asha")
    loaded = tuneful.create_study("s", storage=storage, scheduler="asha", load_if_exists=True)
    assert loaded.scheduler.name == "asha"


# -- arguments that would poison a study ------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -1}, r"seed=-1: expected an int in \[0, 2\*\*63\)"),
        ({"seed": 2**63}, "seed=9223372036854775808"),
        ({"seed": 1.5}, "seed=1.5"),
        ({"seed": True}, "seed=True"),
        ({"heartbeat_interval": math.inf}, "heartbeat_interval=inf"),
        ({"heartbeat_interval": True}, "heartbeat_interval=True"),
        ({"grace_period": math.nan}, "grace_period=nan"),
        ({"grace_period": 5.0}, "grace_period=5.0 must be longer than heartbeat_interval=10.0"),
        ({"grace_period": 60.0, "heartbeat_interval": None}, "without heartbeats"),
        ({"retries": 1.5}, "retries=1.5"),
        ({"directions": "maximize"}, "one string: pass direction='maximize'"),
    ],
)
def test_create_study_refuses_arguments_that_would_poison_the_study(
    kwargs: dict, match: str
) -> None:
    with pytest.raises(StudyError, match=match):
        tuneful.create_study(space=SPACE, storage="memory://", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"optimizer": {"name": "tpe", "settings": {"n_startup": -1}}}, OptimizerError),
        ({"optimizer": {"name": "tpe", "settings": {"bogus": 1}}}, OptimizerError),
        ({"scheduler": {"name": "asha", "settings": {"reduction_factor": 1}}}, SchedulerError),
        ({"scheduler": {"name": "median", "settings": {"n_startup_trials": -1}}}, SchedulerError),
    ],
)
def test_create_study_refuses_bad_component_settings_before_the_first_ask(
    kwargs: dict, error: type[Exception]
) -> None:
    with pytest.raises(error):
        tuneful.create_study(space=SPACE, storage="memory://", **kwargs)


@pytest.mark.parametrize("seed", [0, 2**63 - 1, np.int64(5)])
def test_seeds_across_the_accepted_range_work(seed: Any) -> None:
    study = tuneful.create_study(space=SPACE, storage="memory://", seed=seed)
    study.tell(study.ask(), 1.0)
    assert study.seed == int(seed)


# -- Optuna's keywords ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "hint"),
    [("study_name", "name="), ("sampler", "optimizer="), ("pruner", "scheduler=")],
)
def test_optuna_keywords_name_tunefuls_own(keyword: str, hint: str) -> None:
    with pytest.raises(StudyError, match=f"{keyword}.*tuneful calls it {hint}"):
        tuneful.create_study(storage="memory://", **{keyword: "x"})
    storage = _existing()
    with pytest.raises(StudyError, match=f"tuneful calls it {hint}"):
        tuneful.load_study("s", storage=storage, **{keyword: "x"})


def test_unknown_keyword_suggests_the_closest_one() -> None:
    with pytest.raises(StudyError, match="did you mean 'directions'"):
        tuneful.create_study(storage="memory://", direcions=["minimize"])


def test_load_study_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    for call in (tuneful.load_study, tuneful.delete_study):
        with pytest.raises(StudyNotFoundError):
            call("x", storage=str(tmp_path / "typo.db"))
    assert tuneful.list_studies(storage=str(tmp_path / "typo.db")) == []
    assert list(tmp_path.iterdir()) == []


def test_load_study_refuses_a_one_objective_scheduler_for_several_objectives() -> None:
    storage = MemoryStorage()
    tuneful.create_study("two", directions=["minimize", "maximize"], storage=storage)
    with pytest.raises(tuneful.errors.SchedulerError, match="scheduler=.median.*2 objectives"):
        tuneful.load_study("two", storage=storage, scheduler="median")
    assert tuneful.load_study("two", storage=storage, scheduler="asha").scheduler.name == "asha"
    assert tuneful.load_study("two", storage=storage).scheduler.name == "auto"


def test_a_study_stored_before_descriptions_had_versions_loads_with_the_same_optimizer(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
    made = tuneful.create_study("new", space=space, storage=url, optimizer="tpe", seed=3)
    settings = dict(made.settings)
    for key in ("optimizer", "scheduler"):
        settings[key] = {k: v for k, v in settings[key].items() if k != "version"}
    from tuneful.storage import open_storage

    open_storage(url).create_study(
        "old", directions=["minimize"], space=made.space.to_dict(), settings=settings
    )
    loaded = tuneful.create_study(
        "old", space=space, storage=url, optimizer="tpe", seed=3, load_if_exists=True
    )
    assert loaded.name == "old" and loaded.optimizer.name == "tpe"


def test_an_optimizer_that_cannot_serve_the_study_is_refused_at_creation() -> None:
    with pytest.raises(OptimizerError, match="'cmaes' handles one objective"):
        tuneful.create_study(
            space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
            directions=["minimize", "maximize"],
            optimizer="cmaes",
            storage="memory://",
        )
