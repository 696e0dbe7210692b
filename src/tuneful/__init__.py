"""tuneful: hyperparameter optimization with typed conditional spaces and durable studies.

Example:
    >>> import tuneful
    >>> space = tuneful.Space(x=tuneful.Float(-5, 5), n=tuneful.Int(1, 4))
    >>> study = tuneful.create_study("quick", space=space, storage="memory://", seed=1)
    >>> study.optimize(lambda t: t.params["x"] ** 2 + t.params["n"], n_trials=20,
    ...                show_progress_bar=False)
    >>> study.best_value < 5
    True
"""

from __future__ import annotations

from tuneful import errors
from tuneful._lifecycle import create_study, delete_study, list_studies, load_study
from tuneful.execution.dask import DaskExecutor
from tuneful.optimizers import Optimizer, available_optimizers, register_optimizer
from tuneful.records import History, StudySummary, TrialRecord, TrialState
from tuneful.space import Categorical, Fixed, Float, Int, Space
from tuneful.study import Study
from tuneful.trial import Pruned, Trial

__version__ = "0.1.0"

__all__ = [
    "Space",
    "Float",
    "Int",
    "Categorical",
    "Fixed",
    "Study",
    "Trial",
    "TrialRecord",
    "TrialState",
    "StudySummary",
    "History",
    "Pruned",
    "Optimizer",
    "create_study",
    "load_study",
    "delete_study",
    "list_studies",
    "available_optimizers",
    "register_optimizer",
    "DaskExecutor",
    "errors",
    "__version__",
]
