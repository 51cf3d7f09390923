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

import contextlib
import copy
import functools
import hashlib
import math
import os
import signal
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .base import Activation, _check_finite, _real_array
from .errors import (ComponentError, ConfigError, DivergenceError, InputError, NeuroplugError, NonFiniteError,
                     ShapeError)
from .network import Sequential
from .registry import create
from .serialization import check_writable
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
    """Base class of training callbacks: override the methods you need.

    A callback that writes metrics of its own into ``state.logs`` lists their
    names in ``adds_metrics``, so that the callbacks after it (and
    ``Checkpointing(keep_best=...)``) may monitor them.
    """

    #: Names of the metrics this callback adds to ``state.logs`` in :meth:`on_epoch_end`.
    adds_metrics: tuple[str, ...] = ()

    def check(self, metrics: frozenset[str]) -> None:
        """Called by :func:`fit` before any weight changes, with the names of the metrics
        each epoch's logs will hold when this callback sees them. Raise a
        :class:`~neuroplug.errors.ConfigError` for a setting that cannot work (e.g.
        monitoring a metric that is never logged). Default: nothing to check.
        """

    def on_train_begin(self, state: TrainingState) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Called at the start of each epoch."""

    def on_epoch_end(self, state: TrainingState) -> None:
        """Called after each epoch; ``state.logs`` holds that epoch's metrics."""

    def on_train_end(self, state: TrainingState) -> None:
        """Called once after training ends (normally or by ``stop``)."""

    def get_state(self) -> dict[str, Any]:
        """The callback's mutable state, for checkpoints: numbers, strings, None and arrays.

        Called at each checkpoint; :meth:`set_state` gets it back, after
        :meth:`on_train_begin`, when ``fit`` resumes. Default: nothing to save.
        """
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`get_state` (see there)."""

    def check_state(self, state: dict[str, Any], network: Sequential) -> None:
        """Raise (any exception) unless :meth:`set_state` can take ``state`` for ``network``.

        Called when ``fit`` resumes, before anything is restored, with the state
        a checkpoint saved for this callback; a failure is reported as a
        :class:`~neuroplug.errors.ModelFileError` naming the file and nothing
        changes. :meth:`set_state` is also tried on a copy of the callback, and
        :meth:`get_state` must then give back a state of the same layout (an array
        where a number was saved is refused), so the default (nothing) is enough
        for most callbacks; override it for what the layout does not show (value
        ranges, shapes that depend on the network).
        """


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
        if not isinstance(monitor, str) or not monitor:
            raise ConfigError(f"EarlyStopping monitor must be the name of a logged metric such as 'val_loss', "
                              f"'val_accuracy' or 'loss', got {monitor!r}")
        self.monitor = monitor
        self.patience = check_number("patience", patience, low=0, integer=True)
        self.min_delta = check_number("min_delta", min_delta, low=0)
        self.mode = check_choice("mode", mode, ("auto", "min", "max"))
        self.restore_best_weights = check_bool("restore_best_weights", restore_best_weights)
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self._best, self._wait = math.inf, 0
        self._weights: list[np.ndarray] | None = None

    def check(self, metrics: frozenset[str]) -> None:
        """The monitored metric must be one the epochs log (``val_*`` ones need ``validation_data``)."""
        _check_monitored(f"EarlyStopping monitor={self.monitor!r}", self.monitor, metrics)

    def on_train_begin(self, state: TrainingState) -> None:
        self._sign = -1.0 if (self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)) else 1.0
        self._best, self._wait, self._weights = math.inf, 0, None
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

    def get_state(self) -> dict[str, Any]:
        """``best``, ``wait``, ``best_epoch``, ``stopped_epoch`` and the best weights ``weights.<i>``."""
        state: dict[str, Any] = {"best": self._best, "wait": self._wait, "best_epoch": self.best_epoch,
                                 "stopped_epoch": self.stopped_epoch}
        for i, w in enumerate(self._weights or ()):
            state[f"weights.{i}"] = w.copy()
        return state

    def check_state(self, state: dict[str, Any], network: Sequential | None) -> None:
        """ValueError unless ``state`` is one :meth:`get_state` gives (for ``network``, if given)."""
        if not isinstance(state, dict):
            raise ValueError(f"EarlyStopping state must be a dict, got {type(state).__name__}")
        count = sum(1 for key in state if isinstance(key, str) and key.startswith("weights."))
        keys = {"best", "wait", "best_epoch", "stopped_epoch"} | {f"weights.{i}" for i in range(count)}
        if set(state) != keys:
            raise ValueError(f"EarlyStopping state must have the keys {sorted(keys)}; missing "
                             f"{sorted(keys - set(state))}, unknown {sorted(map(str, set(state) - keys))}")
        best = state["best"]
        if not (isinstance(best, (int, float)) and not isinstance(best, bool) and not math.isnan(best)):
            raise ValueError(f"EarlyStopping state best must be a number, got {best!r:.60}")
        for key in ("wait", "best_epoch", "stopped_epoch"):
            value = state[key]
            if not ((value is None and key != "wait") or (isinstance(value, int) and not isinstance(value, bool)
                                                          and value >= 0)):
                raise ValueError(f"EarlyStopping state {key} must be an integer >= 0"
                                 f"{'' if key == 'wait' else ' or None'}, got {value!r:.60}")
        params = None if network is None else network.parameters()
        if count and params is not None and count != len(params):
            raise ValueError(f"EarlyStopping state holds {count} best weights; the network has {len(params)}")
        for i in range(count):
            w = state[f"weights.{i}"]
            if not (isinstance(w, np.ndarray) and w.dtype.kind == "f" and np.isfinite(w).all()):
                raise ValueError(f"EarlyStopping state weights.{i} must be a finite float array")
            if params is not None and (w.shape, w.dtype) != (params[i].shape, params[i].dtype):
                raise ValueError(f"EarlyStopping state weights.{i} has shape {w.shape} and dtype {w.dtype}; "
                                 f"the network's has {params[i].shape} and {params[i].dtype}")

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`get_state` (checked first: nothing changes if it is invalid)."""
        self.check_state(state, None)
        count = sum(1 for key in state if key.startswith("weights."))
        self._best, self._wait = float(state["best"]), state["wait"]
        self.best_epoch, self.stopped_epoch = state["best_epoch"], state["stopped_epoch"]
        self._weights = [np.array(state[f"weights.{i}"]) for i in range(count)] or None


