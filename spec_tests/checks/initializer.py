r"""Spec checks: initializers.

An initializer is called as ``init(fan_in, fan_out, rng, dtype)`` and returns a new
``(fan_in, fan_out)`` array of ``dtype`` whose randomness comes only from the
``numpy.random.Generator`` ``rng``.

*Contract* checks (every initializer): interface, shape and dtype, finite values,
no use of numpy's global random state, reproducibility from a seed, sensitivity
to the seed (the notes' "random initialization"), config round trip.

*Formula* checks: ``INIT-FORMULA`` for every formula of the vocabulary a component
claims (``implements=``; the law of each is in :mod:`neuroplug.spec.references.initializers`),
over the component's own config, the formula's and the registration's example
configs and configs drawn from the parameters' ranges; and, kept for the notes'
two formulas, the support :math:`[-a, a]` and the uniform shape of the distribution,
with :math:`a = 1/\sqrt n` (xavier) or :math:`a = \sqrt6/\sqrt{n+m}` (normalized
xavier), :math:`n` = fan_in, :math:`m` = fan_out.

Configs: the contract checks whose outcome depends on the parameters (shape and
dtype, finiteness, reproducibility, seed sensitivity, config round trip) run over
``subject.configs()`` -- the own config, the declared ``example_configs`` and configs
drawn from the declared ``parameter_space``; a drawn config the constructor rejects
(``ValueError``/``TypeError``) is skipped.

Rounding
--------
A correct initializer may draw in float64 and round once to the dtype, or compute
its bound or scale in the dtype itself (``np.float32(1) / np.sqrt(np.float32(n))``).
Each step rounds by at most half an ulp, so a weight may lie a few ulps beyond the
float64 bound: every bound comparison allows :data:`ROUND_ULPS` ulps of the dtype,
:math:`r = 4\,\epsilon_{dtype} \max(|\mathrm{low}|, |\mathrm{high}|)`, which is
:math:`4.8\cdot10^{-7}` relative in float32 and :math:`8.9\cdot10^{-16}` in float64 --
orders of magnitude below any error of a formula (a constant, a fan, a factor).

Statistics
----------
The statistical checks draw from generators with fixed seeds (``subject.rng``), but
a correct third-party initializer may consume the stream differently, so each
check is designed so that a *correct* initializer fails it with probability below
1e-6, by distribution-free bounds:

* support: every :math:`|w| \le a + r` (never fails a correct initializer) and
  :math:`\max|w| \ge (1-\delta)a - r` with :math:`N \ge 16384` draws, :math:`\delta = 0.002`:
  :math:`P(\text{fail}) = (1-\delta)^N \le 0.998^{16384} \approx 5.7\cdot10^{-15}` per sample
  (INIT-FORMULA: the band next to each end holding a fraction :math:`q = \ln(1/p)/N` of
  the law's mass, :math:`P = (1-q)^N \le p`);
* shape: the Kolmogorov-Smirnov distance :math:`D_N` to the law (:math:`U[-a, a]`, a
  normal, a truncated normal), with the Dvoretzky-Kiefer-Wolfowitz inequality
  :math:`P(D_N > d) \le 2e^{-2Nd^2}`;
* moments: Hoeffding's inequality for bounded values (the mean of :math:`u = w^2/a^2 \in [0, 1]`,
  :math:`P(|\bar u - 1/3| \ge t) \le 2e^{-2Nt^2}`); for normal laws the exact normal tail of
  the sample mean and the Laurent-Massart bounds of :math:`\chi^2_N` for
  :math:`\sum (w-\mu)^2/\sigma^2`.

INIT-FORMULA splits its budget of :math:`10^{-6}` over every test it makes (union
bound): :math:`p = 10^{-6}/(6 \cdot 2 \cdot C)` per test for :math:`C` configs.

Isolation from the global random state
--------------------------------------
Every draw compared between two calls is made with numpy's global state seeded to
the same value (and restored afterwards), so an initializer that uses
``np.random.*`` fails INIT-NO-GLOBAL-RNG (and INIT-SEED-SENSITIVE, since it ignores
its ``rng``), not every check that compares two draws.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..formulas import FormulaCase, formula_cases
from ..framework import Subject, fail, rebuild_from_config, skip, spec_check

#: Shapes of the contract checks: asymmetric, a large one and the bias shape (fan_in = 1).
SHAPES = ((3, 7), (64, 256), (1, 5))
#: The shapes of the contract checks for configs beyond the own one (cheaper; still asymmetric, bias shape).
_SMALL_SHAPES = ((3, 7), (1, 5))
DTYPES = (np.float32, np.float64)
#: Shapes of the support checks: N >= 16384 draws each, asymmetric; 1/sqrt(80) and
#: sqrt(6)/sqrt(285) are not representable, so the float32 rounding of the bound is exercised.
BOUND_SHAPES = ((64, 256), (80, 205))
#: Shape of the distribution checks (N = 16384).
DIST_SHAPE = (64, 256)
#: Support test: max|w| must reach (1 - DELTA) * a.
DELTA = 0.002
#: False-failure budgets of the two halves of the distribution checks (sum 1e-6).
P_KS = 5e-7
P_VAR = 5e-7
#: Global seed set around compared draws (see the module docstring).
_GLOBAL_SEED = 20240607
#: Rounding allowance of bound comparisons, in ulps of the dtype (see the module docstring).
ROUND_ULPS = 4
#: Samples of INIT-FORMULA: both orientations of an asymmetric shape (N = 16384 each), so a law
#: computed from the wrong fan is visible, in float64 and float32.
FORMULA_SAMPLES = (((64, 256), np.float64), ((256, 64), np.float32))
#: Samples of INIT-FORMULA for the deterministic laws (orthogonal, constant): the same orientations, smaller
#: (an exact identity needs no large sample, and a QR of 256 x 64 is the slowest call of the suite).
FORMULA_SMALL_SAMPLES = (((24, 40), np.float64), ((40, 24), np.float32))
#: False-failure budget of INIT-FORMULA as a whole (every config, sample and test; union bound).
P_FORMULA = 1e-6
#: Statistical tests per sample in INIT-FORMULA, at most (reach of each end, KS, mean, variance).
TESTS_PER_SAMPLE = 6


# ----------------------------------------------------------------------------- helpers
def _draw(init: Any, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """``init(fan_in, fan_out, rng, dtype)`` with numpy's global state seeded, then restored."""
    saved = np.random.get_state()
    try:
        np.random.seed(_GLOBAL_SEED)
        return init(fan_in, fan_out, rng, dtype)
    finally:
        np.random.set_state(saved)


def _rounding(dtype: Any, *magnitudes: float) -> float:
    """:data:`ROUND_ULPS` ulps of ``dtype`` at the largest of ``magnitudes``."""
    return ROUND_ULPS * float(np.finfo(np.dtype(dtype)).eps) * max(abs(float(v)) for v in magnitudes)


