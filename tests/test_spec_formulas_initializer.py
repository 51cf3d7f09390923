"""INIT-FORMULA and the initializer vocabulary (issue 10): references, budgets, no false failures.

The components below are *correct* initializers written differently from the
built-ins -- other algebra for the bound, float32 arithmetic, Box-Muller instead of
``rng.normal``, batch rejection, an SVD instead of a QR, plain round-to-nearest casts --
and must pass every check of their kind, for several seeds.
"""

from __future__ import annotations

import math

import neuroplug as npl
import numpy as np
import pytest
from neuroplug.base import Initializer
from neuroplug.spec import check_component
from neuroplug.spec.checks import initializer as ci
from neuroplug.spec.formulas import formula_cases, formula_names, formulas, get_formula
from neuroplug.spec.references import initializers as ref

SEEDS = (0, 1, 2)


def _fan(n, m, mode):
    return {"fan_in": n, "fan_out": m, "fan_avg": (n + m) / 2}[mode]


def _gain(nonlinearity, param):
    if nonlinearity == "leaky_relu":
        return math.sqrt(2.0 / (1.0 + (0.01 if param is None else param) ** 2))
    return {"linear": 1, "identity": 1, "sigmoid": 1, "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}[nonlinearity]


# ------------------------------------------------------------------ correct, differently written
class Xavier32(Initializer):
    """xavier with the bound computed in the dtype and float32 draws scaled from [0, 1)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        a = dt.type(1) / np.sqrt(dt.type(fan_in))
        u = rng.random((fan_in, fan_out), dtype=dt if dt in (np.float32, np.float64) else np.float64)
        return ((dt.type(2) * u - dt.type(1)) * a).astype(dt)


class GlorotUniformAffine(Initializer):
    """glorot_uniform as low + width * u with a = sqrt(6 / (n + m)), cast to nearest (no inward clip)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return (-a + 2 * a * rng.random((fan_in, fan_out))).astype(dtype)


class HeNormalBoxMuller(Initializer):
    """he_normal by Box-Muller from uniforms (another consumption of the stream)."""

    def __init__(self, mode="fan_in", nonlinearity="relu", param=None):
        self.mode, self.nonlinearity, self.param = mode, nonlinearity, param

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        size = fan_in * fan_out
        half = (size + 1) // 2
        u1, u2 = 1.0 - rng.random(half), rng.random(half)
        radius = np.sqrt(-2.0 * np.log(u1))
        z = np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])[:size]
        std = _gain(self.nonlinearity, self.param) * math.sqrt(1.0 / _fan(fan_in, fan_out, self.mode))
        return (std * z).reshape(fan_in, fan_out).astype(dtype)


class HeUniformTorch(Initializer):
    """he_uniform as PyTorch writes it: std = gain / sqrt(fan), bound = sqrt(3) * std, float64 then cast."""

    def __init__(self, mode="fan_in", nonlinearity="relu", param=None):
        self.mode, self.nonlinearity, self.param = mode, nonlinearity, param

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        std = _gain(self.nonlinearity, self.param) / math.sqrt(_fan(fan_in, fan_out, self.mode))
        bound = math.sqrt(3.0) * std
        return rng.uniform(-bound, bound, (fan_in, fan_out)).astype(dtype)


class LecunNormal32(Initializer):
    """lecun_normal drawn directly in float32 when float32 is asked for."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        z = rng.standard_normal((fan_in, fan_out), dtype=dt)
        return z * dt.type(1 / math.sqrt(fan_in))


class LecunUniformSqrt(Initializer):
    """lecun_uniform with a = sqrt(3) / sqrt(n) in the dtype."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        a = np.sqrt(dt.type(3)) / np.sqrt(dt.type(fan_in))
        return rng.uniform(-float(a), float(a), (fan_in, fan_out)).astype(dt)


