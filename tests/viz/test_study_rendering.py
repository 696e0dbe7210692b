"""Every plot kind drawn both ways: the PNG exists and is not blank, the SVG is an SVG, the
HTML page carries plotly.js inside it (no script from the network); large studies are
sampled and say so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tuneful.analysis.importance import Importance
from tuneful.analysis.trials import StudyData
from tuneful.errors import StudyError
from tuneful.viz.study import KINDS, StudyFigure, plot

_SCRIPT_FROM_NETWORK = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']?(https?:)?//", re.I)


def _figure(kind: str, request: pytest.FixtureRequest) -> StudyFigure:
    get = request.getfixturevalue
    if kind == "importance":
        made = Importance(
            "fanova",
            "conditional",
            0,
            ("lr", "layers"),
            {"lr": 0.7, "layers": 0.1},
            {"lr": 0.05, "layers": 0.02},
            n_trials=53,
        )
        return plot(kind, get("conditional"), importance=made)
    multi = {"pareto": "tri_objective", "hypervolume": "bi_objective"}
    study = {"curves": "pruned", **multi}.get(kind, "conditional")
    return plot(kind, get(study))


def _not_blank(path: Path) -> None:
    image = Image.open(path).convert("RGB")
    assert image.width > 300 and image.height > 200
    colours = len(image.getcolors(maxcolors=1 << 24) or ())
    assert colours > 50, f"{path.name}: {colours} distinct colours, the image looks blank"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_saves_png_svg_and_offline_html(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    figure = _figure(kind, request)
    png = figure.save(tmp_path / f"{kind}.png")
    _not_blank(png)
    svg = (figure.save(tmp_path / f"{kind}.svg")).read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    html = figure.save(tmp_path / f"{kind}.html").read_text()
    assert len(html) > 1_000_000  # plotly.js itself is in the page
    assert "plotly.js" in html and not _SCRIPT_FROM_NETWORK.search(html)
    spec = json.loads(figure.to_json())
    assert spec["data"] and spec["layout"]["title"]["text"] == figure.title


def test_pareto_two_objectives_and_curves_median_render(
    bi_objective: StudyData, median_pruned: StudyData, tmp_path: Path
) -> None:
    _not_blank(plot("pareto", bi_objective).save(tmp_path / "pareto2.png"))
    _not_blank(plot("curves", median_pruned).save(tmp_path / "curves.png"))
    _not_blank(plot("parallel", median_pruned).save(tmp_path / "parallel.png"))


def test_define_by_run_study_renders_every_parameter_kind(
    define_by_run: StudyData, tmp_path: Path
) -> None:
    for kind in ("history", "parallel", "slice", "contour", "edf", "timeline"):
        _not_blank(plot(kind, define_by_run).save(tmp_path / f"{kind}.png"))


def test_save_refuses_another_suffix(conditional: StudyData, tmp_path: Path) -> None:
    with pytest.raises(StudyError, match=r"must end in \.html, \.png or \.svg \(got '\.pdf'\)"):
        plot("history", conditional).save(tmp_path / "history.pdf")
    assert not (tmp_path / "history.pdf").exists()


def test_notes_are_drawn_on_both_renderers(conditional: StudyData) -> None:
    figure = plot("history", conditional, max_trials=10)
    (note,) = [n for n in figure.notes if n.startswith("showing")]
    annotations = [a["text"] for a in figure.to_plotly().layout.annotations]
    assert any(note in text for text in annotations)
    texts = [t.get_text() for t in figure.to_matplotlib().texts]
    assert any(note in text for text in texts)


@pytest.fixture(scope="module")
def large(synthetic) -> StudyData:
    return synthetic(20_000)


@pytest.mark.parametrize(
    "kind, cap",
    [
        ("history", 5000),
        ("parallel", 1000),
        ("slice", 2000),
        ("contour", 2000),
        ("curves", 300),
        ("timeline", 2000),
    ],
)
def test_large_study_is_sampled_and_says_so(kind: str, cap: int, large: StudyData) -> None:
    figure = plot(kind, large)
    assert any(note.startswith("showing") and "sampled" in note for note in figure.notes)
    drawn = max(len(t) for t in figure.data.traces if t.kind != "contour")
    assert drawn <= cap * 5  # curves: a few points per curve


def test_large_study_keeps_incumbents_and_failures(large: StudyData) -> None:
    history = plot("history", large, max_trials=500)
    dots = set(history.data.trace("complete").numbers)
    best = history.data.trace("best so far")
    assert set(best.x[:-1].astype(int)) <= dots
    timeline = plot("timeline", large, max_trials=800)
    failed = sum(t.state.value == "FAIL" for t in large.trials)
    assert len(timeline.data.trace("failed")) == failed
    curves = plot("curves", large, max_trials=100)
    assert {t.name.split(" ")[0] for t in curves.data.traces} >= {"complete", "pruned", "failed"}


def test_large_study_edf_and_pareto_stay_small(synthetic) -> None:
    figure = plot("edf", synthetic(8_000))
    assert len(figure.data.traces[0]) <= 2000
    pareto = plot("pareto", synthetic(6_000, objectives=2), max_trials=1000)
    assert len(pareto.data.trace("dominated")) == 1000
    front = pareto.data.trace("Pareto front")
    assert np.all(np.isfinite(front.x))
