"""What every figure shares: matplotlib imported on first use (a one-line error naming the
extra when it is missing), a figure drawn without pyplot's global state, and saving it.

Figures are :class:`matplotlib.figure.Figure` objects made directly, so no interactive backend
is chosen and no figure is left registered anywhere: the Agg canvas renders them headless.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tuneful.errors import MissingDependencyError

__all__ = ["DPI", "new_figure", "colormap", "save_figure"]

#: Dots per inch of every saved raster image.
DPI = 120
_FORMATS = {".png": "png", ".svg": "svg"}


def _missing(what: str) -> MissingDependencyError:
    return MissingDependencyError(
        f"{what} need matplotlib: pip install matplotlib (or pip install 'tuneful[viz]')"
    )


def new_figure(width: float, height: float, *, what: str = "plots") -> Any:
    """A blank figure of ``width`` × ``height`` inches.

    Raises:
        MissingDependencyError: matplotlib is not installed; the message says ``what`` needed
            it and how to install it.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise _missing(what) from None
    return Figure(figsize=(width, height), dpi=DPI)


def colormap(name: str) -> Any:
    """A matplotlib colormap by name (``"viridis"``); call it on values in [0, 1]."""
    try:
        import matplotlib
    except ImportError:
        raise _missing("plots") from None
    return matplotlib.colormaps[name]


def save_figure(figure: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` to ``path`` (its folder created when missing) and return the path:
    SVG when the name ends in ``.svg``, PNG otherwise (whatever the suffix)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = _FORMATS.get(target.suffix.lower(), "png")
    figure.savefig(target, format=kind, bbox_inches="tight")
    return target
