"""The benchmark runner: cells as studies, resume after interruption, runs for statistics."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.bench import Benchmark, load_runs, parse_budget, study_name
from tuneful.bench.cells import Cell
from tuneful.bench.runner import resolve_optimizer
from tuneful.bench.tasks import Objective, Task
from tuneful.errors import SpecError, StudyNotFoundError
from tuneful.records import TrialState


class Parabola(Task):
    """A maximized 2-D task with a cost metric; can be told to be interrupted once (Ctrl-C at
    call ``interrupt_at``), or to kill its process (at call ``exit_at``)."""

    interrupt_at: int | None = None
    exit_at: int | None = None
    calls = 0

    def evaluate(self, config: Mapping[str, Any], fidelity: float | None = None) -> dict:
        self.space.validate(config)
        type(self).calls += 1
        if type(self).interrupt_at is not None and type(self).calls == type(self).interrupt_at:
            type(self).interrupt_at = None
            raise KeyboardInterrupt
        if type(self).exit_at is not None and type(self).calls == type(self).exit_at:
            os._exit(1)  # what a kill leaves behind: the trial stays RUNNING
        score = -((config["x"] - 0.3) ** 2) - 0.1 * (config["k"] == "b")
        return {"score": score, "seconds": 0.5}


def _parabola(task_id: str) -> Parabola:
    return Parabola(
        id=task_id,
        space=tuneful.Space(x=tuneful.Float(0.0, 1.0), k=tuneful.Categorical(["a", "b"])),
        objectives=(Objective("score", "maximize", optimum=0.0),),
        cost="seconds",
    )


@pytest.fixture
def fake_tasks(monkeypatch: pytest.MonkeyPatch) -> type[Parabola]:
    Parabola.calls = 0
    Parabola.interrupt_at = None
    Parabola.exit_at = None
    monkeypatch.setattr(
        "tuneful.bench.tasks.load_task", lambda task_id, data_dir=None: _parabola(task_id)
    )
    return Parabola


@pytest.mark.parametrize(
    ("expression", "dim", "expected"),
    [("20+40sqrt(d)", 2, 77), ("20+40sqrt(d)", 10, 147), ("10d", 3, 30), (15, 4, 15)],
)
def test_budget_expressions(expression: str | int, dim: int, expected: int) -> None:
    assert parse_budget(expression, dim) == expected


@pytest.mark.parametrize("bad", ["import os", "d+", "0", "__import__('os')", "sqrt(d, 2)"])
def test_bad_budget_expressions(bad: str) -> None:
    with pytest.raises(SpecError, match="budget"):
        parse_budget(bad, 2)


def test_cells_are_studies_and_runs_load_back(fake_tasks: type[Parabola], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    bench = Benchmark(
        "t", tasks=["p/1", "p/2"], optimizers=["random", "sobol"], seeds=2, budget=6, storage=url
    )
    outcome = bench.run()
    assert len(outcome.ran) == 8 and not outcome.failed
    study = tuneful.load_study(study_name("t", Cell("sobol", "p/1", 1)), storage=url)
    attrs = study.user_attrs["bench"]
    assert attrs["optimizer_info"]["package"] == "tuneful" and attrs["budget"] == 6
    assert attrs["direction"] == "maximize" and attrs["seed"] == 1
    runs = load_runs(url, "t")
    assert len(runs) == 8
    run = next(r for r in runs if (r.optimizer, r.task, r.seed) == ("sobol", "p/1", 1))
    values = [t.value for t in study.trials]
    np.testing.assert_allclose(run.losses, [-v for v in values])  # maximized: negated
    np.testing.assert_allclose(run.costs, 1.0)  # one per full-fidelity evaluation
    assert study.trials[0].user_attrs["cost"] == 0.5  # the task's own cost metric is kept
    assert run.optimum == 0.0
    assert bench.run().skipped and not bench.run().ran  # everything already done


def test_interrupted_benchmark_resumes(fake_tasks: type[Parabola], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    whole = Benchmark("whole", tasks=["p/1"], optimizers=["sobol"], seeds=1, budget=8, storage=url)
    whole.run()
    fake_tasks.calls = 0
    fake_tasks.interrupt_at = 4
    parts = Benchmark("parts", tasks=["p/1"], optimizers=["sobol"], seeds=1, budget=8, storage=url)
    with pytest.raises(KeyboardInterrupt):
        parts.run()
    assert parts.run().ran  # resumes the interrupted cell
    trials = tuneful.load_study(study_name("parts", Cell("sobol", "p/1", 0)), storage=url).trials
    cut, retry = trials[3], trials[4]
    assert "metrics" not in cut.user_attrs and "interrupted" in (cut.error or "")
    assert retry.params == cut.params and retry.system_attrs["retry_of"] == 3
    (resumed,) = load_runs(url, "parts")
    (uninterrupted,) = load_runs(url, "whole")
    assert len(resumed.losses) == 8
    # the evaluations before and at the cut are those of the uninterrupted run
    np.testing.assert_allclose(resumed.losses[:4], uninterrupted.losses[:4])
    assert parts.run().skipped


def test_killed_benchmark_cell_resumes_with_its_cut_trial(
    fake_tasks: type[Parabola], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    whole = Benchmark("whole", tasks=["p/1"], optimizers=["sobol"], seeds=1, budget=6, storage=url)
    whole.run()
    fake_tasks.calls = 0
    fake_tasks.exit_at = 3  # the worker process dies during the third evaluation
    killed = Benchmark("kill", tasks=["p/1"], optimizers=["sobol"], seeds=1, budget=6, storage=url)
    with pytest.raises(BrokenProcessPool):
        killed.run(jobs=2)
    fake_tasks.exit_at = None
    name = study_name("kill", Cell("sobol", "p/1", 0))
    assert tuneful.load_study(name, storage=url).trials[2].state is TrialState.RUNNING
    resumed = Benchmark("kill", tasks=["p/1"], optimizers=["sobol"], seeds=1, budget=6, storage=url)
    assert resumed.run().ran
    trials = tuneful.load_study(name, storage=url).trials
    cut, retry = trials[2], trials[3]
    assert cut.state is TrialState.FAIL and cut.error == "the benchmark run stopped"
    assert retry.params == cut.params and retry.system_attrs["retry_of"] == 2
    (run,) = load_runs(url, "kill")
    (uninterrupted,) = load_runs(url, "whole")
    assert len(run.losses) == 6
    # the evaluations before and at the cut are those of the uninterrupted run
    np.testing.assert_allclose(run.losses[:3], uninterrupted.losses[:3])


def test_peer_cells_restart_and_record_every_evaluation(
    fake_tasks: type[Parabola], tmp_path: Path
) -> None:
    pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'p.db'}"
    fake_tasks.interrupt_at = 3
    bench = Benchmark("p", tasks=["p/1"], optimizers=["optuna-tpe"], seeds=1, budget=5, storage=url)
    with pytest.raises(KeyboardInterrupt):
        bench.run()
    bench.run()
    (run,) = load_runs(url, "p")
    assert len(run.losses) == 5 and np.all(np.isfinite(run.losses))
    info = run.meta["optimizer"]
    assert info["package"] == "optuna" and info["defaults"] is True and info["version"]


def test_unavailable_and_unknown_optimizers(fake_tasks: type[Parabola], tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no-such-optimizer"):
        resolve_optimizer("no-such-optimizer")
    bench = Benchmark(
        "u",
        tasks=["p/1"],
        optimizers=["random"],
        seeds=1,
        budget=3,
        storage=f"sqlite:///{tmp_path / 'u.db'}",
    )
    assert bench.availability() == {"random": None}
    with pytest.raises(StudyNotFoundError, match="nothing"):
        load_runs(f"sqlite:///{tmp_path / 'u.db'}", "nothing")


def test_parallel_jobs_on_sqlite(fake_tasks: type[Parabola], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'j.db'}"
    bench = Benchmark(
        "j", tasks=["p/1", "p/2"], optimizers=["random", "sobol"], seeds=2, budget=4, storage=url
    )
    outcome = bench.run(jobs=2)
    assert len(outcome.ran) == 8 and not outcome.failed
    assert all(len(r.losses) == 4 for r in load_runs(url, "j"))


def test_real_bbob_task_end_to_end(tmp_path: Path) -> None:
    pytest.importorskip("cocoex")
    url = f"sqlite:///{tmp_path / 'bbob.db'}"
    Benchmark(
        "bb", tasks=["bbob/f1/d2/i1"], optimizers=["random"], seeds=1, budget="5", storage=url
    ).run()
    (run,) = load_runs(url, "bb")
    assert run.optimum is not None and np.all(run.losses >= run.optimum)
