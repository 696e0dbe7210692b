"""The runs a scaling law is fitted to: read from a CSV such as Step Law's, from mappings, or
from tuneful studies (one per scale), and checked on the way in (every N, D, learning rate and
batch size a positive finite number, every loss finite)."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tuneful.analysis.scaling.law import ScalingError, check_positive

if TYPE_CHECKING:
    from tuneful.study import Study

__all__ = [
    "Runs",
    "DEFAULT_COLUMNS",
    "DEFAULT_TOKENS_PER_UNIT",
    "plateau_limit",
    "read_header",
    "read_runs",
    "runs_from_rows",
    "runs_from_studies",
]

#: Column names of Step Law's released CSV (``dense_lr_bs_loss.csv``).
DEFAULT_COLUMNS = {"n": "N", "d": "D", "lr": "lr", "bs": "bs", "loss": "smooth loss"}
#: Step Law's CSV counts the batch size in sequences of 2048 tokens.
DEFAULT_TOKENS_PER_UNIT = 2048


def plateau_limit(best: float, tolerance: float) -> float:
    """The largest loss within ``tolerance`` (relative) of ``best``: ``best + |best| · tol``
    (a loss may be negative, e.g. a log-likelihood's negative, and the bound must still lie
    above the best)."""
    return best + abs(best) * tolerance


@dataclass(frozen=True)
class Runs:
    """Training runs, one entry per run (arrays of equal length)."""

    n: np.ndarray
    d: np.ndarray
    lr: np.ndarray
    batch_tokens: np.ndarray
    loss: np.ndarray

    def __len__(self) -> int:
        return len(self.n)

    def grids(self) -> list[tuple[float, float]]:
        """The distinct (N, D) scales, sorted."""
        return sorted({(float(a), float(b)) for a, b in zip(self.n, self.d, strict=True)})

    def select(self, mask: np.ndarray) -> Runs:
        return Runs(
            self.n[mask], self.d[mask], self.lr[mask], self.batch_tokens[mask], self.loss[mask]
        )

    def in_grid(self, n: float, d: float) -> np.ndarray:
        return (self.n == n) & (self.d == d)

    def plateau(self, tolerance: float) -> np.ndarray:
        """Mask of the runs within ``tolerance`` (relative) of their grid's best loss."""
        keep = np.zeros(len(self), dtype=bool)
        for n, d in self.grids():
            grid = self.in_grid(n, d)
            best = float(self.loss[grid].min())
            keep |= grid & (self.loss <= plateau_limit(best, tolerance))
        return keep


def _check_columns(columns: Mapping[str, str] | None) -> dict[str, str]:
    chosen = dict(DEFAULT_COLUMNS)
    for key, name in (columns or {}).items():
        if key not in DEFAULT_COLUMNS:
            raise ScalingError(
                f"columns: unknown role {key!r} (roles: {', '.join(DEFAULT_COLUMNS)})"
            )
        if not isinstance(name, str) or not name:
            raise ScalingError(f"columns: {key}={name!r}: expected a column name")
        chosen[key] = name
    return chosen


