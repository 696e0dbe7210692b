"""TunefulCallback and hyperparameter_search for Hugging Face Transformers, run against the
real Trainer on a tiny model built in the test (CPU, no downloads)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

import tuneful  # noqa: E402
from tuneful.errors import (  # noqa: E402
    MetricNotFoundError,
    MissingDependencyError,
    SpaceError,
    StudyError,
)
from tuneful.integrations.transformers import (  # noqa: E402
    TunefulCallback,
    hyperparameter_search,
)

logging.getLogger("transformers").setLevel(logging.ERROR)
SRC = Path(tuneful.__file__).resolve().parents[1]


class Regressor(torch.nn.Module):
    """A 2-layer MLP with the Trainer's calling convention: a dict batch in, loss out."""

    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def forward(self, x: Any, labels: Any = None) -> dict[str, Any]:
        prediction = self.net(x)
        out = {"logits": prediction}
        if labels is not None:
            out["loss"] = torch.nn.functional.mse_loss(prediction, labels)
        return out


def dataset(n: int = 64, seed: int = 0) -> list[dict[str, Any]]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    return [{"x": x[i], "labels": y[i]} for i in range(n)]


def arguments(tmp_path: Path, **overrides: Any) -> Any:
    options: dict[str, Any] = dict(
        output_dir=str(tmp_path / "out"),
        max_steps=12,
        per_device_train_batch_size=16,
        learning_rate=1e-3,
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="no",
        logging_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    options.update(overrides)
    return transformers.TrainingArguments(**options)


def trainer_for(tmp_path: Path, callbacks: list[Any] | None = None, **kwargs: Any) -> Any:
    options: dict[str, Any] = dict(
        args=arguments(tmp_path),
        train_dataset=dataset(),
        eval_dataset=dataset(32, seed=1),
        callbacks=callbacks,
    )
    options.update(kwargs)
    if "model_init" not in options:
        options.setdefault("model", Regressor())
    return transformers.Trainer(**options)


def space() -> tuneful.Space:
    return tuneful.Space(learning_rate=tuneful.Float(1e-5, 0.3, log=True))


def test_callback_tuning_with_asha_prunes_trials_and_records_their_curves(
    tmp_path: Path,
) -> None:
    study = tuneful.create_study(
        space=space(),
        storage="memory://",
        seed=1,
        scheduler={"name": "asha", "settings": {"min_budget": 2, "max_budget": 12}},
    )

    def objective(trial: tuneful.Trial) -> float:
        trainer = trainer_for(
            tmp_path,
            callbacks=[TunefulCallback(trial, metric="eval_loss")],
            args=arguments(tmp_path, learning_rate=trial.params["learning_rate"]),
        )
        trainer.train()
        return float(trainer.evaluate()["eval_loss"])

    study.optimize(objective, n_trials=8, show_progress_bar=False)

    pruned = study.get_trials(["PRUNED"])
    complete = study.get_trials(["COMPLETE"])
    assert len(study.trials) == 8 and pruned and complete
    for trial in complete:
        assert sorted(trial.intermediate) == [2, 4, 6, 8, 10, 12]  # global steps
        assert trial.intermediate[12] == pytest.approx(trial.value, rel=1e-5)
    for trial in pruned:
        stopped_at = trial.system_attrs["pruned"]["step"]
        assert sorted(trial.intermediate) == list(range(2, stopped_at + 1, 2))
        assert stopped_at < 12


def test_pruned_trial_stops_training_at_the_step_it_was_stopped(tmp_path: Path) -> None:
    study = tuneful.create_study(
        space=space(),
        storage="memory://",
        seed=0,
        scheduler={"name": "asha", "settings": {"min_budget": 2}},
    )
    good = study.ask({"learning_rate": 0.01})
    for step in (2, 6):
        good.report(step=step, value=0.0)
    study.tell(good, 0.0)
    bad = study.ask({"learning_rate": 1e-5})
    trainer = trainer_for(tmp_path, callbacks=[TunefulCallback(bad)])
    with pytest.raises(tuneful.Pruned, match=f"trial {bad.number} stopped .* at step 2"):
        trainer.train()
    assert trainer.state.global_step == 2  # the Trainer left its loop at the next check
    record = study.tell(bad, state="PRUNED")
    assert record.intermediate.keys() == {2}


def test_evaluation_after_training_is_not_reported(tmp_path: Path) -> None:
    study = tuneful.create_study(space=space(), storage="memory://", seed=0, scheduler="none")
    trial = study.ask()
    trainer = trainer_for(tmp_path, callbacks=[TunefulCallback(trial)])
    trainer.train()
    trainer.evaluate()
    assert sorted(trial.record().intermediate) == [2, 4, 6, 8, 10, 12]


def test_missing_metric_names_the_key_and_the_logged_metrics(tmp_path: Path) -> None:
    study = tuneful.create_study(space=space(), storage="memory://", seed=0)
    trainer = trainer_for(tmp_path, callbacks=[TunefulCallback(study.ask(), metric="loss")])
    with pytest.raises(MetricNotFoundError, match=r"'loss'.*'eval_loss'.*did you mean"):
        trainer.train()


def model_init(trial: tuneful.Trial | None) -> Any:
    return Regressor(hidden=trial.params["hidden"] if trial is not None else 8)


def test_hyperparameter_search_tunes_training_arguments_and_prunes(tmp_path: Path) -> None:
    seen: list[Any] = []

    def init(trial: tuneful.Trial | None) -> Any:
        seen.append(trial)
        return model_init(trial)

    trainer = trainer_for(tmp_path, model_init=init)
    best = hyperparameter_search(
        trainer,
        tuneful.Space(
            learning_rate=tuneful.Float(1e-5, 0.3, log=True),
            per_device_train_batch_size=tuneful.Categorical([8, 16]),
            hidden=tuneful.Int(2, 16),
        ),
        n_trials=8,
        storage=f"sqlite:///{tmp_path / 'hp.db'}",
        study_name="hp",
        seed=2,
        scheduler={"name": "asha", "settings": {"min_budget": 2, "max_budget": 12}},
    )
    study = best.run_summary
    assert isinstance(study, tuneful.Study)
    best_trial = study.best_trial
    assert best.run_id == str(best_trial.number)
    assert best.objective == best_trial.value
    assert best.hyperparameters == best_trial.params
    assert best_trial.intermediate[12] == pytest.approx(best.objective)
    assert study.get_trials(["PRUNED"]), [t.state for t in study.trials]
    assert len(tuneful.load_study("hp", storage=study.storage_url).trials) == 8
    # model_init got the trial; the arguments went back to what they were
    assert all(isinstance(t, tuneful.Trial) for t in seen[1:])
    assert trainer.args.learning_rate == 1e-3
    assert trainer.args.per_device_train_batch_size == 16
    assert trainer.args.output_dir == str(tmp_path / "out")


def test_hyperparameter_search_sets_arguments_of_each_trial(tmp_path: Path) -> None:
    used: list[tuple[float, int, str]] = []

    class Spy(transformers.TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            used.append((args.learning_rate, state.train_batch_size, args.output_dir))

    trainer = trainer_for(tmp_path, model_init=lambda: Regressor(), callbacks=[Spy()])

    def hp_space(trial: tuneful.Trial) -> dict[str, Any]:
        return {
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
            "per_device_train_batch_size": trial.suggest_categorical(
                "per_device_train_batch_size", [4, 32]
            ),
        }

    best = hyperparameter_search(
        trainer,
        hp_space,
        n_trials=2,
        storage="memory://",
        scheduler="none",
        seed=0,
        direction="minimize",
    )
    study = best.run_summary
    expected = [
        (
            t.params["learning_rate"],
            t.params["per_device_train_batch_size"],
            str(tmp_path / "out" / f"run-{t.number}"),
        )
        for t in study.trials
    ]
    assert used == expected


def test_hyperparameter_search_with_two_objectives_returns_the_pareto_front(
    tmp_path: Path,
) -> None:
    trainer = trainer_for(tmp_path, model_init=lambda: Regressor())
    runs = hyperparameter_search(
        trainer,
        {"learning_rate": tuneful.Float(1e-4, 1e-2, log=True)},
        n_trials=3,
        direction=["minimize", "maximize"],
        compute_objective=lambda m: [m["eval_loss"], -m["eval_loss"]],
        storage="memory://",
        seed=0,
    )
    assert isinstance(runs, list) and runs
    study = runs[0].run_summary
    assert [r.run_id for r in runs] == [str(t.number) for t in study.best_trials]
    assert [r.objective for r in runs] == [list(t.values) for t in study.best_trials]
    assert all(not t.intermediate for t in study.trials)  # nothing reported: no pruning


def test_hyperparameter_search_refuses_a_parameter_nothing_reads(tmp_path: Path) -> None:
    trainer = trainer_for(tmp_path, model_init=lambda: Regressor())
    with pytest.raises(SpaceError, match="'learnig_rate'.*did you mean 'learning_rate'"):
        hyperparameter_search(
            trainer, {"learnig_rate": tuneful.Float(1e-4, 1e-2)}, n_trials=1, storage="memory://"
        )

    def hp_space(trial: tuneful.Trial) -> dict[str, Any]:
        return {"warmup": trial.suggest_int("warmup", 0, 3)}

    with pytest.raises(SpaceError, match="'warmup' is not a TrainingArguments field"):
        hyperparameter_search(trainer, hp_space, n_trials=1, storage="memory://")


def test_hyperparameter_search_needs_model_init(tmp_path: Path) -> None:
    with pytest.raises(StudyError, match="model_init"):
        hyperparameter_search(trainer_for(tmp_path), space(), n_trials=1, storage="memory://")


def test_import_without_transformers_raises_missing_dependency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.transformers")
    with pytest.raises(MissingDependencyError, match=r"pip install 'tuneful\[transformers\]'"):
        importlib.import_module("tuneful.integrations.transformers")


DDP_SCRIPT = """
import json, os, sys, warnings
warnings.filterwarnings("ignore")
sys.path[:0] = [{src!r}, {tests!r}]
from pathlib import Path
import transformers
import tuneful
from tuneful.integrations.transformers import TunefulCallback
from test_transformers import Regressor, arguments, dataset

transformers.logging.set_verbosity_error()
rank = int(os.environ["RANK"])
trial = None
if rank == 0:
    trial = tuneful.load_study("ddp", storage={storage!r}).ask({{"learning_rate": 1e-5}})
trainer = transformers.Trainer(
    model=Regressor(), args=arguments(Path({tmp!r}), use_cpu=True),
    train_dataset=dataset(), eval_dataset=dataset(32, seed=1), callbacks=[TunefulCallback(trial)])
try:
    trainer.train()
    outcome = "finished"
except tuneful.Pruned:
    outcome = "pruned"
    if trial is not None:
        trial.study.tell(trial, state="PRUNED")
result = {{"rank": rank, "outcome": outcome, "step": trainer.state.global_step,
          "world": trainer.args.world_size}}
import torch.distributed as dist
dist.destroy_process_group()
print(json.dumps(result), flush=True)
# gloo's threads can abort the interpreter's own shutdown (SIGABRT after the result is out);
# what the test checks is printed above, so leave without that teardown
os._exit(0)
"""


def test_distributed_run_reports_from_process_zero_and_stops_every_process(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'ddp.db'}"
    study = tuneful.create_study(
        "ddp",
        space=space(),
        storage=storage,
        scheduler={"name": "asha", "settings": {"min_budget": 2}},
    )
    good = study.ask({"learning_rate": 0.01})
    for step in (2, 6):
        good.report(step=step, value=0.0)
    study.tell(good, 0.0)
    script = tmp_path / "ddp_run.py"
    script.write_text(
        DDP_SCRIPT.format(
            src=str(SRC), tests=str(Path(__file__).parent), storage=storage, tmp=str(tmp_path)
        )
    )
    results = run_two_processes(script)
    assert [r["world"] for r in results] == [2, 2]
    assert [r["outcome"] for r in results] == ["pruned", "pruned"]
    assert [r["step"] for r in results] == [2, 2]
    trial = tuneful.load_study("ddp", storage=storage).get_trial(1)
    assert trial.state is tuneful.TrialState.PRUNED
    assert trial.intermediate.keys() == {2}


def run_two_processes(script: Path) -> list[dict[str, Any]]:
    """Run ``script`` as ranks 0 and 1 of a torch.distributed world (as torchrun would)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    processes = []
    for rank in (0, 1):
        env = dict(
            os.environ,
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            WORLD_SIZE="2",
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            LOCAL_WORLD_SIZE="2",
            PYTHONPATH=str(SRC),
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True
            )
        )
    results = []
    for process in processes:
        out, _ = process.communicate(timeout=240)
        assert process.returncode == 0, (process.returncode, out)
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_docs_examples_run_and_prune() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "transformers.md"
    blocks = [b.split("```")[0] for b in page.read_text().split("```python\n")[1:]]
    search, callback = blocks[0], blocks[1]
    namespace: dict[str, Any] = {"__name__": "docs_example"}
    exec(compile(search, str(page), "exec"), namespace)
    study = tuneful.load_study("bert-example", storage="sqlite:///transformers.db")
    assert len(study.trials) == 8
    assert study.get_trials(["PRUNED"]) and study.get_trials(["COMPLETE"])
    assert namespace["best"].run_id == str(study.best_trial.number)
    exec(compile(callback, str(page), "exec"), namespace)
    assert len(namespace["study"].trials) == 8
    assert namespace["study"].get_trials(["PRUNED"])
