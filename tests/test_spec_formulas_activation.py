"""ACT-FORMULA and the activation references: correct components written differently pass every check,
the references agree with independent definitions, and a component that ignores a parameter is caught
through the configs a registration declares (issue 10)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import neuroplug as npl
from neuroplug.spec import check_component, run_spec
from neuroplug.spec.formulas import formula_names, get_formula

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sig(z):
    """A stable sigmoid of another shape than the built-in's: exp(min(z, 0)) / (1 + exp(-|z|))."""
    return np.exp(np.minimum(z, 0.0)) / (1.0 + np.exp(-np.abs(z)))


# ------------------------------------------------------------------------ correct, written differently
class SigmoidViaTanh(npl.Activation):
    """sigma(z) = (1 + tanh(z/2)) / 2: 4e-17 off absolutely at z = -19."""

    def forward(self, z, out=None):
        return np.multiply(0.5, 1.0 + np.tanh(z * 0.5), out=out)

    def derivative(self, z, a):
        return a * (1.0 - a)


class TanhViaSigmoid(npl.Activation):
    """tanh z = 2 sigma(2z) - 1: 9e-17 off at z = 1e-12."""

    def forward(self, z, out=None):
        return (2.0 * _sig(2.0 * z) - 1.0).astype(z.dtype)

    def derivative(self, z, a):
        s = _sig(2.0 * z)
        return (4.0 * s * (1.0 - s)).astype(z.dtype)


class TanhViaExp(npl.Activation):
    """The stable form sign(z) (1 - e) / (1 + e), e = exp(-2|z|), which cancels near 0."""

    def forward(self, z, out=None):
        e = np.exp(-2.0 * np.abs(z))
        return (np.sign(z) * (1.0 - e) / (1.0 + e)).astype(z.dtype)

    def derivative(self, z, a):
        return 1.0 - a * a


class ReluNoKinks(npl.Activation):
    """relu leaving kinks at (), with derivative 1 at 0 (the right-hand value)."""

    def forward(self, z, out=None):
        return (z + np.abs(z)) * 0.5

    def derivative(self, z, a):
        return (z >= 0).astype(z.dtype)


class LeakyNoKinks(npl.Activation):
    """leaky relu with alpha, derivative alpha at 0 (left-hand value), no kinks declared."""

    def __init__(self, alpha: float = 0.01):
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        return np.where(z >= 0, z, self.alpha * z).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.alpha).astype(z.dtype)


class EluTorchStyle(npl.Activation):
    """ELU as alpha * (exp(z) - 1) (no expm1), derivative from the cached output a + alpha, no kinks."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        return np.where(z > 0, z, self.alpha * (np.exp(np.minimum(z, 0.0)) - 1.0)).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, a + self.alpha).astype(z.dtype)


class Elu64Inside(npl.Activation):
    """ELU computing in float64 whatever the input dtype, then casting back."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        x = z.astype(np.float64)
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0.0))).astype(z.dtype)

    def derivative(self, z, a):
        x = z.astype(np.float64)
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0.0))).astype(z.dtype)


class SeluFromA(npl.Activation):
    """SELU with the constants to full precision, derivative from the cached output."""

    def forward(self, z, out=None):
        neg = SELU_SCALE * SELU_ALPHA * np.expm1(np.minimum(z, 0.0))
        return np.where(z > 0, SELU_SCALE * z, neg).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, SELU_SCALE, a + SELU_SCALE * SELU_ALPHA).astype(z.dtype)


class SoftplusSplit(npl.Activation):
    """softplus as max(z, 0) + log1p(exp(-beta |z|)) / beta, derivative sigma(beta z)."""

    def __init__(self, beta: float = 1.0):
        self.beta = float(beta)

    def forward(self, z, out=None):
        return np.maximum(z, 0.0) + np.log1p(np.exp(-self.beta * np.abs(z))) / self.beta

    def derivative(self, z, a):
        return _sig(self.beta * z).astype(z.dtype)


_erf = np.vectorize(math.erf, otypes=[np.float64])


class GeluErf(npl.Activation):
    """exact GELU as z (1 + erf(z / sqrt 2)) / 2 with math.erf; tanh variant as z sigma(2u)."""

    def __init__(self, approximate: str = "none"):
        self.approximate = approximate

    def forward(self, z, out=None):
        if self.approximate == "tanh":
            zc = np.clip(z, -50.0, 50.0)
            u = math.sqrt(2.0 / math.pi) * (zc + 0.044715 * zc ** 3)
            return (0.5 * z * (1.0 + np.tanh(u))).astype(z.dtype)
        return (0.5 * z * (1.0 + _erf(z / math.sqrt(2.0)))).astype(z.dtype)

    def derivative(self, z, a):
        zc = np.clip(z, -50.0, 50.0)
        if self.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = np.tanh(k * (zc + 0.044715 * zc ** 3))
            return (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * k * (1.0 + 3 * 0.044715 * zc * zc)).astype(z.dtype)
        pdf = np.exp(-0.5 * zc * zc) / math.sqrt(2.0 * math.pi)
        return (0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * pdf).astype(z.dtype)


