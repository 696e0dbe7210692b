"""The default optimizer: picks, for each trial, the optimizer that suits the space and progress.

The rule (measurements behind it: docs/benchmarks.md, "The automatic default"). For the trial
numbered k in a space of d encoded columns:

1. ``k < max(10, min(d + 1, 20))``: scrambled Sobol points (the start-up every model-based
   optimizer here uses).
2. ``k < gp_trials`` (200 by default): Gaussian-process BO with log-EI
   (:class:`~tuneful.optimizers.gp.GPOptimizer`). At budgets of tens to a couple of hundred
   evaluations it was the strongest optimizer on every kind of task measured (continuous
   BBOB functions, YAHPO lcbench, the conditional rbv2_xgboost space), and its cost per trial
   (tens of milliseconds there) is small beside any objective worth tuning.
3. From then on, the GP's cubic cost and its subsampled data make it the wrong tool:

   - CMA-ES (:class:`~tuneful.optimizers.cma.CMAESOptimizer`) when the space is numeric and
     unconditional with at least two columns, one of them a continuous float (and ``cmaes``
     is installed), started at the incumbent with a step size of ``late_sigma0``: a local,
     scale-free refinement whose cost does not grow with the number of trials;
   - TPE (:class:`~tuneful.optimizers.tpe.TPEOptimizer`) otherwise: categorical or
     conditional parameters, one dimension, only discrete values (where CMA-ES's draws
     keep landing on tried configurations and must be replaced), or no ``cmaes``.

Studies with two objectives take the GP (a GP per objective, expected hypervolume
improvement) to trial ``gp_trials`` and TPE after it; with three or more, TPE from the
start-up (MOTPE's hypervolume-cut good set; with constraints, c-TPE). CMA-ES is skipped. On the
multi-objective tasks of docs/benchmarks.md §15 and §18 the GP led TPE by far on ZDT1/ZDT3 at 30-100
trials and lost to it on DTLZ2 with three objectives.
Single-objective studies with constraints (some completed trial told constraint values) take
the GP with a model per constraint (expected improvement times the probability of
feasibility) to trial ``gp_trials``, then TPE, which models each constraint (c-TPE); CMA-ES
only ranks infeasible members last, so it is skipped (docs/benchmarks.md §13).

Multi-fidelity studies (a scheduler stops trials early, so the history the study passes is
every trial's value at one budget, ``history.fidelity``; see
:func:`tuneful.schedulers.model_view`) take the same start-up (``mf_startup`` times it: 1 by
default), then the GP to trial ``gp_trials`` and TPE after it (``multi_fidelity="gp"``, the
default), or TPE throughout as in BOHB (``"tpe"``). The GP modelling the highest
well-observed budget was clearly ahead of TPE there on YAHPO lcbench; multi-fidelity studies
run many more, cheaper trials, and the modelled budget moves up as trials pass rungs. Three
start-ups' worth (the default before the scheduler began judging every later trial with its
learning-curve model) raised the mean normalized regret at 100 full evaluations' worth on
the YAHPO multi-fidelity suite from 0.039 to 0.058.

The phase depends on the trial number and the space alone, so the choice for each trial is a
function of the history, a resumed study continues exactly, and parallel workers agree. Each
trial records its choice: ``trial.system_attrs["optimizer"]`` is ``"sobol"``, ``"gp"``,
``"cmaes"`` or ``"tpe"``. A batch (``n > 1``) takes the phase of its first trial.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from tuneful._validation import check_choice, check_int, check_number
from tuneful.errors import OptimizerError
from tuneful.optimizers.base import Capabilities, Optimizer
from tuneful.optimizers.cma import CMAESOptimizer
from tuneful.optimizers.gp import GPOptimizer
from tuneful.optimizers.random import SobolOptimizer
from tuneful.optimizers.tpe import TPEOptimizer
from tuneful.records import History
from tuneful.space import Space

__all__ = ["AutoOptimizer"]

_LATE = ("cmaes", "tpe")
_MULTI_FIDELITY = ("tpe", "gp")


class AutoOptimizer(Optimizer):
    """Sobol start-up, then GP-BO, then CMA-ES (numeric spaces) or TPE (the rest).

    Args:
        seed: seed of the start-up and of the optimizers it hands over to (the study's seed
            when built by name; the history's seed when None).
        gp_trials: trial number from which the GP hands over to CMA-ES or TPE.
        late_sigma0: CMA-ES's initial step size (unit cube) when it takes over from the GP.
        late: who takes over from the GP: ``"cmaes"`` (CMA-ES where the space allows it, else
            TPE, as above) or ``"tpe"`` (TPE whatever the space).
        multi_fidelity: the model after the start-up in multi-fidelity studies: ``"gp"`` (to
            trial ``gp_trials``, then TPE) or ``"tpe"``.
        mf_startup: multi-fidelity studies take this many times the usual start-up trials.

    Raises:
        OptimizerError: a setting is out of range.

    Example:
        >>> import tuneful
        >>> space = tuneful.Space(x=tuneful.Float(-5, 5), y=tuneful.Float(-5, 5))
        >>> study = tuneful.create_study(space=space, storage="memory://", seed=0)
        >>> study.optimize(
        ...     lambda t: t.params["x"] ** 2 + t.params["y"] ** 2,
        ...     n_trials=15, show_progress_bar=False)
        >>> [t.system_attrs["optimizer"] for t in study.trials][8:12]
        ['sobol', 'sobol', 'gp', 'gp']
    """

    name = "auto"
    # two objectives or constraints: GP, then TPE; three or more objectives: TPE
    capabilities = Capabilities(
        multi_objective=True, constraints=True, conditional=True, define_by_run=True, batch=True
    )

    def __init__(
        self,
        *,
        seed: int | None = None,
        gp_trials: int = 200,
        late_sigma0: float = 0.1,
        late: str = "cmaes",
        multi_fidelity: str = "gp",
        mf_startup: int = 1,
    ) -> None:
        self.gp_trials = int(
            check_int("auto", "gp_trials", gp_trials, minimum=0, error=OptimizerError)
        )
        self.late_sigma0 = check_number(
            "auto",
            "late_sigma0",
            late_sigma0,
            low=0,
            high=1,
            high_inclusive=True,
            error=OptimizerError,
        )
        self.late = check_choice("auto", "late", late, _LATE, error=OptimizerError)
        self.multi_fidelity = check_choice(
            "auto", "multi_fidelity", multi_fidelity, _MULTI_FIDELITY, error=OptimizerError
        )
        self.mf_startup = int(
            check_int("auto", "mf_startup", mf_startup, minimum=1, error=OptimizerError)
        )
        self.seed = seed
        self._sobol = SobolOptimizer(seed=seed)
        self._gp = GPOptimizer(seed=seed)
        self._tpe = TPEOptimizer(seed=seed)
        self._cma = CMAESOptimizer(seed=seed, sigma0=self.late_sigma0, n_startup=self.gp_trials)
        self._numeric: tuple[Space, bool] | None = None

    def settings(self) -> dict[str, Any]:
        return {
            "gp_trials": self.gp_trials,
            "late_sigma0": self.late_sigma0,
            "late": self.late,
            "multi_fidelity": self.multi_fidelity,
            "mf_startup": self.mf_startup,
        }

    def choose(self, history: History) -> str:
        """The optimizer used for the trial ``history.number``: "sobol", "gp", "cmaes" or
        "tpe" (see the module docstring)."""
        space = history.space
        number = history.number if history.number is not None else history.n_trials
        startup = self._gp.startup_trials(space.dim)
        if history.fidelity is not None:
            startup *= self.mf_startup
        if space.dim == 0 or number < startup:
            return "sobol"
        if len(history.directions) > 2:
            return "tpe"
        if len(history.directions) == 2:
            return "gp" if number < self.gp_trials else "tpe"
        if history.has_constraints:
            return "gp" if number < self.gp_trials else "tpe"
        if history.fidelity is not None:
            if self.multi_fidelity == "gp" and number < self.gp_trials:
                return "gp"
            return "tpe"
        if number < self.gp_trials:
            return "gp"
        if self.late != "tpe" and self._numeric_space(space) and _have_cmaes():
            return "cmaes"
        return "tpe"

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        choice = self.choose(history)
        delegate: Optimizer = {
            "sobol": self._sobol,
            "gp": self._gp,
            "cmaes": self._cma,
            "tpe": self._tpe,
        }[choice]
        if choice == "gp" and history.y.shape[0] < 2:
            delegate = self._sobol  # every earlier trial failed: nothing to model yet
        return delegate.suggest(history, n, rng)

    def trial_attrs(self, history: History) -> dict[str, Any]:
        return {"optimizer": self.choose(history)}

    def _numeric_space(self, space: Space) -> bool:
        """Two or more columns, all numeric and unconditional (what CMA-ES models whole), one
        of them continuous: in an all-discrete space CMA-ES's draws land on configurations
        already tried (it then replaces them by other draws), where TPE models the levels."""
        cached = self._numeric
        if cached is not None and (cached[0] is space or cached[0] == space):
            return cached[1]
        numeric = bool(
            space.dim >= 2
            and not np.any(space.is_categorical)
            and not np.any(space.conditional_mask)
            and np.any(space.n_levels == 0)
        )
        self._numeric = (space, numeric)
        return numeric


def _have_cmaes() -> bool:
    return importlib.util.find_spec("cmaes") is not None
