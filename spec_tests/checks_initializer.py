r"""Spec checks: initializers.

An initializer is called as ``init(fan_in, fan_out, rng, dtype)`` and returns a new
``(fan_in, fan_out)`` array of ``dtype`` whose randomness comes only from the
``numpy.random.Generator`` ``rng``.

*Contract* checks (every initializer): interface, shape and dtype, finite values,
no use of numpy's global random state, reproducibility from a seed, sensitivity
to the seed (the notes' "random initialization"), config round trip.

*Formula* checks (components that claim ``xavier`` or ``normalized_xavier``):
the support :math:`[-a, a]` and the uniform shape of the distribution, with
:math:`a = 1/\sqrt n` (xavier) or :math:`a = \sqrt6/\sqrt{n+m}` (normalized
xavier), :math:`n` = fan_in, :math:`m` = fan_out.

Statistics
----------
The statistical checks draw from generators with fixed seeds (``subject.rng``), but
a correct third-party initializer may consume the stream differently, so each
check is designed so that a *correct* initializer fails it with probability below
1e-6, by distribution-free bounds:

* support: every :math:`|w| \le a` (never fails a correct initializer) and
  :math:`\max|w| \ge (1-\delta)a` with :math:`N \ge 16384` draws, :math:`\delta = 0.002`:
  :math:`P(\text{fail}) = (1-\delta)^N \le 0.998^{16384} \approx 5.7\cdot10^{-15}` per sample;
* shape: the Kolmogorov-Smirnov distance :math:`D_N` to :math:`U[-a, a]`, with the
  Dvoretzky-Kiefer-Wolfowitz inequality :math:`P(D_N > d) \le 2e^{-2Nd^2}`;
* variance: Hoeffding's inequality for the mean of :math:`u = w^2/a^2 \in [0, 1]`,
  :math:`P(|\bar u - 1/3| \ge t) \le 2e^{-2Nt^2}`.

Isolation from the global random state
--------------------------------------
Every draw compared between two calls is made with numpy's global state seeded to
the same value (and restored afterwards), so an initializer that uses
``np.random.*`` fails INIT-NO-GLOBAL-RNG (and INIT-SEED-SENSITIVE, since it ignores
its ``rng``), not every check that compares two draws.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from .framework import Subject, fail, rebuild_from_config, skip, spec_check

#: Shapes of the contract checks: asymmetric, a large one and the bias shape (fan_in = 1).
SHAPES = ((3, 7), (64, 256), (1, 5))
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


# ----------------------------------------------------------------------------- helpers
def _draw(init: Any, fan_in: int, fan_out: int, rng: np.random.Generator, dtype: Any) -> np.ndarray:
    """``init(fan_in, fan_out, rng, dtype)`` with numpy's global state seeded, then restored."""
    saved = np.random.get_state()
    try:
        np.random.seed(_GLOBAL_SEED)
        return init(fan_in, fan_out, rng, dtype)
    finally:
        np.random.set_state(saved)


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
            a_dt = float(dt.type(a))  # round to nearest: monotone, so |x| <= a implies |fl(x)| <= fl(a)
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
                     expected=f"|w| <= {a_dt!r} (a rounded to {dt})", found=f"|w| = {top!r}",
                     where=f"index {tuple(int(x) for x in i)} of init({n}, {m}, dtype={dt})")
            floor = (1 - DELTA) * a * (1 - float(np.finfo(dt).eps))
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
    d_max = _dkw_threshold(size, P_KS)
    d, at = _ks_uniform(w, a)
    if d > d_max:
        fail(f"the weights are not uniform on [-a, a], a = {formula}: their empirical distribution function "
             f"is {d:.4f} away from the uniform one (Kolmogorov-Smirnov); draw with "
             f"rng.uniform(-a, a, (fan_in, fan_out)), not a normal or another shape",
             expected=f"KS distance <= {d_max:.4f} (DKW, N = {size}, false-failure probability {P_KS:g})",
             found=f"KS distance {d:.4f}", where=f"w = {at:.6g} of init({n}, {m}, dtype=float64), a = {a:.6g}")
    u = float(np.mean((w / a) ** 2))
    t = _hoeffding_threshold(size, P_VAR)
    if abs(u - 1 / 3) > t:
        var = float(np.mean(w * w))
        fail(f"the variance of the weights is not {variance} = a^2/3 (uniform on [-a, a], a = {formula}); "
             f"check the scale of the distribution",
             expected=f"mean(w^2) = {a * a / 3:.6g} (mean(w^2)/a^2 within 1/3 +- {t:.4f}, Hoeffding, N = {size})",
             found=f"mean(w^2) = {var:.6g} (mean(w^2)/a^2 = {u:.4f})",
             where=f"init({n}, {m}, dtype=float64), n = {n}, m = {m}")


