"""One suite every storage backend must pass."""

from __future__ import annotations

import threading

import pytest

from tuneful.errors import (
    DuplicateStudyError,
    StorageError,
    StudyError,
    StudyNotFoundError,
    TrialError,
    TrialLimitReached,
)
from tuneful.records import TrialState
from tuneful.storage import Storage, open_storage
from tuneful.storage.base import MAX_STUDY_NAME_LENGTH
from tuneful.storage.replay import StudyReplica


@pytest.fixture
def storage(storage_url: str) -> Storage:
    return open_storage(storage_url)


def _study(storage: Storage, name: str = "s") -> int:
    return storage.create_study(
        name,
        directions=["minimize"],
        space={"x": {"type": "float", "low": 0, "high": 1}},
        settings={"seed": 1},
    ).id


def _replay(storage: Storage, study_id: int) -> StudyReplica:
    replica = StudyReplica()
    replica.apply(storage.read_events(study_id))
    return replica


def test_study_lifecycle(storage: Storage) -> None:
    info = storage.create_study(
        "a", directions=["minimize", "maximize"], space=None, settings={"seed": 3}
    )
    assert info.name == "a"
    assert info.directions == ("minimize", "maximize")
    assert info.space is None
    assert storage.get_study("a") == info
    storage.create_study("b", directions=["minimize"], space={"k": 1}, settings={})
    assert [s.name for s in storage.list_studies()] == ["a", "b"]
    with pytest.raises(DuplicateStudyError, match="'a'"):
        storage.create_study("a", directions=["minimize"], space=None, settings={})
    storage.delete_study("a")
    with pytest.raises(StudyNotFoundError, match="'a'"):
        storage.get_study("a")
    with pytest.raises(StudyNotFoundError):
        storage.delete_study("a")
    assert [s.name for s in storage.list_studies()] == ["b"]


def test_trial_lifecycle_is_replayed(storage: Storage) -> None:
    sid = _study(storage)
    n0 = storage.create_trial(sid, state=TrialState.RUNNING, worker="w1")
    storage.append(sid, n0, "params", {"params": {"x": 0.5}})
    storage.append(sid, n0, "reported", {"step": 0, "value": 1.5})
    storage.append(sid, n0, "reported", {"step": 1, "value": 1.25})
    storage.append(sid, n0, "user_attr", {"key": "note", "value": [1, "a"]})
    storage.finish_trial(sid, n0, state=TrialState.COMPLETE, values=[0.25])
    n1 = storage.create_trial(sid, state=TrialState.RUNNING, worker="w1")
    storage.finish_trial(sid, n1, state=TrialState.FAIL, error="boom")
    storage.set_study_attr(sid, "owner", "me")
    assert (n0, n1) == (0, 1)

    replica = _replay(storage, sid)
    first, second = replica.trials()
    assert first.state is TrialState.COMPLETE
    assert first.params == {"x": 0.5}
    assert first.values == (0.25,)
    assert first.intermediate == {0: 1.5, 1: 1.25}
    assert first.user_attrs == {"note": [1, "a"]}
    assert first.worker == "w1"
    assert first.started_at is not None and first.finished_at >= first.started_at
    assert second.state is TrialState.FAIL and second.error == "boom"
    assert replica.study_attrs == {"owner": "me"}
    assert storage.count_trials(sid) == {"COMPLETE": 1, "FAIL": 1}


def test_incremental_replay_reads_only_new_events(storage: Storage) -> None:
    sid = _study(storage)
    replica = StudyReplica()
    n = storage.create_trial(sid, state=TrialState.RUNNING)
    replica.apply(storage.read_events(sid, replica.last_event_id))
    assert replica.trial(n).state is TrialState.RUNNING
    storage.finish_trial(sid, n, state=TrialState.COMPLETE, values=[1.0])
    new = storage.read_events(sid, replica.last_event_id)
    assert [e.kind for e in new] == ["finished"]
    replica.apply(new)
    assert replica.trial(n).values == (1.0,)
    assert storage.read_events(sid, replica.last_event_id) == []