def _as_data(X: Any, y: Any, net: Sequential, what: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "" if what == "training" else "validation "
    X = _real_array(f"{prefix}X", X)
    y = _real_array(f"{prefix}y", y)
    if X.ndim != 2:
        raise ShapeError(f"{prefix}X must be 2-D (samples x features); got shape {X.shape}")
    if X.shape[0] == 0:
        raise InputError(f"{prefix}X is empty (shape {X.shape})")
    if y.ndim not in (1, 2):
        raise ShapeError(f"{prefix}y must be 1-D (class labels or targets) or 2-D (N x outputs); "
                         f"got shape {y.shape}")
    if y.shape[0] != X.shape[0]:
        raise ShapeError(f"{prefix}y must have one row per sample of X ({X.shape[0]}); got shape {y.shape}")
    if X.shape[1] != net.input_dim:
        raise ShapeError(f"{prefix}X has {X.shape[1]} features but the network's input_dim is {net.input_dim}")
    _check_finite(f"{prefix}X", X, net.dtype)
    _check_finite(f"{prefix}y", y)
    return X, y


def _is_classification(y: np.ndarray, net: Sequential) -> bool:
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer) and (
        net.output_dim > 1 or net.layers[-1].activation.link == "sigmoid")


def _accuracy(out: np.ndarray, labels: np.ndarray) -> float:
    pred = (out[:, 0] > 0.5) if out.shape[1] == 1 else np.argmax(out, axis=1)
    return float(np.mean(pred == labels))


def _logged_metrics(classify: bool, validation: bool) -> frozenset[str]:
    """The names of the metrics :func:`fit` logs after each epoch."""
    names = {"loss", "lr"}
    if classify:
        names.add("accuracy")
    if validation:
        names.add("val_loss")
        if classify:
            names.add("val_accuracy")
    return frozenset(names)


def _check_monitored(who: str, name: str, metrics: frozenset[str]) -> None:
    """ConfigError naming ``who`` when the metric ``name`` is not among ``metrics``."""
    if name not in metrics:
        hints = []
        if name.startswith("val_") and "val_loss" not in metrics:
            hints.append("validation metrics are logged only with validation_data=(X_val, y_val)")
        if "acc" in name and "accuracy" not in metrics:
            hints.append("accuracies are logged only for classification (integer class labels)")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ConfigError(f"{who}: the metric {name!r} is never logged by this fit; the logged metrics are "
                          f"{sorted(metrics)}{hint}")


def _check_callbacks(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list of Callback instances, or an InputError saying what was given."""
    if isinstance(callbacks, Callback):
        raise InputError(f"callbacks must be a list of neuroplug.Callback instances, got the single callback "
                         f"{callbacks!r}; write callbacks=[{type(callbacks).__name__}(...)]")
    if isinstance(callbacks, (str, bytes, dict)) or not isinstance(callbacks, Iterable):
        raise InputError(f"callbacks must be a list of neuroplug.Callback instances, got {callbacks!r} "
                         f"of type {type(callbacks).__name__}")
    try:
        callbacks = list(callbacks)
    except Exception:  # an iterable that cannot be iterated (a 0-d array, a generator that raises)
        raise InputError(f"callbacks must be a list of neuroplug.Callback instances, got {callbacks!r:.60} "
                         f"of type {type(callbacks).__name__}") from None
    for i, cb in enumerate(callbacks):
        if isinstance(cb, type) and issubclass(cb, Callback):
            raise InputError(f"callbacks[{i}] is the class {cb.__name__}, not an instance; "
                             f"write {cb.__name__}(...)")
        if not isinstance(cb, Callback):
            raise InputError(f"callbacks[{i}] must be a neuroplug.Callback instance, got {cb!r} "
                             f"of type {type(cb).__name__}")
    return callbacks


def _check_metrics_used(metrics: frozenset[str], sched: Any, callbacks: list[Callback], policy: Any) -> None:
    """Before training: every metric the schedule, the callbacks and ``keep_best`` read will be logged.

    The schedule's :meth:`observe` is tried on a copy with one epoch of such metrics
    (a stateful schedule such as ``reduce_on_plateau`` raises for a missing one).
    """
    from .base import Schedule

    if type(sched).observe is not Schedule.observe:
        try:
            probe = copy.deepcopy(sched)
        except Exception:  # a schedule that cannot be copied is only checked during training
            probe = None
        if probe is not None:
            with np.errstate(all="ignore"), _components_named(lambda: "before training"):
                try:
                    probe.observe(0, {name: 1.0 for name in sorted(metrics)})
                except ConfigError as exc:
                    raise ConfigError(f"{_component_label(sched)}: {exc} (checked before training: "
                                      f"the logged metrics are {sorted(metrics)}; validation metrics need "
                                      f"validation_data)") from None
    seen = set(metrics)
    for cb in callbacks:
        with _components_named(lambda: "before training"):
            cb.check(frozenset(seen))
        seen.update(getattr(cb, "adds_metrics", ()) or ())
    if policy is not None and policy.keep_best is not None:
        _check_monitored(f"Checkpointing keep_best={policy.keep_best!r}", policy.keep_best, frozenset(seen))


def _failing_component(exc: BaseException) -> str | None:
    """Name the innermost component (and its plugin) in ``exc``'s traceback, if any."""
    from .base import Component

    found = None
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, Component):
            found = candidate
        tb = tb.tb_next
    return None if found is None else _component_label(found)


