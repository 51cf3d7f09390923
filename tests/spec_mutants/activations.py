"""Wrong activations: each fails exactly the spec checks listed in its ``kills``.

Every mutant is a plausible mistake of a plugin author (a typo in a derivative,
an overflowing formula, a "fast path" that changes results, a forgotten flag),
not a random corruption. They are unregistered instances; the spec suite must
judge them from what they declare (``implements``) and what they compute.
"""

from __future__ import annotations

import numpy as np

from neuroplug.base import Activation
from neuroplug.plugins.activations import ELU, GELU, LeakyReLU, LogSoftmax, Softmax, Softplus

from . import Mutant

__all__ = ["MUTANTS"]


def _stable_sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype)


class ScaledTanh(Activation):
    """LeCun's scaled tanh 1.7159 tanh(2z/3), registered as "tanh" (a different function)."""

    def forward(self, z, out=None):
        return np.multiply(np.tanh(z * (2.0 / 3.0)), 1.7159, out=out)

    def derivative(self, z, a):
        return (2.0 / 3.0) * 1.7159 * (1.0 - (a / 1.7159) ** 2)


class NaiveSigmoid(Activation):
    """sigmoid as 1 / (1 + exp(-z)): exp overflows (and warns) for z <= -710 (float64), -89 (float32)."""

    def forward(self, z, out=None):
        return np.divide(1.0, 1.0 + np.exp(-z), out=out)

    def derivative(self, z, a):
        return a * (1.0 - a)


class TanhSigmoid(Activation):
    """"sigmoid" as (1 + tanh z) / 2 -- the identity sigmoid(z) = (1 + tanh(z/2)) / 2 without the /2 inside."""

    def forward(self, z, out=None):
        return _stable_sigmoid(2.0 * z)  # = (1 + tanh z) / 2, evaluated without cancellation

    def derivative(self, z, a):
        return 2.0 * a * (1.0 - a)  # consistent with its own forward: d/dz (1 + tanh z)/2


class LeakyClaimingRelu(LeakyReLU):
    """A leaky ReLU (slope 0.01 below 0) that its author declares as relu."""


class ClampingTanh(Activation):
    """tanh that clamps its input to [-20, 20] *in place* "to avoid overflow" (tanh saturates there anyway)."""

    def forward(self, z, out=None):
        np.clip(z, -20.0, 20.0, out=z)
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a * a


class RandomDispatchTanh(Activation):
    """tanh that picks, per entry and at random, one of two equivalent formulas (differing in the last bit)."""

    def forward(self, z, out=None):
        e = np.expm1(-2.0 * np.abs(z))
        alt = np.sign(z) * (-e) / (2.0 + e)
        pick = np.random.random(z.shape) < 0.5
        result = np.where(pick, np.tanh(z), alt).astype(z.dtype)
        if out is None:
            return result
        np.copyto(out, result)
        return out

    def derivative(self, z, a):
        return 1.0 - a * a


class UpcastingTanh(Activation):
    """tanh scaled by a numpy float64 constant: float32 input comes back float64 (NEP 50)."""

    _gain = np.float64(1.0)

    def forward(self, z, out=None):
        return np.tanh(z) * self._gain

    def derivative(self, z, a):
        return (1.0 - a * a) * self._gain


class HalfPrecisionTanh(Activation):
    """tanh with a "fast" float16 path for float32 input (about 3 significant digits)."""

    def forward(self, z, out=None):
        if z.dtype == np.float32:
            return np.tanh(z.astype(np.float16)).astype(np.float32)
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a * a


class BatchFastPathTanh(Activation):
    """tanh that switches to float32 arithmetic for large batches (>= 64 rows) "for speed"."""

    def forward(self, z, out=None):
        if z.ndim == 2 and z.shape[0] >= 64:
            return np.tanh(z.astype(np.float32)).astype(z.dtype)
        return np.tanh(z)

    def derivative(self, z, a):
        return 1.0 - a * a


