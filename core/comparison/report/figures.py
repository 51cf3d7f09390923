"""The figures of a comparison report: learning curves, held-out metrics, paired differences.

matplotlib is imported inside the functions that draw, never with this module, and used
through its object API and the Agg canvas: no pyplot window, no global backend change,
no figure left open. Every PNG is written atomically.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ...serialization.archive import atomic_write
from .records import _group, _label, _metric, _metric_for, _ok, _task
from .stats import mean_ci

_DPI = 100
_FIG_WIDTH = 9.0  # inches: the plot area alone is wider than 6.4 in
_DOT_OFFSET = 0.22  # the single seeds are drawn just below their mean's bar


def _have_matplotlib() -> bool:
    try:
        import matplotlib.backends.backend_agg
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def _new_figure(width: float, height: float) -> Any:
    """A matplotlib Figure on an Agg canvas: no pyplot, so nothing to close and no backend to set."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(width, _FIG_WIDTH), height), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _save_figure(fig: Any, path: str) -> None:
    """Write the figure as a PNG, atomically, then drop its artists."""
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=_DPI, bbox_inches="tight"), "the figure")
    finally:
        fig.clear()


def _style(i: int, n: int) -> tuple[Any, str]:
    """Colour and line style of the i-th of n curves: 10 (or 20) colours, then other dashes."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    size = 10 if n <= 10 else 20
    return cmap(i % size), ("-", "--", ":", "-.")[(i // size) % 4]


def _legend_outside(ax: Any, title: str | None = None) -> None:
    """A legend to the right of the axes (never over the data), when something is labelled."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title=title,
                  title_fontsize=8)


def _series(rec: Mapping[str, Any], key: str) -> np.ndarray:
    """One history series as floats, non-finite and null entries as nan."""
    values = (rec.get("history") or {}).get(key) or []
    out = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = math.nan
    return out


