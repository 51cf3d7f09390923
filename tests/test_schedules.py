"""Tests of the built-in schedule plugin module ``neuroplug.plugins.schedules``.

Expected rates are computed by hand from the documented formulas.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuroplug import registry
from neuroplug.base import Schedule
from neuroplug.errors import ConfigError, InputError, NonFiniteError
from neuroplug.plugins import schedules as sch

REGISTRATIONS = sch.neuroplug_schedules()
FACTORIES = {reg.name: reg.factory for reg in REGISTRATIONS}

# Parameters for every registered schedule (the required ones have no default).
EXAMPLES = {
    "constant": {},
    "step_decay": {},
    "multi_step": {"milestones": [3, 7]},
    "piecewise": {"boundaries": [2, 5], "values": [0.5, 1.0, 0.1]},
    "exponential_decay": {"decay_rate": 0.9, "decay_steps": 3},
    "inverse_time_decay": {},
    "polynomial_decay": {"total_steps": 20, "power": 2.0},
    "cosine_annealing": {"total_steps": 20},
    "cosine_warm_restarts": {"t_0": 4, "t_mult": 2},
    "linear_warmup": {"warmup_steps": 5, "after": sch.CosineAnnealing(10)},
    "one_cycle": {"total_steps": 30},
    "sequential": {"schedules": [sch.Constant(), sch.StepDecay(2)], "milestones": [4]},
    "reduce_on_plateau": {},
    "callable": {"fn": lambda t, lr: lr / (1 + t)},
}
DECAYING = [reg.name for reg in REGISTRATIONS if "decaying" in reg.properties]


def rates(schedule, steps, base_lr=1.0):
    return [schedule(t, base_lr) for t in steps]


def approx(values):
    return pytest.approx(values, rel=1e-12, abs=1e-15)


# ------------------------------------------------------------------- registrations
def test_registrations_are_valid_and_names_unique():
    names = [n for reg in REGISTRATIONS for n in (reg.name, *reg.aliases)]
    assert len(names) == len(set(names))
    assert set(EXAMPLES) == set(FACTORIES)
    for reg in REGISTRATIONS:
        assert reg.problems() == []
        assert reg.summary and reg.formula
        assert isinstance(reg.factory(**EXAMPLES[reg.name]), Schedule)
    assert "linear" in {reg.name: reg.aliases for reg in REGISTRATIONS}["polynomial_decay"]


def test_decaying_tags_match_the_class_flag():
    assert set(DECAYING) == {"constant", "step_decay", "multi_step", "exponential_decay", "inverse_time_decay",
                             "polynomial_decay", "cosine_annealing", "reduce_on_plateau"}
    for reg in REGISTRATIONS:
        assert reg.factory.decaying == (reg.name in DECAYING)


def test_units():
    for name, factory in FACTORIES.items():
        default = "batch" if name == "one_cycle" else "epoch"
        assert factory(**EXAMPLES[name]).unit == default
        if name not in ("linear_warmup", "sequential"):  # their nested examples count epochs
            assert factory(**EXAMPLES[name], unit="batch").unit == "batch"
    with pytest.raises(ConfigError, match="unit"):
        sch.Constant(unit="iteration")


# ----------------------------------------------------------------- general contract
@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("base_lr", [0.0, 0.05, 3.0])
def test_rates_are_finite_and_non_negative(name, base_lr):
    lr = FACTORIES[name](**EXAMPLES[name]).preview(200, base_lr)
    assert lr.dtype == np.float64 and lr.shape == (200,)
    assert np.isfinite(lr).all() and (lr >= 0).all()


@pytest.mark.parametrize("name", DECAYING)
def test_decaying_schedules_start_at_base_lr_and_never_increase(name):
    lr = FACTORIES[name](**EXAMPLES[name]).preview(200, 0.1)
    assert lr[0] == 0.1
    assert (np.diff(lr) <= 0).all()


@pytest.mark.parametrize("name", FACTORIES)
def test_closed_form_is_stateless(name):
    schedule = FACTORIES[name](**EXAMPLES[name])
    forward = rates(schedule, range(40), 0.3)
    backward = rates(schedule, reversed(range(40)), 0.3)
    assert forward == backward[::-1]
    assert schedule.preview(40, 0.3).tolist() == forward


@pytest.mark.parametrize("step,base_lr,word", [(-1, 0.1, "step"), (1.5, 0.1, "step"), (True, 0.1, "step"),
                                               (0, -0.1, "base_lr"), (0, math.nan, "base_lr")])
def test_call_arguments_are_checked(step, base_lr, word):
    with pytest.raises(InputError, match=word):
        sch.Constant()(step, base_lr)


@pytest.mark.parametrize("name", [n for n in FACTORIES if n != "callable"])
def test_config_round_trip(name):
    schedule = FACTORIES[name](**EXAMPLES[name])
    config = schedule.get_config()
    json.dumps(config)
    rebuilt = FACTORIES[name](**config)
    assert rebuilt.preview(60, 0.2).tolist() == schedule.preview(60, 0.2).tolist()


# ----------------------------------------------------------------- hand-computed values
def test_constant():
    assert rates(sch.Constant(), [0, 1, 100], 0.25) == [0.25, 0.25, 0.25]


def test_step_decay():
    s = sch.StepDecay(step_size=3, gamma=0.5)
    assert rates(s, [0, 2, 3, 5, 6, 9], 0.8) == approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.1])


def test_multi_step():
    s = sch.MultiStep(milestones=[2, 5], gamma=0.1)
    assert rates(s, [0, 1, 2, 4, 5, 50]) == approx([1, 1, 0.1, 0.1, 0.01, 0.01])
    assert rates(sch.MultiStep([]), [0, 9]) == [1.0, 1.0]


def test_piecewise():
    s = sch.Piecewise(boundaries=[3, 6], values=[1.0, 0.5, 0.2])
    assert rates(s, [0, 2, 3, 5, 6, 99], 0.1) == approx([0.1, 0.1, 0.05, 0.05, 0.02, 0.02])


def test_exponential_decay():
    s = sch.ExponentialDecay(decay_rate=0.5, decay_steps=2)
    assert rates(s, [0, 1, 2, 3], 2.0) == approx([2.0, 2 * 0.5**0.5, 1.0, 2 * 0.5**1.5])
    stairs = sch.ExponentialDecay(decay_rate=0.5, decay_steps=2, staircase=True)
    assert rates(stairs, [0, 1, 2, 3, 4], 2.0) == approx([2.0, 2.0, 1.0, 1.0, 0.5])


def test_inverse_time_decay():
    s = sch.InverseTimeDecay(decay_rate=0.5, decay_steps=2)
    assert rates(s, [0, 1, 4, 6]) == approx([1, 1 / 1.25, 1 / 2, 1 / 2.5])
    stairs = sch.InverseTimeDecay(decay_rate=0.5, decay_steps=2, staircase=True)
    assert rates(stairs, [1, 3, 4]) == approx([1, 1 / 1.5, 1 / 2])


def test_polynomial_decay():
    s = sch.PolynomialDecay(total_steps=10, end_lr_factor=0.1, power=2.0)
    assert rates(s, [0, 5, 9, 10, 30]) == approx([1, 0.1 + 0.9 * 0.25, 0.1 + 0.9 * 0.01, 0.1, 0.1])
    linear = sch.PolynomialDecay(total_steps=4)
    assert rates(linear, [0, 1, 2, 3, 4, 5], 2.0) == approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0])


def test_cosine_annealing():
    s = sch.CosineAnnealing(total_steps=4, min_lr=0.1)
    c = (1 + math.cos(math.pi / 4)) / 2
    assert rates(s, [0, 1, 2, 3, 4, 7]) == approx([1, 0.1 + 0.9 * c, 0.55, 0.1 + 0.9 * (1 - c), 0.1, 0.1])


def test_cosine_min_lr_above_base_lr_is_refused():
    with pytest.raises(ConfigError, match="min_lr"):
        sch.CosineAnnealing(10, min_lr=0.5)(0, 0.1)
    with pytest.raises(ConfigError, match="min_lr"):
        sch.CosineWarmRestarts(10, min_lr=0.5)(0, 0.1)


def test_cosine_warm_restarts():
    half = lambda x: (1 + math.cos(math.pi * x)) / 2  # noqa: E731
    s = sch.CosineWarmRestarts(t_0=2, t_mult=2)  # periods [0, 2), [2, 6), [6, 14), [14, 30)
    assert rates(s, [0, 1, 2, 3, 4, 5, 6, 13, 14, 29, 30]) == approx(
        [1, 0.5, 1, half(1 / 4), 0.5, half(3 / 4), 1, half(7 / 8), 1, half(15 / 16), 1])
    flat = sch.CosineWarmRestarts(t_0=3, min_lr=0.2)
    assert rates(flat, [0, 1, 3, 4, 300]) == approx([1, 0.2 + 0.8 * 0.75, 1, 0.2 + 0.8 * 0.75, 1])


def test_linear_warmup_default_ramp():
    s = sch.LinearWarmup(warmup_steps=4)
    assert rates(s, range(7), 0.5) == approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5])


def test_linear_warmup_start_factor_and_after():
    s = sch.LinearWarmup(warmup_steps=4, start_factor=0.5, after=sch.StepDecay(step_size=2, gamma=0.5))
    assert rates(s, range(9)) == approx([0.5, 0.625, 0.75, 0.875, 1, 1, 0.5, 0.5, 0.25])
    assert sch.LinearWarmup(0, after=sch.StepDecay(1))(1, 1.0) == 0.5


def test_one_cycle():
    # T=10, pct 0.3: rise over steps 0..2 (u = 2), fall over 2..9
    s = sch.OneCycle(total_steps=10, pct_start=0.3, div_factor=10.0, final_div_factor=100.0)
    fall = lambda x: 0.001 + 0.999 * (1 + math.cos(math.pi * x)) / 2  # noqa: E731
    assert rates(s, [0, 1, 2, 5, 9, 20]) == approx([0.1, 0.55, 1.0, fall(3 / 7), 0.001, 0.001])


def test_one_cycle_peak_is_base_lr():
    lr = sch.OneCycle(total_steps=100).preview(100, 0.4)
    assert lr.max() == pytest.approx(0.4, rel=1e-12) and lr.argmax() == 29
    assert lr[0] == pytest.approx(0.4 / 25, rel=1e-12) and lr[-1] == pytest.approx(0.4 / 25 / 1e4, rel=1e-12)


def test_sequential():
    s = sch.Sequential([sch.Constant(), sch.StepDecay(1, 0.5), sch.Piecewise([1], [0.3, 0.2])], milestones=[3, 5])
    assert rates(s, range(8)) == approx([1, 1, 1, 1, 0.5, 0.3, 0.2, 0.2])


def test_callable_schedule():
    s = sch.CallableSchedule(lambda t, lr: lr * 0.5**t)
    assert rates(s, [0, 3], 2.0) == [2.0, 0.25]
    assert not s.serializable and "CallableSchedule" in repr(s)
    with pytest.raises(ConfigError, match="cannot be saved"):
        s.get_config()
    with pytest.raises(ConfigError, match="returned"):
        sch.CallableSchedule(lambda t, lr: -lr)(0, 1.0)
    with pytest.raises(ConfigError, match="fn"):
        sch.CallableSchedule(0.1)
    nested = sch.Sequential([sch.Constant(), s], milestones=[2])
    assert "CallableSchedule" in repr(nested)
    with pytest.raises(ConfigError, match="cannot be saved"):
        nested.get_config()


# ----------------------------------------------------------------------- plateau
def observe_all(s, values, key="val_loss"):
    lrs = []
    for epoch, v in enumerate(values):
        s.observe(epoch, {key: v})
        lrs.append(s(epoch + 1, 1.0))
    return lrs


def test_plateau_patience():
    s = sch.ReduceOnPlateau(factor=0.5, patience=2, min_delta=0.0)
    # improve, bad, bad -> reduce, bad, bad -> reduce, improve, bad
    assert observe_all(s, [1.0, 1.0, 1.2, 1.1, 1.0, 0.5, 0.6]) == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert s.get_state() == {"best": 0.5, "wait": 1, "cooldown_left": 0, "reductions": 2}


def test_plateau_min_delta_and_mode_max():
    s = sch.ReduceOnPlateau(monitor="acc", mode="max", factor=0.1, patience=1, min_delta=0.01)
    # 0.505 is not 0.01 better than 0.5; 0.52 is
    assert observe_all(s, [0.5, 0.505, 0.52, 0.52], key="acc") == approx([1, 0.1, 0.1, 0.01])


def test_plateau_cooldown_ignores_exactly_cooldown_epochs():
    s = sch.ReduceOnPlateau(factor=0.5, patience=1, cooldown=2, min_delta=0.0)
    # reduce at epoch 1, epochs 2 and 3 ignored, epoch 4 counts and reduces
    assert observe_all(s, [1.0, 2.0, 2.0, 2.0, 2.0]) == [1, 0.5, 0.5, 0.5, 0.25]


def test_plateau_min_lr_floor_never_above_base():
    s = sch.ReduceOnPlateau(factor=0.1, patience=1, min_lr=0.05)
    observe_all(s, [1.0, 2.0, 2.0, 2.0])
    assert s(0, 1.0) == 0.05
    assert s(0, 0.01) == 0.01  # min_lr floors the rate, it never lifts it above base_lr
    assert sch.ReduceOnPlateau(min_lr=0.5)(0, 0.1) == 0.1


def test_plateau_state_round_trip():
    s = sch.ReduceOnPlateau(factor=0.5, patience=2, cooldown=1)
    observe_all(s, [1.0, 1.1, 1.2, 1.3])
    state = json.loads(json.dumps(s.get_state()))
    copy = sch.ReduceOnPlateau(**s.get_config())
    copy.set_state(state)
    tail = [1.4, 0.2, 0.3, 0.3, 0.3]
    assert observe_all(copy, tail) == observe_all(s, tail)
    assert copy.get_state() == s.get_state()


def test_plateau_errors():
    s = sch.ReduceOnPlateau()
    with pytest.raises(ConfigError, match="val_loss"):
        s.observe(0, {"loss": 1.0})
    with pytest.raises(InputError, match="keys"):
        s.set_state({"best": 1.0})
    assert sch.ReduceOnPlateau.stateful and sch.ReduceOnPlateau().get_state()["best"] is None


def test_nan_metric_does_not_improve():
    s = sch.ReduceOnPlateau(patience=1)
    assert observe_all(s, [1.0, math.nan]) == approx([1, 0.1])


# ---------------------------------------------------------------- nested schedules
def test_nested_units_must_agree_and_stateful_is_refused():
    with pytest.raises(ConfigError, match="unit"):
        sch.LinearWarmup(2, after=sch.CosineAnnealing(5, unit="batch"))
    with pytest.raises(ConfigError, match="stateful"):
        sch.Sequential([sch.Constant(), sch.ReduceOnPlateau()], milestones=[2])


def test_nested_by_name_and_dict_inherit_the_unit():
    with registry.isolated_registry():
        s = sch.Sequential(["constant", {"name": "step_decay", "config": {"step_size": 1}}], milestones=[2],
                           unit="batch")
        assert [c.unit for c in s.schedules] == ["batch", "batch"]
        assert rates(s, range(5)) == approx([1, 1, 1, 0.5, 0.25])
        config = s.get_config()
        assert config["schedules"][1] == {"kind": "schedule", "name": "step_decay",
                                          "config": {"step_size": 1, "gamma": 0.5, "unit": "batch"}}
        rebuilt = registry.create("schedule", registry.describe(s))
        assert rebuilt.preview(9).tolist() == s.preview(9).tolist()
        warm = sch.LinearWarmup(1, after={"name": "linear", "config": {"total_steps": 2}})
        assert rates(warm, range(4)) == approx([0.5, 1, 0.5, 0])


# ---------------------------------------------------------------------- bad params
@pytest.mark.parametrize("factory,params,word", [
    (sch.StepDecay, {"step_size": 0}, "step_size"),
    (sch.StepDecay, {"gamma": 1.5}, "gamma"),
    (sch.MultiStep, {"milestones": [5, 3]}, "milestones"),
    (sch.MultiStep, {"milestones": [0, 3]}, "milestones"),
    (sch.MultiStep, {"milestones": 3}, "milestones"),
    (sch.MultiStep, {"milestones": [2], "gamma": 0}, "gamma"),
    (sch.Piecewise, {"boundaries": [2], "values": [1.0]}, "values"),
    (sch.Piecewise, {"boundaries": [2], "values": [1.0, -0.5]}, r"values\[1\]"),
    (sch.ExponentialDecay, {"decay_rate": 1.2}, "decay_rate"),
    (sch.ExponentialDecay, {"decay_steps": 0}, "decay_steps"),
    (sch.ExponentialDecay, {"staircase": 1}, "staircase"),
    (sch.InverseTimeDecay, {"decay_rate": -1}, "decay_rate"),
    (sch.PolynomialDecay, {"total_steps": 0}, "total_steps"),
    (sch.PolynomialDecay, {"total_steps": 5, "end_lr_factor": 2}, "end_lr_factor"),
    (sch.PolynomialDecay, {"total_steps": 5, "power": 0}, "power"),
    (sch.CosineAnnealing, {"total_steps": 5, "min_lr": -1}, "min_lr"),
    (sch.CosineWarmRestarts, {"t_0": 5, "t_mult": 1.5}, "t_mult"),
    (sch.LinearWarmup, {"warmup_steps": -1}, "warmup_steps"),
    (sch.LinearWarmup, {"warmup_steps": 3, "start_factor": 0}, "start_factor"),
    (sch.LinearWarmup, {"warmup_steps": 3, "after": 0.5}, "schedule"),
    (sch.OneCycle, {"total_steps": 10, "pct_start": 1.0}, "pct_start"),
    (sch.OneCycle, {"total_steps": 3, "pct_start": 0.3}, "pct_start"),
    (sch.OneCycle, {"total_steps": 10, "div_factor": 0.5}, "div_factor"),
    (sch.Sequential, {"schedules": [], "milestones": []}, "schedules"),
    (sch.Sequential, {"schedules": [sch.Constant()] * 2, "milestones": []}, "milestones"),
    (sch.ReduceOnPlateau, {"mode": "lowest"}, "mode"),
    (sch.ReduceOnPlateau, {"factor": 1.0}, "factor"),
    (sch.ReduceOnPlateau, {"patience": 0}, "patience"),
    (sch.ReduceOnPlateau, {"cooldown": -1}, "cooldown"),
    (sch.ReduceOnPlateau, {"monitor": ""}, "monitor"),
])
def test_bad_params_raise_config_error(factory, params, word):
    with pytest.raises(ConfigError, match=word):
        factory(**params)


# ------------------------------------------------------------------- robustness (test_api_properties)

BIG = 1.7976931348623157e308  # the largest float


@pytest.mark.parametrize("schedule", [sch.OneCycle(total_steps=100), sch.CosineAnnealing(total_steps=10),
                                      sch.CosineWarmRestarts(t_0=5)], ids=lambda s: type(s).__name__)
def test_cosine_schedules_do_not_overflow_at_the_largest_rate(schedule):
    # found while writing the properties: (start - end) * (1 + cos) overflowed before the halving,
    # so one_cycle(step 0, base_lr 1.7e308) was -inf
    for step in range(12):
        lr = schedule(step, BIG)
        assert math.isfinite(lr) and lr == pytest.approx(BIG * schedule(step, 1.0), rel=1e-12)


def test_a_rate_that_overflows_is_a_non_finite_error():
    with pytest.raises(NonFiniteError, match="piecewise|Piecewise"):
        sch.Piecewise(boundaries=[1], values=[1.0, 1e300])(1, 1e10)
    with pytest.raises(NonFiniteError, match="step"):
        sch.ExponentialDecay()(10**400, 0.1)  # Python: int too large to convert to float


def test_decay_over_a_tiny_period():
    # t / decay_steps overflows to inf: 0 * inf was nan, math.floor(inf) raised OverflowError
    assert sch.InverseTimeDecay(decay_rate=0.0, decay_steps=5e-324)(3, 0.1) == 0.1
    assert sch.InverseTimeDecay(decay_rate=0.5, decay_steps=5e-324)(3, 0.1) == 0.0
    assert sch.ExponentialDecay(decay_rate=0.5, decay_steps=5e-324, staircase=True)(3, 0.1) == 0.0
    assert sch.InverseTimeDecay(decay_rate=0.5, decay_steps=5e-324, staircase=True)(3, 0.1) == 0.0


@pytest.mark.parametrize("value", ["0.1", None, [0.1], True, 10**400, float("nan"), -1.0])
def test_a_callable_returning_no_rate_is_a_config_error(value):
    # hypothesis found: fn returning "x" raised ValueError from float(); None a TypeError
    with pytest.raises(ConfigError, match="returned"):
        sch.CallableSchedule(lambda step, base_lr: value)(0, 0.1)


# ------------------------------------------------------------- spec declarations
def test_registrations_declare_their_formula_and_parameter_ranges():
    from neuroplug.types import Param

    for reg in REGISTRATIONS:
        assert reg.implements == (() if reg.name == "callable" else (reg.name,))
        assert reg.parameter_space["unit"] == Param.choice("epoch", "batch")
        params = set(reg.parameters)
        assert set(reg.parameter_space) <= params, reg.name
        base = dict(reg.spec_config or {})
        for example in reg.example_configs:  # every declared example builds and gives finite rates
            assert set(example) <= params
            lr = reg.factory(**{**base, **example}).preview(60, 1.0)
            assert np.isfinite(lr).all() and (lr >= 0).all()
        for name, space in reg.parameter_space.items():  # the ends of each typical range build
            assert space.problems() == []
            if space.type != "choice" and space.typical is not None:
                for value in space.typical:
                    value = int(value) if space.type == "integer" else float(value)
                    if space.contains(value) and not (reg.name == "one_cycle" and name == "total_steps"):
                        reg.factory(**{**base, name: value})
