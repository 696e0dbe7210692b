"""Fitting η*(N, D) = a·N^α·D^β and B*(D) = b·D^γ from your own runs, as Step Law does.

The runs: several grids, each a scale (N non-embedding parameters, D training tokens) with
runs at many (learning rate, batch size) and a final (smoothed) loss. The procedure of Step
Law (Li et al. 2025):

1. per grid, keep every run whose loss is within ``tolerance`` (relative, 0.25 %) of the
   grid's best: the near-optimal plateau, not just the argmin, which a flat landscape makes
   noisy;
2. ordinary least squares of log η on [1, log N, log D] and of log B on [1, log D] over the
   plateau runs of all grids (the batch size in tokens: sequences × tokens per sequence);
3. intervals by bootstrap: the plateau runs resampled with replacement ``n_bootstrap`` times,
   refitted each time; a prediction's interval is the percentile interval of the
   resampled fits' predictions.

Before fitting, runs that cannot pin an exponent down are refused with a message saying why
(a mixture of experts' total N that varies by 0.3 % across the scales makes α's interval
±70 and the bootstrap's refits meaningless): an exponent whose 95 % interval from the least
squares is wider than ±1 (:data:`MAX_EXPONENT_HALF_WIDTH`) is not identified. Step Law's
dense runs give ±0.11 for α.

From a fit: :meth:`LawFit.predict` (with intervals), :meth:`LawFit.plateau` (where the
plateau runs lie relative to the law, carried to a new scale), :meth:`LawFit.space_at` (a
narrowed search space around the prediction, to warm-start a study at the new scale);
:func:`grid_gaps` (how far the run nearest a law's point is from each grid's best) and
:func:`leave_one_scale_out` (the same with the law fitted without that grid).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tuneful.analysis.scaling.law import STEPLAW, Prediction, ScalingError, check_positive, steplaw
from tuneful.analysis.scaling.runs import DEFAULT_TOKENS_PER_UNIT, Runs
from tuneful.space import Float, Int, Space

__all__ = [
    "LawFit",
    "GridGap",
    "MAX_EXPONENT_HALF_WIDTH",
    "UnidentifiedLawError",
    "fit",
    "grid_gaps",
    "leave_one_scale_out",
    "published_law",
    "published_point",
    "summarize_gaps",
]


def _ols(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return coef


#: An exponent whose 95 % interval is wider than ±1 is not identified by the runs: every
#: published exponent (−0.713, 0.307, 0.571) fits in it, with either sign.
MAX_EXPONENT_HALF_WIDTH = 1.0


class UnidentifiedLawError(ScalingError):
    """The runs cannot pin down an exponent; ``quantity`` is what it multiplies ("N", "D")."""

    def __init__(self, message: str, quantity: str) -> None:
        super().__init__(message)
        self.quantity = quantity


def _half_widths(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """1.96 standard errors of the OLS slopes (columns 1.. of ``x``), from the centred design
    so that a large log N with a small spread loses no precision; inf for a slope the design
    cannot separate. None when no degree of freedom is left to estimate the noise."""
    dof = len(y) - x.shape[1]
    if dof <= 0:
        return None
    residual = y - x @ _ols(x, y)
    variance = float(residual @ residual) / dof
    centred = x[:, 1:] - x[:, 1:].mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    with np.errstate(divide="ignore"):
        inverse = np.where(singular > 1e-12 * max(singular.max(), 1e-300), singular**-2.0, np.inf)
    return np.asarray(1.96 * np.sqrt(variance * ((vt**2).T @ inverse)), dtype=float)


def _check_identified(
    x: np.ndarray, y: np.ndarray, exponents: Sequence[tuple[str, str, np.ndarray]]
) -> None:
    """Refuse a fit whose exponent the runs cannot pin down (see MAX_EXPONENT_HALF_WIDTH):
    ``exponents`` names each slope, the quantity it multiplies, and that quantity's values."""
    widths = _half_widths(x, y)
    if widths is None:
        return
    for (name, symbol, values), width in zip(exponents, widths, strict=True):
        if width <= MAX_EXPONENT_HALF_WIDTH:
            continue
        low, high = float(values.min()), float(values.max())
        message = (
            f"the exponent {name} of {symbol} is not identified by these runs (95 % interval "
            f"±{width:.3g}): "
        )
        if high / low < 2:
            message += (
                f"{symbol} varies by only {high / low - 1:.2%} across the scales "
                f"({low:.4g} – {high:.4g}); fit runs at {symbol} values further apart"
            )
        else:
            message += "log N and log D move together across the scales; add grids that vary one"
        if symbol == "N":
            message += (
                " (for a mixture of experts whose total N barely varies, fit on the active "
                "parameters: columns={'n': NAME}, or --column n=NAME)"
            )
        raise UnidentifiedLawError(message, symbol)


