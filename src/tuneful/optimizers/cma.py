"""CMA-ES over the numeric columns of the encoded cube, its state replayed from the history.

The algorithm is the (mu/mu_w, lambda)-CMA-ES of Hansen (2016), "The CMA Evolution Strategy:
A Tutorial" (arXiv:1604.00772), as the ``cmaes`` package implements it (Nomura & Shibata
2024, arXiv:2402.01373): ``cmaes.CMA``, or ``cmaes.CMAwM`` (CMA-ES with margin, Hamano et
al. 2022, arXiv:2205.13482) when some modelled columns are discrete, so that a discrete
column whose distribution shrinks inside one level keeps a margin of probability on its
neighbours instead of getting stuck. IPOP restarts (Auger & Hansen 2005, CEC): when a run
meets one of ``should_stop()``'s criteria, the next run starts at a uniformly random mean
with twice the population.

What CMA-ES models (:mod:`~tuneful.optimizers._cma_columns`). The unconditional numeric
columns of the space (Floats and Ints without ``when=``), each bounded to [0, 1] in the
encoded cube. Categorical columns and conditional
ones (a parameter with ``when=``) are not modelled: for each suggestion each is drawn,
independently and with the trial's generator, from the good trials: the best quarter of the
last 2 lambda completed trials where the column was active (recent ones, so that they are
compared at similar values of the modelled columns). With probability 1 / (g + 1) the draw
is uniform, else it is the value of one of those g trials picked at random: a level for
categorical and integer columns, a value perturbed by Gaussian noise of scale ``sigma0``
for continuous ones. A space where such columns outnumber the modelled ones is handed to
:class:`~tuneful.optimizers.tpe.TPEOptimizer` (same seed) entirely, which models them.

State from the history, never stored (steps 1-5: :mod:`~tuneful.optimizers._cma_replay`;
step 6: here). Runs and generations are laid over trial numbers:

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
   end the run through ``should_stop()``'s flat-fitness criterion. Constraints
   (feasibility-aware ranking, Deb's rules): a completed member that violates its
   constraints is told the worst value among the generation's feasible members plus its
   total violation (its violation alone when none is feasible), so it ranks after every
   feasible member and before the failed ones, infeasible members by violation. The start-up
   mean is the best feasible start-up trial (the least violating when none is). A study
   without constraints is told exactly what it was before. In a delegated space (below),
   TPE sees each infeasible trial with that same ranked value.
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

import itertools
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from tuneful._validation import check_choice, check_int, check_number, refuse
from tuneful.errors import MissingDependencyError, OptimizerError
from tuneful.optimizers._cma_columns import ColumnLayout, draw_others
from tuneful.optimizers._cma_replay import Replay, by_number
from tuneful.optimizers.base import Capabilities, Optimizer, check_supported, config_key
from tuneful.optimizers.random import SobolOptimizer
from tuneful.optimizers.tpe import TPEOptimizer
from tuneful.records import History
from tuneful.space import Space

__all__ = ["CMAESOptimizer", "CMAESState"]

_RESTARTS = ("ipop", None)
_RESAMPLES = 32  # draws from the distribution to replace a repeat ...
_UNIFORM = 1024  # ... then at most this many uniform points


def _import_cmaes() -> ModuleType:
    try:
        import cmaes
    except ImportError:
        raise MissingDependencyError(
            "optimizer 'cmaes' needs the cmaes package: pip install cmaes"
        ) from None
    return cmaes


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
    # one objective: CMA-ES ranks the members of a generation by one value; constraints by
    # ranking infeasible members after every feasible one (step 4)
    capabilities = Capabilities(
        multi_objective=False, constraints=True, conditional=True, define_by_run=True, batch=True
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
        self._layout: ColumnLayout | None = None
        self._replay: Replay | None = None
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
        if layout.delegated:  # TPE ranks by value: infeasible trials shown ranked last
            return self._delegate().suggest(history.feasibility_ranked(), n, rng)
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
                drawn = draw_others(history, layout, self.sigma0, window, rng, count)
                points[np.ix_(from_cma, layout.others)] = drawn
            if layout.discrete and from_cma.any():  # under the lock: replay is this history's
                self._replace_repeats(history, layout, replay, points, from_cma, rng)
        return points

    def _replace_repeats(
        self,
        history: History,
        layout: ColumnLayout,
        replay: Replay,
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
        layout: ColumnLayout,
        replay: Replay,
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
            draws[:, layout.others] = draw_others(
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

    def _layout_of(self, space: Space) -> ColumnLayout:
        with self._lock:
            layout = self._layout
            if layout is None or not (layout.space is space or layout.space == space):
                layout = self._layout = ColumnLayout(space, self.with_margin)
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

    def _replayed(
        self, cmaes: ModuleType, history: History, layout: ColumnLayout, seed: int
    ) -> Replay:
        """The replay of ``history``: the cached one continued when it still applies."""
        table = by_number(history.trials)
        sign = 1.0 if history.directions[0] == "minimize" else -1.0
        replay = self._replay
        if (
            replay is None
            or replay.layout is not layout
            or replay.seed != seed
            or replay.sign != sign
            or not replay.consumed_prefix_of(table)
        ):
            replay = Replay(
                cmaes,
                layout,
                seed,
                sign,
                sigma0=self.sigma0,
                popsize=self.popsize,
                restart=self.restart,
                n_startup=self.n_startup,
            )
        replay.advance(table)
        self._replay = replay
        return replay
