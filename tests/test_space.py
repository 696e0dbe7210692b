"""Tests of tuneful.space: parameters, conditions, validation, encoding, serialization."""

from __future__ import annotations

import doctest
import json
import math
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tuneful.space
from tuneful import create_study
from tuneful._parameters import value_key
from tuneful.errors import SpaceError
from tuneful.space import Categorical, Fixed, Float, Int, Parameter, Space

PLAIN_TYPES = (float, int, str, bool, type(None))

SPEC_YAML = """\
lr: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
layers: {type: int, low: 1, high: 8}
optimizer: {type: categorical, choices: [adam, sgd]}
momentum: {type: float, low: 0.0, high: 0.99, when: {optimizer: sgd}}
nesterov: {type: categorical, choices: [true, false], when: {optimizer: [sgd]}}
seed: {type: fixed, value: 3}
"""


def mlp_space() -> Space:
    return Space(
        lr=Float(1e-5, 1e-1, log=True),
        layers=Int(1, 8),
        optimizer=Categorical(["adam", "sgd"]),
        momentum=Float(0.0, 0.99, when={"optimizer": "sgd"}),
        nesterov=Categorical([True, False], when={"optimizer": ["sgd"]}),
        seed=Fixed(3),
    )


@contextmanager
def raises(*parts: str) -> Iterator[Any]:
    """pytest.raises(SpaceError) whose message must contain every one of ``parts``."""
    with pytest.raises(SpaceError) as info:
        yield info
    for part in parts:
        assert part in str(info.value), (part, str(info.value))


# -- parameters ------------------------------------------------------------------------------


class TestFloat:
    def test_fields_and_coerce(self) -> None:
        p = Float(0, 1)
        assert (p.low, p.high, p.log, p.step, p.default) == (0.0, 1.0, False, None, None)
        assert p.when == {}
        assert type(p.low) is float
        assert p.coerce(1) == 1.0 and type(p.coerce(1)) is float
        assert type(p.coerce(np.float32(0.5))) is float
        assert p.contains(0.0) and p.contains(1.0) and not p.contains(1.5)
        assert not p.contains(True) and not p.contains("0.5") and not p.contains(math.nan)

    def test_out_of_range_message_names_value_and_range(self) -> None:
        with raises("1.5", "[0.0, 1.0]"):
            Float(0, 1).coerce(1.5)
        with raises("'0.5'", "str"):
            Float(0, 1).coerce("0.5")

    def test_step_snaps_to_decimal_grid(self) -> None:
        p = Float(0, 1, step=0.1)
        assert p.n_levels == 11
        assert p.coerce(0.1 + 0.2) == 0.3
        with raises("0.35", "grid"):
            p.coerce(0.35)

    def test_frozen(self) -> None:
        p = Float(0, 1)
        with pytest.raises(AttributeError):
            p.low = 3.0  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("kwargs", "parts"),
        [
            ({"low": 1, "high": 0}, ["low=1.0", "high=0.0"]),
            ({"low": 1, "high": 1}, ["low=1.0"]),
            ({"low": 0, "high": 1, "log": True}, ["log=True", "low=0.0"]),
            ({"low": -1, "high": 1, "log": True}, ["low=-1.0"]),
            ({"low": 0, "high": 1, "step": 0}, ["step=0.0"]),
            ({"low": 0, "high": 1, "step": -0.5}, ["step=-0.5"]),
            ({"low": 0, "high": 1, "step": 0.3}, ["step=0.3"]),
            ({"low": 1, "high": 10, "step": 1, "log": True}, ["log=True", "step=1"]),
            ({"low": 0, "high": math.inf}, ["high=inf"]),
            ({"low": math.nan, "high": 1}, ["low=nan"]),
            ({"low": True, "high": 2}, ["low=True", "bool"]),
            ({"low": "0", "high": 1}, ["low='0'"]),
            ({"low": 0, "high": 1, "default": 2}, ["default=2"]),
            ({"low": 0, "high": 1, "log": "yes"}, ["log='yes'"]),
            ({"low": 0, "high": 1, "when": ["a"]}, ["when=['a']"]),
            ({"low": 0, "high": 1, "when": {"a": []}}, ["no values"]),
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any], parts: list[str]) -> None:
        low, high = kwargs.pop("low"), kwargs.pop("high")
        with raises("Float", *parts):
            Float(low, high, **kwargs)

    def test_default_value(self) -> None:
        assert Float(0, 1).default_value() == 0.5
        assert Float(1e-5, 1e-1, log=True).default_value() == 0.001
        assert Float(0, 1, step=0.25).default_value() == 0.5
        assert Float(0, 1, default=0.2).default_value() == 0.2


