"""A grid search (stops by itself when the grid is done) and n_jobs threads."""

import threading

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

grid = {"x": [-1.0, 0.0, 1.0], "act": ["relu", "tanh"]}
study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid, seed=8))
study.optimize(
    lambda t: (
        t.suggest_float("x", -1, 1) ** 2
        + (t.suggest_categorical("act", ["relu", "tanh"]) == "tanh")
    ),
    n_trials=50,
)
points = sorted((t.params["x"], t.params["act"]) for t in study.trials)
assert points == sorted((x, a) for x in grid["x"] for a in grid["act"]), points
assert study.best_value == 0.0

names = set()


def objective(trial):
    names.add(threading.current_thread().name)
    return trial.suggest_float("y", 0, 1)


threaded = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=9))
threaded.optimize(objective, n_trials=10, n_jobs=2)
assert len(threaded.trials) == 10
result = {"grid": len(study.trials), "threaded": len(threaded.trials)}
print(result)
