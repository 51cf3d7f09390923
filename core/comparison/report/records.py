"""The run records of a comparison: their checks, and the helpers that label and group them.

A record is one finished run (one line of ``results.jsonl``); its fields are described in
:mod:`neuroplug.comparison.report`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...errors import InputError
from .stats import _number

#: The statuses a record may have.
STATUSES: tuple[str, ...] = ("ok", "diverged", "failed")
_TASKS = ("classification", "regression")
_METRICS = ("test_accuracy", "test_loss")


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