class TestInt:
    def test_coerce(self) -> None:
        p = Int(1, 8)
        assert p.coerce(3.0) == 3 and type(p.coerce(3.0)) is int
        assert type(p.coerce(np.int64(3))) is int
        with raises("3.5", "[1, 8]"):
            p.coerce(3.5)
        with raises("True", "bool"):
            p.coerce(True)
        with raises("9"):
            p.coerce(9)
        with raises("5", "grid"):
            Int(0, 10, step=2).coerce(5)

    @pytest.mark.parametrize(
        ("kwargs", "parts"),
        [
            ({"low": 5, "high": 5}, ["low=5", "high=5"]),
            ({"low": 1, "high": 10, "log": True, "step": 3}, ["log=True", "step=3"]),
            ({"low": 0, "high": 10, "log": True}, ["low=0"]),
            ({"low": 0, "high": 10, "step": 3}, ["step=3"]),
            ({"low": 0, "high": 10, "step": 0}, ["step=0"]),
            ({"low": 0.5, "high": 10}, ["low=0.5"]),
            ({"low": 0, "high": False}, ["high=False"]),
            ({"low": 0, "high": 10, "default": 11}, ["default=11"]),
            ({"low": 1, "high": 2**45, "log": True}, ["high="]),
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any], parts: list[str]) -> None:
        low, high = kwargs.pop("low"), kwargs.pop("high")
        with raises("Int", *parts):
            Int(low, high, **kwargs)

    def test_default_value(self) -> None:
        assert Int(1, 8).default_value() == 4
        assert Int(0, 10, step=5).default_value() == 5
        assert Int(1, 100, log=True).default_value() == 10


class TestCategorical:
    def test_true_and_one_are_distinct(self) -> None:
        p = Categorical([1, True, "a", None, 2.5])
        assert p.coerce(True) is True
        assert p.coerce(1) == 1 and type(p.coerce(1)) is int
        assert p.coerce(1.0) == 1 and type(p.coerce(1.0)) is int
        assert p.coerce(np.str_("a")) == "a" and type(p.coerce(np.str_("a"))) is str
        assert p.coerce(None) is None
        with raises("False", "bool"):
            p.coerce(False)
        with raises("[1, 2]"):
            p.coerce([1, 2])

    def test_numpy_bool_is_not_one(self) -> None:
        assert Categorical([1, 0]).contains(np.True_) is False
        assert Categorical([True, False]).coerce(np.True_) is True

    @pytest.mark.parametrize(
        ("choices", "parts"),
        [
            ([], ["empty"]),
            (["a", "b", "a"], ["'a'", "twice"]),
            ([1, 1.0], ["1.0", "twice"]),
            ([[1], 2], ["[1]"]),
            ([math.nan], ["nan"]),
            ("ab", ["'ab'"]),
        ],
    )
    def test_invalid(self, choices: Any, parts: list[str]) -> None:
        with raises("Categorical", *parts):
            Categorical(choices)

    def test_default(self) -> None:
        assert Categorical(["a", "b"]).default_value() == "a"
        assert Categorical(["a", "b"], default="b").default_value() == "b"
        with raises("default='c'"):
            Categorical(["a", "b"], default="c")
        assert Categorical([True, 1], default=1) != Categorical([True, 1], default=True)


class TestFixed:
    def test_fixed(self) -> None:
        p = Fixed(3)
        assert p.coerce(3) == 3 and p.coerce(3.0) == 3 and p.coerce(np.int8(3)) == 3
        with raises("4", "fixed value 3"):
            p.coerce(4)
        assert not Fixed(1).contains(True)
        assert Fixed(None).coerce(None) is None
        with raises("Fixed"):
            Fixed([1, 2])  # type: ignore[arg-type]


def test_parameter_equality_is_typed() -> None:
    assert Float(0, 1) == Float(0.0, 1.0)
    assert hash(Float(0, 1)) == hash(Float(0.0, 1.0))
    assert Categorical([True, "a"]) != Categorical([1, "a"])
    assert Fixed(True) != Fixed(1)
    assert Float(0, 1, when={"a": {1, 2}}) == Float(0, 1, when={"a": [2, 1, 1]})
    assert Float(0, 1, when={"a": True}) != Float(0, 1, when={"a": 1})
    assert Float(0, 1) != Int(0, 1)


