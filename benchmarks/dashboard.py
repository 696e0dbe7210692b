"""How the dashboard copes with a big study: its API's times and the page's first paint.

Builds (once) an SQLite file holding a study of ``--trials`` trials (default 50,000: 4
parameters, 85 % completed, 10 % pruned with a learning curve and the scheduler's reason,
5 % failed), written through the storage API (``create_trial`` / ``append`` /
``finish_trial``, about 0.4 ms a trial), not by running an optimizer. Then serves it on a
free loopback port and times, over HTTP:

- the first look at the study (its replica built from every event) and the study list;
- a page of the trial table: by number, sorted by value, filtered on a parameter (first and
  repeated: the sorted order is kept until the study changes);
- a poll that finds nothing new, and the poll and page after 10 new trials are told;
- each plot kind (when ``tuneful.viz.study`` is installed), at its default trial cap;
- and, when Chromium is at /usr/bin/chromium (with the playwright package), the page's first
  paint of the study's table on a fresh server, and how long a trial told while the page is
  open takes to appear (the page polls each second; the server reads new events at most every
  half second).

With ``--screenshots DIR`` it instead runs two small real studies (TPE with the median
scheduler on a learning-curve task; a two-objective one) and saves the main views of the page
at a desktop size into ``DIR/dashboard-*.png`` (the pictures of docs/dashboard.md).

Usage::

    python benchmarks/dashboard.py                     # 50,000 trials in /tmp
    python benchmarks/dashboard.py --trials 5000 --file /tmp/small.db
    python benchmarks/dashboard.py --screenshots docs/images
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

import tuneful
from tuneful.dashboard import figures
from tuneful.dashboard.server import Dashboard, prepare
from tuneful.records import TrialState
from tuneful.storage import Storage, open_storage

SPACE = tuneful.Space(
    x=tuneful.Float(-5.0, 5.0),
    y=tuneful.Float(-5.0, 5.0),
    lr=tuneful.Float(1e-5, 1.0, log=True),
    opt=tuneful.Categorical(["adam", "sgd", "rmsprop"]),
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _value(params: dict[str, Any]) -> float:
    return (params["x"] - 1) ** 2 + 0.5 * params["y"] ** 2 + abs(math.log10(params["lr"]) + 3)


def _write_trial(storage: Storage, study_id: int, rng: random.Random) -> None:
    params = {
        "x": rng.uniform(-5, 5),
        "y": rng.uniform(-5, 5),
        "lr": 10 ** rng.uniform(-5, 0),
        "opt": rng.choice(["adam", "sgd", "rmsprop"]),
    }
    value = _value(params)
    number = storage.create_trial(
        study_id,
        state=TrialState.RUNNING,
        params=params,
        system_attrs={"optimizer": rng.choice(["sobol", "tpe", "gp"])},
        worker=f"worker-{rng.randrange(8)}",
    )
    roll = rng.random()
    if roll < 0.10:
        for step in range(3):
            storage.append(study_id, number, "reported", {"step": step, "value": value + 3 - step})
        pruned = {"step": 2, "rung": 0, "reason": "worse than the median of rung 0"}
        storage.append(study_id, number, "system_attr", {"key": "pruned", "value": pruned})
        storage.finish_trial(study_id, number, state=TrialState.PRUNED)
    elif roll < 0.15:
        storage.finish_trial(
            study_id, number, state=TrialState.FAIL, error="RuntimeError: out of memory"
        )
    else:
        storage.finish_trial(study_id, number, state=TrialState.COMPLETE, values=[value])


def build(path: Path, trials: int) -> float:
    """Write the study into ``path`` (skipped when it is there); seconds taken."""
    if path.exists():
        return 0.0
    started = time.perf_counter()
    storage = open_storage(f"sqlite:///{path}")
    tuneful.create_study("big", space=SPACE, storage=storage, seed=0)
    tuneful.create_study("small", space=SPACE, storage=storage, seed=0)
    rng = random.Random(0)
    big, small = storage.get_study("big").id, storage.get_study("small").id
    for _ in range(trials):
        _write_trial(storage, big, rng)
    for _ in range(200):
        _write_trial(storage, small, rng)
    storage.close()
    return time.perf_counter() - started


def _timed(call: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Median wall time in milliseconds over ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


class _Served:
    def __init__(self, url: str) -> None:
        self.dashboard: Dashboard = prepare(url, port=0)
        ready = threading.Event()
        self.thread = threading.Thread(
            target=self.dashboard.serve, kwargs={"on_started": ready.set}
        )
        self.thread.start()
        ready.wait(30)
        self.http = httpx.Client(base_url=self.dashboard.url.rstrip("/"), timeout=600)

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.http.close()
        self.dashboard.stop()
        self.thread.join(30)


def api_times(url: str, writer_url: str) -> list[tuple[str, float]]:
    served = _Served(url)
    rows: list[tuple[str, float]] = []
    try:
        rows.append(
            (
                "first look at the study (replica from every event)",
                _timed(lambda: served.get("/api/study", study="big"))[0],
            )
        )
        rows.append(("study list (2 studies)", _timed(lambda: served.get("/api/studies"), 5)[0]))
        page = {"study": "big", "limit": 50}
        rows.append(
            (
                "table page by number, first",
                _timed(lambda: served.get("/api/trials", **page, order="desc"))[0],
            )
        )
        rows.append(
            (
                "table page sorted by value, first",
                _timed(lambda: served.get("/api/trials", **page, sort="value"))[0],
            )
        )
        rows.append(
            (
                "table page sorted by value, again (kept order)",
                _timed(lambda: served.get("/api/trials", **page, sort="value", offset=500), 5)[0],
            )
        )
        rows.append(
            (
                "table page filtered `x<0 adam` sorted by lr",
                _timed(lambda: served.get("/api/trials", **page, q="x<0 adam", sort="param.lr"))[0],
            )
        )
        rows.append(
            (
                "trial details",
                _timed(lambda: served.get("/api/trial", study="big", number=1234), 5)[0],
            )
        )
        version = served.get("/api/study", study="big")["version"]
        time.sleep(0.6)
        rows.append(
            (
                "poll, nothing new",
                _timed(lambda: served.get("/api/changes", study="big", since=version), 5)[0],
            )
        )
        writer = open_storage(writer_url)
        rng = random.Random(1)
        for _ in range(10):
            _write_trial(writer, writer.get_study("big").id, rng)
        writer.close()
        time.sleep(0.6)
        rows.append(
            (
                "poll after 10 new trials",
                _timed(lambda: served.get("/api/changes", study="big", since=version))[0],
            )
        )
        rows.append(
            (
                "table page after the change (sorted by value)",
                _timed(lambda: served.get("/api/trials", **page, sort="value"))[0],
            )
        )
        for kind in figures.kinds():
            if kind == "pareto":
                continue  # one objective
            ms, body = _timed(
                lambda k=kind: served.http.get("/api/plot", params={"study": "big", "kind": k})
            )
            note = "" if body.status_code == 200 else f" ({body.status_code})"
            rows.append((f"plot `{kind}`, first{note}", ms))
    finally:
        served.close()
    return rows


def browser_times(url: str, writer_url: str, profile: Path) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    served = _Served(url)  # a fresh server: the first paint pays for reading the study
    rows = []
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1400, "height": 900},
            )
            page = context.new_page()
            started = time.perf_counter()
            page.goto(served.dashboard.url + "#/study/big")
            page.wait_for_selector("tr.row", timeout=600_000)
            rows.append(
                (
                    "page: first paint of the study's table (fresh server)",
                    (time.perf_counter() - started) * 1000,
                )
            )
            page.goto(served.dashboard.url + "#/")
            started = time.perf_counter()
            page.goto(served.dashboard.url + "#/study/big")
            page.wait_for_selector("tr.row", timeout=60_000)
            rows.append(
                (
                    "page: the study's table again (server warm)",
                    (time.perf_counter() - started) * 1000,
                )
            )
            writer = open_storage(writer_url)
            study_id = writer.get_study("big").id
            started = time.perf_counter()
            _write_trial(writer, study_id, random.Random(2))
            number = sum(writer.count_trials(study_id).values()) - 1
            writer.close()
            page.wait_for_selector(f"tr.row[data-number='{number}']", timeout=60_000)
            rows.append(
                (
                    "page: a new trial shown after it is told (poll 1 s)",
                    (time.perf_counter() - started) * 1000,
                )
            )
            context.close()
    finally:
        served.close()
    return rows


def _curve_task(trial: tuneful.Trial) -> float:
    """A training run's loss falling with the epochs, worse far from a good region."""
    p = trial.params
    floor = 0.05 + 0.3 * (math.log10(p["lr"]) + 2.5) ** 2 + (0.15 if p["opt"] == "sgd" else 0)
    floor += 0.02 * abs(p["layers"] - 4) + (0.4 if p["dropout"] > 0.6 else 0.1 * p["dropout"])
    if p["lr"] > 0.3 and p["opt"] == "sgd":
        raise FloatingPointError("loss became NaN at epoch 3 (learning rate too high for sgd)")
    loss = 0.0
    for epoch in range(12):
        loss = floor + 2.0 * math.exp(-0.35 * (epoch + 1) * (1 + 10 * p["lr"]))
        trial.report(step=epoch, value=loss)
    trial.set_user_attr("epochs", 12)
    return loss


