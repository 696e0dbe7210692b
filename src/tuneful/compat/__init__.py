"""Ways in from other tuners.

- :mod:`tuneful.compat.optuna`: run an Optuna script with one import changed
  (``import tuneful.compat.optuna as optuna``), and copy studies between Optuna's storage and
  tuneful's (``import_study``, ``export_study``; ``tuneful import optuna`` / ``tuneful
  export optuna`` on the command line).

Nothing here is imported by ``import tuneful``; Optuna itself is needed only to read or write
an Optuna storage (``pip install 'tuneful[optuna]'``).
"""

from __future__ import annotations
