"""Seeded synthetic data sets: two moons, two circles, spirals and a nonlinear regression.

Every generator draws from its own ``numpy.random.default_rng(seed)`` (never the
global random state), so the same arguments and seed give bit-identical arrays.
``X`` is a C-contiguous float64 array of shape ``(n_samples, n_features)``; ``y``
holds int64 class labels ``0 .. k-1`` (classification) or float64 targets
(regression). Noise is drawn as standard normal variates scaled by ``noise`` after
every other draw, so for one seed a noisy set is its noiseless set plus noise.

:func:`load_named` returns one of the sets named in :data:`NAMED` with its
default size, including the embedded digits data.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

import numpy as np

from ..errors import InputError
from ..validation import check_number

__all__ = ["NAMED", "make_moons", "make_circles", "make_spirals", "make_regression", "load_named"]

#: The data sets :func:`load_named` knows, in this order.
NAMED: tuple[str, ...] = ("digits", "moons", "circles", "spirals", "regression")

# Var[sin(u) + (1/2) v^2] for u, v standard normal with any correlation (the covariance
# E[sin(u) v^2] is zero: the integrand is odd under (u, v) -> (-u, -v)); mean is 1/2.
_REGRESSION_MEAN = 0.5
_REGRESSION_STD = math.sqrt(1.0 - math.exp(-2.0) / 2.0)


# ------------------------------------------------------------------ argument checks
def _check_samples(n_samples: Any, minimum: int = 2, why: str = "") -> int:
    n = int(check_number("n_samples", n_samples, low=2, integer=True, error=InputError))
    if n < minimum:
        raise InputError(f"n_samples must be >= {minimum}{why}, got {n_samples!r}")
    return n


def _check_noise(noise: Any) -> float:
    return float(check_number("noise", noise, low=0, error=InputError))


def _rng(seed: Any) -> np.random.Generator:
    if seed is not None:
        seed = int(check_number("seed", seed, low=0, integer=True, error=InputError))
    return np.random.default_rng(seed)


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, noise: float,
            dtype: Any = np.int64) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``(X, y)`` with ``rng``, then add Gaussian noise of std ``noise`` to ``X``."""
    order = rng.permutation(X.shape[0])
    X = X[order]
    X = X + noise * rng.standard_normal(X.shape)
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y[order], dtype=dtype)


# ------------------------------------------------------------------ generators
def make_moons(n_samples: int = 500, noise: float = 0.1, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``), seeded.

    Class 0 (``n_samples // 2`` points) lies on the upper arc, class 1 (the other
    ``n_samples - n_samples // 2``) on the lower arc shifted right and down; ``t`` runs
    evenly over ``[0, pi]`` on each arc::

        class 0:  (cos t,      sin t)
        class 1:  (1 - cos t,  0.5 - sin t)

    The rows are shuffled, then Gaussian noise of standard deviation ``noise`` is
    added to both coordinates.

    Parameters
    ----------
    n_samples : int
        Number of points (an integer >= 2).
    noise : float
        Standard deviation of the Gaussian noise (finite, >= 0; 0 puts every point on its arc).
    seed : int or None
        Seed of ``numpy.random.default_rng`` (an integer >= 0); None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points, C-contiguous.
    y : ndarray of shape (n_samples,), int64
        The class labels, 0 or 1.

    Raises
    ------
    InputError
        For an invalid ``n_samples``, ``noise`` or ``seed`` (the message names it).

    Examples
    --------
    >>> X, y = make_moons(n_samples=7, seed=0)
    >>> X.shape, X.dtype.name, y.dtype.name, np.bincount(y).tolist()
    ((7, 2), 'float64', 'int64', [3, 4])
    """
    n = _check_samples(n_samples)
    noise = _check_noise(noise)
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    X = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                        np.column_stack([1.0 - np.cos(t_in), 0.5 - np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, rng, noise)


def make_circles(n_samples: int = 500, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles (scikit-learn's ``make_circles``), seeded.

    Class 0 (``n_samples // 2`` points) lies on the unit circle, class 1 (the other
    ``n_samples - n_samples // 2``) on the circle of radius ``factor``; the angles
    ``t = 2 pi i / m`` (``i = 0 .. m-1``, ``m`` the class size) are evenly spaced::

        class 0:  (cos t,           sin t)
        class 1:  (factor * cos t,  factor * sin t)

    The rows are shuffled, then Gaussian noise of standard deviation ``noise`` is
    added to both coordinates.

    Parameters
    ----------
    n_samples : int
        Number of points (an integer >= 2).
    noise : float
        Standard deviation of the Gaussian noise (finite, >= 0).
    factor : float
        Radius of the inner circle, relative to the outer one (0 < factor < 1).
    seed : int or None
        Seed of ``numpy.random.default_rng`` (an integer >= 0); None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points, C-contiguous.
    y : ndarray of shape (n_samples,), int64
        The class labels: 0 outer circle, 1 inner circle.

    Raises
    ------
    InputError
        For an invalid ``n_samples``, ``noise``, ``factor`` or ``seed`` (the message names it).

    Examples
    --------
    >>> X, y = make_circles(n_samples=8, noise=0.0, factor=0.25)
    >>> np.round(np.hypot(X[:, 0], X[:, 1])[np.argsort(y, kind="stable")], 2).tolist()
    [1.0, 1.0, 1.0, 1.0, 0.25, 0.25, 0.25, 0.25]
    """
    n = _check_samples(n_samples)
    noise = _check_noise(noise)
    factor = float(check_number("factor", factor, low=0, high=1, low_inclusive=False, high_inclusive=False,
                                error=InputError))
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, 2.0 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0.0, 2.0 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.column_stack([np.cos(t_out), np.sin(t_out)]),
                        factor * np.column_stack([np.cos(t_in), np.sin(t_in)])])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return _finish(X, y, rng, noise)


