"""A benchmark cell's budget: expressions such as ``20+40sqrt(d)`` (carps' convention for
black-box tasks), and :class:`BudgetExhausted`, the signal that a cell has spent it."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from tuneful.errors import SpecError

__all__ = ["parse_budget", "BudgetExhausted"]

_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log2": math.log2,
    "ceil": math.ceil,
}
_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


class BudgetExhausted(Exception):  # noqa: N818 - a signal, not an error
    """Raised by ``evaluate`` once the run's budget is spent; adapters let it propagate."""


def _implicit_products(text: str) -> str:
    """``40sqrt(d)`` -> ``40*sqrt(d)``, ``10d`` -> ``10*d``."""
    out = []
    for i, char in enumerate(text):
        if i and (char.isalpha() or char == "(") and (text[i - 1].isdigit() or text[i - 1] == ")"):
            out.append("*")
        out.append(char)
    return "".join(out)


def parse_budget(expression: str | int, dim: int) -> int:
    """Evaluate a budget expression for a task of dimension ``dim``; rounded up.

    Accepts numbers, ``d`` (the dimension), ``+ - * / **``, ``sqrt``, ``log``, ``log2`` and
    implicit products (``40sqrt(d)``).

    Example:
        >>> parse_budget("20+40sqrt(d)", 4)
        100

    Raises:
        SpecError: the expression uses anything else or is not positive.
    """
    if isinstance(expression, int) and not isinstance(expression, bool):
        value: float = expression
    else:
        text = _implicit_products(str(expression).replace(" ", ""))
        try:
            tree = ast.parse(text, mode="eval")
            value = _evaluate(tree.body, dim)
        except (SyntaxError, ValueError, TypeError, ZeroDivisionError) as exc:
            raise SpecError(
                f"budget {expression!r}: expected an expression of d such as '20+40sqrt(d)' "
                f"or a number ({exc})"
            ) from None
    if not math.isfinite(value) or value < 1:
        raise SpecError(f"budget {expression!r} gives {value} for d={dim}; expected >= 1")
    return math.ceil(value - 1e-9)


def _evaluate(node: ast.AST, dim: int) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id == "d":
        return float(dim)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return float(
            _OPERATORS[type(node.op)](_evaluate(node.left, dim), _evaluate(node.right, dim))
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_evaluate(node.operand, dim)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and len(node.args) == 1
    ):
        return float(_FUNCTIONS[node.func.id](_evaluate(node.args[0], dim)))
    raise ValueError(f"unsupported element {ast.dump(node)[:40]}")
