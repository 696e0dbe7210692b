"""``tuneful.scaling``: an alias of :mod:`tuneful.analysis.scaling`, where the scaling laws live.

Kept so that ``from tuneful import scaling`` (as docs/scaling.md showed it) keeps working; it
re-exports the same objects, so ``tuneful.scaling.fit is tuneful.analysis.scaling.fit``. New
code imports :mod:`tuneful.analysis.scaling`. Submodules (``tuneful.scaling.law``, ...) are not
aliased: they live under ``tuneful.analysis.scaling``.

Example:
    >>> from tuneful import scaling
    >>> from tuneful.analysis import scaling as home
    >>> scaling.steplaw is home.steplaw
    True
"""

from __future__ import annotations

from tuneful.analysis.scaling import *  # noqa: F403
from tuneful.analysis.scaling import __all__ as __all__
