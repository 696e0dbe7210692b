"""``tuneful importance`` and what ``tuneful show`` draws of a study: the sparkline of the
best value so far and the most important parameters."""

from __future__ import annotations

import importlib.util
import json
import math
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.analysis.importance import MIN_TRIALS, importance
from tuneful.cli import output
from tuneful.cli.studies import SPARK_WIDTH, share_bar, sparkline

UNIT = tuneful.Float(0.0, 1.0)
RED = "\x1b[31mred"  # a parameter name that would colour the terminal if printed raw
SPACE = tuneful.Space(
    x1=UNIT,
    x2=UNIT,
    kind=tuneful.Categorical(["a", "b"]),
    scale=tuneful.Float(0.1, 10.0, log=True, when={"kind": "b"}),
    **{RED: UNIT},
)


def _objective(trial: tuneful.Trial) -> float:
    p = trial.params
    return 5 * p["x1"] + p["x2"] + 0.5 * (p["kind"] == "b") + 0.1 * math.log(p.get("scale", 1.0))


@pytest.fixture
def storage(tmp_path: Path) -> str:
    """Studies 'known' (60 trials, x1 first), 'up' (maximized), 'tiny' (too few trials) and
    'pair' (two objectives)."""
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    known = tuneful.create_study("known", space=SPACE, storage=url, optimizer="random", seed=1)
    known.optimize(_objective, n_trials=60, show_progress_bar=False)
    up = tuneful.create_study(
        "up", space=SPACE, direction="maximize", storage=url, optimizer="random", seed=2
    )
    up.optimize(lambda t: -_objective(t), n_trials=30, show_progress_bar=False)
    tiny = tuneful.create_study("tiny", space=SPACE, storage=url, optimizer="random", seed=3)
    tiny.optimize(_objective, n_trials=MIN_TRIALS - 4, show_progress_bar=False)
    pair = tuneful.create_study(
        "pair",
        space=SPACE,
        directions=["minimize", "minimize"],
        storage=url,
        optimizer="random",
        seed=4,
    )
    pair.optimize(lambda t: (t.params["x2"], t.params["x1"]), n_trials=30, show_progress_bar=False)
    return url


@pytest.fixture
def width_80(monkeypatch: pytest.MonkeyPatch) -> int:
    """The console as wide as a usual terminal, 80 columns (into a pipe it is 200)."""
    monkeypatch.setattr(output.stdout, "width", 80)
    return 80


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_importance_prints_shares_bars_pairs_and_notes(
    cli: Callable[..., Any], storage: str
) -> None:
    result = cli("importance", "known", "--storage", storage)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Importance in study known (fANOVA, objective 0, 60 trials)" in out
    lines = [line for line in out.splitlines() if "%" in line]
    assert "x1" in lines[0] and "█" in lines[0]  # the most important first, with its bar
    assert "Interactions of pairs" in out and " × " in out
    assert "Higher-order interactions" in out


def test_importance_with_ped_anova(cli: Callable[..., Any], storage: str) -> None:
    result = cli("importance", "known", "--storage", storage, "--method", "ped-anova")
    assert result.returncode == 0, result.stderr
    assert "PED-ANOVA" in result.stdout and "Interactions" not in result.stdout
    assert "note: importance within the best 100% of the trials" in result.stdout


def test_importance_json_is_the_result_of_the_api(cli: Callable[..., Any], storage: str) -> None:
    result = cli("importance", "known", "--storage", storage, "--json", "--seed", "5")
    assert result.returncode == 0, result.stderr
    expected = importance(tuneful.load_study("known", storage=storage), seed=5).to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))


def test_importance_of_chosen_params_and_objective(cli: Callable[..., Any], storage: str) -> None:
    result = cli(
        "importance",
        "pair",
        "--storage",
        storage,
        "--objective",
        "1",
        "--params",
        "x2, x1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["objective"] == 1
    assert [p["name"] for p in data["params"]] == ["x1", "x2"]


def test_importance_fits_an_80_column_terminal(
    cli: Callable[..., Any], storage: str, width_80: int
) -> None:
    result = cli("importance", "known", "--storage", storage)
    assert result.returncode == 0, result.stderr
    assert _widest(result.stdout) <= width_80
    bars = [line.count("█") for line in result.stdout.splitlines() if "x1 " in line]
    assert bars and bars[0] > 10  # the bar still has room


def test_importance_escapes_stored_names(cli: Callable[..., Any], storage: str) -> None:
    result = cli("importance", "known", "--storage", storage)
    assert "\x1b" not in result.stdout
    assert "\\x1b[31mred" in result.stdout


def test_importance_reads_a_storage_it_cannot_write(
    cli: Callable[..., Any], storage: str, tmp_path: Path
) -> None:
    path = tmp_path / "studies.db"
    before = path.read_bytes()
    path.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        result = cli("importance", "known", "--storage", storage, "--method", "ped-anova")
    finally:
        tmp_path.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("tiny",), (f"has {MIN_TRIALS - 4} completed", f"at least {MIN_TRIALS}")),
        (("known", "--objective", "2"), ("objective=2 is out of range",)),
        (("known", "--params", "x1,nope"), ("['nope'] are not parameters", "'x1'")),
        (("absent",), ("no study named 'absent'",)),
    ],
)
def test_importance_errors_are_one_line(
    cli: Callable[..., Any],
    storage: str,
    one_line_error: Callable[..., str],
    args: tuple[str, ...],
    fragments: tuple[str, ...],
) -> None:
    one_line_error(cli("importance", *args, "--storage", storage), *fragments)


