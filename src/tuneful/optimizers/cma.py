"""CMA-ES over the numeric columns of the encoded cube, its state replayed from the history.

The algorithm is the (mu/mu_w, lambda)-CMA-ES of Hansen (2016), "The CMA Evolution Strategy:
A Tutorial" (arXiv:1604.00772), as the ``cmaes`` package implements it (Nomura & Shibata
2024, arXiv:2402.01373): ``cmaes.CMA``, or ``cmaes.CMAwM`` (CMA-ES with margin, Hamano et
al. 2022, arXiv:2205.13482) when some modelled columns are discrete, so that a discrete
column whose distribution shrinks inside one level keeps a margin of probability on its
neighbours instead of getting stuck. IPOP restarts (Auger & Hansen 2005, CEC): when a run
meets one of ``should_stop()``'s criteria, the next run starts at a uniformly random mean
with twice the population.

What CMA-ES models. The unconditional numeric columns of the space (Floats and Ints without
``when=``), each bounded to [0, 1] in the encoded cube. Categorical columns and conditional
ones (a parameter with ``when=``) are not modelled: for each suggestion each is drawn,
independently and with the trial's generator, from the good trials: the best quarter of the
last 2 lambda completed trials where the column was active (recent ones, so that they are
compared at similar values of the modelled columns). With probability 1 / (g + 1) the draw
is uniform, else it is the value of one of those g trials picked at random: a level for
categorical and integer columns, a value perturbed by Gaussian noise of scale ``sigma0``
for continuous ones. A space where such columns outnumber the modelled ones is handed to
:class:`~tuneful.optimizers.tpe.TPEOptimizer` (same seed) entirely, which models them.

State from the history, never stored. Runs and generations are laid over trial numbers:

1. Start-up: trials ``0 .. n_startup - 1`` are scrambled Sobol points (by trial number, as
   :class:`~tuneful.optimizers.random.SobolOptimizer`). The first run's mean is the best of
   them once they are all finished (the centre of the cube when ``n_startup`` is 0 or none
   completed).
2. Generation g of run r (population lambda_r = lambda_0 * 2^r) is the next lambda_r trial
   numbers after the previous generation; member k is the trial numbered ``start + k``. Its
   point is the generation's k-th draw: the run's CMA object, with its generator reseeded to
   ``SeedSequence([seed mod 2**64, 0, r, g]).generate_state(1)[0]``, asked k + 1 times.
3. A generation is told once every member is finished, the members in order, so that a
   sequential study with no failures performs exactly the ask/tell loop of a plain
   ``cmaes.CMA`` reseeded per generation. A member whose parameters decode as its draw is
   told the draw (CMAwM: the raw, undiscretized draw); one whose parameters differ (an
   enqueued or partly fixed configuration, or a trial drawn ahead, see 5) is told its own
   encoded point: an injected solution.
4. Failures: FAIL and PRUNED members are told the worst value among their generation's
   completed members (0 when none completed) and placed after the completed members, so they
   rank last; a generation that failed entirely still counts, and repeated flat generations
   end the run through ``should_stop()``'s flat-fitness criterion.
5. Pending trials: while a generation has unfinished members, a trial numbered past it
   (drawn "ahead" by a parallel worker) takes the generation's next draws (k >= lambda), so
   workers get distinct points; when its own generation is told it counts as injected.
   Ahead of an unfinished start-up, trials continue the Sobol sequence. A trial left
   RUNNING by a dead worker holds its generation back until the study's stale-trial
   recovery (heartbeats, on by default) fails it.
6. Repeats: where every modelled column is discrete (Ints, step Floats), a draw can decode to
   a configuration already completed, pending, or proposed earlier in the same call; it is
   then replaced by the first new configuration among up to 32 further draws from the
   current distribution (a copy of the run's CMA object, seeded from the trial's generator,
   with the other columns drawn as above), else among up to 1024 uniform points in the
   cube, else kept (the space is about exhausted). A replacement counts as injected (see
   3). With a continuous modelled column a repeat has probability zero: nothing is checked.

A trial's generation and member follow from its number alone, and its point from the
replayed state and the seeds, so ``suggest`` is a function of the history and the generator:
a resumed study continues exactly. Replaying every generation on every call would cost
O(n^2) over a study; the optimizer keeps the replayed CMA object together with the finished
records it consumed, and continues from it when the next history starts with the same
records (checked on each call). Told generations depend on nothing else and ask/tell are
deterministic given the seeds, so the result is the same as a fresh replay.
"""

