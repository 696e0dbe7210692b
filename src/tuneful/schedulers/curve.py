"""Early stopping by learning-curve prediction (Baker et al. 2017, "Accelerating neural
architecture search using performance prediction").

At each rung the scheduler predicts the final value of the trial from the part of its curve
seen so far and its configuration, with a model trained on the curves of completed trials
(one model per rung, i.e. per observed length τ). The prediction is treated as Gaussian; the
trial stops when the probability that its final value beats the best completed trial falls
below Δ. Until ``min_curves`` completed curves exist, the rank rule of successive halving
decides instead.

With several objectives there is no single curve to extrapolate: ``scheduler="curve"``
refuses such a study (:class:`~tuneful.errors.SchedulerError`); the default (``"auto"``),
built on this class, judges them by MO-ASHA's rank rule alone (:mod:`.multi`).

The model predicts how much a curve still moves after the rung (final minus last seen value),
so for curves unlike any it was trained on it falls back to "the last value plus the typical
remaining improvement" rather than to the average final of the training curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tuneful._validation import check_int, check_number
from tuneful.errors import SchedulerError
from tuneful.records import History, TrialRecord, TrialState
from tuneful.schedulers._curve_model import CurveModel, probability_of_improvement
from tuneful.schedulers.base import Decision, RungScheduler, sign_of
from tuneful.schedulers.base import value_at as _value_at

__all__ = ["CurvePredictor"]


class CurvePredictor(RungScheduler):
    """Stops trials whose predicted final value is unlikely to beat the best (``"curve"``).

    Args:
        min_budget / max_budget / reduction_factor: the rungs where trials are judged (and
            the rank rule used before the model has enough curves).
        delta: Δ; a trial stops when P(final better than the best completed) < Δ.
        min_curves: completed curves needed before the model decides.
        n_members: size of the bootstrap ensemble behind each prediction.
        seed: seeds the bootstrap.
        fallback: before the model has ``min_curves`` curves: ``"rank"`` (successive
            halving decides) or ``"none"`` (nothing is stopped).
        quantile: the bar a trial must be likely to beat: 0 (Baker et al.) is the best
            completed value; q > 0 the q-quantile of the completed values.
    """

    name = "curve"
    single_objective_why = (
        "its model predicts the final value of one learning curve (report each objective "
        "to a study of its own, or rank the trials by non-dominated sorting)"
    )

    def __init__(
        self,
        *,
        min_budget: int = 1,
        max_budget: int | None = None,
        reduction_factor: float = 3,
        delta: float = 0.05,
        min_curves: int = 10,
        n_members: int = 10,
        seed: int = 0,
        fallback: str = "rank",
        quantile: float = 0.0,
    ) -> None:
        super().__init__(
            min_budget=min_budget, max_budget=max_budget, reduction_factor=reduction_factor
        )
        name, error = self.name, SchedulerError
        self.delta = check_number(name, "delta", delta, low=0.0, high=1.0, error=error)
        self.min_curves = check_int(name, "min_curves", min_curves, minimum=3, error=error)
        self.n_members = check_int(name, "n_members", n_members, minimum=1, error=error)
        self.seed = check_int(name, "seed", seed, minimum=0, error=error)
        if fallback not in ("rank", "none"):
            raise SchedulerError(
                f"{self.name}: fallback={fallback!r}: expected 'rank' (successive halving "
                "until the model has enough curves) or 'none' (no stopping until then)"
            )
        self.fallback = fallback
        self.quantile = check_number(
            name, "quantile", quantile, low=0, high=1, low_inclusive=True, error=error
        )
        self._models: dict[tuple[int, ...], tuple[tuple[int, ...], CurveModel]] = {}

    def settings(self) -> dict[str, Any]:
        return {
            **super().settings(),
            "delta": self.delta,
            "min_curves": self.min_curves,
            "n_members": self.n_members,
            "seed": self.seed,
            "fallback": self.fallback,
            "quantile": self.quantile,
        }

    # -- the model ---------------------------------------------------------------------
    def training_set(self, history: History, points: list[int]) -> list[TrialRecord]:
        """COMPLETE trials whose curves reach every point (their finals are the targets)."""
        return [
            t
            for t in history.trials
            if t.state is TrialState.COMPLETE
            and t.values is not None
            and all(_value_at(t, p) is not None for p in points)
        ]

    def model(self, history: History, points: list[int]) -> CurveModel | None:
        """The model for curves observed at ``points`` (None: fewer than ``min_curves``).

        Cached until the set of completed curves changes; rebuilt from the history otherwise.
        """
        train = self.training_set(history, points)
        if len(train) < self.min_curves:
            return None
        key = tuple(points)
        numbers = tuple(t.number for t in train)
        cached = self._models.get(key)
        if cached is not None and cached[0] == numbers:
            return cached[1]
        sign = sign_of(history)
        curves = self._curves(train, points, sign)
        finals = np.array([sign * t.values[0] for t in train])  # type: ignore[index]
        model = CurveModel(n_members=self.n_members, seed=self.seed)
        model.fit(curves, self._configs(history, train), finals - curves[:, -1])
        self._models[key] = (numbers, model)
        return model

    @staticmethod
    def _curves(trials: list[TrialRecord], points: list[int], sign: float) -> np.ndarray:
        rows = [[_value_at(t, p) for p in points] for t in trials]
        values = np.array(rows, dtype=float).reshape(len(trials), len(points))
        return sign * values

    @staticmethod
    def _configs(history: History, trials: list[TrialRecord]) -> np.ndarray:
        space = history.space
        if space is None or space.dim == 0:
            return np.zeros((len(trials), 0))
        return np.asarray(space.encode_lenient([t.params for t in trials]), dtype=float)

    def predict(self, trial: TrialRecord, history: History, rung: int) -> dict[str, Any] | None:
        """The model's view of ``trial`` at ``rung``: predicted final (in the study's
        direction), its standard deviation, P(better than the best), the best, the number of
        curves and the model's leave-one-out error on them. None when the model has too few
        curves."""
        points = [r for r in self.rungs(trial, history) if r <= rung]
        model = self.model(history, points)
        if model is None:
            return None
        sign = sign_of(history)
        curve = self._curves([trial], points, sign)
        mean, std = model.predict(curve, self._configs(history, [trial]))
        predicted = float(curve[0, -1] + mean[0])
        finals = [
            sign * t.values[0]
            for t in history.trials
            if t.state is TrialState.COMPLETE and t.values is not None
        ]
        # The bar: the best completed value (Baker et al.), or a quantile of the completed
        # values, which keeps near-best trials running so the optimizer sees them in full.
        incumbent = float(np.quantile(finals, self.quantile)) if self.quantile else min(finals)
        p = float(probability_of_improvement(np.array([predicted]), std, incumbent)[0])
        return {
            "predicted": sign * predicted,
            "std": float(std[0]),
            "p_improve": p,
            "incumbent": sign * incumbent,
            "n_curves": model.n_train,
            "loo_rmse": model.describe()["loo_rmse"],
        }

    def _bar(self) -> str:
        return "the best" if not self.quantile else f"the {self.quantile:g}-quantile"

    # -- decisions ---------------------------------------------------------------------
    def keep_reason(self, history: History) -> str | None:
        """Why a trial that failed its rung must go on all the same (None: it stops)."""
        return None

    def decide(self, trial: TrialRecord, history: History) -> Decision | None:
        attrs: dict[str, Any] = {}
        multi = len(history.directions) > 1
        if multi:
            self.check_directions(history.directions)
        for rung in self.new_rungs(trial, history):
            # several objectives (the default only): MO-ASHA's rank rule, no model
            prediction = None if multi else self.predict(trial, history, rung)
            if prediction is None and self.fallback == "none":
                attrs[f"rung_{rung}"] = {
                    "value": _value_at(trial, rung),
                    "rule": "none",
                    "passed": True,
                }
                continue
            if prediction is None:  # too few completed curves: successive halving decides
                passed, record = self.judge_rank(trial, history, rung)
                note = (
                    f"η = {self.reduction_factor:g}"
                    if record["rule"] == "pareto"
                    else f"fewer than {self.min_curves} completed curves to predict from"
                )
                reason = self.rank_reason(rung, record, note)
            else:
                passed = prediction["p_improve"] >= self.delta
                value = _value_at(trial, rung)
                record = {"value": value, "rule": "model", **prediction, "passed": passed}
                reason = (
                    f"at rung {rung} the predicted final value is {prediction['predicted']:.6g} "
                    f"± {prediction['std']:.3g} (from {prediction['n_curves']} completed "
                    f"curves); P(better than {self._bar()} {prediction['incumbent']:.6g}) = "
                    f"{prediction['p_improve']:.3g} < Δ = {self.delta:g}"
                )
            attrs[f"rung_{rung}"] = record
            kept = None if passed else self.keep_reason(history)
            if kept is not None:  # failed, but too few trials have completed to stop it
                record.update(passed=True, kept=kept)
                continue
            if not passed:
                attrs["pruned"] = {"step": trial.last_step, "rung": rung, "reason": reason}
                return Decision.stop_now(reason, attrs=attrs)
        if not attrs:
            return None
        return Decision.go_on("passed every rung reached", attrs=attrs)
