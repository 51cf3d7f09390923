"""Tests of the built-in activation plugin module ``neuroplug.plugins.activations``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from neuroplug.base import Activation
from neuroplug.errors import ConfigError
from neuroplug.plugins import activations as acts

REGISTRATIONS = acts.neuroplug_activations()
FACTORIES = {reg.name: reg.factory for reg in REGISTRATIONS}

# Every activation with its defaults, plus the parameter settings worth a separate check.
CASES = [(name, {}) for name in FACTORIES] + [
    ("leaky_relu", {"alpha": 0.2}),
    ("elu", {"alpha": 0.5}),
    ("softplus", {"beta": 2.5}),
    ("gelu", {"approximate": "tanh"}),
]
IDS = [f"{n}-{p}" if p else n for n, p in CASES]
EXTREMES = [-1e4, -1e3, -100.0, -30.0, -1.0, -0.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4]

SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
_erf = np.vectorize(math.erf)


def _softmax_ref(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# Naive textbook definitions, valid for the moderate inputs used below.
REFERENCE = {
    ("identity", ""): lambda z: z,
    ("sigmoid", ""): lambda z: 1 / (1 + np.exp(-z)),
    ("tanh", ""): np.tanh,
    ("relu", ""): lambda z: np.where(z > 0, z, 0.0),
    ("leaky_relu", ""): lambda z: np.where(z > 0, z, 0.01 * z),
    ("leaky_relu", "{'alpha': 0.2}"): lambda z: np.where(z > 0, z, 0.2 * z),
    ("elu", ""): lambda z: np.where(z > 0, z, np.exp(z) - 1),
    ("elu", "{'alpha': 0.5}"): lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1)),
    ("selu", ""): lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)),
    ("softplus", ""): lambda z: np.log(1 + np.exp(z)),
    ("softplus", "{'beta': 2.5}"): lambda z: np.log(1 + np.exp(2.5 * z)) / 2.5,
    ("gelu", ""): lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
    ("gelu", "{'approximate': 'tanh'}"):
        lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3))),
    ("silu", ""): lambda z: z / (1 + np.exp(-z)),
    ("softsign", ""): lambda z: z / (1 + np.abs(z)),
    ("hard_sigmoid", ""): lambda z: np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, z / 6 + 0.5)),
    ("softmax", ""): _softmax_ref,
    ("log_softmax", ""): lambda z: np.log(_softmax_ref(z)),
}


def make(name: str, params: dict) -> Activation:
    return FACTORIES[name](**params)


def away_from_kinks(z: np.ndarray, kinks, margin: float = 1e-2) -> np.ndarray:
    """Move points closer than ``margin`` to a kink out to ``kink +- margin`` (no filtering)."""
    z = z.copy()
    for k in kinks:
        near = np.abs(z - k) < margin
        z[near] = k + np.where(z[near] >= k, margin, -margin)
    return z


def sample(act: Activation, rng, shape=(5, 7), scale=2.5) -> np.ndarray:
    return away_from_kinks(rng.normal(scale=scale, size=shape), act.kinks)


def rel_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """Largest deviation relative to the largest entry (a normwise relative error)."""
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), np.finfo(float).tiny)
    return float(np.max(np.abs(analytic - numeric)) / scale)


# --- registrations ------------------------------------------------------------------------

PROPERTY_VOCABULARY = {"monotonic", "odd", "zero_at_zero", "nonnegative_output",
                       "bounded_output", "zero_centred", "bounded_derivative"}


def test_hook_returns_valid_unique_registrations():
    names = [n for reg in REGISTRATIONS for n in (reg.name, *reg.aliases)]
    assert len(names) == len(set(names))
    assert set(FACTORIES) == {"identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
                              "softplus", "gelu", "silu", "softsign", "hard_sigmoid", "softmax",
                              "log_softmax"}
    for reg in REGISTRATIONS:
        assert reg.kind == "activation"
        assert reg.problems() == [], reg.name
        assert issubclass(reg.factory, Activation)
        assert reg.summary and "\n" not in reg.summary
        assert reg.formula and reg.derivative
        assert set(reg.properties) <= PROPERTY_VOCABULARY, reg.name
        assert reg.factory.__doc__ and reg.factory.forward.__doc__
    aliases = {reg.name: reg.aliases for reg in REGISTRATIONS}
    assert aliases["silu"] == ("swish",) and aliases["identity"] == ("linear",)


def test_links_kinks_and_elementwise_flags():
    links = {name: make(name, {}).link for name in FACTORIES}
    assert {k: v for k, v in links.items() if v} == {"sigmoid": "sigmoid", "softmax": "softmax"}
    assert make("relu", {}).kinks == (0.0,)
    assert make("leaky_relu", {}).kinks == (0.0,)
    assert make("hard_sigmoid", {}).kinks == (-3.0, 3.0)
    assert make("selu", {}).kinks == (0.0,)
    assert make("elu", {}).kinks == ()  # alpha = 1: continuous derivative
    assert make("elu", {"alpha": 0.5}).kinks == (0.0,)
    assert [n for n in FACTORIES if not make(n, {}).elementwise] == ["softmax", "log_softmax"]


def _observed_properties(act: Activation) -> set[str]:
    """The property tags that hold numerically, on a dense grid and at extreme inputs."""
    grid = np.concatenate([EXTREMES, np.linspace(-12, 12, 2401)])
    grid.sort()
    rows = (lambda v: v[None, :]) if not act.elementwise else (lambda v: v)
    a = act.forward(rows(grid)).ravel()
    found = set()
    if np.all(np.diff(a) >= 0):
        found.add("monotonic")
    if np.allclose(act.forward(rows(-grid)).ravel(), -a, rtol=0, atol=1e-15):
        found |= {"odd", "zero_centred"}
    if np.all(act.forward(rows(np.zeros(3))) == 0):
        found.add("zero_at_zero")
    if a.min() >= 0:
        found.add("nonnegative_output")
    if np.abs(a).max() <= 1:
        found.add("bounded_output")
    if act.elementwise and np.abs(act.derivative(grid, act.forward(grid))).max() <= 2:
        found.add("bounded_derivative")
    return found


@pytest.mark.parametrize("reg", REGISTRATIONS, ids=lambda r: r.name)
def test_declared_properties_are_exactly_the_true_ones(reg):
    observed = _observed_properties(reg.factory())
    if reg.factory.elementwise:
        assert set(reg.properties) == observed
    else:  # row-wise functions: monotonicity/oddness are not defined the same way
        assert set(reg.properties) <= observed


# --- values -------------------------------------------------------------------------------

@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_forward_matches_definition(name, params, rng):
    z = rng.normal(scale=3, size=(6, 5))
    expected = REFERENCE[(name, str(params) if params else "")](z)
    np.testing.assert_allclose(make(name, params).forward(z), expected, rtol=1e-12, atol=1e-15)


def test_softmax_rows_are_distributions_and_log_softmax_is_their_log(rng):
    z = rng.normal(scale=10, size=(8, 6))
    p = acts.Softmax().forward(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    assert p.min() >= 0
    # log p for p ~ 1 is tiny and only absolutely accurate (both sides round sum(e) ~ 1)
    np.testing.assert_allclose(acts.LogSoftmax().forward(z), np.log(p), rtol=1e-13, atol=1e-15)
    # shift invariance, and a row far beyond exp's range
    np.testing.assert_allclose(acts.Softmax().forward(z + 1e3), p, rtol=1e-10)
    big = np.array([[1e4, 0.0, -1e4]])
    assert acts.Softmax().forward(big).tolist() == [[1.0, 0.0, 0.0]]
    assert acts.LogSoftmax().forward(big).tolist() == [[0.0, -1e4, -2e4]]


def test_erfc_matches_math_erfc_to_double_precision():
    x = np.concatenate([np.linspace(-6, 6, 4801), np.linspace(6, 26.5, 821), [0.46875, 4.0, -4.0]])
    expected = np.array([math.erfc(v) for v in x])
    assert rel_error(acts.erfc(x), expected) < 1e-15
    assert np.max(np.abs(acts.erfc(x) - expected) / expected) < 4e-15  # relative, deep tail too
    assert acts.erfc(np.array([30.0, -30.0, 1e4])).tolist() == [0.0, 2.0, 0.0]


def test_gelu_tanh_approximates_exact_gelu():
    z = np.linspace(-6, 6, 241)
    diff = acts.GELU("tanh").forward(z) - acts.GELU().forward(z)
    assert np.abs(diff).max() < 1e-3


def test_special_values():
    z = np.array([-1e4, 0.0, 1e4])
    assert acts.Sigmoid().forward(z).tolist() == [0.0, 0.5, 1.0]
    assert acts.Softplus().forward(z).tolist() == [0.0, math.log(2), 1e4]
    assert acts.HardSigmoid().forward(np.array([-3.0, 0.0, 3.0])).tolist() == [0.0, 0.5, 1.0]
    assert acts.ELU(2.0).forward(np.array([-1e4])).tolist() == [-2.0]
    # the lower tail keeps full relative accuracy
    assert acts.Sigmoid().forward(np.array([-700.0]))[0] == pytest.approx(math.exp(-700), rel=1e-14)


# --- derivatives --------------------------------------------------------------------------

@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_backward_matches_central_differences(name, params, rng):
    """dL/dz for L = sum(g * phi(z)), against central differences (float64, eps=1e-6)."""
    act = make(name, params)
    z = sample(act, rng)
    g = rng.normal(size=z.shape)
    eps = 1e-6
    numeric = np.empty_like(z)
    for i in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[i] += eps
        zm[i] -= eps
        numeric[i] = np.sum(g * (act.forward(zp) - act.forward(zm))) / (2 * eps)
    analytic = act.backward(z, act.forward(z), g)
    assert rel_error(analytic, numeric) <= 1e-6


@pytest.mark.parametrize("name,params", [c for c in CASES if make(*c).elementwise],
                         ids=[i for c, i in zip(CASES, IDS) if make(*c).elementwise])
def test_derivative_matches_central_differences_pointwise(name, params, rng):
    """Each phi'(z_i) to 1e-6 relative error, above the rounding floor of the difference itself.

    ``phi(z + eps) - phi(z - eps)`` carries a rounding error of a few ulps of
    ``phi``; divided by ``2 eps`` that is the accuracy limit of the reference
    (it matters only in saturated tails, e.g. tanh'(-8) = 4.5e-7).
    """
    act = make(name, params)
    z = sample(act, rng, shape=(200,), scale=3.0)
    eps = 1e-6
    up, down = act.forward(z + eps), act.forward(z - eps)
    numeric = (up - down) / (2 * eps)
    analytic = act.derivative(z, act.forward(z))
    floor = 4 * np.spacing(np.maximum(np.abs(up), np.abs(down))) / (2 * eps)
    bound = 1e-6 * np.maximum(np.abs(numeric), np.abs(analytic)) + floor
    worst = np.argmax(np.abs(analytic - numeric) - bound)
    assert np.all(np.abs(analytic - numeric) <= bound), (z[worst], analytic[worst], numeric[worst])


@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_backward_into_grad_buffer(name, params, rng):
    """The training loop passes ``out=grad``; the result must not change."""
    act = make(name, params)
    z = sample(act, rng)
    a, g = act.forward(z), rng.normal(size=z.shape)
    expected = act.backward(z, a, g)
    buf = g.copy()
    np.testing.assert_array_equal(act.backward(z, a, buf, out=buf), expected)


# --- dtypes, buffers, mutation, stability -------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_dtype_is_preserved_and_inputs_are_not_mutated(name, params, dtype, rng):
    act = make(name, params)
    z = sample(act, rng).astype(dtype)
    g = rng.normal(size=z.shape).astype(dtype)
    z0, g0 = z.copy(), g.copy()
    a = act.forward(z)
    a0 = a.copy()
    dz = act.backward(z, a, g)
    assert a.dtype == dtype and dz.dtype == dtype
    assert a.shape == z.shape and dz.shape == z.shape
    if act.elementwise:
        assert act.derivative(z, a).dtype == dtype
    out = np.full_like(z, np.nan)
    np.testing.assert_array_equal(act.forward(z, out=out), a)
    for before, after in ((z0, z), (g0, g), (a0, a)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_no_overflow_at_extreme_inputs(name, params, dtype):
    act = make(name, params)
    z = np.array([EXTREMES, EXTREMES[::-1]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = act.forward(z)
        dz = act.backward(z, a, np.ones_like(z))
    assert a.dtype == dtype and dz.dtype == dtype
    assert np.isfinite(a).all() and np.isfinite(dz).all()


# --- configuration ------------------------------------------------------------------------

@pytest.mark.parametrize("name,params", CASES, ids=IDS)
def test_config_round_trip(name, params, rng):
    act = make(name, params)
    config = act.get_config()
    assert json.loads(json.dumps(config)) == config
    clone = type(act)(**config)
    assert clone.get_config() == config
    z = sample(act, rng)
    np.testing.assert_array_equal(clone.forward(z), act.forward(z))
    g = rng.normal(size=z.shape)
    np.testing.assert_array_equal(clone.backward(z, clone.forward(z), g), act.backward(z, act.forward(z), g))
    assert repr(act).startswith(type(act).__name__)


def test_get_config_contents():
    assert acts.LeakyReLU(1).get_config() == {"alpha": 1.0}
    assert acts.Softplus().get_config() == {"beta": 1.0}
    assert acts.GELU("tanh").get_config() == {"approximate": "tanh"}
    assert acts.SELU().get_config() == {}


@pytest.mark.parametrize("factory,kwargs,param", [
    (acts.LeakyReLU, {"alpha": "0.1"}, "alpha"),
    (acts.LeakyReLU, {"alpha": float("nan")}, "alpha"),
    (acts.LeakyReLU, {"alpha": True}, "alpha"),
    (acts.LeakyReLU, {"alpha": -0.5}, "alpha must be >= 0"),
    (acts.ELU, {"alpha": -1.0}, "alpha must be >= 0"),
    (acts.ELU, {"alpha": None}, "alpha"),
    (acts.ELU, {"alpha": float("inf")}, "alpha"),
    (acts.Softplus, {"beta": 0}, "beta"),
    (acts.Softplus, {"beta": -1.0}, "beta"),
    (acts.GELU, {"approximate": "erf"}, "approximate"),
    (acts.GELU, {"approximate": True}, "approximate"),
])
def test_bad_parameters_raise_config_error(factory, kwargs, param):
    with pytest.raises(ConfigError, match=param):
        factory(**kwargs)


# ---------------------------------------------------------------- huge inputs (test_api_properties)

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_saturates_without_overflow_at_huge_inputs(dtype, approximate):
    # hypothesis found: GELU("tanh").derivative at z = 6.98e12 (float32) overflowed in z**3, and
    # the exact GELU's derivative at z = 1.84e19 (float32) in z**2: a warning, and NaN (0 * inf)
    big = float(np.finfo(dtype).max) / 4
    z = np.array([[-big, -1e20, -6.98e12, -40.0, 40.0, 6.98e12, 1e20, big]], dtype=dtype)
    act = acts.GELU(approximate)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        a = act.forward(z)
        d = act.derivative(z, a)
    assert a.dtype == d.dtype == dtype
    np.testing.assert_array_equal(a[0, 4:], z[0, 4:])  # z Phi(z) = z once Phi(z) rounds to 1
    np.testing.assert_array_equal(a[0, :4], 0.0)
    np.testing.assert_array_equal(d[0], [0, 0, 0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softsign_derivative_does_not_overflow_at_huge_inputs(dtype):
    # found while writing the properties: (1 + |z|)**2 overflowed for |z| > 1.8e19 in float32
    z = np.array([[-float(np.finfo(dtype).max), -1e20, 0.0, 3.0, 1e20]], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        d = acts.Softsign().derivative(z, acts.Softsign().forward(z))
    assert d.dtype == dtype
    np.testing.assert_allclose(d, [[0.0, 1e-40, 1.0, 1 / 16, 1e-40]], rtol=1e-6, atol=1e-44)
