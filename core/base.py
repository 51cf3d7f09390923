"""The abstract interfaces of every component kind.

The core (layers, networks, the training loop, save/load) knows only these
classes, never a concrete component: activations, initializers, losses,
schedules and optimizers all come from plugins.

Conventions shared by every kind
--------------------------------
* Arrays are batches: rows are samples. A dense weight matrix has the layout
  ``(fan_in, fan_out)`` so that a layer computes ``x @ W + b``.
* Methods never mutate their inputs and preserve the floating dtype they are given
  (float32 is the training default, float64 is used by gradient checks).
* A component's parameters are its constructor's keyword arguments, stored as
  attributes of the same names. :meth:`Component.get_config` reads them back, so a
  component is saved as ``{"kind", "name", "config"}`` and rebuilt with
  ``factory(**config)`` -- never pickled.
"""

from __future__ import annotations

import abc
import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from ._lazy_numpy import LazyNumpy

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = [
    "Component",
    "Activation",
    "Initializer",
    "Loss",
    "Schedule",
    "Optimizer",
    "KINDS",
]


class Component(abc.ABC):
    """Base of all components: configuration by constructor keyword arguments.

    Subclasses store each constructor parameter as an attribute of the same
    name; :meth:`get_config` then returns them. Override :meth:`get_config` only
    when that is not possible.
    """

    #: The component kind ("activation", "initializer", ...); set by each interface.
    kind: ClassVar[str] = ""

    def get_config(self) -> dict[str, Any]:
        """Return the constructor keyword arguments that rebuild this component.

        Returns
        -------
        dict
            ``{parameter: value}`` for every parameter of ``__init__``; values are
            plain JSON types (numbers, strings, booleans, lists, dicts, None) or
            nested component configs.
        """
        config: dict[str, Any] = {}
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if not hasattr(self, name):
                raise NotImplementedError(
                    f"{type(self).__name__} does not store its parameter {name!r} as an "
                    f"attribute; store it as self.{name} or override get_config()"
                )
            config[name] = _plain(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Component":
        """Rebuild a component from :meth:`get_config`'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            items = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except Exception:  # a component that cannot be configured still prints
            items = "..."
        return f"{type(self).__name__}({items})"


def _as_array(name: str, value: Any) -> np.ndarray:
    """``np.asarray(value)``, with an InputError naming the first odd row for ragged nested lists."""
    from .errors import InputError

    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists, ...
        try:
            rows = [np.shape(row) for row in value]
        except (TypeError, ValueError):
            rows = []
        odd = next((i for i, shape in enumerate(rows) if shape != rows[0]), None)
        if odd is not None:
            raise InputError(f"{name} must be a rectangular array (every row the same length): row {odd} has "
                             f"shape {rows[odd]}, row 0 has {rows[0]}") from None
        raise InputError(f"{name} must be an array of real numbers; numpy cannot convert it: {exc}") from None


def _real_array(name: str, value: Any) -> np.ndarray:
    """``np.asarray(value)`` when it holds real numbers (bool, integer or float), else InputError."""
    from .errors import InputError

    array = _as_array(name, value)
    if array.dtype.kind not in "biuf":
        raise InputError(f"{name} must hold real numbers, got dtype {array.dtype}")
    return array


def _finite_as(name: str, array: np.ndarray, dtype: Any) -> np.ndarray:
    """``array`` (of real numbers) converted to ``dtype`` (no copy if it has it), after checking that
    every value is finite and within the range of ``dtype``; InputError naming the first that is not."""
    from .errors import InputError

    out = None
    try:
        with np.errstate(over="raise"):
            out = array.astype(dtype, copy=False)
    except FloatingPointError:
        pass
    if out is not None and (out.dtype.kind != "f" or np.isfinite(out).all()):
        return out
    with np.errstate(all="ignore"):
        values = array.astype(np.float64) if array.dtype.itemsize < 8 else array
        bad = ~np.isfinite(values) | (np.abs(values) > np.finfo(dtype).max)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    value = array[index].item()
    if not np.isfinite(value):
        raise InputError(f"{name} holds a non-finite value {value!r} at index {index}")
    raise InputError(f"{name} holds {value!r} at index {index}, which is inf in {np.dtype(dtype)} "
                     f"(largest {float(np.finfo(dtype).max):g})")


def _check_finite(name: str, array: np.ndarray, dtype: Any = None) -> None:
    """InputError naming the first value of ``array`` that is not finite or, with ``dtype``, beyond its
    range (1e39 for float32). Cheap when every value is fine: min and max propagate NaN, so no
    temporary the size of the data is made."""
    if array.dtype.kind != "f" or not array.size:
        return
    low, high = array.min(), array.max()
    if not (np.isfinite(low) and np.isfinite(high)) or (
            dtype is not None and array.dtype.itemsize > np.dtype(dtype).itemsize
            and max(-float(low), float(high)) > float(np.finfo(dtype).max)):
        _finite_as(name, array, array.dtype if dtype is None else dtype)  # raises, naming the value


def _plain(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON-compatible values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Activation(Component):
    r"""An activation function :math:`a = \varphi(z)` applied to a batch of pre-activations.

    Implement :meth:`forward` and, for element-wise functions, :meth:`derivative`
    (:math:`\varphi'(z)`, which may use the cached output ``a``). A function that
    couples the entries of a row (softmax) sets ``elementwise = False`` and
    implements :meth:`backward` (the vector-Jacobian product) instead.
    """

    kind: ClassVar[str] = "activation"
    #: True when ``a[i, j]`` depends on ``z[i, j]`` only.
    elementwise: ClassVar[bool] = True
    #: A tag such as ``"softmax"`` or ``"sigmoid"``; a :class:`Loss` with the same
    #: ``link`` can fuse its gradient with this activation's (``dL/dz = p - y``).
    #: Read from the instance (it may depend on parameters).
    link: str | None = None
    #: Points where the derivative is undefined (``(0.0,)`` for relu); gradient
    #: checks keep their sample points away from them. Read from the instance.
    kinks: tuple[float, ...] = ()

    @abc.abstractmethod
    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return :math:`\\varphi(z)`, same shape and dtype as ``z``.

        ``out``, when given, is a preallocated array of that shape and dtype
        (never ``z`` itself) that the result may be written into; always use the
        returned array.
        """

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Return the element-wise derivative :math:`\\varphi'(z)`; ``a`` is ``forward(z)``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement derivative() (element-wise) or backward()"
        )

    def backward(
        self, z: np.ndarray, a: np.ndarray, grad: np.ndarray, out: np.ndarray | None = None
    ) -> np.ndarray:
        """Return :math:`\\partial L/\\partial z` given ``grad`` = :math:`\\partial L/\\partial a`.

        The default multiplies ``grad`` by :meth:`derivative` (the chain rule for
        an element-wise function). ``out`` may be ``grad`` itself.
        """
        return np.multiply(grad, self.derivative(z, a), out=out)


