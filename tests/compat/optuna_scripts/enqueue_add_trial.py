"""Seed a study: enqueue a configuration, add finished trials made elsewhere."""

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def objective(trial):
    x = trial.suggest_float("x", -10, 10)
    n = trial.suggest_int("n", 1, 8)
    return (x - 1) ** 2 + n


study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=4))
study.enqueue_trial({"x": 1.0, "n": 1}, user_attrs={"source": "expert"})
study.add_trial(
    optuna.trial.create_trial(
        params={"x": 3.0, "n": 2},
        distributions={
            "x": optuna.distributions.FloatDistribution(-10, 10),
            "n": optuna.distributions.IntDistribution(1, 8),
        },
        value=6.0,
        user_attrs={"source": "old run"},
    )
)
study.add_trials(
    [
        optuna.trial.create_trial(
            params={"x": float(v), "n": 3},
            distributions={
                "x": optuna.distributions.FloatDistribution(-10, 10),
                "n": optuna.distributions.IntDistribution(1, 8),
            },
            value=(v - 1) ** 2 + 3,
        )
        for v in (-2, 0)
    ]
)
study.optimize(objective, n_trials=5)

assert len(study.trials) == 8
added = [t for t in study.trials if t.user_attrs.get("source") == "old run"][0]
assert added.params == {"x": 3.0, "n": 2} and added.value == 6.0
assert added.user_attrs == {"source": "old run"}
enqueued = [t for t in study.trials if t.user_attrs.get("source") == "expert"]
assert len(enqueued) == 1 and enqueued[0].params == {"x": 1.0, "n": 1}
assert enqueued[0].number == 0  # queued first, so numbered first
assert enqueued[0].state == optuna.trial.TrialState.COMPLETE
assert study.best_value == 1.0 and study.best_params == {"x": 1.0, "n": 1}
result = {"n_trials": len(study.trials), "best": study.best_value}
print(result)
