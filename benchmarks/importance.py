"""Parameter importance: tuneful's fANOVA beside Optuna's on the same trials, and the time of
both libraries' fANOVA and PED-ANOVA at 1,000 and 10,000 trials, in one run.

Agreement: six studies of different kinds are run with tuneful (synthetic functions whose
answer is known, sampled uniformly or by a model-based optimizer, and two small
scikit-learn models on the digits data); each study's completed trials are copied into an
in-memory Optuna study (``optuna.trial.create_trial`` + ``study.add_trials``) and ranked by
``FanovaImportanceEvaluator(seed=0)`` (64 trees, Optuna's default) and by
``tuneful.analysis.importance.importance(method="fanova", seed=0)``. Reported per study: the
Spearman rank correlation of the two libraries' shares over the parameters, the top three of
each, the largest difference of one parameter's normalized share, and PED-ANOVA's
correlation with Optuna's ``PedAnovaImportanceEvaluator`` beside it.
Where a study has log-scaled parameters, tuneful's fANOVA is also run with them declared
linear, the scale Optuna's fANOVA measures on, to separate a disagreement of scale from one
of method. Conditional parameters are left out of these studies on purpose: Optuna's
evaluators rank only the parameters present in every trial, so a branchy space would not
compare like with like.

Time: a 8-parameter study (floats, a log float, an int, a categorical) with a noisy objective
of known structure, random search, 1,000 and 10,000 trials. Each method is timed once per
size after one untimed warm-up call (imports, first calls), all in the same process:
tuneful's fANOVA with pairs (its default) and without (what Optuna computes), tuneful's
PED-ANOVA with its bootstrap (30 resamples, the default) and without, Optuna's fANOVA and
PED-ANOVA (which has no uncertainty). Optuna's fANOVA grows past ten minutes at 10,000
trials on a small machine, so there it is timed with ``--optuna-trees`` trees (default 2)
and scaled to 64 by the ratio of trees (its cost is one independent pass per tree); the
table says so. ``--full`` times it with 64 trees instead.

Usage::

    python benchmarks/importance.py                       # both parts, ~2-3 minutes
    python benchmarks/importance.py --part time --json out.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

import tuneful
from tuneful.analysis.importance import importance
from tuneful.analysis.trials import StudyData

DEFAULT_TREES = 64
UNIT = tuneful.Float(0.0, 1.0)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the studies ------------------------------------------------------------------------------
def _run(
    space: tuneful.Space,
    objective: Callable[[dict[str, Any]], float],
    n_trials: int,
    optimizer: str,
    *,
    direction: str = "minimize",
    seed: int = 0,
) -> StudyData:
    study = tuneful.create_study(
        space=space, direction=direction, storage="memory://", optimizer=optimizer, seed=seed
    )
    study.optimize(lambda t: objective(t.params), n_trials=n_trials, show_progress_bar=False)
    return StudyData.of(study)


def additive() -> StudyData:
    """3 x1 + 1.5 x2 + 8 (x1 - ½)(x3 - ½), x4 idle; uniform sampling."""
    space = tuneful.Space(x1=UNIT, x2=UNIT, x3=UNIT, x4=UNIT)

    def f(p: dict[str, Any]) -> float:
        return 3 * p["x1"] + 1.5 * p["x2"] + 8 * (p["x1"] - 0.5) * (p["x3"] - 0.5)

    return _run(space, f, 500, "random")


_HARTMANN_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
     [17, 8, 0.05, 10, 0.1, 14]]
)  # fmt: skip
_HARTMANN_P = 1e-4 * np.array(
    [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
)  # fmt: skip
_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6() -> StudyData:
    """Hartmann's 6-D function, sampled by tuneful's TPE (dense near the optimum)."""
    space = tuneful.Space(**{f"x{i}": UNIT for i in range(1, 7)})

    def f(p: dict[str, Any]) -> float:
        x = np.array([p[f"x{i}"] for i in range(1, 7)])
        inner = np.sum(_HARTMANN_A * (x - _HARTMANN_P) ** 2, axis=1)
        return float(-np.sum(_HARTMANN_ALPHA * np.exp(-inner)))

    return _run(space, f, 300, "tpe")


def branin_idle() -> StudyData:
    """Branin on x1 ∈ [-5, 10], x2 ∈ [0, 15] with three idle parameters; Sobol points."""
    space = tuneful.Space(
        x1=tuneful.Float(-5.0, 10.0), x2=tuneful.Float(0.0, 15.0), i1=UNIT, i2=UNIT, i3=UNIT
    )

    def f(p: dict[str, Any]) -> float:
        x1, x2 = p["x1"], p["x2"]
        b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
        return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10

    return _run(space, f, 256, "sobol")


MIXED = tuneful.Space(
    lr=tuneful.Float(1e-5, 1e-1, log=True),
    layers=tuneful.Int(1, 8),
    optimizer=tuneful.Categorical(["adam", "sgd", "rmsprop"]),
    dropout=UNIT,
    warmup=UNIT,
    decay=UNIT,
    width=tuneful.Float(32.0, 1024.0),
    seed_noise=UNIT,
)
_OPTIMIZER_PENALTY = {"adam": 0.0, "sgd": 0.6, "rmsprop": 0.2}


def mixed_loss(p: dict[str, Any], noise: float = 0.0) -> float:
    """A made-up validation loss: the learning rate's log most, then layers, the optimizer,
    an lr × layers interaction, dropout a little, the rest nothing."""
    u = (math.log10(p["lr"]) + 3.0) / 2.0  # 0 at lr = 1e-3
    depth = (p["layers"] - 4) / 4
    return (
        u**2
        + 0.4 * depth**2
        + _OPTIMIZER_PENALTY[p["optimizer"]]
        + 0.5 * u * depth
        + 0.15 * p["dropout"]
        + noise
    )


def mixed() -> StudyData:
    """The made-up training loss over log, int, categorical and float parameters; TPE."""
    return _run(MIXED, mixed_loss, 300, "tpe")


def _digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x[:n] / 16.0, y[:n]


def svc_digits() -> StudyData:
    """An RBF support-vector classifier on 600 digits, 3-fold accuracy (maximized), tuneful's
    default optimizer: C, gamma, tol, shrinking, class_weight."""
    from sklearn.model_selection import cross_val_score
    from sklearn.svm import SVC

    x, y = _digits(600)
    space = tuneful.Space(
        C=tuneful.Float(1e-2, 1e3, log=True),
        gamma=tuneful.Float(1e-4, 1.0, log=True),
        tol=tuneful.Float(1e-5, 1e-1, log=True),
        shrinking=tuneful.Categorical([True, False]),
        class_weight=tuneful.Categorical(["none", "balanced"]),
    )

    def f(p: dict[str, Any]) -> float:
        weight = None if p["class_weight"] == "none" else "balanced"
        model = SVC(C=p["C"], gamma=p["gamma"], tol=p["tol"], shrinking=p["shrinking"],
                    class_weight=weight)  # fmt: skip
        return float(cross_val_score(model, x, y, cv=3).mean())

    return _run(space, f, 60, "auto", direction="maximize")


def sgd_digits() -> StudyData:
    """A linear classifier trained by SGD on 900 digits, 3-fold accuracy (maximized),
    random search: alpha, penalty, l1_ratio (used only by elasticnet), max_iter, tol."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import cross_val_score

    x, y = _digits(900)
    space = tuneful.Space(
        alpha=tuneful.Float(1e-6, 1.0, log=True),
        penalty=tuneful.Categorical(["l2", "l1", "elasticnet"]),
        l1_ratio=UNIT,
        max_iter=tuneful.Int(5, 50),
        tol=tuneful.Float(1e-5, 1e-1, log=True),
    )

    def f(p: dict[str, Any]) -> float:
        model = SGDClassifier(alpha=p["alpha"], penalty=p["penalty"], l1_ratio=p["l1_ratio"],
                              max_iter=p["max_iter"], tol=p["tol"], random_state=0)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return float(cross_val_score(model, x, y, cv=3).mean())

    return _run(space, f, 120, "random", direction="maximize")


