"""Step Law: learning rate x batch size grids of real LLM pretraining runs (arXiv 2503.04715).

Task id ``steplaw/dense/N{N}/D{D}``: the grid of dense models with N non-embedding parameters
trained on D tokens. N and D are written as in the CSV (``N214663680/D4000000000``) or in
any float form within 1 % of a grid's values (``N2.15e8/D4e9``); the task's ``id`` is
always the CSV form. :func:`steplaw_grids` lists the grids.

The space is ``learning_rate`` (log float) and ``batch_size`` (log int, in sequences of 2048
tokens), bounded by the grid's measured range. A proposed point snaps to the nearest measured
run in normalized log coordinates (each axis' log range mapped to [0, 1], so both axes weigh
alike); the task returns that run's ``smooth_loss`` (primary, minimized; ``optimum`` = the
grid's best) and final ``loss``, plus the run's ``grid_learning_rate`` / ``grid_batch_size``.
The grids are not all complete: the nearest *measured* run is taken.

Where the data is looked up (the first that exists):

1. ``<data_dir>/steplaw/dense_lr_bs_loss.csv``
2. ``<data_dir>/../datasets/steplaw/dense_lr_bs_loss.csv`` (the repository's shared layout,
   where ``data_dir`` is ``shared/benchmarks``)
"""

from __future__ import annotations

import csv
import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tuneful.bench.tasks._common import TaskError, resolve_data_dir
from tuneful.bench.tasks.base import Objective, Task
from tuneful.space import Float, Int, Space

__all__ = ["StepLawTask", "load_steplaw", "steplaw_grids", "steplaw_csv", "TOKENS_PER_SEQUENCE"]

CSV_NAME = "dense_lr_bs_loss.csv"
TOKENS_PER_SEQUENCE = 2048
MATCH_TOLERANCE = 0.01  # relative: N2.15e8 names the grid N = 214,663,680
_NUMBER = re.compile(r"^\d+(\.\d*)?([eE][+-]?\d+)?$")
_CITATION = (
    "Li, H., et al. (2025). Predictable Scale: Part I -- Optimal Hyperparameter Scaling Law "
    "in Large Language Model Pretraining. arXiv:2503.04715."
)


@dataclass(frozen=True)
class _Grid:
    """The runs of one (N, D) grid, sorted by (learning rate, batch size)."""

    n: int
    d: int
    learning_rate: np.ndarray  # shape (runs,)
    batch_size: np.ndarray  # shape (runs,), sequences
    loss: np.ndarray
    smooth_loss: np.ndarray
    shape: Mapping[str, int]  # hidden size, ffn hidden size, heads, layers

    @property
    def id(self) -> str:
        return f"steplaw/dense/N{self.n}/D{self.d}"

    def nearest(self, learning_rate: float, batch_size: float) -> int:
        """Index of the measured run nearest in normalized log coordinates."""
        points = np.column_stack([np.log(self.learning_rate), np.log(self.batch_size)])
        low, span = points.min(axis=0), np.ptp(points, axis=0)
        span = np.where(span > 0, span, 1.0)
        target = (np.log([learning_rate, batch_size]) - low) / span
        distance = np.sum(((points - low) / span - target) ** 2, axis=1)
        return int(np.argmin(distance))  # ties: the first in (lr, bs) order


