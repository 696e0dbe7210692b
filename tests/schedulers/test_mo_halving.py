"""MO-ASHA: successive halving, ASHA and Hyperband with several objectives rank the trials at
a rung by non-dominated sorting, then crowding distance (Schmucker et al. 2021)."""

from __future__ import annotations

import numpy as np
import pytest
from mo_driver import Driver, run, toy_curve

import tuneful
from tuneful._pareto import hypervolume
from tuneful.errors import SchedulerError, TrialError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers import (
    ASHA,
    AutoScheduler,
    CurvePredictor,
    Hyperband,
    MedianStopping,
    make_scheduler,
    report_values,
    values_at,
)
from tuneful.schedulers.multi import objectives_key, pareto_positions

MIN2 = ("minimize", "minimize")

# At rung 1 (both minimized): A, B, C, D form the first front; the rest are dominated. With
# 9 trials and η = 3 the best 3 go on. A and D are the front's extremes (infinite crowding);
# B's crowding distance is 1.5, C's 1.25: C, non-dominated, is the one the front cannot keep.
FRONT = {"A": (0.0, 4.0), "B": (1.0, 2.0), "C": (3.0, 1.0), "D": (4.0, 0.0)}
DOMINATED = {"E": (3.0, 3.0), "F": (4.0, 4.0), "G": (5.0, 5.0), "H": (2.0, 5.0), "I": (5.0, 2.0)}
POINTS = {**FRONT, **DOMINATED}


def _record(
    number: int,
    curve: dict[int, tuple[float, ...]],
    *,
    state: TrialState = TrialState.RUNNING,
    bracket: int | None = None,
    constraints: dict[int, tuple[float, ...]] | None = None,
) -> TrialRecord:
    user_attrs = {}
    for step, values in curve.items():
        point: dict = {"values": list(values)}
        if constraints and step in constraints:
            point["constraints"] = list(constraints[step])
        user_attrs[objectives_key(step)] = point
    return TrialRecord(
        number,
        state,
        intermediate={step: values[0] for step, values in curve.items()},
        user_attrs=user_attrs,
        system_attrs={} if bracket is None else {"bracket": bracket},
    )


def _rung_of_nine(signs=(1.0, 1.0), directions=MIN2):
    records = [
        _record(i, {1: tuple(s * v for s, v in zip(signs, POINTS[name], strict=True))})
        for i, name in enumerate(POINTS)
    ]
    return records, History(None, directions, records)


def _verdicts(scheduler, records, history):
    out = {}
    for name, record in zip(POINTS, records, strict=True):
        decision = scheduler.decide(record, history)
        out[name] = decision
    return out


def test_a_dominated_trial_stops_and_the_extremes_of_the_front_go_on():
    records, history = _rung_of_nine()
    verdicts = _verdicts(ASHA(max_budget=9), records, history)
    assert not verdicts["A"].stop and not verdicts["D"].stop and not verdicts["B"].stop
    for name in DOMINATED:
        assert verdicts[name].stop, name
    assert verdicts["E"].attrs["rung_1"]["front"] == 2


def test_crowding_distance_breaks_the_tie_on_the_last_front_kept():
    records, history = _rung_of_nine()
    verdicts = _verdicts(ASHA(max_budget=9), records, history)
    b, c = verdicts["B"].attrs["rung_1"], verdicts["C"].attrs["rung_1"]
    assert (b["front"], c["front"]) == (1, 1)
    assert b["crowding"] == pytest.approx(1.5) and c["crowding"] == pytest.approx(1.25)
    assert (b["rank"], b["passed"]) == (3, True)
    assert (c["rank"], c["of"], c["keep"], c["passed"]) == (4, 9, 3, False)
    assert verdicts["C"].stop
    assert verdicts["C"].reason.startswith("rank 4 of 9 at rung 1 by non-dominated sorting")
    assert verdicts["C"].reason.endswith(": stopped")
    assert verdicts["A"].attrs["rung_1"]["crowding"] is None  # infinite: an extreme


def test_maximized_objectives_are_negated_before_sorting():
    directions = ("maximize", "minimize")
    records, history = _rung_of_nine(signs=(-1.0, 1.0), directions=directions)
    flipped = _verdicts(ASHA(max_budget=9), records, history)
    records, history = _rung_of_nine()
    plain = _verdicts(ASHA(max_budget=9), records, history)
    assert {n: d.stop for n, d in flipped.items()} == {n: d.stop for n, d in plain.items()}
    assert flipped["A"].attrs["rung_1"]["values"] == [-0.0, 4.0]


