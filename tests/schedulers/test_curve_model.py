"""The learning-curve predictor (Baker et al. 2017): accuracy and calibration on synthetic
saturating curves, the improvement probability against SciPy, degenerate and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm

from tuneful.schedulers._curve_model import CurveModel, probability_of_improvement

LENGTH = 20  # decision points per full curve


def saturating_curves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Curves y_t = a + b exp(-c t) + noise, t = 1..20, whose parameters follow a 2-D config.

    The asymptote a and the rate c also carry run-to-run noise the config does not explain,
    so the observed curve, not the config alone, tells the final value.

    Returns:
        (curves (n, 20), configs (n, 2) in [0, 1], finals (n,) = the curves' last values).
    """
    rng = np.random.default_rng(seed)
    configs = rng.uniform(size=(n, 2))
    a = 0.1 + 0.4 * configs[:, 0] + 0.08 * rng.standard_normal(n)
    b = 0.4 + 0.5 * configs[:, 1]
    rate = 0.05 + 0.25 * configs[:, 0] * configs[:, 1] + 0.1 * configs[:, 1]
    c = rate * np.exp(0.3 * rng.standard_normal(n))
    t = np.arange(1, LENGTH + 1)
    curves = a[:, None] + b[:, None] * np.exp(-c[:, None] * t)
    curves += 0.005 * rng.standard_normal((n, LENGTH))
    return curves, configs, curves[:, -1]


TRAIN = saturating_curves(60, seed=0)
HELD_OUT = saturating_curves(40, seed=1)


