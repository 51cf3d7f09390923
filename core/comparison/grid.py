"""The grid of a comparison: which values vary, the runs they make, and each run's key.

A grid maps what varies to the values tried -- component kinds (``activation``,
``init``, ``loss``, ``optimizer``, ``schedule``) to names or ``{"name", "config"}``
dicts, and fit settings (``lr``, ``batch_size``, ``epochs``, ``hidden``) to numbers
(``hidden``: lists of layer sizes). Its combinations (the Cartesian product, in the
order given) times the data sets times the seeds are the runs. Every value must be
plain JSON, so that a run means the same on any machine and its key -- a hash of
what it computes -- says whether it has been done already.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import numbers
from typing import Any

from ..errors import ConfigError

__all__ = ["COMPONENT_KINDS", "SETTINGS", "DEFAULTS", "check_grid", "combinations", "label", "run_key",
           "value_name"]

#: The component kinds a grid may vary, as grid key -> registry kind.
COMPONENT_KINDS = {"activation": "activation", "init": "initializer", "loss": "loss", "optimizer": "optimizer",
                   "schedule": "schedule"}
#: The fit settings a grid may vary.
SETTINGS = ("lr", "batch_size", "epochs", "hidden")
#: What a run uses for whatever the grid does not vary (a loss of None is chosen by the task).
DEFAULTS: dict[str, Any] = {"activation": "relu", "init": "he_uniform", "loss": None, "optimizer": "sgd",
                            "schedule": "constant", "lr": 0.05, "batch_size": 32, "epochs": 30, "hidden": [32, 32]}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _check_value(key: str, value: Any) -> Any:
    """``value`` as the grid keeps it (a tuple of sizes becomes a list), or a ConfigError naming it."""
    if key in COMPONENT_KINDS:
        ok = (isinstance(value, str) and value) or (
            isinstance(value, dict) and isinstance(value.get("name"), str) and set(value) <= {"name", "config"}
            and isinstance(value.get("config", {}), dict) and _is_json(value))
        if not ok:
            raise ConfigError(f"grid[{key!r}] values must be component names or {{'name', 'config'}} dicts of "
                              f"plain JSON (a run must mean the same on every worker); got {value!r:.80}")
        return value
    if key == "hidden":
        sizes = list(value) if isinstance(value, (list, tuple)) else None
        if not sizes or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                                for s in sizes):
            raise ConfigError(f"grid['hidden'] values must be lists of layer sizes >= 1; got {value!r:.80}")
        return [int(s) for s in sizes]
    integer = key in ("batch_size", "epochs")
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 or value != value \
            or value == float("inf"):
        raise ConfigError(f"grid[{key!r}] values must be {'integers' if integer else 'numbers'} > 0; "
                          f"got {value!r:.80}")
    return int(value) if integer else float(value)


def check_grid(grid: Any) -> dict[str, list[Any]]:
    """The grid, checked: known keys, non-empty lists of distinct JSON values; a ConfigError otherwise."""
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"the grid must be a non-empty dict such as {{'activation': ['relu', 'tanh']}}; "
                          f"got {grid!r:.80}")
    allowed = (*COMPONENT_KINDS, *SETTINGS)
    checked: dict[str, list[Any]] = {}
    for key, values in grid.items():
        if key not in allowed:
            import difflib

            near = difflib.get_close_matches(str(key), allowed, n=1)
            raise ConfigError(f"the grid cannot vary {key!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
                              + f"; it varies {', '.join(allowed)}")
        if isinstance(values, (str, dict)) or not isinstance(values, (list, tuple)) or not values:
            raise ConfigError(f"grid[{key!r}] must be a non-empty list of values; got {values!r:.80}")
        checked[key] = [_check_value(key, v) for v in values]
        seen = [json.dumps(v, sort_keys=True) for v in checked[key]]
        if len(set(seen)) != len(seen):
            raise ConfigError(f"grid[{key!r}] lists a value twice: {values!r:.80}")
    return checked


def combinations(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the order given (the last key varies fastest)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def value_name(value: Any) -> str:
    """A short name for a grid value: the component's name (with its config), the number, the sizes."""
    if isinstance(value, dict):
        config = value.get("config") or {}
        inner = ", ".join(f"{k}={v}" for k, v in config.items())
        return f"{value['name']}({inner})" if inner else value["name"]
    if isinstance(value, list):
        return "-".join(str(v) for v in value)
    return str(value)


def label(combination: dict[str, Any]) -> str:
    """``activation=relu, init=he_uniform``: the combination as people read it."""
    return ", ".join(f"{k}={value_name(v)}" for k, v in combination.items())


def run_key(spec: dict[str, Any]) -> str:
    """A hash of everything a run computes from (its full settings, data set and seed): the same key, the
    same result, so a finished run is not run again."""
    text = json.dumps({k: spec[k] for k in ("setup", "data", "seed")}, sort_keys=True)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()
