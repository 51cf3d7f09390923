"""Checkpoints: the whole state of a :func:`~neuroplug.fit` run, written atomically.

A checkpoint holds everything needed to continue training exactly where it
stopped: the weights, the optimizer state (e.g. momentum buffers and step
count), the schedule state (e.g. reduce-on-plateau's counters), the random
generator of the shuffling, the order of the samples in the current epoch, the
epoch/batch/step counters, the history and the callbacks' state. Resuming from
it gives weights bit-identical to a run that was never interrupted.

The file is an ``.npz`` archive, written like a model file (temporary file,
fsync, rename: a kill at any moment leaves the previous checkpoint readable) and
read like one (no pickle; every member's header is validated before anything is
allocated; components are rebuilt by name). It holds a ``checkpoint`` member of
UTF-8 JSON and the arrays it refers to::

    >>> import numpy as np, neuroplug as npl, tempfile, os
    >>> X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
    >>> def net():
    ...     return npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(2, activation="softmax")],
    ...                           input_dim=3, seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt.npz")
    >>> args = dict(loss="cross_entropy", lr=0.1, batch_size=8, seed=0, checkpoint=path)
    >>> _ = npl.fit(net(), X, y, epochs=2, **args)      # writes a checkpoint after each epoch
    >>> npl.load_checkpoint(path)
    Checkpoint(epoch=2, batch=0, step=10, finished after 2 epochs)
    >>> resumed = net()
    >>> _ = npl.fit(resumed, X, y, epochs=4, resume=True, **args)   # two more epochs
    >>> straight = net()
    >>> _ = npl.fit(straight, X, y, epochs=4, **args)
    >>> all(np.array_equal(a, b) for a, b in zip(resumed.get_weights(), straight.get_weights()))
    True
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, InputError, ModelFileError, NeuroplugError
from ..validation import check_choice

__all__ = ["Checkpointing", "Checkpoint", "load_checkpoint", "FORMAT_VERSION"]

#: Version of the checkpoint layout written by :meth:`Checkpoint.save`.
FORMAT_VERSION = 1
_META = "checkpoint"
_MAX_SAMPLES = 1 << 40
_MAX_STATE_ARRAYS = 100_000


@dataclass(frozen=True)
class Checkpointing:
    """When and where :func:`~neuroplug.fit` writes checkpoints.

    Parameters
    ----------
    path : str or path
        The checkpoint file (``.npz``). Each write replaces it atomically.
    every : "epoch", int or None
        ``"epoch"``: after every epoch; an int ``k``: after every ``k`` optimizer
        steps; ``None``: only when interrupted (Ctrl-C). A final checkpoint is
        written when training ends (except with ``None``).
    keep_best : str, optional
        A logged metric (``"val_loss"``, ``"val_accuracy"``, ...): also keep the
        checkpoint of the best epoch so far in :attr:`best_path`.
    mode : {"auto", "min", "max"}
        Whether smaller or larger ``keep_best`` is better; ``"auto"`` means
        ``"max"`` for accuracies.
    """

    path: Any
    every: Any = "epoch"
    keep_best: str | None = None
    mode: str = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, os.PathLike)) or not os.fspath(self.path) \
                or "\0" in os.fsdecode(os.fspath(self.path)):
            raise InputError(f"Checkpointing path must be a file path (not empty, no NUL byte), got {self.path!r}")
        object.__setattr__(self, "path", os.fsdecode(os.fspath(self.path)))
        every = self.every
        if not (every is None or every == "epoch"
                or (isinstance(every, (int, np.integer)) and not isinstance(every, bool) and every >= 1)):
            raise InputError(f"Checkpointing every must be 'epoch', a number of steps >= 1 or None, got {every!r}")
        if isinstance(every, np.integer):
            object.__setattr__(self, "every", int(every))
        if self.keep_best is not None and (not isinstance(self.keep_best, str) or not self.keep_best):
            raise InputError(f"Checkpointing keep_best must be a metric name such as 'val_loss', "
                             f"got {self.keep_best!r}")
        check_choice("mode", self.mode, ("auto", "min", "max"), error=InputError)

    @property
    def best_path(self) -> str:
        """Where the best epoch's checkpoint goes (``run.ckpt.npz`` -> ``run.ckpt.best.npz``)."""
        root, ext = os.path.splitext(self.path)
        return f"{root}.best{ext}" if ext == ".npz" else f"{self.path}.best"

    def sign(self) -> float:
        """+1 when smaller ``keep_best`` is better, -1 when larger is."""
        larger = self.mode == "max" or (self.mode == "auto" and "acc" in (self.keep_best or ""))
        return -1.0 if larger else 1.0


