"""Diagnosing a divergence: re-run the failing batch layer by layer and name the first non-finite value.

Called by the loop only after a step failed (a non-finite loss, gradient or
weight); nothing here runs on the hot path.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ComponentError, DivergenceError, NonFiniteError
from .boundary import _check_loss_value, _check_returned, _lr
from ..registry import component_label as _component_label

__all__ = ["diagnose", "find_bad_output", "stop_diverged", "stop_blown_up"]


class _Culprit(Exception):
    """Raised inside :func:`_trace` with the description of the first non-finite value."""


def _checked(component: Any, label: str, what: str, method: str, when: str, shape: tuple[int, ...],
             fn: Any, *args: Any) -> np.ndarray:
    """``fn(*args)``, the ``method`` of ``component``: a result that is not a real array of ``shape``
    is a :class:`ComponentError` (ending with ``when``); a :class:`NonFiniteError` it raises, or a
    non-finite result, names ``label``."""
    try:
        result = fn(*args)
    except NonFiniteError as exc:
        raise _Culprit(f"the {label} reports: {exc}") from None
    _check_returned(component, method, result, shape, when)
    if not np.isfinite(result).all():
        shown = f"is {float(result.reshape(-1)[0])}" if result.size == 1 else "is non-finite"
        raise _Culprit(f"{what} of the {label} {shown}")
    return result


def diagnose(run: Any, batch: int, lr: float) -> str:
    """Redo batch ``batch`` layer by layer (weights unchanged) and name the first non-finite value.

    A component that returns something other than a real array of the right shape
    there raises the :class:`ComponentError` naming it (see :func:`find_bad_output`)."""
    try:
        _trace(run, batch, f"(on batch {batch} of epoch {run.epoch}, where training diverged)")
    except _Culprit as found:
        return str(found)
    return (f"the update of the {_component_label(run.opt)} produced a non-finite weight from finite "
            f"gradients (lr={lr:g})")


def find_bad_output(run: Any, batch: int) -> ComponentError | None:
    """Redo batch ``batch`` with the weights as they are, checking what every component returns.

    Called only after a step raised an error that is not neuroplug's own (a numpy
    error on a component's garbage, say): the :class:`ComponentError` naming the first
    component whose result is not a real array of the right shape (or, for the
    loss's value, one real number), or None when every result is sound.
    """
    try:
        _trace(run, batch, f"(on batch {batch} of epoch {run.epoch}, step {run.step})")
    except ComponentError as exc:
        return exc
    except _Culprit:
        return None
    return None


def _trace(run: Any, batch: int, when: str) -> None:
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
        act = layer.activation
        a = _checked(act, f"{_component_label(act)} of layers[{i}]", "the output", f"forward (layer {i})", when,
                     z.shape, act.forward, z.copy())
        zs.append(z)
        acts.append(a)
    loss_fn = run.loss_fn
    loss = _component_label(loss_fn)
    try:
        value = loss_fn.forward(a, yb)
    except NonFiniteError as exc:
        raise _Culprit(f"the {loss} reports: {exc}") from None
    if not math.isfinite(_check_loss_value(loss_fn, value, when)):
        raise _Culprit(f"the value of the {loss} is {float(value)}")
    if run.fused:
        delta = _checked(loss_fn, loss, "the fused gradient", "fused_gradient", when, a.shape,
                         loss_fn.fused_gradient, a, yb)
    else:
        g = _checked(loss_fn, loss, "the gradient", "gradient", when, a.shape, loss_fn.gradient, a, yb)
        last = net.layers[-1].activation
        k = len(net.layers) - 1
        delta = _checked(last, f"{_component_label(last)} of layers[{k}]", "the derivative", f"backward (layer {k})",
                         when, a.shape, last.backward, zs[-1], acts[-1], g.copy())
    for i in range(len(net.layers) - 1, -1, -1):
        a_prev = acts[i - 1] if i else x
        if not np.isfinite(a_prev.T @ delta).all():
            raise _Culprit(f"the weight gradient of layers[{i}] overflowed")
        if i:
            grad = delta @ net.layers[i].W.T
            if not np.isfinite(grad).all():
                raise _Culprit(f"the gradient flowing into layers[{i}] overflowed")
            act = net.layers[i - 1].activation
            delta = _checked(act, f"{_component_label(act)} of layers[{i - 1}]", "the derivative",
                             f"backward (layer {i - 1})", when, grad.shape, act.backward, zs[i - 1], acts[i - 1],
                             grad)


def _rms(arrays: list[np.ndarray]) -> float:
    """The root mean square of all the values of ``arrays`` (float64, without overflow)."""
    count = sum(a.size for a in arrays)
    if not count:
        return 0.0
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0 for a in arrays)
    if scale == 0.0 or not math.isfinite(scale):
        return scale
    total = sum(float(np.sum(np.square(a / scale, dtype=np.float64))) for a in arrays)
    return scale * math.sqrt(total / count)


def _all_finite(arrays: list[np.ndarray]) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


# ---------------------------------------------------------------------- stopping the run
def stop_diverged(run: Any, reason: str) -> None:
    """Put the last finite state back, find what produced the non-finite value, raise."""
    if reason == "growth":
        stop_blown_up(run)
    failing = run.batch
    if reason in ("weights", "raised") or not _all_finite(run.params):
        # a finite step made a weight non-finite (an overflowing update) earlier on:
        # redo the epoch from its start, checking the weights after every update
        # (a blow-up before it is not the report: the non-finite value is, as without max_growth)
        reached = run.batch
        run._restore_base()
        why = run._steps(stop=reached, replay=True, growth=False)
        if why == "weights":
            failing = run.batch
            run._restore_base()
            run._steps(stop=failing, replay=True, growth=False)
            reason = "update"
        elif why is not None:
            failing, reason = run.batch, why
    lr_now = rate_at(run, failing)
    try:
        where = diagnose(run, failing, lr_now)
    except ComponentError as exc:  # not a number but garbage: the component is the report, and
        run._restore_base()        # the weights go back as for any error a component causes
        raise ComponentError(f"{exc}; the weights were restored to {run._base_label()}") from None
    except Exception:  # a component that raises while the step is redone: the state is put back first
        run._restore_base()
        run.restored_to = f"; the weights were restored to {run._base_label()}"
        raise
    raise _stopped(run, "diverged", failing, lr_now, where, "their last finite values",
                   "Lower lr, or check the data and the components.")


def stop_blown_up(run: Any) -> None:
    """The weights grew past ``max_growth``'s limit: find the step that took them over, restore, raise."""
    limit, reached = run.growth_limit, run.batch
    layers = [[i for i, _ in enumerate(run._base[0]) if i // 2 == k] for k in range(len(run.network.layers))]
    start = [_rms([run._base[0][i] for i in idx]) for idx in layers]
    run._restore_base()
    # the weights were within the limit at the last checkpoint written in this epoch (one was
    # written only then): the step that took them over is looked for after it, so the file on
    # disk is never past the step reported (they may have crossed the limit and come back before)
    run._steps(stop=run.sound_batch, replay=True, growth=False)
    run._steps(stop=reached, replay=True)  # stops after the update that crossed the limit
    failing = run.batch
    grown = [_rms([run.params[i] for i in idx]) for idx in layers]  # just after that update
    run._restore_base()
    run._steps(stop=failing, replay=True, growth=False)  # the state before it
    _, worst = max((g / max(s0, 1.0), k) for k, (s0, g) in enumerate(zip(start, grown)))
    lr_now = rate_at(run, failing)
    where = (f"the weights of layers[{worst}] grew from RMS {start[worst]:.3g} at the start of the epoch to "
             f"{grown[worst]:.3g}, taking the weights' RMS past {limit:.3g} (max_growth={run.max_growth:g} "
             f"times the larger of 1 and their RMS at the start of the epoch)")
    raise _stopped(run, "blew up", failing, lr_now, where, "their values before that step",
                   "Lower lr, or check the data and the components; max_growth=None "
                   "(neuroplug train --max-growth off) turns this check off.")


def _stopped(run: Any, what: str, failing: int, lr: float, where: str, restored: str, advice: str) -> DivergenceError:
    """The report of a run stopped at step ``run.step`` (batch ``failing``), its state restored."""
    step = run.step
    return DivergenceError(
        f"training {what} at step {step} (epoch {run.epoch}, batch {failing}) with lr={lr:g}: {where}. "
        f"The weights and the optimizer state were restored to {restored} "
        f"({_after(step)}). {advice}",
        epoch=run.epoch, step=step, batch=failing, lr=lr, where=where, history=run.history)


def _after(step: int) -> str:
    return "before the first step" if step == 0 else f"after step {step - 1}"


def rate_at(run: Any, batch: int) -> float:
    if not run.batch_unit:
        return run.lr_now
    step = run.step
    return run.lr_table[step] if run.lr_table is not None else _lr(
        run.sched, step, run.base_lr, run.epoch, step)
