"""The dashboard in a real headless Chromium: what a person sees, live updates included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dashboard_browser import browser, chromium_missing, served, wait_until, watch
from dashboard_studies import HOSTILE_ERROR, HOSTILE_NAME, write_trial

import tuneful
from tuneful.storage import open_storage

_MISSING = chromium_missing()
if _MISSING and os.environ.get("TUNEFUL_REQUIRE_BROWSER"):
    raise RuntimeError(f"the browser tests must run here (TUNEFUL_REQUIRE_BROWSER): {_MISSING}")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(_MISSING is not None, reason=str(_MISSING)),
]
WAIT_MS = 15_000


@pytest.fixture
def page(storage_url: str, tmp_path: Path) -> Iterator[Any]:
    with served(storage_url) as dashboard, browser(tmp_path / "profile") as context:
        watched = watch(context.new_page())
        watched.page.goto(dashboard.url)
        watched.page.wait_for_selector("tr[data-study]", timeout=WAIT_MS)
        yield watched
        assert watched.problems == []


def test_the_page_lists_the_studies_with_no_error(page: Any) -> None:
    names = page.page.locator("tr[data-study] td:nth-child(2)").all_inner_texts()
    assert names == ["single", HOSTILE_NAME]  # the markup in the name shown as text
    assert page.page.locator("main img").count() == 0
    assert page.page.locator("tr[data-study='single'] td").nth(3).inner_text() == "31"


def test_a_trial_opens_with_its_details_and_its_error_as_text(page: Any) -> None:
    p = page.page
    p.click("text=single")
    p.wait_for_selector("tr.row[data-number='3']", timeout=WAIT_MS)
    p.click("tr.row[data-number='3']")
    p.wait_for_selector("aside.detail h2", timeout=WAIT_MS)
    detail = p.locator("aside.detail").inner_text()
    assert "Trial 3" in detail and "PRUNED" in detail
    assert "worse than the median of rung 0" in detail and "tpe" in detail
    assert "null" not in detail and "undefined" not in detail  # no missing part shown as text
    p.wait_for_selector("aside.detail .curve .main-svg", timeout=WAIT_MS)
    p.click("tr.row[data-number='7']")
    p.wait_for_selector("aside.detail pre.error-box", timeout=WAIT_MS)
    assert p.locator("aside.detail pre.error-box").inner_text() == HOSTILE_ERROR
    assert p.evaluate("window.pwned") is None  # the stored script never ran


def test_the_table_sorts_and_filters_on_the_server(page: Any) -> None:
    p = page.page
    p.goto(page.page.url.split("#")[0] + "#/study/single")
    p.wait_for_selector("tr.row", timeout=WAIT_MS)
    p.locator("label.check", has_text="FAIL").locator("input").check()
    wait_until(p, "document.querySelectorAll('tr.row').length === 3", WAIT_MS)
    states = p.locator("tr.row .state").all_inner_texts()
    assert states == ["FAIL"] * 3
    assert "of 3 (filtered from 31)" in p.locator(".pager").inner_text()


def test_importance_draws_its_bars_for_either_method(page: Any) -> None:
    p = page.page
    p.goto(page.page.url.split("#")[0] + "#/study/single/importance")
    p.wait_for_selector(".figure .main-svg", timeout=WAIT_MS)
    p.locator("h3", has_text="Pairs").wait_for(timeout=WAIT_MS)  # fANOVA measures pairs
    p.select_option("select[aria-label='method']", "ped-anova")
    p.locator("h3", has_text="Pairs").wait_for(state="detached", timeout=WAIT_MS)
    p.locator("ul.notes li").first.wait_for(timeout=WAIT_MS)
    title = p.evaluate("document.querySelector('.figure').layout.title.text")
    assert title.startswith("ped-anova")
    shown = p.locator("section").inner_text()
    assert "null" not in shown and "undefined" not in shown  # no missing part shown as text
    bars = p.evaluate("document.querySelector('.figure').data[0].y")
    assert set(bars) == {"x", "lr", "opt"}


def test_a_plot_renders_with_data(page: Any) -> None:
    p = page.page
    p.goto(page.page.url.split("#")[0] + "#/study/single/plots")
    p.wait_for_selector(".figure .main-svg", timeout=WAIT_MS)
    traces = p.evaluate("document.querySelector('.figure').data.length")
    points = p.evaluate(
        "document.querySelector('.figure').data"
        ".reduce((n, t) => n + ((t.x || t.y || t.values || []).length || 0), 0)"
    )
    assert traces >= 1 and points >= 1


def test_a_trial_told_while_the_page_is_open_appears_without_a_reload(
    page: Any, storage_url: str
) -> None:
    p = page.page
    p.click("text=single")
    p.wait_for_selector("tr.row[data-number='30']", timeout=WAIT_MS)
    p.evaluate("window.__stillThisPage = true")
    writer = open_storage(storage_url)
    number = write_trial(
        writer, writer.get_study("single").id, {"x": 1.0, "lr": 0.1, "opt": "adam"}, values=[0.0]
    )
    writer.close()
    p.wait_for_selector(f"tr.row[data-number='{number}']", timeout=WAIT_MS)
    assert p.evaluate("window.__stillThisPage") is True
    assert "best 0" in p.locator(".summary").inner_text()


def test_several_studies_compare_on_one_figure(page: Any, storage_url: str) -> None:
    p = page.page
    p.locator("tr[data-study] input[type=checkbox]").nth(0).check()
    p.locator("tr[data-study] input[type=checkbox]").nth(1).check()
    p.click("text=Compare selected")
    p.wait_for_selector(".figure .main-svg", timeout=WAIT_MS)
    assert "Compare 2 studies" in p.locator("h1").inner_text()


def test_with_a_token_required_the_page_without_it_is_refused(
    storage_url: str, tmp_path: Path
) -> None:
    with (
        served(storage_url, token="let-me-in") as dashboard,
        browser(tmp_path / "profile") as context,
    ):
        p = context.new_page()
        bare = dashboard.url.split("?")[0]
        refused = p.goto(bare)
        assert refused is not None and refused.status == 401
        assert "single" not in p.content()
        p.goto(dashboard.url)  # the address the server printed, token included
        p.wait_for_selector("tr[data-study]", timeout=WAIT_MS)
        assert "token" not in p.url  # moved to an HttpOnly cookie
        assert p.evaluate("document.cookie") == ""


def test_a_constrained_study_shows_which_trials_are_feasible(page: Any, storage_url: str) -> None:
    study = tuneful.create_study(
        "constrained",
        space=tuneful.Space(x=tuneful.Float(0, 1)),
        storage=storage_url,
        optimizer="random",
    )
    for value, constraints in ((3.0, [-1.0, 0.0]), (0.5, [2.0, 0.5]), (1.0, [0.0, -2.0])):
        study.tell(study.ask(), value, constraints=constraints)
    p = page.page
    p.goto(p.url.split("#")[0] + "#/study/constrained")
    p.wait_for_selector("tr.row[data-number='2']", timeout=WAIT_MS)
    headers = p.locator("table.grid th").all_inner_texts()
    assert "feasible" in headers
    cells = p.locator("tr.row td.feasible, tr.row td.infeasible").all_inner_texts()
    assert sorted(cells) == ["no (2.5)", "yes", "yes"]
    summary = p.locator(".summary").inner_text()
    assert "best 1" in summary and "feasible 2 of 3 complete" in summary
    p.click("tr.row[data-number='1']")
    p.wait_for_selector("aside.detail h2", timeout=WAIT_MS)
    detail = p.locator("aside.detail").inner_text()
    assert "constraints (<= 0 satisfied)" in detail and "no (violation 2.5)" in detail