from __future__ import annotations

import copy
import itertools
import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from tuneful._validation import check_choice, check_int, check_number, refuse
from tuneful.errors import MissingDependencyError, OptimizerError
from tuneful.optimizers.base import Capabilities, Optimizer, check_supported, config_key
from tuneful.optimizers.random import SobolOptimizer
from tuneful.optimizers.tpe import TPEOptimizer
from tuneful.records import History, TrialRecord, TrialState, is_finite_number
from tuneful.space import Int, Space

__all__ = ["CMAESOptimizer", "CMAESState"]

_RESTARTS = ("ipop", None)
_GOOD_FRACTION = 0.25  # columns CMA-ES does not model are drawn from the best quarter
_RESAMPLES = 32  # draws from the distribution to replace a repeat ...
_UNIFORM = 1024  # ... then at most this many uniform points
_MASK_64 = (1 << 64) - 1


def _import_cmaes() -> ModuleType:
    try:
        import cmaes
    except ImportError:
        raise MissingDependencyError(
            "optimizer 'cmaes' needs the cmaes package: pip install cmaes"
        ) from None
    return cmaes


def _generation_seed(seed: int, run: int, generation: int) -> int:
    """The seed of the CMA generator for generation ``generation`` of run ``run``."""
    entropy = [seed & _MASK_64, 0, run, generation]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


@dataclass(frozen=True, eq=False)
class CMAESState:
    """Where a replayed search stands (for inspection; nothing here is stored).

    Attributes:
        restarts: runs begun after the first (IPOP restarts).
        population_size: lambda of the current run.
        generation: generations told in the current run.
        start: trial number of the current generation's first member.
        mean: the distribution's mean over ``columns``, encoded, shape (len(columns),).
        columns: names of the parameters CMA-ES models, in column order.
        with_margin: whether the run is a CMA-ES with margin (``cmaes.CMAwM``).
    """

    restarts: int
    population_size: int
    generation: int
    start: int
    mean: np.ndarray
    columns: tuple[str, ...]
    with_margin: bool


