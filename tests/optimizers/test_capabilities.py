"""What each registered optimizer declares it supports, and the one check that holds it to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

import tuneful
from tuneful.errors import OptimizerError
from tuneful.optimizers import (
    Capabilities,
    Optimizer,
    available_optimizers,
    check_supported,
    make_optimizer,
    register_optimizer,
)
from tuneful.optimizers import base as optimizers_base
from tuneful.records import History, TrialRecord, TrialState

FLAT = tuneful.Space(x=tuneful.Float(0, 1), y=tuneful.Float(0, 1))
CONDITIONAL = tuneful.Space(
    kind=tuneful.Categorical(["a", "b"]),
    x=tuneful.Float(0, 1, when={"kind": "a"}),
)
TWO = ("minimize", "maximize")


def _optimizer_class(name: str) -> type[Optimizer]:
    return type(make_optimizer(name, seed=0))


@pytest.mark.parametrize("name", available_optimizers())
def test_every_registered_optimizer_declares_its_capabilities(name: str) -> None:
    cls = _optimizer_class(name)
    assert "capabilities" in vars(cls), f"{cls.__name__} inherits its capabilities"
    declared = cls.capabilities
    assert isinstance(declared, Capabilities)
    # constrained domination (nsga2), feasibility-aware ranking (cmaes) or no use of the
    # values at all (random, sobol)
    assert declared.constraints is (
        name in ("auto", "cmaes", "gp", "nsga2", "nsga3", "random", "sobol", "tpe")
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        declared.batch = False  # type: ignore[misc]


def test_capabilities_must_be_spelled_out() -> None:
    with pytest.raises(TypeError):
        Capabilities(multi_objective=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Capabilities(True, False, True, True, True)  # type: ignore[misc]


def test_the_declarations_of_the_built_in_optimizers() -> None:
    one_objective = {
        name
        for name in available_optimizers()
        if not _optimizer_class(name).capabilities.multi_objective
    }
    assert one_objective == {"cmaes"}
    for name in available_optimizers():
        declared = _optimizer_class(name).capabilities
        assert declared.conditional and declared.define_by_run and declared.batch


def _two_objective_history(n: int) -> History:
    rng = np.random.default_rng(0)
    trials = [
        TrialRecord(
            number=i,
            state=TrialState.COMPLETE,
            params={"x": float(rng.random()), "y": float(rng.random())},
            values=(float(rng.random()), float(rng.random())),
        )
        for i in range(n)
    ]
    return History(FLAT, TWO, trials, number=n, seed=0)


@pytest.mark.parametrize("name", [n for n in available_optimizers() if n != "external"], ids=str)
def test_suggest_keeps_the_multi_objective_declaration(name: str) -> None:
    optimizer = make_optimizer(name, seed=0)
    history = _two_objective_history(30)
    rng = np.random.default_rng(0)
    if type(optimizer).capabilities.multi_objective:
        points = optimizer.suggest(history, 2, rng)
        assert points.shape == (2, FLAT.dim)
    else:
        if name == "cmaes":
            pytest.importorskip("cmaes")  # without it, suggest asks for the package first
        with pytest.raises(OptimizerError, match=rf"optimizer '{name}' handles one objective"):
            optimizer.suggest(history, 1, rng)


def test_a_refusal_names_the_optimizer_the_need_and_the_alternatives() -> None:
    with pytest.raises(OptimizerError) as caught:
        check_supported(make_optimizer("cmaes", seed=0), directions=TWO, space=FLAT)
    assert str(caught.value) == (
        "optimizer 'cmaes' handles one objective; this study has 2 (minimize, maximize): "
        "optimizers that handle several objectives: auto, external, gp, grid, nsga2, nsga3, "
        "random, sobol, tpe"
    )


def test_what_every_optimizer_declares_passes() -> None:
    for name in available_optimizers():
        optimizer = make_optimizer(name, seed=0)
        check_supported(optimizer, directions=["minimize"], space=CONDITIONAL, batch=True)
        check_supported(optimizer, directions=["minimize"], space=None)


def test_constraints_are_refused_by_optimizers_that_do_not_handle_them() -> None:
    with pytest.raises(
        OptimizerError,
        match=r"optimizer 'grid' does not handle constraints, which this study needs: "
        r"optimizers that handle constraints: auto, cmaes, gp, nsga2, nsga3, random, sobol, tpe$",
    ):
        check_supported(
            make_optimizer("grid", seed=0), directions=["minimize"], space=FLAT, constraints=True
        )


class _FlatOnly(Optimizer):
    """Declares less than the built-in optimizers: one objective, flat spaces, one point."""

    name = "flat-only"
    capabilities = Capabilities(
        multi_objective=False,
        constraints=False,
        conditional=False,
        define_by_run=False,
        batch=False,
    )

    def __init__(self, *, seed: int | None = None) -> None:
        del seed

    def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, history.space.dim))


@pytest.fixture
def flat_only() -> Iterator[Optimizer]:
    register_optimizer("flat-only", _FlatOnly)
    try:
        yield _FlatOnly()
    finally:
        del optimizers_base._REGISTRY["flat-only"]


def test_each_missing_capability_is_named(flat_only: Optimizer) -> None:
    cases = [
        ({"space": CONDITIONAL}, "does not handle conditional parameters \\(when=\\)"),
        ({"space": None}, r"does not handle define-by-run \(no space\)"),
        ({"space": FLAT, "batch": True}, "does not handle batch suggestions"),
    ]
    for kwargs, message in cases:
        with pytest.raises(OptimizerError, match=f"optimizer 'flat-only' {message}"):
            check_supported(flat_only, directions=["minimize"], **kwargs)  # type: ignore[arg-type]
    check_supported(flat_only, directions=["minimize"], space=FLAT)


def test_several_missing_capabilities_are_named_together(flat_only: Optimizer) -> None:
    with pytest.raises(OptimizerError) as caught:
        check_supported(flat_only, directions=TWO, space=CONDITIONAL)
    assert str(caught.value) == (
        "optimizer 'flat-only' handles one objective; this study has 2 (minimize, maximize); it "
        "does not handle conditional parameters (when=), which this study needs: optimizers "
        "that handle several objectives and conditional parameters (when=): auto, external, "
        "gp, grid, nsga2, nsga3, random, sobol, tpe"
    )


def test_an_optimizer_that_declares_nothing_keeps_what_was_assumed_before() -> None:
    class Undeclared(Optimizer):
        name = "undeclared"

        def suggest(self, history: History, n: int, rng: np.random.Generator) -> np.ndarray:
            return rng.random((n, history.space.dim))

    check_supported(Undeclared(), directions=TWO, space=None)
    check_supported(Undeclared(), directions=TWO, space=CONDITIONAL, batch=True)
    with pytest.raises(OptimizerError, match="constraints"):
        check_supported(Undeclared(), directions=TWO, space=FLAT, constraints=True)