def _built(subject: Subject, salt: int = 0) -> list[tuple[dict[str, Any], Any]]:
    """``(config, fresh instance)`` for each of ``subject.configs(salt)`` that the constructor accepts.

    The first is the subject's own (``subject.new()``, which must build); a drawn
    config that the constructor rejects with ``ValueError``/``TypeError`` is skipped.
    """
    out = []
    for i, config in enumerate(subject.configs(salt)):
        if i == 0:
            out.append((config, subject.new()))
            continue
        try:
            out.append((config, subject.factory(**config)))
        except (ValueError, TypeError):
            continue
    return out


def _built_with(config: dict[str, Any]) -> str:
    """`` built with {...}`` for failure messages (empty for an empty config)."""
    return f" (built with {config!r})" if config else ""


def _same(a: Any, b: Any) -> bool:
    """Identical arrays: same shape, dtype and values (NaN equal to NaN)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _first_difference(a: np.ndarray, b: np.ndarray) -> str:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return f"{a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    diff = ~((a == b) | (np.isnan(a) & np.isnan(b)))
    i = tuple(int(k) for k in np.argwhere(diff)[0])
    return f"{int(diff.sum())} of {a.size} entries differ, first at index {i}: {a[i]!r} vs {b[i]!r}"


def _global_state_equal(s1: tuple, s2: tuple) -> bool:
    return (s1[0] == s2[0] and np.array_equal(s1[1], s2[1]) and s1[2:] == s2[2:])


def _ks_uniform(w: np.ndarray, a: float) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance of the sample ``w`` to U[-a, a] and where it is largest."""
    x = np.sort(np.asarray(w, dtype=np.float64).ravel())
    n = x.size
    cdf = np.clip((x + a) / (2 * a), 0.0, 1.0)
    above = np.arange(1, n + 1) / n - cdf
    below = cdf - np.arange(0, n) / n
    i, j = int(np.argmax(above)), int(np.argmax(below))
    return (float(above[i]), float(x[i])) if above[i] >= below[j] else (float(below[j]), float(x[j]))


def _dkw_threshold(n: int, p: float) -> float:
    """d with 2 exp(-2 n d^2) = p (DKW inequality)."""
    return math.sqrt(math.log(2 / p) / (2 * n))


def _hoeffding_threshold(n: int, p: float) -> float:
    """t with 2 exp(-2 n t^2) = p, for the mean of n variables in [0, 1]."""
    return math.sqrt(math.log(2 / p) / (2 * n))


def _xavier_bound(fan_in: int, fan_out: int) -> float:
    return 1 / math.sqrt(fan_in)


def _nxavier_bound(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6) / math.sqrt(fan_in + fan_out)


def _support(subject: Subject, bound: Callable[[int, int], float], formula: str, salt: int) -> None:
    init = subject.new()
    for k, (n, m) in enumerate(BOUND_SHAPES):
        for dtype in DTYPES:
            dt = np.dtype(dtype)
            a = bound(n, m)
            a_dt = a + _rounding(dt, a)  # >= fl(a), and a bound computed in the dtype, to a few ulps
            w = np.asarray(_draw(init, n, m, subject.rng(salt + 2 * k + (dt == np.float64)), dtype))
            if w.shape != (n, m):
                fail(f"init({n}, {m}) must return shape ({n}, {m}) (see INIT-SHAPE-DTYPE)", found=w.shape)
            absw = np.abs(w.astype(np.float64))
            if not np.all(np.isfinite(absw)):
                fail(f"init({n}, {m}, dtype={dt}) returned non-finite weights; they must lie in [-a, a], "
                     f"a = {formula}", where=f"shape ({n}, {m}), {dt}")
            i = np.unravel_index(int(np.argmax(absw)), absw.shape)
            top = float(absw[i])
            if top > a_dt:
                fail(f"weights exceed the bound a = {formula}: every |w| must be <= a (here a = {a:.9g} "
                     f"for n = fan_in = {n}, m = fan_out = {m}); check the formula of the bound",
                     expected=f"|w| <= {a_dt!r} (a + {ROUND_ULPS} ulps of {dt})", found=f"|w| = {top!r}",
                     where=f"index {tuple(int(x) for x in i)} of init({n}, {m}, dtype={dt})")
            floor = (1 - DELTA) * a - _rounding(dt, a)
            if top < floor:
                fail(f"the weights do not reach the bound a = {formula}: max|w| is below (1 - {DELTA}) a, so "
                     f"the support is narrower than [-a, a]; check the formula of the bound (fan_in vs "
                     f"fan_out, the constant)",
                     expected=f"max|w| >= {floor:.9g} (a = {a:.9g}, n = {n}, m = {m})",
                     found=f"max|w| = {top:.9g} ({top / a:.5f} a)",
                     where=f"init({n}, {m}, dtype={dt}), {n * m} draws")


def _uniform(subject: Subject, bound: Callable[[int, int], float], formula: str, variance: str,
             salt: int) -> None:
    n, m = DIST_SHAPE
    init = subject.new()
    a = bound(n, m)
    w = np.asarray(_draw(init, n, m, subject.rng(salt), np.float64), dtype=np.float64)
    if w.shape != (n, m) or not np.all(np.isfinite(w)):
        fail(f"init({n}, {m}, dtype=float64) must return finite weights of shape ({n}, {m})",
             found=f"shape {w.shape}, finite: {bool(np.all(np.isfinite(w)))}")
    size = w.size
    r = _rounding(np.float64, a)  # a float64 draw within a few ulps of [-a, a] (module docstring)
    d_max = _dkw_threshold(size, P_KS) + r / (2 * a)
    d, at = _ks_uniform(w, a)
    if d > d_max:
        fail(f"the weights are not uniform on [-a, a], a = {formula}: their empirical distribution function "
             f"is {d:.4f} away from the uniform one (Kolmogorov-Smirnov); draw with "
             f"rng.uniform(-a, a, (fan_in, fan_out)), not a normal or another shape",
             expected=f"KS distance <= {d_max:.4f} (DKW, N = {size}, false-failure probability {P_KS:g})",
             found=f"KS distance {d:.4f}", where=f"w = {at:.6g} of init({n}, {m}, dtype=float64), a = {a:.6g}")
    u = float(np.mean((w / a) ** 2))
    t = _hoeffding_threshold(size, P_VAR) + 3 * r / a
    if abs(u - 1 / 3) > t:
        var = float(np.mean(w * w))
        fail(f"the variance of the weights is not {variance} = a^2/3 (uniform on [-a, a], a = {formula}); "
             f"check the scale of the distribution",
             expected=f"mean(w^2) = {a * a / 3:.6g} (mean(w^2)/a^2 within 1/3 +- {t:.4f}, Hoeffding, N = {size})",
             found=f"mean(w^2) = {var:.6g} (mean(w^2)/a^2 = {u:.4f})",
             where=f"init({n}, {m}, dtype=float64), n = {n}, m = {m}")