class GlorotNormalAvg(Initializer):
    """glorot_normal as variance 1 / fan_avg."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(scale=1 / math.sqrt((fan_in + fan_out) / 2), size=(fan_in, fan_out)).astype(dtype)


class NormalAffine32(Initializer):
    """normal as mean + std * z computed in the requested dtype."""

    def __init__(self, mean=0.0, std=0.05):
        self.mean, self.std = mean, std

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        z = rng.standard_normal((fan_in, fan_out)).astype(dt)
        return dt.type(self.mean) + dt.type(self.std) * z


class UniformAffine32(Initializer):
    """uniform as low + (high - low) * u with float32 draws when float32 is asked for."""

    def __init__(self, low=-0.05, high=0.05):
        self.low, self.high = low, high

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        u = rng.random((fan_in, fan_out), dtype=dt)
        return dt.type(self.low) + (dt.type(self.high) - dt.type(self.low)) * u


class TruncatedBatchRejection(Initializer):
    """truncated_normal by drawing batches of normals and keeping the first that fall inside."""

    def __init__(self, mean=0.0, std=0.05, a=-2.0, b=2.0):
        self.mean, self.std, self.a, self.b = mean, std, a, b

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        size, kept = fan_in * fan_out, []
        low, high = self.mean + self.a * self.std, self.mean + self.b * self.std
        while sum(len(k) for k in kept) < size:
            x = rng.normal(self.mean, self.std, 2 * size)
            kept.append(x[(x >= low) & (x <= high)])
        return np.concatenate(kept)[:size].reshape(fan_in, fan_out).astype(dtype)


class VarianceScalingKeras(Initializer):
    """variance_scaling written from Keras' description, truncation done on the scaled values."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        var = self.scale / max(1.0, _fan(fan_in, fan_out, self.mode))
        shape = (fan_in, fan_out)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng.uniform(-limit, limit, shape).astype(dtype)
        if self.distribution == "normal":
            return rng.normal(0.0, math.sqrt(var), shape).astype(dtype)
        sigma = math.sqrt(var) / .87962566103423978
        w = rng.normal(0.0, sigma, shape)
        out = np.abs(w) > 2 * sigma
        while out.any():
            w[out] = rng.normal(0.0, sigma, int(out.sum()))
            out = np.abs(w) > 2 * sigma
        return w.astype(dtype)


class OrthogonalSVD(Initializer):
    """orthogonal as the polar factor U V^T of a Gaussian matrix (Haar too), in the requested dtype."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dt = np.dtype(dtype)
        a = rng.standard_normal((fan_in, fan_out)).astype(dt)
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        return (dt.type(self.gain) * (u @ vt)).astype(dt)


class ConstantTimesOnes(Initializer):
    """constant as ones times the value."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.ones((fan_in, fan_out), dtype=dtype) * np.dtype(dtype).type(self.value)


class ZerosFull(Initializer):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.full((fan_in, fan_out), 0.0, dtype=dtype)


class OnesLike(Initializer):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.ones_like(np.empty((fan_in, fan_out), dtype=dtype))


CORRECT = [
    (Xavier32(), ("xavier",), ("seeded",)),
    (GlorotUniformAffine(), ("glorot_uniform",), ("seeded",)),
    (HeNormalBoxMuller(), ("kaiming_normal",), ("seeded",)),
    (HeUniformTorch(), ("he_uniform",), ("seeded",)),
    (LecunNormal32(), ("lecun_normal",), ("seeded",)),
    (LecunUniformSqrt(), ("lecun_uniform",), ("seeded",)),
    (GlorotNormalAvg(), ("glorot_normal",), ("seeded",)),
    (NormalAffine32(), ("normal",), ("seeded",)),
    (UniformAffine32(), ("uniform",), ("seeded",)),
    (TruncatedBatchRejection(), ("truncated_normal",), ("seeded",)),
    (VarianceScalingKeras(), ("variance_scaling",), ("seeded",)),
    (OrthogonalSVD(), ("orthogonal",), ("seeded",)),
    (ConstantTimesOnes(), ("constant",), ("deterministic_values",)),
    (ZerosFull(), ("zeros",), ("deterministic_values",)),
    (OnesLike(), ("ones",), ("deterministic_values",)),
]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("component, implements, properties", CORRECT, ids=[type(c[0]).__name__ for c in CORRECT])
def test_correct_initializers_written_differently_pass_every_check(component, implements, properties, seed):
    report = check_component(component, implements=implements, properties=properties, seed=seed)
    assert report.failures() == [], [r.message for r in report.failures()]
    statuses = {r.check_id: r.status for r in report.results}
    assert statuses["INIT-FORMULA"] == "passed"


def test_the_correct_components_cover_every_formula():
    claimed = {get_formula("initializer", name).name for _, implements, _ in CORRECT for name in implements}
    assert claimed == {f.name for f in formulas("initializer")}


def test_float32_rounding_beyond_the_bound_is_not_a_failure():
    """A float32 cast of a draw at an unrepresentable bound rounds to nearest: up to half an ulp beyond it."""

    class EdgeGlorot(Initializer):
        def bounds(self, fan_in, fan_out):
            a = math.sqrt(6) / math.sqrt(fan_in + fan_out)
            return -a, a

        def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
            low, high = self.bounds(fan_in, fan_out)
            w = rng.uniform(low, high, (fan_in, fan_out))
            w[0, 0] = high  # the float64 bound itself, rounded to nearest in float32 (may exceed it)
            return w.astype(dtype)

    a = math.sqrt(6) / math.sqrt(64 + 256)  # the shape of INIT-NXAVIER-BOUND and INIT-FORMULA
    assert float(np.float32(a)) > a
    report = check_component(EdgeGlorot(), implements=("normalized_xavier",), properties=("seeded", "uniform_bound"))
    assert report.failures() == []
    assert {r.check_id for r in report.results if r.status == "passed"} >= {
        "INIT-FORMULA", "INIT-NXAVIER-BOUND", "PROP-INIT-UNIFORM-BOUND"}