class GeluErfFusedBackward(GeluErf):
    """exact GELU whose backward distributes g over the two terms: g Phi(z) + g z phi(z)."""

    def backward(self, z, a, grad, out=None):
        if self.approximate == "tanh":
            return super().backward(z, a, grad, out)
        zc = np.clip(z, -50.0, 50.0)
        pdf = np.exp(-0.5 * zc * zc) / math.sqrt(2.0 * math.pi)
        res = (grad * (0.5 * (1.0 + _erf(z / math.sqrt(2.0)))) + grad * z * pdf).astype(z.dtype)
        if out is not None:
            np.copyto(out, res)
            return out
        return res


class ReluNoKinksZeroAtZero(ReluNoKinks):
    """relu leaving kinks at (), with derivative 0 at 0 (the left-hand value)."""

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


class SiluTanh(npl.Activation):
    """silu as z (1 + tanh(z/2)) / 2, derivative s + a (1 - s)."""

    def forward(self, z, out=None):
        return z * 0.5 * (1.0 + np.tanh(0.5 * z))

    def derivative(self, z, a):
        s = 0.5 * (1.0 + np.tanh(0.5 * z))
        return s + a * (1.0 - s)


class SoftsignAlt(npl.Activation):
    """softsign with the derivative (1 - |a|)^2."""

    def forward(self, z, out=None):
        return z / (1.0 + np.abs(z))

    def derivative(self, z, a):
        d = 1.0 - np.abs(a)
        return d * d


class HardSigmoidClip(npl.Activation):
    """clip(z / 6 + 1/2, 0, 1), derivative 1/6 on [-3, 3] (closed: one-sided values at the kinks)."""

    kinks = (-3.0, 3.0)

    def forward(self, z, out=None):
        return np.clip(z / 6.0 + 0.5, 0.0, 1.0)

    def derivative(self, z, a):
        return np.where(np.abs(z) <= 3.0, 1.0 / 6.0, 0.0).astype(z.dtype)


class IdentityTimesOne(npl.Activation):
    def forward(self, z, out=None):
        return z * 1.0

    def derivative(self, z, a):
        return np.ones_like(z)


class SoftmaxViaLog(npl.Activation):
    """softmax as exp(z - logsumexp(z)); backward with the explicit Jacobian diag(p) - p p^T."""

    elementwise = False
    link = "softmax"

    def forward(self, z, out=None):
        m = z.max(axis=-1, keepdims=True)
        lse = m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
        return np.exp(z - lse)

    def backward(self, z, a, grad, out=None):
        jac = a[:, :, None] * (np.eye(a.shape[1], dtype=a.dtype)[None] - a[:, None, :])  # J[n, j, k] = da_k/dz_j? sym
        res = np.einsum("njk,nk->nj", jac, grad).astype(a.dtype)
        if out is not None:
            np.copyto(out, res)
            return out
        return res


class LogSoftmaxLogaddexp(npl.Activation):
    """log-softmax as z - logaddexp.reduce(z); backward g - softmax(z) sum(g) with softmax from z."""

    elementwise = False

    def forward(self, z, out=None):
        return z - np.logaddexp.reduce(z, axis=-1, keepdims=True)

    def backward(self, z, a, grad, out=None):
        m = z.max(axis=-1, keepdims=True)
        e = np.exp(z - m)
        p = e / e.sum(axis=-1, keepdims=True)
        return np.subtract(grad, p * grad.sum(axis=-1, keepdims=True), out=out)


CORRECT = [
    (SigmoidViaTanh(), "sigmoid", {}),
    (TanhViaSigmoid(), "tanh", {}),
    (TanhViaExp(), "tanh", {}),
    (ReluNoKinks(), "relu", {}),
    (LeakyNoKinks(), "leaky_relu", {}),
    (LeakyNoKinks(alpha=3.0), "leaky_relu", {}),
    (EluTorchStyle(), "elu", {}),
    (EluTorchStyle(alpha=20.0), "elu", {}),
    (EluTorchStyle(alpha=0.3), "elu", {}),
    (Elu64Inside(alpha=20.0), "elu", {}),
    (SeluFromA(), "selu", {}),
    (SoftplusSplit(), "softplus", {}),
    (SoftplusSplit(beta=7.0), "softplus", {}),
    (GeluErf(), "gelu", {}),
    (GeluErf("tanh"), "gelu", {}),
    (GeluErfFusedBackward(), "gelu", {}),
    (ReluNoKinksZeroAtZero(), "relu", {}),
    (SiluTanh(), "swish", {}),
    (SoftsignAlt(), "softsign", {}),
    (HardSigmoidClip(), "hard_sigmoid", {}),
    (IdentityTimesOne(), "linear", {}),
    (SoftmaxViaLog(), "softmax", {}),
    (LogSoftmaxLogaddexp(), "log_softmax", {}),
]


