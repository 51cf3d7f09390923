"""The order of the gallery's examples: from the first network to publishing a plugin.

sphinx-gallery sorts the examples of a folder with a key class, which it names
by import path (``within_subsection_order``) so that the configuration stays
picklable. Examples not listed here come after the listed ones, by file name.
"""

from __future__ import annotations

import os

#: The examples in reading order: a first network, then the concepts pages'
#: questions, then the tools.
ORDER = (
    "plot_digits.py",
    "plot_initialization_depth.py",
    "plot_learning_rate.py",
    "plot_losses.py",
    "plot_chain_rule.py",
    "plot_plugin.py",
    "plot_compare.py",
    "plot_sklearn.py",
)


class ExampleOrder:
    """Sort key of sphinx-gallery: the position in :data:`ORDER`, then the file name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = os.path.basename(filename)
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
