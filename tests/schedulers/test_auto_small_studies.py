"""The default scheduler in small studies: enough trials run in full to be compared, and
trials placed before the first completion explore from the second rung as documented."""

from __future__ import annotations

import math

import pytest

import tuneful
from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import AutoScheduler
from tuneful.schedulers.auto import MIN_COMPLETED

SPACE = {
    "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "width": {"type": "int", "low": 16, "high": 256, "log": True},
}


def train_until(params: dict, epoch: int) -> float:
    """The guide's example made runnable: a saturating accuracy curve, best near lr = 1e-2
    and for wide networks, slower to rise for small or large learning rates."""
    distance = abs(math.log10(params["lr"]) + 2.0)
    ceiling = 1.0 - 0.25 * distance - 0.0125 * math.log2(256 / params["width"])
    speed = 2.0 + 8.0 * abs(math.log10(params["lr"]) + 1.0)
    return ceiling * (1.0 - math.exp(-epoch / speed))


def objective(trial: tuneful.Trial) -> float:
    """As in docs/guide.md, "Early stopping and multi-fidelity search"."""
    for epoch in trial.budgets(50):
        accuracy = train_until(trial.params, epoch)
        trial.report(step=epoch, value=accuracy)
    return accuracy


def _study(seed: int) -> tuneful.Study:
    return tuneful.create_study(space=SPACE, direction="maximize", storage="memory://", seed=seed)


def _least_complete(n: int, reduction_factor: float = 3) -> int:
    """The rule's structural bound: of n finished trials, at least this many completed."""
    return min(MIN_COMPLETED, math.ceil(n / reduction_factor))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_guides_example_completes_enough_of_40_trials(seed: int) -> None:
    study = _study(seed)
    study.optimize(objective, n_trials=40, show_progress_bar=False)
    trials = study.trials
    complete = [t for t in trials if t.state is TrialState.COMPLETE]
    assert len(complete) >= _least_complete(40) == MIN_COMPLETED == 3
    # at every point of the study, not only at the end
    for end in range(1, 41):
        done = sum(t.state is TrialState.COMPLETE for t in trials[:end])
        assert done >= _least_complete(end), end
    # pruning still saves compute
    assert any(t.state is TrialState.PRUNED for t in trials)
    # no trial is judged at the first rung (exploration starts at min_budget * η = 3)
    assert not any("rung_1" in t.system_attrs for t in trials)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_16_trial_study_on_two_workers_completes_enough_trials(seed: int) -> None:
    study = _study(seed)
    study.optimize(objective, n_trials=16, n_jobs=2, show_progress_bar=False)
    trials = study.trials
    assert len(trials) == 16
    assert sum(t.state is TrialState.COMPLETE for t in trials) >= _least_complete(16) == 3
    # the two trials placed before anything was reported explore too (no rung-1 judgement)
    assert not any("rung_1" in t.system_attrs for t in trials)


def test_min_completed_5_keeps_a_third_of_a_16_trial_study() -> None:
    study = tuneful.create_study(
        space=SPACE,
        direction="maximize",
        storage="memory://",
        seed=0,
        scheduler={"name": "auto", "settings": {"min_completed": 5}},
    )
    study.optimize(objective, n_trials=16, n_jobs=2, show_progress_bar=False)
    complete = sum(t.state is TrialState.COMPLETE for t in study.trials)
    assert complete >= min(5, math.ceil(16 / 3)) == 5


def _record(number: int, curve: dict[int, float], state: TrialState, **attrs) -> TrialRecord:
    values = (curve[max(curve)],) if state is TrialState.COMPLETE else None
    return TrialRecord(
        number=number,
        state=state,
        params={"lr": 1e-2, "width": 64},
        intermediate=curve,
        values=values,
        system_attrs=attrs,
    )


def _history(trials: list[TrialRecord]) -> History:
    return History(
        tuneful.Space.from_dict(SPACE), ("minimize",), trials, number=len(trials), has_reports=True
    )


def test_trials_placed_before_the_first_completion_explore_from_the_second_rung() -> None:
    scheduler = AutoScheduler()
    running = _record(0, {1: 0.9}, TrialState.RUNNING)  # placed before any report: no bracket
    assert scheduler.bracket_of(running) == 1
    assert scheduler.rungs(running, _history([running]))[:2] == [3, 9]
    # placed while trials run but none has completed (the full budget is not known yet)
    assert scheduler.assign(_history([running])) == {"bracket": 1}
    # a configured full budget with too few rungs lowers the bracket as after a completion
    assert AutoScheduler(max_budget=3).bracket_of(running) == 0


def test_a_trial_that_fails_its_rung_is_kept_while_too_few_trials_have_completed() -> None:
    scheduler = AutoScheduler(max_budget=27, min_completed=3)
    curve = {3: 0.3, 9: 0.2, 27: 0.1}
    done = [_record(0, curve, TrialState.COMPLETE, bracket=1)]
    stopped = [_record(i, {3: 0.5}, TrialState.PRUNED, bracket=1) for i in (1, 2)]
    hopeless = _record(5, {3: 50.0}, TrialState.RUNNING, bracket=1)
    # 1 of 3 finished trials completed: stopping a fourth needs ceil(4 / 3) = 2
    decision = scheduler.decide(hopeless, _history([*done, *stopped, hopeless]))
    assert decision is not None and not decision.stop
    record = decision.attrs["rung_3"]
    assert record["rule"] == "rank" and record["rank"] == 4 and record["passed"]
    assert "1 of 3 finished trials have completed; at least 2" in record["kept"]
    # 2 of 4: enough; the rank rule stops it
    second = _record(3, curve, TrialState.COMPLETE, bracket=1)
    decision = scheduler.decide(hopeless, _history([*done, second, *stopped, hopeless]))
    assert decision is not None and decision.stop and "pruned" in decision.attrs
    # min_completed caps what is asked of a long study: 3 of 30 finished suffice here
    many = [_record(10 + i, {3: 0.5}, TrialState.PRUNED, bracket=1) for i in range(26)]
    third = _record(4, curve, TrialState.COMPLETE, bracket=1)
    history = _history([*done, second, third, *stopped, *many, hopeless])
    decision = scheduler.decide(hopeless, history)
    assert decision is not None and decision.stop
    assert AutoScheduler(min_completed=0).keep_reason(_history([hopeless])) is None


@pytest.mark.parametrize("value", [-1, 2.5, True, "5"])
def test_min_completed_must_be_a_non_negative_int(value: object) -> None:
    with pytest.raises(SchedulerError, match=f"min_completed={value!r}"):
        AutoScheduler(min_completed=value)  # type: ignore[arg-type]
