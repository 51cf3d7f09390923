"""The boundary between the loop and the components: what a component returns is checked before it is used.

Before the first step, :func:`check_component_outputs` runs each activation's
forward, derivative and backward and the loss's gradient once on the first samples
and checks type, dtype and shape; :func:`components_named` turns an exception a
component raises into a :class:`~neuroplug.errors.ComponentError` naming the
component and its plugin. Nothing here runs per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base import Activation
from ..errors import ComponentError, ConfigError, NeuroplugError
from ..model.network import Sequential
from ..registry import component_label as _component_label
from ..registry import failing_component as _failing_component
from ..validation import shown as _shown

__all__ = ["check_component_outputs", "components_named"]


class components_named:  # noqa: N801 - used like a function: ``with components_named(...)``
    """Turn an exception a component raises into a ComponentError naming it and its plugin.

    ``when()`` says when (``"before training"``), ``after()`` what was done about it.
    Errors neuroplug raises on purpose, and exceptions not raised in a component's
    code, pass unchanged. (A class, not a generator-based context manager: contextlib
    would take a ComponentError raised for a component's StopIteration for the
    PEP 479 wrapping of it and re-raise the raw StopIteration.)
    """

    def __init__(self, when: Any, after: Any = lambda: "") -> None:
        self.when, self.after = when, after

    def __enter__(self) -> "components_named":
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, NeuroplugError) or not isinstance(exc, Exception):
            return False
        who = _failing_component(exc)
        if who is None:
            return False
        raise ComponentError(f"{who} raised {self.when()}: {type(exc).__name__}: {exc}{self.after()}") from exc


#: Where :func:`check_component_outputs` checks (the end of a ComponentError's message).
BEFORE_TRAINING = "(checked on the first samples, before any weight changed)"


def _check_returned(component: Any, what: str, value: Any, shape: tuple[int, ...],
                    when: str = BEFORE_TRAINING) -> np.ndarray:
    """``value`` if it is a real array of ``shape``; a ComponentError naming ``component`` otherwise."""
    if not (isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind in "fiu"):
        raise ComponentError(f"{_component_label(component)}: {what} returned {_shown(value)}; expected a "
                             f"real array of shape {shape} {when}")
    return value


def _check_loss_value(loss_fn: Any, value: Any, when: str = BEFORE_TRAINING) -> float:
    """A loss's ``forward`` must give one real number: that number, or a ComponentError."""
    if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, (int, float, np.integer, np.floating))
            or (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu")):
        raise ComponentError(f"{_component_label(loss_fn)}: forward returned {_shown(value)}; expected one "
                             f"real number {when}")
    return float(value)


def _checked_backward(act: Any, i: int, z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """``act.backward(z, a, grad)``, checked; for the default backward, ``derivative`` is checked
    itself (``grad * derivative`` would broadcast a wrong shape silently) and called once."""
    if type(act).backward is Activation.backward:
        d = _check_returned(act, f"derivative (layer {i})", act.derivative(z.copy(), a.copy()), z.shape)
        return grad * d
    return _check_returned(act, f"backward (layer {i})", act.backward(z.copy(), a.copy(), grad.copy(),
                                                                      out=grad.copy()), z.shape)


def check_component_outputs(network: Sequential, loss_fn: Any, X: np.ndarray, Y: Any, fused: bool) -> None:
    """Run the forward and backward passes once on the first (up to 2) samples and check
    that every activation and the loss return real arrays of the right shape (and the loss
    one number); raise :class:`ComponentError` naming the component otherwise. Called once
    per :func:`fit`, before any weight changes: the training loop then checks nothing.
    The loss's ``forward`` is not called here (:class:`_Run` checks its value on one row)."""
    rows = min(X.shape[0], 2)
    x, y = X[:rows], np.take(Y, np.arange(rows), axis=0)
    layers = network.layers
    zs, outs = [], []
    a = x
    with np.errstate(all="ignore"), components_named(lambda: "before training (on the first samples)"):
        for i, layer in enumerate(layers):
            z = a @ layer.W
            if layer.use_bias:
                z = z + layer.b
            act = layer.activation
            a = _check_returned(act, f"forward (layer {i})", act.forward(z.copy(), out=np.empty_like(z)), z.shape)
            zs.append(z)
            outs.append(a)
        # (the loss's value was checked on one row by the caller, before)
        last = layers[-1].activation
        if fused:
            delta = _check_returned(loss_fn, "fused_gradient", loss_fn.fused_gradient(a.copy(), y), a.shape)
        else:
            g = _check_returned(loss_fn, "gradient", loss_fn.gradient(a.copy(), y), a.shape)
            delta = _checked_backward(last, len(layers) - 1, zs[-1], a, g)
        for i in range(len(layers) - 1, 0, -1):
            grad = delta @ layers[i].W.T
            prev = layers[i - 1].activation
            delta = _checked_backward(prev, i - 1, zs[i - 1], outs[i - 1], grad)


def _lr(sched: Any, t: int, base_lr: float, epoch: int, step: int) -> float:
    value = sched(t, base_lr)
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
        raise ConfigError(
            f"schedule {sched!r} returned the learning rate {value!r} at epoch {epoch}, step {step}; "
            f"a learning rate must be a finite number >= 0")
    return float(value)
