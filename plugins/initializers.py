r"""Built-in weight initializers.

Every initializer returns a new ``(fan_in, fan_out)`` array (the layout of a dense
weight matrix, ``x @ W``) of the requested floating dtype, drawing all its
randomness from the ``numpy.random.Generator`` it is given. Random values are
drawn in float64 and rounded once to ``dtype``, so one seed gives the same weights
(up to that rounding) in float32 and float64. The uniform initializers clip the
rounded values to the largest representable bound that does not exceed the
mathematical one, so :math:`|w| \le a` holds exactly in every dtype.

The scaled families (Glorot/Xavier, He/Kaiming, LeCun) are special cases of
:class:`VarianceScaling` (Keras' engine):

============================  ===========================================================
name                          distribution
============================  ===========================================================
``xavier``                    :math:`U[-1/\sqrt{n},\ 1/\sqrt{n}]`
``normalized_xavier``         :math:`U[-\sqrt6/\sqrt{n+m},\ \sqrt6/\sqrt{n+m}]`
``glorot_normal``             :math:`N(0,\ 2/(n+m))`
``he_uniform``                :math:`U[-g\sqrt{3/f},\ g\sqrt{3/f}]`
``he_normal``                 :math:`N(0,\ g^2/f)`
``lecun_uniform``             :math:`U[-\sqrt{3/n},\ \sqrt{3/n}]`
``lecun_normal``              :math:`N(0,\ 1/n)`
============================  ===========================================================

with :math:`n` = fan_in, :math:`m` = fan_out, :math:`f` the fan chosen by ``mode``
and :math:`g` = :func:`calculate_gain`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from neuroplug._lazy_numpy import LazyNumpy
from neuroplug.base import Initializer
from neuroplug.errors import ConfigError, InputError, NonFiniteError
from neuroplug.hookspecs import hookimpl
from neuroplug.types import InitializerRegistration, Param
from neuroplug.validation import check_choice, check_number

if TYPE_CHECKING:
    import numpy as np
else:
    np = LazyNumpy(globals())  # numpy is imported at first use (see neuroplug._lazy_numpy)

__all__ = [
    "Constant",
    "GlorotNormal",
    "HeNormal",
    "HeUniform",
    "LecunNormal",
    "LecunUniform",
    "Normal",
    "NormalizedXavier",
    "Ones",
    "Orthogonal",
    "TruncatedNormal",
    "Uniform",
    "VarianceScaling",
    "Xavier",
    "Zeros",
    "calculate_gain",
    "neuroplug_initializers",
]

_GAINS = {
    "linear": 1.0,
    "identity": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3.0,
    "relu": math.sqrt(2.0),
    "leaky_relu": None,  # depends on the negative slope
    "selu": 3.0 / 4.0,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""Return the recommended gain for a nonlinearity (PyTorch's ``calculate_gain`` table).

    =================  ==========================================
    nonlinearity       gain
    =================  ==========================================
    linear, identity   :math:`1`
    sigmoid            :math:`1`
    tanh               :math:`5/3`
    relu               :math:`\sqrt{2}`
    leaky_relu         :math:`\sqrt{2/(1 + \alpha^2)}`, :math:`\alpha` = ``param`` (default 0.01)
    selu               :math:`3/4`
    =================  ==========================================

    Parameters
    ----------
    nonlinearity : str
        One of the names above.
    param : float, optional
        The negative slope of ``leaky_relu``; must be None for the others.

    Raises
    ------
    ConfigError
        For an unknown nonlinearity, or a ``param`` that is invalid or not used.
    """
    check_choice("nonlinearity", nonlinearity, _GAINS)
    if nonlinearity != "leaky_relu":
        if param is not None:
            raise ConfigError(f"param is only used with nonlinearity='leaky_relu'; got param={param!r} "
                              f"with nonlinearity={nonlinearity!r}")
        return _GAINS[nonlinearity]
    slope = 0.01 if param is None else check_number("param", param)
    return math.sqrt(2.0 / (1.0 + slope**2))


# ---------------------------------------------------------------------------- helpers
#: Default of ``_check_call``'s ``rng``: not checked (the deterministic initializers ignore it).
_UNUSED = object()


