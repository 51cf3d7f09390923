r"""The built-in activation functions, registered through ``neuroplug_activations``.

Every function maps a batch of pre-activations ``z`` to ``a = phi(z)`` and
supplies its derivative, reusing the cached output ``a`` where the formula
allows (``tanh' = 1 - a^2``, ``sigmoid' = a (1 - a)``). All of them

* preserve the floating dtype (float32 in, float32 out) and never mutate ``z``;
* are numerically stable: exponentials only ever see non-positive arguments
  (``exp(-|z|)``, ``expm1(min(z, 0))``, ``logaddexp``), so nothing overflows or
  warns even at ``|z| = 1e4`` in float32;
* are row-wise over axis 1 for :class:`Softmax` and :class:`LogSoftmax`, which
  implement ``backward`` as a vector-Jacobian product; the others are element-wise.

The exact GELU needs the normal CDF; numpy has no ``erf``, so this module carries
a vectorised ``erfc`` (W. J. Cody's rational Chebyshev approximations, accurate
to double precision).
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING

from neuroplug._lazy_numpy import LazyNumpy
from neuroplug.base import Activation
from neuroplug.hookspecs import hookimpl
from neuroplug.types import ActivationRegistration, Param
from neuroplug.validation import check_choice, check_number

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = [
    "Identity",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "SELU",
    "Softplus",
    "GELU",
    "SiLU",
    "Softsign",
    "HardSigmoid",
    "Softmax",
    "LogSoftmax",
    "erfc",
    "neuroplug_activations",
]


def _sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic function without overflow: ``1/(1+e)`` for z >= 0, ``e/(1+e)`` for z < 0, ``e = exp(-|z|)``."""
    e = np.exp(-np.abs(z))
    out = np.divide(1.0, 1.0 + e, out=out)
    return np.multiply(out, e, out=out, where=z < 0)


# W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969) 631-638; coefficients of the netlib routine CALERF.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
_ERFC_ZERO = 26.543  # erfc(x) underflows to 0 in float64 beyond this


def _ratio(x: np.ndarray, num: tuple[float, ...], den: tuple[float, ...]) -> np.ndarray:
    """Cody's rational function ``(...((num[-1] x + num[0]) x + ...) + num[n-1]) / (...)``."""
    n = len(den)
    xnum, xden = num[-1] * x, x
    for i in range(n - 1):
        xnum = (xnum + num[i]) * x
        xden = (xden + den[i]) * x
    return (xnum + num[n - 1]) / (xden + den[n - 1])


def _exp_minus_square(y: np.ndarray) -> np.ndarray:
    """``exp(-y^2)`` with y^2 split as ``t^2 + (y-t)(y+t)``, ``t = trunc(16 y)/16``, to keep accuracy."""
    t = np.trunc(y * 16.0) / 16.0
    return np.exp(-t * t) * np.exp(-(y - t) * (y + t))


