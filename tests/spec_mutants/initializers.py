"""Deliberately wrong initializers (see ``spec_mutants/__init__.py``).

Each is a small, plausible bug: a wrong bound formula, the wrong distribution, a
seed that is ignored, numpy's global random state, a wrong shape or dtype, ...
"""

from __future__ import annotations

import math

import numpy as np
from neuroplug.base import Initializer

from . import Mutant


def _clipped_normal_scale() -> float:
    """s such that N(0, (s a)^2) clipped to [-a, a] has variance a^2/3, the uniform's."""

    def variance(s: float) -> float:  # E[min(Z^2 s^2, 1)] for Z ~ N(0, 1)
        c = 1 / s
        inside = math.erf(c / math.sqrt(2))
        pdf = math.exp(-c * c / 2) / math.sqrt(2 * math.pi)
        return s * s * (inside - 2 * c * pdf) + (1 - inside)

    lo, hi = 0.1, 2.0
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if variance(mid) < 1 / 3 else (lo, mid)
    return (lo + hi) / 2


_CLIP_SCALE = _clipped_normal_scale()


class _Scaled(Initializer):
    """U[-a, a] with a bound from ``bound(n, m)``; the subclasses get the bound wrong."""

    def bound(self, n, m):
        raise NotImplementedError

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = self.bound(fan_in, fan_out)
        return rng.uniform(-a, a, (fan_in, fan_out)).astype(dtype)


class XavierSumOfFans(_Scaled):
    """xavier with 1/sqrt(n + m): the normalized rule's denominator in the plain rule."""

    def bound(self, n, m):
        return 1 / math.sqrt(n + m)


class XavierFanOut(_Scaled):
    """xavier with n = fan_out (the dimensions mixed up)."""

    def bound(self, n, m):
        return 1 / math.sqrt(m)


class XavierWide(_Scaled):
    """xavier with a bound ``factor`` times too wide."""

    def __init__(self, factor: float = 1.05):
        self.factor = factor

    def bound(self, n, m):
        return self.factor / math.sqrt(n)


class XavierClippedNormal(Initializer):
    """xavier drawn from a normal of the right variance 1/(3n), clipped to the bound."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = 1 / math.sqrt(fan_in)
        w = rng.normal(0.0, _CLIP_SCALE * a, (fan_in, fan_out))
        return np.clip(w, -a, a).astype(dtype)


class XavierNonNegative(Initializer):
    """xavier drawn from U[0, a]: the same bound and variance, but never negative."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = 1 / math.sqrt(fan_in)
        return rng.uniform(0.0, a, (fan_in, fan_out)).astype(dtype)


class NXavierSqrt3(_Scaled):
    """normalized xavier with sqrt(3) for sqrt(6)."""

    def bound(self, n, m):
        return math.sqrt(3) / math.sqrt(n + m)


class NXavierTwoFanIn(_Scaled):
    """normalized xavier with 2n for n + m (fan_out ignored)."""

    def bound(self, n, m):
        return math.sqrt(6) / math.sqrt(2 * n)


class NXavierNarrow(_Scaled):
    """normalized xavier with a bound 1 % too narrow."""

    def bound(self, n, m):
        return 0.99 * math.sqrt(6) / math.sqrt(n + m)


class NXavierNormal(Initializer):
    """normalized xavier drawn from N(0, 2/(n+m)) (Glorot *normal* under the uniform's name)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(0.0, math.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out)).astype(dtype)


class NXavierClippedNormal(Initializer):
    """normalized xavier from a normal clipped to the bound, with the variance 2/(n+m)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = math.sqrt(6) / math.sqrt(fan_in + fan_out)
        w = rng.normal(0.0, _CLIP_SCALE * a, (fan_in, fan_out))
        return np.clip(w, -a, a).astype(dtype)


class FixedSeed(Initializer):
    """Ignores its rng: draws from a fixed default_rng(0)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.random.default_rng(0).uniform(-0.1, 0.1, (fan_in, fan_out)).astype(dtype)


class Unseeded(Initializer):
    """Ignores its rng: draws from a new default_rng() seeded by the OS."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.random.default_rng().uniform(-0.1, 0.1, (fan_in, fan_out)).astype(dtype)


class GlobalState(Initializer):
    """Uses numpy's global random state (np.random.uniform) instead of rng."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.random.uniform(-0.1, 0.1, (fan_in, fan_out)).astype(dtype)


class AlwaysFloat64(Initializer):
    """Ignores dtype: always float64."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.uniform(-0.1, 0.1, (fan_in, fan_out))