@dataclass
class Checkpoint:
    """The state of a training run between two steps (see the module docstring).

    Obtain one with :func:`load_checkpoint`, or from
    :class:`~neuroplug.errors.TrainingInterrupted`'s ``checkpoint``; pass it to
    ``fit(..., resume=checkpoint)``. :meth:`build_network` gives the network.

    Attributes
    ----------
    epoch : int
        The epoch in progress (or the next one, at an epoch boundary).
    batch : int
        Batches of that epoch already done.
    step : int
        Optimizer steps done since the start of training.
    """

    network_config: dict[str, Any] | None
    weights: list[np.ndarray]
    fit_config: dict[str, Any]
    epoch: int
    batch: int
    step: int
    shuffled: bool
    lr: float
    epoch_loss: float
    stopped: bool
    rng_state: dict[str, Any]
    order: np.ndarray
    pred: np.ndarray | None
    optimizer_state: dict[str, Any]
    schedule_state: dict[str, Any]
    callback_states: list[dict[str, Any]]
    history: dict[str, list[float]] = field(default_factory=dict)
    history_epochs: list[int] = field(default_factory=list)
    best: float | None = None
    #: The file it was read from (by :func:`load_checkpoint`), named by the errors of a resume.
    source: str | None = field(default=None, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        """True when the run that wrote it had completed (all epochs, or stopped by a callback)."""
        return self.stopped or (self.batch == 0 and self.epoch >= self.fit_config.get("epochs", math.inf))

    def build_network(self) -> Any:
        """A new :class:`~neuroplug.Sequential` with the checkpoint's architecture and weights."""
        from ..serialization import network_from_config

        if self.network_config is None:
            raise ConfigError("this checkpoint does not record the architecture (a component is not "
                              "registered), so it cannot rebuild the network")
        return network_from_config({"format": "neuroplug.sequential", "version": 1, **self.network_config},
                                   [np.array(w) for w in self.weights])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the checkpoint to ``path`` atomically (temporary file, fsync, rename)."""
        from ..serialization import write_archive

        meta, arrays = self._to_archive()
        write_archive(path, _META, meta, arrays, "the checkpoint")

    def _to_archive(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The JSON entry and the arrays of the file; ConfigError for a state that cannot be stored."""
        if self.network_config is None:
            raise ConfigError("cannot save this checkpoint: a component of the network is not registered, "
                              "so it cannot be stored by name; register it (neuroplug.register_*)")
        arrays: dict[str, np.ndarray] = {}

        def put(array: Any) -> str:
            name = f"a{len(arrays)}"
            arrays[name] = np.ascontiguousarray(array)
            return name

        meta = {
            "format": "neuroplug.checkpoint", "version": FORMAT_VERSION,
            "network": {"format": "neuroplug.sequential", "version": 1, **self.network_config},
            "weights": [put(w) for w in self.weights],
            "fit": _encode(self.fit_config, put, "fit config"),
            "progress": {"epoch": self.epoch, "batch": self.batch, "step": self.step, "shuffled": self.shuffled,
                         "lr": self.lr, "epoch_loss": self.epoch_loss, "stopped": self.stopped,
                         "best": _encode(self.best, put, "best")},
            "rng": _encode(self.rng_state, put, "the random generator's state"),
            "order": put(self.order.astype(np.int64)),
            "pred": None if self.pred is None else put(self.pred.astype(np.int64)),
            "optimizer": _encode(self.optimizer_state, put, "the optimizer's get_state()"),
            "schedule": _encode(self.schedule_state, put, "the schedule's get_state()"),
            "callbacks": [{"type": c["type"], "state": _encode(c["state"], put, f"{c['type']}.get_state()")}
                          for c in self.callback_states],
            "history": {"epochs": list(self.history_epochs),
                        "metrics": {k: put(np.asarray(v, dtype=np.float64)) for k, v in self.history.items()}},
        }
        return meta, arrays

    def __repr__(self) -> str:
        status = f"finished after {self.epoch} epochs" if self.finished else "in progress"
        return f"Checkpoint(epoch={self.epoch}, batch={self.batch}, step={self.step}, {status})"


# ---------------------------------------------------------------------- state encoding
def _encode(value: Any, put: Any, what: str) -> Any:
    """JSON for a state: arrays become ``{"$array": name}``, non-finite floats ``{"$float": "inf"}``."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise ConfigError(f"{what} holds an array of dtype {value.dtype}; a checkpoint stores numeric arrays")
        return {"$array": put(value)}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ConfigError(f"{what} has a key that is not a string: {sorted(map(repr, value))}")
        if any(k.startswith("$") for k in value):
            raise ConfigError(f"{what} has a key starting with '$', which checkpoints reserve")
        return {k: _encode(v, put, what) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, put, what) for v in value]
    raise ConfigError(f"{what} holds a {type(value).__name__} ({value!r:.60}); a checkpoint stores numbers, "
                      f"strings, None, lists, dicts and numpy arrays")


def _decode(value: Any, get: Any, depth: int = 0) -> Any:
    if depth > 20:
        raise ValueError("the state is nested more than 20 levels deep")
    if isinstance(value, dict):
        if set(value) == {"$array"}:
            return get(value["$array"])
        if set(value) == {"$float"}:
            if value["$float"] not in ("inf", "-inf", "nan"):
                raise ValueError(f"{value!r} is not a non-finite float")
            return float(value["$float"])
        return {k: _decode(v, get, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, get, depth + 1) for v in value]
    return value


# ---------------------------------------------------------------------- loading
def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by ``fit(..., checkpoint=...)``; never unpickles or runs file code.

    Raises
    ------
    ModelFileError
        The file is missing, truncated, not a neuroplug checkpoint, inconsistent,
        or names a component that is not installed.
    """
    from ..serialization import SafeArchive, network_from_config

    with SafeArchive(path, what="checkpoint") as archive:
        meta = archive.json(_META)
        fail = archive.fail
        try:
            ckpt = _from_meta(meta, archive, network_from_config)
            ckpt.source = os.fsdecode(archive.path)
            return ckpt
        except ModelFileError:
            raise
        except (NeuroplugError, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise fail(f"it is not a valid checkpoint: {type(exc).__name__}: {exc}") from None


def _need(condition: bool, why: str) -> None:
    if not condition:
        raise ValueError(why)


def _int(value: Any, what: str, low: int = 0, high: int = 1 << 62) -> int:
    _need(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
          f"{what} must be an integer in [{low}, {high}], got {value!r}")
    return value


def _from_meta(meta: Any, archive: Any, network_from_config: Any) -> Checkpoint:
    keys = {"format", "version", "network", "weights", "fit", "progress", "rng", "order", "pred", "optimizer",
            "schedule", "callbacks", "history"}
    _need(isinstance(meta, dict), "the checkpoint entry must be a JSON object")
    _need(set(meta) == keys, f"checkpoint keys must be {sorted(keys)}, got {sorted(meta)}")
    _need(meta["format"] == "neuroplug.checkpoint", f"unknown format {meta['format']!r}")
    _need(meta["version"] == FORMAT_VERSION,
          f"checkpoint version {meta['version']!r} is not supported (this neuroplug reads {FORMAT_VERSION})")
    used: set[str] = set()
    names = archive.names - {_META}
    _need(len(names) <= _MAX_STATE_ARRAYS, f"the file holds {len(names)} arrays")

    def get(name: Any, shape: Any = None, kinds: str = "biuf", what: str = "") -> np.ndarray:
        _need(isinstance(name, str) and name in names, f"the array {name!r} {what or 'it'} refers to is missing")
        used.add(name)
        try:
            return archive.array(name, shape=shape, kinds=kinds)
        except ModelFileError as exc:
            if not what:
                raise
            raise ModelFileError(f"{exc} (it holds {what})") from None

    names_of_weights = meta["weights"]
    _need(isinstance(names_of_weights, list), "weights must be a list of array names")

    def weight(i: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        _need(i < len(names_of_weights), f"weights lists {len(names_of_weights)} arrays; the network has more")
        name = names_of_weights[i]
        _need(isinstance(name, str) and name in names, f"the array {name!r} it refers to is missing")
        used.add(name)
        return archive.array(name, shape=shape, kinds="f", dtypes=(dtype,))

    net = network_from_config(meta["network"], weight, fail=archive.fail)
    weights = [p.copy() for p in net.parameters()]
    _need(all(np.isfinite(w).all() for w in weights), "its weights hold non-finite values "
                                                       "(a checkpoint is written only with finite weights)")
    _need(len(weights) == len(names_of_weights), f"weights lists {len(names_of_weights)} arrays, "
                                                 f"the network has {len(weights)}")
    fit_config = _decode(meta["fit"], get)
    _check_fit_config(fit_config)
    samples, batch_size, epochs = fit_config["samples"], fit_config["batch_size"], fit_config["epochs"]
    steps_per_epoch = -(-samples // batch_size)
    progress = meta["progress"]
    pkeys = {"epoch", "batch", "step", "shuffled", "lr", "epoch_loss", "stopped", "best"}
    _need(isinstance(progress, dict) and set(progress) == pkeys, f"progress keys must be {sorted(pkeys)}")
    epoch = _int(progress["epoch"], "progress.epoch", 0, epochs)
    batch = _int(progress["batch"], "progress.batch", 0, steps_per_epoch)
    step = _int(progress["step"], "progress.step")
    _need(step == epoch * steps_per_epoch + batch, f"progress.step is {step}, but epoch {epoch} and batch {batch} "
                                                   f"({steps_per_epoch} batches an epoch) make "
                                                   f"{epoch * steps_per_epoch + batch} steps")
    for key in ("shuffled", "stopped"):
        _need(isinstance(progress[key], bool), f"progress.{key} must be true or false")
    for key in ("lr", "epoch_loss"):
        _need(isinstance(progress[key], (int, float)) and not isinstance(progress[key], bool)
              and math.isfinite(progress[key]), f"progress.{key} must be a finite number")
    _need(batch > 0 or progress["epoch_loss"] == 0, f"progress.epoch_loss is {progress['epoch_loss']!r} at the "
                                                    f"start of an epoch (batch 0), where no loss is summed yet")
    best = _decode(progress["best"], get)
    _need(best is None or (isinstance(best, float) and not math.isnan(best)), "progress.best must be a number")
    order = get(meta["order"], shape=(samples,), kinds="iu", what="order")
    _need(bool(np.array_equal(np.sort(order), np.arange(samples))), "order is not a permutation of the samples")
    pred = None
    if meta["pred"] is not None:
        pred = get(meta["pred"], shape=(samples,), kinds="iu", what="pred")
        classes, done = max(2, int(net.output_dim)), pred[:batch * batch_size]  # the batches done
        _need(bool(((done >= 0) & (done < classes)).all()), f"pred holds a class outside [0, {classes})")
    rng = _decode(meta["rng"], get)
    _check_rng_state(rng)
    optimizer = _decode(meta["optimizer"], get)
    schedule = _decode(meta["schedule"], get)
    _need(isinstance(optimizer, dict) and isinstance(schedule, dict), "optimizer and schedule states must be objects")
    callbacks = meta["callbacks"]
    _need(isinstance(callbacks, list) and all(isinstance(c, dict) and set(c) == {"type", "state"}
                                              and isinstance(c["type"], str) for c in callbacks),
          "callbacks must be a list of {type, state}")
    callback_states = [{"type": c["type"], "state": _decode(c["state"], get)} for c in callbacks]
    history = meta["history"]
    _need(isinstance(history, dict) and set(history) == {"epochs", "metrics"}
          and isinstance(history["epochs"], list) and isinstance(history["metrics"], dict),
          "history must be {epochs, metrics}")
    history_epochs = [_int(e, "history epoch", 0, epochs) for e in history["epochs"]]
    metrics = {str(k): get(v, shape=(len(history_epochs),), kinds="f", what=f"history.metrics.{k}").tolist()
               for k, v in history["metrics"].items()}
    _need(used == names, f"the file holds arrays nothing refers to: {sorted(names - used)[:5]}")
    return Checkpoint(
        network_config={k: v for k, v in meta["network"].items() if k not in ("format", "version")},
        weights=weights, fit_config=fit_config, epoch=epoch, batch=batch, step=step,
        shuffled=progress["shuffled"], lr=float(progress["lr"]), epoch_loss=float(progress["epoch_loss"]),
        stopped=progress["stopped"], rng_state=rng, order=order.astype(np.intp), pred=pred,
        optimizer_state=optimizer, schedule_state=schedule, callback_states=callback_states,
        history=metrics, history_epochs=history_epochs, best=best)


# ---------------------------------------------------------------------- the schema
#: ``fit``'s arguments as a checkpoint records them (``_Run.config``): key -> check of the value.
_FIT_CONFIG: dict[str, Any] = {
    "loss": lambda v: _is_description(v, "loss"),
    "optimizer": lambda v: _is_description(v, "optimizer"),
    "schedule": lambda v: _is_description(v, "schedule"),
    "lr": lambda v: _is_number(v) and math.isfinite(v) and v >= 0,
    "epochs": lambda v: _is_int(v, 1, 1 << 62),
    "batch_size": lambda v: _is_int(v, 1, _MAX_SAMPLES),
    "samples": lambda v: _is_int(v, 1, _MAX_SAMPLES),
    "shuffle": lambda v: isinstance(v, bool),
    "seed": lambda v: v is None or _is_int(v, 0, 1 << 128),
    "data": lambda v: isinstance(v, str),
    "validation": lambda v: v is None or isinstance(v, str),
    "callbacks": lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
}

#: The state of each numpy bit generator ``fit`` may use: key -> (kind, bounds or (dtype, shape)).
_U32, _U64, _U128 = 1 << 32, 1 << 64, 1 << 128
_BUFFERED = {"has_uint32": ("int", 0, 1), "uinteger": ("int", 0, _U32 - 1)}
_RNG_STATES: dict[str, dict[str, Any]] = {
    "PCG64": {"state": {"state": ("int", 0, _U128 - 1), "inc": ("odd", 1, _U128 - 1)}, **_BUFFERED},
    "PCG64DXSM": {"state": {"state": ("int", 0, _U128 - 1), "inc": ("odd", 1, _U128 - 1)}, **_BUFFERED},
    "MT19937": {"state": {"key": ("array", np.uint32, (624,)), "pos": ("int", 0, 624)}},
    "Philox": {"state": {"counter": ("array", np.uint64, (4,)), "key": ("array", np.uint64, (2,))},
               "buffer": ("array", np.uint64, (4,)), "buffer_pos": ("int", 0, 4), **_BUFFERED},
    "SFC64": {"state": {"state": ("array", np.uint64, (4,))}, **_BUFFERED},
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _is_plain(value: Any, top: type | None = None, depth: int = 0) -> bool:
    """JSON without arrays (a component description); ``top``: the type of the outer value."""
    if top is not None and not isinstance(value, top):
        return False
    if depth > 20:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v, None, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v, None, depth + 1) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def _is_description(value: Any, kind: str) -> bool:
    """None (not recorded), ``describe()``'s ``{"kind", "name", "config"}``, or ``{"kind", "class"}``."""
    if value is None:
        return True
    if not (_is_plain(value, dict) and value.get("kind") == kind):
        return False
    if set(value) == {"kind", "class"}:
        return isinstance(value["class"], str)
    return set(value) == {"kind", "name", "config"} and isinstance(value["name"], str) \
        and isinstance(value["config"], dict)


def _check_fit_config(config: Any) -> None:
    """ValueError unless ``config`` is the record of ``fit``'s arguments a checkpoint holds."""
    _need(isinstance(config, dict), "fit must be an object")
    _need(set(config) == set(_FIT_CONFIG), f"fit keys must be {sorted(_FIT_CONFIG)}, got {sorted(config)}")
    for key, valid in _FIT_CONFIG.items():
        _need(valid(config[key]), f"fit.{key} is not valid: {_short(config[key])}")
    _need(config["batch_size"] <= config["samples"], "fit.batch_size is larger than fit.samples")


def _check_rng_state(state: Any) -> None:
    """ValueError unless ``state`` is a valid state of one of numpy's bit generators.

    numpy's own setters do not check every field (an out-of-range ``pos`` of
    MT19937 crashes the interpreter on the next draw), so each field is checked here.
    """
    _need(isinstance(state, dict) and state.get("bit_generator") in _RNG_STATES,
          f"rng must be the state of one of numpy's bit generators {sorted(_RNG_STATES)}")
    name = state["bit_generator"]

    def walk(schema: dict[str, Any], value: Any, where: str) -> None:
        _need(isinstance(value, dict) and set(value) == set(schema),
              f"{where} keys must be {sorted(schema)}, got {sorted(value) if isinstance(value, dict) else value!r}")
        for key, rule in schema.items():
            item, at = value[key], f"{where}.{key}"
            if isinstance(rule, dict):
                walk(rule, item, at)
            elif rule[0] == "array":
                _need(isinstance(item, np.ndarray) and item.dtype == rule[1] and item.shape == rule[2],
                      f"{at} must be a {np.dtype(rule[1])} array of shape {rule[2]}, got {_short(item)}")
            else:
                _need(_is_int(item, rule[1], rule[2]) and (rule[0] != "odd" or item % 2 == 1),
                      f"{at} must be an {'odd ' if rule[0] == 'odd' else ''}integer in "
                      f"[{rule[1]}, {rule[2]}], got {_short(item)}")

    walk(_RNG_STATES[name], {k: v for k, v in state.items() if k != "bit_generator"}, f"rng ({name})")


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _layout(value: Any, depth: int = 0) -> Any:
    """The shape of a state, values left out: what a state must keep through ``set_state``/``get_state``."""
    if depth > 20:
        return "deep"
    if isinstance(value, np.ndarray):  # the dtype's kind too: a float buffer saved as integers would be truncated
        return ("array", value.shape, value.dtype.kind)
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    if isinstance(value, dict):
        return {k: _layout(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_layout(v, depth + 1) for v in value]
    return type(value).__name__


# ---------------------------------------------------------------------- resuming
_SAME = ("loss", "optimizer", "schedule", "lr", "batch_size", "shuffle", "seed", "samples", "data",
         "validation")
_WHAT = {"data": "the training data (X, y)", "validation": "validation_data", "samples": "the number of samples"}


def check_resumable(ckpt: Checkpoint, run: Any) -> None:
    """Raise ConfigError unless ``ckpt`` was written by a run with the same setup as ``run``.

    ``run`` is :func:`~neuroplug.fit`'s internal run; ``epochs`` may differ (to train longer), and
    so may the callbacks: each callback gets the saved state of the first unused one of its class.
    """
    if not isinstance(ckpt, Checkpoint):
        raise InputError(f"resume must be a neuroplug.Checkpoint, got {type(ckpt).__name__}")
    net = run.network
    try:
        config = net.get_config()
    except ConfigError:
        config = None
    if config is not None and ckpt.network_config is not None and config != ckpt.network_config:
        raise ConfigError("resume: the network differs from the checkpoint's: "
                          f"{_difference(ckpt.network_config, config)}")
    shapes = [p.shape for p in net.parameters()]
    if [w.shape for w in ckpt.weights] != shapes:
        raise ConfigError(f"resume: the checkpoint's weight shapes {[w.shape for w in ckpt.weights]} differ "
                          f"from the network's {shapes}")
    current = run.config()
    for key in _SAME:
        old, new = ckpt.fit_config.get(key), current.get(key)
        if key == "schedule" and (old is None or new is None):
            continue  # a schedule wrapping a Python function is not recorded
        if key == "seed" and (old is None or new is None):
            continue  # the generator's state is in the checkpoint
        if old != new:
            what = _WHAT.get(key, f"{key}=")
            if key in ("data", "validation", "samples"):
                raise ConfigError(f"resume: {what} differs from the run that wrote the checkpoint "
                                  f"(give fit the same data to continue it)")
            raise ConfigError(f"resume: {what}{new!r} differs from the checkpoint's {old!r}")
    if ckpt.epoch > run.epochs or (ckpt.epoch == run.epochs and ckpt.batch):
        raise ConfigError(f"resume: epochs={run.epochs} but the checkpoint is already at epoch {ckpt.epoch}")
    if ckpt.order.shape != (run.n,) or (ckpt.pred is not None and ckpt.pred.shape != (run.n,)):
        raise ConfigError("resume: the checkpoint's sample order does not match the data")
    if ckpt.batch > run.steps_per_epoch:
        raise ConfigError(f"resume: the checkpoint is at batch {ckpt.batch} of an epoch of {run.steps_per_epoch}")
    if ckpt.rng_state.get("bit_generator") != run.rng.bit_generator.state.get("bit_generator"):
        raise ConfigError(f"resume: the checkpoint's random generator is {ckpt.rng_state.get('bit_generator')}, "
                          f"but seed= gives a {type(run.rng.bit_generator).__name__}")


def prepare_resume(ckpt: Checkpoint, run: Any) -> list[Any]:
    """Check that ``ckpt`` can be restored into ``run`` as a whole, changing nothing of ``run``.

    First :func:`check_resumable` (the same setup). Then every state the resume
    would hand to a component is tried on a copy of that component: the
    optimizer's, the schedule's and each callback's ``set_state`` must accept it
    and ``get_state`` give back a state of the same layout (an array where a number
    belongs is refused); the optimizer then takes one step with zero gradients on
    copies of the weights, which must stay finite, and the schedule must give a
    finite rate ``>= 0`` at the resume point; a callback's ``check_state(state,
    network)``, if it has one, is called. The random generator's state is checked
    field by field. A component that cannot be copied is tried for real when the
    state is applied (and rolled back if it fails).

    Returns the saved state of each of ``run.callbacks`` (``None`` for a callback
    without one): each callback gets the first unused state saved by a callback
    of its class.

    Raises
    ------
    ModelFileError
        For a checkpoint read from a file (naming it) whose state does not fit.
    ConfigError
        For a checkpoint of a different run, or an in-memory one whose state does not fit.
    """
    import warnings

    check_resumable(ckpt, run)

    def fail(why: str) -> NeuroplugError:
        return resume_error(ckpt, why)

    if not all(isinstance(w, np.ndarray) and np.isfinite(w).all() for w in ckpt.weights):
        raise fail("its weights hold non-finite values (a checkpoint is written only with finite weights)")
    try:
        _check_rng_state(ckpt.rng_state)
        bit_generator = type(run.rng.bit_generator)()
        bit_generator.state = copy.deepcopy(ckpt.rng_state)
    except Exception as exc:
        raise fail(f"the random generator's state is not valid: {exc}") from None

    def probe_optimizer(trial: Any) -> None:
        weights = [np.array(w, dtype=p.dtype) for w, p in zip(ckpt.weights, run.params)]
        trial.step(weights, [np.zeros_like(w) for w in weights], float(ckpt.lr))
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError("a step from this state makes a weight non-finite")

    def probe_schedule(trial: Any) -> None:
        batch_unit = getattr(run, "batch_unit", False)
        rate = trial(ckpt.step if batch_unit else ckpt.epoch, run.base_lr)
        if not (_is_number(rate) or isinstance(rate, np.floating)) or not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"the schedule then gives the learning rate {rate!r}")
        if ckpt.shuffled and not batch_unit and float(rate) != ckpt.lr:  # the rate of the epoch in progress
            raise ValueError(f"progress.lr is {ckpt.lr!r}, but the schedule's rate for epoch {ckpt.epoch} "
                             f"is {float(rate)!r}")

    def attempt(component: Any, state: Any, what: str, probe: Any = None) -> None:
        try:
            trial = copy.deepcopy(component)
        except Exception:
            return  # tried for real when applied (see the docstring)
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trial.set_state(copy.deepcopy(state))
                back = _layout(trial.get_state())
                if back != _layout(state):
                    raise ValueError(f"get_state() then gives a different layout: {_short(back)}, "
                                     f"saved {_short(_layout(state))}")
                if probe is not None:
                    probe(trial)
        except Exception as exc:
            raise fail(f"the {what} state does not fit the {what} given to fit: "
                       f"{type(exc).__name__}: {exc}") from None

    attempt(run.opt, ckpt.optimizer_state, "optimizer", probe_optimizer)
    attempt(run.sched, ckpt.schedule_state, "schedule", probe_schedule)
    saved = list(ckpt.callback_states)
    states: list[Any] = []
    for i, cb in enumerate(run.callbacks):
        match = next((s for s in saved if s["type"] == type(cb).__name__), None)
        if match is None:
            states.append(None)
            continue
        saved.remove(match)
        what = f"callbacks[{i}] ({type(cb).__name__})"
        check = getattr(cb, "check_state", None)
        if check is not None:
            try:
                check(match["state"], run.network)
            except Exception as exc:
                raise fail(f"the saved state of {what} is not valid: {type(exc).__name__}: {exc}") from None
        attempt(cb, match["state"], what)
        states.append(match["state"])
    return states


def resume_error(ckpt: Checkpoint, why: str) -> NeuroplugError:
    """The error for a checkpoint whose state does not fit: ModelFileError naming its file, if it has one."""
    if ckpt.source is not None:
        return ModelFileError(f"cannot resume from the checkpoint {ckpt.source!r}: {why}")
    return ConfigError(f"resume: {why}")


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            if key == "layers" and isinstance(old.get(key), list) and isinstance(new.get(key), list):
                for i, (a, b) in enumerate(zip(old[key], new[key])):
                    if a != b:
                        return f"layer {i} is {b!r}, the checkpoint's is {a!r}"
                return f"the network has {len(new[key])} layers, the checkpoint's {len(old[key])}"
            return f"{key} is {new.get(key)!r}, the checkpoint's is {old.get(key)!r}"
    return "(no difference found)"