def erfc(x: np.ndarray) -> np.ndarray:
    """Complementary error function, element-wise, dtype-preserving.

    Cody's three rational approximations (``|x| <= 0.46875``, ``<= 4``, ``> 4``)
    give near double-precision relative accuracy, including the far tail where
    ``1 - erf(x)`` would cancel catastrophically.
    """
    x = np.asarray(x)
    y = np.abs(x)
    result = np.zeros_like(y)
    small = y <= 0.46875
    middle = ~small & (y <= 4.0)
    large = (y > 4.0) & (y < _ERFC_ZERO)
    xs = x[small]
    result[small] = 1.0 - xs * _ratio(xs * xs, _ERF_A, _ERF_B)
    ym = y[middle]
    result[middle] = _exp_minus_square(ym) * _ratio(ym, _ERF_C, _ERF_D)
    yl = y[large]
    inv = 1.0 / (yl * yl)
    result[large] = _exp_minus_square(yl) * (1.0 / math.sqrt(math.pi) - inv * _ratio(inv, _ERF_P, _ERF_Q)) / yl
    negative = ~small & (x < 0)
    result[negative] = 2.0 - result[negative]
    return result


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF ``Phi(z) = erfc(-z/sqrt 2)/2``, accurate in both tails."""
    return 0.5 * erfc(z * -(1.0 / math.sqrt(2.0)))


def _real(name: str, value: object, **bounds: object) -> float:
    """Validate a real-valued parameter and return it as a plain ``float``.

    A plain float is a "weak" scalar to numpy, so it never upcasts a float32 array.
    """
    return float(check_number(name, value, **bounds))


class Identity(Activation):
    r"""Identity (linear) activation.

    .. math:: \varphi(z) = z \qquad \varphi'(z) = 1
    """

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return a copy of ``z`` (never ``z`` itself, so callers may write into it)."""
        if out is None:
            return z.copy()
        np.copyto(out, z)
        return out

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return ones."""
        return np.ones_like(z)

    def backward(self, z, a, grad, out=None):
        """Return ``grad`` unchanged (copied, or written into ``out``)."""
        if out is None:
            return grad.copy()
        if out is not grad:
            np.copyto(out, grad)
        return out

    def _train_ops(self, z, a, grad, tmp, mask):
        """The training loop's forward and in-place backward as prebound numpy calls (see Tanh)."""
        if type(self).forward is not Identity.forward or type(self).backward is not Identity.backward:
            return None
        return (partial(np.copyto, a, z),), ()


class Sigmoid(Activation):
    r"""Logistic sigmoid; pairs with ``binary_cross_entropy`` (``link="sigmoid"``).

    .. math:: \varphi(z) = \frac{1}{1 + e^{-z}} \qquad \varphi'(z) = \varphi(z)\,(1 - \varphi(z))

    Evaluated as ``1/(1+e)`` or ``e/(1+e)`` with ``e = exp(-|z|)``: no overflow,
    full relative accuracy in the lower tail.
    """

    link = "sigmoid"

    def forward(self, z, out=None):
        """Return ``sigmoid(z)``."""
        return _sigmoid(z, out)

    def derivative(self, z, a):
        """Return ``a (1 - a)``."""
        return a * (1.0 - a)


class Tanh(Activation):
    r"""Hyperbolic tangent.

    .. math:: \varphi(z) = \tanh z \qquad \varphi'(z) = 1 - \varphi(z)^2
    """

    def forward(self, z, out=None):
        """Return ``tanh(z)``."""
        return np.tanh(z, out=out)

    def derivative(self, z, a):
        """Return ``1 - a^2``."""
        return 1.0 - a * a

    def backward(self, z, a, grad, out=None):
        """Return ``grad * (1 - a^2)`` (the default's arithmetic, with one temporary instead of two)."""
        if type(self).derivative is not Tanh.derivative:  # a subclass with its own derivative
            return super().backward(z, a, grad, out)
        d = a * a
        d = np.subtract(1.0, d, out=d) if type(d) is np.ndarray else 1.0 - d
        return np.multiply(grad, d, out=out)

    def _train_ops(self, z, a, grad, tmp, mask):
        """``fit``'s forward (``z`` into ``a``) and backward (``grad`` in place) as prebound numpy calls.

        The very operations of :meth:`forward` and :meth:`backward`, in the same order
        (bit for bit the same results), writing into the preallocated ``tmp`` (float,
        like ``z``) and ``mask`` (bool) instead of allocating; None when a subclass
        changes either method.
        """
        if type(self).forward is not Tanh.forward or type(self).backward is not Tanh.backward \
                or type(self).derivative is not Tanh.derivative:
            return None
        return ((partial(np.tanh, z, a),),
                (partial(np.multiply, a, a, tmp), partial(np.subtract, 1.0, tmp, tmp),
                 partial(np.multiply, grad, tmp, grad)))


