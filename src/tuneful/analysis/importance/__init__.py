"""Which parameters matter: fANOVA and PED-ANOVA over a study's trials.

:func:`importance` reads the completed trials with a finite value of one objective (lower is
better: a maximized objective is negated, which changes no share) and answers an
:class:`Importance`, most important parameter first, each share with its uncertainty.

Two methods:

- ``"fanova"`` (:mod:`.fanova`): a random forest (scikit-learn, the ``importance`` extra) is
  fitted to the trials; each parameter's share is the fraction of the forest's variance over
  the *whole* search space that the parameter explains on its own, exactly as the functional
  ANOVA of each tree gives it, mean ± std over the trees; pairs get their interaction share.
  Shares and pair shares sum to at most 1; the rest is higher-order interactions.
  Use it to learn what matters across the space (which ranges to narrow, what to drop).
- ``"ped-anova"`` (:mod:`.ped_anova`): how differently each parameter is distributed among
  the best ``top_quantile`` of the trials than among the best ``region_quantile`` (all, by
  default); shares sum to 1; bootstrap std. Needs only numpy and takes milliseconds at
  10,000 trials. Use it to learn what matters *near the best trials* (which knob still
  separates good from best), or when scikit-learn is not installed.

Scales: every parameter is placed in the unit cube on its own scale (a log parameter by its
logarithm, a choice of ``k`` in a cell ``1/k`` wide), so "the whole space" means the uniform
measure over the space as declared, not over where the optimizer happened to sample.

Conditional parameters count only where they are active. fANOVA: where a parameter is
inactive its value is drawn at random, independent of the outcome, so the forest cannot use it
to tell the branches apart; the variance between branches belongs to the parameter that
chooses the branch, and the inner parameter's own effect appears as its share plus its
interaction with the branch parameter. PED-ANOVA: a parameter's densities are over the trials
where it is active, weighted by how many of the best trials have it active (never active
among them: no importance). Each module's docstring has the formulas.

What lives where: ``_inputs`` the trials as unit-cube positions with where each parameter is
active; ``fanova`` the forest and the exact per-tree decomposition; ``ped_anova`` the
densities and their divergence; this module the result and the entry point.

Example:
    >>> import tuneful
    >>> from tuneful.analysis.importance import importance
    >>> space = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
    >>> study = tuneful.create_study(
    ...     "imp", space=space, storage="memory://", optimizer="random", seed=0)
    >>> study.optimize(lambda t: 10 * t.params["x"] + t.params["y"], n_trials=30,
    ...                show_progress_bar=False)
    >>> result = importance(study, method="ped-anova")
    >>> result.params[0]
    'x'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuneful.analysis.importance import fanova, ped_anova
from tuneful.analysis.importance._inputs import MIN_TRIALS, Estimate, Inputs, read_inputs
from tuneful.errors import StudyError, did_you_mean

if TYPE_CHECKING:
    from tuneful.analysis.trials import StudyData
    from tuneful.study import Study

__all__ = ["Importance", "importance", "METHODS", "MIN_TRIALS"]

METHODS = ("fanova", "ped-anova")


@dataclass(frozen=True)
class Importance:
    """How much each parameter (and, for fANOVA, each pair) explains of the objective.

    Attributes:
        method: ``"fanova"`` or ``"ped-anova"``.
        study: the study's name.
        objective: which objective (index) was explained.
        params: parameter names, most important first.
        shares: each parameter's importance; for fANOVA the fraction of the variance it
            explains alone (shares and pair shares sum to at most 1).
        std: the uncertainty of each share (over the forest's trees, or bootstrap).
        pairs: fANOVA's pairwise interaction shares, largest first (empty for PED-ANOVA).
        pair_std: their uncertainty.
        n_trials: how many trials the estimate used.
        notes: what the reader should know (sampling, trials left out and why).
    """

    method: str
    study: str
    objective: int
    params: tuple[str, ...]
    shares: dict[str, float]
    std: dict[str, float]
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)
    pair_std: dict[tuple[str, str], float] = field(default_factory=dict)
    n_trials: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (pairs keyed ``"a × b"``)."""
        return {
            "method": self.method,
            "study": self.study,
            "objective": self.objective,
            "n_trials": self.n_trials,
            "params": [
                {"name": p, "share": self.shares[p], "std": self.std.get(p, 0.0)}
                for p in self.params
            ],
            "pairs": [
                {"names": list(k), "share": v, "std": self.pair_std.get(k, 0.0)}
                for k, v in self.pairs.items()
            ],
            "notes": list(self.notes),
        }

    def top(self, k: int) -> tuple[str, ...]:
        """The ``k`` most important parameters."""
        return self.params[:k]

    @property
    def label(self) -> str:
        """The method as a reader knows it: ``"fANOVA"`` or ``"PED-ANOVA"``."""
        return {"fanova": "fANOVA", "ped-anova": "PED-ANOVA"}.get(self.method, self.method)


def importance(
    study: Study | StudyData,
    *,
    method: str = "fanova",
    params: Sequence[str] | None = None,
    objective: int = 0,
    seed: int = 0,
    n_trees: int = fanova.DEFAULT_TREES,
    pairs: bool = True,
    top_quantile: float = 0.1,
    region_quantile: float = 1.0,
    n_bootstrap: int = ped_anova.DEFAULT_BOOTSTRAP,
    max_trials: int | None = fanova.DEFAULT_MAX_TRIALS,
) -> Importance:
    """The importance of each parameter of ``study`` for objective ``objective``.

    Args:
        study: a study, or a :class:`~tuneful.analysis.trials.StudyData` read earlier.
        method: ``"fanova"`` (needs scikit-learn: ``pip install 'tuneful[importance]'``) or
            ``"ped-anova"``; see the module for which to use when.
        params: the parameters to rank (default: all).
        objective: which objective, numbered from 0.
        seed: the forest's, the imputation's and the bootstrap's random seed: the same
            trials and seed give the same answer.
        n_trees: fANOVA: trees in the forest (the std is over them).
        pairs: fANOVA: measure the interaction of pairs too (the parameters alone are
            cheaper: a third of the time at 10,000 trials).
        top_quantile: PED-ANOVA: the best fraction of the trials that defines "top" (γ').
        region_quantile: PED-ANOVA: the fraction of the best trials importance is measured
            within (γ; 1.0: all of them).
        n_bootstrap: PED-ANOVA: resamples behind the std.
        max_trials: fANOVA: fit the forest on at most this many trials, sampled at random
            (None: all of them; the notes say when trials were sampled).

    Raises:
        StudyError: an unknown method, an objective out of range, a name in ``params`` that
            is not a parameter, a setting out of range, or fewer than :data:`MIN_TRIALS`
            completed trials with a finite value.
        MissingDependencyError: fANOVA without scikit-learn.

    Example:
        >>> from tuneful.analysis.importance import importance
        >>> result = importance(study, method="fanova")   # doctest: +SKIP
        >>> result.params[0], result.shares[result.params[0]]   # doctest: +SKIP
        ('lr', 0.61)
    """
    _check_settings(method, objective, n_trees, top_quantile, region_quantile, n_bootstrap)
    if max_trials is not None and (
        isinstance(max_trials, bool) or not isinstance(max_trials, int) or max_trials < MIN_TRIALS
    ):
        raise StudyError(f"max_trials={max_trials!r}: expected an int >= {MIN_TRIALS}, or None")
    inputs = read_inputs(study, params=params, objective=objective)
    estimate: Estimate
    if method == "fanova":
        estimate = fanova.estimate(
            inputs, seed=seed, n_trees=n_trees, pairs=pairs, max_trials=max_trials
        )
    else:
        estimate = ped_anova.estimate(
            inputs,
            seed=seed,
            top_quantile=top_quantile,
            region_quantile=region_quantile,
            n_bootstrap=n_bootstrap,
        )
    return _result(method, objective, inputs, estimate)


def _check_settings(
    method: str,
    objective: int,
    n_trees: int,
    top_quantile: float,
    region_quantile: float,
    n_bootstrap: int,
) -> None:
    if method not in METHODS:
        raise StudyError(
            f"method={method!r} is not an importance method{did_you_mean(str(method), METHODS)}"
            f" (the methods: {', '.join(METHODS)})"
        )
    if isinstance(objective, bool) or not isinstance(objective, int):
        raise StudyError(f"objective={objective!r}: expected an objective's index (an int)")
    if isinstance(n_trees, bool) or not isinstance(n_trees, int) or n_trees < 1:
        raise StudyError(f"n_trees={n_trees!r}: expected a positive int")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise StudyError(f"n_bootstrap={n_bootstrap!r}: expected an int >= 0")
    for name, value in (("top_quantile", top_quantile), ("region_quantile", region_quantile)):
        if not (isinstance(value, int | float) and math.isfinite(value) and 0 < value <= 1):
            raise StudyError(f"{name}={value!r}: expected a fraction in (0, 1]")
    if top_quantile >= region_quantile:
        raise StudyError(
            f"top_quantile={top_quantile!r} must be below region_quantile={region_quantile!r}: "
            "the top trials are a part of the region"
        )


def _result(method: str, objective: int, inputs: Inputs, estimate: Estimate) -> Importance:
    names = inputs.names
    order = sorted(range(len(names)), key=lambda j: -estimate.shares[j])
    pairs = sorted(estimate.pairs.items(), key=lambda item: -item[1][0])
    return Importance(
        method=method,
        study=inputs.study,
        objective=objective,
        params=tuple(names[j] for j in order),
        shares={names[j]: float(estimate.shares[j]) for j in order},
        std={names[j]: float(estimate.std[j]) for j in order},
        pairs={(names[j], names[k]): share for (j, k), (share, _) in pairs},
        pair_std={(names[j], names[k]): std for (j, k), (_, std) in pairs},
        n_trials=len(inputs),
        notes=inputs.notes + estimate.notes,
    )
