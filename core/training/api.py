"""``fit``: every argument, callback and output path checked before any weight changes, then the loop."""

from __future__ import annotations

import copy
import math
import os
from typing import Any, Iterable

import numpy as np

from ..base import _check_finite, _real_array
from ..errors import ConfigError, InputError, ShapeError
from ..model.network import Sequential
from ..registry import component_label as _component_label
from ..registry import create
from ..validation import check_bool, check_number
from .boundary import components_named
from .callbacks import Callback, History, _check_monitored
from .loop import _MAX_EPOCHS, DEFAULT_MAX_GROWTH, _is_classification, _Run

__all__ = ["fit"]


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
    from ..base import Schedule

    if type(sched).observe is not Schedule.observe:
        try:
            probe = copy.deepcopy(sched)
        except Exception:  # a schedule that cannot be copied is only checked during training
            probe = None
        if probe is not None:
            with np.errstate(all="ignore"), components_named(lambda: "before training"):
                try:
                    probe.observe(0, {name: 1.0 for name in sorted(metrics)})
                except ConfigError as exc:
                    raise ConfigError(f"{_component_label(sched)}: {exc} (checked before training: "
                                      f"the logged metrics are {sorted(metrics)}; validation metrics need "
                                      f"validation_data)") from None
    seen = set(metrics)
    for cb in callbacks:
        with components_named(lambda: "before training"):
            cb.check(frozenset(seen))
        seen.update(getattr(cb, "adds_metrics", ()) or ())
    if policy is not None and policy.keep_best is not None:
        _check_monitored(f"Checkpointing keep_best={policy.keep_best!r}", policy.keep_best, frozenset(seen))


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
        :class:`~neuroplug.training.checkpoint.Checkpointing` for every N steps and for
        keeping the best epoch. Ctrl-C then writes one too before stopping.
    resume : bool, str, path or Checkpoint
        ``True``: continue from the ``checkpoint`` file if it exists (start afresh
        otherwise); a path or a :class:`~neuroplug.training.checkpoint.Checkpoint`: continue
        from that. The other arguments must be those of the run that wrote it
        (``epochs`` may be larger); the result is bit-identical to a run that was
        never interrupted.
    max_growth : float or None
        Stop a run that is finite but blowing up: when, at the end of an epoch, the
        root mean square of all the weights exceeds ``max_growth`` times the larger
        of 1 and their RMS at the start of the epoch, training stops like a
        divergence (the step where the RMS crossed that limit -- after the last
        checkpoint written in the epoch, if any -- is found and named, with the
        layer whose weights grew most). Default ``1e4`` (``DEFAULT_MAX_GROWTH``):
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
        from ..serialization import check_writable

        check_writable(policy.path, "the checkpoint")
        if policy.keep_best is not None:
            check_writable(policy.best_path, "the best epoch's checkpoint")
    # the optimizer is set up (its buffers reset) before a resume is checked: an instance the
    # caller passed gets its state back when the call fails before training starts
    try:
        saved = copy.deepcopy(getattr(opt, "__dict__", {}))
    except Exception:  # an optimizer holding something that cannot be copied (a lock, a file): not put back
        saved = None
    initial = network.get_weights() if saved is not None else None
    try:
        with components_named(lambda: "before training"):
            run = _Run(network, X, y, loss_fn, opt, sched, float(lr), int(epochs), int(batch_size), shuffle,
                       seed, val, callbacks, progress, policy, max_growth)
            if source is not None:
                run.restore(source)
            elif policy is not None:
                run.capture()._to_archive()  # a state that cannot be stored fails now, not after an epoch
    except BaseException:
        _put_back(opt, saved)
        raise
    if saved is None:
        return run.train()
    try:
        return run.train()
    except BaseException:
        # a call that failed with the weights back where it started (an error in its first
        # epoch, a divergence at its first step) leaves the caller's optimizer as it was too
        if all(np.array_equal(w, w0) for w, w0 in zip(network.parameters(), initial)):
            _put_back(opt, saved)
        raise


def _put_back(opt: Any, saved: dict[str, Any] | None) -> None:
    """Give an optimizer the attributes it had before ``fit`` (``saved``: a deep copy, or None)."""
    if saved is not None and hasattr(opt, "__dict__"):
        opt.__dict__.clear()
        opt.__dict__.update(saved)
