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

Only numpy is imported with this module; matplotlib is imported when a figure is drawn
(through its object API and the Agg canvas: no pyplot window, no global backend change,
no figure left open). Every file is written atomically (a temporary file in the same
folder, then :func:`os.replace`).
"""

from __future__ import annotations

import csv
import functools
import html
import io
import json
import math
import os
import re
import statistics
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from ...errors import InputError
from ...serialization.archive import atomic_write

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

#: The columns of a :func:`summarize` row, in order.
SUMMARY_COLUMNS: tuple[str, ...] = ("data", "label", "runs", "ok", "diverged", "failed", "acc_mean",
                                    "acc_ci", "loss_mean", "loss_ci", "seconds_mean")
#: The columns of a :func:`paired` row, in order.
PAIRED_COLUMNS: tuple[str, ...] = ("data", "label", "baseline_label", "metric", "n_pairs", "diffs",
                                   "mean_diff", "ci", "distinguishable", "better")
#: The statuses a record may have.
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed")
_TASKS = ("classification", "regression")
_METRICS = ("test_accuracy", "test_loss")

_DPI = 100
_FIG_WIDTH = 9.0  # inches: the plot area alone is wider than 6.4 in
_DOT_OFFSET = 0.22  # the single seeds are drawn just below their mean's bar
_MISSING_MPL = 'The figures need matplotlib: pip install "neuroplug[docs]"'

# the exact t quantile (regularized incomplete beta) up to this df; the asymptotic series beyond
_T_EXACT_MAX_DF = 1000.0
_CF_MAX_ITER = 2000
_CF_EPS = 1e-15
_BISECT_STEPS = 120


# ============================================================================ statistics
def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes 6.4)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, _CF_MAX_ITER + 1):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + aa * d
            c = 1.0 + aa / c
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < _CF_EPS:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function :math:`I_x(a, b)` for ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _t_upper_exact(alpha: float, df: float) -> float:
    """The t > 0 with :math:`P(|T| > t) = \\alpha`: solves :math:`I_x(df/2, 1/2) = \\alpha`,
    :math:`x = df/(df + t^2)`, by bisection on :math:`\\log x` (:math:`I_x` increases with x)."""
    lo, hi = math.log(1e-300), 0.0
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if _betainc(0.5 * df, 0.5, math.exp(mid)) < alpha:
            lo = mid
        else:
            hi = mid
    x = math.exp(0.5 * (lo + hi))
    return math.sqrt(df * (1.0 - x) / x)


def _t_upper_series(q: float, df: float) -> float:
    """The t quantile for a large df from the normal quantile z (Abramowitz & Stegun 26.7.5):
    :math:`t = z + g_1/\\nu + g_2/\\nu^2 + g_3/\\nu^3`; its error is below 1e-8 for df > 1000."""
    z = statistics.NormalDist().inv_cdf(q)
    g1 = (z ** 3 + z) / 4.0
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96.0
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384.0
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3


@functools.lru_cache(maxsize=1024)
def _t_quantile_cached(q: float, df: float) -> float:
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -_t_quantile_cached(1.0 - q, df)
    if df > _T_EXACT_MAX_DF:
        return _t_upper_series(q, df)
    return _t_upper_exact(2.0 * (1.0 - q), df)


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Parameters
    ----------
    q : float
        The probability, ``0 < q < 1``; e.g. 0.975 for a two-sided 95 % interval.
    df : float
        The degrees of freedom, ``> 0`` (``n - 1`` for n values; need not be an integer).

    Returns
    -------
    float
        :math:`t_{q,\\,df}` with :math:`P(T \\le t_{q,\\,df}) = q`.

    Notes
    -----
    For :math:`q > 1/2`, :math:`P(|T| > t) = I_{x}(df/2, 1/2)` with :math:`x = df/(df + t^2)`
    (the regularized incomplete beta function, evaluated by its continued fraction);
    this is inverted exactly by bisection for ``df <= 1000``, and by the asymptotic
    series around the normal quantile beyond (error < 1e-8). :math:`t_{1-q} = -t_q`.
    For example :math:`t_{0.975,1} = 12.7062`, :math:`t_{0.975,5} = 2.5706`.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: ``q`` not in (0, 1) or ``df`` not a positive finite number.
    """
    q = _number(q, "q")
    df = _number(df, "df")
    if not 0.0 < q < 1.0:
        raise InputError(f"q must be a probability strictly between 0 and 1, got q={q!r}")
    if not (df > 0.0 and math.isfinite(df)):
        raise InputError(f"df must be a positive finite number of degrees of freedom, got df={df!r}")
    return _t_quantile_cached(q, df)


