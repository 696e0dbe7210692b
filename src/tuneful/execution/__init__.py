"""How objectives run: the engine below each study (ask, record, judge, tell, fail), the
in-process loop, worker threads and processes, Dask, heartbeats, stale recovery."""

from __future__ import annotations

from tuneful.execution.engine import Engine, open_engine
from tuneful.execution.heartbeat import Heartbeat
from tuneful.execution.loop import run_trial, worker_loop
from tuneful.execution.runner import run_optimization

__all__ = ["Engine", "open_engine", "Heartbeat", "run_trial", "worker_loop", "run_optimization"]
