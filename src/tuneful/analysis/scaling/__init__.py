"""Transfer of tuned values across scales: hyperparameter scaling laws.

- :func:`steplaw`: Step Law's published optimum learning rate and batch size for a model of
  N non-embedding parameters trained on D tokens; :func:`dense_params` counts N from a dense
  transformer's shape; :func:`deepseek_llm` is DeepSeek LLM's law, for comparison.
- :func:`fit` the same law to your own runs (a CSV such as Step Law's, or tuneful studies, one
  per scale): predictions with bootstrap intervals, the predicted plateau, and
  :meth:`LawFit.space_at`, a narrowed search space that starts a study at a new scale where
  the law points; :func:`grid_gaps` and :func:`leave_one_scale_out` say how well a law
  lands on each measured grid.

Example:
    >>> from tuneful.analysis import scaling
    >>> p = scaling.steplaw(7e9, 1.4e12, seq_len=2048)
    >>> round(p.learning_rate, 5), round(p.batch_tokens / 1e6, 1)
    (0.00092, 5.0)
"""

from __future__ import annotations

from tuneful.analysis.scaling.fit import (
    GridGap,
    LawFit,
    UnidentifiedLawError,
    fit,
    grid_gaps,
    leave_one_scale_out,
    published_law,
    published_point,
    summarize_gaps,
)
from tuneful.analysis.scaling.law import (
    STEPLAW,
    Prediction,
    ScalingError,
    deepseek_llm,
    dense_params,
    steplaw,
)
from tuneful.analysis.scaling.runs import (
    DEFAULT_COLUMNS,
    Runs,
    read_header,
    read_runs,
    runs_from_rows,
    runs_from_studies,
)

__all__ = [
    "STEPLAW",
    "DEFAULT_COLUMNS",
    "Prediction",
    "ScalingError",
    "UnidentifiedLawError",
    "Runs",
    "LawFit",
    "GridGap",
    "steplaw",
    "deepseek_llm",
    "dense_params",
    "fit",
    "read_header",
    "read_runs",
    "runs_from_rows",
    "runs_from_studies",
    "grid_gaps",
    "leave_one_scale_out",
    "published_law",
    "published_point",
    "summarize_gaps",
]
