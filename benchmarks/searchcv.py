"""TunefulSearchCV beside RandomizedSearchCV and an Optuna TPE search, at equal fits.

On three datasets shipped with scikit-learn (breast cancer, digits, wine; nothing is
downloaded) and several seeds, each seed splits the data 75/25 (stratified) and every method
tunes the same pipeline (StandardScaler + SVC with C and gamma on log scales) on the training
part with the same 5-fold CV and the same number of candidates (30 by default: 150 fits),
then refits the best on the training part and scores it on the held-out part. Reported per
dataset and method: the mean held-out accuracy over seeds (± standard deviation), the mean
best CV score, the median wall time of the search (fit + refit) and the mean number of fits.

Methods:

- ``random``: scikit-learn's RandomizedSearchCV over scipy's loguniform distributions.
- ``optuna-tpe``: Optuna's TPESampler, each trial cross-validated by ``cross_validate`` on
  the same folds: the loop ``OptunaSearchCV`` runs (without pruning), written here because
  ``OptunaSearchCV`` lives in the separate ``optuna-integration`` package (see ``--help``;
  when it is installed, ``optuna-searchcv`` runs the real one).
- ``tuneful``: TunefulSearchCV, optimizer "auto", no scheduler (every fold: equal fits).
- ``tuneful-asha``: TunefulSearchCV with scheduler "asha": the same number of candidates,
  fewer fits (weak candidates stop after 1 or 3 folds); not an equal-fit comparison, shown
  for what pruning saves.

Searches run one at a time per worker (n_jobs=1); ``--jobs`` runs that many searches side by
side, so wall times are comparable only within one run of this script.

Usage::

    python benchmarks/searchcv.py --jobs 2                 # 3 datasets x 5 seeds, ~10 min
    python benchmarks/searchcv.py --seeds 2 --candidates 10 --json out.json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

DATASETS = ["breast_cancer", "digits", "wine"]
METHODS = ["random", "optuna-tpe", "tuneful", "tuneful-asha"]
C_RANGE = (1e-2, 1e3)
GAMMA_RANGE = (1e-5, 1e0)


def _data(name: str, seed: int) -> tuple[Any, Any, Any, Any]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def _pipeline() -> Any:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC())


def _random(X: Any, y: Any, cv: Any, n: int, seed: int) -> tuple[Any, float, int]:
    from scipy.stats import loguniform
    from sklearn.model_selection import RandomizedSearchCV

    space = {"svc__C": loguniform(*C_RANGE), "svc__gamma": loguniform(*GAMMA_RANGE)}
    search = RandomizedSearchCV(_pipeline(), space, n_iter=n, cv=cv, random_state=seed)
    search.fit(X, y)
    return search, float(search.best_score_), n * cv.get_n_splits()


def _tuneful(X: Any, y: Any, cv: Any, n: int, seed: int, scheduler: Any) -> tuple[Any, float, int]:
    import tuneful
    from tuneful.integrations.sklearn import TunefulSearchCV

    space = {
        "svc__C": tuneful.Float(*C_RANGE, log=True),
        "svc__gamma": tuneful.Float(*GAMMA_RANGE, log=True),
    }
    search = TunefulSearchCV(
        _pipeline(), space, n_trials=n, cv=cv, scheduler=scheduler, random_state=seed
    )
    search.fit(X, y)
    fits = int(np.sum(search.cv_results_["n_steps"]))
    return search, float(search.best_score_), fits


def _optuna_tpe(X: Any, y: Any, cv: Any, n: int, seed: int) -> tuple[Any, float, int]:
    import optuna
    from sklearn.base import clone
    from sklearn.model_selection import cross_validate

    optuna.logging.set_verbosity(logging.WARNING)
    splits = list(cv.split(X, y))

    def objective(trial: Any) -> float:
        model = clone(_pipeline()).set_params(
            svc__C=trial.suggest_float("svc__C", *C_RANGE, log=True),
            svc__gamma=trial.suggest_float("svc__gamma", *GAMMA_RANGE, log=True),
        )
        return float(np.mean(cross_validate(model, X, y, cv=splits)["test_score"]))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n)
    best = clone(_pipeline()).set_params(**study.best_params).fit(X, y)
    return best, float(study.best_value), n * len(splits)


def _optuna_searchcv(X: Any, y: Any, cv: Any, n: int, seed: int) -> tuple[Any, float, int]:
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(logging.WARNING)
    space = {
        "svc__C": optuna.distributions.FloatDistribution(*C_RANGE, log=True),
        "svc__gamma": optuna.distributions.FloatDistribution(*GAMMA_RANGE, log=True),
    }
    search = OptunaSearchCV(_pipeline(), space, n_trials=n, cv=cv, random_state=seed)
    search.fit(X, y)
    return search, float(search.best_score_), n * cv.get_n_splits()


def run_one(dataset: str, method: str, seed: int, candidates: int) -> dict[str, Any]:
    """One search: its held-out accuracy, best CV score, wall time and number of fits."""
    from sklearn.model_selection import StratifiedKFold

    X_train, X_test, y_train, y_test = _data(dataset, seed)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    start = time.perf_counter()
    if method == "random":
        model, cv_score, fits = _random(X_train, y_train, cv, candidates, seed)
    elif method == "optuna-tpe":
        model, cv_score, fits = _optuna_tpe(X_train, y_train, cv, candidates, seed)
    elif method == "optuna-searchcv":
        model, cv_score, fits = _optuna_searchcv(X_train, y_train, cv, candidates, seed)
    else:
        scheduler = "asha" if method == "tuneful-asha" else None
        model, cv_score, fits = _tuneful(X_train, y_train, cv, candidates, seed, scheduler)
    seconds = time.perf_counter() - start
    return {
        "dataset": dataset,
        "method": method,
        "seed": seed,
        "test_accuracy": float(model.score(X_test, y_test)),
        "cv_score": cv_score,
        "seconds": seconds,
        "fits": fits,
    }


def table(runs: list[dict[str, Any]], methods: list[str]) -> str:
    lines = [
        "| dataset | method | held-out accuracy (mean ± sd) | best CV score | wall s (median) "
        "| fits |",
        "|---|---|---|---|---|---|",
    ]
    for dataset in DATASETS:
        for method in methods:
            rows = [r for r in runs if r["dataset"] == dataset and r["method"] == method]
            if not rows:
                continue
            test = np.array([r["test_accuracy"] for r in rows])
            spread = test.std(ddof=1) if len(test) > 1 else 0.0
            lines.append(
                f"| {dataset} | {method} | {test.mean():.4f} ± {spread:.4f} "
                f"| {np.mean([r['cv_score'] for r in rows]):.4f} "
                f"| {np.median([r['seconds'] for r in rows]):.1f} "
                f"| {np.mean([r['fits'] for r in rows]):.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=30, help="candidates per search")
    parser.add_argument("--jobs", type=int, default=1, help="searches run side by side")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated")
    parser.add_argument("--json", help="write every run to this file")
    args = parser.parse_args()
    methods = args.methods.split(",")
    if "optuna-searchcv" not in methods:
        try:
            import optuna_integration  # noqa: F401

            methods.insert(2, "optuna-searchcv")
        except ImportError:
            print("optuna-integration is not installed: OptunaSearchCV not run", file=sys.stderr)
    tasks = [(d, m, s) for s in range(args.seeds) for d in DATASETS for m in methods]
    runs: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_one, d, m, s, args.candidates) for d, m, s in tasks]
        for i, future in enumerate(futures, 1):
            runs.append(future.result())
            r = runs[-1]
            print(
                f"[{i}/{len(tasks)}] {r['dataset']} {r['method']} seed {r['seed']}: "
                f"{r['test_accuracy']:.4f} in {r['seconds']:.1f}s",
                file=sys.stderr,
            )
    print(table(runs, methods))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"candidates": args.candidates, "runs": runs}, handle, indent=1)


if __name__ == "__main__":
    main()