def _exp(value: float) -> float:
    """e**value, inf past the floating-point range (an interval's end, not an error)."""
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _designs(runs: Runs) -> tuple[np.ndarray, np.ndarray]:
    ones = np.ones(len(runs))
    lr_x = np.column_stack([ones, np.log(runs.n), np.log(runs.d)])
    bs_x = np.column_stack([ones, np.log(runs.d)])
    return lr_x, bs_x


@dataclass(frozen=True)
class LawFit:
    """A fitted law: log η = lr_coef · [1, log N, log D]; log B = bs_coef · [1, log D].

    Attributes:
        lr_coef: (log a, α, β). bs_coef: (log b, γ).
        lr_boot / bs_boot: the bootstrap refits, (n_bootstrap, 3) and (n_bootstrap, 2).
        tolerance: the plateau's relative loss tolerance.
        n_runs / n_plateau / n_grids: runs given, runs kept, scales.
        lr_spread / bs_spread: (low, high) quantiles (2.5 %, 97.5 %) of the plateau runs'
            log residuals around the law: where near-optimal runs lie relative to it.
        level: the intervals' coverage.
    """

    lr_coef: np.ndarray
    bs_coef: np.ndarray
    lr_boot: np.ndarray
    bs_boot: np.ndarray
    tolerance: float
    n_runs: int
    n_plateau: int
    n_grids: int
    lr_spread: tuple[float, float]
    bs_spread: tuple[float, float]
    level: float = 0.95
    grids: list[tuple[float, float]] = field(default_factory=list)

    @property
    def a(self) -> float:
        return _exp(self.lr_coef[0])

    @property
    def b(self) -> float:
        return _exp(self.bs_coef[0])

    def coefficients(self) -> dict[str, float]:
        """a, α, β, b, γ as in η = a·N^α·D^β, B = b·D^γ."""
        return {
            "a": self.a,
            "alpha": float(self.lr_coef[1]),
            "beta": float(self.lr_coef[2]),
            "b": self.b,
            "gamma": float(self.bs_coef[1]),
        }

    def intervals(self) -> dict[str, tuple[float, float]]:
        """Bootstrap percentile intervals of the coefficients (empty without a bootstrap)."""
        if not len(self.lr_boot):
            return {}
        low, high = 50 * (1 - self.level), 50 * (1 + self.level)

        def span(values: np.ndarray) -> tuple[float, float]:
            lo, hi = np.percentile(values, [low, high])
            return float(lo), float(hi)

        return {
            "a": tuple(_exp(v) for v in span(self.lr_boot[:, 0])),  # type: ignore[dict-item]
            "alpha": span(self.lr_boot[:, 1]),
            "beta": span(self.lr_boot[:, 2]),
            "b": tuple(_exp(v) for v in span(self.bs_boot[:, 0])),  # type: ignore[dict-item]
            "gamma": span(self.bs_boot[:, 1]),
        }

    def formula(self) -> str:
        c = self.coefficients()
        return (
            f"lr* = {c['a']:.4g} * N^{c['alpha']:.3f} * D^{c['beta']:.3f}; "
            f"B* = {c['b']:.4g} * D^{c['gamma']:.3f} tokens"
        )

    def point(self, n: float, d: float) -> tuple[float, float]:
        """(η*, B* in tokens) at (N, D), without intervals."""
        ln, ld = math.log(n), math.log(d)
        log_lr = self.lr_coef[0] + self.lr_coef[1] * ln + self.lr_coef[2] * ld
        log_bs = self.bs_coef[0] + self.bs_coef[1] * ld
        lr, tokens = _exp(log_lr), _exp(log_bs)
        if not (0 < lr < math.inf and 0 < tokens < math.inf):
            raise ScalingError(
                f"the law's optimum at N={n:g}, D={d:g} is out of floating-point range "
                f"(log lr* = {log_lr:.4g}, log B* = {log_bs:.4g}): N or D is far outside the "
                "scales it was fitted on"
            )
        return lr, tokens

    def predict(self, n_params: float, n_tokens: float, seq_len: int | None = None) -> Prediction:
        """The fitted optimum at (N, D), with bootstrap intervals."""
        n = check_positive("n_params", n_params)
        d = check_positive("n_tokens", n_tokens)
        if seq_len is not None:
            seq_len = int(check_positive("seq_len", seq_len))
        lr, tokens = self.point(n, d)
        lr_interval = tokens_interval = None
        if len(self.lr_boot):
            low, high = 50 * (1 - self.level), 50 * (1 + self.level)
            log_lr = self.lr_boot @ np.array([1.0, math.log(n), math.log(d)])
            log_bs = self.bs_boot @ np.array([1.0, math.log(d)])
            lr_interval = tuple(_exp(v) for v in np.percentile(log_lr, [low, high]))
            tokens_interval = tuple(_exp(v) for v in np.percentile(log_bs, [low, high]))
        return Prediction(
            n,
            d,
            lr,
            tokens,
            None if seq_len is None else tokens / seq_len,
            seq_len,
            "fit",
            lr_interval,  # type: ignore[arg-type]
            tokens_interval,  # type: ignore[arg-type]
        )

    def plateau(self, n_params: float, n_tokens: float) -> dict[str, tuple[float, float]]:
        """The predicted plateau at (N, D): the learning rates and batch sizes (tokens) where
        the fitted grids' near-optimal runs lay relative to the law (the 2.5–97.5 % range of
        their log residuals), carried to the new scale."""
        lr, tokens = self.point(
            check_positive("n_params", n_params), check_positive("n_tokens", n_tokens)
        )
        return {
            "learning_rate": (lr * math.exp(self.lr_spread[0]), lr * math.exp(self.lr_spread[1])),
            "batch_tokens": (
                tokens * math.exp(self.bs_spread[0]),
                tokens * math.exp(self.bs_spread[1]),
            ),
        }

    def space_at(
        self,
        n_params: float,
        n_tokens: float,
        *,
        tokens_per_unit: float = DEFAULT_TOKENS_PER_UNIT,
        widen: float = 2.0,
        names: tuple[str, str] = ("lr", "bs"),
    ) -> Space:
        """A search space centred on the law's point at (N, D): the predicted plateau widened
        by ``widen`` (a factor on each side, in log scale) — log-uniform learning rate, and a
        log-uniform integer batch size in units of ``tokens_per_unit`` tokens (sequences by
        default). Give it to a study at the new scale so it starts where the law points."""
        factor = check_positive("widen", widen)
        if factor < 1:
            raise ScalingError(f"widen={widen!r}: expected a factor >= 1")
        unit = check_positive("tokens_per_unit", tokens_per_unit)
        region = self.plateau(n_params, n_tokens)
        lr_lo, lr_hi = region["learning_rate"]
        bs_lo, bs_hi = region["batch_tokens"]
        low_bs = max(1, int(math.floor(bs_lo / factor / unit)))
        high_bs = max(low_bs + 1, int(math.ceil(bs_hi * factor / unit)))
        return Space(
            **{
                names[0]: Float(lr_lo / factor, lr_hi * factor, log=True),
                names[1]: Int(low_bs, high_bs, log=True),
            }
        )