class CMAESOptimizer(Optimizer):
    """CMA-ES with IPOP restarts on the unconditional numeric columns (needs ``cmaes``).

    Args:
        seed: seeds the generations' draws and the start-up Sobol points (the study's seed
            when built by name; the history's seed when None).
        sigma0: initial step size in the unit cube (each column spans 1).
        popsize: population of the first run (None: cmaes's 4 + floor(3 ln d) for d
            modelled columns); IPOP doubles it at each restart. At least 4.
        restart: ``"ipop"`` or None (one run, whatever ``should_stop()`` says).
        with_margin: use CMA-ES with margin: ``"auto"`` when some modelled column is
            discrete (an Int without log scale, a Float with step), or True / False.
        n_startup: Sobol trials before the first run, which starts at the best of them.

    Raises:
        OptimizerError: a setting is out of range.

    Example:
        >>> import tuneful
        >>> from tuneful.optimizers.cma import CMAESOptimizer
        >>> space = tuneful.Space(x=tuneful.Float(-5, 5), y=tuneful.Float(-5, 5))
        >>> study = tuneful.create_study(
        ...     space=space, storage="memory://", optimizer=CMAESOptimizer(seed=0), seed=0)
        >>> study.optimize(
        ...     lambda t: (t.params["x"] - 1) ** 2 + (t.params["y"] + 2) ** 2,
        ...     n_trials=120, show_progress_bar=False)
        >>> study.best_value < 1e-2
        True
    """

    name = "cmaes"
    # one objective: CMA-ES ranks the members of a generation by one value
    capabilities = Capabilities(
        multi_objective=False, constraints=False, conditional=True, define_by_run=True, batch=True
    )

    def __init__(
        self,
        *,
        seed: int | None = None,
        sigma0: float = 0.2,
        popsize: int | None = None,
        restart: str | None = "ipop",
        with_margin: bool | str = "auto",
        n_startup: int = 0,
    ) -> None:
        self.seed = check_int("cmaes", "seed", seed, allow_none=True, error=OptimizerError)
        self.sigma0 = check_number(
            "cmaes", "sigma0", sigma0, low=0, high=1, high_inclusive=True, error=OptimizerError
        )
        self.popsize = check_int(
            "cmaes", "popsize", popsize, minimum=4, allow_none=True, error=OptimizerError
        )
        self.restart = check_choice("cmaes", "restart", restart, _RESTARTS, error=OptimizerError)
        if isinstance(with_margin, np.bool_):
            with_margin = bool(with_margin)
        if not (with_margin is True or with_margin is False or with_margin == "auto"):
            refuse(
                "cmaes", "with_margin", with_margin, "'auto', True or False", error=OptimizerError
            )
        self.with_margin: bool | str = with_margin
        self.n_startup = int(
            check_int("cmaes", "n_startup", n_startup, minimum=0, error=OptimizerError)
        )
        self._lock = threading.Lock()  # threads of one study share the replay cache
        self._layout: _Layout | None = None
        self._replay: _Replay | None = None
        self._sobol: dict[int, SobolOptimizer] = {}
        self._tpe: TPEOptimizer | None = None

    def settings(self) -> dict[str, Any]:
        return {
            "sigma0": self.sigma0,
            "popsize": self.popsize,
            "restart": self.restart,
            "with_margin": self.with_margin,
            "n_startup": self.n_startup,
        }

    # -- suggest -------------------------------------------------------------------------
    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        space = history.space
        if space.dim == 0:
            return np.empty((n, 0))
        cmaes = _import_cmaes()
        check_supported(self, directions=history.directions, space=history.space)
        layout = self._layout_of(space)
        if layout.delegated:
            return self._delegate().suggest(history, n, rng)
        seed = self._seed(history)
        first = history.number if history.number is not None else history.n_trials
        points = np.full((n, space.dim), 0.5)
        from_cma = np.zeros(n, dtype=bool)
        with self._lock:
            replay = self._replayed(cmaes, history, layout, seed)
            for i in range(n):
                number = first + i
                if replay.started and number >= replay.start:
                    points[i, layout.columns] = replay.point(number - replay.start)
                    from_cma[i] = True
                else:  # start-up, or ahead of an unfinished start-up
                    points[i] = self._sobol_point(history, seed, number)
            if layout.others.size and from_cma.any():
                window, count = 2 * replay.popsize, int(from_cma.sum())
                drawn = _draw_others(history, layout, self.sigma0, window, rng, count)
                points[np.ix_(from_cma, layout.others)] = drawn
            if layout.discrete and from_cma.any():  # under the lock: replay is this history's
                self._replace_repeats(history, layout, replay, points, from_cma, rng)
        return points

    def _replace_repeats(
        self,
        history: History,
        layout: _Layout,
        replay: _Replay,
        points: np.ndarray,
        from_cma: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Replace, in place, each CMA-ES point whose configuration is completed, pending or
        an earlier point's by one with a new configuration (see :meth:`_new_point`; kept
        when there is none). ``rng`` is used only where there is a repeat."""
        space = history.space
        taken = {
            config_key(record.params)
            for record in (*history.completed, *history.pending)
            if record.number != history.number
        }
        for i, config in enumerate(space.decode(points)):
            key = config_key(config)
            if from_cma[i] and key in taken:
                found = self._new_point(history, layout, replay, taken, rng)
                if found is not None:
                    points[i], key = found
            taken.add(key)

    def _new_point(
        self,
        history: History,
        layout: _Layout,
        replay: _Replay,
        taken: set[tuple[Any, ...]],
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, tuple[Any, ...]] | None:
        """A point whose configuration is not in ``taken``, and that configuration's key: the
        first among ``_RESAMPLES`` further draws from the distribution (the other columns
        drawn as for any suggestion), else among up to ``_UNIFORM`` uniform points, drawn
        ``_RESAMPLES`` at a time; None when every one of them is taken."""
        space = history.space
        draws = np.full((_RESAMPLES, space.dim), 0.5)
        draws[:, layout.columns] = replay.resample(int(rng.integers(0, 2**32)), _RESAMPLES)
        if layout.others.size:
            window = 2 * replay.popsize
            draws[:, layout.others] = _draw_others(
                history, layout, self.sigma0, window, rng, _RESAMPLES
            )
        uniform = (rng.random((_RESAMPLES, space.dim)) for _ in range(_UNIFORM // _RESAMPLES))
        for batch in itertools.chain([draws], uniform):  # uniform ones drawn as needed
            for point, config in zip(batch, space.decode(batch), strict=True):
                key = config_key(config)
                if key not in taken:
                    return point, key
        return None

    def state(self, history: History) -> CMAESState | None:
        """The replayed state for ``history``; None while CMA-ES has not begun (start-up
        unfinished) or when the space is handed to TPE.

        Raises:
            MissingDependencyError: cmaes is not installed.
        """
        cmaes = _import_cmaes()
        check_supported(self, directions=history.directions, space=history.space)
        if history.space.dim == 0:
            return None
        layout = self._layout_of(history.space)
        if layout.delegated:
            return None
        with self._lock:
            replay = self._replayed(cmaes, history, layout, self._seed(history))
            if not replay.started:
                return None
            return CMAESState(
                restarts=replay.run,
                population_size=replay.popsize,
                generation=replay.generation,
                start=replay.start,
                mean=np.array(replay.mean, dtype=float),
                columns=tuple(history.space.encoded_names[j] for j in layout.columns),
                with_margin=layout.margin,
            )

    def _seed(self, history: History) -> int:
        if self.seed is not None:
            return self.seed
        return int(history.seed) if history.seed is not None else 0

    def _layout_of(self, space: Space) -> _Layout:
        with self._lock:
            layout = self._layout
            if layout is None or not (layout.space is space or layout.space == space):
                layout = self._layout = _Layout(space, self.with_margin)
            return layout

    def _delegate(self) -> TPEOptimizer:
        if self._tpe is None:
            self._tpe = TPEOptimizer(seed=self.seed)
        return self._tpe

    def _sobol_point(self, history: History, seed: int, number: int) -> np.ndarray:
        sobol = self._sobol.get(seed)
        if sobol is None:
            sobol = self._sobol[seed] = SobolOptimizer(seed=seed)
        at = History(history.space, history.directions, [], number=number, seed=seed)
        return sobol.suggest(at, 1, np.random.default_rng(0))[0]

    def _replayed(self, cmaes: ModuleType, history: History, layout: _Layout, seed: int) -> _Replay:
        """The replay of ``history``: the cached one continued when it still applies."""
        table = _by_number(history.trials)
        sign = 1.0 if history.directions[0] == "minimize" else -1.0
        replay = self._replay
        if (
            replay is None
            or replay.layout is not layout
            or replay.seed != seed
            or replay.sign != sign
            or not replay.consumed_prefix_of(table)
        ):
            replay = _Replay(cmaes, layout, seed, sign, self)
        replay.advance(table)
        self._replay = replay
        return replay


# -- which columns CMA-ES models -----------------------------------------------------------


class _Layout:
    """The split of a space's encoded columns between CMA-ES and the per-column draws.

    Attributes:
        columns: indices of the unconditional numeric columns (CMA-ES's dimensions).
        others: indices of categorical and conditional columns, drawn per column.
        steps: per modelled column, the level width 1/k of a discrete column, else 0.
        bounds: per modelled column, (low, high) for CMA-ES, shape (len(columns), 2): the
            centres of the first and last level for discrete columns under a margin, else
            (0, 1).
        margin: whether runs use CMA-ES with margin.
        discrete: whether every modelled column is discrete (draws may repeat a
            configuration; with a continuous one they practically never do).
        delegated: whether the space goes to TPE (more other columns than modelled ones).
    """

    def __init__(self, space: Space, with_margin: bool | str) -> None:
        self.space = space
        modelled: list[int] = []
        steps: list[float] = []
        for j, name in enumerate(space.encoded_names):
            param = space[name]
            if param.when or space.is_categorical[j]:
                continue
            levels = int(space.n_levels[j])
            modelled.append(j)  # log-scaled Ints have levels of unequal widths: continuous
            steps.append(1.0 / levels if levels >= 2 and not _is_log_int(space, j) else 0.0)
        self.columns = np.array(modelled, dtype=np.intp)
        self.others = np.setdiff1d(np.arange(space.dim), self.columns).astype(np.intp)
        self.continuous_others = np.array(  # columns drawn with noise rather than as levels
            [space.n_levels[j] == 0 or _is_log_int(space, j) for j in self.others], dtype=bool
        )
        self.steps = np.array(steps, dtype=float)
        discrete = bool((self.steps > 0).any())
        self.margin = discrete if with_margin == "auto" else bool(with_margin)
        half = self.steps / 2 if self.margin else np.zeros(len(steps))
        self.bounds = np.column_stack([half, 1.0 - half])
        self.discrete = bool(np.all(space.n_levels[self.columns] > 0))
        self.delegated = len(modelled) == 0 or len(modelled) < self.others.size

    def encode(self, params: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Modelled columns of configurations, shape (len(params), len(columns)), NaN where
        a value is missing or invalid."""
        return self.space.encode_lenient(params)[:, self.columns]

    def canonical(self, draws: np.ndarray) -> np.ndarray:
        """What draws (m, len(columns)) encode to once decoded: comparable with ``encode``."""
        full = np.full((len(draws), self.space.dim), 0.5)
        full[:, self.columns] = draws
        return self.encode(self.space.decode(full))


def _is_log_int(space: Space, column: int) -> bool:
    param = space[space.encoded_names[column]]
    return isinstance(param, Int) and param.log


# -- the replay ----------------------------------------------------------------------------


class _Replay:
    """CMA-ES runs replayed over a history's trial numbers (see the module docstring)."""

    def __init__(
        self,
        cmaes: ModuleType,
        layout: _Layout,
        seed: int,
        sign: float,
        settings: CMAESOptimizer,
    ) -> None:
        self.cmaes = cmaes
        self.layout = layout
        self.seed = seed
        self.sign = sign
        self.sigma0 = settings.sigma0
        self.base_popsize = settings.popsize
        self.restart = settings.restart
        self.n_startup = settings.n_startup
        self.consumed: list[TrialRecord] = []  # every record before ``start``, by number
        self.start = self.n_startup
        self.started = False
        self.run = 0
        self.generation = 0
        self.popsize = 0
        self._first_popsize = 0
        self._cma: Any = None
        self._told: list[np.ndarray] = []  # this generation's draws, as told
        self._evaluated: list[np.ndarray] = []  # ... as proposed (discretized under a margin)
        self._canonical: list[np.ndarray] = []  # ... as their decoded configurations encode

    @property
    def mean(self) -> np.ndarray:
        return np.asarray(self._cma.mean)

    def consumed_prefix_of(self, table: list[TrialRecord | None]) -> bool:
        """Whether ``table`` begins with the records this replay has consumed."""
        if len(table) < len(self.consumed):
            return False
        for old, new in zip(self.consumed, table, strict=False):
            if new is old:
                continue
            if (
                new is None
                or new.state is not old.state
                or new.values != old.values
                or new.params != old.params
            ):
                return False
        return True

    def advance(self, table: list[TrialRecord | None]) -> None:
        """Tell every generation whose members are all finished in ``table``."""
        if not self.started:
            head = _all_finished(table[: self.n_startup], self.n_startup)
            if head is None:
                return
            self._begin_run(0, self._startup_mean(head))
            self.consumed.extend(head)
        while True:
            members = _all_finished(table[self.start : self.start + self.popsize], self.popsize)
            if members is None:
                return
            self._tell(members)
            self.consumed.extend(members)

    def point(self, k: int) -> np.ndarray:
        """The current generation's k-th draw, as proposed (modelled columns)."""
        self._draw(k + 1)
        return self._evaluated[k]

    def resample(self, seed: int, count: int) -> np.ndarray:
        """``count`` further draws from the current distribution, as proposed (modelled
        columns), shape (count, len(columns)): a copy of the run's CMA object reseeded with
        ``seed`` draws them, so the generation's own draws are left as they are."""
        cma = copy.deepcopy(self._cma)
        cma.reseed_rng(seed)
        draws = [cma.ask()[0] if self.layout.margin else cma.ask() for _ in range(count)]
        return np.array(draws, dtype=float).reshape(count, len(self.layout.columns))

    def _begin_run(self, run: int, mean: np.ndarray) -> None:
        cmaes, layout = self.cmaes, self.layout
        popsize = None  # run 0 without a popsize setting: cmaes's default
        if run > 0 or self.base_popsize is not None:
            popsize = (self.base_popsize or self._first_popsize) * 2**run  # IPOP doubling
        seed = _generation_seed(self.seed, run, 0)
        if layout.margin:
            self._cma = cmaes.CMAwM(
                mean=mean,
                sigma=self.sigma0,
                bounds=layout.bounds.copy(),
                steps=layout.steps.copy(),
                seed=seed,
                population_size=popsize,
            )
        else:
            self._cma = cmaes.CMA(
                mean=mean,
                sigma=self.sigma0,
                bounds=layout.bounds.copy(),
                seed=seed,
                population_size=popsize,
            )
        self.started = True
        self.run = run
        self.popsize = int(self._cma.population_size)
        if run == 0:
            self._first_popsize = self.popsize
        self.generation = 0
        self._new_generation()

    def _new_generation(self) -> None:
        self._told, self._evaluated, self._canonical = [], [], []
        self._cma.reseed_rng(_generation_seed(self.seed, self.run, self.generation))

    def _draw(self, count: int) -> None:
        """Extend this generation's draws to ``count``, continuing its generator."""
        fresh = []
        while len(self._told) < count:
            if self.layout.margin:
                evaluated, told = self._cma.ask()  # x ~ N(m, sigma^2 C), then discretized
            else:
                evaluated = told = self._cma.ask()  # x ~ N(m, sigma^2 C), resampled in bounds
            self._told.append(np.asarray(told, dtype=float))
            self._evaluated.append(np.asarray(evaluated, dtype=float))
            fresh.append(self._evaluated[-1])
        if fresh:
            self._canonical.extend(self.layout.canonical(np.array(fresh)))

    def _tell(self, members: list[TrialRecord]) -> None:
        self._draw(self.popsize)
        encoded = self.layout.encode([record.params for record in members])
        low, high = self.layout.bounds[:, 0], self.layout.bounds[:, 1]
        completed: list[tuple[np.ndarray, float]] = []
        failed: list[np.ndarray] = []
        for k, record in enumerate(members):
            told = self._told[k]
            if np.array_equal(encoded[k], self._canonical[k]):
                x = told  # the member ran its own draw
            else:  # injected: its own point, a missing column taken from its draw
                x = np.where(np.isnan(encoded[k]), told, np.clip(encoded[k], low, high))
            value = self._value(record)
            if value is None:
                failed.append(x)
            else:
                completed.append((x, value))
        worst = max((value for _, value in completed), default=0.0)
        self._cma.tell(completed + [(x, worst) for x in failed])
        self.start += self.popsize
        if self.restart == "ipop" and self._cma.should_stop():
            rng = np.random.default_rng([self.seed & _MASK_64, 1, self.run + 1])
            self._begin_run(self.run + 1, low + (high - low) * rng.random(len(low)))
        else:
            self.generation += 1
            self._new_generation()

    def _value(self, record: TrialRecord) -> float | None:
        """The member's value for minimization; None for a failed or pruned member."""
        if record.state is not TrialState.COMPLETE or not record.values:
            return None
        value = record.values[0]
        return self.sign * float(value) if is_finite_number(value) else None

    def _startup_mean(self, head: list[TrialRecord]) -> np.ndarray:
        low, high = self.layout.bounds[:, 0], self.layout.bounds[:, 1]
        centre = (low + high) / 2
        scored = [
            (value, record.number, record)
            for record in head
            if (value := self._value(record)) is not None
        ]
        if not scored:
            return centre
        best = min(scored, key=lambda entry: (entry[0], entry[1]))[2]
        encoded = self.layout.encode([best.params])[0]
        return np.where(np.isnan(encoded), centre, np.clip(encoded, low, high))


# -- the columns CMA-ES does not model -----------------------------------------------------


def _draw_others(
    history: History,
    layout: _Layout,
    sigma0: float,
    window: int,
    rng: np.random.Generator,
    count: int,
) -> np.ndarray:
    """Draws of the categorical and conditional columns, shape (count, len(layout.others)).

    Per column, from the best quarter of the last ``window`` completed trials where it is
    active: with probability 1 / (g + 1) uniform, else one of those g trials' value
    (continuous columns: plus Gaussian noise of scale ``sigma0``).
    """
    X = np.asarray(history.X)[:, layout.others]
    y = np.asarray(history.y)[:, 0]
    out = np.empty((count, layout.others.size))
    for j in range(layout.others.size):
        active = np.flatnonzero(~np.isnan(X[:, j]))[-window:]  # completed in number order
        best = active[np.argsort(y[active], kind="stable")]
        good = X[best[: math.ceil(_GOOD_FRACTION * len(best))], j]
        pick = rng.integers(0, len(good) + 1, size=count)  # len(good): the uniform prior
        uniform = rng.random(count)
        if len(good) == 0:
            out[:, j] = uniform
            continue
        values = good[np.minimum(pick, len(good) - 1)]
        if layout.continuous_others[j]:
            values = np.clip(values + sigma0 * rng.standard_normal(count), 0.0, 1.0)
        out[:, j] = np.where(pick == len(good), uniform, values)
    return out


# -- helpers -------------------------------------------------------------------------------


def _by_number(trials: list[TrialRecord]) -> list[TrialRecord | None]:
    """Records indexed by trial number (None for a number the history lacks)."""
    if all(record.number == i for i, record in enumerate(trials)):
        return list(trials)
    size = 1 + max((record.number for record in trials), default=-1)
    table: list[TrialRecord | None] = [None] * size
    for record in trials:
        table[record.number] = record
    return table


def _all_finished(records: list[TrialRecord | None], count: int) -> list[TrialRecord] | None:
    """``records`` when there are ``count`` of them and all are finished, else None."""
    finished = [r for r in records if r is not None and r.state.is_finished]
    return finished if len(finished) == count else None