class ReLU(Activation):
    r"""Rectified linear unit.

    .. math:: \varphi(z) = \max(z, 0) \qquad \varphi'(z) = [z > 0]

    The derivative at the kink ``z = 0`` is taken as 0 (as in PyTorch).
    """

    kinks = (0.0,)

    def forward(self, z, out=None):
        """Return ``max(z, 0)``."""
        return np.maximum(z, 0.0, out=out)

    def derivative(self, z, a):
        """Return 1 where ``z > 0``, else 0."""
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, grad, out=None):
        """Return ``grad * [z > 0]`` (the mask multiplies as 0/1 without being converted first)."""
        if type(self).derivative is not ReLU.derivative:  # a subclass with its own derivative
            return super().backward(z, a, grad, out)
        return np.multiply(grad, np.greater(z, 0), out=out)

    def _train_ops(self, z, a, grad, tmp, mask):
        """``fit``'s forward and in-place backward as prebound numpy calls (see Tanh); the mask
        of ``z > 0`` goes into the preallocated ``mask``."""
        if type(self).forward is not ReLU.forward or type(self).backward is not ReLU.backward \
                or type(self).derivative is not ReLU.derivative:
            return None
        return ((partial(np.maximum, z, 0.0, out=a),),
                (partial(np.greater, z, 0, mask), partial(np.multiply, grad, mask, grad)))


class LeakyReLU(Activation):
    r"""Leaky ReLU.

    .. math:: \varphi(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}
              \qquad \varphi'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}

    Parameters
    ----------
    alpha : float, default 0.01
        Slope for negative inputs, >= 0 (so the function stays monotonic, as declared).
    """

    kinks = (0.0,)

    def __init__(self, alpha: float = 0.01):
        self.alpha = _real("alpha", alpha, low=0)

    def forward(self, z, out=None):
        """Return ``z`` where positive, ``alpha z`` elsewhere."""
        out = np.multiply(z, self.alpha, out=out)
        np.copyto(out, z, where=z > 0)
        return out

    def derivative(self, z, a):
        """Return 1 where ``z > 0``, ``alpha`` elsewhere."""
        return np.where(z > 0, z.dtype.type(1), z.dtype.type(self.alpha))


class ELU(Activation):
    r"""Exponential linear unit (Clevert et al., 2015).

    .. math:: \varphi(z) = \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}
              \qquad \varphi'(z) = \begin{cases} 1 & z > 0 \\ \varphi(z) + \alpha & z \le 0 \end{cases}

    Parameters
    ----------
    alpha : float, default 1.0
        Saturation value ``-alpha`` for large negative inputs, >= 0 (monotonic, as declared).
        The derivative is continuous at 0 only for ``alpha = 1``; otherwise 0 is a kink.
    """

    kinks = (0.0,)

    def __init__(self, alpha: float = 1.0):
        self.alpha = _real("alpha", alpha, low=0)
        if self.alpha == 1.0:
            self.kinks = ()

    def forward(self, z, out=None):
        """Return ``z`` where positive, ``alpha expm1(z)`` elsewhere."""
        out = np.minimum(z, 0.0, out=out)
        np.expm1(out, out=out)
        out *= self.alpha
        np.copyto(out, z, where=z > 0)
        return out

    def derivative(self, z, a):
        """Return 1 where ``z > 0``, ``a + alpha`` elsewhere."""
        return np.where(z > 0, z.dtype.type(1), a + self.alpha)


class SELU(Activation):
    r"""Scaled ELU (Klambauer et al., 2017), with the self-normalising constants.

    .. math:: \varphi(z) = \lambda \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}
              \qquad \varphi'(z) = \begin{cases} \lambda & z > 0 \\ \varphi(z) + \lambda\alpha & z \le 0 \end{cases}

    with :math:`\lambda \approx 1.0507` and :math:`\alpha \approx 1.6733`.
    """

    #: The fixed point constants of the paper.
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    kinks = (0.0,)

    def forward(self, z, out=None):
        """Return ``scale * elu(z, alpha)``."""
        out = np.minimum(z, 0.0, out=out)
        np.expm1(out, out=out)
        out *= self.alpha
        np.copyto(out, z, where=z > 0)
        out *= self.scale
        return out

    def derivative(self, z, a):
        """Return ``scale`` where ``z > 0``, ``a + scale alpha`` elsewhere."""
        return np.where(z > 0, z.dtype.type(self.scale), a + self.scale * self.alpha)