_FF_SUPPORT = ("< 2.3e-14: the |w| <= a (+ 4 ulps) half never fails a correct initializer; max|w| < (1-0.002)a "
               "has probability (1-0.002)^N <= 0.998^16384 = 5.7e-15 for each of the 4 samples")
_FF_UNIFORM = ("<= 1e-6: KS via DKW 2exp(-2Nd^2) = 5e-7 (N = 16384, d = 0.02154) plus variance via "
               "Hoeffding 2exp(-2Nt^2) = 5e-7 on mean(w^2/a^2) in [0, 1] (t = 0.02154)")


# ------------------------------------------------------------------------ contract checks
@spec_check("INIT-INTERFACE", "initializer", layer="contract",
            title="is an Initializer returning a new, writable numpy array",
            formula=r"W = \mathrm{init}(n, m, \mathrm{rng}, \mathrm{dtype}) \in \mathbb{R}^{n \times m}")
def check_init_interface(subject):
    """The component is a ``neuroplug.Initializer``, ``get_config()`` returns a dict, and
    ``init(3, 7, rng, dtype)`` (positional, as ``Dense.build`` calls it) returns a
    writable ``numpy.ndarray`` that is new on every call (it shares no memory with the
    result of another call): the layer updates its weights in place, so a read-only or
    shared array (a cached matrix, ``np.broadcast_to``) would break training or couple
    two layers.
    """
    from neuroplug.base import Initializer

    init = subject.new()
    if not isinstance(init, Initializer):
        fail("an initializer must subclass neuroplug.Initializer", found=type(init).__mro__)
    config = init.get_config()
    if not isinstance(config, dict):
        fail("get_config() must return a dict of the constructor's keyword arguments", found=type(config))
    for dtype in DTYPES:
        w1 = _draw(init, 3, 7, subject.rng(1), dtype)
        w2 = _draw(init, 3, 7, subject.rng(1), dtype)
        if not isinstance(w1, np.ndarray) or isinstance(w1, np.matrix):
            fail("init() must return a numpy.ndarray", expected="numpy.ndarray", found=type(w1).__name__,
                 where=f"init(3, 7, rng, {np.dtype(dtype)})")
        if not w1.flags.writeable:
            fail("init() must return a writable array that the layer owns (not a read-only view such as "
                 "np.broadcast_to(...)); return a new array, e.g. np.full(shape, value, dtype)",
                 expected="w.flags.writeable == True", found="read-only array",
                 where=f"init(3, 7, rng, {np.dtype(dtype)})")
        if np.shares_memory(w1, w2):
            fail("init() must return a new array on every call, not a cached one: two layers would share "
                 "their weights", found="two calls returned arrays sharing memory",
                 where=f"init(3, 7, rng, {np.dtype(dtype)})")


@spec_check("INIT-SHAPE-DTYPE", "initializer", layer="contract",
            title="returns exactly (fan_in, fan_out) of the requested dtype",
            formula=r"\mathrm{shape}(W) = (n, m),\ \mathrm{dtype}(W) = \mathrm{dtype}")
def check_init_shape_dtype(subject):
    """For asymmetric shapes (3, 7), (64, 256) and the bias shape (1, 5), and dtypes
    float32 and float64, ``init(fan_in, fan_out, rng, dtype)`` has shape exactly
    ``(fan_in, fan_out)`` (the layout of ``x @ W``; a transposed matrix is caught since
    the shapes are asymmetric) and dtype exactly ``dtype`` (float32 training must not
    silently get float64 weights). Every config of ``subject.configs()`` (own, examples,
    drawn from ``parameter_space``; the further configs on (3, 7) and (1, 5) only).
    """
    for c, (config, init) in enumerate(_built(subject, 1)):
        for k, (n, m) in enumerate(SHAPES if c == 0 else _SMALL_SHAPES):
            for dtype in DTYPES:
                w = np.asarray(_draw(init, n, m, subject.rng(10 + k), dtype))
                if w.shape != (n, m):
                    fail("init(fan_in, fan_out) must return an array of shape (fan_in, fan_out) (the layout of "
                         "x @ W); check the order of the dimensions in __call__", expected=(n, m), found=w.shape,
                         where=f"init({n}, {m}, rng, {np.dtype(dtype)}){_built_with(config)}")
                if w.dtype != np.dtype(dtype):
                    fail("init() must return the requested dtype; cast with .astype(dtype) in __call__",
                         expected=str(np.dtype(dtype)), found=str(w.dtype),
                         where=f"init({n}, {m}, rng, {np.dtype(dtype)}){_built_with(config)}")


@spec_check("INIT-FINITE", "initializer", layer="contract", title="all weights are finite",
            formula=r"W_{ij} \in \mathbb{R}\ (\text{no NaN or} \pm\infty)")
def check_init_finite(subject):
    """Every weight is finite for shapes (3, 7), (64, 256) and (1, 5) (``fan_in = 1``:
    bias vectors, where formulas dividing by ``fan_in - 1`` break) in float32 and float64.
    Numpy overflow or division warnings fail the check too. Every config of
    ``subject.configs()`` (the further configs on (3, 7) and (1, 5) only).
    """
    for c, (config, init) in enumerate(_built(subject, 2)):
        for k, (n, m) in enumerate(SHAPES if c == 0 else _SMALL_SHAPES):
            for dtype in DTYPES:
                w = np.asarray(_draw(init, n, m, subject.rng(20 + k), dtype))
                bad = ~np.isfinite(w.astype(np.float64))
                if bad.any():
                    i = tuple(int(x) for x in np.argwhere(bad)[0])
                    fail("init() returned non-finite weights; check the scale formula in __call__ for every "
                         "fan_in >= 1 (fan_in = 1 is used for biases)", expected="finite values",
                         found=f"{int(bad.sum())} non-finite, e.g. {w[i]!r}",
                         where=f"index {i} of init({n}, {m}, rng, {np.dtype(dtype)}){_built_with(config)}")


@spec_check("INIT-NO-GLOBAL-RNG", "initializer", layer="contract",
            title="does not use numpy's global random state",
            formula=r"\mathrm{init}(n, m, \mathrm{rng}) \perp \texttt{np.random}", notes=("random_init",))
