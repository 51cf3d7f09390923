r"""The built-in loss functions, registered through ``neuroplug_losses``.

Every loss takes ``reduction`` ("mean", "sum" or "none") with PyTorch's meaning:
"none" returns the element-wise array (regression losses, binary cross-entropy)
or the per-sample vector ``(N,)`` (cross-entropy); "sum" adds everything up;
"mean" averages over elements (regression, binary cross-entropy) or over samples
(cross-entropy, weighted as in PyTorch). ``forward`` returns a Python float
unless the reduction is "none"; ``gradient`` is the gradient of the reduced loss
(of the sum, for "none") with the shape and dtype of ``y_pred``.

On finite inputs ``forward``, ``gradient`` and ``fused_gradient`` return finite
values or raise :class:`~neuroplug.errors.NonFiniteError` (when the loss or its
gradient overflows the dtype, e.g. ``mse`` of float32 predictions of 1e20), never a
numpy warning; non-finite inputs give non-finite results, which
:func:`~neuroplug.fit` reports as a divergence. A caller that has set numpy's
floating-point error handling itself (``np.errstate``, as ``fit``'s loop and
``Sequential.loss_and_gradients`` do, or ``np.seterr``) gets numpy's behaviour
instead: the check is then skipped, so that it costs the training loop nothing.

The cross-entropies accept probabilities (the default; they then declare a
``link`` so that the training loop can fuse the loss with the matching output
activation: ``dL/dz = (p - y) / N``) or raw logits (``from_logits=True``, computed
with a stable log-sum-exp / softplus).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from neuroplug._lazy_numpy import LazyNumpy
from neuroplug.base import Loss, _finite_as, _real_array
from neuroplug.errors import ConfigError, InputError, NonFiniteError, ShapeError
from neuroplug.hookspecs import hookimpl
from neuroplug.types import LossRegistration, Param
from neuroplug.validation import check_bool, check_choice, check_number

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = [
    "MSE",
    "MAE",
    "SmoothL1",
    "Huber",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "neuroplug_losses",
]

#: The values of every built-in loss's ``reduction`` parameter.
REDUCTIONS = ("mean", "sum", "none")


_EPS: dict[Any, float] = {}


def _clip_eps(dtype: Any) -> float:
    """The probability clipping margin: the machine epsilon of ``dtype``.

    ``log`` of a clipped probability is then at least ``log(eps)`` (-15.9 for
    float32, -36.0 for float64), and ``1 - eps`` is still representable.
    """
    eps = _EPS.get(dtype)
    if eps is None:
        eps = _EPS[dtype] = float(np.finfo(dtype).eps)
    return eps


def _float_dtype(y_pred: np.ndarray) -> np.dtype:
    dtype = np.asarray(y_pred).dtype
    if not np.issubdtype(dtype, np.floating):
        raise InputError(f"y_pred must be a floating-point array, got dtype {dtype}")
    return dtype


def _c_einsum() -> Any:
    """``np.einsum`` without its Python wrapper (which only adds the ``optimize`` choice)."""
    try:
        from numpy._core.multiarray import c_einsum
    except ImportError:  # pragma: no cover - numpy 1.x
        return np.einsum
    return c_einsum


def _errstate_variable() -> Any:
    """numpy >= 2 keeps the error state in a context variable: reading it costs ~40 ns, np.geterr() ~1 us."""
    try:
        from numpy._core._ufunc_config import _extobj_contextvar
    except ImportError:  # pragma: no cover - numpy 1.x
        return None
    return _extobj_contextvar


#: numpy's default handling of the floating-point errors that make a loss non-finite
_NUMPY_DEFAULT = ("warn", "warn", "warn")
_NOT_LOOKED_UP = object()
#: numpy's error-state context variable (None on numpy 1.x), looked up at the first loss call:
#: importing this module does not import numpy
_ERRSTATE: Any = _NOT_LOOKED_UP
#: ``(numpy's error state object, whether it is the default)`` of the last look.
_errstate_seen: tuple[Any, bool] = (None, True)


def _default_errstate() -> bool:
    """True when nobody has set numpy's over/invalid/divide handling (np.errstate, np.seterr).

    The answer is cached per error-state object, so that a loop running under one
    ``np.errstate`` (``fit``'s) pays a context-variable read per call.
    """
    global _errstate_seen, _ERRSTATE
    variable = _ERRSTATE
    if variable is _NOT_LOOKED_UP:
        variable = _ERRSTATE = _errstate_variable()
    if variable is None:  # pragma: no cover - numpy 1.x
        err = np.geterr()
        return (err["over"], err["invalid"], err["divide"]) == _NUMPY_DEFAULT
    state = variable.get()
    seen = _errstate_seen
    if state is not seen[0]:
        err = np.geterr()
        seen = _errstate_seen = (state, (err["over"], err["invalid"], err["divide"]) == _NUMPY_DEFAULT)
    return seen[1]


def _all_finite(*arrays: Any) -> bool:
    """True when every floating array among ``arrays`` holds only finite values."""
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            return False
    return True


def _weights(name: str, value: Any, scalar_ok: bool) -> float | list[float] | None:
    """Validate a non-negative weight (or list of weights); return it in plain JSON form."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if scalar_ok and not isinstance(value, Sequence):
        return float(check_number(name, value, low=0))
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) == 0:
        kind = "a non-negative number or " if scalar_ok else ""
        raise ConfigError(f"{name} must be {kind}a non-empty list of non-negative numbers, got {value!r}")
    return [float(check_number(f"{name}[{i}]", v, low=0)) for i, v in enumerate(value)]


