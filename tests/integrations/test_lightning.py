"""TunefulCallback for PyTorch Lightning, run against the real Trainer on a tiny MLP (CPU)."""

from __future__ import annotations

import importlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pl = pytest.importorskip("lightning.pytorch")
torch = pytest.importorskip("torch")

import tuneful  # noqa: E402
from tuneful.errors import MetricNotFoundError, MissingDependencyError, TrialError  # noqa: E402
from tuneful.integrations import lightning as tuneful_lightning  # noqa: E402
from tuneful.integrations._dl_ranks import report_on_rank_zero  # noqa: E402
from tuneful.integrations.lightning import TunefulCallback  # noqa: E402

SRC = Path(tuneful.__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*does not have many workers"),
    pytest.mark.filterwarnings("ignore:.*small number of batches"),
    pytest.mark.filterwarnings("ignore:.*isinstance\\(treespec, LeafSpec\\)"),
]


def make_module(base: type, lr: float) -> Any:
    """A 2-layer MLP regressing random data; logs val_loss (1e3 in the sanity check)."""

    class Net(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
            )

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            return torch.nn.functional.mse_loss(self.net(x), y)

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=lr)

    return Net()


def loaders(seed: int = 0) -> tuple[Any, Any]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 4, generator=generator)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    data = torch.utils.data.TensorDataset(x, y)
    return (
        torch.utils.data.DataLoader(data, batch_size=32),
        torch.utils.data.DataLoader(data, batch_size=64),
    )


def make_trainer(module: Any, callback: Any, max_epochs: int, **options: Any) -> Any:
    return module.Trainer(
        max_epochs=max_epochs,
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        enable_progress_bar=False,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        **options,
    )


def space() -> tuneful.Space:
    return tuneful.Space(lr=tuneful.Float(1e-4, 0.2, log=True))


def test_tuning_with_asha_prunes_trials_and_records_their_curves() -> None:
    torch.manual_seed(0)
    study = tuneful.create_study(
        space=space(),
        storage="memory://",
        seed=3,
        scheduler={"name": "asha", "settings": {"max_budget": 6}},
    )

    def objective(trial: tuneful.Trial) -> float:
        trainer = make_trainer(pl, TunefulCallback(trial, monitor="val_loss"), max_epochs=6)
        trainer.fit(make_module(pl.LightningModule, trial.params["lr"]), *loaders())
        return float(trainer.callback_metrics["val_loss"])

    study.optimize(objective, n_trials=8, show_progress_bar=False)

    states = [t.state for t in study.trials]
    assert len(states) == 8
    pruned = study.get_trials(["PRUNED"])
    complete = study.get_trials(["COMPLETE"])
    assert pruned and complete, states
    for trial in complete:
        assert sorted(trial.intermediate) == [1, 2, 3, 4, 5, 6]  # epochs trained, no sanity check
        assert trial.intermediate[6] == pytest.approx(trial.value)
    for trial in pruned:
        stopped_at = trial.system_attrs["pruned"]["step"]
        assert sorted(trial.intermediate) == list(range(1, stopped_at + 1))
        assert stopped_at < 6


def test_sanity_check_steps_are_not_reported() -> None:
    study = tuneful.create_study(space=space(), storage="memory://", seed=0, scheduler="none")
    trial = study.ask()
    reported: list[dict[str, Any]] = []
    report = trial.report
    trial.report = lambda **kw: (reported.append(kw), report(**kw))[1]  # type: ignore[method-assign]
    trainer = make_trainer(pl, TunefulCallback(trial), max_epochs=2, num_sanity_val_steps=1)
    trainer.fit(make_module(pl.LightningModule, 0.01), *loaders())
    assert [r["step"] for r in reported] == [1, 2]
    assert study.tell(trial, 0.5).intermediate.keys() == {1, 2}


def test_global_step_counts_optimizer_steps() -> None:
    study = tuneful.create_study(space=space(), storage="memory://", seed=0, scheduler="none")
    trial = study.ask()
    trainer = make_trainer(pl, TunefulCallback(trial, step="global_step"), max_epochs=2)
    trainer.fit(make_module(pl.LightningModule, 0.01), *loaders())
    assert sorted(trial.record().intermediate) == [2, 4]  # 2 batches of 32 per epoch


def test_ask_and_tell_pruned_trial_raises_pruned_out_of_fit() -> None:
    study = tuneful.create_study(
        space=space(), storage="memory://", seed=0, scheduler={"name": "asha"}
    )
    good = study.ask({"lr": 0.05})
    for epoch in (1, 2, 3):
        good.report(step=epoch, value=0.0)
    study.tell(good, 0.0)
    bad = study.ask({"lr": 0.0001})
    trainer = make_trainer(pl, TunefulCallback(bad), max_epochs=5)
    with pytest.raises(tuneful.Pruned, match=f"trial {bad.number} stopped .* at step 1"):
        trainer.fit(make_module(pl.LightningModule, 0.0001), *loaders())
    assert trainer.should_stop
    assert trainer.current_epoch == 0
    record = study.tell(bad, state="PRUNED")
    assert record.state is tuneful.TrialState.PRUNED
    assert record.intermediate.keys() == {1}


def test_missing_monitor_names_the_key_and_the_logged_metrics() -> None:
    study = tuneful.create_study(space=space(), storage="memory://", seed=0)
    trainer = make_trainer(pl, TunefulCallback(study.ask(), monitor="val_los"), max_epochs=1)
    with pytest.raises(MetricNotFoundError, match=r"'val_los'.*\['val_loss'\].*did you mean"):
        trainer.fit(make_module(pl.LightningModule, 0.01), *loaders())


