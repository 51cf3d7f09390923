"""Components whose *declared properties* are wrong (see ``spec_mutants/__init__.py``).

Each mutant is a correct, well-behaved component -- mostly a built-in subclassed
so that it is unregistered -- that declares one property it does not have (or a
misspelled tag), so exactly the check verifying that declaration must fail.
"""

from __future__ import annotations

import numpy as np

from neuroplug.base import Activation
from neuroplug.plugins.activations import GELU, ReLU, Sigmoid, SiLU, Softmax, Tanh
from neuroplug.plugins.initializers import Constant as ConstantInit
from neuroplug.plugins.initializers import Uniform
from neuroplug.plugins.losses import MSE, CrossEntropy
from neuroplug.plugins.optimizers import SGD
from neuroplug.plugins.schedules import Constant as ConstantSchedule

from . import Mutant


# ------------------------------------------------------------------------------ activations
class DippingGELU(GELU):
    """GELU is not monotonic: it dips to -0.17 near z = -0.75."""


class SoftmaxClaimsMonotonic(Softmax):
    """Raising one logit lowers the other probabilities: not monotonic in the product order."""


class OffsetTanh(Activation):
    r"""``tanh(z) + offset``: neither odd nor zero at zero unless ``offset == 0``."""

    def __init__(self, offset: float = 0.05):
        self.offset = float(offset)

    def forward(self, z, out=None):
        out = np.tanh(z, out=out)
        out += self.offset
        return out

    def derivative(self, z, a):
        t = np.tanh(z)
        return 1.0 - t * t


class SiLUClaimsNonnegative(SiLU):
    """SiLU dips to -0.278 near z = -1.28."""


class ReLUClaimsBounded(ReLU):
    """relu(z) = z grows without bound."""


class ReLUClaimsZeroCentred(ReLU):
    """relu is never negative."""


class SigmoidClaimsZeroCentred(Sigmoid):
    """sigmoid(0) = 0.5."""


class Square(Activation):
    r"""``z^2``, whose derivative ``2z`` grows without bound."""

    def forward(self, z, out=None):
        return np.multiply(z, z, out=out)

    def derivative(self, z, a):
        return 2.0 * z


class TanhWithTypo(Tanh):
    """A correct tanh whose author wrote "monotone" for "monotonic"."""


# ----------------------------------------------------------------------------------- losses
class OffsetMSE(MSE):
    r"""Squared error plus a constant per element: ``(y_hat - y)^2 + offset``."""

    def __init__(self, offset: float = 1e-3, reduction: str = "mean"):
        super().__init__(reduction)
        self.offset = float(offset)

    def _values(self, d):
        d = np.multiply(d, d, out=d)
        d += self.offset
        return d


class MSEClaimsBoundedGradient(MSE):
    """MSE's gradient 2d grows with the error."""


class MSEWithTypo(MSE):
    """A correct MSE whose author wrote "non_negative"."""


class FlooredCrossEntropy(CrossEntropy):
    r"""Cross-entropy on probabilities clipped below at ``floor``: ``-sum y log max(p, floor)``.

    Once the true class's probability is below the floor the loss stops growing:
    a confident wrong prediction is no longer punished any further. Gradient and
    fused gradient are consistent with that forward.
    """

    def __init__(self, floor: float = 0.05, reduction: str = "mean"):
        super().__init__(reduction=reduction)
        self.floor = float(floor)

    def _log_p(self, y_pred):
        return np.log(np.maximum(y_pred, self.floor))

    def gradient(self, y_pred, y_true):
        t, y, count = self._targets(y_pred, y_true)
        target = y if t is None else t
        g = np.where(y_pred > self.floor, -target / np.maximum(y_pred, self.floor), 0.0).astype(y_pred.dtype)
        g *= self._scale(count)
        return g

    def fused_gradient(self, a, y_true):
        return Softmax().backward(None, a, self.gradient(a, y_true))


