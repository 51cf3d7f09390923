"""The component reference: cards with formulas, plots and spec results, as a Sphinx extension and a command.

An application on top of the public API (the core never imports it): :mod:`.sphinx`
holds the Sphinx extension (``extensions = ["neuroplug.docgen"]``: the directives
``neuroplug-components``, ``neuroplug-spec-reference``, ``neuroplug-plugins``) and
:func:`build_component_docs` (what ``neuroplug docs`` runs); :mod:`.plots` draws each
component's figure (matplotlib, imported only when a page is built); :mod:`.render`
writes the reStructuredText. Importing it imports neither Sphinx nor matplotlib.
"""

from __future__ import annotations

from .render import KIND_TITLES, numpy_docstring_fixups
from .sphinx import build_component_docs, fingerprint, setup

__all__ = ["build_component_docs", "numpy_docstring_fixups", "setup", "fingerprint", "KIND_TITLES"]