class SoftmaxWithoutFlag(Activation):
    """A correct row-wise softmax (forward and backward) whose author forgot ``elementwise = False``."""

    link = "softmax"

    def forward(self, z, out=None):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def backward(self, z, a, grad, out=None):
        dot = np.sum(grad * a, axis=-1, keepdims=True)
        return np.multiply(a, grad - dot, out=out)


class AliasingSoftmax(Softmax):
    """softmax whose backward writes a * grad into ``out`` first, then reads grad again: wrong when out is grad."""

    def backward(self, z, a, grad, out=None):
        out = np.multiply(a, grad, out=out)
        out -= a * np.sum(grad * a, axis=-1, keepdims=True)  # grad may already hold a * grad
        return out


class IdentityReturningInput(Activation):
    """Identity whose forward returns ``z`` itself (callers writing into the result corrupt z)."""

    def forward(self, z, out=None):
        if out is None:
            return z
        np.copyto(out, z)
        return out

    def derivative(self, z, a):
        return np.ones_like(z)


class WrongDerivativeTanh(Activation):
    """tanh with the derivative typo 1 - a instead of 1 - a^2."""

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        return 1.0 - a


class DerivativeDisagreesSigmoid(Activation):
    """sigmoid with a correct fused backward() but a wrong derivative() (a (1 + a)) left behind."""

    def forward(self, z, out=None):
        return _stable_sigmoid(z)

    def derivative(self, z, a):
        return a * (1.0 + a)

    def backward(self, z, a, grad, out=None):
        return np.multiply(grad, a * (1.0 - a), out=out)


class NaiveSoftplus(Activation):
    """softplus as log1p(exp(z)): exp overflows (and warns) for large z; its derivative for large -z."""

    def forward(self, z, out=None):
        return np.log1p(np.exp(z), out=out)

    def derivative(self, z, a):
        return 1.0 / (1.0 + np.exp(-z))


class LeakyForgetsSlope(Activation):
    """A leaky ReLU storing its parameter ``alpha`` as ``self.slope``; ``alpha`` is only a class default."""

    alpha = 0.01
    kinks = (0.0,)

    def __init__(self, alpha: float = 0.01):
        self.slope = float(alpha)

    def forward(self, z, out=None):
        return np.where(z > 0, z, self.slope * z).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)


# ---------------------------------------------------------------- formula faults (ACT-FORMULA, issue 10)
class LeakyDerivativeHardcoded(LeakyReLU):
    """leaky relu whose derivative hard-codes the default slope 0.01: invisible at the default alpha."""

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, 0.01).astype(z.dtype)


class LeakyMaxForm(LeakyReLU):
    """leaky relu as max(z, alpha z): right for alpha <= 1 only (alpha = 2.5 gives alpha z for z > 0)."""

    kinks = (0.0,)

    def forward(self, z, out=None):
        return np.maximum(z, self.alpha * z, out=out)

    def derivative(self, z, a):
        return np.where(z >= self.alpha * z, 1.0, self.alpha).astype(z.dtype)


class SeluTruncated(Activation):
    """SELU with the constants typed in as lambda = 1.0507, alpha = 1.6733 (3e-5 relative off)."""

    kinks = (0.0,)
    scale, alpha = 1.0507, 1.6733

    def forward(self, z, out=None):
        neg = self.scale * self.alpha * np.expm1(np.minimum(z, 0.0))
        return np.where(z > 0, self.scale * z, neg).astype(z.dtype)

    def derivative(self, z, a):
        return np.where(z > 0, self.scale, a + self.scale * self.alpha).astype(z.dtype)


class GeluTanhConstantTypo(GELU):
    """GELU whose tanh approximation uses 0.0447 instead of 0.044715."""

    _C = 0.0447


class SoftplusDerivativeIgnoresBeta(Softplus):
    """softplus whose derivative is sigmoid(z), not sigmoid(beta z): invisible at the default beta = 1."""

    def derivative(self, z, a):
        return _stable_sigmoid(z)


