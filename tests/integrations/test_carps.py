"""tuneful inside carps: ConfigSpace spaces as tuneful spaces, and carps' own optimizer loop
(``optimizer.run()`` and ``python -m carps.run``) driving a tuneful study."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("carps")

from carps.loggers.abstract_logger import AbstractLogger  # noqa: E402
from carps.objective_functions.objective_function import ObjectiveFunction  # noqa: E402
from carps.utils.task import (  # noqa: E402
    FidelitySpace,
    InputSpace,
    OptimizationResources,
    OutputSpace,
    Task,
    TaskMetadata,
)
from carps.utils.trials import StatusType, TrialInfo, TrialValue  # noqa: E402
from ConfigSpace import (  # noqa: E402
    AndConjunction,
    CategoricalHyperparameter,
    ConfigurationSpace,
    Constant,
    EqualsCondition,
    ForbiddenEqualsClause,
    GreaterThanCondition,
    InCondition,
    NormalFloatHyperparameter,
    NotEqualsCondition,
    OrConjunction,
    OrdinalHyperparameter,
    UniformFloatHyperparameter,
    UniformIntegerHyperparameter,
)

import tuneful  # noqa: E402
from tuneful.errors import SpaceError, TrialError  # noqa: E402
from tuneful.integrations.carps import TunefulOptimizer, space_from_configspace  # noqa: E402
from tuneful.space import Categorical, Fixed, Float, Int  # noqa: E402

SRC = Path(tuneful.__file__).resolve().parents[1]
ORDER = ["lo", "mid", "hi"]


def _configspace() -> ConfigurationSpace:
    cs = ConfigurationSpace()
    cs.add(
        UniformFloatHyperparameter("x", -5.0, 5.0),
        UniformFloatHyperparameter("lr", 1e-4, 1.0, log=True),
        UniformIntegerHyperparameter("n", 1, 8),
        UniformIntegerHyperparameter("units", 16, 256, log=True),
        CategoricalHyperparameter("kind", ["a", "b", "c"]),
        OrdinalHyperparameter("size", ORDER),
        Constant("tag", "v"),
        UniformFloatHyperparameter("m", 0.0, 1.0),
        UniformFloatHyperparameter("w", 0.0, 1.0),
    )
    cs.add(
        EqualsCondition(cs["m"], cs["kind"], "b"),
        AndConjunction(
            InCondition(cs["w"], cs["kind"], ["a", "b"]),
            NotEqualsCondition(cs["w"], cs["size"], "hi"),
        ),
    )
    return cs


def test_configspace_becomes_the_tuneful_space() -> None:
    space = space_from_configspace(_configspace())
    assert dict(space) == dict(
        x=Float(-5.0, 5.0),
        lr=Float(1e-4, 1.0, log=True),
        n=Int(1, 8),
        units=Int(16, 256, log=True),
        kind=Categorical(["a", "b", "c"]),
        size=Int(0, 2),  # the index into the ordinal's sequence
        tag=Fixed("v"),
        m=Float(0.0, 1.0, when={"kind": "b"}),
        w=Float(0.0, 1.0, when={"kind": ["a", "b"], "size": [0, 1]}),
    )


def _refused(cs: ConfigurationSpace) -> str:
    with pytest.raises(SpaceError) as caught:
        space_from_configspace(cs)
    return str(caught.value)


def test_what_a_tuneful_space_cannot_say_is_refused_by_name() -> None:
    cs = ConfigurationSpace()
    cs.add(NormalFloatHyperparameter("p", mu=0.0, sigma=1.0, lower=-3.0, upper=3.0))
    assert "'p' is a NormalFloatHyperparameter" in _refused(cs)

    cs = ConfigurationSpace()
    cs.add(CategoricalHyperparameter("c", ["a", "b"], weights=[0.9, 0.1]))
    assert "'c': weights=[0.9, 0.1]" in _refused(cs)

    cs = ConfigurationSpace({"k": ["a", "b"], "n": (1, 5), "x": (0.0, 1.0)})
    cs.add(GreaterThanCondition(cs["x"], cs["n"], 2))
    assert "'x': condition" in _refused(cs) and "GreaterThanCondition" in _refused(cs)

    cs = ConfigurationSpace({"k": ["a", "b"], "n": (1, 5), "x": (0.0, 1.0)})
    cs.add(
        OrConjunction(EqualsCondition(cs["x"], cs["k"], "a"), EqualsCondition(cs["x"], cs["n"], 2))
    )
    assert "OrConjunction" in _refused(cs)

    cs = ConfigurationSpace({"n": (1, 5), "x": (0.0, 1.0)})
    cs.add(NotEqualsCondition(cs["x"], cs["n"], 2))
    assert "not-equals on 'n', which is not categorical or ordinal" in _refused(cs)

    cs = ConfigurationSpace({"k": ["a", "b"], "x": (0.0, 1.0)})
    cs.add(ForbiddenEqualsClause(cs["k"], "b"))
    assert "forbidden clauses" in _refused(cs)


def _yahpo_space_file(scenario: str) -> Path:
    """A YAHPO scenario's ConfigSpace JSON from ``$TUNEFUL_DATA_DIR`` or the shared folder;
    the test is skipped when neither holds it."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
    folder = Path(os.environ.get("TUNEFUL_DATA_DIR") or shared)
    path = folder / "yahpo" / scenario / "config_space.json"
    if not path.is_file():
        pytest.skip(f"YAHPO data not found at {path}; set TUNEFUL_DATA_DIR")
    return path


