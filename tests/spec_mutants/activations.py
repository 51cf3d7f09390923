"""Wrong activations: each fails exactly the spec checks listed in its ``kills``.

Every mutant is a plausible mistake of a plugin author (a typo in a derivative,
an overflowing formula, a "fast path" that changes results, a forgotten flag),
not a random corruption. They are unregistered instances; the spec suite must
judge them from what they declare (``implements``) and what they compute.
"""

from __future__ import annotations

import numpy as np

from neuroplug.base import Activation
from neuroplug.plugins.activations import LeakyReLU, Softmax

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


MUTANTS = [
    Mutant(name="scaled_tanh", component=ScaledTanh(), kills={"ACT-TANH"}, implements=("tanh",),
           fix_hint="without scaling", notes="1.7159 tanh(2z/3) is a fine activation, but not tanh"),
    Mutant(name="sigmoid_overflows", component=NaiveSigmoid(), kills={"ACT-FINITE-LARGE", "ACT-SIGMOID"},
           implements=("sigmoid",), fix_hint="numerically stable",
           notes="exp(-z) overflows at z = -1e4; the formula check's grid reaches it too"),
    Mutant(name="sigmoid_missing_half", component=TanhSigmoid(), kills={"ACT-SIGMOID"}, implements=("sigmoid",),
           fix_hint="1 / (1 + exp(-z))"),
    Mutant(name="leaky_claims_relu", component=LeakyClaimingRelu(), kills={"ACT-RELU"}, implements=("relu",),
           fix_hint="no leak"),
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
]
