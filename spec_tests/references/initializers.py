r"""References of the initializer formulas (see :mod:`neuroplug.spec.formulas`).

What a reference computes
-------------------------
An initializer formula is a *law* of the weights, not a number: the reference
of each formula is a function ``reference(fan_in, fan_out, **params) -> Law``
giving, for one shape and the formula's parameters, the distribution every entry
:math:`W_{ij}` must follow (independently across entries, except ``orthogonal``):

=====================  ====================================================================
``Law.family``         meaning
=====================  ====================================================================
``"constant"``         every entry equals ``value``
``"uniform"``          :math:`U[\mathrm{low}, \mathrm{high}]`
``"normal"``           :math:`N(\mathrm{mean}, \mathrm{std}^2)`
``"truncated_normal"`` :math:`N(\mathrm{mean}, \mathrm{std}^2)` conditioned on
                       :math:`\mathrm{low} \le W \le \mathrm{high}` (``low``/``high`` are
                       *absolute* bounds; ``std`` is the normal's before truncation)
``"orthogonal"``       ``gain`` times a (semi-)orthogonal matrix:
                       :math:`W^\top W = g^2 I` when fan_in >= fan_out, :math:`W W^\top = g^2 I`
                       otherwise (Haar-distributed; the check verifies the identity)
=====================  ====================================================================

:class:`Law` also gives what the ``INIT-FORMULA`` check compares a sample with --
the distribution function :meth:`Law.cdf`, the exact mean and variance, and the
support -- computed in float64 with :mod:`math` (``erfc`` for the normal's
distribution function), for clarity rather than speed. ``n`` is fan_in, ``m``
fan_out throughout. Nothing here imports ``neuroplug.plugins``.

The gains of the He/Kaiming formulas are PyTorch's ``calculate_gain`` table:
linear, identity, sigmoid 1; tanh 5/3; relu :math:`\sqrt2`; leaky_relu
:math:`\sqrt{2/(1+\alpha^2)}` with :math:`\alpha` = ``param`` (default 0.01); selu 3/4.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from neuroplug.types import Param

from ..formulas import register_formula

__all__ = [
    "NONLINEARITIES",
    "Law",
    "cdf_array",
    "gain",
    "normal_quantile_two_sided",
    "std_normal_cdf",
    "truncation_std",
]


def std_normal_cdf(x: float) -> float:
    """:math:`\\Phi(x)`, the standard normal distribution function (``erfc`` keeps the tails accurate)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _std_normal_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def truncation_std(a: float, b: float) -> float:
    """Standard deviation of a standard normal conditioned on ``[a, b]``."""
    z = std_normal_cdf(b) - std_normal_cdf(a)
    pa, pb = _std_normal_pdf(a), _std_normal_pdf(b)
    mean = (pa - pb) / z
    return math.sqrt(1.0 + (a * pa - b * pb) / z - mean * mean)


@dataclass(frozen=True)
class Law:
    """The law of every entry of an initializer's ``(fan_in, fan_out)`` matrix (see the module docstring)."""

    family: str
    low: float = -math.inf
    high: float = math.inf
    mean: float = 0.0
    std: float = 0.0
    gain: float = 1.0
    value: float = 0.0

    def describe(self) -> str:
        """``U[-0.125, 0.125]``, ``N(0, 0.05^2)``, ... for failure messages."""
        if self.family == "constant":
            return f"the constant {self.value!r}"
        if self.family == "uniform":
            return f"U[{self.low:.9g}, {self.high:.9g}]"
        if self.family == "normal":
            return f"N({self.mean:.9g}, {self.std:.9g}^2)"
        if self.family == "truncated_normal":
            return f"N({self.mean:.9g}, {self.std:.9g}^2) truncated to [{self.low:.9g}, {self.high:.9g}]"
        return f"{self.gain:.9g} times a (semi-)orthogonal matrix"

    @property
    def bounded(self) -> bool:
        """Whether the support is a finite interval ``[low, high]`` (uniform, truncated normal)."""
        return self.family in ("uniform", "truncated_normal")

    def _standard(self) -> tuple[float, float, float]:
        """Truncated normal: the cut-offs in units of std, and the mass between them."""
        a = (self.low - self.mean) / self.std
        b = (self.high - self.mean) / self.std
        return a, b, std_normal_cdf(b) - std_normal_cdf(a)

    def cdf(self, x: float) -> float:
        """:math:`P(W \\le x)`."""
        if self.family == "uniform":
            return min(1.0, max(0.0, (x - self.low) / (self.high - self.low)))
        if self.family == "normal":
            return std_normal_cdf((x - self.mean) / self.std)
        if self.family == "truncated_normal":
            a, _, z = self._standard()
            if x <= self.low:
                return 0.0
            if x >= self.high:
                return 1.0
            return min(1.0, max(0.0, (std_normal_cdf((x - self.mean) / self.std) - std_normal_cdf(a)) / z))
        raise ValueError(f"no distribution function for the family {self.family!r}")

    def max_density(self) -> float:
        """An upper bound of the density (how far rounding can move the distribution function)."""
        if self.family == "uniform":
            return 1.0 / (self.high - self.low)
        if self.family == "normal":
            return 1.0 / (self.std * math.sqrt(2.0 * math.pi))
        return 1.0 / (self.std * math.sqrt(2.0 * math.pi) * self._standard()[2])

    def expectation(self) -> float:
        """:math:`E[W]`."""
        if self.family == "uniform":
            return (self.low + self.high) / 2
        if self.family == "truncated_normal":
            a, b, z = self._standard()
            return self.mean + self.std * (_std_normal_pdf(a) - _std_normal_pdf(b)) / z
        return self.mean

    def variance(self) -> float:
        """:math:`\\operatorname{Var} W`."""
        if self.family == "uniform":
            return (self.high - self.low) ** 2 / 12
        if self.family == "truncated_normal":
            a, b, _ = self._standard()
            return (self.std * truncation_std(a, b)) ** 2
        return self.std**2