def test_when_is_normalized() -> None:
    p = Float(0, 1, when={"b": "x", "a": frozenset({"z", "y"}), "c": (np.int64(2), 1)})
    assert p.when == {"a": ("y", "z"), "b": ("x",), "c": (1, 2)}
    assert list(p.when) == ["a", "b", "c"]
    assert type(p.when["c"][1]) is int


def test_parameter_repr_round_trips() -> None:
    for p in [
        Float(1e-5, 0.1, log=True),
        Float(0, 1, step=0.25, default=0.5, when={"a": ("x", "y")}),
        Int(0, 10, step=2),
        Categorical([True, None, "a", 1.5], default=None),
        Fixed("k", when={"a": 1}),
    ]:
        assert eval(repr(p)) == p


# -- spaces: construction and conditions -----------------------------------------------------


class TestSpaceConstruction:
    def test_mapping_and_keywords(self) -> None:
        space = Space({"num.impute": Float(0, 1)}, mapping=Int(0, 3))
        assert space.names == ("num.impute", "mapping")
        assert "num.impute" in space and "x" not in space
        assert len(space) == 2 and list(space) == ["num.impute", "mapping"]
        assert dict(space.items())["mapping"] == Int(0, 3)
        assert eval(repr(space)) == space

    def test_duplicate_name(self) -> None:
        with raises("'a'", "twice"):
            Space({"a": Float(0, 1)}, a=Int(0, 1))

    def test_not_a_parameter(self) -> None:
        with raises("'a'", "3"):
            Space(a=3)  # type: ignore[arg-type]
        with raises("name"):
            Space({"": Float(0, 1)})

    def test_unknown_parent(self) -> None:
        with raises("'m'", "'optimiser'", "did you mean 'optimizer'"):
            Space(optimizer=Categorical(["a"]), m=Float(0, 1, when={"optimiser": "a"}))

    def test_condition_value_not_a_parent_value(self) -> None:
        with raises("'m'", "'sgdd'", "'opt'"):
            Space(opt=Categorical(["adam", "sgd"]), m=Float(0, 1, when={"opt": "sgdd"}))
        with raises("'m'", "9", "'n'"):
            Space(n=Int(1, 8), m=Float(0, 1, when={"n": [1, 9]}))
        with raises("'m'", "True"):
            Space(n=Int(0, 1), m=Float(0, 1, when={"n": True}))
        with raises("'m'", "4"):
            Space(f=Fixed(3), m=Float(0, 1, when={"f": 4}))

    def test_condition_on_float(self) -> None:
        with raises("'m'", "'lr'", "Float"):
            Space(lr=Float(0, 1), m=Float(0, 1, when={"lr": 0.5}))

    def test_cycles(self) -> None:
        with raises("cycle", "'a' -> 'b' -> 'a'"):
            Space(a=Int(0, 1, when={"b": 0}), b=Int(0, 1, when={"a": 0}))
        with raises("cycle", "'a' -> 'a'"):
            Space(a=Int(0, 1, when={"a": 0}))

    def test_topological_names(self) -> None:
        space = Space(
            child=Float(0, 1, when={"parent": "x"}),
            other=Float(0, 1),
            parent=Categorical(["x", "y"], when={"root": 1}),
            root=Int(0, 2),
        )
        assert space.names == ("other", "root", "parent", "child")
        assert space.encoded_names == space.names
        assert space.is_conditional

    def test_metadata(self) -> None:
        space = mlp_space()
        assert space.encoded_names == ("lr", "layers", "optimizer", "momentum", "nesterov")
        assert space.dim == 5
        assert space.is_categorical.tolist() == [False, False, True, False, True]
        assert space.n_levels.tolist() == [0, 8, 2, 0, 2]
        assert space.conditional_mask.tolist() == [False, False, False, True, True]
        with pytest.raises(ValueError):
            space.n_levels[0] = 3

    def test_equality_is_ordered(self) -> None:
        # Column order is part of the encoding, so it is part of equality.
        assert Space(a=Int(0, 1), b=Int(0, 1)) != Space(b=Int(0, 1), a=Int(0, 1))

    def test_equality_and_pickle(self) -> None:
        space = mlp_space()
        assert space == mlp_space() and hash(space) == hash(mlp_space())
        assert space != Space(lr=Float(1e-5, 1e-1, log=True))
        assert pickle.loads(pickle.dumps(space)) == space
        assert pickle.loads(pickle.dumps(Float(0, 1, step=0.5))) == Float(0, 1, step=0.5)


