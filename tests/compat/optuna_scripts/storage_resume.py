"""A study in an SQLite file: create, resume with load_if_exists / load_study, delete."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

STORAGE = "sqlite:///resume-example.db"


def objective(trial):
    return (trial.suggest_float("x", -5, 5) - 1) ** 2


study = optuna.create_study(study_name="resume", storage=STORAGE, load_if_exists=True)
study.optimize(objective, n_trials=5)
again = optuna.create_study(study_name="resume", storage=STORAGE, load_if_exists=True)
again.optimize(objective, n_trials=5)
loaded = optuna.load_study(study_name="resume", storage=STORAGE)
assert len(loaded.trials) == 10
assert loaded.study_name == "resume"
assert "resume" in optuna.get_all_study_names(storage=STORAGE)
loaded.set_user_attr("owner", "me")
assert optuna.load_study(study_name="resume", storage=STORAGE).user_attrs == {"owner": "me"}
result = {"n_trials": len(loaded.trials)}
optuna.delete_study(study_name="resume", storage=STORAGE)
assert "resume" not in optuna.get_all_study_names(storage=STORAGE)
print(result)
