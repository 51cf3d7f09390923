r"""Property checks of initializers (layer 3): the initializer tags of :data:`~.checks_properties.PROPERTIES`
(``seeded`` is verified by ``INIT-SEED-SENSITIVE`` in :mod:`.checks_initializer`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from .initializer import ROUND_ULPS, _built, _built_with, _rounding
from .properties import (
    _DTYPES,
    _declared,
    _fmt,
    _hypothesis_settings,
    _ints,
)
from ..framework import Subject, fail, skip, spec_check

# --------------------------------------------------------------------------- initializers
#: ``(fan_in, fan_out, dtype, salt1, salt2)`` with fans in [1, 64] and two different salts.
_INIT_CASE = st.builds(lambda n, m, dtype, salt, delta: (n, m, dtype, salt, salt + delta),
                       _ints(1, 64), _ints(1, 64), _DTYPES, _ints(0, 2**31 - 1), _ints(1, 2**31))


#: Explicit cases of both checks: the asymmetric 64 x 256 and 256 x 64, the 1 x 1 and 1 x 300 bias shapes.
_EXPLICIT = ((64, 256, np.float32, 0, 1), (256, 64, np.float64, 2, 3), (1, 1, np.float32, 4, 5),
             (1, 300, np.float64, 6, 7))
#: Cases drawn with ``subject.rng`` (not searched by hypothesis) for each config beyond the own one.
_CONFIG_CASES = 8


def _over_configs(subject: Subject, salt: int, run: Any) -> None:
    """``run(init, config, cases)`` for each config of ``subject.configs()``.

    The own config gets the hypothesis search (``cases=None``); every further
    config -- the declared examples and those drawn from ``parameter_space`` -- gets
    the explicit cases plus :data:`_CONFIG_CASES` cases drawn with ``subject.rng``
    (fans in [1, 64], either dtype), called directly: a parameter-dependent fault
    shows on any shape, and this keeps ``--thorough`` from multiplying the search.
    """
    for i, (config, init) in enumerate(_built(subject, salt)):
        if i == 0:
            run(init, config, None)
            continue
        rng = subject.rng(salt * 1000 + i)
        drawn = [(int(rng.integers(1, 65)), int(rng.integers(1, 65)), (np.float32, np.float64)[int(rng.integers(2))],
                  2 * k + 10, 2 * k + 11) for k in range(_CONFIG_CASES)]
        run(init, config, list(_EXPLICIT) + drawn)


def _search(subject: Subject, body: Any, cases: Any) -> None:
    """Run ``body(case)`` on ``cases``, or through hypothesis (explicit examples first) when None."""
    if cases is not None:
        for case in cases:
            body(case)
        return

    @_hypothesis_settings(subject)
    @given(case=_INIT_CASE)
    @example(case=_EXPLICIT[0])
    @example(case=_EXPLICIT[1])
    @example(case=_EXPLICIT[2])
    @example(case=_EXPLICIT[3])
    def searched(case: tuple[int, int, Any, int, int]) -> None:
        body(case)

    searched()


@spec_check("PROP-INIT-DETERMINISTIC", "initializer", layer="property",
            title="declared deterministic_values: the same weights for every seed",
            formula=r"W(\mathrm{rng}_{s_1}) = W(\mathrm{rng}_{s_2})", notes=("random_init",), tolerance="exact")
def check_init_deterministic(subject: Subject) -> None:
    r"""An initializer declared ``deterministic_values`` ignores its generator:
    :math:`W(\text{rng}(s_1)) = W(\text{rng}(s_2))` exactly, for every pair of seeds.

    Hypothesis draws ``fan_in, fan_out in [1, 64]``, float32 or float64, and two
    different seeds (salts of ``subject.rng``); the explicit examples are the
    asymmetric 64 x 256 and 256 x 64 and the bias shapes 1 x 1 and 1 x 300. Arrays
    compared with ``array_equal``. Every further config of ``subject.configs()``
    (declared examples, drawn from ``parameter_space``) is checked on the explicit
    examples and 8 seeded cases. Deterministic (a correct initializer cannot fail)."""
    _declared(subject, "deterministic_values")

    def run(init: Any, config: dict[str, Any], cases: Any) -> None:
        def deterministic(case: tuple[int, int, Any, int, int]) -> None:
            fan_in, fan_out, dtype, s1, s2 = case
            w1 = np.asarray(init(fan_in, fan_out, subject.rng(s1), dtype=dtype))
            w2 = np.asarray(init(fan_in, fan_out, subject.rng(s2), dtype=dtype))
            if w1.shape != w2.shape or not np.array_equal(w1, w2, equal_nan=True):
                diff = np.argwhere(w1 != w2) if w1.shape == w2.shape else np.zeros((1, 2), dtype=int)
                i, j = (int(v) for v in diff[0])
                fail("declares 'deterministic_values' but the weights depend on the generator's seed. Do not draw "
                     "from rng, or declare 'seeded' instead of 'deterministic_values'",
                     expected=f"equal weights for both seeds: W[{i}, {j}] = {_fmt(w1[i, j])}",
                     found=f"W[{i}, {j}] = {_fmt(w2[i, j])} with the second seed",
                     where=f"fan_in={fan_in}, fan_out={fan_out}, dtype={np.dtype(dtype).name}, "
                           f"rng salts {s1} and {s2}{_built_with(config)}")

        _search(subject, deterministic, cases)

    _over_configs(subject, 7, run)


@spec_check("PROP-INIT-UNIFORM-BOUND", "initializer", layer="property",
            title="declared uniform_bound: weights within bounds(fan_in, fan_out)",
            formula=r"\mathrm{low} \le W_{ij} \le \mathrm{high},\ (\mathrm{low}, \mathrm{high}) = "
                    r"\mathrm{bounds}(n, m)",
            notes=("xavier", "normalized_xavier"),
            tolerance="low - r <= W <= high + r, r = 4 eps(dtype) max(|low|, |high|) (rounding to the dtype)")
def check_init_uniform_bound(subject: Subject) -> None:
    r"""An initializer declared ``uniform_bound`` draws every weight inside the interval its
    ``bounds(fan_in, fan_out)`` method reports: :math:`\text{low} \le W_{ij} \le \text{high}`.

    In float32 and float64, up to the rounding to the dtype: a weight may lie
    :math:`r = 4\,\epsilon_{dtype}\max(|\text{low}|, |\text{high}|)` beyond the
    float64 bounds (a correct initializer drawing in float64 and rounding to float32
    exceeds an unrepresentable bound by up to half an ulp, one computing the bound in
    float32 by a few ulps; requiring inward rounding would fail such a correct cast
    with probability about :math:`N\,2^{-25}`). Shapes: the asymmetric 64 x 256 and
    256 x 64, 1 x 1, 1 x 300 (explicit examples) and hypothesis-drawn
    ``fan_in, fan_out in [1, 64]``, seeds from ``subject.rng``; every further config of
    ``subject.configs()`` on the explicit examples and 8 seeded cases. The bounds must
    be finite with low < high. Skipped when the initializer has no ``bounds``.
    Deterministic: a correct initializer never fails (false-failure probability 0);
    whether the bound is also *reached* is the statistical INIT-* checks' job."""
    _declared(subject, "uniform_bound")
    if not callable(getattr(subject.new(), "bounds", None)):
        skip("declares uniform_bound but has no bounds(fan_in, fan_out) method to state the interval "
             "(add one returning (low, high) to have the bound verified)")

    def run(init: Any, config: dict[str, Any], cases: Any) -> None:
        def within(case: tuple[int, int, Any, int, int]) -> None:
            fan_in, fan_out, dtype, salt, _ = case
            low, high = (float(b) for b in init.bounds(fan_in, fan_out))
            if not (np.isfinite(low) and np.isfinite(high) and low < high):
                fail("declares 'uniform_bound' but bounds() is not a finite interval low < high. Return the "
                     "support of the distribution, or remove 'uniform_bound' from the declared properties",
                     expected="finite low < high", found=f"bounds() = ({_fmt(low)}, {_fmt(high)})",
                     where=f"fan_in={fan_in}, fan_out={fan_out}{_built_with(config)}")
            w = np.asarray(init(fan_in, fan_out, subject.rng(salt), dtype=dtype)).astype(np.float64)
            r = _rounding(dtype, low, high)
            outside = (w < low - r) | (w > high + r) | np.isnan(w)
            if outside.any():
                i, j = np.unravel_index(np.argmax(np.maximum(low - w, w - high)), w.shape)
                fail(f"declares 'uniform_bound' but a weight lies outside bounds(fan_in, fan_out) = "
                     f"[{_fmt(low)}, {_fmt(high)}] ({int(outside.sum())} of {w.size}). Draw from exactly the "
                     f"interval bounds() reports (in __call__), or fix bounds()",
                     expected=f"{_fmt(low)} <= W <= {_fmt(high)} (+- {ROUND_ULPS} ulps of {np.dtype(dtype).name})",
                     found=f"W[{i}, {j}] = {_fmt(w[i, j])}",
                     where=f"fan_in={fan_in}, fan_out={fan_out}, dtype={np.dtype(dtype).name}, rng salt {salt}"
                           f"{_built_with(config)}")

        _search(subject, within, cases)

    _over_configs(subject, 8, run)
