"""What to try next. Every optimizer is ``suggest(history, n, rng) -> encoded points``."""

from __future__ import annotations

from tuneful.optimizers.auto import AutoOptimizer
from tuneful.optimizers.base import (
    Capabilities,
    Optimizer,
    available_optimizers,
    check_supported,
    make_optimizer,
    register_optimizer,
)
from tuneful.optimizers.cma import CMAESOptimizer
from tuneful.optimizers.external import ExternalOptimizer
from tuneful.optimizers.gp import GPOptimizer
from tuneful.optimizers.grid import GridOptimizer
from tuneful.optimizers.nsga2 import NSGAIIOptimizer
from tuneful.optimizers.random import RandomOptimizer, SobolOptimizer
from tuneful.optimizers.tpe import TPEOptimizer

__all__ = [
    "Capabilities",
    "Optimizer",
    "AutoOptimizer",
    "RandomOptimizer",
    "SobolOptimizer",
    "GridOptimizer",
    "ExternalOptimizer",
    "TPEOptimizer",
    "GPOptimizer",
    "CMAESOptimizer",
    "NSGAIIOptimizer",
    "available_optimizers",
    "check_supported",
    "make_optimizer",
    "register_optimizer",
]

register_optimizer("random", RandomOptimizer)
register_optimizer("sobol", SobolOptimizer)
register_optimizer("grid", GridOptimizer)
register_optimizer("external", ExternalOptimizer)
register_optimizer("tpe", TPEOptimizer)
register_optimizer("gp", GPOptimizer)
register_optimizer("cmaes", CMAESOptimizer)
register_optimizer("nsga2", NSGAIIOptimizer)
register_optimizer("auto", AutoOptimizer)
