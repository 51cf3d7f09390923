"""The exceptions neuroplug raises.

Every error derives from :class:`NeuroplugError` *and* from the matching built-in
exception, so ``except ValueError`` keeps working for callers who do not know
neuroplug::

    NeuroplugError
    ├── InputError(ValueError)            bad data or argument given by the caller
    │   └── ShapeError                    an array has the wrong rank or size
    ├── ConfigError(ValueError)           bad component parameter or configuration
    ├── ComponentNotFoundError(LookupError, KeyError)
    │   └── AmbiguousComponentError       a bare name provided by two plugins
    ├── DuplicateComponentError(ValueError)
    ├── PluginError(RuntimeError)         a plugin failed (raised in strict mode)
    ├── ComponentError(RuntimeError)      a component raised inside ``fit``
    ├── DivergenceError(FloatingPointError)  a non-finite loss or gradient
    └── ModelFileError(ValueError)        a model file is invalid or unsafe
"""

from __future__ import annotations

__all__ = [
    "NeuroplugError",
    "InputError",
    "ShapeError",
    "ConfigError",
    "ComponentNotFoundError",
    "AmbiguousComponentError",
    "DuplicateComponentError",
    "PluginError",
    "ComponentError",
    "DivergenceError",
    "ModelFileError",
]


class NeuroplugError(Exception):
    """Base class of every error neuroplug raises on purpose."""


class InputError(NeuroplugError, ValueError):
    """An argument or data array given by the caller is invalid."""


class ShapeError(InputError):
    """An array has the wrong rank or size for where it is used."""


class ConfigError(NeuroplugError, ValueError):
    """A component parameter or a configuration value is invalid."""


class ComponentNotFoundError(NeuroplugError, LookupError):
    """No component of the requested kind has the requested name."""

    def __str__(self) -> str:  # LookupError/KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class AmbiguousComponentError(ComponentNotFoundError):
    """A bare component name is provided by two or more third-party plugins."""


class DuplicateComponentError(NeuroplugError, ValueError):
    """A name is registered twice without an explicit ``replace=True``."""


class PluginError(NeuroplugError, RuntimeError):
    """A plugin failed to load or returned invalid registrations.

    Raised only in strict mode (``NEUROPLUG_STRICT_PLUGINS=1``); otherwise the
    failure is reported as a warning and the plugin is skipped.
    """


class ComponentError(NeuroplugError, RuntimeError):
    """A component raised an exception while it was being used."""


class DivergenceError(NeuroplugError, FloatingPointError):
    """Training produced a non-finite loss or gradient."""


class ModelFileError(NeuroplugError, ValueError):
    """A saved model file is truncated, corrupted, unsafe or refers to missing components."""
