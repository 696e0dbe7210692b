"""The dashboard's JSON API, through Starlette's test client (no server, no browser)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from dashboard_studies import HOSTILE_ERROR, HOSTILE_NAME, write_trial

from tuneful.dashboard import figures
from tuneful.dashboard.app import create_app
from tuneful.dashboard.live import LiveStorage
from tuneful.errors import StudyError
from tuneful.records import TrialState
from tuneful.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")


@pytest.fixture
def live(storage_url: str) -> Iterator[LiveStorage]:
    storage = LiveStorage(open_storage(storage_url, read_only=True), interval=0.0)
    yield storage
    storage.close()


@pytest.fixture
def client(live: LiveStorage) -> Any:
    return starlette_testclient.TestClient(create_app(live))


def _trials(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get("/api/trials", params={"study": "single", **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_study_list_shows_counts_best_and_last_activity(client: Any) -> None:
    studies = {s["name"]: s for s in client.get("/api/studies").json()["studies"]}
    assert set(studies) == {"single", HOSTILE_NAME}
    single = studies["single"]
    assert single["directions"] == ["minimize"]
    assert single["n_trials"] == 31
    assert single["counts"] == {
        "COMPLETE": 24,
        "PRUNED": 3,
        "FAIL": 3,
        "RUNNING": 1,
        "WAITING": 0,
    }
    completed = [(-5.0 + 10.0 * i / 29 - 1.0) ** 2 for i in range(30) if i % 10 not in (3, 7)]
    assert single["best"] == [pytest.approx(min(completed))]
    assert single["last_activity"] is not None
    assert single["params"] == ["x", "lr", "opt"]
    multi = studies[HOSTILE_NAME]
    # minimize x*x, maximize x: only x >= 0 trades one for the other (6 of the 12 points)
    assert multi["best"] is None and multi["pareto_size"] == 6


def test_trial_page_is_sorted_by_value_with_missing_values_last(client: Any) -> None:
    page = _trials(client, sort="value", order="asc", limit=100)
    values = [r["values"][0] for r in page["rows"] if r["values"]]
    assert values == sorted(values)
    assert all(r["values"] is None for r in page["rows"][len(values) :])
    descending = _trials(client, sort="value", order="desc", limit=100)["rows"]
    assert [r["values"][0] for r in descending[: len(values)]] == sorted(values, reverse=True)
    assert descending[-1]["values"] is None


def test_trial_page_sorts_by_a_categorical_parameter(client: Any) -> None:
    rows = _trials(client, sort="param.opt", limit=100)["rows"]
    assert [r["params"]["opt"] for r in rows] == sorted(r["params"]["opt"] for r in rows)


def test_trial_page_filters_by_state_value_range_and_parameter_text(client: Any) -> None:
    pruned = _trials(client, states="PRUNED,FAIL")
    assert pruned["total"] == 6 and {r["state"] for r in pruned["rows"]} == {"PRUNED", "FAIL"}
    ranged = _trials(client, value_min="0", value_max="1")
    assert ranged["total"] >= 1
    assert all(0 <= r["values"][0] <= 1 for r in ranged["rows"])
    low = _trials(client, q="x<0 adam")
    assert low["total"] > 0
    assert all(r["params"]["x"] < 0 and r["params"]["opt"] == "adam" for r in low["rows"])
    assert low["n_trials"] == 31


def test_trial_pages_cover_every_trial_once(client: Any) -> None:
    seen = []
    for offset in range(0, 40, 7):
        page = _trials(client, offset=offset, limit=7, sort="number")
        seen += [r["number"] for r in page["rows"]]
    assert seen == list(range(31))


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"states": "DONE"}, "states"),
        ({"value_min": "low"}, "value_min"),
        ({"sort": "colour"}, "sort"),
        ({"order": "up"}, "order"),
        ({"limit": "-3"}, "limit"),
    ],
)
def test_bad_table_query_is_a_400_naming_the_parameter(
    client: Any, params: dict[str, str], named: str
) -> None:
    response = client.get("/api/trials", params={"study": "single", **params})
    assert response.status_code == 400
    assert named in response.json()["error"]


def test_unknown_study_is_a_404_naming_it(client: Any) -> None:
    response = client.get("/api/study", params={"study": "nope"})
    assert response.status_code == 404
    assert "'nope'" in response.json()["error"]


def test_trial_detail_has_curve_attrs_optimizer_and_scheduler_reason(client: Any) -> None:
    detail = client.get("/api/trial", params={"study": "single", "number": 3}).json()
    assert detail["state"] == "PRUNED"
    assert detail["intermediate"] == [
        [0, pytest.approx(detail["intermediate"][0][1])],
        *detail["intermediate"][1:],
    ]
    assert [step for step, _ in detail["intermediate"]] == [0, 1, 2]
    assert detail["optimizer"] == "tpe"
    assert detail["scheduler"]["pruned"]["reason"] == "worse than the median of rung 0"
    assert detail["scheduler"]["rungs"] == [
        {"rung": 0, "passed": False, "rank": 5, "of": 6, "keep": 2}
    ]
    failed = client.get("/api/trial", params={"study": "single", "number": 7}).json()
    assert failed["error"] == HOSTILE_ERROR  # sent as data; the page shows it as text
    complete = client.get("/api/trial", params={"study": "single", "number": 0}).json()
    assert complete["user_attrs"] == {"note": "run 0"}
    missing = client.get("/api/trial", params={"study": "single", "number": 999})
    assert missing.status_code == 404


def test_changes_since_a_version_return_only_the_new_trials(client: Any, storage_url: str) -> None:
    start = client.get("/api/study", params={"study": "single"}).json()
    assert (
        client.get("/api/changes", params={"study": "single", "since": start["version"]}).json()[
            "changed"
        ]
        == []
    )
    writer = open_storage(storage_url)
    study_id = writer.get_study("single").id
    number = write_trial(writer, study_id, {"x": 1.0, "lr": 0.1, "opt": "sgd"}, values=[0.0])
    writer.close()
    changes = client.get(
        "/api/changes", params={"study": "single", "since": start["version"], "run": start["run"]}
    ).json()
    assert changes["reset"] is False
    assert changes["changed"] == [number]
    assert [r["number"] for r in changes["rows"]] == [number]
    assert changes["summary"]["n_trials"] == 32 and changes["summary"]["best"] == [0.0]
    again = client.get(
        "/api/changes", params={"study": "single", "since": changes["version"]}
    ).json()
    assert again["changed"] == [] and again["version"] == changes["version"]


def test_changes_from_another_server_run_ask_for_a_reset(client: Any) -> None:
    version = client.get("/api/study", params={"study": "single"}).json()["version"]
    other = client.get("/api/changes", params={"study": "single", "since": version, "run": "x"})
    assert other.json()["reset"] is True
    ahead = client.get("/api/changes", params={"study": "single", "since": version + 5})
    assert ahead.json()["reset"] is True


def test_new_events_are_read_incrementally_and_at_most_once_per_interval(
    storage_url: str,
) -> None:
    storage = open_storage(storage_url, read_only=True)
    reads: list[int] = []
    original = storage.read_events

    def counting(study_id: int, after: int = 0) -> Any:
        reads.append(after)
        return original(study_id, after)

    storage.read_events = counting  # type: ignore[method-assign]
    now = [0.0]
    live = LiveStorage(storage, interval=1.0, clock=lambda: now[0])
    client = starlette_testclient.TestClient(create_app(live))
    for _ in range(20):  # many pages polling within one interval: one read
        client.get("/api/changes", params={"study": "single", "since": 0})
    assert reads == [0]
    now[0] = 1.5
    client.get("/api/changes", params={"study": "single", "since": 0})
    assert len(reads) == 2 and reads[1] > 0  # only the events after the last one applied
    live.close()


class _FakeFigure:
    def __init__(self, kind: str, studies: Any, params: Any, max_trials: Any) -> None:
        names = [s.name for s in (studies if isinstance(studies, list) else [studies])]
        self.data = SimpleNamespace(notes=(f"drew {kind}",))
        self.payload = {"data": [{"type": "scatter", "name": n} for n in names], "layout": {}}
        self.payload["layout"] = {"meta": {"params": params, "max_trials": max_trials}}

    def to_json(self) -> str:
        return json.dumps(self.payload)


@pytest.fixture
def fake_plots(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A stand-in for ``viz.study`` (its interface): records the kinds drawn."""
    drawn: list[str] = []

    def plot(kind: str, studies: Any, **options: Any) -> _FakeFigure:
        drawn.append(kind)
        if not (studies if isinstance(studies, list) else [studies])[0].trials:
            raise StudyError("nothing to plot")
        return _FakeFigure(kind, studies, options["params"], options["max_trials"])

    fake = SimpleNamespace(
        KINDS=("history", "slice", "edf", "pareto"),
        COMPARING=("history", "edf", "pareto"),
        plot_options=lambda kind: {"params", "max_trials"} if kind == "slice" else {"max_trials"},
        plot=plot,
    )
    monkeypatch.setattr(figures, "_viz", lambda: fake)
    return drawn