class Softplus(Activation):
    r"""Softplus, a smooth ReLU.

    .. math:: \varphi(z) = \tfrac{1}{\beta}\log(1 + e^{\beta z})
              \qquad \varphi'(z) = \sigma(\beta z) = 1 - e^{-\beta \varphi(z)}

    Evaluated with ``logaddexp(0, beta z)``, which never overflows.

    Parameters
    ----------
    beta : float, default 1.0
        Sharpness, > 0; softplus tends to ReLU as beta grows.
    """

    def __init__(self, beta: float = 1.0):
        self.beta = _real("beta", beta, low=0, low_inclusive=False)

    def forward(self, z, out=None):
        """Return ``logaddexp(0, beta z) / beta``."""
        if self.beta == 1.0:
            return np.logaddexp(0.0, z, out=out)
        out = np.logaddexp(0.0, self.beta * z, out=out)
        out /= self.beta
        return out

    def derivative(self, z, a):
        """Return ``-expm1(-beta a)`` (= sigmoid(beta z), accurate in both tails)."""
        return -np.expm1(-self.beta * a)


class GELU(Activation):
    r"""Gaussian error linear unit (Hendrycks & Gimpel, 2016).

    .. math:: \varphi(z) = z\,\Phi(z) \qquad \varphi'(z) = \Phi(z) + z\,\phi(z)

    where :math:`\Phi` and :math:`\phi` are the standard normal CDF and density.
    With ``approximate="tanh"``, :math:`\Phi(z) \approx \frac12(1 + \tanh u) = \sigma(2u)`,
    :math:`u = \sqrt{2/\pi}\,(z + 0.044715 z^3)`, and
    :math:`\varphi'(z) = \sigma(2u) + 2 z\,\sigma(2u)(1 - \sigma(2u))\,u'(z)`;
    the sigmoid form keeps full relative accuracy in the negative tail, where
    ``1 + tanh u`` cancels.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        "none" is exact (with a double-precision ``erfc``); "tanh" is the
        approximation of BERT/GPT-2, as PyTorch's ``GELU(approximate="tanh")``.
    """

    _K = math.sqrt(2.0 / math.pi)
    _C = 0.044715
    #: ``|z|`` beyond which ``sigmoid(2u)`` is exactly 0 or 1 and the normal density exactly 0,
    #: in every float dtype: the cube and the square are taken of ``z`` clipped to it, so that
    #: they never overflow (``z**3`` would from ``|z| = 7e12`` in float32).
    _SATURATION = 40.0

    def __init__(self, approximate: str = "none"):
        self.approximate = check_choice("approximate", approximate, ("none", "tanh"))

    def _sigmoid_2u(self, z):
        """``sigmoid(2u) = (1 + tanh u)/2``, the tanh approximation of ``Phi(z)``, for ``z`` already clipped."""
        return _sigmoid((2.0 * self._K) * (z + self._C * (z * z * z)))

    def forward(self, z, out=None):
        """Return ``z Phi(z)`` (exact or tanh approximation)."""
        if self.approximate == "tanh":
            cdf = self._sigmoid_2u(np.clip(z, -self._SATURATION, self._SATURATION))
        else:
            cdf = _normal_cdf(z)
        return np.multiply(z, cdf, out=out)

    def derivative(self, z, a):
        """Return ``Phi(z) + z phi(z)`` (or the derivative of the tanh approximation)."""
        zc = np.clip(z, -self._SATURATION, self._SATURATION)
        if self.approximate == "tanh":
            s = self._sigmoid_2u(zc)
            du = (2.0 * self._K) * (1.0 + (3.0 * self._C) * (zc * zc))
            return s + z * (s * (1.0 - s)) * du
        density = np.exp(-0.5 * (zc * zc)) * (1.0 / math.sqrt(2.0 * math.pi))
        return _normal_cdf(z) + z * density