def _cell(raw: Any, key: str, name: str, where: str) -> float:
    """One value of a row, checked: N, D, lr and bs positive and finite, the loss finite."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ScalingError(f"{where}, column {name!r}: empty; expected a number")
    try:
        number = float(raw)
    except (TypeError, ValueError):
        raise ScalingError(f"{where}, column {name!r}: {raw!r} is not a number") from None
    if key != "loss" and not (math.isfinite(number) and number > 0):
        raise ScalingError(f"{where}, column {name!r}: {raw!r}: expected a positive number")
    if key == "loss" and not math.isfinite(number):
        raise ScalingError(
            f"{where}, column {name!r}: {raw!r}: expected a finite loss (drop the runs that "
            "diverged, or give them a large finite loss)"
        )
    return number


def runs_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: Mapping[str, str] | None = None,
    tokens_per_unit: float = DEFAULT_TOKENS_PER_UNIT,
    source: str = "runs",
) -> Runs:
    """Runs from mappings (CSV rows, records); ``columns`` maps the roles n, d, lr, bs, loss
    to names (default :data:`DEFAULT_COLUMNS`); the batch size is ``bs * tokens_per_unit``
    tokens (1 when the column is already in tokens).

    Raises:
        ScalingError: a missing column, an empty cell or a value that is not a number, a
            non-positive N, D, learning rate or batch size, a loss that is not finite, or
            fewer than two runs.
    """
    names = _check_columns(columns)
    unit = check_positive("tokens_per_unit", tokens_per_unit)
    values: dict[str, list[float]] = {key: [] for key in names}
    for index, row in enumerate(rows):
        if index == 0:
            missing = [name for name in names.values() if name not in row]
            if missing:
                raise ScalingError(
                    f"{source}: missing column(s) {', '.join(repr(m) for m in missing)} (has "
                    f"{', '.join(repr(str(k)) for k in row)}); name them with columns="
                )
        for key, name in names.items():
            values[key].append(_cell(row.get(name), key, name, f"{source}: row {index + 1}"))
    if len(values["n"]) < 2:
        raise ScalingError(
            f"{source}: {len(values['n'])} run(s): a fit needs runs at several scales"
        )
    arrays = {key: np.asarray(found, dtype=float) for key, found in values.items()}
    return Runs(arrays["n"], arrays["d"], arrays["lr"], arrays["bs"] * unit, arrays["loss"])


def read_runs(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str] | None = None,
    tokens_per_unit: float = DEFAULT_TOKENS_PER_UNIT,
) -> Runs:
    """Runs from a CSV file (see :func:`runs_from_rows`); a UTF-8 byte-order mark is
    ignored.

    Raises:
        ScalingError: the file cannot be read, is not UTF-8 text or not CSV, holds no runs,
            or its runs are malformed (see :func:`runs_from_rows`).
    """
    where = Path(path)
    try:
        with open(where, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ScalingError(f"{where}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ScalingError(
            f"{where}: not UTF-8 text (byte {exc.start}): expected a CSV file"
        ) from None
    except csv.Error as exc:
        raise ScalingError(f"{where}: not a readable CSV file: {exc}") from None
    if not rows:
        raise ScalingError(f"{where}: no runs (an empty file, or a header alone)")
    return runs_from_rows(rows, columns=columns, tokens_per_unit=tokens_per_unit, source=str(where))


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a CSV file (empty when it cannot be read)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def runs_from_studies(
    studies: Iterable[Study],
    *,
    lr: str = "lr",
    bs: str = "bs",
    n_attr: str = "N",
    d_attr: str = "D",
    tokens_per_unit: float = DEFAULT_TOKENS_PER_UNIT,
) -> Runs:
    """Runs from tuneful studies, one per scale: N and D are study attributes
    (``study.set_user_attr("N", ...)``), the learning rate and batch size trial parameters
    named ``lr`` and ``bs``, the loss each COMPLETE trial's value (minimized)."""
    from tuneful.records import TrialState

    rows = []
    for study in studies:
        attrs = study.user_attrs
        for key in (n_attr, d_attr):
            if key not in attrs:
                raise ScalingError(
                    f"study {study.name!r} has no attribute {key!r}: set it with "
                    f"study.set_user_attr({key!r}, value)"
                )
        for trial in study.trials:
            if trial.state is TrialState.COMPLETE and lr in trial.params and bs in trial.params:
                rows.append(
                    {
                        "N": attrs[n_attr],
                        "D": attrs[d_attr],
                        "lr": trial.params[lr],
                        "bs": trial.params[bs],
                        "smooth loss": trial.value,
                    }
                )
    if not rows:
        raise ScalingError(f"no COMPLETE trial with parameters {lr!r} and {bs!r} in the studies")
    return runs_from_rows(rows, tokens_per_unit=tokens_per_unit, source="studies")