STUDIES: dict[str, tuple[str, Callable[[], StudyData]]] = {
    "additive": ("synthetic, uniform, known shares", additive),
    "hartmann6": ("synthetic 6-D, TPE-sampled", hartmann6),
    "branin+3 idle": ("synthetic 2-D + 3 idle, Sobol", branin_idle),
    "mixed scales": ("log/int/categorical, TPE", mixed),
    "svc-digits": ("scikit-learn SVC, auto", svc_digits),
    "sgd-digits": ("scikit-learn SGD, random", sgd_digits),
}


# -- the same trials in Optuna -----------------------------------------------------------------
def to_optuna(data: StudyData) -> Any:
    """An in-memory Optuna study holding ``data``'s completed trials."""
    import optuna
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    distributions: dict[str, Any] = {}
    for name, p in data.definitions().items():
        if isinstance(p, tuneful.Categorical):
            distributions[name] = CategoricalDistribution(list(p.choices))
        elif isinstance(p, tuneful.Int):
            distributions[name] = IntDistribution(p.low, p.high, log=p.log, step=p.step)
        else:
            distributions[name] = FloatDistribution(p.low, p.high, log=p.log)
    study = optuna.create_study(directions=list(data.directions))
    trials = [
        optuna.trial.create_trial(
            params=dict(t.params),
            distributions={k: distributions[k] for k in t.params},
            values=list(t.values or ()),
        )
        for t in data.trials
        if t.state is tuneful.TrialState.COMPLETE
    ]
    study.add_trials(trials)
    return study


