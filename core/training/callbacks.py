"""Training callbacks and the record of a run: :class:`History`, :class:`Callback`, :class:`EarlyStopping`.

A callback sees the run through a :class:`TrainingState` at the start and end of
training and of each epoch; its state goes into checkpoints through
``get_state``/``set_state`` (checked first with ``check_state`` when ``fit``
resumes). Depends on the contract and the model only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..model.network import Sequential
from ..validation import check_bool, check_choice, check_number

__all__ = ["History", "TrainingState", "Callback", "EarlyStopping"]


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