def test_yahpo_rbv2_xgboost_space_converts_with_its_conditions() -> None:
    with warnings.catch_warnings():  # the file predates ConfigSpace 1.x's field names
        warnings.simplefilter("ignore")
        cs = ConfigurationSpace.from_json(_yahpo_space_file("rbv2_xgboost"))
    space = space_from_configspace(cs)
    assert set(space) == {hp.name for hp in cs.values()}
    assert space["booster"] == Categorical(["gblinear", "gbtree", "dart"])
    assert space["rate_drop"].when == {"booster": ("dart",)}
    assert space["max_depth"].when == {"booster": ("dart", "gbtree")}
    assert space["eta"].log  # type: ignore[union-attr]


# -- carps' loop on a synthetic task ---------------------------------------------------------
class Synthetic(ObjectiveFunction):
    """A quadratic bowl over the space above; lower budgets add an optimistic-looking bias
    that shrinks with the budget; ``crash_on`` fails evaluations with n == crash_on."""

    def __init__(self, *, objectives: int = 1, crash_on: int | None = None) -> None:
        super().__init__(loggers=None)
        self._configspace = _configspace()
        self.objectives = objectives
        self.crash_on = crash_on
        self.evaluated: list[TrialInfo] = []

    @property
    def configspace(self) -> ConfigurationSpace:
        return self._configspace

    def _evaluate(self, trial_info: TrialInfo) -> TrialValue:
        self.evaluated.append(trial_info)
        c = trial_info.config
        if c["n"] == self.crash_on:
            return TrialValue(cost=float("nan"), status=StatusType.CRASHED)
        loss = (c["x"] - 1) ** 2 + 0.1 * c["n"] + ORDER.index(c["size"]) * 0.2 + c.get("m", 0.5)
        if trial_info.budget is not None:
            loss += 9.0 / trial_info.budget
        cost: float | list[float] = [loss, float(c["n"])] if self.objectives == 2 else loss
        return TrialValue(cost=cost, time=1.0)


class Recorder(AbstractLogger):
    def __init__(self) -> None:
        self.trials: list[tuple[float, TrialInfo, TrialValue]] = []
        self.incumbents: list[tuple[float, Any]] = []

    def log_trial(
        self,
        n_trials: float,
        trial_info: TrialInfo,
        trial_value: TrialValue,
        n_function_calls: int | None = None,
    ) -> None:  # noqa: E501
        self.trials.append((n_trials, trial_info, trial_value))

    def log_incumbent(
        self, n_trials: int | float, incumbent: Any, n_function_calls: int | None = None
    ) -> None:  # noqa: E501
        self.incumbents.append((n_trials, incumbent))

    def log_arbitrary(self, data: dict, entity: str) -> None:  # type: ignore[type-arg]
        pass


def _task(function: Synthetic, *, n_trials: int, fidelity: bool = False) -> Task:
    return Task(
        name="synthetic",
        objective_function=function,
        input_space=InputSpace(
            configuration_space=function.configspace,
            fidelity_space=FidelitySpace(
                is_multifidelity=fidelity, fidelity_type="epochs", min_fidelity=1, max_fidelity=9
            ),
        ),
        output_space=OutputSpace(
            n_objectives=function.objectives,
            objectives=("loss", "size")[: function.objectives],  # type: ignore[arg-type]
        ),
        optimization_resources=OptimizationResources(n_trials=n_trials),
        metadata=TaskMetadata(),
        seed=3,
    )


