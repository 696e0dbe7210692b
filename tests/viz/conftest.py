"""Real studies, run with tuneful, that the plot tests draw: a conditional space with
failures, a pruned one, multi-objective ones (2 and 3 objectives), a define-by-run one, an
empty one. Built once per test session (all in memory)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import tuneful
from tuneful import Categorical, Float, Int, Space
from tuneful.analysis.trials import StudyData

CONDITIONAL = Space(
    optimizer=Categorical(["sgd", "adam"]),
    lr=Float(1e-4, 1e-1, log=True),
    momentum=Float(0.0, 0.99, when={"optimizer": "sgd"}),
    layers=Int(1, 4),
)


def loss(params: dict) -> float:
    value = (math.log10(params["lr"]) + 2.5) ** 2 + 0.1 * params["layers"]
    if params["optimizer"] == "sgd":
        value += 0.3 + 0.5 * (params["momentum"] - 0.9) ** 2
    return value


def conditional_objective(trial: tuneful.Trial) -> float:
    if trial.params["layers"] == 4 and trial.params["optimizer"] == "adam":
        raise RuntimeError("out of memory: 4 layers do not fit\nmore detail")
    return loss(trial.params)


def _run(name: str, objective, n_trials: int, **settings) -> StudyData:
    study = tuneful.create_study(name, storage="memory://", seed=0, **settings)
    study.optimize(objective, n_trials=n_trials, show_progress_bar=False, fail_fast=False)
    return StudyData.of(study)


@pytest.fixture(scope="session")
def conditional() -> StudyData:
    """60 trials of a conditional space (momentum only under sgd), some failed."""
    return _run("conditional", conditional_objective, 60, space=CONDITIONAL, optimizer="random")


@pytest.fixture(scope="session")
def conditional_max() -> StudyData:
    """The conditional space, maximizing minus the loss."""
    return _run(
        "maximized",
        lambda t: -loss(t.params),
        40,
        space=CONDITIONAL,
        optimizer="random",
        direction="maximize",
    )


def curve_objective(trial: tuneful.Trial) -> float:
    value = loss(trial.params)
    for step in range(1, 10):
        trial.report(step=step, value=value + 1.0 / step)
    return value


@pytest.fixture(scope="session")
def pruned() -> StudyData:
    """40 trials that report a curve, stopped early by ASHA."""
    return _run("pruned", curve_objective, 40, space=CONDITIONAL, scheduler="asha")


@pytest.fixture(scope="session")
def median_pruned() -> StudyData:
    return _run("median", curve_objective, 30, space=CONDITIONAL, scheduler="median")


def two_objectives(trial: tuneful.Trial) -> tuple[float, float]:
    x, y = trial.params["x"], trial.params["y"]
    return x**2 + y, (x - 1) ** 2 - y


@pytest.fixture(scope="session")
def bi_objective() -> StudyData:
    return _run(
        "bi",
        two_objectives,
        50,
        space=Space(x=Float(-1, 2), y=Float(0, 1)),
        directions=["minimize", "minimize"],
        optimizer="random",
    )


@pytest.fixture(scope="session")
def bi_objective_mixed() -> StudyData:
    """Minimize the first objective, maximize the second."""
    return _run(
        "bi-mixed",
        lambda t: (t.params["x"] ** 2, -((t.params["x"] - 1) ** 2)),
        40,
        space=Space(x=Float(-1, 2)),
        directions=["minimize", "maximize"],
        optimizer="random",
    )


@pytest.fixture(scope="session")
def tri_objective() -> StudyData:
    def objective(trial: tuneful.Trial) -> tuple[float, float, float]:
        a, b, c = trial.params["a"], trial.params["b"], trial.params["c"]
        return a + c, b + c, (1 - a) * (1 - b) + c + 0.1 * np.sin(5 * a)

    return _run(
        "tri",
        objective,
        60,
        space=Space(a=Float(0, 1), b=Float(0, 1), c=Float(0, 1)),
        directions=["minimize", "minimize", "minimize"],
        optimizer="random",
    )


@pytest.fixture(scope="session")
def define_by_run() -> StudyData:
    def objective(trial: tuneful.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["linear", "tree"])
        if kind == "linear":
            alpha = trial.suggest_float("alpha", 1e-5, 1.0, log=True)
            return (math.log10(alpha) + 2) ** 2
        depth = trial.suggest_int("depth", 1, 12)
        return abs(depth - 6) / 3 + 0.5

    return _run("by-run", objective, 40)


@pytest.fixture(scope="session")
def empty() -> StudyData:
    study = tuneful.create_study("empty", space=CONDITIONAL, storage="memory://", seed=0)
    return StudyData.of(study)


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("images")


@pytest.fixture(scope="session")
def synthetic():
    """``synthetic(n, objectives=1)``: see :func:`make_synthetic`."""
    return make_synthetic


def make_synthetic(n: int, *, objectives: int = 1, seed: int = 0) -> StudyData:
    """A large study made of records directly (no optimizer), over the conditional space:
    a fifth of the trials pruned with a curve, some failed, a few workers."""
    rng = np.random.default_rng(seed)
    trials = []
    for number in range(n):
        params = {
            "optimizer": "sgd" if rng.random() < 0.5 else "adam",
            "lr": float(10 ** rng.uniform(-4, -1)),
            "layers": int(rng.integers(1, 5)),
        }
        if params["optimizer"] == "sgd":
            params["momentum"] = float(rng.uniform(0, 0.99))
        value = loss(params) + float(rng.normal(0, 0.05))
        state = tuneful.TrialState.COMPLETE
        roll = rng.random()
        if roll < 0.2:
            state = tuneful.TrialState.PRUNED
        elif roll < 0.22:
            state = tuneful.TrialState.FAIL
        curve = {1: value + 1.0, 2: value + 0.5}
        values = None
        if state is tuneful.TrialState.COMPLETE:
            values = (value,) + tuple(float(rng.random()) for _ in range(objectives - 1))
            curve[3] = value
        attrs = {}
        if state is tuneful.TrialState.PRUNED:
            attrs = {"pruned": {"step": 2, "rung": 1, "reason": "below the median"}}
        start = 1000.0 + number * 0.25
        trials.append(
            tuneful.TrialRecord(
                number,
                state,
                params=params,
                values=values,
                intermediate=curve,
                system_attrs=attrs,
                worker=f"w{number % 4}",
                started_at=start,
                finished_at=start + 0.9,
                error="Traceback (most recent call last):\nValueError: boom"
                if state is tuneful.TrialState.FAIL
                else None,
            )
        )
    directions = ("minimize",) * objectives
    return StudyData("large", directions, tuple(trials), CONDITIONAL)