def make_spirals(n_samples: int = 600, n_classes: int = 3, noise: float = 0.2, turns: float = 1.0,
                 seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n_classes`` interleaved spiral arms (the classic CS231n spiral data), seeded.

    Class ``k`` gets ``n_samples // n_classes`` points, one more for the first
    ``n_samples % n_classes`` classes. Along an arm of ``m`` points the radius ``r``
    runs evenly over ``[0, 1]`` and the angle grows with it::

        theta = 2 pi k / n_classes  +  turns * 2 pi r  +  noise * e,   e ~ N(0, 1)
        x     = (r cos theta,  r sin theta)

    so each arm is the first one rotated by ``2 pi k / n_classes``, and makes
    ``turns`` full turns from the centre to the unit circle. The rows are shuffled.

    Parameters
    ----------
    n_samples : int
        Number of points (an integer >= 2 and >= ``n_classes``).
    n_classes : int
        Number of arms and classes (an integer >= 2).
    noise : float
        Standard deviation of the Gaussian noise on the angle, in radians (finite, >= 0).
    turns : float
        Number of turns each arm makes (finite, > 0).
    seed : int or None
        Seed of ``numpy.random.default_rng`` (an integer >= 0); None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        The points, C-contiguous, inside the unit disc.
    y : ndarray of shape (n_samples,), int64
        The class labels ``0 .. n_classes-1``.

    Raises
    ------
    InputError
        For an invalid ``n_samples``, ``n_classes``, ``noise``, ``turns`` or ``seed``
        (the message names it).

    Examples
    --------
    >>> X, y = make_spirals(n_samples=10, n_classes=3, seed=0)
    >>> X.shape, np.bincount(y).tolist(), bool(np.hypot(X[:, 0], X[:, 1]).max() <= 1.0)
    ((10, 2), [4, 3, 3], True)
    """
    k = int(check_number("n_classes", n_classes, low=2, integer=True, error=InputError))
    n = _check_samples(n_samples, k, f" (one sample per class at least, n_classes={k})")
    noise = _check_noise(noise)
    turns = float(check_number("turns", turns, low=0, low_inclusive=False, error=InputError))
    rng = _rng(seed)
    sizes = [n // k + (c < n % k) for c in range(k)]
    r = np.concatenate([np.linspace(0.0, 1.0, m) for m in sizes])
    y = np.repeat(np.arange(k, dtype=np.int64), sizes)
    order = rng.permutation(n)
    r, y = r[order], y[order]
    theta = 2.0 * np.pi * y / k + turns * 2.0 * np.pi * r + noise * rng.standard_normal(n)
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.int64)


def make_regression(n_samples: int = 500, n_features: int = 5, noise: float = 0.1,
                    seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth nonlinear regression target of standard normal inputs, seeded.

    ``X`` is standard normal. Two directions ``w1``, ``w2`` are drawn uniformly on the
    unit sphere (from the same seed), so ``u = x . w1`` and ``v = x . w2`` are standard
    normal, and::

        f(x) = (sin(u) + 0.5 v**2 - 0.5) / sqrt(1 - exp(-2) / 2)
        y    = f(x) + noise * e,   e ~ N(0, 1)

    The constants make ``f(X)`` have mean 0 and variance 1 over the input
    distribution (``E[sin u] = 0``, ``Var[sin u] = (1 - exp(-2)) / 2``,
    ``E[v**2 / 2] = Var[v**2 / 2] = 1/2``, and the two terms are uncorrelated), so
    ``noise`` is the noise-to-signal ratio of the standard deviations. About 39 %
    of the variance of ``f`` is linear in ``x``; the rest is not.

    Parameters
    ----------
    n_samples : int
        Number of samples (an integer >= 2).
    n_features : int
        Number of input features (an integer >= 1).
    noise : float
        Standard deviation of the Gaussian noise added to the target (finite, >= 0).
    seed : int or None
        Seed of ``numpy.random.default_rng`` (an integer >= 0); None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        The inputs, C-contiguous.
    y : ndarray of shape (n_samples,), float64
        The targets.

    Raises
    ------
    InputError
        For an invalid ``n_samples``, ``n_features``, ``noise`` or ``seed`` (the message names it).

    Examples
    --------
    >>> X, y = make_regression(n_samples=4, n_features=3, seed=0)
    >>> X.shape, y.shape, y.dtype.name
    ((4, 3), (4,), 'float64')
    """
    n = _check_samples(n_samples)
    d = int(check_number("n_features", n_features, low=1, integer=True, error=InputError))
    noise = _check_noise(noise)
    rng = _rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal((2, d))
    w[~w.any(axis=1)] = 1.0  # an all-zero draw (probability 0) would have no direction
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    u, v = X @ w[0], X @ w[1]
    f = (np.sin(u) + 0.5 * v * v - _REGRESSION_MEAN) / _REGRESSION_STD
    y = f + noise * rng.standard_normal(n)
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)


