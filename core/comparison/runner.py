"""One run of a comparison: one :func:`~neuroplug.fit` with a fixed seed, and its record.

:func:`run_one` is what a worker process executes -- locally through joblib, or on a
Dask worker. It takes plain data (a run spec) and returns plain data (a record), so
that every backend ships the same thing and computes the same bits: the data set is
built on the worker from its name (or read from its path), standardized with the
training part's mean and scale, and the network is built from the spec's seed.
BLAS is held to one thread during the run (with ``threadpoolctl``, when installed),
so that the sums are taken in the same order whatever the machine's thread count.
"""

from __future__ import annotations

import functools
import math
import os
import socket
import time
from typing import Any

import numpy as np

__all__ = ["run_one", "load_data_set", "data_identity"]

#: The held-out share of every data set (a fixed split: the seed varies the network, not the data).
TEST_SIZE = 0.25


def data_identity(name: str, target: str | None = None) -> dict[str, Any]:
    """What identifies a data set in a run spec: a built-in name, or a file with its content hash
    (a changed file is other data: its runs are run again) and the target column or array
    (``target``, as ``neuroplug train --target``; files only)."""
    from ..datasets.synthetic import NAMED

    if name in NAMED:
        return {"name": name, "path": None, "sha": None, "target": None}
    import hashlib

    path = os.path.abspath(name)
    h = hashlib.blake2b(digest_size=12)
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError as exc:
        from ..errors import InputError

        raise InputError(f"data set {name!r} is neither one of {', '.join(NAMED)} nor a readable .npz/.csv "
                         f"file: {exc.strerror or exc}") from None
    return {"name": os.path.basename(path), "path": path, "sha": h.hexdigest(), "target": target}


@functools.lru_cache(maxsize=8)
def _load(name: str, path: str | None, sha: str | None, target: str | None) -> tuple[np.ndarray, ...]:
    from ..datasets import load_data, train_test_split
    from ..datasets.synthetic import load_named

    X, y = load_named(name, seed=0) if path is None else load_data(path, target)
    X = np.asarray(X, dtype=np.float64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, seed=0)
    mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
    scale[scale == 0] = 1.0
    X_train, X_test = (X_train - mean) / scale, (X_test - mean) / scale
    for a in (X_train, X_test, y_train, y_test):
        a.setflags(write=False)  # shared by the runs of this process
    return X_train, X_test, y_train, y_test


def load_data_set(identity: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """``(X_train, X_test, y_train, y_test)`` of a data set, standardized (cached per process)."""
    return _load(identity["name"], identity["path"], identity["sha"], identity.get("target"))


def _classification(y: np.ndarray) -> bool:
    return y.ndim == 1 and np.issubdtype(y.dtype, np.integer)


def _single_thread() -> Any:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the distributed extra
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """Train the network of ``spec`` and return its record (see :mod:`neuroplug.comparison.report`).

    Never raises for a run that goes wrong: a divergence is ``status="diverged"``, any
    other error ``status="failed"``, each with its message -- the sweep goes on.
    """
    import neuroplug as npl
    from neuroplug.errors import DivergenceError

    setup, seed = spec["setup"], spec["seed"]
    record: dict[str, Any] = {k: spec[k] for k in ("key", "label", "combination", "seed")}
    record.update(data=spec["data"]["name"], settings=setup, task=None, status="ok", error=None,
                  metrics={"test_accuracy": None, "test_loss": None}, history={}, fit_seconds=0.0,
                  worker=f"{socket.gethostname()}:{os.getpid()}", neuroplug=npl.__version__)
    history: dict[str, list[float]] = {}

    class Recorder(npl.Callback):
        """Keeps each epoch's logs, also those before a divergence."""

        def on_epoch_end(self, state: Any) -> None:
            for k, v in state.logs.items():  # JSON has no inf or nan: a non-finite value is null
                v = float(v)
                history.setdefault(k, []).append(v if math.isfinite(v) else None)

    try:
        X_train, X_test, y_train, y_test = load_data_set(spec["data"])
        classify = _classification(y_train)
        record["task"] = "classification" if classify else "regression"
        outputs = int(max(y_train.max(), y_test.max())) + 1 if classify else (
            1 if y_train.ndim == 1 else y_train.shape[1])
        layers = [npl.Dense(units, activation=setup["activation"], init=setup["init"]) for units in setup["hidden"]]
        layers.append(npl.Dense(outputs, activation="softmax" if classify else "identity", init="normalized_xavier"))
        net = npl.Sequential(layers, input_dim=X_train.shape[1], seed=seed)
        loss = setup["loss"] or ("cross_entropy" if classify else "mse")
        with _single_thread():
            start = time.perf_counter()
            try:
                npl.fit(net, X_train, y_train, loss=loss, optimizer=setup["optimizer"], lr=setup["lr"],
                        schedule=setup["schedule"], epochs=setup["epochs"], batch_size=setup["batch_size"],
                        seed=seed, validation_data=(X_test, y_test), callbacks=[Recorder()], progress=False)
            finally:
                record["fit_seconds"] = time.perf_counter() - start
        record["metrics"] = {"test_accuracy": history["val_accuracy"][-1] if classify else None,
                             "test_loss": history.get("val_loss", [None])[-1]}
    except DivergenceError as exc:
        record.update(status="diverged", error=f"DivergenceError: {exc}")
    except Exception as exc:  # noqa: BLE001 - recorded: one broken run never stops the sweep
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    record["history"] = history
    return record
