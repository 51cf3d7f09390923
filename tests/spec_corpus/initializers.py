"""Blind corpus: initializers.

Written from the public plugin-author documentation only (README, docs/plugins.rst,
docs/guide, docs/concepts, docs/reference, docs/spec-reference.md, the docstrings of
core/base.py, core/types.py, core/hookspecs.py, core/errors.py, core/validation.py) and
the built-ins' registrations (formula, parameters and their defaults, properties) and
class docstrings (``help()``) read through the public registry API. Nothing under
spec_tests/ nor plugins/ was read.

``CORRECT`` components implement a registered formula in another form (another way of
drawing, another consumption of the random stream, float32 or float64 draws, with or
without the optional ``bounds``/``target_density``); ``MUTANTS`` subclass a correct
component and override one method or attribute, so that each carries exactly one fault.

Facts used (all from the registrations and docstrings):

* ``xavier``: U[-1/sqrt(n), 1/sqrt(n)], n = fan_in; ``normalized_xavier`` (alias
  ``glorot_uniform``): U[-sqrt6/sqrt(n+m), sqrt6/sqrt(n+m)];
* ``he_uniform``/``kaiming_uniform``: U[-g sqrt(3/f), g sqrt(3/f)], ``he_normal``/
  ``kaiming_normal``: N(0, g^2/f); f = fan_in or fan_out (``mode``), g = calculate_gain
  (linear/identity/sigmoid 1, tanh 5/3, relu sqrt2, leaky_relu sqrt(2/(1+alpha^2)) with
  alpha = ``param`` defaulting to 0.01, selu 3/4);
* ``lecun_uniform``: U[-sqrt(3/n), sqrt(3/n)], ``lecun_normal``: N(0, 1/n), ``glorot_normal``:
  N(0, 2/(n+m));
* ``truncated_normal(mean, std, a, b)``: mean + std z, z ~ N(0,1) conditioned on a <= z <= b;
* ``orthogonal(gain)``: W^T W = g^2 I (n >= m), W W^T = g^2 I (n < m), Haar distributed;
* ``variance_scaling(scale, mode, distribution)``: variance s/f, f in fan_in/fan_out/fan_avg;
  truncated normal at +-2 sigma with sigma = sqrt(s/f)/0.87962566103423978;
* ``uniform(low, high)``, ``normal(mean, std)``, ``constant(value)``, ``zeros``, ``ones``.
* PROP-INIT-UNIFORM-BOUND: with ``uniform_bound`` declared, a float32 weight must be
  rounded *inward* (it may not exceed the float64 ``bounds``).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from neuroplug.base import Initializer
from neuroplug.validation import check_choice, check_number

from . import Case

_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0),
          "selu": 0.75}
_TRUNC_STD = 0.87962566103423978  # std of N(0,1) truncated to [-2, 2]


def _gain(nonlinearity: str, param) -> float:
    """The recommended gain (the table of calculate_gain's docstring)."""
    if nonlinearity == "leaky_relu":
        alpha = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + alpha * alpha))
    return _GAINS[nonlinearity]


def _fan(mode: str, fan_in: int, fan_out: int) -> float:
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    return (fan_in + fan_out) / 2.0


def _inward(w64: np.ndarray, dtype, low: float, high: float) -> np.ndarray:
    """Cast float64 draws inside [low, high] to ``dtype`` rounding inward at the ends."""
    w = w64.astype(dtype)
    if w.dtype != np.float64:
        over = w.astype(np.float64) > high
        w[over] = np.nextafter(w[over], w.dtype.type(-np.inf))
        under = w.astype(np.float64) < low
        w[under] = np.nextafter(w[under], w.dtype.type(np.inf))
    return w


def _largest_below(x: float, dtype) -> np.floating:
    """The largest value of ``dtype`` not above the float64 ``x``."""
    v = np.dtype(dtype).type(x)
    if float(v) > x:
        v = np.nextafter(v, np.dtype(dtype).type(-np.inf))
    return v


# ---------------------------------------------------------------------------------------
# Correct components
# ---------------------------------------------------------------------------------------


