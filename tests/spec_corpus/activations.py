"""Blind corpus: activations.

Written from the public plugin-author documentation only (README, docs/plugins.rst,
docs/guide, docs/concepts, docs/reference, docs/spec-reference.md, the docstrings of
core/base.py, core/types.py, core/hookspecs.py, core/errors.py, core/validation.py) and
the built-ins' registrations (formula, derivative, parameters, properties) read through
the public registry API. Nothing under spec_tests/ nor plugins/ was read.

``CORRECT`` components implement a registered formula in another algebraic form;
``MUTANTS`` are single-fault variants, each naming the statement of the docs it breaks.
Mutants subclass a correct component and override one method or attribute, so that each
carries exactly one fault.
"""

from __future__ import annotations

import math

import numpy as np

from neuroplug.base import Activation
from neuroplug.types import Param
from neuroplug.validation import check_choice, check_number

from . import Case

# Self-normalising constants (Klambauer et al. 2017), as in PyTorch/Keras.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
GELU_C = math.sqrt(2.0 / math.pi)
INV_SQRT2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

_erfc = np.frompyfunc(math.erfc, 1, 1)


def _phi_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF Phi(z) = erfc(-z/sqrt 2)/2, in float64, accurate in the lower tail."""
    return 0.5 * _erfc(-np.asarray(z, dtype=np.float64) * INV_SQRT2).astype(np.float64)


def _sigmoid_stable(x: np.ndarray) -> np.ndarray:
    """sigma(x) with exp(-|x|) only: 1/(1+e) for x >= 0, e/(1+e) below (dtype kept)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# ---------------------------------------------------------------------------------------
# Correct components
# ---------------------------------------------------------------------------------------


class SigmoidLogaddexp(Activation):
    """sigma(z) = exp(-log(1 + e^{-z})), the log computed by logaddexp."""

    link = "sigmoid"

    def forward(self, z, out=None):
        return np.exp(-np.logaddexp(0, -z))

    def derivative(self, z, a):
        # sigma(z) sigma(-z), both factors in log space, from z only
        return np.exp(-(np.logaddexp(0, -z) + np.logaddexp(0, z)))


class SigmoidViaTanh(Activation):
    """sigma(z) = (1 + tanh(z/2)) / 2 (the identity XLA uses)."""

    def forward(self, z, out=None):
        return 0.5 + 0.5 * np.tanh(0.5 * z)

    def derivative(self, z, a):
        t = np.tanh(0.5 * z)
        return 0.25 * (1 - t * t)


class TanhExpm1(Activation):
    """tanh z = sign(z) (1 - e^{-2|z|}) / (1 + e^{-2|z|}), written with expm1."""

    def forward(self, z, out=None):
        m = np.expm1(-2 * np.abs(z))  # in (-1, 0]
        return np.copysign(-m / (2 + m), z)

    def derivative(self, z, a):
        # sech^2 z = 4 e / (1 + e)^2 with e = exp(-2|z|): from z only, never overflows
        e = np.exp(-2 * np.abs(z))
        d = 1 + e
        return 4 * e / (d * d)


class TanhSech(Activation):
    """np.tanh, derivative sech^2 computed from z as (2e / (1 + e^2))^2; no optional parts."""

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        e = np.exp(-np.abs(z))
        s = 2 * e / (1 + e * e)
        return s * s


class ReluAbs(Activation):
    """relu(z) = (z + |z|) / 2."""

    kinks = (0.0,)

    def forward(self, z, out=None):
        return 0.5 * (z + np.abs(z))

    def derivative(self, z, a):
        return np.sign(a)  # a >= 0: sign is 0 or 1


class ReluNoKinks(Activation):
    """relu via np.where, derivative via heaviside; ``kinks`` left at its default ().

    Used as a mutant (undeclared kink): the suite samples z = 0, where phi' is undefined."""

    def forward(self, z, out=None):
        return np.where(z > 0, z, 0)

    def derivative(self, z, a):
        return np.heaviside(z, 0.0)


class LeakyReluMaximum(Activation):
    """max(z, alpha z): equals the piecewise formula for 0 <= alpha <= 1, the range it accepts."""

    kinks = (0.0,)

    def __init__(self, alpha=0.01):
        self.alpha = check_number("alpha", alpha, low=0, high=1)

    def forward(self, z, out=None):
        return np.maximum(z, self.alpha * z)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.alpha).astype(z.dtype, copy=False)