def steplaw_csv(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where ``dense_lr_bs_loss.csv`` is (see the module docstring for the lookup).

    Raises:
        TaskError: no data folder is set, or the file is in none of the places looked at.
    """
    root = resolve_data_dir(data_dir, "Step Law tasks")
    candidates = [root / "steplaw" / CSV_NAME, root.parent / "datasets" / "steplaw" / CSV_NAME]
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(repr(str(p)) for p in candidates)
    raise TaskError(f"Step Law data {CSV_NAME!r} not found; looked at {looked}")


@functools.lru_cache(maxsize=8)
def _read_grids(path: str) -> dict[tuple[int, int], _Grid]:
    """Grids by (N, D), read once per process and file."""
    rows: dict[tuple[int, int], list[dict[str, str]]] = {}
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                rows.setdefault((int(row["N"]), int(row["D"])), []).append(row)
    except (OSError, KeyError, ValueError) as exc:
        raise TaskError(f"cannot read the Step Law table {path!r}: {exc!r}") from None
    grids = {}
    for (n, d), runs in sorted(rows.items()):
        runs.sort(key=lambda r: (float(r["lr"]), int(r["bs"])))

        def column(name: str, runs: list[dict[str, str]] = runs) -> np.ndarray:
            return np.array([float(r[name]) for r in runs])

        first = runs[0]
        grids[(n, d)] = _Grid(
            n=n,
            d=d,
            learning_rate=column("lr"),
            batch_size=column("bs"),
            loss=column("loss"),
            smooth_loss=column("smooth loss"),
            shape={key: int(first[key]) for key in ("h", "ffnh", "numh", "numl")},
        )
    return grids


def steplaw_grids(data_dir: str | os.PathLike[str] | None = None) -> list[tuple[int, int]]:
    """The (N, D) pairs of the dense grids, sorted; ``data_dir`` as for :func:`load_task`.

    Example:
        >>> steplaw_grids("shared/benchmarks")[0]  # doctest: +SKIP
        (214663680, 4000000000)
    """
    return list(_read_grids(str(steplaw_csv(data_dir))))


class StepLawTask(Task):
    """One (N, D) grid of the Step Law dense runs (see the module docstring)."""

    def __init__(self, grid: _Grid) -> None:
        best = int(np.argmin(grid.smooth_loss))
        super().__init__(
            id=grid.id,
            space=Space(
                learning_rate=Float(
                    float(grid.learning_rate.min()), float(grid.learning_rate.max()), log=True
                ),
                batch_size=Int(int(grid.batch_size.min()), int(grid.batch_size.max()), log=True),
            ),
            objectives=(
                Objective("smooth_loss", "minimize", float(grid.smooth_loss[best])),
                Objective("loss", "minimize", float(grid.loss.min())),
            ),
            metadata={
                "family": "steplaw",
                "N": grid.n,
                "D": grid.d,
                "model": dict(grid.shape),
                "runs": len(grid.loss),
                "batch_size_unit": f"sequences of {TOKENS_PER_SEQUENCE} tokens",
                "best": {
                    "learning_rate": float(grid.learning_rate[best]),
                    "batch_size": int(grid.batch_size[best]),
                },
                "citation": _CITATION,
            },
        )
        self._grid = grid

    def evaluate(
        self, config: Mapping[str, Any], fidelity: float | None = None
    ) -> dict[str, float]:
        """The measured run nearest to ``config`` (normalized log distance).

        Raises:
            SpaceError: ``config`` is not a point of the space.
            TaskError: a fidelity was given (Step Law tasks have none).
        """
        if fidelity is not None:
            raise TaskError(f"task {self.id!r} has no fidelity, got fidelity={fidelity!r}")
        values = self.space.validate(config)
        grid = self._grid
        i = grid.nearest(values["learning_rate"], values["batch_size"])
        return {
            "smooth_loss": float(grid.smooth_loss[i]),
            "loss": float(grid.loss[i]),
            "grid_learning_rate": float(grid.learning_rate[i]),
            "grid_batch_size": float(grid.batch_size[i]),
        }


def _match(value: float, known: list[int]) -> int | None:
    """The known value within MATCH_TOLERANCE of ``value`` (the closest), if any."""
    close = [k for k in known if abs(value - k) <= MATCH_TOLERANCE * k]
    return min(close, key=lambda k: abs(value - k)) if close else None


def _number(part: str, letter: str) -> float | None:
    if len(part) < 2 or part[0] != letter or not _NUMBER.match(part[1:]):
        return None
    number = float(part[1:])
    return number if math.isfinite(number) and number > 0 else None


def load_steplaw(
    task_id: str, parts: list[str], data_dir: str | os.PathLike[str] | None
) -> StepLawTask:
    """Build the task for ``steplaw/dense/N{N}/D{D}``."""
    expected = "expected 'steplaw/dense/N{N}/D{D}', e.g. 'steplaw/dense/N214663680/D4e9'"
    if len(parts) != 4:
        raise TaskError(f"task id {task_id!r}: {expected}")
    if parts[1] != "dense":
        raise TaskError(f"task id {task_id!r}: only 'dense' grids are available; {expected}")
    n, d = _number(parts[2], "N"), _number(parts[3], "D")
    if n is None or d is None:
        raise TaskError(f"task id {task_id!r}: N and D must be positive numbers; {expected}")
    grids = _read_grids(str(steplaw_csv(data_dir)))
    n_match = _match(n, sorted({key[0] for key in grids}))
    d_match = None
    if n_match is not None:
        d_match = _match(d, sorted(key[1] for key in grids if key[0] == n_match))
    if n_match is None or d_match is None:
        listed = ", ".join(f"N{key[0]}/D{key[1]} (N{key[0]:.3g}/D{key[1]:.3g})" for key in grids)
        raise TaskError(
            f"task id {task_id!r}: no Step Law grid within 1 % of N={n:g}, D={d:g}; grids: {listed}"
        )
    return StepLawTask(grids[(n_match, d_match)])
