"""The short runnable example on each component's card: the component in a small network, trained.

Each example is three statements after the import: make a data set, build a
network, fit it -- with the card's component in the one place it goes (a layer's
activation or init, ``fit``'s loss, schedule or optimizer) and neuroplug's
defaults everywhere else. The docs build runs them (``sphinx.ext.doctest``), so
they cannot rot.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["usage_example"]


class _NotLiteral(Exception):
    """A configuration value that cannot be written as a Python literal (a function, an object)."""


def _literal(value: Any) -> str:
    """``value`` as Python source: strings in double quotes, containers recursively."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise _NotLiteral(repr(value))


def _spec(entry: Any, name: str) -> str | None:
    """How the example names the component: ``"name"`` or ``{"name": ..., "config": {...}}``;
    None when it needs a setting that is not a literal (``callable``'s function) or has no default."""
    from neuroplug.types import REQUIRED

    reg = entry.registration
    config = dict(reg.spec_config or {})
    if any(v is REQUIRED and k not in config for k, v in (reg.parameters or {}).items()):
        return None
    try:
        return _literal({"name": name, "config": config}) if config else _literal(name)
    except _NotLiteral:
        return None


def _attribute(entry: Any, name: str) -> Any:
    """An attribute of the component built as the card shows it (``link``, ``stateful``), or None."""
    reg = entry.registration
    try:
        return getattr(reg.factory(**dict(reg.spec_config or {})), name, None)
    except Exception:  # the card still renders; the example then takes the common case
        return None


def usage_example(entry: Any, name: str) -> str | None:
    """Python source that trains a small network with the component of ``entry``, called ``name``
    (its qualified name when the bare one is shadowed); None when no literal can name it."""
    spec = _spec(entry, name)
    if spec is None:
        return None
    kind = entry.registration.kind
    data = "X, y = npl.datasets.make_moons(200, seed=0)"
    hidden = 'npl.Dense(16, activation="tanh")'
    output = 'npl.Dense(2, activation="softmax")'
    fit_args = 'loss="cross_entropy", '
    if kind == "activation":
        hidden = f"npl.Dense(16, activation={spec})"
    elif kind == "initializer":
        hidden = f'npl.Dense(16, activation="tanh", init={spec})'
    elif kind == "loss":
        link = _attribute(entry, "link")
        fit_args = f"loss={spec}, "
        if link == "sigmoid":
            output = 'npl.Dense(1, activation="sigmoid")'
        elif link != "softmax":
            data = "X, y = npl.datasets.make_regression(200, n_features=2, seed=0)"
            output = "npl.Dense(1)"
    elif kind == "schedule":
        fit_args += f"schedule={spec}, "
        if _attribute(entry, "stateful"):  # it watches a validation metric
            data = "X, X_val, y, y_val = npl.datasets.train_test_split(*npl.datasets.make_moons(200, seed=0))"
            fit_args += "validation_data=(X_val, y_val), "
    elif kind == "optimizer":
        fit_args += f"optimizer={spec}, "
    else:
        return None
    return "\n".join([
        "import neuroplug as npl",
        "",
        data,
        f"net = npl.Sequential([{hidden}, {output}], input_dim=2, seed=0)",
        f"history = npl.fit(net, X, y, {fit_args}lr=0.05, epochs=5, seed=0)",
    ])