def test_plot_json_carries_the_figure_and_its_notes(client: Any, fake_plots: list[str]) -> None:
    body = client.get(
        "/api/plot", params={"study": "single", "kind": "slice", "params": "x,lr"}
    ).json()
    assert body["kind"] == "slice" and body["notes"] == ["drew slice"]
    assert body["figure"]["layout"]["meta"] == {"params": ["x", "lr"], "max_trials": None}
    client.get("/api/plot", params={"study": "single", "kind": "slice", "params": "x,lr"})
    assert fake_plots == ["slice"]  # the same figure of the same version is drawn once
    capped = client.get(
        "/api/plot", params={"study": "single", "kind": "slice", "max_trials": "100"}
    ).json()
    assert capped["figure"]["layout"]["meta"]["max_trials"] == 100
    history = client.get(
        "/api/plot", params={"study": "single", "kind": "history", "params": "x"}
    ).json()
    assert history["figure"]["layout"]["meta"]["params"] is None  # history takes none


def test_plot_compares_several_studies_on_one_figure(client: Any, fake_plots: list[str]) -> None:
    body = client.get(
        "/api/plot", params=[("kind", "edf"), ("study", "single"), ("study", HOSTILE_NAME)]
    ).json()
    assert [trace["name"] for trace in body["figure"]["data"]] == ["single", HOSTILE_NAME]
    refused = client.get(
        "/api/plot", params=[("kind", "slice"), ("study", "single"), ("study", HOSTILE_NAME)]
    )
    assert refused.status_code == 400 and "compare" in refused.json()["error"]


