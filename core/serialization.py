"""Saving and loading models without pickle.

A model file is an ``.npz`` archive (written with numpy, read with
``allow_pickle=False``) holding:

* ``architecture`` -- a uint8 array of UTF-8 JSON: the format version, the
  network's ``input_dim`` and ``dtype``, and each layer's units and components as
  ``{"kind", "name", "config"}``;
* ``param_0``, ``param_1``, ... -- the weight arrays ``W1, b1, W2, b2, ...``.

Loading rebuilds the components *by name* from the installed plugins (never by
executing code from the file), checks every shape against the architecture, and
fails with :class:`~neuroplug.errors.ModelFileError` on anything unexpected.
Writes are atomic: a temporary file in the same folder, flushed and fsynced, then
renamed over the target, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from .errors import ComponentNotFoundError, ConfigError, ModelFileError, NeuroplugError

__all__ = ["save", "load", "atomic_write", "FORMAT_VERSION"]

#: Version of the model file layout written by :func:`save`.
FORMAT_VERSION = 1
_MAX_ARCHITECTURE_BYTES = 1 << 20
_MAX_LAYERS = 1000
_MAX_UNITS = 1 << 20
_MAX_PARAMS = 1 << 31


def atomic_write(path: str | os.PathLike[str], write: Any) -> None:
    """Call ``write(fileobj)`` on a temporary file, fsync it, and rename it to ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def save(network: Any, path: str | os.PathLike[str]) -> None:
    """Save ``network`` (architecture and weights) to ``path`` atomically.

    Every component must be registered (built-in, plugin, or in-process), since it
    is stored by name. Raises :class:`~neuroplug.errors.ConfigError` otherwise.
    """
    from .network import Sequential

    if not isinstance(network, Sequential):
        raise ConfigError(f"network must be a neuroplug.Sequential, got {type(network).__name__}")
    arch = {"format": "neuroplug.sequential", "version": FORMAT_VERSION, **network.get_config()}
    text = json.dumps(arch, sort_keys=True, allow_nan=False)
    arrays = {"architecture": np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    for i, p in enumerate(network.parameters()):
        arrays[f"param_{i}"] = p
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def _fail(path: Any, why: str) -> ModelFileError:
    return ModelFileError(f"cannot load model {os.fspath(path)!r}: {why}")


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model saved by :func:`save`; never unpickles or runs code from the file.

    Raises
    ------
    ModelFileError
        The file is missing, truncated, not a neuroplug model, has unknown keys or
        wrong shapes, or names a component that is not installed.
    """
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except OSError as exc:
        raise _fail(path, f"cannot be opened ({exc.strerror or exc})") from None
    with fh:
        return _load_from(path, fh)


def _load_from(path: Any, fh: Any) -> Any:
    from .layers import Dense
    from .network import Sequential

    try:
        archive = np.load(fh, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise _fail(path, f"not a readable .npz archive ({exc})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _fail(path, "not an .npz archive")
    with archive:
        names = set(archive.files)
        if "architecture" not in names:
            raise _fail(path, "it has no 'architecture' entry (not a neuroplug model)")
        info = archive.zip.getinfo("architecture.npy")
        if info.file_size > _MAX_ARCHITECTURE_BYTES:
            raise _fail(path, f"its architecture entry is {info.file_size} bytes, more than the "
                              f"{_MAX_ARCHITECTURE_BYTES} allowed")
        try:
            raw = archive["architecture"]
            arch = json.loads(bytes(np.asarray(raw, dtype=np.uint8)).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _fail(path, f"its architecture is not valid JSON ({exc})") from None
        layers_cfg, input_dim, dtype = _validate_architecture(path, arch)
        n_params = 2 * len(layers_cfg)
        expected = {"architecture"} | {f"param_{i}" for i in range(n_params)}
        if names != expected:
            extra, missing = sorted(names - expected), sorted(expected - names)
            raise _fail(path, f"it holds unexpected entries {extra} / lacks {missing}")
        layers = []
        try:
            for i, cfg in enumerate(layers_cfg):
                layers.append(Dense(**{k: v for k, v in cfg.items() if k != "type"}))
        except ComponentNotFoundError as exc:
            raise _fail(path, f"layer {i} uses a component that is not installed: {exc}") from None
        except (NeuroplugError, TypeError) as exc:
            raise _fail(path, f"layer {i} has an invalid configuration: {exc}") from None
        net = Sequential(layers, input_dim=input_dim, seed=0, dtype=dtype)
        for i, p in enumerate(net.parameters()):
            key = f"param_{i}"
            member = archive.zip.getinfo(f"{key}.npy")
            if member.file_size > p.nbytes + 4096:
                raise _fail(path, f"{key} declares {member.file_size} bytes; shape {p.shape} needs {p.nbytes}")
            try:
                arr = archive[key]
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise _fail(path, f"{key} is unreadable ({exc})") from None
            if arr.shape != p.shape:
                raise _fail(path, f"{key} has shape {arr.shape}, but the architecture needs {p.shape}")
            if arr.dtype.kind != "f":
                raise _fail(path, f"{key} has dtype {arr.dtype}, expected floating point")
            if not np.isfinite(arr).all():
                raise _fail(path, f"{key} holds non-finite values")
            p[...] = arr
    return net


def _validate_architecture(path: Any, arch: Any) -> tuple[list[dict[str, Any]], int, str]:
    if not isinstance(arch, dict):
        raise _fail(path, "the architecture must be a JSON object")
    allowed = {"format", "version", "input_dim", "dtype", "layers"}
    if set(arch) != allowed:
        raise _fail(path, f"architecture keys must be {sorted(allowed)}, got {sorted(arch)}")
    if arch["format"] != "neuroplug.sequential":
        raise _fail(path, f"unknown format {arch['format']!r}")
    if arch["version"] != FORMAT_VERSION:
        raise _fail(path, f"format version {arch['version']!r} is not supported (this neuroplug reads {FORMAT_VERSION})")
    input_dim = arch["input_dim"]
    if not isinstance(input_dim, int) or isinstance(input_dim, bool) or not 1 <= input_dim <= _MAX_UNITS:
        raise _fail(path, f"input_dim must be an integer in [1, {_MAX_UNITS}], got {input_dim!r}")
    if arch["dtype"] not in ("float32", "float64"):
        raise _fail(path, f"dtype must be 'float32' or 'float64', got {arch['dtype']!r}")
    layers = arch["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= _MAX_LAYERS:
        raise _fail(path, f"layers must be a list of 1 to {_MAX_LAYERS} layers")
    fan_in, total = input_dim, 0
    layer_keys = {"type", "units", "activation", "init", "bias_init", "use_bias"}
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict) or set(layer) != layer_keys or layer["type"] != "dense":
            raise _fail(path, f"layer {i} must be a dense layer with keys {sorted(layer_keys)}")
        units = layer["units"]
        if not isinstance(units, int) or isinstance(units, bool) or not 1 <= units <= _MAX_UNITS:
            raise _fail(path, f"layer {i} units must be an integer in [1, {_MAX_UNITS}], got {units!r}")
        for key in ("activation", "init", "bias_init"):
            comp = layer[key]
            if not (isinstance(comp, dict) and set(comp) == {"kind", "name", "config"}
                    and isinstance(comp["name"], str) and isinstance(comp["config"], dict)):
                raise _fail(path, f"layer {i} {key} must be {{'kind', 'name', 'config'}}, got {comp!r}")
        total += (fan_in + 1) * units
        fan_in = units
    if total > _MAX_PARAMS:
        raise _fail(path, f"the architecture declares {total} parameters, more than {_MAX_PARAMS}")
    return layers, input_dim, arch["dtype"]
