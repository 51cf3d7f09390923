"""The summary of a comparison (:func:`summarize`) and its paired differences (:func:`paired`).

The records are the run records of :mod:`neuroplug.comparison.report` (see its module
docstring for their fields).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ...errors import InputError
from .records import (
    STATUSES,
    _canonical,
    _checked,
    _combination,
    _group,
    _label,
    _metric,
    _metric_for,
    _ok,
    _task,
    _value_name,
)
from .stats import _check_confidence, mean_ci

#: The columns of a :func:`summarize` row, in order.
SUMMARY_COLUMNS: tuple[str, ...] = ("data", "label", "runs", "ok", "diverged", "failed", "acc_mean",
                                    "acc_ci", "loss_mean", "loss_ci", "seconds_mean")
#: The columns of a :func:`paired` row, in order.
PAIRED_COLUMNS: tuple[str, ...] = ("data", "label", "baseline_label", "metric", "n_pairs", "diffs",
                                   "mean_diff", "ci", "distinguishable", "better")


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
