"""File formats: model files, and the safe archive and atomic-write primitives under them and checkpoints.

:mod:`.archive` holds the primitives (:func:`atomic_write`, :func:`check_writable`,
:func:`write_archive`, :class:`SafeArchive`), :mod:`.model_file` the model file
format (:func:`save`, :func:`load`). It imports the contract and the model; the
training loop (checkpoints) and the applications import it.
"""

from __future__ import annotations

from .archive import SafeArchive, atomic_write, check_writable, write_archive
from .model_file import FORMAT_VERSION, load, network_from_config, save

__all__ = ["save", "load", "network_from_config", "FORMAT_VERSION", "SafeArchive", "write_archive",
           "atomic_write", "check_writable"]
