"""Markdown tables and numbers for the benchmark reports: cells escaped, numbers rounded.

Example:
    >>> print(format_table(["optimizer", "regret"], [["random", format_number(0.012345)]]))
    | optimizer | regret |
    |---|---|
    | random | 0.0123 |
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["DASH", "escape_cell", "format_table", "format_number", "format_rank"]

#: What a cell shows when it has no value.
DASH = "—"


def escape_cell(value: object) -> str:
    """Text that is safe inside a Markdown table cell: pipes escaped, newlines flattened."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    return text.replace("|", "\\|")


def format_table(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, align: Sequence[str] | None = None
) -> str:
    """A GitHub-flavoured Markdown table; every cell goes through :func:`escape_cell`.

    Args:
        align: per column ``"left"``, ``"right"`` or ``"center"``; default left.

    Raises:
        ValueError: a row's length differs from the header's, or an unknown alignment.
    """
    marks = {"left": "---", "right": "---:", "center": ":---:"}
    align = list(align) if align is not None else ["left"] * len(header)
    if len(align) != len(header) or any(a not in marks for a in align):
        raise ValueError(f"align must give one of {sorted(marks)} per column, got {align}")
    lines = [
        "| " + " | ".join(escape_cell(h) for h in header) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
    ]
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"row {list(row)} has {len(row)} cells; the header has {len(header)}")
        lines.append("| " + " | ".join(escape_cell(cell) for cell in row) + " |")
    return "\n".join(lines)


def format_number(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits (``0.0123``, ``0.5``, ``1.2e-05``); None or NaN is —."""
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.{digits}g}"


def format_rank(value: float) -> str:
    """A mean rank with two decimals; NaN is —."""
    return f"{value:.2f}" if math.isfinite(value) else DASH