def _check_call(fan_in: Any, fan_out: Any, dtype: Any, rng: Any = _UNUSED) -> np.dtype:
    """Validate the arguments of ``Initializer.__call__``; return ``np.dtype(dtype)``.

    ``rng`` is checked only when passed (the random initializers pass it, None included).
    """
    if rng is not _UNUSED and not isinstance(rng, np.random.Generator):
        raise InputError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
    check_number("fan_in", fan_in, low=1, integer=True, error=InputError)
    check_number("fan_out", fan_out, low=1, integer=True, error=InputError)
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError) as exc:
        raise InputError(f"dtype must be a floating numpy dtype, got {dtype!r}") from exc
    if dt.kind != "f":
        raise InputError(f"dtype must be a floating numpy dtype (float16/32/64), got {dt}")
    size = int(fan_in) * int(fan_out)  # Python ints: numpy integers would wrap around
    if size > np.iinfo(np.intp).max // dt.itemsize:
        raise InputError(f"a ({fan_in}, {fan_out}) matrix of {dt} is larger than any array can be "
                         f"({size * dt.itemsize} bytes)")
    return dt


class _DoesNotFit(Exception):
    """A bound or value of the distribution is not representable in the requested dtype."""

    def __init__(self, value: float) -> None:
        super().__init__(value)
        self.value = value


