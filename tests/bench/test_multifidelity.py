"""Multi-fidelity cells: labels, cost accounting, resuming, the multi-fidelity peers."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.bench import Benchmark, load_runs, study_name
from tuneful.bench.adapters import get_adapter
from tuneful.bench.adapters._multifidelity import DEHB_PYTHON_ENV, Dehb
from tuneful.bench.cells import Cell
from tuneful.bench.fidelity import FidelityPlan, fidelity_plan
from tuneful.bench.multifidelity import parse_label
from tuneful.bench.runner import resolve_optimizer
from tuneful.bench.tasks import Fidelity, Objective, Task
from tuneful.errors import SpecError
from tuneful.records import TrialState

EPOCHS = 9  # the fake curve task's full fidelity


class Curve(Task):
    """A maximized score that rises with the epoch; cumulative seconds = 0.5 per epoch.

    ``interrupt_at`` raises KeyboardInterrupt on that call of ``evaluate`` (once); ``exit_at``
    kills the process there.
    """

    calls = 0
    interrupt_at: int | None = None
    exit_at: int | None = None

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None) -> dict:
        self.space.validate(config)
        type(self).calls += 1
        if type(self).interrupt_at is not None and type(self).calls == type(self).interrupt_at:
            type(self).interrupt_at = None
            raise KeyboardInterrupt
        if type(self).exit_at is not None and type(self).calls == type(self).exit_at:
            os._exit(1)  # what a kill leaves behind: the trial stays RUNNING
        epoch = EPOCHS if fidelity is None else fidelity
        score = 1.0 - (config["x"] - 0.3) ** 2 - 0.5 / epoch
        return {"score": score, "seconds": 0.5 * epoch * (1 + config["x"])}


def _curve(task_id: str, resumable: bool = True) -> Curve:
    declared = (
        {"resumable": True, "cost_metric": "seconds"}
        if resumable
        else {"resumable": False, "cost_metric": None}
    )
    return Curve(
        id=task_id,
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0)),
        objectives=(Objective("score", "maximize"),),
        fidelity=Fidelity("epoch", 1, EPOCHS, integer=True),
        cost="seconds",
        metadata={"multi_fidelity": declared},
    )


@pytest.fixture
def curve_tasks(monkeypatch: pytest.MonkeyPatch) -> type[Curve]:
    Curve.calls = 0
    Curve.interrupt_at = None
    Curve.exit_at = None
    monkeypatch.setattr(
        "tuneful.bench.tasks.load_task",
        lambda task_id, data_dir=None: _curve(task_id, resumable=not task_id.startswith("s")),
    )
    return Curve


# -- fidelity plans ---------------------------------------------------------------------------


def test_plan_prices_resumable_and_restarting_fidelities() -> None:
    resumable = fidelity_plan(_curve("c/1"))
    assert (resumable.min_budget, resumable.max_budget, resumable.resumable) == (1, 9, True)
    # the unit is the median full-fidelity cost of a seeded sample: 4.5 * (1 + x), x ~ U(0, 1)
    assert 6.0 < resumable.unit < 7.5
    assert resumable.unit == fidelity_plan(_curve("c/1")).unit  # deterministic
    curve = [(b, {"seconds": 0.5 * b * 1.5}) for b in (1, 3, 9)]
    assert resumable.trial_cost(curve) == pytest.approx(6.75 / resumable.unit)  # the last only
    restarting = fidelity_plan(_curve("s/1", resumable=False))
    assert restarting.unit == 1.0
    assert restarting.trial_cost(curve) == pytest.approx((1 + 3 + 9) / 9)  # each paid for
    assert restarting.nearest_budget(2.6) == 3 and restarting.nearest_budget(0.2) == 1


def test_plan_maps_budgets_to_fidelity_values() -> None:
    plan = FidelityPlan("t", "trainsize", 3, 100, 0.01, False, None)
    assert plan.value(3) == 0.03 and plan.value(100) == 1.0
    with pytest.raises(SpecError, match="outside"):
        plan.value(101)


def test_black_box_tasks_have_no_plan() -> None:
    task = _curve("c/1")
    task.fidelity = None
    with pytest.raises(SpecError, match="no fidelity"):
        fidelity_plan(task)
    task = _curve("c/1")
    task.metadata = {}
    with pytest.raises(SpecError, match="no multi-fidelity cost model"):
        fidelity_plan(task)


# -- labels -----------------------------------------------------------------------------------


def test_labels_name_an_optimizer_and_a_scheduler() -> None:
    setup = parse_label("tpe+hyperband")
    assert (setup.optimizer, setup.scheduler, setup.multi_fidelity) == ("tpe", "hyperband", True)
    assert parse_label("tuneful:auto+auto").optimizer == "auto"
    plain = parse_label("random")
    assert (plain.optimizer, plain.scheduler, plain.multi_fidelity) == ("random", None, False)
    assert parse_label("optuna-tpe-hyperband").multi_fidelity
    assert not parse_label("optuna-tpe").multi_fidelity


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("auto+nosuch", r"'nosuch' is not a scheduler.*schedulers: .*asha.*hyperband"),
        ("nosuch+asha", r"'nosuch' is not a tuneful optimizer.*optimizers: .*random"),
        ("optuna-tpe+asha", "peers bring their own scheduling"),
        ("auto+asha+median", "expected '<optimizer>\\+<scheduler>'"),
        ("auto+", "expected '<optimizer>\\+<scheduler>'"),
        ("auto+none", "'none' is not a scheduler.*write 'auto' alone"),
        ("nosuch", "unknown peer optimizer 'nosuch'"),
    ],
)
def test_bad_labels_name_the_bad_part(label: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_label(label)


def test_scheduled_labels_need_a_multi_fidelity_benchmark(
    curve_tasks: type[Curve], tmp_path: Path
) -> None:
    with pytest.raises(SpecError, match="multi-fidelity benchmark"):
        resolve_optimizer("auto+asha")
    url = f"sqlite:///{tmp_path / 'b.db'}"
    bench = Benchmark(
        "b", tasks=["c/1"], optimizers=["optuna-tpe-hyperband"], budget=3, storage=url
    )
    if bench.availability()["optuna-tpe-hyperband"] is None:
        outcome = bench.run()
        assert "multi-fidelity benchmark" in outcome.failed[Cell("optuna-tpe-hyperband", "c/1", 0)]


# -- cells ------------------------------------------------------------------------------------


def _mf_bench(name: str, url: str, optimizers: list[str], budget: int = 6, **kwargs: Any):
    return Benchmark(
        name,
        tasks=kwargs.pop("tasks", ["c/1"]),
        optimizers=optimizers,
        seeds=kwargs.pop("seeds", 1),
        budget=budget,
        storage=url,
        multi_fidelity=True,
    )


def test_pruned_trials_cost_but_have_no_loss(curve_tasks: type[Curve], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mf.db'}"
    outcome = _mf_bench("mf", url, ["random+asha"]).run()
    assert not outcome.failed, outcome.failed
    study = tuneful.load_study(study_name("mf", Cell("random+asha", "c/1", 0)), storage=url)
    attrs = study.user_attrs["bench"]
    assert attrs["mode"] == "multi-fidelity" and attrs["scheduler"]["name"] == "asha"
    assert attrs["scheduler"]["settings"]["max_budget"] == EPOCHS
    unit = attrs["fidelity"]["unit"]
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    complete = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert pruned and complete
    for trial in pruned:
        assert "metrics" not in trial.user_attrs and trial.user_attrs["budget"] < EPOCHS
        assert "pruned" in trial.system_attrs
        reached = max(trial.intermediate)
        expected = 0.5 * reached * (1 + trial.params["x"]) / unit  # cumulative time, resumed
        assert trial.user_attrs["cost"] == pytest.approx(expected)
    for trial in complete:
        assert trial.user_attrs["budget"] == EPOCHS and "metrics" in trial.user_attrs
    (run,) = load_runs(url, "mf")
    assert len(run.losses) == len(pruned) + len(complete)
    by_number = {t.number: t for t in study.trials}
    for i, trial in enumerate(sorted(by_number.values(), key=lambda t: t.number)):
        assert run.costs[i] == pytest.approx(trial.user_attrs["cost"])
        if trial.state is TrialState.PRUNED:
            assert math.isnan(run.losses[i])
        else:
            assert run.losses[i] == pytest.approx(-trial.value)
    assert run.meta["partial"] == len(pruned)
    assert run.budget == 6 and run.costs.sum() >= 6 and run.costs[:-1].sum() < 6
    assert run.meta["complete"] is True


def test_full_fidelity_label_pays_full_evaluations(
    curve_tasks: type[Curve], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ff.db'}"
    _mf_bench("ff", url, ["random"], tasks=["s/1"]).run()  # restarting: fidelity units
    (run,) = load_runs(url, "ff")
    np.testing.assert_allclose(run.costs, 1.0)
    assert len(run.losses) == 6 and np.all(np.isfinite(run.losses))
    study = tuneful.load_study(study_name("ff", Cell("random", "s/1", 0)), storage=url)
    assert study.user_attrs["bench"]["scheduler"]["name"] == "none"
    assert all(not t.intermediate for t in study.trials)


def test_restarting_fidelity_pays_each_budget(curve_tasks: type[Curve], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _mf_bench("r", url, ["random+hyperband"], tasks=["s/1"]).run()
    study = tuneful.load_study(study_name("r", Cell("random+hyperband", "s/1", 0)), storage=url)
    for trial in study.trials:
        assert trial.user_attrs["cost"] == pytest.approx(sum(trial.intermediate) / EPOCHS)


def test_interrupted_mf_cell_resumes(curve_tasks: type[Curve], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'i.db'}"
    _mf_bench("whole", url, ["random+asha"]).run()
    curve_tasks.calls = 0
    curve_tasks.interrupt_at = 7
    parts = _mf_bench("parts", url, ["random+asha"])
    with pytest.raises(KeyboardInterrupt):
        parts.run()
    assert parts.run().ran
    assert parts.run().skipped  # the budget is spent: nothing more to do
    study = tuneful.load_study(study_name("parts", Cell("random+asha", "c/1", 0)), storage=url)
    cut = [t for t in study.trials if "interrupted" in (t.error or "")]
    assert len(cut) == 1 and "cost" not in cut[0].user_attrs
    retry = next(t for t in study.trials if t.system_attrs.get("retry_of") == cut[0].number)
    assert retry.params == cut[0].params and "cost" in retry.user_attrs
    (resumed,) = load_runs(url, "parts")
    (whole,) = load_runs(url, "whole")
    assert resumed.costs.sum() >= 6 and resumed.costs[:-1].sum() < 6
    done_before = cut[0].number  # the trials before the cut are those of the whole run
    np.testing.assert_allclose(resumed.costs[:done_before], whole.costs[:done_before])


def test_killed_mf_cell_resumes_with_its_cut_trial(
    curve_tasks: type[Curve], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    killed = _mf_bench("kill", url, ["random+asha"])  # prices the task's cost unit here
    curve_tasks.calls = 0
    curve_tasks.exit_at = 7  # the worker process dies during the seventh evaluation
    with pytest.raises(BrokenProcessPool):
        killed.run(jobs=2)
    curve_tasks.exit_at = None
    name = study_name("kill", Cell("random+asha", "c/1", 0))
    (running,) = tuneful.load_study(name, storage=url).get_trials(states=[TrialState.RUNNING])
    assert _mf_bench("kill", url, ["random+asha"]).run().ran
    trials = tuneful.load_study(name, storage=url).trials
    cut = trials[running.number]
    assert cut.state is TrialState.FAIL and cut.error == "the benchmark run stopped"
    assert "cost" not in cut.user_attrs
    retry = trials[running.number + 1]
    assert retry.system_attrs["retry_of"] == cut.number and retry.params == cut.params
    assert "cost" in retry.user_attrs
    (run,) = load_runs(url, "kill")
    assert run.costs.sum() >= 6 and run.meta["complete"] is True


def test_black_box_cells_run_without_a_scheduler(curve_tasks: type[Curve], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bb.db'}"
    Benchmark("bb", tasks=["c/1"], optimizers=["auto"], seeds=1, budget=3, storage=url).run()
    study = tuneful.load_study(study_name("bb", Cell("auto", "c/1", 0)), storage=url)
    assert study.scheduler.name == "none"
    (run,) = load_runs(url, "bb")
    np.testing.assert_allclose(run.costs, 1.0)


# -- multi-fidelity peers ---------------------------------------------------------------------


def test_optuna_hyperband_prunes_and_pays(curve_tasks: type[Curve], tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'o.db'}"
    outcome = _mf_bench("o", url, ["optuna-tpe-hyperband"], budget=8).run()
    assert not outcome.failed, outcome.failed
    (run,) = load_runs(url, "o")
    assert run.meta["partial"] > 0 and np.isfinite(run.losses).any()
    assert run.costs.sum() >= 8
    study = tuneful.load_study(study_name("o", Cell("optuna-tpe-hyperband", "c/1", 0)), storage=url)
    for trial in study.trials:
        if trial.state is TrialState.PRUNED:
            assert math.isnan(run.losses[trial.number]) and trial.user_attrs["cost"] > 0


def test_smac_mf_evaluates_each_budget_from_scratch(
    curve_tasks: type[Curve], tmp_path: Path
) -> None:
    pytest.importorskip("smac")
    url = f"sqlite:///{tmp_path / 's.db'}"
    outcome = _mf_bench("s", url, ["smac-mf"], budget=3, tasks=["s/1"]).run()
    assert not outcome.failed, outcome.failed
    study = tuneful.load_study(study_name("s", Cell("smac-mf", "s/1", 0)), storage=url)
    budgets = {t.user_attrs["budget"] for t in study.trials}
    assert len(budgets) > 1  # Hyperband brackets
    for trial in study.trials:
        assert len(trial.intermediate) == 1  # one budget per evaluation
        assert trial.user_attrs["cost"] == pytest.approx(trial.user_attrs["budget"] / EPOCHS)


def test_dehb_is_skipped_with_a_reason_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEHB_PYTHON_ENV, "/nonexistent/python")
    reason = Dehb().unavailable_reason()
    assert reason is not None and DEHB_PYTHON_ENV in reason and "numpy<2" in reason
    assert Dehb().version() is None


#: Where the repository keeps DEHB's environment (it pins numpy<2), when it has one.
DEHB_VENV_PYTHON = Path(__file__).resolve().parents[2] / ".venv-dehb" / "bin" / "python"


def test_dehb_runs_through_its_worker(
    curve_tasks: type[Curve], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not os.environ.get(DEHB_PYTHON_ENV) and DEHB_VENV_PYTHON.is_file():
        monkeypatch.setenv(DEHB_PYTHON_ENV, str(DEHB_VENV_PYTHON))
    if get_adapter("dehb").unavailable_reason() is not None:
        pytest.skip(f"DEHB is not installed for {DEHB_PYTHON_ENV} or this interpreter")
    url = f"sqlite:///{tmp_path / 'd.db'}"
    outcome = _mf_bench("d", url, ["dehb"], budget=3).run()
    assert not outcome.failed, outcome.failed
    (run,) = load_runs(url, "d")
    assert run.costs.sum() >= 3 and run.meta["partial"] > 0
