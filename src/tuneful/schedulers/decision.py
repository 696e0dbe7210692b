"""What a scheduler decides about a trial after a report: go on, stop, or exploit.

A decision is a frozen value: the action, one sentence of why, and the system attributes to
record on the trial (``rung_9``, ``pruned``, ...). Three actions:

- ``GO_ON``: the trial goes on as it is (``Decision.go_on(reason)``);
- ``STOP``: the trial stops now and is pruned (``Decision.stop_now(reason)``);
- ``EXPLOIT``: the trial drops its own state and goes on from the checkpoint of trial
  ``source`` with the parameters ``params`` (``Decision.exploit(source=i, params={...})``),
  as population-based training does (Jaderberg et al. 2017, "Population Based Training of
  Neural Networks", arXiv:1711.09846, Sec. 3: "exploit" then "explore").

``decision.stop`` is True for ``STOP`` alone: code that only knows how to stop trials reads
it as before. An engine that cannot carry out ``EXPLOIT`` (it has no checkpoints) must not
take it for ``GO_ON``: it calls :func:`refuse_exploit`, which raises a clear error.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tuneful._validation import check_int, refuse
from tuneful.errors import SchedulerError

__all__ = ["Action", "Decision", "refuse_exploit"]


class Action(str, enum.Enum):
    """What happens to a trial after a scheduler's decision."""

    GO_ON = "go_on"
    STOP = "stop"
    EXPLOIT = "exploit"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Decision:
    """A scheduler's verdict on a trial after a report. Build one with :meth:`go_on`,
    :meth:`stop_now` or :meth:`exploit` (``Decision(stop=..., reason=..., attrs=...)`` is the
    same as the first two).

    Attributes:
        stop: whether the trial must stop now (pruned); True exactly when ``action`` is STOP.
        reason: one sentence a person can read (why it stops, goes on, or exploits).
        attrs: system attributes to record on the trial (JSON-safe), e.g. ``rung_9``.
        action: GO_ON, STOP or EXPLOIT (taken from ``stop`` when not given).
        source: for EXPLOIT, the number of the trial whose checkpoint to continue from.
        params: for EXPLOIT, the parameters to continue with (a copy), else None.

    Raises:
        SchedulerError: fields that disagree (``stop=True`` with another action), an exploit
            without a trial number >= 0 or without parameters, or ``source``/``params`` on
            another action.

    Example:
        >>> Decision.exploit(source=3, params={"lr": 0.01}, reason="trial 3 is ahead").stop
        False
        >>> Decision.stop_now("worse than the median").action
        <Action.STOP: 'stop'>
    """

    stop: bool
    reason: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)
    action: Action | None = None
    source: int | None = None
    params: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.stop, bool):
            refuse("decision", "stop", self.stop, "True or False", error=SchedulerError)
        if not isinstance(self.reason, str):
            refuse("decision", "reason", self.reason, "a sentence (str)", error=SchedulerError)
        if not isinstance(self.attrs, Mapping):
            refuse("decision", "attrs", self.attrs, "a mapping", error=SchedulerError)
        action = self.action
        if action is None:
            action = Action.STOP if self.stop else Action.GO_ON
        elif not isinstance(action, Action):
            choices = ", ".join(repr(a.value) for a in Action)
            if action not in tuple(a.value for a in Action):
                refuse("decision", "action", action, f"one of {choices}", error=SchedulerError)
            action = Action(action)
        if self.stop != (action is Action.STOP):
            raise SchedulerError(
                f"decision: stop={self.stop!r} with action={action.value!r}: stop is True "
                "exactly for the action 'stop'"
            )
        object.__setattr__(self, "action", action)
        if action is Action.EXPLOIT:
            self._check_exploit()
        elif self.source is not None or self.params is not None:
            raise SchedulerError(
                f"decision: source and params belong to the action 'exploit', not {action.value!r}"
            )

    def _check_exploit(self) -> None:
        check_int("decision", "source", self.source, minimum=0, error=SchedulerError)
        params = self.params
        if not isinstance(params, Mapping) or not params:
            refuse("decision", "params", params, "a non-empty mapping", error=SchedulerError)
        if not all(isinstance(key, str) for key in params):
            refuse(
                "decision", "params", params, "parameter names (str) as keys", error=SchedulerError
            )
        # a copy, so the scheduler's dict can change without changing the decision (a plain
        # dict, not a read-only proxy: decisions may travel to worker processes, pickled)
        object.__setattr__(self, "params", dict(params))

    @classmethod
    def go_on(cls, reason: str = "", *, attrs: Mapping[str, Any] | None = None) -> Decision:
        """The trial goes on as it is."""
        return cls(stop=False, reason=reason, attrs=dict(attrs or {}), action=Action.GO_ON)

    @classmethod
    def stop_now(cls, reason: str, *, attrs: Mapping[str, Any] | None = None) -> Decision:
        """The trial stops now (pruned)."""
        return cls(stop=True, reason=reason, attrs=dict(attrs or {}), action=Action.STOP)

    @classmethod
    def exploit(
        cls,
        *,
        source: int,
        params: Mapping[str, Any],
        reason: str = "",
        attrs: Mapping[str, Any] | None = None,
    ) -> Decision:
        """The trial goes on from trial ``source``'s checkpoint with ``params``."""
        return cls(
            stop=False,
            reason=reason,
            attrs=dict(attrs or {}),
            action=Action.EXPLOIT,
            source=source,
            params=params,
        )


def refuse_exploit(decision: Decision, *, scheduler: str, trial: int, why: str) -> None:
    """Raise when ``decision`` is an exploit, for an engine that cannot carry one out.

    Args:
        decision: the scheduler's decision on ``trial``.
        scheduler: the scheduler's name (for the message).
        trial: the number of the trial the decision is about.
        why: what the engine lacks, e.g. "the objective saves no checkpoints".

    Raises:
        SchedulerError: the decision is an exploit; the message names the scheduler, both
            trials, the parameters and ``why``.
    """
    if decision.action is not Action.EXPLOIT:
        return
    params = dict(decision.params or {})
    raise SchedulerError(
        f"scheduler {scheduler!r} decided that trial {trial} goes on from trial "
        f"{decision.source}'s checkpoint with {params} ({decision.reason or 'no reason given'}), "
        f"and this cannot be carried out: {why}"
    )