class Initializer(Component):
    """Draws a weight matrix of shape ``(fan_in, fan_out)`` from a seeded generator."""

    kind: ClassVar[str] = "initializer"

    @abc.abstractmethod
    def __call__(
        self, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: Any = "float32"
    ) -> np.ndarray:
        """Return a new ``(fan_in, fan_out)`` array of ``dtype``.

        All randomness must come from ``rng`` so that a seed reproduces the weights.
        Bias vectors are drawn with ``fan_in=1`` and the single row is used.
        """

    def target_density(self, fan_in: int, fan_out: int) -> dict[str, Any] | None:
        """Describe the distribution of the weights for this shape (optional; used by plots and docs).

        Return ``{"distribution": "uniform", "low": a, "high": b}``,
        ``{"distribution": "normal", "mean": m, "std": s}`` (with optional
        ``"low"``/``"high"`` for a truncated normal, ``std`` being the normal's
        before truncation, and ``"approximate": True`` when it only describes the
        entries' marginal law), ``{"distribution": "constant", "value": c}``, or
        None when unknown (the default).
        """
        return None


class Loss(Component):
    """A loss :math:`L(\\hat y, y)` between predictions and targets.

    ``reduction`` ("mean", "sum" or "none") is a constructor parameter of every
    built-in loss; :meth:`forward` returns a float unless it is "none", and
    :meth:`gradient` is the gradient of the reduced loss (of the sum, for "none").
    """

    kind: ClassVar[str] = "loss"
    #: Fuses with the activation having the same ``link`` (see :meth:`fused_gradient`);
    #: read from the instance, since it may depend on parameters (``from_logits``).
    link: str | None = None
    #: Values of the difference ``y_pred - y_true`` where the gradient is not
    #: continuous (``(0.0,)`` for mae); gradient checks stay away from them.
    kinks: tuple[float, ...] = ()

    def prepare_targets(self, y: np.ndarray, n_outputs: int, dtype: Any = "float32") -> np.ndarray:
        """Validate targets once, before training, and convert them to the form used in training.

        The result must be indexable by rows (the loop takes ``Y[batch]``) and mean
        the same as some raw form of targets, since :meth:`forward`,
        :meth:`gradient` and :meth:`fused_gradient` receive it; it need not have
        shape ``(N, n_outputs)`` (cross-entropy may keep integer labels). The default accepts an array of shape ``(N, n_outputs)``, a 1-D array when
        ``n_outputs == 1``, or 1-D integer class labels in ``[0, n_outputs)`` which
        are one-hot encoded. Raises :class:`~neuroplug.errors.InputError` otherwise
        (also for targets that are not real numbers, not finite or beyond the range
        of ``dtype``).
        """
        from .errors import InputError, ShapeError

        y = _real_array("y", y)
        if y.ndim == 1 and n_outputs == 1:
            return _finite_as("y", y, dtype).reshape(-1, 1)
        if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
            if y.size and (y.min() < 0 or y.max() >= n_outputs):
                bad = y[(y < 0) | (y >= n_outputs)][0]
                raise InputError(
                    f"y holds the class label {bad}, outside [0, {n_outputs}) for a network "
                    f"with {n_outputs} outputs"
                )
            onehot = np.zeros((y.shape[0], n_outputs), dtype=dtype)
            onehot[np.arange(y.shape[0]), y] = 1
            return onehot
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ShapeError(
                f"y must have shape (N, {n_outputs}) to match the network's {n_outputs} outputs"
                f"{' (or be 1-D integer class labels)' if n_outputs > 1 else ''}; got shape {y.shape}"
            )
        return _finite_as("y", y, dtype)

    @abc.abstractmethod
    def forward(self, y_pred: np.ndarray, y_true: np.ndarray) -> Any:
        """Return the loss (a float, or per-element/per-sample values for ``reduction="none"``)."""

    @abc.abstractmethod
    def gradient(self, y_pred: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Return :math:`\\partial L/\\partial \\hat y`, shape and dtype of ``y_pred``."""

    def fused_gradient(self, a: np.ndarray, y_true: np.ndarray) -> np.ndarray:
        """Return :math:`\\partial L/\\partial z` where ``a = link(z)``.

        Implemented by losses that declare a ``link``; used by the training loop
        instead of ``activation.backward(z, a, gradient(a, y))`` when the last
        layer's activation has the same link (e.g. softmax + cross-entropy gives
        ``(a * sum(y) - y) / N``, i.e. ``(a - y) / N`` for targets whose rows sum to 1).
        """
        raise NotImplementedError(f"{type(self).__name__} declares no fused gradient")


class Schedule(Component):
    """A learning-rate schedule: a closed-form, stateless :math:`\\eta(t)`.

    ``unit`` says what ``t`` counts: ``"epoch"`` (the epoch index, from 0) or
    ``"batch"`` (the global optimizer step, from 0). Being closed-form, a schedule
    can be tabulated with :meth:`preview` and there is no call-order trap.
    A stateful rule (reduce-on-plateau) sets ``stateful = True`` and updates
    itself in :meth:`observe`.
    """

    kind: ClassVar[str] = "schedule"
    #: True when the schedule is declared never to increase (spec-checked).
    #: Read from the instance: it may depend on parameters.
    decaying: bool = False
    #: True when :meth:`observe` changes the schedule (reduce_on_plateau).
    stateful: bool = False
    #: False for schedules wrapping arbitrary Python callables (read from the instance).
    serializable: bool = True
    unit: str = "epoch"

    @abc.abstractmethod
    def __call__(self, step: int, base_lr: float) -> float:
        """Return the learning rate at ``step`` (0-based) for initial rate ``base_lr``."""

    def preview(self, n: int, base_lr: float = 1.0) -> np.ndarray:
        """Return the learning rates of steps ``0 .. n-1`` as a float64 array."""
        return np.array([self(t, base_lr) for t in range(n)], dtype=np.float64)

    def observe(self, epoch: int, metrics: dict[str, float]) -> None:
        """Called by ``fit`` after each epoch with that epoch's metrics. Default: nothing."""

    def get_state(self) -> dict[str, Any]:
        """Return the mutable state (for checkpoints); empty for stateless schedules."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore state returned by :meth:`get_state`."""


class Optimizer(Component):
    """Updates parameters in place from their gradients and the current learning rate."""

    kind: ClassVar[str] = "optimizer"

    def setup(self, params: list[np.ndarray]) -> None:
        """Allocate per-parameter state (called once before training). Default: nothing."""

    @abc.abstractmethod
    def step(self, params: list[np.ndarray], grads: list[np.ndarray], lr: float) -> None:
        """Update each ``params[i]`` in place using ``grads[i]`` and the learning rate ``lr``."""

    def get_state(self) -> dict[str, Any]:
        """Return the optimizer state (arrays and numbers) for checkpoints."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore state returned by :meth:`get_state`."""


#: Interface class of each component kind.
KINDS: dict[str, type[Component]] = {
    "activation": Activation,
    "initializer": Initializer,
    "loss": Loss,
    "schedule": Schedule,
    "optimizer": Optimizer,
}