def held_out_error(tau: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Mean absolute error on the held-out finals, and (mean, std), for a model fit at tau."""
    curves, configs, finals = TRAIN
    model = CurveModel(seed=0).fit(curves[:, :tau], configs, finals)
    mean, std = model.predict(HELD_OUT[0][:, :tau], HELD_OUT[1])
    return float(np.mean(np.abs(mean - HELD_OUT[2]))), mean, std


def test_predicts_finals_far_better_than_their_spread_and_the_last_value() -> None:
    error, _, _ = held_out_error(tau=5)
    last_value_error = float(np.mean(np.abs(HELD_OUT[0][:, 4] - HELD_OUT[2])))
    spread = float(np.std(HELD_OUT[2]))
    assert error < 0.25 * spread, (error, spread)
    assert error < last_value_error, (error, last_value_error)


def test_central_90_percent_interval_covers_most_held_out_finals() -> None:
    _, mean, std = held_out_error(tau=5)
    inside = np.abs(HELD_OUT[2] - mean) <= norm.ppf(0.95) * std
    assert 0.7 <= inside.mean() <= 1.0, inside.mean()


def test_error_decreases_as_more_of_the_curve_is_observed() -> None:
    early, _, _ = held_out_error(tau=2)
    late, _, _ = held_out_error(tau=10)
    assert late < early, (early, late)


def test_probability_of_improvement_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    mean = rng.normal(size=50)
    std = rng.uniform(0.01, 2.0, size=50)
    expected = norm.cdf(0.3, loc=mean, scale=std)
    np.testing.assert_allclose(probability_of_improvement(mean, std, 0.3), expected, rtol=1e-12)
    np.testing.assert_allclose(probability_of_improvement(mean, 0.5, -1.0), norm.cdf(-1, mean, 0.5))
    assert (probability_of_improvement(mean, std, float("inf")) == 1.0).all()


@pytest.mark.parametrize(
    ("std", "incumbent", "name"),
    [(0.0, 0.0, "std"), (-1.0, 0.0, "std"), (np.nan, 0.0, "std"), (1.0, float("nan"), "incumbent")],
)
def test_probability_of_improvement_rejects_bad_inputs(
    std: float, incumbent: float, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        probability_of_improvement(np.zeros(3), np.full(3, std), incumbent)


def _degenerate_cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    curves, configs, finals = TRAIN
    with_nans = configs.copy()
    with_nans[::3, 1] = np.nan  # a conditional hyperparameter, inactive in a third of the runs
    duplicated = np.repeat(curves[:5, :4], 2, axis=0)
    return {
        "n=2": (curves[:2, :5], configs[:2], finals[:2]),
        "constant finals": (curves[:, :5], configs, np.full(60, 0.25)),
        "p=0": (curves[:, :5], np.empty((60, 0)), finals),
        "nan configs": (curves[:, :5], with_nans, finals),
        "all-nan column": (
            curves[:, :5],
            np.column_stack([configs[:, 0], np.full(60, np.nan)]),
            finals,
        ),
        "tau=1": (curves[:, :1], configs, finals),
        "duplicate rows": (duplicated, np.repeat(configs[:5], 2, axis=0), finals[:10]),
        "constant curves": (np.ones((10, 3)), np.full((10, 2), 0.5), np.linspace(0, 1, 10)),
    }


@pytest.mark.parametrize("case", list(_degenerate_cases()))
def test_degenerate_inputs_give_finite_positive_std(case: str) -> None:
    curves, configs, finals = _degenerate_cases()[case]
    model = CurveModel(n_members=5).fit(curves, configs, finals)
    mean, std = model.predict(curves, configs)
    assert mean.shape == std.shape == (len(curves),)
    assert np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()
    assert model.n_train == len(curves)
    summary = json.loads(json.dumps(model.describe()))
    assert summary["n_train"] == len(curves) and summary["tau"] == curves.shape[1]
    if case == "constant finals":
        np.testing.assert_allclose(mean, 0.25, atol=1e-6)


def test_nan_in_a_column_that_was_always_active_in_training_still_predicts() -> None:
    curves, configs, finals = TRAIN
    model = CurveModel(n_members=3).fit(curves[:, :5], configs, finals)
    query = configs[:4].copy()
    query[:, 0] = np.nan
    mean, std = model.predict(curves[:4, :5], query)
    assert np.isfinite(mean).all() and (std > 0).all()


def _fit_with(**changes: object) -> None:
    curves, configs, finals = TRAIN
    arguments: dict[str, object] = {
        "curves": curves[:10, :5],
        "configs": configs[:10],
        "finals": finals[:10],
    }
    arguments.update(changes)
    CurveModel().fit(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"curves": np.zeros(10)}, "curves"),
        ({"curves": np.zeros((10, 0))}, "curves"),
        ({"curves": np.full((10, 5), np.nan)}, "curves"),
        (
            {"curves": np.zeros((1, 5)), "configs": np.zeros((1, 2)), "finals": np.zeros(1)},
            "curves",
        ),
        ({"configs": np.zeros((9, 2))}, "configs"),
        ({"configs": np.full((10, 2), np.inf)}, "configs"),
        ({"finals": np.zeros(9)}, "finals"),
        ({"finals": np.full(10, np.inf)}, "finals"),
    ],
)
def test_fit_rejects_bad_inputs_naming_the_argument(changes: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        _fit_with(**changes)


def test_predict_rejects_other_shapes_and_requires_fit() -> None:
    curves, configs, finals = TRAIN
    with pytest.raises(RuntimeError, match="before fit"):
        CurveModel().predict(curves[:, :5], configs)
    model = CurveModel(n_members=2).fit(curves[:, :5], configs, finals)
    with pytest.raises(ValueError, match=r"curves.*tau=5"):
        model.predict(curves[:, :6], configs)
    with pytest.raises(ValueError, match=r"configs.*p=2"):
        model.predict(curves[:, :5], configs[:, :1])
    with pytest.raises(ValueError, match="n_members"):
        CurveModel(n_members=0)


def test_same_seed_same_model_other_seed_other_ensemble() -> None:
    curves, configs, finals = TRAIN
    first = CurveModel(seed=7).fit(curves[:, :5], configs, finals)
    again = CurveModel(seed=7).fit(curves[:, :5], configs, finals)
    other = CurveModel(seed=8).fit(curves[:, :5], configs, finals)
    query = (HELD_OUT[0][:, :5], HELD_OUT[1])
    np.testing.assert_array_equal(first.predict(*query)[0], again.predict(*query)[0])
    np.testing.assert_array_equal(first.predict(*query)[1], again.predict(*query)[1])
    assert first.describe() == again.describe()
    assert not np.array_equal(first.predict(*query)[1], other.predict(*query)[1])