class TestConditions:
    def space(self) -> Space:
        return Space(
            kind=Categorical(["a", "b", "c"]),
            size=Int(1, 4),
            x=Float(0, 1, when={"kind": {"a", "b"}}),  # any of a set
            y=Categorical(["u", "v"], when={"kind": "a"}),
            z=Float(0, 1, when={"y": "v"}),  # nested: y is itself conditional
            w=Int(0, 3, when={"kind": "c", "size": [2, 3]}),  # AND of two parents
        )

    @pytest.mark.parametrize(
        ("config", "active"),
        [
            ({"kind": "a", "size": 1, "y": "u"}, ["kind", "size", "x", "y"]),
            ({"kind": "a", "size": 1, "y": "v"}, ["kind", "size", "x", "y", "z"]),
            ({"kind": "b", "size": 2}, ["kind", "size", "x"]),
            ({"kind": "c", "size": 2}, ["kind", "size", "w"]),
            ({"kind": "c", "size": 4}, ["kind", "size"]),
            ({"kind": "a"}, ["kind", "size", "x", "y"]),  # partial: z unknown until y is
            ({"size": 2}, ["kind", "size"]),
            ({}, ["kind", "size"]),
        ],
    )
    def test_active_names(self, config: dict[str, Any], active: list[str]) -> None:
        assert self.space().active_names(config) == active

    def test_decode_respects_conditions(self) -> None:
        space = self.space()
        for config in space.sample(np.random.default_rng(0), 300):
            assert list(config) == space.active_names(config)
            assert ("x" in config) == (config["kind"] in ("a", "b"))
            assert ("z" in config) == (config.get("y") == "v")
            assert ("w" in config) == (config["kind"] == "c" and config["size"] in (2, 3))

    def test_inactive_column_is_nan_and_ignored(self) -> None:
        space = self.space()
        X = space.encode([{"kind": "c", "size": 4}])
        assert np.isnan(X[0, 2:]).all() and not np.isnan(X[0, :2]).any()
        X[0, 2:] = 0.3  # values in inactive columns are ignored
        assert space.decode(X) == [{"kind": "c", "size": 4}]


# -- validation ------------------------------------------------------------------------------


class TestValidate:
    def test_normalizes(self) -> None:
        space = mlp_space()
        config = {
            "lr": np.float64(0.01),
            "layers": 3.0,
            "optimizer": np.str_("sgd"),
            "momentum": 0.5,
            "nesterov": np.True_,
        }
        clean = space.validate(config)
        assert clean == {
            "lr": 0.01,
            "layers": 3,
            "optimizer": "sgd",
            "momentum": 0.5,
            "nesterov": True,
            "seed": 3,
        }
        assert all(type(v) in PLAIN_TYPES and type(v) is not np.float64 for v in clean.values())
        assert type(clean["layers"]) is int

    @pytest.mark.parametrize(
        ("config", "parts"),
        [
            ({"lr": 0.01, "layers": 3, "optimizer": "adam", "lrr": 1}, ["'lrr'", "unknown"]),
            ({"lr": 0.01, "optimizer": "adam"}, ["'layers'", "missing"]),
            (
                {"lr": 0.01, "layers": 3, "optimizer": "adam", "momentum": 0.9},
                ["'momentum'", "inactive", "0.9", "optimizer='adam'"],
            ),
            ({"lr": 2.0, "layers": 3, "optimizer": "adam"}, ["'lr'", "2.0"]),
            ({"lr": 0.01, "layers": 3, "optimizer": "rmsprop"}, ["'optimizer'", "'rmsprop'"]),
            ({"lr": 0.01, "layers": 3, "optimizer": "adam", "seed": 4}, ["'seed'", "4"]),
            ({"lr": 0.01, "layers": 3, "optimizer": "sgd", "momentum": 0.5}, ["'nesterov'"]),
        ],
    )
    def test_errors(self, config: dict[str, Any], parts: list[str]) -> None:
        with raises(*parts):
            mlp_space().validate(config)
        with raises("configs[1]", *parts):
            mlp_space().encode([mlp_space().defaults(), config])

    def test_partial(self) -> None:
        space = mlp_space()
        assert space.validate({"lr": 0.01}, partial=True) == {"lr": 0.01, "seed": 3}
        assert space.validate({"momentum": 0.5}, partial=True) == {"momentum": 0.5, "seed": 3}
        with raises("'momentum'", "inactive"):
            space.validate({"optimizer": "adam", "momentum": 0.5}, partial=True)
        with raises("'lr'", "-1"):
            space.validate({"lr": -1}, partial=True)
        with raises("'bogus'"):
            space.validate({"bogus": 1}, partial=True)

    def test_not_a_mapping(self) -> None:
        with raises("mapping"):
            mlp_space().validate([("lr", 0.1)])  # type: ignore[arg-type]
        with raises("sequence"):
            mlp_space().encode({"lr": 0.1})  # type: ignore[arg-type]

    def test_defaults(self) -> None:
        assert mlp_space().defaults() == {"lr": 0.001, "layers": 4, "optimizer": "adam", "seed": 3}
        space = Space(
            o=Categorical(["a", "b"], default="b"), m=Float(0, 1, default=0.25, when={"o": "b"})
        )
        assert space.defaults() == {"o": "b", "m": 0.25}
        assert space.validate(space.defaults()) == space.defaults()


