"""Hugging Face Transformers: a TrainerCallback that reports an evaluation metric and stops
pruned runs, and :func:`hyperparameter_search`, ``Trainer.hyperparameter_search`` with a
tuneful study behind it.

Example (``model_init``, ``train_data`` and ``eval_data`` being the user's)::

    import tuneful
    from transformers import Trainer, TrainingArguments
    from tuneful.integrations.transformers import TunefulCallback, hyperparameter_search

    args = TrainingArguments("out", eval_strategy="steps", eval_steps=50, max_steps=500,
                             report_to="none")
    trainer = Trainer(model_init=model_init, args=args, train_dataset=train_data,
                      eval_dataset=eval_data)
    best = hyperparameter_search(
        trainer,
        tuneful.Space(learning_rate=tuneful.Float(1e-5, 1e-3, log=True),
                      per_device_train_batch_size=tuneful.Categorical([8, 16, 32])),
        n_trials=30, scheduler="asha")
    best.hyperparameters   # {'learning_rate': ..., 'per_device_train_batch_size': ...}

Transformers' own ``Trainer.hyperparameter_search(backend=...)`` accepts only the backends it
ships (Optuna, Ray Tune, W&B), hence a function that takes the Trainer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tuneful._extras import require
from tuneful.errors import SpaceError, StudyError, TrialError, did_you_mean
from tuneful.integrations._dl_ranks import (
    Outcome,
    check_trial,
    metric_value,
    pruned_message,
    report_on_rank_zero,
)
from tuneful.space import Parameter, Space
from tuneful.trial import Pruned, Trial

_transformers = require("transformers", "transformers", "tuneful.integrations.transformers")

if TYPE_CHECKING:
    from transformers import TrainerCallback as _TrainerCallback
    from transformers.trainer_utils import BestRun

    from tuneful.study import Study
else:
    _TrainerCallback = _transformers.TrainerCallback

__all__ = ["TunefulCallback", "hyperparameter_search"]


class TunefulCallback(_TrainerCallback):
    """Report ``metric`` at each evaluation during training; stop the training when the
    study's scheduler stops the trial.

    At each evaluation the Trainer runs while it trains (``eval_strategy="steps"`` or
    ``"epoch"``), the metric is reported with ``trial.report(step=state.global_step,
    value=...)``. When the scheduler stops the trial, the callback sets
    ``control.should_training_stop``; the Trainer ends its loop as it does at ``max_steps``,
    and at its ``on_train_end`` the callback raises :class:`tuneful.Pruned` out of
    ``trainer.train()``: in ``study.optimize`` the trial is recorded PRUNED with its curve;
    with ask and tell, catch ``tuneful.Pruned`` and ``study.tell(trial, state="PRUNED")``.
    Evaluations outside ``train()`` (``trainer.evaluate()`` afterwards) are not reported: the
    objective returns that result.

    In a distributed run (``torchrun``, ``accelerate launch``), only the world's process zero
    reports and needs the trial (the others may pass None); every process learns the decision
    through ``torch.distributed`` and stops at the same step.

    Args:
        trial: the trial being trained.
        metric: a key of the evaluation metrics, as the Trainer names them (``"eval_loss"``,
            ``"eval_accuracy"`` for a ``compute_metrics`` that returns ``accuracy``).

    Raises:
        TrialError: ``trial`` is not a tuneful Trial, or process zero has none.
        MetricNotFoundError: ``metric`` is not among the evaluation's metrics (names those).
    """

    def __init__(self, trial: Trial | None, metric: str = "eval_loss") -> None:
        self._trial = check_trial(trial, "TunefulCallback", distributed=True)
        if not isinstance(metric, str) or not metric:
            raise TrialError(f"TunefulCallback metric={metric!r}: expected a metric name")
        self.metric = metric
        self._training = False
        self._stopped: tuple[int, str] | None = None

    @property
    def trial(self) -> Trial | None:
        return self._trial

    def value(self, metrics: Mapping[str, Any]) -> Any:
        """The number to report from an evaluation's ``metrics``."""
        return metric_value(
            metrics, self.metric, where="by the evaluation (TunefulCallback metric=)"
        )

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._training = True
        self._stopped = None

    def on_evaluate(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not self._training:
            return
        value = self.value(kwargs.get("metrics") or {})
        step = int(state.global_step)
        reason = report_on_rank_zero(
            self._trial,
            is_rank_zero=bool(state.is_world_process_zero),
            step=step,
            value=value,
            broadcast=_broadcast(args),
        )
        if reason is not None:
            control.should_training_stop = True
            self._stopped = (step, reason)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._training = False
        if self._stopped is not None:
            step, reason = self._stopped
            self._stopped = None
            raise Pruned(pruned_message(self._trial, step, reason))


def _broadcast(args: Any) -> Callable[[Outcome], Outcome] | None:
    """Send process zero's outcome to every process (None in a run of one process)."""
    if getattr(args, "world_size", 1) <= 1:
        return None
    import torch.distributed

    def send(outcome: Outcome) -> Outcome:
        box: list[Any] = [outcome]
        torch.distributed.broadcast_object_list(box, src=0)
        return tuple(box[0])

    return send


class _ObjectiveCallback(TunefulCallback):
    """Reports ``compute_objective(metrics)``, as the Trainer's own search reports it, and
    keeps the last one: the trial's objective."""

    def __init__(self, trial: Trial, compute: Callable[[dict[str, float]], Any]) -> None:
        super().__init__(trial, metric="objective")
        self._compute = compute
        self.last: Any = None

    def value(self, metrics: Mapping[str, Any]) -> Any:
        self.last = self._compute(dict(metrics))
        return self.last


HpSpace = Space | Mapping[str, Parameter] | Callable[[Trial], Mapping[str, Any]]


def hyperparameter_search(
    trainer: Any,
    space: HpSpace,
    *,
    n_trials: int = 20,
    direction: str | Sequence[str] = "minimize",
    compute_objective: Callable[[dict[str, float]], Any] | None = None,
    storage: str | os.PathLike[str] | None = None,
    study_name: str | None = None,
    optimizer: str | dict[str, Any] | None = None,
    scheduler: str | dict[str, Any] | None = None,
    seed: int | None = None,
    load_if_exists: bool = False,
    timeout: float | None = None,
) -> BestRun | list[BestRun]:
    """Tune a Trainer's arguments with a tuneful study, as ``Trainer.hyperparameter_search``
    does with Optuna: each trial sets ``TrainingArguments`` fields from its parameters, builds
    a fresh model with the Trainer's ``model_init`` (given the trial when it takes one
    argument), trains, and scores the run with ``compute_objective`` (transformers'
    ``default_compute_objective``: the evaluation loss, or the sum of the metrics when
    ``compute_metrics`` gives some). The objective is that of the last evaluation during
    training, reported at each one (``step`` = global step) so that the study's scheduler can
    stop a trial early; without an evaluation during training, ``trainer.evaluate()`` gives
    it. Checkpoints go to ``<output_dir>/run-<trial number>``.

    Args:
        trainer: a ``transformers.Trainer`` built with ``model_init=``.
        space: a :class:`tuneful.Space` (or a dict name -> parameter) whose names are
            ``TrainingArguments`` fields, or parameters ``model_init`` reads from the trial;
            or, as transformers' ``hp_space``, a function of the trial returning that dict
            (``trial.suggest_float(...)``; the study is then defined as it runs).
        n_trials: how many trials this call runs.
        direction: "minimize" or "maximize", or one per objective when ``compute_objective``
            returns several (then nothing is reported during training: no early stopping).
        compute_objective: the objective from the evaluation's metrics.
        storage, study_name, optimizer, scheduler, seed, load_if_exists: as in
            :func:`tuneful.create_study` (the study stays in ``storage`` for ``tuneful show``
            and the dashboard).
        timeout: stop starting trials after this many seconds.

    Returns:
        transformers' ``BestRun``: ``run_id`` (the trial number, as a string), ``objective``,
        ``hyperparameters`` (the trial's parameters) and ``run_summary`` (the
        :class:`tuneful.Study`); with several directions, a list, one per Pareto-optimal trial.

    Raises:
        StudyError: the Trainer has no ``model_init``, or runs over several processes.
        SpaceError: a parameter is neither a ``TrainingArguments`` field nor read by
            ``model_init`` (which takes no argument).
    """
    import tuneful

    _check_trainer(trainer)
    declared = _declared(space)
    if declared is not None:
        _check_names(trainer, declared.names)
    directions = [direction] if isinstance(direction, str) else list(direction)
    study = tuneful.create_study(
        study_name,
        space=declared,
        directions=directions,
        storage=storage,
        optimizer=optimizer,
        scheduler=scheduler,
        seed=seed,
        load_if_exists=load_if_exists,
    )
    compute = compute_objective or _transformers.trainer_utils.default_compute_objective
    objective = _objective(trainer, space, declared is not None, len(directions) == 1, compute)
    # As the Trainer's own search: an exception in a trial fails it and ends the search.
    study.optimize(objective, n_trials=n_trials, timeout=timeout, catch=(), show_progress_bar=False)
    return _best_runs(study)


def _objective(
    trainer: Any,
    space: HpSpace,
    declared: bool,
    report: bool,
    compute: Callable[[dict[str, float]], Any],
) -> Callable[[Trial], Any]:
    """One trial of the search: set the Trainer up, train, and score the run."""

    def objective(trial: Trial) -> Any:
        params = dict(trial.params) if declared else dict(space(trial))  # type: ignore[operator]
        callback = _ObjectiveCallback(trial, compute) if report else None
        with _trial_setup(trainer, trial, params, callback):
            trainer.train()
            if callback is not None and callback.last is not None:
                return callback.last
            return compute(trainer.evaluate())

    return objective


def _best_runs(study: Study) -> BestRun | list[BestRun]:
    """transformers' BestRun of the best trial; with several objectives, of each
    Pareto-optimal one."""
    best_run = _transformers.trainer_utils.BestRun
    if len(study.directions) == 1:
        best = study.best_trial
        return best_run(str(best.number), best.value, dict(best.params), study)
    return [
        best_run(str(t.number), list(t.values or ()), dict(t.params), study)
        for t in study.best_trials
    ]


def _declared(space: Any) -> Space | None:
    """The declared space, or None for a function of the trial (define-by-run)."""
    if isinstance(space, Space):
        return space
    if isinstance(space, Mapping):
        return Space.from_dict(space)
    if callable(space):
        return None
    raise SpaceError(
        f"hyperparameter_search space={space!r}: expected a tuneful.Space, a dict name -> "
        "parameter, or a function of the trial returning the parameters"
    )


def _check_trainer(trainer: Any) -> None:
    if getattr(trainer, "model_init", None) is None:
        raise StudyError(
            "hyperparameter_search needs a Trainer built with model_init= (a function "
            "returning a fresh model, optionally of the trial), as Trainer.hyperparameter_search "
            "does: each trial trains a new model"
        )
    if trainer.args.world_size > 1:
        raise StudyError(
            f"hyperparameter_search runs its trials in one process (this Trainer's world size "
            f"is {trainer.args.world_size}); for a distributed run, ask the trial on process "
            "zero, broadcast its parameters, and pass TunefulCallback(trial) to the Trainer"
        )


def _takes_trial(model_init: Callable[..., Any]) -> bool:
    return len(inspect.signature(model_init).parameters) == 1


def _check_names(trainer: Any, names: Iterable[str]) -> None:
    """Raise SpaceError for a parameter that would change nothing: not a TrainingArguments
    field, while model_init takes no trial to read it from."""
    if _takes_trial(trainer.model_init):
        return
    fields = {f.name for f in dataclasses.fields(trainer.args)}
    for name in names:
        if name not in fields:
            raise SpaceError(
                f"parameter {name!r} is not a TrainingArguments field"
                f"{did_you_mean(name, fields)}, and model_init takes no trial to read it from"
            )


@contextlib.contextmanager
def _trial_setup(
    trainer: Any, trial: Trial, params: dict[str, Any], callback: TunefulCallback | None
) -> Iterator[None]:
    """The Trainer set up for ``trial``, and restored afterwards (arguments, model_init,
    callbacks), also when the trial is pruned or fails."""
    args = trainer.args
    model_init = trainer.model_init
    takes_trial = _takes_trial(model_init)
    fields = {f.name for f in dataclasses.fields(args)}
    given = {"output_dir": os.path.join(args.output_dir or ".", f"run-{trial.number}")}
    _check_names(trainer, params)
    for key, value in params.items():
        if key in fields:
            old = getattr(args, key)
            # cast as the Trainer's own search does: an int field stays an int
            given[key] = type(old)(value) if old is not None else value
    saved = {key: getattr(args, key) for key in given}
    for key, value in given.items():
        setattr(args, key, value)
    if takes_trial:
        trainer.model_init = lambda: model_init(trial)
    if callback is not None:
        trainer.add_callback(callback)
    try:
        _rebuild(trainer)
        yield
    finally:
        if callback is not None:
            trainer.remove_callback(callback)
        trainer.model_init = model_init
        for key, value in saved.items():
            setattr(args, key, value)
        _rebuild(trainer)


def _rebuild(trainer: Any) -> None:
    """Make the Trainer read its arguments again, as its own search does between trials."""
    # The Trainer reads the batch size it trains with from here, not from its arguments.
    trainer._train_batch_size = trainer.args.train_batch_size
    trainer.create_accelerator_and_postprocess()