def check_init_no_global_rng(subject):
    """All randomness comes from the ``rng`` argument: calling the initializer leaves
    ``np.random.get_state()`` unchanged, and its result does not depend on
    ``np.random.seed``: for the same ``rng`` seed, the weights drawn after
    ``np.random.seed(1)`` and after ``np.random.seed(2)`` are identical. (If even two
    draws after the same global seed differ, the initializer is not reproducible at
    all -- INIT-SEED-REPRODUCIBLE's failure -- and the second part cannot tell.)
    The global state is restored afterwards.
    """
    init = subject.new()
    saved = np.random.get_state()
    try:
        before = np.random.get_state()
        init(8, 16, subject.rng(30), np.float64)
        after = np.random.get_state()
        if not _global_state_equal(before, after):
            fail("init() changed numpy's global random state: draw from the rng argument "
                 "(rng.uniform, rng.normal, ...) instead of np.random.*, so that a seed reproduces the weights",
                 expected="np.random.get_state() unchanged", found="the global state advanced",
                 where="init(8, 16, rng, float64)")
        draws = []
        for global_seed in (1, 1, 2):
            np.random.seed(global_seed)
            draws.append(np.asarray(init(8, 16, subject.rng(31), np.float64)))
        if _same(draws[0], draws[1]) and not _same(draws[0], draws[2]):
            fail("the weights depend on numpy's global seed (np.random.seed), not only on the rng argument: "
                 "draw every random number from rng",
                 expected="identical weights after np.random.seed(1) and np.random.seed(2)",
                 found=_first_difference(draws[0], draws[2]), where="init(8, 16, rng, float64), same rng seed")
    finally:
        np.random.set_state(saved)


@spec_check("INIT-SEED-REPRODUCIBLE", "initializer", layer="contract",
            title="the same seed gives identical weights",
            formula=r"\mathrm{init}(n, m, \mathrm{rng}(s)) = \mathrm{init}(n, m, \mathrm{rng}(s))",
            notes=("random_init",))
def check_init_seed_reproducible(subject):
    """Two generators with the same seed give bit-identical weights -- from the same
    instance and from two fresh instances, in float32 and float64, for shapes (3, 7)
    and (64, 256). Random initial weights are reproducible from a seed
    (``Sequential(seed=...)``). Every config of ``subject.configs()`` (the further
    configs on (3, 7) only).
    """
    for i, (config, first) in enumerate(_built(subject, 4)):
        fresh = subject.new() if i == 0 else subject.factory(**config)
        for k, (n, m) in enumerate(SHAPES[:2] if i == 0 else SHAPES[:1]):
            for dtype in DTYPES:
                w1 = _draw(first, n, m, subject.rng(40 + k), dtype)
                for label, init in (("the same instance", first), ("a fresh instance", fresh)):
                    w2 = _draw(init, n, m, subject.rng(40 + k), dtype)
                    if not _same(w1, w2):
                        fail("the same seed must give the same weights: draw all randomness from the rng "
                             "argument in __call__ (never np.random.default_rng() without a seed, time or "
                             "os.urandom)", expected="bit-identical arrays", found=_first_difference(w1, w2),
                             where=f"init({n}, {m}, rng, {np.dtype(dtype)}) twice with equal seeds ({label})"
                                   f"{_built_with(config)}")


@spec_check("INIT-SEED-SENSITIVE", "initializer", layer="contract",
            title="different seeds give different weights (random initialization)",
            formula=(r"s \ne s' \Rightarrow "
                     r"\mathrm{init}(n, m, \mathrm{rng}(s)) \ne \mathrm{init}(n, m, \mathrm{rng}(s'))"),
            notes=("random_init",),
            false_failure="0 for a continuous distribution (two independent draws of 128 weights coincide "
                          "with probability 0)")
def check_init_seed_sensitive(subject):
    """Weights are random: two generators with different seeds give different
    ``(8, 16)`` matrices, in float32 and float64. An initializer that returns the same
    weights for every seed ignores its ``rng`` (e.g. a fixed ``default_rng(0)``) and is
    not a random initialization. Initializers whose values do not depend on the seed
    by design (zeros, ones, constant) declare the property ``deterministic_values``
    and are skipped. Every config of ``subject.configs()``.
    """
    if "deterministic_values" in subject.properties:
        skip("declares deterministic_values: its weights do not depend on the seed by design")
    for config, init in _built(subject, 5):
        for dtype in DTYPES:
            w1 = np.asarray(_draw(init, 8, 16, subject.rng(50), dtype))
            w2 = np.asarray(_draw(init, 8, 16, subject.rng(51), dtype))
            if _same(w1, w2):
                fail("different seeds gave identical weights: the initializer ignores its rng argument. Draw "
                     "the weights in __call__ from rng, or declare the property deterministic_values if they "
                     "do not depend on the seed by design",
                     expected="different arrays for different seeds", found="identical arrays",
                     where=f"init(8, 16, rng, {np.dtype(dtype)}) with two different seeds{_built_with(config)}")


@spec_check("INIT-CONFIG-ROUNDTRIP", "initializer", layer="contract",
            title="rebuilt from its saved config, it draws the same weights",
            formula=(r"\mathrm{create}(\mathrm{name}, \mathrm{json}(\mathrm{get\_config}()))(n, m, \mathrm{rng}(s))"
                     r" = \mathrm{init}(n, m, \mathrm{rng}(s))"))
def check_init_config_roundtrip(subject):
    """``get_config()`` survives ``json.dumps``/``json.loads``; the component rebuilt
    from it (``create("initializer", {"name": registered name, "config": ...})``, or
    ``type(c).from_config`` when unregistered) has the same config and draws the same
    weights from the same seed (bit-identical, float32 and float64). (If the original
    does not reproduce its own weights from a seed -- INIT-SEED-REPRODUCIBLE's
    failure -- only the configs are compared.) Every config of ``subject.configs()``, so
    a parameter that ``get_config()`` forgets is caught even when its default is used.
    """
    for _, init in _built(subject, 6):
        rebuilt, how = rebuild_from_config(subject, init)
        for dtype in DTYPES:
            w = _draw(init, 3, 7, subject.rng(60), dtype)
            if not _same(w, _draw(init, 3, 7, subject.rng(60), dtype)):
                break
            w2 = _draw(rebuilt, 3, 7, subject.rng(60), dtype)
            if not _same(w, w2):
                fail("the component rebuilt from its config draws different weights: get_config() must return "
                     "every constructor parameter that affects the weights",
                     expected="bit-identical weights", found=_first_difference(w, w2),
                     where=f"init(3, 7, rng, {np.dtype(dtype)}), rebuilt as {how}")


# -------------------------------------------------------------------------- formula checks
@spec_check("INIT-XAVIER-BOUND", "initializer", layer="formula",
            title="xavier: all weights within +-1/sqrt(n) and reaching it",
            formula=(r"|W_{ij}| \le \frac{1}{\sqrt{n}},\quad \max_{ij}|W_{ij}| \ge \frac{1-\delta}{\sqrt{n}},"
                     r"\ n = \mathrm{fan\_in}"),
            notes=("xavier",),
            tolerance="|w| <= a + r, max|w| >= (1 - 0.002) a - r; a = 1/sqrt(n), r = 4 eps(dtype) a (rounding)",
            false_failure=_FF_SUPPORT)