class LeakyReluWhere(Activation):
    """np.where(z > 0, z, alpha z), any alpha >= 0; derivative from the cached output."""

    def __init__(self, alpha=0.01):
        self.alpha = check_number("alpha", alpha, low=0)

    @property
    def kinks(self):
        return () if self.alpha == 1 else (0.0,)

    def forward(self, z, out=None):
        return np.where(z > 0, z, self.alpha * z)

    def derivative(self, z, a):
        return np.where(a > 0, 1.0, self.alpha).astype(z.dtype, copy=False)


class EluExpm1(Activation):
    """alpha * expm1(min(z, 0)) below 0; derivative a + alpha from the cached output."""

    def __init__(self, alpha=1.0):
        self.alpha = check_number("alpha", alpha, low=0)

    @property
    def kinks(self):  # phi' jumps from alpha to 1 at 0 unless alpha == 1
        return () if self.alpha == 1 else (0.0,)

    def forward(self, z, out=None):
        return np.where(z > 0, z, self.alpha * np.expm1(np.minimum(z, 0)))

    def derivative(self, z, a):
        return np.where(z > 0, 1, a + self.alpha)


class SeluConstants(Activation):
    """lambda * (z or alpha expm1(z)) with the self-normalising constants; derivative from z."""

    kinks = (0.0,)

    def forward(self, z, out=None):
        return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))

    def derivative(self, z, a):
        return SELU_LAMBDA * np.where(z > 0, 1, SELU_ALPHA * np.exp(np.minimum(z, 0)))


class SoftplusLogaddexp(Activation):
    """logaddexp(0, beta z) / beta; derivative sigma(beta z) in log space."""

    def __init__(self, beta=1.0):
        self.beta = check_number("beta", beta, low=0, low_inclusive=False)

    def forward(self, z, out=None):
        return np.logaddexp(0, self.beta * z) / self.beta

    def derivative(self, z, a):
        return np.exp(-np.logaddexp(0, -self.beta * z))


class SoftplusMaxLog1p(Activation):
    """(max(x, 0) + log1p(exp(-|x|))) / beta, x = beta z; derivative -expm1(-beta a) from a."""

    def __init__(self, beta=1.0):
        self.beta = check_number("beta", beta, low=0, low_inclusive=False)

    def forward(self, z, out=None):
        x = self.beta * z
        return (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))) / self.beta

    def derivative(self, z, a):
        # e^{-beta a} = 1 / (1 + e^{beta z}), so 1 - e^{-beta a} = sigma(beta z)
        return -np.expm1(-self.beta * a)


class GeluErfc(Activation):
    """Exact GELU z Phi(z), Phi from math.erfc (no ``approximate`` parameter: exact only)."""

    def forward(self, z, out=None):
        return (np.asarray(z, dtype=np.float64) * _phi_cdf(z)).astype(z.dtype)

    def derivative(self, z, a):
        x = np.asarray(z, dtype=np.float64)
        return (_phi_cdf(x) + x * INV_SQRT_2PI * np.exp(-0.5 * x * x)).astype(z.dtype)


class GeluSigmoidForm(Activation):
    """GELU, default tanh approximation written as z sigma(2u), u = c(z + 0.044715 z^3)
    (1 + tanh u = 2 sigma(2u), stable); approximate="none" is the exact z Phi(z)."""

    def __init__(self, approximate="tanh"):
        self.approximate = check_choice("approximate", approximate, ("none", "tanh"))

    def forward(self, z, out=None):
        if self.approximate == "none":
            return (np.asarray(z, dtype=np.float64) * _phi_cdf(z)).astype(z.dtype)
        u = GELU_C * (z + 0.044715 * z * z * z)
        return z * _sigmoid_stable(2 * u)

    def derivative(self, z, a):
        if self.approximate == "none":
            x = np.asarray(z, dtype=np.float64)
            return (_phi_cdf(x) + x * INV_SQRT_2PI * np.exp(-0.5 * x * x)).astype(z.dtype)
        u = GELU_C * (z + 0.044715 * z * z * z)
        du = GELU_C * (1 + 3 * 0.044715 * z * z)
        s = _sigmoid_stable(2 * u)
        return s + z * (2 * s * (1 - s)) * du


