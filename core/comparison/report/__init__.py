"""The statistics, tables, figures and HTML report of ``neuroplug compare``.

A *record* is one finished run (one line of ``results.jsonl``)::

    {"key": "3f2a...", "label": "activation=relu, init=he_uniform",
     "combination": {"activation": "relu", "init": "he_uniform"},
     "data": "moons", "seed": 3, "task": "classification",
     "status": "ok", "error": None,
     "metrics": {"test_accuracy": 0.93, "test_loss": 0.21},
     "history": {"loss": [...], "val_loss": [...], "val_accuracy": [...]},
     "fit_seconds": 1.23, "settings": {"epochs": 30, "lr": 0.05}}

``status`` is ``"ok"``, ``"diverged"`` or ``"failed"``; only ``ok`` runs enter a mean,
the others are counted. The confidence intervals are Student-t intervals over seeds,
:math:`\\bar x \\pm t_{(1+c)/2,\\,n-1}\\, s/\\sqrt{n}`, with the t quantile computed here
(no scipy). :func:`paired` compares each combination with its *baseline* partner seed by
seed, which removes the seed-to-seed variation both share.

Only numpy is imported with this package; matplotlib is imported when a figure is drawn
(through its object API and the Agg canvas: no pyplot window, no global backend change,
no figure left open). Every file is written atomically (a temporary file in the same
folder, then :func:`os.replace`).

The modules: :mod:`.stats` (the t quantile and :func:`mean_ci`), :mod:`.records` (the
record checks and grouping helpers), :mod:`.summary` (:func:`summarize` and
:func:`paired`), :mod:`.tables` (:func:`format_markdown` and :func:`to_csv`),
:mod:`.figures` (the matplotlib figures) and :mod:`.html` (the ``index.html`` page);
this one holds :func:`write_report` and re-exports their public names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import InputError
from .figures import _draw_figures, _have_matplotlib
from .html import _html_page
from .records import STATUSES, _checked
from .stats import _check_confidence, mean_ci, t_quantile
from .summary import PAIRED_COLUMNS, SUMMARY_COLUMNS, paired, summarize
from .tables import _write_text, format_markdown, to_csv

__all__ = [
    "PAIRED_COLUMNS",
    "STATUSES",
    "SUMMARY_COLUMNS",
    "format_markdown",
    "mean_ci",
    "paired",
    "summarize",
    "t_quantile",
    "to_csv",
    "write_report",
]


def _summary_markdown(summary: list, pairs: list | None, baseline: str | None) -> str:
    text = "## Summary\n\n" + format_markdown(summary, SUMMARY_COLUMNS)
    if pairs is not None:
        text += f"\n## Paired differences to the baseline {baseline}\n\n" + format_markdown(pairs, PAIRED_COLUMNS)
    return text


def _check_results_name(results_name: Any) -> str:
    if not isinstance(results_name, str) or not results_name or os.path.isabs(results_name):
        raise InputError("results_name must be the raw results file's name relative to the report folder, "
                         f"got results_name={results_name!r}")
    return results_name


def write_report(records: Iterable[Mapping[str, Any]], folder: str | os.PathLike[str], baseline: str | None = None,
                 results_name: str = "results.jsonl", *, confidence: float = 0.95) -> str:
    """Write the report of a comparison into ``folder``; returns the path of its ``index.html``.

    Parameters
    ----------
    records : iterable of dict
        The run records (failed and diverged runs are counted and listed, never plotted).
    folder : str or path-like
        Where to write (created if missing). Every file is written atomically.
    baseline : str, optional
        A combination value to compare the others with (see :func:`paired`).
    results_name : str, default "results.jsonl"
        The raw results file, relative to ``folder``; ``index.html`` links it when it is there.
    confidence : float, default 0.95
        The coverage of every interval.

    Returns
    -------
    str
        The path of ``folder/index.html``.

    Notes
    -----
    The files: ``summary.md`` (the tables in markdown), ``summary.csv``, ``paired.csv``
    (with a baseline), the figures ``curves_<data>.png`` (held-out loss per epoch, mean ±
    CI band per combination), ``heldout.png`` (held-out accuracy, or loss for regression,
    with CI bars, one panel per data set) and ``paired.png`` (with a baseline: per-seed
    differences, mean and CI, a line at 0), and ``index.html``: self-contained (no
    script, no external style sheet), relative links only. Without matplotlib the tables
    and ``index.html`` are still written, and the page says that the figures need
    ``pip install "neuroplug[docs]"``.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: no records ("no results ..."), a malformed record, an unknown
        ``baseline``, or a bad ``results_name``; nothing is written then.
    neuroplug.errors.FileWriteError
        An ``OSError`` naming the file that cannot be written.
    """
    confidence = _check_confidence(confidence)
    results_name = _check_results_name(results_name)
    records = _checked(records)
    summary = summarize(records, confidence=confidence)
    pairs = paired(records, baseline, confidence=confidence) if baseline is not None else None
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    _write_text(os.path.join(folder, "summary.md"), _summary_markdown(summary, pairs, baseline), "the summary")
    to_csv(summary, os.path.join(folder, "summary.csv"), SUMMARY_COLUMNS)
    if pairs is not None:
        to_csv(pairs, os.path.join(folder, "paired.csv"), PAIRED_COLUMNS)
    figures = _draw_figures(records, pairs, baseline, folder, confidence) if _have_matplotlib() else None
    index = os.path.join(folder, "index.html")
    _write_text(index, _html_page(records, summary, pairs, baseline, figures, folder, results_name, confidence),
                "the report")
    return index
