"""Which parameters matter: fANOVA and PED-ANOVA over a study's trials.

(The interface below is fixed; the methods are being written.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneful.analysis.trials import StudyData
    from tuneful.study import Study

__all__ = ["Importance", "importance", "METHODS"]

METHODS = ("fanova", "ped-anova")


@dataclass(frozen=True)
class Importance:
    """How much each parameter (and, for fANOVA, each pair) explains of the objective.

    Attributes:
        method: ``"fanova"`` or ``"ped-anova"``.
        study: the study's name.
        objective: which objective (index) was explained.
        params: parameter names, most important first.
        shares: each parameter's importance; for fANOVA the fraction of the variance it
            explains alone (shares and pair shares sum to at most 1).
        std: the uncertainty of each share (over the forest's trees, or bootstrap).
        pairs: fANOVA's pairwise interaction shares, largest first (empty for PED-ANOVA).
        pair_std: their uncertainty.
        n_trials: how many trials the estimate used.
        notes: what the reader should know (sampling, trials left out and why).
    """

    method: str
    study: str
    objective: int
    params: tuple[str, ...]
    shares: dict[str, float]
    std: dict[str, float]
    pairs: dict[tuple[str, str], float] = field(default_factory=dict)
    pair_std: dict[tuple[str, str], float] = field(default_factory=dict)
    n_trials: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (pairs keyed ``"a × b"``)."""
        return {
            "method": self.method,
            "study": self.study,
            "objective": self.objective,
            "n_trials": self.n_trials,
            "params": [
                {"name": p, "share": self.shares[p], "std": self.std.get(p, 0.0)}
                for p in self.params
            ],
            "pairs": [
                {"names": list(k), "share": v, "std": self.pair_std.get(k, 0.0)}
                for k, v in self.pairs.items()
            ],
            "notes": list(self.notes),
        }


def importance(
    study: Study | StudyData,
    *,
    method: str = "fanova",
    params: Sequence[str] | None = None,
    objective: int = 0,
    seed: int = 0,
) -> Importance:
    """The importance of each parameter of ``study`` for objective ``objective``."""
    raise NotImplementedError("importance methods are not written yet")
