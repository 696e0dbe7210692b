"""What every peer adapter does around its peer: check the run, silence the peer, cap the loop.

The peers themselves are imported inside the adapters' methods only: none of this module needs
them.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from tuneful._parameters import value_key
from tuneful.bench.adapters.base import Adapter
from tuneful.errors import OptimizerError
from tuneful.space import Parameter

__all__ = [
    "PeerAdapter",
    "check_run",
    "proposals",
    "quiet_loggers",
    "quiet_warnings",
    "is_active",
    "is_failed",
    "PROPOSALS_PER_EVALUATION",
]

#: A peer may propose at most this many configurations per evaluation of the budget before
#: the adapter gives up: the runner's ``evaluate`` raises BudgetExhausted long before.
PROPOSALS_PER_EVALUATION = 3

_MAX_SEED = 2**32  # numpy's legacy RandomState, used by Optuna's samplers, takes [0, 2**32)


class PeerAdapter(Adapter):
    """An adapter that runs a peer library with its defaults.

    Subclasses set ``name``, ``package``, ``call`` (the peer's constructor call, written out:
    it is the record of which defaults a run used) and ``loggers`` (the peer's logger names,
    silenced while it runs).
    """

    call: str = ""
    loggers: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """Name, package, version, settings (empty: the peer's defaults) and the call made."""
        return {**super().describe(), "call": self.call}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def check_run(name: str, *, budget: int, seed: int) -> None:
    """Check an adapter's ``budget`` and ``seed``.

    Raises:
        OptimizerError: budget is not an int >= 1, or seed is not an int in [0, 2**32).
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise OptimizerError(f"{name}: budget={budget!r} must be an int >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < _MAX_SEED:
        raise OptimizerError(f"{name}: seed={seed!r} must be an int in [0, 2**32)")


def proposals(name: str, budget: int) -> Iterator[int]:
    """Count a peer's proposals; the loop ends when ``evaluate`` raises BudgetExhausted.

    Raises:
        RuntimeError: ``PROPOSALS_PER_EVALUATION * budget`` proposals were made and
            ``evaluate`` still has not raised BudgetExhausted.
    """
    limit = PROPOSALS_PER_EVALUATION * budget
    yield from range(limit)
    raise RuntimeError(
        f"{name}: evaluate returned {limit} times for a budget of {budget} evaluations "
        "without raising BudgetExhausted; stopping so that the run cannot loop forever"
    )


@contextlib.contextmanager
def quiet_loggers(names: tuple[str, ...]) -> Iterator[None]:
    """Raise the given loggers to CRITICAL for the duration, then restore their levels."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def quiet_warnings() -> Iterator[None]:
    """Ignore warnings for the duration: wrap peer calls only, never ``evaluate``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def is_active(param: Parameter, config: Mapping[str, Any]) -> bool:
    """Whether ``param``'s condition holds for the values chosen so far (parents first)."""
    for parent, allowed in param.when.items():
        if parent not in config:
            return False
        if value_key(config[parent]) not in {value_key(v) for v in allowed}:
            return False
    return True


def is_failed(loss: float) -> bool:
    """A NaN or infinite loss: the peer is told the trial failed instead of its value."""
    return not math.isfinite(loss)