# ----------------------------------------------------------------------------- initializers
class NoisyConstant(ConstantInit):
    """A constant plus tiny noise drawn from the generator: the values depend on the seed."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        noise = 1e-6 * rng.standard_normal((fan_in, fan_out))
        return (self.value + noise).astype(dtype)


class NarrowBoundsUniform(Uniform):
    """Draws from U[low, high] but reports bounds() 10 % narrower."""

    def bounds(self, fan_in, fan_out):
        return 0.9 * self.low, 0.9 * self.high

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.uniform(self.low, self.high, (fan_in, fan_out)).astype(dtype)


class UniformWithTypo(Uniform):
    """A correct uniform initializer whose author wrote "uniform_bounds" for "uniform_bound"."""


# ------------------------------------------------------------------- schedules, optimizers
class ConstantScheduleWithTypo(ConstantSchedule):
    """A constant schedule declaring "decay" (not a tag; and it does not decay either)."""


class SGDWithTag(SGD):
    """Optimizers have no property vocabulary (yet): any tag is unverifiable."""


_VOCAB_HINT = "Fix the spelling in the registration's properties="

MUTANTS = [
    # activations
    Mutant("gelu_declared_monotonic", DippingGELU(), {"PROP-MONOTONIC"}, properties=("monotonic",),
           fix_hint="remove 'monotonic' from the declared properties"),
    Mutant("softmax_declared_monotonic", SoftmaxClaimsMonotonic(), {"PROP-MONOTONIC"}, properties=("monotonic",),
           fix_hint="remove 'monotonic' from the declared properties"),
    Mutant("shifted_tanh_declared_odd", OffsetTanh(0.05), {"PROP-ODD"}, properties=("odd",),
           fix_hint="remove 'odd' from the declared properties"),
    Mutant("offset_tanh_declared_zero_at_zero", OffsetTanh(1e-3), {"PROP-ZERO-AT-ZERO"},
           properties=("zero_at_zero",), fix_hint="remove 'zero_at_zero' from the declared properties"),
    Mutant("silu_declared_nonnegative", SiLUClaimsNonnegative(), {"PROP-NONNEGATIVE-OUTPUT"},
           properties=("nonnegative_output",),
           fix_hint="remove 'nonnegative_output' from the declared properties"),
    Mutant("relu_declared_bounded_output", ReLUClaimsBounded(), {"PROP-BOUNDED-OUTPUT"},
           properties=("bounded_output",), fix_hint="remove 'bounded_output' from the declared properties"),
    Mutant("relu_declared_zero_centred", ReLUClaimsZeroCentred(), {"PROP-ZERO-CENTRED"},
           properties=("zero_centred",), fix_hint="phi is never negative"),
    Mutant("sigmoid_declared_zero_centred", SigmoidClaimsZeroCentred(), {"PROP-ZERO-CENTRED"},
           properties=("zero_centred",), fix_hint="remove 'zero_centred' from the declared properties"),
    Mutant("square_declared_bounded_derivative", Square(), {"PROP-BOUNDED-DERIVATIVE"},
           properties=("bounded_derivative", "zero_at_zero", "nonnegative_output"),
           fix_hint="remove 'bounded_derivative' from the declared properties"),
    Mutant("activation_tag_typo_monotone", TanhWithTypo(), {"PROP-VOCABULARY-ACT"},
           properties=("monotone", "odd"), fix_hint="did you mean 'monotonic'?"),
    # losses
    Mutant("mse_offset_declared_zero_at_perfect", OffsetMSE(1e-3), {"PROP-LOSS-ZERO-AT-PERFECT"},
           properties=("zero_at_perfect", "nonnegative"),
           fix_hint="remove 'zero_at_perfect' from the declared properties"),
    Mutant("mse_negative_offset_declared_nonnegative", OffsetMSE(-0.25), {"PROP-LOSS-NONNEGATIVE"},
           properties=("nonnegative",), fix_hint="remove 'nonnegative' from the declared properties"),
    Mutant("mse_declared_bounded_gradient", MSEClaimsBoundedGradient(), {"PROP-LOSS-BOUNDED-GRADIENT"},
           properties=("bounded_gradient", "nonnegative", "zero_at_perfect"),
           fix_hint="remove 'bounded_gradient' from the declared properties"),
    Mutant("cross_entropy_saturates_declared_penalizes_confidence", FlooredCrossEntropy(0.05),
           {"PROP-LOSS-PENALIZES-CONFIDENCE"}, properties=("penalizes_confidence", "nonnegative"),
           fix_hint="no saturation or clipping of confident mistakes"),
    Mutant("loss_tag_typo_non_negative", MSEWithTypo(), {"PROP-VOCABULARY-LOSS"},
           properties=("non_negative", "zero_at_perfect"), fix_hint="did you mean 'nonnegative'?"),
    # initializers
    Mutant("noisy_constant_declared_deterministic", NoisyConstant(0.5), {"PROP-INIT-DETERMINISTIC"},
           properties=("deterministic_values",), fix_hint="declare 'seeded' instead of 'deterministic_values'"),
    Mutant("uniform_bounds_narrower_than_draws", NarrowBoundsUniform(-0.05, 0.05), {"PROP-INIT-UNIFORM-BOUND"},
           properties=("uniform_bound",), fix_hint="Draw from exactly the interval bounds() reports"),
    Mutant("initializer_tag_typo_uniform_bounds", UniformWithTypo(), {"PROP-VOCABULARY-INIT"},
           properties=("seeded", "uniform_bounds"), fix_hint="did you mean 'uniform_bound'?"),
    # schedules, optimizers
    Mutant("schedule_tag_typo_decay", ConstantScheduleWithTypo(), {"PROP-VOCABULARY-SCHED"},
           properties=("decay",), fix_hint="did you mean 'decaying'?"),
    Mutant("optimizer_declares_a_tag", SGDWithTag(), {"PROP-VOCABULARY-OPT"},
           properties=("nonnegative",), fix_hint=_VOCAB_HINT),
]
