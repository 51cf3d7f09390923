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


XB, XU = "INIT-XAVIER-BOUND", "INIT-XAVIER-UNIFORM"
NB, NU = "INIT-NXAVIER-BOUND", "INIT-NXAVIER-UNIFORM"

MUTANTS = [
    Mutant("xavier_sqrt_n_plus_m", XavierSumOfFans(), {XB, XU}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)",
           notes="1/sqrt(n+m) is half of 1/sqrt(n) at 64x256: max|w| never reaches the bound, variance 1/5"),
    Mutant("xavier_fan_out", XavierFanOut(), {XB, XU}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)"),
    Mutant("xavier_5pct_wide", XavierWide(1.05), {XB, XU}, implements=("xavier",), exact=True,
           fix_hint="a = 1/sqrt(fan_in)",
           notes="5 % too wide: also 10 % too much variance, beyond Hoeffding's 6.5 %"),
    Mutant("xavier_1pct_wide", XavierWide(1.01), {XB}, implements=("xavier",),
           fix_hint="every |w| must be <= a",
           notes="only the support test sees a 1 % error; KS and the variance do not"),
    Mutant("xavier_clipped_normal", XavierClippedNormal(), {XU}, implements=("xavier",),
           fix_hint="not a normal or another shape",
           notes="right support and right variance: only the KS part of the check sees it"),
    Mutant("xavier_nonnegative", XavierNonNegative(), {XU}, implements=("xavier",),
           fix_hint="not uniform on [-a, a]"),
    Mutant("nxavier_sqrt3", NXavierSqrt3(), {NB, NU}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_two_fan_in", NXavierTwoFanIn(), {NB, NU}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_1pct_narrow", NXavierNarrow(), {NB}, implements=("normalized_xavier",),
           fix_hint="the support is narrower than [-a, a]"),
    Mutant("nxavier_normal", NXavierNormal(), {NB, NU}, implements=("normalized_xavier",),
           fix_hint="a = sqrt(6)/sqrt(fan_in + fan_out)"),
    Mutant("nxavier_clipped_normal", NXavierClippedNormal(), {NU}, implements=("normalized_xavier",),
           fix_hint="not a normal or another shape"),
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