# ------------------------------------------------------------------------------ vocabulary
def test_every_builtin_initializer_claims_its_formula_and_aliases():
    names = set(formula_names("initializer"))
    for entry in npl.get_registry().entries("initializer"):
        reg = entry.registration
        assert reg.implements == (reg.name,), reg.name
        formula = get_formula("initializer", reg.name)
        assert set(reg.aliases) <= set(formula.aliases), reg.name
        assert set(reg.aliases) <= names
        params = set(reg.parameters or {})
        assert set(formula.defaults) == params, (reg.name, set(formula.defaults), params)
        for p, default in formula.defaults.items():  # the formula's defaults are the built-in's
            assert reg.parameters[p] == default, (reg.name, p)
        assert set(reg.parameter_space) <= params


def test_references_of_the_scaled_families():
    n, m = 64, 256
    law = get_formula("initializer", "variance_scaling").reference(n, m, 2.0, "fan_avg", "truncated_normal")
    assert law.family == "truncated_normal" and math.isclose(law.variance(), 2.0 / 160, rel_tol=1e-12)
    assert math.isclose(law.high, 2 * law.std) and law.low == -law.high
    he = get_formula("initializer", "kaiming_uniform").reference(n, m, "fan_out", "leaky_relu", 0.2)
    assert math.isclose(he.high, math.sqrt(2 / 1.04) * math.sqrt(3 / 256))
    assert math.isclose(get_formula("initializer", "he_normal").reference(n, m, "fan_in", "relu", None).std,
                        math.sqrt(2 / 64))
    assert math.isclose(get_formula("initializer", "xavier").reference(n, m).high, 1 / 8)
    assert math.isclose(get_formula("initializer", "glorot_uniform").reference(n, m).high, math.sqrt(6 / 320))
    tn = get_formula("initializer", "truncated_normal").reference(n, m, 1.0, 2.0, -0.5, 2.5)
    assert (tn.low, tn.high) == (0.0, 6.0)  # a, b in units of std around the mean
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, 400_000)
    x = x[(x >= 0) & (x <= 6)]
    assert abs(x.mean() - tn.expectation()) < 0.01 and abs(x.var() / tn.variance() - 1) < 0.01
    grid = np.linspace(-1, 7, 9)
    assert np.allclose(ref.cdf_array(tn, grid), [tn.cdf(v) for v in grid])
    assert ref.cdf_array(tn, np.array([0.0]))[0] == 0.0 and ref.cdf_array(tn, np.array([6.0]))[0] == 1.0


# --------------------------------------------------------------------- budgets and messages
def test_false_failure_budget_of_init_formula():
    for cases in (1, 5, 7, 20):
        assert ci._p_each(cases) * ci.TESTS_PER_SAMPLE * len(ci.FORMULA_SAMPLES) * cases <= 1e-6 * (1 + 1e-12)
    shapes = [shape for shape, _ in ci.FORMULA_SAMPLES]
    assert shapes[0] == shapes[1][::-1] and shapes[0][0] != shapes[0][1]
    assert {np.dtype(d) for _, d in ci.FORMULA_SAMPLES} == {np.dtype(np.float32), np.dtype(np.float64)}
    z = ref.normal_quantile_two_sided(1e-8)
    assert math.isclose(math.erfc(z / math.sqrt(2)), 1e-8, rel_tol=1e-6)


def test_every_builtin_initializer_passes_its_formula_check():
    report = npl.spec.run_spec("initializers", checks=["INIT-FORMULA"])
    assert len(report.results) == len(npl.get_registry().entries("initializer"))
    assert {r.status for r in report.results} == {"passed"}, [r.message for r in report.failures()]


def test_configs_are_drawn_for_the_builtins():
    subject = next(s for s in npl.spec.subjects_for("initializer:variance_scaling"))
    cases = list(formula_cases(subject))
    assert len(cases) >= 5
    assert {c.params["distribution"] for c in cases} == {"uniform", "normal", "truncated_normal"}
    assert len(subject.configs()) >= 4


def test_init_formula_failure_names_formula_config_and_fix():
    from spec_mutants.initializers import NormalIgnoresMean

    report = check_component(NormalIgnoresMean(), implements=("normal",), checks=["INIT-FORMULA"])
    (result,) = report.results
    assert result.status == "failed"
    message = result.message
    assert "formula 'normal' with mean=0.5, std=0.1" in message
    assert "expected:" in message and "found:" in message and "where:" in message
    assert "built with {'mean': 0.5, 'std': 0.1}" in message and "Fix __call__" in message


def test_a_component_claiming_nothing_skips_init_formula():
    report = check_component(npl.create("initializer", "xavier"), implements=(), checks=["INIT-FORMULA"])
    # a built-in's registration claims its formula even when the caller passes none
    assert report.results[0].status in ("passed", "skipped")
    report = check_component(ZerosFull(), checks=["INIT-FORMULA"])
    assert report.results[0].status == "skipped" and "implements" in report.results[0].message
