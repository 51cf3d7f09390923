"""Small argument checkers shared by the core and by component authors.

Each raises :class:`~neuroplug.errors.ConfigError` (or :class:`InputError`) with a
message that names the argument, the value received and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, Iterable

from ._lazy_numpy import LazyNumpy
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = ["check_number", "check_choice", "check_bool"]


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    integer: bool = False,
    error: type[Exception] = ConfigError,
) -> float | int:
    """Return ``value`` if it is a finite real number in the allowed range.

    Parameters
    ----------
    name : str
        The argument's name, used in the error message.
    value : object
        The value to check. ``bool`` is rejected (``True`` is not a number here).
    low, high : float, optional
        Bounds of the allowed interval.
    low_inclusive, high_inclusive : bool
        Whether the bounds themselves are allowed.
    integer : bool
        Require an integral value (``numbers.Integral``).
    error : type
        The exception class raised (default :class:`ConfigError`).

    Examples
    --------
    >>> check_number("beta", 0.5, low=0)
    0.5
    >>> check_number("beta", -1, low=0)
    Traceback (most recent call last):
    ...
    neuroplug.errors.ConfigError: beta must be >= 0, got -1
    """
    kind = "an integer" if integer else "a real number"
    wanted = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, wanted):
        raise error(f"{name} must be {kind}, got {value!r} of type {type(value).__name__}")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an integer beyond the float range
        finite = integer
    if not finite:
        raise error(f"{name} must be finite, got {_short(value)}")
    if low is not None:
        if value < low or (not low_inclusive and value == low):
            op = ">=" if low_inclusive else ">"
            raise error(f"{name} must be {op} {low}, got {value!r}")
    if high is not None:
        if value > high or (not high_inclusive and value == high):
            op = "<=" if high_inclusive else "<"
            raise error(f"{name} must be {op} {high}, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[Any], *, error: type[Exception] = ConfigError) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise naming the allowed values.

    >>> check_choice("reduction", "mean", ("mean", "sum", "none"))
    'mean'
    """
    allowed = tuple(allowed)
    try:  # an array would compare element-wise: never one of the choices
        found = not isinstance(value, np.ndarray) and bool(value in allowed)
    except (TypeError, ValueError):
        found = False
    if not found:
        raise error(f"{name} must be one of {', '.join(map(repr, allowed))}; got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_bool(name: str, value: Any, *, error: type[Exception] = ConfigError) -> bool:
    """Return ``value`` if it is a ``bool``."""
    if not isinstance(value, bool):
        raise error(f"{name} must be True or False, got {value!r}")
    return value


def shown(value: Any) -> str:
    """A value as an error message shows it: ``an array of shape (2, 3) and dtype float32``, or its short repr and type."""
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if shape is not None and dtype is not None and type(value).__name__ == "ndarray":
        return f"an array of shape {shape} and dtype {dtype}"
    text = repr(value)
    return f"{text[:60] + '...' if len(text) > 60 else text} of type {type(value).__name__}"
