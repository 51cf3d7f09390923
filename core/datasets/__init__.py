"""Data sets and data loading.

The embedded **digits** data set is the 1,797 8x8 images of handwritten digits
from the UCI "Optical Recognition of Handwritten Digits" collection (E. Alpaydin,
C. Kaynak, 1998; the copy scikit-learn ships as ``load_digits``), stored in this
package as a compressed ``.npz`` of uint8 pixels (0..16) and labels (0..9).
"""

from __future__ import annotations

import csv
import math
import os
import stat
from importlib import resources
from typing import Any

import numpy as np

from ..errors import InputError, ModelFileError, ShapeError
from ..validation import check_number
from .synthetic import NAMED, load_named, make_circles, make_moons, make_regression, make_spirals

__all__ = ["load_digits", "train_test_split", "load_digits_split", "load_csv", "load_npz", "load_data",
           "make_moons", "make_circles", "make_spirals", "make_regression", "load_named", "NAMED"]


def __dir__() -> list[str]:
    """What ``dir()`` and tab completion show: the public names, the module's own imports left out."""
    return sorted([*__all__, "MAX_DATA_BYTES", "synthetic"])


def load_digits(dtype: Any = np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Return the digits data: ``X`` (1797, 64) scaled to [0, 1] and integer labels ``y`` (1797,).

    >>> X, y = load_digits()
    >>> X.shape, y.shape, int(y.max())
    ((1797, 64), (1797,), 9)
    """
    with resources.files(__name__).joinpath("digits.npz").open("rb") as fh:
        with np.load(fh, allow_pickle=False) as data:
            X = data["X"].astype(dtype) / dtype(16)
            y = data["y"].astype(np.int64)
    return X, y


def train_test_split(X: Any, y: Any, test_size: float = 0.25, seed: int | None = 0,
                     stratify: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split ``(X, y)`` into ``X_train, X_test, y_train, y_test`` with a seeded permutation.

    With ``stratify=True`` (and 1-D integer ``y``) every class keeps its share in both parts.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.shape[0] != y.shape[0]:
        raise ShapeError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}")
    check_number("test_size", test_size, low=0, high=1, low_inclusive=False, high_inclusive=False,
                 error=InputError)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    if n < 2:
        raise InputError(f"train_test_split needs at least 2 samples to split, got {n}")
    if stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        test_idx = []
        for label in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == label))
            test_idx.append(members[: int(round(test_size * members.size))])
        test = np.sort(np.concatenate(test_idx))
    else:
        test = np.sort(rng.permutation(n)[: int(round(test_size * n))])
    mask = np.ones(n, dtype=bool)
    mask[test] = False
    if not mask.any() or mask.all():
        raise InputError(f"test_size={test_size} leaves one part empty for {n} samples")
    return X[mask], X[~mask], y[mask], y[~mask]


def load_digits_split(seed: int = 0, test_size: float = 0.25) -> tuple[np.ndarray, ...]:
    """The digits data split into ``X_train, X_test, y_train, y_test`` (stratified, seeded)."""
    X, y = load_digits()
    return train_test_split(X, y, test_size=test_size, seed=seed)


def _labels(column: np.ndarray) -> np.ndarray:
    """Integer labels stay integers; other targets become float."""
    if np.all(np.mod(column, 1) == 0):
        return column.astype(np.int64)
    return column


#: The largest data file :func:`load_csv`, :func:`load_npz` and ``neuroplug train --data``
#: read, in bytes (1 GiB); the ``max_bytes`` argument, or the environment variable
#: ``NEUROPLUG_MAX_DATA_BYTES``, sets another.
MAX_DATA_BYTES = 1 << 30
_MAX_DATA_ENV = "NEUROPLUG_MAX_DATA_BYTES"


def _max_bytes(max_bytes: Any) -> int:
    if max_bytes is None:
        env = os.environ.get(_MAX_DATA_ENV)
        if env is None:
            return MAX_DATA_BYTES
        try:
            max_bytes = int(env)
        except ValueError:
            raise InputError(f"{_MAX_DATA_ENV} must be a number of bytes (an integer >= 1), got {env!r}") from None
        if max_bytes < 1:
            raise InputError(f"{_MAX_DATA_ENV} must be a number of bytes (an integer >= 1), got {env!r}")
        return max_bytes
    return int(check_number("max_bytes", max_bytes, low=1, integer=True, error=InputError))


def _open_data(path: str, max_bytes: int) -> int:
    """An open descriptor of the regular file ``path`` of at most ``max_bytes`` bytes; an
    InputError naming ``path`` for anything else (a FIFO is refused, not waited on)."""
    try:  # non-blocking: a FIFO without a writer must not hang the open
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise InputError(f"--data {path!r} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the path
        raise InputError(f"--data {path!r} is not a valid path: {exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode)
                    else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket"
                    if stat.S_ISSOCK(info.st_mode) else "not a regular file")
            raise InputError(f"--data {path!r} is {kind}; give a regular .csv or .npz file")
        if info.st_size > max_bytes:
            raise InputError(f"--data {path!r} holds {info.st_size} bytes, more than the limit of {max_bytes} "
                             f"bytes (set max_bytes= or {_MAX_DATA_ENV} to read larger files)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def load_csv(path: str | os.PathLike[str], target: str | None = None, *,
             max_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV file with a header row; ``target`` names the label column (default: the last).

    Every other column is a numeric feature. Integral targets become int64 class labels.
    Every cell must be a finite number: an empty cell, text, ``nan`` or ``inf`` is an
    :class:`~neuroplug.errors.InputError` naming the line and the column, as is a row
    with more or fewer values than the header has columns. A path that is not a regular
    file (a FIFO, a device, a directory) or a file larger than ``max_bytes`` (default
    :data:`MAX_DATA_BYTES`) is an InputError too, before anything is read.
    """
    path = os.fspath(path)
    fd = _open_data(path, _max_bytes(max_bytes))
    try:
        # utf-8-sig: a byte-order mark (as some spreadsheets write) is not part of the first column's name
        with open(fd, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"--data {path!r} cannot be read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"--data {path!r} is not a readable UTF-8 CSV file: {exc}") from None
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if len(rows) < 2:
        raise InputError(f"{path}: a CSV needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise InputError(f"{path}: the header names the column(s) {', '.join(map(repr, repeated))} more than "
                         f"once; column names must be unique")
    col = len(header) - 1
    if target is not None:
        if target not in header:
            raise InputError(f"{path}: target column {target!r} is not in the header; columns: {', '.join(header)}")
        col = header.index(target)
    if len(header) < 2:
        raise InputError(f"{path}: a CSV needs at least one feature column and a target column")
    data = np.empty((len(rows) - 1, len(header)), dtype=np.float64)
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(f"{path}, line {i}: {len(row)} values, but the header has {len(header)} columns")
        for j, cell in enumerate(row):
            try:
                value = float(cell)
            except ValueError:
                raise InputError(f"{path}, line {i}, column {header[j]!r}: {cell!r} is not a number") from None
            if not math.isfinite(value):
                raise InputError(f"{path}, line {i}, column {header[j]!r}: {cell.strip()!r} is not a finite "
                                 f"number")
            data[i - 2, j] = value
    y = _labels(data[:, col])
    X = np.delete(data, col, axis=1)
    return X, y


def load_npz(path: str | os.PathLike[str], target: str | None = None, *,
             max_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read arrays ``X`` and ``y`` (or the key given as ``target``) from an ``.npz`` file, without pickle.

    The archive is read by :class:`~neuroplug.serialization.archive.SafeArchive`: a path that is
    not a regular file, a file larger than ``max_bytes`` (default :data:`MAX_DATA_BYTES`),
    a truncated or damaged archive, or an array whose header declares more than
    ``max_bytes`` of data is an :class:`~neuroplug.errors.InputError`, before anything
    large is allocated.
    """
    from ..serialization import SafeArchive

    path = os.fspath(path)
    key = target or "y"
    limit = _max_bytes(max_bytes)
    os.close(_open_data(path, limit))
    try:
        with SafeArchive(path, what="--data") as data:
            files = sorted(data.names)
            missing = [k for k in ("X", key) if k not in data.names]
            if missing:
                raise InputError(f"{path}: missing array(s) {missing}; it holds {files}")
            X = data.array("X", kinds="fiub", max_bytes=limit)
            y = data.array(key, kinds="fiub", max_bytes=limit)
    except ModelFileError as exc:
        raise InputError(f"{exc}") from None
    if X.ndim != 2:
        raise ShapeError(f"{path}: X must be 2-D (samples x features); got shape {X.shape}")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ShapeError(f"{path}: {key} must be 1-D or 2-D with one row per sample of X ({X.shape[0]}); "
                         f"got shape {y.shape}")
    return X, y


def load_data(path: str | os.PathLike[str], target: str | None = None, *,
              max_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load ``.csv`` or ``.npz`` data by file extension (see :func:`load_csv`, :func:`load_npz`)."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".csv":
        return load_csv(path, target, max_bytes=max_bytes)
    if ext == ".npz":
        return load_npz(path, target, max_bytes=max_bytes)
    raise InputError(f"--data must be a .csv or .npz file, got {os.fspath(path)!r}")