class XavierAffine(Initializer):
    """xavier by an affine map of rng.random: (2u - 1) a, a = 1/sqrt(n); float64 then cast."""

    def _bound(self, fan_in, fan_out):
        return 1.0 / math.sqrt(fan_in)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = self._bound(fan_in, fan_out)
        u = rng.random((fan_in, fan_out))
        return ((2.0 * u - 1.0) * a).astype(dtype)


class XavierColumns(Initializer):
    """xavier drawn column by column with rng.uniform(-a, a), inward cast, with bounds()."""

    def bounds(self, fan_in, fan_out):
        a = fan_in ** -0.5
        return (-a, a)

    def target_density(self, fan_in, fan_out):
        low, high = self.bounds(fan_in, fan_out)
        return {"distribution": "uniform", "low": low, "high": high}

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        low, high = self.bounds(fan_in, fan_out)
        w = np.empty((fan_in, fan_out), dtype=np.float64)
        for j in range(fan_out):
            w[:, j] = rng.uniform(low, high, size=fan_in)
        return _inward(w, dtype, low, high)


class GlorotUniformNative(Initializer):
    """glorot_uniform drawn natively in the requested dtype: rng.random(dtype=...) mapped to
    [-a', a'] with a' the largest value of the dtype not above sqrt(6/(n+m)); with bounds()."""

    def bounds(self, fan_in, fan_out):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        return (-a, a)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dtype = np.dtype(dtype)
        a = _largest_below(self.bounds(fan_in, fan_out)[1], dtype)
        u = rng.random((fan_in, fan_out), dtype=dtype)   # [0, 1), exact in the dtype
        w = (u + u - dtype.type(1)) * a                   # |2u - 1| <= 1, so |w| <= a exactly
        return w


class NormalizedXavierVariance(Initializer):
    """normalized_xavier from its variance: a = sqrt(3 Var) with Var = 2/(n+m); rng.uniform on
    the transposed shape (another consumption of the stream), no bounds()."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        var = 2.0 / (fan_in + fan_out)
        a = math.sqrt(3.0 * var)
        return np.ascontiguousarray(rng.uniform(-a, a, size=(fan_out, fan_in)).T).astype(dtype)


class HeUniform(Initializer):
    """he_uniform: a = sqrt(3) g / sqrt(f), rng.uniform, inward cast, with bounds()."""

    def __init__(self, mode="fan_in", nonlinearity="relu", param=None):
        self.mode = check_choice("mode", mode, ("fan_in", "fan_out"))
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, (*_GAINS, "leaky_relu"))
        self.param = param

    def _scale(self, fan_in, fan_out):
        return _gain(self.nonlinearity, self.param) * math.sqrt(3.0) / math.sqrt(_fan(self.mode, fan_in, fan_out))

    def bounds(self, fan_in, fan_out):
        a = self._scale(fan_in, fan_out)
        return (-a, a)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        low, high = self.bounds(fan_in, fan_out)
        return _inward(rng.uniform(low, high, size=(fan_in, fan_out)), dtype, low, high)


class KaimingNormal(Initializer):
    """kaiming_normal: standard normals drawn transposed, times g/sqrt(f)."""

    def __init__(self, mode="fan_in", nonlinearity="relu", param=None):
        self.mode = mode
        self.nonlinearity = nonlinearity
        self.param = param

    def _std(self, fan_in, fan_out):
        return _gain(self.nonlinearity, self.param) / math.sqrt(_fan(self.mode, fan_in, fan_out))

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        z = rng.standard_normal((fan_out, fan_in)).T
        return (z * self._std(fan_in, fan_out)).astype(dtype)


class LecunUniform(Initializer):
    """lecun_uniform: a = sqrt(3)/sqrt(n), drawn as a - 2a u (u = rng.random), clipped to [-a, a]."""

    def bounds(self, fan_in, fan_out):
        a = math.sqrt(3.0) / math.sqrt(fan_in)
        return (-a, a)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        low, high = self.bounds(fan_in, fan_out)
        w = np.clip(high - (high - low) * rng.random((fan_in, fan_out)), low, high)
        return _inward(w, dtype, low, high)


class LecunNormal(Initializer):
    """lecun_normal: rng.normal(0, 1/sqrt(n)) directly in float64, cast."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=(fan_in, fan_out)).astype(dtype)