def test_a_trial_finishes_once(storage: Storage) -> None:
    sid = _study(storage)
    n = storage.create_trial(sid, state=TrialState.RUNNING)
    storage.finish_trial(sid, n, state=TrialState.COMPLETE, values=[1.0])
    with pytest.raises(TrialError, match="COMPLETE"):
        storage.finish_trial(sid, n, state=TrialState.FAIL)
    with pytest.raises(TrialError, match="not RUNNING"):
        storage.append(sid, n, "reported", {"step": 3, "value": 1.0})
    with pytest.raises(TrialError):
        storage.finish_trial(sid, 99, state=TrialState.COMPLETE, values=[1.0])


def test_enqueued_trials_are_claimed_once_in_order(storage: Storage) -> None:
    sid = _study(storage)
    a = storage.create_trial(sid, state=TrialState.WAITING, params={"x": 0.1})
    b = storage.create_trial(sid, state=TrialState.WAITING, params={"x": 0.2})
    assert storage.claim_trial(sid, worker="w") == a
    assert storage.claim_trial(sid, worker="w") == b
    assert storage.claim_trial(sid, worker="w") is None
    replica = _replay(storage, sid)
    assert [t.state for t in replica.trials()] == [TrialState.RUNNING] * 2
    assert replica.trial(b).params == {"x": 0.2}


def test_numbers_unique_and_gap_free_under_threads(storage: Storage) -> None:
    sid = _study(storage)
    numbers: list[int] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(25):
            n = storage.create_trial(sid, state=TrialState.RUNNING)
            storage.finish_trial(sid, n, state=TrialState.COMPLETE, values=[float(n)])
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(numbers) == list(range(100))
    assert storage.count_trials(sid) == {"COMPLETE": 100}


def test_stale_trials_fail_once_and_retry(storage: Storage) -> None:
    sid = _study(storage)
    monitored = storage.create_trial(sid, state=TrialState.RUNNING, monitored=True)
    storage.append(sid, monitored, "params", {"params": {"x": 0.3}})
    unmonitored = storage.create_trial(sid, state=TrialState.RUNNING)
    assert storage.fail_stale_trials(sid, grace=60.0, retries=1) == []
    assert storage.fail_stale_trials(sid, grace=0.0, retries=1) == [monitored]
    assert storage.fail_stale_trials(sid, grace=0.0, retries=1) == []
    replica = _replay(storage, sid)
    trials = replica.trials()
    assert trials[monitored].state is TrialState.FAIL
    assert "heartbeat" in (trials[monitored].error or "")
    assert trials[unmonitored].state is TrialState.RUNNING
    retry = trials[-1]
    assert retry.state is TrialState.WAITING
    assert retry.params == {"x": 0.3}
    assert retry.system_attrs["retry_of"] == monitored
    # the retry's own failure is not retried again (retries=1)
    claimed = storage.claim_trial(sid, worker="w", monitored=True)
    assert claimed == retry.number
    assert storage.fail_stale_trials(sid, grace=0.0, retries=1) == [claimed]
    assert storage.count_trials(sid).get("WAITING", 0) == 0


def test_heartbeat_keeps_trials_alive(storage: Storage) -> None:
    sid = _study(storage)
    n = storage.create_trial(sid, state=TrialState.RUNNING, monitored=True)
    storage.heartbeat(sid, [n])
    assert storage.fail_stale_trials(sid, grace=30.0, retries=0) == []


def test_payloads_round_trip_json_types(storage: Storage) -> None:
    sid = _study(storage)
    params = {"a": 1, "b": 0.1, "c": "x", "d": True, "e": None, "num.impute": "mean"}
    n = storage.create_trial(sid, state=TrialState.WAITING, params=params)
    assert _replay(storage, sid).trial(n).params == params


def test_params_drafted_for_another_number_are_dropped(storage: Storage) -> None:
    sid = _study(storage)
    kept = storage.create_trial(sid, state=TrialState.RUNNING, params={"x": 0.1}, expected_number=0)
    dropped = storage.create_trial(
        sid, state=TrialState.RUNNING, params={"x": 0.2}, expected_number=0
    )
    replica = _replay(storage, sid)
    assert replica.trial(kept).params == {"x": 0.1}
    assert replica.trial(dropped).params == {}