class SiluLogaddexp(Activation):
    """z sigma(z) with sigma = exp(-logaddexp(0, -z)); derivative sigma + a sigma(-z)."""

    def forward(self, z, out=None):
        return z * np.exp(-np.logaddexp(0, -z))

    def derivative(self, z, a):
        s = np.exp(-np.logaddexp(0, -z))
        s_neg = np.exp(-np.logaddexp(0, z))
        return s + a * s_neg


class SoftsignFromA(Activation):
    """z / (1 + |z|); derivative (1 - |a|)^2 from the cached output."""

    def forward(self, z, out=None):
        return z / (1 + np.abs(z))

    def derivative(self, z, a):
        r = 1 - np.abs(a)
        return r * r


class HardSigmoidClip(Activation):
    """clip(z/6 + 1/2, 0, 1), i.e. relu6(z + 3)/6."""

    kinks = (-3.0, 3.0)

    def forward(self, z, out=None):
        return np.clip(z / 6 + 0.5, 0, 1)

    def derivative(self, z, a):
        return np.where(np.abs(z) < 3, 1 / 6, 0.0).astype(z.dtype, copy=False)


class IdentityPositive(Activation):
    """np.positive (a new array, or into ``out``)."""

    def forward(self, z, out=None):
        return np.positive(z, out=out)

    def derivative(self, z, a):
        return np.ones_like(z)


class SoftmaxLSE(Activation):
    """exp(z - logsumexp(z)) row-wise; backward (g - <g, a>) * a written by hand."""

    elementwise = False
    link = "softmax"

    def forward(self, z, out=None):
        m = np.max(z, axis=-1, keepdims=True)
        lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
        return np.exp(z - lse)

    def backward(self, z, a, grad, out=None):
        s = np.sum(grad * a, axis=-1, keepdims=True)  # computed before out (maybe grad) is written
        out = np.subtract(grad, s, out=out)
        out *= a
        return out


class LogSoftmaxManual(Activation):
    """z - max - log(sum exp(z - max)); backward g - softmax * sum(g)."""

    elementwise = False

    def forward(self, z, out=None):
        shifted = z - np.max(z, axis=-1, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))

    def backward(self, z, a, grad, out=None):
        total = np.sum(grad, axis=-1, keepdims=True)
        p = np.exp(a)
        return np.subtract(grad, p * total, out=out)


SIGMOID_PROPS = ("monotonic", "bounded_derivative", "nonnegative_output", "bounded_output")
TANH_PROPS = ("monotonic", "bounded_derivative", "odd", "zero_at_zero", "bounded_output", "zero_centred")
RELU_PROPS = ("monotonic", "bounded_derivative", "zero_at_zero", "nonnegative_output")
LEAKY_PROPS = ("monotonic", "bounded_derivative", "zero_at_zero")

