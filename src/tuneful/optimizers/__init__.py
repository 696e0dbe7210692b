"""What to try next. Every optimizer is ``suggest(history, n, rng) -> encoded points``.

What lives where (the registry names in quotes):

- ``base``: :class:`Optimizer`, :class:`Capabilities`, the registry and ``check_supported``.
- ``random``: "random" and "sobol"; ``grid``: "grid"; ``external``: "external".
- ``tpe`` (with ``_parzen`` and ``_motpe``, its multi-objective good set): "tpe"; ``gp``
  (with ``_gp_*``): "gp"; ``cma`` (with ``_cma_*``): "cmaes"; ``auto``: "auto", which picks
  among them.
- ``nsga2``: "nsga2" (NSGA-II); ``nsga3``: "nsga3" (NSGA-III). Their shared operators
  (constrained ranking, survivors, tournaments, SBX, polynomial mutation) are in ``_nsga``,
  NSGA-III's reference-point selection in ``_nsga3``, the replay of their populations
  from the history in ``_nsga_replay``, and the generational loop they share (parents,
  tournaments, children, settings) in ``_genetic``.
- ``_activation``: the groups of encoded columns active together (TPE's tree).
"""

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
from tuneful.optimizers.nsga3 import NSGAIIIOptimizer
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
    "NSGAIIIOptimizer",
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
register_optimizer("nsga3", NSGAIIIOptimizer)
register_optimizer("auto", AutoOptimizer)
