"""How objectives run: the in-process loop, worker processes, heartbeats, stale recovery."""

from __future__ import annotations

from tuneful.execution.heartbeat import Heartbeat
from tuneful.execution.loop import run_trial, worker_loop
from tuneful.execution.runner import run_optimization

__all__ = ["Heartbeat", "run_trial", "worker_loop", "run_optimization"]
