"""A scheduler's decision: go on, stop, or exploit another trial's checkpoint."""

from __future__ import annotations

import dataclasses
import pickle
from typing import Any

import pytest

from tuneful.errors import SchedulerError
from tuneful.schedulers import Action, Decision, refuse_exploit


def test_the_classic_constructor_keeps_its_meaning() -> None:
    stopped = Decision(stop=True, reason="worse than the median", attrs={"pruned": {}})
    assert stopped.action is Action.STOP and stopped.stop and stopped.reason.startswith("worse")
    going = Decision(stop=False, reason="passed")
    assert going.action is Action.GO_ON and not going.stop and going.attrs == {}
    assert Decision(True).action is Action.STOP  # positional, as before


def test_the_named_constructors() -> None:
    assert Decision.go_on("passed", attrs={"rung_3": {}}) == Decision(
        stop=False, reason="passed", attrs={"rung_3": {}}
    )
    assert Decision.stop_now("ranked last") == Decision(stop=True, reason="ranked last")
    exploit = Decision.exploit(source=2, params={"lr": 0.1}, reason="trial 2 is ahead")
    assert exploit.action is Action.EXPLOIT
    assert not exploit.stop  # code that only knows how to stop trials does not prune it
    assert exploit.source == 2 and exploit.params == {"lr": 0.1}
    assert exploit.reason == "trial 2 is ahead" and exploit.attrs == {}


def test_a_decision_is_frozen_and_keeps_a_copy_of_its_parameters() -> None:
    params = {"lr": 0.1}
    decision = Decision.exploit(source=0, params=params)
    params["lr"] = 1.0
    assert decision.params == {"lr": 0.1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.source = 3  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(decision)) == decision


def test_the_action_may_be_given_by_its_name() -> None:
    assert Decision(stop=True, action="stop").action is Action.STOP  # type: ignore[arg-type]
    with pytest.raises(SchedulerError, match=r"decision: action='restart': expected one of"):
        Decision(stop=False, action="restart")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stop": "yes"}, r"decision: stop='yes': expected True or False"),
        ({"stop": True, "reason": 3}, r"decision: reason=3: expected a sentence"),
        ({"stop": True, "attrs": [1]}, r"decision: attrs=\[1\]: expected a mapping"),
        ({"stop": True, "action": Action.GO_ON}, r"stop=True with action='go_on'"),
        ({"stop": False, "action": Action.STOP}, r"stop=False with action='stop'"),
        ({"stop": True, "action": Action.EXPLOIT}, r"stop=True with action='exploit'"),
        ({"stop": True, "source": 1}, r"source and params belong to the action 'exploit'"),
        ({"stop": False, "params": {"lr": 1}}, r"belong to the action 'exploit', not 'go_on'"),
    ],
)
def test_fields_that_disagree_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SchedulerError, match=message):
        Decision(**kwargs)


@pytest.mark.parametrize(
    ("source", "params", "message"),
    [
        (-1, {"lr": 0.1}, r"decision: source=-1: expected an int >= 0"),
        (None, {"lr": 0.1}, r"decision: source=None: expected an int >= 0"),
        (True, {"lr": 0.1}, r"decision: source=True"),
        (1, {}, r"decision: params=\{\}: expected a non-empty mapping"),
        (1, None, r"decision: params=None: expected a non-empty mapping"),
        (1, {1: 0.1}, r"decision: params=\{1: 0.1\}: expected parameter names"),
    ],
)
def test_an_exploit_needs_a_source_trial_and_parameters(
    source: Any, params: Any, message: str
) -> None:
    with pytest.raises(SchedulerError, match=message):
        Decision.exploit(source=source, params=params)


def test_an_engine_that_cannot_exploit_refuses_with_a_clear_error() -> None:
    refuse_exploit(Decision.go_on(), scheduler="pbt", trial=4, why="no checkpoints")
    refuse_exploit(Decision.stop_now("bad"), scheduler="pbt", trial=4, why="no checkpoints")
    decision = Decision.exploit(source=1, params={"lr": 0.01}, reason="trial 1 is ahead")
    with pytest.raises(SchedulerError) as caught:
        refuse_exploit(decision, scheduler="pbt", trial=4, why="the objective saves no checkpoints")
    assert str(caught.value) == (
        "scheduler 'pbt' decided that trial 4 goes on from trial 1's checkpoint with "
        "{'lr': 0.01} (trial 1 is ahead), and this cannot be carried out: the objective "
        "saves no checkpoints"
    )


def test_an_exploit_decision_is_refused_by_the_engine_not_ignored() -> None:
    import tuneful
    from tuneful.schedulers import Decision, MedianStopping

    class Exploiter(MedianStopping):
        name = "exploiter"

        def decide(self, trial, history):  # type: ignore[no-untyped-def]
            return Decision.exploit(source=0, params={"x": 0.5}, reason="trial 0 is ahead")

    study = tuneful.create_study(
        space={"x": {"type": "float", "low": 0.0, "high": 1.0}},
        storage="memory://",
        scheduler=Exploiter(),
    )
    trial = study.ask()
    with pytest.raises(SchedulerError, match="trials save no checkpoints"):
        trial.report(step=1, value=0.3)