class GlorotNormalRows(Initializer):
    """glorot_normal drawn row by row in float32 (rng.standard_normal(dtype=float32)) or
    float64, scaled by sqrt(2/(n+m))."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dtype = np.dtype(dtype)
        std = dtype.type(math.sqrt(2.0 / (fan_in + fan_out)))
        w = np.empty((fan_in, fan_out), dtype=dtype)
        for i in range(fan_in):
            w[i] = rng.standard_normal(fan_out, dtype=dtype) * std
        return w


_PHI = NormalDist()


class TruncatedNormalInverseCDF(Initializer):
    """truncated_normal by the inverse CDF: u ~ U[Phi(a), Phi(b)], z = Phi^{-1}(u)."""

    def __init__(self, mean=0.0, std=0.05, a=-2.0, b=2.0):
        self.mean = check_number("mean", mean)
        self.std = check_number("std", std, low=0, low_inclusive=False)
        self.a = check_number("a", a)
        self.b = check_number("b", b)
        if not a < b:
            raise ValueError("a must be < b")

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        lo, hi = _PHI.cdf(self.a), _PHI.cdf(self.b)
        u = rng.uniform(lo, hi, size=fan_in * fan_out)
        # keep u strictly inside (0, 1) for inv_cdf; Phi(a) > 0 for finite a
        u = np.clip(u, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
        z = np.fromiter((_PHI.inv_cdf(x) for x in u), dtype=np.float64, count=u.size)
        z = np.clip(z, self.a, self.b)
        return (self.mean + self.std * z).reshape(fan_in, fan_out).astype(dtype)


class TruncatedNormalRejectionColumns(Initializer):
    """truncated_normal by rejection, one column at a time (redraw the rejected entries)."""

    def __init__(self, mean=0.0, std=0.05, a=-2.0, b=2.0):
        self.mean = mean
        self.std = std
        self.a = a
        self.b = b

    def target_density(self, fan_in, fan_out):
        return {"distribution": "normal", "mean": self.mean, "std": self.std,
                "low": self.mean + self.a * self.std, "high": self.mean + self.b * self.std}

    def _column(self, n, rng):
        z = rng.standard_normal(n)
        bad = (z < self.a) | (z > self.b)
        while bad.any():
            z[bad] = rng.standard_normal(int(bad.sum()))
            bad = (z < self.a) | (z > self.b)
        return z

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        w = np.empty((fan_in, fan_out))
        for j in range(fan_out):
            w[:, j] = self.mean + self.std * self._column(fan_in, rng)
        return w.astype(dtype)


class OrthogonalPolar(Initializer):
    """orthogonal as the polar factor U V^T of a Gaussian matrix (SVD): Haar distributed too."""

    def __init__(self, gain=1.0):
        self.gain = check_number("gain", gain, low=0, low_inclusive=False)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = rng.standard_normal((fan_in, fan_out))
        u, _, vt = np.linalg.svd(a, full_matrices=False)
        return (self.gain * (u @ vt)).astype(dtype)


class OrthogonalQR(Initializer):
    """orthogonal by QR of a tall Gaussian matrix with the sign fix Q diag(sign R_ii), then
    transposed back when fan_in < fan_out."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def _q(self, rows, cols, rng):
        q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
        d = np.sign(np.diag(r))
        d[d == 0] = 1.0
        return q * d

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if fan_in >= fan_out:
            q = self._q(fan_in, fan_out, rng)
        else:
            q = self._q(fan_out, fan_in, rng).T
        return np.ascontiguousarray(q * self.gain).astype(dtype)


class ConstantFull(Initializer):
    """constant: np.full in the dtype."""

    def __init__(self, value=0.0):
        self.value = check_number("value", value)

    def target_density(self, fan_in, fan_out):
        return {"distribution": "constant", "value": self.value}

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.full((fan_in, fan_out), self.value, dtype=dtype)