def test_asha_promotes_asynchronously_on_partial_rungs():
    """Each trial is judged against the trials that reached the rung before it, never waiting
    for the rung to fill, and an earlier promotion is never taken back."""
    scheduler = ASHA(max_budget=9)
    driver = Driver(scheduler, MIN2)
    order = [(2.0, 2.0), (1.0, 1.0), (3.0, 3.0), (0.0, 5.0), (0.5, 0.5), (4.0, 4.0)]
    passed = []
    for values in order:
        number = driver.create({})
        decision = driver.report(number, 1, values)
        record = driver.records[number].system_attrs["rung_1"]
        passed.append((record["rank"], record["of"], record["keep"], not decision.stop))
    assert passed == [
        (1, 1, 1, True),  # alone at the rung
        (1, 2, 1, True),  # dominates the first
        (3, 3, 1, False),  # dominated by both
        (1, 4, 1, True),  # non-dominated extreme (infinite crowding)
        (1, 5, 1, True),  # dominates all but (0, 5); an extreme of front 1
        (6, 6, 2, False),
    ]
    # trial 0 is dominated now, and stays promoted: ASHA never revisits a rung
    assert driver.records[0].state is TrialState.RUNNING


def test_infeasible_rung_values_rank_after_every_feasible_one():
    records = [
        _record(0, {1: (5.0, 5.0)}),
        _record(1, {1: (4.0, 4.0)}),
        _record(2, {1: (0.0, 0.0)}, constraints={1: (0.5,)}),  # best values, infeasible
        _record(3, {1: (0.1, 0.1)}, constraints={1: (-1.0,)}),  # feasible
    ]
    history = History(None, MIN2, records)
    scheduler = ASHA(max_budget=9, reduction_factor=2)
    infeasible = scheduler.decide(records[2], history)
    assert infeasible.stop
    assert infeasible.attrs["rung_1"]["feasible"] is False
    assert infeasible.attrs["rung_1"]["rank"] == 4
    assert "infeasible" in infeasible.reason
    assert not scheduler.decide(records[3], history).stop


def test_pareto_positions_put_smaller_violations_first():
    y = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [9.0, 9.0]])
    fronts, _ = pareto_positions(y, np.array([2.0, 0.0, 1.0, 0.0]))
    assert fronts.tolist() == [3, 0, 2, 1]


def test_hyperband_compares_a_trial_only_within_its_bracket():
    records = [_record(i, {3: (float(i), float(i))}, bracket=1) for i in range(3)]
    records.append(_record(3, {3: (9.0, 9.0)}, bracket=0))
    history = History(None, MIN2, records)
    scheduler = Hyperband(max_budget=27)
    alone = scheduler.decide(records[3], history)
    assert alone.attrs["rung_3"]["of"] == 1 and not alone.stop


def test_a_trial_that_reports_one_number_with_several_objectives_is_refused():
    record = TrialRecord(0, TrialState.RUNNING, intermediate={1: 0.5})
    with pytest.raises(SchedulerError, match="report_values"):
        ASHA(max_budget=9).decide(record, History(None, MIN2, [record]))


def test_a_vector_of_the_wrong_length_is_refused():
    record = _record(0, {1: (1.0, 2.0, 3.0)})
    with pytest.raises(SchedulerError, match="reported 3 values at rung 1; the study has 2"):
        ASHA(max_budget=9).decide(record, History(None, MIN2, [record]))


def test_values_at_reads_the_point_that_stands_for_the_budget():
    record = _record(0, {2: (1.0, 2.0), 5: (0.5, 1.0)}, constraints={5: (-1.0,)})
    assert values_at(record, 1) == ((1.0, 2.0), None)  # before the first report: that one
    assert values_at(record, 4) == ((1.0, 2.0), None)
    assert values_at(record, 5) == ((0.5, 1.0), (-1.0,))
    assert values_at(record, 6) is None
    assert values_at(TrialRecord(1, TrialState.RUNNING, intermediate={3: 1.0}), 2) is None


