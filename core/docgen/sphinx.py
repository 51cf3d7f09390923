r"""The component reference and the spec reference, generated from the installed code.

Nothing here is written by hand twice: every entry comes from the registry
(:meth:`neuroplug.registry.Registry.entries`) -- name, aliases, summary,
formula, derivative, parameters with their defaults, declared properties -- and
from the spec suite (:func:`neuroplug.spec.framework.all_checks`, the traceability table);
the plots are drawn with matplotlib (Agg) when the page is built, and the spec
checks each component passes come from running the suite on it.

Two ways to use it:

* as a Sphinx extension (``extensions = ["neuroplug_reference"]``), which adds
  the directives

  ``.. neuroplug-components:: KIND``
      a section per registered component of KIND (activation, initializer,
      loss, schedule, optimizer), with a summary table first;
  ``.. neuroplug-spec-reference::``
      the traceability table, then every spec check by kind and layer;
  ``.. neuroplug-plugins::``
      a table of the plugins the registry saw (loaded, failed, disabled);

  and the configuration values ``neuroplug_reference_builtins_only`` (document
  neuroplug's own components only, default False: every installed plugin),
  ``neuroplug_reference_run_spec`` (run the spec suite to list the checks each
  component passes, default True), ``neuroplug_reference_dpi`` (default 100) and
  ``neuroplug_offline_mathjax`` (default True: serve MathJax from the
  ``sphinx-mathjax-offline`` package instead of a CDN, when it is installed);

* as a function, :func:`build_component_docs`, which writes a small Sphinx
  project for the components installed in the running environment into a
  temporary folder and builds it to HTML -- what ``neuroplug docs`` runs, so a
  third-party plugin's components appear with their formulas, plots and spec
  results.

Importing this module imports neither Sphinx nor matplotlib; they are needed
only to build.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import os
import pathlib
import re
import shutil
import sys
import tempfile
from typing import Any, Iterator

__all__ = ["build_component_docs", "numpy_docstring_fixups", "setup", "KIND_TITLES"]

from .plots import PLOTTERS
from .render import (KIND_TITLES, _escape, _slug, numpy_docstring_fixups,
                     render_component, render_kind_summary, render_spec_reference)

# ============================================================================ data
@contextlib.contextmanager
def _registry(builtins_only: bool) -> Iterator[Any]:
    """The registry to document: a fresh built-ins-only one, or the process-wide one."""
    from neuroplug.registry import get_registry, isolated_registry

    if builtins_only:
        with isolated_registry() as reg:
            yield reg
    else:
        yield get_registry()


def _spec_results(builtins_only: bool, seed: int = 0) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """Run the spec suite on every documented component.

    Returns ``{(kind, qualified name): [(check ID, status, message)]}`` -- keyed by kind
    too, since one name can exist in two kinds (``constant``).
    """
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                          os.path.join(tempfile.gettempdir(), "neuroplug-hypothesis"))
    from neuroplug.spec.runner import run_subjects, subject_from_entry

    with _registry(builtins_only) as reg:
        subjects = [subject_from_entry(e, seed=seed) for e in reg.entries()]
        report = run_subjects(subjects)
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for r in report.results:
        out.setdefault((r.kind, r.component), []).append((r.check_id, r.status, r.message))
    return out


def _plot_name(kind: str, qualified_name: str) -> str:
    return f"{kind}-{_slug(qualified_name)}.png"


def _make_plots(builtins_only: bool, plot_dir: str, dpi: int) -> dict[tuple[str, str], tuple[str, str]]:
    """Draw the plot of every documented component: ``{(kind, qualified name): (caption, error)}``."""
    import warnings

    folder = pathlib.Path(plot_dir)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[tuple[str, str], tuple[str, str]] = {}
    with _registry(builtins_only) as reg, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for entry in reg.entries():
            key = (entry.kind, entry.qualified_name)
            try:
                out[key] = (PLOTTERS[entry.kind](entry, folder / _plot_name(*key), dpi), "")
            except Exception as exc:  # a broken plugin must not stop the build
                out[key] = ("", f"{type(exc).__name__}: {exc}")
    return out


def _worker_init() -> None:
    # one BLAS thread: the arrays are small, and a second process shares the two cores
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")


class _Precomputed:
    """The plots and the spec run of all documented components, made in a separate process.

    Started before Sphinx reads the pages (which it reads meanwhile); the
    directives wait for the results. A task the worker has not started when it
    is needed is done in this process instead; everything is computed
    in-process if a worker process cannot be started.
    """

    def __init__(self, builtins_only: bool, run_spec: bool, plot_dir: pathlib.Path, dpi: int) -> None:
        self.args = (builtins_only, run_spec, str(plot_dir), dpi)
        self._pool = None
        self._futures: dict[str, Any] = {}
        self._done: dict[str, Any] = {}
        try:
            import concurrent.futures
            import multiprocessing

            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
            # the spec run first: the plots are taken back by this process if it needs them
            # before the worker has started them (see _get), which balances the two cores
            if run_spec:
                self._futures["spec"] = self._pool.submit(_spec_results, builtins_only)
            self._futures["plots"] = self._pool.submit(_make_plots, builtins_only, str(plot_dir), dpi)
        except Exception:  # no process support: compute in-process on demand
            self.close()
            self._futures = {}

    def _get(self, what: str) -> Any:
        if what not in self._done:
            builtins_only, run_spec, plot_dir, dpi = self.args
            compute = {"plots": lambda: _make_plots(builtins_only, plot_dir, dpi),
                       "spec": lambda: _spec_results(builtins_only) if run_spec else None}[what]
            future = self._futures.get(what)
            if future is not None and future.cancel():  # not started yet: do it here, now
                future = None
            try:
                self._done[what] = future.result() if future is not None else compute()
            except Exception:  # the worker died: do it here
                self._done[what] = compute()
        return self._done[what]

    def plots(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self._get("plots")

    def spec(self) -> dict[tuple[str, str], list[tuple[str, str, str]]] | None:
        return self._get("spec")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _stable(value: Any) -> str:
    """A repr without memory addresses (functions by their qualified name)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_stable(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_stable(v) for v in value) + "]"
    if callable(value):
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', type(value).__name__)}"
    return repr(value)


