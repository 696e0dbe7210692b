"""Callbacks see each finished trial; one of them stops the study."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

seen = []


def record(study, trial):
    seen.append((trial.number, trial.state, trial.value))


def stop_when_good(study, trial):
    if trial.value is not None and trial.value < 1.0:
        study.stop()


def objective(trial):
    return trial.suggest_float("x", -3, 3) ** 2


study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
study.optimize(objective, n_trials=200, callbacks=[record, stop_when_good], gc_after_trial=True)

assert len(study.trials) < 200, len(study.trials)
assert len(seen) == len(study.trials)
assert seen[-1][2] < 1.0 and all(v >= 1.0 for _, _, v in seen[:-1])
assert all(state == optuna.trial.TrialState.COMPLETE for _, state, _ in seen)
study.optimize(objective, n_trials=3)  # a stopped study runs again
assert len(study.trials) == len(seen) + 3
result = {"stopped_after": len(seen)}
print(result)
