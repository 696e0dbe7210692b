"""Optuna studies into tuneful and back: ``import_study`` / ``export_study`` and the
``tuneful import optuna`` / ``tuneful export optuna`` commands, against real Optuna."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import tuneful
from tuneful.compat.optuna import export_study, import_study
from tuneful.errors import DuplicateStudyError, StorageError, StudyNotFoundError

optuna = pytest.importorskip("optuna")
optuna.logging.set_verbosity(optuna.logging.ERROR)

FIELDS = (
    "number",
    "state",
    "values",
    "params",
    "distributions",
    "user_attrs",
    "intermediate_values",
    "datetime_start",
    "datetime_complete",
    "constraints",
)


def _objective(trial: Any) -> float:
    """Conditional parameters, a curve, pruning, failures, constraints and attributes."""
    kind = trial.suggest_categorical("kind", ["linear", "tree", None, 3])
    if kind == "linear":
        x = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    elif kind == "tree":
        x = trial.suggest_int("depth", 2, 32, log=True)
    else:
        x = trial.suggest_int("n", 1, 9, step=2)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    trial.suggest_float("fixed", 0.5, 0.5)  # a one-value distribution
    trial.set_user_attr("kind_seen", [str(kind), trial.number])
    trial.set_constraint("memory", q - 0.6)
    for step in range(5):
        trial.report(float(x) + q + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise optuna.TrialPruned()
    if trial.number % 7 == 3:
        raise ValueError("diverged")
    return float(x) + q


@pytest.fixture(scope="module")
def optuna_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Optuna study 'source' with COMPLETE, PRUNED, FAIL and WAITING trials (read only by
    the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('optuna') / 'optuna.db'}"
    study = optuna.create_study(
        study_name="source",
        storage=url,
        sampler=optuna.samplers.RandomSampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2),
    )
    study.set_user_attr("team", "vision")
    study.optimize(_objective, n_trials=24, catch=(ValueError,))
    study.enqueue_trial({"kind": "linear", "lr": 0.01})
    states = {t.state.name for t in study.trials}
    assert {"COMPLETE", "PRUNED", "FAIL", "WAITING"} <= states
    return url


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _assert_equal_trials(first: list[Any], second: list[Any]) -> None:
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        for field in FIELDS:
            assert _same(getattr(a, field), getattr(b, field)), (a.number, field)
        assert a.system_attrs == b.system_attrs, a.number


def test_round_trip_compares_equal_field_by_field(optuna_url: str, tmp_path: Path) -> None:
    tuneful_url = f"sqlite:///{tmp_path / 'tuneful.db'}"
    import_study(optuna_url, "source", storage=tuneful_url)
    back = f"sqlite:///{tmp_path / 'back.db'}"
    export_study("source", back, storage=tuneful_url)
    import_study(back, "source", storage=tuneful_url, name="again")

    original = optuna.load_study(study_name="source", storage=optuna_url)
    exported = optuna.load_study(study_name="source", storage=back)
    _assert_equal_trials(original.trials, exported.trials)
    assert exported.user_attrs == {"team": "vision"}
    assert exported.directions == original.directions

    first = tuneful.load_study("source", storage=tuneful_url).trials
    second = tuneful.load_study("again", storage=tuneful_url).trials
    assert [t.to_dict() | _no_times() for t in first] == [t.to_dict() | _no_times() for t in second]
    assert [t.distributions for t in first] == [t.distributions for t in second]


def _no_times() -> dict[str, Any]:
    return {"created_at": 0, "started_at": 0, "finished_at": 0, "duration": 0}


def test_import_keeps_states_curves_conditional_params_and_constraints(
    optuna_url: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'tuneful.db'}"
    assert import_study(optuna_url, "source", storage=url, name="copy") == "copy"
    study = tuneful.load_study("copy", storage=url)
    original = optuna.load_study(study_name="source", storage=optuna_url).trials
    assert study.user_attrs == {"team": "vision"}
    assert study.directions == ("minimize",)
    for mine, theirs in zip(study.trials, original, strict=True):
        assert mine.state.value == theirs.state.name
        if theirs.state.name == "WAITING":  # Optuna keeps a queued trial's params aside
            assert dict(mine.params) == theirs.system_attrs["fixed_params"]
            continue
        assert dict(mine.params) == theirs.params
        assert dict(mine.intermediate) == theirs.intermediate_values
        assert dict(mine.user_attrs) == theirs.user_attrs
        if theirs.state.name == "COMPLETE":
            assert mine.values == tuple(theirs.values)
            assert mine.constraints == tuple(theirs.constraints.values())
        if theirs.state.name == "PRUNED":
            assert mine.values is None and mine.intermediate
    kinds = {t.params.get("kind") for t in study.trials}
    assert len(kinds) > 1  # trials with different parameter sets
    specs = {n: s for t in study.trials for n, s in t.distributions.items()}
    assert specs["lr"] == {"type": "float", "low": 1e-4, "high": 1.0, "log": True}
    assert specs["q"] == {"type": "float", "low": 0.0, "high": 1.0, "step": 0.25}
    assert specs["n"] == {"type": "int", "low": 1, "high": 9, "step": 2}
    assert specs["fixed"] == {"type": "fixed", "value": 0.5}
    assert specs["kind"]["choices"] == ["linear", "tree", None, 3]
    meta = study.trials[0].system_attrs["optuna"]
    assert meta["datetime_start"] == original[0].datetime_start.isoformat()


def test_imported_study_continues_with_tuneful(optuna_url: str) -> None:
    backend = tuneful.storage.open_storage("memory://")
    import_study(optuna_url, "source", storage=backend)
    study = tuneful.load_study("source", storage=backend)
    waiting = [t for t in study.trials if t.state.value == "WAITING"]
    assert len(waiting) == 1
    study.optimize(_native_objective, n_trials=3, show_progress_bar=False)
    ran = study.get_trial(waiting[0].number)
    assert ran.state.value == "COMPLETE" and ran.params["lr"] == 0.01


def _native_objective(trial: tuneful.Trial) -> float:
    trial.set_constraints([0.0])  # the imported trials carry one constraint
    kind = trial.suggest_categorical("kind", ["linear", "tree", None, 3])
    if kind == "linear":
        return trial.suggest_float("lr", 1e-4, 1.0, log=True)
    return 1.0


def test_running_trial_is_imported_as_failed_and_exported_as_failed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = optuna.create_study(study_name="live", storage=url, directions=["minimize", "maximize"])
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    backend = tuneful.storage.open_storage("memory://")
    import_study(url, "live", storage=backend)
    record = tuneful.load_study("live", storage=backend).trials[0]
    assert record.state.value == "FAIL"
    assert record.system_attrs["optuna"]["state"] == "RUNNING"
    assert "RUNNING in Optuna" in record.error
    export_study("live", f"sqlite:///{tmp_path / 'b.db'}", storage=backend)
    back = optuna.load_study(study_name="live", storage=f"sqlite:///{tmp_path / 'b.db'}")
    assert back.trials[0].state.name == "FAIL"
    assert [d.name for d in back.directions] == ["MINIMIZE", "MAXIMIZE"]


def test_native_study_with_declared_space_exports_to_optuna(tmp_path: Path) -> None:
    space = tuneful.Space(
        x=tuneful.Float(0, 1),
        model=tuneful.Categorical(["a", "b"]),
        depth=tuneful.Int(1, 4, when={"model": "b"}),
    )
    study = tuneful.create_study("native", space=space, storage="memory://", seed=0)
    study.optimize(lambda t: t.params["x"], n_trials=6, show_progress_bar=False)
    out = f"sqlite:///{tmp_path / 'out.db'}"
    export_study("native", out, storage=study.storage, name="renamed")
    back = optuna.load_study(study_name="renamed", storage=out)
    assert len(back.trials) == 6
    assert back.best_value == study.best_value
    first = back.trials[0]
    assert first.distributions["x"] == optuna.distributions.FloatDistribution(0, 1)
    assert first.system_attrs.get("tuneful:optimizer") == study.trials[0].system_attrs.get(
        "optimizer"
    )


def test_unknown_study_lists_those_available(optuna_url: str) -> None:
    with pytest.raises(StudyNotFoundError, match=r"no Optuna study named 'nope'.*\['source'\]"):
        import_study(optuna_url, "nope", storage="memory://")


def test_import_refuses_a_name_that_exists(optuna_url: str) -> None:
    backend = tuneful.storage.open_storage("memory://")
    import_study(optuna_url, "source", storage=backend)
    with pytest.raises(DuplicateStudyError, match="already exists.*--name NEW"):
        import_study(optuna_url, "source", storage=backend)
    assert [i.name for i in backend.list_studies()] == ["source"]


def test_export_refuses_a_name_that_exists_in_optuna(optuna_url: str) -> None:
    backend = tuneful.storage.open_storage("memory://")
    import_study(optuna_url, "source", storage=backend)
    with pytest.raises(DuplicateStudyError, match="already has a study named 'source'"):
        export_study("source", optuna_url, storage=backend)


def test_a_tuneful_storage_is_not_an_optuna_storage(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tuneful.db'}"
    tuneful.create_study("mine", storage=url)
    with pytest.raises(StorageError, match="is not an Optuna storage"):
        import_study(url, "mine", storage="memory://")
    with pytest.raises(StorageError, match="is not an Optuna storage"):
        export_study("mine", url, storage=url)


def test_a_missing_optuna_file_is_named_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        import_study(f"sqlite:///{tmp_path / 'none.db'}", "x", storage="memory://")
    assert not (tmp_path / "none.db").exists()


# -- the command line -------------------------------------------------------------------------
def test_help_lists_import_and_export_optuna(cli: Any) -> None:
    top = cli("--help")
    assert "import" in top.stdout and "export" in top.stdout
    assert "optuna" in cli("import", "--help").stdout
    assert "--to" in cli("export", "optuna", "--help").stdout


def test_cli_import_then_export_then_reimport(cli: Any, optuna_url: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    done = cli("import", "optuna", "--from", optuna_url, "--storage", url)
    assert done.returncode == 0, done.stderr
    assert "Imported Optuna study source as source" in done.stdout
    back = f"sqlite:///{tmp_path / 'back.db'}"
    out = cli("export", "optuna", "--study", "source", "--to", back, "--storage", url)
    assert out.returncode == 0, out.stderr
    again = cli(
        "import", "optuna", "--from", back, "--study", "source", "--storage", url, "--name", "b"
    )
    assert again.returncode == 0, again.stderr
    assert len(tuneful.load_study("b", storage=url).trials) == 25
    csv = cli("export", "source", "--storage", url)  # the CSV export is unchanged
    assert csv.returncode == 0 and csv.stdout.startswith("number,")


def test_cli_errors_are_one_line(
    cli: Any, one_line_error: Any, optuna_url: str, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    one_line_error(
        cli("import", "optuna", "--from", optuna_url, "--study", "zz", "--storage", url),
        "no Optuna study named 'zz'",
        "['source']",
    )
    assert cli("import", "optuna", "--from", optuna_url, "--storage", url).returncode == 0
    one_line_error(
        cli("import", "optuna", "--from", optuna_url, "--all", "--storage", url),
        "already exists",
    )
    one_line_error(
        cli("import", "optuna", "--from", url, "--all", "--storage", url),
        "is not an Optuna storage",
    )
    one_line_error(
        cli("export", "optuna", "--study", "zz", "--to", optuna_url, "--storage", url),
        "no study named 'zz'",
    )
    one_line_error(
        cli(
            "import",
            "optuna",
            "--from",
            optuna_url,
            "--study",
            "a",
            "--study",
            "b",
            "--name",
            "x",
            "--storage",
            url,
        ),
        "--name 'x' names one study, but 2",
    )
    one_line_error(
        cli("import", "optuna", "--from", optuna_url, "--all", "--study", "source"),
        "not both",
    )


def test_a_distribution_tuneful_refuses_names_the_trial_and_imports_nothing(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'dup.db'}"
    study = optuna.create_study(study_name="dup", storage=url)
    study.add_trial(
        optuna.trial.create_trial(
            params={"c": 1},
            distributions={"c": optuna.distributions.CategoricalDistribution((1, 1.0))},
            value=1.0,
        )
    )
    backend = tuneful.storage.open_storage("memory://")
    with pytest.raises(tuneful.errors.StudyError, match=r"'dup', trial 0: parameter 'c'.*twice"):
        import_study(url, "dup", storage=backend)
    assert backend.list_studies() == []


@pytest.mark.filterwarnings("ignore:`constraints_func` has been deprecated:FutureWarning")
def test_constraints_of_a_sampler_round_trip_in_optunas_list_form(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    sampler = optuna.samplers.NSGAIISampler(seed=1, constraints_func=lambda t: [t.params["x"]])
    study = optuna.create_study(study_name="c", storage=url, sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", -1, 1), n_trials=4)
    backend = tuneful.storage.open_storage("memory://")
    import_study(url, "c", storage=backend)
    records = tuneful.load_study("c", storage=backend).trials
    assert [r.constraints for r in records] == [(r.params["x"],) for r in records]
    export_study("c", f"sqlite:///{tmp_path / 'back.db'}", storage=backend)
    back = optuna.load_study(study_name="c", storage=f"sqlite:///{tmp_path / 'back.db'}")
    _assert_equal_trials(study.trials, back.trials)
