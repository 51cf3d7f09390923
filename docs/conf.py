"""Sphinx configuration of the neuroplug documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``)::

    sphinx-build -W --keep-going -b html docs docs/_build/html       # the site
    sphinx-build -W --keep-going -b doctest docs docs/_build/doctest # run every example

``tests/test_docs.py`` runs both, so the examples cannot rot.

Math without network access
---------------------------
``sphinx.ext.mathjax`` loads MathJax from a CDN by default, so formulas would
not render offline. ``sphinx.ext.imgmath`` needs LaTeX and dvipng (system
packages, heavy). Instead, the ``docs`` extra installs ``sphinx-mathjax-offline``
from PyPI, a package that only ships the MathJax 3.2.2 files. The
``neuroplug.docgen`` extension points ``mathjax_path`` at
``_static/mathjax/tex-chtml.js`` and copies the MathJax files the page needs (the
CommonHTML output with its fonts and the lazily loaded TeX extensions, about
10 MB) into the built site, so the pages render their math from the site itself,
from ``file://`` too. Without that package the build still works and falls back
to the CDN. ``neuroplug_offline_mathjax = False`` below would choose the CDN.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import tempfile

DOCS = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# Plots are drawn at build time, without a display.
os.environ.setdefault("MPLBACKEND", "Agg")
# The arrays of the examples are tiny: BLAS threads would only spin against the
# worker process that draws the component plots and runs the spec suite.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The spec suite (run to list the checks each component passes) uses hypothesis,
# whose example database would otherwise land in the current directory.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "neuroplug-hypothesis"))

import neuroplug  # noqa: E402

# -- project ---------------------------------------------------------------------------
project = "neuroplug"
author = "the neuroplug developers"
copyright = "the neuroplug developers, BSD-3-Clause"
release = neuroplug.__version__
version = ".".join(release.split(".")[:2])

# -- extensions ------------------------------------------------------------------------
# the generator ships inside neuroplug, so ``neuroplug docs`` can use it without docs/
_reference_extension = "neuroplug.docgen"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "matplotlib.sphinxext.plot_directive",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    _reference_extension,  # component and spec reference, generated from the registry
    "neuroplug_cli",  # CLI reference, generated from neuroplug.cli.build_parser()
]

# The docs document neuroplug's own components only, whatever else is installed
# in the building environment (``neuroplug docs`` documents every installed plugin).
neuroplug_reference_builtins_only = True
neuroplug_reference_dpi = 100
neuroplug_offline_mathjax = True

exclude_patterns = ["_build", "_ext", "examples", "spec-reference.md", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
root_doc = "index"
default_role = "code"  # `x` means inline code, never an unresolved reference
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# -- autodoc (numpy-style docstrings through napoleon) ---------------------------------
# neuroplug.testing is a pytest plugin: without pytest (the docs extra alone), autodoc
# imports it with pytest mocked (its decorators then pass the functions through).
autodoc_mock_imports = [] if importlib.util.find_spec("pytest") else ["pytest"]
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True

# -- doctest ---------------------------------------------------------------------------
doctest_global_setup = """
import numpy as np
import neuroplug as npl
"""
# Bare ">>>" blocks (the docstring examples shown by autodoc) are not run here: they are
# written for their module's namespace, and tests/test_docs.py runs them with doctest.
doctest_test_doctest_blocks = ""

# -- plots (matplotlib's plot directive, for the concepts pages) ----------------------
# 100 dpi at the default size of 6.4 inches: 640 px wide, the width of the page's text column
plot_formats = [("png", 100)]
plot_html_show_formats = False
plot_html_show_source_link = False
plot_include_source = False
plot_pre_code = "import numpy as np\nimport neuroplug as npl\nimport matplotlib.pyplot as plt\n"
plot_rcparams = {"figure.figsize": (6.4, 3.6), "figure.autolayout": True, "font.size": 10,
                 "axes.grid": True, "grid.alpha": 0.4,
                 "axes.spines.top": False, "axes.spines.right": False, "legend.frameon": False}
plot_apply_rcparams = True

# -- gallery (sphinx-gallery) ----------------------------------------------------------
# docs/examples/plot_*.py are executed at build time; their pages, figures, downloadable
# scripts and notebooks are written to docs/gallery/ (generated, not in git). An example
# that raises fails the build. Only examples whose source changed run again in a build
# folder that already has them (sphinx-gallery keeps an md5 of each).
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "neuroplug_gallery.ExampleOrder",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "write_computation_times": False,  # no sg_execution_times.rst in the source folder
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "image_srcset": [],
    "capture_repr": (),
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
    "default_thumb_file": None,
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"neuroplug {release}"
html_static_path: list[str] = []  # the reference's CSS comes with the neuroplug_reference extension
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True


def setup(app):
    """Repair numpy-docstring forms napoleon misreads, before napoleon runs (priority < 500)."""
    import importlib

    fixups = importlib.import_module(_reference_extension).numpy_docstring_fixups

    def fix(app, what, name, obj, options, lines):
        lines[:] = fixups(lines)

    app.connect("autodoc-process-docstring", fix, priority=400)

    def skip_routing(app, what, name, obj, skip, options):
        # scikit-learn's generated metadata-routing setters (set_fit_request, ...): its API, not ours
        return True if name.startswith("set_") and name.endswith("_request") else None

    app.connect("autodoc-skip-member", skip_routing)

    def drop_unreadable_sources(app, *args):
        # sphinx.ext.viewcode lists every module it tried in _modules/index.html, even those whose
        # source it could not read (pytest, mocked when only the docs extra is installed), and so
        # links pages it never writes. Forget those before it writes its pages (priority < 500).
        modules = getattr(app.env, "_viewcode_modules", None)
        if isinstance(modules, dict):
            for name in [name for name, entry in modules.items() if entry is False]:
                del modules[name]
        return []

    app.connect("html-collect-pages", drop_unreadable_sources, priority=400)