def test_plot_of_an_unknown_kind_is_a_400_listing_the_kinds(
    client: Any, fake_plots: list[str]
) -> None:
    response = client.get("/api/plot", params={"study": "single", "kind": "pie"})
    assert response.status_code == 400
    assert "'pie'" in response.json()["error"] and "history" in response.json()["error"]
    assert client.get("/api/info").json()["kinds"] == ["history", "slice", "edf", "pareto"]


def test_importance_answers_its_result_or_a_clear_message(client: Any) -> None:
    response = client.get("/api/importance", params={"study": "single", "method": "fanova"})
    if response.status_code == 200:
        body = response.json()
        assert body["method"] == "fanova" and {p["name"] for p in body["params"]} <= {
            "x",
            "lr",
            "opt",
        }
    else:  # importance not in this build yet: a message, not a traceback
        assert response.status_code == 400 and response.json()["error"]
    bad = client.get("/api/importance", params={"study": "single", "method": "guess"})
    assert bad.status_code == 400 and "'guess'" in bad.json()["error"]


def test_page_and_its_scripts_are_served_by_the_package(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "static/app.js" in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # no script from elsewhere
    assert "script-src 'self'" in page.headers["content-security-policy"]
    plotly = client.get("/static/plotly.min.js")
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert client.get("/static/../live.py").status_code == 404
    assert client.get("/static/app.css").status_code == 200


def _fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), os.stat(path).st_mtime_ns


def test_the_server_opens_read_only_and_never_writes(storage_url: str, fake_plots: Any) -> None:
    path = Path(storage_url.removeprefix("sqlite:///"))
    before = _fingerprint(path)
    storage = open_storage(storage_url, read_only=True)
    live = LiveStorage(storage, interval=0.0)
    client = starlette_testclient.TestClient(create_app(live))
    for url, params in [
        ("/api/studies", {}),
        ("/api/trials", {"study": "single", "sort": "value"}),
        ("/api/trial", {"study": "single", "number": 3}),
        ("/api/changes", {"study": "single", "since": 0}),
        ("/api/plot", {"study": "single", "kind": "history"}),
        ("/api/importance", {"study": "single"}),
        ("/", {}),
    ]:
        client.get(url, params=params)
    assert live.storage.read_only
    live.close()
    assert _fingerprint(path) == before
    # SQLite's reader of a WAL file may leave an empty -wal and its -shm index: no content
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_writable_storage_is_refused(storage_url: str) -> None:
    storage = open_storage(storage_url)
    with pytest.raises(ValueError, match="read_only=True"):
        LiveStorage(storage)
    storage.close()


def test_a_trial_state_filter_reads_running_trials(client: Any) -> None:
    running = _trials(client, states="running")
    assert [r["state"] for r in running["rows"]] == [TrialState.RUNNING.value]


def test_the_storage_password_is_never_shown() -> None:
    storage = open_storage("memory://", read_only=True)
    storage.url = "postgresql://alice:S3cret@db/hpo"
    client = starlette_testclient.TestClient(create_app(LiveStorage(storage)))
    info = client.get("/api/info")
    assert info.json()["storage"] == "postgresql://alice:***@db/hpo"
    assert "S3cret" not in info.text and "S3cret" not in client.get("/").text


@pytest.mark.parametrize("kind", figures.kinds())
def test_every_plot_kind_of_viz_is_served_as_plotly_json(client: Any, kind: str) -> None:
    study = HOSTILE_NAME if kind in ("pareto", "hypervolume") else "single"
    response = client.get("/api/plot", params={"study": study, "kind": kind})
    if response.status_code == 400 and "not written yet" in response.json()["error"]:
        pytest.skip(f"{kind}: importance is not in this build")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == kind and body["figure"]["data"], body
    assert isinstance(body["notes"], list)
