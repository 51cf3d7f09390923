r"""Sample weights for any loss that can give per-sample values (``reduction="none"``).

The weighted loss of a batch is the weighted mean of the per-sample losses,

.. math::  L = \frac{\sum_i w_i \, \ell_i}{\sum_i w_i}, \qquad
           \frac{\partial L}{\partial \hat y_i} = \frac{w_i}{\sum_j w_j} \,
           \frac{\partial \ell_i}{\partial \hat y_i},

where :math:`\ell_i` is sample *i*'s loss: its value under ``reduction="none"``, or
the mean of its row for a loss that gives one value per element (``mse``, binary
cross-entropy). With equal weights this is the loss's ``"mean"``, which is why the
estimators use the plain loss then. The weights travel with the targets (their last
column), so the training loop's batches carry them without knowing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Loss

__all__ = ["WeightedLoss", "weighted_targets"]


def weighted_targets(Y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The targets with the weights as an extra last column (float64: class indices stay exact)."""
    Y = np.asarray(Y)
    return np.column_stack([Y.reshape(Y.shape[0], -1).astype(np.float64), np.asarray(weights, np.float64)])


class WeightedLoss(Loss):
    """The sample-weighted mean of ``inner``'s per-sample values (``inner`` has ``reduction="none"``).

    Its targets are :func:`weighted_targets` of the estimator's encoded targets:
    ``integer_targets`` says whether those were class indices (given back to
    ``inner.prepare_targets`` as integers).
    """

    serializable = False

    def __init__(self, inner: Loss, integer_targets: bool) -> None:
        self.inner = inner
        self.integer_targets = integer_targets
        self.link = getattr(inner, "link", None)
        self.reduction = "mean"
        self._row_shape: tuple[int, ...] = ()
        self._row_dtype: Any = np.float64
        self._per_element: int | None = None  # elements per sample of inner's values (1: one value a sample)

    def __repr__(self) -> str:
        return f"WeightedLoss({self.inner!r})"

    def prepare_targets(self, y: np.ndarray, n_outputs: int, dtype: Any = np.float32) -> np.ndarray:
        """``inner``'s prepared targets, flattened per row, with the weights as the last column."""
        targets, weights = y[:, :-1], y[:, -1]
        if self.integer_targets:
            targets = targets[:, 0].astype(np.int64)
        elif targets.shape[1] == 1:
            targets = targets[:, 0]
        prepared = np.asarray(self.inner.prepare_targets(targets, n_outputs, dtype))
        self._row_shape, self._row_dtype = prepared.shape[1:], prepared.dtype
        return weighted_targets(prepared, weights)

    def _split(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        targets = y[:, :-1].astype(self._row_dtype).reshape((y.shape[0],) + self._row_shape)
        return targets, y[:, -1]

    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> float:
        """:math:`\\sum_i w_i \\ell_i / \\sum_i w_i` (0 for a batch whose weights are all 0)."""
        targets, w = self._split(y_true)
        values = np.asarray(self.inner.forward(y_pred, targets), dtype=np.float64)
        per_sample = values.reshape(values.shape[0], -1)
        self._per_element = per_sample.shape[1]
        total = float(w.sum())
        return float(np.dot(w, per_sample.mean(axis=1))) / total if total else 0.0

    def _scaled(self, grad: np.ndarray, w: np.ndarray, per_element: int) -> np.ndarray:
        total = float(w.sum())
        if not total:
            return np.zeros_like(grad)
        scale = (w / (total * per_element)).astype(grad.dtype)
        return grad * scale.reshape((-1,) + (1,) * (grad.ndim - 1))

    def gradient(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """:math:`w_i / \\sum_j w_j` times the gradient of sample *i*'s loss."""
        targets, w = self._split(y_true)
        if self._per_element is None:
            self.forward(y_pred, y_true)
        return self._scaled(np.asarray(self.inner.gradient(y_pred, targets)), w, self._per_element)

    def fused_gradient(self, a: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """``inner``'s fused gradient of each sample, weighted as :meth:`gradient`."""
        targets, w = self._split(y_true)
        if self._per_element is None:
            self.forward(a, y_true)
        return self._scaled(np.asarray(self.inner.fused_gradient(a, targets)), w, self._per_element)