class Transposed(Initializer):
    """Returns the (fan_out, fan_in) layout."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.uniform(-0.1, 0.1, (fan_out, fan_in)).astype(dtype)


class SampleStd(Initializer):
    """Scale 1/(fan_in - 1) (a sample-variance correction): infinite for bias vectors (fan_in = 1)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.float64(1.0) / np.float64(fan_in - 1)
            return (rng.uniform(-1, 1, (fan_in, fan_out)) * scale).astype(dtype)


class ReadOnlyConstant(Initializer):
    """A constant as a read-only broadcast view: the layer cannot update it in place."""

    def __init__(self, value: float = 0.5):
        self.value = value

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.broadcast_to(np.asarray(self.value, dtype=dtype), (fan_in, fan_out))


class ForgetfulConfig(Initializer):
    """U[-scale, scale], but get_config() forgets ``scale``."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def get_config(self):
        return {}

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.uniform(-self.scale, self.scale, (fan_in, fan_out)).astype(dtype)


# --------------------------------------------------- formula mutants (INIT-FORMULA, any claimed formula)
_HE_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2), "selu": 0.75}


def _he_gain(nonlinearity, param):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2 / (1 + slope * slope))
    return _HE_GAINS[nonlinearity]


class _HeBase(Initializer):
    """He/Kaiming parameters stored as attributes (so get_config() and drawn configs work)."""

    def __init__(self, mode="fan_in", nonlinearity="relu", param=None):
        self.mode, self.nonlinearity, self.param = mode, nonlinearity, param

    def fan(self, n, m):
        return n if self.mode == "fan_in" else m


class HeNormalNoGain(_HeBase):
    """he_normal with std sqrt(1/f): the gain (sqrt(2) for relu) forgotten."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(0.0, math.sqrt(1 / self.fan(fan_in, fan_out)), (fan_in, fan_out)).astype(dtype)


class HeUniformAsNormal(_HeBase):
    """he_uniform drawn from a normal of the right variance g^2/f (the uniform's shape lost)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        std = _he_gain(self.nonlinearity, self.param) / math.sqrt(self.fan(fan_in, fan_out))
        return rng.normal(0.0, std, (fan_in, fan_out)).astype(dtype)


class HeNormalIgnoresMode(_HeBase):
    """he_normal that always uses fan_in, whatever ``mode`` says."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        std = _he_gain(self.nonlinearity, self.param) / math.sqrt(fan_in)
        return rng.normal(0.0, std, (fan_in, fan_out)).astype(dtype)


class LecunUniformWide(Initializer):
    """lecun_uniform with a bound 2 % too wide: U[-1.02 sqrt(3/n), 1.02 sqrt(3/n)]."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        a = 1.02 * math.sqrt(3 / fan_in)
        return rng.uniform(-a, a, (fan_in, fan_out)).astype(dtype)


class GlorotNormalHalfVariance(Initializer):
    """glorot_normal with variance 1/(n+m) for 2/(n+m)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(0.0, math.sqrt(1 / (fan_in + fan_out)), (fan_in, fan_out)).astype(dtype)


class NormalIgnoresMean(Initializer):
    """normal that ignores ``mean`` (always centred at 0): right with the default mean=0 only."""

    def __init__(self, mean=0.0, std=0.05):
        self.mean, self.std = mean, std

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(0.0, self.std, (fan_in, fan_out)).astype(dtype)


class NormalIgnoresStd(Initializer):
    """normal that always uses std=0.05 (the default), whatever ``std`` says."""

    def __init__(self, mean=0.0, std=0.05):
        self.mean, self.std = mean, std

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.normal(self.mean, 0.05, (fan_in, fan_out)).astype(dtype)


class VarianceScalingIgnoresScale(Initializer):
    """variance_scaling with variance 1/f: ``scale`` ignored (right for the default scale=1 only)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal"):
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        f = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        std = math.sqrt(1.0 / f)
        if self.distribution == "uniform":
            return rng.uniform(-math.sqrt(3) * std, math.sqrt(3) * std, (fan_in, fan_out)).astype(dtype)
        if self.distribution == "normal":
            return rng.normal(0.0, std, (fan_in, fan_out)).astype(dtype)
        sigma = std / 0.87962566103423978
        w = rng.normal(0.0, sigma, (fan_in, fan_out))
        bad = np.abs(w) > 2 * sigma
        while bad.any():
            w[bad] = rng.normal(0.0, sigma, int(bad.sum()))
            bad = np.abs(w) > 2 * sigma
        return w.astype(dtype)


class UniformSymmetric(Initializer):
    """uniform on [-high, high] (``low`` ignored): right for the default symmetric interval only."""

    def __init__(self, low=-0.05, high=0.05):
        self.low, self.high = low, high

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return rng.uniform(-self.high, self.high, (fan_in, fan_out)).astype(dtype)


class ConstantIgnoresValue(Initializer):
    """constant that always returns zeros: right for the default value=0 only."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        return np.zeros((fan_in, fan_out), dtype=dtype)


