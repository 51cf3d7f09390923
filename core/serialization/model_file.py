"""Model files: :func:`save` and :func:`load` a :class:`~neuroplug.Sequential` without pickle.

A model file is an ``.npz`` archive (a zip of ``.npy`` arrays, as written by
:func:`numpy.savez`) holding:

* ``architecture`` -- a uint8 array of UTF-8 JSON: the format version, the
  network's ``input_dim`` and ``dtype``, and each layer's units and components as
  ``{"kind", "name", "config"}``;
* ``param_0``, ``param_1``, ... -- the weight arrays ``W1, b1, W2, b2, ...``.

It is written with :func:`~neuroplug.serialization.archive.write_archive` (atomically)
and read with :class:`~neuroplug.serialization.archive.SafeArchive` (no pickle, every
header checked before anything is allocated); the architecture is validated
against a fixed schema and the components are rebuilt *by name* from the
installed plugins (never by executing code from the file). Anything unexpected
raises :class:`~neuroplug.errors.ModelFileError`.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np

from ..errors import (AmbiguousComponentError, ComponentError, ComponentNotFoundError, ConfigError, ModelFileError,
                      NeuroplugError)
from .archive import SafeArchive, _clip, _short, write_archive

__all__ = ["save", "load", "network_from_config", "FORMAT_VERSION"]

#: Version of the model file layout written by :func:`save`.
FORMAT_VERSION = 1
_MAX_ARCHITECTURE_BYTES = 1 << 20
_MAX_LAYERS = 1000
_MAX_UNITS = 1 << 20
_MAX_PARAMS = 1 << 31
_MAX_NAME_CHARS = 256


#: The entry-point group of the applications whose objects a model file may hold around its
#: network (``sklearn``: :mod:`neuroplug.sklearn`'s estimators). An entry named as the file's
#: ``application`` points at a function ``(network, state) -> object`` that rebuilds the object
#: from its JSON ``state``, raising ``ValueError`` (or ``TypeError``/``KeyError``) for a state
#: it does not accept. The object's class saves itself with a ``__neuroplug_save__()`` method
#: returning ``(network, application name, JSON state)``.
APPLICATIONS = "neuroplug.model_files"


def save(network: Any, path: str | os.PathLike[str]) -> None:
    """Save ``network`` (architecture and weights) to ``path`` atomically.

    ``network`` is a :class:`~neuroplug.Sequential`, or an object that saves through
    one: a fitted :mod:`neuroplug.sklearn` estimator is saved with its parameters
    and fitted attributes, and :func:`load` gives the estimator back.

    Every component must be registered (built-in, plugin, or in-process), since it
    is stored by name. Raises :class:`~neuroplug.errors.ConfigError` otherwise;
    :class:`~neuroplug.errors.InputError` when ``path`` is not a file path and
    :class:`~neuroplug.errors.FileWriteError` when it cannot be written (see
    :func:`check_writable`; a full disk too). A file already at ``path`` is then unchanged.
    """
    from ..model.network import Sequential

    application = None
    if not isinstance(network, Sequential):
        saver = getattr(type(network), "__neuroplug_save__", None)
        if saver is None:
            raise ConfigError(f"network must be a neuroplug.Sequential (or an object that saves through one, "
                              f"such as a fitted neuroplug.sklearn estimator), got {type(network).__name__}")
        network, name, state = saver(network)
        application = {"name": name, "state": state}
    arch = {"format": "neuroplug.sequential", "version": FORMAT_VERSION, **network.get_config()}
    if application is not None:
        arch["application"] = application
    params = {f"param_{i}": p for i, p in enumerate(network.parameters())}
    write_archive(path, "architecture", arch, params, "the model")


def load(path: str | os.PathLike[str], *, network_only: bool = False) -> Any:
    """Load a model saved by :func:`save`; never unpickles or runs code from the file.

    Returns the :class:`~neuroplug.Sequential`; for a file holding an application's
    object around it (a :mod:`neuroplug.sklearn` estimator), that object, rebuilt by
    the installed application named in the file (entry-point group
    :data:`APPLICATIONS`) -- or its network alone with ``network_only=True``.

    Raises
    ------
    ModelFileError
        The file is missing, truncated or corrupted, is not a neuroplug model, has
        unknown keys, wrong shapes or dtypes, non-finite weights or sizes beyond the
        limits, or names a component that is not installed or rejects its config;
        or it holds an application's object that is not installed or refuses its state.
    """
    from ..registry import get_registry

    get_registry().plugins()  # plugin loading problems are reported as such, not as a bad file
    with SafeArchive(path, "model") as archive:
        if "architecture" not in archive.names:
            raise archive.fail("it has no 'architecture' entry (not a neuroplug model)")
        arch = archive.json("architecture", max_bytes=_MAX_ARCHITECTURE_BYTES)
        application = arch.pop("application", None) if isinstance(arch, dict) else None
        layers_cfg, input_dim, dtype = _validate_architecture(archive.fail, arch)
        shapes, fan_in = [], input_dim
        for cfg in layers_cfg:
            shapes += [(fan_in, cfg["units"]), (cfg["units"],)]
            fan_in = cfg["units"]
        expected = {"architecture"} | {f"param_{i}" for i in range(len(shapes))}
        if archive.names != expected:
            extra, missing = sorted(archive.names - expected), sorted(expected - archive.names)
            raise archive.fail(f"it holds unexpected entries {extra} / lacks {missing}")
        layers = [_build_layer(archive.fail, i, cfg) for i, cfg in enumerate(layers_cfg)]
        arrays = []
        for i, shape in enumerate(shapes):
            arr = archive.array(f"param_{i}", shape=shape, kinds="f", dtypes=(np.dtype(dtype),),
                                max_bytes=_MAX_PARAMS * 8)
            if not np.isfinite(arr).all():
                raise archive.fail(f"its entry 'param_{i}' holds non-finite values (NaN or inf)")
            arrays.append(arr)
        network = _assemble(layers, input_dim, dtype, arrays)
        if application is None or network_only:
            return network
        return _rebuild(archive.fail, application, network)


def _rebuild(fail: Callable[[str], ModelFileError], application: Any, network: Any) -> Any:
    """The object an installed application rebuilds around ``network`` from the file's ``application``."""
    from importlib.metadata import entry_points

    if not (isinstance(application, dict) and set(application) == {"name", "state"}
            and isinstance(application["name"], str) and 1 <= len(application["name"]) <= _MAX_NAME_CHARS):
        raise fail(f"its application entry must be {{'name', 'state'}} with a name, got {_short(application)}")
    name = application["name"]
    found = [ep for ep in entry_points(group=APPLICATIONS) if ep.name == name]
    if len(found) != 1:
        why = "is not installed" if not found else f"is registered {len(found)} times"
        extra = ' (pip install "neuroplug[sklearn]")' if name == "sklearn" else ""
        raise fail(f"it holds an object of the application {name!r}, which {why}{extra}; "
                   f"neuroplug.load(path, network_only=True) gives its network")
    try:
        rebuild = found[0].load()
    except Exception as exc:  # noqa: BLE001 - a broken application is reported, not raised raw
        raise fail(f"the application {name!r} that reads it cannot be imported: {type(exc).__name__}: {exc}") \
            from None
    try:
        return rebuild(network, application["state"])
    except NeuroplugError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        raise fail(f"its {name} state is not valid: {exc}") from None


