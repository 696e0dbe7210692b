"""Run an Optuna script on tuneful with one line changed::

    import tuneful.compat.optuna as optuna

``create_study``, ``load_study``, samplers and pruners (mapped by name to tuneful's optimizers
and schedulers), ``trial.suggest_*``, ``trial.report(value, step)``, ``should_prune``,
``optuna.TrialPruned``, ``study.optimize(callbacks=, catch=, n_jobs=)``, ``study.stop()``,
``enqueue_trial``, ``add_trial(create_trial(...))``, ask/tell, ``best_*`` and
``trials_dataframe`` behave as Optuna's. What cannot be faithful is refused with the tuneful
way (e.g. ``optuna.visualization`` -> ``tuneful.viz``). The study itself is a tuneful study
(``study.native``): the dashboard and ``tuneful show`` read it.

Studies move between the two storages with :func:`import_study` and :func:`export_study`
(``tuneful import optuna`` / ``tuneful export optuna``); those need Optuna installed, the rest
of this module does not.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from tuneful._lifecycle import create_study as _create_native
from tuneful._lifecycle import delete_study as _delete_native
from tuneful._lifecycle import list_studies as _list_native
from tuneful._lifecycle import load_study as _load_native
from tuneful.compat._optuna_choices import (
    BasePruner,
    BaseSampler,
    CmaEsSampler,
    GPSampler,
    GridSampler,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    NSGAIIISampler,
    NSGAIISampler,
    PercentilePruner,
    QMCSampler,
    RandomSampler,
    SuccessiveHalvingPruner,
    TPESampler,
)
from tuneful.compat._optuna_io import export_study, import_study, optuna_study_names
from tuneful.compat._optuna_objects import (
    CategoricalDistribution,
    FloatDistribution,
    FrozenTrial,
    IntDistribution,
    StudyDirection,
    TrialPruned,
    TrialState,
    create_trial,
)
from tuneful.compat._optuna_study import Study, Trial
from tuneful.errors import StorageError, StudyError
from tuneful.storage import Storage
from tuneful.storage.urls import redact_url

__all__ = [
    "create_study",
    "load_study",
    "delete_study",
    "get_all_study_names",
    "import_study",
    "export_study",
    "optuna_study_names",
    "Study",
    "Trial",
    "TrialPruned",
    "TrialState",
    "FrozenTrial",
    "create_trial",
    "samplers",
    "pruners",
    "distributions",
    "trial",
    "study",
    "exceptions",
    "logging",
]


class _Namespace(SimpleNamespace):
    """``optuna.samplers`` and friends: a name this layer does not map says so."""

    def __init__(self, label: str, hint: str, **names: Any) -> None:
        super().__init__(**names)
        self.__dict__["_label"] = label
        self.__dict__["_hint"] = hint

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        shown = sorted(k for k in self.__dict__ if not k.startswith("_"))
        raise AttributeError(
            f"tuneful.compat.optuna.{self.__dict__['_label']} has no {name!r} (mapped: "
            f"{shown}); {self.__dict__['_hint']}"
        )


samplers = _Namespace(
    "samplers",
    "see tuneful.available_optimizers() for tuneful's own",
    BaseSampler=BaseSampler,
    TPESampler=TPESampler,
    RandomSampler=RandomSampler,
    CmaEsSampler=CmaEsSampler,
    GPSampler=GPSampler,
    NSGAIISampler=NSGAIISampler,
    NSGAIIISampler=NSGAIIISampler,
    QMCSampler=QMCSampler,
    GridSampler=GridSampler,
)
pruners = _Namespace(
    "pruners",
    "tuneful's schedulers are 'median', 'asha', 'hyperband', 'curve' (tuneful.schedulers)",
    BasePruner=BasePruner,
    MedianPruner=MedianPruner,
    PercentilePruner=PercentilePruner,
    SuccessiveHalvingPruner=SuccessiveHalvingPruner,
    HyperbandPruner=HyperbandPruner,
    NopPruner=NopPruner,
)
distributions = _Namespace(
    "distributions",
    "tuneful's parameters are tuneful.Float, Int, Categorical, Fixed",
    FloatDistribution=FloatDistribution,
    IntDistribution=IntDistribution,
    CategoricalDistribution=CategoricalDistribution,
)
trial = _Namespace(
    "trial",
    "see tuneful.Trial",
    Trial=Trial,
    FrozenTrial=FrozenTrial,
    TrialState=TrialState,
    create_trial=create_trial,
)
exceptions = _Namespace(
    "exceptions",
    "tuneful's errors are in tuneful.errors",
    TrialPruned=TrialPruned,
    DuplicatedStudyError=StudyError,
)


def _set_verbosity(level: int) -> None:
    """Accepted and ignored: tuneful logs through the standard ``logging`` module."""
    del level


logging = _Namespace(
    "logging",
    "tuneful logs to the standard logger 'tuneful'",
    set_verbosity=_set_verbosity,
    disable_default_handler=lambda: None,
    enable_default_handler=lambda: None,
    CRITICAL=50,
    FATAL=50,
    ERROR=40,
    WARNING=30,
    WARN=30,
    INFO=20,
    DEBUG=10,
)


def _storage(storage: Any) -> str | os.PathLike[str] | Storage:
    """Optuna's default storage is in memory; a URL is used as tuneful's."""
    if storage is None:
        return "memory://"
    if isinstance(storage, str | os.PathLike | Storage):
        return storage
    raise StudyError(
        f"storage={storage!r}: tuneful.compat.optuna takes a storage URL (sqlite:///file.db, "
        "postgresql://..., memory://) or None; Optuna's storage objects are not tuneful's "
        "(bring an Optuna study over with `tuneful import optuna`)"
    )


@contextmanager
def _optuna_database_hint(storage: Any) -> Iterator[None]:
    """An Optuna database given as the storage: say how to bring its studies over."""
    try:
        yield
    except StorageError as exc:
        text = str(exc)
        if "study_directions" in text and "not tuneful's" in text:
            raise StorageError(
                f"storage {redact_url(str(storage))!r} is an Optuna database: "
                "tuneful.compat.optuna runs on tuneful storages. Bring its studies over "
                f"with `tuneful import optuna --from {redact_url(str(storage))} --storage "
                "sqlite:///tuneful.db` and pass that storage"
            ) from None
        raise


def _directions(direction: Any, directions: Sequence[Any] | None) -> list[str] | None:
    def name(d: Any) -> str:
        return d.name.lower() if isinstance(d, StudyDirection) else str(d)

    if direction is not None and directions is not None:
        raise StudyError("create_study: give direction= or directions=, not both")
    if directions is not None:
        return [name(d) for d in directions]
    return None if direction is None else [name(direction)]


def _checked(sampler: Any, pruner: Any) -> None:
    if sampler is not None and not isinstance(sampler, BaseSampler):
        raise StudyError(
            f"sampler={sampler!r}: expected a sampler of tuneful.compat.optuna.samplers (an "
            "object of Optuna's own is not tuneful's)"
        )
    if pruner is not None and not isinstance(pruner, BasePruner):
        raise StudyError(f"pruner={pruner!r}: expected a pruner of tuneful.compat.optuna.pruners")


def create_study(
    *,
    storage: Any = None,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
    study_name: str | None = None,
    direction: Any = None,
    load_if_exists: bool = False,
    directions: Sequence[Any] | None = None,
) -> Study:
    """Optuna's ``create_study``. ``sampler=None`` and ``pruner=None`` take tuneful's defaults
    (the ``auto`` optimizer and scheduler); the storage defaults to memory, as Optuna's."""
    _checked(sampler, pruner)
    with _optuna_database_hint(storage):
        native = _create_native(
            study_name,
            directions=_directions(direction, directions),
            storage=_storage(storage),
            optimizer=None if sampler is None else sampler.optimizer(),
            scheduler=None if pruner is None else pruner.scheduler(),
            seed=None if sampler is None else sampler.seed,
            load_if_exists=load_if_exists,
        )
    study = Study(native, sampler, pruner)
    if isinstance(sampler, GridSampler) and not native.trials:
        for point in sampler.points():
            native.enqueue(point)
    return study