def fingerprint(builtins_only: bool) -> str:
    """A hash of what the generated pages depend on: the components, their code and the checks."""
    import hashlib

    digest = hashlib.sha256()
    files: set[str] = set()
    with _registry(builtins_only) as reg:
        for e in reg.entries():
            r = e.registration
            fields = (e.kind, e.qualified_name, e.plugin.version, r.aliases, r.summary, r.formula, r.derivative,
                      r.properties, r.implements, r.replaces, sorted(r.expected_failed_checks.items()),
                      _stable(dict(r.parameters or {})), _stable(dict(r.spec_config or {})))
            digest.update(repr(fields).encode())  # no memory addresses: stable across processes
            with contextlib.suppress(TypeError, OSError):
                files.add(inspect.getsourcefile(r.factory) or "")
        for p in reg.plugins():
            digest.update(f"{p.label}|{p.status}|{p.error}".encode())
    import neuroplug.spec

    files.update(str(f) for f in pathlib.Path(neuroplug.spec.__file__).parent.glob("*.py"))
    files.add(__file__)
    for name in sorted(f for f in files if f):
        with contextlib.suppress(OSError):
            digest.update(pathlib.Path(name).read_bytes())
    return digest.hexdigest()


# ============================================================================ Sphinx
def _offline_mathjax_dir() -> pathlib.Path | None:
    """The MathJax 3 files shipped by the ``sphinx-mathjax-offline`` package, if installed."""
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = pathlib.Path(list(spec.submodule_search_locations)[0]) / "static" / "mathjax"
    return folder if (folder / "tex-chtml.js").is_file() else None


# MathJax components that tex-chtml.js loads lazily (fonts, TeX extensions, menu, a11y);
# the other combined bundles of the package are not needed.
_MATHJAX_KEEP = {"tex-chtml.js", "a11y", "input", "output", "sre", "ui", "adaptors"}


