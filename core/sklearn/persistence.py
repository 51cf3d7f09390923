"""Saving a fitted estimator in a neuroplug model file, and rebuilding it: ``neuroplug.save`` / ``neuroplug.load``.

The file is a model file (:mod:`neuroplug.serialization.model_file`): the network's
architecture and weights, with the estimator's parameters and fitted attributes as
JSON beside them -- no pickle. :func:`neuroplug.load` finds this module through the
``neuroplug.model_files`` entry point named ``sklearn`` and calls :func:`from_file`,
which accepts only this module's estimator classes and checks every value.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from typing import Any

import numpy as np

__all__ = ["to_file", "from_file"]

#: The fitted attributes saved, beyond the network, per estimator class.
_FITTED = {"NeuroplugClassifier": ("multilabel_", "classes_", "n_outputs_net_", "n_features_in_",
                                   "feature_names_in_", "loss_curve_", "n_iter_"),
           "NeuroplugRegressor": ("_y_1d", "n_outputs_net_", "n_features_in_", "feature_names_in_",
                                  "loss_curve_", "n_iter_")}
_CLASS_KINDS = "biufU"  # the labels a file may hold: bool, integer, float or string


def _json_param(name: str, value: Any) -> Any:
    """A parameter as JSON: a component instance by its registered name and config; a
    ``random_state`` that is a generator as None (the fitted network is saved; only a refit
    would differ)."""
    import neuroplug as npl

    from .estimators import _COMPONENTS

    if isinstance(value, np.generic):
        value = value.item()
    if name == "random_state" and not (value is None or isinstance(value, numbers.Integral)):
        return None
    if name in _COMPONENTS and isinstance(value, npl.Component):
        described = npl.describe(value)  # a ConfigError naming the class when it is not registered
        return {"name": described["name"], "config": described["config"]}
    if name == "hidden_layer_sizes" and isinstance(value, tuple):
        value = [v.item() if isinstance(v, np.generic) else v for v in value]
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise npl.ConfigError(f"{name}={value!r:.60} cannot be saved in a model file (not JSON); give it by "
                              f"name or as a {{'name', 'config'}} dict") from None
    return value


def to_file(estimator: Any) -> tuple[Any, str, dict[str, Any]]:
    """``(network, "sklearn", state)`` for :func:`neuroplug.save` (the estimator must be fitted)."""
    from sklearn.utils.validation import check_is_fitted

    import neuroplug as npl
    from sklearn.exceptions import NotFittedError

    try:
        check_is_fitted(estimator, "network_")
    except NotFittedError:
        raise npl.ConfigError(f"{type(estimator).__name__} is not fitted yet: fit it before saving it") from None
    cls = type(estimator).__name__
    if cls not in _FITTED:
        raise npl.ConfigError(f"{cls} is not one of neuroplug.sklearn's estimators ({', '.join(_FITTED)}): a "
                              f"subclass cannot be rebuilt from a file by name")
    fitted: dict[str, Any] = {}
    for attr in _FITTED[cls]:
        value = getattr(estimator, attr, None)
        if attr == "classes_":
            labels = np.asarray(value)
            kind = "U" if labels.dtype.kind == "O" and all(isinstance(v, str) for v in labels) else labels.dtype.kind
            if kind not in _CLASS_KINDS:
                import neuroplug as npl

                raise npl.ConfigError(f"classes_ of dtype {labels.dtype} cannot be saved in a model file "
                                      f"(labels must be booleans, numbers or strings)")
            value = {"dtype": "object" if labels.dtype.kind == "O" else labels.dtype.str, "values": labels.tolist()}
        elif attr == "feature_names_in_" and value is not None:
            value = [str(v) for v in value]
        elif attr == "loss_curve_":
            value = [float(v) for v in value]
        elif isinstance(value, (np.generic,)):
            value = value.item()
        fitted[attr] = value
    params = {k: _json_param(k, v) for k, v in estimator.get_params(deep=False).items()}
    return estimator.network_, "sklearn", {"class": cls, "params": params, "fitted": fitted}


def _need(ok: bool, why: str) -> None:
    if not ok:
        raise ValueError(why)


def _count(value: Any, name: str, low: int = 0) -> int:
    _need(isinstance(value, int) and not isinstance(value, bool) and value >= low,
          f"{name} must be an integer >= {low}, got {value!r:.60}")
    return value


def from_file(network: Any, state: Any) -> Any:
    """The estimator saved by :func:`to_file`, around ``network`` (a ValueError for a state that does not fit)."""
    from sklearn.preprocessing import LabelEncoder

    from .estimators import NeuroplugClassifier, NeuroplugRegressor

    classes = {"NeuroplugClassifier": NeuroplugClassifier, "NeuroplugRegressor": NeuroplugRegressor}
    _need(isinstance(state, dict) and set(state) == {"class", "params", "fitted"},
          "the estimator state must be {class, params, fitted}")
    _need(state["class"] in classes, f"class must be one of {sorted(classes)}, got {state['class']!r:.60}")
    cls = classes[state["class"]]
    params, fitted = state["params"], state["fitted"]
    names = set(cls().get_params(deep=False))
    _need(isinstance(params, dict) and set(params) == names, f"params must have the keys {sorted(names)}")
    _need(isinstance(fitted, dict) and set(fitted) == set(_FITTED[state["class"]]),
          f"fitted must have the keys {sorted(_FITTED[state['class']])}")
    if isinstance(params["hidden_layer_sizes"], list):
        params = {**params, "hidden_layer_sizes": tuple(params["hidden_layer_sizes"])}
    estimator = cls(**params)
    estimator._check_params()  # the parameters are those of a valid estimator (ValueError/TypeError)
    _need(_count(fitted["n_features_in_"], "n_features_in_", 1) == network.input_dim,
          f"n_features_in_ is {fitted['n_features_in_']}, but the network takes {network.input_dim} inputs")
    _need(_count(fitted["n_outputs_net_"], "n_outputs_net_", 1) == network.output_dim,
          f"n_outputs_net_ is {fitted['n_outputs_net_']}, but the network has {network.output_dim} outputs")
    names_in = fitted["feature_names_in_"]
    _need(names_in is None or (isinstance(names_in, list) and len(names_in) == network.input_dim
                               and all(isinstance(v, str) for v in names_in)),
          "feature_names_in_ must be null or one string per input")
    curve = fitted["loss_curve_"]
    _need(isinstance(curve, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in curve)
          and len(curve) == _count(fitted["n_iter_"], "n_iter_"), "loss_curve_ must hold one number per epoch")
    estimator.network_ = network
    estimator.n_features_in_, estimator.n_outputs_net_ = fitted["n_features_in_"], fitted["n_outputs_net_"]
    if names_in is not None:
        estimator.feature_names_in_ = np.asarray(names_in, dtype=object)
    estimator.loss_curve_, estimator.n_iter_ = [float(v) for v in curve], fitted["n_iter_"]
    if cls is NeuroplugRegressor:
        _need(isinstance(fitted["_y_1d"], bool), "_y_1d must be true or false")
        _need(not fitted["_y_1d"] or network.output_dim == 1, "a 1-D target needs a network with one output")
        estimator._y_1d = fitted["_y_1d"]
        return estimator
    multilabel, saved = fitted["multilabel_"], fitted["classes_"]
    _need(isinstance(multilabel, bool), "multilabel_ must be true or false")
    _need(isinstance(saved, dict) and set(saved) == {"dtype", "values"} and isinstance(saved["values"], list)
          and isinstance(saved["dtype"], str), "classes_ must be {dtype, values}")
    values = saved["values"]
    _need(len(values) <= 1_000_000, "classes_ lists more than 1,000,000 classes")
    _need(all(isinstance(v, (bool, int, float, str)) and not (isinstance(v, float) and not math.isfinite(v))
              and not (isinstance(v, str) and len(v) > 10_000) for v in values),
          "classes_ values must be booleans, finite numbers or strings (of at most 10,000 characters)")
    try:
        dtype = np.dtype(saved["dtype"])
    except (TypeError, ValueError):
        raise ValueError(f"classes_ has an unknown dtype {saved['dtype']!r:.40}") from None
    _need(dtype.kind in _CLASS_KINDS + "O" and (dtype.kind in "UO" or dtype.itemsize <= 8),
          f"classes_ may not be of dtype {dtype}")
    # the values as JSON gave them, then in the saved dtype: each must survive the cast unchanged
    # (no integer wrapping round, no float overflowing to inf, no string cut short or padded out)
    plain = np.array(values, dtype=object if dtype.kind == "O" else None)
    if dtype.kind == "U":
        _need(plain.dtype.kind == "U" and dtype.itemsize == plain.dtype.itemsize,
              f"classes_ of dtype {dtype} do not hold {plain.dtype} values")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            labels = plain.astype(dtype)
        except (OverflowError, ValueError, TypeError):
            raise ValueError(f"classes_ values do not fit dtype {dtype}") from None
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        _need(all(isinstance(v, int) and info.min <= v <= info.max for v in values),
              f"classes_ values do not fit dtype {dtype}")
    _need(dtype.kind in "UO" or (bool(np.all(labels.astype(plain.dtype) == plain))
                                 and (dtype.kind != "f" or bool(np.isfinite(labels).all()))),
          f"classes_ values do not fit dtype {dtype}")
    _need(labels.ndim == 1 and len(labels) >= (1 if multilabel else 2), "classes_ must list the classes")
    if multilabel:
        _need(np.array_equal(labels, np.arange(network.output_dim)), "a multi-label classifier's classes_ "
                                                                     "are its output indices")
    else:
        _need(len(np.unique(labels)) == len(labels) == network.output_dim,
              f"classes_ must be {network.output_dim} distinct labels, one per output")
        estimator._encoder = LabelEncoder().fit(labels)
        _need(np.array_equal(estimator._encoder.classes_, labels), "classes_ must be sorted, as a classifier "
                                                                   "keeps them (output i is class i)")
        labels = estimator._encoder.classes_
    estimator.multilabel_, estimator.classes_ = multilabel, labels
    if multilabel:
        estimator._binarizer = None
    return estimator