# -- encoding --------------------------------------------------------------------------------


class TestEncoding:
    def test_conventions(self) -> None:
        space = Space(
            f=Float(-1, 3),
            g=Float(1e-3, 1e1, log=True),
            s=Float(0, 1, step=0.25),
            i=Int(1, 8),
            c=Categorical(["a", "b", "c"]),
            k=Fixed("z"),
        )
        X = space.encode([{"f": 0.0, "g": 0.1, "s": 0.75, "i": 1, "c": "c", "k": "z"}])
        assert X.dtype == np.float64 and X.shape == (1, 5)
        np.testing.assert_allclose(X[0], [0.25, 0.5, 3.5 / 5, 0.5 / 8, 2.5 / 3], rtol=1e-14)
        # level i of k owns [i / k, (i + 1) / k); u = 1 is the last level
        decoded = space.decode(np.array([[0.0, 0.0, 0.2, 0.999, 1.0], [1.0, 1.0, 0.0, 0.0, 0.0]]))
        assert decoded == [
            {"f": -1.0, "g": 1e-3, "s": 0.25, "i": 8, "c": "c", "k": "z"},
            {"f": 3.0, "g": 10.0, "s": 0.0, "i": 1, "c": "a", "k": "z"},
        ]

    def test_decode_clips_and_accepts_one_row(self) -> None:
        space = Space(f=Float(0, 2), i=Int(0, 4))
        assert space.decode(np.array([-3.0, 7.0])) == [{"f": 0.0, "i": 4}]
        assert space.decode([[np.inf, -np.inf]]) == [{"f": 2.0, "i": 0}]

    def test_decode_errors(self) -> None:
        space = Space(f=Float(0, 2), i=Int(0, 4))
        with raises("shape", "(n, 2)"):
            space.decode(np.zeros((1, 3)))
        with raises("'i'", "NaN", "row 1"):
            space.decode(np.array([[0.5, 0.5], [0.5, np.nan]]))
        with raises("'momentum'", "NaN"):
            mlp_space().decode(np.array([[0.5, 0.5, 0.9, np.nan, 0.5]]))

    def test_values_are_plain_python(self) -> None:
        space = mlp_space()
        for config in space.sample(np.random.default_rng(1), 50):
            assert all(type(v) in PLAIN_TYPES for v in config.values())

    def test_step_float_values_are_clean_decimals(self) -> None:
        space = Space(s=Float(0, 1, step=0.1), t=Float(-0.3, 0.6, step=0.15))
        values = {c["s"] for c in space.decode(np.linspace(0, 1, 101)[:, None].repeat(2, 1))}
        assert values == {round(0.1 * i, 10) for i in range(11)}
        assert {c["t"] for c in space.sample(np.random.default_rng(0), 200)} == {
            float(Decimal("-0.3") + Decimal("0.15") * i) for i in range(7)
        }

    def test_log_int_is_log_uniform(self) -> None:
        low, high = 1, 100
        space = Space(n=Int(low, high, log=True))
        values = np.array([c["n"] for c in space.sample(np.random.default_rng(0), 40_000)])
        assert values.min() == low and values.max() == high
        v = np.arange(low, high + 1)
        mass = (np.log(v + 0.5) - np.log(v - 0.5)) / (np.log(high + 0.5) - np.log(low - 0.5))
        observed = np.bincount(values, minlength=high + 1)[low:] / values.size
        assert np.abs(observed - mass).max() < 0.01
        every = list(range(low, high + 1))
        assert [c["n"] for c in space.decode(space.encode([{"n": v} for v in every]))] == every

    def test_large_log_int_round_trip(self) -> None:
        space = Space(n=Int(1, 2**40, log=True))
        values = [1, 2, 3, 999_999_999, 2**40 - 1, 2**40]
        assert [c["n"] for c in space.decode(space.encode([{"n": v} for v in values]))] == values

    def test_float_round_trip_of_user_values(self) -> None:
        space = Space(f=Float(-1, 1), g=Float(1e-8, 1e3, log=True))
        rng = np.random.default_rng(2)
        for f, g in zip(rng.uniform(-1, 1, 200), 10 ** rng.uniform(-8, 3, 200), strict=True):
            back = space.decode(space.encode([{"f": float(f), "g": float(g)}]))[0]
            assert math.isclose(back["f"], f, rel_tol=1e-12, abs_tol=1e-15)
            assert math.isclose(back["g"], g, rel_tol=1e-12)
        assert space.decode(space.encode([{"f": 0.25, "g": 1e-8}]))[0] == {"f": 0.25, "g": 1e-8}

    def test_sample_and_sample_encoded(self) -> None:
        space = mlp_space()
        a = space.sample_encoded(np.random.default_rng(5), 20)
        b = space.encode(space.sample(np.random.default_rng(5), 20))
        np.testing.assert_array_equal(a, b)
        assert space.sample(np.random.default_rng(0), 0) == []
        assert space.sample_encoded(np.random.default_rng(0), 0).shape == (0, 5)
        with raises("rng"):
            space.sample(np.random.RandomState(0), 1)  # type: ignore[arg-type]
        with raises("n=-1"):
            space.sample(np.random.default_rng(0), -1)

    def test_empty_and_fixed_only_spaces(self) -> None:
        assert Space().dim == 0 and Space().decode(np.zeros((2, 0))) == [{}, {}]
        space = Space(k=Fixed(1))
        assert space.encode([{"k": 1}, {}]).shape == (2, 0)
        assert space.sample(np.random.default_rng(0), 2) == [{"k": 1}, {"k": 1}]

    def test_encode_lenient(self) -> None:
        space = mlp_space()
        X = space.encode_lenient([{"lr": 0.01, "layers": 99, "junk": 1}, {}])
        assert not np.isnan(X[0, 0]) and np.isnan(X[0, 1:]).all() and np.isnan(X[1]).all()

    def test_categorical_with_true_and_one(self) -> None:
        space = Space(c=Categorical([1, True, 0, False]), x=Float(0, 1, when={"c": True}))
        configs = [{"c": True, "x": 0.5}, {"c": 1}, {"c": 0}, {"c": False}]
        X = space.encode(configs)
        np.testing.assert_array_equal(X[:, 0], [0.375, 0.125, 0.625, 0.875])
        assert space.decode(X) == configs
        assert [type(c["c"]) for c in space.decode(X)] == [bool, int, int, bool]

    def test_sample_parameter(self) -> None:
        space = mlp_space()
        rng = np.random.default_rng(0)
        assert {space.sample_parameter("optimizer", rng) for _ in range(50)} == {"adam", "sgd"}
        assert 0 <= space.sample_parameter("momentum", rng) <= 0.99
        assert space.sample_parameter("seed", rng) == 3