CORRECT: list[Case] = [
    Case("sigmoid_logaddexp", SigmoidLogaddexp(), implements=("sigmoid",), properties=SIGMOID_PROPS,
         form="exp(-logaddexp(0, -z)); derivative sigma(z)sigma(-z) from z in log space; link 'sigmoid'"),
    Case("sigmoid_via_tanh", SigmoidViaTanh(), implements=("sigmoid",), properties=SIGMOID_PROPS,
         form="(1 + tanh(z/2))/2 (XLA's form); derivative (1 - tanh^2(z/2))/4 from z; no link"),
    Case("tanh_expm1", TanhExpm1(), implements=("tanh",), properties=TANH_PROPS,
         form="copysign(-m/(2+m), z), m = expm1(-2|z|); derivative 4e/(1+e)^2 from z only"),
    Case("tanh_sech_no_props", TanhSech(), implements=("tanh",),
         form="np.tanh with out=; derivative (2e/(1+e^2))^2, e = exp(-|z|), from z; no properties declared"),
    Case("relu_abs", ReluAbs(), implements=("relu",), properties=RELU_PROPS,
         form="(z + |z|)/2; derivative sign(a); kinks (0,)"),
    Case("leaky_relu_maximum", LeakyReluMaximum(), implements=("leaky_relu",), properties=LEAKY_PROPS,
         form="max(z, alpha z), alpha restricted to [0, 1] (ConfigError above) and declared so",
         extra={"parameter_space": {"alpha": Param.real(0.0, 1.0)}}),
    Case("leaky_relu_where", LeakyReluWhere(alpha=0.2), implements=("leaky_relu",), properties=LEAKY_PROPS,
         form="np.where, any alpha >= 0; derivative from the cached a; kinks () when alpha == 1"),
    Case("elu_expm1", EluExpm1(), implements=("elu",), properties=LEAKY_PROPS,
         form="alpha*expm1(min(z,0)); derivative a + alpha from the cached output; kinks (0,) iff alpha != 1"),
    Case("elu_expm1_alpha20", EluExpm1(alpha=20.0), implements=("elu",), properties=LEAKY_PROPS,
         form="the same ELU built with a large alpha = 20 (derivative a + alpha: absolute float32 error ~ u*alpha)"),
    Case("selu_constants", SeluConstants(), implements=("selu",), properties=LEAKY_PROPS,
         form="lambda*where(z>0, z, alpha*expm1(min(z,0))) with the full-precision constants; derivative from z"),
    Case("softplus_logaddexp", SoftplusLogaddexp(), implements=("softplus",),
         properties=("monotonic", "bounded_derivative", "nonnegative_output"),
         form="logaddexp(0, beta z)/beta; derivative exp(-logaddexp(0, -beta z))"),
    Case("softplus_max_log1p", SoftplusMaxLog1p(beta=2.0), implements=("softplus",),
         properties=("monotonic", "bounded_derivative", "nonnegative_output"),
         form="(max(x,0) + log1p(exp(-|x|)))/beta; derivative -expm1(-beta a) from the cached output"),
    Case("gelu_erfc", GeluErfc(), implements=("gelu",), properties=("zero_at_zero", "bounded_derivative"),
         form="z * erfc(-z/sqrt2)/2 via math.erfc vectorised (float64, cast back); no 'approximate' parameter"),
    Case("gelu_sigmoid_form", GeluSigmoidForm(), implements=("gelu",),
         properties=("zero_at_zero", "bounded_derivative"),
         form="default approximate='tanh' (built-in default is 'none'), written z*sigma(2u); 'none' exact"),
    Case("silu_logaddexp", SiluLogaddexp(), implements=("swish",), properties=("zero_at_zero", "bounded_derivative"),
         form="z*exp(-logaddexp(0,-z)); derivative sigma(z) + a sigma(-z); claims the alias 'swish'"),
    Case("softsign_from_a", SoftsignFromA(), implements=("softsign",),
         properties=("monotonic", "bounded_derivative", "odd", "zero_at_zero", "bounded_output", "zero_centred"),
         form="z/(1+|z|); derivative (1-|a|)^2 from the cached output"),
    Case("hard_sigmoid_clip", HardSigmoidClip(), implements=("hard_sigmoid",),
         properties=("monotonic", "bounded_derivative", "nonnegative_output", "bounded_output"),
         form="clip(z/6 + 0.5, 0, 1) instead of min(max(z+3,0),6)/6; kinks (-3, 3)"),
    Case("identity_positive", IdentityPositive(), implements=("linear",),
         properties=("monotonic", "bounded_derivative", "odd", "zero_at_zero", "zero_centred"),
         form="np.positive(z, out=out); claims the alias 'linear'"),
    Case("softmax_lse", SoftmaxLSE(), implements=("softmax",), properties=("nonnegative_output", "bounded_output"),
         form="exp(z - logsumexp z); hand-written VJP (g - <g,a>) a, safe for out=grad"),
    Case("log_softmax_manual", LogSoftmaxManual(), implements=("log_softmax",),
         form="shifted - log(sum exp(shifted)); VJP g - exp(a) sum(g)"),
    Case("relu_undeclared_kink", ReluNoKinks(), implements=("relu",), properties=RELU_PROPS,
         form="kinks left at () (an optional attribute); the derivative at 0 is one of the one-sided values. "
              "Written as a mutant by the corpus author (debatable); reclassified by the lead: the docs now "
              "say an undeclared kink is accepted when the derivative there lies between the one-sided ones"),
]


