"""Multi-objective benchmarking: hypervolume regret, runs of several objectives, the peers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import tuneful
from tuneful.bench import Benchmark, load_runs, study_name
from tuneful.bench.cells import Cell
from tuneful.bench.hypervolume import hypervolume_trace, task_references, with_hv_regret
from tuneful.bench.results import Run
from tuneful.bench.stats import anytime_curves, final_summary, mean_ranks, task_ranges

pytest.importorskip("scipy")


def _run(optimizer: str, seed: int, points: list[list[float]], **meta: object) -> Run:
    array = np.array(points, dtype=float)
    feasible = meta.pop("feasible", None)
    return Run(
        optimizer,
        str(meta.pop("task", "t")),
        seed,
        np.full(len(array), np.nan),
        np.ones(len(array)),
        budget=float(len(array)),
        meta={"directions": ["minimize", "minimize"], **meta},
        points=array,
        feasible=None if feasible is None else np.array(feasible, dtype=bool),
    )


def test_hypervolume_trace_counts_feasible_points_inside_the_reference() -> None:
    points = np.array(
        [[5.0, 5.0], [1.0, 3.0], [np.nan, np.nan], [2.0, 2.0], [0.5, 0.5], [1.5, 1.5]]
    )
    feasible = np.array([True, True, False, True, False, True])
    trace = hypervolume_trace(points, feasible, np.array([4.0, 4.0]))
    # (5, 5) is outside, the failure and the infeasible (0.5, 0.5) add nothing
    np.testing.assert_allclose(trace, [0.0, 3.0, 3.0, 5.0, 5.0, 6.75])


def test_hv_regret_of_a_hand_built_run_with_a_known_front() -> None:
    points = [[3.0, 3.0], [1.0, 3.0], [2.0, 2.0]]
    run = _run("a", 0, points, reference_point=[4.0, 4.0], max_hypervolume=8.0)
    (scored,) = with_hv_regret([run])
    np.testing.assert_allclose(scored.losses, [1 - 1 / 8, 1 - 3 / 8, 1 - 5 / 8])
    assert scored.normalized and scored.optimum == 0.0
    assert scored.meta["hypervolume"]["source"] == "known"


def test_hv_regret_orients_maximized_objectives_and_its_reference() -> None:
    run = _run(
        "a",
        0,
        [[-2.0, 1.0]],  # accuracy 2 (maximized, negated), time 1
        directions=["maximize", "minimize"],
        reference_point=[0.0, 3.0],
        max_hypervolume=8.0,
    )
    (scored,) = with_hv_regret([run])
    assert scored.meta["hypervolume"]["point"] == (-0.0, 3.0)
    np.testing.assert_allclose(scored.losses, [1 - 4 / 8])


def test_unknown_front_measures_against_the_union_of_every_run() -> None:
    good = _run("good", 0, [[1.0, 3.0], [3.0, 1.0]], reference_point=[4.0, 4.0])
    half = _run("half", 0, [[9.0, 9.0], [1.0, 3.0]], reference_point=[4.0, 4.0])
    scored = {r.optimizer: r for r in with_hv_regret([good, half])}
    reference = task_references([good, half])["t"]
    assert reference.source == "union" and reference.best == pytest.approx(5.0)
    np.testing.assert_allclose(scored["good"].losses, [1 - 3 / 5, 0.0])
    np.testing.assert_allclose(scored["half"].losses, [1.0, 1 - 3 / 5])


def test_derived_reference_point_is_the_worst_seen_plus_a_margin() -> None:
    runs = [_run("a", 0, [[0.0, 10.0], [10.0, 0.0]]), _run("b", 0, [[5.0, 5.0]])]
    reference = task_references(runs)["t"]
    assert reference.point == pytest.approx((11.0, 11.0))
    assert reference.point_source == "union"


def test_nothing_feasible_is_regret_one() -> None:
    run = _run("a", 0, [[1.0, 1.0]], feasible=[False], reference_point=[4.0, 4.0])
    (scored,) = with_hv_regret([run])
    assert scored.losses.tolist() == [1.0]


def test_hypervolume_regret_keeps_its_range_in_the_statistics() -> None:
    runs = with_hv_regret(
        [_run("a", 0, [[3.0, 3.0]], reference_point=[4.0, 4.0], max_hypervolume=16.0)]
    )
    reference = task_ranges(runs)["t"]
    assert (reference.low, reference.high, reference.source) == (0.0, 1.0, "hypervolume")
    assert anytime_curves(runs).final[0, 0, 0] == pytest.approx(15 / 16)


def _synthetic(tasks: int = 4, seeds: int = 3) -> list[Run]:
    """Three optimizers on ``tasks`` tasks: "best" covers more of the front than "mid", which
    beats "worst" (a single corner point)."""
    runs = []
    for t in range(tasks):
        meta = {"task": f"t{t}", "reference_point": [1.0, 1.0], "max_hypervolume": 0.5}
        for seed in range(seeds):
            runs.append(_run("best", seed, [[0.9, 0.9], [0.2, 0.6], [0.6, 0.2]], **meta))
            runs.append(_run("mid", seed, [[0.9, 0.9], [0.5, 0.5], [0.95, 0.95]], **meta))
            runs.append(_run("worst", seed, [[0.9, 0.9], [0.9, 0.9], [0.95, 0.95]], **meta))
    return with_hv_regret(runs)


def test_report_ranks_synthetic_multi_objective_runs() -> None:
    curves = anytime_curves(_synthetic())
    ranks = mean_ranks(final_summary(curves))
    by_name = dict(zip(ranks.optimizers, ranks.mean, strict=True))
    assert by_name["best"] < by_name["mid"] < by_name["worst"]


def test_report_explains_the_hypervolume_regret(tmp_path: Path) -> None:
    from tuneful.bench.report import write_report

    path = write_report(_synthetic(), tmp_path, baseline="worst", plots=False, cost_budgets=[1, 3])
    text = path.read_text(encoding="utf-8")
    assert "### Multi-objective tasks: hypervolume regret" in text
    assert "the task's known front" in text
    assert "| t0 |" in text
    # against "worst", "best" has the lower mean final regret on every task
    assert "| best | 4 | 0 | 0 | 100 % | 0 % |" in text
    assert "rank @ 3" in text  # ranks at fixed budgets, read from the same runs


def test_cli_report_takes_budgets(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tuneful.cli import cli

    storage = f"sqlite:///{tmp_path / 'b.db'}"
    Benchmark(
        "b",
        tasks=["zdt/zdt1/d3"],
        optimizers=["random", "nsga2"],
        seeds=2,
        budget=8,
        storage=storage,
    ).run()
    out = tmp_path / "report"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "report",
            "--name",
            "b",
            "--storage",
            storage,
            "--out",
            str(out),
            "--budgets",
            "4,8",
            "--no-plots",
        ],
    )
    assert result.exit_code == 0, result.output
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "rank @ 4" in text and "rank @ 8" in text
    assert "Multi-objective tasks: hypervolume regret" in text


def test_runs_without_several_objectives_get_no_hypervolume_section() -> None:
    from tuneful.bench.mo_report import hypervolume_section

    run = Run("a", "t", 0, np.array([1.0]), np.ones(1))
    assert hypervolume_section([run]) == []


def test_run_checks_its_points_against_its_losses() -> None:
    with pytest.raises(ValueError, match="points has shape"):
        Run("a", "t", 0, np.zeros(2), np.ones(2), points=np.zeros((3, 2)))


# --- end to end: cells of several objectives -------------------------------------------


def test_zdt_cells_record_every_objective_and_resume(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'mo.db'}"
    bench = Benchmark(
        "mo",
        tasks=["zdt/zdt1/d3"],
        optimizers=["random", "nsga2", "optuna-nsga2", "optuna-default"],
        seeds=1,
        budget=12,
        storage=storage,
    )
    outcome = bench.run()
    assert not outcome.failed and len(outcome.ran) == 4
    study = tuneful.load_study(study_name("mo", Cell("nsga2", "zdt/zdt1/d3", 0)), storage=storage)
    assert list(study.directions) == ["minimize", "minimize"]
    assert all(len(t.values) == 2 for t in study.trials)
    runs = load_runs(storage, "mo")
    assert {r.optimizer for r in runs} == {"random", "nsga2", "optuna-nsga2", "optuna-default"}
    for run in runs:
        assert run.multi_objective and run.points.shape == (12, 2)
        assert run.normalized and np.all(np.diff(run.losses) <= 1e-12)
        assert run.meta["hypervolume"]["source"] == "known"
    again = Benchmark(
        "mo", tasks=["zdt/zdt1/d3"], optimizers=["nsga2"], seeds=1, budget=12, storage=storage
    ).run()
    assert len(again.skipped) == 1 and not again.ran


def test_constrained_task_reports_its_constraints(tmp_path: Path) -> None:
    pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'c.db'}"
    task_id = "zdt/zdt1/d3@f1<=0.5"
    outcome = Benchmark(
        "c",
        tasks=[task_id],
        optimizers=["tpe", "optuna-nsga2"],
        seeds=1,
        budget=15,
        storage=storage,
    ).run()
    assert not outcome.failed
    study = tuneful.load_study(study_name("c", Cell("tpe", task_id, 0)), storage=storage)
    for trial in study.trials:
        assert trial.constraints == pytest.approx([trial.values[0] - 0.5])
    assert study.user_attrs["bench"]["constraints"] == ["f1 <= 0.5"]
    runs = load_runs(storage, "c")
    for run in runs:
        expected = run.points[:, 0] <= 0.5
        assert run.feasible.tolist() == expected.tolist()
        assert run.meta["hypervolume"]["source"] == "union"  # the constraint cuts the front
    from tuneful.bench.mo_report import hypervolume_section

    text = "\n".join(hypervolume_section(runs))
    assert "f1 <= 0.5" in text and "Share of feasible evaluations" in text


def test_single_objective_peer_on_a_multi_objective_task_fails_without_a_study(
    tmp_path: Path,
) -> None:
    pytest.importorskip("optuna")
    storage = f"sqlite:///{tmp_path / 'x.db'}"
    outcome = Benchmark(
        "x",
        tasks=["zdt/zdt1/d3"],
        optimizers=["optuna-tpe"],
        seeds=1,
        budget=5,
        storage=storage,
    ).run()
    (message,) = outcome.failed.values()
    assert "optimizes one objective" in message and "optuna-nsga2" in message
    assert not tuneful.list_studies(storage=storage)


def test_choosing_one_objective_makes_a_single_objective_task() -> None:
    from tuneful.bench.tasks import load_task

    task = load_task("zdt/zdt1/d4:f1")
    assert task.n_optimized == 1 and task.reference_point is None
    assert task.id == "zdt/zdt1/d4:f1"
    assert load_task("zdt/zdt1/d4").multi_objective


def test_multi_objective_adapters_are_registered() -> None:
    from tuneful.bench.adapters import get_adapter, multi_objective_adapters

    names = multi_objective_adapters()
    for name in ("optuna-default", "optuna-motpe", "optuna-nsga2", "optuna-nsga3", "optuna-random"):
        assert name in names
    assert "optuna-tpe" not in names
    assert (
        get_adapter("optuna-nsga3").describe()["call"].startswith("optuna.samplers.NSGAIIISampler")
    )


def test_optuna_default_is_what_optuna_picks_for_several_objectives() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    picked = optuna.create_study(directions=["minimize", "minimize"]).sampler
    assert get_default_call().startswith(f"optuna.samplers.{type(picked).__name__}(")


def get_default_call() -> str:
    from tuneful.bench.adapters import get_adapter

    return str(get_adapter("optuna-default").describe()["call"])


def test_hv_regret_is_finite_between_zero_and_one() -> None:
    for run in _synthetic(tasks=1, seeds=1):
        assert all(0.0 <= v <= 1.0 and math.isfinite(v) for v in run.losses)


def test_cli_optimizers_says_which_take_several_objectives(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tuneful.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["bench", "optimizers"])
    assert stopped.value.code in (0, None)
    rows = {
        cells[0]: cells[2]
        for line in capsys.readouterr().out.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) >= 3
    }
    assert rows["nsga2"] == rows["optuna-nsga3"] == rows["optuna-default"] == "several"
    assert rows["cmaes"] == rows["optuna-tpe"] == "one"
