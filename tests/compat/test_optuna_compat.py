"""``tuneful.compat.optuna``: Optuna's API over tuneful studies, and its refusals."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import tuneful
import tuneful.compat.optuna as compat
from tuneful.errors import StorageError, StudyError, TrialError


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("tuneful").setLevel(logging.ERROR)


def _curve_objective(trial: compat.Trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    loss = 0.0
    for step in range(9):
        loss = x + 1.0 / (step + 1)
        trial.report(loss, step)
        if trial.should_prune():
            raise compat.TrialPruned()
    return loss


def test_report_takes_optunas_positional_order() -> None:
    study = compat.create_study()
    trial = study.ask()
    trial.report(0.5, 3)
    trial.report(value=0.25, step=4)
    assert dict(trial.native.record().intermediate) == {3: 0.5, 4: 0.25}


def test_real_tuning_with_pruning_records_pruned_trials_with_curves() -> None:
    study = compat.create_study(
        sampler=compat.samplers.RandomSampler(seed=0),
        pruner=compat.pruners.MedianPruner(n_startup_trials=2),
    )
    study.optimize(_curve_objective, n_trials=12)
    native = study.native.trials
    pruned = [t for t in native if t.state is tuneful.TrialState.PRUNED]
    assert len(native) == 12
    assert pruned
    assert all(t.intermediate and t.last_step < 8 for t in pruned)
    assert study.native.scheduler.name == "median"
    assert {t.number for t in study.get_trials(states=(compat.TrialState.PRUNED,))} == {
        t.number for t in pruned
    }


def test_trial_pruned_is_tunefuls_pruned_and_optunas_own_is_caught() -> None:
    assert issubclass(compat.TrialPruned, tuneful.Pruned)
    assert compat.exceptions.TrialPruned is compat.TrialPruned
    optuna = pytest.importorskip("optuna")

    def objective(trial: compat.Trial) -> float:
        trial.report(1.0, 0)
        raise optuna.TrialPruned()

    study = compat.create_study()
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [compat.TrialState.PRUNED] * 2
    assert study.trials[0].intermediate_values == {0: 1.0}


def test_uncaught_exception_fails_the_trial_and_propagates() -> None:
    def objective(trial: compat.Trial) -> float:
        raise KeyError("bad")

    study = compat.create_study()
    with pytest.raises(KeyError):
        study.optimize(objective, n_trials=5)
    assert [t.state for t in study.trials] == [compat.TrialState.FAIL]


def test_caught_exceptions_fail_trials_and_the_run_goes_on() -> None:
    def objective(trial: compat.Trial) -> float:
        raise ValueError("always")

    study = compat.create_study()
    study.optimize(objective, n_trials=7, catch=ValueError)  # no fail-fast stop, as Optuna
    assert len(study.get_trials(states=[compat.TrialState.FAIL])) == 7


def test_callbacks_get_the_study_and_a_frozen_trial_and_stop_works() -> None:
    seen: list[Any] = []

    def callback(study: compat.Study, trial: compat.FrozenTrial) -> None:
        seen.append((study, trial))
        if trial.number == 3:
            study.stop()

    study = compat.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=50, callbacks=[callback])
    assert len(study.trials) == 4
    assert all(s is study for s, _ in seen)
    frozen = seen[0][1]
    assert isinstance(frozen, compat.FrozenTrial)
    assert frozen.state == compat.TrialState.COMPLETE and frozen.value == frozen.params["x"]
    assert frozen.distributions == {"x": compat.distributions.FloatDistribution(0, 1)}
    assert frozen.duration is not None


def test_stop_with_threads_ends_every_worker() -> None:
    def callback(study: compat.Study, trial: compat.FrozenTrial) -> None:
        if trial.number >= 5:
            study.stop()

    study = compat.create_study()
    study.optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=100, n_jobs=2, callbacks=[callback]
    )
    assert 6 <= len(study.trials) <= 8


@pytest.mark.parametrize(
    ("sampler", "name", "settings"),
    [
        (compat.samplers.TPESampler(seed=3, n_startup_trials=5), "tpe", {"n_startup": 5}),
        (compat.samplers.RandomSampler(seed=3), "random", {}),
        (compat.samplers.CmaEsSampler(seed=3, popsize=8), "cmaes", {"popsize": 8}),
        (compat.samplers.GPSampler(seed=3, n_startup_trials=4), "gp", {"n_startup": 4}),
        (compat.samplers.QMCSampler(seed=3), "sobol", {"scramble": False}),
    ],
)
def test_samplers_map_by_name_with_their_settings(
    sampler: Any, name: str, settings: dict[str, Any]
) -> None:
    study = compat.create_study(sampler=sampler)
    described = study.native.settings["optimizer"]
    assert described["name"] == name
    assert settings.items() <= described["settings"].items()
    assert study.native.seed == 3


def test_multi_objective_samplers_map() -> None:
    two = ["minimize", "maximize"]
    nsga2 = compat.create_study(
        directions=two, sampler=compat.samplers.NSGAIISampler(population_size=8)
    )
    assert nsga2.native.settings["optimizer"]["settings"]["population_size"] == 8
    nsga3 = compat.create_study(directions=two, sampler=compat.samplers.NSGAIIISampler())
    assert nsga3.native.settings["optimizer"]["name"] == "nsga3"
    assert nsga3.directions == [
        compat.study.StudyDirection.MINIMIZE,
        compat.study.StudyDirection.MAXIMIZE,
    ]


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: compat.samplers.CmaEsSampler(sigma0=0.5), "sigma0"),
        (lambda: compat.samplers.CmaEsSampler(x0={"x": 1.0}), "x0"),
        (lambda: compat.samplers.TPESampler(gamma=lambda n: 5), "gamma"),
        (lambda: compat.samplers.QMCSampler(qmc_type="halton"), "qmc_type"),
        (lambda: compat.samplers.NSGAIISampler(swapping_prob=0.3), "swapping_prob"),
        (lambda: compat.pruners.HyperbandPruner(), "max_resource"),
        (lambda: compat.pruners.PercentilePruner(25.0), "percentile"),
        (lambda: compat.pruners.MedianPruner(interval_steps=2), "interval_steps"),
        (lambda: compat.pruners.SuccessiveHalvingPruner(bootstrap_count=2), "bootstrap_count"),
    ],
)
def test_what_cannot_be_mapped_is_refused_naming_the_argument(make: Any, argument: str) -> None:
    with pytest.raises(StudyError, match=f"{argument}="):
        make()


@pytest.mark.parametrize(
    ("pruner", "name", "settings"),
    [
        (compat.pruners.MedianPruner(3, 2), "median", {"n_startup_trials": 3, "n_warmup_steps": 2}),
        (compat.pruners.PercentilePruner(50.0), "median", {}),
        (
            compat.pruners.SuccessiveHalvingPruner(2, 3, 1),
            "asha",
            {"min_budget": 6, "reduction_factor": 3},
        ),
        (compat.pruners.HyperbandPruner(1, 27, 3), "hyperband", {"max_budget": 27}),
        (compat.pruners.NopPruner(), "none", {}),
    ],
)
def test_pruners_map_to_schedulers(pruner: Any, name: str, settings: dict[str, Any]) -> None:
    study = compat.create_study(pruner=pruner)
    described = study.native.settings["scheduler"]
    assert described["name"] == name
    assert settings.items() <= (described.get("settings") or {}).items()


def test_visualization_is_refused_with_the_tuneful_equivalent() -> None:
    with pytest.raises(AttributeError, match=r"tuneful\.viz\.study.*plot_history"):
        compat.visualization  # noqa: B018
    with pytest.raises(AttributeError, match="BruteForceSampler.*mapped"):
        compat.samplers.BruteForceSampler  # noqa: B018
    with pytest.raises(AttributeError, match="docs/from-optuna.md"):
        compat.not_a_thing  # noqa: B018


def test_optunas_own_objects_are_refused() -> None:
    optuna = pytest.importorskip("optuna")
    with pytest.raises(StudyError, match="sampler=.*tuneful.compat.optuna.samplers"):
        compat.create_study(sampler=optuna.samplers.RandomSampler())
    with pytest.raises(StudyError, match="storage=.*storage URL"):
        compat.create_study(storage=optuna.storages.InMemoryStorage())


def test_constraints_func_gives_each_completed_trial_its_constraints() -> None:
    sampler = compat.samplers.TPESampler(seed=0, constraints_func=lambda t: [t.params["x"] - 0.5])
    study = compat.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=6)
    for trial in study.native.trials:
        assert trial.constraints == (trial.params["x"] - 0.5,)
    assert study.best_trial.params["x"] <= 0.5
    assert study.trials[0].constraints == {"0": study.trials[0].params["x"] - 0.5}


def test_deprecated_suggestions_and_step_trimmed_as_optuna_does() -> None:
    study = compat.create_study()
    trial = study.ask()
    trial.suggest_uniform("u", 0, 1)
    trial.suggest_loguniform("l", 1e-3, 1)
    trial.suggest_discrete_uniform("d", 0, 1, 0.25)
    trial.suggest_int("n", 0, 10, step=3)  # Optuna trims high to 9
    spec = trial.native.record().distributions
    assert spec["l"]["log"] is True and spec["d"]["step"] == 0.25
    assert spec["n"]["high"] == 9
    assert set(trial.distributions) == {"u", "l", "d", "n"}


def test_ask_tell_with_several_values_and_states() -> None:
    study = compat.create_study(directions=["minimize", "minimize"])
    first = study.ask()
    frozen = study.tell(first, [1.0, 2.0])
    assert frozen.values == [1.0, 2.0] and frozen.state == compat.TrialState.COMPLETE
    second = study.ask()
    assert study.tell(second.number, state=compat.TrialState.PRUNED).state.name == "PRUNED"
    assert study.tell(second, [0.0, 0.0], skip_if_finished=True).state.name == "PRUNED"
    with pytest.raises(TrialError, match="values="):
        study.tell(study.ask())


def test_add_trial_and_create_trial_checks() -> None:
    study = compat.create_study()
    with pytest.raises(TrialError, match="needs value"):
        compat.create_trial(params={}, distributions={})
    with pytest.raises(TrialError, match="no distribution"):
        compat.create_trial(params={"x": 1.0}, value=1.0)
    with pytest.raises(TrialError, match="RUNNING"):
        study.add_trial(compat.create_trial(state=compat.TrialState.RUNNING))
    pruned = compat.create_trial(
        state=compat.TrialState.PRUNED,
        params={"n": 2},
        distributions={"n": compat.distributions.IntDistribution(1, 4)},
        intermediate_values={0: 3.0, 1: 2.5},
    )
    study.add_trial(pruned)
    record = study.native.trials[0]
    assert record.state is tuneful.TrialState.PRUNED
    assert dict(record.intermediate) == {0: 3.0, 1: 2.5}
    assert record.distributions["n"] == {"type": "int", "low": 1, "high": 4}


def test_enqueue_skip_if_exists() -> None:
    study = compat.create_study()
    study.enqueue_trial({"x": 0.5})
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    study.enqueue_trial({"x": 0.5}, skip_if_exists=True)
    assert len(study.trials) == 1


def test_trials_dataframe_columns_are_optunas() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def objective(trial: Any) -> float:
        trial.set_user_attr("tag", "t")
        if trial.suggest_categorical("kind", ["a", "b"]) == "a":
            return trial.suggest_float("x", 0, 1)
        return trial.suggest_int("n", 1, 3)

    attrs = (
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration",
        "params",
        "user_attrs",
        "state",
    )
    theirs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    theirs.optimize(objective, n_trials=8)
    ours = compat.create_study(sampler=compat.samplers.RandomSampler(seed=0))
    ours.optimize(objective, n_trials=8)
    ours.enqueue_trial({"kind": "a", "x": 0.5})
    theirs.enqueue_trial({"kind": "a", "x": 0.5})
    ours_frame = ours.trials_dataframe(attrs=attrs)
    theirs_frame = theirs.trials_dataframe(attrs=attrs)
    assert list(ours_frame.columns) == list(theirs_frame.columns)
    assert list(ours_frame["state"]) == list(theirs_frame["state"])
    assert ours.trials_dataframe(multi_index=True).columns.nlevels == 2
    assert compat.create_study().trials_dataframe().empty


def test_load_study_without_a_name_takes_the_only_one(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    compat.create_study(study_name="only", storage=url).optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    loaded = compat.load_study(study_name=None, storage=url)
    assert loaded.study_name == "only" and len(loaded.trials) == 2
    compat.create_study(study_name="second", storage=url)
    with pytest.raises(StudyError, match="holds 2 studies"):
        compat.load_study(study_name=None, storage=url)


def test_logging_calls_are_accepted() -> None:
    compat.logging.set_verbosity(compat.logging.WARNING)
    compat.logging.disable_default_handler()


def test_an_optuna_database_as_storage_points_to_the_import(tmp_path: Any) -> None:
    optuna = pytest.importorskip("optuna")
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    optuna.create_study(study_name="theirs", storage=url)
    with pytest.raises(StorageError, match="is an Optuna database.*tuneful import optuna --from"):
        compat.create_study(study_name="theirs", storage=url, load_if_exists=True)


def test_an_unmapped_attribute_points_to_the_native_object() -> None:
    study = compat.create_study()
    with pytest.raises(AttributeError, match=r"'system_attrs'.*study\.native"):
        study.system_attrs  # noqa: B018
    with pytest.raises(AttributeError, match=r"'set_system_attr'.*trial\.native"):
        study.ask().set_system_attr("k", 1)


def test_set_constraint_stores_the_constraints_with_the_value() -> None:
    def objective(trial: compat.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.set_constraint("memory", x - 0.5)
        trial.set_constraint("latency", -1.0)
        trial.set_constraint("memory", 99.0)  # set again: ignored, as Optuna does
        return x

    study = compat.create_study()
    study.optimize(objective, n_trials=5)
    for trial in study.native.trials:
        assert trial.constraints == (trial.params["x"] - 0.5, -1.0)
