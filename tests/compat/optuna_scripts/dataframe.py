"""trials_dataframe with Optuna's column names."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    trial.suggest_categorical("act", ["relu", "tanh"])
    trial.set_user_attr("note", f"n{trial.number}")
    return x


study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=7))
study.optimize(objective, n_trials=6)
frame = study.trials_dataframe()
for column in (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params_x",
    "params_act",
    "user_attrs_note",
    "state",
):
    assert column in frame.columns, (column, list(frame.columns))
assert list(frame["number"]) == list(range(6))
assert set(frame["state"]) == {"COMPLETE"}
assert list(frame["user_attrs_note"]) == [f"n{i}" for i in range(6)]
assert (frame["value"] == frame["params_x"]).all()
assert frame.columns[0] == "number" and frame.columns[-1] == "state"
small = study.trials_dataframe(attrs=("number", "value", "params"))
assert list(small.columns) == ["number", "value", "params_act", "params_x"], list(small.columns)
result = {"rows": len(frame)}
print(result)
