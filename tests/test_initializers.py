"""Tests of the built-in initializer plugin module ``neuroplug.plugins.initializers``.

Statistical checks follow the spec-suite budget: 16,384 draws on an asymmetric
64x256 shape; the support test ``max|w| >= a(1 - 0.002)`` fails a correct
implementation with probability (1 - 0.002)^16384 ~ 6e-15, and moment tests use
six standard errors (two-sided false-failure probability ~ 2e-9 each).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from neuroplug.base import Initializer
from neuroplug.errors import ConfigError, InputError, NonFiniteError
from neuroplug.plugins import initializers as inits

REGISTRATIONS = inits.neuroplug_initializers()
FACTORIES = {reg.name: reg.factory for reg in REGISTRATIONS}
PROPERTIES = {reg.name: reg.properties for reg in REGISTRATIONS}
RANDOM = [name for name, props in PROPERTIES.items() if "seeded" in props]
N_IN, N_OUT = 64, 256  # 16,384 draws
DTYPES = [np.float32, np.float64]


def draw(init, fan_in=N_IN, fan_out=N_OUT, seed=0, dtype=np.float64):
    return init(fan_in, fan_out, np.random.default_rng(seed), dtype)


def assert_moments(w, mean, std, kurtosis):
    """Sample mean and variance within six standard errors of ``mean`` and ``std**2``."""
    n = w.size
    w = w.astype(np.float64)
    assert abs(w.mean() - mean) <= 6 * std / math.sqrt(n)
    assert abs(w.var() / std**2 - 1) <= 6 * math.sqrt((kurtosis - 1) / n)


def assert_support(w, low, high, delta=0.002):
    """Every value in [low, high] and both ends reached within ``delta`` of the width."""
    w = w.astype(np.float64)
    assert w.min() >= low and w.max() <= high
    width = high - low
    assert w.min() <= low + delta * width / 2 and w.max() >= high - delta * width / 2


# ------------------------------------------------------------------- registrations
def test_registrations_are_valid_and_names_unique():
    names = [n for reg in REGISTRATIONS for n in (reg.name, *reg.aliases)]
    assert len(names) == len(set(names))
    for reg in REGISTRATIONS:
        assert reg.problems() == []
        assert reg.summary and reg.formula
        assert isinstance(reg.factory(), Initializer)


def test_property_tags():
    assert {n for n, p in PROPERTIES.items() if "deterministic_values" in p} == {"zeros", "ones", "constant"}
    assert {n for n, p in PROPERTIES.items() if "uniform_bound" in p} == {
        "uniform", "xavier", "normalized_xavier", "he_uniform", "lecun_uniform"}
    assert set(RANDOM) == set(FACTORIES) - {"zeros", "ones", "constant"}


def test_aliases():
    aliases = {reg.name: reg.aliases for reg in REGISTRATIONS}
    assert "glorot_uniform" in aliases["normalized_xavier"]
    assert aliases["xavier"] == ()  # the fan-in heuristic is not PyTorch's xavier_uniform_


def test_spec_declarations_claim_the_own_formula_and_build_for_every_drawn_config():
    """Each built-in claims its own formula; every config drawn from its parameter_space (and every
    example config) builds, so the spec suite exercises the parameters instead of skipping configs."""
    from neuroplug.spec.formulas import draw_config

    rng = np.random.default_rng(0)
    for reg in REGISTRATIONS:
        assert reg.implements == (reg.name,)
        assert set(reg.parameter_space) <= set(reg.parameters), reg.name
        for example in reg.example_configs:
            assert isinstance(reg.factory(**example), Initializer)
        for _ in range(50 if reg.parameter_space else 0):
            config = draw_config(reg.parameter_space, reg.parameters, rng)
            init = reg.factory(**config)
            assert np.isfinite(init(4, 3, np.random.default_rng(1), np.float32)).all(), (reg.name, config)
    numeric = {"constant", "uniform", "normal", "truncated_normal", "variance_scaling", "he_uniform", "he_normal",
               "orthogonal"}
    assert {reg.name for reg in REGISTRATIONS if reg.parameter_space} == numeric


# ------------------------------------------------------------------ shape and dtype
@pytest.mark.parametrize("name", FACTORIES)
@pytest.mark.parametrize("dtype", DTYPES + [np.float16])
@pytest.mark.parametrize("shape", [(N_IN, N_OUT), (N_OUT, N_IN), (1, 7), (5, 1)])
def test_shape_and_dtype(name, dtype, shape):
    w = FACTORIES[name]()(*shape, np.random.default_rng(0), dtype)
    assert w.shape == shape and w.dtype == dtype
    assert np.isfinite(w).all()


@pytest.mark.parametrize("name", RANDOM)
def test_seed_reproduces_and_differs(name):
    init = FACTORIES[name]()
    a, b, c = draw(init, seed=1), draw(init, seed=1), draw(init, seed=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", RANDOM)
def test_float32_is_float64_draw_rounded(name):
    init = FACTORIES[name]()
    w32, w64 = draw(init, dtype=np.float32), draw(init, dtype=np.float64)
    # Equal, except where a bounded initializer clipped a value rounded past its bound.
    differ = w32 != w64.astype(np.float32)
    assert np.all(np.abs(w32[differ]) == np.abs(w32).max())
    np.testing.assert_allclose(w32, w64, rtol=2**-23, atol=0)


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_constant_values(name):
    w = draw(FACTORIES[name](), dtype=np.float32)
    assert (w == (name == "ones")).all()
    assert (draw(inits.Constant(-0.25)) == -0.25).all()


def test_does_not_use_the_generator_when_deterministic():
    rng = np.random.default_rng(0)
    inits.Zeros()(3, 4, rng)
    assert rng.random() == np.random.default_rng(0).random()


# --------------------------------------------------------------------- uniform bounds
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fan_in,fan_out", [(N_IN, N_OUT), (N_OUT, N_IN)])
def test_xavier_bound_is_one_over_sqrt_fan_in(dtype, fan_in, fan_out):
    a = 1 / math.sqrt(fan_in)
    w = draw(inits.Xavier(), fan_in, fan_out, dtype=dtype)
    assert_support(w, -a, a)
    assert inits.Xavier().bounds(fan_in, fan_out) == (-a, a)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fan_in,fan_out", [(N_IN, N_OUT), (N_OUT, N_IN)])
def test_normalized_xavier_bound(dtype, fan_in, fan_out):
    a = math.sqrt(6) / math.sqrt(fan_in + fan_out)
    assert_support(draw(inits.NormalizedXavier(), fan_in, fan_out, dtype=dtype), -a, a)


def test_bound_holds_exactly_when_not_representable():
    # 1/sqrt(6) rounds up in float32: a draw rounded to that float would exceed the bound.
    a = 1 / math.sqrt(6)
    assert float(np.float32(a)) > a
    w = draw(inits.Xavier(), 6, 2**14, dtype=np.float32)
    assert np.abs(w.astype(np.float64)).max() <= a
    # the rounding step itself, on draws at the bound
    for dtype in (np.float16, np.float32, np.float64):
        rounded = inits._clipped(np.array([-a, a]), -a, a, np.dtype(dtype))
        assert rounded.dtype == dtype and np.abs(rounded.astype(np.float64)).max() <= a
        assert np.abs(rounded.astype(np.float64)).max() > a * (1 - np.finfo(dtype).eps)


@pytest.mark.parametrize("init,bound", [
    (inits.HeUniform(), math.sqrt(6 / N_IN)),
    (inits.HeUniform(mode="fan_out"), math.sqrt(6 / N_OUT)),
    (inits.HeUniform(nonlinearity="tanh"), 5 / 3 * math.sqrt(3 / N_IN)),
    (inits.LecunUniform(), math.sqrt(3 / N_IN)),
    (inits.VarianceScaling(2.0, "fan_avg", "uniform"), math.sqrt(3 * 2 / 160)),
])
def test_uniform_family_bounds_and_variance(init, bound):
    w = draw(init)
    assert_support(w, -bound, bound)
    assert_moments(w, 0.0, bound / math.sqrt(3), kurtosis=1.8)


def test_uniform_low_high():
    w = draw(inits.Uniform(-0.1, 0.3), dtype=np.float32)
    assert_support(w, -0.1, 0.3)
    assert_moments(w, 0.1, 0.4 / math.sqrt(12), kurtosis=1.8)


# ------------------------------------------------------------------- normal families
@pytest.mark.parametrize("init,std", [
    (inits.Normal(1.0, 0.5), 0.5),
    (inits.GlorotNormal(), math.sqrt(2 / (N_IN + N_OUT))),
    (inits.HeNormal(), math.sqrt(2 / N_IN)),
    (inits.HeNormal(mode="fan_out"), math.sqrt(2 / N_OUT)),
    (inits.HeNormal(nonlinearity="leaky_relu", param=0.2), math.sqrt(2 / 1.04 / N_IN)),
    (inits.LecunNormal(), math.sqrt(1 / N_IN)),
    (inits.VarianceScaling(0.5, "fan_out", "normal"), math.sqrt(0.5 / N_OUT)),
])
def test_normal_family_variance(init, std):
    w = draw(init)
    assert_moments(w, getattr(init, "mean", 0.0), std, kurtosis=3.0)
    assert np.abs(w - getattr(init, "mean", 0.0)).max() > 3 * std  # not truncated


def test_truncated_normal_support_and_std():
    init = inits.TruncatedNormal(mean=0.5, std=0.1)
    w = draw(init, dtype=np.float32)
    # the density at each cut is 0.057/σ: no draw within 0.02σ of it has probability 9e-9
    assert_support(w, 0.3, 0.7, delta=0.01)
    # the std of the untruncated normal is 0.1; truncation at ±2σ leaves 0.8796σ
    assert_moments(w, 0.5, 0.1 * 0.87962566103423978, kurtosis=3.0)


def test_truncated_normal_asymmetric_cut():
    w = draw(inits.TruncatedNormal(std=1.0, a=-0.5, b=3.0))
    assert w.min() >= -0.5 and w.max() <= 3.0 and w.min() < -0.49


def test_variance_scaling_truncated_normal_has_the_target_variance():
    init = inits.VarianceScaling(2.0, "fan_in", "truncated_normal")
    w = draw(init)
    std = math.sqrt(2 / N_IN)
    assert_moments(w, 0.0, std, kurtosis=3.0)
    low, high = init.bounds(N_IN, N_OUT)
    assert high == pytest.approx(2 * std / 0.87962566103423978, rel=1e-15)
    assert w.min() >= low and w.max() <= high


def test_truncation_constant_matches_keras():
    assert inits.VarianceScaling.TRUNCATION_STD == pytest.approx(0.87962566103423978, rel=1e-15)


def test_named_initializers_are_variance_scaling_special_cases():
    cases = [
        (inits.Xavier(), inits.VarianceScaling(1 / 3, "fan_in", "uniform")),
        (inits.NormalizedXavier(), inits.VarianceScaling(1.0, "fan_avg", "uniform")),
        (inits.GlorotNormal(), inits.VarianceScaling(1.0, "fan_avg", "normal")),
        (inits.HeUniform(), inits.VarianceScaling(2.0, "fan_in", "uniform")),
        (inits.HeNormal(mode="fan_out"), inits.VarianceScaling(2.0, "fan_out", "normal")),
        (inits.LecunUniform(), inits.VarianceScaling(1.0, "fan_in", "uniform")),
        (inits.LecunNormal(), inits.VarianceScaling(1.0, "fan_in", "normal")),
    ]
    for named, general in cases:
        # the bounds may differ in the last bit: a few ulps of bounds <= 0.5
        np.testing.assert_allclose(draw(named), draw(general), rtol=0, atol=1e-15)


# ------------------------------------------------------------------------ orthogonal
@pytest.mark.parametrize("fan_in,fan_out", [(N_OUT, N_IN), (N_IN, N_OUT), (32, 32), (1, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(fan_in, fan_out, gain):
    w = draw(inits.Orthogonal(gain), fan_in, fan_out)
    gram = w.T @ w if fan_in >= fan_out else w @ w.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(fan_in, fan_out)), atol=1e-12 * gain**2)
    w32 = draw(inits.Orthogonal(gain), fan_in, fan_out, dtype=np.float32).astype(np.float64)
    gram32 = w32.T @ w32 if fan_in >= fan_out else w32 @ w32.T
    np.testing.assert_allclose(gram32, gain**2 * np.eye(min(fan_in, fan_out)), atol=1e-5 * gain**2)


def test_orthogonal_sign_correction_gives_unbiased_entries():
    # Without the sign correction Q's diagonal (R_ii > 0 convention) is biased positive.
    diag = np.concatenate([np.diag(draw(inits.Orthogonal(), 8, 8, seed=s)) for s in range(512)])
    assert abs(diag.mean()) <= 6 * math.sqrt(1 / 8 / diag.size)


# --------------------------------------------------------------------- gains, params
@pytest.mark.parametrize("nonlinearity,param,gain", [
    ("linear", None, 1.0),
    ("identity", None, 1.0),
    ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
    ("leaky_relu", 0, math.sqrt(2)),
    ("selu", None, 0.75),
])
def test_calculate_gain(nonlinearity, param, gain):
    assert inits.calculate_gain(nonlinearity, param) == pytest.approx(gain, rel=1e-15)


@pytest.mark.parametrize("args,word", [
    (("gelu",), "nonlinearity"),
    (("relu", 0.1), "param"),
    (("leaky_relu", "steep"), "param"),
])
def test_calculate_gain_rejects(args, word):
    with pytest.raises(ConfigError, match=word):
        inits.calculate_gain(*args)


@pytest.mark.parametrize("factory,params,word", [
    (inits.Constant, {"value": math.nan}, "value"),
    (inits.Uniform, {"low": 0.1, "high": -0.1}, "low"),
    (inits.Normal, {"std": 0.0}, "std"),
    (inits.TruncatedNormal, {"std": -1.0}, "std"),
    (inits.TruncatedNormal, {"a": 2.0, "b": 1.0}, "a and b"),
    (inits.TruncatedNormal, {"a": 4.0, "b": 9.0}, "a and b"),
    (inits.VarianceScaling, {"scale": 0.0}, "scale"),
    (inits.Orthogonal, {"gain": 0}, "gain"),
])
def test_bad_params_raise_config_error(factory, params, word):
    with pytest.raises(ConfigError, match=word):
        factory(**params)


@pytest.mark.parametrize("factory,param,value,allowed", [
    (inits.VarianceScaling, "mode", "fan_sum", "fan_avg"),
    (inits.VarianceScaling, "distribution", "laplace", "truncated_normal"),
    (inits.HeUniform, "mode", "fan_avg", "fan_out"),
    (inits.HeNormal, "nonlinearity", "swish", "leaky_relu"),
])
def test_bad_choices_name_parameter_value_and_allowed(factory, param, value, allowed):
    with pytest.raises(ConfigError) as info:
        factory(**{param: value})
    assert all(word in str(info.value) for word in (param, repr(value), repr(allowed)))


@pytest.mark.parametrize("args,error,word", [
    ((0, 3), InputError, "fan_in"),
    ((3, -1), InputError, "fan_out"),
    ((2.5, 3), InputError, "fan_in"),
    ((True, 3), InputError, "fan_in"),
])
def test_bad_fans_raise_input_error(args, error, word):
    with pytest.raises(error, match=word):
        inits.NormalizedXavier()(*args, np.random.default_rng(0))


def test_bad_dtype_or_generator():
    with pytest.raises(InputError, match="dtype"):
        inits.HeNormal()(3, 3, np.random.default_rng(0), np.int32)
    with pytest.raises(InputError, match="rng"):
        inits.HeNormal()(3, 3, 0)
    assert inits.HeNormal()(np.int64(3), 2, np.random.default_rng(0)).shape == (3, 2)


@pytest.mark.parametrize("name", FACTORIES)
def test_config_round_trip(name):
    params = {"he_uniform": {"mode": "fan_out", "nonlinearity": "leaky_relu", "param": 0.3},
              "variance_scaling": {"scale": 3.0, "mode": "fan_avg", "distribution": "uniform"},
              "constant": {"value": 0.5}}.get(name, {})
    init = FACTORIES[name](**params)
    rebuilt = FACTORIES[name](**init.get_config())
    assert rebuilt.get_config() == init.get_config()
    assert np.array_equal(draw(init, 5, 7), draw(rebuilt, 5, 7))


# ------------------------------------------------------------------- robustness (test_api_properties)


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal", "variance_scaling", "xavier",
                                  "he_normal", "orthogonal"])
def test_random_initializers_need_a_generator(name):
    # hypothesis found: rng=None reached rng.uniform/normal: AttributeError
    with pytest.raises(InputError, match="rng"):
        FACTORIES[name]()(2, 3, None)


@pytest.mark.parametrize("fan_in, fan_out", [(1, 2**62), (np.int64(4), 2**62), (2**40, 2**40)])
def test_shapes_too_large_for_any_array_are_input_errors(fan_in, fan_out):
    # hypothesis found: zeros(1, 2**62) raised numpy's ValueError("array is too big"); with
    # fan_in=np.int64(4) the product wrapped around in int64 and passed a size check
    with pytest.raises(InputError, match="larger than any array"):
        inits.Zeros()(fan_in, fan_out, np.random.default_rng(0))


@pytest.mark.parametrize("init, dtype", [
    (inits.Constant(1e39), np.float32),
    (inits.Normal(std=1e6), np.float16),
    (inits.Uniform(low=-1e300, high=1e300), np.float32),
    (inits.VarianceScaling(scale=1e308, distribution="uniform"), np.float64),
    (inits.TruncatedNormal(mean=1e308, std=1e308), np.float64),
    (inits.Orthogonal(gain=1e300), np.float32),
])
def test_weights_beyond_the_dtype_are_a_non_finite_error(init, dtype):
    # hypothesis found: such parameters gave numpy's "overflow encountered in cast" and inf
    # weights (uniform bounds were clipped to the largest float: every weight saturated)
    with pytest.raises(NonFiniteError, match=str(np.dtype(dtype))):
        init(3, 4, np.random.default_rng(0), dtype)


def test_uniform_bounds_must_have_a_finite_width():
    # rng.uniform(-1e308, 1e308) raised OverflowError("high - low range exceeds valid bounds")
    with pytest.raises(ConfigError, match="high - low"):
        inits.Uniform(low=-1e308, high=1e308)
