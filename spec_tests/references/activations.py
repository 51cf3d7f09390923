r"""References of the activation formulas (see :mod:`neuroplug.spec.formulas`).

What a reference computes
-------------------------
*Element-wise* formulas (``meta["elementwise"]`` true, the default): the reference is
``reference(z, **params) -> Ref`` for a float64 array ``z`` of any shape, giving

* ``value``: :math:`\varphi(z)`;
* ``derivative``: :math:`\varphi'(z)` (at a kink listed in ``meta["kinks"]`` either
  one-sided value; the ``ACT-FORMULA`` check asks for both sides with ``nextafter``
  and accepts anything between them);
* ``value_scale`` and ``derivative_scale``: the magnitude of the *terms* that a
  float64 evaluation of :math:`\varphi` (resp. :math:`\varphi'`) may combine, in any
  of the usual algebraic forms. A correct float64 implementation commits an absolute
  error of a few units of :math:`\varepsilon_{64}` times this magnitude (plus what the
  rounding of :math:`z` itself propagates, :math:`\varepsilon|z\,\varphi'(z)|`, which
  the check adds). For instance, a sigmoid written as :math:`(1 + \tanh(z/2))/2`
  combines terms of size 1, so its error near :math:`z = -19` is about
  :math:`10^{-17}` absolutely although :math:`\sigma(-19) = 5.6\cdot10^{-9}`:
  ``value_scale`` is 1 there, not :math:`|\sigma(z)|`. An ELU written
  :math:`\alpha e^z - \alpha` combines terms of size :math:`\alpha`, and its derivative
  computed from the cached output, :math:`a + \alpha`, too: both scales hold
  :math:`\alpha(1 + e^z)` for :math:`z \le 0`.

*Row-wise* formulas (``meta["elementwise"]`` false: softmax, log_softmax; rows are
samples, the function couples the entries of a row): ``reference(z, g, **params) -> Ref``
for float64 arrays ``z`` and ``g`` of shape ``(N, C)``, giving the ``value``
:math:`\varphi(z)`, the vector-Jacobian product ``derivative`` :math:`g^\top J_\varphi(z)`
(what ``backward(z, a, g)`` returns), and their scales as above (here they include
the propagation of the rounding of ``z``).

Everything is computed in ``numpy.longdouble`` (80-bit extended precision on x86-64;
float64 elsewhere, still far within the tolerances) and rounded to float64 once, except
the normal distribution function of the exact GELU, which uses :func:`math.erfc` (float64,
accurate to about an ulp; numpy has no ``erf``). The SELU constants are those of Klambauer
et al. (2017) to 32 digits, parsed in extended precision.
Nothing here imports ``neuroplug.plugins``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from neuroplug.types import Param

from ..formulas import register_formula

__all__ = ["Ref", "SELU_ALPHA", "SELU_SCALE", "GELU_TANH_C"]

LD = np.longdouble


class Ref(NamedTuple):
    """What a reference returns (see the module docstring). All float64 arrays of ``z``'s shape."""

    value: np.ndarray
    derivative: np.ndarray
    value_scale: np.ndarray
    derivative_scale: np.ndarray


def _ref(value, derivative, value_scale, derivative_scale) -> Ref:
    out = [np.asarray(x, dtype=np.float64) for x in (value, derivative, value_scale, derivative_scale)]
    shape = np.broadcast_shapes(*(x.shape for x in out))
    return Ref(*(np.array(np.broadcast_to(x, shape)) for x in out))


def _ld(z: np.ndarray) -> np.ndarray:
    return np.asarray(z, dtype=np.float64).astype(LD)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function in extended precision, without overflow."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


#: The SELU fixed point of Klambauer et al. (2017), to 32 digits (the paper's closed forms evaluated
#: with arbitrary precision); parsed as extended precision. Truncated constants (1.0507, 1.6733) are
#: 3e-5 off: a different function.
SELU_ALPHA_LD = LD("1.6732632423543772848170429916717")
SELU_SCALE_LD = LD("1.0507009873554804934193349852946")
SELU_ALPHA, SELU_SCALE = float(SELU_ALPHA_LD), float(SELU_SCALE_LD)
#: The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel).
GELU_TANH_C = 0.044715

_ELEMENTWISE = {"elementwise": True}
_ROWWISE = {"elementwise": False}


# ------------------------------------------------------------------------------------ element-wise
@register_formula("activation", "identity", aliases=("linear",), title="identity (linear)",
                  latex=r"\varphi(z) = z,\ \varphi'(z) = 1", meta=_ELEMENTWISE)
