"""Two objectives with NSGA-II: directions, best_trials (the Pareto front)."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", 0, 5)
    y = trial.suggest_float("y", 0, 3)
    return 4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2


study = optuna.create_study(
    directions=["minimize", "minimize"],
    sampler=optuna.samplers.NSGAIISampler(seed=2, population_size=10),
)
study.optimize(objective, n_trials=30)

front = study.best_trials
assert len(study.trials) == 30
assert front
assert len(study.directions) == 2
for a in front:
    assert len(a.values) == 2
    for b in study.trials:
        if b.values is None:
            continue
        pairs = zip(b.values, a.values, strict=True)
        dominates = all(v <= w for v, w in pairs) and b.values != a.values
        assert not dominates, (a.number, b.number)
frame = study.trials_dataframe()
assert "values_0" in frame.columns and "values_1" in frame.columns
result = {"front": len(front)}
print(result)
