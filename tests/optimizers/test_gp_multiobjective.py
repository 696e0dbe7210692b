"""GP-BO with several objectives: expected hypervolume improvement of a GP per objective
(exact, by box decomposition; the default) and ParEGO's random augmented-Tchebycheff
scalarizations (Knowles 2006; ``multi_objective="parego"``)."""

from __future__ import annotations

import numpy as np
import pytest

import tuneful
from tuneful._pareto import hypervolume as exact_hypervolume
from tuneful.analysis.indicators import hypervolume
from tuneful.errors import OptimizerError, VersionChangedWarning
from tuneful.optimizers import GPOptimizer, make_optimizer
from tuneful.optimizers._gp_hypervolume import log_ehvi, non_dominated_boxes
from tuneful.optimizers.gp import _scalarized
from tuneful.records import History

ZDT_SPACE = tuneful.Space(**{f"x{i}": tuneful.Float(0, 1) for i in range(5)})
TWO = ["minimize", "minimize"]


def _zdt1(trial: tuneful.Trial) -> tuple[float, float]:
    x = np.array([trial.params[f"x{i}"] for i in range(5)])
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - float(np.sqrt(x[0] / g)))


def _front_volume(study: tuneful.Study) -> float:
    points = [t.values for t in study.trials if t.values]
    return hypervolume(points, reference=[1.1, 11.0])


def _study(optimizer: object, seed: int, directions: list[str] = TWO) -> tuneful.Study:
    return tuneful.create_study(
        space=ZDT_SPACE, storage="memory://", directions=directions, optimizer=optimizer, seed=seed
    )


def _monte_carlo_hvi(
    front: np.ndarray, reference: np.ndarray, mean: np.ndarray, sd: np.ndarray, n: int
) -> tuple[float, float]:
    """Mean and standard error of the hypervolume improvement over draws of N(mean, sd^2)."""
    base = exact_hypervolume(front, reference)
    draws = np.random.default_rng(0).normal(mean, sd, size=(n, mean.size))
    gains = [exact_hypervolume(np.vstack([front, y]), reference) - base for y in draws]
    return float(np.mean(gains)), float(np.std(gains) / np.sqrt(n))


def test_the_boxes_cover_exactly_the_region_the_front_leaves_open() -> None:
    rng = np.random.default_rng(1)
    for m in (2, 3):
        front = rng.random((7, m))
        reference = np.full(m, 1.2)
        lower, upper = non_dominated_boxes(front, reference)
        floor = np.maximum(lower, -1.0)  # measure inside [-1, r]
        volume = float(np.sum(np.prod(upper - floor, axis=1)))
        assert volume == pytest.approx(2.2**m - exact_hypervolume(front + 1.0, reference + 1.0))


@pytest.mark.parametrize("m", [2, 3])
def test_ehvi_matches_a_monte_carlo_estimate_on_a_hand_built_front(m: int) -> None:
    front = (
        np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 1.0]])
        if m == 2
        else np.array([[1.0, 3.0, 2.0], [2.0, 1.0, 3.0], [3.0, 2.0, 1.0], [2.0, 2.0, 2.0]])
    )
    reference = np.full(m, 5.0)
    lower, upper = non_dominated_boxes(front, reference)
    for mean, sd in [(np.full(m, 2.5), np.full(m, 0.8)), (np.full(m, 1.5), np.full(m, 0.3))]:
        value, _, _ = log_ehvi(mean[None, :], sd[None, :] ** 2, lower, upper)
        estimate, error = _monte_carlo_hvi(front, reference, mean, sd, 4000)
        assert np.exp(value[0]) == pytest.approx(estimate, abs=4 * error + 1e-9)


def test_log_ehvi_is_finite_far_from_the_front_and_its_gradients_match() -> None:
    lower, upper = non_dominated_boxes(
        np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 1.0]]), np.full(2, 5.0)
    )
    means = np.array([[2.5, 2.5], [40.0, 60.0], [0.5, 3.0]])
    variances = np.array([[0.5, 0.2], [0.3, 0.4], [1.0, 0.1]])
    value, d_means, d_variances = log_ehvi(means, variances, lower, upper)
    assert np.all(np.isfinite(value)) and value[1] < -100
    h = 1e-6
    for j in range(2):
        step = np.zeros_like(means)
        step[:, j] = h
        up = log_ehvi(means + step, variances, lower, upper)[0]
        assert np.allclose(d_means[:, j], (up - value) / h, rtol=1e-3, atol=1e-4)
        up = log_ehvi(means, variances + step, lower, upper)[0]
        assert np.allclose(d_variances[:, j], (up - value) / h, rtol=1e-3, atol=1e-4)