def fit(
    runs: Runs,
    *,
    tolerance: float = 0.0025,
    n_bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> LawFit:
    """Fit the law to ``runs`` by Step Law's procedure (see the module docstring).

    Raises:
        ScalingError: a bad setting, or runs that cannot identify the law: fewer than two
            distinct N or D values among the scales, or an exponent whose 95 % interval is
            wider than ±1 (N or D barely varies, or they vary together).
    """
    tol = check_positive("tolerance", tolerance) if tolerance != 0 else 0.0
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ScalingError(f"n_bootstrap={n_bootstrap!r}: expected an int >= 0")
    if (
        isinstance(level, bool)
        or not isinstance(level, int | float)
        or not math.isfinite(level)
        or not 0 < level < 1
    ):
        raise ScalingError(f"level={level!r}: expected a coverage in (0, 1)")
    grids = runs.grids()
    n_values = {n for n, _ in grids}
    d_values = {d for _, d in grids}
    if not grids:
        raise ScalingError("no runs to fit")
    if len(grids) < 2:
        raise ScalingError(
            f"the runs hold a single scale (N={grids[0][0]:g}, D={grids[0][1]:g}): a scaling "
            "law needs runs at several (N, D)"
        )
    if len(n_values) < 2 or len(d_values) < 2:
        which = "N" if len(n_values) < 2 else "D"
        raise ScalingError(
            f"every scale has the same {which}: η*(N, D) needs at least two values of N and "
            f"two of D (scales: {', '.join(f'({n:g}, {d:g})' for n, d in grids)})"
        )
    plateau = runs.select(runs.plateau(tol))
    lr_x, bs_x = _designs(plateau)
    if np.linalg.matrix_rank(lr_x) < 3:
        raise ScalingError(
            "log N and log D are collinear across the scales: the law is not identified"
        )
    y_lr, y_bs = np.log(plateau.lr), np.log(plateau.batch_tokens)
    _check_identified(lr_x, y_lr, [("alpha", "N", plateau.n), ("beta", "D", plateau.d)])
    _check_identified(bs_x, y_bs, [("gamma", "D", plateau.d)])
    lr_coef, bs_coef = _ols(lr_x, y_lr), _ols(bs_x, y_bs)
    rng = np.random.default_rng(seed)
    lr_boot = np.empty((n_bootstrap, 3))
    bs_boot = np.empty((n_bootstrap, 2))
    for i in range(n_bootstrap):
        pick = rng.integers(0, len(plateau), len(plateau))
        lr_boot[i] = _ols(lr_x[pick], y_lr[pick])
        bs_boot[i] = _ols(bs_x[pick], y_bs[pick])

    def spread(residuals: np.ndarray) -> tuple[float, float]:
        lo, hi = np.percentile(residuals, [2.5, 97.5])
        return float(lo), float(hi)

    return LawFit(
        lr_coef=lr_coef,
        bs_coef=bs_coef,
        lr_boot=lr_boot,
        bs_boot=bs_boot,
        tolerance=tol,
        n_runs=len(runs),
        n_plateau=len(plateau),
        n_grids=len(grids),
        lr_spread=spread(y_lr - lr_x @ lr_coef),
        bs_spread=spread(y_bs - bs_x @ bs_coef),
        level=level,
        grids=grids,
    )


@dataclass(frozen=True)
class GridGap:
    """How good a law's point is on one grid: the run nearest it against the grid's best.

    Attributes:
        n / d: the scale. best_loss: the grid's best loss. lr / batch_tokens: the law's point.
        nearest_lr / nearest_batch_tokens / nearest_loss: the measured run nearest to it (in
            log coordinates scaled to the grid's ranges).
        gap: (nearest_loss − best_loss) / |best_loss|.
    """

    n: float
    d: float
    best_loss: float
    lr: float
    batch_tokens: float
    nearest_lr: float
    nearest_batch_tokens: float
    nearest_loss: float
    gap: float


def _nearest(runs: Runs, grid: np.ndarray, lr: float, tokens: float) -> int:
    log_lr, log_bs = np.log(runs.lr[grid]), np.log(runs.batch_tokens[grid])

    def scaled(values: np.ndarray, target: float) -> np.ndarray:
        span = values.max() - values.min()
        return (values - target) / (span if span > 0 else 1.0)

    distance = scaled(log_lr, math.log(lr)) ** 2 + scaled(log_bs, math.log(tokens)) ** 2
    return int(np.flatnonzero(grid)[int(np.argmin(distance))])


def grid_gaps(runs: Runs, law: Callable[[float, float], tuple[float, float]]) -> list[GridGap]:
    """Per grid, the loss gap of the run nearest ``law(N, D) = (η, B tokens)``."""
    out = []
    for n, d in runs.grids():
        grid = runs.in_grid(n, d)
        lr, tokens = law(n, d)
        k = _nearest(runs, grid, lr, tokens)
        best = float(runs.loss[grid].min())
        loss = float(runs.loss[k])
        out.append(
            GridGap(
                n,
                d,
                best,
                lr,
                tokens,
                float(runs.lr[k]),
                float(runs.batch_tokens[k]),
                loss,
                _relative_gap(loss, best),
            )
        )
    return out


def _relative_gap(loss: float, best: float) -> float:
    """(loss − best) / |best|: a fraction of the best loss whatever its sign (0 when a zero
    best loss is matched, inf when it is not)."""
    if best == 0:
        return 0.0 if loss == best else math.inf
    return (loss - best) / abs(best)


def published_law() -> LawFit:
    """Step Law's published law as a :class:`LawFit` (no bootstrap, no plateau spread)."""
    c = STEPLAW
    return LawFit(
        lr_coef=np.array([math.log(c["a"]), c["alpha"], c["beta"]]),
        bs_coef=np.array([math.log(c["b"]), c["gamma"]]),
        lr_boot=np.empty((0, 3)),
        bs_boot=np.empty((0, 2)),
        tolerance=0.0025,
        n_runs=0,
        n_plateau=0,
        n_grids=0,
        lr_spread=(0.0, 0.0),
        bs_spread=(0.0, 0.0),
    )


def published_point(n: float, d: float) -> tuple[float, float]:
    """Step Law's published (η*, B* tokens), for :func:`grid_gaps`."""
    p = steplaw(n, d)
    return p.learning_rate, p.batch_tokens


def leave_one_scale_out(runs: Runs, *, tolerance: float = 0.0025) -> list[GridGap]:
    """Per grid: fit the law without it, predict it, and the gap of the run nearest the
    prediction. Grids whose removal leaves the law unidentified are skipped."""
    out: list[GridGap] = []
    for n, d in runs.grids():
        rest = runs.select(~runs.in_grid(n, d))
        try:
            law = fit(rest, tolerance=tolerance, n_bootstrap=0)
        except ScalingError:
            continue
        out.extend(grid_gaps(runs.select(runs.in_grid(n, d)), law.point))
    return out


def summarize_gaps(gaps: Sequence[GridGap]) -> dict[str, float]:
    """Median, mean and maximum gap (fractions)."""
    values = np.array([g.gap for g in gaps])
    if not len(values):
        return {}
    return {
        "median": float(np.median(values)),
        "mean": float(values.mean()),
        "max": float(values.max()),
    }
