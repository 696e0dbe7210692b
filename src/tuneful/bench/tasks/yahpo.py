"""YAHPO Gym: real HPO landscapes as neural surrogates, read from their files with onnxruntime.

Task id ``yahpo/{scenario}/{instance}``, e.g. ``yahpo/lcbench/3945`` or
``yahpo/rbv2_xgboost/1111``. The scenario's files live in ``<data_dir>/yahpo/<scenario>/``:
``config_space.json`` (ConfigSpace JSON), ``encoding.json``, ``meta.json`` and ``model.onnx``
(and ``reference.jsonl``, which the tests reproduce). Any scenario laid out this way loads;
nothing here is specific to one scenario, and the ``yahpo-gym`` package is not needed.

How a task is built from the files:

- the space is the ConfigSpace space without the instance parameter (``meta.json``
  ``instance_names``, e.g. ``OpenML_task_id``; fixed by the task id) and without the fidelity
  parameters (``fidelity_params``); types, bounds, log flags, defaults and conditions are kept
  (rbv2_xgboost's ``eta`` ... ``skip_drop`` hang on ``booster`` through ``when=``);
- the first fidelity parameter is the task's fidelity (lcbench ``epoch`` 1-52, rbv2
  ``trainsize`` 0.03-1); any further one is fixed at its upper bound. For the rbv2 scenarios
  that is ``repl`` = 10: ``repl`` numbers the replications (1-10) of the original data
  collection rather than measuring an amount of work, and the reference configurations draw
  it uniformly like any other parameter, so no value is special;
- the objectives are all of ``y_names`` with ``y_minimize`` directions and unknown optima;
  the primary one is the first that is neither the runtime (``runtime_name``) nor the memory
  metric: lcbench ``val_accuracy`` (maximize), rbv2 ``acc`` (maximize). Another one is
  made primary by ``load_task(..., objective=name)`` or an id suffix (``.../1111:auc``);
- ``cost`` is ``runtime_name`` (lcbench ``time``, rbv2 ``timetrain``).

How the surrogate is fed (what yahpo-gym's ``objective_function`` does; ``reference.jsonl``
is reproduced exactly by this): values are passed as they are, in the user's scale — the
model applies its own transforms and scaling, so log-scaled parameters are *not*
log-transformed here (doing so breaks the outputs). Categoricals, in ``cat_names`` order, are
integer codes from ``encoding.json`` (the integer width the model declares: int32 for the
shipped models); continuous and integer values, in ``cont_names`` order, are float32.
Inactive or absent parameters are fed as ``#na#`` (categorical) and 0 (continuous). The
model runs one configuration at a time, as yahpo-gym does: batched, its float32 arithmetic
differs enough to move small outputs by up to 20 %.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError, require
from tuneful.bench.tasks._configspace import (
    Hyperparameter,
    read_conditions,
    read_hyperparameters,
    to_parameters,
)
from tuneful.bench.tasks.base import Fidelity, Objective, Task
from tuneful.space import Space

__all__ = ["YahpoTask", "load_yahpo", "yahpo_scenarios"]

FILES = ("config_space.json", "encoding.json", "meta.json", "model.onnx")
MISSING_CATEGORY = "#na#"
MISSING_NUMBER = 0.0
_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class _Scenario:
    """A scenario's files, loaded once per process (see :func:`_load_scenario`)."""

    name: str
    folder: str
    meta: Mapping[str, Any]
    encoding: Mapping[str, Mapping[str, int]]
    hyperparameters: Mapping[str, Hyperparameter]
    conditions: Mapping[str, Mapping[str, list[Any]]]
    session: Any
    inputs: tuple[str, str]  # (categorical input, continuous input)
    code_dtype: type

    @property
    def y_names(self) -> list[str]:
        return list(self.meta["y_names"])

    def predict(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Surrogate outputs for complete configurations, shape (n, len(y_names)).

        Raises:
            TaskError: an unknown parameter name or categorical value.
        """
        cat_names, cont_names = self.meta["cat_names"], self.meta["cont_names"]
        codes: np.ndarray = np.empty((len(configs), len(cat_names)), dtype=self.code_dtype)
        numbers = np.empty((len(configs), len(cont_names)), dtype=np.float32)
        known = {*self.hyperparameters, *cat_names, *cont_names}
        for i, config in enumerate(configs):
            unknown = [name for name in config if name not in known]
            if unknown:
                raise TaskError(
                    f"yahpo/{self.name}: unknown parameter {unknown[0]!r} in configs[{i}] "
                    f"(parameters: {sorted(known)})"
                )
            for j, name in enumerate(cat_names):
                codes[i, j] = self._code(name, config.get(name, MISSING_CATEGORY))
            for j, name in enumerate(cont_names):
                numbers[i, j] = config.get(name, MISSING_NUMBER)
        # One row per run, as yahpo-gym does: the model's float32 arithmetic depends on the
        # batch shape, and in batches some outputs move by up to 20 % (small memory values).
        outputs = np.empty((len(configs), len(self.meta["y_names"])), dtype=np.float64)
        for i in range(len(configs)):
            feed = {self.inputs[0]: codes[i : i + 1], self.inputs[1]: numbers[i : i + 1]}
            outputs[i] = self.session.run(None, feed)[0][0]
        return outputs

    def _code(self, name: str, value: Any) -> int:
        codes = self.encoding.get(name, {})
        key = value if isinstance(value, str) else str(value)
        if key not in codes:
            raise TaskError(
                f"yahpo/{self.name}: {name}={value!r} has no code in encoding.json "
                f"(values: {list(codes)})"
            )
        return codes[key]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TaskError(f"cannot read {str(path)!r}: {exc}") from None


@functools.cache
def _load_scenario(folder: str) -> _Scenario:
    """Read a scenario folder and open its model (once per process and folder)."""
    ort = require("onnxruntime", "onnxruntime", "YAHPO tasks")
    path = Path(folder)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise TaskError(f"YAHPO scenario folder {folder!r} lacks {missing} (needs {list(FILES)})")
    source = str(path / "config_space.json")
    document = _read_json(path / "config_space.json")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one evaluation is ~0.2 ms; threads only add overhead
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        str(path / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    integer_inputs = [i for i in session.get_inputs() if i.type.startswith("tensor(int")]
    float_inputs = [i for i in session.get_inputs() if i.type == "tensor(float)"]
    if len(integer_inputs) != 1 or len(float_inputs) != 1:
        raise TaskError(
            f"{folder}/model.onnx: expected one integer and one float input, got "
            f"{[(i.name, i.type) for i in session.get_inputs()]}"
        )
    return _Scenario(
        name=path.name,
        folder=folder,
        meta=_read_json(path / "meta.json"),
        encoding=_read_json(path / "encoding.json"),
        hyperparameters=read_hyperparameters(document, source),
        conditions=read_conditions(document, source),
        session=session,
        inputs=(integer_inputs[0].name, float_inputs[0].name),
        code_dtype=np.int64 if integer_inputs[0].type == "tensor(int64)" else np.int32,
    )


def yahpo_scenarios(data_dir: Path) -> list[str]:
    """Scenario names with a ``meta.json`` under ``<data_dir>/yahpo/``."""
    root = data_dir / "yahpo"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "meta.json").is_file())


class YahpoTask(Task):
    """One instance of a YAHPO Gym scenario (see the module docstring).

    Attributes:
        fixed: what ``evaluate`` feeds for the parameters outside the space other than the
            fidelity: the instance and any further fidelity parameter, e.g.
            ``{"task_id": "1111", "repl": 10}``.
    """

    def __init__(self, scenario: _Scenario, instance: str) -> None:
        meta = scenario.meta
        hypers = scenario.hyperparameters
        instance_param: str | None = meta.get("instance_names") or None
        fidelity_params: list[str] = list(meta.get("fidelity_params") or [])
        fixed: dict[str, Any] = {}
        if instance_param is not None:
            fixed[instance_param] = _instance_value(scenario, instance_param, instance)
        for name in fidelity_params[1:]:
            fixed[name] = int(hypers[name].upper) if hypers[name].is_integer else hypers[name].upper
        params = to_parameters(
            hypers,
            scenario.conditions,
            exclude={*fixed, *fidelity_params},
            source=f"{scenario.folder}/config_space.json",
        )
        fidelity = None
        if fidelity_params:
            budget = hypers[fidelity_params[0]]
            fidelity = Fidelity(
                budget.name, budget.lower, budget.upper, budget.is_integer, budget.log
            )
        super().__init__(
            id=f"yahpo/{scenario.name}/{instance}",
            space=Space(params),
            objectives=_objectives(meta),
            fidelity=fidelity,
            cost=meta.get("runtime_name"),
            metadata={
                "family": "yahpo",
                "scenario": scenario.name,
                "instance": instance,
                "instance_parameter": instance_param,
                "fixed": dict(fixed),
                "fidelity_parameters": fidelity_params,
                "citation": list(meta.get("citation") or []),
                "source": "YAHPO Gym surrogate (ONNX), https://github.com/slds-lmu/yahpo_gym",
            },
        )
        self.scenario_name, self.instance = scenario.name, instance
        self.fixed: Mapping[str, Any] = fixed
        self._scenario = scenario

    def __reduce__(self) -> tuple[Any, ...]:
        # The model session cannot be pickled: a worker process reopens (or reuses) it.
        return (
            _rebuild,
            (self._scenario.folder, self.instance, self.id, self.objectives, self.n_optimized),
        )

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """Every surrogate output for ``config`` at ``fidelity`` (full when None).

        Raises:
            SpaceError: ``config`` is not a valid configuration of ``space``.
            TaskError: ``fidelity`` is outside the fidelity range, or not whole for an
                integer fidelity.
        """
        row = self.space.validate(config)
        row.update(self.fixed)
        if self.fidelity is not None:
            row[self.fidelity.name] = self._budget(self.fidelity, fidelity)
        elif fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        outputs = self._scenario.predict([row])[0]
        return dict(zip(self._scenario.y_names, map(float, outputs), strict=True))

    def evaluate_raw(self, configs: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
        """The surrogate on complete YAHPO configurations, as yahpo-gym takes them.

        Each configuration names the active hyperparameters *and* the instance and fidelity
        parameters (e.g. ``task_id``, ``trainsize``, ``repl``); nothing is filled in from this
        task, and absent parameters are fed as ``#na#`` / 0. For checking the surrogate
        against other implementations (``reference.jsonl``).

        Raises:
            TaskError: an unknown parameter name or categorical value.
        """
        outputs = self._scenario.predict(configs)
        names = self._scenario.y_names
        return [dict(zip(names, map(float, row), strict=True)) for row in outputs]

    def _budget(self, axis: Fidelity, fidelity: float | None) -> float:
        if fidelity is None:
            return axis.high
        try:
            value = float(fidelity)
        except (TypeError, ValueError):
            value = float("nan")
        if not axis.low <= value <= axis.high:
            raise TaskError(
                f"task {self.id!r}: fidelity {axis.name}={fidelity!r} is not a number in "
                f"[{axis.low:g}, {axis.high:g}]"
            )
        if axis.integer and not value.is_integer():
            raise TaskError(
                f"task {self.id!r}: fidelity {axis.name}={fidelity!r} must be a whole number "
                f"in [{axis.low:g}, {axis.high:g}]"
            )
        return value


def _instance_value(scenario: _Scenario, param: str, instance: str) -> Any:
    """The instance parameter's value (as the space spells it) for the id's instance."""
    known = [str(i) for i in scenario.meta.get("instances", [])]
    hyper = scenario.hyperparameters.get(param)
    choices = {str(c): c for c in hyper.choices} if hyper is not None else {}
    if instance not in known or (choices and instance not in choices):
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise TaskError(
            f"task id 'yahpo/{scenario.name}/{instance}': {instance!r} is not an instance of "
            f"{scenario.name} ({len(known)} instances: {shown})"
        )
    return choices.get(instance, instance)


def _objectives(meta: Mapping[str, Any]) -> tuple[Objective, ...]:
    """All outputs, the primary first: the first that measures neither runtime nor memory."""
    objectives = [
        Objective(name, "minimize" if minimize else "maximize")
        for name, minimize in zip(meta["y_names"], meta["y_minimize"], strict=True)
    ]
    resources = {meta.get("runtime_name"), meta.get("memory_name")}
    primary = next((o for o in objectives if o.name not in resources), objectives[0])
    return (primary, *(o for o in objectives if o is not primary))


def _rebuild(
    folder: str,
    instance: str,
    task_id: str,
    objectives: tuple[Objective, ...],
    n_optimized: int = 1,
) -> YahpoTask:
    task = YahpoTask(_load_scenario(folder), instance)
    # as load_task(objective=...) or the yahpo-mo family left them
    task.id, task.objectives, task.n_optimized = task_id, objectives, n_optimized
    return task


def load_yahpo(task_id: str, parts: list[str], data_dir: Path) -> YahpoTask:
    """Build the task for ``yahpo/{scenario}/{instance}`` from ``<data_dir>/yahpo/``."""
    expected = "expected 'yahpo/{scenario}/{instance}', e.g. 'yahpo/lcbench/3945'"
    if len(parts) != 3 or not all(parts[1:]):
        raise TaskError(f"task id {task_id!r}: {expected}")
    scenario, instance = parts[1], parts[2]
    folder = data_dir / "yahpo" / scenario
    if not _SCENARIO_NAME.match(scenario) or not folder.is_dir():
        available = yahpo_scenarios(data_dir)
        raise TaskError(
            f"task id {task_id!r}: no YAHPO scenario folder {str(folder)!r} "
            f"(scenarios under {str(data_dir / 'yahpo')!r}: {available or 'none'})"
        )
    return YahpoTask(_load_scenario(str(folder.resolve())), instance)
