"""The peer adapters: valid configurations, conditions, budget, seeds, self-description."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from tuneful.bench.adapters import (
    Adapter,
    BudgetExhausted,
    get_adapter,
    peer_adapters,
)
from tuneful.bench.adapters._hyperopt import Hyperopt
from tuneful.bench.adapters._peer import quiet_loggers
from tuneful.bench.tasks.base import Objective, Task
from tuneful.errors import OptimizerError, SearchExhausted, SpaceError, SpecError
from tuneful.space import Categorical, Fixed, Float, Int, Space

#: The modules each adapter imports; a test of an adapter is skipped when one is missing.
MODULES = {
    "optuna-tpe": ("optuna",),
    "optuna-gp": ("optuna", "torch"),
    "optuna-cmaes": ("optuna", "cmaes"),
    "optuna-random": ("optuna",),
    "optuna-default": ("optuna",),
    "optuna-motpe": ("optuna",),
    "optuna-nsga2": ("optuna",),
    "optuna-nsga3": ("optuna",),
    "smac-bb": ("smac",),
    "smac-hpo": ("smac",),
    "hyperopt": ("hyperopt",),
}
#: The multi-fidelity peers (tested in test_multifidelity.py), and what they need.
MF_MODULES = {"optuna-tpe-hyperband": ("optuna",), "smac-mf": ("smac",), "dehb": ("dehb",)}
#: Budgets that keep the suite fast: SMAC's black-box facade fits a GP for ~2 s per trial.
BUDGETS = {"smac-bb": 4, "smac-hpo": 8}
DETERMINISTIC = ["optuna-tpe", "optuna-random", "optuna-cmaes", "hyperopt", "smac-hpo"]


def require(name: str) -> None:
    for module in MODULES[name]:
        pytest.importorskip(module, reason=f"{name} needs {module}, which is not installed")


class Quadratic(Task):
    """A small conditional problem: an int, a log float, a categorical with a child, a Fixed."""

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        config = self.space.validate(config)
        loss = (config["x"] - 3) ** 2 + (math.log10(config["lr"]) + 2) ** 2
        if config["kind"] == "deep":
            loss += config["depth"] / 10
        return {"loss": float(loss)}


def quadratic() -> Quadratic:
    space = Space(
        x=Int(-5, 10),
        lr=Float(1e-4, 1.0, log=True),
        kind=Categorical(["deep", "flat"]),
        depth=Int(1, 9, step=2, when={"kind": "deep"}),
        tag=Fixed("v1"),
    )
    return Quadratic(id="test/quadratic", space=space, objectives=(Objective("loss"),))


class Recorder:
    """The runner's side: evaluates and records, and raises BudgetExhausted once spent."""

    def __init__(self, task: Task, budget: int, losses: list[float] | None = None) -> None:
        self.task, self.budget = task, budget
        self.configs: list[dict[str, Any]] = []
        self.refused = 0  # calls after the budget was spent
        self.losses = losses

    def __call__(self, config: Mapping[str, Any], fidelity: float | None = None) -> float:
        if len(self.configs) >= self.budget:
            self.refused += 1
            raise BudgetExhausted(f"budget of {self.budget} evaluations spent")
        self.configs.append(dict(config))
        if self.losses is not None:
            return self.losses[(len(self.configs) - 1) % len(self.losses)]
        return self.task.evaluate(config)["loss"]


def run(name: str, task: Task, *, budget: int, seed: int = 0, **recorder: Any) -> Recorder:
    """Run adapter ``name`` for ``budget`` evaluations; it must stop where the runner says."""
    evaluate = Recorder(task, budget, **recorder)
    with contextlib.suppress(BudgetExhausted):
        get_adapter(name).run(task, budget=budget, seed=seed, evaluate=evaluate)
    return evaluate


# -- registry and self-description -----------------------------------------------------------


def test_registry_lists_every_peer() -> None:
    assert peer_adapters() == [*MODULES, *MF_MODULES]
    for name in peer_adapters():
        adapter = get_adapter(name)
        assert isinstance(adapter, Adapter)
        assert adapter.name == name