def test_carps_loop_tunes_and_logs_a_trajectory() -> None:
    function, recorder = Synthetic(), Recorder()
    optimizer = TunefulOptimizer(_task(function, n_trials=12), [recorder], optimizer="tpe")
    incumbent = optimizer.run()
    study = optimizer.study
    assert len(study.trials) == 12 and all(t.state.value == "COMPLETE" for t in study.trials)
    for trial, info in zip(study.trials, function.evaluated, strict=True):
        assert info.config["size"] in ORDER  # ordinals reach the task as their values
        assert info.config["size"] == ORDER[trial.params["size"]]
        assert ("m" in info.config) == (info.config["kind"] == "b")
        assert info.budget is None
    costs = [value.cost for _, (_, value) in recorder.incumbents]
    assert costs == sorted(costs, reverse=True) and len(costs) >= 2
    info, value = incumbent
    assert value.cost == min(t.value for t in study.trials) == study.best_value
    assert dict(info.config) == dict(optimizer.configuration(study.best_params))


def test_carps_multi_fidelity_run_prunes_and_records_curves() -> None:
    function = Synthetic()
    optimizer = TunefulOptimizer(_task(function, n_trials=8, fidelity=True), seed=0)
    incumbent = optimizer.run()
    assert {info.budget for info in function.evaluated} <= {1.0, 3.0, 9.0}  # ASHA's rungs
    assert optimizer.trial_counter >= 8  # carps counts budget / max_fidelity
    trials = optimizer.study.trials
    states = {t.state.value for t in trials}
    assert states <= {"COMPLETE", "PRUNED"}
    pruned = [t for t in trials if t.state.value == "PRUNED"]
    assert len(pruned) >= 8
    for trial in pruned:
        assert trial.intermediate and max(trial.intermediate) < 9
    completed = [t for t in trials if t.state.value == "COMPLETE"]
    assert completed and all(max(t.intermediate) == 9 for t in completed)
    info, value = incumbent
    assert info.budget == 9.0 and value.cost == optimizer.study.best_value


def test_carps_multi_objective_run_gives_the_pareto_front() -> None:
    function = Synthetic(objectives=2)
    optimizer = TunefulOptimizer(
        _task(function, n_trials=10), optimizer="random", expects_multiple_objectives=True
    )
    front = optimizer.run()
    assert optimizer.study.directions == ("minimize", "minimize")
    costs = [tuple(value.cost) for _, value in front]
    everything = [t.values for t in optimizer.study.trials]
    for cost in costs:  # no trial dominates a member of the front
        assert not any(
            all(o <= c for o, c in zip(other, cost, strict=True)) and other != cost
            for other in everything
        )


def test_crashed_evaluation_fails_its_trial() -> None:
    function = Synthetic(crash_on=2)
    optimizer = TunefulOptimizer(_task(function, n_trials=10), optimizer="random", seed=1)
    optimizer.run()
    failed = optimizer.study.get_trials(states=["FAIL"])
    assert failed and all(t.params["n"] == 2 for t in failed)
    assert "CRASHED" in (failed[0].error or "")


def test_tell_of_a_trial_it_did_not_ask_is_refused() -> None:
    optimizer = TunefulOptimizer(_task(Synthetic(), n_trials=2))
    info = optimizer.ask()
    optimizer.tell(info, TrialValue(cost=1.0))
    with pytest.raises(TrialError, match=re.escape(f"{info.name!r} was not asked")):
        optimizer.tell(info, TrialValue(cost=1.0))


@pytest.mark.parametrize(
    ("low", "high", "max_step", "budgets"),
    [
        (1, 9, 9, {1: 1.0, 3: 3.0, 9: 9.0}),
        (0.03, 1.0, 33, {1: 0.03, 33: 1.0}),
        (0, 50, 100, {2: 1.0}),
    ],
)
def test_fidelity_maps_curve_steps_to_budgets(
    low: float, high: float, max_step: int, budgets: dict[int, float]
) -> None:
    function = Synthetic()
    task = _task(function, n_trials=1, fidelity=True)
    space = FidelitySpace(
        is_multifidelity=True, fidelity_type="f", min_fidelity=low, max_fidelity=high
    )
    task = Task(**{**task.__dict__, "input_space": InputSpace(function.configspace, space)})
    optimizer = TunefulOptimizer(task)
    assert optimizer.fidelity is not None and optimizer.fidelity.max_step == max_step
    for step, budget in budgets.items():
        assert optimizer.fidelity.budget(step) == pytest.approx(budget)
        assert optimizer.fidelity.step(budget) == step


def test_carps_run_with_the_shipped_config(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "carps.run",
            "+optimizer/tuneful=auto-asha",
            "+task/DUMMY=multifidelity",
            "hydra.searchpath=[pkg://tuneful.integrations.carps_configs]",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (log,) = tmp_path.glob("runs/tuneful-auto-asha/DUMMY_ObjectiveFunction/*/1/trial_logs.jsonl")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) >= 10
    assert {row["trial_info"]["budget"] for row in rows} <= {1, 3, 9, 10}