def check_init_xavier_bound(subject):
    r"""Xavier initialization draws from :math:`U[-a, a]`, :math:`a = 1/\sqrt n`,
    n = fan_in. For shapes (64, 256) and (80, 205) (N = 16384 and 16400 draws;
    asymmetric, so a bound computed from fan_out or from n + m is caught) in float32 and
    float64:

    * every :math:`|w| \le a + r`, :math:`a` computed in float64,
      :math:`r = 4\,\epsilon_{dtype}\,a` (module docstring, *Rounding*): a correct
      implementation that draws in float64 within :math:`[-a, a]` and rounds to the
      dtype (at most half an ulp beyond :math:`a`), or that computes :math:`a` in
      float32 (a few ulps), never fails; a stricter "nearest value not exceeding a"
      would fail such a correct cast with probability about
      :math:`N\,2^{-25} \approx 5\cdot10^{-4}` in float32.
    * :math:`\max|w| \ge (1-\delta)\,a - r`, :math:`\delta = 0.002`:
      pins the bound within 0.2 %. A correct initializer fails with probability
      :math:`(1-\delta)^N \le 0.998^{16384} \approx 5.7\cdot10^{-15}` per sample
      (:math:`r` absorbs the rounding of the draws).
    """
    if "xavier" not in subject.implements:
        skip("claims no xavier formula")
    _support(subject, _xavier_bound, "1/sqrt(fan_in)", salt=100)


@spec_check("INIT-XAVIER-UNIFORM", "initializer", layer="formula",
            title="xavier: uniform on [-1/sqrt(n), 1/sqrt(n)], variance 1/(3n)",
            formula=(r"W_{ij} \sim U\left[-\tfrac{1}{\sqrt n}, \tfrac{1}{\sqrt n}\right],"
                     r"\quad \operatorname{Var} W_{ij} = \frac{1}{3n}"),
            notes=("xavier",),
            tolerance="KS distance <= 0.02154 + r/(2a) (DKW); |mean(w^2)/a^2 - 1/3| <= 0.02154 + 3r/a "
                      "(Hoeffding); N = 16384, r = 4 eps(float64) a (rounding)",
            false_failure=_FF_UNIFORM)
def check_init_xavier_uniform(subject):
    r"""The xavier weights are *uniformly* distributed on :math:`[-a, a]`,
    :math:`a = 1/\sqrt n`, n = fan_in, hence have variance :math:`a^2/3 = 1/(3n)`.
    One float64 sample of shape (64, 256), N = 16384:

    * shape: the Kolmogorov-Smirnov distance :math:`D_N` between the empirical
      distribution function and that of :math:`U[-a, a]` is at most
      :math:`d = \sqrt{\ln(2/p)/(2N)} = 0.02154` with :math:`p = 5\cdot10^{-7}`; by
      the DKW inequality :math:`P(D_N > d) \le 2e^{-2Nd^2} = p` for a correct
      initializer. A normal of the right variance has :math:`D \approx 0.057`; a
      one-sided :math:`U[0, a]` has :math:`D = 0.5`.
    * variance: :math:`u = w^2/a^2 \in [0, 1]` has mean 1/3; the sample mean is within
      :math:`t = 0.02154` of 1/3, and by Hoeffding's inequality
      :math:`P(|\bar u - 1/3| \ge t) \le 2e^{-2Nt^2} = 5\cdot10^{-7}`.
    * rounding: a weight within :math:`r = 4\,\epsilon_{64}\,a` of :math:`[-a, a]` moves the
      distribution function by at most :math:`r/(2a)` and :math:`w^2/a^2` by at most
      :math:`3r/a`; both are added to the thresholds (about :math:`10^{-15}`).

    False-failure probability of the check: :math:`\le 10^{-6}` (sum of the two).
    """
    if "xavier" not in subject.implements:
        skip("claims no xavier formula")
    _uniform(subject, _xavier_bound, "1/sqrt(fan_in)", "1/(3 fan_in)", salt=110)


@spec_check("INIT-NXAVIER-BOUND", "initializer", layer="formula",
            title="normalized xavier: all weights within +-sqrt(6)/sqrt(n+m) and reaching it",
            formula=(r"|W_{ij}| \le \frac{\sqrt6}{\sqrt{n+m}},"
                     r"\quad \max_{ij}|W_{ij}| \ge (1-\delta)\frac{\sqrt6}{\sqrt{n+m}}"),
            notes=("normalized_xavier",),
            tolerance="|w| <= a + r, max|w| >= (1 - 0.002) a - r; a = sqrt(6)/sqrt(n+m), r = 4 eps(dtype) a "
                      "(rounding)",
            false_failure=_FF_SUPPORT)
def check_init_nxavier_bound(subject):
    r"""Normalized xavier draws from :math:`U[-a, a]`, :math:`a = \sqrt6/\sqrt{n+m}`,
    n = fan_in, m = fan_out. Same support test as INIT-XAVIER-BOUND, for shapes
    (64, 256) and (80, 205) in float32 and float64: every :math:`|w| \le a + r`,
    :math:`r = 4\,\epsilon_{dtype}\,a` (a correct implementation never fails) and
    :math:`\max|w| \ge (1-\delta)a - r`
    with :math:`\delta = 0.002` (false failure :math:`0.998^{16384} \approx 5.7\cdot10^{-15}`
    per sample). The shapes are asymmetric, so a formula using only one of the fans
    (:math:`\sqrt6/\sqrt{2n}`) or the wrong constant (:math:`\sqrt3`) is caught.
    """
    if "normalized_xavier" not in subject.implements:
        skip("claims no normalized_xavier formula")
    _support(subject, _nxavier_bound, "sqrt(6)/sqrt(fan_in + fan_out)", salt=200)


@spec_check("INIT-NXAVIER-UNIFORM", "initializer", layer="formula",
            title="normalized xavier: uniform on [-a, a], variance 2/(n+m)",
            formula=(r"W_{ij} \sim U\left[-\tfrac{\sqrt6}{\sqrt{n+m}}, \tfrac{\sqrt6}{\sqrt{n+m}}\right],"
                     r"\quad \operatorname{Var} W_{ij} = \frac{2}{n+m}"),
            notes=("normalized_xavier",),
            tolerance="KS distance <= 0.02154 + r/(2a) (DKW); |mean(w^2)/a^2 - 1/3| <= 0.02154 + 3r/a "
                      "(Hoeffding); N = 16384, r = 4 eps(float64) a (rounding)",
            false_failure=_FF_UNIFORM)