def network_from_config(arch: Any, weights: Any, fail: Callable[[str], ModelFileError] | None = None) -> Any:
    """Build a network from a stored architecture and its weights, validating both.

    ``arch`` is the architecture JSON of a model file (``format``, ``version``,
    ``input_dim``, ``dtype``, ``layers``); its components are created by name
    through the registry and no initializer runs. ``weights`` is the list of
    arrays (``W1, b1, ...``) or a function ``weights(i, shape, dtype)`` that reads
    array ``i`` (checkpoints read them from their file this way). Every problem
    raises ``fail(why)``, by default a :class:`~neuroplug.errors.ModelFileError`.
    """
    if fail is None:
        def fail(why: str) -> ModelFileError:
            return ModelFileError(f"invalid network architecture: {why}")
    layers_cfg, input_dim, dtype = _validate_architecture(fail, arch)
    shapes, fan_in = [], input_dim
    for cfg in layers_cfg:
        shapes += [(fan_in, cfg["units"]), (cfg["units"],)]
        fan_in = cfg["units"]
    if callable(weights):
        arrays = [weights(i, shape, np.dtype(dtype)) for i, shape in enumerate(shapes)]
    else:
        arrays = list(weights)
        if len(arrays) != len(shapes):
            raise fail(f"the architecture has {len(shapes)} weight arrays, got {len(arrays)}")
    for i, (arr, shape) in enumerate(zip(arrays, shapes)):
        if not isinstance(arr, np.ndarray) or arr.shape != shape or arr.dtype != np.dtype(dtype):
            raise fail(f"weight array {i} must be {dtype} of shape {shape}, got "
                       f"{getattr(arr, 'dtype', type(arr).__name__)} {getattr(arr, 'shape', '')}")
        if not np.isfinite(arr).all():
            raise fail(f"weight array {i} holds non-finite values (NaN or inf)")
    layers = [_build_layer(fail, i, cfg) for i, cfg in enumerate(layers_cfg)]
    return _assemble(layers, input_dim, dtype, arrays)


