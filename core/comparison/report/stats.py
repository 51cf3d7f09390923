"""The statistics of a comparison report: Student's t quantile (without scipy) and mean ± CI.

The t quantile inverts the regularized incomplete beta function (its continued fraction,
evaluated here) by bisection up to 1000 degrees of freedom, and uses the asymptotic series
around the normal quantile beyond. :func:`mean_ci` is the Student-t interval over seeds.
"""

from __future__ import annotations

import functools
import math
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ...errors import InputError

# the exact t quantile (regularized incomplete beta) up to this df; the asymptotic series beyond
_T_EXACT_MAX_DF = 1000.0
_CF_MAX_ITER = 2000
_CF_EPS = 1e-15
_BISECT_STEPS = 120


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz; Numerical Recipes 6.4)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, _CF_MAX_ITER + 1):
        for aa in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                   -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + aa * d
            c = 1.0 + aa / c
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < _CF_EPS:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function :math:`I_x(a, b)` for ``0 <= x <= 1``."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _t_upper_exact(alpha: float, df: float) -> float:
    """The t > 0 with :math:`P(|T| > t) = \\alpha`: solves :math:`I_x(df/2, 1/2) = \\alpha`,
    :math:`x = df/(df + t^2)`, by bisection on :math:`\\log x` (:math:`I_x` increases with x)."""
    lo, hi = math.log(1e-300), 0.0
    for _ in range(_BISECT_STEPS):
        mid = 0.5 * (lo + hi)
        if _betainc(0.5 * df, 0.5, math.exp(mid)) < alpha:
            lo = mid
        else:
            hi = mid
    x = math.exp(0.5 * (lo + hi))
    return math.sqrt(df * (1.0 - x) / x)


def _t_upper_series(q: float, df: float) -> float:
    """The t quantile for a large df from the normal quantile z (Abramowitz & Stegun 26.7.5):
    :math:`t = z + g_1/\\nu + g_2/\\nu^2 + g_3/\\nu^3`; its error is below 1e-8 for df > 1000."""
    z = statistics.NormalDist().inv_cdf(q)
    g1 = (z ** 3 + z) / 4.0
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96.0
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384.0
    return z + g1 / df + g2 / df ** 2 + g3 / df ** 3


@functools.lru_cache(maxsize=1024)
def _t_quantile_cached(q: float, df: float) -> float:
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -_t_quantile_cached(1.0 - q, df)
    if df > _T_EXACT_MAX_DF:
        return _t_upper_series(q, df)
    return _t_upper_exact(2.0 * (1.0 - q), df)


def t_quantile(q: float, df: float) -> float:
    """The ``q`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Parameters
    ----------
    q : float
        The probability, ``0 < q < 1``; e.g. 0.975 for a two-sided 95 % interval.
    df : float
        The degrees of freedom, ``> 0`` (``n - 1`` for n values; need not be an integer).

    Returns
    -------
    float
        :math:`t_{q,\\,df}` with :math:`P(T \\le t_{q,\\,df}) = q`.

    Notes
    -----
    For :math:`q > 1/2`, :math:`P(|T| > t) = I_{x}(df/2, 1/2)` with :math:`x = df/(df + t^2)`
    (the regularized incomplete beta function, evaluated by its continued fraction);
    this is inverted exactly by bisection for ``df <= 1000``, and by the asymptotic
    series around the normal quantile beyond (error < 1e-8). :math:`t_{1-q} = -t_q`.
    For example :math:`t_{0.975,1} = 12.7062`, :math:`t_{0.975,5} = 2.5706`.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: ``q`` not in (0, 1) or ``df`` not a positive finite number.
    """
    q = _number(q, "q")
    df = _number(df, "df")
    if not 0.0 < q < 1.0:
        raise InputError(f"q must be a probability strictly between 0 and 1, got q={q!r}")
    if not (df > 0.0 and math.isfinite(df)):
        raise InputError(f"df must be a positive finite number of degrees of freedom, got df={df!r}")
    return _t_quantile_cached(q, df)


def _number(value: Any, name: str) -> float:
    """``value`` as a float; an InputError naming ``name`` for a non-number (a bool or a string too)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number, got {name}={value!r}")
    return float(value)


def _check_confidence(confidence: Any) -> float:
    confidence = _number(confidence, "confidence")
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence must be strictly between 0 and 1 (e.g. 0.95), got confidence={confidence!r}")
    return confidence


def _clean(values: Any) -> np.ndarray:
    """The numbers of ``values`` as a float array, without the None and nan entries."""
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InputError(f"values must be a sequence of numbers, got values={values!r}")
    kept = []
    for i, v in enumerate(values):
        if v is None:
            continue
        x = _number(v, f"values[{i}]")
        if not math.isnan(x):
            kept.append(x)
    return np.asarray(kept, dtype=np.float64)


def mean_ci(values: Iterable[float | None], confidence: float = 0.95) -> tuple[float, float]:
    """The mean of ``values`` and the half-width of its Student-t confidence interval.

    Parameters
    ----------
    values : iterable of float or None
        The values (e.g. one per seed); ``None`` and nan entries are ignored.
    confidence : float, default 0.95
        The coverage of the two-sided interval, ``0 < confidence < 1``.

    Returns
    -------
    (mean, half_width) : tuple of float
        The interval is ``mean ± half_width`` with
        :math:`\\text{half\\_width} = t_{(1+c)/2,\\,n-1}\\cdot s/\\sqrt{n}`, where s is the
        sample standard deviation (ddof 1) of the n values kept. ``(nan, nan)`` for no
        value, ``(x, nan)`` for one; ``(mean, nan)`` when a value is infinite.

    Raises
    ------
    neuroplug.errors.InputError
        A ``ValueError``: ``values`` holds something that is not a number or None,
        or ``confidence`` is not in (0, 1).
    """
    confidence = _check_confidence(confidence)
    x = _clean(values)
    n = x.size
    if n == 0:
        return math.nan, math.nan
    if not np.all(np.isfinite(x)):
        with np.errstate(invalid="ignore", over="ignore"):
            return float(np.mean(x)), math.nan
    mean = float(np.mean(x))
    if n == 1:
        return mean, math.nan
    if np.all(x == x[0]):  # no spread at all (np.std would give the rounding of the mean, ~1e-16)
        return float(x[0]), 0.0
    s = float(np.std(x, ddof=1))
    return mean, t_quantile((1.0 + confidence) / 2.0, n - 1) * s / math.sqrt(n)
