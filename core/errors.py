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
    ├── NonFiniteError(FloatingPointError)   a computation produced inf or NaN
    │   └── DivergenceError               training produced a non-finite loss,
    │                                     gradient or weight
    ├── ModelFileError(ValueError)        a model or checkpoint file is invalid or unsafe
    └── FileWriteError(OSError)           a file cannot be written there (no such folder,
                                          a directory, no permission, a full disk)

    TrainingInterrupted(KeyboardInterrupt)  Ctrl-C stopped ``fit`` cleanly; it
                                          carries the checkpoint (deliberately not
                                          a NeuroplugError: ``except Exception``
                                          must not swallow Ctrl-C)
"""

from __future__ import annotations

from typing import Any

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
    "NonFiniteError",
    "DivergenceError",
    "ModelFileError",
    "FileWriteError",
    "TrainingInterrupted",
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


class NonFiniteError(NeuroplugError, FloatingPointError):
    """A computation on finite inputs produced ``inf`` or ``NaN`` (e.g. an overflow)."""


class DivergenceError(NonFiniteError):
    """Training produced a non-finite loss, gradient or weight.

    :func:`~neuroplug.fit` restores the weights (and the optimizer state) to the
    last finite state before raising. The attributes say where it happened.

    Attributes
    ----------
    epoch, step, batch : int or None
        The epoch, the global step and the batch within the epoch of the failing step.
    lr : float or None
        The learning rate of that step.
    where : str or None
        What first held a non-finite value, e.g. ``"the output of layer 1 (activation 'exp')"``.
    history : History or None
        What :func:`~neuroplug.fit` would have returned for the epochs completed before the
        failing one (empty when it failed in the first; None when not raised by fit): the
        losses that led up to it.
    """

    def __init__(self, message: str, *, epoch: int | None = None, step: int | None = None,
                 batch: int | None = None, lr: float | None = None, where: str | None = None,
                 history: Any = None) -> None:
        super().__init__(message)
        self.epoch, self.step, self.batch, self.lr, self.where = epoch, step, batch, lr, where
        self.history = history


class ModelFileError(NeuroplugError, ValueError):
    """A saved model or checkpoint file is truncated, corrupted, unsafe or refers to missing components."""


class FileWriteError(NeuroplugError, OSError):
    """A file cannot be written where the caller asked: the folder does not exist, the
    path is a directory or a special file, permission is denied, the disk is full ...

    The message names the path the caller gave (never a temporary file); nothing is
    left behind and a file that was there before is unchanged. ``errno`` is the
    operating system's error number when there is one, ``filename`` the path given.
    """

    def __init__(self, message: str, path: str | None = None, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno, self.filename = errno, path

    def __str__(self) -> str:  # OSError would format "[Errno n] ..." from errno and strerror
        return str(self.args[0]) if self.args else ""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped :func:`~neuroplug.fit` between two steps.

    A ``KeyboardInterrupt``, so scripts stop as they would on Ctrl-C, but raised
    only after the network, the optimizer and the counters are in a consistent
    state and (with ``checkpoint=``) a checkpoint has been written.

    Attributes
    ----------
    checkpoint : Checkpoint
        The full training state at the interruption (in memory); pass it to
        ``fit(..., resume=...)`` or call its ``save(path)``.
    path : str or None
        Where the checkpoint was written, if ``fit`` had a checkpoint path.
    """

    def __init__(self, message: str, checkpoint: object = None, path: str | None = None) -> None:
        super().__init__(message)
        self.checkpoint, self.path = checkpoint, path