class _Stored:
    """Stands in for a layer's initializer while a loaded network is built: returns the stored array.

    So loading never runs an initializer (with a configuration read from the file)
    on a possibly large shape only to overwrite its result.
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __call__(self, fan_in: int, fan_out: int, rng: Any, dtype: Any) -> np.ndarray:
        return self.array


def _assemble(layers: list[Any], input_dim: int, dtype: str, arrays: list[np.ndarray]) -> Any:
    from ..model.network import Sequential

    originals = [(layer.init, layer.bias_init) for layer in layers]
    for i, layer in enumerate(layers):
        layer.init, layer.bias_init = _Stored(arrays[2 * i]), _Stored(arrays[2 * i + 1])
    try:
        net = Sequential(layers, input_dim=input_dim, seed=0, dtype=dtype)
    finally:
        for layer, (init, bias_init) in zip(layers, originals):
            layer.init, layer.bias_init = init, bias_init
    for p, arr in zip(net.parameters(), arrays):
        p[...] = arr  # also the bias of a layer without bias, as stored
    return net


_COMPONENT_FIELDS = (("activation", "activation"), ("init", "initializer"), ("bias_init", "initializer"))


def _build_layer(fail: Callable[[str], ModelFileError], i: int, cfg: dict[str, Any]) -> Any:
    """A Dense layer from a validated layer config, its components created by name via the registry."""
    from ..model.layers import Dense
    from ..registry import create

    components = {}
    for key, kind in _COMPONENT_FIELDS:
        spec = cfg[key]
        where = f"layer {i} {key} {spec['name']!r}"
        try:
            components[key] = create(kind, spec)
        except AmbiguousComponentError as exc:
            raise fail(f"{where}: {_clip(str(exc))}") from None
        except ComponentNotFoundError as exc:
            raise fail(f"layer {i} uses a component that is not installed: {_clip(str(exc))}") from None
        except ComponentError as exc:  # a component's own code rejected the config in its own way
            cause = exc.__cause__ if exc.__cause__ is not None else exc
            raise fail(f"{where} cannot be built from the config {_short(spec['config'])}: "
                       f"{type(cause).__name__}: {_clip(str(cause))}") from cause
        except NeuroplugError as exc:
            raise fail(f"{where} has an invalid configuration: {_clip(str(exc))}") from None
        except Exception as exc:  # a component's own code rejected the config in its own way
            raise fail(f"{where} cannot be built from the config {_short(spec['config'])}: "
                       f"{type(exc).__name__}: {_clip(str(exc))}") from exc
    try:
        return Dense(cfg["units"], use_bias=cfg["use_bias"], **components)
    except NeuroplugError as exc:
        raise fail(f"layer {i} has an invalid configuration: {_clip(str(exc))}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_architecture(fail: Callable[[str], ModelFileError], arch: Any) -> tuple[list[dict[str, Any]], int, str]:
    """Check the architecture JSON against the schema; return (layers, input_dim, dtype)."""
    if not isinstance(arch, dict):
        raise fail(f"the architecture must be a JSON object, got {type(arch).__name__}")
    allowed = {"format", "version", "input_dim", "dtype", "layers"}
    if set(arch) != allowed:
        raise fail(f"architecture keys must be {sorted(allowed)}, got {_short(sorted(arch))}")
    if arch["format"] != "neuroplug.sequential":
        raise fail(f"unknown format {_short(arch['format'])} (expected 'neuroplug.sequential')")
    if not _is_int(arch["version"]) or arch["version"] != FORMAT_VERSION:
        raise fail(f"format version {_short(arch['version'])} is not supported (this neuroplug reads {FORMAT_VERSION})")
    input_dim = arch["input_dim"]
    if not _is_int(input_dim) or not 1 <= input_dim <= _MAX_UNITS:
        raise fail(f"input_dim must be an integer in [1, {_MAX_UNITS}], got {_short(input_dim)}")
    if not isinstance(arch["dtype"], str) or arch["dtype"] not in ("float32", "float64"):
        raise fail(f"dtype must be 'float32' or 'float64', got {_short(arch['dtype'])}")
    layers = arch["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= _MAX_LAYERS:
        raise fail(f"layers must be a list of 1 to {_MAX_LAYERS} layers, got {_short(layers)}")
    fan_in, total = input_dim, 0
    layer_keys = {"type", "units", "activation", "init", "bias_init", "use_bias"}
    for i, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise fail(f"layer {i} must be a JSON object, got {_short(layer)}")
        if set(layer) != layer_keys:
            raise fail(f"layer {i} keys must be {sorted(layer_keys)}, got {_short(sorted(layer))}")
        if not isinstance(layer["type"], str) or layer["type"] != "dense":
            raise fail(f"layer {i} type must be 'dense', got {_short(layer['type'])}")
        units = layer["units"]
        if not _is_int(units) or not 1 <= units <= _MAX_UNITS:
            raise fail(f"layer {i} units must be an integer in [1, {_MAX_UNITS}], got {_short(units)}")
        if not isinstance(layer["use_bias"], bool):
            raise fail(f"layer {i} use_bias must be true or false, got {_short(layer['use_bias'])}")
        for key, kind in _COMPONENT_FIELDS:
            comp = layer[key]
            if not (isinstance(comp, dict) and set(comp) == {"kind", "name", "config"}):
                raise fail(f"layer {i} {key} must be an object with the keys ['config', 'kind', 'name'], "
                           f"got {_short(comp)}")
            if not isinstance(comp["kind"], str) or comp["kind"] != kind:
                raise fail(f"layer {i} {key} kind must be {kind!r}, got {_short(comp['kind'])}")
            name = comp["name"]
            if not isinstance(name, str) or not 1 <= len(name) <= _MAX_NAME_CHARS:
                raise fail(f"layer {i} {key} name must be a string of 1 to {_MAX_NAME_CHARS} characters, "
                           f"got {_short(name)}")
            if not isinstance(comp["config"], dict):
                raise fail(f"layer {i} {key} config must be a JSON object, got {_short(comp['config'])}")
        total += (fan_in + 1) * units
        fan_in = units
    if total > _MAX_PARAMS:
        raise fail(f"the architecture declares {total} parameters, more than {_MAX_PARAMS}")
    return layers, input_dim, arch["dtype"]
