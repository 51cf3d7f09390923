"""numpy for the modules a plugin listing imports, imported when first used.

``neuroplug list`` and loading the registry import :mod:`neuroplug.base` and the
built-in plugin modules, but never compute: numpy's import (about half the time
of a listing) is paid only when a component first touches an array. A module
writes::

    if TYPE_CHECKING:
        import numpy as np
    else:
        np = LazyNumpy(globals())

and then uses ``np`` as usual, except at import time (defaults such as
``dtype="float32"`` are strings, which numpy accepts wherever a dtype goes). The
first attribute looked up imports numpy and puts numpy itself in place of the
stand-in, so every later ``np.`` is the plain global look-up of numpy: nothing is
added to the hot path. Nothing outside the module's own globals is changed.
"""

from __future__ import annotations

from typing import Any


class LazyNumpy:
    """Stands in for ``np`` in one module's globals until the first attribute is looked up."""

    __slots__ = ("_namespace",)

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        import numpy

        self._namespace["np"] = numpy  # from now on the module's ``np`` is numpy itself
        return getattr(numpy, name)

    def __repr__(self) -> str:
        return "<numpy, imported at first use>"
