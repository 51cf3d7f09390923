r"""The :class:`Sequential` network: layers in a chain, forward pass and backpropagation.

Backpropagation applies the chain rule layer by layer, from the loss back to the
first layer: with :math:`\delta^{(l)} = \partial L/\partial z^{(l)}`,

.. math::

    \frac{\partial L}{\partial W^{(l)}} = a^{(l-1)\top} \delta^{(l)}, \qquad
    \delta^{(l-1)} = \big(\delta^{(l)} W^{(l)\top}\big) \odot \varphi'\big(z^{(l-1)}\big)

i.e. :math:`\partial L/\partial w = \partial L/\partial a \cdot \partial a/\partial w`.
The gradients of every parameter are kept on the layers (``layer.dW``,
``layer.db``; :meth:`Sequential.gradients`) for inspection. (After a
:func:`~neuroplug.fit` with plain SGD they hold the last batch's gradients times
the learning rate: fit folds the rate into the output gradient.)
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any, Sequence

import numpy as np

from ..base import _as_array, _check_finite, _finite_as, _real_array
from ..errors import ComponentError, ConfigError, InputError, NeuroplugError, NonFiniteError, ShapeError
from .layers import Dense
from ..validation import check_number

__all__ = ["Sequential"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _network_dtype(dtype: Any) -> np.dtype:
    """``np.dtype`` of a network's ``dtype`` argument: "float32"/"float64" or their numpy types."""
    name = dtype if isinstance(dtype, str) else None
    if dtype is not None and name is None:  # None is not numpy's float64 here: it is no choice at all
        try:
            name = np.dtype(dtype).name
        except (TypeError, ValueError):
            pass
    if name not in _DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(map(repr, _DTYPES))} (or their numpy types); "
                          f"got {dtype!r}")
    return np.dtype(_DTYPES[name])


def _component_failed(exc: Exception, i: int, layer: Dense) -> Exception:
    """``exc`` raised in layer ``i``: unchanged if neuroplug raised it on purpose, else a ComponentError."""
    from ..registry import component_label as _component_label
    from ..registry import failing_component as _failing_component

    who = _failing_component(exc) or _component_label(layer.activation)
    return ComponentError(f"{who} (layer {i}) raised in predict: {type(exc).__name__}: {exc}")


class _Workspace:
    """Preallocated per-layer buffers for one batch size (training only)."""

    __slots__ = ("z", "a", "delta", "x", "tmp", "mask")

    def __init__(self, layers: Sequence[Dense], batch: int, input_dim: int, dtype: Any) -> None:
        self.x = np.empty((batch, input_dim), dtype=dtype)
        self.z = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        self.a = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        self.delta = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        # scratch of the activations' prebound training operations (see _TrainPlan)
        self.tmp = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        self.mask = [np.empty((batch, layer.units), dtype=bool) for layer in layers]


def _forward_call(forward: Any, z: np.ndarray, a: np.ndarray) -> Any:
    """``forward(z, out=a)`` as a call without arguments, its result always left in ``a``."""
    def call() -> None:
        r = forward(z, out=a)
        if r is not a:
            a[...] = r
    return call


def _backward_call(backward: Any, z: np.ndarray, a: np.ndarray, grad: np.ndarray) -> Any:
    """``backward(z, a, grad, out=grad)`` as a call without arguments, its result always left in ``grad``."""
    def call() -> None:
        r = backward(z, a, grad, out=grad)
        if r is not grad:
            if type(r) is not np.ndarray or r.shape != grad.shape or r.dtype.kind not in "fiu":
                raise TypeError("not a real array of the input's shape")  # fit names it (find_bad_output)
            grad[...] = r
    return call


def _activation_ops(act: Any, z: np.ndarray, a: np.ndarray, grad: np.ndarray, tmp: np.ndarray,
                    mask: np.ndarray) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[bool, bool]]:
    """The training forward (``z`` into ``a``) and in-place backward (on ``grad``) of an activation,
    each a tuple of calls without arguments: the activation's own prebound numpy calls when it
    offers them (``_train_ops``, the built-ins), else calls of its ``forward`` and ``backward``;
    and whether each of the two is the activation's own numpy calls."""
    own = getattr(act, "_train_ops", None)
    ops = own(z, a, grad, tmp, mask) if own is not None else None
    forward, backward = ops if ops is not None else (None, None)
    prebound = (forward is not None, backward is not None)
    if forward is None:
        forward = (_forward_call(act.forward, z, a),)
    if backward is None:
        backward = (_backward_call(act.backward, z, a, grad),)
    return tuple(forward), tuple(backward), prebound