# -- serialization ---------------------------------------------------------------------------


class TestSerialization:
    def test_yaml_spec(self) -> None:
        space = Space.from_yaml(SPEC_YAML)
        assert space == mlp_space()
        assert Space.from_yaml(space.to_yaml()) == space
        assert Space.from_json(space.to_json()) == space
        assert space.to_dict()["nesterov"] == {
            "type": "categorical",
            "choices": [True, False],
            "when": {"optimizer": "sgd"},
        }

    def test_to_dict_shape(self) -> None:
        spec = Space(
            a=Int(1, 8, default=2),
            b=Float(0, 1, step=0.5, when={"a": [1, 2]}),
            c=Int(1, 64, log=True),
        ).to_dict()
        assert spec == {
            "a": {"type": "int", "low": 1, "high": 8, "default": 2},
            "b": {"type": "float", "low": 0.0, "high": 1.0, "step": 0.5, "when": {"a": [1, 2]}},
            "c": {"type": "int", "low": 1, "high": 64, "log": True},
        }
        assert json.loads(json.dumps(spec)) == spec

    def test_numeric_strings(self) -> None:
        space = Space.from_dict(
            {
                "lr": {"type": "float", "low": "1e-5", "high": "1e-1", "log": True},
                "n": {"type": "int", "low": "1", "high": "1e2"},
            }
        )
        assert space == Space(lr=Float(1e-5, 0.1, log=True), n=Int(1, 100))
        plain = Space.from_yaml("lr: {type: float, low: 1e-5, high: 1e-1, log: true}")
        assert plain["lr"] == Float(1e-5, 0.1, log=True)
        with raises("'lr'", "low='tiny'", "not a number"):
            Space.from_dict({"lr": {"type": "float", "low": "tiny", "high": 1}})

    def test_a_mapping_of_parameter_objects_is_a_space(self) -> None:
        mixed = {"x": Float(0, 1), "n": {"type": "int", "low": 1, "high": 4}}
        assert Space.from_dict(mixed) == Space(x=Float(0, 1), n=Int(1, 4))
        study = create_study(space={"x": Float(0, 1)}, storage="memory://")
        assert study.space == Space(x=Float(0, 1))

    @pytest.mark.parametrize(
        ("spec", "parts"),
        [
            ({"x": {"type": "flaot", "low": 0, "high": 1}}, ["'x'", "'flaot'", "'float'"]),
            ({"x": {"low": 0, "high": 1}}, ["'x'", "type=None"]),
            ({"x": {"type": "float", "low": 0, "hihg": 1}}, ["'x'", "'hihg'", "'high'"]),
            ({"x": {"type": "float", "low": 0}}, ["'x'", "'high'"]),
            ({"x": {"type": "categorical", "choices": []}}, ["'x'", "empty"]),
            ({"x": {"type": "int", "low": 0, "high": 1, "log": "true"}}, ["'x'", "log='true'"]),
            ({"x": [1, 2]}, ["'x'", "[1, 2]"]),
        ],
    )
    def test_from_dict_errors(self, spec: dict[str, Any], parts: list[str]) -> None:
        with raises(*parts):
            Space.from_dict(spec)

    def test_text_errors(self) -> None:
        with raises("JSON"):
            Space.from_json("{")
        with raises("YAML"):
            Space.from_yaml("a: [")
        with raises("empty"):
            Space.from_yaml("")

    def test_parameter_from_dict(self) -> None:
        assert Parameter.from_dict({"type": "fixed", "value": None}) == Fixed(None)


