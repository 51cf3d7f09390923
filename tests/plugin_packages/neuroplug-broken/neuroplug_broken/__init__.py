"""Deliberately broken neuroplug plugins (see README.md); each submodule is one plugin."""

import os


def mark_imported(name: str) -> None:
    """Append ``name`` to the file in ``$NEUROPLUG_BROKEN_MARKER``, if that variable is set."""
    path = os.environ.get("NEUROPLUG_BROKEN_MARKER")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