class _TrainPlan:
    """The training passes of one network for one batch size, with everything resolved once.

    :func:`~neuroplug.fit` builds one per batch size before its loop
    (:meth:`Sequential._train_plan`): the plan binds each layer's parameter and
    gradient arrays (and their transposed views), its activation and the workspace
    buffers, the input batch buffer ``x`` included, into two flat tuples of calls
    without arguments: ``forward_ops`` (the batch in ``x`` to the output in ``out``)
    and ``backward_ops`` (``dL/dz`` of the last layer, in ``delta``, to every ``dW``
    and ``db``). Each call is one numpy operation with its arrays bound
    (``functools.partial``), or, for an activation from a plugin, a call of its
    ``forward(z, out=a)`` or ``backward(z, a, grad, out=grad)``. A step then runs two
    loops over them: no attribute or registry look-ups, no Python frame per layer for
    the built-ins, nothing allocated but what a plugin allocates. The arithmetic is
    that of :meth:`Sequential.forward` and :meth:`Sequential.backward`, operation for
    operation, so the results are bit-identical; only ``dL/dX`` of the first layer,
    which training never uses, is not computed. ``prebound`` is True when every
    activation call among them is the activation's own numpy calls (no call of a method).
    """

    __slots__ = ("x", "out", "delta", "z_last", "last_backward", "forward_ops", "backward_ops", "prebound")

    def __init__(self, net: "Sequential", ws: _Workspace) -> None:
        layers = net.layers
        matmul, add, add_reduce = np.matmul, np.add, np.add.reduce
        self.x = ws.x
        fwd: list[Any] = []
        act_backward: list[tuple[Any, ...]] = []
        a_prev = ws.x
        self.prebound = True
        for i, layer in enumerate(layers):
            z, a = ws.z[i], ws.a[i]
            fwd.append(partial(matmul, a_prev, layer.W, z))
            if layer.use_bias:
                fwd.append(partial(add, z, layer.b, z))
            forward, backward, (own_forward, own_backward) = _activation_ops(layer.activation, z, a, ws.delta[i],
                                                                             ws.tmp[i], ws.mask[i])
            # (the last layer's backward is not among the calls: the loop does it, or the loss fused with it)
            self.prebound = self.prebound and own_forward and (own_backward or i == len(layers) - 1)
            fwd.extend(forward)
            act_backward.append(backward)
            a_prev = a
        bwd: list[Any] = []
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            delta = ws.delta[i]
            bwd.append(partial(matmul, ws.a[i - 1].T if i else ws.x.T, delta, layer.dW))
            if layer.use_bias:
                bwd.append(partial(add_reduce, delta, 0, None, layer.db))
            if i:
                bwd.append(partial(matmul, delta, layer.W.T, ws.delta[i - 1]))
                bwd.extend(act_backward[i - 1])
        self.forward_ops, self.backward_ops = tuple(fwd), tuple(bwd)
        self.out = ws.a[-1]
        self.delta = ws.delta[-1]
        self.z_last = ws.z[-1]
        self.last_backward = layers[-1].activation.backward

    def forward(self) -> np.ndarray:
        """Forward pass of the batch in ``self.x``; returns the output buffer."""
        for op in self.forward_ops:
            op()
        return self.out

    def backward(self, delta: np.ndarray) -> None:
        """Backpropagate ``delta = dL/dz`` of the last layer; fill every ``dW`` and ``db``."""
        if delta is not self.delta:
            self.delta[...] = delta
        for op in self.backward_ops:
            op()