def test_pytorch_lightning_trainer_runs_the_callback() -> None:
    standalone = pytest.importorskip("pytorch_lightning")
    study = tuneful.create_study(space=space(), storage="memory://", seed=0, scheduler="none")
    trial = study.ask()
    trainer = make_trainer(standalone, TunefulCallback(trial), max_epochs=2)
    trainer.fit(make_module(standalone.LightningModule, 0.01), *loaders())
    assert sorted(trial.record().intermediate) == [1, 2]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TrialError, match="expected a tuneful.Trial"):
        TunefulCallback(object())  # type: ignore[arg-type]
    with pytest.raises(TrialError, match=r"step='epochs'"):
        TunefulCallback(None, step="epochs")  # type: ignore[arg-type]


def test_rank_zero_without_a_trial_is_refused() -> None:
    trainer = make_trainer(pl, TunefulCallback(None), max_epochs=1)
    with pytest.raises(TrialError, match="rank 0 has trial=None"):
        trainer.fit(make_module(pl.LightningModule, 0.01), *loaders())


def test_processes_started_inside_fit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    callback = TunefulCallback(None)
    monkeypatch.setattr(tuneful_lightning.os, "getpid", lambda: -1)  # as in a spawned worker
    trainer = make_trainer(pl, callback, max_epochs=1)
    with pytest.raises(TrialError, match="strategy='ddp'"):
        trainer.fit(make_module(pl.LightningModule, 0.01), *loaders())


def test_other_ranks_follow_rank_zero_decision() -> None:
    sent: list[tuple[str, str]] = []

    def from_rank_zero(outcome: tuple[str, str]) -> tuple[str, str]:
        sent.append(outcome)  # what this rank offered; rank 0's outcome comes back
        return ("stop", "rank 3 of 3 at rung 1")

    reason = report_on_rank_zero(
        None, is_rank_zero=False, step=1, value=0.5, broadcast=from_rank_zero
    )
    assert reason == "rank 3 of 3 at rung 1"
    assert sent == [("go", "")]  # a rank other than 0 never reports

    def failed(_: tuple[str, str]) -> tuple[str, str]:
        return ("error", "StorageError: disk full")

    with pytest.raises(RuntimeError, match="rank 0 could not report.*disk full"):
        report_on_rank_zero(None, is_rank_zero=False, step=1, value=0.5, broadcast=failed)


def test_import_without_lightning_raises_missing_dependency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "tuneful.integrations.lightning")
    with pytest.raises(MissingDependencyError, match=r"pip install 'tuneful\[lightning\]'"):
        importlib.import_module("tuneful.integrations.lightning")


DDP_SCRIPT = """
import json, os, sys, warnings
warnings.filterwarnings("ignore")
sys.path[:0] = [{src!r}, {tests!r}]
import lightning.pytorch as pl
import torch.distributed as dist
import tuneful
from tuneful.integrations.lightning import TunefulCallback
from test_lightning import loaders, make_module

# The pattern of docs/integrations/lightning.md: rank 0 asks, every rank trains its parameters.
dist.init_process_group("gloo")
rank = dist.get_rank()
study = tuneful.load_study("ddp", storage={storage!r}) if rank == 0 else None
trial = study.ask({{"lr": 0.0001}}) if study is not None else None
box = [trial.params if trial is not None else None]
dist.broadcast_object_list(box, src=0)
params = box[0]
trainer = pl.Trainer(max_epochs=5, accelerator="cpu", devices=2, strategy="ddp",
                     callbacks=[TunefulCallback(trial)], enable_progress_bar=False, logger=False,
                     enable_checkpointing=False, enable_model_summary=False)
try:
    trainer.fit(make_module(pl.LightningModule, params["lr"]), *loaders())
    outcome = "finished"
except tuneful.Pruned:
    outcome = "pruned"
    if study is not None:
        study.tell(trial, state="PRUNED")
result = {{"rank": rank, "outcome": outcome, "epoch": trainer.current_epoch,
          "world": trainer.world_size, "lr": params["lr"]}}
dist.destroy_process_group()
print(json.dumps(result), flush=True)
# gloo's threads can abort the interpreter's own shutdown (SIGABRT after the result is out);
# what the test checks is printed above, so leave without that teardown
os._exit(0)
"""


def test_ddp_over_two_processes_reports_from_rank_zero_and_stops_every_rank(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'ddp.db'}"
    study = tuneful.create_study("ddp", space=space(), storage=storage, scheduler="asha")
    good = study.ask({"lr": 0.05})
    for epoch in (1, 2, 3):
        good.report(step=epoch, value=0.0)
    study.tell(good, 0.0)
    script = tmp_path / "ddp_run.py"
    script.write_text(
        textwrap.dedent(
            DDP_SCRIPT.format(src=str(SRC), tests=str(Path(__file__).parent), storage=storage)
        )
    )
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
            NODE_RANK="0",
            RANK=str(rank),
            LOCAL_RANK=str(rank),
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
    assert [(r["world"], r["lr"]) for r in results] == [(2, 0.0001), (2, 0.0001)]
    assert [r["outcome"] for r in results] == ["pruned", "pruned"]
    assert results[0]["epoch"] == results[1]["epoch"] == 0
    trial = tuneful.load_study("ddp", storage=storage).get_trial(1)
    assert trial.state is tuneful.TrialState.PRUNED
    assert trial.intermediate.keys() == {1}


def test_docs_example_runs_and_prunes() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "integrations" / "lightning.md"
    example = page.read_text().split("```python\n")[1].split("```")[0]
    exec(compile(example, str(page), "exec"), {"__name__": "docs_example"})
    study = tuneful.load_study("lightning-example", storage="sqlite:///lightning.db")
    assert len(study.trials) == 12
    assert study.get_trials(["PRUNED"]) and study.get_trials(["COMPLETE"])
