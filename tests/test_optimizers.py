"""Tests of the built-in optimizer plugin module ``neuroplug.plugins.optimizers``.

Each optimizer is run for three steps (with a changing learning rate) against a
textbook float64 reference written from the documented formulas.
"""

from __future__ import annotations

import inspect
import tracemalloc

import numpy as np
import pytest

from neuroplug.base import Optimizer
from neuroplug.errors import ConfigError, InputError, ShapeError
from neuroplug.plugins import optimizers as opt

REGISTRATIONS = opt.neuroplug_optimizers()
FACTORIES = {reg.name: reg.factory for reg in REGISTRATIONS}
LRS = [0.1, 0.05, 0.2]
SHAPES = [(3, 4), (4,)]


def make_problem(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in LRS]
    return params, grads


def run(optimizer, params, grads, lrs=LRS):
    params = [p.copy() for p in params]
    for g, lr in zip(grads, lrs):
        optimizer.step(params, g, lr)
    return params


# ----------------------------------------------------------------- references
def ref_sgd(p, grads, momentum=0.0, nesterov=False, weight_decay=0.0):
    v = np.zeros_like(p)
    for g, lr in zip(grads, LRS):
        g = g + weight_decay * p
        v = momentum * v + g
        p = p - lr * (g + momentum * v if nesterov else v)
    return p


def ref_adam(p, grads, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    m = v = np.zeros_like(p)
    for t, (g, lr) in enumerate(zip(grads, LRS), start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        p = p - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return p


def ref_rmsprop(p, grads, rho=0.99, eps=1e-8, momentum=0.0, centered=False, weight_decay=0.0):
    v = mean = buf = np.zeros_like(p)
    for g, lr in zip(grads, LRS):
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g**2
        mean = rho * mean + (1 - rho) * g
        d = np.sqrt(v - mean**2 if centered else v) + eps
        buf = momentum * buf + g / d
        p = p - lr * (buf if momentum else g / d)
    return p


def ref_adagrad(p, grads, eps=1e-10, initial_accumulator_value=0.0, weight_decay=0.0):
    total = np.full_like(p, initial_accumulator_value)
    for g, lr in zip(grads, LRS):
        g = g + weight_decay * p
        total = total + g**2
        p = p - lr * g / (np.sqrt(total) + eps)
    return p


CASES = [
    ("sgd", {}, ref_sgd),
    ("sgd", {"momentum": 0.9}, ref_sgd),
    ("sgd", {"momentum": 0.9, "nesterov": True}, ref_sgd),
    ("sgd", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.1}, ref_sgd),
    ("sgd", {"weight_decay": 0.01}, ref_sgd),
    ("adam", {}, ref_adam),
    ("adam", {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}, ref_adam),
    ("adamw", {}, lambda p, g, **kw: ref_adam(p, g, weight_decay=0.01, decoupled=True, **kw)),
    ("adamw", {"weight_decay": 0.3, "beta2": 0.99},
     lambda p, g, **kw: ref_adam(p, g, decoupled=True, **kw)),
    ("rmsprop", {}, ref_rmsprop),
    ("rmsprop", {"rho": 0.9, "momentum": 0.8}, ref_rmsprop),
    ("rmsprop", {"centered": True, "eps": 1e-3}, ref_rmsprop),
    ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.2}, ref_rmsprop),
    ("adagrad", {}, ref_adagrad),
    ("adagrad", {"initial_accumulator_value": 0.1, "eps": 1e-3, "weight_decay": 0.05}, ref_adagrad),
]
IDS = [f"{name}-{params}" if params else name for name, params, _ in CASES]