def test_module_doctests() -> None:
    assert doctest.testmod(tuneful.space, raise_on_error=False).failed == 0


# -- properties ------------------------------------------------------------------------------

_TEXT = st.one_of(
    st.text(alphabet="abcxyz_.- ", max_size=4),
    st.sampled_from(["yes", "no", "null", "~", "1e3", "0x1F", "1.5", "true", "a: b", "#"]),
)
_CHOICE = st.one_of(
    _TEXT,
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@st.composite
def parameters(draw: st.DrawFn, when: dict[str, Any] | None) -> Parameter:
    kind = draw(st.sampled_from(["float", "log", "step", "int", "logint", "cat", "fixed"]))
    if kind == "float":
        low = draw(st.floats(-1e4, 1e4))
        high = low + draw(st.floats(1e-3, 1e4))
        return Float(low, high, when=when) if low < high else Float(0, 1, when=when)
    if kind == "log":
        low = 10 ** draw(st.floats(-8, 3))
        return Float(low, low * 10 ** draw(st.floats(0.01, 6)), log=True, when=when)
    if kind == "step":
        step = draw(st.sampled_from(["0.1", "0.25", "0.5", "1", "1e-3", "0.05", "3"]))
        first, count = draw(st.integers(-50, 50)), draw(st.integers(1, 40))
        low = float(Decimal(first) * Decimal(step))
        high = float(Decimal(first + count) * Decimal(step))
        return Float(low, high, step=float(step), when=when)
    if kind == "int":
        low, step = draw(st.integers(-20, 20)), draw(st.integers(1, 4))
        count = draw(st.integers(1, 12))
        return Int(low, low + step * count, step=step, when=when)
    if kind == "logint":
        low = draw(st.integers(1, 50))
        return Int(low, low + draw(st.integers(1, 10_000)), log=True, when=when)
    if kind == "cat":
        choices = draw(st.lists(_CHOICE, min_size=1, max_size=5, unique_by=value_key))
        return Categorical(choices, when=when)
    return Fixed(draw(_CHOICE), when=when)


def _parent_values(param: Parameter) -> list[Any]:
    if isinstance(param, Categorical):
        return list(param.choices)
    if isinstance(param, Int):
        return list(range(param.low, param.high + 1, param.step))[:20]
    assert isinstance(param, Fixed)
    return [param.value]


@st.composite
def spaces(draw: st.DrawFn) -> Space:
    params: dict[str, Parameter] = {}
    for i in range(draw(st.integers(0, 7))):
        parents = [n for n, p in params.items() if not isinstance(p, Float)]
        when: dict[str, Any] | None = None
        if parents and draw(st.integers(0, 2)) > 0:
            when = {}
            for parent in draw(st.lists(st.sampled_from(parents), min_size=1, max_size=2)):
                values = draw(
                    st.lists(
                        st.sampled_from(_parent_values(params[parent])), min_size=1, max_size=3
                    )
                )
                when[parent] = values if len(values) > 1 else values[0]
        params[f"p{i}" if i % 3 else f"param.{i}"] = draw(parameters(when))
    names = draw(st.permutations(list(params)))  # insertion order need not be topological
    return Space({name: params[name] for name in names})


_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _holds(space: Space, name: str, config: dict[str, Any]) -> bool:
    return all(
        parent in config and any(value_key(config[parent]) == value_key(v) for v in values)
        for parent, values in space[name].when.items()
    )


@_SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_samples_are_valid(space: Space, seed: int) -> None:
    configs = space.sample(np.random.default_rng(seed), 10)
    for config in configs:
        assert space.validate(config) == config
        assert list(config) == [n for n in space.names if n in config]
        for name in space.names:  # present exactly when its condition holds
            assert (name in config) == _holds(space, name, config), name
        for name, value in config.items():
            assert type(value) in PLAIN_TYPES
            assert space[name].contains(value)
            param = space[name]
            if isinstance(param, (Float, Int)):
                assert param.low <= value <= param.high
        assert space.active_names(config) == list(config)


@_SETTINGS
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_encode_decode_round_trips(space: Space, seed: int) -> None:
    rng = np.random.default_rng(seed)
    U = rng.random((10, space.dim))
    configs = space.decode(U)
    X = space.encode(configs)
    assert X.shape == (10, space.dim) and X.dtype == np.float64
    assert space.decode(X) == configs  # configs -> X -> configs, exactly
    for row, config in zip(X, configs, strict=True):  # NaN exactly where inactive
        assert [not math.isnan(u) for u in row] == [n in config for n in space.encoded_names]
        assert np.all((row[~np.isnan(row)] >= 0) & (row[~np.isnan(row)] <= 1))
    assert np.array_equal(space.encode(space.decode(X)), X, equal_nan=True)  # X -> X
    np.testing.assert_array_equal(space.sample_encoded(np.random.default_rng(seed), 10), X)


@_SETTINGS
@given(space=spaces())
def test_serialization_round_trips(space: Space) -> None:
    assert Space.from_dict(space.to_dict()) == space
    assert Space.from_json(space.to_json()) == space
    assert Space.from_yaml(space.to_yaml()) == space
    assert json.loads(space.to_json()) == space.to_dict()
    assert pickle.loads(pickle.dumps(space)) == space
    again = Space.from_yaml(space.to_yaml())
    assert all(again[n].when == space[n].when for n in space)


def test_float_range_whose_width_overflows_says_so() -> None:
    with pytest.raises(SpaceError, match=r"high - low = 1e\+308 - \(-1e\+308\) overflows"):
        Float(-1e308, 1e308)
    assert Float(-1e307, 1e307).contains(10**306)  # large ints are compared, not overflowed
    with pytest.raises(SpaceError, match=r"low=-1000.* is beyond float64"):
        Float(-(10**400), 1)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "float", "low": 1, "high": 0}, "low=1.0 must be less than high=0.0"),
        ({"type": "float", "low": -1e308, "high": 1e308}, "overflows"),
        ({"type": "float", "low": 0, "high": 1, "log": True}, "log=True needs low > 0"),
        ({"type": "float", "low": 0, "high": 1, "step": 0.3}, "does not divide"),
        ({"type": "int", "low": 0, "high": 10, "step": 3}, "does not divide"),
        ({"type": "int", "low": 0, "high": 8, "log": True}, "log=True needs low >= 1"),
        ({"type": "categorical", "choices": ["a", "a"]}, "appears twice"),
    ],
)
def test_bad_bounds_in_a_spec_name_the_parameter(spec: dict, match: str) -> None:
    with pytest.raises(SpaceError, match=rf"parameter 'lr': .*{match}"):
        Space.from_dict({"lr": spec})


def test_a_yaml_space_with_a_key_given_twice_is_refused() -> None:
    text = "lr: {type: float, low: 0.001, high: 0.1}\nlr: {type: float, low: 0.5, high: 0.9}\n"
    with pytest.raises(SpaceError, match="duplicate key 'lr'"):
        Space.from_yaml(text)


def test_a_json_space_with_a_key_given_twice_is_refused() -> None:
    text = '{"x": {"type": "float", "low": 0, "high": 1}, "x": {"type": "int", "low": 0}}'
    with pytest.raises(SpaceError, match="duplicate key 'x'"):
        Space.from_json(text)