# ---------------------------------------------------------------------------------------
# Mutants: one fault each
# ---------------------------------------------------------------------------------------


class SigmoidNaiveExp(SigmoidLogaddexp):
    def forward(self, z, out=None):
        return 1 / (1 + np.exp(-z))


class SigmoidDerivativeSign(SigmoidLogaddexp):
    def derivative(self, z, a):
        return a * (a - 1)


class TanhSigmoidDerivative(TanhExpm1):
    def derivative(self, z, a):  # copy-pasted from sigmoid
        return a * (1 - a)


class TanhCachedOutput(TanhExpm1):
    def forward(self, z, out=None):
        a = super().forward(z)
        self._last = a
        return a

    def derivative(self, z, a):  # uses the output of the last forward call, not the given a
        t = self._last
        return 1 - t * t


class TanhFastFloat32(TanhExpm1):
    def forward(self, z, out=None):
        if z.dtype == np.float32:  # "fast path": Pade(3,2) approximation, clipped
            zc = np.clip(z, -3, 3)
            return (zc * (27 + zc * zc) / (27 + 9 * zc * zc)).astype(np.float32)
        return super().forward(z)


class ReluInPlace(ReluAbs):
    def forward(self, z, out=None):
        return np.maximum(z, 0, out=z if out is None else out)


class ReluDeclaresZeroCentred(ReluAbs):
    pass


class LeakyReluDerivDefaultAlpha(LeakyReluWhere):
    def derivative(self, z, a):
        return np.where(a > 0, 1.0, 0.01).astype(z.dtype, copy=False)


class LeakyReluMaximumUnrestricted(LeakyReluWhere):
    def forward(self, z, out=None):  # max(z, alpha z) is the formula only for alpha <= 1
        return np.maximum(z, self.alpha * z)


class EluAlphaForwardOnly(EluExpm1):
    def derivative(self, z, a):
        return np.where(z > 0, 1, np.exp(np.minimum(z, 0)))


class SeluTruncatedConstants(SeluConstants):
    def forward(self, z, out=None):
        return 1.0507 * np.where(z > 0, z, 1.6733 * np.expm1(np.minimum(z, 0)))

    def derivative(self, z, a):
        return 1.0507 * np.where(z > 0, 1, 1.6733 * np.exp(np.minimum(z, 0)))


class SoftplusNaive(SoftplusLogaddexp):
    def forward(self, z, out=None):
        return np.log1p(np.exp(self.beta * z)) / self.beta


class SoftplusUpcast(SoftplusLogaddexp):
    def forward(self, z, out=None):  # float64 "for accuracy", never cast back
        return np.logaddexp(0.0, np.asarray(z, dtype=np.float64) * self.beta) / self.beta


class SoftplusStoresInverseBeta(Activation):
    """Stores 1/beta under the parameter's name (to multiply instead of divide)."""

    def __init__(self, beta=1.0):
        check_number("beta", beta, low=0, low_inclusive=False)
        self.beta = 1.0 / beta

    def forward(self, z, out=None):
        return np.logaddexp(0, z / self.beta) * self.beta

    def derivative(self, z, a):
        return np.exp(-np.logaddexp(0, -z / self.beta))


class HardSigmoidDerivRelu6Bound(HardSigmoidClip):
    def derivative(self, z, a):  # relu6(z + 3): wrote z < 6 instead of z + 3 < 6
        return np.where((z > -3) & (z < 6), 1 / 6, 0.0).astype(z.dtype, copy=False)


class GeluWrongConstant(GeluSigmoidForm):
    def forward(self, z, out=None):
        if self.approximate == "none":
            return super().forward(z)
        u = GELU_C * (z + 0.0447 * z * z * z)
        return z * _sigmoid_stable(2 * u)

    def derivative(self, z, a):
        if self.approximate == "none":
            return super().derivative(z, a)
        u = GELU_C * (z + 0.0447 * z * z * z)
        du = GELU_C * (1 + 3 * 0.0447 * z * z)
        s = _sigmoid_stable(2 * u)
        return s + z * (2 * s * (1 - s)) * du


class IdentityReturnsInput(IdentityPositive):
    def forward(self, z, out=None):
        return z