def _number(value: Any, name: str) -> float:
    """``value`` as a float; an InputError naming ``name`` for a non-number (a bool or a string too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number, got {name}={value!r}")
    return float(value)


def _check_confidence(confidence: Any) -> float:
    confidence = _number(confidence, "confidence")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got confidence={confidence!r}")
    return confidence


def _clean(values: Any) -> np.ndarray:
    """The numbers of ``values`` as a float array, without the None and nan entries."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InputError(f"values must be a sequence of numbers, got values={values!r}")
    kept = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x = _number(v, f"values[{i}]")
        if not math.isnan(x):
            kept.append(x)
    return np.asarray(kept, dtype=np.float64)


def mean_ci(values: Iterable[float | None], confidence: float = 0.95) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its Student-t confidence interval.

    Parameters
    ----------
    values : iterable of float or None
        The values (e.g. one per seed); ``None`` and nan entries are ignored.
    confidence : float, default 0.95
        The coverage of the two-sided interval, ``0 < confidence < 1``.

    Returns
    -------
    (mean, half_width) : tuple of float
        The interval is ``mean ± half_width`` with
        :math:`\\text{half\\_width} = t_{(1+c)/2,\\,n-1}\\cdot s/\\sqrt{n}`, where s is the
        sample standard deviation (ddof 1) of the n values kept. ``(nan, nan)`` for no
        value, ``(x, nan)`` for one; ``(mean, nan)`` when a value is infinite.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: ``values`` holds something that is not a number or None,
        or ``confidence`` is not in (0, 1).
    """
    confidence = _check_confidence(confidence)
    x = _clean(values)
    n = x.size
    if n == 0:
        return math.nan, math.nan
    if not np.all(np.isfinite(x)):
        with np.errstate(invalid="ignore", over="ignore"):
            return float(np.mean(x)), math.nan
    mean = float(np.mean(x))
    if n == 1:
        return mean, math.nan
    if np.all(x == x[0]):  # no spread at all (np.std would give the rounding of the mean, ~1e-16)
        return float(x[0]), 0.0
    s = float(np.std(x, ddof=1))
    return mean, t_quantile((1.0 + confidence) / 2.0, n - 1) * s / math.sqrt(n)


# ============================================================================ records
def _checked(records: Any) -> list[Mapping[str, Any]]:
    """``records`` as a list, each one checked enough that no function below can crash on it."""
    if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
        raise InputError(f"records must be a list of run records (dicts), got records={records!r:.80}")
    records = list(records)
    if not records:
        raise InputError("no results: records is empty (no run has finished yet?)")
    for i, rec in enumerate(records):
        _check_record(rec, i)
    return records


def _check_record(rec: Any, i: int) -> None:
    where = f"records[{i}]"
    if not isinstance(rec, Mapping):
        raise InputError(f"{where} must be a dict (a run record), got {rec!r:.80}")
    if rec.get("status") not in STATUSES:
        raise InputError(f"{where}['status'] must be one of {', '.join(STATUSES)}, got {rec.get('status')!r}")
    if not isinstance(rec.get("data"), str):
        raise InputError(f"{where}['data'] must be the data set's name (a str), got {rec.get('data')!r}")
    if rec.get("task") not in (*_TASKS, None):
        raise InputError(f"{where}['task'] must be one of {', '.join(_TASKS)} or null, got {rec.get('task')!r}")
    seed = rec.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InputError(f"{where}['seed'] must be an int, got {seed!r}")
    combination = rec.get("combination", {})
    if combination is not None and not isinstance(combination, Mapping):
        raise InputError(f"{where}['combination'] must be a dict, got {combination!r:.80}")
    metrics = rec.get("metrics") or {}
    if not isinstance(metrics, Mapping):
        raise InputError(f"{where}['metrics'] must be a dict or null, got {metrics!r:.80}")
    for name in _METRICS:
        if metrics.get(name) is not None:
            _number(metrics[name], f"{where}['metrics'][{name!r}]")
    if rec.get("fit_seconds") is not None:
        _number(rec["fit_seconds"], f"{where}['fit_seconds']")
    _check_history(rec.get("history") or {}, where)


def _check_history(history: Any, where: str) -> None:
    """Each history series must be a list of numbers or nulls (NaN and Infinity are numbers)."""
    if not isinstance(history, Mapping):
        raise InputError(f"{where}['history'] must be a dict of per-epoch lists, got {history!r:.80}")
    for key, values in history.items():
        if not isinstance(values, (list, tuple)):
            raise InputError(f"{where}['history'][{key!r}] must be a list, got {values!r:.80}")
        for j, v in enumerate(values):
            if v is not None:
                _number(v, f"{where}['history'][{key!r}][{j}]")


def _combination(rec: Mapping[str, Any]) -> Mapping[str, Any]:
    return rec.get("combination") or {}


def _value_name(value: Any) -> str:
    """A combination value as people read it: its name, or the value itself."""
    if isinstance(value, Mapping):
        return str(value.get("name", json.dumps(value, sort_keys=True)))
    return str(value)


def _label(rec: Mapping[str, Any]) -> str:
    """The record's label, or one made from its combination (``activation=relu, init=he_uniform``)."""
    label = rec.get("label")
    if isinstance(label, str) and label:
        return label
    return ", ".join(f"{k}={_value_name(v)}" for k, v in _combination(rec).items()) or "(defaults)"