def test_the_scalarization_is_the_augmented_tchebycheff_of_scaled_objectives() -> None:
    y = np.array([[0.0, 10.0], [1.0, 0.0], [0.5, 5.0]])
    rng = np.random.default_rng(4)
    w = np.random.default_rng(4).dirichlet(np.ones(2))
    scaled = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    expected = np.max(scaled * w, axis=1) + 0.05 * np.sum(scaled * w, axis=1)
    assert np.allclose(_scalarized(y, rng), expected)


def test_one_objective_draws_nothing_from_the_generator() -> None:
    rng = np.random.default_rng(0)
    assert np.array_equal(_scalarized(np.array([[3.0], [1.0]]), rng), [3.0, 1.0])
    assert rng.random() == np.random.default_rng(0).random()


def test_the_multi_objective_method_is_a_validated_setting() -> None:
    assert GPOptimizer().settings()["multi_objective"] == "ehvi"
    parego = GPOptimizer(seed=1, multi_objective="parego")
    assert GPOptimizer(seed=1, **parego.settings()).settings() == parego.settings()
    with pytest.raises(OptimizerError, match="multi_objective"):
        GPOptimizer(multi_objective="nsga")


def test_a_gp_stored_before_the_ehvi_default_warns_when_rebuilt() -> None:
    """Version 1 took ParEGO for several objectives without recording it."""
    with pytest.warns(VersionChangedWarning, match="version 1 of its algorithm.*version 2"):
        make_optimizer({"name": "gp", "settings": {}, "version": 1}, seed=0)


@pytest.mark.parametrize("method", ["ehvi", "parego"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_gp_beats_random_search_on_zdt1(method: str, seed: int) -> None:
    gp = _study(GPOptimizer(seed=seed, multi_objective=method), seed)
    gp.optimize(_zdt1, n_trials=40, show_progress_bar=False)
    blind = _study("random", seed)
    blind.optimize(_zdt1, n_trials=40, show_progress_bar=False)
    assert _front_volume(gp) > _front_volume(blind) + 1.0


@pytest.mark.parametrize("method", ["ehvi", "parego"])
def test_a_fresh_optimizer_on_a_multi_objective_history_proposes_the_same(method: str) -> None:
    """ParEGO's weights come from the trial's generator: the same generator replays them."""
    directions = ["minimize", "maximize"]
    study = _study(GPOptimizer(seed=2, multi_objective=method), 2, directions)
    study.optimize(lambda t: (_zdt1(t)[0], -_zdt1(t)[1]), n_trials=14, show_progress_bar=False)
    history = History(ZDT_SPACE, tuple(directions), list(study.trials), number=14, seed=2)
    first = GPOptimizer(seed=2, multi_objective=method).suggest(
        history, 1, np.random.default_rng(9)
    )
    again = GPOptimizer(seed=2, multi_objective=method).suggest(
        history, 1, np.random.default_rng(9)
    )
    other = GPOptimizer(seed=2, multi_objective=method).suggest(
        history, 1, np.random.default_rng(10)
    )
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize("method", ["ehvi", "parego"])
def test_a_resumed_study_proposes_what_an_uninterrupted_one_does(method: str, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    whole = tuneful.create_study(
        "whole", space=ZDT_SPACE, directions=TWO, storage=url,
        optimizer=GPOptimizer(seed=3, multi_objective=method), seed=3,
    )  # fmt: skip
    whole.optimize(_zdt1, n_trials=18, show_progress_bar=False)
    parts = tuneful.create_study(
        "parts", space=ZDT_SPACE, directions=TWO, storage=url,
        optimizer=GPOptimizer(seed=3, multi_objective=method), seed=3,
    )  # fmt: skip
    parts.optimize(_zdt1, n_trials=13, show_progress_bar=False)
    resumed = tuneful.load_study("parts", storage=url)
    resumed.optimize(_zdt1, n_trials=5, show_progress_bar=False)
    assert [t.params for t in resumed.trials] == [t.params for t in whole.trials]


@pytest.mark.parametrize("method", ["ehvi", "parego"])
def test_a_batch_with_pending_trials_gives_distinct_points(method: str) -> None:
    study = _study(GPOptimizer(seed=0, multi_objective=method), 0)
    study.optimize(_zdt1, n_trials=12, show_progress_bar=False)
    running = [study.ask(), study.ask()]
    points = [t.params for t in running] + [study.ask().params for _ in range(3)]
    assert len({tuple(p.values()) for p in points}) == 5