def test_importance_unknown_method_lists_the_methods(
    cli: Callable[..., Any], storage: str, one_line_error: Callable[..., str]
) -> None:
    result = cli("importance", "known", "--storage", storage, "--method", "shap")
    one_line_error(result, "'shap' is not one of 'fanova', 'ped-anova'")


def test_importance_without_scikit_learn_names_the_extra(
    cli: Callable[..., Any],
    storage: str,
    one_line_error: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    result = cli("importance", "known", "--storage", storage)
    one_line_error(result, "pip install 'tuneful[importance]'", "ped-anova")


# -- show --------------------------------------------------------------------------------
def test_sparkline_runs_from_lowest_to_highest() -> None:
    assert sparkline([3.0, 2.0, None, 1.0]) == "█▅ ▁"
    assert sparkline([1.0, 10.0, 100.0], log=True) == "▁▅█"
    assert sparkline([2.0, 2.0]) == "▁▁"
    assert sparkline([None, None]) == "  "


def test_share_bar_is_drawn_to_an_eighth() -> None:
    assert share_bar(0.5, 10) == "█████"
    assert share_bar(1.0, 4) == "████"
    assert share_bar(1 / 80, 10) == "▏"
    assert share_bar(0.0, 10) == ""


def test_show_draws_the_incumbent_and_the_top_parameters_at_80_columns(
    cli: Callable[..., Any], storage: str, width_80: int
) -> None:
    result = cli("show", "known", "--storage", storage, "--top", "3")
    assert result.returncode == 0, result.stderr
    assert _widest(result.stdout) <= width_80
    lines = result.stdout.splitlines()
    spark = next(line for line in lines if line.startswith("best so far"))
    drawn = spark.split("  ")[1]
    # narrowed from SPARK_WIDTH so that the line fits
    assert 8 <= len(drawn) <= SPARK_WIDTH and set(drawn) <= set("▁▂▃▄▅▆▇█")
    assert drawn[0] == "█" and drawn[-1] == "▁"  # minimized: the best so far falls
    best = tuneful.load_study("known", storage=storage).best_value
    assert f"→ {best:.6g}" in spark and "(trials 0-59)" in spark
    start = next(i for i, line in enumerate(lines) if line.startswith("Top parameters"))
    assert "(fANOVA, 60 trials;" in lines[start]
    ranked = lines[start + 1 : start + 6]
    assert ranked[0].split()[0] == "x1" and all("%" in line for line in ranked)
    assert "Best 3 of 60 completed trials" in result.stdout  # the rest of show is still there


def test_show_draws_a_rising_line_for_a_maximized_study(
    cli: Callable[..., Any], storage: str
) -> None:
    result = cli("show", "up", "--storage", storage)
    spark = next(line for line in result.stdout.splitlines() if line.startswith("best so far"))
    drawn = spark.split("  ")[1]
    assert len(drawn) == 30  # fewer trials than SPARK_WIDTH: one character each
    assert drawn[0] == "▁" and drawn[-1] == "█"


def test_show_uses_ped_anova_without_scikit_learn(
    cli: Callable[..., Any], storage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "sklearn" else real(name, *args),
    )
    result = cli("show", "known", "--storage", storage)
    assert result.returncode == 0, result.stderr
    assert "Top parameters (PED-ANOVA, 60 trials;" in result.stdout
    spark = next(line for line in result.stdout.splitlines() if line.startswith("best so far"))
    assert len(spark.split("  ")[1]) == SPARK_WIDTH  # room enough: the full width


def test_show_says_why_importance_is_skipped(cli: Callable[..., Any], storage: str) -> None:
    result = cli("show", "tiny", "--storage", storage)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("Importance"))
    assert f"has {MIN_TRIALS - 4} completed" in line and f"at least {MIN_TRIALS}" in line
    assert "best so far" in result.stdout


def test_show_of_two_objectives_ranks_the_first_and_draws_no_incumbent(
    cli: Callable[..., Any], storage: str
) -> None:
    result = cli("show", "pair", "--storage", storage)
    assert result.returncode == 0, result.stderr
    assert "best so far" not in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("Top parameters"))
    assert "objective 0" in line
    assert "Pareto front" in result.stdout


def test_show_of_an_empty_study_draws_nothing_and_says_why(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    tuneful.create_study("empty", space=SPACE, storage=url)
    result = cli("show", "empty", "--storage", url)
    assert result.returncode == 0, result.stderr
    assert "best so far" not in result.stdout
    assert "Importance: not measured: study 'empty' has 0 completed" in result.stdout
    assert "No completed trial yet." in result.stdout
