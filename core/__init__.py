"""neuroplug: a small numpy neural-network framework in which every component is a plugin.

Quick start::

    import neuroplug as npl

    X_train, X_test, y_train, y_test = npl.datasets.load_digits_split(seed=0)
    net = npl.Sequential(
        [npl.Dense(64, activation="tanh", init="normalized_xavier"),
         npl.Dense(10, activation="softmax")],
        input_dim=64, seed=0)
    history = npl.fit(net, X_train, y_train, loss="cross_entropy", lr=0.5,
                      schedule="step_decay", epochs=20, batch_size=32,
                      validation_data=(X_test, y_test))
    net.predict(X_test)

Activations, initializers, losses, schedules and optimizers are named components
provided by plugins (``neuroplug list`` shows them). The public names below are
imported lazily, so ``import neuroplug`` itself loads neither numpy nor any plugin.

The package reads in layers whose imports point one way: the *plugin contract*
at the top level (:mod:`.base`, :mod:`.types`, :mod:`.hookspecs`,
:mod:`.registry`, :mod:`.errors`, :mod:`.validation` -- all a plugin needs), then
:mod:`.model`, :mod:`.serialization` and :mod:`.datasets`, :mod:`.training`, and
the applications (:mod:`.cli`, :mod:`.docgen`, :mod:`.testing`, :mod:`.spec`,
:mod:`.sklearn`, :mod:`.comparison`).
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> submodule that defines it (PEP 562 lazy attributes)
_LAZY = {
    # interfaces
    "Component": "base",
    "Activation": "base",
    "Initializer": "base",
    "Loss": "base",
    "Schedule": "base",
    "Optimizer": "base",
    # registrations and hooks
    "ComponentRegistration": "types",
    "ActivationRegistration": "types",
    "InitializerRegistration": "types",
    "LossRegistration": "types",
    "ScheduleRegistration": "types",
    "OptimizerRegistration": "types",
    "Param": "types",
    "hookimpl": "hookspecs",
    # registry
    "Registry": "registry",
    "get_registry": "registry",
    "create": "registry",
    "describe": "registry",
    "register": "registry",
    "unregister": "registry",
    "register_activation": "registry",
    "register_initializer": "registry",
    "register_loss": "registry",
    "register_schedule": "registry",
    "register_optimizer": "registry",
    "isolated_registry": "registry",
    # models and training
    "Dense": "model.layers",
    "Sequential": "model.network",
    "fit": "training.api",
    "History": "training.callbacks",
    "Callback": "training.callbacks",
    "EarlyStopping": "training.callbacks",
    "save": "serialization.model_file",
    "load": "serialization.model_file",
    "Checkpoint": "training.checkpoint",
    "Checkpointing": "training.checkpoint",
    "load_checkpoint": "training.checkpoint",
    # comparisons (joblib, Dask and matplotlib only when used)
    "compare": "comparison.sweep",
    # errors
    "NeuroplugError": "errors",
    "InputError": "errors",
    "ShapeError": "errors",
    "ConfigError": "errors",
    "ComponentNotFoundError": "errors",
    "AmbiguousComponentError": "errors",
    "DuplicateComponentError": "errors",
    "PluginError": "errors",
    "ComponentError": "errors",
    "FileWriteError": "errors",
    "NonFiniteError": "errors",
    "DivergenceError": "errors",
    "ModelFileError": "errors",
    "TrainingInterrupted": "errors",
}
_SUBMODULES = {"datasets", "errors", "validation", "base", "types", "hookspecs", "registry",
               "model", "training", "serialization", "testing", "cli", "spec", "docgen", "comparison"}

#: Modules that moved into subpackages. Their old paths keep working: ``npl.network`` and
#: ``import neuroplug.network`` / ``from neuroplug.network import Sequential`` give
#: ``neuroplug.model.network`` itself (the same module object, not a copy).
_MOVED = {"layers": "model.layers", "network": "model.network", "checkpoint": "training.checkpoint",
          "docs_gen": "docgen"}


class _MovedModules:
    """Import-system finder for the old paths of :data:`_MOVED` (only those: every other name is left alone)."""

    _specs: dict[str, Any] = {}

    @classmethod
    def find_spec(cls, fullname: str, path: Any = None, target: Any = None) -> Any:
        package, _, old = fullname.partition(".")
        if package != __name__ or old not in _MOVED:
            return None
        import importlib.util

        return importlib.util.spec_from_loader(fullname, cls)

    @classmethod
    def create_module(cls, spec: Any) -> Any:
        module = importlib.import_module(f"{__name__}.{_MOVED[spec.name.partition('.')[2]]}")
        cls._specs[spec.name] = module.__spec__  # the import system sets __spec__ after this: put back below
        return module

    @classmethod
    def exec_module(cls, module: Any) -> None:
        spec = cls._specs.pop(getattr(module.__spec__, "name", ""), None)
        if spec is not None:
            module.__spec__ = spec


if not any(finder is _MovedModules or getattr(finder, "__qualname__", "") == "_MovedModules"
           for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules)

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _MOVED:  # npl.network and the like, from before the model/training subpackages
        return importlib.import_module(f"{__name__}.{_MOVED[name]}")
    raise AttributeError(f"module 'neuroplug' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .base import Activation, Component, Initializer, Loss, Optimizer, Schedule
    from .errors import *  # noqa: F401,F403
    from .hookspecs import hookimpl
    from .model import Dense, Sequential
    from .registry import (Registry, create, describe, get_registry, isolated_registry, register,
                           register_activation, register_initializer, register_loss,
                           register_optimizer, register_schedule, unregister)
    from .serialization import load, save
    from .training import Callback, EarlyStopping, History, fit
    from .types import (ActivationRegistration, ComponentRegistration, InitializerRegistration,
                        LossRegistration, OptimizerRegistration, Param, ScheduleRegistration)
