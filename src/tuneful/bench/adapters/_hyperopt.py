"""Hyperopt's TPE with its defaults, run by ``fmin``.

Hyperopt spaces are trees: a parameter is conditional by appearing inside one option of an
``hp.choice``. A tuneful space becomes one as follows.

- A parameter that other parameters depend on (a *parent*) becomes
  ``hp.choice(name, [(0, children_0), (1, children_1), ...])``, one option per value, each
  holding the expressions of the children active for that value. A child active for several
  values appears in each of those options as one shared expression, so hyperopt models it as
  one parameter. Categorical parents branch on their choices; Int parents on their values (at
  most 100: hyperopt then models that Int as a categorical); a Fixed parent is a single option
  that needs no ``hp.choice``.
- A child of several parents is placed under the parent that is deepest in the tree, which
  works when being active there already implies the conditions on the other parents
  (``c`` when ``{a: "x", b: 1}``, where ``b`` exists only when ``a == "x"``). A child whose
  parents are not nested that way cannot be a branch of one tree without duplicating a parent:
  :func:`to_hyperopt` raises :class:`~tuneful.errors.SpaceError` naming it.
- Other parameters are leaves: ``Float`` -> ``hp.uniform`` or ``hp.loguniform`` (natural-log
  bounds); ``Int(log=True)`` -> ``hp.qloguniform(name, log(low - 0.5), log(high + 0.5), 1)``
  rounded to an int; other ``Int`` and ``Float`` with a step ->
  ``hp.quniform(name, -0.5, n - 0.5, 1)``, the index of the level (every level gets the same
  mass, which quantizing ``[low, high]`` itself would halve at both ends); ``Categorical`` ->
  ``hp.choice(name, [0, ..., k - 1])``, the choice's index. ``Fixed`` leaves are left out:
  tuneful fills them in wherever they are active.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from tuneful._parameters import value_key
from tuneful.bench.adapters._peer import PeerAdapter, check_run, is_failed, quiet_loggers
from tuneful.bench.adapters.base import Evaluate
from tuneful.bench.tasks.base import Task
from tuneful.errors import SpaceError
from tuneful.space import Categorical, Fixed, Float, Int, Parameter, Space

__all__ = ["Hyperopt", "to_hyperopt", "HyperoptConversion", "MAX_INT_BRANCHES"]

#: An Int parent is expanded into one ``hp.choice`` option per value up to this many values.
MAX_INT_BRANCHES = 100

_Keys = frozenset[tuple[bool, Any]]  # tuneful's value_key: True and 1 differ


class HyperoptConversion:
    """A tuneful space as a hyperopt expression, and hyperopt's samples back.

    Attributes:
        expression: the search space to pass to ``hyperopt.fmin``: a dict name -> expression
            of the top-level parameters.
    """

    def __init__(
        self,
        expression: dict[str, Any],
        decoders: Mapping[str, Callable[[Any], Any]],
        parents: frozenset[str],
        space: Space,
    ) -> None:
        self.expression = expression
        self._decoders = dict(decoders)
        self._parents = parents
        self._space = space

    def to_config(self, sample: Mapping[str, Any]) -> dict[str, Any]:
        """A sample of ``expression`` -> a valid tuneful configuration.

        Raises:
            SpaceError: the sample does not make a valid configuration (a conversion bug).
        """
        config: dict[str, Any] = {}
        pending = [sample]
        while pending:
            for name, item in pending.pop().items():
                if name in self._parents:  # (option index, children of that option)
                    index, children = item
                    config[name] = self._decoders[name](index)
                    pending.append(children)
                else:
                    config[name] = self._decoders[name](item)
        return self._space.validate(config)


def _anchors(space: Space) -> dict[str, tuple[str, _Keys]]:
    """Each conditional parameter's place in the tree: (parent, values it appears under).

    Raises:
        SpaceError: a parameter's parents are not nested in one another (see the module).
    """
    implied: dict[str, dict[str, _Keys]] = {}  # name -> parent values known when it is active
    anchors: dict[str, tuple[str, _Keys]] = {}
    for name in space.names:
        when = {p: frozenset(value_key(v) for v in vs) for p, vs in space[name].when.items()}
        known: dict[str, _Keys] = {}
        for parent, keys in when.items():
            for ancestor, ancestor_keys in [*implied[parent].items(), (parent, keys)]:
                known[ancestor] = known.get(ancestor, ancestor_keys) & ancestor_keys
        implied[name] = known
        if not when:
            continue
        covering = [p for p in space.names if p in when and _covers(implied[p], when, p)]
        if not covering:
            raise SpaceError(
                f"hyperopt cannot express parameter {name!r}: its condition "
                f"when={space[name].when!r} names parents that are not nested in one another, "
                "and a hyperopt space is a tree of hp.choice options"
            )
        anchor = covering[-1]
        anchors[name] = (anchor, when[anchor])
    return anchors


def _covers(known: Mapping[str, _Keys], when: Mapping[str, _Keys], anchor: str) -> bool:
    """Whether ``anchor`` being active (``known``) implies ``when`` on every other parent."""
    return all(
        parent == anchor or (parent in known and known[parent] <= keys)
        for parent, keys in when.items()
    )


def _branch_values(name: str, param: Parameter) -> list[Any]:
    if isinstance(param, Categorical):
        return list(param.choices)
    if isinstance(param, Fixed):
        return [param.value]
    if isinstance(param, Int):
        if param.n_levels > MAX_INT_BRANCHES:
            raise SpaceError(
                f"hyperopt cannot express the children of parameter {name!r}: it is an Int "
                f"with {param.n_levels} values and each needs its own hp.choice option (at "
                f"most {MAX_INT_BRANCHES})"
            )
        return [param.low + i * param.step for i in range(param.n_levels)]
    raise SpaceError(f"parameter {name!r}: a {type(param).__name__} cannot be a parent")


def _clipped_index(n_levels: int) -> Callable[[Any], int]:
    def index(x: Any) -> int:
        return min(max(round(float(x)), 0), n_levels - 1)

    return index


def _leaf(name: str, param: Parameter) -> tuple[Any, Callable[[Any], Any]]:
    """A leaf parameter's hyperopt expression and the decoder of its samples."""
    from hyperopt import hp

    if isinstance(param, Categorical):
        choices = param.choices
        return hp.choice(name, list(range(len(choices)))), lambda i: choices[int(i)]
    if isinstance(param, Float) and param.step is None:
        low, high = param.low, param.high
        if param.log:
            expression = hp.loguniform(name, math.log(low), math.log(high))
        else:
            expression = hp.uniform(name, low, high)
        return expression, lambda x: min(max(float(x), low), high)
    if isinstance(param, Int) and param.log:
        low_int, high_int = param.low, param.high
        expression = hp.qloguniform(name, math.log(low_int - 0.5), math.log(high_int + 0.5), 1)
        return expression, lambda x: min(max(round(float(x)), low_int), high_int)
    if isinstance(param, (Float, Int)):  # a grid: the level's index
        n, low, high, step = param.n_levels, param.low, param.high, param.step or 0
        index = _clipped_index(n)

        def level(x: Any) -> Any:
            i = index(x)
            return high if i == n - 1 else low + i * step  # validate snaps Float levels

        return hp.quniform(name, -0.5, n - 0.5, 1), level
    raise TypeError(f"parameter {name!r}: unsupported type {type(param).__name__}")


