"""Multi-fidelity peers: Optuna's TPE with the Hyperband pruner, SMAC3's multi-fidelity facade
and DEHB, each with its defaults and the task's integer budgets (see
:mod:`tuneful.bench.fidelity`).

How each one spends the budget:

- ``optuna-tpe-hyperband``: one Optuna trial per configuration, trained budget after budget;
  it reports at every budget when the fidelity is resumable (lcbench: every epoch, which is
  free: the cost is that of the last epoch reached) and otherwise at the Hyperband rungs
  ``min_budget * 3**k`` and the full budget (rbv2: 3, 9, 27, 81, 100 percent of the data,
  each paid for, as for tuneful's schedulers). A pruned trial's cost counts.
- ``smac-mf``: every ``ask`` is a configuration at a budget, evaluated from scratch (SMAC's
  model) and priced at that budget.
- ``dehb``: likewise; DEHB pins numpy < 2, so it usually lives in its own environment and
  runs as a subprocess (see :class:`Dehb`).

The proposed fidelities of SMAC and DEHB are real numbers; they are rounded to the nearest
integer budget (:meth:`FidelityPlan.nearest_budget`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneful.bench.adapters._optuna import suggest
from tuneful.bench.adapters._peer import (
    PeerAdapter,
    check_run,
    is_failed,
    proposals,
    quiet_loggers,
    quiet_warnings,
)
from tuneful.bench.adapters._smac import ConfigSpaceConversion, SmacFailures, to_configspace
from tuneful.bench.adapters.base import MultiFidelityAdapter
from tuneful.bench.tasks.base import Task

if TYPE_CHECKING:
    from tuneful.bench.fidelity import FidelityPlan
    from tuneful.bench.session import FidelitySession

__all__ = ["OptunaTPEHyperband", "SmacMultiFidelity", "Dehb", "DEHB_PYTHON_ENV"]

#: Environment variable naming the Python interpreter that has ``dehb`` installed.
DEHB_PYTHON_ENV = "TUNEFUL_DEHB_PYTHON"
_REDUCTION_FACTOR = 3


def _rung_budgets(plan: FidelityPlan) -> list[int]:
    """``min_budget * 3**k`` below ``max_budget``, then ``max_budget``."""
    budgets: list[int] = []
    k = 0
    while (budget := int(round(plan.min_budget * _REDUCTION_FACTOR**k))) < plan.max_budget:
        if not budgets or budget > budgets[-1]:
            budgets.append(budget)
        k += 1
    return [*budgets, plan.max_budget]


def _evaluation_cap(plan: FidelityPlan, budget: float) -> int:
    """The most evaluations a cost budget can buy: all at ``min_budget``."""
    return max(1, int(budget * plan.max_budget / plan.min_budget) + 1)


class _MultiFidelityPeer(PeerAdapter, MultiFidelityAdapter):
    """A peer with its own scheduling: ``run`` (black-box) refuses, see MultiFidelityAdapter."""


class OptunaTPEHyperband(_MultiFidelityPeer):
    """Optuna's default TPE sampler with its Hyperband pruner (η = 3) over the task's budgets."""

    name = "optuna-tpe-hyperband"
    package = "optuna"
    loggers = ("optuna",)
    call = (
        "optuna.create_study(study_name=f'tuneful-bench-{task}-seed{seed}', "
        "sampler=optuna.samplers.TPESampler(seed=seed), "
        "pruner=optuna.pruners.HyperbandPruner(min_resource=min_budget, "
        "max_resource=max_budget, reduction_factor=3))"
    )

    def run_multi_fidelity(self, task: Task, *, seed: int, session: FidelitySession) -> None:
        """Ask, train budget after budget while the pruner agrees, tell."""
        check_run(self.name, budget=1, seed=seed)
        import optuna
        from optuna.trial import TrialState

        plan = session.plan
        judged = _rung_budgets(plan)
        steps = list(range(plan.min_budget, plan.max_budget + 1)) if plan.resumable else judged
        with quiet_loggers(self.loggers):
            with quiet_warnings():
                study = optuna.create_study(
                    # HyperbandPruner places trials in brackets by a hash of the study name:
                    # a fixed name makes the run reproducible (Optuna's default is random).
                    study_name=f"tuneful-bench-{task.id}-seed{seed}",
                    direction="minimize",
                    sampler=optuna.samplers.TPESampler(seed=seed),
                    pruner=optuna.pruners.HyperbandPruner(
                        min_resource=plan.min_budget,
                        max_resource=plan.max_budget,
                        reduction_factor=_REDUCTION_FACTOR,
                    ),
                )
            for _ in proposals(self.name, _evaluation_cap(plan, session.budget)):
                with quiet_warnings():
                    trial = study.ask()
                    config = task.space.validate(suggest(trial, task.space))
                with session.start(config) as run:
                    loss, pruned = float("nan"), False
                    for step in steps:
                        loss = run.at(step, record=step in judged)
                        if is_failed(loss):
                            break
                        with quiet_warnings():
                            trial.report(loss, step)
                            pruned = trial.should_prune()
                        if pruned:
                            break
                    if not pruned and not is_failed(loss):
                        run.finish()
                with quiet_warnings():
                    if pruned:
                        study.tell(trial, state=TrialState.PRUNED)
                    elif is_failed(loss):
                        study.tell(trial, state=TrialState.FAIL)
                    else:
                        study.tell(trial, loss)


class SmacMultiFidelity(_MultiFidelityPeer):
    """SMAC's multi-fidelity facade (random forest, Hyperband intensifier) with its defaults.

    ``n_trials`` is the most evaluations the cost budget could buy (all at ``min_budget``), so
    that SMAC never stops on its own; it sizes the initial design only through
    ``max_ratio = 0.25``, which leaves SMAC's default of 10 configurations per dimension.
    """

    name = "smac-mf"
    package = "smac"
    loggers = ("smac", "ConfigSpace")
    call = (
        "smac.MultiFidelityFacade(smac.Scenario(configspace, deterministic=True, "
        "n_trials=<evaluation cap>, min_budget=min_budget, max_budget=max_budget, seed=seed, "
        "output_directory=<temporary>), overwrite=True, logging_level=False)"
    )

    def run_multi_fidelity(self, task: Task, *, seed: int, session: FidelitySession) -> None:
        """Ask a (configuration, budget), evaluate it from scratch, tell."""
        check_run(self.name, budget=1, seed=seed)
        import smac

        plan = session.plan
        cap = _evaluation_cap(plan, session.budget)
        with (
            tempfile.TemporaryDirectory(prefix="tuneful-smac-", ignore_cleanup_errors=True) as out,
            quiet_loggers(self.loggers),
        ):
            with quiet_warnings():
                conversion = to_configspace(task.space)
                scenario = smac.Scenario(
                    conversion.configspace,
                    deterministic=True,
                    n_trials=cap,
                    min_budget=plan.min_budget,
                    max_budget=plan.max_budget,
                    seed=seed,
                    output_directory=Path(out),
                )
                optimizer = smac.MultiFidelityFacade(scenario, overwrite=True, logging_level=False)
            failures = SmacFailures()
            for _ in proposals(self.name, cap):
                with quiet_warnings():
                    info = optimizer.ask()
                config = conversion.to_config(info.config)
                proposed = plan.max_budget if info.budget is None else info.budget
                loss = session.evaluate(config, plan.nearest_budget(proposed))
                with quiet_warnings():
                    failures.tell(optimizer, info, loss)


# -- DEHB, through a subprocess ---------------------------------------------------------------
WORKER = Path(__file__).with_name("_dehb_worker.py")


def dehb_python() -> str:
    """The interpreter that runs DEHB: ``$TUNEFUL_DEHB_PYTHON``, else this one."""
    return os.environ.get(DEHB_PYTHON_ENV) or sys.executable


@functools.lru_cache(maxsize=8)
def _probe(python: str) -> tuple[str | None, str | None]:
    """(DEHB's version, None) when ``python`` can import dehb, else (None, why not)."""
    try:
        done = subprocess.run(
            [python, "-c", "import importlib.metadata as m, dehb; print(m.version('dehb'))"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot run {python!r} ({exc})"
    if done.returncode != 0:
        return None, (done.stderr.strip().splitlines() or ["no output"])[-1]
    return done.stdout.strip(), None


class Dehb(_MultiFidelityPeer):
    """DEHB (differential evolution with Hyperband, Awad et al. 2021) with its defaults, η = 3.

    DEHB 0.1.2 requires numpy < 2, which the rest of the benchmark does not run with, so it
    usually lives in an environment of its own: ``$TUNEFUL_DEHB_PYTHON`` names that
    environment's interpreter (default: this one). The adapter starts ``_dehb_worker.py``
    there and talks to it in JSON lines: the worker asks DEHB and sends each configuration
    (ConfigSpace values) and fidelity; this side evaluates and records it, and sends back the
    loss and cost, which the worker tells DEHB. The worker only saves DEHB's state at the end
    (``save_freq="end"``, never reached: DEHB's files go to a temporary folder); that is I/O,
    not the algorithm.
    """

    name = "dehb"
    package = "dehb"
    call = (
        "dehb.DEHB(cs=configspace, min_fidelity=min_budget, max_fidelity=max_budget, eta=3, "
        "n_workers=1, seed=seed, output_path=<temporary>, save_freq='end', log_level='ERROR')"
    )

    def unavailable_reason(self) -> str | None:
        python = dehb_python()
        version, reason = _probe(python)
        if version is None:
            return (
                f"dehb cannot be imported by {python} ({reason}); DEHB pins numpy<2, so "
                f"install it into its own environment and set {DEHB_PYTHON_ENV} to that "
                "environment's python"
            )
        return None

    def version(self) -> str | None:
        return _probe(dehb_python())[0]

    def run_multi_fidelity(self, task: Task, *, seed: int, session: FidelitySession) -> None:
        """Relay the worker's (configuration, fidelity) asks to ``session``, results back."""
        check_run(self.name, budget=1, seed=seed)
        plan = session.plan
        conversion = to_configspace(task.space)
        document = io.StringIO()
        conversion.configspace.to_json(document)
        setup = {
            "configspace": document.getvalue(),
            "min_fidelity": plan.min_budget,
            "max_fidelity": plan.max_budget,
            "eta": _REDUCTION_FACTOR,
            "seed": seed,
        }
        with (
            tempfile.TemporaryDirectory(prefix="tuneful-dehb-", ignore_cleanup_errors=True) as out,
            open(Path(out) / "worker.log", "w+", encoding="utf-8") as log,
        ):
            setup["output_path"] = str(Path(out) / "dehb")
            worker = subprocess.Popen(
                [dehb_python(), str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                bufsize=1,
            )
            try:
                self._relay(worker, setup, conversion, session, log)
            finally:
                with contextlib.suppress(OSError):
                    worker.stdin.close()  # type: ignore[union-attr]
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
                worker.stdout.close()  # type: ignore[union-attr]

    def _relay(
        self,
        worker: subprocess.Popen[str],
        setup: dict[str, Any],
        conversion: ConfigSpaceConversion,
        session: FidelitySession,
        log: Any,
    ) -> None:
        if worker.stdin is None or worker.stdout is None:  # pragma: no cover - both are pipes
            raise RuntimeError(f"{self.name}: the DEHB worker has no pipes")
        worst: float | None = None
        worker.stdin.write(json.dumps(setup) + "\n")
        for _ in proposals(self.name, _evaluation_cap(session.plan, session.budget)):
            line = worker.stdout.readline()
            if not line:
                log.seek(0)
                tail = log.read()[-2000:]
                raise RuntimeError(f"{self.name}: the DEHB worker stopped:\n{tail}")
            asked = json.loads(line)
            budget = session.plan.nearest_budget(asked["fidelity"])
            config = conversion.to_config(asked["config"])
            before = session.spent
            loss = session.evaluate(config, budget)
            if is_failed(loss):  # DEHB compares fitness numerically: the worst seen so far
                loss = worst if worst is not None else 1e12
            worst = loss if worst is None else max(worst, loss)
            result = {"fitness": loss, "cost": session.spent - before}
            worker.stdin.write(json.dumps(result) + "\n")
