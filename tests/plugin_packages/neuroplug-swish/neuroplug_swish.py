r"""The swish activation :math:`\varphi(z) = z\,\sigma(\beta z)` as a neuroplug plugin.

Registered twice (see README.md): as ``swish``, a name the built-ins already use
(as an alias of ``silu``), so the bare name keeps resolving to the built-in and
this one is reached as ``neuroplug-swish:swish``; and as ``swish_beta``, a name
of its own.
"""

from __future__ import annotations

import math

import numpy as np

import neuroplug

__version__ = "0.3.1"
__all__ = ["Swish", "SwishBeta", "neuroplug_activations"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow: only ``exp(-|x|)`` is ever evaluated."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Swish(neuroplug.Activation):
    r"""Swish :math:`\varphi(z) = z\,\sigma(\beta z)` (Ramachandran et al., 2017).

    Parameters
    ----------
    beta : float
        The slope inside the sigmoid, finite. ``beta = 1`` is SiLU; as
        ``beta`` grows swish approaches ReLU; ``beta = 0`` gives ``z / 2``.
    """

    def __init__(self, beta: float = 1.0) -> None:
        if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(beta)):
            raise neuroplug.ConfigError(f"swish: beta must be a finite number, got {beta!r}")
        self.beta = float(beta)

    def forward(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return ``z * sigmoid(beta z)`` in the dtype of ``z``."""
        s = _sigmoid(z * z.dtype.type(self.beta))
        return np.multiply(z, s, out=out)

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        r"""Return :math:`\sigma(\beta z)\,(1 + \beta z\,(1 - \sigma(\beta z)))`."""
        bz = z * z.dtype.type(self.beta)
        s = _sigmoid(bz)
        return s * (1 + bz * (1 - s))


class SwishBeta(Swish):
    r"""Swish :math:`z\,\sigma(\beta z)` under the unique name ``swish_beta``."""


_FORMULA = r"\varphi(z) = z\,\sigma(\beta z) = \frac{z}{1 + e^{-\beta z}}"
_DERIVATIVE = r"\varphi'(z) = \sigma(\beta z)\,\bigl(1 + \beta z\,(1 - \sigma(\beta z))\bigr)"


@neuroplug.hookimpl
def neuroplug_activations():
    """Register ``swish`` (shadowed by the built-in alias) and ``swish_beta``."""
    return [
        neuroplug.ActivationRegistration(
            name="swish", factory=Swish,
            summary="Swish z * sigmoid(beta z) (third-party; the bare name is the built-in silu).",
            formula=_FORMULA, derivative=_DERIVATIVE, properties=("zero_at_zero",)),
        neuroplug.ActivationRegistration(
            name="swish_beta", factory=SwishBeta,
            summary="Swish z * sigmoid(beta z) under a name no other plugin uses.",
            formula=_FORMULA, derivative=_DERIVATIVE, properties=("zero_at_zero",)),
    ]
