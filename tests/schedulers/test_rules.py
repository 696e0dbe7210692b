"""The median rule, the learning-curve scheduler and the model view on small, known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tuneful
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import ASHA, CurvePredictor, MedianStopping, model_view

SPACE = {"x": {"type": "float", "low": 0.0, "high": 1.0}}


def _record(number, curve, state=TrialState.COMPLETE, value=None, **attrs):
    values = (
        None
        if state is not TrialState.COMPLETE
        else (value if value is not None else curve[max(curve)],)
    )
    return TrialRecord(
        number=number,
        state=state,
        params={"x": number / 10},
        intermediate=curve,
        values=values,
        system_attrs=attrs,
    )


def _history(trials, direction="minimize"):
    return History(tuneful.Space.from_dict(SPACE), (direction,), trials, number=len(trials))


def test_median_rule_by_hand():
    # Running averages up to step 2 of three completed curves: 2, 4, 6 -> median 4.
    done = [
        _record(0, {0: 3.0, 1: 2.0, 2: 1.0, 3: 0.5}),
        _record(1, {0: 5.0, 1: 4.0, 2: 3.0, 3: 2.0}),
        _record(2, {0: 7.0, 1: 6.0, 2: 5.0, 3: 4.0}),
    ]
    rule = MedianStopping(n_startup_trials=3)
    worse = _record(3, {0: 9.0, 1: 6.0, 2: 4.5}, state=TrialState.RUNNING)
    decision = rule.decide(worse, _history([*done, worse]))
    assert decision is not None and decision.stop  # best so far 4.5 > median 4
    assert "median 4" in decision.reason
    better = _record(3, {0: 9.0, 1: 6.0, 2: 3.9}, state=TrialState.RUNNING)
    assert rule.decide(better, _history([*done, better])) is None
    # Too few completed trials, or still warming up: no decision.
    assert MedianStopping(n_startup_trials=4).decide(worse, _history([*done, worse])) is None
    assert (
        MedianStopping(n_startup_trials=3, n_warmup_steps=3).decide(worse, _history([*done, worse]))
        is None
    )


def test_median_rule_for_maximization_is_mirrored():
    done = [_record(i, {0: -v, 1: -v}) for i, v in enumerate([2.0, 4.0, 6.0])]
    trial = _record(3, {0: -3.0, 1: -5.0}, state=TrialState.RUNNING)
    # Maximizing: best so far -3 is below the median of the averages (-4)? No: -3 > -4.
    assert (
        MedianStopping(n_startup_trials=3).decide(trial, _history([*done, trial], "maximize"))
        is None
    )
    low = _record(3, {0: -7.0, 1: -8.0}, state=TrialState.RUNNING)
    decision = MedianStopping(n_startup_trials=3).decide(low, _history([*done, low], "maximize"))
    assert decision is not None and decision.stop


def _saturating(x: float, step: int) -> float:
    return x + (1.0 - x) * math.exp(-step / 4.0)


def _completed_curves(n: int) -> list[TrialRecord]:
    """n completed saturating curves whose final value is their x (drawn with seed 0)."""
    rng = np.random.default_rng(0)
    trials = []
    for number in range(n):
        x = float(rng.uniform(0.1, 0.9))
        curve = {b: _saturating(x, b) for b in (1, 3, 9, 27)}
        trials.append(
            TrialRecord(
                number=number,
                state=TrialState.COMPLETE,
                params={"x": x},
                intermediate=curve,
                values=(x,),
            )
        )
    return trials


def test_curve_scheduler_falls_back_then_predicts_and_explains():
    scheduler = CurvePredictor(min_budget=1, max_budget=27, min_curves=6, delta=0.05)
    trials = _completed_curves(8)
    best = min(t.values[0] for t in trials)
    hopeless = TrialRecord(
        number=8,
        state=TrialState.RUNNING,
        params={"x": 0.95},
        intermediate={1: _saturating(0.95, 1), 3: _saturating(0.95, 3)},
    )
    decision = scheduler.decide(hopeless, _history([*trials, hopeless]))
    assert decision is not None and decision.stop
    record = decision.attrs[f"rung_{decision.attrs['pruned']['rung']}"]
    assert record["rule"] == "model" and record["n_curves"] == 8 and record["loo_rmse"] > 0
    assert record["predicted"] == pytest.approx(0.95, abs=0.1)
    assert record["p_improve"] < 0.05 and record["incumbent"] == best
    assert "predicted final value" in decision.attrs["pruned"]["reason"]
    promising = TrialRecord(
        number=8,
        state=TrialState.RUNNING,
        params={"x": best - 0.05},
        intermediate={1: _saturating(best - 0.05, 1)},
    )
    decision = scheduler.decide(promising, _history([*trials, promising]))
    assert decision is not None and not decision.stop
    # With fewer completed curves than min_curves, the rank rule decides.
    few = CurvePredictor(min_budget=1, max_budget=27, min_curves=20)
    decision = few.decide(hopeless, _history([*trials, hopeless]))
    assert decision.attrs["rung_1"]["rule"] == "rank"


def test_model_view_shows_each_trial_at_the_highest_well_observed_budget():
    scheduler = ASHA(min_budget=1, max_budget=9)
    trials = [
        _record(0, {1: 0.9, 3: 0.6, 9: 0.3}, value=0.3),
        _record(1, {1: 0.8, 3: 0.5}, state=TrialState.PRUNED),
        _record(2, {1: 0.7}, state=TrialState.PRUNED),
        _record(3, {1: 0.95, 3: 0.65}, state=TrialState.RUNNING),
        TrialRecord(number=4, state=TrialState.RUNNING, params={"x": 0.4}),
    ]
    view = model_view(_history(trials), scheduler)
    # dim 1 needs 3 points: budget 9 has 1, budget 3 has 3 (trials 0, 1, 3).
    assert view.fidelity == {"budget": 3, "max_budget": 9, "points": 3}
    # Trial 2, stopped at rung 1, is not observed at budget 3: it stays PRUNED.
    assert [t.number for t in view.completed] == [0, 1, 3]
    assert view.y[:, 0].tolist() == [0.6, 0.5, 0.65]
    assert [t.number for t in view.pruned] == [2]
    assert [t.number for t in view.pending] == [4]
    # No reports at all: the history is returned as it is.
    plain = _history([_record(0, {}, value=1.0)])
    assert model_view(plain, scheduler) is plain


def test_the_full_budget_view_shows_model_stopped_trials_at_their_predicted_final():
    scheduler = ASHA(min_budget=1, max_budget=9)
    model = {"rule": "model", "predicted": 0.42, "std": 0.05, "passed": False}
    trials = [
        _record(0, {1: 0.9, 3: 0.6, 9: 0.3}, value=0.3),
        _record(1, {1: 0.8, 3: 0.5, 9: 0.2}, value=0.2),
        _record(2, {1: 0.7, 3: 0.45, 9: 0.25}, value=0.25),
        # stopped at rung 3 by the learning-curve model, which predicted 0.42 at the end
        _record(
            3, {1: 0.9, 3: 0.7}, state=TrialState.PRUNED, rung_1={"rule": "rank"}, rung_3=model
        ),
        # stopped by the rank rule: no prediction, not shown
        _record(4, {1: 0.99}, state=TrialState.PRUNED, rung_1={"rule": "rank"}),
    ]
    view = model_view(_history(trials), scheduler)
    # three real observations at the full budget choose it; the prediction is not counted
    assert view.fidelity == {"budget": 9, "max_budget": 9, "points": 3}
    assert [t.number for t in view.completed] == [0, 1, 2, 3]
    assert view.y[:, 0].tolist() == [0.3, 0.2, 0.25, 0.42]
    assert [t.number for t in view.pruned] == [4]
    # below the full budget the prediction is not used: trial 3 shows its own value at 3
    lower = model_view(_history(trials[:1] + trials[3:]), scheduler)
    assert lower.fidelity["budget"] == 1
    assert 3 in [t.number for t in lower.completed]
    # two observations and one prediction at the full budget make the three a 1-d space needs
    counted = model_view(_history(trials[:2] + trials[3:]), scheduler)
    assert counted.fidelity == {"budget": 9, "max_budget": 9, "points": 2}
    assert counted.y[:, 0].tolist() == [0.3, 0.2, 0.42]


def test_auto_scheduler_explores_from_the_second_rung_then_judges_from_the_third():
    from tuneful.schedulers import AutoScheduler, hyperband_brackets

    assert {"quantile": 0.5, "delta": 0.01}.items() <= AutoScheduler().settings().items()
    scheduler = AutoScheduler(min_curves=3)
    assert scheduler.assign(_history([])) == {}  # no completed curve: full budget unknown
    done = _record(0, {1: 0.5, 3: 0.4, 9: 0.3, 27: 0.2})
    assert scheduler.brackets(_history([done])) == hyperband_brackets(1, 27, 3)
    # exploring (fewer than min_curves completed): successive halving from rung 3
    assert scheduler.exploring(_history([done]))
    assert scheduler.assign(_history([done])) == {"bracket": 1}
    explorer = _record(1, {3: 0.9}, state=TrialState.RUNNING, bracket=1)
    assert scheduler.rungs(explorer, _history([done, explorer])) == [3, 9]
    stopped = _record(1, {3: 0.9}, state=TrialState.PRUNED, bracket=1)
    history = _history([done, stopped, _record(2, {3: 0.6, 27: 0.3}, bracket=1)])
    assert scheduler.exploring(history)  # two completed, a stopped trial does not count
    assert scheduler.assign(history) == {"bracket": 1}
    # three completed curves: the model judges new trials from the third rung (9) on
    history = _history([*history.trials, _record(3, {3: 0.7, 27: 0.25}, bracket=1)])
    assert not scheduler.exploring(history)
    assert scheduler.assign(history) == {"bracket": 2}
    judged = _record(4, {9: 0.9}, state=TrialState.RUNNING, bracket=2)
    assert scheduler.rungs(judged, _history([*history.trials, judged])) == [9]
    # too few rungs below a third of the full budget: start at the highest one left
    for full, exploring, predicting in ((3, 0, 0), (9, 1, 1), (26, 1, 1), (27, 1, 2)):
        capped = AutoScheduler(max_budget=full, min_curves=3)
        assert capped.assign(_history([done])) == {"bracket": exploring}, full
        assert capped.assign(history) == {"bracket": predicting}, full


def test_auto_scheduler_judges_up_to_a_third_of_the_full_budget():
    from tuneful.schedulers import AutoScheduler

    trial = _record(5, {1: 0.5}, state=TrialState.RUNNING, bracket=0)
    # full budget 27: rungs 1, 3, 9 (9 * 3 <= 27); 52: still 1, 3, 9 (27 * 3 > 52)
    for full, rungs in ((27, [1, 3, 9]), (52, [1, 3, 9]), (100, [1, 3, 9, 27]), (3, [1])):
        scheduler = AutoScheduler(max_budget=full)
        assert scheduler.rungs(trial, _history([trial])) == rungs
        expected = rungs[1] if len(rungs) > 1 else full  # the next budget after step 1
        assert scheduler.budget(trial, _history([trial])) == expected
    late = _record(6, {27: 0.5}, state=TrialState.RUNNING, bracket=3)
    scheduler = AutoScheduler(max_budget=52)
    assert scheduler.rungs(late, _history([late])) == []  # bracket 3 starts at 27: no rung
    assert scheduler.budget(late, _history([late])) == 52
    # ASHA keeps every rung below the full budget
    assert ASHA(max_budget=52).rungs(trial, _history([trial])) == [1, 3, 9, 27]


def test_curve_scheduler_without_a_fallback_stops_nothing_before_the_model():
    scheduler = CurvePredictor(min_budget=1, max_budget=27, min_curves=6, fallback="none")
    first = TrialRecord(
        number=0,
        state=TrialState.COMPLETE,
        params={"x": 0.1},
        intermediate={1: 0.2, 3: 0.15, 9: 0.1, 27: 0.1},
        values=(0.1,),
    )
    hopeless = TrialRecord(
        number=1, state=TrialState.RUNNING, params={"x": 0.9}, intermediate={1: 5.0, 3: 4.0}
    )
    decision = scheduler.decide(hopeless, _history([first, hopeless]))
    assert decision is not None and not decision.stop
    assert decision.attrs["rung_1"]["rule"] == "none"
    with pytest.raises(tuneful.errors.SchedulerError, match="fallback='halving'"):
        CurvePredictor(fallback="halving")


def test_a_quantile_bar_keeps_near_best_trials_running():
    trials = _completed_curves(12)
    finals = sorted(t.values[0] for t in trials)
    x = (finals[0] + float(np.median(finals))) / 2  # worse than the best, better than half
    near = TrialRecord(
        number=12,
        state=TrialState.RUNNING,
        params={"x": x},
        intermediate={b: _saturating(x, b) for b in (1, 3, 9)},
    )
    history = _history([*trials, near])
    best_bar = CurvePredictor(max_budget=27, min_curves=6).decide(near, history)
    median_bar = CurvePredictor(max_budget=27, min_curves=6, quantile=0.5).decide(near, history)
    assert best_bar is not None and best_bar.stop
    assert median_bar is not None and not median_bar.stop
    assert median_bar.attrs["rung_9"]["incumbent"] == pytest.approx(float(np.median(finals)))
    with pytest.raises(tuneful.errors.SchedulerError, match="quantile=1"):
        CurvePredictor(quantile=1)