def to_hyperopt(space: Space) -> HyperoptConversion:
    """Convert ``space`` to a hyperopt search space (see the module docstring).

    Raises:
        SpaceError: a condition hyperopt cannot express (named), or no parameter to search.
    """
    from hyperopt import hp

    anchors = _anchors(space)
    children: dict[str | None, list[str]] = {}
    for name in space.names:
        children.setdefault(anchors[name][0] if name in anchors else None, []).append(name)
    built: dict[str, Any] = {}  # one expression per parameter, shared by every option
    decoders: dict[str, Callable[[Any], Any]] = {}

    def build(name: str) -> Any:
        if name in built:
            return built[name]
        param = space[name]
        if name in children:
            values = _branch_values(name, param)
            options = []
            for i, value in enumerate(values):
                active = {}
                for child in children[name]:
                    if value_key(value) in anchors[child][1]:
                        active[child] = build(child)
                options.append((i, active))
            built[name] = options[0] if isinstance(param, Fixed) else hp.choice(name, options)
            decoders[name] = values.__getitem__
        else:
            built[name], decoders[name] = _leaf(name, param)
        return built[name]

    expression = {
        name: build(name)
        for name in children.get(None, [])
        if name in children or not isinstance(space[name], Fixed)
    }
    if space.dim == 0 or not expression:
        raise SpaceError("hyperopt needs at least one parameter that is not Fixed to search")
    parents = frozenset(name for name in children if name is not None)
    return HyperoptConversion(expression, decoders, parents, space)


class Hyperopt(PeerAdapter):
    """Hyperopt's TPE (``tpe.suggest``, 20 random start-up trials) with its defaults."""

    name = "hyperopt"
    package = "hyperopt"
    loggers = ("hyperopt",)
    call = (
        "hyperopt.fmin(objective, space, algo=hyperopt.tpe.suggest, max_evals=budget, "
        "trials=hyperopt.Trials(), rstate=numpy.random.default_rng(seed), "
        "show_progressbar=False, verbose=False)"
    )

    def run(self, task: Task, *, budget: int, seed: int, evaluate: Evaluate) -> None:
        """Run ``fmin`` for ``budget`` evaluations; BudgetExhausted propagates out of it.

        Raises:
            SpaceError: the space has conditions hyperopt cannot express.
        """
        check_run(self.name, budget=budget, seed=seed)
        import numpy as np
        from hyperopt import STATUS_FAIL, STATUS_OK, Trials, fmin, tpe
        from hyperopt.exceptions import AllTrialsFailed

        conversion = to_hyperopt(task.space)

        def objective(sample: Mapping[str, Any]) -> dict[str, Any]:
            loss = float(evaluate(conversion.to_config(sample)))
            if is_failed(loss):
                return {"status": STATUS_FAIL}
            return {"loss": loss, "status": STATUS_OK}

        # fmin re-raises what the objective raises (catch_eval_exceptions=False, its default);
        # it ends by looking up the best trial, which fails when every loss was NaN.
        with quiet_loggers(self.loggers), contextlib.suppress(AllTrialsFailed):
            fmin(
                objective,
                conversion.expression,
                algo=tpe.suggest,
                max_evals=budget,
                trials=Trials(),
                rstate=np.random.default_rng(seed),
                show_progressbar=False,
                verbose=False,
            )