def linear_scales(data: StudyData) -> StudyData:
    """``data`` with every log parameter declared linear (the same values): the scale Optuna's
    fANOVA measures on (``transform_log=False``)."""
    found = {}
    for name, p in data.definitions().items():
        if isinstance(p, tuneful.Float) and p.log:
            p = tuneful.Float(p.low, p.high)
        elif isinstance(p, tuneful.Int) and p.log:
            p = tuneful.Int(p.low, p.high)
        found[name] = p
    return StudyData(data.name, data.directions, data.trials, tuneful.Space(**found))


def optuna_fanova(study: Any, n_trees: int = DEFAULT_TREES) -> dict[str, float]:
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    evaluator = FanovaImportanceEvaluator(n_trees=n_trees, seed=0)
    return dict(get_param_importances(study, evaluator=evaluator, normalize=False))


def optuna_ped(study: Any) -> dict[str, float] | None:
    try:
        from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
    except ImportError:  # an Optuna before 4.1
        return None
    return dict(get_param_importances(study, evaluator=PedAnovaImportanceEvaluator()))


def spearman(a: dict[str, float], b: dict[str, float]) -> float:
    from scipy.stats import spearmanr

    names = sorted(a)
    return float(spearmanr([a[n] for n in names], [b.get(n, 0.0) for n in names]).statistic)


def largest_gap(a: dict[str, float], b: dict[str, float]) -> float:
    """The largest difference of a parameter's share, both normalized to sum to 1."""
    total_a, total_b = sum(a.values()) or 1.0, sum(b.values()) or 1.0
    return max(abs(a[n] / total_a - b.get(n, 0.0) / total_b) for n in a)


def _top(shares: dict[str, float], k: int = 3) -> str:
    """The ``k`` largest shares, normalized to sum to 1 over the parameters (as Optuna's)."""
    total = sum(shares.values()) or 1.0
    ranked = sorted(shares, key=lambda n: -shares[n])[:k]
    return ", ".join(f"{n} {shares[n] / total:.2f}" for n in ranked)