_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
          "selu": 3.0 / 4.0}
NONLINEARITIES = ("linear", "identity", "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's ``calculate_gain(nonlinearity, param)`` (see the module docstring)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    return _GAINS[nonlinearity]


def _fan(n: int, m: int, mode: str) -> float:
    return {"fan_in": float(n), "fan_out": float(m), "fan_avg": (n + m) / 2.0}[mode]


def _uniform_a(a: float) -> Law:
    return Law("uniform", low=-a, high=a)


# ------------------------------------------------------------------------------ constants
@register_formula("initializer", "zeros", title="all zeros", latex=r"W = 0")
def zeros(n: int, m: int) -> Law:
    """Every weight is 0."""
    return Law("constant", value=0.0)


@register_formula("initializer", "ones", title="all ones", latex=r"W = 1")
def ones(n: int, m: int) -> Law:
    """Every weight is 1."""
    return Law("constant", value=1.0)


@register_formula("initializer", "constant", title="every weight equal to value", latex=r"W = c",
                  defaults={"value": 0.0}, space={"value": Param.real(typical=(-10.0, 10.0))},
                  examples=({"value": 0.1},))
def constant(n: int, m: int, value: float) -> Law:
    """Every weight is ``value``."""
    return Law("constant", value=float(value))


# --------------------------------------------------------------------------- plain random
@register_formula("initializer", "uniform", title="uniform on [low, high]",
                  latex=r"W_{ij} \sim U[\mathrm{low}, \mathrm{high}]", defaults={"low": -0.05, "high": 0.05},
                  space={"low": Param.real(typical=(-1.0, 0.0)), "high": Param.real(typical=(0.0, 1.0))},
                  examples=({"low": 0.5, "high": 2.0},))
def uniform(n: int, m: int, low: float, high: float) -> Law:
    r""":math:`U[\mathrm{low}, \mathrm{high}]`."""
    return Law("uniform", low=float(low), high=float(high))


_MEAN = Param.real(typical=(-1.0, 1.0))
_STD = Param.real(0.0, None, low_open=True, log=True, typical=(1e-3, 10.0))


@register_formula("initializer", "normal", title="normal with mean and std", latex=r"W_{ij} \sim N(\mu, \sigma^2)",
                  defaults={"mean": 0.0, "std": 0.05}, space={"mean": _MEAN, "std": _STD},
                  examples=({"mean": 0.5, "std": 0.1},))
def normal(n: int, m: int, mean: float, std: float) -> Law:
    r""":math:`N(\mu, \sigma^2)`."""
    return Law("normal", mean=float(mean), std=float(std))


@register_formula("initializer", "truncated_normal", title="normal conditioned on [mean + a std, mean + b std]",
                  latex=r"W_{ij} \sim N(\mu, \sigma^2) \mid \mu + a\sigma \le W_{ij} \le \mu + b\sigma",
                  defaults={"mean": 0.0, "std": 0.05, "a": -2.0, "b": 2.0},
                  space={"mean": _MEAN, "std": _STD, "a": Param.real(typical=(-3.0, -0.5)),
                         "b": Param.real(typical=(0.5, 3.0))},
                  examples=({"mean": 1.0, "std": 2.0, "a": -0.5, "b": 2.5},))
def truncated_normal(n: int, m: int, mean: float, std: float, a: float, b: float) -> Law:
    r"""A normal :math:`N(\mu, \sigma^2)` conditioned on :math:`[\mu + a\sigma, \mu + b\sigma]`:
    ``a`` and ``b`` are in units of ``std`` (as the built-in's registration states), and
    ``std`` is the normal's before truncation (Keras, PyTorch)."""
    mean, std = float(mean), float(std)
    return Law("truncated_normal", low=mean + a * std, high=mean + b * std, mean=mean, std=std)


# ------------------------------------------------------------------------ variance scaling
@register_formula("initializer", "variance_scaling", title="variance scale/fan: uniform, normal or truncated normal",
                  latex=(r"\operatorname{Var} W_{ij} = s/f,\ f \in \{n, m, (n+m)/2\}:\ U[-\sqrt{3s/f}, \sqrt{3s/f}],"
                         r"\ N(0, s/f),\ \text{or}\ N(0, \sigma^2)|_{[-2\sigma, 2\sigma]},"
                         r"\ \sigma = \sqrt{s/f}/0.8796"),
                  defaults={"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"},
                  space={"scale": Param.real(0.0, None, low_open=True, log=True, typical=(0.01, 100.0)),
                         "mode": Param.choice("fan_in", "fan_out", "fan_avg"),
                         "distribution": Param.choice("truncated_normal", "normal", "uniform")},
                  examples=({"scale": 2.0, "mode": "fan_out", "distribution": "uniform"},
                            {"scale": 0.5, "mode": "fan_avg", "distribution": "normal"},
                            {"scale": 3.0, "mode": "fan_out", "distribution": "truncated_normal"}))
def variance_scaling(n: int, m: int, scale: float, mode: str, distribution: str) -> Law:
    r"""Keras' ``VarianceScaling``: zero mean, variance :math:`s/f` with :math:`f` = fan_in,
    fan_out or their average (``mode``); ``truncated_normal`` cuts a normal at ±2 of its
    own σ, σ chosen so that the truncated values have variance exactly :math:`s/f`."""
    var = scale / _fan(n, m, mode)
    if distribution == "uniform":
        return _uniform_a(math.sqrt(3.0 * var))
    if distribution == "normal":
        return Law("normal", std=math.sqrt(var))
    sigma = math.sqrt(var) / truncation_std(-2.0, 2.0)
    return Law("truncated_normal", low=-2.0 * sigma, high=2.0 * sigma, std=sigma)


@register_formula("initializer", "xavier", title="U[-a, a], a = 1/sqrt(fan_in) (the notes' xavier; fan-in heuristic)",
                  latex=r"W_{ij} \sim U[-1/\sqrt{n}, 1/\sqrt{n}]")
def xavier(n: int, m: int) -> Law:
    r""":math:`U[-1/\sqrt n, 1/\sqrt n]`, n = fan_in."""
    return _uniform_a(1.0 / math.sqrt(n))


@register_formula("initializer", "normalized_xavier", aliases=("glorot_uniform",),
                  title="U[-a, a], a = sqrt(6)/sqrt(fan_in + fan_out) (Glorot uniform)",
                  latex=r"W_{ij} \sim U[-\sqrt{6}/\sqrt{n+m}, \sqrt{6}/\sqrt{n+m}]")
def normalized_xavier(n: int, m: int) -> Law:
    r""":math:`U[-\sqrt6/\sqrt{n+m}, \sqrt6/\sqrt{n+m}]`."""
    return _uniform_a(math.sqrt(6.0) / math.sqrt(n + m))


@register_formula("initializer", "glorot_normal", title="N(0, 2/(fan_in + fan_out)) (Glorot normal)",
                  latex=r"W_{ij} \sim N(0, 2/(n+m))")
def glorot_normal(n: int, m: int) -> Law:
    r""":math:`N(0, 2/(n+m))` (not truncated: PyTorch's ``xavier_normal_``)."""
    return Law("normal", std=math.sqrt(2.0 / (n + m)))


_HE_DEFAULTS = {"mode": "fan_in", "nonlinearity": "relu", "param": None}
_HE_SPACE = {"mode": Param.choice("fan_in", "fan_out"), "nonlinearity": Param.choice(*NONLINEARITIES)}
_HE_EXAMPLES = ({"mode": "fan_out", "nonlinearity": "leaky_relu", "param": 0.2},
                {"mode": "fan_out", "nonlinearity": "tanh"})


@register_formula("initializer", "he_uniform", aliases=("kaiming_uniform",),
                  title="U[-a, a], a = gain sqrt(3/fan), fan = fan_in or fan_out (He/Kaiming uniform)",
                  latex=r"W_{ij} \sim U[-g\sqrt{3/f}, g\sqrt{3/f}],\ f \in \{n, m\}",
                  defaults=_HE_DEFAULTS, space=_HE_SPACE, examples=_HE_EXAMPLES)
def he_uniform(n: int, m: int, mode: str, nonlinearity: str, param: float | None) -> Law:
    r""":math:`U[-g\sqrt{3/f}, g\sqrt{3/f}]`, f = fan_in or fan_out (``mode``), g = :func:`gain`."""
    return _uniform_a(gain(nonlinearity, param) * math.sqrt(3.0 / _fan(n, m, mode)))


@register_formula("initializer", "he_normal", aliases=("kaiming_normal",),
                  title="N(0, gain^2/fan), fan = fan_in or fan_out (He/Kaiming normal)",
                  latex=r"W_{ij} \sim N(0, g^2/f),\ f \in \{n, m\}",
                  defaults=_HE_DEFAULTS, space=_HE_SPACE, examples=_HE_EXAMPLES)
def he_normal(n: int, m: int, mode: str, nonlinearity: str, param: float | None) -> Law:
    r""":math:`N(0, g^2/f)` (not truncated: PyTorch's ``kaiming_normal_``)."""
    return Law("normal", std=gain(nonlinearity, param) / math.sqrt(_fan(n, m, mode)))


@register_formula("initializer", "lecun_uniform", title="U[-a, a], a = sqrt(3/fan_in) (LeCun uniform)",
                  latex=r"W_{ij} \sim U[-\sqrt{3/n}, \sqrt{3/n}]")
def lecun_uniform(n: int, m: int) -> Law:
    r""":math:`U[-\sqrt{3/n}, \sqrt{3/n}]`, n = fan_in."""
    return _uniform_a(math.sqrt(3.0 / n))


@register_formula("initializer", "lecun_normal", title="N(0, 1/fan_in) (LeCun normal)", latex=r"W_{ij} \sim N(0, 1/n)")
def lecun_normal(n: int, m: int) -> Law:
    r""":math:`N(0, 1/n)`, n = fan_in (not truncated)."""
    return Law("normal", std=1.0 / math.sqrt(n))


# ------------------------------------------------------------------------------ orthogonal
@register_formula("initializer", "orthogonal", title="gain times a random (semi-)orthogonal matrix",
                  latex=r"W^\top W = g^2 I\ (n \ge m),\quad W W^\top = g^2 I\ (n < m)",
                  defaults={"gain": 1.0}, space={"gain": Param.real(0.0, None, low_open=True, log=True,
                                                                    typical=(0.1, 10.0))},
                  examples=({"gain": 2.0},))
def orthogonal(n: int, m: int, gain: float) -> Law:
    r"""``gain`` times a Haar (semi-)orthogonal matrix: its short side is orthonormal times ``gain``."""
    return Law("orthogonal", gain=float(gain))


def normal_quantile_two_sided(p: float) -> float:
    """z with P(|Z| > z) = p for a standard normal Z (bisection on ``erfc``)."""
    lo, hi = 0.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erfc(mid / math.sqrt(2.0)) > p:
            lo = mid
        else:
            hi = mid
    return hi


_ERFC = np.frompyfunc(math.erfc, 1, 1)


def cdf_array(law: Law, x: np.ndarray) -> np.ndarray:
    """:meth:`Law.cdf` of every element of ``x`` (float64), vectorized with ``math.erfc``."""
    x = np.asarray(x, dtype=np.float64)
    if law.family == "uniform":
        return np.clip((x - law.low) / (law.high - law.low), 0.0, 1.0)
    phi = 0.5 * _ERFC(-(x - law.mean) / (law.std * math.sqrt(2.0))).astype(np.float64)
    if law.family == "normal":
        return phi
    a, _, z = law._standard()
    return np.clip((phi - std_normal_cdf(a)) / z, 0.0, 1.0)