def check_init_nxavier_uniform(subject):
    r"""The normalized xavier weights are uniform on :math:`[-a, a]`,
    :math:`a = \sqrt6/\sqrt{n+m}`, hence have variance :math:`a^2/3 = 2/(n+m)`. Same
    test as INIT-XAVIER-UNIFORM on a float64 (64, 256) sample (N = 16384): KS distance
    to :math:`U[-a, a]` at most 0.02154 (DKW, :math:`p = 5\cdot10^{-7}`) and
    :math:`|\overline{w^2/a^2} - 1/3| \le 0.02154` (Hoeffding, :math:`p = 5\cdot10^{-7}`);
    false-failure probability :math:`\le 10^{-6}`.
    """
    if "normalized_xavier" not in subject.implements:
        skip("claims no normalized_xavier formula")
    _uniform(subject, _nxavier_bound, "sqrt(6)/sqrt(fan_in + fan_out)", "2/(fan_in + fan_out)", salt=210)


# ----------------------------------------------------------------------------- INIT-FORMULA
def _p_each(cases: int) -> float:
    """False-failure budget of each statistical test of INIT-FORMULA (union bound over the check)."""
    return P_FORMULA / (TESTS_PER_SAMPLE * len(FORMULA_SAMPLES) * max(cases, 1))