def _canonical(value: Any) -> str:
    """A hashable, order-independent text of a JSON value (to compare combination values)."""
    return json.dumps(value, sort_keys=True, default=str)


def _metric(rec: Mapping[str, Any], name: str) -> float:
    """The record's metric ``name`` as a float; nan when missing or null."""
    value = (rec.get("metrics") or {}).get(name)
    return math.nan if value is None else float(value)


def _group(records: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any]) -> dict[Any, list]:
    """The records grouped by ``key``, groups in first-appearance order."""
    groups: dict[Any, list] = {}
    for rec in records:
        groups.setdefault(key(rec), []).append(rec)
    return groups


def _ok(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r["status"] == "ok"]


def _task(records: Iterable[Mapping[str, Any]]) -> str | None:
    """The task of a data set: the first one a record names (a failed run may name none)."""
    return next((r["task"] for r in records if r.get("task")), None)


def _metric_for(task: str | None) -> str:
    return "test_accuracy" if task == "classification" else "test_loss"


# ============================================================================ summary
def summarize(records: Iterable[Mapping[str, Any]], *, confidence: float = 0.95) -> list[dict[str, Any]]:
    """One row per (data set, combination): run counts and the mean ± CI of the held-out metrics.

    Parameters
    ----------
    records : iterable of dict
        The run records (see the module docstring).
    confidence : float, default 0.95
        The coverage of the intervals.

    Returns
    -------
    list of dict
        In first-appearance order of (data, label), each with the keys of
        :data:`SUMMARY_COLUMNS`: ``data``, ``label``; ``runs``, ``ok``, ``diverged``,
        ``failed`` (counts); ``acc_mean``, ``acc_ci`` and ``loss_mean``, ``loss_ci``
        (the held-out ``test_accuracy`` / ``test_loss`` over the ``ok`` runs, as
        :func:`mean_ci`: the interval is mean ± ci, :math:`ci = t\\cdot s/\\sqrt{n}`);
        ``seconds_mean`` (mean ``fit_seconds`` of the ``ok`` runs). Means and CIs are
        nan when no run is ``ok`` (``acc_*`` also for regression).

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: no records ("no results ..."), or a malformed record.
    """
    confidence = _check_confidence(confidence)
    groups = _group(_checked(records), lambda r: (r["data"], _label(r)))
    return [_summary_row(data, label, runs, confidence) for (data, label), runs in groups.items()]


def _summary_row(data: str, label: str, runs: list, confidence: float) -> dict[str, Any]:
    ok = _ok(runs)
    acc_mean, acc_ci = mean_ci([_metric(r, "test_accuracy") for r in ok], confidence)
    loss_mean, loss_ci = mean_ci([_metric(r, "test_loss") for r in ok], confidence)
    seconds = mean_ci([r.get("fit_seconds") for r in ok], confidence)[0]
    counts = {s: sum(r["status"] == s for r in runs) for s in STATUSES}
    return {"data": data, "label": label, "runs": len(runs), **counts, "acc_mean": acc_mean,
            "acc_ci": acc_ci, "loss_mean": loss_mean, "loss_ci": loss_ci, "seconds_mean": seconds}


# ============================================================================ paired differences
def _matches(value: Any, baseline: str) -> bool:
    """Whether a combination value is the baseline: a str equal to it, a dict named it, or a
    number equal to it read as a number (``"0.05"`` for ``lr=0.05``)."""
    if isinstance(value, str):
        return value == baseline
    if isinstance(value, Mapping):
        return value.get("name") == baseline
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(baseline) == float(value)
        except ValueError:
            return False
    return False


def _baseline_kinds(combination: Mapping[str, Any], baseline: str) -> set[str]:
    """The keys of ``combination`` whose value is the baseline."""
    return {k for k, v in combination.items() if _matches(v, baseline)}


def _partners(combos: dict[str, Mapping[str, Any]], baseline: str) -> list[tuple[str, str]]:
    """The (C, B) pairs of combination ids: B has the baseline value at one key k, and C is not
    a baseline combination, has the same keys and differs from B only at k."""
    kinds = {cid: _baseline_kinds(c, baseline) for cid, c in combos.items()}
    pairs = []
    for cid, c in combos.items():
        if kinds[cid]:
            continue
        for bid, b in combos.items():
            if not kinds[bid] or set(b) != set(c):
                continue
            differ = [k for k in c if _canonical(c[k]) != _canonical(b[k])]
            if len(differ) == 1 and differ[0] in kinds[bid]:
                pairs.append((cid, bid))
    return pairs