def _curve_stats(curves: list[np.ndarray], confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch mean and CI half-width over the runs that reached each epoch."""
    length = max((c.size for c in curves), default=0)
    stats = [mean_ci([c[e] for c in curves if c.size > e], confidence) for e in range(length)]
    mean = np.array([m for m, _ in stats], dtype=np.float64).reshape(-1)
    half = np.array([h for _, h in stats], dtype=np.float64).reshape(-1)
    return mean, half


def _history_key(runs: list) -> str:
    """``val_loss`` (the held-out set per epoch) when a run logged it, else the training ``loss``."""
    return "val_loss" if any(_series(r, "val_loss").size for r in runs) else "loss"


def _no_data(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.35")


def _plot_curves(runs: list, data: str, path: str, confidence: float) -> str:
    """Figure (a): the learning curves of one data set; returns the caption."""
    from matplotlib.ticker import MaxNLocator

    ok = _ok(runs)
    key = _history_key(ok)
    groups = _group(ok, _label)
    fig = _new_figure(_FIG_WIDTH, 4.8)
    ax = fig.add_subplot()
    lows = []
    for i, (label, group) in enumerate(groups.items()):
        mean, half = _curve_stats([_series(r, key) for r in group], confidence)
        if not np.isfinite(mean).any():
            continue
        epochs = np.arange(1, mean.size + 1)
        color, dash = _style(i, len(groups))
        ax.plot(epochs, mean, color=color, linestyle=dash, linewidth=1.5, label=f"{label} (n={len(group)})")
        band = np.isfinite(half) & np.isfinite(mean)
        if band.any():
            lo, hi = np.where(band, mean - half, mean), np.where(band, mean + half, mean)
            ax.fill_between(epochs, lo, hi, where=band, color=color, alpha=0.18, linewidth=0)
            lows.extend(lo[band])
        lows.extend(mean[np.isfinite(mean)])
    if lows and min(lows) > 0 and max(lows) / min(lows) > 30:
        ax.set_yscale("log")
    if not ax.get_legend_handles_labels()[0]:
        _no_data(ax, "no run finished on this data set (all failed or diverged)")
    what = "held-out loss (val_loss)" if key == "val_loss" else "training loss (loss)"
    pct = f"{100 * confidence:g} %"
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(what)
    ax.set_title(f"{data}: learning curves (mean ± {pct} CI over seeds)")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    _legend_outside(ax, "combination (ok runs)")
    _save_figure(fig, path)
    return (f"Learning curves on {data}: the {what} per epoch, mean over the seeds of each combination "
            f"(n = its ok runs) with a {pct} Student-t band (mean ± t·s/√n; none for a single run). "
            "A run that stopped early counts for the epochs it reached; failed and diverged runs are left out.")


def _panel_grid(count: int, rows_per_panel: int) -> tuple[Any, list]:
    """A figure with ``count`` panels (at most 3 a row) sharing the y axis, and its used axes."""
    ncols = min(3, count)
    nrows = math.ceil(count / ncols)
    fig = _new_figure(3.6 * ncols + 3.0, nrows * max(2.6, 0.32 * rows_per_panel + 1.4))
    grid = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    axes = list(grid.ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _metric_axis_label(metric: str) -> str:
    return "held-out accuracy (fraction correct)" if metric == "test_accuracy" else "held-out loss (test_loss)"


def _plot_heldout(records: list, path: str, confidence: float) -> str:
    """Figure (b): the held-out metric per combination with its CI, one panel per data set."""
    by_data = _group(records, lambda r: r["data"])
    labels = list(_group(records, _label))
    fig, axes = _panel_grid(len(by_data), len(labels))
    for ax, (data, runs) in zip(axes, by_data.items()):
        metric = _metric_for(_task(runs))
        by_label = _group(runs, _label)
        for y, label in enumerate(labels):
            if label in by_label:
                _heldout_row(ax, y, [_metric(r, metric) for r in _ok(by_label[label])], confidence)
        ax.set_title(f"{data}")
        ax.set_xlabel(_metric_axis_label(metric))
        ax.grid(True, axis="x", linewidth=0.4, alpha=0.5)
    axes[0].set_yticks(range(len(labels)), labels, fontsize=8)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)  # the first combination on top
    _marker_legend(axes[-1], [("o", "0.5", "0.5", "one seed"), ("D", "C0", "C0", "mean ± CI")])
    _save_figure(fig, path)
    pct = f"{100 * confidence:g} %"
    return (f"Held-out accuracy (classification) or held-out loss (regression) of each combination, one panel "
            f"per data set: grey dots are single seeds, diamonds the mean over the ok runs with its {pct} "
            "Student-t interval (mean ± t·s/√n; no bar for a single run).")


def _heldout_row(ax: Any, y: int, values: list[float], confidence: float) -> None:
    values = [v for v in values if math.isfinite(v)]
    if not values:
        ax.text(0.02, y, "no ok run", transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="0.4")
        return
    mean, half = mean_ci(values, confidence)
    ax.plot(values, [y + _DOT_OFFSET] * len(values), "o", color="0.5", markersize=3)
    ax.errorbar([mean], [y], xerr=[half if math.isfinite(half) else 0.0], fmt="D", color="C0", markersize=5,
                capsize=3)


def _plot_paired(rows: list[dict], baseline: str, path: str, confidence: float) -> str:
    """Figure (c): per-seed paired differences with their mean and CI, one panel per data set."""
    by_data = _group(rows, lambda r: r["data"])
    names = list(dict.fromkeys(_pair_name(r, rows) for r in rows))
    fig, axes = _panel_grid(max(len(by_data), 1), len(names))
    for ax, (data, group) in zip(axes, by_data.items()):
        for row in group:
            _paired_marks(ax, names.index(_pair_name(row, rows)), row)
        ax.axvline(0.0, color="black", linewidth=0.9)
        ax.set_title(f"{data}: vs baseline {baseline}")
        ax.set_xlabel(_metric_axis_label(group[0]["metric"]).replace("held-out ", "difference in held-out "))
        ax.grid(True, axis="x", linewidth=0.4, alpha=0.5)
    if not rows:
        _no_data(axes[0], f"no combination to compare with the baseline {baseline}")
    axes[0].set_yticks(range(len(names)), names, fontsize=8)
    axes[0].set_ylim(len(names) - 0.5, -0.5)
    _marker_legend(axes[-1], [("o", "0.5", "0.5", "one seed"), ("D", "C2", "C2", "mean ± CI: better"),
                              ("D", "C3", "C3", "mean ± CI: worse"),
                              ("D", "0.3", "white", "mean ± CI: not distinguishable")])
    _save_figure(fig, path)
    pct = f"{100 * confidence:g} %"
    return (f"Paired differences to the baseline {baseline}: each combination minus its baseline partner "
            "(the same other values), same data set and seed: grey dots are single seeds, diamonds the mean "
            f"difference with its {pct} Student-t interval (mean ± t·s/√n). Green: distinguishably better, "
            "red: distinguishably worse (the interval excludes 0, at least 2 pairs); hollow: not distinguishable.")


def _pair_name(row: Mapping[str, Any], rows: list[dict]) -> str:
    """The combination's label; with its partner's when it has more than one baseline partner."""
    partners = {r["baseline_label"] for r in rows if r["label"] == row["label"]}
    return row["label"] if len(partners) == 1 else f"{row['label']} (vs {row['baseline_label']})"


def _paired_marks(ax: Any, y: int, row: Mapping[str, Any]) -> None:
    diffs = row["diffs"]
    if not diffs:
        ax.text(0.02, y, "no pair of ok runs", transform=ax.get_yaxis_transform(), va="center", fontsize=8,
                color="0.4")
        return
    ax.plot(diffs, [y + _DOT_OFFSET] * len(diffs), "o", color="0.5", markersize=3)
    color = "0.3" if row["better"] is None else ("C2" if row["better"] else "C3")
    half = row["ci"] if math.isfinite(row["ci"]) else 0.0
    ax.errorbar([row["mean_diff"]], [y], xerr=[half], fmt="D", color=color, markersize=6, capsize=3,
                markerfacecolor=color if row["distinguishable"] else "white")


def _marker_legend(ax: Any, entries: list[tuple[str, str, str, str]]) -> None:
    """A legend of (marker, edge colour, face colour, text) entries to the right of the axes."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker=m, linestyle="", color=c, markerfacecolor=face, label=text,
                      markersize=4 if m == "o" else 6) for m, c, face, text in entries]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _file_names(datas: Iterable[str]) -> dict[str, str]:
    """A distinct, file-system-safe PNG name for each data set's learning curves."""
    names: dict[str, str] = {}
    for data in datas:
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", data).strip("._")[:60] or "data"
        name, k = f"curves_{slug}.png", 2
        while name in names.values():
            name, k = f"curves_{slug}_{k}.png", k + 1
        names[data] = name
    return names


def _draw_figures(records: list, pairs: list | None, baseline: str | None, folder: str,
                  confidence: float) -> list[tuple[str, str]]:
    """Draw every figure into ``folder``; returns (file name, caption) pairs."""
    by_data = _group(records, lambda r: r["data"])
    figures = []
    for data, name in _file_names(by_data).items():
        figures.append((name, _plot_curves(by_data[data], data, os.path.join(folder, name), confidence)))
    figures.append(("heldout.png", _plot_heldout(records, os.path.join(folder, "heldout.png"), confidence)))
    if pairs is not None and baseline is not None:
        figures.append(("paired.png", _plot_paired(pairs, baseline, os.path.join(folder, "paired.png"),
                                                   confidence)))
    return figures
