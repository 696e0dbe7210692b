"""The Markdown report and its figures, on a small synthetic benchmark."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from tuneful.bench import report
from tuneful.bench.report import write_report
from tuneful.bench.results import Run
from tuneful.bench.tables import escape_cell, format_number, format_table
from tuneful.errors import MissingDependencyError
from tuneful.viz import bench as plots


def synthetic_runs(optimizers=("auto", "random", "tpe|v2"), tasks=("bbob/f1/d2", "toy")):
    runs = []
    for o, name in enumerate(optimizers):
        for t, task in enumerate(tasks):
            for seed in range(3):
                rng = np.random.default_rng(100 * o + 10 * t + seed)
                losses = rng.random(12) + 0.3 * o
                losses[2] = np.nan
                meta = {
                    "optimizer": {
                        "name": name,
                        "package": "optuna" if name.startswith("tpe") else None,
                        "version": "4.1.0",
                        "settings": {"n_startup_trials": 5} if o == 2 else {},
                        "defaults": o != 2,
                    },
                    "task": {"dim": 2},
                }
                runs.append(
                    Run(
                        name,
                        task,
                        seed,
                        losses,
                        np.full(12, 0.5),
                        optimum=0.0 if t == 0 else None,
                        budget=6.0,
                        meta=meta,
                    )
                )
    return runs


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("|")]


def cell_count(row: str) -> int:
    """Cells of one table row, not counting escaped pipes."""
    return len(re.split(r"(?<!\\)\|", row)) - 2


def test_format_table_escapes_pipes_and_checks_widths() -> None:
    table = format_table(
        ["name", "value"], [["a|b", 1], ["two\nlines", 2.5]], align=["left", "right"]
    )
    lines = table.splitlines()
    assert lines[0] == "| name | value |"
    assert lines[1] == "|---|---:|"
    assert lines[2] == "| a\\|b | 1 |"
    assert lines[3] == "| two lines | 2.5 |"
    with pytest.raises(ValueError, match="cells"):
        format_table(["a", "b"], [[1]])
    with pytest.raises(ValueError, match="align"):
        format_table(["a"], [[1]], align=["middle"])
    assert escape_cell("x|y|z") == "x\\|y\\|z"
    assert format_number(float("nan")) == "—"
    assert format_number(0.012345) == "0.0123"


def test_report_without_figures(tmp_path: Path) -> None:
    path = write_report(synthetic_runs(), tmp_path / "out", baseline="random", plots=False)
    assert path == tmp_path / "out" / "report.md"
    text = path.read_text()
    assert not list((tmp_path / "out").rglob("*.png"))
    assert "Figures were not drawn" in text
    assert text.startswith("# Benchmark report")
    # what was compared: optimizers with package, version and settings; tasks; seeds
    assert (
        "| tpe\\|v2 | tpe\\|v2 | optuna | 4.1.0 | `n_startup_trials=5` | no | 6 | 6 / 72 |" in text
    )
    assert "seeds 0, 1, 2" in text
    assert "| bbob/f1/d2 | 9 | 3 | 6 | 0 |" in text
    for heading in (
        "## Ranking across tasks",
        "Friedman test over N = 2 tasks and k = 3 optimizers",
        "Nemenyi post-hoc test: critical difference CD =",
        "## Final normalized regret per task",
        "## Win / tie / loss against random",
        "## Anytime performance",
    ):
        assert heading in text
    # every table row has as many cells as its header
    rows = table_rows(text)
    assert rows
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    for table in (t for t in tables if t):
        widths = {cell_count(row) for row in table}
        assert len(widths) == 1, table
    # the best mean per task is bold
    assert re.search(r"\| bbob/f1/d2 \| \*\*", text)


def test_report_is_deterministic(tmp_path: Path) -> None:
    first = write_report(synthetic_runs(), tmp_path / "a", baseline="auto", plots=False)
    second = write_report(synthetic_runs(), tmp_path / "b", baseline="auto", plots=False)
    assert first.read_text() == second.read_text()


def test_report_with_two_optimizers_says_friedman_does_not_apply(tmp_path: Path) -> None:
    text = write_report(
        synthetic_runs(optimizers=("auto", "random")), tmp_path, plots=False
    ).read_text()
    assert "Friedman test: not applicable (the Friedman test needs at least 3 optimizers" in text
    assert "No baseline chosen" in text


def test_report_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="did you mean 'random'"):
        write_report(synthetic_runs(), tmp_path, baseline="randm", plots=False)
    with pytest.raises(ValueError, match="budget_fractions"):
        write_report(synthetic_runs(), tmp_path, budget_fractions=(0.0, 1.0), plots=False)
    with pytest.raises(ValueError, match="no runs"):
        write_report([], tmp_path)


def test_report_writes_figures_linked_relatively(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the figures need matplotlib")
    folder = tmp_path / "out"
    path = write_report(synthetic_runs(), folder, baseline="random", title="Small | test")
    text = path.read_text()
    assert text.startswith("# Small | test")
    for name in ("critical_difference.png", "rank_over_time.png", "ecdf.png"):
        assert (folder / name).stat().st_size > 0
        assert f"]({name})" in text
    assert sorted(p.name for p in (folder / "curves").iterdir()) == ["bbob_f1_d2.png", "toy.png"]
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert not Path(link).is_absolute()
        assert (folder / link).is_file(), link
    for png in folder.rglob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_benchmark_figures_write_svg_when_asked(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the figures need matplotlib")
    from tuneful.bench.stats import anytime_curves, ecdf

    curves = anytime_curves(synthetic_runs())
    svg = plots.plot_ecdf(ecdf(curves), tmp_path / "ecdf.svg")
    assert "<svg" in svg.read_text()
    png = plots.plot_incumbent_curves(curves, "toy", tmp_path / "toy.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_without_matplotlib_raise_a_helpful_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    from tuneful.bench.stats import anytime_curves, ecdf

    with pytest.raises(MissingDependencyError, match="pip install matplotlib"):
        plots.plot_ecdf(ecdf(anytime_curves(synthetic_runs())), tmp_path / "ecdf.png")
    monkeypatch.setattr(report, "find_spec", lambda name: None)
    with pytest.raises(MissingDependencyError, match="pip install matplotlib"):
        write_report(synthetic_runs(), tmp_path, plots=True)
    # left to decide, the report is written without figures
    assert "Figures were not drawn" in write_report(synthetic_runs(), tmp_path).read_text()


def test_report_reads_the_runners_meta(tmp_path: Path) -> None:
    runs = []
    for name in ("a", "b"):
        for seed in range(2):
            meta = {
                "optimizer": {"name": name, "package": None, "version": None, "settings": {}},
                "objective": "val_loss",
                "direction": "minimize",
                "task_metadata": {"dataset": "toy"},
                "complete": not (name == "b" and seed == 1),
            }
            losses = np.array([2.0, 1.0 + seed])
            runs.append(Run(name, "toy", seed, losses, np.ones(2), budget=2.0, meta=meta))
    text = write_report(runs, tmp_path, plots=False).read_text()
    assert "objective=val_loss, direction=minimize, dataset=toy" in text
    assert "1 runs stopped before spending their budget." in text


def test_held_out_scores_are_reported(tmp_path) -> None:
    import numpy as np

    from tuneful.bench.report import write_report
    from tuneful.bench.results import Run

    runs = [
        Run(
            optimizer=name,
            task="sklearn/svm/wine",
            seed=seed,
            losses=np.array([-0.9, -0.95]),
            costs=np.ones(2),
            budget=2,
            meta={"test_metrics": {"trial": 1, "test_accuracy": 0.9 + 0.01 * seed}},
        )
        for name in ("a", "b")
        for seed in (0, 1)
    ]
    text = write_report(runs, tmp_path, plots=False).read_text()
    assert "## Held-out test scores" in text
    assert "test_accuracy" in text and "0.905" in text
