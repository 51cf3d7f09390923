"""The tables of a comparison report: markdown (:func:`format_markdown`) and CSV (:func:`to_csv`).

Numbers are shown to 4 significant digits in markdown and kept at full precision in CSV;
every file is written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ...errors import InputError
from ...serialization.archive import atomic_write


def _columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None, caller: str) -> list[str]:
    """The columns to show: ``columns``, or every key of the rows in first-appearance order."""
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence):
        raise InputError(f"{caller}: rows must be a list of dicts, got rows={rows!r:.80}")
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InputError(f"{caller}: rows[{i}] must be a dict, got {row!r:.80}")
    if columns is None:
        if not rows:
            raise InputError(f"{caller}: rows is empty and no columns are given")
        return list(dict.fromkeys(k for row in rows for k in row))
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise InputError(f"{caller}: columns must be a list of column names, got columns={columns!r}")
    return list(columns)


def _cell(value: Any) -> str:
    """A value as text for people: 4 significant digits, nan as an em dash, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return "—" if math.isnan(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows if row.get(column) is not None]
    return bool(values) and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                for v in values)


def format_markdown(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """The rows as a GitHub-flavoured markdown table.

    Parameters
    ----------
    rows : list of dict
        E.g. the rows of :func:`summarize` or :func:`paired`.
    columns : list of str, optional
        The columns, in order; by default every key of the rows, in first-appearance order.
        A row without a column gets an empty cell.

    Returns
    -------
    str
        The table (numbers to 4 significant digits and right-aligned, nan as "—",
        booleans as yes/no, lists joined with commas), ending with a newline.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: rows not a list of dicts, or empty with no ``columns``.
    """
    cols = _columns(rows, columns, "format_markdown")

    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    rule = "|" + "|".join("---:" if _numeric(rows, c) else "---" for c in cols) + "|"
    body = [line(_cell(row.get(c)) for c in cols) for row in rows]
    return "\n".join([line(cols), rule, *body]) + "\n"


def _csv_value(value: Any) -> Any:
    """A value for a CSV cell: numbers at full precision (nan as ``nan``), lists and dicts as JSON."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(value)
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def to_csv(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike[str],
           columns: Sequence[str] | None = None) -> None:
    """Write the rows to a CSV file (header line first), atomically.

    Parameters
    ----------
    rows : list of dict
        The rows.
    path : str or path-like
        The file; its folder must exist. It is written to a temporary file in the same
        folder, then renamed over ``path`` (:func:`os.replace`): a reader never sees half a file.
    columns : list of str, optional
        The columns, in order; by default every key of the rows. A missing value is empty.

    Notes
    -----
    Numbers keep full precision (nan is written ``nan``), None is empty, lists (the
    ``diffs`` of :func:`paired`) and dicts are JSON text; UTF-8.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: rows not a list of dicts, or empty with no ``columns``.
    neuroplug.errors.FileWriteError
        An ``OSError`` naming ``path``: it cannot be written.
    """
    cols = _columns(rows, columns, "to_csv")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _csv_value(row.get(c)) for c in cols})
    _write_text(path, buffer.getvalue(), "the CSV file")


def _write_text(path: str | os.PathLike[str], text: str, what: str) -> None:
    atomic_write(path, lambda fh: fh.write(text.encode("utf-8")), what)