# ------------------------------------------------------------------ by name
def load_named(name: str, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """One of the data sets of :data:`NAMED` by name, with its default size.

    ======================  ==========================================================
    ``"digits"``            the embedded digits, ``load_digits()``: (1797, 64), 10 classes
                            (fixed data, in its stored order: ``seed`` does not change it)
    ``"moons"``             ``make_moons(seed=seed)``: (500, 2), 2 classes
    ``"circles"``           ``make_circles(seed=seed)``: (500, 2), 2 classes
    ``"spirals"``           ``make_spirals(seed=seed)``: (600, 2), 3 classes
    ``"regression"``        ``make_regression(seed=seed)``: (500, 5), float targets
    ======================  ==========================================================

    Parameters
    ----------
    name : str
        One of ``"digits"``, ``"moons"``, ``"circles"``, ``"spirals"``, ``"regression"``.
    seed : int or None
        Seed of the generator (an integer >= 0); None draws fresh entropy.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
        The inputs, C-contiguous.
    y : ndarray of shape (n_samples,)
        int64 class labels, or float64 targets for ``"regression"``.

    Raises
    ------
    InputError
        For an unknown ``name`` (the message lists the known ones and suggests the
        closest) or an invalid ``seed``.

    Examples
    --------
    >>> X, y = load_named("spirals", seed=1)
    >>> X.shape, int(y.max())
    ((600, 2), 2)
    """
    if not isinstance(name, str) or name not in NAMED:
        known = ", ".join(map(repr, NAMED))
        if not isinstance(name, str):
            raise InputError(f"name must be a data set name (a str), got {name!r} of type {type(name).__name__}; "
                             f"known data sets: {known}")
        close = difflib.get_close_matches(name.strip().lower(), NAMED, n=1, cutoff=0.7)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"unknown data set name {name!r}{hint}; known data sets: {known}")
    if name == "digits":
        _rng(seed)  # the seed is checked even though the fixed data does not use it
        from . import load_digits  # lazily: the package imports this module

        X, y = load_digits(dtype=np.float64)
        return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y, dtype=np.int64)
    if name == "moons":
        return make_moons(seed=seed)
    if name == "circles":
        return make_circles(seed=seed)
    if name == "spirals":
        return make_spirals(seed=seed)
    return make_regression(seed=seed)
