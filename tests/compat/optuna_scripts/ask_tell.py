"""Drive the loop yourself: ask, suggest, tell (values, or a state)."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=3))
for i in range(12):
    trial = study.ask()
    x = trial.suggest_float("x", -1, 1)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    if i % 4 == 3:
        trial.report(0.1, 0)
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    elif i % 6 == 5:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
    else:
        score = -(x**2) + (0.5 if kind == "a" else 0.0)
        frozen = study.tell(trial, score)
        assert frozen.state == optuna.trial.TrialState.COMPLETE

counts = {s.name: len(study.get_trials(states=(s,))) for s in optuna.trial.TrialState}
assert counts["COMPLETE"] == 8 and counts["PRUNED"] == 3 and counts["FAIL"] == 1, counts
assert study.best_value <= 0.5
assert study.best_trial.state == optuna.trial.TrialState.COMPLETE
result = counts
print(result)