def test_unknown_adapter_names_the_peers() -> None:
    with pytest.raises(SpecError, match="optuna-tpe.*did you mean 'smac-hpo'"):
        get_adapter("smac-hp")


@pytest.mark.parametrize("name", list(MODULES))
def test_describe_says_defaults_version_and_call(name: str) -> None:
    described = get_adapter(name).describe()
    assert described["name"] == name
    assert described["settings"] == {}
    assert described["defaults"] is True
    assert "(seed)" in described["call"] or "seed=seed" in described["call"]
    if get_adapter(name).unavailable_reason() is None:
        assert isinstance(described["version"], str)


# -- availability ----------------------------------------------------------------------------


def hide(monkeypatch: pytest.MonkeyPatch, *missing: str) -> None:
    """Make ``find_spec`` report the ``missing`` modules as not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name in missing else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.parametrize(
    ("name", "missing", "install"),
    [
        ("optuna-tpe", "optuna", "pip install optuna"),
        ("optuna-gp", "torch", "pip install torch==2.13.0"),
        ("optuna-cmaes", "cmaes", "pip install cmaes"),
        ("smac-hpo", "smac", "pip install smac"),
        ("hyperopt", "hyperopt", "pip install hyperopt"),
    ],
)
def test_missing_package_is_reported(
    monkeypatch: pytest.MonkeyPatch, name: str, missing: str, install: str
) -> None:
    hide(monkeypatch, missing)
    reason = get_adapter(name).unavailable_reason()
    assert reason is not None
    assert missing in reason
    assert install in reason


def test_unknown_package_is_unavailable() -> None:
    class Ghost(Hyperopt):
        package = "tuneful-no-such-peer"

    reason = Ghost().unavailable_reason()
    assert reason is not None and "tuneful-no-such-peer" in reason
    assert Ghost().version() is None


# -- runs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(MODULES))
def test_run_proposes_valid_configurations_up_to_the_budget(name: str) -> None:
    require(name)
    task = quadratic()
    budget = BUDGETS.get(name, 10)
    evaluate = run(name, task, budget=budget)
    assert len(evaluate.configs) == budget
    assert evaluate.refused <= 1  # the adapter stops at the first BudgetExhausted
    for config in evaluate.configs:
        assert task.space.validate(config) == config
        assert ("depth" in config) == (config["kind"] == "deep")
        assert config["tag"] == "v1"
        assert type(config["x"]) is int and type(config["lr"]) is float
        assert 1e-4 <= config["lr"] <= 1.0


@pytest.mark.parametrize("name", list(MODULES))
def test_budget_exhausted_propagates(name: str) -> None:
    """The runner's budget ends the run even when the adapter was given a larger one."""
    require(name)
    task = quadratic()
    evaluate = Recorder(task, budget=2)
    with pytest.raises(BudgetExhausted):
        get_adapter(name).run(task, budget=BUDGETS.get(name, 10), seed=0, evaluate=evaluate)
    assert len(evaluate.configs) == 2
    assert evaluate.refused == 1


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_same_seed_same_run(name: str) -> None:
    require(name)
    task = quadratic()
    budget = 5 if name == "smac-hpo" else 12  # 12: past Optuna TPE's 10 start-up trials
    first = run(name, task, budget=budget, seed=3).configs
    assert run(name, task, budget=budget, seed=3).configs == first
    assert run(name, task, budget=budget, seed=4).configs != first


@pytest.mark.parametrize("name", ["optuna-tpe", "optuna-cmaes", "hyperopt", "smac-hpo"])
def test_failed_evaluations_do_not_stop_the_run(name: str) -> None:
    """NaN and infinite losses are told to the peer as failed trials."""
    require(name)
    budget = 6 if name == "smac-hpo" else 12
    evaluate = run(name, quadratic(), budget=budget, losses=[math.nan, 1.0, math.inf])
    assert len(evaluate.configs) == budget


@pytest.mark.parametrize("name", ["optuna-random", "hyperopt", "smac-hpo"])
def test_every_evaluation_failing_is_not_an_error(name: str) -> None:
    require(name)
    evaluate = run(name, quadratic(), budget=4, losses=[math.nan])
    assert len(evaluate.configs) == 4