_UNSET = object()
#: The most learning rates tabulated before training (beyond, they are computed per step).
_MAX_LR_TABLE = 1_000_000


def _data_fingerprint(*arrays: np.ndarray | None) -> str:
    """A short hash of the arrays' dtypes, shapes and bytes (to refuse resuming on other data)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.view(np.uint8).reshape(-1) if a.size else b"")
    return h.hexdigest()


def _describe_or_class(component: Any) -> dict[str, Any] | None:
    """``describe(component)``, or its class name for components that cannot be saved by name."""
    from .registry import describe

    if not getattr(component, "serializable", True):
        return None
    try:
        return describe(component)
    except ConfigError:
        cls = type(component)
        return {"kind": component.kind, "class": f"{cls.__module__}.{cls.__qualname__}"}


#: The most epochs ``fit`` accepts (what a checkpoint can record).
_MAX_EPOCHS = 1 << 62
#: ``fit``'s default ``max_growth``: the factor by which the weights' RMS may grow in one epoch.
DEFAULT_MAX_GROWTH = 1e4


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


def _shared_base(arrays: list[np.ndarray]) -> np.ndarray | None:
    """The one buffer that holds exactly ``arrays`` back to back, if there is one."""
    base = arrays[0].base if arrays else None
    if base is None or not all(a.base is base for a in arrays) or base.ndim != 1 \
            or base.size != sum(a.size for a in arrays):
        return None
    return base


@contextlib.contextmanager
def _components_named(when: Any, after: Any = lambda: "") -> Any:
    """Turn an exception a component raises into a ComponentError naming it and its plugin.

    ``when()`` says when (``"before training"``), ``after()`` what was done about it.
    Errors neuroplug raises on purpose, and exceptions not raised in a component's
    code, pass unchanged.
    """
    try:
        yield
    except NeuroplugError:
        raise
    except Exception as exc:
        who = _failing_component(exc)
        if who is None:
            raise
        raise ComponentError(f"{who} raised {when()}: {type(exc).__name__}: {exc}{after()}") from exc


def fit(network: Sequential, X: Any, y: Any, *, loss: Any = "mse", optimizer: Any = "sgd",
        lr: float = 0.01, schedule: Any = "constant", epochs: int = 10, batch_size: int = 32,
        shuffle: bool = True, seed: Any = None, validation_data: tuple[Any, Any] | None = None,
        callbacks: Iterable[Callback] = (), progress: bool = False, checkpoint: Any = None,
        resume: Any = False, max_growth: float | None = DEFAULT_MAX_GROWTH) -> History:
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
    checkpoint : str, path or Checkpointing, optional
        Where to write checkpoints (the whole training state, atomically): a path
        means ``Checkpointing(path)``, i.e. after every epoch; see
        :class:`~neuroplug.checkpoint.Checkpointing` for every N steps and for
        keeping the best epoch. Ctrl-C then writes one too before stopping.
    resume : bool, str, path or Checkpoint
        ``True``: continue from the ``checkpoint`` file if it exists (start afresh
        otherwise); a path or a :class:`~neuroplug.checkpoint.Checkpoint`: continue
        from that. The other arguments must be those of the run that wrote it
        (``epochs`` may be larger); the result is bit-identical to a run that was
        never interrupted.
    max_growth : float or None
        Stop a run that is finite but blowing up: when, at the end of an epoch, the
        root mean square of all the weights exceeds ``max_growth`` times the larger
        of 1 and their RMS at the start of the epoch, training stops like a
        divergence (the step where the RMS crossed that limit is found and named, with
        the layer whose weights grew most). Default ``1e4`` (``DEFAULT_MAX_GROWTH``):
        weights that start at RMS <= 1 may reach RMS 10,000 within one epoch;
        ordinary training grows them by a small factor. ``None`` turns the check
        off (e.g. for unscaled regression targets of order 1e4 and more). The check
        costs one pass over the weights per epoch, nothing per step.

    Returns
    -------
    History
        Loss, learning rate and metrics per epoch (those before the resume point included).

    Raises
    ------
    InputError, ShapeError, ConfigError
        For invalid data or arguments, before any weight changes: the callbacks, and
        every metric that the schedule, the callbacks and ``keep_best`` monitor, are
        checked first too.
    FileWriteError
        When a checkpoint path cannot be written (no such folder, a directory, no
        permission), before any weight changes.
    DivergenceError
        When the loss, a gradient or a weight becomes non-finite; the weights and
        the optimizer state are restored to the last finite state (after the last
        good step) and the error names the step, the epoch, the learning rate and
        the layer or component that first produced the non-finite value. Also when
        the weights blow up while staying finite (``max_growth``): restored to
        their values before the step that took them over the limit.
    ComponentError
        When a component raises; it names the component and its plugin. The weights
        are restored to the start of the epoch.
    TrainingInterrupted
        On Ctrl-C (SIGINT, main thread): training stops after the current step,
        writes a checkpoint (with ``checkpoint=``) and raises this
        ``KeyboardInterrupt`` carrying the checkpoint.
    ModelFileError
        When the checkpoint to resume from is unreadable.
    """
    from .checkpoint import Checkpoint, Checkpointing, load_checkpoint

    if not isinstance(network, Sequential):
        raise InputError(f"network must be a neuroplug.Sequential, got {type(network).__name__}")
    X, y = _as_data(X, y, network, "training")
    n = X.shape[0]
    check_number("lr", lr, low=0, low_inclusive=False, error=InputError)
    check_number("epochs", epochs, low=1, high=_MAX_EPOCHS, integer=True, error=InputError)
    check_number("batch_size", batch_size, low=1, high=n, integer=True, error=InputError)
    check_bool("shuffle", shuffle, error=InputError)
    check_bool("progress", progress, error=InputError)
    policy = checkpoint
    if policy is not None and not isinstance(policy, Checkpointing):
        if not isinstance(policy, (str, os.PathLike)):
            raise InputError(f"checkpoint must be a path or a neuroplug.Checkpointing, got {policy!r}")
        try:
            policy = Checkpointing(policy)
        except InputError:
            raise InputError(f"checkpoint must be a file path (not empty, no NUL byte) or a "
                             f"neuroplug.Checkpointing, got {checkpoint!r}") from None
    callbacks = _check_callbacks(callbacks)
    if max_growth is not None:
        check_number("max_growth", max_growth, low=1, low_inclusive=False, error=InputError)
        max_growth = float(max_growth)
        if math.isnan(max_growth):
            raise InputError(f"max_growth must be a number > 1 or None, got {max_growth!r}")
    source = None
    if resume is True:
        if policy is None:
            raise InputError("resume=True continues from the checkpoint= file: give checkpoint= too "
                             "(or pass the checkpoint to resume from as resume=PATH)")
        if os.path.exists(policy.path):
            source = load_checkpoint(policy.path)
    elif isinstance(resume, Checkpoint):
        source = resume
    elif isinstance(resume, (str, os.PathLike)):
        source = load_checkpoint(resume)
    elif resume is not False and resume is not None:
        raise InputError(f"resume must be True, False, a path or a neuroplug.Checkpoint, got {resume!r}")
    if not (seed is None or isinstance(seed, (np.random.Generator, np.random.SeedSequence))
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise InputError(f"seed must be None, an integer >= 0 or a numpy Generator, got {seed!r}")
    loss_fn = create("loss", loss)
    opt = create("optimizer", optimizer)
    sched = create("schedule", schedule)
    val = None
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            got = (f"a {type(validation_data).__name__} of {len(validation_data)} items"
                   if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__)
            raise InputError(f"validation_data must be a pair (X_val, y_val); got {got}")
        val = _as_data(validation_data[0], validation_data[1], network, "validation")
    _check_metrics_used(_logged_metrics(_is_classification(y, network), val is not None), sched, callbacks, policy)
    if policy is not None:  # every file fit will write can be written: checked now, not after an epoch
        check_writable(policy.path, "the checkpoint")
        if policy.keep_best is not None:
            check_writable(policy.best_path, "the best epoch's checkpoint")
    with _components_named(lambda: "before training"):
        run = _Run(network, X, y, loss_fn, opt, sched, float(lr), int(epochs), int(batch_size), shuffle, seed,
                   val, callbacks, progress, policy, max_growth)
    if source is not None:
        run.restore(source)
    elif policy is not None:
        run.capture()._to_archive()  # a state that cannot be stored fails now, not after an epoch
    return run.train()


class _Run:
    """One call of :func:`fit`: every component and buffer resolved once, and the counters.

    The batches of an epoch run in :meth:`_steps`, whose loop holds only local
    names. The state between two steps -- weights, optimizer and schedule state,
    RNG, the epoch's sample order, counters, history, callback states -- is what
    a :class:`~neuroplug.checkpoint.Checkpoint` captures, so a run can be stopped
    after any step and continued bit-identically.
    """

    def __init__(self, network: Sequential, X: np.ndarray, y: np.ndarray, loss_fn: Any, opt: Any, sched: Any,
                 lr: float, epochs: int, batch_size: int, shuffle: bool, seed: Any,
                 val: tuple[np.ndarray, np.ndarray] | None, callbacks: list[Callback], progress: bool,
                 policy: Any, max_growth: float | None = None) -> None:
        self.network, self.loss_fn, self.opt, self.sched = network, loss_fn, opt, sched
        self.base_lr, self.epochs, self.batch_size, self.shuffle = lr, epochs, batch_size, shuffle
        self.callbacks, self.progress, self.policy = callbacks, progress, policy
        self.max_growth = max_growth
        self.growth_limit: float | None = None
        dtype = network.dtype
        self.n = n = X.shape[0]
        self.classify = _is_classification(y, network)
        self.labels = y
        Y = loss_fn.prepare_targets(y, network.output_dim, dtype)
        # the loss must reduce a batch to one number (one with reduction="none" cannot drive fit):
        # asked once, on uniform outputs for the first sample
        k = network.output_dim
        with np.errstate(all="ignore"):
            probe = loss_fn.forward(np.full((1, k), 1.0 / k if k > 1 else 0.5, dtype=dtype),
                                    np.take(Y, [0], axis=0))
        if np.ndim(probe) != 0 and getattr(loss_fn, "reduction", None) == "none":
            raise ConfigError(f"fit needs a loss that reduces a batch to one number; the "
                              f"{_component_label(loss_fn)} returns an array of shape {np.shape(probe)} "
                              f"(a reduction='none' configuration?)")
        _check_loss_value(loss_fn, probe)
        Xt = np.ascontiguousarray(X, dtype=dtype)
        self.val = None
        if val is not None:
            Xv, yv = val
            try:
                Yv = loss_fn.prepare_targets(yv, network.output_dim, dtype)
            except (InputError, ShapeError) as exc:
                raise type(exc)(f"validation {exc}") from None
            self.val = (np.ascontiguousarray(Xv, dtype=dtype), yv, Yv)
        last = network.layers[-1].activation
        self.fused = last.link is not None and getattr(loss_fn, "link", None) == last.link
        # every component's output is checked once, on the first samples, before any weight changes
        check_component_outputs(network, loss_fn, Xt, Y, self.fused)
        self.params = network.parameters()
        self.grads = network.gradients()
        self.grad_flat = _shared_base(self.grads)
        self.batch_unit = getattr(sched, "unit", "epoch") == "batch"
        self.steps_per_epoch = -(-n // batch_size)
        # A stateless schedule is tabulated now: a rate that is NaN or negative is then an
        # error before any weight or optimizer state changes, and a step reads its rate from a list.
        self.lr_table: list[float] | None = None
        count = epochs * self.steps_per_epoch if self.batch_unit else epochs
        if not getattr(sched, "stateful", False) and count <= _MAX_LR_TABLE:
            self.lr_table = [_lr(sched, t, lr, t if not self.batch_unit else t // self.steps_per_epoch,
                                 t if self.batch_unit else t * self.steps_per_epoch) for t in range(count)]
        opt.setup(self.params)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(n)
        # Everything the step needs is resolved here, once: per batch size (full batches
        # and the possibly smaller last one) a training plan, whose input buffer receives
        # the batch, and a target buffer; the bound methods of the components.
        sizes = {batch_size, n - (self.steps_per_epoch - 1) * batch_size}
        self.plans = {s: network._train_plan(s) for s in sizes}
        self.ybuf = {s: np.empty((s,) + Y.shape[1:], dtype=Y.dtype) for s in sizes}
        self.Xt, self.Y = Xt, Y
        # the methods themselves, without np.take's Python wrapper
        self.x_take = Xt.take
        self.y_take = Y.take if isinstance(Y, np.ndarray) else functools.partial(np.take, Y)
        # predicted classes of the epoch, compared with the labels once per epoch
        self.pred = np.empty(n, dtype=np.intp) if self.classify else None
        # counters: the epoch in progress, the batches of it done, the optimizer steps done
        self.epoch = self.batch = self.step = 0
        self.shuffled = False
        self.total = 0.0
        self.lr_now = lr
        self.finished = False
        self.history = History()
        self.state = TrainingState(network=network, history=self.history, epochs=epochs)
        self.flag = [False]
        self.every = policy.every if policy is not None and isinstance(policy.every, int) else 0
        self.fit_config: dict[str, Any] | None = None
        self.network_config: Any = _UNSET
        self.restored: Any = None
        self.best: float | None = None
        self.bar: Any = None

    # ------------------------------------------------------------------ configuration
    def config(self) -> dict[str, Any]:
        """What a checkpoint records of the arguments, to refuse resuming a different run."""
        if self.fit_config is None:
            seed = self.seed
            self.fit_config = {
                "loss": _describe_or_class(self.loss_fn),
                "optimizer": _describe_or_class(self.opt),
                "schedule": _describe_or_class(self.sched),
                "lr": self.base_lr, "epochs": self.epochs, "batch_size": self.batch_size,
                "shuffle": self.shuffle,
                "seed": int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None,
                "samples": self.n,
                "data": _data_fingerprint(self.Xt, self.labels),
                "validation": None if self.val is None else _data_fingerprint(self.val[0], self.val[1]),
                "callbacks": [type(cb).__name__ for cb in self.callbacks],
            }
        return self.fit_config

    # ------------------------------------------------------------------ checkpoints
    def capture(self) -> Any:
        """The training state now (between two steps) as a Checkpoint."""
        from .checkpoint import Checkpoint

        if self.network_config is _UNSET:  # the architecture does not change: described once
            try:
                self.network_config = self.network.get_config()
            except ConfigError:
                self.network_config = None
        return Checkpoint(
            network_config=copy.deepcopy(self.network_config), weights=self.network.get_weights(),
            fit_config=dict(self.config()), epoch=self.epoch, batch=self.batch, step=self.step,
            shuffled=self.shuffled, lr=self.lr_now, epoch_loss=self.total, stopped=self.state.stop,
            rng_state=copy.deepcopy(self.rng.bit_generator.state), order=self.order.copy(),
            pred=self._done_predictions() if self.pred is not None and self.batch else None,
            optimizer_state=copy.deepcopy(self.opt.get_state()), schedule_state=copy.deepcopy(self.sched.get_state()),
            callback_states=[{"type": type(cb).__name__, "state": copy.deepcopy(cb.get_state())}
                             for cb in self.callbacks],
            history={k: list(v) for k, v in self.history.history.items()}, history_epochs=list(self.history.epoch),
            best=self.best)

    def _done_predictions(self) -> np.ndarray:
        """The epoch's predicted classes so far; 0 for the batches not done (not uninitialized memory)."""
        pred = self.pred.copy()
        pred[self.batch * self.batch_size:] = 0
        return pred

    def _write(self, path: str) -> None:
        self.capture().save(path)

    def _checkpoint_now(self) -> str | None:
        """Write the periodic checkpoint; or (nothing written) ``"weights"`` when a weight is
        non-finite, ``"growth"`` when the weights are past ``max_growth``'s limit."""
        if not _all_finite(self.params):
            return "weights"
        if self.growth_limit is not None and _rms(self.params) > self.growth_limit:
            return "growth"
        self._write(self.policy.path)
        return None

    def restore(self, ckpt: Any) -> None:
        """Continue from ``ckpt``: the whole checkpoint is checked first (nothing changes when
        it does not fit), then the state is applied; the callbacks' states in :meth:`train`."""
        from .checkpoint import prepare_resume, resume_error

        self.callback_states = prepare_resume(ckpt, self)
        self._before_resume = (self.network.get_weights(), copy.deepcopy(self.opt.get_state()),
                               copy.deepcopy(self.sched.get_state()), copy.deepcopy(self.rng.bit_generator.state))
        try:  # tried on copies already; a component that cannot be copied is tried here
            self.opt.set_state(copy.deepcopy(ckpt.optimizer_state))
            self.sched.set_state(copy.deepcopy(ckpt.schedule_state))
            self.rng.bit_generator.state = copy.deepcopy(ckpt.rng_state)
        except Exception as exc:
            self._roll_back()
            raise resume_error(ckpt, f"the optimizer or schedule state does not fit the components given to "
                                     f"fit: {type(exc).__name__}: {exc}") from None
        self.network.set_weights(ckpt.weights)
        self.order[...] = ckpt.order
        if ckpt.pred is not None and self.pred is not None:
            self.pred[...] = ckpt.pred
        self.epoch, self.batch, self.step, self.shuffled = ckpt.epoch, ckpt.batch, ckpt.step, ckpt.shuffled
        self.lr_now, self.total, self.best = ckpt.lr, ckpt.epoch_loss, ckpt.best
        self.state.stop = ckpt.stopped
        self.finished = ckpt.stopped or self.epoch >= self.epochs
        for epoch_index in ckpt.history_epochs:
            self.history.epoch.append(epoch_index)
        for key, values in ckpt.history.items():
            self.history.history[key] = list(values)
        self.restored = ckpt

    def _roll_back(self) -> None:
        """Undo :meth:`restore`: the state before it, for a resume that failed half-way."""
        weights, opt_state, sched_state, rng_state = self._before_resume
        self.network.set_weights(weights)
        self.opt.set_state(opt_state)
        self.sched.set_state(sched_state)
        self.rng.bit_generator.state = rng_state

    def _restore_callbacks(self) -> None:
        """Give each callback its saved state; if one refuses, put every callback and :meth:`restore` back."""
        from .checkpoint import resume_error

        done: list[tuple[Callback, Any]] = []
        for i, (cb, saved) in enumerate(zip(self.callbacks, self.callback_states)):
            if saved is None:
                continue
            before = cb.get_state()
            try:
                cb.set_state(copy.deepcopy(saved))
            except Exception as exc:
                for other, state in reversed(done + [(cb, before)]):
                    try:
                        other.set_state(state)
                    except Exception:  # noqa: BLE001 - its own state, as good as it gets
                        pass
                self._roll_back()
                raise resume_error(self.restored, f"the state of callbacks[{i}] ({type(cb).__name__}) does not "
                                                  f"fit: {type(exc).__name__}: {exc}") from None
            done.append((cb, before))

    # ------------------------------------------------------------------ base state (for recovery)
    def _mark_base(self) -> None:
        self._base = (self.network.get_weights(), copy.deepcopy(self.opt.get_state()),
                      self.batch, self.step, self.total, self.lr_now)
        # the RMS of the weights the epoch may not exceed (max_growth): checked at its end
        self.growth_limit = (None if self.max_growth is None
                             else self.max_growth * max(_rms(self._base[0]), 1.0))

    def _restore_base(self) -> None:
        weights, opt_state, self.batch, self.step, self.total, self.lr_now = self._base
        self.network.set_weights(weights)
        self.opt.set_state(copy.deepcopy(opt_state))

    def _base_label(self) -> str:
        base_batch = self._base[2]
        return (f"the start of epoch {self.epoch}" if base_batch == 0
                else f"the resume point (epoch {self.epoch}, batch {base_batch})")

    # ------------------------------------------------------------------ the loop
    def train(self) -> History:
        """Run the epochs; see :func:`fit`."""
        callbacks, state = self.callbacks, self.state
        for cb in callbacks:
            cb.on_train_begin(state)
        if self.restored is not None:  # each callback gets the state of the first saved one of its class
            self._restore_callbacks()
        if self.progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.epochs * self.steps_per_epoch, initial=min(self.step, self.epochs *
                            self.steps_per_epoch), unit="batch", dynamic_ncols=True, leave=True)
        self.restored_to = ""
        try:
            # numpy's overflow warnings are not the report: every non-finite value is
            # detected and raised as a DivergenceError naming where it came from
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), _CatchSigint(self.flag), \
                    _components_named(lambda: f"during training (epoch {self.epoch}, step {self.step})",
                                      lambda: self.restored_to):
                while not self.finished and self.epoch < self.epochs:
                    if not self.shuffled:
                        self._begin_epoch()
                    self._mark_base()
                    self._run_batches()
                    self._end_epoch()
                    if self.flag[0] and not self.finished:
                        self._interrupt()
        finally:
            if self.bar is not None:
                self.bar.close()
        if self.policy is not None and self.policy.every is not None:
            self._write(self.policy.path)
        for cb in callbacks:
            cb.on_train_end(state)
        return self.history

    def _begin_epoch(self) -> None:
        self.state.epoch = self.epoch
        for cb in self.callbacks:
            cb.on_epoch_begin(self.state)
        if self.shuffle:
            self.rng.shuffle(self.order)
        self.shuffled = True
        self.total = 0.0
        if not self.batch_unit:
            self.lr_now = (self.lr_table[self.epoch] if self.lr_table is not None
                           else _lr(self.sched, self.epoch, self.base_lr, self.epoch, self.step))

    def _run_batches(self) -> None:
        flag = self.flag
        try:
            reason = self._steps()
        except KeyboardInterrupt:
            if flag[0]:  # a second Ctrl-C: stop at once; the last checkpoint on disk is intact
                raise
            # a KeyboardInterrupt not announced by our handler (another SIGINT handler):
            # the step it cut short is redone from the epoch's start, then it is a clean stop
            stop = self.batch
            self._restore_base()
            self._steps(stop=stop, replay=True)
            self._interrupt()
        except Exception:
            step = self.step
            self._restore_base()
            self.step = step  # the message names the step that failed
            self.restored_to = f"; the weights were restored to {self._base_label()}"
            raise
        if reason == "interrupt":
            self._interrupt()
        elif reason is not None:
            self._diverged(reason)

    def _steps(self, stop: int | None = None, replay: bool = False) -> str | None:
        """Run the batches ``self.batch .. stop - 1`` of the epoch (default: to its end).

        Returns None, or why it stopped early: ``"loss"`` or ``"gradient"`` (non-finite,
        at batch ``self.batch``, which was not applied), ``"weights"`` (the update of
        batch ``self.batch`` made a weight non-finite: only checked when ``replay``)
        or ``"interrupt"`` (Ctrl-C). The counters always describe the completed batches.
        """
        n, bs, epoch, base_lr = self.n, self.batch_size, self.epoch, self.base_lr
        order, plans, ybuf, x_take, y_take = self.order, self.plans, self.ybuf, self.x_take, self.y_take
        loss_forward, opt_step = self.loss_fn.forward, self.opt.step
        fused_gradient, loss_gradient = ((self.loss_fn.fused_gradient, None) if self.fused
                                         else (None, self.loss_fn.gradient))
        params, grads, gflat = self.params, self.grads, self.grad_flat
        sched, batch_unit, table = self.sched, self.batch_unit, self.lr_table
        pred, single_output = self.pred, self.network.output_dim == 1
        every = 0 if replay else self.every
        growth_limit = self.growth_limit if replay else None
        flag = self.flag
        bar = None if replay else self.bar
        greater, dot, isfinite = np.greater, np.dot, math.isfinite
        step, total, lr_now, b = self.step, self.total, self.lr_now, self.batch
        last = self.steps_per_epoch if stop is None else stop
        reason = None
        try:
            while b < last:
                start = b * bs
                idx = order[start:start + bs]
                m = idx.shape[0]
                plan, yb = plans[m], ybuf[m]
                x_take(idx, 0, plan.x, "clip")
                y_take(idx, 0, yb, "clip")
                if batch_unit:
                    lr_now = table[step] if table is not None else _lr(sched, step, base_lr, epoch, step)
                out = plan.forward()
                batch_loss = float(loss_forward(out, yb))
                if not isfinite(batch_loss):
                    reason = "loss"
                    break
                if pred is not None:
                    if single_output:
                        greater(out[:, 0], 0.5, out=pred[start:start + m])
                    else:
                        out.argmax(1, pred[start:start + m])
                if fused_gradient is not None:
                    plan.backward(fused_gradient(out, yb))
                else:  # the chain rule through the output activation
                    plan.backward(plan.last_backward(plan.z_last, out, loss_gradient(out, yb)))
                # g.g is finite exactly when every gradient is, unless it overflows: then look closer
                if gflat is None or not isfinite(dot(gflat, gflat)):
                    if not _all_finite(grads):
                        reason = "gradient"
                        break
                opt_step(params, grads, lr_now)
                if replay:  # re-playing to find a culprit: each update is checked
                    if not _all_finite(params):
                        reason = "weights"
                        break
                    if growth_limit is not None and _rms(params) > growth_limit:
                        reason = "growth"
                        break
                total += batch_loss * m
                step += 1
                b += 1
                if bar is not None:
                    bar.update(1)
                if every and not step % every:
                    self.batch, self.step, self.total, self.lr_now = b, step, total, lr_now
                    reason = self._checkpoint_now()
                    if reason is not None:
                        break
                if flag[0]:
                    reason = "interrupt"
                    break
        except NonFiniteError as exc:  # a component that checks its own overflow (the built-in losses)
            reason, self.raised = "raised", exc
        finally:
            self.batch, self.step, self.total, self.lr_now = b, step, total, lr_now
        return reason

    def _end_epoch(self) -> None:
        network, state = self.network, self.state
        if not _all_finite(self.params):
            self._diverged("weights")
        if self.growth_limit is not None and _rms(self.params) > self.growth_limit:
            self._diverged("growth")
        n = self.n
        logs = {"loss": self.total / n, "lr": self.lr_now}
        if self.classify:
            logs["accuracy"] = int(np.count_nonzero(self.pred == self.labels[self.order])) / n
        if self.val is not None:
            out = network.predict(self.val[0])
            logs["val_loss"] = float(self.loss_fn.forward(out, self.val[2]))
            if self.classify:
                logs["val_accuracy"] = _accuracy(out, self.val[1])
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
        state.epoch = self.epoch
        self.history._append(self.epoch, logs)
        state.logs = logs
        self.sched.observe(self.epoch, logs)
        for cb in self.callbacks:
            cb.on_epoch_end(state)
        self.epoch += 1
        self.batch = 0
        self.shuffled = False
        self.total = 0.0
        self.finished = state.stop or self.epoch >= self.epochs
        policy = self.policy
        if policy is None:
            return
        if policy.keep_best is not None:
            if policy.keep_best not in logs:
                raise ConfigError(f"Checkpointing keep_best={policy.keep_best!r} is not among the logged "
                                  f"metrics {sorted(logs)} (validation metrics need validation_data)")
            value = logs[policy.keep_best] * policy.sign()
            if math.isfinite(value) and (self.best is None or value < self.best):
                self.best = value
                self._write(policy.best_path)
        if policy.every == "epoch" and not self.finished:
            self._write(policy.path)

    # ------------------------------------------------------------------ stopping
    def _interrupt(self) -> None:
        """Ctrl-C: write the checkpoint (if a path was given) and raise TrainingInterrupted."""
        from .errors import TrainingInterrupted

        ckpt = self.capture()
        path = None
        where = f"epoch {self.epoch}, batch {self.batch} (step {self.step})"
        if self.policy is not None and _all_finite(self.params):
            path = os.fspath(self.policy.path)
            ckpt.save(path)
            message = f"training interrupted at {where}; checkpoint saved to {path!r}"
        else:
            message = (f"training interrupted at {where}; the state is in this exception's "
                       f"`checkpoint` (fit(checkpoint=PATH) writes it to disk)")
        raise TrainingInterrupted(message, checkpoint=ckpt, path=path)

    def _diverged(self, reason: str) -> None:
        """Put the last finite state back, find what produced the non-finite value, raise."""
        if reason == "growth":
            self._blew_up()
        failing = self.batch
        if reason in ("weights", "raised") or not _all_finite(self.params):
            # a finite step made a weight non-finite (an overflowing update) earlier on:
            # redo the epoch from its start, checking the weights after every update
            reached = self.batch
            self._restore_base()
            why = self._steps(stop=reached, replay=True)
            if why == "weights":
                failing = self.batch
                self._restore_base()
                self._steps(stop=failing, replay=True)
                reason = "update"
            elif why is not None:
                failing, reason = self.batch, why
        lr_now = self._rate_at(failing)
        where = _diagnose(self, failing, lr_now)
        step = self.step
        raise DivergenceError(
            f"training diverged at step {step} (epoch {self.epoch}, batch {failing}) with lr={lr_now:g}: "
            f"{where}. The weights and the optimizer state were restored to their last finite values "
            f"({'before the first step' if step == 0 else f'after step {step - 1}'}). Lower lr, or check "
            f"the data and the components.",
            epoch=self.epoch, step=step, batch=failing, lr=lr_now, where=where)

    def _blew_up(self) -> None:
        """The weights grew past ``max_growth``'s limit: find the step that took them over, restore, raise."""
        limit, reached = self.growth_limit, self.batch
        layers = [[i for i, _ in enumerate(self._base[0]) if i // 2 == k] for k in range(len(self.network.layers))]
        start = [_rms([self._base[0][i] for i in idx]) for idx in layers]
        self._restore_base()
        self._steps(stop=reached, replay=True)  # stops after the update that crossed the limit
        failing = self.batch
        grown = [_rms([self.params[i] for i in idx]) for idx in layers]  # just after that update
        self._restore_base()
        self._steps(stop=failing, replay=True)  # the state before it
        _, worst = max((g / max(s0, 1.0), k) for k, (s0, g) in enumerate(zip(start, grown)))
        lr_now = self._rate_at(failing)
        where = (f"the weights of layers[{worst}] grew from RMS {start[worst]:.3g} at the start of the epoch to "
                 f"{grown[worst]:.3g}, taking the weights' RMS past {limit:.3g} (max_growth={self.max_growth:g} "
                 f"times the larger of 1 and their RMS at the start of the epoch)")
        step = self.step
        raise DivergenceError(
            f"training blew up at step {step} (epoch {self.epoch}, batch {failing}) with lr={lr_now:g}: {where}. "
            f"The weights and the optimizer state were restored to their values before that step "
            f"({'before the first step' if step == 0 else f'after step {step - 1}'}). Lower lr, or check the "
            f"data and the components; max_growth=None (neuroplug train --max-growth off) turns this check off.",
            epoch=self.epoch, step=step, batch=failing, lr=lr_now, where=where)

    def _rate_at(self, batch: int) -> float:
        if not self.batch_unit:
            return self.lr_now
        step = self.step
        return self.lr_table[step] if self.lr_table is not None else _lr(
            self.sched, step, self.base_lr, self.epoch, step)


def _component_label(component: Any) -> str:
    """``kind 'dist:name' (plugin dist:entry)`` for a registered component, ``kind ClassName`` otherwise."""
    from .registry import component_label

    return component_label(component)


def _shown(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{text[:60] + '...' if len(text) > 60 else text} of type {type(value).__name__}"


def _check_returned(component: Any, what: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` if it is a real array of ``shape``; a ComponentError naming ``component`` otherwise."""
    if not (isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind in "fiu"):
        raise ComponentError(f"{_component_label(component)}: {what} returned {_shown(value)}; expected a "
                             f"real array of shape {shape} (checked on the first samples, before any "
                             f"weight changed)")
    return value


def _check_loss_value(loss_fn: Any, value: Any) -> None:
    """A loss's ``forward`` must give one real number."""
    if isinstance(value, (bool, np.bool_)) or not (
            isinstance(value, (int, float, np.integer, np.floating))
            or (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu")):
        raise ComponentError(f"{_component_label(loss_fn)}: forward returned {_shown(value)}; expected one "
                             f"real number (checked on the first samples, before any weight changed)")


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
    with np.errstate(all="ignore"), _components_named(lambda: "before training (on the first samples)"):
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


def _diagnose(run: _Run, batch: int, lr: float) -> str:
    """Redo batch ``batch`` layer by layer (weights unchanged) and name the first non-finite value."""
    try:
        _trace(run, batch)
    except _Culprit as found:
        return str(found)
    return (f"the update of the {_component_label(run.opt)} produced a non-finite weight from finite "
            f"gradients (lr={lr:g})")


def _trace(run: _Run, batch: int) -> None:
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


class _CatchSigint:
    """While active, Ctrl-C only sets ``flag[0]``: :func:`fit` stops after the current step.

    Installed only in the main thread and only over Python's default handler (a
    program's own SIGINT handler is left alone). After the first Ctrl-C the
    previous handler is back, so a second Ctrl-C interrupts at once.
    """

    def __init__(self, flag: list[bool]) -> None:
        self.flag = flag
        self.installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.flag[0] = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> "_CatchSigint":
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._handler)
            self.installed = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.installed and signal.getsignal(signal.SIGINT) == self._handler:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _lr(sched: Any, t: int, base_lr: float, epoch: int, step: int) -> float:
    value = sched(t, base_lr)
    if not (isinstance(value, (int, float, np.floating)) and math.isfinite(value) and value >= 0):
        raise ConfigError(
            f"schedule {sched!r} returned the learning rate {value!r} at epoch {epoch}, step {step}; "
            f"a learning rate must be a finite number >= 0")
    return float(value)