class TruncatedAbsolute(Initializer):
    """truncated_normal cut at [a, b] absolute instead of [mean + a std, mean + b std]."""

    def __init__(self, mean=0.0, std=0.05, a=-2.0, b=2.0):
        self.mean, self.std, self.a, self.b = mean, std, a, b

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        w = rng.normal(self.mean, self.std, (fan_in, fan_out))
        bad = (w < self.a) | (w > self.b)
        while bad.any():
            w[bad] = rng.normal(self.mean, self.std, int(bad.sum()))
            bad = (w < self.a) | (w > self.b)
        return w.astype(dtype)


class VarianceScalingUncorrectedTruncation(Initializer):
    """variance_scaling whose truncated normal uses sigma = sqrt(s/f) (not / 0.8796): variance 0.77 s/f."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        f = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        std = math.sqrt(self.scale / f)
        if self.distribution == "uniform":
            a = math.sqrt(3) * std
            return rng.uniform(-a, a, (fan_in, fan_out)).astype(dtype)
        if self.distribution == "normal":
            return rng.normal(0.0, std, (fan_in, fan_out)).astype(dtype)
        w = rng.standard_normal((fan_in, fan_out))
        bad = np.abs(w) > 2
        while bad.any():
            w[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(w) > 2
        return (std * w).astype(dtype)


class _OrthogonalBase(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    @staticmethod
    def haar(rows, cols, rng):
        q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
        return q * np.where(np.diag(r) < 0, -1.0, 1.0)


class OrthogonalNoGain(_OrthogonalBase):
    """orthogonal that forgets to multiply by ``gain``: right for the default gain=1 only."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if fan_in >= fan_out:
            return self.haar(fan_in, fan_out, rng).astype(dtype)
        return self.haar(fan_out, fan_in, rng).T.astype(dtype)


class OrthogonalWideRowsNormalized(_OrthogonalBase):
    """orthogonal when fan_in >= fan_out; for fan_in < fan_out only normalizes the rows (not orthogonal)."""

    def __call__(self, fan_in, fan_out, rng, dtype=np.float32):
        if fan_in >= fan_out:
            return (self.gain * self.haar(fan_in, fan_out, rng)).astype(dtype)
        a = rng.standard_normal((fan_in, fan_out))
        return (self.gain * a / np.linalg.norm(a, axis=1, keepdims=True)).astype(dtype)


XB, XU = "INIT-XAVIER-BOUND", "INIT-XAVIER-UNIFORM"
NB, NU = "INIT-NXAVIER-BOUND", "INIT-NXAVIER-UNIFORM"
F = "INIT-FORMULA"