def demo_storage(path: Path) -> str:
    """Two small real studies, as a person would run them, in ``path``."""
    url = f"sqlite:///{path}"
    space = tuneful.Space(
        lr=tuneful.Float(1e-5, 1.0, log=True),
        opt=tuneful.Categorical(["adam", "sgd"]),
        layers=tuneful.Int(1, 8),
        dropout=tuneful.Float(0.0, 0.8),
    )
    for name, seed in (("mlp-lr-sweep", 0), ("mlp-lr-sweep-rerun", 1)):
        study = tuneful.create_study(
            name, space=space, storage=url, optimizer="tpe", scheduler="median", seed=seed
        )
        study.optimize(_curve_task, n_trials=80, show_progress_bar=False, fail_fast=False)
    both = tuneful.create_study(
        "accuracy-vs-latency",
        space=tuneful.Space(width=tuneful.Int(16, 512, log=True), depth=tuneful.Int(1, 12)),
        directions=["maximize", "minimize"],
        storage=url,
        seed=0,
    )
    both.optimize(
        lambda t: (
            1 - 1 / math.sqrt(t.params["width"] * t.params["depth"]),
            0.02 * t.params["width"] * t.params["depth"] ** 0.5,
        ),
        n_trials=60,
        show_progress_bar=False,
    )
    return url