@pytest.mark.parametrize(
    ("scheduler", "words"),
    [
        (MedianStopping(), "median"),
        (CurvePredictor(max_budget=9), "predicts the final value of one learning curve"),
    ],
)
def test_median_and_curve_refuse_several_objectives_by_name(scheduler, words):
    with pytest.raises(SchedulerError, match=f"scheduler='{scheduler.name}'.*2 objectives") as e:
        scheduler.check_directions(MIN2)
    assert words in str(e.value) and "'asha'" in str(e.value)
    scheduler.check_directions(("minimize",))
    record = _record(0, {1: (1.0, 2.0)})
    with pytest.raises(SchedulerError, match=scheduler.name):
        scheduler.decide(record, History(None, MIN2, [record]))


@pytest.mark.parametrize("name", ["none", "asha", "hyperband", "auto"])
def test_schedulers_that_take_several_objectives(name):
    settings = {} if name == "none" else {"settings": {"max_budget": 27}}
    make_scheduler({"name": name, **settings}).check_directions(("minimize", "maximize"))


def test_auto_ranks_several_objectives_by_non_dominated_sorting_from_the_second_rung():
    scheduler = AutoScheduler(max_budget=27, min_curves=4)
    driver = run(scheduler, MIN2, toy_curve, max_budget=27, seed=0, n_trials=40)
    rules = {
        record["rule"]
        for t in driver.records
        for key, record in t.system_attrs.items()
        if key.startswith("rung_")
    }
    assert rules == {"pareto"}
    brackets = {t.system_attrs.get("bracket") for t in driver.records}
    assert brackets <= {None, 1}  # the model's phase (bracket 2) never comes
    judged = {key for t in driver.records for key in t.system_attrs if key.startswith("rung_")}
    assert judged == {"rung_3", "rung_9"}  # from the second rung, up to 27 / η
    states = [t.state for t in driver.records]
    assert TrialState.PRUNED in states and states.count(TrialState.COMPLETE) >= 3


def test_auto_leaves_alone_a_trial_that_reports_one_number_with_several_objectives():
    record = TrialRecord(0, TrialState.RUNNING, intermediate={3: 0.5}, system_attrs={"bracket": 1})
    assert AutoScheduler(max_budget=27).decide(record, History(None, MIN2, [record])) is None
    with pytest.raises(SchedulerError, match="report_values"):  # asha, chosen, says why
        ASHA(max_budget=27).decide(record, History(None, MIN2, [record]))


def test_report_values_records_the_vector_and_reports_the_first_objective():
    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
        storage="memory://",
        scheduler={"name": "asha", "settings": {"max_budget": 9}},
        seed=0,
    )
    trial = study.ask()
    report_values(trial, step=1, values=[0.25])
    record = study.get_trial(trial.number)
    assert record.intermediate == {1: 0.25}
    assert record.user_attrs[objectives_key(1)] == {"values": [0.25]}
    assert values_at(record, 1) == ((0.25,), None)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"values": [0.1, 0.2]}, r"one value per objective \(1\)"),
        ({"values": [float("nan")]}, "not finite"),
        ({"values": "0.1"}, "expected a sequence of numbers"),
        ({"values": [0.1], "constraints": [True]}, "is not a number"),
    ],
)
def test_report_values_refuses_bad_input(kwargs, match):
    study = tuneful.create_study(storage="memory://", scheduler="asha", seed=0)
    trial = study.ask()
    with pytest.raises(TrialError, match=match):
        report_values(trial, step=1, **kwargs)


def _front_hypervolume(driver: Driver, reference: np.ndarray) -> float:
    finals = [t.values for t in driver.records if t.state is TrialState.COMPLETE]
    return hypervolume(np.asarray(finals, dtype=float), reference)


@pytest.mark.parametrize("workers", [1, 3])
def test_mo_asha_reaches_at_least_the_hypervolume_of_no_stopping_on_equal_budget(workers):
    max_budget, budget = 27, 27 * 20
    reference = np.array([1.1, 5.5])
    asha, full = [], []
    for seed in range(5):
        stopped = run(
            ASHA(max_budget=max_budget),
            MIN2,
            toy_curve,
            max_budget=max_budget,
            seed=seed,
            total_budget=budget,
            workers=workers,
            dim=3,
        )
        plain = run(
            make_scheduler("none"),
            MIN2,
            toy_curve,
            max_budget=max_budget,
            seed=seed,
            total_budget=budget,
            workers=workers,
            dim=3,
        )
        assert all(t.state is TrialState.COMPLETE for t in plain.records)
        assert len(stopped.records) > len(plain.records)
        asha.append(_front_hypervolume(stopped, reference))
        full.append(_front_hypervolume(plain, reference))
    assert np.mean(asha) >= np.mean(full)
