"""Report a learning curve, ask whether to prune, raise TrialPruned."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", 0.0, 1.0)
    optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
    if optimizer == "sgd":
        trial.suggest_float("momentum", 0.0, 0.99)  # conditional parameter
    loss = 0.0
    for epoch in range(9):
        loss = (x - 0.3) ** 2 + 1.0 / (epoch + 1)
        trial.report(loss, epoch)  # Optuna's order: value, then step
        if trial.should_prune():
            raise optuna.TrialPruned()
    return loss


study = optuna.create_study(
    sampler=optuna.samplers.RandomSampler(seed=1),
    pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
)
study.optimize(objective, n_trials=20)

states = [t.state for t in study.trials]
pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
complete = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
assert len(states) == 20
assert pruned, "expected some trials to be pruned"
assert len(complete) >= 3
for trial in pruned:
    assert trial.intermediate_values, trial  # the curve is kept
    assert trial.last_step < 8
assert all(len(t.intermediate_values) == 9 for t in complete)
result = {"pruned": len(pruned), "complete": len(complete), "best": study.best_value}
print(result)