class EluDerivativeIgnoresAlpha(ELU):
    """ELU whose derivative is e^z below 0 (alpha forgotten): invisible at the default alpha = 1."""

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0))).astype(z.dtype)


class SoftmaxBackwardNoDot(Softmax):
    """softmax whose backward forgets the -sum_k g_k a_k term: a * g (the diagonal of the Jacobian only)."""

    def backward(self, z, a, grad, out=None):
        return np.multiply(a, grad, out=out)


class LogSoftmaxBackwardUsesA(LogSoftmax):
    """log-softmax whose backward multiplies by a = log p instead of p = exp(a)."""

    def backward(self, z, a, grad, out=None):
        return np.subtract(grad, a * grad.sum(axis=-1, keepdims=True), out=out)


class SigmoidFloat32Inside(Activation):
    """sigmoid evaluated in float32 whatever the input dtype "for speed" (1e-8 off in float64)."""

    def forward(self, z, out=None):
        return _stable_sigmoid(z.astype(np.float32)).astype(z.dtype)

    def derivative(self, z, a):
        return a * (1.0 - a)


MUTANTS = [
    Mutant(name="scaled_tanh", component=ScaledTanh(), kills={"ACT-TANH", "ACT-FORMULA"}, implements=("tanh",),
           fix_hint="must compute tanh", notes="1.7159 tanh(2z/3) is a fine activation, but not tanh"),
    Mutant(name="sigmoid_overflows", component=NaiveSigmoid(), kills={"ACT-FINITE-LARGE", "ACT-SIGMOID", "ACT-FORMULA"},
           implements=("sigmoid",), fix_hint="numerically stable",
           notes="exp(-z) overflows at z = -1e4; the formula check's grid reaches it too"),
    Mutant(name="sigmoid_missing_half", component=TanhSigmoid(), kills={"ACT-SIGMOID", "ACT-FORMULA"},
           implements=("sigmoid",), fix_hint="must compute sigmoid"),
    Mutant(name="leaky_claims_relu", component=LeakyClaimingRelu(), kills={"ACT-RELU", "ACT-FORMULA"},
           implements=("relu",), fix_hint="must compute relu"),
    Mutant(name="tanh_clamps_input_in_place", component=ClampingTanh(), kills={"ACT-NO-MUTATION"},
           fix_hint="in place"),
    Mutant(name="tanh_random_dispatch", component=RandomDispatchTanh(), kills={"ACT-DETERMINISTIC"},
           fix_hint="np.random", notes="last-bit differences only: every tolerance-based check passes"),
    Mutant(name="tanh_upcasts_float32", component=UpcastingTanh(), kills={"ACT-SHAPE-DTYPE"},
           fix_hint="preserve the input dtype"),
    Mutant(name="tanh_float16_path", component=HalfPrecisionTanh(), kills={"ACT-FLOAT32"},
           fix_hint="half-precision"),
    Mutant(name="tanh_batch_fast_path", component=BatchFastPathTanh(), kills={"ACT-BATCH", "NEURON-DENSE"},
           fix_hint="batch size", notes="a sample's output depends on the size of the batch it is in"),
    Mutant(name="softmax_without_elementwise_flag", component=SoftmaxWithoutFlag(),
           kills={"ACT-INTERFACE", "ACT-BATCH", "ACT-DERIV"}, fix_hint="elementwise = False",
           notes="forward and backward are right; the declaration is wrong, and the element-wise "
                 "chain rule grad * phi'(z) would not hold"),
    Mutant(name="softmax_backward_aliasing", component=AliasingSoftmax(), kills={"ACT-INTERFACE", "CHAIN-RULE-ACT"},
           fix_hint="out=grad", notes="right without out=, wrong with out=grad, as the network calls it"),
    Mutant(name="identity_returns_input", component=IdentityReturningInput(), kills={"ACT-INTERFACE"},
           fix_hint="new array"),
    Mutant(name="tanh_wrong_derivative", component=WrongDerivativeTanh(), kills={"ACT-DERIV", "CHAIN-RULE-ACT"},
           fix_hint="phi'"),
    Mutant(name="sigmoid_derivative_disagrees", component=DerivativeDisagreesSigmoid(), kills={"ACT-DERIV"},
           fix_hint="fix derivative()", notes="backward() is right, so backpropagation is right"),
    Mutant(name="softplus_overflows", component=NaiveSoftplus(), kills={"ACT-FINITE-LARGE"},
           fix_hint="numerically stable"),
    Mutant(name="leaky_relu_config_lost", component=LeakyForgetsSlope(alpha=0.3), kills={"ACT-CONFIG-ROUNDTRIP"},
           fix_hint="attribute of the same name", notes="get_config() reports the class default alpha = 0.01"),
    Mutant(name="leaky_relu_derivative_hardcoded", component=LeakyDerivativeHardcoded(), kills={"ACT-FORMULA"},
           implements=("leaky_relu",), exact=False, fix_hint="fix derivative() or backward()",
           notes="right at the default alpha = 0.01: caught with the formula's examples and drawn alphas "
                 "(ACT-DERIV and CHAIN-RULE-ACT too, since configs are drawn from a claimed formula's ranges)"),
    Mutant(name="leaky_relu_max_form", component=LeakyMaxForm(), kills={"ACT-FORMULA"},
           implements=("leaky_relu",), fix_hint="forward() must compute leaky_relu",
           notes="max(z, alpha z) is leaky relu only for alpha <= 1; the formula's range includes alpha > 1"),
    Mutant(name="selu_truncated_constants", component=SeluTruncated(), kills={"ACT-FORMULA"}, implements=("selu",),
           fix_hint="forward() must compute selu", notes="3e-5 relative error: far above 16 eps"),
    Mutant(name="gelu_tanh_constant_typo", component=GeluTanhConstantTypo("tanh"), kills={"ACT-FORMULA"},
           implements=("gelu",), fix_hint="forward() must compute gelu", notes="0.0447 for 0.044715"),
    Mutant(name="softplus_derivative_ignores_beta", component=SoftplusDerivativeIgnoresBeta(),
           kills={"ACT-FORMULA"}, implements=("softplus",), exact=False, fix_hint="fix derivative() or backward()",
           notes="right at the default beta = 1: caught with drawn betas (by ACT-DERIV and CHAIN-RULE-ACT too)"),
    Mutant(name="elu_derivative_ignores_alpha", component=EluDerivativeIgnoresAlpha(), kills={"ACT-FORMULA"},
           implements=("elu",), exact=False, fix_hint="fix derivative() or backward()",
           notes="right at the default alpha = 1: caught with the formula's examples and drawn alphas "
                 "(by ACT-DERIV and CHAIN-RULE-ACT too)"),
    Mutant(name="softmax_backward_without_dot", component=SoftmaxBackwardNoDot(),
           kills={"ACT-FORMULA", "ACT-DERIV", "CHAIN-RULE-ACT"}, implements=("softmax",),
           fix_hint="backward()", notes="only the diagonal of the Jacobian diag(p) - p p^T"),
    Mutant(name="log_softmax_backward_uses_a", component=LogSoftmaxBackwardUsesA(),
           kills={"ACT-FORMULA", "ACT-DERIV", "CHAIN-RULE-ACT"}, implements=("log_softmax",),
           fix_hint="backward()", notes="log p where p = exp(a) belongs"),
    Mutant(name="sigmoid_float32_inside", component=SigmoidFloat32Inside(), kills={"ACT-SIGMOID", "ACT-FORMULA"},
           implements=("sigmoid",), exact=False, fix_hint="forward() must compute sigmoid",
           notes="float64 inputs get float32 accuracy (1e-8): also fails the derivative checks"),
]
