"""What a study's results say, computed: its trials as columns, importance, progress, Pareto
fronts and indicators, scaling laws. No pictures: every plot lives in :mod:`tuneful.viz`.

What lives where (in parentheses, what it imports):

- ``trials`` a study read at one moment as typed columns (``records``, ``space``);
- ``progress`` the incumbent after each trial, the empirical distribution (``trials``);
- ``front`` Pareto points over chosen objectives (feasible trials), a fast front, the
  default reference point (``trials``, ``_pareto``);
- ``indicators`` hypervolume (exact, estimated, over a study's trials), IGD/IGD+,
  attainment surfaces (``_pareto``, ``front``, ``trials``, ``records``, ``errors``);
- ``relevance`` a rank screen of which parameters the value varies with (``trials``);
- ``surface`` the value interpolated over two parameters (``trials``);
- ``scaling/`` hyperparameter scaling laws, gathered in ``scaling/__init__``:

  - ``scaling.law`` Step Law's and DeepSeek LLM's published laws, ``dense_params``,
    ``ScalingError`` (``errors``);
  - ``scaling.runs`` the runs a law is fitted to, from a CSV, mappings or studies
    (``scaling.law``, ``records``; ``study`` for type hints only);
  - ``scaling.fit`` the law fitted to runs with bootstrap intervals, grid gaps,
    leave-one-scale-out, the narrowed space at a new scale (``scaling.law``,
    ``scaling.runs``, ``space``).

- ``importance/`` which parameters matter, gathered in ``importance/__init__`` (the
  ``Importance`` result and ``importance()``; ``analysis.trials``, ``errors``):

  - ``importance._inputs`` completed trials as unit-cube positions, inactive as ``NaN``, the
    objective made lower-is-better (``analysis.trials``, ``errors``);
  - ``importance.fanova`` the random forest (scikit-learn, imported on first use) and the
    exact functional ANOVA of each tree, singles and pairs (``importance._inputs``,
    ``errors``);
  - ``importance.ped_anova`` the top trials' densities against the region's, Pearson
    divergence, bootstrap (``importance._inputs``).

This layer sits above the study: it may import the study and what lies below it (``space``,
``records``, ``storage``, ``errors``); it never imports ``bench``, ``viz``, ``cli`` or another
face. This package imports none of its modules itself: import them by name
(``from tuneful.analysis import scaling``).
"""