_FF_SUPPORT = ("< 2.3e-14: the |w| <= a half never fails a correct initializer; max|w| < (1-0.002)a has "
               "probability (1-0.002)^N <= 0.998^16384 = 5.7e-15 for each of the 4 samples")
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
    silently get float64 weights).
    """
    init = subject.new()
    for k, (n, m) in enumerate(SHAPES):
        for dtype in DTYPES:
            w = np.asarray(_draw(init, n, m, subject.rng(10 + k), dtype))
            if w.shape != (n, m):
                fail("init(fan_in, fan_out) must return an array of shape (fan_in, fan_out) (the layout of "
                     "x @ W); check the order of the dimensions", expected=(n, m), found=w.shape,
                     where=f"init({n}, {m}, rng, {np.dtype(dtype)})")
            if w.dtype != np.dtype(dtype):
                fail("init() must return the requested dtype; cast with .astype(dtype)",
                     expected=str(np.dtype(dtype)), found=str(w.dtype),
                     where=f"init({n}, {m}, rng, {np.dtype(dtype)})")


@spec_check("INIT-FINITE", "initializer", layer="contract", title="all weights are finite",
            formula=r"W_{ij} \in \mathbb{R}\ (\text{no NaN or} \pm\infty)")
def check_init_finite(subject):
    """Every weight is finite for shapes (3, 7), (64, 256) and (1, 5) (``fan_in = 1``:
    bias vectors, where formulas dividing by ``fan_in - 1`` break) in float32 and float64.
    Numpy overflow or division warnings fail the check too.
    """
    init = subject.new()
    for k, (n, m) in enumerate(SHAPES):
        for dtype in DTYPES:
            w = np.asarray(_draw(init, n, m, subject.rng(20 + k), dtype))
            bad = ~np.isfinite(w.astype(np.float64))
            if bad.any():
                i = tuple(int(x) for x in np.argwhere(bad)[0])
                fail("init() returned non-finite weights; check the scale formula for every fan_in >= 1 "
                     "(fan_in = 1 is used for biases)", expected="finite values",
                     found=f"{int(bad.sum())} non-finite, e.g. {w[i]!r}",
                     where=f"index {i} of init({n}, {m}, rng, {np.dtype(dtype)})")


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
    (``Sequential(seed=...)``).
    """
    first = subject.new()
    for k, (n, m) in enumerate(SHAPES[:2]):
        for dtype in DTYPES:
            w1 = _draw(first, n, m, subject.rng(40 + k), dtype)
            for label, init in (("the same instance", first), ("a fresh instance", subject.new())):
                w2 = _draw(init, n, m, subject.rng(40 + k), dtype)
                if not _same(w1, w2):
                    fail("the same seed must give the same weights: draw all randomness from the rng argument "
                         "(never np.random.default_rng() without a seed, time or os.urandom)",
                         expected="bit-identical arrays", found=_first_difference(w1, w2),
                         where=f"init({n}, {m}, rng, {np.dtype(dtype)}) twice with equal seeds ({label})")


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
    and are skipped.
    """
    if "deterministic_values" in subject.properties:
        skip("declares deterministic_values: its weights do not depend on the seed by design")
    init = subject.new()
    for dtype in DTYPES:
        w1 = np.asarray(_draw(init, 8, 16, subject.rng(50), dtype))
        w2 = np.asarray(_draw(init, 8, 16, subject.rng(51), dtype))
        if _same(w1, w2):
            fail("different seeds gave identical weights: the initializer ignores its rng argument. Draw "
                 "the weights from rng, or declare the property deterministic_values if they do not "
                 "depend on the seed by design",
                 expected="different arrays for different seeds", found="identical arrays",
                 where=f"init(8, 16, rng, {np.dtype(dtype)}) with two different seeds")


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
    failure -- only the configs are compared.)
    """
    init = subject.new()
    rebuilt, how = rebuild_from_config(subject, init)
    for dtype in DTYPES:
        w = _draw(init, 3, 7, subject.rng(60), dtype)
        if not _same(w, _draw(init, 3, 7, subject.rng(60), dtype)):
            return
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
            tolerance="|w| <= 1/sqrt(n) rounded to nearest in the dtype; delta = 0.002 (times 1 - eps of the dtype)",
            false_failure=_FF_SUPPORT)