class SiLU(Activation):
    r"""Sigmoid-weighted linear unit, also called swish.

    .. math:: \varphi(z) = z\,\sigma(z) \qquad \varphi'(z) = \sigma(z)\,(1 + z(1 - \sigma(z)))
    """

    def forward(self, z, out=None):
        """Return ``z sigmoid(z)``."""
        out = _sigmoid(z, out)
        out *= z
        return out

    def derivative(self, z, a):
        """Return ``s (1 + z (1 - s))`` with ``s = sigmoid(z)``."""
        s = _sigmoid(z)
        return s * (1.0 + z * (1.0 - s))


class Softsign(Activation):
    r"""Softsign.

    .. math:: \varphi(z) = \frac{z}{1 + |z|} \qquad \varphi'(z) = \frac{1}{(1 + |z|)^2}
    """

    def forward(self, z, out=None):
        """Return ``z / (1 + |z|)``."""
        out = np.abs(z, out=out)
        out += 1.0
        return np.divide(z, out, out=out)

    def derivative(self, z, a):
        """Return ``1 / (1 + |z|)^2``, as ``(1 / (1 + |z|))^2`` so that nothing overflows for huge ``|z|``."""
        d = np.abs(z)
        d += 1.0
        np.reciprocal(d, out=d)
        d *= d
        return d


class HardSigmoid(Activation):
    r"""Hard sigmoid, PyTorch's definition ``relu6(z + 3) / 6``.

    .. math:: \varphi(z) = \frac{\min(\max(z + 3, 0), 6)}{6}
              \qquad \varphi'(z) = \begin{cases} 1/6 & -3 < z < 3 \\ 0 & \text{otherwise} \end{cases}
    """

    kinks = (-3.0, 3.0)

    def forward(self, z, out=None):
        """Return ``clip(z + 3, 0, 6) / 6``."""
        out = np.add(z, 3.0, out=out)
        np.clip(out, 0.0, 6.0, out=out)
        out /= 6.0
        return out

    def derivative(self, z, a):
        """Return 1/6 inside ``(-3, 3)``, 0 outside."""
        d = ((z > -3.0) & (z < 3.0)).astype(z.dtype)
        d /= 6.0
        return d


