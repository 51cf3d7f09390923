"""Diagnosing a divergence: re-run the failing batch layer by layer and name the first non-finite value.

Called by the loop only after a step failed (a non-finite loss, gradient or
weight); nothing here runs on the hot path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NonFiniteError
from ..registry import component_label as _component_label

__all__ = ["diagnose"]


class _Culprit(Exception):
    """Raised inside :func:`_diagnose` with the description of the first non-finite value."""


def _checked(label: str, what: str, fn: Any, *args: Any) -> np.ndarray:
    """``fn(*args)``; a :class:`NonFiniteError` it raises, or a non-finite result, names ``label``."""
    try:
        result = fn(*args)
    except NonFiniteError as exc:
        raise _Culprit(f"the {label} reports: {exc}") from None
    if not np.isfinite(result).all():
        shown = f"is {float(np.asarray(result).reshape(-1)[0])}" if np.size(result) == 1 else "is non-finite"
        raise _Culprit(f"{what} of the {label} {shown}")
    return result


def diagnose(run: Any, batch: int, lr: float) -> str:
    """Redo batch ``batch`` layer by layer (weights unchanged) and name the first non-finite value."""
    try:
        _trace(run, batch)
    except _Culprit as found:
        return str(found)
    return (f"the update of the {_component_label(run.opt)} produced a non-finite weight from finite "
            f"gradients (lr={lr:g})")


def _trace(run: Any, batch: int) -> None:
    net = run.network
    start = batch * run.batch_size
    idx = run.order[start:start + run.batch_size]
    x = np.ascontiguousarray(run.Xt[idx])
    yb = np.take(run.Y, idx, axis=0)
    a = x
    zs, acts = [], []
    for i, layer in enumerate(net.layers):
        if not (np.isfinite(layer.W).all() and np.isfinite(layer.b).all()):
            raise _Culprit(f"the weights of layers[{i}] are non-finite")
        z = a @ layer.W
        if layer.use_bias:
            z = z + layer.b
        if not np.isfinite(z).all():
            raise _Culprit(f"the weighted sum z of layers[{i}] overflowed (largest |input| {np.abs(a).max():.3g}, "
                           f"largest |weight| {np.abs(layer.W).max():.3g})")
        a = _checked(f"{_component_label(layer.activation)} of layers[{i}]", "the output",
                     layer.activation.forward, z.copy())
        zs.append(z)
        acts.append(a)
    loss = _component_label(run.loss_fn)
    _checked(loss, "the value", lambda: np.asarray(run.loss_fn.forward(a, yb)))
    if run.fused:
        delta = _checked(loss, "the fused gradient", run.loss_fn.fused_gradient, a, yb)
    else:
        g = _checked(loss, "the gradient", run.loss_fn.gradient, a, yb)
        last = net.layers[-1].activation
        delta = _checked(f"{_component_label(last)} of layers[{len(net.layers) - 1}]", "the derivative",
                         last.backward, zs[-1], acts[-1], g.copy())
    for i in range(len(net.layers) - 1, -1, -1):
        a_prev = acts[i - 1] if i else x
        if not np.isfinite(a_prev.T @ delta).all():
            raise _Culprit(f"the weight gradient of layers[{i}] overflowed")
        if i:
            grad = delta @ net.layers[i].W.T
            if not np.isfinite(grad).all():
                raise _Culprit(f"the gradient flowing into layers[{i}] overflowed")
            act = net.layers[i - 1].activation
            delta = _checked(f"{_component_label(act)} of layers[{i - 1}]", "the derivative",
                             act.backward, zs[i - 1], acts[i - 1], grad)
