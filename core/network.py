r"""The :class:`Sequential` network: layers in a chain, forward pass and backpropagation.

Backpropagation applies the chain rule layer by layer, from the loss back to the
first layer: with :math:`\delta^{(l)} = \partial L/\partial z^{(l)}`,

.. math::

    \frac{\partial L}{\partial W^{(l)}} = a^{(l-1)\top} \delta^{(l)}, \qquad
    \delta^{(l-1)} = \big(\delta^{(l)} W^{(l)\top}\big) \odot \varphi'\big(z^{(l-1)}\big)

i.e. :math:`\partial L/\partial w = \partial L/\partial a \cdot \partial a/\partial w`.
The gradients of every parameter are kept on the layers (``layer.dW``,
``layer.db``; :meth:`Sequential.gradients`) for inspection.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import ConfigError, InputError, ShapeError
from .layers import Dense
from .validation import check_choice, check_number

__all__ = ["Sequential"]

_DTYPES = {"float32": np.float32, "float64": np.float64}


class _Workspace:
    """Preallocated per-layer buffers for one batch size (training only)."""

    __slots__ = ("z", "a", "delta", "x")

    def __init__(self, layers: Sequence[Dense], batch: int, input_dim: int, dtype: Any) -> None:
        self.x = np.empty((batch, input_dim), dtype=dtype)
        self.z = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        self.a = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]
        self.delta = [np.empty((batch, layer.units), dtype=dtype) for layer in layers]


class _TrainPlan:
    """The training passes of one network for one batch size, with everything resolved once.

    :func:`~neuroplug.fit` builds one per batch size before its loop
    (:meth:`Sequential._train_plan`): the plan binds each layer's parameter and
    gradient arrays (and their transposed views), its activation's ``forward`` and
    ``backward`` and the workspace buffers, the input batch buffer ``x`` included.
    A step then makes no attribute or registry look-ups and allocates nothing but
    what the components themselves allocate. Every activation, built-in or from a
    plugin, is called the same way: ``forward(z, out=a)`` and
    ``backward(z, a, grad, out=grad)``. The arithmetic is that of
    :meth:`Sequential.forward` and :meth:`Sequential.backward`, operation for
    operation, so the results are bit-identical; only ``dL/dX`` of the first layer,
    which training never uses, is not computed.
    """

    __slots__ = ("x", "z_last", "last_backward", "_forward", "_backward")

    def __init__(self, net: "Sequential", ws: _Workspace) -> None:
        layers = net.layers
        self.x = ws.x
        self._forward = tuple(
            (layer.W, layer.b if layer.use_bias else None, layer.activation.forward, z, a)
            for layer, z, a in zip(layers, ws.z, ws.a))
        backward = []
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            db = layer.db if layer.use_bias else None
            if i:
                prev = layers[i - 1]
                backward.append((ws.a[i - 1].T, layer.dW, db, layer.W.T, ws.delta[i - 1],
                                 prev.activation.backward, ws.z[i - 1], ws.a[i - 1]))
            else:
                backward.append((ws.x.T, layer.dW, db, None, None, None, None, None))
        self._backward = tuple(backward)
        self.z_last = ws.z[-1]
        self.last_backward = layers[-1].activation.backward

    def forward(self) -> np.ndarray:
        """Forward pass of the batch in ``self.x``; returns the output buffer."""
        a = self.x
        matmul = np.matmul
        for W, b, act, z, out in self._forward:
            matmul(a, W, out=z)
            if b is not None:
                z += b
            a = act(z, out=out)
            if a is not out:
                out[...] = a
                a = out
        return a

    def backward(self, delta: np.ndarray) -> None:
        """Backpropagate ``delta = dL/dz`` of the last layer; fill every ``dW`` and ``db``."""
        matmul = np.matmul
        add_reduce = np.add.reduce
        for a_prev_T, dW, db, W_T, grad_buf, act_backward, z, a in self._backward:
            matmul(a_prev_T, delta, out=dW)
            if db is not None:
                add_reduce(delta, axis=0, out=db)
            if W_T is None:
                return
            grad = matmul(delta, W_T, out=grad_buf)
            delta = act_backward(z, a, grad, out=grad)


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
        layers = list(layers)
        if not layers:
            raise ConfigError("layers must hold at least one Dense layer, got an empty list")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise ConfigError(f"layers[{i}] must be a neuroplug.Dense, got {layer!r}")
            if layer.built:
                raise ConfigError(f"layers[{i}] already belongs to a network; create a new Dense")
        self.input_dim = int(check_number("input_dim", input_dim, low=1, integer=True))
        name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
        self.dtype = np.dtype(_DTYPES[check_choice("dtype", name, tuple(_DTYPES))])
        self.layers = layers
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        fan_in = self.input_dim
        for layer in layers:
            layer.build(fan_in, rng, self.dtype)
            fan_in = layer.units
        self._place_back_to_back()
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
        """Copy ``weights`` (as returned by :meth:`get_weights`) into the parameters."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ShapeError(f"weights must hold {len(params)} arrays, got {len(weights)}")
        for i, (p, w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ShapeError(f"weights[{i}] must have shape {p.shape}, got {w.shape}")
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
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise ShapeError(f"{name} must have shape (N, {self.input_dim}) for this network; got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)) \
                or np.issubdtype(X.dtype, np.bool_):
            raise InputError(f"{name} must hold real numbers, got dtype {X.dtype}")
        return X.astype(self.dtype, copy=False)

    def predict(self, X: Any) -> np.ndarray:
        """Return the network's outputs for a batch ``X`` of shape ``(N, input_dim)``."""
        a = self._check_input(X)
        for layer in self.layers:
            a = layer.forward(a)
        return a

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
        numerical differentiation. ``loss`` is a name, config or Loss instance.
        """
        from .registry import create

        loss = create("loss", loss)
        X = np.ascontiguousarray(self._check_input(X))
        y = loss.prepare_targets(np.asarray(y), self.output_dim, self.dtype)
        out = self.forward(X, _Workspace(self.layers, X.shape[0], self.input_dim, self.dtype))
        value = float(loss.forward(out, y))
        self.backward(self.output_delta(out, y, loss, fused=False))
        return value, [g.copy() for g in self.gradients()]

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_dim={self.input_dim}, dtype={self.dtype.name})"