class Softmax(Activation):
    r"""Softmax over each row (axis 1); pairs with ``cross_entropy`` (``link="softmax"``).

    .. math:: a_j = \frac{e^{z_j - m}}{\sum_k e^{z_k - m}},\; m = \max_k z_k
              \qquad \frac{\partial L}{\partial z} = a \odot \Big(g - \sum_k g_k a_k\Big)

    where ``g`` is ``dL/da``: ``backward`` is the vector-Jacobian product, the
    Jacobian :math:`\operatorname{diag}(a) - a a^\top` is never formed.
    """

    elementwise = False
    link = "softmax"

    def forward(self, z, out=None):
        """Return the row-wise softmax of ``z``."""
        out = np.subtract(z, np.maximum.reduce(z, axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= np.add.reduce(out, axis=-1, keepdims=True)
        return out

    def _train_ops(self, z, a, grad, tmp, mask):
        """``fit``'s forward as prebound numpy calls (see Tanh), the row maxima and sums in the
        first column of ``tmp``; the backward is left to :meth:`backward` (the loop fuses it
        with the loss when it can)."""
        if type(self).forward is not Softmax.forward or z.ndim != 2:
            return None
        rows = tmp[:, :1]
        return ((partial(np.maximum.reduce, z, 1, None, rows, True), partial(np.subtract, z, rows, a),
                 partial(np.exp, a, a), partial(np.add.reduce, a, 1, None, rows, True),
                 partial(np.true_divide, a, rows, a)), None)

    def backward(self, z, a, grad, out=None):
        """Return ``a * (grad - sum(grad * a, axis=1))``."""
        dot = np.einsum("...j,...j->...", grad, a)[..., None]
        out = np.subtract(grad, dot, out=out)
        out *= a
        return out


class LogSoftmax(Activation):
    r"""Log-softmax over each row (axis 1), computed directly (no ``log(softmax)``).

    .. math:: a_j = z_j - m - \log \sum_k e^{z_k - m},\; m = \max_k z_k
              \qquad \frac{\partial L}{\partial z} = g - e^{a} \sum_k g_k
    """

    elementwise = False

    def forward(self, z, out=None):
        """Return the row-wise log-softmax of ``z``."""
        out = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
        out -= np.log(np.exp(out).sum(axis=-1, keepdims=True))
        return out

    def backward(self, z, a, grad, out=None):
        """Return ``grad - softmax(z) * sum(grad, axis=1)``."""
        p = np.exp(a)
        p *= grad.sum(axis=-1, keepdims=True)
        return np.subtract(grad, p, out=out)


_MONOTONIC = ("monotonic", "bounded_derivative")


@hookimpl
def neuroplug_activations() -> list[ActivationRegistration]:
    """Register the built-in activation functions."""
    reg = ActivationRegistration
    return [
        reg(name="identity", factory=Identity, aliases=("linear",),
            summary="Identity: passes the pre-activation through unchanged.",
            formula=r"\varphi(z) = z", derivative=r"\varphi'(z) = 1",
            implements=("identity",),
            properties=(*_MONOTONIC, "odd", "zero_at_zero", "zero_centred")),
        reg(name="sigmoid", factory=Sigmoid,
            summary="Logistic sigmoid, output in (0, 1); fuses with binary_cross_entropy.",
            formula=r"\varphi(z) = \frac{1}{1 + e^{-z}}",
            derivative=r"\varphi'(z) = \varphi(z)\,(1 - \varphi(z))",
            implements=("sigmoid",),
            properties=(*_MONOTONIC, "nonnegative_output", "bounded_output")),
        reg(name="tanh", factory=Tanh,
            summary="Hyperbolic tangent, output in (-1, 1).",
            formula=r"\varphi(z) = \tanh z", derivative=r"\varphi'(z) = 1 - \varphi(z)^2",
            implements=("tanh",),
            properties=(*_MONOTONIC, "odd", "zero_at_zero", "bounded_output", "zero_centred")),
        reg(name="relu", factory=ReLU,
            summary="Rectified linear unit max(z, 0).",
            formula=r"\varphi(z) = \max(z, 0)", derivative=r"\varphi'(z) = [z > 0]",
            implements=("relu",),
            properties=(*_MONOTONIC, "zero_at_zero", "nonnegative_output")),
        reg(name="leaky_relu", factory=LeakyReLU,
            summary="Leaky ReLU: slope alpha for negative inputs.",
            formula=r"\varphi(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}",
            derivative=r"\varphi'(z) = \begin{cases} 1 & z > 0 \\ \alpha & z \le 0 \end{cases}",
            implements=("leaky_relu",),
            parameter_space={"alpha": Param.real(0.0, None, typical=(0.0, 4.0))},
            example_configs=({"alpha": 0.2}, {"alpha": 2.5}),
            properties=(*_MONOTONIC, "zero_at_zero")),
        reg(name="elu", factory=ELU,
            summary="Exponential linear unit: saturates to -alpha for negative inputs.",
            formula=r"\varphi(z) = \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}",
            derivative=r"\varphi'(z) = \begin{cases} 1 & z > 0 \\ \alpha e^z & z \le 0 \end{cases}",
            implements=("elu",),
            parameter_space={"alpha": Param.real(0.0, None, typical=(0.0, 5.0))},
            example_configs=({"alpha": 0.5}, {"alpha": 20.0}),
            properties=(*_MONOTONIC, "zero_at_zero")),
        reg(name="selu", factory=SELU,
            summary="Scaled ELU with the self-normalising constants.",
            formula=r"\varphi(z) = \lambda \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}",
            derivative=r"\varphi'(z) = \lambda \begin{cases} 1 & z > 0 \\ \alpha e^z & z \le 0 \end{cases}",
            implements=("selu",),
            properties=(*_MONOTONIC, "zero_at_zero")),
        reg(name="softplus", factory=Softplus,
            summary="Softplus log(1 + exp(beta z)) / beta, a smooth ReLU.",
            formula=r"\varphi(z) = \tfrac{1}{\beta}\log(1 + e^{\beta z})",
            derivative=r"\varphi'(z) = \sigma(\beta z)",
            implements=("softplus",),
            parameter_space={"beta": Param.real(0.0, None, low_open=True, log=True, typical=(0.05, 20.0))},
            example_configs=({"beta": 0.1}, {"beta": 10.0}),
            properties=(*_MONOTONIC, "nonnegative_output")),
        reg(name="gelu", factory=GELU,
            summary="Gaussian error linear unit z Phi(z), exact or tanh-approximated.",
            formula=r"\varphi(z) = z\,\Phi(z)",
            derivative=r"\varphi'(z) = \Phi(z) + z\,\phi(z)",
            implements=("gelu",),
            parameter_space={"approximate": Param.choice("none", "tanh")},
            example_configs=({"approximate": "tanh"},),
            properties=("zero_at_zero", "bounded_derivative")),
        reg(name="silu", factory=SiLU, aliases=("swish",),
            summary="Sigmoid-weighted linear unit z sigmoid(z) (swish).",
            formula=r"\varphi(z) = z\,\sigma(z)",
            derivative=r"\varphi'(z) = \sigma(z)\,(1 + z\,(1 - \sigma(z)))",
            implements=("silu",),
            properties=("zero_at_zero", "bounded_derivative")),
        reg(name="softsign", factory=Softsign,
            summary="Softsign z / (1 + |z|), output in (-1, 1).",
            formula=r"\varphi(z) = \frac{z}{1 + |z|}",
            derivative=r"\varphi'(z) = \frac{1}{(1 + |z|)^2}",
            implements=("softsign",),
            properties=(*_MONOTONIC, "odd", "zero_at_zero", "bounded_output", "zero_centred")),
        reg(name="hard_sigmoid", factory=HardSigmoid,
            summary="Piecewise-linear sigmoid relu6(z + 3) / 6 (PyTorch definition).",
            formula=r"\varphi(z) = \min(\max(z + 3, 0), 6) / 6",
            derivative=r"\varphi'(z) = \tfrac16\,[-3 < z < 3]",
            implements=("hard_sigmoid",),
            properties=(*_MONOTONIC, "nonnegative_output", "bounded_output")),
        reg(name="softmax", factory=Softmax,
            summary="Row-wise softmax (probabilities); fuses with cross_entropy.",
            formula=r"\varphi(z)_j = \frac{e^{z_j}}{\sum_k e^{z_k}}",
            derivative=r"\frac{\partial \varphi_j}{\partial z_k} = \varphi_j(\delta_{jk} - \varphi_k)",
            implements=("softmax",),
            properties=("nonnegative_output", "bounded_output")),
        reg(name="log_softmax", factory=LogSoftmax,
            summary="Row-wise log-softmax, computed stably.",
            formula=r"\varphi(z)_j = z_j - \log \sum_k e^{z_k}",
            derivative=r"\frac{\partial \varphi_j}{\partial z_k} = \delta_{jk} - \operatorname{softmax}(z)_k",
            implements=("log_softmax",),
            properties=()),
    ]
