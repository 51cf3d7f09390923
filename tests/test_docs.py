"""The documentation builds without a warning, its examples run, and its generated pages are complete.

The Sphinx builds run in subprocesses (``python -m sphinx``), as a user would run
them, into a temporary folder: the HTML with ``-W`` (warnings are errors), then
the doctest builder, which executes every example of the pages, on the same
doctrees. The checks on the built HTML then hold the acceptance criteria: every
built-in component has a generated entry with its formula and plot, every spec
check ID appears in the spec reference, the traceability table covers every
statement of the notes, and the math is served from the site itself.

Skipped when the documentation dependencies (the ``docs`` extra) are missing.
"""

from __future__ import annotations

import doctest
import html
import importlib
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

for _module in ("sphinx", "matplotlib", "furo"):
    pytest.importorskip(_module, reason=f"the docs extra is not installed ({_module} missing)")

KIND_PAGES = {"activation": "activations", "initializer": "initializers", "loss": "losses",
              "schedule": "schedules", "optimizer": "optimizers"}


def _env() -> dict[str, str]:
    """The environment without anything that changes plugin loading."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEUROPLUG_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _sphinx(builder: str, out: pathlib.Path, doctrees: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder, "-d", str(doctrees),
         str(DOCS), str(out)],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The HTML site, built once for this module with warnings as errors."""
    tmp = tmp_path_factory.mktemp("docs")
    proc = _sphinx("html", tmp / "html", tmp / "doctrees")
    assert proc.returncode == 0, f"sphinx-build -W -b html failed:\n{proc.stdout}\n{proc.stderr}"
    assert "WARNING" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr
    return tmp


def _page(built: pathlib.Path, name: str) -> str:
    return (built / "html" / f"{name}.html").read_text(encoding="utf-8")


def test_html_builds_without_warnings(built: pathlib.Path) -> None:
    assert (built / "html" / "index.html").is_file()


def test_every_example_in_the_pages_runs(built: pathlib.Path) -> None:
    proc = _sphinx("doctest", built / "doctest", built / "doctrees")
    assert proc.returncode == 0, f"sphinx-build -b doctest failed:\n{proc.stdout}\n{proc.stderr}"
    summary = (built / "doctest" / "output.txt").read_text(encoding="utf-8")
    assert re.search(r"\b0 failures in tests", summary), summary
    assert int(re.search(r"Doctest summary\s*=+\s*(\d+) tests", summary).group(1)) >= 50, summary


def _section(page: str, anchor: str) -> str:
    """The HTML of the section with id ``anchor`` (up to the next section of the same level)."""
    start = page.index(f'id="{anchor}"')
    end = page.find('id="component-', start + 1)
    return page[start:end if end > 0 else len(page)]


def test_every_builtin_component_has_an_entry_with_formula_plot_and_spec_results(built: pathlib.Path) -> None:
    import neuroplug as npl

    with npl.isolated_registry() as reg:
        entries = reg.entries()
    assert len(entries) >= 50
    pages = {kind: _page(built, f"reference/{page}") for kind, page in KIND_PAGES.items()}
    for entry in entries:
        anchor = "component-" + re.sub(r"[^a-z0-9]+", "-", f"{entry.kind}-{entry.qualified_name}".lower())
        page = pages[entry.kind]
        assert f'id="{anchor}"' in page, f"no reference entry for {entry.kind} {entry.qualified_name}"
        section = _section(page, anchor)
        assert 'class="math' in section, f"{entry.kind} {entry.name}: no formula"
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', section)
        assert images, f"{entry.kind} {entry.name}: no plot"
        png = (built / "html" / "reference" / images[0]).resolve()
        assert png.is_file() and png.stat().st_size > 2000, png
        assert "Passes " in section, f"{entry.kind} {entry.name}: no spec results"
        for param in (entry.registration.parameters or {}):
            assert f">{param}<" in section, f"{entry.kind} {entry.name}: parameter {param} missing"


