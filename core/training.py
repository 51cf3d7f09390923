"""The training loop: :func:`fit`, its :class:`History` and callbacks.

Every component (loss, optimizer, schedule) is resolved *once*, before the
loop; the loop itself makes no registry look-ups and no hook calls. Mini-batches
are gathered into preallocated buffers, and the forward and backward passes write
into per-layer buffers (see :class:`~neuroplug.network.Sequential`).

The learning rate :math:`\\eta_t` comes from the schedule and the update is the
optimizer's; with plain SGD one step moves every weight by exactly
:math:`-\\eta_t \\, \\partial L/\\partial w`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .errors import ComponentError, ConfigError, DivergenceError, InputError, ShapeError
from .network import Sequential
from .registry import create
from .validation import check_bool, check_choice, check_number

__all__ = ["fit", "History", "Callback", "EarlyStopping", "TrainingState"]


class History:
    """Per-epoch records of a :func:`fit` run.

    Attributes
    ----------
    history : dict of str to list of float
        ``"loss"``, ``"lr"`` and, when available, ``"accuracy"``, ``"val_loss"``,
        ``"val_accuracy"``; one value per completed epoch.
    epoch : list of int
        The epoch indices (from 0).
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def _append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __repr__(self) -> str:
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


@dataclass
class TrainingState:
    """What callbacks see: the network, the epoch, the latest logs, and a stop flag.

    Set ``stop = True`` in a callback to end training after the current epoch.
    """

    network: Sequential
    history: History
    epochs: int
    epoch: int = 0
    logs: dict[str, float] = field(default_factory=dict)
    stop: bool = False


class Callback:
    """Base class of training callbacks: override the methods you need."""

    def on_train_begin(self, state: TrainingState) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """Called after each epoch; ``state.logs`` holds that epoch's metrics."""

    def on_train_end(self, state: TrainingState) -> None:
        """Called once after training ends (normally or by ``stop``)."""


class EarlyStopping(Callback):
    """Stop when a monitored metric has not improved for ``patience`` epochs.

    Parameters
    ----------
    monitor : str
        A key of the logs, e.g. ``"val_loss"`` or ``"val_accuracy"``.
    patience : int
        Epochs without improvement tolerated before stopping.
    min_delta : float
        The least change that counts as an improvement.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; "auto" means "max" for accuracies.
    restore_best_weights : bool
        Put back the weights of the best epoch when stopping (or at the end).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = True) -> None:
        self.monitor = monitor
        self.patience = check_number("patience", patience, low=0, integer=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None

    def on_train_begin(self, state: TrainingState) -> None:
        self._sign = -1.0 if (self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)) else 1.0
        self._best = math.inf
        self._wait = 0
        self._weights: list[np.ndarray] | None = None
        self.best_epoch = self.stopped_epoch = None

    def on_epoch_end(self, state: TrainingState) -> None:
        if self.monitor not in state.logs:
            raise ConfigError(f"EarlyStopping monitors {self.monitor!r}, which is not among the logged "
                              f"metrics {sorted(state.logs)} (validation metrics need validation_data)")
        value = self._sign * state.logs[self.monitor]
        if value < self._best - self.min_delta:
            self._best, self._wait, self.best_epoch = value, 0, state.epoch
            if self.restore_best_weights:
                self._weights = state.network.get_weights()
        else:
            self._wait += 1
            if self._wait > self.patience:
                state.stop = True
                self.stopped_epoch = state.epoch

    def on_train_end(self, state: TrainingState) -> None:
        if self.restore_best_weights and self._weights is not None:
            state.network.set_weights(self._weights)


def _as_data(X: Any, y: Any, net: Sequential, what: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "" if what == "training" else "validation "
    X = np.asarray(X)
    y = np.asarray(y)
    for name, arr in (("X", X), ("y", y)):
        if arr.dtype == object or np.issubdtype(arr.dtype, np.complexfloating) \
                or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise InputError(f"{prefix}{name} must hold real numbers; got dtype {arr.dtype}")
    if X.ndim != 2:
        raise ShapeError(f"{prefix}X must be 2-D (samples x features); got shape {X.shape}")
    if X.shape[0] == 0:
        raise InputError(f"{prefix}X is empty (shape {X.shape})")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ShapeError(f"{prefix}y must have one row per sample of X ({X.shape[0]}); got shape {y.shape}")
    if X.shape[1] != net.input_dim:
        raise ShapeError(f"{prefix}X has {X.shape[1]} features but the network's input_dim is {net.input_dim}")
    for name, arr in (("X", X), ("y", y)):
        # min and max are finite exactly when every value is (NaN propagates through both);
        # unlike isfinite(arr).all(), they need no temporary the size of the data
        if np.issubdtype(arr.dtype, np.floating) and arr.size \
                and not (np.isfinite(arr.min()) and np.isfinite(arr.max())):
            bad = np.argwhere(~np.isfinite(arr))[0]
            raise InputError(f"{prefix}{name} holds a non-finite value {arr[tuple(bad)]} at index "
                             f"{tuple(int(i) for i in bad)}")
    return X, y


def _is_classification(y: np.ndarray, net: Sequential) -> bool:
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and (
        net.output_dim > 1 or net.layers[-1].activation.link == "sigmoid")


def _accuracy(out: np.ndarray, labels: np.ndarray) -> float:
    pred = (out[:, 0] > 0.5) if out.shape[1] == 1 else np.argmax(out, axis=1)
    return float(np.mean(pred == labels))


def _failing_component(exc: BaseException) -> str | None:
    """Name the innermost component (and its plugin) in ``exc``'s traceback, if any."""
    from .base import Component
    from .registry import get_registry

    found = None
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Component):
            found = candidate
        tb = tb.tb_next
    if found is None:
        return None
    reg = get_registry()
    for entry in reg.entries(found.kind):
        if entry.registration.factory is type(found):
            return f"{found.kind} {entry.qualified_name!r} (plugin {entry.plugin.label})"
    return f"{found.kind} {type(found).__name__}"