class IdentityScalarDerivative(IdentityPositive):
    def derivative(self, z, a):
        return 1.0


class SoftmaxColumns(SoftmaxLSE):
    def forward(self, z, out=None):  # normalises over the batch axis
        m = np.max(z, axis=0, keepdims=True)
        e = np.exp(z - m)
        return e / np.sum(e, axis=0, keepdims=True)

    def backward(self, z, a, grad, out=None):
        s = np.sum(grad * a, axis=0, keepdims=True)
        return (grad - s) * a


class SoftmaxNaiveExp(SoftmaxLSE):
    def forward(self, z, out=None):
        e = np.exp(z)
        return e / np.sum(e, axis=-1, keepdims=True)


class SoftmaxBackwardUnweighted(SoftmaxLSE):
    def backward(self, z, a, grad, out=None):
        s = np.sum(grad, axis=-1, keepdims=True)  # should be sum(grad * a)
        return (grad - s) * a


class SoftmaxElementwiseDefault(SoftmaxLSE):
    elementwise = True  # forgot elementwise = False


class LogSoftmaxBackwardLogp(LogSoftmaxManual):
    def backward(self, z, a, grad, out=None):
        return grad - a * np.sum(grad, axis=-1, keepdims=True)  # a is log p, not p


class LogSoftmaxOutAlias(LogSoftmaxManual):
    def backward(self, z, a, grad, out=None):
        if out is None:
            out = np.empty_like(grad)
        np.exp(a, out=out)  # clobbers grad when out is grad
        out *= -np.sum(grad, axis=-1, keepdims=True)
        out += grad
        return out


