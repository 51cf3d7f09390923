r"""Layers. A :class:`Dense` layer is the neuron of the notes, for a whole batch.

For an input batch ``x`` of shape ``(N, n)``, weights ``W`` of shape ``(n, m)``
(layout ``(fan_in, fan_out)``) and bias ``b`` of shape ``(m,)``:

.. math::

    z = x W + b, \qquad a = \varphi(z), \qquad
    a_{kj} = \varphi\Big(\sum_i x_{ki} W_{ij} + b_j\Big)

and backpropagation by the chain rule, given :math:`\delta = \partial L/\partial z`:

.. math::

    \frac{\partial L}{\partial W} = x^\top \delta, \qquad
    \frac{\partial L}{\partial b} = \sum_k \delta_k, \qquad
    \frac{\partial L}{\partial x} = \delta W^\top .
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import Activation, Initializer
from ..errors import ComponentError, ConfigError, NeuroplugError, NonFiniteError
from ..registry import create, describe
from ..validation import check_bool, check_number

__all__ = ["Dense"]


class Dense:
    """A fully connected layer ``a = activation(x @ W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons (outputs), ``m``.
    activation : str, dict or Activation
        The activation :math:`\\varphi`, by name (``"tanh"``), config dict or instance.
    init : str, dict or Initializer
        Initializer of ``W`` (called with ``fan_in = n``, ``fan_out = m``).
    bias_init : str, dict or Initializer
        Initializer of ``b`` (called with ``fan_in = 1``).
    use_bias : bool
        Whether the layer has a bias.

    Notes
    -----
    Components are resolved once, here; after :meth:`build` the layer holds
    ``W``, ``b`` and, after a backward pass, their gradients ``dW`` and ``db``.

    Examples
    --------
    >>> import neuroplug as npl
    >>> layer = npl.Dense(3, activation="tanh")
    >>> layer.activation
    Tanh()
    """

    def __init__(self, units: int, activation: Any = "identity", init: Any = "normalized_xavier",
                 bias_init: Any = "zeros", use_bias: bool = True) -> None:
        self.units = int(check_number("units", units, low=1, integer=True))
        self.activation: Activation = create("activation", activation)
        self.init: Initializer = create("initializer", init)
        self.bias_init: Initializer = create("initializer", bias_init)
        self.use_bias = check_bool("use_bias", use_bias)
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    @property
    def built(self) -> bool:
        """True once the weights exist."""
        return self.W is not None

    def _draw(self, what: str, init: Initializer, fan_in: int, rng: np.random.Generator, dtype: Any) -> np.ndarray:
        """``init(fan_in, units, rng, dtype)`` as a real array; a ComponentError naming it if it raises or
        returns something else."""
        from ..registry import component_label

        try:
            values = init(fan_in, self.units, rng, dtype)
        except (NeuroplugError, MemoryError):
            raise
        except Exception as exc:
            raise ComponentError(f"{component_label(init)} raised drawing the {what} of a layer of {fan_in} "
                                 f"inputs and {self.units} units: {type(exc).__name__}: {exc}") from exc
        if not (isinstance(values, np.ndarray) and values.dtype.kind in "fiu"):
            shown = (f"an array of dtype {values.dtype}" if isinstance(values, np.ndarray)
                     else f"{repr(values)[:60]} of type {type(values).__name__}")
            raise ComponentError(f"{component_label(init)} returned {shown} for the {what} of a layer of "
                                 f"{fan_in} inputs and {self.units} units; expected a real numpy array of shape "
                                 f"{(fan_in, self.units)}")
        return values

    def build(self, input_dim: int, rng: np.random.Generator, dtype: Any = np.float32) -> None:
        """Create ``W`` (``input_dim x units``) and ``b`` (``units``) from ``rng``.

        Raises ConfigError for weights of the wrong shape and NonFiniteError for weights
        that are not finite in ``dtype`` (a third-party initializer's, say).
        """
        shape = (input_dim, self.units)
        W = self._draw("weights", self.init, input_dim, rng, dtype)
        if W.shape != shape:
            raise ConfigError(f"initializer {self.init!r} returned shape {W.shape}, expected {shape}")
        b = self._draw("biases", self.bias_init, 1, rng, dtype).reshape(-1)
        if b.shape != (self.units,):
            raise ConfigError(f"bias initializer {self.bias_init!r} returned {b.size} values, expected {self.units}")
        for what, init, values in (("initializer", self.init, W), ("bias initializer", self.bias_init, b)):
            with np.errstate(over="ignore", invalid="ignore"):
                values = np.asarray(values, dtype=dtype)
            if not np.isfinite(values).all():
                raise NonFiniteError(f"{what} {init!r} gave weights that are not finite in {np.dtype(dtype)} "
                                     f"for a layer of {input_dim} inputs and {self.units} units")
        self.W = np.ascontiguousarray(W, dtype=dtype)
        self.b = np.ascontiguousarray(b if self.use_bias else np.zeros_like(b), dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Return ``activation(x @ W + b)`` (no caching; for prediction)."""
        z = x @ self.W
        if self.use_bias:
            z += self.b
        return self.activation.forward(z)

    def get_config(self) -> dict[str, Any]:
        """The layer's architecture: units and the components by name and config."""
        return {
            "units": self.units,
            "activation": describe(self.activation),
            "init": describe(self.init),
            "bias_init": describe(self.bias_init),
            "use_bias": self.use_bias,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Dense":
        """Rebuild an (unbuilt) layer from :meth:`get_config`."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation={self.activation!r})"
