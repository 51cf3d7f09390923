r"""References of the loss formulas (see :mod:`neuroplug.spec.formulas`).

What a reference computes
-------------------------
A loss formula's reference is a function
``reference(y_pred, y_true, **params) -> LossRef`` of float64 predictions
``y_pred`` of shape ``(N, C)`` and *raw* targets ``y_true`` -- a float64 ``(N, C)``
array (real numbers, probabilities or one-hot rows), or, for ``cross_entropy``,
integer class labels ``(N,)`` -- and the formula's parameters except
``reduction``. It returns (:class:`LossRef`):

* ``values`` -- what ``reduction="none"`` returns: one value per element
  ``(N, C)`` for the element-wise formulas (``mse``, ``mae``, ``smooth_l1``,
  ``huber``, ``binary_cross_entropy``), one per sample ``(N,)`` for
  ``cross_entropy``;
* ``count`` -- the divisor of ``reduction="mean"`` (:meth:`LossRef.reduced`): the
  number of elements ``N*C`` for the element-wise formulas; for
  ``cross_entropy`` the number of samples ``N`` (probability targets), or, for
  class-label targets, the number of non-ignored samples -- with class weights
  :math:`w`, :math:`\sum_{i \text{ not ignored}} w_{y_i}` (PyTorch's weighted mean);
  ``"sum"`` adds the values up;
* ``grad`` -- the gradient of the *sum* of ``values`` with respect to ``y_pred``
  (that of "mean" is ``grad / count``, that of "none" is ``grad``);
* ``fused`` -- for formulas on probabilities, the gradient of the sum with respect
  to the logits :math:`z` of ``y_pred = link(z)`` (what ``fused_gradient`` returns
  for "sum"); None on logits;
* ``value_mag``, ``grad_mag`` -- for each value and gradient entry, the sum of the
  magnitudes of the terms a float computation of it adds up (always including 1
  for a term of a ``log``/``exp``): a correct implementation, in whatever algebraic
  form, is off by a few machine epsilons times these (see ``LOSS-FORMULA``).

Inputs: probabilities or logits
-------------------------------
``binary_cross_entropy`` and ``cross_entropy`` take a ``from_logits`` parameter:
False -- ``y_pred`` holds probabilities :math:`p` (``link`` "sigmoid" /
"softmax"); True -- logits :math:`z` with :math:`p = \sigma(z)` / :math:`\operatorname{softmax}(z)`.
For a component that has no ``from_logits`` parameter the suite decides from its
``link``: a loss with ``link`` "sigmoid"/"softmax" takes probabilities, one with
no link takes logits (a logits-only cross-entropy with ``link = None`` is judged
on logits).

Targets are given to a reference in the form the component's ``prepare_targets``
returns (1-D integer labels, or rows): with class weights or an ignored label the
"mean" of ``cross_entropy`` differs between the two (PyTorch), and exact one-hot
rows may be read either way (``LOSS-FORMULA`` uses the reading ``forward`` follows).

Everything is computed in float64 for clarity (log-sum-exp and ``logaddexp`` for
the logits, :func:`numpy.log1p` for :math:`\log(1 - p)`); the suite keeps
probabilities in [0.01, 0.99] so that no clipping epsilon matters. Nothing here
imports ``neuroplug.plugins``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from neuroplug.types import Param

from ..formulas import register_formula

__all__ = ["LossRef", "REDUCTION", "ELEMENTWISE", "PER_SAMPLE"]

#: The ``reduction`` parameter of every loss formula.
REDUCTION = Param.choice("mean", "sum", "none")
#: ``values`` per element (N, C) or per sample (N,) (the shape of ``reduction="none"``).
ELEMENTWISE, PER_SAMPLE = "element", "sample"


@dataclass
class LossRef:
    """A loss formula evaluated on one batch (see the module docstring)."""

    values: np.ndarray
    count: float
    grad: np.ndarray
    value_mag: np.ndarray
    grad_mag: np.ndarray
    fused: np.ndarray | None = None
    fused_mag: np.ndarray | None = None

    def factor(self, reduction: str) -> float:
        """What the sum is divided by for ``reduction`` (``count`` for "mean", else 1)."""
        return self.count if reduction == "mean" else 1.0

    def reduced(self, reduction: str) -> Any:
        """The loss for ``reduction``: ``values`` ("none"), their sum, or the sum over ``count`` ("mean")."""
        if reduction == "none":
            return self.values
        return float(np.sum(self.values)) / self.factor(reduction)


def _elementwise(d: np.ndarray, values: np.ndarray, slope: np.ndarray, value_mag: np.ndarray,
                 grad_mag: np.ndarray | None = None) -> LossRef:
    return LossRef(values, float(d.size), slope, value_mag, np.abs(slope) if grad_mag is None else grad_mag)


_REGRESSION = {"reduction": "mean"}
_REG_SPACE = {"reduction": REDUCTION}
_NONE_ELEMENT = " Mean over the N*C elements; 'none' gives the (N, C) element values."


@register_formula("loss", "mse", title="mean squared error: the mean of squares (y_pred - y)^2." + _NONE_ELEMENT,
                  latex=r"\ell(d) = d^2,\ d = \hat y - y", defaults=_REGRESSION, space=_REG_SPACE,
                  meta={"family": "regression", "values": ELEMENTWISE})
def mse(y_pred: np.ndarray, y_true: np.ndarray) -> LossRef:
    """:math:`d^2` per element; gradient :math:`2d`."""
    d = y_pred - y_true
    return _elementwise(d, d * d, 2.0 * d, d * d)


@register_formula("loss", "mae", title="mean absolute error (L1), |y_pred - y|; subgradient 0 at d = 0."
                  + _NONE_ELEMENT, latex=r"\ell(d) = |d|,\ d = \hat y - y", defaults=_REGRESSION,
                  space=_REG_SPACE,
                  meta={"family": "regression", "values": ELEMENTWISE, "kinks": (0.0,)})
def mae(y_pred: np.ndarray, y_true: np.ndarray) -> LossRef:
    """:math:`|d|` per element; gradient :math:`\\operatorname{sign}(d)`."""
    d = y_pred - y_true
    return _elementwise(d, np.abs(d), np.sign(d), np.abs(d))


@register_formula("loss", "smooth_l1",
                  title="smooth L1 (PyTorch SmoothL1Loss): d^2/(2 beta) below the threshold beta (|d| < beta), "
                        "|d| - beta/2 above; beta = 0 is L1." + _NONE_ELEMENT,
                  latex=r"\ell(d) = \begin{cases} d^2 / 2\beta & |d| < \beta \\ |d| - \beta/2 & \text{otherwise}"
                        r"\end{cases}",
                  defaults={"beta": 1.0, "reduction": "mean"},
                  space={"beta": Param.real(0.0, None, log=True, typical=(0.05, 20.0)), "reduction": REDUCTION},
                  examples=({"beta": 0.0}, {"beta": 2.0}),
                  meta={"family": "regression", "values": ELEMENTWISE, "threshold": "beta"})
def smooth_l1(y_pred: np.ndarray, y_true: np.ndarray, beta: float) -> LossRef:
    """Quadratic below ``beta``, linear above; gradient :math:`\\operatorname{clip}(d/\\beta, -1, 1)`."""
    d = y_pred - y_true
    ad = np.abs(d)
    if beta == 0.0:
        return _elementwise(d, ad, np.sign(d), ad)
    inside = ad < beta
    values = np.where(inside, 0.5 * d * d / beta, ad - 0.5 * beta)
    slope = np.where(inside, d / beta, np.sign(d))
    return _elementwise(d, values, slope, np.where(inside, values, ad + 0.5 * beta))


@register_formula("loss", "huber",
                  title="Huber (PyTorch HuberLoss): d^2/2 for |d| <= delta, delta (|d| - delta/2) above."
                        + _NONE_ELEMENT,
                  latex=r"\ell(d) = \begin{cases} d^2 / 2 & |d| \le \delta \\ \delta(|d| - \delta/2) & "
                        r"\text{otherwise} \end{cases}",
                  defaults={"delta": 1.0, "reduction": "mean"},
                  space={"delta": Param.real(0.0, None, low_open=True, log=True, typical=(0.05, 20.0)),
                         "reduction": REDUCTION},
                  examples=({"delta": 0.3}, {"delta": 3.0}),
                  meta={"family": "regression", "values": ELEMENTWISE, "threshold": "delta"})
def huber(y_pred: np.ndarray, y_true: np.ndarray, delta: float) -> LossRef:
    """Quadratic up to ``delta``, linear above; gradient :math:`\\operatorname{clip}(d, -\\delta, \\delta)`."""
    d = y_pred - y_true
    ad = np.abs(d)
    inside = ad <= delta
    values = np.where(inside, 0.5 * d * d, delta * (ad - 0.5 * delta))
    slope = np.clip(d, -delta, delta)
    return _elementwise(d, values, slope, np.where(inside, values, delta * (ad + 0.5 * delta)))


def _softplus(x: np.ndarray) -> np.ndarray:
    """:math:`\\log(1 + e^x)`, stably."""
    return np.logaddexp(0.0, x)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


@register_formula("loss", "binary_cross_entropy",
                  title="binary cross-entropy per element, on probabilities (from_logits=False) or logits, with "
                        "pos_weight w (a number, or one per column) weighting the positive term." + _NONE_ELEMENT,
                  latex=r"\ell = -\big(w\,y \log p + (1 - y) \log(1 - p)\big),\ p = \sigma(z) \text{ on logits}",
                  defaults={"from_logits": False, "pos_weight": None, "reduction": "mean"},
                  space={"from_logits": Param.boolean(),
                         "pos_weight": Param.real(0.0, None, log=True, typical=(0.1, 10.0)),
                         "reduction": REDUCTION},
                  examples=({"from_logits": True}, {"pos_weight": [0.5, 2.0, 1.5]}),
                  meta={"family": "binary", "values": ELEMENTWISE, "link": "sigmoid"})
def binary_cross_entropy(y_pred: np.ndarray, y_true: np.ndarray, from_logits: bool,
                         pos_weight: Any) -> LossRef:
    r"""On probabilities :math:`\partial\ell/\partial p = -w y / p + (1 - y)/(1 - p)`; on logits
    :math:`\ell = (1 - y) z + (1 + (w - 1) y)\operatorname{softplus}(-z)`,
    :math:`\partial\ell/\partial z = (1 + (w - 1) y)\sigma(z) - w y` (also the fused gradient)."""
    y = y_true
    w = np.ones(y.shape[-1]) if pos_weight is None else np.broadcast_to(
        np.asarray(pos_weight, dtype=np.float64), (y.shape[-1],))
    lw = 1.0 + (w - 1.0) * y
    if from_logits:
        z = y_pred
        sp = _softplus(-z)
        values = (1.0 - y) * z + lw * sp
        p = _sigmoid(z)
        grad = lw * p - w * y
        mag = np.abs((1.0 - y) * z) + lw * (sp + 1.0)
        return LossRef(values, float(values.size), grad, mag, lw * p + w * y + lw)
    p = y_pred
    log_p, log_q = np.log(p), np.log1p(-p)
    values = -(w * y * log_p + (1.0 - y) * log_q)
    grad = -w * y / p + (1.0 - y) / (1.0 - p)
    # the terms of -w y / p + (1 - y) / (1 - p), or of the fused form (lw p - w y) / (p (1 - p)): the larger
    grad_mag = (lw * p + w * y) / (p * (1.0 - p)) + w * y / p + (1.0 - y) / (1.0 - p)
    fused = lw * p - w * y
    mag = w * y * (np.abs(log_p) + 1.0) + (1.0 - y) * (np.abs(log_q) + 1.0)
    return LossRef(values, float(values.size), grad, mag, grad_mag, fused, lw * p + w * y + lw)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


@register_formula("loss", "cross_entropy",
                  title="categorical cross-entropy per sample, on probabilities (from_logits=False) or logits, "
                        "with label smoothing eps (t = (1 - eps) y + eps / C), class weights w and ignore_index "
                        "(class-label targets); 'mean' is averaged over the samples: it divides by N for probability targets and by the sum of "
                        "w_{y_i} over the non-ignored samples for class labels (PyTorch); 'none' gives the (N,) "
                        "per-sample values.",
                  latex=r"\ell_i = -\sum_c w_c\, t_{ic} \log p_{ic},\ t = (1 - \varepsilon) y + \varepsilon / C,\ "
                        r"p = \operatorname{softmax}(z) \text{ on logits}",
                  defaults={"from_logits": False, "label_smoothing": 0.0, "weight": None, "ignore_index": None,
                            "reduction": "mean"},
                  space={"from_logits": Param.boolean(), "label_smoothing": Param.real(0.0, 1.0),
                         "ignore_index": Param.integer(typical=(-1, 2)), "reduction": REDUCTION},
                  examples=({"from_logits": True}, {"weight": [1.0, 2.0, 0.5]}, {"ignore_index": 1},
                            {"label_smoothing": 0.2, "weight": [0.5, 1.0, 3.0], "ignore_index": 0}),
                  meta={"family": "categorical", "values": PER_SAMPLE, "link": "softmax"})
def cross_entropy(y_pred: np.ndarray, y_true: np.ndarray, from_logits: bool, label_smoothing: float,
                  weight: Any, ignore_index: Any) -> LossRef:
    r"""With :math:`T = w\,t` (the weighted, smoothed targets; zero rows for ignored labels):
    :math:`\ell_i = -\sum_c T_{ic}\log p_{ic}`; on logits :math:`\partial\ell_i/\partial z_{ic} = p_{ic}\sum_k
    T_{ik} - T_{ic}` (also the fused gradient of a softmax output); on probabilities
    :math:`\partial\ell_i/\partial p_{ic} = -T_{ic}/p_{ic}`."""
    n, c = y_pred.shape
    eps = float(label_smoothing)
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    if y_true.ndim == 1:
        labels = np.asarray(y_true, dtype=np.int64)
        keep = np.ones(n, dtype=bool) if ignore_index is None else labels != int(ignore_index)
        onehot = np.zeros((n, c))
        onehot[np.nonzero(keep)[0], labels[keep]] = 1.0
        t = (1.0 - eps) * onehot + eps / c * keep[:, None]
        count = float(np.sum(w[labels[keep]]))
    else:
        t = (1.0 - eps) * y_true + eps / c
        count = float(n)
    T = w * t
    mass = T.sum(axis=1, keepdims=True)
    if from_logits:
        z = y_pred
        log_p = _log_softmax(z)
        p = np.exp(log_p)
        values = -(T * log_p).sum(axis=1)
        grad = p * mass - T
        span = np.abs(z).max(axis=1, keepdims=True) + np.log(c) + 1.0
        mag = (T * (np.abs(log_p) + span)).sum(axis=1)
        gmag = (p * (1.0 + span) + 1.0) * mass + T
        return LossRef(values, count, grad, mag, gmag)
    p = y_pred
    log_p = np.log(p)
    values = -(T * log_p).sum(axis=1)
    grad = -T / p
    mag = (T * (np.abs(log_p) + 1.0)).sum(axis=1)
    fused = p * mass - T
    return LossRef(values, count, grad, mag, np.abs(grad), fused, p * mass + T + mass)