def fit(network: Sequential, X: Any, y: Any, *, loss: Any = "mse", optimizer: Any = "sgd",
        lr: float = 0.01, schedule: Any = "constant", epochs: int = 10, batch_size: int = 32,
        shuffle: bool = True, seed: Any = None, validation_data: tuple[Any, Any] | None = None,
        callbacks: Iterable[Callback] = (), progress: bool = False) -> History:
    """Train ``network`` on ``(X, y)`` with mini-batch gradient descent.

    Parameters
    ----------
    network : Sequential
        The network; its weights are updated in place.
    X : array of shape (N, input_dim)
        Training inputs (real numbers, finite).
    y : array of shape (N,) or (N, outputs)
        Targets: integer class labels, or values shaped like the outputs.
    loss, optimizer, schedule : str, dict or component
        Components by name (``"cross_entropy"``), ``{"name", "config"}`` dict or
        instance (e.g. ``npl.create("optimizer", "sgd", momentum=0.9)``).
    lr : float
        Initial learning rate (> 0); the schedule maps it to the rate at each step.
    epochs : int
        Passes over the data (>= 1).
    batch_size : int
        Samples per step (1 <= batch_size <= N); the last batch may be smaller.
    shuffle : bool
        Reshuffle the samples every epoch (with ``seed``).
    seed : int, optional
        Seed of the shuffling: the same seed (and network seed) gives bit-identical weights.
    validation_data : (X_val, y_val), optional
        Evaluated after each epoch (``val_loss``, ``val_accuracy``).
    callbacks : iterable of Callback
        E.g. :class:`EarlyStopping`.
    progress : bool
        Show a progress bar (tqdm) over the batches of each epoch.

    Returns
    -------
    History
        Loss, learning rate and metrics per epoch.

    Raises
    ------
    InputError, ShapeError, ConfigError
        For invalid data or arguments, before any weight changes.
    DivergenceError
        When the loss becomes non-finite; the weights are restored to the start of
        that epoch.
    """
    if not isinstance(network, Sequential):
        raise InputError(f"network must be a neuroplug.Sequential, got {type(network).__name__}")
    X, y = _as_data(X, y, network, "training")
    n = X.shape[0]
    check_number("lr", lr, low=0, low_inclusive=False, error=InputError)
    check_number("epochs", epochs, low=1, integer=True, error=InputError)
    check_number("batch_size", batch_size, low=1, high=n, integer=True, error=InputError)
    check_bool("shuffle", shuffle, error=InputError)
    loss_fn = create("loss", loss)
    opt = create("optimizer", optimizer)
    sched = create("schedule", schedule)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise InputError(f"callbacks must be neuroplug.Callback instances, got {cb!r}")
    dtype = network.dtype
    classify = _is_classification(y, network)
    labels = y
    Y = loss_fn.prepare_targets(y, network.output_dim, dtype)
    Xt = np.ascontiguousarray(X, dtype=dtype)
    val = None
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise InputError("validation_data must be a pair (X_val, y_val)")
        Xv, yv = _as_data(validation_data[0], validation_data[1], network, "validation")
        val = (np.ascontiguousarray(Xv, dtype=dtype), yv,
               loss_fn.prepare_targets(yv, network.output_dim, dtype))
    last = network.layers[-1].activation
    fused = last.link is not None and getattr(loss_fn, "link", None) == last.link
    params = network.parameters()
    grads = network.gradients()
    opt.setup(params)
    batch_unit = getattr(sched, "unit", "epoch") == "batch"
    steps_per_epoch = -(-n // batch_size)
    rng = np.random.default_rng(seed)
    order = np.arange(n)
    # Everything the step needs is resolved here, once: per batch size (full batches
    # and the possibly smaller last one) a training plan, whose input buffer receives
    # the batch, and a target buffer; the bound methods of the components.
    sizes = {batch_size, n - (steps_per_epoch - 1) * batch_size}
    plans = {s: network._train_plan(s) for s in sizes}
    ybuf = {s: np.empty((s,) + Y.shape[1:], dtype=Y.dtype) for s in sizes}
    loss_forward, opt_step = loss_fn.forward, opt.step
    fused_gradient, loss_gradient = (loss_fn.fused_gradient, None) if fused else (None, loss_fn.gradient)
    # the methods themselves, without np.take's Python wrapper
    x_take = Xt.take
    y_take = Y.take if isinstance(Y, np.ndarray) else functools.partial(np.take, Y)
    greater = np.greater
    isfinite = math.isfinite
    # predicted classes of the epoch, compared with the labels once per epoch
    pred = np.empty(n, dtype=np.intp) if classify else None
    single_output = network.output_dim == 1

    history = History()
    state = TrainingState(network=network, history=history, epochs=epochs)
    for cb in callbacks:
        cb.on_train_begin(state)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps_per_epoch, unit="batch", dynamic_ncols=True, leave=True)
    step = 0
    try:
        for epoch in range(epochs):
            state.epoch = epoch
            for cb in callbacks:
                cb.on_epoch_begin(state)
            if shuffle:
                rng.shuffle(order)
            snapshot = network.get_weights()
            lr_now = _lr(sched, epoch, lr, epoch, step)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                m = idx.shape[0]
                plan, yb = plans[m], ybuf[m]
                x_take(idx, 0, plan.x, "clip")
                y_take(idx, 0, yb, "clip")
                if batch_unit:
                    lr_now = _lr(sched, step, lr, epoch, step)
                out = plan.forward()
                batch_loss = float(loss_forward(out, yb))
                if not isfinite(batch_loss):
                    network.set_weights(snapshot)
                    raise DivergenceError(
                        f"the loss became {batch_loss} at step {step} (epoch {epoch}, batch "
                        f"{start // batch_size}) with lr={lr_now:g}; the weights were restored to the "
                        f"start of epoch {epoch}. Lower lr or check the data and components.")
                total += batch_loss * m
                if pred is not None:
                    if single_output:
                        greater(out[:, 0], 0.5, out=pred[start:start + m])
                    else:
                        out.argmax(1, pred[start:start + m])
                if fused_gradient is not None:
                    plan.backward(fused_gradient(out, yb))
                else:  # the chain rule through the output activation
                    plan.backward(plan.last_backward(plan.z_last, out, loss_gradient(out, yb)))
                opt_step(params, grads, lr_now)
                step += 1
                if bar is not None:
                    bar.update(1)
            logs = {"loss": total / n, "lr": lr_now}
            if classify:
                logs["accuracy"] = int(np.count_nonzero(pred == labels[order])) / n
            if val is not None:
                out = network.predict(val[0])
                logs["val_loss"] = float(loss_fn.forward(out, val[2]))
                if classify:
                    logs["val_accuracy"] = _accuracy(out, val[1])
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
            history._append(epoch, logs)
            state.logs = logs
            sched.observe(epoch, logs)
            for cb in callbacks:
                cb.on_epoch_end(state)
            if state.stop:
                break
    except (InputError, ConfigError, DivergenceError):
        raise
    except Exception as exc:
        who = _failing_component(exc)
        if who is None:
            raise
        raise ComponentError(f"{who} raised during training (epoch {state.epoch}, step {step}): "
                             f"{type(exc).__name__}: {exc}") from exc
    finally:
        if bar is not None:
            bar.close()
    for cb in callbacks:
        cb.on_train_end(state)
    return history


def _lr(sched: Any, t: int, base_lr: float, epoch: int, step: int) -> float:
    value = sched(t, base_lr)
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
        raise ConfigError(
            f"schedule {sched!r} returned the learning rate {value!r} at epoch {epoch}, step {step}; "
            f"a learning rate must be a finite number >= 0")
    return float(value)
