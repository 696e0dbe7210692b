"""Peer optimizers as benchmark adapters: Optuna, SMAC3, Hyperopt and DEHB, each with its
defaults. The multi-objective ones (``optuna-default``, ``optuna-motpe``, ``optuna-nsga2``,
``optuna-nsga3``, ``optuna-random``) also run on tasks with several objectives. The
multi-fidelity ones (``optuna-tpe-hyperband``, ``smac-mf``, ``dehb``) run only in
multi-fidelity benchmarks (:mod:`tuneful.bench.multifidelity`).

tuneful's own optimizers are run by the benchmark runner directly; this registry holds the
peers. The peer packages are optional: importing this module imports none of them, and an
adapter whose package is missing says so in :meth:`Adapter.unavailable_reason`.

Example:
    >>> from tuneful.bench.adapters import get_adapter, peer_adapters
    >>> "optuna-tpe" in peer_adapters()
    True
    >>> adapter = get_adapter("optuna-tpe")
    >>> adapter.describe()["call"]
    'optuna.samplers.TPESampler(seed=seed)'
"""

from __future__ import annotations

from collections.abc import Callable

from tuneful.bench.adapters._hyperopt import Hyperopt
from tuneful.bench.adapters._multifidelity import Dehb, OptunaTPEHyperband, SmacMultiFidelity
from tuneful.bench.adapters._optuna import (
    OptunaCmaEs,
    OptunaDefault,
    OptunaGP,
    OptunaMOTPE,
    OptunaNSGA2,
    OptunaNSGA3,
    OptunaRandom,
    OptunaTPE,
)
from tuneful.bench.adapters._smac import SmacBlackBox, SmacHPO
from tuneful.bench.adapters.base import (
    Adapter,
    Evaluate,
    EvaluateObjectives,
    MultiFidelityAdapter,
    MultiObjectiveAdapter,
)
from tuneful.bench.budget import BudgetExhausted
from tuneful.errors import SpecError, did_you_mean

__all__ = [
    "Adapter",
    "MultiFidelityAdapter",
    "MultiObjectiveAdapter",
    "BudgetExhausted",
    "Evaluate",
    "EvaluateObjectives",
    "multi_objective_adapters",
    "get_adapter",
    "peer_adapters",
]

_PEERS: dict[str, Callable[[], Adapter]] = {
    adapter.name: adapter
    for adapter in (
        OptunaTPE,
        OptunaGP,
        OptunaCmaEs,
        OptunaRandom,
        OptunaDefault,
        OptunaMOTPE,
        OptunaNSGA2,
        OptunaNSGA3,
        SmacBlackBox,
        SmacHPO,
        Hyperopt,
        OptunaTPEHyperband,
        SmacMultiFidelity,
        Dehb,
    )
}


def peer_adapters() -> list[str]:
    """The names of the peer adapters, installed or not."""
    return list(_PEERS)


def multi_objective_adapters() -> list[str]:
    """The names of the peer adapters that also run on multi-objective tasks."""
    return [name for name, make in _PEERS.items() if issubclass(make, MultiObjectiveAdapter)]  # type: ignore[arg-type]


def get_adapter(name: str) -> Adapter:
    """A new adapter for the peer optimizer ``name`` (see :func:`peer_adapters`).

    Raises:
        SpecError: no peer adapter has that name.
    """
    if isinstance(name, str) and name in _PEERS:
        return _PEERS[name]()
    hint = did_you_mean(name, _PEERS) if isinstance(name, str) else ""
    raise SpecError(
        f"unknown peer optimizer {name!r} (peer adapters: {peer_adapters()}; tuneful's own "
        f"optimizers are named by their registry name or tuneful:<name>){hint}"
    )
