"""The ``index.html`` page of a comparison report: self-contained (no script, no external
style sheet), relative links only.
"""

from __future__ import annotations

import html
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from .records import STATUSES, _label
from .summary import PAIRED_COLUMNS, SUMMARY_COLUMNS
from .tables import _cell, _numeric

_MISSING_MPL = 'The figures need matplotlib: pip install "neuroplug[docs]"'


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 75em;
       padding: 0 1em; color: #222; line-height: 1.45; }
table { border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
th { background: #f0f0f0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 2em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #444; max-width: 60em; }
.note { background: #fff6d5; border: 1px solid #e5d48a; padding: 0.6em 1em; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _href(name: str) -> str:
    return _esc(urllib.parse.quote(name.replace(os.sep, "/")))


_NUM = ' class="num"'


def _html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    numeric = {c for c in columns if _numeric(rows, c)}
    body = "".join(
        "<tr>" + "".join(f"<td{_NUM if c in numeric else ''}>{_esc(_cell(row.get(c)))}</td>" for c in columns)
        + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _html_files(folder: str, results_name: str, has_paired: bool) -> str:
    items = []
    if os.path.isfile(os.path.join(folder, results_name)):
        items.append(f'<li><a href="{_href(results_name)}">{_esc(results_name)}</a>: the raw results, one run '
                     "a line (JSON)</li>")
    else:
        items.append(f"<li>{_esc(results_name)} (the raw results) is not in this folder</li>")
    items.append('<li><a href="summary.csv">summary.csv</a> and <a href="summary.md">summary.md</a>: '
                 "the summary table</li>")
    if has_paired:
        items.append('<li><a href="paired.csv">paired.csv</a>: the paired differences</li>')
    return "<ul>\n" + "\n".join(items) + "\n</ul>"


def _html_figures(figures: list[tuple[str, str]] | None) -> str:
    if figures is None:
        return f'<p class="note">{_esc(_MISSING_MPL)}</p>'
    return "\n".join(f'<figure><img src="{_href(name)}" alt="{_esc(caption.split(":")[0])}">'
                     f"<figcaption>{_esc(caption)}</figcaption></figure>" for name, caption in figures)


def _html_failures(records: list) -> str:
    bad = [r for r in records if r["status"] != "ok"]
    if not bad:
        return "<p>Every run finished.</p>"
    rows = [{"data": r["data"], "label": _label(r), "seed": r.get("seed"), "status": r["status"],
             "error": str(r.get("error") or "")[:300]} for r in bad]
    return _html_table(rows, ["data", "label", "seed", "status", "error"])


def _html_counts(records: list) -> str:
    counts = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    combos = len({_label(r) for r in records})
    datas = len({r["data"] for r in records})
    seeds = len({r.get("seed") for r in records})
    return (f"{len(records)} runs ({counts['ok']} ok, {counts['diverged']} diverged, {counts['failed']} failed): "
            f"{combos} combinations × {datas} data sets × {seeds} seeds.")


def _html_page(records: list, summary: list, pairs: list | None, baseline: str | None,
               figures: list[tuple[str, str]] | None, folder: str, results_name: str, confidence: float) -> str:
    pct = f"{100 * confidence:g} %"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        "<title>neuroplug compare: report</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        "<h1>neuroplug compare</h1>", f"<p>{_esc(_html_counts(records))}</p>",
        "<h2>Files</h2>", _html_files(folder, results_name, pairs is not None),
        "<h2>Summary</h2>",
        (f"<p>Means over the ok runs of each combination and data set; <code>acc_ci</code> and <code>loss_ci</code> "
         f"are the half-widths of {pct} Student-t intervals (mean ± t·s/√n) of the held-out accuracy and loss; "
         "— means no value (no ok run, one run for a CI, or regression for the accuracy).</p>"),
        _html_table(summary, SUMMARY_COLUMNS),
    ]
    if pairs is not None:
        parts += [f"<h2>Paired differences to the baseline {_esc(baseline)}</h2>",
                  ("<p>Each combination minus its partner with the baseline (the same other values), on the same "
                   f"data set and seed; <code>ci</code> is the half-width of the {pct} interval of the mean "
                   "difference; distinguishable: at least 2 pairs and the interval excludes 0.</p>"),
                  _html_table(pairs, PAIRED_COLUMNS)]
    parts += ["<h2>Figures</h2>", _html_figures(figures),
              "<h2>Runs that did not finish</h2>", _html_failures(records), "</body>", "</html>", ""]
    return "\n".join(parts)
