"""A real study to try tuneful on: a support-vector classifier on scikit-learn's digits.

The data is split once into a training and a test part. Each trial scores a configuration
by 3-fold cross-validation on the training part; the test part is used once, at the end, to
score the best configuration: the number a paper would report.

Needs scikit-learn (``pip install 'tuneful[demo]'``).

Example:
    >>> from tuneful.demo import run_demo
    >>> result = run_demo(storage="memory://", n_trials=3, show_progress_bar=False)
    >>> 0.0 <= result.test_accuracy <= 1.0
    True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuneful._lifecycle import create_study
from tuneful.errors import MissingDependencyError
from tuneful.space import Categorical, Float, Int, Space
from tuneful.study import Study

if TYPE_CHECKING:
    import numpy as np

    from tuneful.storage import Storage
    from tuneful.trial import Trial

__all__ = ["STUDY_NAME", "SPACE", "DemoResult", "make_model", "run_demo"]

#: The study the demo writes to (and continues when it exists).
STUDY_NAME = "demo-svc"

#: The kernel decides which other parameters exist: gamma for rbf, degree and coef0 for poly.
SPACE = Space(
    kernel=Categorical(["rbf", "poly"]),
    C=Float(1e-2, 1e3, log=True),
    gamma=Float(1e-4, 1.0, log=True, when={"kernel": "rbf"}),
    degree=Int(2, 5, when={"kernel": "poly"}),
    coef0=Float(0.0, 1.0, when={"kernel": "poly"}),
)

_TEST_FRACTION = 0.25
_FOLDS = 3
_DATA_SEED = 0


@dataclass(frozen=True)
class DemoResult:
    """What the demo found.

    Attributes:
        study: the study, in its storage.
        new_trials: trials this call ran.
        best_number: the best trial's number.
        best_cv_accuracy: its mean cross-validation accuracy on the training part.
        best_params: its configuration.
        test_accuracy: the accuracy of that configuration, trained on the whole training
            part, on the held-out test part.
        n_train / n_test: images in each part.
    """

    study: Study
    new_trials: int
    best_number: int
    best_cv_accuracy: float
    best_params: dict[str, Any]
    test_accuracy: float
    n_train: int
    n_test: int


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingDependencyError(
            "the demo needs scikit-learn, which the demo extra installs: "
            "pip install 'tuneful[demo]' (in a checkout: pip install -e '.[demo]', or make demo)"
        ) from None


def make_model(params: dict[str, Any]) -> Any:
    """The classifier for one configuration of :data:`SPACE`."""
    from sklearn.svm import SVC

    if params["kernel"] == "rbf":
        return SVC(kernel="rbf", C=params["C"], gamma=params["gamma"])
    return SVC(kernel="poly", C=params["C"], degree=params["degree"], coef0=params["coef0"])


class _CrossValidation:
    """The objective: mean accuracy over stratified folds of the training part."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        self.X = X
        self.y = y

    def __call__(self, trial: Trial) -> float:
        from sklearn.model_selection import StratifiedKFold, cross_val_score

        folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=_DATA_SEED)
        scores = cross_val_score(make_model(trial.params), self.X, self.y, cv=folds)
        trial.set_user_attr("cv_std", float(scores.std()))
        return float(scores.mean())


def run_demo(
    *,
    storage: str | os.PathLike[str] | Storage | None = None,
    n_trials: int = 40,
    show_progress_bar: bool = True,
) -> DemoResult:
    """Tune the classifier for ``n_trials`` more trials and score the best on the test part.

    Args:
        storage: where the study lives (default ``./tuneful.db`` or ``$TUNEFUL_STORAGE``);
            an existing ``demo-svc`` study there is continued.
        n_trials: trials to run in this call.
        show_progress_bar: draw a progress bar on stderr.

    Raises:
        MissingDependencyError: scikit-learn is not installed.
        StudyError: a ``demo-svc`` study with another space exists in the storage.
    """
    _require_sklearn()
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities are 0..16
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=_TEST_FRACTION, stratify=y, random_state=_DATA_SEED
    )
    study = create_study(
        STUDY_NAME,
        space=SPACE,
        direction="maximize",
        storage=storage,
        seed=0,
        load_if_exists=True,
    )
    if study.space != SPACE:
        from tuneful.errors import StudyError

        raise StudyError(
            f"a study named {STUDY_NAME!r} with another space exists in {study.storage_url}; "
            f"delete it (tuneful delete {STUDY_NAME}) or use another storage"
        )
    study.optimize(
        _CrossValidation(X_train, y_train),
        n_trials=n_trials,
        show_progress_bar=show_progress_bar,
    )
    best = study.best_trial
    model = make_model(dict(best.params)).fit(X_train, y_train)
    return DemoResult(
        study=study,
        new_trials=n_trials,
        best_number=best.number,
        best_cv_accuracy=float(best.values[0]) if best.values else float("nan"),
        best_params=dict(best.params),
        test_accuracy=float(model.score(X_test, y_test)),
        n_train=len(y_train),
        n_test=len(y_test),
    )
