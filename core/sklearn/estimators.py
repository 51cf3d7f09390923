"""The scikit-learn estimators: parameters stored as given, validated in ``fit``, fitted attributes ending in ``_``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)

__all__ = ["NeuroplugClassifier", "NeuroplugRegressor"]

_DTYPES = ("float32", "float64")


def _check_sizes(sizes: Any) -> tuple[int, ...]:
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"hidden_layer_sizes must be a tuple of positive integers, got {sizes!r}") from None
    if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be a tuple of positive integers, got {sizes!r}")
    return tuple(int(s) for s in sizes)


def _check(name: str, value: Any, *, low: float, integer: bool = False, low_open: bool = False) -> Any:
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r} "
                        f"of type {type(value).__name__}")
    if not np.isfinite(value) or value < low or (low_open and value == low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low} and finite, got {value!r}")
    return value


#: The parameters that name a component, and its kind; ``PARAM__KEY`` sets a key of its config.
_COMPONENTS = {"activation": "activation", "init": "initializer", "bias_init": "initializer",
               "output_activation": "activation", "loss": "loss", "optimizer": "optimizer", "schedule": "schedule"}


def _per_sample(spec: Any) -> Any:
    """The loss ``spec`` with ``reduction="none"`` (per-sample values), or a ValueError naming sample_weight."""
    import neuroplug as npl

    try:
        description = spec if isinstance(spec, (str, dict)) else npl.describe(spec)
        if isinstance(description, str):
            description = {"name": description}
        config = {**dict(description.get("config") or {}), "reduction": "none"}
        loss = npl.create("loss", {"name": description["name"], "config": config})
    except npl.NeuroplugError as exc:
        raise ValueError(f"sample_weight needs a loss that gives per-sample values (reduction='none'); the loss "
                         f"{spec!r:.60} does not: {exc}") from exc
    # a class-weighted or ignore_index mean divides by the weights of the targets, not the number of
    # samples: the sample-weighted mean would not reduce to it for equal weights
    if getattr(loss, "weight", None) is not None or getattr(loss, "ignore_index", None) is not None:
        raise ValueError(f"sample_weight cannot be combined with a loss whose mean is weighted by class "
                         f"(weight=) or leaves samples out (ignore_index=): {spec!r:.80}; give the weights "
                         f"through sample_weight alone")
    return loss


class _NeuroplugEstimator(BaseEstimator):
    """What the classifier and the regressor share: the network, its training, and the checks of the parameters."""

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: Any = "relu", init: Any = "he_uniform",
                 bias_init: Any = "zeros", output_activation: Any = None, loss: Any = None, optimizer: Any = "adam",
                 lr: float = 1e-3, schedule: Any = "constant", epochs: int = 200, batch_size: Any = "auto",
                 shuffle: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, random_state: Any = None, warm_start: bool = False,
                 verbose: bool = False, dtype: str = "float64") -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.bias_init = bias_init
        self.output_activation = output_activation
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.schedule = schedule
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    # ------------------------------------------------------------------ nested component parameters
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters; with ``deep``, also ``COMPONENT__KEY`` for each key of a component given
        as a ``{"name", "config"}`` dict (``activation__alpha``)."""
        params = super().get_params(deep=deep)
        if deep:
            for param in _COMPONENTS:
                spec = params.get(param)
                if isinstance(spec, dict) and isinstance(spec.get("config"), dict):
                    params.update({f"{param}__{k}": v for k, v in spec["config"].items()})
        return params

    def set_params(self, **params: Any) -> Any:
        """Set parameters; ``COMPONENT__KEY=value`` sets one key of a component's config
        (``activation__alpha=0.05``), turning a component given by name into a
        ``{"name", "config"}`` dict -- e.g. for a grid search over a component's parameter."""
        valid = self.get_params(deep=False)
        unknown = [k for k in params if k.partition("__")[0] not in valid]
        if unknown:  # checked first: a failed call sets nothing (scikit-learn's loop sets keys until one fails)
            raise ValueError(f"Invalid parameter {unknown[0]!r} for estimator {type(self).__name__}. Valid "
                             f"parameters are: {sorted(valid)!r}.")
        nested = {k: params.pop(k) for k in list(params) if k.partition("__")[0] in _COMPONENTS and "__" in k}
        specs: dict[str, Any] = {}  # the new components, worked out before anything is set
        for key, value in nested.items():
            param, _, name = key.partition("__")
            spec = specs.get(param, params.get(param, getattr(self, param)))
            if isinstance(spec, str):
                spec = {"name": spec, "config": {}}
            elif isinstance(spec, dict) and isinstance(spec.get("name"), str) \
                    and isinstance(spec.get("config", {}) or {}, dict):
                spec = {**spec, "config": dict(spec.get("config") or {})}
            else:
                raise ValueError(f"{key}={value!r:.60}: {key} sets a key of the {param}'s config, which needs "
                                 f"the {param} given by name or as a {{'name', 'config'}} dict; it is "
                                 f"{spec!r:.60}" + (" (chosen from the targets in fit: give it by name)"
                                                    if spec is None else " (set the parameter on it instead)"))
            spec["config"][name] = value
            specs[param] = spec
        if params:
            super().set_params(**params)
        for param, spec in specs.items():
            setattr(self, param, spec)
        return self

    # ------------------------------------------------------------------ what a subclass says
    def _default_output(self) -> tuple[str, str]:  # (output activation, loss)
        raise NotImplementedError

    def _encode_targets(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        raise NotImplementedError

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        _check_sizes(self.hidden_layer_sizes)
        _check("lr", self.lr, low=0, low_open=True)
        _check("epochs", self.epochs, low=1, integer=True)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            _check("batch_size", self.batch_size, low=1, integer=True)
        _check("validation_fraction", self.validation_fraction, low=0, low_open=True)
        if self.validation_fraction >= 1:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction!r}")
        _check("n_iter_no_change", self.n_iter_no_change, low=1, integer=True)
        for name in ("shuffle", "early_stopping", "warm_start", "verbose"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {self.dtype!r}")
        import neuroplug as npl

        for param, kind in _COMPONENTS.items():
            spec = self._schedule(1, 1) if param == "schedule" else getattr(self, param)
            if spec is None and param in ("output_activation", "loss"):
                continue
            try:  # scikit-learn's convention: a bad parameter is a ValueError (or TypeError) naming it
                npl.create(kind, spec)
            except npl.NeuroplugError as exc:
                error = TypeError if isinstance(exc, TypeError) else ValueError
                raise error(f"{param}={getattr(self, param)!r:.80}: {exc}") from exc

    def _build(self, n_features: int, n_outputs: int, seed: int) -> Any:
        import neuroplug as npl

        out_act, _ = self._default_output()
        hidden = [npl.Dense(units, activation=self.activation, init=self.init, bias_init=self.bias_init)
                  for units in _check_sizes(self.hidden_layer_sizes)]
        output = npl.Dense(n_outputs, activation=self.output_activation or out_act, init="normalized_xavier",
                           bias_init=self.bias_init)
        return npl.Sequential(hidden + [output], input_dim=n_features, seed=seed, dtype=self.dtype)

    def _train(self, X: np.ndarray, Y: np.ndarray, epochs: int, rng: np.random.RandomState,
               sample_weight: np.ndarray | None = None) -> Any:
        import neuroplug as npl

        _, default_loss = self._default_output()
        loss = self.loss or default_loss
        if sample_weight is not None:  # the weights travel as the targets' last column
            from .weighting import WeightedLoss, weighted_targets

            loss = WeightedLoss(_per_sample(loss), integer_targets=np.issubdtype(Y.dtype, np.integer))
            Y = weighted_targets(Y, sample_weight)
        n = X.shape[0]
        validation, callbacks = None, []
        if self.early_stopping and n >= 4:
            order = rng.permutation(n)
            n_val = min(max(1, int(round(self.validation_fraction * n))), n - 1)
            val, train = order[:n_val], order[n_val:]
            validation = (X[val], Y[val])
            X, Y = X[train], Y[train]
            callbacks.append(npl.EarlyStopping(monitor="val_loss", patience=self.n_iter_no_change))
        batch = min(200, X.shape[0]) if self.batch_size == "auto" else min(int(self.batch_size), X.shape[0])
        schedule = self._schedule(int(epochs) * -(-X.shape[0] // batch), int(epochs))
        history = npl.fit(self.network_, X, Y, loss=loss, optimizer=self.optimizer,
                          lr=float(self.lr), schedule=schedule, epochs=int(epochs), batch_size=batch,
                          shuffle=bool(self.shuffle), seed=int(rng.randint(2 ** 31 - 1)),
                          validation_data=validation, callbacks=callbacks, progress=bool(self.verbose))
        return history

    def _schedule(self, steps: int, epochs: int) -> Any:
        """``schedule``, with ``total_steps`` filled in from this fit (epochs, or steps for ``unit="batch"``)
        when it is given by name and needs one (``cosine_annealing``, ``one_cycle``)."""
        import inspect

        import neuroplug as npl

        spec = self.schedule
        if not (isinstance(spec, str) or (isinstance(spec, dict) and isinstance(spec.get("name"), str))):
            return spec
        name = spec if isinstance(spec, str) else spec["name"]
        config = {} if isinstance(spec, str) else dict(spec.get("config") or {})
        try:
            params = inspect.signature(npl.get_registry().resolve("schedule", name).registration.factory).parameters
        except (npl.NeuroplugError, TypeError, ValueError):
            return spec  # fit names what is wrong
        total = params.get("total_steps")
        if total is None or total.default is not inspect.Parameter.empty or "total_steps" in config:
            return spec
        unit = config.get("unit", params["unit"].default if "unit" in params else "epoch")
        config["total_steps"] = steps if unit == "batch" else epochs
        return {"name": name, "config": config}

    def _fit(self, X: Any, y: Any, *, partial: bool, classes: Any = None, sample_weight: Any = None) -> Any:
        self._check_params()
        first = not (partial or self.warm_start) or not hasattr(self, "network_")
        X, y = _validate_data(self, X, y, reset=first, dtype=np.dtype(self.dtype).type, multi_output=True,
                              y_numeric=not isinstance(self, ClassifierMixin))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
            if not sample_weight.any():
                raise ValueError("sample_weight must hold at least one weight > 0; every weight is 0")
            if (sample_weight == sample_weight[0]).all():  # equal weights: the plain loss, the same result
                sample_weight = None
        Y = self._encode_targets(y, reset=first, classes=classes)
        rng = check_random_state(self.random_state)
        if first:
            n_outputs = self.n_outputs_net_
            self.network_ = self._build(X.shape[1], n_outputs, int(rng.randint(2 ** 31 - 1)))
            self.loss_curve_, self.n_iter_ = [], 0
        history = self._train(X, Y, 1 if partial else self.epochs, rng, sample_weight)
        self.loss_curve_ = list(self.loss_curve_) + [float(v) for v in history["loss"]]
        self.n_iter_ = int(self.n_iter_) + len(history["loss"])
        return self

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Train a new network on ``(X, y)`` (or continue the fitted one, with ``warm_start=True``).

        ``sample_weight``: one weight >= 0 a sample; the loss of a batch is then the weighted
        mean of its samples' losses. It needs a loss that gives per-sample values
        (``reduction="none"``, as every built-in loss does); equal weights are no weights.
        """
        return self._fit(X, y, partial=False, sample_weight=sample_weight)

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = _validate_data(self, X, reset=False, dtype=np.dtype(self.dtype).type)
        return self.network_.predict(X)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    def __neuroplug_save__(self) -> tuple[Any, str, dict[str, Any]]:
        """What :func:`neuroplug.save` writes: the network, and the parameters and fitted
        attributes as JSON (see :mod:`neuroplug.sklearn.persistence`); :func:`neuroplug.load`
        gives the estimator back."""
        from .persistence import to_file

        return to_file(self)


class NeuroplugClassifier(ClassifierMixin, _NeuroplugEstimator):
    """A neuroplug network as a scikit-learn classifier (multi-class, binary and multi-label).

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Units of each hidden layer (``Dense``), like ``MLPClassifier``.
    activation, init, bias_init : str, dict or component
        The hidden layers' components: a name (``"relu"``, ``"neuroplug-swish:swish"``), a
        ``{"name", "config"}`` dict or an instance -- any installed plugin's.
    output_activation, loss : str, dict, component or None
        ``None``: softmax and cross-entropy (multi-label: sigmoid and binary cross-entropy).
    optimizer, schedule : str, dict or component
        The optimizer (default ``"adam"``) and the learning-rate schedule.
    lr : float
        The initial learning rate.
    epochs : int
        Passes over the data in :meth:`fit` (:meth:`partial_fit` makes one).
    batch_size : int or "auto"
        Samples per step; ``"auto"`` is ``min(200, n_samples)``.
    shuffle : bool
        Shuffle the samples every epoch.
    early_stopping : bool
        Hold out ``validation_fraction`` of the training data and stop when its loss has
        not improved for ``n_iter_no_change`` epochs (the best weights are kept).
    random_state : None, int or RandomState
        Seeds the weights, the shuffling and the validation split: the same int gives
        bit-identical predictions.
    warm_start : bool
        :meth:`fit` continues from the fitted network instead of building a new one.
    verbose : bool
        A progress bar during training.
    dtype : {"float64", "float32"}
        The network's floating dtype.

    A component's own parameter is a parameter too, ``COMPONENT__KEY``
    (``set_params(activation__alpha=0.05)``, ``"neuroplugclassifier__activation__alpha"``
    in a grid search). :meth:`fit` takes ``sample_weight``; :func:`neuroplug.save`
    and :func:`neuroplug.load` save and load a fitted estimator (no pickle).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (multi-label: the column indices).
    network_ : neuroplug.Sequential
        The trained network.
    loss_curve_ : list of float
        The training loss of each epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_, feature_names_in_
        As scikit-learn's estimators.
    """

    def _default_output(self) -> tuple[str, str]:
        return ("sigmoid", "binary_cross_entropy") if self.multilabel_ else ("softmax", "cross_entropy")

    def _encode_targets(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        if reset:
            kind = type_of_target(y)
            if kind == "multilabel-indicator":
                self.multilabel_ = True
                self._binarizer = None
                self.classes_ = np.arange(y.shape[1])
                self.n_outputs_net_ = y.shape[1]
                return np.asarray(y, dtype=self.dtype)
            if y.ndim == 2 and y.shape[1] == 1:
                y = column_or_1d(y, warn=True)
            check_classification_targets(y)
            self.multilabel_ = False
            labels = np.unique(y) if classes is None else np.asarray(classes)
            if classes is not None and not np.isin(np.unique(y), labels).all():
                raise ValueError(f"y holds labels {np.setdiff1d(np.unique(y), labels)} that are not in "
                                 f"classes={labels!r}")
            if len(labels) < 2:
                raise ValueError(f"a classifier needs samples of at least 2 classes; got 1 class "
                                 f"({labels[0]!r})")
            self._encoder = LabelEncoder().fit(labels)
            self.classes_ = self._encoder.classes_
            self.n_outputs_net_ = len(self.classes_)
        elif self.multilabel_:
            return np.asarray(y, dtype=self.dtype)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y holds labels {unknown!r} not seen when the classifier was first fitted "
                             f"(classes_={self.classes_!r}); give every class to partial_fit(classes=...)")
        return self._encoder.transform(y)

    def partial_fit(self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None) -> Any:
        """One epoch on ``(X, y)``; the first call builds the network (give every label in ``classes``)."""
        if not hasattr(self, "network_") and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("the first partial_fit needs classes=: every label the classifier will see")
        return self._fit(X, y, partial=True, classes=classes, sample_weight=sample_weight)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax outputs; multi-label: each label's sigmoid)."""
        return np.asarray(self._outputs(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample (multi-label: every label above 0.5)."""
        proba = self.predict_proba(X)
        if self.multilabel_:
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class NeuroplugRegressor(RegressorMixin, _NeuroplugEstimator):
    """A neuroplug network as a scikit-learn regressor (single- and multi-output).

    The parameters and attributes are those of :class:`NeuroplugClassifier`, without
    ``classes_``; the default output is linear (``identity``) with the mean squared error.
    """

    def _default_output(self) -> tuple[str, str]:
        return "identity", "mse"

    def _encode_targets(self, y: np.ndarray, *, reset: bool, classes: Any = None) -> np.ndarray:
        y = np.asarray(y, dtype=self.dtype)
        if reset:
            self._y_1d = y.ndim == 1
            self.n_outputs_net_ = 1 if y.ndim == 1 else y.shape[1]
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """One epoch on ``(X, y)``; the first call builds the network."""
        return self._fit(X, y, partial=True, sample_weight=sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs (1-D for a single target, as the targets were given)."""
        out = np.asarray(self._outputs(X), dtype=np.float64)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