def _config_inited(app: Any, config: Any) -> None:
    if config.neuroplug_offline_mathjax and _offline_mathjax_dir() is not None:
        # relative to _static: served from the built site, no network at read time
        config.mathjax_path = "mathjax/tex-chtml.js"


def _copy_mathjax(app: Any, exc: Exception | None) -> None:
    source = _offline_mathjax_dir()
    if exc is not None or source is None or not app.config.neuroplug_offline_mathjax \
            or app.builder.format != "html":
        return
    target = pathlib.Path(app.outdir) / "_static" / "mathjax"
    if (target / "tex-chtml.js").is_file():
        return
    for item in sorted(source.iterdir()):
        if item.name not in _MATHJAX_KEEP:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target / item.name)


#: Formula and derivative side by side, compact fact tables (added to every HTML build).
CSS = """\
table.neuroplug-formulas { width: 100%; table-layout: fixed; }
table.neuroplug-formulas td { vertical-align: middle; }
table.neuroplug-formulas div.math { margin: 0.2em 0; overflow-x: auto; }
table.neuroplug-facts { width: 100%; font-size: 0.9em; }
table.neuroplug-facts td:first-child { font-weight: 600; width: 9em; }
table.neuroplug-facts td p, table.neuroplug-summary td p { margin: 0; }
table.neuroplug-summary, table.neuroplug-trace { font-size: 0.9em; }
figure.neuroplug-plot { margin: 0.5em 0; }
figure.neuroplug-plot img { max-width: 100%; height: auto; }
"""
_CSS_NAME = "neuroplug-reference.css"


def _write_css(app: Any, exc: Exception | None) -> None:
    if exc is None and app.builder.format == "html":
        static = pathlib.Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        (static / _CSS_NAME).write_text(CSS, encoding="utf-8")


class _State:
    """Per-build state: the registry mode, where plots go, and the precomputed results."""

    def __init__(self, app: Any) -> None:
        self.builtins_only = bool(app.config.neuroplug_reference_builtins_only)
        self.run_spec = bool(app.config.neuroplug_reference_run_spec)
        self.dpi = int(app.config.neuroplug_reference_dpi)
        self.plot_dir = pathlib.Path(app.doctreedir).parent / "neuroplug-plots"
        self.precomputed: _Precomputed | None = None

    def start(self) -> _Precomputed:
        if self.precomputed is None:
            self.precomputed = _Precomputed(self.builtins_only, self.run_spec, self.plot_dir, self.dpi)
        return self.precomputed


def _state(app: Any) -> _State:
    state = getattr(app, "_neuroplug_reference", None)
    if state is None:
        state = app._neuroplug_reference = _State(app)
    return state


def _build_finished(app: Any, exc: Exception | None) -> None:
    state = getattr(app, "_neuroplug_reference", None)
    if state is not None and state.precomputed is not None:
        state.precomputed.close()
    _copy_mathjax(app, exc)
    _write_css(app, exc)


