"""``tuneful bench``: run, resume, report, subset, listings, and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

pytest.importorskip("cocoex")

TASKS = "bbob/f1/d2/i1,bbob/f8/d2/i1,bbob/f15/d2/i1"


def test_run_resume_report_subset(cli: Callable, run_cli: Callable, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    args = ["bench", "run", "--tasks", TASKS, "--optimizers", "random,sobol,grid"]
    args += ["--seeds", "2", "--budget", "6", "--storage", url, "--no-progress"]
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert "ran 18, already done 0, failed 0" in first.stdout
    again = cli(*args)
    assert again.returncode == 0 and "ran 0, already done 18" in again.stdout

    out = tmp_path / "report"
    report = cli("bench", "report", "--storage", url, "--out", str(out), "--baseline", "random")
    assert report.returncode == 0, report.stderr
    text = (out / "report.md").read_text()
    assert "Friedman" in text and "bbob/f8/d2/i1" in text and "random" in text
    only = cli(
        "bench", "report", "--storage", url, "--out", str(tmp_path / "two"),
        "--optimizers", "random,sobol", "--no-plots",
    )  # fmt: skip
    assert only.returncode == 0 and "grid" not in (tmp_path / "two" / "report.md").read_text()
    wrong = cli("bench", "report", "--storage", url, "--out", str(out), "--optimizers", "nope")
    assert wrong.returncode == 2 and "nope" in wrong.stderr

    subset = cli(
        "bench", "subset", "--storage", url, "--optimizers", "random,sobol",
        "--dev", "1", "--test", "1", "--out-dev", str(tmp_path / "dev.yaml"),
    )  # fmt: skip
    assert subset.returncode == 0, subset.stderr
    dev = yaml.safe_load((tmp_path / "dev.yaml").read_text())["tasks"]
    assert len(dev) == 1 and dev[0] in TASKS.split(",")

    again = ["bench", "subset", "--storage", url, "--optimizers", "random,sobol", "--dev", "1"]
    kept = cli(*again, "--out-dev", str(tmp_path / "dev.yaml"))
    assert kept.returncode == 2 and "--force" in kept.stderr
    assert cli(*again, "--out-dev", str(tmp_path / "dev.yaml"), "--force").returncode == 0
    before = (tmp_path / "b.db").read_bytes()
    storage = cli(*again, "--out-dev", str(tmp_path / "b.db"), "--force")
    assert storage.returncode == 2 and "the storage's own file" in storage.stderr
    assert (tmp_path / "b.db").read_bytes() == before


def test_bench_report_of_a_missing_storage_creates_nothing(cli: Callable, tmp_path: Path) -> None:
    result = cli("bench", "report", "--storage", "nothere.db", "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "nothere.db").exists()


def test_a_failure_reason_with_brackets_is_printed_as_is(
    cli: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuneful.bench import Benchmark

    monkeypatch.setattr(
        Benchmark, "availability", lambda self: {"random": "needs [bold]x\x1b[2J[/bold]"}
    )
    monkeypatch.setattr(Benchmark, "cells", lambda self: [])
    result = cli(
        "bench", "run", "--tasks", "bbob/f1/d2/i1", "--optimizers", "random",
        "--storage", "memory://", "--no-progress",
    )  # fmt: skip
    assert "unavailable: random: needs [bold]x\\x1b[2J[/bold]" in result.stderr


def test_listings(cli: Callable) -> None:
    suites = cli("bench", "suites")
    assert suites.returncode == 0 and "bbob-small" in suites.stdout
    tasks = cli("bench", "suites", "bbob-small")
    assert "bbob/f1/d2/i1" in tasks.stdout
    optimizers = cli("bench", "optimizers")
    assert "sobol" in optimizers.stdout and "optuna-tpe" in optimizers.stdout


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--tasks", "bbob/f1/d2/i1", "--optimizers", "no-such-opt"], "no-such-opt"),
        (["--suite", "no-such-suite", "--optimizers", "random"], "no-such-suite"),
        (["--tasks", "bbob/f99/d2/i1", "--optimizers", "random"], "f99"),
        (["--tasks", "bbob/f1/d2/i1", "--optimizers", "random", "--budget", "d+"], "budget"),
    ],
)
def test_bad_input_is_one_line(
    run_cli: Callable, tmp_path: Path, extra: list, fragment: str
) -> None:
    result = run_cli("bench", "run", *extra, "--storage", f"sqlite:///{tmp_path / 'x.db'}")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


def test_multi_fidelity_run_and_cost_report(cli: Callable, run_cli: Callable, tmp_path: Path):
    data = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
    if not (data / "yahpo").is_dir():
        pytest.skip(f"no benchmark data at {data}")
    pytest.importorskip("onnxruntime")
    url = f"sqlite:///{tmp_path / 'mf.db'}"
    result = run_cli(
        "bench", "run", "--multi-fidelity", "--tasks", "yahpo/lcbench/3945",
        "--optimizers", "random,random+asha", "--seeds", "1", "--budget", "3",
        "--data-dir", str(data), "--storage", url, "--no-progress",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = tmp_path / "report"
    report = cli(
        "bench", "report", "--storage", url, "--out", str(out), "--no-plots",
        "--cost-budgets", "1,3", "--speedup-baseline", "random",
    )  # fmt: skip
    assert report.returncode == 0, report.stderr
    assert "random+asha" in (out / "report.md").read_text()
    bad = cli("bench", "report", "--storage", url, "--out", str(out), "--cost-budgets", "1,x")
    assert bad.returncode == 2 and "'x' is not a positive number" in bad.stderr