def load_study(
    *,
    study_name: str | None,
    storage: Any,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
) -> Study:
    """Optuna's ``load_study`` (``study_name=None``: the storage's only study)."""
    _checked(sampler, pruner)
    where = _storage(storage)
    if study_name is None:
        names = get_all_study_names(where)
        if len(names) != 1:
            raise StudyError(
                f"load_study(study_name=None): the storage holds {len(names)} studies "
                f"({names}); give study_name="
            )
        study_name = names[0]
    with _optuna_database_hint(storage):
        native = _load_native(
            study_name,
            storage=where,
            optimizer=None if sampler is None else sampler.optimizer(),
            scheduler=None if pruner is None else pruner.scheduler(),
        )
    return Study(native, sampler, pruner)


def delete_study(*, study_name: str, storage: Any) -> None:
    """Optuna's ``delete_study``."""
    _delete_native(study_name, storage=_storage(storage))


def get_all_study_names(storage: Any) -> list[str]:
    """Optuna's ``get_all_study_names``."""
    return [s.name for s in _list_native(storage=_storage(storage))]


study = _Namespace(
    "study",
    "see tuneful.Study",
    Study=Study,
    StudyDirection=StudyDirection,
    create_study=create_study,
    load_study=load_study,
    delete_study=delete_study,
    get_all_study_names=get_all_study_names,
)


_REFUSED = {
    "visualization": (
        "tuneful.compat.optuna.visualization: Optuna's plots read Optuna's objects; use "
        "tuneful.viz.study on study.native (plot_optimization_history -> plot_history, "
        "plot_intermediate_values -> plot_curves, plot_param_importances -> "
        "plot_importance, plot_pareto_front -> plot_pareto) or `tuneful plot`"
    ),
    "importance": (
        "tuneful.compat.optuna.importance: use "
        "tuneful.analysis.importance.importance(study.native) or `tuneful importance`"
    ),
    "integration": (
        "tuneful.compat.optuna.integration: use tuneful.integrations (each framework's "
        "callback reports to a tuneful trial)"
    ),
    "storages": (
        "tuneful.compat.optuna.storages: pass a storage URL (sqlite:///..., postgresql://..., "
        "journal://...); Optuna's storage objects are not tuneful's"
    ),
    "copy_study": (
        "tuneful.compat.optuna.copy_study: use import_study / export_study (tuneful import "
        "optuna, tuneful export optuna)"
    ),
    "get_all_study_summaries": "tuneful.compat.optuna: use tuneful.list_studies(storage=...)",
}


def __getattr__(name: str) -> Any:
    if name in _REFUSED:
        raise AttributeError(_REFUSED[name])
    raise AttributeError(
        f"tuneful.compat.optuna has no {name!r}: it maps {sorted(__all__)}; for the rest, "
        "use tuneful's own API (see docs/from-optuna.md)"
    )