class ZerosFilled(Initializer):
    """zeros: np.empty then fill(0)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        w = np.empty((fan_in, fan_out), dtype=dtype)
        w.fill(0)
        return w


class OnesAdded(Initializer):
    """ones: zeros plus one."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        w = np.zeros((fan_in, fan_out), dtype=dtype)
        w += 1
        return w


class UniformAffine(Initializer):
    """uniform(low, high) as low + (high - low) u, clipped, inward cast, with bounds()."""

    def __init__(self, low=-0.05, high=0.05):
        self.low = low
        self.high = high

    def bounds(self, fan_in, fan_out):
        return (float(self.low), float(self.high))

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        low, high = self.bounds(fan_in, fan_out)
        w = np.clip(low + (high - low) * rng.random((fan_in, fan_out)), low, high)
        return _inward(w, dtype, low, high)


class NormalLocScale(Initializer):
    """normal(mean, std) as mean + std * standard_normal, drawn natively in float32/float64."""

    def __init__(self, mean=0.0, std=0.05):
        self.mean = mean
        self.std = std

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dtype = np.dtype(dtype)
        z = rng.standard_normal((fan_in, fan_out), dtype=dtype)
        return dtype.type(self.mean) + dtype.type(self.std) * z


class VarianceScaling(Initializer):
    """variance_scaling(scale, mode, distribution): uniform via rng.uniform, normal via
    rng.normal, truncated normal by vectorised rejection of whole-matrix redraws of the rest."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        self.scale = check_number("scale", scale, low=0, low_inclusive=False)
        self.mode = check_choice("mode", mode, ("fan_in", "fan_out", "fan_avg"))
        self.distribution = check_choice("distribution", distribution, ("truncated_normal", "normal", "uniform"))

    def _var(self, fan_in, fan_out):
        return self.scale / _fan(self.mode, fan_in, fan_out)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        shape = (fan_in, fan_out)
        var = self._var(fan_in, fan_out)
        if self.distribution == "uniform":
            a = math.sqrt(3.0 * var)
            w = rng.uniform(-a, a, size=shape)
        elif self.distribution == "normal":
            w = rng.normal(0.0, math.sqrt(var), size=shape)
        else:
            sigma = math.sqrt(var) / _TRUNC_STD
            z = rng.standard_normal(fan_in * fan_out)
            bad = np.flatnonzero(np.abs(z) > 2.0)
            while bad.size:
                z[bad] = rng.standard_normal(bad.size)
                bad = bad[np.abs(z[bad]) > 2.0]
            w = (sigma * z).reshape(shape)
        return w.astype(dtype)


# ---------------------------------------------------------------------------------------
# Mutants (each a correct component above with one fault)
# ---------------------------------------------------------------------------------------


class XavierFanOut(XavierAffine):
    def _bound(self, fan_in, fan_out):
        return 1.0 / math.sqrt(fan_out)


class XavierTwoPercentWide(XavierAffine):
    def _bound(self, fan_in, fan_out):
        return 1.02 / math.sqrt(fan_in)


class XavierNormalSameVariance(XavierAffine):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        std = self._bound(fan_in, fan_out) / math.sqrt(3.0)   # Var = 1/(3n), but normal
        return rng.normal(0.0, std, size=(fan_in, fan_out)).astype(dtype)


class XavierGlobalRNG(XavierAffine):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = self._bound(fan_in, fan_out)
        return ((2.0 * np.random.random((fan_in, fan_out)) - 1.0) * a).astype(dtype)


class XavierFixedSeed(XavierAffine):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return super().__call__(fan_in, fan_out, np.random.default_rng(0), dtype)


class XavierIgnoresDtype(XavierAffine):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = self._bound(fan_in, fan_out)
        return (2.0 * rng.random((fan_in, fan_out)) - 1.0) * a   # always float64


class XavierBoundsFromFanOut(XavierColumns):
    def bounds(self, fan_in, fan_out):
        a = fan_out ** -0.5
        return (-a, a)

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = fan_in ** -0.5   # draws right, reports the wrong interval
        w = np.empty((fan_in, fan_out), dtype=np.float64)
        for j in range(fan_out):
            w[:, j] = rng.uniform(-a, a, size=fan_in)
        return _inward(w, dtype, -a, a)


class NormalizedXavierSqrt3(NormalizedXavierVariance):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = math.sqrt(3.0) / math.sqrt(fan_in + fan_out)
        return np.ascontiguousarray(rng.uniform(-a, a, size=(fan_out, fan_in)).T).astype(dtype)


class NormalizedXavierOneFan(NormalizedXavierVariance):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = math.sqrt(6.0) / math.sqrt(2 * fan_in)
        return np.ascontiguousarray(rng.uniform(-a, a, size=(fan_out, fan_in)).T).astype(dtype)


class HeNormalNoGain(KaimingNormal):
    def _std(self, fan_in, fan_out):
        return math.sqrt(1.0 / _fan(self.mode, fan_in, fan_out))


class HeUniformModeIgnored(HeUniform):
    def _scale(self, fan_in, fan_out):
        return _gain(self.nonlinearity, self.param) * math.sqrt(3.0) / math.sqrt(fan_in)


class HeUniformParamIgnored(HeUniform):
    def _scale(self, fan_in, fan_out):
        return _gain(self.nonlinearity, None) * math.sqrt(3.0) / math.sqrt(_fan(self.mode, fan_in, fan_out))


class GlorotNormalAsUniform(GlorotNormalRows):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = math.sqrt(3.0 * 2.0 / (fan_in + fan_out))   # same variance, uniform law
        return rng.uniform(-a, a, size=(fan_in, fan_out)).astype(dtype)


class NormalIgnoresStd(NormalLocScale):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        dtype = np.dtype(dtype)
        z = rng.standard_normal((fan_in, fan_out), dtype=dtype)
        return dtype.type(self.mean) + dtype.type(0.05) * z


class TruncatedNormalIgnoresMean(TruncatedNormalRejectionColumns):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        w = np.empty((fan_in, fan_out))
        for j in range(fan_out):
            w[:, j] = self.std * self._column(fan_in, rng)
        return w.astype(dtype)


class TruncatedNormalClipped(TruncatedNormalRejectionColumns):
    def _column(self, n, rng):
        return np.clip(rng.standard_normal(n), self.a, self.b)   # point masses at the cut-offs


class OrthogonalReshapeWide(OrthogonalQR):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if fan_in >= fan_out:
            q = self._q(fan_in, fan_out, rng)
        else:
            q = self._q(fan_out, fan_in, rng).reshape(fan_in, fan_out)   # reshape, not .T
        return np.ascontiguousarray(q * self.gain).astype(dtype)


class OrthogonalGainIgnored(OrthogonalQR):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if fan_in >= fan_out:
            q = self._q(fan_in, fan_out, rng)
        else:
            q = self._q(fan_out, fan_in, rng).T
        return np.ascontiguousarray(q).astype(dtype)


class OrthogonalNoSignFix(OrthogonalQR):
    def _q(self, rows, cols, rng):
        q, _ = np.linalg.qr(rng.standard_normal((rows, cols)))   # no diag(sign R_ii): not Haar
        return q


class HeNormalTruncatedKeras(KaimingNormal):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        # Keras' HeNormal: truncated at +-2 sigma, sigma = std / 0.8796 -- not he_normal here
        sigma = self._std(fan_in, fan_out) / _TRUNC_STD
        z = rng.standard_normal(fan_in * fan_out)
        bad = np.flatnonzero(np.abs(z) > 2.0)
        while bad.size:
            z[bad] = rng.standard_normal(bad.size)
            bad = bad[np.abs(z[bad]) > 2.0]
        return (sigma * z).reshape(fan_in, fan_out).astype(dtype)


class VarianceScalingFanAvgSum(VarianceScaling):
    def _var(self, fan_in, fan_out):
        f = fan_in + fan_out if self.mode == "fan_avg" else _fan(self.mode, fan_in, fan_out)
        return self.scale / f   # fan_avg not halved


class UniformSymmetricHigh(UniformAffine):
    def bounds(self, fan_in, fan_out):
        return (-float(self.high), float(self.high))   # low ignored


class VarianceScalingTruncUncorrected(VarianceScaling):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if self.distribution != "truncated_normal":
            return super().__call__(fan_in, fan_out, rng, dtype)
        sigma = math.sqrt(self._var(fan_in, fan_out))   # std before truncation = target std
        z = rng.standard_normal(fan_in * fan_out)
        bad = np.flatnonzero(np.abs(z) > 2.0)
        while bad.size:
            z[bad] = rng.standard_normal(bad.size)
            bad = bad[np.abs(z[bad]) > 2.0]
        return (sigma * z).reshape(fan_in, fan_out).astype(dtype)


class ZerosBroadcast(ZerosFilled):
    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.broadcast_to(np.zeros(1, dtype=dtype), (fan_in, fan_out))   # read-only view


SEEDED = ("seeded",)
SEEDED_BOUND = ("seeded", "uniform_bound")
DETERMINISTIC = ("deterministic_values",)

CORRECT: list[Case] = [
    Case("xavier_affine_random", XavierAffine(), implements=("xavier",), properties=SEEDED,
         form="(2u-1)/sqrt(n), u = rng.random, float64 then cast (round to nearest); no bounds()"),
    Case("xavier_columns_bounds", XavierColumns(), implements=("xavier",), properties=SEEDED_BOUND,
         form="rng.uniform(-a, a) one column at a time, a = n**-0.5, inward cast, bounds() and target_density()"),
    Case("glorot_uniform_native_dtype", GlorotUniformNative(), implements=("glorot_uniform",),
         properties=SEEDED_BOUND,
         form="alias claimed; rng.random(dtype=float32) for float32, a' = largest float32 <= sqrt(6/(n+m))"),
    Case("normalized_xavier_variance", NormalizedXavierVariance(), implements=("normalized_xavier",),
         properties=SEEDED, form="a = sqrt(3 * 2/(n+m)); drawn on the transposed shape; no bounds()"),
    Case("he_uniform_bounds", HeUniform(), implements=("he_uniform",), properties=SEEDED_BOUND,
         form="sqrt(3) g / sqrt(f) with its own gain table; inward cast; bounds()"),
    Case("kaiming_uniform_fan_out_leaky", HeUniform(mode="fan_out", nonlinearity="leaky_relu", param=0.2),
         implements=("kaiming_uniform",), properties=SEEDED_BOUND,
         form="alias claimed, built with mode=fan_out, leaky_relu, param=0.2"),
    Case("kaiming_normal_transposed", KaimingNormal(), implements=("kaiming_normal",), properties=SEEDED,
         form="standard_normal((m, n)).T * g/sqrt(f); alias claimed; no validation of parameters"),
    Case("he_normal_tanh_fan_out", KaimingNormal(mode="fan_out", nonlinearity="tanh"), implements=("he_normal",),
         properties=SEEDED, form="he_normal built with mode=fan_out, nonlinearity=tanh (g = 5/3)"),
    Case("lecun_uniform_reflected", LecunUniform(), implements=("lecun_uniform",), properties=SEEDED_BOUND,
         form="a - 2a u, a = sqrt(3)/sqrt(n), clipped then inward cast"),
    Case("lecun_normal_rng_normal", LecunNormal(), implements=("lecun_normal",), properties=SEEDED,
         form="rng.normal(0, 1/sqrt(n)) in float64, cast"),
    Case("glorot_normal_rows_native", GlorotNormalRows(), implements=("glorot_normal",), properties=SEEDED,
         form="row by row, standard_normal drawn natively in the requested dtype (float32 ziggurat)"),
    Case("truncated_normal_inverse_cdf", TruncatedNormalInverseCDF(), implements=("truncated_normal",),
         properties=SEEDED, form="inverse CDF (statistics.NormalDist) of U[Phi(a), Phi(b)] instead of rejection"),
    Case("truncated_normal_rejection_columns", TruncatedNormalRejectionColumns(mean=0.5, std=2.0, a=-1.0, b=3.0),
         implements=("truncated_normal",), properties=SEEDED,
         form="rejection column by column; asymmetric cut-offs, non-zero mean; target_density()"),
    Case("orthogonal_polar_svd", OrthogonalPolar(), implements=("orthogonal",), properties=SEEDED,
         form="polar factor U V^T of a Gaussian matrix (SVD) instead of QR: also Haar"),
    Case("orthogonal_qr_sign_gain2", OrthogonalQR(gain=2.0), implements=("orthogonal",), properties=SEEDED,
         form="QR of the tall Gaussian with sign fix, transposed for n < m; gain 2"),
    Case("constant_full", ConstantFull(value=0.25), implements=("constant",), properties=DETERMINISTIC,
         form="np.full in the dtype; target_density()"),
    Case("zeros_filled", ZerosFilled(), implements=("zeros",), properties=DETERMINISTIC,
         form="np.empty then fill(0)"),
    Case("ones_added", OnesAdded(), implements=("ones",), properties=DETERMINISTIC, form="zeros, += 1"),
    Case("uniform_affine", UniformAffine(low=-0.3, high=0.1), implements=("uniform",), properties=SEEDED_BOUND,
         form="low + (high-low) u, clipped, inward cast; asymmetric interval"),
    Case("normal_loc_scale_native", NormalLocScale(mean=0.1, std=0.5), implements=("normal",), properties=SEEDED,
         form="mean + std * standard_normal drawn natively in the dtype"),
    Case("variance_scaling_truncated", VarianceScaling(), implements=("variance_scaling",), properties=SEEDED,
         form="rejection of the flat indices still outside +-2, sigma = sqrt(s/f)/0.8796..."),
    Case("variance_scaling_uniform_fan_avg", VarianceScaling(scale=2.0, mode="fan_avg", distribution="uniform"),
         implements=("variance_scaling",), properties=SEEDED, form="uniform, a = sqrt(3 s / ((n+m)/2))"),
]

MUTANTS: list[Case] = [
    Case("xavier_fan_out", XavierFanOut(), implements=("xavier",), properties=SEEDED,
         breaks="xavier: w ~ U[-1/sqrt(n), 1/sqrt(n)] with n the number of inputs (fan_in); uses fan_out"),
    Case("xavier_two_percent_wide", XavierTwoPercentWide(), implements=("xavier",), properties=SEEDED,
         breaks="xavier: |w| <= 1/sqrt(n); the bound is 2 % too wide"),
    Case("xavier_normal_same_variance", XavierNormalSameVariance(), implements=("xavier",), properties=SEEDED,
         breaks="xavier weights are uniformly distributed on [-a, a]; a normal of variance 1/(3n) is drawn"),
    Case("xavier_global_rng", XavierGlobalRNG(), implements=("xavier",), properties=SEEDED,
         breaks="an initializer takes all its randomness from the generator it is given (INIT-NO-GLOBAL-RNG)"),
    Case("xavier_fixed_seed", XavierFixedSeed(), implements=("xavier",), properties=SEEDED,
         breaks="weights are random: different seeds give different weights (ignores rng, default_rng(0))"),
    Case("xavier_ignores_dtype", XavierIgnoresDtype(), implements=("xavier",), properties=SEEDED,
         breaks="returns a (fan_in, fan_out) array of dtype (float32 in, float32 out); always float64"),
    Case("xavier_bounds_from_fan_out", XavierBoundsFromFanOut(), implements=("xavier",), properties=SEEDED_BOUND,
         breaks="uniform_bound: low <= W_ij <= high for (low, high) = bounds(fan_in, fan_out); bounds() uses fan_out"),
    Case("normalized_xavier_sqrt3", NormalizedXavierSqrt3(), implements=("normalized_xavier",), properties=SEEDED,
         breaks="normalized xavier: a = sqrt(6)/sqrt(n+m); uses sqrt(3)"),
    Case("normalized_xavier_one_fan", NormalizedXavierOneFan(), implements=("glorot_uniform",), properties=SEEDED,
         breaks="normalized xavier uses n + m (m = outputs of the layer); uses 2n"),
    Case("he_normal_no_gain", HeNormalNoGain(), implements=("he_normal",), properties=SEEDED,
         breaks="he_normal: N(0, g^2/f), variance 2/n for relu; std sqrt(1/n) (gain dropped)"),
    Case("he_uniform_mode_ignored", HeUniformModeIgnored(mode="fan_out"), implements=("he_uniform",),
         properties=SEEDED_BOUND, breaks="he_uniform: f is fan_in or fan_out according to mode; mode ignored"),
    Case("he_uniform_param_ignored", HeUniformParamIgnored(nonlinearity="leaky_relu", param=0.5),
         implements=("he_uniform",), properties=SEEDED_BOUND,
         breaks="g = calculate_gain(nonlinearity, param), param the leaky_relu slope; param ignored (0.01 used)"),
    Case("glorot_normal_as_uniform", GlorotNormalAsUniform(), implements=("glorot_normal",), properties=SEEDED,
         breaks="glorot_normal: W ~ N(0, 2/(n+m)); a uniform of the same variance is drawn"),
    Case("normal_ignores_std", NormalIgnoresStd(std=0.5), implements=("normal",), properties=SEEDED,
         breaks="normal: W ~ N(mu, sigma^2) with sigma = std; std ignored (0.05 used)"),
    Case("truncated_normal_ignores_mean", TruncatedNormalIgnoresMean(mean=1.0), implements=("truncated_normal",),
         properties=SEEDED, breaks="truncated_normal: W = mu + sigma z; mean ignored"),
    Case("truncated_normal_clipped", TruncatedNormalClipped(), implements=("truncated_normal",), properties=SEEDED,
         breaks="truncated_normal: draws outside are redrawn (conditioned normal); clipping puts mass on the cut-offs"),
    Case("orthogonal_reshape_wide", OrthogonalReshapeWide(), implements=("orthogonal",), properties=SEEDED,
         breaks="orthogonal: W W^T = g^2 I when n < m; the tall Q is reshaped instead of transposed"),
    Case("orthogonal_gain_ignored", OrthogonalGainIgnored(gain=2.0), implements=("orthogonal",), properties=SEEDED,
         breaks="orthogonal: W^T W = g^2 I (gain times an orthogonal matrix); gain ignored"),
    Case("orthogonal_no_sign_fix", OrthogonalNoSignFix(), implements=("orthogonal",), properties=SEEDED,
         breaks="orthogonal: the columns of Q are multiplied by sign(R_ii) so that Q is Haar-distributed; "
                "without it W[0, 0] is always negative"),
    Case("he_normal_truncated_keras", HeNormalTruncatedKeras(), implements=("he_normal",), properties=SEEDED,
         breaks="he_normal is PyTorch's kaiming_normal_, a plain normal N(0, g^2/f), not truncated (Keras' HeNormal)"),
    Case("variance_scaling_fan_avg_sum", VarianceScalingFanAvgSum(mode="fan_avg", distribution="normal"),
         implements=("variance_scaling",), properties=SEEDED,
         breaks="variance_scaling: f is the average (fan_in + fan_out)/2 for mode fan_avg; uses the sum"),
    Case("uniform_ignores_low", UniformSymmetricHigh(low=-0.3, high=0.1), implements=("uniform",),
         properties=SEEDED_BOUND, breaks="uniform: W ~ U[low, high]; draws U[-high, high]"),
    Case("variance_scaling_trunc_uncorrected", VarianceScalingTruncUncorrected(), implements=("variance_scaling",),
         properties=SEEDED, breaks="variance_scaling truncated_normal: sigma = sqrt(s/f)/0.8796 so the truncated "
                                   "values have variance s/f; sigma not corrected (variance 0.77 s/f)"),
    Case("zeros_broadcast_readonly", ZerosBroadcast(), implements=("zeros",), properties=DETERMINISTIC,
         breaks="returns a writable numpy array, new on every call (no np.broadcast_to)"),
]