class _ReducedLoss(Loss):
    """Shared parts: the ``reduction`` parameter, its float/array return convention, and the
    overflow guard of :meth:`forward`, :meth:`gradient` and :meth:`fused_gradient`.

    A subclass implements ``_forward``, ``_gradient`` and (with a ``link``)
    ``_fused_gradient``. The public methods run them with numpy's floating-point errors
    raised instead of warned about: an overflow (or an ``inf - inf``) on finite inputs
    becomes a :class:`NonFiniteError` naming the loss; on non-finite inputs the
    computation is redone quietly and its non-finite result returned. That costs an
    ``np.errstate`` per call (a few us) and no pass over the data, and is skipped when
    the caller has set numpy's error handling itself (see the module docstring).
    """

    reduction: str

    def _set_reduction(self, reduction: str) -> None:
        self.reduction = check_choice("reduction", reduction, REDUCTIONS)

    def forward(self, y_pred, y_true):
        """Return the reduced loss (a float), or the per-element (per-sample) losses for "none"."""
        if type(y_pred) is not np.ndarray:
            y_pred = np.asarray(y_pred)
        if not _default_errstate():  # the caller handles numpy's floating-point errors
            return self._forward(y_pred, y_true)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                value = self._forward(y_pred, y_true)
        except FloatingPointError:
            return self._not_finite("value", self._forward, y_pred, y_true)
        if type(value) is float:
            if math.isfinite(value):
                return value
        elif np.isfinite(value).all():  # reduction="none"
            return value
        return self._not_finite("value", self._forward, y_pred, y_true)

    def gradient(self, y_pred, y_true):
        """Return ``dL/dy_pred``, shape and dtype of ``y_pred``."""
        if type(y_pred) is not np.ndarray:
            y_pred = np.asarray(y_pred)
        if not _default_errstate():
            return self._gradient(y_pred, y_true)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                return self._gradient(y_pred, y_true)
        except FloatingPointError:
            return self._not_finite("gradient", self._gradient, y_pred, y_true)

    def fused_gradient(self, a, y_true):
        """Return ``dL/dz`` for ``a = link(z)`` (see :meth:`Loss.fused_gradient`)."""
        if type(a) is not np.ndarray:
            a = np.asarray(a)
        if not _default_errstate():
            return self._fused_gradient(a, y_true)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                return self._fused_gradient(a, y_true)
        except FloatingPointError:
            return self._not_finite("fused gradient", self._fused_gradient, a, y_true)

    def _fused_gradient(self, a: np.ndarray, y_true: Any) -> np.ndarray:
        return Loss.fused_gradient(self, a, y_true)

    def _forward(self, y_pred: np.ndarray, y_true: Any) -> Any:
        raise NotImplementedError

    def _gradient(self, y_pred: np.ndarray, y_true: Any) -> np.ndarray:
        raise NotImplementedError

    def _not_finite(self, what: str, compute: Any, y_pred: np.ndarray, y_true: Any) -> Any:
        """Raise NonFiniteError if the inputs are finite, else return ``compute``'s non-finite result."""
        if _all_finite(y_pred, y_true):
            largest = f"{float(np.abs(y_pred).max()):.6g}" if y_pred.size else "-"
            raise NonFiniteError(
                f"the {what} of the loss {self!r} overflowed {y_pred.dtype} on finite inputs (largest "
                f"|y_pred| {largest}); scale the targets, use float64, or check the parameters") from None
        with np.errstate(all="ignore"):
            return compute(y_pred, y_true)

    def _reduce(self, values: np.ndarray, count: float) -> Any:
        """Reduce per-element or per-sample ``values``; "mean" divides the sum by ``count``."""
        if self.reduction == "none":
            return values
        total = float(values.sum(dtype=np.float64))
        if self.reduction == "sum":
            return total
        return total / count if count else 0.0

    def _scale(self, count: float) -> float:
        """The factor turning the gradient of the summed loss into that of the reduced loss.

        A "mean" over nothing (every sample ignored) is taken as 0, loss and gradient.
        """
        if self.reduction != "mean":
            return 1.0
        return 1.0 / count if count else 0.0