def _representable(call: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Wrap ``__call__``: no numpy warnings, and :class:`NonFiniteError` when the weights do not fit ``dtype``.

    Parameters of any finite size are valid, but the values they describe may not be
    representable in the dtype asked for (``normal(std=1e5)`` in float16, ``constant(1e39)``
    in float32): the draws are then non-finite (or a bound overflows), which raises
    instead of returning ``inf`` weights.
    """

    @functools.wraps(call)
    def checked(self: Initializer, fan_in: Any, fan_out: Any, rng: Any, dtype: Any = "float32") -> np.ndarray:
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                w = call(self, fan_in, fan_out, rng, dtype)
        except _DoesNotFit as exc:
            found = f"a bound of {exc.value:.6g}"
        else:
            if np.isfinite(w).all():
                return w
            found = "values"
        dt = np.dtype(dtype)
        raise NonFiniteError(f"initializer {self!r} gives {found} beyond the range of {dt} (largest "
                             f"{float(np.finfo(dt).max):.6g}) for a ({fan_in}, {fan_out}) matrix; use smaller "
                             f"parameters or a wider dtype") from None

    return checked


def _uniform(rng: np.random.Generator, low: float, high: float, shape: tuple[int, int]) -> np.ndarray:
    """float64 draws from ``U[low, high]``; :class:`_DoesNotFit` when ``high - low`` overflows float64."""
    if not math.isfinite(high - low):
        raise _DoesNotFit(max(-low, high))
    return rng.uniform(low, high, shape)


def _inward(value: float, dtype: np.dtype, toward: float) -> Any:
    """``value`` rounded to ``dtype``, stepped once toward ``toward`` if rounding moved it outward."""
    rounded = dtype.type(value)
    if abs(float(rounded) - toward) > abs(value - toward):
        rounded = np.nextafter(rounded, dtype.type(toward))
    return rounded


def _clipped(w: np.ndarray, low: float, high: float, dtype: np.dtype) -> np.ndarray:
    """Round float64 draws ``w`` (within ``[low, high]``) to ``dtype``, keeping them within the bounds.

    Raises :class:`_DoesNotFit` when a bound is beyond the range of ``dtype`` (clipping
    to the largest finite value would silently saturate the draws).
    """
    big = float(np.finfo(dtype).max)
    if not -big <= low <= high <= big:
        raise _DoesNotFit(high if high > big else low)
    mid = (low + high) / 2
    out = w.astype(dtype, copy=False)
    return np.clip(out, _inward(low, dtype, mid), _inward(high, dtype, mid), out=out)


def _fans(fan_in: int, fan_out: int, mode: str) -> float:
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def _pdf(x: float) -> float:
    """Standard normal density."""
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def _cdf(x: float) -> float:
    """Standard normal distribution function."""
    return 0.5 * math.erfc(-x / math.sqrt(2))


def _truncnorm_std(a: float, b: float) -> float:
    """Standard deviation of a standard normal truncated to ``[a, b]``."""
    z = _cdf(b) - _cdf(a)
    mean = (_pdf(a) - _pdf(b)) / z
    return math.sqrt(1 + (a * _pdf(a) - b * _pdf(b)) / z - mean * mean)


def _standard_truncnorm(shape: tuple[int, int], a: float, b: float, rng: np.random.Generator) -> np.ndarray:
    """float64 standard-normal draws restricted to ``[a, b]`` by rejection: redraw those outside."""
    x = rng.standard_normal(shape)
    bad = (x < a) | (x > b)
    while bad.any():
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = (x < a) | (x > b)
    return x


# ----------------------------------------------------------------------- constants
class Zeros(Initializer):
    """All zeros: :math:`W = 0`."""

    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        return np.zeros((fan_in, fan_out), dtype=_check_call(fan_in, fan_out, dtype))

    def target_density(self, fan_in, fan_out):
        """Every weight is 0."""
        return {"distribution": "constant", "value": 0.0}


class Ones(Initializer):
    """All ones: :math:`W = 1`."""

    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        return np.ones((fan_in, fan_out), dtype=_check_call(fan_in, fan_out, dtype))

    def target_density(self, fan_in, fan_out):
        """Every weight is 1."""
        return {"distribution": "constant", "value": 1.0}


class Constant(Initializer):
    """Every entry equal to ``value``: :math:`W = c`.

    Parameters
    ----------
    value : float
        The constant :math:`c` (finite).
    """

    def __init__(self, value: float = 0.0):
        self.value = check_number("value", value)

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        return np.full((fan_in, fan_out), self.value, dtype=_check_call(fan_in, fan_out, dtype))

    def target_density(self, fan_in, fan_out):
        """Every weight is ``value``."""
        return {"distribution": "constant", "value": float(self.value)}


# ---------------------------------------------------------------------- plain random
class Uniform(Initializer):
    """Uniform on an interval: :math:`W_{ij} \\sim U[\\text{low}, \\text{high}]`.

    Parameters
    ----------
    low, high : float
        The bounds, ``low < high``.
    """

    def __init__(self, low: float = -0.05, high: float = 0.05):
        self.low = check_number("low", low)
        self.high = check_number("high", high)
        if not low < high:
            raise ConfigError(f"low must be < high, got low={low!r}, high={high!r}")
        if not math.isfinite(high - low):
            raise ConfigError(f"high - low must be finite, got low={low!r}, high={high!r}")

    def bounds(self, fan_in: int, fan_out: int) -> tuple[float, float]:
        """Return ``(low, high)``, the support of the distribution for this shape."""
        return self.low, self.high

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        dt = _check_call(fan_in, fan_out, dtype, rng)
        low, high = self.bounds(fan_in, fan_out)
        return _clipped(_uniform(rng, low, high, (fan_in, fan_out)), low, high, dt)

    def target_density(self, fan_in, fan_out):
        """:math:`U[\\text{low}, \\text{high}]`."""
        low, high = self.bounds(fan_in, fan_out)
        return {"distribution": "uniform", "low": low, "high": high}


class Normal(Initializer):
    """Normal: :math:`W_{ij} \\sim N(\\mu, \\sigma^2)`.

    Parameters
    ----------
    mean : float
        :math:`\\mu`.
    std : float
        :math:`\\sigma > 0`.
    """

    def __init__(self, mean: float = 0.0, std: float = 0.05):
        self.mean = check_number("mean", mean)
        self.std = check_number("std", std, low=0, low_inclusive=False)

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        dt = _check_call(fan_in, fan_out, dtype, rng)
        return rng.normal(self.mean, self.std, (fan_in, fan_out)).astype(dt, copy=False)

    def target_density(self, fan_in, fan_out):
        """:math:`N(\\mu, \\sigma^2)`."""
        return {"distribution": "normal", "mean": float(self.mean), "std": float(self.std)}


class TruncatedNormal(Initializer):
    """Normal restricted to :math:`[\\mu + a\\sigma, \\mu + b\\sigma]`, by rejection sampling.

    :math:`W_{ij} = \\mu + \\sigma z` with :math:`z \\sim N(0, 1)` conditioned on
    :math:`a \\le z \\le b`: draws outside are redrawn from ``rng`` until none is left.
    ``std`` is the :math:`\\sigma` of the normal *before* truncation (as in Keras and
    PyTorch), so the drawn values have a smaller standard deviation (0.88σ for ±2).

    Parameters
    ----------
    mean : float
        :math:`\\mu`.
    std : float
        :math:`\\sigma > 0`.
    a, b : float
        The cut-offs in units of :math:`\\sigma`, ``a < b``. The interval must hold at
        least 1 % of the normal's mass so that rejection sampling ends quickly.
    """

    def __init__(self, mean: float = 0.0, std: float = 0.05, a: float = -2.0, b: float = 2.0):
        self.mean = check_number("mean", mean)
        self.std = check_number("std", std, low=0, low_inclusive=False)
        self.a = check_number("a", a)
        self.b = check_number("b", b)
        mass = _cdf(b) - _cdf(a) if a < b else 0.0
        if mass < 0.01:
            raise ConfigError(f"a and b must satisfy a < b with at least 1% of the normal's mass in "
                              f"[a, b]; got a={a!r}, b={b!r} (mass {mass:.3g})")

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        dt = _check_call(fan_in, fan_out, dtype, rng)
        low, high = self.mean + self.a * self.std, self.mean + self.b * self.std
        w = self.mean + self.std * _standard_truncnorm((fan_in, fan_out), self.a, self.b, rng)
        return _clipped(w, low, high, dt)

    def target_density(self, fan_in, fan_out):
        """:math:`N(\\mu, \\sigma^2)` cut to :math:`[\\mu + a\\sigma, \\mu + b\\sigma]`."""
        return {"distribution": "normal", "mean": float(self.mean), "std": float(self.std),
                "low": self.mean + self.a * self.std, "high": self.mean + self.b * self.std}


# ------------------------------------------------------------------- variance scaling
class VarianceScaling(Initializer):
    """Zero-mean weights of variance :math:`s/f` (Keras' ``VarianceScaling``).

    :math:`f` is ``fan_in``, ``fan_out`` or their average ``(fan_in + fan_out)/2``
    according to ``mode``, and the distribution is

    * ``"uniform"``: :math:`U[-a, a]` with :math:`a = \\sqrt{3s/f}`;
    * ``"normal"``: :math:`N(0, s/f)`;
    * ``"truncated_normal"``: a normal truncated to ±2 of its σ, with σ chosen
      (:math:`\\sqrt{s/f}/0.8796\\ldots`) so that the truncated values have variance
      exactly :math:`s/f`.

    Parameters
    ----------
    scale : float
        :math:`s > 0`.
    mode : {"fan_in", "fan_out", "fan_avg"}
        Which fan :math:`f` is.
    distribution : {"truncated_normal", "normal", "uniform"}
        The shape of the distribution; Keras' default is ``"truncated_normal"``.
    """

    #: std of a standard normal truncated to [-2, 2]: Keras' 0.87962566103423978.
    TRUNCATION_STD: ClassVar[float] = _truncnorm_std(-2.0, 2.0)

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"):
        self.scale = check_number("scale", scale, low=0, low_inclusive=False)
        self.mode = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
        self.distribution = check_choice("distribution", distribution, ("truncated_normal", "normal", "uniform"))

    def std(self, fan_in: int, fan_out: int) -> float:
        """Return :math:`\\sqrt{s/f}`, the standard deviation of the weights for this shape."""
        return math.sqrt(self.scale / _fans(fan_in, fan_out, self.mode))

    def bounds(self, fan_in: int, fan_out: int) -> tuple[float, float]:
        """Return ``(-a, a)``, the support for this shape (finite for ``uniform`` and ``truncated_normal``)."""
        f = _fans(fan_in, fan_out, self.mode)
        a = {"uniform": math.sqrt(3 * self.scale / f),
             "truncated_normal": 2 * math.sqrt(self.scale / f) / self.TRUNCATION_STD,
             "normal": math.inf}[self.distribution]
        return -a, a

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        dt = _check_call(fan_in, fan_out, dtype, rng)
        std, shape = self.std(fan_in, fan_out), (fan_in, fan_out)
        low, high = self.bounds(fan_in, fan_out)
        if self.distribution == "uniform":
            return _clipped(_uniform(rng, low, high, shape), low, high, dt)
        if self.distribution == "normal":
            return rng.normal(0.0, std, shape).astype(dt, copy=False)
        w = (std / self.TRUNCATION_STD) * _standard_truncnorm(shape, -2.0, 2.0, rng)
        return _clipped(w, low, high, dt)

    def target_density(self, fan_in, fan_out):
        """The uniform, normal or truncated normal of variance :math:`s/f` for this shape."""
        low, high = self.bounds(fan_in, fan_out)
        std = self.std(fan_in, fan_out)
        if self.distribution == "uniform":
            return {"distribution": "uniform", "low": low, "high": high}
        if self.distribution == "normal":
            return {"distribution": "normal", "mean": 0.0, "std": std}
        return {"distribution": "normal", "mean": 0.0, "std": std / self.TRUNCATION_STD, "low": low, "high": high}


class Xavier(VarianceScaling):
    """Xavier initialization as the source notes define it: :math:`U[-1/\\sqrt{n}, 1/\\sqrt{n}]`, n = fan_in.

    This is the *fan-in heuristic* that Glorot & Bengio (2010, eq. 1) quote as the
    common practice they improve on -- its variance :math:`1/(3n)` depends on the
    inputs only. It is also PyTorch's default weight init of ``nn.Linear``
    (``kaiming_uniform_(a=√5)`` reduces to this bound). It is *not* PyTorch's
    ``xavier_uniform_``, which is Glorot's normalized rule: use
    ``normalized_xavier`` (alias ``glorot_uniform``) for that.

    Equivalent to ``VarianceScaling(scale=1/3, mode="fan_in", distribution="uniform")``.
    """

    def __init__(self):
        super().__init__(scale=1 / 3, mode="fan_in", distribution="uniform")

    def bounds(self, fan_in: int, fan_out: int) -> tuple[float, float]:
        """Return ``(-1/√fan_in, 1/√fan_in)``, computed exactly as written."""
        a = 1 / math.sqrt(fan_in)
        return -a, a


class NormalizedXavier(VarianceScaling):
    """Normalized Xavier / Glorot uniform: :math:`U[-\\sqrt6/\\sqrt{n+m}, \\sqrt6/\\sqrt{n+m}]`.

    n = fan_in, m = fan_out; variance :math:`2/(n+m)` (Glorot & Bengio 2010, eq. 16).
    Same as PyTorch's ``xavier_uniform_`` and Keras' ``GlorotUniform``; equivalent to
    ``VarianceScaling(scale=1, mode="fan_avg", distribution="uniform")``.
    """

    def __init__(self):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform")

    def bounds(self, fan_in: int, fan_out: int) -> tuple[float, float]:
        """Return ``(-√6/√(fan_in+fan_out), √6/√(fan_in+fan_out))``, computed exactly as written."""
        a = math.sqrt(6) / math.sqrt(fan_in + fan_out)
        return -a, a


class GlorotNormal(VarianceScaling):
    """Glorot normal: :math:`N(0, \\sigma^2)` with :math:`\\sigma = \\sqrt{2/(n+m)}`.

    n = fan_in, m = fan_out. PyTorch's ``xavier_normal_`` (a plain normal); Keras'
    ``GlorotNormal`` truncates at ±2σ with the same variance, which is
    ``variance_scaling(mode="fan_avg", distribution="truncated_normal")``.
    """

    def __init__(self):
        super().__init__(scale=1.0, mode="fan_avg", distribution="normal")


class _He(VarianceScaling):
    _distribution: ClassVar[str] = ""

    def __init__(self, mode: str = "fan_in", nonlinearity: str = "relu", param: float | None = None):
        check_choice("mode", mode, ("fan_in", "fan_out"))
        self.nonlinearity, self.param = nonlinearity, param
        gain = calculate_gain(nonlinearity, param)
        super().__init__(scale=gain**2, mode=mode, distribution=self._distribution)


class HeUniform(_He):
    """He / Kaiming uniform: :math:`U[-g\\sqrt{3/f}, g\\sqrt{3/f}]` (PyTorch ``kaiming_uniform_``).

    :math:`f` is fan_in or fan_out (``mode``) and :math:`g` =
    ``calculate_gain(nonlinearity, param)``; the variance is :math:`g^2/f`
    (:math:`2/f` for relu, He et al. 2015).

    Parameters
    ----------
    mode : {"fan_in", "fan_out"}
        ``fan_in`` preserves the variance of the activations in the forward pass,
        ``fan_out`` that of the gradients in the backward pass.
    nonlinearity : str
        A name of :func:`calculate_gain`'s table.
    param : float, optional
        The negative slope, for ``leaky_relu``.
    """

    _distribution = "uniform"


class HeNormal(_He):
    """He / Kaiming normal: :math:`N(0, g^2/f)` (PyTorch ``kaiming_normal_``, not truncated).

    Parameters as :class:`HeUniform`. Keras' ``HeNormal`` truncates at ±2σ with the
    same variance: ``variance_scaling(scale=2, distribution="truncated_normal")``.
    """

    _distribution = "normal"


class LecunUniform(VarianceScaling):
    """LeCun uniform: :math:`U[-\\sqrt{3/n}, \\sqrt{3/n}]`, n = fan_in (variance :math:`1/n`)."""

    def __init__(self):
        super().__init__(scale=1.0, mode="fan_in", distribution="uniform")


class LecunNormal(VarianceScaling):
    """LeCun normal: :math:`N(0, 1/n)`, n = fan_in (LeCun et al. 1998; the init SELU assumes).

    A plain normal; Keras' ``LecunNormal`` truncates at ±2σ with the same variance:
    ``variance_scaling(distribution="truncated_normal")``.
    """

    def __init__(self):
        super().__init__(scale=1.0, mode="fan_in", distribution="normal")


# --------------------------------------------------------------------------- orthogonal
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014; PyTorch ``orthogonal_``).

    :math:`Q` comes from the QR decomposition :math:`A = QR` of a standard normal
    matrix :math:`A` (transposed first when fan_in < fan_out), with the columns of
    :math:`Q` multiplied by :math:`\\operatorname{sign}(R_{ii})` so that :math:`Q` is
    Haar-distributed. Then :math:`W^\\top W = g^2 I` when fan_in ≥ fan_out and
    :math:`W W^\\top = g^2 I` otherwise.

    Parameters
    ----------
    gain : float
        The multiplier :math:`g > 0`.
    """

    def __init__(self, gain: float = 1.0):
        self.gain = check_number("gain", gain, low=0, low_inclusive=False)

    @_representable
    def __call__(self, fan_in, fan_out, rng, dtype="float32"):
        dt = _check_call(fan_in, fan_out, dtype, rng)
        tall = fan_in >= fan_out
        a = rng.standard_normal((fan_in, fan_out) if tall else (fan_out, fan_in))
        q, r = np.linalg.qr(a)
        q *= np.where(np.diag(r) < 0, -1.0, 1.0)
        return (self.gain * (q if tall else q.T)).astype(dt, copy=False)

    def target_density(self, fan_in, fan_out):
        """Approximately :math:`N(0, g^2/\\max(n, m))` per entry (exact for large matrices)."""
        return {"distribution": "normal", "mean": 0.0, "std": self.gain / math.sqrt(max(fan_in, fan_out)),
                "approximate": True}


# ------------------------------------------------------------------------------ hook
_UNIFORM = r"W_{ij} \sim U[-a, a]"


@hookimpl
def neuroplug_initializers():
    """Register the built-in initializers.

    Each claims its own formula of the spec suite's vocabulary (``implements``) and
    declares the range of each numeric or choice parameter (``parameter_space``), so
    that ``neuroplug spec`` checks the law of the weights for configs drawn from it too;
    ``example_configs`` add regimes a draw may miss (an interval away from 0, a
    leaky_relu slope, each distribution of variance_scaling).
    """
    seeded = ("seeded",)
    bounded = ("seeded", "uniform_bound")
    mean, std = Param.real(typical=(-1.0, 1.0)), Param.real(0.0, None, low_open=True, log=True, typical=(1e-3, 10.0))
    he_space = {"mode": Param.choice("fan_in", "fan_out"), "nonlinearity": Param.choice(*_GAINS)}
    he_examples = ({"mode": "fan_out", "nonlinearity": "leaky_relu", "param": 0.2},)
    return [
        InitializerRegistration(name="zeros", factory=Zeros, summary="all zeros",
                                formula=r"W = 0", properties=("deterministic_values",), implements=("zeros",)),
        InitializerRegistration(name="ones", factory=Ones, summary="all ones",
                                formula=r"W = 1", properties=("deterministic_values",), implements=("ones",)),
        InitializerRegistration(name="constant", factory=Constant, summary="every weight equal to value",
                                formula=r"W = c", properties=("deterministic_values",), implements=("constant",),
                                parameter_space={"value": Param.real(typical=(-10.0, 10.0))}),
        InitializerRegistration(name="uniform", factory=Uniform, summary="uniform on [low, high]",
                                formula=r"W_{ij} \sim U[\mathrm{low}, \mathrm{high}]", properties=bounded,
                                implements=("uniform",),
                                parameter_space={"low": Param.real(typical=(-1.0, 0.0)),
                                                 "high": Param.real(typical=(0.0, 1.0))},
                                example_configs=({"low": 0.5, "high": 2.0},)),
        InitializerRegistration(name="normal", factory=Normal, summary="normal with mean and std",
                                formula=r"W_{ij} \sim N(\mu, \sigma^2)", properties=seeded, implements=("normal",),
                                parameter_space={"mean": mean, "std": std}),
        InitializerRegistration(
            name="truncated_normal", factory=TruncatedNormal,
            summary="normal redrawn outside [mean + a*std, mean + b*std]",
            formula=r"W_{ij} \sim N(\mu, \sigma^2) \mid \mu + a\sigma \le W_{ij} \le \mu + b\sigma",
            properties=seeded, implements=("truncated_normal",),
            parameter_space={"mean": mean, "std": std, "a": Param.real(typical=(-3.0, -0.5)),
                             "b": Param.real(typical=(0.5, 3.0))},
            example_configs=({"mean": 1.0, "std": 2.0, "a": -0.5, "b": 2.5},)),
        InitializerRegistration(
            name="variance_scaling", factory=VarianceScaling,
            summary="variance scale/fan, uniform, normal or truncated normal (Keras)",
            formula=r"\operatorname{Var} W_{ij} = s / f", properties=seeded, implements=("variance_scaling",),
            parameter_space={"scale": Param.real(0.0, None, low_open=True, log=True, typical=(0.01, 100.0)),
                             "mode": Param.choice("fan_in", "fan_out", "fan_avg"),
                             "distribution": Param.choice("truncated_normal", "normal", "uniform")},
            example_configs=({"scale": 2.0, "mode": "fan_out", "distribution": "uniform"},
                             {"scale": 0.5, "mode": "fan_avg", "distribution": "normal"})),
        InitializerRegistration(
            name="xavier", factory=Xavier,
            summary="U[-1/sqrt(n), 1/sqrt(n)], n = fan_in (fan-in heuristic; PyTorch nn.Linear default)",
            formula=_UNIFORM + r",\quad a = 1/\sqrt{n}", properties=bounded, implements=("xavier",)),
        InitializerRegistration(
            name="normalized_xavier", factory=NormalizedXavier, aliases=("glorot_uniform",),
            summary="U[-sqrt(6)/sqrt(n+m), sqrt(6)/sqrt(n+m)] (Glorot uniform)",
            formula=_UNIFORM + r",\quad a = \sqrt{6}/\sqrt{n + m}", properties=bounded,
            implements=("normalized_xavier",)),
        InitializerRegistration(name="glorot_normal", factory=GlorotNormal,
                                summary="N(0, 2/(n+m)) (Glorot normal)",
                                formula=r"W_{ij} \sim N(0, 2/(n + m))", properties=seeded,
                                implements=("glorot_normal",)),
        InitializerRegistration(
            name="he_uniform", factory=HeUniform, aliases=("kaiming_uniform",),
            summary="U[-g*sqrt(3/fan), g*sqrt(3/fan)] (He/Kaiming uniform)",
            formula=_UNIFORM + r",\quad a = g\sqrt{3/f}", properties=bounded, implements=("he_uniform",),
            parameter_space=he_space, example_configs=he_examples),
        InitializerRegistration(name="he_normal", factory=HeNormal, aliases=("kaiming_normal",),
                                summary="N(0, g^2/fan) (He/Kaiming normal)",
                                formula=r"W_{ij} \sim N(0, g^2/f)", properties=seeded, implements=("he_normal",),
                                parameter_space=he_space, example_configs=he_examples),
        InitializerRegistration(name="lecun_uniform", factory=LecunUniform,
                                summary="U[-sqrt(3/n), sqrt(3/n)] (LeCun uniform)",
                                formula=_UNIFORM + r",\quad a = \sqrt{3/n}", properties=bounded,
                                implements=("lecun_uniform",)),
        InitializerRegistration(name="lecun_normal", factory=LecunNormal, summary="N(0, 1/n) (LeCun normal)",
                                formula=r"W_{ij} \sim N(0, 1/n)", properties=seeded, implements=("lecun_normal",)),
        InitializerRegistration(name="orthogonal", factory=Orthogonal,
                                summary="gain times a random (semi-)orthogonal matrix",
                                formula=r"W^\top W = g^2 I \ (n \ge m), \quad W W^\top = g^2 I \ (n < m)",
                                properties=seeded, implements=("orthogonal",),
                                parameter_space={"gain": Param.real(0.0, None, low_open=True, log=True,
                                                                    typical=(0.1, 10.0))}),
    ]