@pytest.mark.parametrize("component, name, extra", CORRECT,
                         ids=[f"{type(c).__name__}-{n}-{i}" for i, (c, n, _) in enumerate(CORRECT)])
def test_correct_components_written_differently_pass_every_check(component, name, extra):
    report = check_component(component, implements=(name,), **extra)
    assert report.ok, [(r.check_id, r.message) for r in report.failures()]
    statuses = {r.check_id: r.status for r in report.results}
    assert statuses["ACT-FORMULA"] == "passed"


# ------------------------------------------------------------------------------------ vocabulary
def test_every_builtin_activation_and_alias_is_a_formula_and_is_claimed():
    names = set(formula_names("activation"))
    for entry in npl.get_registry().entries("activation"):
        reg = entry.registration
        assert reg.name in reg.implements, reg.name  # explicit, not the transitional implicit claim
        formula = get_formula("activation", reg.name)
        assert set(reg.aliases) <= set(formula.aliases) and set(reg.aliases) <= names, reg.name
        for p in formula.defaults:
            assert p in reg.parameter_space, (reg.name, p)
    assert get_formula("activation", "swish").name == "silu"
    assert get_formula("activation", "linear").name == "identity"


def test_references_agree_with_independent_definitions():
    z = np.linspace(-8.0, 8.0, 161)
    naive = {
        ("sigmoid", ()): (1 / (1 + np.exp(-z)), np.exp(-z) / (1 + np.exp(-z)) ** 2),
        ("tanh", ()): (np.tanh(z), 1 / np.cosh(z) ** 2),
        ("softsign", ()): (z / (1 + abs(z)), 1 / (1 + abs(z)) ** 2),
        ("silu", ()): (z / (1 + np.exp(-z)), None),
        ("softplus", (("beta", 2.0),)): (np.log1p(np.exp(2 * z)) / 2, 1 / (1 + np.exp(-2 * z))),
        ("elu", (("alpha", 0.5),)): (np.where(z > 0, z, 0.5 * (np.exp(z) - 1)), np.where(z > 0, 1, 0.5 * np.exp(z))),
        ("selu", ()): (SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)), None),
        ("gelu", ()): (0.5 * z * (1 + np.vectorize(math.erf)(z / math.sqrt(2))), None),
        ("gelu", (("approximate", "tanh"),)):
            (0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3))), None),
        ("hard_sigmoid", ()): (np.clip(z / 6 + 0.5, 0, 1), None),
        ("leaky_relu", (("alpha", 2.5),)): (np.where(z > 0, z, 2.5 * z), None),
    }
    for (name, params), (value, deriv) in naive.items():
        ref = get_formula("activation", name).reference(z, **dict(params))
        np.testing.assert_allclose(ref.value, value, rtol=1e-12, atol=1e-14, err_msg=name)
        assert np.all(ref.value_scale >= np.abs(ref.value) * (1 - 1e-15)) or name in ("sigmoid", "tanh", "softsign",
                                                                                       "hard_sigmoid")
        if deriv is not None:
            np.testing.assert_allclose(ref.derivative, deriv, rtol=1e-12, atol=1e-14, err_msg=name)
        h = 1e-6
        num = (get_formula("activation", name).reference(z + h, **dict(params)).value
               - get_formula("activation", name).reference(z - h, **dict(params)).value) / (2 * h)
        smooth = np.abs(z) > 1e-3 if name in ("elu", "selu", "leaky_relu") else np.abs(np.abs(z) - 3) > 1e-3
        np.testing.assert_allclose(ref.derivative[smooth], num[smooth], rtol=1e-6, atol=1e-8, err_msg=name)
    rows = np.random.default_rng(0).normal(size=(4, 5))
    g = np.random.default_rng(1).normal(size=(4, 5))
    p = np.exp(rows) / np.exp(rows).sum(axis=1, keepdims=True)
    sm = get_formula("activation", "softmax").reference(rows, g)
    jac = np.einsum("nj,jk->njk", p, np.eye(5)) - np.einsum("nj,nk->njk", p, p)
    np.testing.assert_allclose(sm.value, p, rtol=1e-13)
    np.testing.assert_allclose(sm.derivative, np.einsum("njk,nk->nj", jac, g), rtol=1e-12, atol=1e-15)
    ls = get_formula("activation", "log_softmax").reference(rows, g)
    np.testing.assert_allclose(ls.value, np.log(p), rtol=1e-13)
    np.testing.assert_allclose(ls.derivative, g - p * g.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-15)
    saturation = get_formula("activation", "selu").reference(np.array([-1e4])).value[0]
    assert saturation == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=2e-16)  # full-precision constants


