"""Integrations with the frameworks people train with.

Each lives in its own module and imports its framework only when used (a missing framework
raises :class:`~tuneful.errors.MissingDependencyError` naming the extra to install):

- :mod:`tuneful.integrations.sklearn`: ``TunefulSearchCV``, a scikit-learn search estimator
  that stops weak candidates between folds (``tuneful[sklearn]``).
- :mod:`tuneful.integrations.lightning`: ``TunefulCallback`` for PyTorch Lightning
  (``tuneful[lightning]``).
- :mod:`tuneful.integrations.transformers`: ``TunefulCallback`` and ``hyperparameter_search``
  for Hugging Face Transformers (``tuneful[transformers]``).
- :mod:`tuneful.integrations.xgboost`, :mod:`tuneful.integrations.lightgbm`:
  ``TunefulPruningCallback`` (``tuneful[xgboost]``, ``tuneful[lightgbm]``).
- :mod:`tuneful.integrations.mlflow`: ``MLflowCallback``; :mod:`tuneful.integrations.wandb`:
  ``WandbCallback`` (``tuneful[mlflow]``, ``tuneful[wandb]``).
- :mod:`tuneful.integrations.hydra`: the ``hydra/sweeper=tuneful`` sweeper and
  ``current_trial`` (``tuneful[hydra]``).
- :mod:`tuneful.integrations.carps`: ``TunefulOptimizer``, tuneful as a carps optimizer
  (``tuneful[carps]``).

The way in from Optuna (import/export of studies, ``tuneful.compat.optuna``) lives in
:mod:`tuneful.compat`.
"""