def check_init_xavier_bound(subject):
    r"""Xavier initialization draws from :math:`U[-a, a]`, :math:`a = 1/\sqrt n`,
    n = fan_in. For shapes (64, 256) and (80, 205) (N = 16384 and 16400 draws;
    asymmetric, so a bound computed from fan_out or from n + m is caught) in float32 and
    float64:

    * every :math:`|w| \le \mathrm{fl}(a)`, :math:`a` computed in float64 and rounded to
      the nearest value of the dtype. Rounding to nearest is monotone, so a correct
      implementation that draws in float64 within :math:`[-a, a]` and casts never
      fails; a stricter "nearest value not exceeding a" would fail such a correct
      cast with probability about :math:`N\,2^{-25} \approx 5\cdot10^{-4}` in float32.
      (The built-ins clip to the stricter bound anyway.)
    * :math:`\max|w| \ge (1-\delta)\,a\,(1-\epsilon_{dtype})`, :math:`\delta = 0.002`:
      pins the bound within 0.2 %. A correct initializer fails with probability
      :math:`(1-\delta)^N \le 0.998^{16384} \approx 5.7\cdot10^{-15}` per sample
      (the factor :math:`1-\epsilon` absorbs the rounding of the draws).
    """
    if "xavier" not in subject.implements:
        skip("claims no xavier formula")
    _support(subject, _xavier_bound, "1/sqrt(fan_in)", salt=100)


@spec_check("INIT-XAVIER-UNIFORM", "initializer", layer="formula",
            title="xavier: uniform on [-1/sqrt(n), 1/sqrt(n)], variance 1/(3n)",
            formula=(r"W_{ij} \sim U\left[-\tfrac{1}{\sqrt n}, \tfrac{1}{\sqrt n}\right],"
                     r"\quad \operatorname{Var} W_{ij} = \frac{1}{3n}"),
            notes=("xavier",),
            tolerance="KS distance <= 0.02154 (DKW); |mean(w^2)/a^2 - 1/3| <= 0.02154 (Hoeffding); N = 16384",
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
            tolerance="|w| <= sqrt(6)/sqrt(n+m) rounded to nearest in the dtype; delta = 0.002 "
                      "(times 1 - eps of the dtype)",
            false_failure=_FF_SUPPORT)
def check_init_nxavier_bound(subject):
    r"""Normalized xavier draws from :math:`U[-a, a]`, :math:`a = \sqrt6/\sqrt{n+m}`,
    n = fan_in, m = fan_out. Same support test as INIT-XAVIER-BOUND, for shapes
    (64, 256) and (80, 205) in float32 and float64: every :math:`|w| \le \mathrm{fl}(a)`
    (a correct implementation never fails) and :math:`\max|w| \ge (1-\delta)a(1-\epsilon)`
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
            tolerance="KS distance <= 0.02154 (DKW); |mean(w^2)/a^2 - 1/3| <= 0.02154 (Hoeffding); N = 16384",
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