def _make_directives() -> dict[str, type]:
    from docutils import nodes
    from docutils.statemachine import StringList
    from sphinx.util import logging
    from sphinx.util.docutils import SphinxDirective
    from sphinx.util.nodes import nested_parse_with_titles

    logger = logging.getLogger(__name__)

    class _Generated(SphinxDirective):
        def _parse(self, text: str) -> list[Any]:
            node = nodes.section()
            node.document = self.state.document
            source = self.get_source_info()[0] + f" <generated by {self.name}>"
            nested_parse_with_titles(self.state, StringList(text.splitlines(), source=source), node)
            return node.children

    class ComponentsDirective(_Generated):
        """``.. neuroplug-components:: KIND``: every registered component of KIND."""

        required_arguments = 1

        def run(self) -> list[Any]:
            kind = self.arguments[0].strip()
            if kind not in KIND_TITLES:
                raise self.error(f"unknown component kind {kind!r}; one of {', '.join(KIND_TITLES)}")
            pre = _state(self.env.app).start()
            doc_dir = pathlib.Path(self.env.doc2path(self.env.docname)).parent
            plots, spec = pre.plots(), pre.spec()
            parts = []
            with _registry(pre.args[0]) as reg:
                entries = reg.entries(kind)
                parts.append(render_kind_summary(entries))
                for entry in entries:
                    key = (kind, entry.qualified_name)
                    caption, error = plots.get(key, ("", "not plotted"))
                    uri = None
                    if not error:
                        png = pathlib.Path(pre.args[2]) / _plot_name(*key)
                        uri = os.path.relpath(png, doc_dir).replace(os.sep, "/")
                    else:
                        logger.warning("neuroplug reference: cannot plot %s %s: %s", kind,
                                       entry.qualified_name, error, location=self.get_location())
                    results = None if spec is None else spec.get(key, [])
                    if results and any(s in ("failed", "xpassed") for _, s, _ in results):
                        logger.warning("neuroplug reference: %s %s fails spec checks %s", kind,
                                       entry.qualified_name,
                                       ", ".join(i for i, s, _ in results if s in ("failed", "xpassed")),
                                       location=self.get_location())
                    parts.append(render_component(entry, reg, uri, caption, results, self.env.app, error))
            return self._parse("\n".join(parts))

    class SpecReferenceDirective(_Generated):
        """``.. neuroplug-spec-reference::``: traceability table and every check."""

        def run(self) -> list[Any]:
            return self._parse(render_spec_reference())

    class PluginsDirective(_Generated):
        """``.. neuroplug-plugins::``: every plugin the registry saw, with its status."""

        def run(self) -> list[Any]:
            with _registry(_state(self.env.app).builtins_only) as reg:
                plugins = reg.plugins()
                counts: dict[tuple[str, str], int] = {}
                for e in reg.entries():
                    key = (e.plugin.distribution, e.plugin.name)
                    counts[key] = counts.get(key, 0) + 1
            out = [".. list-table::", "   :header-rows: 1", "", "   * - plugin", "     - distribution",
                   "     - version", "     - components", "     - status"]
            for p in plugins:
                status = p.status + (f" ({p.phase}: {p.error})" if p.status == "failed" else
                                     f" ({p.error})" if p.status == "disabled" else "")
                out += [f"   * - ``{p.name}``", f"     - ``{p.distribution}``", f"     - {p.version or '—'}",
                        f"     - {counts.get((p.distribution, p.name), 0)}", f"     - {_escape(status)}"]
            return self._parse("\n".join(out) + "\n")

    return {"neuroplug-components": ComponentsDirective, "neuroplug-spec-reference": SpecReferenceDirective,
            "neuroplug-plugins": PluginsDirective}


_MARKER = re.compile(r"^\s*\.\. neuroplug-(components|spec-reference|plugins)::", re.M)


def _has_marker(env: Any, docname: str) -> bool:
    try:
        return bool(_MARKER.search(pathlib.Path(env.doc2path(docname)).read_text(encoding="utf-8")))
    except OSError:
        return False


def _before_read(app: Any, env: Any, docnames: list[str]) -> None:
    """Start the worker if a generated page is to be read, and read those pages last.

    The worker (plots, spec run) then overlaps the reading of every other page.
    """
    generated = {d for d in docnames if _has_marker(env, d)}
    if generated:
        _state(app).start()
        docnames.sort(key=lambda d: d in generated)