def test_a_trial_limit_is_checked_with_the_allocation(storage: Storage) -> None:
    sid = _study(storage)
    storage.create_trial(sid, state=TrialState.WAITING, limit=2)
    storage.create_trial(sid, state=TrialState.RUNNING, limit=2)
    with pytest.raises(TrialLimitReached, match="holds 2 trials, its limit is 2"):
        storage.create_trial(sid, state=TrialState.RUNNING, limit=2)
    assert storage.create_trial(sid, state=TrialState.RUNNING) == 2  # no limit, no check
    assert [e.kind for e in storage.read_events(sid)] == ["created"] * 3


def test_a_lost_trial_fails_once_and_is_retried(storage: Storage) -> None:
    sid = _study(storage)
    number = storage.create_trial(sid, state=TrialState.RUNNING, params={"x": 0.7})
    assert storage.fail_trial(sid, number, error="worker lost", retries=1)
    assert not storage.fail_trial(sid, number, error="worker lost", retries=1)  # once only
    trials = _replay(storage, sid).trials()
    assert trials[number].state is TrialState.FAIL and trials[number].error == "worker lost"
    assert trials[-1].state is TrialState.WAITING and trials[-1].params == {"x": 0.7}
    assert trials[-1].system_attrs["retry_of"] == number
    again = storage.claim_trial(sid, worker="w")
    assert again == trials[-1].number
    assert storage.fail_trial(sid, again, error="lost again", retries=1)
    assert storage.count_trials(sid) == {"FAIL": 2}  # its retries are spent
    with pytest.raises(TrialError, match="no trial number 9"):
        storage.fail_trial(sid, 9, error="?", retries=0)


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("x" * 10_000, "has 10000 characters: expected at most 255"),
        ("a\x00b", "control character '\\\\x00' at position 1"),
        ("two\nlines", "control character '\\\\n'"),
        ("tab\there", "control character '\\\\t'"),
        ("", "expected a non-empty string"),
        ("   ", "expected a non-empty string"),
    ],
)
def test_study_names_follow_one_rule_on_every_backend(
    storage: Storage, name: str, rule: str
) -> None:
    with pytest.raises(StudyError, match=rule) as caught:
        storage.create_study(name, directions=["minimize"], space=None, settings={})
    assert len(str(caught.value)) < 200  # the value is shortened in the message
    assert storage.list_studies() == []
    with pytest.raises(StudyNotFoundError):
        storage.get_study(name)


def test_a_study_name_of_the_longest_length_is_stored(storage: Storage) -> None:
    name = "é" * MAX_STUDY_NAME_LENGTH
    storage.create_study(name, directions=["minimize"], space=None, settings={})
    assert storage.get_study(name).name == name
    assert [s.name for s in storage.list_studies()] == [name]


def test_a_read_only_storage_refuses_every_write(storage_url: str) -> None:
    storage = open_storage(storage_url, read_only=True)
    assert storage.read_only and storage.list_studies() == []
    with pytest.raises(StorageError, match="opened read-only"):
        storage.create_study("s", directions=["minimize"], space=None, settings={})
    with pytest.raises(StorageError, match="opened read-only"):
        storage.set_study_attr(1, "k", 1)
    with pytest.raises(StorageError, match="opened read-only"):
        storage.heartbeat(1, [0])


def test_constraints_are_stored_and_replayed(storage: Storage, storage_url: str) -> None:
    sid = _study(storage)
    n0 = storage.create_trial(sid, state=TrialState.RUNNING)
    storage.finish_trial(sid, n0, state=TrialState.COMPLETE, values=[1.0], constraints=[0.5, -2.0])
    n1 = storage.create_trial(sid, state=TrialState.RUNNING)
    storage.finish_trial(sid, n1, state=TrialState.COMPLETE, values=[2.0])  # none told
    readers = [storage]
    if not storage_url.startswith("memory"):  # another process's view of the same store
        readers.append(open_storage(storage_url))
    for reader in readers:
        first, second = _replay(reader, sid).trials()
        assert first.constraints == (0.5, -2.0)
        assert not first.feasible and first.violation == 0.5
        assert second.constraints is None and second.feasible
    finished = [e for e in storage.read_events(sid) if e.kind == "finished"]
    assert finished[0].payload["constraints"] == [0.5, -2.0]
    assert "constraints" not in finished[1].payload  # a study without them logs as before
