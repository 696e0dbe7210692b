"""Schedulers: when to stop a trial early, and to what budgets to run it.

``create_study(scheduler=...)`` takes a name (``"auto"``, the default; ``"none"``,
``"median"``, ``"asha"``, ``"hyperband"``, ``"curve"``), a ``{"name": ..., "settings": {...}}``
dict or a :class:`Scheduler`. Objectives report their learning curve with
``trial.report(step=..., value=...)``, which raises :class:`tuneful.Pruned` when the scheduler stops
the trial; ``trial.budget`` / ``trial.budgets()`` give the budgets to train to.

What lives where:

- ``base``: the Scheduler interface, rung arithmetic, the rank rules (one objective:
  successive halving's; several: MO-ASHA's), the registry.
- ``halving``: ASHA and Hyperband (both take several objectives).
- ``multi``: MO-ASHA's order (non-dominated sorting, crowding distance, constraints) and
  :func:`report_values`, which reports every objective's value at a step.
- ``median``: the median stopping rule (one objective).
- ``curve`` / ``_curve_model``: learning-curve prediction (one objective).
- ``auto``: the default (the curve model with one objective, MO-ASHA with several).
- ``decision``: what a scheduler decides; ``_view``: what optimizers see of a
  multi-fidelity study (one objective; several: the history unchanged).
"""

from __future__ import annotations

from tuneful.schedulers._view import ModelView, model_view
from tuneful.schedulers.auto import AutoScheduler
from tuneful.schedulers.base import (
    Decision,
    NoScheduler,
    RungScheduler,
    Scheduler,
    available_schedulers,
    make_scheduler,
    register_scheduler,
    rung_budgets,
    value_at,
)
from tuneful.schedulers.curve import CurvePredictor
from tuneful.schedulers.decision import Action, refuse_exploit
from tuneful.schedulers.halving import ASHA, Hyperband, hyperband_brackets
from tuneful.schedulers.median import MedianStopping
from tuneful.schedulers.multi import report_values, values_at

__all__ = [
    "Scheduler",
    "Decision",
    "Action",
    "refuse_exploit",
    "NoScheduler",
    "RungScheduler",
    "MedianStopping",
    "ASHA",
    "Hyperband",
    "CurvePredictor",
    "AutoScheduler",
    "make_scheduler",
    "available_schedulers",
    "register_scheduler",
    "model_view",
    "ModelView",
    "rung_budgets",
    "hyperband_brackets",
    "value_at",
    "values_at",
    "report_values",
]

register_scheduler("none", NoScheduler)
register_scheduler("median", MedianStopping)
register_scheduler("asha", ASHA)
register_scheduler("hyperband", Hyperband)
register_scheduler("curve", CurvePredictor)
register_scheduler("auto", AutoScheduler)
