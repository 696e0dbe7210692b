"""``tuneful plot``: a stored study (or several) drawn to HTML, PNG or SVG, read-only."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import tuneful
from tuneful.cli.plot import KINDS as CLI_KINDS
from tuneful.viz.study import KINDS

SPACE = tuneful.Space(
    x=tuneful.Float(-2.0, 2.0),
    kind=tuneful.Categorical(["a", "b"]),
    scale=tuneful.Float(0.1, 10.0, log=True, when={"kind": "b"}),
)


def objective(trial: tuneful.Trial) -> float:
    value = trial.params["x"] ** 2 + trial.params.get("scale", 0.0)
    for step in range(1, 4):
        trial.report(step=step, value=value + 1 / step)
    return value


@pytest.fixture
def storage(tmp_path: Path) -> str:
    """Studies 'one' and 'two' (curves, pruned by the median rule) and a two-objective 'mo'."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    for name, seed in (("one", 1), ("two", 2)):
        study = tuneful.create_study(name, space=SPACE, storage=url, seed=seed, scheduler="median")
        study.optimize(objective, n_trials=15, show_progress_bar=False)
    mo = tuneful.create_study(
        "mo", space=SPACE, directions=["minimize", "maximize"], storage=url, seed=4
    )
    mo.optimize(lambda t: (t.params["x"] ** 2, t.params["x"]), n_trials=10, show_progress_bar=False)
    return url


def test_kinds_of_the_command_are_the_plot_kinds() -> None:
    assert CLI_KINDS == KINDS


@pytest.mark.parametrize(
    "kind", ["history", "parallel", "slice", "contour", "curves", "edf", "timeline"]
)
def test_plot_writes_a_png(
    kind: str, cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    out = tmp_path / f"{kind}.png"
    result = cli("plot", "one", "--storage", storage, "--kind", kind, "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout and "Wrote the" in result.stdout
    image = Image.open(out).convert("RGB")
    assert len(image.getcolors(maxcolors=1 << 24) or ()) > 50


def test_plot_html_works_offline_and_compares_studies(
    cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    out = tmp_path / "history.html"
    result = cli("plot", "one", "two", "--storage", storage, "--kind", "history", "-o", str(out))
    assert result.returncode == 0, result.stderr
    html = out.read_text()
    assert "one: best so far" in html and "two: best so far" in html
    assert '<script src="http' not in html and len(html) > 1_000_000


def test_plot_pareto_svg_with_objectives(
    cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    out = tmp_path / "front.svg"
    result = cli(
        "plot",
        "mo",
        "--storage",
        storage,
        "--kind",
        "pareto",
        "--objectives",
        "0,1",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in out.read_text()


def test_plot_contour_params(cli: Callable[..., Any], storage: str, tmp_path: Path) -> None:
    out = tmp_path / "c.png"
    args = ("plot", "one", "--storage", storage, "--kind", "contour", "-o", str(out))
    assert cli(*args, "--params", "x,scale").returncode == 0


def test_plot_does_not_write_to_the_storage(
    cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    path = Path(storage.removeprefix("sqlite:///"))
    before = path.read_bytes()
    result = cli(
        "plot", "one", "--storage", storage, "--kind", "edf", "-o", str(tmp_path / "e.svg")
    )
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before
    sqlite3.connect(path).close()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (("--kind", "histroy", "-o", "x.png"), ("'histroy' is not one of",)),
        (("--kind", "history", "-o", "x.pdf"), ("must end in .html, .png or .svg", "'.pdf'")),
        (("--kind", "contour", "--params", "x,nope", "-o", "x.png"), ("'nope'", "not parameters")),
        (("--kind", "contour", "--params", "x", "-o", "x.png"), ("exactly two",)),
        (("--kind", "history", "--params", "x", "-o", "x.png"), ("takes no params",)),
        (("--kind", "pareto", "-o", "x.png"), ("one objective",)),
        (("--kind", "slice", "--objective", "3", "-o", "x.png"), ("objective=3 is out of range",)),
        (("--kind", "pareto", "--objectives", "0,a", "-o", "x.png"), ("--objectives",)),
    ],
)
def test_plot_bad_input_is_one_clear_line(
    args: tuple[str, ...],
    fragments: tuple[str, ...],
    cli,
    storage: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("plot", "one", "--storage", storage, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr
    assert not list(tmp_path.glob("x.*"))


def test_plot_unknown_study_and_cannot_compare(cli, storage: str, tmp_path: Path) -> None:
    result = cli("plot", "nope", "--storage", storage, "--kind", "history", "-o", "x.png")
    assert result.returncode == 2 and "no study named 'nope'" in result.stderr
    result = cli("plot", "one", "two", "--storage", storage, "--kind", "slice", "-o", "x.png")
    assert result.returncode == 2 and "one study at a time" in result.stderr
