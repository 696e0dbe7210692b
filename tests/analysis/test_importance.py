"""Parameter importance: fANOVA and PED-ANOVA against answers known in closed form."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

import tuneful
from tuneful.analysis.importance import MIN_TRIALS, Importance, importance
from tuneful.analysis.importance.fanova import PAIR_PARAMS, TreeANOVA
from tuneful.analysis.importance.ped_anova import pearson_divergence
from tuneful.analysis.trials import StudyData
from tuneful.errors import MissingDependencyError, StudyError

UNIT = tuneful.Float(0.0, 1.0)


def run_study(
    space: tuneful.Space,
    objective: Callable[[dict[str, Any]], Any],
    n_trials: int,
    *,
    seed: int = 0,
    directions: Sequence[str] = ("minimize",),
) -> tuneful.Study:
    """A study of ``n_trials`` uniform random trials of ``objective(params)``, in memory."""
    study = tuneful.create_study(
        "imp",
        space=space,
        directions=list(directions),
        storage="memory://",
        optimizer="random",
        seed=seed,
    )
    study.optimize(lambda t: objective(t.params), n_trials=n_trials, show_progress_bar=False)
    return study


# f = a x1 + b x2 + c (x1 - ½)(x3 - ½) over uniform inputs: the ANOVA terms are orthogonal, so
# Var = a²/12 + b²/12 + c²/144, split as x1: a²/12, x2: b²/12, x1 × x3: c²/144, x4: 0.
A, B, C = 3.0, 1.5, 8.0
TOTAL = A**2 / 12 + B**2 / 12 + C**2 / 144
ANALYTIC = {"x1": A**2 / 12 / TOTAL, "x2": B**2 / 12 / TOTAL, "x3": 0.0, "x4": 0.0}
ANALYTIC_PAIR = C**2 / 144 / TOTAL


def known(p: dict[str, Any]) -> float:
    return A * p["x1"] + B * p["x2"] + C * (p["x1"] - 0.5) * (p["x3"] - 0.5)


@pytest.fixture(scope="module")
def known_study() -> StudyData:
    space = tuneful.Space(x1=UNIT, x2=UNIT, x3=UNIT, x4=UNIT)
    return StudyData.of(run_study(space, known, 600, seed=1))


def test_fanova_matches_the_analytic_shares_of_a_known_function(known_study: StudyData) -> None:
    result = importance(known_study, method="fanova")
    assert result.params == ("x1", "x2", "x3", "x4")
    assert result.shares["x1"] == pytest.approx(ANALYTIC["x1"], abs=0.05)
    # a forest fitted to 600 points blurs the smaller effect a little (0.11 for 0.14)
    assert result.shares["x2"] == pytest.approx(ANALYTIC["x2"], abs=0.05)
    assert result.shares["x3"] < 0.02 and result.shares["x4"] < 0.01
    top_pair, share = next(iter(result.pairs.items()))
    assert top_pair == ("x1", "x3")
    assert share == pytest.approx(ANALYTIC_PAIR, abs=0.05)
    others = [v for k, v in result.pairs.items() if k != ("x1", "x3")]
    assert max(others) < 0.03
    assert sum(result.shares.values()) + sum(result.pairs.values()) <= 1.0 + 1e-9


def test_ped_anova_ranks_the_main_parameter_first_and_the_idle_one_last(
    known_study: StudyData,
) -> None:
    result = importance(known_study, method="ped-anova")
    assert result.params[0] == "x1" and result.params[-1] == "x4"
    assert sum(result.shares.values()) == pytest.approx(1.0)
    assert result.pairs == {}
    assert result.shares["x4"] < 0.05


def test_tree_anova_is_exact_on_a_hand_made_tree() -> None:
    # x1 < ½: 0; x1 > ½: 1 below x2 = ½ and 3 above. Mean 1, Var 1.5; E[f|x1] ∈ {0, 2}:
    # V1 = 1; E[f|x2] ∈ {½, 3/2}: V2 = ¼; the interaction is the rest, ¼.
    lower = np.array([[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]])
    upper = np.array([[0.5, 1.0], [1.0, 0.5], [1.0, 1.0]])
    tree = TreeANOVA(lower, upper, np.array([0.0, 1.0, 3.0]))
    assert tree.total == pytest.approx(1.5)
    singles = tree.singles()
    assert singles == pytest.approx([1.0, 0.25])
    assert tree.interactions([(0, 1)], singles) == pytest.approx([0.25])


def test_pearson_divergence_of_known_distributions() -> None:
    uniform = np.full(4, 0.25)
    assert pearson_divergence(uniform, uniform) == 0.0
    # all the mass on half of the points: ∫ p²/q - 1 = 2 · (½)² / ¼ - 1 = 1
    assert pearson_divergence(np.array([0.5, 0.5, 0.0, 0.0]), uniform) == pytest.approx(1.0)


# -- conditional spaces --------------------------------------------------------------------
CONDITIONAL = tuneful.Space(
    model=tuneful.Categorical(["svm", "rf"]),
    C=tuneful.Float(1e-3, 1e3, log=True, when={"model": "svm"}),
    depth=tuneful.Int(1, 20, when={"model": "rf"}),
    x=UNIT,
)


def _branchy(p: dict[str, Any]) -> float:
    """4 between the branches; within svm 2·u(C) (u: C's position on its log scale), within
    rf (depth - ½)/20; x nothing."""
    if p["model"] == "svm":
        return 2 * (math.log(p["C"]) - math.log(1e-3)) / math.log(1e6)
    return 4 + (p["depth"] - 0.5) / 20


def test_fanova_gives_an_inactive_parameter_no_importance_from_its_branch() -> None:
    study = run_study(CONDITIONAL, _branchy, 400, seed=2)
    result = importance(study, method="fanova")
    # Branch means 1 (svm: 2u, u uniform) and 4.5 (rf): model (3.5 / 2)². C is active on half
    # of the cube with Var 4/12 there: alone (½)² · ⅓ = 1/12, and as much again with model;
    # depth alike with Var 1/12 (1/48 alone). Nothing of the 3.5 between branches is theirs.
    total = 3.5**2 / 4 + 2 / 12 + 2 / 48
    assert result.params[0] == "model"
    assert result.shares["model"] == pytest.approx(3.5**2 / 4 / total, abs=0.01)
    assert result.shares["C"] == pytest.approx(1 / 12 / total, abs=0.005)
    assert result.shares["depth"] == pytest.approx(1 / 48 / total, abs=0.003)
    assert result.pairs[("model", "C")] == pytest.approx(1 / 12 / total, abs=0.005)
    assert result.shares["x"] < 0.005


def test_ped_anova_gives_an_inactive_parameter_no_importance_from_its_branch() -> None:
    # only the branch matters: svm is better; C and depth change nothing
    study = run_study(CONDITIONAL, lambda p: 0.0 if p["model"] == "svm" else 4.0, 400, seed=3)
    result = importance(study, method="ped-anova")
    assert result.params[0] == "model"
    assert result.shares["model"] > 0.7
    assert result.shares["depth"] == 0.0  # never active among the best trials
    assert result.shares["C"] < 0.2


def test_ped_anova_measures_a_conditional_parameter_within_its_branch() -> None:
    study = run_study(CONDITIONAL, _branchy, 400, seed=2)
    result = importance(study, method="ped-anova")
    # the best 10 % are all svm with a low C: given svm, C decides who is best
    assert result.params[:2] == ("C", "model")
    assert result.shares["depth"] == 0.0 and result.shares["x"] < 0.05


# -- scales, categories, objectives --------------------------------------------------------
def test_a_log_parameter_is_measured_on_its_log_scale() -> None:
    space = tuneful.Space(lr=tuneful.Float(1e-5, 1.0, log=True), x=UNIT)
    # both terms vary the same on their own scale: equal shares
    study = run_study(space, lambda p: math.log10(p["lr"]) / 5 + p["x"], 400, seed=4)
    for method in ("fanova", "ped-anova"):
        result = importance(study, method=method)
        assert result.shares["lr"] == pytest.approx(result.shares["x"], rel=0.35), method


def test_a_categorical_choice_weighs_as_its_share_of_the_choices() -> None:
    # choice c of 3: Var(3·[c]) = 9 · ⅓ · ⅔ = 2; x: √24·x has Var 2 too
    space = tuneful.Space(kind=tuneful.Categorical(["a", "b", "c"]), x=UNIT)
    study = run_study(
        space, lambda p: 3.0 * (p["kind"] == "c") + math.sqrt(24) * p["x"], 400, seed=5
    )
    result = importance(study, method="fanova")
    assert result.shares["kind"] == pytest.approx(0.5, abs=0.06)
    assert result.shares["x"] == pytest.approx(0.5, abs=0.06)


def test_maximizing_ranks_as_minimizing_the_negation() -> None:
    space = tuneful.Space(x1=UNIT, x2=UNIT, x3=UNIT, x4=UNIT)
    low = run_study(space, known, 200, seed=6)
    high = run_study(space, lambda p: -known(p), 200, seed=6, directions=("maximize",))
    for method in ("fanova", "ped-anova"):
        a, b = importance(low, method=method), importance(high, method=method)
        assert a.params == b.params
        assert a.shares == pytest.approx(b.shares)


def test_several_objectives_are_explained_one_at_a_time() -> None:
    space = tuneful.Space(x1=UNIT, x2=UNIT)
    study = run_study(
        space, lambda p: (p["x1"], p["x2"]), 60, seed=7, directions=("minimize", "maximize")
    )
    assert importance(study, objective=0).params[0] == "x1"
    assert importance(study, objective=1).params[0] == "x2"
    assert importance(study, objective=1, method="ped-anova").params[0] == "x2"


def test_params_restricts_the_ranking(known_study: StudyData) -> None:
    result = importance(known_study, params=["x4", "x2"])
    assert set(result.params) == {"x2", "x4"} and result.params[0] == "x2"


def test_pairs_are_measured_among_the_most_used_parameters_and_it_is_said() -> None:
    names = [f"p{i}" for i in range(PAIR_PARAMS + 2)]
    space = tuneful.Space(**{n: UNIT for n in names})
    study = run_study(space, lambda p: p["p0"] * p["p7"] + 0.1 * p["p3"], 80, seed=8)
    result = importance(study)
    assert len(result.pairs) == PAIR_PARAMS * (PAIR_PARAMS - 1) // 2
    assert ("p0", "p7") in result.pairs
    assert any(f"{PAIR_PARAMS} parameters" in note for note in result.notes)


# -- uncertainty and determinism ------------------------------------------------------------
def test_uncertainty_is_present_and_sane(known_study: StudyData) -> None:
    for method in ("fanova", "ped-anova"):
        result = importance(known_study, method=method)
        assert set(result.std) == set(result.shares)
        assert all(math.isfinite(s) and s >= 0 for s in result.std.values())
        top = result.params[0]
        assert 0 < result.std[top] < result.shares[top] / 3, method
    fanova = importance(known_study)
    # the trees agree with the analytic share within a few of their standard deviations
    assert abs(fanova.shares["x1"] - ANALYTIC["x1"]) < 4 * fanova.std["x1"] + 0.02
    assert all(v >= 0 for v in fanova.pair_std.values()) and fanova.pair_std[("x1", "x3")] > 0


def test_uncertainty_shrinks_with_more_trials() -> None:
    space = tuneful.Space(x1=UNIT, x2=UNIT, x3=UNIT, x4=UNIT)
    few = importance(run_study(space, known, 40, seed=9), method="ped-anova")
    many = importance(run_study(space, known, 800, seed=9), method="ped-anova")
    assert many.std["x1"] < few.std["x1"]


def test_fanova_on_a_large_study_fits_a_random_sample_and_says_so(known_study: StudyData) -> None:
    sampled = importance(known_study, max_trials=200)
    assert any("fitted on 200 of the 600 trials" in note for note in sampled.notes)
    whole = importance(known_study, max_trials=None)
    assert not any("fitted on" in note for note in whole.notes)
    assert sampled.params[:2] == whole.params[:2] == ("x1", "x2")
    assert abs(sampled.shares["x1"] - whole.shares["x1"]) < 0.1


def test_the_same_seed_gives_the_same_answer(known_study: StudyData) -> None:
    for method in ("fanova", "ped-anova"):
        first = importance(known_study, method=method, seed=11)
        assert importance(known_study, method=method, seed=11) == first
        other = importance(known_study, method=method, seed=12)
        assert other.std != first.std  # the seed is used
        assert other.params[0] == first.params[0]


# -- what is left out, and errors -----------------------------------------------------------
def test_failed_and_non_finite_trials_are_left_out_and_said() -> None:
    space = tuneful.Space(x1=UNIT, x2=UNIT)

    def objective(p: dict[str, Any]) -> float:
        if p["x2"] > 0.9:
            raise ValueError("fails")
        return p["x1"]

    data = StudyData.of(run_study(space, objective, 60, seed=13))
    # a record holding a NaN (an old or hand-written log): completed, but nothing to learn from
    damaged = [replace(t, values=(math.nan,)) if t.number < 3 else t for t in data.trials]
    data = replace(data, trials=tuple(damaged))
    completed = [t for t in data.trials if t.state is tuneful.TrialState.COMPLETE]
    assert len(completed) < len(data.trials)
    result = importance(data, method="ped-anova")
    assert result.n_trials == len(completed) - 3
    assert any("3 completed trial(s) without a finite value" in n for n in result.notes)


def test_a_constant_objective_explains_nothing() -> None:
    study = run_study(tuneful.Space(x1=UNIT, x2=UNIT), lambda p: 1.0, 20, seed=14)
    for method in ("fanova", "ped-anova"):
        result = importance(study, method=method)
        assert set(result.shares.values()) == {0.0}
        assert any("constant" in note for note in result.notes)


def test_too_few_trials_says_how_many_there_are_and_how_many_are_needed() -> None:
    study = run_study(tuneful.Space(x1=UNIT), lambda p: p["x1"], MIN_TRIALS - 3, seed=15)
    with pytest.raises(
        StudyError, match=f"has {MIN_TRIALS - 3} completed .* at least {MIN_TRIALS}"
    ):
        importance(study)


def test_an_unknown_method_lists_the_methods(known_study: StudyData) -> None:
    with pytest.raises(StudyError, match=r"method='fanva'.*did you mean 'fanova'.*ped-anova"):
        importance(known_study, method="fanva")


def test_an_objective_out_of_range_is_an_error(known_study: StudyData) -> None:
    with pytest.raises(StudyError, match=r"objective=1 is out of range.*1 objective"):
        importance(known_study, objective=1)


def test_unknown_params_are_an_error(known_study: StudyData) -> None:
    with pytest.raises(StudyError, match=r"\['x9'\] are not parameters"):
        importance(known_study, params=["x1", "x9"])


@pytest.mark.parametrize(
    ("setting", "match"),
    [
        ({"top_quantile": 0.0}, "top_quantile=0.0"),
        ({"region_quantile": 1.5}, "region_quantile=1.5"),
        ({"top_quantile": 0.5, "region_quantile": 0.3}, "must be below"),
        ({"n_trees": 0}, "n_trees=0"),
        ({"n_bootstrap": -1}, "n_bootstrap=-1"),
        ({"max_trials": 5}, "max_trials=5"),
    ],
)
def test_settings_out_of_range_are_errors(
    known_study: StudyData, setting: dict[str, Any], match: str
) -> None:
    with pytest.raises(StudyError, match=match):
        importance(known_study, **setting)


def test_fanova_without_scikit_learn_names_the_extra(
    known_study: StudyData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.ensemble", None)
    with pytest.raises(MissingDependencyError, match=r"tuneful\[importance\]"):
        importance(known_study)
    assert importance(known_study, method="ped-anova").params[0] == "x1"


def test_the_result_is_json_ready(known_study: StudyData) -> None:
    result = importance(known_study)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["method"] == "fanova" and data["n_trials"] == 600
    assert [p["name"] for p in data["params"]] == list(result.params)
    assert data["pairs"][0]["names"] == ["x1", "x3"]
    assert isinstance(result, Importance) and result.label == "fANOVA"


def test_an_int_with_a_step_weighs_each_of_its_values_alike() -> None:
    # units 0, 2, ..., 10 (6 values): the term has the variance of 6 equal cells, as x's
    space = tuneful.Space(units=tuneful.Int(0, 10, step=2), x=UNIT)
    values = np.arange(0, 11, 2) / 10
    spread = float(np.std(values))
    study = run_study(space, lambda p: p["units"] / 10 + spread * math.sqrt(12) * p["x"], 400)
    result = importance(study, method="fanova")
    assert result.shares["units"] == pytest.approx(result.shares["x"], abs=0.02)
