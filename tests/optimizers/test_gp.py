"""The GP optimizer: kernel, likelihood, log-EI and posterior against references; behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import norm

import tuneful
from tuneful.errors import OptimizerError
from tuneful.optimizers._gp_acquisition import log_expected_improvement, log_h
from tuneful.optimizers._gp_inputs import InputMap
from tuneful.optimizers._gp_model import (
    GaussianProcess,
    Hyperparameters,
    default_starts,
    fit_hyperparameters,
    kernel,
    log_posterior,
    squared_differences,
)
from tuneful.optimizers.gp import GPOptimizer, select_training_points, transform_outputs
from tuneful.records import History, TrialRecord, TrialState

CONTINUOUS = tuneful.Space(a=tuneful.Float(0, 1), b=tuneful.Float(1e-3, 1, log=True))
MIXED = tuneful.Space(
    lr=tuneful.Float(1e-5, 1e-1, log=True),
    layers=tuneful.Int(1, 8),
    width=tuneful.Int(16, 1024, log=True),
    optimizer=tuneful.Categorical(["adam", "sgd", "rmsprop"]),
    momentum=tuneful.Float(0.0, 0.99, when={"optimizer": "sgd"}),
    nesterov=tuneful.Categorical([True, False], when={"optimizer": "sgd"}),
)


def _matern52(r: np.ndarray) -> np.ndarray:
    return (1 + math.sqrt(5) * r + 5 / 3 * r**2) * np.exp(-math.sqrt(5) * r)


def _history(
    space: tuneful.Space,
    configs: list[dict],
    values: list[float],
    pending: list[dict] | None = None,
    number: int | None = None,
) -> History:
    trials = [
        TrialRecord(i, TrialState.COMPLETE, params=c, values=(v,))
        for i, (c, v) in enumerate(zip(configs, values, strict=True))
    ]
    for c in pending or []:
        trials.append(TrialRecord(len(trials), TrialState.RUNNING, params=c))
    return History(space, ("minimize",), trials, number=len(trials) if number is None else number)


def _sphere_history(n: int, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    configs = CONTINUOUS.sample(rng, n)
    values = [(c["a"] - 0.3) ** 2 + (math.log10(c["b"]) + 1) ** 2 for c in configs]
    return _history(CONTINUOUS, configs, values)


# -- kernel ----------------------------------------------------------------------------------
def test_kernel_matches_the_matern52_ard_formula_elementwise() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((7, 2))
    hyper = Hyperparameters(np.array([0.3, 1.7]), 2.5, 1e-4)
    inputs = InputMap(CONTINUOUS)
    K = kernel(inputs.features(X), inputs.features(X), inputs.owner, hyper)
    for i in range(7):
        for j in range(7):
            r = math.sqrt(sum(((X[i, d] - X[j, d]) / hyper.lengthscales[d]) ** 2 for d in (0, 1)))
            assert K[i, j] == pytest.approx(2.5 * _matern52(np.array(r)), rel=1e-12, abs=1e-14)


def test_categorical_levels_are_at_unit_distance_and_inactive_columns_coincide() -> None:
    inputs = InputMap(MIXED)
    hyper = Hyperparameters(np.array([0.5, 0.5, 0.5, 0.7, 0.5, 0.9]), 1.0, 1e-4)
    configs = [
        {"lr": 1e-3, "layers": 2, "width": 64, "optimizer": "adam"},
        {"lr": 1e-3, "layers": 2, "width": 64, "optimizer": "rmsprop"},
        {
            "lr": 1e-3,
            "layers": 2,
            "width": 64,
            "optimizer": "sgd",
            "momentum": 0.5,
            "nesterov": True,
        },
    ]
    X = MIXED.encode(configs)
    K = kernel(inputs.features(X), inputs.features(X), inputs.owner, hyper)
    # adam vs rmsprop: only the categorical differs -> r = 1 / l_optimizer, whatever the order
    assert K[0, 1] == pytest.approx(_matern52(np.array(1 / 0.7)))
    # adam vs sgd: the optimizer differs, momentum (flag + value) and nesterov (extra level)
    r2 = (1 / 0.7) ** 2 + ((0.5 / 0.99 - 0.5) ** 2 + 1.0) / 0.5**2 + 1 / 0.9**2
    assert K[0, 2] == pytest.approx(_matern52(np.array(math.sqrt(r2))))


def test_kernel_matrix_is_positive_definite_on_a_mixed_conditional_space() -> None:
    rng = np.random.default_rng(1)
    X = MIXED.sample_encoded(rng, 60)
    X = np.unique(X.round(12), axis=0)
    inputs = InputMap(MIXED)
    hyper = Hyperparameters(np.full(MIXED.dim, 0.4), 1.3, 1e-6)
    K = kernel(inputs.features(X), inputs.features(X), inputs.owner, hyper)
    np.testing.assert_allclose(K, K.T)
    assert np.linalg.eigvalsh(K).min() > 0


# -- marginal likelihood -------------------------------------------------------------------
def _toy_data(n: int = 12) -> tuple[InputMap, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    inputs = InputMap(MIXED)
    X = MIXED.sample_encoded(rng, n)
    y = rng.standard_normal(n)
    return inputs, inputs.features(X), y


def test_log_marginal_likelihood_matches_the_direct_formula() -> None:
    inputs, features, y = _toy_data()
    theta = np.log(np.r_[np.linspace(0.2, 2.0, MIXED.dim), 1.5, 0.01])
    value, _ = log_posterior(
        theta, squared_differences(features, inputs.owner, MIXED.dim), y, with_prior=False
    )
    hyper = Hyperparameters.from_vector(theta)
    K = kernel(features, features, inputs.owner, hyper) + hyper.noise * np.eye(y.size)
    expected = (
        -0.5 * y @ np.linalg.solve(K, y)
        - 0.5 * np.linalg.slogdet(K)[1]
        - 0.5 * y.size * math.log(2 * math.pi)
    )
    assert value == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("with_prior", [False, True])
def test_log_marginal_likelihood_gradient_matches_finite_differences(with_prior: bool) -> None:
    inputs, features, y = _toy_data()
    differences = squared_differences(features, inputs.owner, MIXED.dim)
    theta = np.log(np.r_[np.linspace(0.2, 2.0, MIXED.dim), 1.5, 0.05])
    _, grad = log_posterior(theta, differences, y, with_prior=with_prior)
    step = 1e-6
    for i in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        numeric = (
            log_posterior(up, differences, y, with_prior=with_prior)[0]
            - log_posterior(down, differences, y, with_prior=with_prior)[0]
        ) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7)


def test_fit_improves_on_its_starts() -> None:
    inputs, features, y = _toy_data(20)
    differences = squared_differences(features, inputs.owner, MIXED.dim)
    starts = default_starts(MIXED.dim)
    fitted = fit_hyperparameters(features, inputs.owner, y, starts)
    best_start = max(log_posterior(s.vector(), differences, y)[0] for s in starts)
    assert log_posterior(fitted.vector(), differences, y)[0] >= best_start


# -- posterior -------------------------------------------------------------------------------
def test_posterior_recovers_the_data_at_observed_points() -> None:
    space = tuneful.Space(x=tuneful.Float(0, 1))
    inputs = InputMap(space)
    X = np.linspace(0.05, 0.95, 9)[:, None]
    y = np.sin(6 * X[:, 0])
    features = inputs.features(X)
    gp = GaussianProcess(features, inputs.owner, y, Hyperparameters(np.array([0.3]), 1.0, 1e-6))
    mean, variance = gp.predict(features)
    np.testing.assert_allclose(mean, y, atol=1e-4)
    assert np.all(variance < 1e-5)
    _, between = gp.predict(inputs.features(np.array([[0.5 + 1 / 16]])))
    assert between[0] > 100 * variance.max()
    # with fitted hyperparameters (the noise prior keeps a little noise) it stays close
    fitted = fit_hyperparameters(features, inputs.owner, y, default_starts(1))
    assert fitted.noise < 1e-2
    mean, _ = GaussianProcess(features, inputs.owner, y, fitted).predict(features)
    np.testing.assert_allclose(mean, y, atol=0.05)


def test_posterior_gradients_match_finite_differences() -> None:
    inputs, features, y = _toy_data(15)
    gp = GaussianProcess(
        features, inputs.owner, y, Hyperparameters(np.full(MIXED.dim, 0.6), 1.2, 1e-3)
    )
    rng = np.random.default_rng(3)
    query = inputs.features(MIXED.sample_encoded(rng, 4))
    g = inputs.value_feature[inputs.continuous_columns]
    _, _, d_mean, d_variance = gp.predict_with_gradients(query, g)
    step = 1e-6
    for column, feature in enumerate(g):
        up, down = query.copy(), query.copy()
        up[:, feature] += step
        down[:, feature] -= step
        (mu_up, var_up), (mu_down, var_down) = gp.predict(up), gp.predict(down)
        np.testing.assert_allclose(
            d_mean[:, column], (mu_up - mu_down) / (2 * step), rtol=1e-5, atol=1e-7
        )
        np.testing.assert_allclose(
            d_variance[:, column], (var_up - var_down) / (2 * step), rtol=1e-5, atol=1e-7
        )


# -- log expected improvement --------------------------------------------------------------
def test_log_ei_matches_scipy_in_the_normal_range() -> None:
    z = np.linspace(-5, 5, 201)
    sigma = 0.7
    mean = 1.0 - z * sigma  # best = 1.0
    value, _, _ = log_expected_improvement(mean, np.full_like(z, sigma**2), 1.0)
    expected = np.log(sigma * (z * ndtr(z) + norm.pdf(z)))
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)


def test_log_ei_is_finite_and_monotone_in_the_far_tail() -> None:
    z = np.linspace(-60, -1, 2001)
    values = log_h(z)
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values) > 0)
    # EI itself underflows to 0 near z = -38; log h follows h ~ phi(z) / z^2 (1 - 3/z^2 ...)
    with np.errstate(divide="ignore"):
        assert np.log(norm.pdf(-40) + -40 * ndtr(-40)) == -np.inf
    far = -np.geomspace(30, 1e8, 400)
    series = 1 - 3 / far**2 + 15 / far**4 - 105 / far**6
    np.testing.assert_allclose(
        log_h(far), norm.logpdf(far) - 2 * np.log(-far) + np.log(series), rtol=1e-12, atol=1e-7
    )
    assert np.all(np.diff(log_h(far)) < 0)  # far runs towards -inf
    assert np.isfinite(log_h(np.array([-1e10, -1e100]))).all()
    # the branches meet without a jump
    for edge in (-1.0, -((3 / np.finfo(float).eps) ** 0.25)):
        around = log_h(np.array([np.nextafter(edge, -np.inf), edge, np.nextafter(edge, 0)]))
        np.testing.assert_allclose(around, around[1], rtol=1e-9)


def test_log_ei_gradients_match_finite_differences() -> None:
    mean = np.array([-3.0, 0.0, 0.4, 2.0, 30.0])
    variance = np.array([0.5, 1.0, 0.01, 0.3, 0.2])
    _, d_mean, d_variance = log_expected_improvement(mean, variance, 0.1)
    step = 1e-6
    numeric_mean = (
        log_expected_improvement(mean + step, variance, 0.1)[0]
        - log_expected_improvement(mean - step, variance, 0.1)[0]
    ) / (2 * step)
    numeric_variance = (
        log_expected_improvement(mean, variance + step, 0.1)[0]
        - log_expected_improvement(mean, variance - step, 0.1)[0]
    ) / (2 * step)
    np.testing.assert_allclose(d_mean, numeric_mean, rtol=1e-5)
    np.testing.assert_allclose(d_variance, numeric_variance, rtol=1e-5)


# -- outputs and data ------------------------------------------------------------------------
def test_output_transform_is_standardized_and_keeps_the_order() -> None:
    rng = np.random.default_rng(4)
    y = np.exp(3 * rng.standard_normal(40))  # heavy right tail
    t = transform_outputs(y)
    assert t.mean() == pytest.approx(0, abs=1e-12) and t.std() == pytest.approx(1)
    np.testing.assert_array_equal(np.argsort(t), np.argsort(y))
    assert abs(float(np.mean(((t - t.mean()) / t.std()) ** 3))) < 1.0  # far less skewed
    np.testing.assert_array_equal(transform_outputs(np.full(5, 3.0)), np.zeros(5))


def test_one_huge_value_does_not_squash_the_others() -> None:
    rng = np.random.default_rng(7)
    y = np.r_[rng.random(39), 1e6]  # a diverged run among ordinary ones
    t = transform_outputs(y)
    np.testing.assert_array_equal(np.argsort(t), np.argsort(y))
    assert np.std(t[:39]) > 0.3  # plain standardization would leave them ~1e-7 apart


def test_training_subset_keeps_the_best_and_spreads_the_rest() -> None:
    rng = np.random.default_rng(5)
    features = rng.random((100, 3))
    y = rng.random(100)
    chosen = select_training_points(y, features, 40)
    assert chosen.size == 40 and np.unique(chosen).size == 40
    assert set(np.argsort(y)[:20]) <= set(chosen)
    np.testing.assert_array_equal(select_training_points(y, features, 40), chosen)


# -- the optimizer -----------------------------------------------------------------------------
def test_settings_are_validated_and_round_trip() -> None:
    optimizer = GPOptimizer(seed=1, n_startup=7, n_restarts=3, max_points=50)
    assert GPOptimizer(seed=1, **optimizer.settings()).settings() == optimizer.settings()
    for bad in (
        {"n_startup": 0},
        {"acquisition": "ucb"},
        {"n_restarts": 1.5},
        {"max_points": 2},
        {"n_candidates": True},
    ):
        with pytest.raises(OptimizerError):
            GPOptimizer(**bad)


def test_startup_points_are_the_sobol_sequence() -> None:
    from tuneful.optimizers import SobolOptimizer

    history = _sphere_history(3)
    rng = np.random.default_rng(0)
    got = GPOptimizer(seed=5).suggest(history, 2, rng)
    expected = SobolOptimizer(seed=5).suggest(history, 2, rng)
    np.testing.assert_array_equal(got, expected)


def test_suggestions_are_in_the_cube_and_deterministic() -> None:
    history = _sphere_history(15)
    first = GPOptimizer(seed=0).suggest(history, 1, np.random.default_rng(9))
    again = GPOptimizer(seed=0).suggest(history, 1, np.random.default_rng(9))
    np.testing.assert_array_equal(first, again)
    assert first.shape == (1, 2) and np.all((first >= 0) & (first <= 1))


def test_cached_fits_do_not_change_suggestions() -> None:
    """A warm optimizer (every earlier history seen) suggests what a fresh one does."""
    space = CONTINUOUS
    rng = np.random.default_rng(6)
    configs = space.sample(rng, 24)
    values = [(c["a"] - 0.3) ** 2 + (math.log10(c["b"]) + 1) ** 2 for c in configs]
    warm = GPOptimizer(seed=0)
    for n in range(10, 24):
        warm.suggest(_history(space, configs[:n], values[:n]), 1, np.random.default_rng(n))
    history = _history(space, configs, values)
    fresh = GPOptimizer(seed=0).suggest(history, 1, np.random.default_rng(1))
    np.testing.assert_array_equal(warm.suggest(history, 1, np.random.default_rng(1)), fresh)


def test_batch_with_pending_gives_distinct_points() -> None:
    history = _sphere_history(12)
    pending_history = _history(
        CONTINUOUS,
        [t.params for t in history.completed],
        [t.values[0] for t in history.completed if t.values],
        pending=[{"a": 0.3, "b": 0.1}, {"a": 0.31, "b": 0.1}],
    )
    points = GPOptimizer(seed=0).suggest(pending_history, 4, np.random.default_rng(0))
    assert points.shape == (4, 2)
    configs = CONTINUOUS.decode(points) + [{"a": 0.3, "b": 0.1}, {"a": 0.31, "b": 0.1}]
    assert len({(c["a"], c["b"]) for c in configs}) == 6


def test_small_discrete_space_never_repeats_a_configuration() -> None:
    space = tuneful.Space(k=tuneful.Categorical(["a", "b", "c"]), n=tuneful.Int(1, 3))
    study = tuneful.create_study(
        space=space, storage="memory://", optimizer=GPOptimizer(seed=0, n_startup=2), seed=0
    )
    study.optimize(
        lambda t: float(t.params["n"]) + (t.params["k"] == "b"), n_trials=9, show_progress_bar=False
    )
    seen = {(t.params["k"], t.params["n"]) for t in study.trials}
    assert len(seen) == 9


def test_mixed_conditional_space_runs_and_is_valid() -> None:
    def objective(trial: tuneful.Trial) -> float:
        p = trial.params
        value = (math.log10(p["lr"]) + 3) ** 2 + 0.1 * p["layers"] + math.log2(p["width"]) / 10
        if p["optimizer"] == "sgd":
            value += (p["momentum"] - 0.9) ** 2 - 0.5 * p["nesterov"]
        return value + (p["optimizer"] == "rmsprop")

    study = tuneful.create_study(
        space=MIXED, storage="memory://", optimizer=GPOptimizer(seed=2), seed=2
    )
    study.optimize(objective, n_trials=22, show_progress_bar=False)
    assert all(t.state is TrialState.COMPLETE for t in study.trials)
    for trial in study.trials:
        assert MIXED.validate(trial.params) == trial.params
    # batch of 3 with two trials in flight
    running = [study.ask(), study.ask()]
    assert len({tuple(sorted(t.params.items(), key=str)) for t in running}) == 2


def test_subsampled_model_still_suggests() -> None:
    history = _sphere_history(40)
    points = GPOptimizer(seed=0, max_points=15).suggest(history, 2, np.random.default_rng(0))
    assert points.shape == (2, 2) and np.all(np.isfinite(points))


def _branin(x1: float, x2: float) -> float:
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_on_branin_where_random_search_does_not(seed: int) -> None:
    space = tuneful.Space(x1=tuneful.Float(-5, 10), x2=tuneful.Float(0, 15))
    budget, bound = 40, 0.41  # the minimum is 0.397887; random search ends above 0.5

    def objective(trial: tuneful.Trial) -> float:
        return _branin(trial.params["x1"], trial.params["x2"])

    study = tuneful.create_study(
        space=space, storage="memory://", optimizer=GPOptimizer(seed=seed), seed=seed
    )
    study.optimize(objective, n_trials=budget, show_progress_bar=False)
    assert study.best_value < bound
    baseline = tuneful.create_study(space=space, storage="memory://", optimizer="random", seed=seed)
    baseline.optimize(objective, n_trials=budget, show_progress_bar=False)
    assert baseline.best_value > bound