def test_bad_budget_or_seed_is_refused() -> None:
    adapter = get_adapter("optuna-random")
    task = quadratic()
    with pytest.raises(OptimizerError, match="budget=0"):
        adapter.run(task, budget=0, seed=0, evaluate=Recorder(task, 1))
    with pytest.raises(OptimizerError, match="seed=-1"):
        adapter.run(task, budget=1, seed=-1, evaluate=Recorder(task, 1))


def test_optuna_suggests_every_parameter_type() -> None:
    require("optuna-random")
    space = Space(
        kind=Categorical([None, True, 1, "one", 2.5]),
        step=Float(0.0, 1.0, step=0.1),
        stride=Int(0, 20, step=5),
        count=Int(1, 1000, log=True),
        scale=Float(0.5, 2.0),
        child=Fixed(7, when={"kind": [True, 1]}),
        grandchild=Float(1e-3, 1.0, log=True, when={"child": 7}),
    )
    task = Quadratic(id="test/types", space=space, objectives=(Objective("loss"),))
    configs = run("optuna-random", task, budget=60, losses=[0.0]).configs
    for config in configs:
        assert space.validate(config) == config
        assert ("grandchild" in config) == (config["kind"] is True or config["kind"] == 1)
    # True and 1 are different choices, and both are drawn
    kinds = {(type(c["kind"]), c["kind"]) for c in configs}
    assert (bool, True) in kinds and (int, 1) in kinds


def test_quiet_loggers_restores_levels() -> None:
    logger = logging.getLogger("tuneful-test-peer")
    logger.setLevel(logging.INFO)
    with quiet_loggers(("tuneful-test-peer",)):
        assert logger.level == logging.CRITICAL
    assert logger.level == logging.INFO


# -- ConfigSpace conversion ------------------------------------------------------------------


def test_configspace_conversion() -> None:
    require("smac-hpo")
    from ConfigSpace import AndConjunction, EqualsCondition, InCondition

    from tuneful.bench.adapters._smac import to_configspace

    space = Space(
        kind=Categorical(["a", "b", "c"]),
        width=Int(1, 64, log=True),
        grid=Float(0.0, 1.0, step=0.25),
        lr=Float(1e-5, 1e-1, log=True, when={"kind": ["a", "b"]}),
        depth=Int(2, 10, step=2, when={"kind": "a"}),
        both=Float(0.0, 1.0, when={"kind": "a", "depth": [4, 6]}),
        on=Fixed("yes", when={"kind": "c"}),
        under_fixed=Float(0.0, 1.0, when={"on": "yes"}),
        never=Float(0.0, 1.0, when={"on": "yes", "kind": "a"}),  # on needs kind == "c"
    )
    conversion = to_configspace(space)
    configspace = conversion.configspace
    assert set(configspace) == {"kind", "width", "grid", "lr", "depth", "both", "under_fixed"}
    width = configspace["width"]
    assert width.log and (width.lower, width.upper) == (1, 64)
    assert (configspace["grid"].lower, configspace["grid"].upper) == (0, 4)  # level index
    assert configspace["lr"].log
    conditions = {c.child.name: c for c in configspace.conditions}
    assert isinstance(conditions["lr"], InCondition) and conditions["lr"].values == [0, 1]
    assert isinstance(conditions["depth"], EqualsCondition) and conditions["depth"].value == 0
    assert isinstance(conditions["both"], AndConjunction)
    # on=Fixed("yes") is active when kind == "c": its child inherits that condition
    assert isinstance(conditions["under_fixed"], EqualsCondition)
    assert conditions["under_fixed"].parent.name == "kind"
    assert conditions["under_fixed"].value == 2
    configspace.seed(0)
    for sample in configspace.sample_configuration(200):
        config = conversion.to_config(sample)
        assert ("on" in config) == ("under_fixed" in config) == (config["kind"] == "c")
        assert ("both" in config) == (config["kind"] == "a" and config["depth"] in (4, 6))