MUTANTS: list[Case] = [
    Case("sigmoid_naive_exp", SigmoidNaiveExp(), implements=("sigmoid",), properties=SIGMOID_PROPS,
         breaks="plugins.rst: stays finite and warning-free at |z| = 1e4; use exp(-|z|) rather than exp(-z) "
                "(ACT-FINITE-LARGE)"),
    Case("sigmoid_derivative_sign", SigmoidDerivativeSign(), implements=("sigmoid",),
         breaks="registration derivative phi(z)(1 - phi(z)); ACT-DERIV: derivative matches central differences"),
    Case("tanh_sigmoid_derivative", TanhSigmoidDerivative(), implements=("tanh",), properties=TANH_PROPS,
         breaks="tanh' = 1 - tanh^2 (chain-rule.rst); ACT-DERIV"),
    Case("tanh_cached_output", TanhCachedOutput(), implements=("tanh",),
         breaks="ACT-DETERMINISTIC: no hidden state; base.py: derivative(z, a), a is forward(z)"),
    Case("tanh_fast_float32", TanhFastFloat32(), implements=("tanh",),
         breaks="ACT-FLOAT32: float32 results as accurate as float32 allows (an approximate float32 path fails)"),
    Case("relu_in_place", ReluInPlace(), implements=("relu",), properties=RELU_PROPS,
         breaks="plugins.rst/base.py: a component never modifies its inputs (ACT-NO-MUTATION); forward returns "
                "a new array, out is never z"),
    Case("relu_declares_zero_centred", ReluDeclaresZeroCentred(), implements=("relu",),
         properties=RELU_PROPS + ("zero_centred",),
         breaks="PROP-ZERO-CENTRED excludes relu: a declared property must hold"),
    Case("leaky_relu_deriv_default_alpha", LeakyReluDerivDefaultAlpha(), implements=("leaky_relu",),
         properties=LEAKY_PROPS,
         breaks="derivative alpha for z <= 0 (registration); parameter alpha hard-coded as 0.01 in derivative"),
    Case("leaky_relu_deriv_default_alpha_declared", LeakyReluDerivDefaultAlpha(), implements=("leaky_relu",),
         properties=LEAKY_PROPS,
         breaks="same fault, with example_configs=({'alpha': 2.0},) and a parameter_space declared: types.py says "
                "the suite builds the component with them 'so that a component which ignores or misuses a "
                "parameter is caught'",
         extra={"example_configs": ({"alpha": 2.0},), "parameter_space": {"alpha": Param.real(0.0, None)}}),
    Case("leaky_relu_maximum_unrestricted", LeakyReluMaximumUnrestricted(), implements=("leaky_relu",),
         properties=LEAKY_PROPS,
         breaks="formula z for z > 0 for every alpha >= 0 (the built-in accepts alpha > 1); max(z, alpha z) "
                "is alpha z there when alpha > 1 (and disagrees with its own derivative)"),
    Case("elu_alpha_forward_only", EluAlphaForwardOnly(alpha=0.5), implements=("elu",), properties=LEAKY_PROPS,
         breaks="derivative alpha e^z for z <= 0 (registration); ACT-DERIV"),
    Case("elu_declares_bounded_output", EluExpm1(), implements=("elu",),
         properties=LEAKY_PROPS + ("bounded_output",),
         breaks="PROP-BOUNDED-OUTPUT: elu grows linearly for z > 0; a declared property must hold"),
    Case("selu_truncated_constants", SeluTruncatedConstants(), implements=("selu",), properties=LEAKY_PROPS,
         breaks="selu: the self-normalising constants lambda = 1.0507009873554805, alpha = 1.6732632423543772"),
    Case("softplus_naive", SoftplusNaive(), implements=("softplus",),
         properties=("monotonic", "bounded_derivative", "nonnegative_output"),
         breaks="finite and warning-free at |z| = 1e4 (ACT-FINITE-LARGE): log1p(exp(beta z)) overflows"),
    Case("softplus_upcast", SoftplusUpcast(), implements=("softplus",),
         breaks="keeps the dtype: float32 in, float32 out (ACT-SHAPE-DTYPE)"),
    Case("softplus_stores_inverse_beta", SoftplusStoresInverseBeta(beta=2.0), implements=("softplus",),
         breaks="parameters stored as attributes of the same name; get_config() rebuilds the component "
                "(ACT-CONFIG-ROUNDTRIP); only visible for beta != 1"),
    Case("hard_sigmoid_deriv_relu6_bound", HardSigmoidDerivRelu6Bound(), implements=("hard_sigmoid",),
         breaks="derivative [-3 < z < 3]/6 (registration); ACT-DERIV"),
    Case("gelu_wrong_constant", GeluWrongConstant(), implements=("gelu",),
         properties=("zero_at_zero", "bounded_derivative"),
         breaks="gelu tanh approximation constant 0.044715 (PyTorch's approximate='tanh'); 0.0447 used"),
    Case("silu_declares_monotonic", SiluLogaddexp(), implements=("silu",),
         properties=("zero_at_zero", "bounded_derivative", "monotonic"),
         breaks="PROP-MONOTONIC: silu has a minimum near z = -1.28; a declared property must hold"),
    Case("identity_returns_input", IdentityReturnsInput(), implements=("identity",),
         breaks="ACT-INTERFACE: forward(z) returns a new ndarray, never z itself"),
    Case("identity_scalar_derivative", IdentityScalarDerivative(), implements=("identity",),
         breaks="ACT-SHAPE-DTYPE: derivative returns an array of the shape and dtype of z"),
    Case("softmax_columns", SoftmaxColumns(), implements=("softmax",),
         breaks="rows are samples (base.py); softmax normalises each row (ACT-BATCH)"),
    Case("softmax_naive_exp", SoftmaxNaiveExp(), implements=("softmax",),
         breaks="finite and warning-free at |z| = 1e4 (ACT-FINITE-LARGE): exp(z) without subtracting the max"),
    Case("softmax_backward_unweighted", SoftmaxBackwardUnweighted(), implements=("softmax",),
         breaks="backward is the VJP of d phi_j/d z_k = phi_j(delta_jk - phi_k) (ACT-DERIV)"),
    Case("softmax_elementwise_default", SoftmaxElementwiseDefault(), implements=("softmax",),
         breaks="base.py: a function coupling a row sets elementwise = False (ACT-INTERFACE / ACT-BATCH)"),
    Case("log_softmax_backward_logp", LogSoftmaxBackwardLogp(), implements=("log_softmax",),
         breaks="derivative delta_jk - softmax(z)_k (registration): uses log p for p; ACT-DERIV"),
    Case("log_softmax_out_alias", LogSoftmaxOutAlias(), implements=("log_softmax",),
         breaks="base.py: backward's out may be grad itself; ACT-INTERFACE: backward(z,a,g,out=g) == backward(z,a,g)"),
]