def test_every_spec_check_is_in_the_spec_reference(built: pathlib.Path) -> None:
    from neuroplug.spec import all_checks

    page = _page(built, "reference/spec")
    for check in all_checks():
        assert f'id="{check.id.lower()}"' in page, f"{check.id} is missing from the spec reference"
        assert f"<h4>{check.id}" in page or f">{check.id}<" in page


def test_the_traceability_table_covers_every_statement_of_the_notes(built: pathlib.Path) -> None:
    from neuroplug.spec.traceability import STATEMENTS, table, uncovered

    assert uncovered() == []
    page = html.unescape(_page(built, "reference/spec"))
    start = page.index('id="check-traceability"')
    rows = page[start:page.index("</table>", start)]
    words = lambda text: " ".join(re.findall(r"\w+", re.sub(r"<[^>]+>", " ", text)))  # noqa: E731
    for key, text, ids in table():  # (smart quotes turn "..." into an ellipsis: compare words)
        assert words(text) in words(rows), f"statement {key!r} is missing from the traceability table"
        assert ids and all(f'href="#check-{i.lower()}"' in rows for i in ids), key
    assert len(table()) == len(STATEMENTS)


def test_math_is_served_from_the_site(built: pathlib.Path) -> None:
    site = built / "html"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert any((site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    page = _page(built, "concepts/chain-rule")
    assert "_static/mathjax/tex-chtml.js" in page
    for path in site.rglob("*.html"):
        assert "cdn.jsdelivr.net" not in path.read_text(encoding="utf-8"), path


def test_the_cli_reference_lists_every_subcommand_and_option(built: pathlib.Path) -> None:
    import argparse

    from neuroplug.cli import build_parser

    page = html.unescape(_page(built, "reference/cli"))
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in sub.choices.items():
        assert f'id="cli-{name}"' in page, name
        for action in subparser._actions:
            for option in action.option_strings:
                assert option in page, f"neuroplug {name} {option}"


def test_the_build_leaves_the_source_tree_alone(built: pathlib.Path) -> None:
    stray = [p for p in DOCS.rglob("*") if p.suffix in {".png", ".pickle", ".doctree"}
             and "_build" not in p.parts and "_static" not in p.parts]
    assert stray == [], f"the build wrote into docs/: {stray}"


# ------------------------------------------------------------------ docstring examples
PUBLIC_MODULES = ["neuroplug", "neuroplug.base", "neuroplug.types", "neuroplug.hookspecs", "neuroplug.registry",
                  "neuroplug.model.layers", "neuroplug.model.network", "neuroplug.training.api",
                  "neuroplug.training.callbacks", "neuroplug.training.checkpoint", "neuroplug.serialization.model_file",
                  "neuroplug.serialization.archive",
                  "neuroplug.errors", "neuroplug.datasets", "neuroplug.validation", "neuroplug.spec",
                  "neuroplug.spec.framework", "neuroplug.spec.runner", "neuroplug.spec.report"]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_docstring_examples_of_the_api_reference_run(name: str) -> None:
    """The ``>>>`` examples in the docstrings shown by the API reference, in their module's namespace."""
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    import neuroplug as npl

    with npl.isolated_registry():
        for test in finder.find(module, name, globs=dict(vars(module))):
            if test.name.split(".")[-1].startswith("neuroplug_"):  # hook specifications: plugin code
                continue
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see the output above)"


# ------------------------------------------------------------------ neuroplug docs
def test_the_reference_of_the_installed_components_builds(tmp_path: pathlib.Path) -> None:
    """What ``neuroplug docs`` runs: a standalone site for the components installed here."""
    code = f"import neuroplug.docgen as g; print(g.build_component_docs({str(tmp_path / 'site')!r}, run_spec=False))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    index = pathlib.Path(proc.stdout.strip().splitlines()[-1])
    assert index.is_file()
    page = (index.parent / "activation.html").read_text(encoding="utf-8")
    assert 'id="component-activation-neuroplug-tanh"' in page and "<img" in page
    assert (index.parent / "spec.html").is_file()