def identity(z: np.ndarray) -> Ref:
    """``z`` and 1; scales ``|z|`` and 1."""
    z = np.asarray(z, dtype=np.float64)
    return _ref(z, 1.0, np.abs(z), 1.0)


@register_formula("activation", "sigmoid", title="logistic sigmoid",
                  latex=r"\varphi(z) = \frac{1}{1 + e^{-z}},\ \varphi'(z) = \varphi(z)(1 - \varphi(z))",
                  meta=_ELEMENTWISE)
def sigmoid(z: np.ndarray) -> Ref:
    r"""Scales 1: the forms :math:`1/(1+e^{-z})`, :math:`(1+\tanh(z/2))/2`, :math:`a(1-a)`
    combine terms of size up to 1."""
    s = _sigmoid(_ld(z))
    return _ref(s, s * (1 - s), 1.0, 1.0)


@register_formula("activation", "tanh", title="hyperbolic tangent",
                  latex=r"\varphi(z) = \tanh z,\ \varphi'(z) = 1 - \tanh^2 z", meta=_ELEMENTWISE)
def tanh(z: np.ndarray) -> Ref:
    r"""Scales 1: the forms :math:`2\sigma(2z) - 1`, :math:`(1-e)/(1+e)` with :math:`e = e^{-2|z|}`,
    :math:`1 - a^2` combine terms of size up to 1."""
    t = np.tanh(_ld(z))
    return _ref(t, 1 - t * t, 1.0, 1.0)


@register_formula("activation", "relu", title="rectified linear unit",
                  latex=r"\varphi(z) = \max(z, 0),\ \varphi'(z) = [z > 0]",
                  meta={**_ELEMENTWISE, "kinks": (0.0,)})
def relu(z: np.ndarray) -> Ref:
    """Kink at 0 (either 0 or 1 there); scales ``|z|`` and 1."""
    z = np.asarray(z, dtype=np.float64)
    return _ref(np.maximum(z, 0.0), (z > 0).astype(np.float64), np.abs(z), 1.0)


@register_formula("activation", "leaky_relu", title="leaky ReLU (slope alpha below 0)",
                  latex=r"\varphi(z) = \begin{cases} z & z > 0 \\ \alpha z & z \le 0 \end{cases}",
                  defaults={"alpha": 0.01},
                  space={"alpha": Param.real(0.0, None, typical=(0.0, 4.0))},
                  examples=({"alpha": 0.2}, {"alpha": 2.5}),
                  meta={**_ELEMENTWISE, "kinks": (0.0,)})
def leaky_relu(z: np.ndarray, alpha: float = 0.01) -> Ref:
    r"""Kink at 0; scales :math:`\max(1, \alpha)|z|` and :math:`\max(1, \alpha)`. ``alpha`` may
    exceed 1 (then :math:`\max(z, \alpha z)` is *not* this function)."""
    z = np.asarray(z, dtype=np.float64)
    a = float(alpha)
    value = np.where(z > 0, _ld(z), LD(a) * _ld(z))
    big = max(1.0, abs(a))
    return _ref(value, np.where(z > 0, 1.0, a), big * np.abs(z), big)


def _elu(z: np.ndarray, alpha, scale) -> Ref:
    zl = _ld(z)
    neg = np.minimum(zl, 0)
    e = np.exp(neg)
    value = LD(scale) * np.where(zl > 0, zl, LD(alpha) * np.expm1(neg))
    deriv = LD(scale) * np.where(zl > 0, 1, LD(alpha) * e)
    # z <= 0: alpha e^z - alpha and a + scale*alpha combine terms of size scale*alpha*(1 + e^z)
    tail = abs(scale * alpha) * (1 + e)
    return _ref(value, deriv, np.where(zl > 0, abs(scale) * np.abs(zl), tail),
                np.where(zl > 0, abs(scale), tail))


@register_formula("activation", "elu", title="exponential linear unit",
                  latex=r"\varphi(z) = \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases}",
                  defaults={"alpha": 1.0},
                  space={"alpha": Param.real(0.0, None, typical=(0.0, 5.0))},
                  examples=({"alpha": 0.5}, {"alpha": 20.0}),
                  meta={**_ELEMENTWISE, "kinks": (0.0,)})
def elu(z: np.ndarray, alpha: float = 1.0) -> Ref:
    r"""A kink at 0 unless :math:`\alpha = 1` (:math:`\varphi'` jumps from :math:`\alpha` to 1);
    scales :math:`|z|` (z > 0) and :math:`\alpha(1 + e^z)` (z <= 0), for the forms
    :math:`\alpha e^z - \alpha` and :math:`\varphi' = a + \alpha`."""
    return _elu(z, float(alpha), 1.0)


