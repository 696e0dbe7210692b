"""PyTorch Lightning: a callback that reports the monitored metric after each validation and
stops the run when the study's scheduler stops the trial.

Example (``Net`` being a LightningModule that logs ``val_loss``; ``loaders`` its data)::

    import lightning.pytorch as pl
    import tuneful
    from tuneful.integrations.lightning import TunefulCallback

    def objective(trial):
        trainer = pl.Trainer(max_epochs=27, callbacks=[TunefulCallback(trial, monitor="val_loss")])
        trainer.fit(Net(lr=trial.params["lr"]), *loaders)   # raises tuneful.Pruned when stopped
        return trainer.callback_metrics["val_loss"].item()

    study = tuneful.create_study(space=tuneful.Space(lr=tuneful.Float(1e-4, 1e-1, log=True)),
                                 scheduler="asha")
    study.optimize(objective, n_trials=30)

The callback derives from ``lightning.pytorch.Callback`` (the ``lightning`` package); where
only the standalone ``pytorch_lightning`` package is installed, from its ``Callback``. Either
Trainer runs it: Lightning calls a callback's hooks by name.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from tuneful._extras import require
from tuneful.errors import MissingDependencyError, TrialError
from tuneful.integrations._dl_ranks import (
    Outcome,
    check_trial,
    metric_value,
    pruned_message,
    report_on_rank_zero,
)
from tuneful.trial import Pruned, Trial

__all__ = ["TunefulCallback"]


def _lightning() -> ModuleType:
    """``lightning.pytorch``, else the standalone ``pytorch_lightning``."""
    try:
        return require("lightning.pytorch", "lightning", "tuneful.integrations.lightning")
    except MissingDependencyError:
        try:
            return importlib.import_module("pytorch_lightning")
        except ImportError:
            raise MissingDependencyError(
                "tuneful.integrations.lightning needs lightning, which is not installed: "
                "pip install 'tuneful[lightning]'"
            ) from None


_pl = _lightning()

if TYPE_CHECKING:
    from lightning.pytorch import Callback as _Callback
else:
    _Callback = _pl.Callback

_STEPS = ("epoch", "global_step")


class TunefulCallback(_Callback):
    """Report ``monitor`` to the trial after each validation; stop the run when the study's
    scheduler stops the trial.

    After each validation run (never the sanity check Lightning runs before training), the
    value logged as ``monitor`` is reported with ``trial.report(step=, value=)``. When the
    scheduler stops the trial, the callback sets ``trainer.should_stop`` and raises
    :class:`tuneful.Pruned` out of ``trainer.fit`` (Lightning tears the run down as for any
    exception): in ``study.optimize`` the trial is recorded PRUNED with its curve; with ask
    and tell, catch ``tuneful.Pruned`` and ``study.tell(trial, state="PRUNED")``.

    Args:
        trial: the trial being trained. In a run over several processes started before
            ``fit`` (``strategy="ddp"``, torchrun, SLURM), only global rank 0 reports and
            needs the trial; the other ranks may pass None and stop when rank 0 says so.
        monitor: the name of a metric the LightningModule logs (``self.log("val_loss", ...)``)
            during validation.
        step: what a step of the curve counts: ``"epoch"`` (default), the number of epochs
            trained (1 after the first), or ``"global_step"``, the optimizer steps taken
            (for validation inside an epoch, ``val_check_interval`` below 1).

    Raises:
        TrialError: ``trial`` is not a tuneful Trial, ``step`` is unknown, rank 0 has no
            trial, or the callback was copied into processes that ``fit`` starts itself
            (``ddp_spawn``, ``ddp_fork``, ``ddp_notebook``), which cannot report to the
            trial of the process that made it.
        MetricNotFoundError: ``monitor`` was not logged in validation (names what was).
    """

    def __init__(
        self,
        trial: Trial | None,
        monitor: str = "val_loss",
        *,
        step: Literal["epoch", "global_step"] = "epoch",
    ) -> None:
        super().__init__()
        self._trial = check_trial(trial, "TunefulCallback", distributed=True)
        if not isinstance(monitor, str) or not monitor:
            raise TrialError(f"TunefulCallback monitor={monitor!r}: expected a metric name")
        if step not in _STEPS:
            raise TrialError(f"TunefulCallback step={step!r}: expected one of {list(_STEPS)}")
        self.monitor = monitor
        self.step = step
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        # A trial belongs to the process that asked it (its storage connection does not
        # travel): a copy made for spawned workers carries none, and refuses to run.
        state = dict(self.__dict__)
        state["_trial"] = None
        return state

    @property
    def trial(self) -> Trial | None:
        return self._trial

    def setup(self, trainer: Any, pl_module: Any, stage: str) -> None:
        if os.getpid() != self._pid:
            raise TrialError(
                f"TunefulCallback runs in process {os.getpid()}, which Lightning started inside "
                f"fit (strategy {type(trainer.strategy).__name__} with a spawning or forking "
                "launcher, e.g. ddp_spawn, ddp_fork, ddp_notebook); the trial stays with the "
                "process that created the callback. Use strategy='ddp' (one process per "
                "device, started before fit) or launch with torchrun"
            )

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:  # the steps Lightning runs before training, not a result
            return
        # Every rank checks the key: they all log the same names, so they all fail together.
        value = metric_value(
            trainer.callback_metrics,
            self.monitor,
            where="in validation (TunefulCallback monitor=)",
        )
        step = trainer.current_epoch + 1 if self.step == "epoch" else trainer.global_step
        broadcast = None
        if trainer.world_size > 1:

            def broadcast(outcome: Outcome) -> Outcome:
                return tuple(trainer.strategy.broadcast(outcome, src=0))

        reason = report_on_rank_zero(
            self._trial,
            is_rank_zero=trainer.is_global_zero,
            step=step,
            value=value,
            broadcast=broadcast,
        )
        if reason is not None:
            trainer.should_stop = True
            raise Pruned(pruned_message(self._trial, step, reason))
