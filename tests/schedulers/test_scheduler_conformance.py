"""One suite over every registered scheduler: what a study under any scheduler guarantees."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from mo_driver import run, toy_curve

import tuneful
from tuneful.errors import SchedulerError
from tuneful.records import TrialState
from tuneful.schedulers import available_schedulers, make_scheduler

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}
MAX = 27

SETTINGS = {
    "none": {},
    "median": {"n_startup_trials": 3},
    "asha": {"max_budget": MAX},
    "hyperband": {"max_budget": MAX},
    "curve": {"max_budget": MAX, "min_curves": 4},
    "auto": {"max_budget": MAX, "min_curves": 4},
}


def test_every_registered_scheduler_is_covered():
    assert set(available_schedulers()) == set(SETTINGS)


def _curve(x: float, step: int) -> float:
    """A saturating learning curve whose final value grows with x (minimized)."""
    return x + (1.0 - x) * math.exp(-step / 5.0)


def objective(trial: tuneful.Trial) -> float:
    x = trial.params["x"]
    for budget in trial.budgets(MAX):
        trial.report(step=budget, value=_curve(x, budget))
    return _curve(x, MAX)


@pytest.fixture(params=sorted(SETTINGS))
def scheduler_spec(request):
    return {"name": request.param, "settings": SETTINGS[request.param]}


def test_study_under_scheduler(scheduler_spec, storage_url):
    study = tuneful.create_study(
        "s", space=SPACE, storage=storage_url, scheduler=scheduler_spec, seed=1
    )
    assert study.settings["scheduler"] == make_scheduler(scheduler_spec).describe()
    study.optimize(objective, n_trials=30, show_progress_bar=False)
    trials = study.trials
    assert len(trials) == 30
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    for trial in trials:
        assert trial.intermediate, "every trial keeps its curve"
        if trial.state is TrialState.PRUNED:
            pruned = trial.system_attrs["pruned"]
            assert pruned["reason"] and pruned["step"] == trial.last_step
            assert trial.last_step < MAX
        else:
            assert trial.last_step == MAX and trial.value == pytest.approx(
                _curve(trial.params["x"], MAX)
            )
    if scheduler_spec["name"] == "none":
        assert all(t.state is TrialState.COMPLETE for t in trials)
    elif scheduler_spec["name"] != "median":
        assert any(t.state is TrialState.PRUNED for t in trials)
    # Stopping is not random: it keeps the good configurations.
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    assert study.best_value == min(t.value for t in complete)


def test_resumed_study_keeps_its_scheduler_and_brackets(scheduler_spec, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    first = tuneful.create_study("r", space=SPACE, storage=url, scheduler=scheduler_spec, seed=2)
    first.optimize(objective, n_trials=12, show_progress_bar=False)
    brackets = [t.system_attrs.get("bracket") for t in first.trials]
    again = tuneful.load_study("r", storage=url)
    assert again.scheduler.describe() == first.scheduler.describe()
    again.optimize(objective, n_trials=6, show_progress_bar=False)
    assert [t.system_attrs.get("bracket") for t in again.trials][:12] == brackets
    states = [t.state for t in again.trials]
    assert TrialState.RUNNING not in states and len(states) == 18


def test_a_stopped_trial_never_runs_again(scheduler_spec):
    study = tuneful.create_study(space=SPACE, storage="memory://", scheduler=scheduler_spec, seed=3)
    study.optimize(objective, n_trials=20, show_progress_bar=False)
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    for trial in pruned:
        with pytest.raises(tuneful.errors.TrialError):
            study.tell(trial.number, 0.5)
        assert study.get_trial(trial.number).state is TrialState.PRUNED


def test_ask_and_tell_users_poll_should_stop(scheduler_spec):
    study = tuneful.create_study(space=SPACE, storage="memory://", scheduler=scheduler_spec, seed=4)
    stopped = 0
    for _ in range(15):
        trial = study.ask()
        for budget in trial.budgets(MAX):
            trial.report(step=budget, value=_curve(trial.params["x"], budget))  # never raises here
            if trial.should_stop():
                break
        if trial.should_stop():
            stopped += 1
            study.tell(trial, state="PRUNED")
        else:
            study.tell(trial, _curve(trial.params["x"], MAX))
    assert stopped == sum(t.state is TrialState.PRUNED for t in study.trials)


def test_objectives_that_do_not_report_are_left_alone(scheduler_spec):
    study = tuneful.create_study(space=SPACE, storage="memory://", scheduler=scheduler_spec, seed=5)
    study.optimize(lambda t: t.params["x"], n_trials=12, show_progress_bar=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)


def test_parallel_workers_share_one_bracket_state(scheduler_spec, storage_url):
    # Threads for memory://, processes for SQLite: every worker judges with the scheduler.
    study = tuneful.create_study(
        "p", space=SPACE, storage=storage_url, scheduler=scheduler_spec, seed=6
    )
    study.optimize(objective, n_trials=16, n_jobs=2, show_progress_bar=False)
    trials = study.trials
    assert [t.number for t in trials] == list(range(16))
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    if scheduler_spec["name"] not in ("none", "median"):
        assert any(t.state is TrialState.PRUNED for t in trials)
        assert all(
            t.number < 2 or "rung_1" in t.system_attrs or "bracket" in t.system_attrs
            for t in trials
        )


def test_multi_objective_studies_refuse_a_scheduler_that_judges_one_objective():
    with pytest.raises(tuneful.errors.SchedulerError, match="scheduler='median'.*'asha'"):
        tuneful.create_study(
            space=SPACE,
            storage="memory://",
            directions=["minimize", "minimize"],
            scheduler="median",
        )
    study = tuneful.create_study(
        space=SPACE, storage="memory://", directions=["minimize", "minimize"]
    )
    assert study.scheduler.name == "auto"


#: Schedulers that judge one objective and refuse a study with several.
SINGLE_OBJECTIVE = {"median", "curve"}


def test_every_scheduler_judges_or_refuses_several_objectives(scheduler_spec):
    scheduler = make_scheduler(scheduler_spec)
    directions = ("minimize", "maximize")
    if scheduler_spec["name"] in SINGLE_OBJECTIVE:
        with pytest.raises(SchedulerError, match=f"scheduler='{scheduler.name}'.*'asha'"):
            scheduler.check_directions(directions)
    else:
        scheduler.check_directions(directions)


def _flipped(params: dict[str, float], step: int) -> list[float]:
    first, second = toy_curve(params, step)
    return [first, -second]  # the second objective maximized


@pytest.mark.parametrize("workers", [1, 3])
def test_multi_objective_trials_under_scheduler(scheduler_spec, workers):
    """Every scheduler that takes several objectives, driven as the engine drives it, with
    one worker or three taking turns: the guarantees of the one-objective suite hold, and
    every rank judgement is by non-dominated sorting."""
    if scheduler_spec["name"] in SINGLE_OBJECTIVE:
        pytest.skip("judges one objective (refusal checked above)")
    scheduler = make_scheduler(scheduler_spec)
    driver = run(
        scheduler,
        ("minimize", "maximize"),
        _flipped,
        max_budget=MAX,
        seed=workers,
        n_trials=30,
        workers=workers,
    )
    trials = driver.records
    assert {t.state for t in trials} <= {TrialState.COMPLETE, TrialState.PRUNED}
    for trial in trials:
        for key, record in trial.system_attrs.items():
            if key.startswith("rung_"):
                assert record["rule"] == "pareto"
                # auto keeps a failed trial while too few have completed ("kept": why)
                assert record["passed"] == (record["rank"] <= record["keep"] or "kept" in record)
                assert 1 <= record["keep"] <= record["of"]
        if trial.state is TrialState.PRUNED:
            pruned = trial.system_attrs["pruned"]
            assert "by non-dominated sorting" in pruned["reason"]
            assert pruned["step"] == trial.last_step < MAX
        else:
            assert trial.last_step == MAX
            assert list(trial.values) == _flipped(dict(trial.params), MAX)
    pruned = sum(t.state is TrialState.PRUNED for t in trials)
    assert (pruned == 0) == (scheduler_spec["name"] == "none")


def _slow_objective(trial: tuneful.Trial) -> float:
    import time

    x = trial.params["x"]
    for budget in trial.budgets(MAX):
        time.sleep(0.002)
        trial.report(step=budget, value=_curve(x, budget))
    return _curve(x, MAX)


def test_promotions_across_processes_are_judged_once_against_the_log(tmp_path: Path):
    """Four worker processes under ASHA: every (trial, rung) is judged exactly once, and
    each judgement compared the trial with what the log held between its report and the
    decision being written."""
    url = f"sqlite:///{tmp_path / 'mp.db'}"
    study = tuneful.create_study(
        "mp",
        space=SPACE,
        storage=url,
        scheduler={"name": "asha", "settings": {"max_budget": MAX}},
        seed=7,
    )
    study.optimize(_slow_objective, n_trials=40, n_jobs=4, show_progress_bar=False)
    events = study.storage.read_events(study.engine.study_id, 0)
    judged: dict[tuple[int, str], int] = {}
    curves: dict[int, dict[int, float]] = {}
    reported_at: dict[tuple[int, int], int] = {}
    for event in events:
        if event.kind == "reported":
            curves.setdefault(event.number, {})[event.payload["step"]] = event.payload["value"]
            reported_at[(event.number, event.payload["step"])] = event.id
        if event.kind == "system_attr" and event.payload["key"].startswith("rung_"):
            key = (event.number, event.payload["key"])
            assert key not in judged, f"trial {key[0]} judged twice at {key[1]}"
            judged[key] = event.id
            rung = int(event.payload["key"].split("_")[1])
            record = event.payload["value"]
            # Trials that had reached the rung before the judged report / before the decision.
            report_id = reported_at[(event.number, rung)]

            first = _first_reach(reported_at, rung)

            def reached(before: int, first: dict[int, int] = first) -> int:
                return sum(1 for sid in first.values() if sid <= before)

            assert reached(report_id) <= record["of"] <= reached(event.id)
            assert record["passed"] == (record["rank"] <= record["keep"])
    assert judged, "ASHA judged nothing"
    assert all(t.state is not TrialState.RUNNING for t in study.trials)


def _first_reach(reported_at: dict[tuple[int, int], int], rung: int) -> dict[int, int]:
    """Per trial, the id of the event where its curve first reached ``rung``."""
    first: dict[int, int] = {}
    for (number, step), event_id in reported_at.items():
        if step >= rung and (number not in first or event_id < first[number]):
            first[number] = event_id
    return first
