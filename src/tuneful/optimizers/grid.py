"""Grid search over a (possibly conditional) space: every combination, each tried once."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from tuneful._validation import check_int, refuse
from tuneful.errors import OptimizerError
from tuneful.optimizers.base import Capabilities, Optimizer
from tuneful.records import History

__all__ = ["GridOptimizer"]

#: Refuse grids larger than this: they would never finish and enumerating them costs memory.
MAX_GRID_SIZE = 1_000_000


def _spaced(low: float, high: float, count: int, log: bool) -> list[float]:
    if log:
        return [float(v) for v in np.geomspace(low, high, count)]
    return [float(v) for v in np.linspace(low, high, count)]


def grid_values(parameter: Any, resolution: int) -> list[Any]:
    """Candidate values of one parameter: all of them when few, else ``resolution`` spread
    evenly (geometrically for log scales), bounds included."""
    kind = type(parameter).__name__
    if kind == "Categorical":
        return list(parameter.choices)
    if kind == "Fixed":
        return [parameter.value]
    step = getattr(parameter, "step", None)
    if kind == "Int":
        step = step or 1
        levels = list(range(int(parameter.low), int(parameter.high) + 1, int(step)))
        if len(levels) <= resolution:
            return levels
        spread = _spaced(parameter.low, parameter.high, resolution, bool(parameter.log))
        return sorted({min(levels, key=lambda level: abs(level - target)) for target in spread})
    if step:
        count = int(round((parameter.high - parameter.low) / step)) + 1
        levels = [parameter.low + i * step for i in range(count)]
        if count <= resolution:
            return [float(v) for v in levels]
        picks = np.linspace(0, count - 1, resolution).round().astype(int)
        return [float(levels[i]) for i in sorted(set(picks.tolist()))]
    return _spaced(parameter.low, parameter.high, resolution, bool(parameter.log))


def _key(config: dict[str, Any]) -> str:
    normal = {
        k: (float(f"{v:.10g}") if isinstance(v, float) and math.isfinite(v) else v)
        for k, v in config.items()
    }
    return json.dumps(normal, sort_keys=True, default=str)


class GridOptimizer(Optimizer):
    """Tries every grid point once, in order (or a seeded shuffled order), then stops.

    Args:
        resolution: values per numeric parameter (integers and stepped floats with fewer
            levels keep all of them).
        shuffle: visit grid points in a random order fixed by the study's seed.
    """

    name = "grid"
    capabilities = Capabilities(
        multi_objective=True, constraints=False, conditional=True, define_by_run=True, batch=True
    )

    def __init__(self, *, seed: int | None = None, resolution: int = 5, shuffle: bool = False):
        if not isinstance(resolution, int):  # numpy ints are not JSON-safe settings
            refuse("grid", "resolution", resolution, "an int >= 2", error=OptimizerError)
        self.seed = seed
        self.resolution = check_int(
            "grid", "resolution", resolution, minimum=2, error=OptimizerError
        )
        self.shuffle = shuffle
        self._cache: tuple[Any, list[dict[str, Any]]] | None = None

    def settings(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "shuffle": self.shuffle}

    def _walk(self, space: Any, names: list[str], config: dict[str, Any]) -> Iterator[dict]:
        if not names:
            yield dict(config)
            return
        name, rest = names[0], names[1:]
        if name not in space.active_names(config):
            yield from self._walk(space, rest, config)
            return
        for value in grid_values(space[name], self.resolution):
            config[name] = value
            yield from self._walk(space, rest, config)
        del config[name]

    def grid(self, space: Any) -> list[dict[str, Any]]:
        """Every grid configuration of ``space``, in visiting order."""
        if self._cache is not None and self._cache[0] is space:
            return self._cache[1]
        configs: list[dict[str, Any]] = []
        for config in self._walk(space, list(space.names), {}):
            configs.append(config)
            if len(configs) > MAX_GRID_SIZE:
                raise OptimizerError(
                    f"grid over {len(space)} parameters exceeds {MAX_GRID_SIZE:,} points at "
                    f"resolution={self.resolution}: lower the resolution or use sobol/random"
                )
        if self.shuffle:
            order = np.random.default_rng(self.seed).permutation(len(configs))
            configs = [configs[i] for i in order]
        self._cache = (space, configs)
        return configs

    def _remaining(self, history: History) -> Iterator[dict[str, Any]]:
        tried = {_key(dict(t.params)) for t in history.trials if t.params}
        for config in self.grid(history.space):
            if _key(config) not in tried:
                yield config

    def exhausted(self, history: History) -> bool:
        return next(self._remaining(history), None) is None

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        picks: list[dict[str, Any]] = []
        for config in self._remaining(history):
            picks.append(config)
            if len(picks) == n:
                break
        if not picks:
            raise OptimizerError("the grid is exhausted: every point was tried")
        while len(picks) < n:  # fewer points left than asked for: repeat the last ones
            picks.append(picks[len(picks) % len(picks)])
        return history.space.encode(picks)