def test_smac_reports_a_space_too_small_for_the_budget() -> None:
    require("smac-hpo")
    space = Space(kind=Categorical(["a", "b"]))
    task = Quadratic(id="test/tiny", space=space, objectives=(Objective("loss"),))
    with pytest.raises(SearchExhausted, match="smac-hpo"):
        get_adapter("smac-hpo").run(task, budget=5, seed=0, evaluate=Recorder(task, 5, [1.0]))


@pytest.mark.parametrize("name", ["smac-hpo", "hyperopt"])
def test_space_of_fixed_values_only_is_refused(name: str) -> None:
    require(name)
    task = Quadratic(id="test/fixed", space=Space(a=Fixed(1)), objectives=(Objective("loss"),))
    with pytest.raises(SpaceError, match="not Fixed"):
        get_adapter(name).run(task, budget=2, seed=0, evaluate=Recorder(task, 2))


# -- hyperopt conversion ---------------------------------------------------------------------


def hyperopt_samples(space: Space, n: int = 300) -> list[dict[str, Any]]:
    from hyperopt.pyll import stochastic

    from tuneful.bench.adapters._hyperopt import to_hyperopt

    conversion = to_hyperopt(space)
    rng = np.random.default_rng(0)
    return [conversion.to_config(stochastic.sample(conversion.expression, rng)) for _ in range(n)]


def test_hyperopt_nests_children_under_their_parents() -> None:
    require("hyperopt")
    space = Space(
        kind=Categorical(["a", "b", "c"]),
        lr=Float(1e-5, 1e-1, log=True, when={"kind": ["a", "b"]}),
        layers=Int(1, 3, when={"kind": "a"}),
        # nested: layers exists only when kind == "a", so kind == "a" is implied
        last=Int(1, 100, log=True, when={"kind": "a", "layers": 3}),
        on=Fixed(True, when={"kind": "c"}),
        under_fixed=Float(0.0, 1.0, step=0.5, when={"on": True}),
    )
    configs = hyperopt_samples(space)
    for config in configs:
        assert space.validate(config) == config
        assert ("lr" in config) == (config["kind"] in ("a", "b"))
        assert ("last" in config) == (config.get("layers") == 3)
        assert ("under_fixed" in config) == (config["kind"] == "c")
    assert {c["layers"] for c in configs if "layers" in c} == {1, 2, 3}
    assert {c["under_fixed"] for c in configs if "under_fixed" in c} == {0.0, 0.5, 1.0}
    lasts = [c["last"] for c in configs if "last" in c]
    assert min(lasts) >= 1 and max(lasts) <= 100


def test_hyperopt_grids_give_every_level() -> None:
    require("hyperopt")
    space = Space(
        small=Int(1, 3),
        log=Int(1, 4, log=True),
        stride=Int(-4, 4, step=4),
        grid=Float(0, 1, step=0.5),
    )
    configs = hyperopt_samples(space)
    assert {c["small"] for c in configs} == {1, 2, 3}
    assert {c["log"] for c in configs} == {1, 2, 3, 4}
    assert {c["stride"] for c in configs} == {-4, 0, 4}
    assert {c["grid"] for c in configs} == {0.0, 0.5, 1.0}


def test_hyperopt_refuses_parents_that_are_not_nested() -> None:
    require("hyperopt")
    from tuneful.bench.adapters._hyperopt import to_hyperopt

    space = Space(
        a=Categorical(["x", "y"]),
        b=Categorical([1, 2]),
        c=Float(0.0, 1.0, when={"a": "x", "b": 1}),
    )
    with pytest.raises(SpaceError, match="parameter 'c'"):
        to_hyperopt(space)


def test_hyperopt_refuses_an_int_parent_with_too_many_values() -> None:
    require("hyperopt")
    from tuneful.bench.adapters._hyperopt import MAX_INT_BRANCHES, to_hyperopt

    space = Space(n=Int(0, MAX_INT_BRANCHES), extra=Float(0.0, 1.0, when={"n": 0}))
    with pytest.raises(SpaceError, match="parameter 'n'"):
        to_hyperopt(space)
    small = Space(n=Int(0, 4), extra=Float(0.0, 1.0, when={"n": [0, 4]}))
    for config in hyperopt_samples(small, 100):
        assert ("extra" in config) == (config["n"] in (0, 4))