class _ElementwiseLoss(_ReducedLoss):
    """A loss ``sum_i f(y_pred_i - y_true_i)`` over elements; subclasses give ``f`` and ``f'``."""

    def _diff(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        dtype = _float_dtype(y_pred)
        y_true = _real_array("y_true", y_true)
        if y_pred.shape != y_true.shape:
            raise ShapeError(
                f"y_pred and y_true must have the same shape; got y_pred {y_pred.shape} "
                f"and y_true {y_true.shape}"
            )
        return np.subtract(y_pred, y_true, dtype=dtype)

    def _values(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _derivative(self, d: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _forward(self, y_pred, y_true):
        """The reduced loss (a float), or the element-wise losses for "none"."""
        d = self._diff(y_pred, y_true)
        return self._reduce(self._values(d), d.size)

    def _gradient(self, y_pred, y_true):
        """``dL/dy_pred``, shape and dtype of ``y_pred``."""
        d = self._diff(y_pred, y_true)
        g = self._derivative(d)
        scale = self._scale(d.size)
        if scale != 1.0:
            g *= scale
        return g


class MSE(_ElementwiseLoss):
    r"""Mean squared error, :math:`d = \hat y - y`.

    .. math:: L = \frac1n \sum_i d_i^2 \qquad \frac{\partial L}{\partial \hat y_i} = \frac{2 d_i}{n}

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean" divides by the number of elements ``n``.
    """

    def __init__(self, reduction: str = "mean"):
        self._set_reduction(reduction)

    def _values(self, d):
        return np.multiply(d, d, out=d)

    def _derivative(self, d):
        d *= 2.0
        return d


class MAE(_ElementwiseLoss):
    r"""Mean absolute error (L1), :math:`d = \hat y - y`.

    .. math:: L = \frac1n \sum_i |d_i| \qquad \frac{\partial L}{\partial \hat y_i} = \frac{\operatorname{sign}(d_i)}{n}

    The subgradient at ``d = 0`` is 0.

    Parameters
    ----------
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    kinks = (0.0,)  # |d| has no derivative at d = 0

    def __init__(self, reduction: str = "mean"):
        self._set_reduction(reduction)

    def _values(self, d):
        return np.abs(d, out=d)

    def _derivative(self, d):
        return np.sign(d, out=d)


class SmoothL1(_ElementwiseLoss):
    r"""Smooth L1 loss (PyTorch's ``SmoothL1Loss``), :math:`d = \hat y - y`.

    .. math:: \ell(d) = \begin{cases} \frac{d^2}{2\beta} & |d| < \beta \\ |d| - \frac\beta2 & \text{otherwise} \end{cases}
              \qquad \ell'(d) = \operatorname{clip}(d/\beta, -1, 1)

    Parameters
    ----------
    beta : float, default 1.0
        Width of the quadratic zone, >= 0; ``beta = 0`` is exactly the L1 loss.
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    def __init__(self, beta: float = 1.0, reduction: str = "mean"):
        self.beta = float(check_number("beta", beta, low=0))
        self.kinks = (0.0,) if self.beta == 0.0 else ()  # beta = 0 is L1, not differentiable at 0
        self._set_reduction(reduction)

    def _values(self, d):
        ad = np.abs(d)
        if self.beta == 0.0:
            return ad
        # np.where evaluates both branches: the quadratic one takes |d| clipped to beta and
        # multiplies by |d| / (2 beta) <= 1/2 first, so that it never overflows (d * d would,
        # for huge d where the linear branch is used, or for d < beta when beta is huge)
        q = np.minimum(ad, self.beta)
        return np.where(ad < self.beta, (q * (0.5 / self.beta)) * q, ad - 0.5 * self.beta)

    def _derivative(self, d):
        if self.beta == 0.0:
            return np.sign(d, out=d)
        # clip(d, -beta, beta) / beta: the same values as clip(d / beta, -1, 1), without
        # the overflow of d / beta for huge d and beta < 1
        np.clip(d, -self.beta, self.beta, out=d)
        d /= self.beta
        return d


class Huber(_ElementwiseLoss):
    r"""Huber loss (PyTorch's ``HuberLoss``), :math:`d = \hat y - y`; equals ``delta * smooth_l1(beta=delta)``.

    .. math:: \ell(d) = \begin{cases} \frac12 d^2 & |d| \le \delta \\ \delta(|d| - \frac\delta2) & \text{otherwise} \end{cases}
              \qquad \ell'(d) = \operatorname{clip}(d, -\delta, \delta)

    Parameters
    ----------
    delta : float, default 1.0
        Where the loss turns from quadratic to linear, > 0.
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    def __init__(self, delta: float = 1.0, reduction: str = "mean"):
        self.delta = float(check_number("delta", delta, low=0, low_inclusive=False))
        self._set_reduction(reduction)

    def _values(self, d):
        ad = np.abs(d)
        # each branch is computed where it is used only (np.where would evaluate both, and
        # d * d overflows for huge d where the linear branch is used, delta * (|d| - delta / 2)
        # for huge delta where the quadratic one is)
        values = np.minimum(ad, self.delta)
        values *= values
        values *= 0.5
        linear = ad > self.delta
        np.subtract(ad, 0.5 * self.delta, out=ad, where=linear)
        return np.multiply(ad, self.delta, out=values, where=linear)

    def _derivative(self, d):
        return np.clip(d, -self.delta, self.delta, out=d)


class BinaryCrossEntropy(_ReducedLoss):
    r"""Binary cross-entropy, per element, for targets :math:`y \in [0, 1]`.

    With :math:`w` = ``pos_weight`` (1 when None), on probabilities :math:`p`:

    .. math:: \ell = -\big(w\,y \log p + (1 - y)\log(1 - p)\big)
              \qquad \frac{\partial \ell}{\partial p} = \frac{(1 + (w - 1)y)\,p - w y}{p(1 - p)}

    and on logits :math:`z` (``from_logits=True``, PyTorch's ``BCEWithLogitsLoss``):

    .. math:: \ell = (1 - y)\,z + (1 + (w - 1)y)\operatorname{softplus}(-z)
              \qquad \frac{\partial \ell}{\partial z} = (1 + (w - 1)y)\,\sigma(z) - w y

    which is also :meth:`fused_gradient` (sigmoid output + this loss), ``(p - y)/n``
    when ``pos_weight`` is None. Probabilities are clipped to ``[eps, 1 - eps]``,
    ``eps`` the machine epsilon of the dtype (1.2e-7 for float32, 2.2e-16 for
    float64); like PyTorch's ``BCELoss`` the gradient uses the clipped ``p`` rather
    than vanishing where the clip is active.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    pos_weight : float or list of float, optional
        Weight of positive targets (one per output column, or one for all), >= 0.
    reduction : {"mean", "sum", "none"}, default "mean"
        "mean" averages over all elements.
    """

    def __init__(self, from_logits: bool = False, pos_weight: float | list[float] | None = None,
                 reduction: str = "mean"):
        self.from_logits = check_bool("from_logits", from_logits)
        self.pos_weight = _weights("pos_weight", pos_weight, scalar_ok=True)
        self._set_reduction(reduction)

    @property
    def link(self) -> str | None:  # type: ignore[override]
        """``"sigmoid"`` on probabilities (fusable with a sigmoid output), None on logits."""
        return None if self.from_logits else "sigmoid"

    def prepare_targets(self, y, n_outputs, dtype="float32"):
        """Shape targets like the network output and check that they lie in [0, 1]."""
        y = super().prepare_targets(y, n_outputs, dtype)
        if y.size and not (y.min() >= 0 and y.max() <= 1):  # also rejects NaN
            bad = y[~((y >= 0) & (y <= 1))][0]
            raise InputError(f"y holds the target {bad}, outside [0, 1] for binary_cross_entropy")
        return y

    def _check(self, y_pred, y_true):
        """Return ``(y, lw, wy)``: y_true in y_pred's dtype, ``lw = 1 + (w - 1) y`` and ``w y`` (None, y without pos_weight)."""
        dtype = _float_dtype(y_pred)
        y = _real_array("y_true", y_true).astype(dtype, copy=False)
        if y_pred.shape != y.shape:
            raise ShapeError(
                f"y_pred and y_true must have the same shape; got y_pred {y_pred.shape} "
                f"and y_true {y.shape}"
            )
        if self.pos_weight is None:
            return y, None, y
        w = np.asarray(self.pos_weight, dtype=dtype)
        if w.ndim and w.shape[0] != (y_pred.shape[-1] if y_pred.ndim else 1):
            raise ShapeError(
                f"pos_weight has {w.shape[0]} entries but y_pred has shape {y_pred.shape}; "
                f"give one weight per output column"
            )
        wy = w * y
        return y, 1.0 + (wy - y), wy

    def _forward(self, y_pred, y_true):
        """The reduced loss (a float), or the element-wise losses for "none"."""
        y, lw, wy = self._check(y_pred, y_true)
        if self.from_logits:
            z = y_pred
            softplus_neg = np.logaddexp(0.0, -z)
            values = (1.0 - y) * z + (softplus_neg if lw is None else lw * softplus_neg)
        else:
            eps = _clip_eps(y.dtype)
            p = np.clip(y_pred, eps, 1.0 - eps)
            values = -(wy * np.log(p) + (1.0 - y) * np.log1p(-p))
        return self._reduce(values, values.size)

    def _dz(self, p, y, lw, wy):
        """``dl/dz = lw p - w y`` for ``p = sigmoid(z)``, scaled by the reduction."""
        g = np.subtract(p, y) if lw is None else lw * p - wy
        g *= self._scale(g.size)
        return g

    def _gradient(self, y_pred, y_true):
        """``dL/dy_pred`` (with respect to the logits when ``from_logits``)."""
        y, lw, wy = self._check(y_pred, y_true)
        if self.from_logits:
            z = y_pred
            p = np.exp(-np.abs(z))  # sigmoid(z) without overflow
            p = np.where(z >= 0, 1.0, p) / (1.0 + p)
            return self._dz(p, y, lw, wy)
        eps = _clip_eps(y.dtype)
        p = np.clip(y_pred, eps, 1.0 - eps)
        g = self._dz(p, y, lw, wy)
        g /= p * (1.0 - p)
        return g

    def _fused_gradient(self, a, y_true):
        """``dL/dz`` for ``a = sigmoid(z)``: ``(lw a - w y)``, i.e. ``(a - y)`` without pos_weight, scaled."""
        if self.from_logits:
            raise NotImplementedError("binary_cross_entropy(from_logits=True) has no link to fuse with")
        y, lw, wy = self._check(a, y_true)
        return self._dz(a, y, lw, wy)


class CrossEntropy(_ReducedLoss):
    r"""Categorical cross-entropy over the classes of each row.

    Targets are integer class labels ``(N,)`` or probabilities ``(N, C)``
    (one-hot or soft). With the smoothed target :math:`t = (1 - \varepsilon) y + \varepsilon / C`
    and class weights :math:`w` (1 when None), per sample :math:`i`:

    .. math:: \ell_i = -\sum_c w_c\, t_{ic} \log p_{ic}
              \qquad \frac{\partial \ell_i}{\partial z_{ic}} = p_{ic} \sum_k w_k t_{ik} - w_c t_{ic}

    where :math:`p = \operatorname{softmax}(z)`: the second formula is the gradient
    with respect to the logits (``from_logits=True``) and the :meth:`fused_gradient`
    of a softmax output, ``(p - y)/N`` in the plain case. On probabilities the
    gradient is :math:`-w_c t_{ic} / p_{ic}`, with ``p`` clipped below at the
    machine epsilon of the dtype so that ``log(0)`` never happens.

    Reductions follow PyTorch: "mean" divides by ``N`` for probability targets and,
    for class-label targets, by :math:`\sum_i w_{y_i}` over the non-ignored samples.
    A mean over nothing (every label ignored) is 0, loss and gradient, where
    PyTorch gives nan.

    Parameters
    ----------
    from_logits : bool, default False
        Whether ``y_pred`` holds logits rather than probabilities.
    label_smoothing : float, default 0.0
        :math:`\varepsilon \in [0, 1]`.
    weight : list of float, optional
        One non-negative weight per class.
    ignore_index : int, optional
        A class label whose samples contribute nothing (class-label targets only).
    reduction : {"mean", "sum", "none"}, default "mean"
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 weight: list[float] | None = None, ignore_index: int | None = None,
                 reduction: str = "mean"):
        self.from_logits = check_bool("from_logits", from_logits)
        self.label_smoothing = float(check_number("label_smoothing", label_smoothing, low=0, high=1))
        self.weight = _weights("weight", weight, scalar_ok=False)
        if ignore_index is not None:
            ignore_index = int(check_number("ignore_index", ignore_index, integer=True))
        self.ignore_index = ignore_index
        self._set_reduction(reduction)

    @property
    def link(self) -> str | None:  # type: ignore[override]
        """``"softmax"`` on probabilities (fusable with a softmax output), None on logits."""
        return None if self.from_logits else "softmax"

    # -- targets ---------------------------------------------------------------------------

    def _check_labels(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        """Return the mask of non-ignored samples, after checking their labels are in range."""
        keep = np.ones(y.shape, dtype=bool) if self.ignore_index is None else y != self.ignore_index
        bad = keep & ((y < 0) | (y >= n_classes))
        if bad.any():
            allowed = f"[0, {n_classes})" + (
                f" or ignore_index={self.ignore_index}" if self.ignore_index is not None else "")
            raise InputError(f"y holds the class label {y[bad][0]}, outside {allowed}")
        return keep

    def prepare_targets(self, y, n_outputs, dtype="float32"):
        """Validate targets once and convert them to their training form.

        Integer labels ``(N,)`` become one-hot ``(N, n_outputs)`` arrays of ``dtype``
        (the fast path of :meth:`fused_gradient`), or stay validated ``intp`` labels
        when ``weight`` or ``ignore_index`` is set, since those give labels a meaning
        that one-hot rows do not have. Probability targets must be ``(N, n_outputs)``
        and non-negative. Either result means the same as the raw targets.
        """
        y = _real_array("y", y)
        if y.ndim == 1:
            if not np.issubdtype(y.dtype, np.integer):
                raise InputError(
                    f"1-D targets must be integer class labels, got dtype {y.dtype}; "
                    f"convert them with y.astype(int)"
                )
            self._check_labels(y, n_outputs)
            if self.weight is None and self.ignore_index is None:
                onehot = np.zeros((y.shape[0], n_outputs), dtype=dtype)
                onehot[np.arange(y.shape[0]), y] = 1
                return onehot
            return y.astype(np.intp)
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ShapeError(
                f"y must be class labels (N,) or probabilities (N, {n_outputs}) for a network "
                f"with {n_outputs} outputs; got shape {y.shape}"
            )
        y = _finite_as("y", y, dtype)
        if y.size and not y.min() >= 0:
            raise InputError(f"y holds the negative target probability {y[~(y >= 0)][0]}")
        return y

    def _targets(self, y_pred: np.ndarray, y_true: Any) -> tuple[np.ndarray | None, np.ndarray, float]:
        """Return ``(T, labels_or_None, count)``.

        ``T = w * t`` is the weighted, smoothed target matrix (None on the fast path:
        dense targets without weight or smoothing, where ``T`` is ``y_true`` itself);
        ``count`` is the divisor of the "mean" reduction.
        """
        dtype = _float_dtype(y_pred)
        y = _real_array("y_true", y_true)
        if (y_pred.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != y_pred.shape[0]
                or (y.ndim == 2 and y.shape != y_pred.shape)):
            raise ShapeError(
                f"cross_entropy needs y_pred of shape (N, C) and y_true of shape (N,) or (N, C); "
                f"got y_pred {y_pred.shape} and y_true {y.shape}"
            )
        n, c = y_pred.shape
        eps = self.label_smoothing
        w = None if self.weight is None else np.asarray(self.weight, dtype=dtype)
        if w is not None and w.shape[0] != c:
            raise ShapeError(f"weight has {w.shape[0]} entries but y_pred has {c} classes, shape {y_pred.shape}")
        if y.ndim == 2:
            if w is None and eps == 0.0:
                return None, y.astype(dtype, copy=False), float(n)
            t = y.astype(dtype, copy=True)
            if eps:
                t *= 1.0 - eps
                t += eps / c
            if w is not None:
                t *= w
            return t, y, float(n)
        if not np.issubdtype(y.dtype, np.integer):
            raise InputError(f"1-D targets must be integer class labels, got dtype {y.dtype}")
        keep = self._check_labels(y, c)
        rows, labels = np.nonzero(keep)[0], y[keep]
        t = np.zeros((n, c), dtype=dtype)
        if eps:
            t[rows] = eps / c
        t[rows, labels] += 1.0 - eps
        if w is None:
            return t, y, float(rows.size)
        t *= w
        return t, y, float(w[labels].sum(dtype=np.float64))

    # -- loss and gradients ----------------------------------------------------------------

    def _log_p(self, y_pred: np.ndarray) -> np.ndarray:
        """Log-probabilities: a direct log-softmax of logits, or the log of clipped probabilities."""
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=1, keepdims=True)
            shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            return shifted
        return np.log(np.maximum(y_pred, _clip_eps(y_pred.dtype)))

    #: False in a subclass that overrides a helper of the general code (then always used).
    _fast_paths = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        helpers = ("_targets", "_log_p", "_softmax_grad", "_reduce", "_scale", "_check_labels")
        cls._fast_paths = cls._fast_paths and not any(name in cls.__dict__ for name in helpers)

    def _plain(self, y_pred: Any, y_true: Any) -> bool:
        """True for the training loop's case: probabilities and dense targets of one float dtype and
        shape ``(N, C)``, no weight, smoothing or logits, "mean" reduction.

        The fast paths below then compute exactly what the general code computes
        (the same operations in the same order), without its validation and set-up.
        """
        return (self._fast_paths and type(y_pred) is np.ndarray and type(y_true) is np.ndarray
                and y_pred.ndim == 2
                and y_pred.shape == y_true.shape and y_pred.dtype == y_true.dtype
                and y_pred.dtype.kind == "f" and self.reduction == "mean" and not self.from_logits
                and self.weight is None and self.label_smoothing == 0.0 and y_pred.shape[0] > 0)

    def _forward(self, y_pred, y_true):
        """The reduced loss (a float), or the per-sample losses ``(N,)`` for "none"."""
        if self._plain(y_pred, y_true):
            log_p = np.maximum(y_pred, _clip_eps(y_pred.dtype))
            np.log(log_p, out=log_p)
            # the sum of the negated per-sample losses is the negated sum, bit for bit
            return -float(np.einsum("ij,ij->i", y_true, log_p).sum(dtype=np.float64)) / y_pred.shape[0]
        t, y, count = self._targets(y_pred, y_true)
        per_sample = -np.einsum("ij,ij->i", y if t is None else t, self._log_p(y_pred))
        return self._reduce(per_sample, count)

    def _softmax_grad(self, p: np.ndarray, t: np.ndarray | None, y: np.ndarray, count: float) -> np.ndarray:
        """``p * rowsum(T) - T``, scaled; just ``p - y`` for dense targets whose rows sum to 1."""
        target = y if t is None else t
        mass = target.sum(axis=1, keepdims=True)
        g = np.subtract(p, target) if np.all(mass == 1) else p * mass - target
        scale = self._scale(count)
        if scale != 1.0:
            g *= scale
        return g

    def _gradient(self, y_pred, y_true):
        """``dL/dy_pred`` (with respect to the logits when ``from_logits``)."""
        t, y, count = self._targets(y_pred, y_true)
        if self.from_logits:
            p = np.exp(self._log_p(y_pred))
            return self._softmax_grad(p, t, y, count)
        g = np.maximum(y_pred, _clip_eps(y_pred.dtype))
        np.divide(y if t is None else t, g, out=g)
        g *= -self._scale(count)
        return g

    def _train_ops(self, Y, out, yb, delta, tmp):
        """``fit``'s loss and fused gradient as prebound numpy calls, or None.

        Offered for the plain case only (see :meth:`_plain`; the targets ``Y`` of the
        whole training set dense, of the outputs' dtype, every row summing to exactly 1,
        as the one-hot rows of :meth:`prepare_targets` do), by this class itself (no
        override of the methods involved). Returns ``(value_ops, value, divisor,
        gradient_ops, scale)``: the calls of ``value_ops`` leave in the 0-d float64 array
        ``value`` what divided by ``divisor`` (``-N``) is the batch's loss (``out`` against
        ``yb``; ``x / -N`` is ``-x / N`` bit for bit); those of ``gradient_ops`` leave
        ``a - y`` in ``delta``, which times ``scale`` (``1/N``) is ``dL/dz``. The very
        operations of :meth:`forward` and :meth:`fused_gradient` in that case, in the same
        order (bit for bit the same results: ``a * 1 == a``), into preallocated buffers
        (``tmp``, like ``out``); numpy's error handling is the caller's (``fit``'s), as
        in :meth:`forward` under ``np.errstate``.
        """
        cls = type(self)
        if not (self._fast_paths and cls.forward is _ReducedLoss.forward and cls._forward is CrossEntropy._forward
                and cls.fused_gradient is _ReducedLoss.fused_gradient
                and cls._fused_gradient is CrossEntropy._fused_gradient and cls._plain is CrossEntropy._plain):
            return None
        if not (isinstance(Y, np.ndarray) and Y.ndim == 2 and Y.dtype == out.dtype and self._plain(out, yb)
                and tmp.shape == out.shape and tmp.dtype == out.dtype and delta.shape == out.shape
                and delta.dtype == out.dtype):
            return None
        with np.errstate(all="ignore"):
            if not bool(np.all(np.add.reduce(Y, axis=1) == 1)):
                return None
        m = out.shape[0]
        rows = np.empty(m, dtype=out.dtype)
        value = np.zeros((), dtype=np.float64)
        value_ops = (partial(np.maximum, out, _clip_eps(out.dtype), out=tmp), partial(np.log, tmp, tmp),
                     partial(_c_einsum(), "ij,ij->i", yb, tmp, out=rows),
                     partial(np.add.reduce, rows, None, np.float64, value))
        return value_ops, value, float(-m), (partial(np.subtract, out, yb, delta),), 1.0 / m

    def _fused_gradient(self, a, y_true):
        """``dL/dz`` for ``a = softmax(z)``: ``(a - y)/N`` in the plain case."""
        if self._plain(a, y_true):
            # p * rowsum(y) - y, scaled: bit for bit p - y (scaled) when the rows sum to 1,
            # since p * 1 == p, so the general code's test for that case is not needed
            g = np.multiply(a, np.add.reduce(y_true, axis=1, keepdims=True))
            g -= y_true
            scale = 1.0 / a.shape[0]
            if scale != 1.0:
                g *= scale
            return g
        if self.from_logits:
            raise NotImplementedError("cross_entropy(from_logits=True) has no link to fuse with")
        t, y, count = self._targets(a, y_true)
        return self._softmax_grad(a, t, y, count)


_REGRESSION = ("nonnegative", "zero_at_perfect")
#: The ``reduction`` parameter of every built-in loss, for the spec suite's drawn configs.
_REDUCTION = Param.choice(*REDUCTIONS)


@hookimpl
def neuroplug_losses() -> list[LossRegistration]:
    """Register the built-in loss functions."""
    reg = LossRegistration
    return [
        reg(name="mse", factory=MSE,
            summary="Mean squared error.",
            formula=r"L = \frac1n \sum_i (\hat y_i - y_i)^2",
            derivative=r"\frac{\partial L}{\partial \hat y_i} = \frac2n (\hat y_i - y_i)",
            properties=_REGRESSION, implements=("mse",), parameter_space={"reduction": _REDUCTION}),
        reg(name="mae", factory=MAE,
            summary="Mean absolute error (L1).",
            formula=r"L = \frac1n \sum_i |\hat y_i - y_i|",
            derivative=r"\frac{\partial L}{\partial \hat y_i} = \frac1n \operatorname{sign}(\hat y_i - y_i)",
            properties=(*_REGRESSION, "bounded_gradient"), implements=("mae",),
            parameter_space={"reduction": _REDUCTION}),
        reg(name="smooth_l1", factory=SmoothL1,
            summary="Smooth L1: quadratic below beta, L1 above (PyTorch SmoothL1Loss).",
            formula=r"\ell(d) = \begin{cases} d^2 / 2\beta & |d| < \beta \\ |d| - \beta/2 & \text{otherwise} \end{cases}",
            derivative=r"\ell'(d) = \operatorname{clip}(d / \beta, -1, 1)",
            properties=(*_REGRESSION, "bounded_gradient"), implements=("smooth_l1",),
            parameter_space={"beta": Param.real(0.0, None, log=True, typical=(0.05, 20.0)), "reduction": _REDUCTION},
            example_configs=({"beta": 0.0}, {"beta": 2.0})),
        reg(name="huber", factory=Huber,
            summary="Huber loss: quadratic below delta, linear above (PyTorch HuberLoss).",
            formula=r"\ell(d) = \begin{cases} d^2 / 2 & |d| \le \delta \\ \delta(|d| - \delta/2) & \text{otherwise} \end{cases}",
            derivative=r"\ell'(d) = \operatorname{clip}(d, -\delta, \delta)",
            properties=(*_REGRESSION, "bounded_gradient"), implements=("huber",),
            parameter_space={"delta": Param.real(0.0, None, low_open=True, log=True, typical=(0.05, 20.0)),
                             "reduction": _REDUCTION},
            example_configs=({"delta": 0.3}, {"delta": 3.0})),
        reg(name="binary_cross_entropy", factory=BinaryCrossEntropy,
            summary="Binary cross-entropy on probabilities or logits; fuses with a sigmoid output.",
            formula=r"\ell = -\big(w\,y \log p + (1 - y) \log(1 - p)\big)",
            derivative=r"\frac{\partial \ell}{\partial z} = (1 + (w - 1) y)\,\sigma(z) - w y",
            properties=("nonnegative", "penalizes_confidence"), implements=("binary_cross_entropy",),
            parameter_space={"from_logits": Param.boolean(),
                             "pos_weight": Param.real(0.0, None, log=True, typical=(0.1, 10.0)),
                             "reduction": _REDUCTION},
            example_configs=({"from_logits": True, "pos_weight": 2.0}, {"pos_weight": [0.5, 2.0, 1.5]})),
        reg(name="cross_entropy", factory=CrossEntropy,
            summary="Categorical cross-entropy on probabilities or logits; fuses with a softmax output.",
            formula=r"\ell_i = -\sum_c w_c\, t_{ic} \log p_{ic}",
            derivative=r"\frac{\partial \ell_i}{\partial z_{ic}} = p_{ic} \sum_k w_k t_{ik} - w_c t_{ic}",
            properties=("nonnegative", "penalizes_confidence"), implements=("cross_entropy",),
            parameter_space={"from_logits": Param.boolean(), "label_smoothing": Param.real(0.0, 1.0),
                             "ignore_index": Param.integer(typical=(-1, 2)), "reduction": _REDUCTION},
            example_configs=({"from_logits": True, "label_smoothing": 0.1},
                             {"weight": [1.0, 2.0, 0.5], "ignore_index": 1})),
    ]