# ------------------------------------------------------------------------------------ messages
def test_a_formula_failure_names_the_formula_the_config_and_the_worst_input():
    from spec_mutants.activations import LeakyMaxForm

    r = check_component(LeakyMaxForm(), implements=("leaky_relu",), checks=["ACT-FORMULA"]).results[0]
    assert r.status == "failed"
    assert "formula 'leaky_relu' with alpha=2.5" in r.message and "component built with alpha=2.5" in r.message
    assert "expected: phi(z) = " in r.message and "found: " in r.message and "where: z = " in r.message
    assert "forward()" in r.message


def test_a_derivative_failure_shows_phi_prime_next_to_the_central_difference():
    class Doubled(npl.Activation):
        def forward(self, z, out=None):
            return np.tanh(z, out=out)

        def derivative(self, z, a):
            return 2 * (1 - a * a)

    r = check_component(Doubled(), checks=["ACT-DERIV"]).results[0]
    assert r.status == "failed"
    found = float(r.message.split("found: phi'(z) = ")[1].split("\n")[0])
    z = float(r.message.split("where: input ")[1].split(" ")[0])
    assert found == pytest.approx(2 / math.cosh(z) ** 2, rel=1e-12)  # phi'(z) itself, not times a random g
    assert "central difference" in r.message and "fix derivative() or backward()" not in r.message


# ------------------------------------------------------------------------------------ configs
class SoftplusIgnoringBeta(npl.Activation):
    """softplus whose derivative forgets beta: right at beta = 1 only."""

    def __init__(self, beta: float = 1.0):
        self.beta = float(beta)

    def forward(self, z, out=None):
        return np.logaddexp(0.0, self.beta * z) / self.beta

    def derivative(self, z, a):
        return _sig(z).astype(z.dtype)


@pytest.mark.parametrize("declaration", [{"example_configs": ({"beta": 3.0},)},
                                         {"parameter_space": {"beta": npl.Param.real(0.1, 10.0, log=True)}}])
def test_a_parameter_ignored_in_a_declared_or_drawn_config_fails_the_derivative_check(declaration):
    with npl.isolated_registry() as reg:
        reg.register(SoftplusIgnoringBeta, name="my_softplus", **declaration)
        report = run_spec("activation:my_softplus")
    failed = {r.check_id: r.message for r in report.results if r.status == "failed"}
    assert set(failed) >= {"ACT-DERIV"} and "[component built with beta=" in failed["ACT-DERIV"]
    assert "ACT-FORMULA" not in failed  # it claims nothing
    with npl.isolated_registry() as reg:  # at its default alone, nothing shows
        reg.register(SoftplusIgnoringBeta, name="my_softplus")
        assert run_spec("activation:my_softplus").ok


def test_builtins_run_their_declared_configs_and_pass():
    report = run_spec("activation:elu", checks=["ACT-FLOAT32", "ACT-DERIV", "ACT-FORMULA"])
    assert report.ok, [(r.check_id, r.message) for r in report.failures()]
    from neuroplug.spec.runner import subjects_for

    subject = subjects_for("activation:elu")[0]
    assert {"alpha": 20.0} in subject.configs() and len(subject.configs()) >= 5


class LeakyAnySlope(npl.Activation):
    """leaky relu accepting any slope: monotonic only for alpha >= 0."""

    kinks = (0.0,)

    def __init__(self, alpha: float = 0.01):
        self.alpha = float(alpha)

    def forward(self, z, out=None):
        return np.where(z > 0, z, self.alpha * z).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.alpha).astype(z.dtype)


def test_a_declared_property_is_verified_for_every_config():
    with npl.isolated_registry() as reg:
        reg.register(LeakyAnySlope, name="any_slope", properties=("monotonic", "zero_at_zero"),
                     example_configs=({"alpha": -0.5},))
        report = run_spec("activation:any_slope", checks=["PROP-MONOTONIC", "PROP-ZERO-AT-ZERO"])
    status = {r.check_id: r for r in report.results}
    assert status["PROP-ZERO-AT-ZERO"].status == "passed"
    assert status["PROP-MONOTONIC"].status == "failed"
    assert "[component built with alpha=-0.5]" in status["PROP-MONOTONIC"].message