def _outdated(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """Re-read the generated pages when the components, their code or the checks changed."""
    state = _state(app)
    current = fingerprint(state.builtins_only)
    if getattr(env, "neuroplug_reference_fingerprint", None) == current:
        return []
    env.neuroplug_reference_fingerprint = current
    return [d for d in env.found_docs if d not in added and d not in changed and _has_marker(env, d)]


def setup(app: Any) -> dict[str, Any]:
    """Register the directives, configuration values and event handlers."""
    app.setup_extension("sphinx.ext.mathjax")
    app.add_config_value("neuroplug_reference_builtins_only", False, "env", bool)
    app.add_config_value("neuroplug_reference_run_spec", True, "env", bool)
    app.add_config_value("neuroplug_reference_dpi", 100, "env", int)
    app.add_config_value("neuroplug_offline_mathjax", True, "html", bool)
    for name, directive in _make_directives().items():
        app.add_directive(name, directive)
    app.add_css_file(_CSS_NAME)
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-before-read-docs", _before_read)
    app.connect("build-finished", _build_finished)
    from neuroplug import __version__

    return {"version": __version__, "parallel_read_safe": False, "parallel_write_safe": True}


# ============================================================================ standalone
_CONF = '''\
# Generated by {module}.build_component_docs: the reference of the installed components.
import sys
{path_line}
project = "neuroplug components"
extensions = [{module!r}]
neuroplug_reference_builtins_only = {builtins_only!r}
neuroplug_reference_run_spec = {run_spec!r}
html_theme = {theme!r}
html_title = "neuroplug: installed components"
html_static_path = []
html_show_copyright = False
exclude_patterns = ["_build"]
'''


def build_component_docs(output: str | os.PathLike[str], *, builtins_only: bool = False, run_spec: bool = True,
                         quiet: bool = True) -> pathlib.Path:
    """Build the component and spec reference of the installed components as HTML.

    Every component of every installed plugin (subject to the ``NEUROPLUG_*``
    environment variables) gets its formula, derivative, parameters, plot and
    spec results, exactly as in neuroplug's own documentation.

    Parameters
    ----------
    output : path
        The folder to write the HTML site into (created if needed).
    builtins_only : bool
        Document neuroplug's built-in components only.
    run_spec : bool
        Run the spec suite to list the checks each component passes (about 10 s
        for the built-ins).
    quiet : bool
        Print only warnings and errors.

    Returns
    -------
    pathlib.Path
        The ``index.html`` of the built site.

    Raises
    ------
    neuroplug.errors.NeuroplugError
        When Sphinx or matplotlib is missing, or the build fails.
    """
    from neuroplug.errors import NeuroplugError

    missing = [m for m in ("sphinx", "matplotlib") if importlib.util.find_spec(m) is None]
    if missing:
        raise NeuroplugError(f"building the docs needs {' and '.join(missing)}: "
                             f"pip install 'neuroplug[docs]'")
    from sphinx.cmd.build import build_main

    output = pathlib.Path(output).resolve()
    module = __name__
    # a top-level module (docs/_ext/) must be importable by the generated conf.py; a module
    # inside the neuroplug package already is (and its folder must not go on sys.path)
    path_line = "" if "." in module else f"sys.path.insert(0, {str(pathlib.Path(__file__).resolve().parent)!r})"
    theme = "furo" if importlib.util.find_spec("furo") is not None else "alabaster"
    with tempfile.TemporaryDirectory(prefix="neuroplug-docs-") as tmp:
        src = pathlib.Path(tmp) / "src"
        src.mkdir()
        (src / "conf.py").write_text(_CONF.format(module=module, path_line=path_line, builtins_only=builtins_only,
                                                  run_spec=run_spec, theme=theme), encoding="utf-8")
        pages = ["plugins"] + list(KIND_TITLES) + ["spec"]
        (src / "index.rst").write_text(
            "neuroplug: the installed components\n===================================\n\n"
            "Generated from the components registered in this environment by ``neuroplug docs``: "
            "formulas, derivatives, parameters, plots and the spec checks each one passes.\n\n"
            ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {p}\n" for p in pages), encoding="utf-8")
        (src / "plugins.rst").write_text("Plugins\n=======\n\n.. neuroplug-plugins::\n", encoding="utf-8")
        for kind, title in KIND_TITLES.items():
            (src / f"{kind}.rst").write_text(f"{title}\n{'=' * len(title)}\n\n.. neuroplug-components:: {kind}\n",
                                             encoding="utf-8")
        (src / "spec.rst").write_text("Spec reference\n==============\n\n.. neuroplug-spec-reference::\n",
                                      encoding="utf-8")
        args = ["-b", "html", "-d", str(pathlib.Path(tmp) / "doctrees"), str(src), str(output)]
        if quiet:
            args.insert(0, "-q")
        old_path = list(sys.path)
        try:
            status = build_main(args)
        finally:
            sys.path[:] = old_path
    if status != 0:
        raise NeuroplugError(f"the documentation build failed (sphinx exit status {status})")
    return output / "index.html"