def paired(records: Iterable[Mapping[str, Any]], baseline: str, *,
           confidence: float = 0.95) -> list[dict[str, Any]]:
    """Each combination minus its baseline partner, paired by data set and seed.

    Parameters
    ----------
    records : iterable of dict
        The run records.
    baseline : str
        A combination value: a str value equal to it, or a ``{"name": ..., "config": ...}``
        value whose name equals it (a number value matches its text, ``"0.05"``). A
        *baseline combination* B has it at some key k; every other combination C with the
        same keys that differs from B only at k is compared with B (with ``activation`` x
        ``init`` varied and baseline ``"relu"``: ``tanh, he`` with ``relu, he``).
    confidence : float, default 0.95
        The coverage of the interval of the mean difference.

    Returns
    -------
    list of dict
        One row per data set and (C, B) pair with records of both on that data set, with
        the keys of :data:`PAIRED_COLUMNS`: ``data``, ``label`` (C), ``baseline_label``
        (B), ``metric`` (``test_accuracy`` for classification, ``test_loss`` for
        regression), ``n_pairs`` (seeds where both runs are ``ok`` with the metric),
        ``diffs`` (C minus B per such seed, in seed order), ``mean_diff`` and ``ci``
        (:func:`mean_ci` of the diffs: :math:`\\bar d \\pm t\\cdot s_d/\\sqrt{n}`),
        ``distinguishable`` (``n_pairs >= 2`` and the interval excludes 0) and
        ``better`` (C better than B: higher accuracy, lower loss; None when not
        distinguishable). If a (combination, data, seed) has several ``ok`` records,
        the last one counts.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: ``baseline`` not a str or matching no combination value, no
        records, or a malformed record.
    """
    confidence = _check_confidence(confidence)
    if not isinstance(baseline, str):
        raise InputError(f"baseline must be a component name or value (a str), got baseline={baseline!r}")
    records = _checked(records)
    combos = {_canonical(_combination(r)): _combination(r) for r in records}
    if not any(_baseline_kinds(c, baseline) for c in combos.values()):
        values = sorted({_value_name(v) for c in combos.values() for v in c.values()})
        raise InputError(f"baseline={baseline!r} matches no value of any combination; the values "
                         f"are: {', '.join(values) or '(none: nothing varies)'}")
    pairs = _partners(combos, baseline)
    labels = {cid: _label(rs[0]) for cid, rs in _group(records, lambda r: _canonical(_combination(r))).items()}
    rows = []
    for data, runs in _group(records, lambda r: r["data"]).items():
        by_combo = _group(runs, lambda r: _canonical(_combination(r)))
        metric = _metric_for(_task(runs))
        for cid, bid in pairs:
            if cid in by_combo and bid in by_combo:
                diffs = _seed_diffs(by_combo[cid], by_combo[bid], metric)
                rows.append(_paired_row(data, labels[cid], labels[bid], metric, diffs, confidence))
    return rows


def _by_seed(runs: Iterable[Mapping[str, Any]], metric: str) -> dict[int, float]:
    """Seed -> metric of the ``ok`` runs with a seed and a finite metric (the last record wins)."""
    out = {}
    for r in _ok(runs):
        value = _metric(r, metric)
        if r.get("seed") is not None and math.isfinite(value):
            out[r["seed"]] = value
    return out


def _seed_diffs(c_runs: list, b_runs: list, metric: str) -> list[float]:
    """C minus B for every seed where both have an ``ok`` run with the metric, in seed order."""
    c, b = _by_seed(c_runs, metric), _by_seed(b_runs, metric)
    return [c[s] - b[s] for s in sorted(set(c) & set(b))]


def _paired_row(data: str, label: str, baseline_label: str, metric: str, diffs: list[float],
                confidence: float) -> dict[str, Any]:
    mean, ci = mean_ci(diffs, confidence)
    distinguishable = len(diffs) >= 2 and math.isfinite(ci) and abs(mean) > ci
    better = None
    if distinguishable:
        better = bool(mean > 0) if metric == "test_accuracy" else bool(mean < 0)
    return {"data": data, "label": label, "baseline_label": baseline_label, "metric": metric,
            "n_pairs": len(diffs), "diffs": diffs, "mean_diff": mean, "ci": ci,
            "distinguishable": bool(distinguishable), "better": better}


# ============================================================================ tables
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


# ============================================================================ figures
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


# ============================================================================ HTML
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


# ============================================================================ the report
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
