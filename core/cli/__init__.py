"""The ``neuroplug`` command line (an application on top of the public API).

:mod:`.main` runs a command and turns every user or environment error into one
line and a documented exit status (:data:`EXIT_CODES`); :mod:`.parser` holds the
options and the checks of their values; :mod:`.commands` the sub-commands, each a
thin layer over the public API. See ``neuroplug --help`` and the CLI guide.
"""

from __future__ import annotations

from .main import EXIT_CODES, main
from .parser import build_parser

__all__ = ["main", "build_parser", "EXIT_CODES"]