def screenshots(folder: Path) -> None:
    """The page's main views, saved as ``folder/dashboard-*.png``."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        served = _Served(demo_storage(Path(work) / "demo.db"))
        base = served.dashboard.url
        try:
            with sync_playwright() as playwright:
                context = playwright.chromium.launch_persistent_context(
                    str(Path(work) / "profile"),
                    executable_path=CHROMIUM,
                    args=CHROMIUM_ARGS,
                    headless=True,
                    viewport={"width": 1440, "height": 1000},
                )
                page = context.new_page()
                page.goto(base)
                page.wait_for_selector("tr[data-study]")
                page.screenshot(path=folder / "dashboard-studies.png")
                page.goto(base + "#/study/mlp-lr-sweep/plots")
                page.wait_for_selector(".figure .main-svg")
                page.wait_for_timeout(500)
                page.screenshot(path=folder / "dashboard-plot.png", full_page=True)
                stopped = served.get("/api/trials", study="mlp-lr-sweep", states="PRUNED")
                latest = max(stopped["rows"], key=lambda row: (row["pruned_step"], row["number"]))
                page.goto(base + f"#/study/mlp-lr-sweep/trial/{latest['number']}")
                page.wait_for_selector("tr.row")
                page.locator("label.check", has_text="PRUNED").locator("input").check()
                page.click("th.sortable >> text=#")  # oldest first: the trial is near the top
                page.wait_for_selector(f"tr.row.open[data-number='{latest['number']}']")
                page.wait_for_selector("aside.detail .curve .main-svg")
                page.wait_for_timeout(500)
                page.screenshot(path=folder / "dashboard-trial.png")
                page.goto(base + "#/compare/history/mlp-lr-sweep/mlp-lr-sweep-rerun")
                page.wait_for_selector(".figure .main-svg")
                page.wait_for_timeout(500)
                page.screenshot(path=folder / "dashboard-compare.png", full_page=True)
                context.close()
        finally:
            served.close()
    print(f"saved the screenshots in {folder}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50_000)
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--screenshots", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    if args.screenshots is not None:
        screenshots(args.screenshots)
        return
    path = args.file or Path(tempfile.gettempdir()) / f"tuneful-dashboard-{args.trials}.db"
    built = build(path, args.trials)
    if built:
        print(f"built {args.trials} trials into {path} in {built:.1f} s", file=sys.stderr)
    url = f"sqlite:///{path}"
    rows = api_times(url, url)
    if os.path.exists(CHROMIUM):
        with tempfile.TemporaryDirectory() as profile:
            rows += browser_times(url, url, Path(profile))
    else:
        print(f"no Chromium at {CHROMIUM}: the page's times are left out", file=sys.stderr)
    print(f"\n{args.trials} trials ({path.stat().st_size / 1e6:.0f} MB SQLite file)\n")
    print("| what | ms |\n|---|---:|")
    for what, ms in rows:
        print(f"| {what} | {ms:,.0f} |")


if __name__ == "__main__":
    main()
