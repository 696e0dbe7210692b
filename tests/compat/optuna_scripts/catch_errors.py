"""Exceptions: caught ones fail the trial and the study goes on; others stop it."""

import optuna

optuna.logging.set_verbosity(optuna.logging.CRITICAL)


class Flaky(Exception):
    pass


def objective(trial):
    x = trial.suggest_float("x", 0, 1)
    if trial.number % 3 == 1:
        raise Flaky(f"trial {trial.number} diverged")
    return x


study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=6))
study.optimize(objective, n_trials=9, catch=(Flaky,))
failed = study.get_trials(states=(optuna.trial.TrialState.FAIL,))
assert len(study.trials) == 9 and len(failed) == 3

try:
    study.optimize(objective, n_trials=9)  # not caught: propagates on trial 10
except Flaky as exc:
    assert "diverged" in str(exc)
else:
    raise AssertionError("the exception should have propagated")
assert len(study.trials) == 11
assert study.trials[-1].state == optuna.trial.TrialState.FAIL
result = {"failed": len(study.get_trials(states=(optuna.trial.TrialState.FAIL,)))}
print(result)
