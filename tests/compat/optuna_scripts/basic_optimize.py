"""Minimize a quadratic with TPE: the first Optuna example anyone runs."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    return (x - 2) ** 2 + (y + 1) ** 2 + abs(lr - 1e-3)


study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
study.optimize(objective, n_trials=40)

assert len(study.trials) == 40
assert study.best_value < 4.0, study.best_value
assert set(study.best_params) == {"x", "y", "lr"}
assert study.best_trial.value == study.best_value
assert study.direction == optuna.study.StudyDirection.MINIMIZE
result = {"n_trials": len(study.trials), "best_value": study.best_value}
print(result)
