"""reStructuredText of the component reference: a card per component, the kind summaries, the spec reference."""

from __future__ import annotations

import contextlib
import inspect
import re
import textwrap
from typing import Any

from .plots import _short
from .usage import usage_example

__all__ = ["render_component", "render_kind_summary", "render_spec_reference", "numpy_docstring_fixups",
           "KIND_TITLES", "component_label", "check_label"]

KIND_TITLES = {"activation": "Activations", "initializer": "Initializers", "loss": "Losses",
               "schedule": "Learning-rate schedules", "optimizer": "Optimizers"}
_LAYER_TITLES = {"contract": "Contract checks", "formula": "Formula checks", "property": "Property checks"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def component_label(kind: str, qualified_name: str) -> str:
    """The Sphinx label of a component's section, e.g. ``component-activation-neuroplug-tanh``."""
    return f"component-{kind}-{_slug(qualified_name)}"


def check_label(check_id: str) -> str:
    """The Sphinx label of a spec check, e.g. ``check-act-tanh``."""
    return f"check-{check_id.lower()}"


# ============================================================================ rST
def _indent(text: str, spaces: int) -> str:
    return textwrap.indent(text, " " * spaces)


def _math_block(latex: str, indent: int) -> str:
    if not latex.strip():
        return " " * indent + "—"
    return " " * indent + ".. math::\n\n" + _indent(latex.strip(), indent + 3)


def _literal(value: Any) -> str:
    from neuroplug.types import REQUIRED

    if value is REQUIRED:
        return "*required*"
    if callable(value) and not isinstance(value, type):
        return f"``{getattr(value, '__name__', repr(value))}``"
    return f"``{value!r}``"


_NUMPY_SECTION = re.compile(r"^-{3,}$")
_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*(\s*:.*)?$")
_ENTRY_SECTIONS = {"Parameters", "Other Parameters", "Attributes", "Keyword Arguments"}


def numpy_docstring_fixups(lines: list[str]) -> list[str]:
    """Repair two numpy-docstring forms napoleon misreads, before napoleon sees them.

    * A free paragraph after the entries of a Parameters/Attributes section (napoleon
      would read each of its lines as a parameter): a ``Notes`` header is put before it.
    * ``a, b : type`` in an Attributes section (napoleon emits ``:ivar a, b:``, which
      Sphinx reads as type ``a,`` and name ``b``): one entry per name.
    """
    out: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _NUMPY_SECTION.match(nxt.strip()) and not line[:1].isspace():
            section = line.strip()
            out += [line, nxt]
            i += 2
            continue
        if section in _ENTRY_SECTIONS and line.strip() and not line[:1].isspace():
            if not _ENTRY.match(line.strip()) and (not out or not out[-1].strip()):
                out += ["Notes", "-----"]
                section = "Notes"
            elif section == "Attributes" and "," in line.split(" : ")[0]:
                names, _, kind = line.partition(" : ")
                body = []
                while i + 1 < len(lines) and (not lines[i + 1].strip() or lines[i + 1][:1].isspace()):
                    if not lines[i + 1].strip() and (i + 2 >= len(lines) or not lines[i + 2][:1].isspace()):
                        break
                    i += 1
                    body.append(lines[i])
                for name in (n.strip() for n in names.split(",")):
                    out += [f"{name} : {kind}" if kind else name, *body]
                i += 1
                continue
        out.append(line)
        i += 1
    return out


def _docstring_rst(factory: Any, app: Any) -> str:
    """The factory's docstring as rST (numpy sections converted by napoleon when available)."""
    doc = inspect.getdoc(factory) if isinstance(factory, type) else None
    if not doc or doc == inspect.getdoc(getattr(factory, "__mro__", [None, None])[1]):
        return ""
    with contextlib.suppress(Exception):
        from sphinx.ext.napoleon import Config, NumpyDocstring

        # outside a Python object description, fields such as ":param x:" would show raw:
        # render Parameters as one "Parameters" field with a list instead
        config = Config(napoleon_use_param=False, napoleon_use_keyword=False, napoleon_use_rtype=False,
                        napoleon_use_ivar=True, napoleon_google_docstring=False)
        doc = "\n".join(numpy_docstring_fixups(doc.splitlines()))
        return str(NumpyDocstring(doc, config, app, what="class", name=factory.__qualname__, obj=factory))
    return doc


def render_component(entry: Any, reg: Any, image_uri: str | None, caption: str, spec: list | None,
                     app: Any = None, plot_error: str | None = None) -> str:
    """rST of one component's section: formulas, plot, facts, spec results, class docstring."""
    r = entry.registration
    kind = r.kind
    title = f"``{r.name}``" + ("" if entry.plugin.builtin else f" ({entry.plugin.distribution})")
    out = [f".. _{component_label(kind, entry.qualified_name)}:", "", title, "-" * (len(title) + 4), ""]
    if r.summary:
        out += [_escape(r.summary.strip()), ""]
    if r.derivative:  # the formula and its derivative side by side
        out += [".. list-table::", "   :class: neuroplug-formulas", "   :header-rows: 1", "   :widths: 1 1", "",
                "   * - formula", "     - derivative",
                "   * -", _math_block(r.formula, 7) if r.formula else "       —",
                "     -", _math_block(r.derivative, 7), ""]
    elif r.formula:
        out += [_math_block(r.formula, 0), ""]
    if image_uri:
        out += [f".. figure:: {image_uri}", f"   :alt: plot of the {kind} {r.name}", "   :class: neuroplug-plot",
                "", _indent(caption, 3), ""]
    elif plot_error:
        out += [".. warning::", "", _indent(f"No plot: drawing it raised ``{_escape(plot_error)}``.", 3), ""]
    example = usage_example(entry, entry.qualified_name if reg.shadowed(entry) else r.name)
    if example is not None:
        # run by the doctest builder where the docs load sphinx.ext.doctest, shown as code elsewhere
        runnable = app is not None and "sphinx.ext.doctest" in getattr(app, "extensions", {})
        out += [".. rubric:: Usage", "", ".. testcode::" if runnable else ".. code-block:: python", "",
                _indent(example, 3), ""]
    factory = r.factory
    where = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', repr(factory))}"
    version = f" {entry.plugin.version}" if entry.plugin.version else ""
    name = f"``{r.name}``, qualified ``{entry.qualified_name}``"
    if reg.shadowed(entry):
        name += " -- *shadowed*: the bare name resolves to another component, use the qualified name"
    params = dict(r.parameters or {})
    shown = "; ".join(f"``{k}`` = {_literal(v)}" for k, v in params.items()) or "none"
    spec_config = dict(r.spec_config or {})
    if spec_config:
        shown += (" (the spec suite and the plot use "
                  + ", ".join(f"``{k}={_short(v)}``" for k, v in spec_config.items()) + ")")
    rows = [("name", name),
            ("aliases", ", ".join(f"``{a}``" for a in r.aliases) or "none"),
            ("parameters", shown),
            ("properties", ", ".join(f"``{p}``" for p in r.properties) or "none declared"),
            ("plugin", f"``{entry.plugin.label}`` (distribution ``{entry.plugin.distribution}``{version})"),
            ("class", f"``{where}``")]
    if r.implements:
        rows.append(("implements", ", ".join(f"``{p}``" for p in r.implements)))
    if r.replaces:
        rows.append(("replaces", f"``{r.replaces}``"))
    out += [".. list-table::", "   :class: neuroplug-facts", "   :widths: 1 5", ""]
    for label, value in rows:
        out += [f"   * - {label}", f"     - {value}"]
    out.append("")
    if spec is not None:
        out += _render_spec_results(spec)
    doc = _docstring_rst(factory, app)
    if doc.strip():
        out += [".. rubric:: Details (from the class docstring)", "", doc.strip(), ""]
    return "\n".join(out) + "\n"


def _render_spec_results(results: list[tuple[str, str, str]]) -> list[str]:
    passed = [i for i, s, _ in results if s == "passed"]
    skipped = [i for i, s, _ in results if s == "skipped"]
    xfailed = [(i, m) for i, s, m in results if s == "xfailed"]
    bad = [(i, s, m) for i, s, m in results if s in ("failed", "xpassed")]
    ref = lambda i: f":ref:`{i} <{check_label(i)}>`"  # noqa: E731
    out = [".. rubric:: Spec checks", ""]
    out += [f"**Passes {len(passed)}:** " + (", ".join(ref(i) for i in passed) or "none") + ".", ""]
    if xfailed:
        out += ["**Fails as declared:** " + "; ".join(f"{ref(i)} ({m.splitlines()[0]})" for i, m in xfailed), ""]
    if skipped:
        out += [f"*Not applicable ({len(skipped)}):* " + ", ".join(ref(i) for i in skipped) + ".", ""]
    for i, s, m in bad:
        out += [".. error::", "", _indent(f"{ref(i)} {s}:", 3), "", _indent("::", 3), "",
                _indent(m or s, 6), ""]
    return out


def render_kind_summary(entries: list[Any]) -> str:
    """A table of every component of a kind: name (linked), aliases, summary."""
    out = [".. list-table::", "   :header-rows: 1", "   :widths: 2 2 6", "   :class: neuroplug-summary", "",
           "   * - name", "     - aliases", "     - summary"]
    for e in entries:
        r = e.registration
        label = component_label(r.kind, e.qualified_name)
        suffix = "" if e.plugin.builtin else f" ({e.plugin.distribution})"
        out += [f"   * - :ref:`{r.name}{suffix} <{label}>`",
                f"     - {', '.join(f'``{a}``' for a in r.aliases) or '—'}",
                f"     - {_escape(r.summary.strip()) or '—'}"]
    return "\n".join(out) + "\n"


def render_spec_reference() -> str:
    """rST of the spec reference: the traceability table, then every check by kind and layer."""
    from neuroplug.spec.framework import LAYERS, all_checks
    from neuroplug.spec.traceability import table

    out = [".. _check-traceability:", "", "Traceability: the notes and the checks that encode them",
           "-------------------------------------------------------", "",
           "Each row paraphrases one statement of the notes the project started from; the checks on "
           "the right encode it. No statement is without a check.", "",
           ".. list-table::", "   :header-rows: 1", "   :widths: 5 6", "   :class: neuroplug-trace", "",
           "   * - statement of the notes", "     - check IDs"]
    for key, text, ids in table():
        out += [f"   * - {_escape(text)} (``{key}``)",
                "     - " + (", ".join(f":ref:`{i} <{check_label(i)}>`" for i in ids) or "**none**")]
    out.append("")
    out += _render_vocabulary()
    for kind, title in KIND_TITLES.items():
        out += [title, "-" * len(title), ""]
        checks = all_checks(kind)
        for layer in LAYERS:
            layer_checks = [c for c in checks if c.layer == layer]
            if not layer_checks:
                continue
            out += [_LAYER_TITLES[layer], "~" * len(_LAYER_TITLES[layer]), ""]
            for c in layer_checks:
                out += [f".. _{check_label(c.id)}:", "", c.id, "^" * len(c.id), "", f"**{_escape(c.title)}**", ""]
                if c.formula:
                    out += [".. math::", "", _indent(c.formula, 3), ""]
                rows = [("tolerance", _escape(c.tolerance)),
                        ("false-failure probability", _escape(c.false_failure))]
                if c.notes:
                    rows.append(("encodes", ", ".join(f"``{n}``" for n in c.notes)))
                out += [".. list-table::", "   :class: neuroplug-facts", "   :widths: 1 4", ""]
                for label, value in rows:
                    out += [f"   * - {label}", f"     - {value}"]
                out += ["", inspect.cleandoc(c.func.__doc__ or ""), ""]
    return "\n".join(out) + "\n"


def _render_vocabulary() -> list[str]:
    """rST: the formulas a component can claim with ``implements=``, per kind."""
    from neuroplug.spec.formulas import vocabulary

    title = "Formulas a component can claim (implements=)"
    out = [".. _formula-vocabulary:", "", title, "-" * len(title), "",
           "Each name below (or an alias) may appear in a registration's ``implements``; the kind's "
           "``*-FORMULA`` check then compares the component with a closed-form reference, for its own "
           "config and for configs drawn from the ranges shown. A parameter the component's constructor "
           "accepts must have the name and meaning given here; one it does not accept is taken at the "
           "default shown.", ""]
    for kind, kind_title in KIND_TITLES.items():
        rows = vocabulary(kind)
        out += [kind_title, "~" * len(kind_title), ""]
        if not rows:
            out += ["(none yet)", ""]
            continue
        out += [".. list-table::", "   :header-rows: 1", "   :widths: 2 2 4 5", "",
                "   * - formula", "     - aliases", "     - parameters (default, range)", "     - definition"]
        for row in rows:
            params = "; ".join(f"``{p}`` = {_escape(d)}" for p, d in row["params"].items()) or "none"
            out += [f"   * - ``{row['name']}``",
                    f"     - {', '.join(f'``{a}``' for a in row['aliases']) or '—'}",
                    f"     - {params}",
                    f"     - {_escape(row['title'])}: :math:`{row['latex']}`"]
        out.append("")
    return out


def _escape(text: str) -> str:
    """Escape inline markup characters of plain text for rST."""
    return re.sub(r"([*`|_\\])", r"\\\1", text)