@register_formula("activation", "selu", title="scaled ELU with the self-normalising constants",
                  latex=r"\varphi(z) = \lambda \begin{cases} z & z > 0 \\ \alpha (e^z - 1) & z \le 0 \end{cases},"
                        r"\ \lambda = 1.0507009873554805,\ \alpha = 1.6732632423543772",
                  meta={**_ELEMENTWISE, "kinks": (0.0,)})
def selu(z: np.ndarray) -> Ref:
    """ELU with ``alpha = SELU_ALPHA`` times ``SELU_SCALE`` (in extended precision)."""
    return _elu(z, SELU_ALPHA_LD, SELU_SCALE_LD)


@register_formula("activation", "softplus", title="softplus (sharpness beta)",
                  latex=r"\varphi(z) = \tfrac{1}{\beta}\log(1 + e^{\beta z}),\ \varphi'(z) = \sigma(\beta z)",
                  defaults={"beta": 1.0},
                  space={"beta": Param.real(0.0, None, low_open=True, log=True, typical=(0.05, 20.0))},
                  examples=({"beta": 0.1}, {"beta": 10.0}), meta=_ELEMENTWISE)
def softplus(z: np.ndarray, beta: float = 1.0) -> Ref:
    r"""Scales :math:`|z| + \varphi(z)` (the forms :math:`\max(z,0) + \log(1+e^{-\beta|z|})/\beta`)
    and :math:`1 + \beta(1-\sigma(\beta z))(|z| + \varphi)` (the form
    :math:`1 - e^{-\beta a}` from the cached output ``a``)."""
    b = LD(float(beta))
    x = b * _ld(z)
    value = np.logaddexp(LD(0), x) / b
    s = _sigmoid(x)
    zabs = np.abs(_ld(z))
    return _ref(value, s, zabs + value, 1 + b * (1 - s) * (zabs + value))


def _normal_cdf_pdf(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = np.asarray(z, dtype=np.float64).reshape(-1)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in flat], dtype=LD).reshape(np.shape(z))
    zl = _ld(z)
    pdf = np.exp(-zl * zl / 2) / np.sqrt(2 * LD(math.pi))
    return cdf, pdf


@register_formula("activation", "gelu", title="Gaussian error linear unit, exact or tanh-approximated",
                  latex=r"\varphi(z) = z\,\Phi(z);\ \text{tanh: } \tfrac{z}{2}\big(1 + \tanh(\sqrt{2/\pi}"
                        r"(z + 0.044715 z^3))\big)",
                  defaults={"approximate": "none"}, space={"approximate": Param.choice("none", "tanh")},
                  examples=({"approximate": "tanh"},), meta=_ELEMENTWISE)
def gelu(z: np.ndarray, approximate: str = "none") -> Ref:
    r"""Exact: :math:`z\Phi(z)`, :math:`\Phi(z) + z\phi(z)`; scales :math:`|z|` and
    :math:`1 + |z|\phi(z)`. ``"tanh"``: :math:`\Phi(z) \approx (1 + \tanh u)/2`,
    :math:`u = \sqrt{2/\pi}(z + 0.044715 z^3)`; scales :math:`|z|` and
    :math:`1 + |z|u'(z)/2` while :math:`|u| < 20` (the form :math:`1 - \tanh^2 u` carries an
    absolute error :math:`\varepsilon` until :math:`\tanh u` rounds to :math:`\pm1`)."""
    zl = _ld(z)
    if approximate == "tanh":
        k = np.sqrt(2 / LD(math.pi))
        u = k * (zl + LD(GELU_TANH_C) * zl ** 3)
        du = k * (1 + 3 * LD(GELU_TANH_C) * zl * zl)
        s = _sigmoid(2 * u)  # (1 + tanh u) / 2
        deriv = s + zl * (2 * s * (1 - s)) * du
        return _ref(zl * s, deriv, np.abs(zl), 1 + np.where(np.abs(u) < 20, np.abs(zl) * du / 2, 0))
    if approximate != "none":
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    cdf, pdf = _normal_cdf_pdf(z)
    return _ref(zl * cdf, cdf + zl * pdf, np.abs(zl), 1 + np.abs(zl) * pdf)


@register_formula("activation", "silu", aliases=("swish",), title="sigmoid-weighted linear unit (swish)",
                  latex=r"\varphi(z) = z\,\sigma(z),\ \varphi'(z) = \sigma(z)(1 + z(1 - \sigma(z)))",
                  meta=_ELEMENTWISE)