class Sequential:
    """A feed-forward network of :class:`~neuroplug.Dense` layers.

    Parameters
    ----------
    layers : sequence of Dense
        The layers, input to output.
    input_dim : int
        Number of input features ``n`` of the first layer.
    seed : int or numpy.random.Generator, optional
        Seed of the weight initialisation; the same seed gives the same weights.
    dtype : {"float32", "float64"}
        Floating type of the parameters and computations (float32 is the fast
        default; use float64 for gradient checks).

    Attributes
    ----------
    layers : list of Dense
        The layers, input to output: the very objects given, built (each holds its
        ``W``, ``b`` and, after :meth:`backward`, ``dW``, ``db``).
    input_dim : int
        Number of input features.
    dtype : numpy.dtype
        Floating type of the parameters and computations.

    Raises
    ------
    ConfigError
        For invalid layers, sizes, dtype or seed, and for a network whose parameters
        cannot be allocated.
    NonFiniteError
        When an initializer's weights do not fit the dtype.

    Examples
    --------
    >>> import numpy as np, neuroplug as npl
    >>> net = npl.Sequential([npl.Dense(4, activation="tanh"), npl.Dense(2, activation="softmax")],
    ...                      input_dim=3, seed=0)
    >>> net.predict(np.zeros((5, 3))).shape
    (5, 2)
    """

    def __init__(self, layers: Sequence[Dense], input_dim: int, seed: Any = None,
                 dtype: Any = "float32") -> None:
        try:
            layers = list(layers)
        except TypeError:
            raise ConfigError(f"layers must be a sequence of neuroplug.Dense layers, got {layers!r}") from None
        if not layers:
            raise ConfigError("layers must hold at least one Dense layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise ConfigError(f"layers[{i}] must be a neuroplug.Dense, got {layer!r}")
            if layer.built:
                raise ConfigError(f"layers[{i}] already belongs to a network; create a new Dense")
        self.input_dim = int(check_number("input_dim", input_dim, low=1, integer=True))
        self.dtype = _network_dtype(dtype)
        self.layers = layers
        if isinstance(seed, np.random.Generator):
            rng = seed
        else:
            try:
                rng = np.random.default_rng(seed)
            except (TypeError, ValueError):
                raise ConfigError(f"seed must be None, a non-negative integer (or a sequence of them) or a "
                                  f"numpy.random.Generator; got {seed!r}") from None
        sizes = [self.input_dim] + [layer.units for layer in layers]
        count = sum((fan_in + 1) * units for fan_in, units in zip(sizes, sizes[1:]))
        nbytes = count * self.dtype.itemsize
        if nbytes > np.iinfo(np.intp).max // 2:  # the parameters and their gradients
            raise ConfigError(f"a network of layer sizes {sizes} has {count} parameters, more than any "
                              f"array can hold")
        try:
            fan_in = self.input_dim
            for layer in layers:
                layer.build(fan_in, rng, self.dtype)
                fan_in = layer.units
            self._place_back_to_back()
        except BaseException as exc:
            for layer in layers:  # the layers stay usable in another network
                layer.W = layer.b = layer.dW = layer.db = None
            if isinstance(exc, MemoryError):
                raise ConfigError(f"a network of layer sizes {sizes} has {count} parameters "
                                  f"({2 * nbytes / 2**30:.3g} GiB with their gradients in {self.dtype}): "
                                  f"more than the memory available") from None
            raise
        self._workspaces: dict[int, _Workspace] = {}

    def _place_back_to_back(self) -> None:
        """Move the parameters into one buffer, back to back in :meth:`parameters` order, and the
        gradients into another.

        Each layer's ``W``, ``b``, ``dW``, ``db`` stays an ordinary array (a view of
        the buffer) with the same values; an optimizer may then update every
        parameter with one operation on the whole buffer (the built-in ones do).
        """
        for names in (("W", "b"), ("dW", "db")):
            arrays = [getattr(layer, name) for layer in self.layers for name in names]
            flat = np.empty(sum(a.size for a in arrays), dtype=self.dtype)
            offset = 0
            for layer in self.layers:
                for name in names:
                    old = getattr(layer, name)
                    view = flat[offset:offset + old.size].reshape(old.shape)
                    view[...] = old
                    setattr(layer, name, view)
                    offset += old.size

    # ------------------------------------------------------------------ info
    @property
    def output_dim(self) -> int:
        """Number of outputs of the last layer."""
        return self.layers[-1].units

    def parameters(self) -> list[np.ndarray]:
        """The parameter arrays ``[W1, b1, W2, b2, ...]`` (the arrays themselves, not copies)."""
        return [p for layer in self.layers for p in (layer.W, layer.b)]

    def gradients(self) -> list[np.ndarray]:
        """The gradient arrays ``[dW1, db1, ...]`` of the last :meth:`backward`, aligned with :meth:`parameters`."""
        return [g for layer in self.layers for g in (layer.dW, layer.db)]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the parameters."""
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy ``weights`` (as returned by :meth:`get_weights`) into the parameters.

        Every array is checked (real, finite, in the range of the network's dtype, of the
        right shape) before any parameter changes.
        """
        params = self.parameters()
        try:
            weights = list(weights)
        except TypeError:
            raise InputError(f"weights must be a list of arrays, got {type(weights).__name__}") from None
        if len(weights) != len(params):
            raise ShapeError(f"weights must hold {len(params)} arrays, got {len(weights)}")
        checked = []
        for i, (p, w) in enumerate(zip(params, weights)):
            w = _real_array(f"weights[{i}]", w)
            if w.shape != p.shape:
                raise ShapeError(f"weights[{i}] must have shape {p.shape}, got {w.shape}")
            checked.append(_finite_as(f"weights[{i}]", w, self.dtype))
        for p, w in zip(params, checked):
            p[...] = w

    def count_params(self) -> int:
        """Total number of trainable scalars."""
        return sum(p.size for p in self.parameters())

    def get_config(self) -> dict[str, Any]:
        """The architecture (layers by component names and configs), JSON-serialisable."""
        return {
            "input_dim": self.input_dim,
            "dtype": self.dtype.name,
            "layers": [{"type": "dense", **layer.get_config()} for layer in self.layers],
        }

    # ------------------------------------------------------------------ inference
    def _check_input(self, X: Any, name: str = "X") -> np.ndarray:
        """``X`` as an ``(N, input_dim)`` array of the network's dtype.

        Raises ShapeError or InputError (naming ``name``) for other shapes, for ragged
        nested lists, for values that are not real numbers (complex, strings, objects,
        dates; bool and integers are), for non-finite values and for values beyond the
        range of the dtype (1e39 in float32).
        """
        X = _as_array(name, X)
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise ShapeError(f"{name} must have shape (N, {self.input_dim}) for this network; got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise InputError(f"{name} must hold real numbers, got dtype {X.dtype}")
        _check_finite(name, X, self.dtype)
        with np.errstate(over="ignore"):  # within range: a value can only round to the largest float
            return X.astype(self.dtype, copy=False)

    def predict(self, X: Any) -> np.ndarray:
        """Return the network's outputs for a batch ``X`` of shape ``(N, input_dim)``.

        ``X`` may be a float, integer or bool array (or nested lists); an empty batch
        ``(0, input_dim)`` gives ``(0, outputs)``. The outputs are finite: a non-finite
        value in ``X`` raises :class:`~neuroplug.errors.InputError`, an overflow inside
        the network raises :class:`~neuroplug.errors.NonFiniteError` naming the first
        layer whose values were not finite.
        """
        X = a = self._check_input(X)
        n = X.shape[0]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i, layer in enumerate(self.layers):
                try:
                    a = layer.forward(a)
                except (NeuroplugError, MemoryError):
                    raise
                except Exception as exc:
                    raise _component_failed(exc, i, layer) from exc
                if not (isinstance(a, np.ndarray) and a.shape == (n, layer.units) and a.dtype.kind in "fiu"):
                    from ..registry import component_label as _component_label
                    from ..validation import shown as _shown

                    raise ComponentError(f"{_component_label(layer.activation)} (layer {i}): forward returned "
                                         f"{_shown(a)}; expected a real array of shape {(n, layer.units)}")
        if not np.isfinite(a).all():
            raise self._non_finite(X)
        return a

    def _non_finite(self, X: np.ndarray) -> Exception:
        """The error explaining a non-finite output for the (finite) ``X``: redo the forward pass layer by layer."""
        a = X
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for i, layer in enumerate(self.layers):
                if not (np.isfinite(layer.W).all() and np.isfinite(layer.b).all()):
                    return NonFiniteError(f"layer {i} ({layer!r}) holds non-finite weights")
                z = a @ layer.W
                if layer.use_bias:
                    z += layer.b
                if not np.isfinite(z).all():
                    return NonFiniteError(
                        f"layer {i} ({layer!r}) overflowed {self.dtype}: its weighted sum z = x W + b is "
                        f"not finite for finite inputs (largest |input| {float(np.abs(a).max()):.3g}, largest "
                        f"|weight| {float(np.abs(layer.W).max()):.3g}); scale the inputs or use float64")
                a = layer.activation.forward(z)
                if not np.isfinite(a).all():
                    return NonFiniteError(
                        f"layer {i} ({layer!r}): its activation {layer.activation!r} gave non-finite values "
                        f"for finite inputs (largest |z| {float(np.abs(z).max()):.3g}) in {self.dtype}")
        return NonFiniteError("the network's output is not finite")

    def predict_classes(self, X: Any) -> np.ndarray:
        """Return class labels: the arg-max output, or ``output > 0.5`` for a single output."""
        out = self.predict(X)
        if out.shape[1] == 1:
            return (out[:, 0] > 0.5).astype(np.int64)
        return np.argmax(out, axis=1)

    # ------------------------------------------------------------------ training passes
    def _workspace(self, batch: int) -> _Workspace:
        ws = self._workspaces.get(batch)
        if ws is None:
            if len(self._workspaces) > 4:
                self._workspaces.clear()
            ws = self._workspaces[batch] = _Workspace(self.layers, batch, self.input_dim, self.dtype)
        return ws

    def _train_plan(self, batch: int) -> _TrainPlan:
        """A :class:`_TrainPlan` for ``batch`` rows (built anew: it binds the current arrays)."""
        return _TrainPlan(self, self._workspace(batch))

    def forward(self, X: np.ndarray, ws: _Workspace | None = None) -> np.ndarray:
        """Forward pass that caches ``z`` and ``a`` of every layer for :meth:`backward`.

        ``X`` must already be a C-contiguous array of the network's dtype and shape
        ``(N, input_dim)`` (use :meth:`predict` for arbitrary input).
        """
        ws = ws or self._workspace(X.shape[0])
        self._cache = (X, ws)
        a = X
        for layer, z, out in zip(self.layers, ws.z, ws.a):
            np.matmul(a, layer.W, out=z)
            if layer.use_bias:
                z += layer.b
            a = layer.activation.forward(z, out=out)
            if a is not out:
                out[...] = a
                a = out
        return a

    def backward(self, delta: np.ndarray) -> np.ndarray:
        """Backpropagate ``delta = dL/dz`` of the last layer; fill every ``dW``, ``db``.

        Returns ``dL/dX``. Must follow :meth:`forward`.
        """
        X, ws = self._cache
        layers = self.layers
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            a_prev = ws.a[i - 1] if i else X
            np.matmul(a_prev.T, delta, out=layer.dW)
            if layer.use_bias:
                np.add.reduce(delta, axis=0, out=layer.db)
            if i == 0:
                return delta @ layer.W.T
            grad = np.matmul(delta, layer.W.T, out=ws.delta[i - 1])
            prev = layers[i - 1]
            delta = prev.activation.backward(ws.z[i - 1], ws.a[i - 1], grad, out=grad)
        raise AssertionError("unreachable")

    def output_delta(self, out: np.ndarray, y: np.ndarray, loss: Any, fused: bool) -> np.ndarray:
        """``dL/dz`` of the last layer: the fused gradient, or the chain rule through the activation."""
        if fused:
            return loss.fused_gradient(out, y)
        X, ws = self._cache
        last = self.layers[-1]
        return last.activation.backward(ws.z[-1], out, loss.gradient(out, y))

    def loss_and_gradients(self, X: Any, y: Any, loss: Any) -> tuple[float, list[np.ndarray]]:
        """Return the loss at ``(X, y)`` and copies of its gradients w.r.t. :meth:`parameters`.

        Uses the plain chain rule (no fused shortcut), so it can be compared with
        numerical differentiation. ``loss`` is a name, config or Loss instance that
        reduces to a number. An empty batch gives 0 and zero gradients (a mean over
        nothing). Raises InputError for invalid or non-finite data and NonFiniteError,
        naming the layer or the loss, when a value overflows on finite data.
        """
        from ..registry import create

        loss = create("loss", loss)
        X = np.ascontiguousarray(self._check_input(X))
        y = loss.prepare_targets(y, self.output_dim, self.dtype)
        if len(y) != X.shape[0]:
            raise ShapeError(f"y must have one target per sample of X ({X.shape[0]}); got {len(y)}")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = self.forward(X, _Workspace(self.layers, X.shape[0], self.input_dim, self.dtype))
            if not np.isfinite(out).all():
                raise self._non_finite(X)
            value = loss.forward(out, y)
            if np.ndim(value) != 0:
                raise ConfigError(f"loss_and_gradients needs a loss that reduces to a number; {loss!r} "
                                  f"gives an array of shape {np.shape(value)}")
            value = float(value)
            if not math.isfinite(value):
                raise NonFiniteError(f"the loss {loss!r} is {value} for finite outputs")
            delta = self.output_delta(out, y, loss, fused=False)
            if not np.isfinite(delta).all():
                raise NonFiniteError(f"the gradient of the loss {loss!r} through the activation of the last "
                                     f"layer ({self.layers[-1]!r}) is not finite")
            self.backward(delta)
        grads = [g.copy() for g in self.gradients()]
        for i, g in enumerate(grads):
            if not np.isfinite(g).all():
                raise NonFiniteError(f"the gradient {'dW' if i % 2 == 0 else 'db'} of layer {i // 2} "
                                     f"({self.layers[i // 2]!r}) overflowed {self.dtype} in backpropagation")
        return value, grads

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_dim={self.input_dim}, dtype={self.dtype.name})"
