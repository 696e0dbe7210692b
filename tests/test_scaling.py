"""tuneful.analysis.scaling: the published law, fits from runs, gaps, and the command line."""

from __future__ import annotations

import csv
import doctest
import importlib
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.analysis import scaling
from tuneful.analysis.scaling import ScalingError
from tuneful.errors import MissingDependencyError

STEPLAW_CSV = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "datasets"
    / "steplaw"
    / ("dense_lr_bs_loss.csv")
)
needs_csv = pytest.mark.skipif(not STEPLAW_CSV.exists(), reason="Step Law's CSV is not here")

TRUE = {"a": 2.0, "alpha": -0.7, "beta": 0.3, "b": 0.5, "gamma": 0.6}


def _true_point(n: float, d: float) -> tuple[float, float]:
    lr = TRUE["a"] * n ** TRUE["alpha"] * d ** TRUE["beta"]
    return lr, TRUE["b"] * d ** TRUE["gamma"]


def synthetic_rows(noise: float = 0.0, seed: int = 0) -> list[dict[str, float]]:
    """Grids at 3 N × 3 D, each 9 × 7 runs around the true optimum, the loss a bowl in log
    space (batch size in sequences of 2048 tokens, as in Step Law's CSV)."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in (1e8, 3e8, 1e9):
        for d in (5e9, 2e10, 8e10):
            lr0, bs0 = _true_point(n, d)
            for i in range(-4, 5):
                for j in range(-3, 4):
                    lr = lr0 * 2 ** (i / 2)
                    bs_tokens = bs0 * 2 ** (j / 2)
                    loss = 2.0 + 0.01 * (math.log(lr / lr0) ** 2 + math.log(bs_tokens / bs0) ** 2)
                    rows.append(
                        {
                            "N": n,
                            "D": d,
                            "lr": lr,
                            "bs": bs_tokens / 2048,
                            "smooth loss": loss * (1 + noise * rng.standard_normal()),
                        }
                    )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


# -- the published law --------------------------------------------------------------------------
@pytest.mark.parametrize("n, d", [(7e9, 1.4e12), (2.1e8, 4e9), (1e11, 1e13)])
def test_steplaw_is_the_published_formula(n: float, d: float) -> None:
    p = scaling.steplaw(n, d, seq_len=4096)
    assert p.learning_rate == pytest.approx(1.79 * n**-0.713 * d**0.307, rel=1e-12)
    assert p.batch_tokens == pytest.approx(0.58 * d**0.571, rel=1e-12)
    assert p.batch_sequences == pytest.approx(p.batch_tokens / 4096)
    assert scaling.steplaw(n, d).batch_sequences is None


def test_the_authors_example() -> None:
    p = scaling.steplaw(7e9, 1.4e12, seq_len=2048)
    assert p.learning_rate == pytest.approx(9.3e-4, rel=0.02)  # their tool: ≈ 9.3e-4
    assert p.batch_tokens == pytest.approx(5.0e6, rel=0.01)  # ≈ 5.0M tokens


def test_deepseek_llm_uses_compute() -> None:
    p = scaling.deepseek_llm(1e9, 1e11)
    c = 6e9 * 1e11
    assert p.learning_rate == pytest.approx(0.3118 * c**-0.125)
    assert p.batch_tokens == pytest.approx(0.2920 * c**0.3271)
    exact = scaling.deepseek_llm(1e9, 1e11, flops_per_token=7e9)
    assert exact.learning_rate == pytest.approx(0.3118 * (7e9 * 1e11) ** -0.125)


@needs_csv
def test_dense_params_counts_every_released_model() -> None:
    with open(STEPLAW_CSV, newline="", encoding="utf-8") as handle:
        shapes = {
            (int(r["numl"]), int(r["h"]), int(r["ffnh"]), int(r["N"]))
            for r in csv.DictReader(handle)
        }
    assert len(shapes) >= 5
    for layers, hidden, ffn, n in shapes:
        assert scaling.dense_params(layers, hidden, ffn) == n


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: scaling.steplaw(0, 1e9), "n_params=0"),
        (lambda: scaling.steplaw(1e9, -1), "n_tokens=-1"),
        (lambda: scaling.steplaw(1e9, "x"), "n_tokens='x'"),
        (lambda: scaling.steplaw(1e9, 1e9, seq_len=1.5), "seq_len=1.5"),
        (lambda: scaling.dense_params(0, 10, 10), "layers=0"),
    ],
)
def test_bad_inputs_name_the_value(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ScalingError, match=message):
        call()


# -- fits -------------------------------------------------------------------------------------
def test_a_fit_recovers_a_known_law() -> None:
    runs = scaling.runs_from_rows(synthetic_rows())
    law = scaling.fit(runs, n_bootstrap=200)
    c = law.coefficients()
    for key, value in TRUE.items():
        assert c[key] == pytest.approx(value, rel=1e-6)
    assert law.n_grids == 9 and law.n_runs == 9 * 63
    lr, tokens = _true_point(5e8, 1e11)
    p = law.predict(5e8, 1e11, seq_len=2048)
    assert p.learning_rate == pytest.approx(lr) and p.batch_tokens == pytest.approx(tokens)
    assert p.batch_sequences == pytest.approx(tokens / 2048)
    assert p.learning_rate_interval is not None and p.batch_tokens_interval is not None
    # every grid's best run is the law's point: no gap in sample, none left out either
    assert max(g.gap for g in scaling.grid_gaps(runs, law.point)) == 0
    assert max(g.gap for g in scaling.leave_one_scale_out(runs)) == 0


def test_noisy_fits_have_intervals_that_cover_the_truth() -> None:
    runs = scaling.runs_from_rows(synthetic_rows(noise=0.001, seed=3))
    law = scaling.fit(runs, n_bootstrap=300, seed=1)
    intervals = law.intervals()
    for key in ("alpha", "beta", "gamma"):
        lo, hi = intervals[key]
        assert lo < TRUE[key] < hi, (key, lo, hi)
    p = law.predict(5e8, 1e11)
    lo, hi = p.learning_rate_interval  # type: ignore[misc]
    assert lo < _true_point(5e8, 1e11)[0] < hi


def test_plateau_and_space_at_are_centred_on_the_law() -> None:
    law = scaling.fit(scaling.runs_from_rows(synthetic_rows()), n_bootstrap=0)
    lr, tokens = law.point(5e8, 1e11)
    region = law.plateau(5e8, 1e11)
    assert region["learning_rate"][0] <= lr <= region["learning_rate"][1]
    assert region["batch_tokens"][0] <= tokens <= region["batch_tokens"][1]
    space = law.space_at(5e8, 1e11, widen=2.0)
    assert set(space.names) == {"lr", "bs"}
    assert space["lr"].low < lr < space["lr"].high and space["lr"].log
    assert space["bs"].low <= tokens / 2048 <= space["bs"].high
    study = tuneful.create_study(space=space, storage="memory://", seed=0)
    trial = study.ask()
    assert space["lr"].low <= trial.params["lr"] <= space["lr"].high
    with pytest.raises(ScalingError, match="widen=0.5"):
        law.space_at(5e8, 1e11, widen=0.5)


@needs_csv
def test_the_released_runs_give_the_released_data_fit() -> None:
    runs = scaling.read_runs(STEPLAW_CSV)
    law = scaling.fit(runs, n_bootstrap=100)
    assert (law.n_runs, law.n_plateau, law.n_grids) == (1911, 129, 17)
    c = law.coefficients()
    assert c["a"] == pytest.approx(77.7, abs=0.05)
    assert (round(c["alpha"], 3), round(c["beta"], 3)) == (-0.766, 0.197)
    assert c["b"] == pytest.approx(0.209, abs=0.0005)
    assert round(c["gamma"], 3) == 0.613
    published = scaling.summarize_gaps(scaling.grid_gaps(runs, scaling.published_point))
    assert published["median"] == pytest.approx(0.00076, abs=0.0001)  # ≈ 0.07 % as claimed
    assert len(scaling.leave_one_scale_out(runs)) == 17


def _rows_with(**change: Any) -> list[dict[str, Any]]:
    rows = synthetic_rows()[:80]
    rows[5] = {**rows[5], **change}
    return rows


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"N": 1, "D": 1, "lr": 1, "bs": 1}] * 3, "missing column.*'smooth loss'"),
        (_rows_with(N=0), "row 6, column 'N': 0: expected a positive number"),
        (_rows_with(lr=-1e-3), "row 6, column 'lr'"),
        (_rows_with(D="many"), "row 6, column 'D': 'many' is not a number"),
    ],
)
def test_malformed_runs_are_clear_errors(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ScalingError, match=message):
        scaling.runs_from_rows(rows)


def test_runs_that_cannot_identify_the_law() -> None:
    one_scale = [r for r in synthetic_rows() if r["N"] == 1e8 and r["D"] == 5e9]
    with pytest.raises(ScalingError, match="single scale"):
        scaling.fit(scaling.runs_from_rows(one_scale))
    same_d = [r for r in synthetic_rows() if r["D"] == 5e9]
    with pytest.raises(ScalingError, match="same D"):
        scaling.fit(scaling.runs_from_rows(same_d))
    with pytest.raises(ScalingError, match="unknown role 'size'"):
        scaling.runs_from_rows(synthetic_rows(), columns={"size": "N"})


def test_runs_from_studies(tmp_path: Path) -> None:
    studies = []
    for n, d in ((1e8, 5e9), (1e9, 5e9), (1e8, 8e10), (1e9, 8e10)):
        study = tuneful.create_study(
            f"s{n:g}-{d:g}",
            space={
                "lr": {"type": "float", "low": 1e-5, "high": 1.0, "log": True},
                "bs": {"type": "float", "low": 1, "high": 1e5, "log": True},
            },
            storage="memory://",
        )
        study.set_user_attr("N", n)
        study.set_user_attr("D", d)
        for row in synthetic_rows():
            if row["N"] == n and row["D"] == d:
                trial = study.ask({"lr": row["lr"], "bs": row["bs"]})
                study.tell(trial, row["smooth loss"])
        studies.append(study)
    law = scaling.fit(scaling.runs_from_studies(studies), n_bootstrap=0)
    assert law.coefficients()["alpha"] == pytest.approx(TRUE["alpha"], rel=1e-6)
    with pytest.raises(ScalingError, match="no attribute 'N'"):
        scaling.runs_from_studies([tuneful.create_study(storage="memory://")])


# -- command line -------------------------------------------------------------------------------
def test_cli_predict(cli: Callable[..., Any]) -> None:
    result = cli("scaling", "predict", "--params", "7e9", "--tokens", "1.4e12", "--seq-len", "2048")
    assert result.returncode == 0, result.stderr
    assert "0.0009166" in result.stdout and "4,998,815 tokens" in result.stdout
    as_json = cli(
        "scaling",
        "predict",
        "--layers",
        "7",
        "--hidden",
        "960",
        "--ffn-hidden",
        "9368",
        "--tokens",
        "4e9",
        "--law",
        "all",
        "--json",
    )
    data = json.loads(as_json.stdout)
    assert [p["law"] for p in data] == ["steplaw", "deepseek-llm"]
    assert data[0]["n_params"] == 214663680


def test_cli_fit(cli: Callable[..., Any], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "runs.csv", synthetic_rows())
    result = cli(
        "scaling",
        "fit",
        str(path),
        "--bootstrap",
        "50",
        "--predict",
        "5e8,1e11",
        "--seq-len",
        "2048",
        "--plots",
        str(tmp_path / "figures"),
    )
    assert result.returncode == 0, result.stderr
    assert "lr* = 2 * N^-0.700 * D^0.300" in result.stdout
    assert "Published Step Law" in result.stdout and "refit without it" in result.stdout
    assert "DeepSeek LLM" in result.stdout
    assert (tmp_path / "figures" / "fit.png").stat().st_size > 0
    assert len(list((tmp_path / "figures").glob("grid_*.png"))) == 9
    data = json.loads(cli("scaling", "fit", str(path), "--bootstrap", "20", "--json").stdout)
    assert data["coefficients"]["gamma"] == pytest.approx(0.6)
    assert data["gap_summary"]["refit"]["max"] == 0
    assert len(data["gaps"]["leave_one_scale_out"]) == 9
    assert data["gap_summary"]["deepseek_llm"]["median"] > 0  # not the law the data follow


def test_cli_errors_are_one_line(
    cli: Callable[..., Any], one_line_error: Callable[..., str], tmp_path: Path
) -> None:
    one_line_error(cli("scaling", "predict", "--tokens", "1e9"), "--params N")
    one_line_error(cli("scaling", "predict", "--params", "x", "--tokens", "1e9"), "--params 'x'")
    one_line_error(cli("scaling", "predict", "--params", "-5", "--tokens", "1e9"), "n_params=-5")
    rows = [{k: v for k, v in r.items() if k != "lr"} for r in synthetic_rows()]
    path = write_csv(tmp_path / "nolr.csv", rows)
    one_line_error(cli("scaling", "fit", str(path)), "missing column(s) 'lr'")
    renamed_rows = [
        {("rate" if k == "lr" else k): v for k, v in r.items()} for r in synthetic_rows()
    ]
    renamed = write_csv(tmp_path / "renamed.csv", renamed_rows)
    assert (
        cli("scaling", "fit", str(renamed), "--column", "lr=rate", "--bootstrap", "0").returncode
        == 0
    )
    one_line_error(cli("scaling", "fit", str(tmp_path / "none.csv")), "cannot read")
    one_line_error(cli("scaling", "fit", str(renamed), "--column", "lr"), "expected ROLE=NAME")


# -- degenerate runs ----------------------------------------------------------------------------
def moe_rows(seed: int = 0) -> list[dict[str, Any]]:
    """Runs shaped like Step Law's MoE release: total N between 2.150e9 and 2.156e9 (the
    experts' sparsity varies, not the size), D over a decade, a noisy bowl around Step Law's
    optimum; an ``active N`` column that does vary."""
    rng = np.random.default_rng(seed)
    rows = []
    for n, active in ((2.150e9, 2.7e8), (2.152e9, 5.4e8), (2.154e9, 1.1e9), (2.156e9, 2.15e9)):
        for d in (2e10, 5e10, 1e11, 2e11):
            lr0, bs0 = scaling.steplaw(active, d).learning_rate, 2e6
            for lr_step in range(-3, 4):
                for bs_step in range(-2, 3):
                    lr, bs_tokens = lr0 * 2 ** (lr_step / 2), bs0 * 2 ** (bs_step / 2)
                    loss = 2.5 + 0.02 * (lr_step**2 + bs_step**2) + 0.002 * rng.standard_normal()
                    rows.append(
                        {
                            "N": n,
                            "active N": active,
                            "D": d,
                            "lr": lr,
                            "bs": bs_tokens / 2048,
                            "smooth loss": loss,
                        }
                    )
    return rows


def test_a_total_n_that_barely_varies_is_refused_with_the_reason() -> None:
    runs = scaling.runs_from_rows(moe_rows())
    with pytest.raises(scaling.UnidentifiedLawError, match=r"exponent alpha of N") as caught:
        scaling.fit(runs, n_bootstrap=200)
    assert caught.value.quantity == "N"
    assert "N varies by only 0.28% across the scales (2.15e+09 – 2.156e+09)" in str(caught.value)
    assert "active parameters" in str(caught.value)
    # the same runs with the active parameters as N: identified, with finite intervals
    active = scaling.runs_from_rows(moe_rows(), columns={"n": "active N"})
    law = scaling.fit(active, n_bootstrap=200)
    assert all(math.isfinite(v) for pair in law.intervals().values() for v in pair)
    # a fold of leave-one-scale-out that loses identification is skipped, not raised
    assert len(scaling.leave_one_scale_out(active)) == 16


def test_cli_fit_on_a_barely_varying_n_is_one_line_naming_the_active_column(
    cli: Callable[..., Any], one_line_error: Callable[..., str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "moe.csv", moe_rows())
    message = one_line_error(cli("scaling", "fit", str(path)), "exponent alpha of N")
    assert "--column n='active N'" in message
    result = cli("scaling", "fit", str(path), "--column", "n=active N", "--bootstrap", "50")
    assert result.returncode == 0, result.stderr


def test_n_and_d_that_grow_together_are_refused() -> None:
    rows = [r for r in synthetic_rows(noise=0.002, seed=1) if (r["N"], r["D"]) != (1e9, 5e9)]
    # keep only the diagonal grids, nudged so that log N and log D are not exactly collinear
    diagonal = {(1e8, 5e9), (3e8, 2e10), (1e9, 8e10)}
    rows = [r for r in rows if (r["N"], r["D"]) in diagonal]
    for row in rows:
        if row["N"] == 3e8:
            row["N"] = 3.05e8
    with pytest.raises(ScalingError, match="move together"):
        scaling.fit(scaling.runs_from_rows(rows), n_bootstrap=0)


def test_negative_losses_keep_each_grids_best_on_the_plateau() -> None:
    rows = [{**r, "smooth loss": -r["smooth loss"] + 10} for r in synthetic_rows()]
    shifted = [{**r, "smooth loss": r["smooth loss"] - 20} for r in synthetic_rows()]
    for rows_ in (rows, shifted):
        runs = scaling.runs_from_rows(rows_)
        plateau = runs.select(runs.plateau(0.0025))
        assert plateau.grids() == runs.grids()
    law = scaling.fit(scaling.runs_from_rows(shifted), n_bootstrap=0)
    assert law.coefficients()["alpha"] == pytest.approx(TRUE["alpha"], rel=1e-6)
    gaps = scaling.grid_gaps(scaling.runs_from_rows(shifted), law.point)
    assert max(g.gap for g in gaps) == 0


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "no runs"),
        (b"N,D,lr,bs,smooth loss\n", "no runs"),
        (b"N,D,lr,bs,smooth loss\n1e8,5e9,1e-3,64,nan\n1e9,5e9,1e-3,64,2.0\n", "finite loss"),
        (b"N,D,lr,bs,smooth loss\n1e8,5e9,,64,2.1\n1e9,5e9,1e-3,64,2.0\n", "'lr': empty"),
        (b"N,D,lr,bs,smooth loss\n1e8,5e9,1e-3\n1e9,5e9,1e-3,64,2.0\n", "'bs': empty"),
        (b"\xff\xfeN\x00,\x00D\x00", "not UTF-8"),
    ],
)
def test_bad_run_files_are_one_line_errors(
    content: bytes,
    message: str,
    cli: Callable[..., Any],
    one_line_error: Callable[..., str],
    tmp_path: Path,
) -> None:
    path = tmp_path / "runs.csv"
    path.write_bytes(content)
    with pytest.raises(ScalingError, match=message):
        scaling.read_runs(path)
    one_line_error(cli("scaling", "fit", str(path)), message)


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "runs.csv", synthetic_rows())
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(scaling.read_runs(path)) == 9 * 63


def test_fit_settings_and_empty_runs_are_clear_errors() -> None:
    runs = scaling.runs_from_rows(synthetic_rows())
    with pytest.raises(ScalingError, match="level='high'"):
        scaling.fit(runs, level="high")  # type: ignore[arg-type]
    with pytest.raises(ScalingError, match="no runs to fit"):
        scaling.fit(runs.select(np.zeros(len(runs), dtype=bool)))
    law = scaling.fit(runs, n_bootstrap=0)
    with pytest.raises(ScalingError, match="out of floating-point range"):
        law.predict(1e-320, 1e300)


# -- where it lives -----------------------------------------------------------------------------
def test_tuneful_scaling_is_an_alias_of_analysis_scaling() -> None:
    from tuneful import scaling as alias

    assert alias.__all__ == scaling.__all__
    for name in scaling.__all__:
        assert getattr(alias, name) is getattr(scaling, name), name


@pytest.mark.parametrize(
    "name",
    [
        "tuneful.analysis.scaling",
        "tuneful.analysis.scaling.law",
        "tuneful.analysis.scaling.fit",
        "tuneful.analysis.scaling.runs",
        "tuneful.scaling",
    ],
)
def test_module_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0


def test_scaling_plots_without_matplotlib_name_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneful.viz.scaling import plot_fit

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    runs = scaling.runs_from_rows(synthetic_rows())
    law = scaling.fit(runs, n_bootstrap=0)
    with pytest.raises(MissingDependencyError, match=r"tuneful\[viz\]"):
        plot_fit(runs, law, tmp_path / "fit.png")
    assert not (tmp_path / "fit.png").exists()


def test_scaling_plots_write_svg_when_asked(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the figures need matplotlib")
    from tuneful.viz.scaling import plot_fit, plot_grid

    runs = scaling.runs_from_rows(synthetic_rows())
    law = scaling.fit(runs, n_bootstrap=0)
    n, d = runs.grids()[0]
    svg = plot_grid(runs, n, d, {"refit law": law.point(n, d)}, tmp_path / "sub" / "grid.svg")
    assert svg == tmp_path / "sub" / "grid.svg"
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    png = plot_fit(runs, law, tmp_path / "fit.png", published=scaling.published_law())
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