MUTANTS = [
    Mutant("xavier_sqrt_n_plus_m", XavierSumOfFans(), {XB, XU, F}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)",
           notes="1/sqrt(n+m) is half of 1/sqrt(n) at 64x256: max|w| never reaches the bound, variance 1/5"),
    Mutant("xavier_fan_out", XavierFanOut(), {XB, XU, F}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)"),
    Mutant("xavier_5pct_wide", XavierWide(1.05), {XB, XU, F}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)",
           notes="5 % too wide: also 10 % too much variance, beyond Hoeffding's 6.5 %"),
    Mutant("xavier_1pct_wide", XavierWide(1.01), {XB, F}, implements=("xavier",),
           fix_hint="a = 1/sqrt(fan_in)",
           notes="only the support tests see a 1 % error; KS and the variance do not"),
    Mutant("xavier_clipped_normal", XavierClippedNormal(), {XU, F}, implements=("xavier",),
           fix_hint="not a normal or another shape",
           notes="right support and right variance: only the KS part of the check sees it"),
    Mutant("xavier_nonnegative", XavierNonNegative(), {XU, F}, implements=("xavier",),
           fix_hint="a = 1/sqrt(fan_in)"),
    Mutant("nxavier_sqrt3", NXavierSqrt3(), {NB, NU, F}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_two_fan_in", NXavierTwoFanIn(), {NB, NU, F}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_1pct_narrow", NXavierNarrow(), {NB, F}, implements=("normalized_xavier",),
           fix_hint="the support is narrower than"),
    Mutant("nxavier_normal", NXavierNormal(), {NB, NU, F}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_clipped_normal", NXavierClippedNormal(), {NU, F}, implements=("normalized_xavier",),
           fix_hint="not a normal or another shape"),
    # INIT-FORMULA: one single fault per formula family, each caught for the claimed formula
    Mutant("he_normal_no_gain", HeNormalNoGain(), {F}, implements=("he_normal",),
           fix_hint="N(0, 0.176776695^2) for this shape",
           notes="std sqrt(1/n) for sqrt(2/n): the KS distance is already 0.08; the variance test sees it too"),
    Mutant("he_uniform_drawn_normal", HeUniformAsNormal(), {F}, implements=("he_uniform",),
           fix_hint="a weight lies outside the support",
           notes="a normal of the uniform's variance: weights beyond g sqrt(3/f) (and KS 0.057)"),
    Mutant("he_normal_ignores_mode", HeNormalIgnoresMode(), {F}, implements=("he_normal",),
           fix_hint="mode='fan_out'", notes="right for the default mode=fan_in; the formula's example uses fan_out"),
    Mutant("lecun_uniform_2pct_wide", LecunUniformWide(), {F}, implements=("lecun_uniform",),
           fix_hint="a weight lies outside the support"),
    Mutant("glorot_normal_half_variance", GlorotNormalHalfVariance(), {F}, implements=("glorot_normal",),
           fix_hint="do not follow the formula's distribution"),
    Mutant("normal_ignores_mean", NormalIgnoresMean(), {F}, implements=("normal",), fix_hint="mean=0.5",
           notes="right for the default mean=0 only: caught with the formula's example config"),
    Mutant("normal_ignores_std", NormalIgnoresStd(), {F}, implements=("normal",), fix_hint="std=0.1",
           notes="right for the default std only: caught with the formula's example and the drawn configs"),
    Mutant("variance_scaling_ignores_scale", VarianceScalingIgnoresScale(), {F}, implements=("variance_scaling",),
           fix_hint="scale=2.0", notes="right for the default scale=1 only"),
    Mutant("uniform_ignores_low", UniformSymmetric(), {F}, implements=("uniform",), fix_hint="low=0.5, high=2.0",
           notes="draws from [-high, high]: right for the default symmetric interval only"),
    Mutant("constant_ignores_value", ConstantIgnoresValue(), {F}, implements=("constant",),
           properties=("deterministic_values",), fix_hint="every weight must equal 0.1"),
    Mutant("truncated_normal_cut_absolute", TruncatedAbsolute(), {F}, implements=("truncated_normal",),
           fix_hint="truncation points",
           notes="cuts at [a, b] instead of [mean + a std, mean + b std]: at std=0.05 it does not truncate"),
    Mutant("variance_scaling_truncation_uncorrected", VarianceScalingUncorrectedTruncation(), {F},
           implements=("variance_scaling",), fix_hint="the support is narrower than",
           notes="truncated normal with sigma = sqrt(s/f), not sqrt(s/f)/0.8796: cut at 2 sqrt(s/f), variance "
                 "0.77 s/f"),
    Mutant("orthogonal_ignores_gain", OrthogonalNoGain(), {F}, implements=("orthogonal",),
           fix_hint="then multiply by gain", notes="right for the default gain=1; the formula's example is gain=2"),
    Mutant("orthogonal_wide_rows_only_normalized", OrthogonalWideRowsNormalized(), {F}, implements=("orthogonal",),
           fix_hint="W W^T must be gain^2 I",
           notes="correct when fan_in >= fan_out; for fan_in < fan_out the rows are unit vectors, not orthogonal"),
    Mutant("ignores_seed", FixedSeed(), {"INIT-SEED-SENSITIVE"}, fix_hint="ignores its rng argument"),
    Mutant("unseeded", Unseeded(), {"INIT-SEED-REPRODUCIBLE"}, fix_hint="draw all randomness from the rng"),
    Mutant("global_random_state", GlobalState(), {"INIT-NO-GLOBAL-RNG", "INIT-SEED-SENSITIVE"},
           fix_hint="rng argument",
           notes="with the global state held fixed it also returns the same weights for every rng"),
    Mutant("always_float64", AlwaysFloat64(), {"INIT-SHAPE-DTYPE"}, fix_hint="cast with .astype(dtype)"),
    Mutant("transposed", Transposed(), {"INIT-SHAPE-DTYPE"}, fix_hint="order of the dimensions"),
    Mutant("infinite_for_biases", SampleStd(), {"INIT-FINITE"}, fix_hint="fan_in = 1 is used for biases"),
    Mutant("read_only_constant", ReadOnlyConstant(), {"INIT-INTERFACE"}, properties=("deterministic_values",),
           fix_hint="writable array"),
    Mutant("init_config_forgets_scale", ForgetfulConfig(scale=0.3), {"INIT-CONFIG-ROUNDTRIP"},
           fix_hint="get_config() must return every constructor parameter"),
]