def _quantile(law: Any, q: float, upper: bool) -> float:
    """x with P(W >= x) = q (``upper``) or P(W <= x) = q, by bisection on the law's distribution function."""
    lo, hi = law.low, law.high
    for _ in range(200):
        mid = (lo + hi) / 2
        beyond = (1.0 - law.cdf(mid)) if upper else law.cdf(mid)
        if (beyond > q) == upper:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _ks(law: Any, x: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov distance of the sample ``x`` to ``law`` and where it is largest."""
    from ..references.initializers import cdf_array

    x = np.sort(x.ravel())
    n = x.size
    cdf = cdf_array(law, x)
    above = np.arange(1, n + 1) / n - cdf
    below = cdf - np.arange(0, n) / n
    i, j = int(np.argmax(above)), int(np.argmax(below))
    return (float(above[i]), float(x[i])) if above[i] >= below[j] else (float(below[j]), float(x[j]))


class _Sample:
    """One draw of INIT-FORMULA: what failure messages need to say where and what to fix."""

    def __init__(self, case: FormulaCase, law: Any, w: np.ndarray, n: int, m: int, dtype: Any) -> None:
        self.case, self.law, self.n, self.m, self.dtype = case, law, n, m, np.dtype(dtype)
        self.x = np.asarray(w, dtype=np.float64)
        self.where = (f"init({n}, {m}, rng, {self.dtype}) of {type(case.component).__name__}"
                      f"{_built_with(case.config)}, n = fan_in = {n}, m = fan_out = {m}")

    def fail(self, what: str, fix: str, *, expected: str, found: str, at: str = "") -> None:
        fail(f"{self.case.label} ({self.case.formula.title}): {what} ({self.law.describe()} for this shape). "
             f"{fix}",
             expected=expected, found=found, where=(f"{at} of " if at else "") + self.where)


_FIX_LAW = ("Fix __call__: draw from this family with these parameters, computed from the right fan "
            "(fan_in = shape[0], fan_out = shape[1]) and from every constructor parameter")


_SHAPE_FIX = {
    "uniform": "draw with rng.uniform(low, high, (fan_in, fan_out)), not a normal or another shape",
    "normal": "draw with rng.normal(mean, std, (fan_in, fan_out)), not a uniform or another shape",
    "truncated_normal": "draw normal values and redraw those outside [low, high] (rejection sampling), not a "
                        "clipped normal or another shape",
}


def _check_constant(s: _Sample) -> None:
    v = s.law.value
    allowed = float(np.finfo(s.dtype).eps) * abs(v)  # value rounded to the dtype (at most half an ulp)
    err = np.abs(s.x - v)
    if np.any(err > allowed):
        i = np.unravel_index(int(np.argmax(err)), err.shape)
        s.fail(f"every weight must equal {v!r}", "Fix __call__: return np.full((fan_in, fan_out), value, dtype)",
               expected=f"W = {v!r} (within {allowed:.3g}, the rounding to {s.dtype})",
               found=f"W{tuple(int(k) for k in i)} = {float(s.x[i])!r}", at=f"index {tuple(int(k) for k in i)}")


def _check_orthogonal(s: _Sample) -> None:
    g = s.law.gain
    tall = s.n >= s.m
    gram = s.x.T @ s.x if tall else s.x @ s.x.T
    err = np.abs(gram - g * g * np.eye(gram.shape[0]))
    atol = g * g * max(s.n, s.m) * float(np.finfo(s.dtype).eps)
    if np.all(err <= atol):
        return
    i, j = (int(k) for k in np.unravel_index(int(np.argmax(err)), err.shape))
    side = "W^T W" if tall else "W W^T"
    s.fail(f"{side} must be gain^2 I = {g * g:.9g} I on the short side",
           "Fix __call__: orthonormalize the short side (QR of a standard normal matrix of shape "
           "(max(n, m), min(n, m)), transposed when fan_in < fan_out), then multiply by gain",
           expected=f"({side})[{i}, {j}] = {g * g if i == j else 0.0:.9g} (within {atol:.3g} = gain^2 max(n, m) "
                    f"eps({s.dtype}))",
           found=f"({side})[{i}, {j}] = {gram[i, j]:.9g}")


#: Draws of the sign test of orthogonal initializers, and the acceptance band of the count of negative W[0, 0].
HAAR_DRAWS, HAAR_BAND = 64, (7, 57)


def _check_haar_signs(case: Any, subject: Subject) -> None:
    """Orthogonal: the law is Haar (uniform over orthogonal matrices), so W[0, 0] is negative with
    probability exactly 1/2. A QR without the sign correction of R's diagonal gives one sign almost always.
    Over 64 seeds the count of negative W[0, 0] is Binomial(64, 1/2): outside [7, 57] with probability
    2 P(X <= 6) < 1e-11."""
    negative = 0
    for j in range(HAAR_DRAWS):
        w = np.asarray(_draw(case.component, 4, 4, subject.rng(7000 + j), np.float64))
        negative += bool(w[0, 0] < 0)
    if not HAAR_BAND[0] <= negative <= HAAR_BAND[1]:
        fail(f"{case.label}: the orthogonal matrix must be uniformly (Haar) distributed, so W[0, 0] is negative "
             f"for about half of the seeds. Fix __call__: after Q, R = qr(A), multiply Q's columns by "
             f"sign(diag(R)) (as PyTorch and Saxe et al. do)",
             expected=f"W[0, 0] < 0 for {HAAR_BAND[0]}..{HAAR_BAND[1]} of {HAAR_DRAWS} seeds (Binomial(64, 1/2): "
                      f"false-failure probability < 1e-11)",
             found=f"{negative} of {HAAR_DRAWS}", where="(4, 4) float64, seeds subject.rng(7000 + j)")


def _check_support(s: _Sample, p: float) -> None:
    """Bounded laws: every weight in [low, high] (+ rounding) and both ends reached."""
    law, x, n_draws = s.law, s.x, s.x.size
    r = _rounding(s.dtype, law.low, law.high)
    low_i, high_i = np.unravel_index(int(np.argmin(x)), x.shape), np.unravel_index(int(np.argmax(x)), x.shape)
    lo, hi = float(x[low_i]), float(x[high_i])
    fix = ("Fix __call__ (and bounds(), if it has one): the support is [low, high] of the formula; check the "
           "fan (fan_in vs fan_out), the constant and the truncation points")
    if lo < law.low - r or hi > law.high + r:
        bad, at = (lo, low_i) if lo < law.low - r else (hi, high_i)
        s.fail("a weight lies outside the support", fix,
               expected=f"{law.low - r:.9g} <= W <= {law.high + r:.9g} ([low, high] +- {ROUND_ULPS} ulps of "
                        f"{s.dtype})",
               found=f"W{tuple(int(k) for k in at)} = {bad:.9g}", at=f"index {tuple(int(k) for k in at)}")
    q = math.log(1 / p) / n_draws  # P(no draw within the band) = (1 - q)^N <= exp(-qN) = p
    top, bottom = _quantile(law, q, upper=True), _quantile(law, q, upper=False)
    if hi < top - r or lo > bottom + r:
        end, value, edge = ("upper", hi, top - r) if hi < top - r else ("lower", lo, bottom + r)
        s.fail(f"the weights do not reach the {end} end of the support: the support is narrower than "
               f"[low, high] = [{law.low:.9g}, {law.high:.9g}]", fix,
               expected=f"{'max' if end == 'upper' else 'min'} W {'>=' if end == 'upper' else '<='} {edge:.9g} "
                        f"(a fraction {q:.3g} of the mass lies beyond; missed with probability {p:.2g} "
                        f"in N = {n_draws} draws)",
               found=f"{'max' if end == 'upper' else 'min'} W = {value:.9g}")


def _check_normal_tails(s: _Sample, p: float) -> None:
    """An untruncated normal law reaches its tails: with N draws, the largest lies beyond the upper
    q-quantile, q = ln(2/p)/N, except with probability (1 - q)^N <= p/2 (the same for the smallest). A
    normal truncated at about two standard deviations (Keras' truncated_normal) at the same variance
    has the same mean and variance and nearly the same distribution function, but never reaches them."""
    from statistics import NormalDist

    law, x = s.law, s.x.ravel()
    q = math.log(2 / p) / x.size
    z = NormalDist().inv_cdf(1.0 - q)
    r = _rounding(s.dtype, abs(law.mean) + z * law.std)
    top, bottom = law.mean + z * law.std - r, law.mean - z * law.std + r
    hi, lo = float(x.max()), float(x.min())
    if hi < top or lo > bottom:
        end, value, edge = ("upper", hi, top) if hi < top else ("lower", lo, bottom)
        s.fail(f"the weights never reach the {end} tail of the normal law N({law.mean:.6g}, {law.std:.6g}^2): "
               f"they look truncated", "Fix __call__: draw from an untruncated normal of the formula's mean and "
               "standard deviation (a truncated normal is the formula truncated_normal)",
               expected=f"{'max' if end == 'upper' else 'min'} W {'>=' if end == 'upper' else '<='} {edge:.6g} "
                        f"(a fraction {q:.3g} of the mass lies beyond; missed with probability {p / 2:.2g} "
                        f"in N = {x.size} draws)",
               found=f"{'max' if end == 'upper' else 'min'} W = {value:.6g}")


def _check_distribution(s: _Sample, p: float) -> None:
    """KS to the law's distribution function (DKW), then its mean and variance."""
    law, x = s.law, s.x.ravel()
    n_draws = x.size
    bounded = law.bounded
    center = law.expectation()
    dev = np.abs(x - center)
    r = (_rounding(s.dtype, law.low, law.high) if bounded else
         _rounding(s.dtype, abs(law.mean) + float(dev.max())))
    d_max = math.sqrt(math.log(2 / p) / (2 * n_draws)) + r * law.max_density()
    d, at = _ks(law, x)
    if d > d_max:
        s.fail(f"the weights do not follow the formula's distribution: their empirical distribution function is "
               f"{d:.4f} away from it (Kolmogorov-Smirnov)", _FIX_LAW + "; " + _SHAPE_FIX[law.family],
               expected=f"KS distance <= {d_max:.4f} (DKW: false-failure probability {p:.2g}, N = {n_draws})",
               found=f"KS distance {d:.4f}; sample mean {float(x.mean()):.6g}, std {float(x.std()):.6g}, range "
                     f"[{float(x.min()):.6g}, {float(x.max()):.6g}] (the law: mean {law.expectation():.6g}, std "
                     f"{math.sqrt(law.variance()):.6g})", at=f"largest at w = {at:.6g}")
    mean = float(x.mean())
    if bounded:  # Hoeffding for values in [low, high]
        t_mean = (law.high - law.low) * math.sqrt(math.log(2 / p) / (2 * n_draws)) + r
        how = "Hoeffding"
    else:  # the mean of N normal draws is exactly normal
        from ..references.initializers import normal_quantile_two_sided

        t_mean = normal_quantile_two_sided(p) * law.std / math.sqrt(n_draws) + r
        how = "normal tail"
    if abs(mean - center) > t_mean:
        s.fail("the mean of the weights is wrong", _FIX_LAW + " (the mean/location)",
               expected=f"mean(W) = {center:.6g} +- {t_mean:.3g} ({how}, false-failure probability {p:.2g}, "
                        f"N = {n_draws})",
               found=f"mean(W) = {mean:.6g}")
    var = law.variance()
    second = float(np.mean((x - center) ** 2))
    if bounded:  # Hoeffding for (w - E W)^2 in [0, R^2]
        big = max(law.high - center, center - law.low) + r
        t_var = big * big * math.sqrt(math.log(2 / p) / (2 * n_draws)) + 2 * big * r + r * r
        lo_v, hi_v, how = var - t_var, var + t_var, "Hoeffding"
    else:  # sum(((w - mean)/std)^2) ~ chi^2_N: Laurent-Massart bounds, each side p/2
        y = math.log(2 / p)
        slack = (2 * r * float(dev.sum()) + n_draws * r * r) / n_draws
        lo_v = var * (1 - 2 * math.sqrt(y / n_draws)) - slack
        hi_v = var * (1 + 2 * math.sqrt(y / n_draws) + 2 * y / n_draws) + slack
        how = "chi-square, Laurent-Massart"
    if not lo_v <= second <= hi_v:
        s.fail("the variance of the weights is wrong", _FIX_LAW + " (the scale: the constant, the fan, the gain)",
               expected=f"mean((W - {center:.6g})^2) = {var:.6g} in [{lo_v:.6g}, {hi_v:.6g}] ({how}, false-failure "
                        f"probability {p:.2g}, N = {n_draws})",
               found=f"mean((W - {center:.6g})^2) = {second:.6g} (std {math.sqrt(second):.6g}, "
                     f"expected {math.sqrt(var):.6g})")


@spec_check("INIT-FORMULA", "initializer", layer="formula",
            title="the weights follow the law of every claimed formula, for every config",
            notes=("xavier", "normalized_xavier"),
            formula=(r"W_{ij} \sim \mathcal{L}_{\mathrm{formula}}(n, m, \theta)\ \ \forall\ \theta \in "
                     r"\mathrm{configs};\quad W^\top W = g^2 I\ (\mathrm{orthogonal});"
                     r"\quad W = c\ (\mathrm{constant})"),
            tolerance=("bounds: +- 4 eps(dtype) max(|low|, |high|); constant: eps(dtype)|c|; orthogonal: "
                       "gain^2 max(n, m) eps(dtype); statistics: DKW, Hoeffding, normal tail and chi-square "
                       "bounds at p = 1e-6 / (6 x 2 samples x configs) each, plus the rounding allowance"),
            false_failure=("<= 1e-6 for the whole check (union bound over every config, both samples and the 6 "
                           "statistical tests of each); 0 for constant and orthogonal"))
def check_init_formula(subject):
    r"""For each formula the component claims (``implements``) and each config of
    :func:`neuroplug.spec.formulas.formula_cases` (its own, the formula's examples, the
    registration's ``example_configs``, and :attr:`Subject.n_configs` drawn from the
    parameters' ranges), the weights follow the formula's law
    (:mod:`neuroplug.spec.references.initializers`). Two samples per config: the
    asymmetric (64, 256) in float64 and (256, 64) in float32 (N = 16384 each; a law
    computed from the wrong fan differs by a factor 2 in scale); (24, 40) and (40, 24)
    for the exact identities of constant and orthogonal.

    * constant: every weight equals :math:`c` within :math:`\epsilon_{dtype}|c|`
      (the rounding of :math:`c` to the dtype). Deterministic.
    * orthogonal: :math:`W^\top W = g^2 I` (fan_in >= fan_out) or :math:`W W^\top = g^2 I`
      elementwise within :math:`g^2 \max(n, m)\,\epsilon_{dtype}`: rounding the entries
      to the dtype moves each Gram entry by at most :math:`\epsilon g^2`
      (Cauchy-Schwarz), and a QR, SVD or Gram-Schmidt orthonormalization of a
      well-conditioned (aspect ratio 4) matrix, even in float32, is within a few
      :math:`\epsilon` (measured: at most 2 eps for float32 Gram-Schmidt, 0.3 eps for
      QR). Deterministic. And the law is Haar: over 64 seeds, :math:`W_{00} < 0` for 7 to 57
      of them (Binomial(64, 1/2); false failure < 1e-11): a QR without the sign correction of
      R's diagonal is caught.
    * bounded laws (uniform, truncated normal): every weight in
      :math:`[\mathrm{low} - r, \mathrm{high} + r]`,
      :math:`r = 4\,\epsilon_{dtype}\max(|\mathrm{low}|, |\mathrm{high}|)` (never fails a
      correct initializer), and each end *reached*: the extreme weight lies in the band
      holding a fraction :math:`q = \ln(1/p)/N` of the mass next to the end (from the law's
      distribution function), missed with probability :math:`(1-q)^N \le p`.
    * untruncated normal laws: both tails *reached*: the largest weight beyond the upper
      :math:`q`-quantile and the smallest below the lower one, :math:`q = \ln(2/p)/N`, each missed
      with probability :math:`(1-q)^N \le p/2` (a normal truncated at two standard deviations with
      the same variance is caught here; its distribution function is within 0.02 of the normal's).
    * every random law: the Kolmogorov-Smirnov distance to the law's distribution
      function is at most :math:`\sqrt{\ln(2/p)/(2N)}` (DKW) plus :math:`r` times the
      largest density; the sample mean within Hoeffding's bound (bounded laws) or
      :math:`z_p\sigma/\sqrt N` (normal: the mean of normal draws is normal); the second
      moment about the law's mean within Hoeffding's bound for :math:`(w-\mu)^2 \in [0, R^2]`
      (bounded) or the Laurent-Massart bounds of :math:`\chi^2_N`,
      :math:`N - 2\sqrt{Ny} \le \sum (w-\mu)^2/\sigma^2 \le N + 2\sqrt{Ny} + 2y`,
      :math:`y = \ln(2/p)` (normal); each with the rounding allowance of :math:`r`
      (for a normal, :math:`r = 4\epsilon_{dtype}(|\mu| + \max|w - \mu|)`).

    Budget: :math:`p = 10^{-6}/(6 \cdot 2 \cdot C)` per test for :math:`C` configs, so a
    correct component -- whatever way it consumes the random stream, whatever dtype it
    draws in -- fails the whole check with probability at most :math:`10^{-6}`. Every
    bound holds for exact draws of the law; only the distribution of the weights, not
    the way they are produced, is tested. A failure names the formula, the config, the
    shape and dtype, and what was expected and found.
    """
    if not subject.implements:
        skip("claims no initializer formula (declare implements=(...) with a formula of the vocabulary)")
    cases = list(formula_cases(subject))
    if not cases:
        skip(f"claims no known initializer formula ({', '.join(sorted(subject.implements))}: see "
             f"INIT-DECLARATIONS)")
    p = _p_each(len(cases))
    for k, case in enumerate(cases):
        deterministic = case.formula.reference(2, 3, **case.params).family in ("constant", "orthogonal")
        for t, ((n, m), dtype) in enumerate(FORMULA_SMALL_SAMPLES if deterministic else FORMULA_SAMPLES):
            law = case.formula.reference(n, m, **case.params)
            w = np.asarray(_draw(case.component, n, m, subject.rng(300 + 2 * k + t), dtype))
            if w.shape != (n, m) or w.dtype != np.dtype(dtype) or not np.all(np.isfinite(w)):
                fail(f"{case.label}: init({n}, {m}, rng, {np.dtype(dtype)}) must return finite weights of shape "
                     f"({n}, {m}) and that dtype (see INIT-SHAPE-DTYPE, INIT-FINITE); fix __call__",
                     expected=f"shape ({n}, {m}), {np.dtype(dtype)}, finite",
                     found=f"shape {w.shape}, {w.dtype}, finite: {bool(np.all(np.isfinite(w)))}",
                     where=f"built with {case.config!r}")
            sample = _Sample(case, law, w, n, m, dtype)
            if law.family == "constant":
                _check_constant(sample)
            elif law.family == "orthogonal":
                _check_orthogonal(sample)
                if t == 0:
                    _check_haar_signs(case, subject)
            else:
                if law.bounded:
                    _check_support(sample, p)
                _check_distribution(sample, p)
                if law.family == "normal":  # after the distribution: a wrong scale is reported as such
                    _check_normal_tails(sample, p)
