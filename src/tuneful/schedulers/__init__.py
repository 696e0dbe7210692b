"""Schedulers: when to stop a trial early, and to what budgets to run it.

``create_study(scheduler=...)`` takes a name (``"auto"``, the default; ``"none"``,
``"median"``, ``"asha"``, ``"hyperband"``, ``"curve"``), a ``{"name": ..., "settings": {...}}``
dict or a :class:`Scheduler`. Objectives report their learning curve with
``trial.report(step=..., value=...)``, which raises :class:`tuneful.Pruned` when the scheduler stops
the trial; ``trial.budget`` / ``trial.budgets()`` give the budgets to train to.
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
]

register_scheduler("none", NoScheduler)
register_scheduler("median", MedianStopping)
register_scheduler("asha", ASHA)
register_scheduler("hyperband", Hyperband)
register_scheduler("curve", CurvePredictor)
register_scheduler("auto", AutoScheduler)