def agreement(names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        kind, make = STUDIES[name]
        log(f"agreement: running study {name} ...")
        data = make()
        ours = importance(data, method="fanova", seed=0)
        ours_ped = importance(data, method="ped-anova", seed=0)
        has_log = any(getattr(p, "log", False) for p in data.definitions().values())
        linear = importance(linear_scales(data), method="fanova", seed=0) if has_log else ours
        peer = to_optuna(data)
        log(f"agreement: {name}: {ours.n_trials} trials; Optuna's fANOVA ...")
        theirs = optuna_fanova(peer)
        theirs_ped = optuna_ped(peer)
        rows.append(
            {
                "study": name,
                "kind": kind,
                "trials": ours.n_trials,
                "params": len(ours.params),
                "spearman_fanova": spearman(ours.shares, theirs),
                "spearman_linear": spearman(linear.shares, theirs) if has_log else None,
                "largest_gap_linear": largest_gap(linear.shares, theirs),
                "spearman_ped": spearman(ours_ped.shares, theirs_ped) if theirs_ped else None,
                "tuneful": ours.shares,
                "optuna": theirs,
                "tuneful_ped": ours_ped.shares,
                "optuna_ped": theirs_ped,
            }
        )
    return rows


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def timing_study(n_trials: int) -> StudyData:
    rng = np.random.default_rng(n_trials)
    noise = iter(rng.normal(scale=0.05, size=n_trials + 1))
    return _run(MIXED, lambda p: mixed_loss(p, next(noise)), n_trials, "random", seed=1)


def timing(sizes: list[int], optuna_trees: int, full: bool) -> list[dict[str, Any]]:
    warm = timing_study(60)
    importance(warm, method="fanova", n_trees=2)
    importance(warm, method="ped-anova")
    optuna_fanova(to_optuna(warm), n_trees=2)
    optuna_ped(to_optuna(warm))
    rows = []
    for n in sizes:
        data = timing_study(n)
        peer = to_optuna(data)
        trees = DEFAULT_TREES if (full or n <= 1000) else optuna_trees
        log(f"time: {n} trials ...")
        row: dict[str, Any] = {"trials": n, "optuna_trees": trees}
        row["tuneful_fanova"] = _timed(partial(importance, data, method="fanova"))
        row["tuneful_fanova_singles"] = _timed(
            partial(importance, data, method="fanova", pairs=False)
        )
        row["tuneful_ped"] = _timed(partial(importance, data, method="ped-anova"))
        row["tuneful_ped_no_bootstrap"] = _timed(
            partial(importance, data, method="ped-anova", n_bootstrap=0)
        )
        log(f"time: {n} trials: Optuna's fANOVA with {trees} trees ...")
        measured = _timed(partial(optuna_fanova, peer, n_trees=trees))
        row["optuna_fanova_measured"] = measured
        row["optuna_fanova"] = measured * DEFAULT_TREES / trees
        row["optuna_ped"] = _timed(partial(optuna_ped, peer))
        rows.append(row)
    return rows


def _seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def markdown(agree: list[dict[str, Any]], times: list[dict[str, Any]]) -> str:
    lines = []
    if agree:
        lines += [
            "| study | kind | trials | params | Spearman ρ, fANOVA "
            "| ρ, fANOVA with log read linearly | largest share gap, log read linearly "
            "| Spearman ρ, PED-ANOVA "
            "| tuneful fANOVA, top 3 | Optuna fANOVA, top 3 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for r in agree:
            ped = "-" if r["spearman_ped"] is None else f"{r['spearman_ped']:.2f}"
            linear = "-" if r["spearman_linear"] is None else f"{r['spearman_linear']:.2f}"
            lines.append(
                f"| {r['study']} | {r['kind']} | {r['trials']} | {r['params']} "
                f"| {r['spearman_fanova']:.2f} | {linear} | {r['largest_gap_linear']:.3f} "
                f"| {ped} | {_top(r['tuneful'])} "
                f"| {_top(r['optuna'])} |"
            )
        rhos = [r["spearman_fanova"] for r in agree]
        lines.append("")
        lines.append(
            f"fANOVA: mean ρ {np.mean(rhos):.2f}, lowest {min(rhos):.2f}, over {len(rhos)} studies."
        )
        lines.append("")
    if times:
        lines += [
            "| trials | tuneful fANOVA (singles + pairs) | tuneful fANOVA (singles) "
            "| tuneful PED-ANOVA | Optuna fANOVA | Optuna PED-ANOVA "
            "| Optuna fANOVA ÷ tuneful fANOVA (singles, with pairs) "
            "| Optuna PED ÷ tuneful PED (with, without the bootstrap) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in times:
            scaled = (
                ""
                if r["optuna_trees"] == DEFAULT_TREES
                else (
                    f" (measured {_seconds(r['optuna_fanova_measured'])} s with "
                    f"{r['optuna_trees']} trees, × {DEFAULT_TREES // r['optuna_trees']})"
                )
            )
            lines.append(
                f"| {r['trials']:,} | {_seconds(r['tuneful_fanova'])} s "
                f"| {_seconds(r['tuneful_fanova_singles'])} s | {_seconds(r['tuneful_ped'])} s "
                f"({_seconds(r['tuneful_ped_no_bootstrap'])} s without the bootstrap) "
                f"| {_seconds(r['optuna_fanova'])} s{scaled} | {_seconds(r['optuna_ped'])} s "
                f"| {r['optuna_fanova'] / r['tuneful_fanova_singles']:.0f}×, "
                f"{r['optuna_fanova'] / r['tuneful_fanova']:.0f}× "
                f"| {r['optuna_ped'] / r['tuneful_ped']:.1f}×, "
                f"{r['optuna_ped'] / r['tuneful_ped_no_bootstrap']:.1f}× |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["both", "agreement", "time"], default="both")
    parser.add_argument("--studies", default=",".join(STUDIES), help="comma-separated")
    parser.add_argument("--sizes", default="1000,10000", help="trials, comma-separated")
    parser.add_argument("--optuna-trees", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="Optuna's fANOVA with 64 trees")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    started = time.perf_counter()
    agree = agreement(args.studies.split(",")) if args.part != "time" else []
    sizes = [int(s) for s in args.sizes.split(",")]
    times = timing(sizes, args.optuna_trees, args.full) if args.part != "agreement" else []
    print(markdown(agree, times))
    log(
        f"done in {time.perf_counter() - started:.0f} s; python {platform.python_version()}, "
        f"optuna {optuna.__version__}, tuneful {tuneful.__version__}"
    )
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"agreement": agree, "time": times}, out, indent=2, default=float)


if __name__ == "__main__":
    main()
