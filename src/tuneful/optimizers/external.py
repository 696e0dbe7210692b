"""The optimizer of studies whose configurations come from elsewhere (a peer library run by
the benchmark harness, or a user who always passes ``fixed_params``)."""

from __future__ import annotations

import numpy as np

from tuneful.errors import OptimizerError
from tuneful.optimizers.base import Capabilities, Optimizer
from tuneful.records import History

__all__ = ["ExternalOptimizer"]


class ExternalOptimizer(Optimizer):
    """Proposes nothing: every trial must be asked with complete ``fixed_params``."""

    name = "external"
    # proposes nothing, whatever the study: no study needs more than it has
    capabilities = Capabilities(
        multi_objective=True, constraints=False, conditional=True, define_by_run=True, batch=True
    )

    def __init__(self, *, seed: int | None = None) -> None:
        del seed

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        raise OptimizerError(
            "this study's configurations come from outside tuneful (optimizer='external'): "
            "ask with complete fixed_params, or load the study with another optimizer"
        )