# --------------------------------------------------------------- registrations
def test_registrations_are_valid_and_names_unique():
    names = [n for reg in REGISTRATIONS for n in (reg.name, *reg.aliases)]
    assert len(names) == len(set(names))
    assert set(names) == {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    for reg in REGISTRATIONS:
        assert reg.problems() == []
        assert reg.summary and reg.formula
        assert isinstance(reg.factory(), Optimizer)
        # the spec suite checks the claim against its reference, over drawn and example configs
        assert tuple(reg.implements) == (reg.name,)
        params = set(inspect.signature(reg.factory).parameters)
        assert reg.parameter_space and set(reg.parameter_space) <= params
        assert all(set(c) <= params for c in reg.example_configs) and reg.example_configs
        for config in reg.example_configs:
            reg.factory(**config)


# ------------------------------------------------------------------ the updates
@pytest.mark.parametrize("name,params,reference", CASES, ids=IDS)
def test_three_steps_match_reference(name, params, reference):
    p0, grads = make_problem()
    optimizer = FACTORIES[name](**params)
    optimizer.setup(p0)
    got = run(optimizer, p0, grads)
    for i in range(len(SHAPES)):
        expected = reference(p0[i], [g[i] for g in grads], **params)
        np.testing.assert_allclose(got[i], expected, rtol=1e-13, atol=1e-15)
    assert optimizer.get_state()["step"] == 3


@pytest.mark.parametrize("name,params,reference", CASES, ids=IDS)
def test_float32_stays_float32_and_close_to_float64(name, params, reference):
    p64, grads64 = make_problem()
    p32 = [p.astype(np.float32) for p in p64]
    grads32 = [[g.astype(np.float32) for g in gs] for gs in grads64]
    optimizer = FACTORIES[name](**params)
    optimizer.setup(p32)
    originals = [p.copy() for p in p32]
    for g, lr in zip(grads32, LRS):
        optimizer.step(p32, g, lr)  # in place
    assert all(p.dtype == np.float32 for p in p32)
    assert not any(np.array_equal(p, o) for p, o in zip(p32, originals))
    for key, value in optimizer.get_state().items():
        assert key == "step" or value.dtype == np.float32
    for i in range(len(SHAPES)):
        expected = reference(p64[i], [g[i].astype(np.float64) for g in grads32], **params)
        # a few float32 roundings per step, on values of order 1
        np.testing.assert_allclose(p32[i], expected, rtol=0, atol=64 * np.finfo(np.float32).eps)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_sgd_moves_by_exactly_minus_lr_g(dtype):
    params, grads = make_problem(dtype)
    p = params[0]
    before = p.copy()
    optimizer = opt.SGD()
    optimizer.step([p, params[1]], grads[0], 0.1)
    assert np.array_equal(p, before - 0.1 * grads[0][0])
    assert np.array_equal(p, before - dtype(0.1) * grads[0][0])
    assert p.dtype == dtype


def test_updates_in_place():
    params, grads = make_problem(np.float32)
    ids = [id(p) for p in params]
    pointers = [p.ctypes.data for p in params]
    opt.Adam().step(params, grads[0], 0.1)
    assert [id(p) for p in params] == ids and [p.ctypes.data for p in params] == pointers


@pytest.mark.parametrize("name,params", [
    ("sgd", {}), ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}), ("adam", {"weight_decay": 0.1}),
    ("adamw", {}), ("rmsprop", {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("adagrad", {"weight_decay": 0.1})])
def test_step_allocates_no_temporaries(name, params):
    # one 1 MB parameter: any full-size temporary would show as a 1 MB peak
    p = np.ones(2**18, dtype=np.float32)
    g = np.full_like(p, 0.5)
    optimizer = FACTORIES[name](**params)
    optimizer.setup([p])
    optimizer.step([p], [g], 0.1)
    tracemalloc.start()
    try:
        optimizer.step([p], [g], 0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.nbytes // 16


def test_lazy_setup_equals_explicit_setup():
    params, grads = make_problem()
    explicit = opt.RMSprop(momentum=0.5)
    explicit.setup(params)
    assert [p.tolist() for p in run(opt.RMSprop(momentum=0.5), params, grads)] == \
        [p.tolist() for p in run(explicit, params, grads)]


# ------------------------------------------------------------------------ state
@pytest.mark.parametrize("name,params", [(n, p) for n, p, _ in CASES], ids=IDS)
def test_state_round_trip_continues_identically(name, params):
    p0, grads = make_problem(np.float32)
    first = FACTORIES[name](**params)
    middle = run(first, p0, grads[:2], LRS[:2])
    state = first.get_state()
    snapshot = {k: np.copy(v) for k, v in state.items()}
    second = FACTORIES[name](**first.get_config())
    second.setup([p.copy() for p in middle])
    second.set_state(state)
    a = run(first, middle, grads[2:], LRS[2:])
    b = run(second, middle, grads[2:], LRS[2:])
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.array_equal(state[k], snapshot[k]) for k in state)  # get_state returned copies
    assert second.get_state().keys() == first.get_state().keys()


def test_state_keys():
    params, grads = make_problem()
    expected = {
        opt.SGD(): {"step"},
        opt.SGD(momentum=0.9): {"step", "momentum_buffer.0", "momentum_buffer.1"},
        opt.Adam(): {"step", "exp_avg.0", "exp_avg.1", "exp_avg_sq.0", "exp_avg_sq.1"},
        opt.RMSprop(centered=True): {"step", "square_avg.0", "square_avg.1", "grad_avg.0", "grad_avg.1"},
        opt.Adagrad(initial_accumulator_value=0.1): {"step", "sum.0", "sum.1"},
    }
    for optimizer, keys in expected.items():
        optimizer.setup(params)
        assert set(optimizer.get_state()) == keys
    assert (opt.Adagrad(initial_accumulator_value=0.1).get_state() == {"step": 0})
    adagrad = opt.Adagrad(initial_accumulator_value=0.1)
    adagrad.setup(params)
    assert (adagrad.get_state()["sum.1"] == 0.1).all()


def test_set_state_errors():
    params, _ = make_problem()
    with pytest.raises(InputError, match="setup"):
        opt.Adam().set_state({"step": 0})
    adam = opt.Adam()
    adam.setup(params)
    with pytest.raises(InputError, match="exp_avg"):
        adam.set_state({"step": 1})
    state = adam.get_state()
    state["exp_avg.0"] = np.zeros((2, 2))
    with pytest.raises(ShapeError, match="exp_avg.0"):
        adam.set_state(state)


# ----------------------------------------------------------------------- errors
def test_step_argument_errors():
    params, grads = make_problem()
    sgd = opt.SGD()
    sgd.setup(params)
    with pytest.raises(ShapeError, match="grads"):
        sgd.step(params, grads[0][:1], 0.1)
    with pytest.raises(ShapeError, match=r"grads\[1\]"):
        sgd.step(params, [grads[0][0], np.zeros(5)], 0.1)
    with pytest.raises(InputError, match="dtype"):
        sgd.step(params, [grads[0][0], grads[0][1].astype(np.float32)], 0.1)
    with pytest.raises(InputError, match="lr"):
        sgd.step(params, grads[0], -0.1)
    with pytest.raises(InputError, match="floating"):
        opt.SGD().setup([np.zeros(3, dtype=np.int64)])


@pytest.mark.parametrize("factory,params,word", [
    (opt.SGD, {"momentum": 1.0}, "momentum"),
    (opt.SGD, {"momentum": -0.1}, "momentum"),
    (opt.SGD, {"nesterov": True}, "nesterov"),
    (opt.SGD, {"nesterov": "yes", "momentum": 0.9}, "nesterov"),
    (opt.SGD, {"weight_decay": -1e-4}, "weight_decay"),
    (opt.Adam, {"beta1": 1.0}, "beta1"),
    (opt.Adam, {"beta2": -0.5}, "beta2"),
    (opt.Adam, {"eps": 0.0}, "eps"),
    (opt.AdamW, {"weight_decay": -0.01}, "weight_decay"),
    (opt.AdamW, {"beta2": 1.5}, "beta2"),
    (opt.RMSprop, {"rho": 1.0}, "rho"),
    (opt.RMSprop, {"centered": 1}, "centered"),
    (opt.RMSprop, {"momentum": 2}, "momentum"),
    (opt.Adagrad, {"eps": -1.0}, "eps"),
    (opt.Adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
])
def test_bad_params_raise_config_error(factory, params, word):
    with pytest.raises(ConfigError, match=word):
        factory(**params)


@pytest.mark.parametrize("name", FACTORIES)
def test_config_round_trip(name):
    optimizer = FACTORIES[name]()
    assert FACTORIES[name](**optimizer.get_config()).get_config() == optimizer.get_config()


# ------------------------------------------------------------------- robustness (test_api_properties)

@pytest.mark.parametrize("name, params, dtype", [("adam", {"eps": 5e-324}, np.float32),
                                                 ("rmsprop", {"eps": 1e-50}, np.float32),
                                                 ("adagrad", {}, np.float16), ("adam", {}, np.float16)])
def test_an_eps_that_is_zero_in_the_parameters_dtype_is_an_input_error(name, params, dtype):
    # hypothesis found: adam(eps=5e-324) on float32 zeros divided 0 by 0 (eps rounds to 0):
    # "invalid value encountered in divide" and NaN parameters
    optimizer = FACTORIES[name](**params)
    with pytest.raises(InputError, match="eps"):
        optimizer.setup([np.zeros(3, dtype)])
    FACTORIES[name](**params).setup([np.zeros(3, np.float64)])  # representable there


@pytest.mark.parametrize("name", FACTORIES)
def test_a_rate_beyond_the_parameters_dtype_is_an_input_error(name):
    # hypothesis found: step(lr=1e39) on float32 parameters warned "overflow encountered in cast"
    # and made them NaN
    p, g = np.ones(3, np.float32), np.ones(3, np.float32)
    optimizer = FACTORIES[name]()
    optimizer.setup([p])
    with pytest.raises(InputError, match="lr"):
        optimizer.step([p], [g], 1e39)
    np.testing.assert_array_equal(p, 1.0)
    optimizer.step([p], [g], 1e-3)
    assert np.all(np.isfinite(p))


def test_hyper_parameters_beyond_the_dtype_are_input_errors():
    with pytest.raises(InputError, match="weight_decay"):
        opt.SGD(weight_decay=1e39).setup([np.zeros(2, np.float32)])
    with pytest.raises(InputError, match="initial_accumulator_value"):
        opt.Adagrad(eps=1e-3, initial_accumulator_value=1e5).setup([np.zeros(2, np.float16)])


def test_params_and_grads_must_be_lists_of_arrays():
    optimizer = opt.SGD()
    with pytest.raises(InputError, match="params"):
        optimizer.setup(None)
    optimizer.setup([np.zeros(2)])
    with pytest.raises(InputError, match="grads"):
        optimizer.step([np.zeros(2)], None, 0.1)
    with pytest.raises(InputError, match=r"params\[0\]"):
        optimizer.step([[0.0, 0.0]], [np.zeros(2)], 0.1)