def silu(z: np.ndarray) -> Ref:
    r"""Scales :math:`|z|` and :math:`1 + |z|\sigma(z)` while :math:`z < 40` (the form
    :math:`\sigma + z\sigma(1-\sigma)` with :math:`1 - \sigma` rounded until :math:`\sigma` is 1)."""
    zl = _ld(z)
    s = _sigmoid(zl)
    return _ref(zl * s, s * (1 + zl * (1 - s)), np.abs(zl), 1 + np.where(zl < 40, np.abs(zl) * s, 0))


@register_formula("activation", "softsign", title="softsign",
                  latex=r"\varphi(z) = \frac{z}{1 + |z|},\ \varphi'(z) = \frac{1}{(1 + |z|)^2}", meta=_ELEMENTWISE)
def softsign(z: np.ndarray) -> Ref:
    r"""Scales 1 (the forms :math:`\operatorname{sign}(z)(1 - 1/(1+|z|))` and :math:`(1 - |a|)^2`)."""
    zl = _ld(z)
    r = 1 / (1 + np.abs(zl))
    return _ref(zl * r, r * r, 1.0, 1.0)


@register_formula("activation", "hard_sigmoid", title="hard sigmoid relu6(z + 3) / 6 (PyTorch)",
                  latex=r"\varphi(z) = \min(\max(z + 3, 0), 6) / 6",
                  meta={**_ELEMENTWISE, "kinks": (-3.0, 3.0)})
def hard_sigmoid(z: np.ndarray) -> Ref:
    r"""Kinks at -3 and 3; :math:`\varphi' = 1/6` inside; scales 1 (the form :math:`z/6 + 1/2`)."""
    zl = _ld(z)
    inside = (zl > -3) & (zl < 3)
    return _ref(np.clip((zl + 3) / 6, 0, 1), np.where(inside, 1 / LD(6), 0), 1.0, 1.0)


# ------------------------------------------------------------------------------------ row-wise
def _rows(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extended-precision ``z``, the log of the row sums of ``exp(z - m)`` and the rows' error magnitude
    ``C + |z_j| + max_k |z_k|`` (the rounding of ``z_j - m`` and of a C-term sum)."""
    zl = _ld(z)
    m = zl.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(zl - m).sum(axis=-1, keepdims=True))
    mag = zl.shape[-1] + np.abs(zl) + np.abs(zl).max(axis=-1, keepdims=True)
    return zl - m - lse, m, mag


@register_formula("activation", "softmax", title="softmax over each row",
                  latex=r"\varphi(z)_j = \frac{e^{z_j}}{\sum_k e^{z_k}},\ "
                        r"(g^\top J)_j = \varphi_j\,(g_j - \textstyle\sum_k g_k \varphi_k)",
                  meta=_ROWWISE)
def softmax(z: np.ndarray, g: np.ndarray) -> Ref:
    r"""Value :math:`p`, VJP :math:`p \odot (g - \langle g, p\rangle)`; scales :math:`p_j M_j` and
    :math:`p_j(|g_j| + \sum_k p_k|g_k|) M_j` with :math:`M_j = C + |z_j| + \max_k|z_k|`."""
    logp, _, mag = _rows(z)
    p = np.exp(logp)
    gl = _ld(g)
    vjp = p * (gl - (gl * p).sum(axis=-1, keepdims=True))
    return _ref(p, vjp, p * mag, p * (np.abs(gl) + (np.abs(gl) * p).sum(axis=-1, keepdims=True)) * mag)


@register_formula("activation", "log_softmax", title="log-softmax over each row",
                  latex=r"\varphi(z)_j = z_j - \log \textstyle\sum_k e^{z_k},\ "
                        r"(g^\top J)_j = g_j - \operatorname{softmax}(z)_j \textstyle\sum_k g_k",
                  meta=_ROWWISE)
def log_softmax(z: np.ndarray, g: np.ndarray) -> Ref:
    r"""Value :math:`z_j - \log\sum_k e^{z_k}`, VJP :math:`g - p \sum_k g_k`; scales :math:`M_j` and
    :math:`|g_j| + p_j M_j \sum_k |g_k|`, :math:`M_j` as for softmax."""
    logp, _, mag = _rows(z)
    p = np.exp(logp)
    gl = _ld(g)
    vjp = gl - p * gl.sum(axis=-1, keepdims=True)
    return _ref(logp, vjp, mag, np.abs(gl) + p * mag * np.abs(gl).sum(axis=-1, keepdims=True))
